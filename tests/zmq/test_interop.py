"""Our blocking sockets against libzmq (pyzmq) over CURVE on 127.0.0.1."""

from __future__ import annotations

import logging
import time

import pytest
import zmq as pyzmq
from zmq.auth.thread import ThreadAuthenticator

from curvezmq import zmq

from .conftest import bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(60)

MIB = 1 << 20


def test_our_req_against_pyzmq_rep(ctx, pctx, keys):
    server = pctx.socket(pyzmq.REP)
    curve_server(server, keys)
    endpoint = bind_local(server)
    client = ctx.socket(zmq.REQ)
    curve_client(client, keys)
    client.connect(endpoint)

    client.send_multipart([b"part one", b"", b"part three"])
    assert server.recv_multipart() == [b"part one", b"", b"part three"]
    server.send_multipart([b"reply", b"two"])
    assert client.recv_multipart() == [b"reply", b"two"]

    # empty and 1 MiB messages, both ways
    for payload in (b"", bytes(range(256)) * (MIB // 256)):
        client.send(payload)
        assert server.recv() == payload
        server.send(payload)
        assert client.recv() == payload


def test_pyzmq_req_against_our_rep(ctx, pctx, keys):
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    endpoint = bind_local(server)
    client = pctx.socket(pyzmq.REQ)
    curve_client(client, keys)
    client.connect(endpoint)

    client.send_multipart([b"a", b"b"])
    assert server.recv_multipart() == [b"a", b"b"]
    assert server.getsockopt(zmq.RCVMORE) == 0
    server.send_multipart([b"c", b"d"])
    assert client.recv_multipart() == [b"c", b"d"]

    for payload in (b"", b"\xff" * MIB):
        client.send(payload)
        assert server.recv() == payload
        server.send(payload)
        assert client.recv() == payload


def test_frame_properties_after_curve(ctx, pctx, keys):
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    endpoint = bind_local(server)
    client = pctx.socket(pyzmq.REQ)
    curve_client(client, keys)
    client.connect(endpoint)

    client.send(b"who am i")
    frame = server.recv(copy=False)
    assert frame.bytes == b"who am i" and not frame.more
    assert frame.get("User-Id") == keys.client_public.decode()
    assert frame.get("Socket-Type") == "REQ"
    assert frame.get("Peer-Address") == "127.0.0.1"
    with pytest.raises(zmq.ZMQError) as info:
        frame.get("No-Such-Property")
    assert info.value.errno == zmq.EINVAL


def test_our_dealer_with_pyzmq_router(ctx, pctx, keys):
    router = pctx.socket(pyzmq.ROUTER)
    curve_server(router, keys)
    endpoint = bind_local(router)
    dealer = ctx.socket(zmq.DEALER)
    dealer.routing_id = b"dealer-1"
    curve_client(dealer, keys)
    dealer.connect(endpoint)

    dealer.send_multipart([b"hello", b"world"])
    assert router.recv_multipart() == [b"dealer-1", b"hello", b"world"]
    router.send_multipart([b"dealer-1", b"back", b""])
    assert dealer.recv_multipart() == [b"back", b""]


def test_pyzmq_dealer_with_our_router(ctx, pctx, keys):
    router = ctx.socket(zmq.ROUTER)
    curve_server(router, keys)
    endpoint = bind_local(router)
    named = pctx.socket(pyzmq.DEALER)
    named.routing_id = b"named"
    anonymous = pctx.socket(pyzmq.DEALER)
    for sock in (named, anonymous):
        curve_client(sock, keys)
        sock.connect(endpoint)

    named.send_multipart([b"from", b"named"])
    assert router.recv_multipart() == [b"named", b"from", b"named"]
    anonymous.send(b"anon")
    auto_id, body = router.recv_multipart()
    assert body == b"anon"
    assert len(auto_id) == 5 and auto_id[0] == 0

    router.send_multipart([auto_id, b"to anon"])
    router.send_multipart([b"named", b"to", b"named"])
    router.send_multipart([b"nobody", b"dropped silently"])
    assert anonymous.recv_multipart() == [b"to anon"]
    assert named.recv_multipart() == [b"to", b"named"]


def test_thousand_messages_complete_and_in_order(ctx, pctx, keys):
    sink = pctx.socket(pyzmq.ROUTER)
    curve_server(sink, keys)
    endpoint = bind_local(sink)
    source = ctx.socket(zmq.DEALER)
    curve_client(source, keys)
    source.connect(endpoint)

    for i in range(1000):
        source.send_multipart([b"%d" % i, bytes(i % 300)])
    for i in range(1000):
        _, number, body = sink.recv_multipart()
        assert (number, body) == (b"%d" % i, bytes(i % 300))

    # and the other way, through the DEALER's inbox
    peer_id = sink.recv_multipart() if sink.poll(0) else None
    assert peer_id is None
    ids = []
    source.send(b"hi")
    ids.append(sink.recv_multipart()[0])
    for i in range(1000):
        sink.send_multipart([ids[0], b"%d" % i])
    assert [source.recv() for _ in range(1000)] == [b"%d" % i for i in range(1000)]


def test_dealer_round_robin_over_two_pyzmq_routers(ctx, pctx, keys):
    routers = [pctx.socket(pyzmq.ROUTER) for _ in range(2)]
    dealer = ctx.socket(zmq.DEALER)
    curve_client(dealer, keys)
    for router in routers:
        curve_server(router, keys)
        dealer.connect(bind_local(router))
    # wait until both handshakes are done, so round robin sees both pipes
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        engine = dealer._engine
        if all(c.handshakes for c in engine.connecters):
            break
        time.sleep(0.01)
    for i in range(6):
        dealer.send(b"%d" % i)
    got = [sorted(int(r.recv_multipart()[1]) for _ in range(3)) for r in routers]
    assert sorted(got) == [[0, 2, 4], [1, 3, 5]]


def test_wrong_server_key_fails_loudly_and_backs_off(ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = pctx.socket(pyzmq.REP)
    curve_server(server, keys)
    endpoint = bind_local(server)
    wrong_public, _ = zmq.curve_keypair()
    client = ctx.socket(zmq.REQ)
    curve_client(client, keys, server_public=wrong_public)
    client.rcvtimeo = 1500
    client.connect(endpoint)

    client.send(b"never delivered")
    started = time.monotonic()
    with pytest.raises(zmq.Again):
        client.recv()
    waited = time.monotonic() - started
    assert 1.4 <= waited < 3.0

    with pytest.raises(pyzmq.Again):
        server.recv(pyzmq.NOBLOCK)
    failures = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "handshake with 127.0.0.1:" in r.message
    ]
    assert failures, "no WARNING names the failed handshake"

    # backoff: 100 ms doubling (plus jitter) gives about 4-5 attempts in 1.5 s;
    # a tight loop would make hundreds
    attempts = client._engine.connecters[0].attempts
    assert 2 <= attempts <= 7, attempts


def test_refused_by_pyzmq_authenticator_stops_reconnecting(
    ctx, pctx, keys, caplog, tmp_path
):
    caplog.set_level(logging.INFO, logger="curvezmq")
    auth = ThreadAuthenticator(pctx)
    auth.start()
    try:
        auth.configure_curve(domain="*", location=str(tmp_path))  # no keys allowed
        server = pctx.socket(pyzmq.REP)
        curve_server(server, keys)
        endpoint = bind_local(server)
        client = ctx.socket(zmq.REQ)
        curve_client(client, keys)
        client.rcvtimeo = 1000
        client.connect(endpoint)
        client.send(b"let me in")
        with pytest.raises(zmq.Again):
            client.recv()

        refusals = [r for r in caplog.records if "ERROR '400'" in r.message]
        assert refusals and refusals[0].levelno == logging.ERROR
        assert "not reconnecting" in refusals[0].message
        connecter = client._engine.connecters[0]
        assert connecter.stopped
        assert connecter.attempts == 1
    finally:
        auth.stop()


def test_our_policy_refuses_pyzmq_client(ctx, pctx, keys, caplog):
    from curvezmq.auth import AllowKeys

    caplog.set_level(logging.INFO, logger="curvezmq")
    ctx.curve_policy = AllowKeys([zmq.curve_keypair()[0]])  # someone else's key
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    endpoint = bind_local(server)
    monitor_client = pctx.socket(pyzmq.REQ)
    curve_client(monitor_client, keys)
    monitor = monitor_client.get_monitor_socket(pyzmq.EVENT_HANDSHAKE_FAILED_AUTH)
    monitor.rcvtimeo = 3000
    monitor_client.connect(endpoint)

    from zmq.utils.monitor import recv_monitor_message

    event = recv_monitor_message(monitor)
    assert event["event"] == pyzmq.EVENT_HANDSHAKE_FAILED_AUTH
    assert event["value"] == 400
    warnings = [r for r in caplog.records if "client refused with 400" in r.message]
    assert warnings and warnings[0].levelno == logging.WARNING
    with pytest.raises(zmq.Again):
        server.recv(zmq.NOBLOCK)
    monitor_client.disable_monitor()
    monitor.close(0)


def test_our_policy_admits_listed_key(ctx, pctx, keys):
    from curvezmq.auth import AllowKeys

    ctx.curve_policy = AllowKeys([keys.client_public])
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    client = pctx.socket(pyzmq.REQ)
    curve_client(client, keys)
    client.connect(bind_local(server))
    client.send(b"ping")
    assert server.recv() == b"ping"
    server.send(b"pong")
    assert client.recv() == b"pong"


def test_linger_delivers_queued_messages(ctx, pctx, keys):
    sink = pctx.socket(pyzmq.ROUTER)
    curve_server(sink, keys)
    endpoint = bind_local(sink)
    source = ctx.socket(zmq.DEALER)
    curve_client(source, keys)
    source.linger = 2000
    source.connect(endpoint)
    # sent before the handshake completes: queued in the endpoint's pipe
    for i in range(10):
        source.send(b"%d" % i)
    source.close()
    ctx.term()
    assert [sink.recv_multipart()[1] for _ in range(10)] == [
        b"%d" % i for i in range(10)
    ]


def test_linger_keeps_connecting_after_close(ctx, pctx, keys):
    import socket
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = ctx.socket(zmq.DEALER)
    curve_client(source, keys)
    source.linger = 5000
    source.connect(f"tcp://127.0.0.1:{port}")
    for i in range(5):
        source.send(b"%d" % i)
    source.close()  # returns at once; the messages wait for the server

    sink = pctx.socket(pyzmq.ROUTER)
    curve_server(sink, keys)
    sink.bind(f"tcp://127.0.0.1:{port}")
    terminated = threading.Event()
    threading.Thread(target=lambda: (ctx.term(), terminated.set()), daemon=True).start()
    assert [sink.recv_multipart()[1] for _ in range(5)] == [b"%d" % i for i in range(5)]
    assert terminated.wait(5)
