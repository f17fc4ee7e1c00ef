"""Every compatible socket pair against libzmq (pyzmq), our socket on either side,
under CURVE and NULL: one message each way where the pattern allows. An
incompatible pair is refused."""

from __future__ import annotations

import logging
import time

import pytest
import zmq as pyzmq

from curvezmq import zmq

from .conftest import TIMEOUT_MS, bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(60)

# PROTOCOL.md section 4: (binder, connecter), the binder is the CURVE server
PAIRS = [
    ("REP", "REQ"),
    ("ROUTER", "REQ"),
    ("REP", "DEALER"),
    ("DEALER", "DEALER"),
    ("ROUTER", "DEALER"),
    ("ROUTER", "ROUTER"),
    ("PUB", "SUB"),
    ("PUB", "XSUB"),
    ("XPUB", "SUB"),
    ("XPUB", "XSUB"),
    ("PUSH", "PULL"),
    ("PAIR", "PAIR"),
]


def _make(ctx, pctx, kind: str, ours: bool):
    module, context = (zmq, ctx) if ours else (pyzmq, pctx)
    sock = context.socket(getattr(module, kind))
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    return sock


def _recv_published(pub, sub, payload: list, attempts: int = 60) -> list:
    # a subscription takes a moment to reach the publisher: publish until the
    # subscriber sees one (libzmq's "slow joiner")
    for _ in range(attempts):
        pub.send_multipart(payload)
        if sub.poll(50):
            return sub.recv_multipart()
    raise AssertionError("nothing published arrived")


def _send_routed(router, payload: list, attempts: int = 60) -> None:
    # ROUTER_MANDATORY says when the peer's routing id is known
    router.setsockopt(zmq.ROUTER_MANDATORY, 1)
    for _ in range(attempts):
        try:
            router.send_multipart(payload)
            return
        except (zmq.ZMQError, pyzmq.ZMQError) as exc:
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            time.sleep(0.05)
    raise AssertionError("the peer never became routable")


def _exchange(kind_a: str, kind_b: str, a, b) -> None:
    # a is bound, b connected
    pair = (kind_a, kind_b)
    if pair == ("REP", "REQ"):
        b.send(b"question")
        assert a.recv_multipart() == [b"question"]
        a.send(b"answer")
        assert b.recv_multipart() == [b"answer"]
    elif pair == ("ROUTER", "REQ"):
        b.send(b"question")
        peer, empty, body = a.recv_multipart()
        assert (empty, body) == (b"", b"question")
        a.send_multipart([peer, b"", b"answer"])
        assert b.recv_multipart() == [b"answer"]
    elif pair == ("REP", "DEALER"):
        b.send_multipart([b"", b"question"])
        assert a.recv_multipart() == [b"question"]
        a.send(b"answer")
        assert b.recv_multipart() == [b"", b"answer"]
    elif pair in (("DEALER", "DEALER"), ("PAIR", "PAIR")):
        b.send_multipart([b"to a", b"two parts"])
        assert a.recv_multipart() == [b"to a", b"two parts"]
        a.send(b"to b")
        assert b.recv_multipart() == [b"to b"]
    elif pair == ("ROUTER", "DEALER"):
        b.send(b"question")
        peer, body = a.recv_multipart()
        assert body == b"question"
        a.send_multipart([peer, b"answer"])
        assert b.recv_multipart() == [b"answer"]
    elif pair == ("ROUTER", "ROUTER"):
        _send_routed(b, [b"bound", b"question"])
        peer, body = a.recv_multipart()
        assert (peer, body) == (b"connecting", b"question")
        a.send_multipart([peer, b"answer"])
        assert b.recv_multipart() == [b"bound", b"answer"]
    elif kind_a in ("PUB", "XPUB"):
        if kind_b == "SUB":
            b.setsockopt(zmq.SUBSCRIBE, b"news")
        else:
            b.send(b"\x01news")
        if kind_a == "XPUB":
            # the other way: the subscription itself
            assert a.recv() == b"\x01news"
        got = _recv_published(a, b, [b"news: up", b"more"])
        assert got == [b"news: up", b"more"]
    elif pair == ("PUSH", "PULL"):
        a.send_multipart([b"work", b"item"])
        assert b.recv_multipart() == [b"work", b"item"]
    else:  # pragma: no cover
        raise AssertionError(pair)


@pytest.mark.parametrize("mechanism", ["CURVE", "NULL"])
@pytest.mark.parametrize("ours", ["bound", "connecting"])
@pytest.mark.parametrize("kinds", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_pair_with_libzmq(ctx, pctx, keys, kinds, ours, mechanism):
    kind_a, kind_b = kinds
    a = _make(ctx, pctx, kind_a, ours == "bound")
    b = _make(ctx, pctx, kind_b, ours == "connecting")
    if kind_a == "ROUTER" and kind_b == "ROUTER":
        a.setsockopt(zmq.ROUTING_ID, b"bound")
        b.setsockopt(zmq.ROUTING_ID, b"connecting")
    if mechanism == "CURVE":
        curve_server(a, keys)
        curve_client(b, keys)
    b.connect(bind_local(a))
    _exchange(kind_a, kind_b, a, b)


@pytest.mark.parametrize("ours", ["bound", "connecting"])
def test_incompatible_pair_is_refused(ctx, pctx, keys, ours, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    a = _make(ctx, pctx, "PUB", ours == "bound")
    b = _make(ctx, pctx, "PULL", ours == "connecting")
    curve_server(a, keys)
    curve_client(b, keys)
    b.connect(bind_local(a))
    for _ in range(5):
        a.send(b"never")
    assert b.poll(300) == 0
    # our side says why: the type mismatch when it sees the peer's metadata
    # (server); a close before the handshake completed when libzmq's server
    # refuses our INITIATE without a word
    expected = "ZMTP_INVALID_METADATA" if ours == "bound" else "handshake with"
    deadline = time.monotonic() + 3
    while not any(
        r.levelno == logging.WARNING and expected in r.getMessage()
        for r in caplog.records
    ):
        assert time.monotonic() < deadline, "no WARNING names the refusal"
        time.sleep(0.05)
