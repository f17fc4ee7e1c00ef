"""zmq.Poller, zmq.select, Socket.poll and the asyncio Poller, used the way pyzmq
applications use them, with libzmq peers."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import zmq as pyzmq
import zmq.asyncio as pyzmq_asyncio

import curvezmq.zmq.asyncio as zaio
from curvezmq import zmq

from .conftest import TIMEOUT_MS, bind_local

pytestmark = pytest.mark.timeout(60)


def _setup(sock):
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    return sock


def test_poller_like_pyzmq(ctx, pctx):
    pulls = [_setup(ctx.socket(zmq.PULL)) for _ in range(2)]
    pushes = []
    for pull in pulls:
        push = _setup(pctx.socket(pyzmq.PUSH))
        push.connect(bind_local(pull))
        pushes.append(push)
    poller = zmq.Poller()
    for pull in pulls:
        poller.register(pull, zmq.POLLIN)
    assert pulls[0] in poller

    # nothing yet: the timeout (ms) passes and the answer is empty
    started = time.monotonic()
    assert poller.poll(100) == []
    assert 0.09 <= time.monotonic() - started < 1.0

    pushes[1].send(b"second")
    events = dict(poller.poll(TIMEOUT_MS))
    assert events == {pulls[1]: zmq.POLLIN}
    assert pulls[1].recv() == b"second"

    # both ready: both reported, in registration order
    pushes[0].send(b"a")
    pushes[1].send(b"b")
    deadline = time.monotonic() + 3
    while len(poller.poll(100)) < 2:
        assert time.monotonic() < deadline
    assert [s for s, _ in poller.poll(0)] == pulls

    poller.unregister(pulls[0])
    assert poller.poll(0) == [(pulls[1], zmq.POLLIN)]
    with pytest.raises(KeyError):
        poller.unregister(pulls[0])
    poller.modify(pulls[1], 0)  # 0 unregisters, as in pyzmq
    assert poller.sockets == []


def test_poll_wakes_up_when_a_message_arrives(ctx, pctx):
    pull = _setup(ctx.socket(zmq.PULL))
    push = _setup(pctx.socket(pyzmq.PUSH))
    push.connect(bind_local(pull))
    poller = zmq.Poller()
    poller.register(pull)  # POLLIN | POLLOUT by default; PULL never writes
    threading.Timer(0.2, push.send, args=(b"later",)).start()
    started = time.monotonic()
    assert poller.poll() == [(pull, zmq.POLLIN)]  # no timeout: waits
    assert 0.15 <= time.monotonic() - started < 2.0


def test_pollout_follows_the_pattern(ctx, pctx):
    req = _setup(ctx.socket(zmq.REQ))
    rep = _setup(pctx.socket(pyzmq.REP))
    poller = zmq.Poller()
    poller.register(req, zmq.POLLIN | zmq.POLLOUT)
    assert poller.poll(0) == []  # no peer yet: a send would block
    req.connect(bind_local(rep))
    assert poller.poll(TIMEOUT_MS) == [(req, zmq.POLLOUT)]
    req.send(b"q")
    assert poller.poll(50) == []  # waiting for the reply: neither
    rep.send(rep.recv())
    assert poller.poll(TIMEOUT_MS) == [(req, zmq.POLLIN)]
    req.recv()
    assert req.poll(0, zmq.POLLOUT) == zmq.POLLOUT

    pub = _setup(ctx.socket(zmq.PUB))
    sub = _setup(ctx.socket(zmq.SUB))
    # PUB drops when it must, so it is always writable; SUB never is
    assert pub.poll(0, zmq.POLLOUT) == zmq.POLLOUT
    assert sub.poll(0, zmq.POLLOUT) == 0


def test_socket_poll_waits_for_pollout(ctx):
    push = _setup(ctx.socket(zmq.PUSH))
    assert push.poll(50, zmq.POLLOUT) == 0  # bound to nothing: no route
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    threading.Timer(0.1, push.connect, args=(f"tcp://127.0.0.1:{port}",)).start()
    assert push.poll(TIMEOUT_MS, zmq.POLLOUT) == zmq.POLLOUT
    assert push.poll(0, zmq.POLLIN | zmq.POLLOUT) == zmq.POLLOUT
    push.close()
    with pytest.raises(zmq.ZMQError):
        push.poll(0)


def test_poller_mixes_sockets_and_file_descriptors(ctx, pctx):
    pull = _setup(ctx.socket(zmq.PULL))
    push = _setup(pctx.socket(pyzmq.PUSH))
    push.connect(bind_local(pull))
    left, right = socket.socketpair()
    with left, right:
        poller = zmq.Poller()
        poller.register(pull, zmq.POLLIN)
        poller.register(left, zmq.POLLIN)
        poller.register(right.fileno(), zmq.POLLOUT)
        assert poller.poll(0) == [(right.fileno(), zmq.POLLOUT)]
        poller.modify(right.fileno(), 0)
        right.send(b"x")
        assert poller.poll(TIMEOUT_MS) == [(left, zmq.POLLIN)]
        left.recv(1)
        push.send(b"y")
        assert poller.poll(TIMEOUT_MS) == [(pull, zmq.POLLIN)]
        # zmq.select: seconds, three lists
        readable, writable, _ = zmq.select([pull, left], [pull], [], 1.0)
        assert (readable, writable) == ([pull], [])


def test_closed_socket_in_a_poller_is_enotsock(ctx):
    sock = ctx.socket(zmq.PULL)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    sock.close()
    with pytest.raises(zmq.ZMQError) as info:
        poller.poll(0)
    assert info.value.errno == zmq.ENOTSOCK


def test_asyncio_poller_like_pyzmq():
    async def main():
        ctx = zaio.Context()
        pctx = pyzmq_asyncio.Context()
        try:
            pulls = [ctx.socket(zmq.PULL) for _ in range(2)]
            poller = zaio.Poller()
            pushes = []
            for pull in pulls:
                pull.bind("tcp://127.0.0.1:*")
                push = pctx.socket(pyzmq.PUSH)
                push.linger = 0
                push.connect(pull.last_endpoint.decode())
                pushes.append(push)
                poller.register(pull, zmq.POLLIN)
            assert await poller.poll(50) == []
            asyncio.get_running_loop().call_later(0.1, pushes[1].send, b"late")
            assert await poller.poll(TIMEOUT_MS) == [(pulls[1], zmq.POLLIN)]
            assert await pulls[1].recv() == b"late"
            assert await pulls[0].poll(20) == 0
            await pushes[0].send(b"now")
            assert await pulls[0].poll(TIMEOUT_MS) == zmq.POLLIN
        finally:
            ctx.term()
            await ctx.wait_closed()
            pctx.destroy(linger=0)

    asyncio.run(asyncio.wait_for(main(), 20))
