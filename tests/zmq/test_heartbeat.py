"""Heartbeats against libzmq and raw peers: an idle CURVE link stays up whichever
side heartbeats, a silent peer is dropped after the timeout or its own TTL, our TTL
is capped at 655 deciseconds, and the options read back as libzmq's do."""

from __future__ import annotations

import logging
import socket
import time

import pytest
import zmq as pyzmq
from zmq.utils.monitor import recv_monitor_message

from curvezmq import zmq

from ._raw import RawPeer, command
from .conftest import bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(60)

IVL_MS = 100


def _disconnects(monitor) -> int:
    count = 0
    while monitor.poll(0):
        event = recv_monitor_message(monitor)
        if event["event"] == pyzmq.EVENT_DISCONNECTED:
            count += 1
    return count


def _our_protocols(sock) -> list:
    engine = sock._engine
    protocols = [c.protocol for c in engine.connecters]
    protocols += [p.protocol for p in engine._accepted]
    return [p for p in protocols if p is not None]


@pytest.mark.parametrize("ours", ["server", "client"])
def test_idle_curve_link_stays_up_with_our_heartbeats(ctx, pctx, keys, ours):
    if ours == "server":
        server, client = ctx.socket(zmq.ROUTER), pctx.socket(pyzmq.DEALER)
        hb = server
    else:
        server, client = pctx.socket(pyzmq.ROUTER), ctx.socket(zmq.DEALER)
        hb = client
    hb.heartbeat_ivl = IVL_MS
    hb.heartbeat_ttl = 100_000  # sent as 655: libzmq would wrap anything larger
    curve_server(server, keys)
    curve_client(client, keys)
    theirs = client if ours == "server" else server
    monitor = theirs.get_monitor_socket(pyzmq.EVENT_DISCONNECTED)
    client.connect(bind_local(server))
    client.send(b"hello")
    peer, body = server.recv_multipart()
    [protocol] = _our_protocols(hb)
    before = protocol.bytes_received

    time.sleep(5 * IVL_MS / 1000)

    # libzmq answered every PING with a PONG, and nobody hung up
    assert protocol.bytes_received - before >= 3 * 35
    assert _our_protocols(hb) == [protocol]
    assert _disconnects(monitor) == 0
    server.send_multipart([peer, b"still here"])
    assert client.recv() == b"still here"
    theirs.disable_monitor()


@pytest.mark.parametrize("ours", ["server", "client"])
def test_idle_curve_link_stays_up_when_libzmq_heartbeats_us(ctx, pctx, keys, ours):
    if ours == "server":
        server, client = ctx.socket(zmq.ROUTER), pctx.socket(pyzmq.DEALER)
        hb = client
    else:
        server, client = pctx.socket(pyzmq.ROUTER), ctx.socket(zmq.DEALER)
        hb = server
    hb.heartbeat_ivl = IVL_MS
    hb.heartbeat_timeout = 2 * IVL_MS
    hb.heartbeat_ttl = 3 * IVL_MS  # we must hear from libzmq at least this often
    curve_server(server, keys)
    curve_client(client, keys)
    monitor = hb.get_monitor_socket(pyzmq.EVENT_DISCONNECTED)
    ours_sock = server if ours == "server" else client
    client.connect(bind_local(server))
    client.send(b"hello")
    peer, _ = server.recv_multipart()
    [protocol] = _our_protocols(ours_sock)
    before = protocol.bytes_received

    time.sleep(6 * IVL_MS / 1000)

    assert protocol.bytes_received - before >= 3 * 35  # libzmq's PINGs
    assert _our_protocols(ours_sock) == [protocol]
    assert _disconnects(monitor) == 0
    server.send_multipart([peer, b"still here"])
    assert client.recv() == b"still here"
    hb.disable_monitor()


def test_silent_peer_dropped_after_the_timeout(ctx, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.heartbeat_ivl = IVL_MS
    sock.heartbeat_timeout = 2 * IVL_MS
    peer = RawPeer.connect(bind_local(sock), b"DEALER")
    try:
        peer.handshake()
        # the first PING comes after one interval
        flags, body = peer.read_frame(1.0)
        assert (flags, body) == (4, command(b"PING", b"\x00\x00"))
        started = time.monotonic()
        # then we say nothing at all
        assert peer.closed_by_peer(2.0)
        waited = time.monotonic() - started
        assert 0.1 <= waited < 1.0, waited
    finally:
        peer.close()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "heartbeat" in r.getMessage()
    ]
    assert warnings and "127.0.0.1:" in warnings[0] and "our PING" in warnings[0]


def test_silent_server_dropped_and_reconnected(ctx):
    listener = socket.create_server(("127.0.0.1", 0))
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.heartbeat_ivl = IVL_MS
    sock.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    listener.settimeout(3)
    with listener:
        first, _ = listener.accept()
        peer = RawPeer(first, b"ROUTER")
        peer.handshake()
        assert peer.closed_by_peer(2.0)  # timeout defaults to the interval
        peer.close()
        # a heartbeat failure is not a refusal: the socket comes back
        second, _ = listener.accept()
        second.close()


def test_peer_ttl_drops_a_silent_peer(ctx, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    sock = ctx.socket(zmq.PULL)  # no heartbeats of its own
    sock.linger = 0
    peer = RawPeer.connect(bind_local(sock), b"PUSH")
    try:
        peer.handshake()
        peer.send_command(b"PING", b"\x00\x03" + b"ctx")  # TTL 300 ms
        assert peer.read_frame() == (4, command(b"PONG", b"ctx"))
        started = time.monotonic()
        assert peer.closed_by_peer(2.0)
        waited = time.monotonic() - started
        assert 0.25 <= waited < 1.0, waited
    finally:
        peer.close()
    assert any("TTL" in r.getMessage() for r in caplog.records)


def test_traffic_keeps_a_ttl_alive(ctx):
    sock = ctx.socket(zmq.PULL)
    sock.linger = 0
    sock.rcvtimeo = 1000
    peer = RawPeer.connect(bind_local(sock), b"PUSH")
    try:
        peer.handshake()
        peer.send_command(b"PING", b"\x00\x02")  # TTL 200 ms
        peer.read_frame()
        for i in range(8):  # 0.8 s of messages, no more PINGs
            peer.send(0, b"%d" % i)
            time.sleep(0.1)
        assert [sock.recv() for _ in range(8)] == [b"%d" % i for i in range(8)]
        assert not peer.closed_by_peer(0.05)
    finally:
        peer.close()


def test_a_peer_we_hold_back_is_not_taken_for_dead(ctx, pctx):
    # at RCVHWM we stop reading: the peer's PONGs wait unread, by our choice
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvhwm = 5
    pull.heartbeat_ivl = 50
    pull.rcvtimeo = 1000
    push = pctx.socket(pyzmq.PUSH)
    push.linger = 0
    push.connect(bind_local(pull))
    body = b"z" * 65536
    sent = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            push.send(body, pyzmq.NOBLOCK)
            sent += 1
        except pyzmq.Again:
            break
    [protocol] = _our_protocols(pull)
    assert protocol.reading_paused
    time.sleep(0.4)  # eight intervals without reading a byte
    assert _our_protocols(pull) == [protocol]
    for _ in range(sent):
        assert pull.recv() == body


def test_heartbeat_options_read_back_like_libzmq(ctx, pctx):
    ours, theirs = ctx.socket(zmq.DEALER), pctx.socket(pyzmq.DEALER)
    for sock in (ours, theirs):
        assert (sock.heartbeat_ivl, sock.heartbeat_ttl, sock.heartbeat_timeout) == (
            0,
            0,
            -1,
        )
        sock.heartbeat_ttl = 1550
        assert sock.heartbeat_ttl == 1500
        sock.setsockopt(zmq.HEARTBEAT_TTL, 6553599)
        for option, value in (
            (zmq.HEARTBEAT_TTL, 6553600),
            (zmq.HEARTBEAT_TIMEOUT, -1),
            (zmq.HEARTBEAT_IVL, -1),
        ):
            with pytest.raises((zmq.ZMQError, pyzmq.ZMQError)) as info:
                sock.setsockopt(option, value)
            assert info.value.errno == zmq.EINVAL
