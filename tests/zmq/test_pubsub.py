"""PUB/SUB against libzmq: prefix filtering both ways, the empty topic, counted
subscriptions, a CANCEL of a topic never subscribed, XPUB's view of
subscriptions, resending on reconnect, and both wire forms of a subscription."""

from __future__ import annotations

import socket
import time

import pytest
import zmq as pyzmq

from curvezmq import zmq

from ._raw import RawPeer, command
from .conftest import TIMEOUT_MS, bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(60)

TOPICS = [b"a", b"ab", b"abc", b"b", b"", b"ba", b"\x00ab", b"\x01ab"]


def _setup(sock):
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    return sock


def _sync(pub, sub, marker: bytes = b"sync") -> None:
    # publish a marker (the subscriber holds a subscription to it) until it
    # arrives: then every subscription sent before has reached the publisher
    for _ in range(100):
        pub.send(marker)
        if sub.poll(30):
            while sub.poll(30):
                assert sub.recv() == marker
            return
    raise AssertionError("the subscription never reached the publisher")


def _published(pub, sub, bodies: list) -> list:
    # publish bodies then an end marker; collect what the subscriber gets
    for body in bodies:
        pub.send_multipart([body, b"payload"])
    pub.send(b"sync-end")
    got = []
    while True:
        parts = sub.recv_multipart()
        if parts == [b"sync-end"]:
            return got
        got.append(parts[0])


def _expect(subscriptions: list) -> list:
    return [t for t in TOPICS if any(t.startswith(s) for s in subscriptions)]


@pytest.mark.parametrize("mechanism", ["CURVE", "NULL"])
def test_our_pub_filters_for_a_libzmq_sub(ctx, pctx, keys, mechanism):
    pub = _setup(ctx.socket(zmq.PUB))
    sub = _setup(pctx.socket(pyzmq.SUB))
    if mechanism == "CURVE":
        curve_server(pub, keys)
        curve_client(sub, keys)
    sub.connect(bind_local(pub))
    for topic in (b"sync", b"ab", b"b"):
        sub.setsockopt(pyzmq.SUBSCRIBE, topic)
    _sync(pub, sub)
    assert _published(pub, sub, TOPICS) == _expect([b"ab", b"b"])

    # CANCEL removes it; the empty topic then takes everything
    sub.setsockopt(pyzmq.UNSUBSCRIBE, b"ab")
    sub.setsockopt(pyzmq.SUBSCRIBE, b"")
    _sync(pub, sub)
    assert _published(pub, sub, TOPICS) == TOPICS


@pytest.mark.parametrize("mechanism", ["CURVE", "NULL"])
def test_our_sub_with_a_libzmq_pub(ctx, pctx, keys, mechanism):
    pub = _setup(pctx.socket(pyzmq.PUB))
    sub = _setup(ctx.socket(zmq.SUB))
    if mechanism == "CURVE":
        curve_server(pub, keys)
        curve_client(sub, keys)
    sub.connect(bind_local(pub))
    sub.subscribe(b"sync")
    sub.subscribe("ab")
    sub.setsockopt(zmq.SUBSCRIBE, b"b")
    _sync(pub, sub)
    assert _published(pub, sub, TOPICS) == _expect([b"ab", b"b"])

    # counted: two SUBSCRIBEs need two UNSUBSCRIBEs
    sub.subscribe(b"ab")
    sub.unsubscribe(b"ab")
    # a topic never subscribed: ignored
    sub.unsubscribe(b"never")
    sub.unsubscribe(b"b")
    _sync(pub, sub)
    assert _published(pub, sub, TOPICS) == _expect([b"ab"])
    sub.unsubscribe(b"ab")
    sub.subscribe(b"")
    _sync(pub, sub)
    assert _published(pub, sub, TOPICS) == TOPICS


def test_our_sub_subscriptions_as_a_libzmq_xpub_sees_them(ctx, pctx, keys):
    xpub = _setup(pctx.socket(pyzmq.XPUB))
    xpub.setsockopt(pyzmq.XPUB_VERBOSER, 1)  # show every (un)subscription
    curve_server(xpub, keys)
    sub = _setup(ctx.socket(zmq.SUB))
    curve_client(sub, keys)
    sub.connect(bind_local(xpub))
    # before the connection is up only the final set is sent; wait for it
    sub.subscribe(b"up")
    assert xpub.recv() == b"\x01up"
    sub.subscribe(b"t")
    sub.subscribe(b"t")
    sub.unsubscribe(b"never")  # not sent
    sub.unsubscribe(b"t")  # not sent: one count left
    sub.unsubscribe(b"t")  # now the CANCEL
    sub.subscribe(b"")
    assert [xpub.recv() for _ in range(4)] == [b"\x01t", b"\x01t", b"\x00t", b"\x01"]
    assert xpub.poll(200) == 0


def test_our_xpub_sees_subscriptions_from_libzmq_subs(ctx, pctx, keys):
    xpub = _setup(ctx.socket(zmq.XPUB))
    curve_server(xpub, keys)
    endpoint = bind_local(xpub)
    subs = [_setup(pctx.socket(pyzmq.SUB)) for _ in range(2)]
    for sub in subs:
        curve_client(sub, keys)
        sub.connect(endpoint)
    subs[0].setsockopt(pyzmq.SUBSCRIBE, b"news")
    assert xpub.recv() == b"\x01news"
    # a second subscriber to the same topic is not news to the application
    subs[1].setsockopt(pyzmq.SUBSCRIBE, b"news")
    subs[1].setsockopt(pyzmq.SUBSCRIBE, b"")
    assert xpub.recv() == b"\x01"
    subs[0].setsockopt(pyzmq.UNSUBSCRIBE, b"news")
    assert xpub.poll(200) == 0  # subs[1] still holds it
    # the last holder leaving (a disconnect counts) is
    subs[1].close(0)
    assert sorted([xpub.recv(), xpub.recv()]) == [b"\x00", b"\x00news"]

    # XPUB_VERBOSE: every subscription, repeats included
    xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
    subs[0].setsockopt(pyzmq.SUBSCRIBE, b"x")
    late = _setup(pctx.socket(pyzmq.SUB))
    curve_client(late, keys)
    late.connect(endpoint)
    late.setsockopt(pyzmq.SUBSCRIBE, b"x")
    assert [xpub.recv(), xpub.recv()] == [b"\x01x", b"\x01x"]
    # and what a libzmq XSUB sends upstream reaches the application too
    xsub = _setup(pctx.socket(pyzmq.XSUB))
    curve_client(xsub, keys)
    xsub.connect(endpoint)
    xsub.send(b"upstream")
    assert xpub.recv() == b"upstream"


def test_our_xsub_writes_subscriptions_to_a_libzmq_pub(ctx, pctx, keys):
    pub = _setup(pctx.socket(pyzmq.XPUB))
    curve_server(pub, keys)
    xsub = _setup(ctx.socket(zmq.XSUB))
    curve_client(xsub, keys)
    xsub.connect(bind_local(pub))
    xsub.send(b"\x01ab")
    assert pub.recv() == b"\x01ab"
    xsub.send(b"\x00never")  # not held: dropped, as libzmq's XSUB does
    xsub.send(b"\x01sync")
    assert pub.recv() == b"\x01sync"
    _sync(pub, xsub)
    assert _published(pub, xsub, TOPICS) == _expect([b"ab"])


def test_our_sub_resubscribes_after_a_reconnect(ctx, pctx):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = "tcp://127.0.0.1:%d" % probe.getsockname()[1]
    sub = _setup(ctx.socket(zmq.SUB))
    sub.subscribe(b"topic")
    sub.connect(endpoint)
    for _ in range(2):
        xpub = _setup(pctx.socket(pyzmq.XPUB))
        xpub.bind(endpoint)
        assert xpub.recv() == b"\x01topic"
        xpub.close(0)
        time.sleep(0.05)


def _raw_listener():
    listener = socket.create_server(("127.0.0.1", 0))
    return listener, "tcp://127.0.0.1:%d" % listener.getsockname()[1]


@pytest.mark.parametrize("minor", [0, 1])
def test_subscription_form_follows_the_peer_version(ctx, minor):
    listener, endpoint = _raw_listener()
    with listener:
        sub = _setup(ctx.socket(zmq.SUB))
        sub.subscribe(b"early")  # sent once the connection is up
        sub.connect(endpoint)
        conn, _ = listener.accept()
    peer = RawPeer(conn, b"PUB", minor=minor)
    try:
        peer.handshake()
        sub.subscribe(b"late")
        sub.subscribe(b"late")
        sub.unsubscribe(b"late")
        sub.unsubscribe(b"late")
        got = peer.frames()
        if minor == 0:
            # ZMTP 3.0: data messages, 1 or 0 then the topic
            assert got == [
                (0, b"\x01early"),
                (0, b"\x01late"),
                (0, b"\x01late"),
                (0, b"\x00late"),
            ]
        else:
            assert got == [
                (4, command(b"SUBSCRIBE", b"early")),
                (4, command(b"SUBSCRIBE", b"late")),
                (4, command(b"SUBSCRIBE", b"late")),
                (4, command(b"CANCEL", b"late")),
            ]
    finally:
        peer.close()


@pytest.mark.parametrize("form", ["command", "data"])
def test_our_pub_filters_on_the_sending_side(ctx, form):
    pub = _setup(ctx.socket(zmq.PUB))
    peer = RawPeer.connect(bind_local(pub), b"SUB", minor=0 if form == "data" else 1)
    try:
        peer.handshake()
        if form == "data":
            peer.send(0, b"\x01ab")
            peer.send(0, b"\x01x")
            peer.send(0, b"\x00x")
            peer.send(0, b"\x00never")
        else:
            peer.send_command(b"SUBSCRIBE", b"ab")
            peer.send_command(b"SUBSCRIBE", b"x")
            peer.send_command(b"CANCEL", b"x")
            peer.send_command(b"CANCEL", b"never")
        time.sleep(0.2)
        for topic in (b"a", b"abc", b"x", b"xy", b"ab"):
            pub.send(topic)
        # only what matches ever leaves our socket
        assert [body for _, body in peer.frames()] == [b"abc", b"ab"]
    finally:
        peer.close()
