"""zmq.proxy: a ROUTER/DEALER broker of ours between libzmq clients and workers."""

from __future__ import annotations

import threading

import pytest

import curvezmq.zmq as ours

zmq = pytest.importorskip("zmq")

pytestmark = pytest.mark.timeout(30)


def test_proxy_brokers_requests_between_libzmq_peers():
    ctx = ours.Context()
    pctx = zmq.Context()
    frontend = ctx.socket(ours.ROUTER)
    backend = ctx.socket(ours.DEALER)
    capture = ctx.socket(ours.PUSH)
    front_port = frontend.bind_to_random_port("tcp://127.0.0.1")
    back_port = backend.bind_to_random_port("tcp://127.0.0.1")
    capture_port = capture.bind_to_random_port("tcp://127.0.0.1")

    def run():
        try:
            ours.proxy(frontend, backend, capture)
        except ours.ZMQError:
            pass  # the sockets were closed: the proxy ends

    broker = threading.Thread(target=run, daemon=True)
    broker.start()

    worker = pctx.socket(zmq.REP)
    worker.rcvtimeo = 5000
    worker.connect(f"tcp://127.0.0.1:{back_port}")
    client = pctx.socket(zmq.REQ)
    client.rcvtimeo = 5000
    client.connect(f"tcp://127.0.0.1:{front_port}")
    tap = pctx.socket(zmq.PULL)
    tap.rcvtimeo = 5000
    tap.connect(f"tcp://127.0.0.1:{capture_port}")
    try:
        for n in range(3):
            client.send(b"request %d" % n)
            assert worker.recv() == b"request %d" % n
            worker.send(b"reply %d" % n)
            assert client.recv() == b"reply %d" % n
        # the capture saw each message whole, envelope included
        seen = [tap.recv_multipart() for _ in range(6)]
        assert seen[0][-1] == b"request 0" and seen[1][-1] == b"reply 0"
    finally:
        for sock in (worker, client, tap):
            sock.close(linger=0)
        pctx.term()
        ctx.destroy(linger=0)
        broker.join(5)
    assert not broker.is_alive()
