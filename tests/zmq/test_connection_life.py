"""Connection life against libzmq: reconnecting to a restarted peer with the
messages queued meanwhile, each type's behaviour at SNDHWM, back-pressure at
RCVHWM, fair queueing, and REQ_RELAXED / REQ_CORRELATE."""

from __future__ import annotations

import socket
import time

import pytest
import zmq as pyzmq

from curvezmq import zmq

from .conftest import TIMEOUT_MS, bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(60)

KIB = 1024


def _setup(sock, **options):
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    for name, value in options.items():
        setattr(sock, name, value)
    return sock


def _free_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return "tcp://127.0.0.1:%d" % probe.getsockname()[1]


def _wait(predicate, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_messages_queued_while_the_peer_restarts_arrive(ctx, pctx, keys):
    endpoint = _free_endpoint()
    push = _setup(ctx.socket(zmq.PUSH))
    curve_client(push, keys)
    push.connect(endpoint)
    connecter = push._engine.connecters[0]
    for round_ in range(2):
        pull = _setup(pctx.socket(pyzmq.PULL))
        curve_server(pull, keys)
        pull.bind(endpoint)
        push.send(b"round %d" % round_)
        assert pull.recv() == b"round %d" % round_
        pull.close(0)
        _wait(lambda: connecter.protocol is None)
        # the peer is gone: these wait in the endpoint's pipe
        for i in range(5):
            push.send(b"queued %d" % i, zmq.NOBLOCK)
        pull = _setup(pctx.socket(pyzmq.PULL))
        curve_server(pull, keys)
        pull.bind(endpoint)
        assert [pull.recv() for _ in range(5)] == [b"queued %d" % i for i in range(5)]
        pull.close(0)
        _wait(lambda: connecter.protocol is None)
    assert connecter.handshakes == 4


@pytest.mark.parametrize("kind", ["PUSH", "DEALER", "PAIR"])
def test_blocking_types_raise_again_at_sndhwm(ctx, kind):
    sock = _setup(ctx.socket(getattr(zmq, kind)), sndhwm=5, sndtimeo=200)
    # no peer at all: nothing to queue on
    with pytest.raises(zmq.Again):
        sock.send(b"x", zmq.NOBLOCK)
    assert sock.poll(0, zmq.POLLOUT) == 0
    # a connected endpoint queues up to SNDHWM before its peer exists
    sock.connect(_free_endpoint())
    assert sock.poll(1000, zmq.POLLOUT) == zmq.POLLOUT
    for i in range(5):
        sock.send(b"%d" % i, zmq.NOBLOCK)
    with pytest.raises(zmq.Again):
        sock.send(b"full", zmq.NOBLOCK)
    started = time.monotonic()
    with pytest.raises(zmq.Again):
        sock.send(b"full")  # SNDTIMEO
    assert 0.18 <= time.monotonic() - started < 1.0


def test_pub_drops_for_a_subscriber_that_does_not_read(ctx, pctx):
    pub = _setup(ctx.socket(zmq.PUB), sndhwm=10)
    sub = _setup(pctx.socket(pyzmq.SUB), rcvhwm=10)
    sub.setsockopt(pyzmq.SUBSCRIBE, b"")
    sub.connect(bind_local(pub))
    _wait(lambda: pub._engine._subscribers and pub._engine._subscribers[0].topics)
    body = b"x" * (64 * KIB)
    started = time.monotonic()
    for _ in range(400):  # 25 MiB: more than the kernel buffers hold
        pub.send(body, zmq.NOBLOCK)  # never Again
    assert time.monotonic() - started < 5
    got = 0
    while sub.poll(300):
        sub.recv()
        got += 1
    assert 0 < got < 400


def test_router_drops_or_refuses_with_mandatory(ctx, pctx):
    router = _setup(ctx.socket(zmq.ROUTER), sndhwm=2)
    dealer = _setup(pctx.socket(pyzmq.DEALER), rcvhwm=1, routing_id=b"slow")
    dealer.connect(bind_local(router))
    dealer.send(b"hi")
    assert router.recv_multipart() == [b"slow", b"hi"]

    # unknown ids: dropped silently, or EHOSTUNREACH with ROUTER_MANDATORY
    router.send_multipart([b"nobody", b"x"])
    router.setsockopt(zmq.ROUTER_MANDATORY, 1)
    with pytest.raises(zmq.ZMQError) as info:
        router.send_multipart([b"nobody", b"x"])
    assert info.value.errno == zmq.EHOSTUNREACH
    # part by part, the id part fails at once, as in libzmq
    with pytest.raises(zmq.ZMQError) as info:
        router.send(b"nobody", zmq.SNDMORE)
    assert info.value.errno == zmq.EHOSTUNREACH
    router.send(b"lone")  # taken as a new message's id: dropped
    with pytest.raises(AttributeError):
        router.router_mandatory  # write-only, as in pyzmq

    # a peer that does not read: with MANDATORY the send waits, then Again
    body = b"x" * (64 * KIB)
    sent = 0
    with pytest.raises(zmq.Again):
        for _ in range(2000):
            router.send_multipart([b"slow", body], zmq.NOBLOCK)
            sent += 1
    assert 0 < sent < 2000
    assert router.poll(0, zmq.POLLOUT) == 0
    # and without it the same messages are dropped, never refused
    router.setsockopt(zmq.ROUTER_MANDATORY, 0)
    assert router.poll(0, zmq.POLLOUT) == zmq.POLLOUT
    for _ in range(50):
        router.send_multipart([b"slow", body], zmq.NOBLOCK)


def test_receiver_holds_back_a_fast_sender_without_dropping(ctx, pctx):
    pull = _setup(ctx.socket(zmq.PULL), rcvhwm=10)
    push = _setup(pctx.socket(pyzmq.PUSH), sndhwm=10)
    push.connect(bind_local(pull))
    body = b"y" * (16 * KIB)
    sent = 0
    # send until libzmq's PUSH is blocked: we stopped reading, TCP filled up
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            push.send(b"%d " % sent + body, pyzmq.NOBLOCK)
        except pyzmq.Again:
            if (
                pull._engine._accepted
                and next(iter(pull._engine._accepted)).reading_paused
            ):
                break
            time.sleep(0.01)
            continue
        sent += 1
    [pipe] = pull._engine._accepted
    assert pipe.reading_paused and len(pipe.inbox) == 10
    # nothing was dropped: every message arrives, in order, and the flow resumes
    for i in range(sent):
        assert pull.recv() == b"%d " % i + body
    push.send(b"after")
    assert pull.recv() == b"after"


def test_router_fair_queues_its_peers(ctx, pctx):
    router = _setup(ctx.socket(zmq.ROUTER))
    endpoint = bind_local(router)
    dealers = []
    for name in (b"fast", b"slow"):
        dealer = _setup(pctx.socket(pyzmq.DEALER), routing_id=name)
        dealer.connect(endpoint)
        dealers.append(dealer)
    for _ in range(100):
        dealers[0].send(b"f")
    _wait(lambda: len(router._engine._accepted) == 2)
    time.sleep(0.1)
    for _ in range(100):
        dealers[1].send(b"s")
    _wait(lambda: sum(len(p.inbox) for p in router._engine._accepted) == 200)
    first = [router.recv_multipart()[0] for _ in range(20)]
    # round robin between the two, not the fast one's hundred first
    assert first == [b"fast", b"slow"] * 10


def test_req_relaxed_and_correlate_with_a_libzmq_router(ctx, pctx):
    router = _setup(pctx.socket(pyzmq.ROUTER))
    req = _setup(ctx.socket(zmq.REQ))
    req.setsockopt(zmq.REQ_RELAXED, 1)
    req.setsockopt(zmq.REQ_CORRELATE, 1)
    with pytest.raises(zmq.ZMQError) as info:
        ctx.socket(zmq.DEALER).setsockopt(zmq.REQ_RELAXED, 1)
    assert info.value.errno == zmq.EINVAL
    req.connect(bind_local(router))

    req.send(b"first")
    peer, first_id, empty, body = router.recv_multipart()
    assert (len(first_id), empty, body) == (4, b"", b"first")
    # relaxed: a new request without waiting for the reply
    req.send(b"second")
    _, second_id, _, body = router.recv_multipart()
    assert body == b"second"
    assert (
        int.from_bytes(second_id, "little")
        == (int.from_bytes(first_id, "little") + 1) % 2**32
    )
    # correlate: the late reply to the first request is dropped
    router.send_multipart([peer, first_id, b"", b"late"])
    router.send_multipart([peer, second_id, b"", b"right"])
    assert req.recv() == b"right"
    # strict REQ: a second send is EFSM
    strict = _setup(ctx.socket(zmq.REQ))
    strict.connect(router.last_endpoint.decode())
    strict.send(b"one")
    with pytest.raises(zmq.ZMQError) as info:
        strict.send(b"two")
    assert info.value.errno == zmq.EFSM
