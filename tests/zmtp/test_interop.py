"""A small interop check: our Connection over a raw TCP socket on 127.0.0.1 against
libzmq 4.3 through pyzmq, NULL and CURVE, both roles. (The engine's tests do the
full interop matrix.)"""

from __future__ import annotations

import socket
import time

import pytest

from curvezmq import curve_keypair, z85
from curvezmq.codec import CurveServerKeys
from curvezmq.zmtp import (
    AuthenticationRequested,
    Connection,
    ConnectionState,
    CurveClientMechanism,
    CurveServerMechanism,
    HandshakeCompleted,
    MessageReceived,
    NullMechanism,
)

zmq = pytest.importorskip("zmq")

TIMEOUT = 5.0


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def _drive(sock: socket.socket, conn: Connection, until, events=None) -> list:
    """Pump bytes both ways until ``until(events)`` holds; accept any client."""
    events = [] if events is None else events
    deadline = time.monotonic() + TIMEOUT
    sock.settimeout(0.02)
    while True:
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        if until(events):
            return events
        assert time.monotonic() < deadline, f"timed out; events so far {events}"
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        assert data, "libzmq closed the connection"
        new = conn.receive_data(data, time.monotonic())
        events.extend(new)
        for event in new:
            if isinstance(event, AuthenticationRequested):
                events.extend(conn.accept(b"user"))


def _done(events) -> bool:
    return any(isinstance(e, HandshakeCompleted) for e in events)


def _messages(count):
    return lambda events: sum(isinstance(e, MessageReceived) for e in events) >= count


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def test_null_dealer_against_a_pyzmq_router(context):
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    router.rcvtimeo = int(TIMEOUT * 1000)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    with _connect(port) as sock:
        conn = Connection("DEALER", NullMechanism(), identity=b"ours")
        conn.start(time.monotonic())
        events = _drive(sock, conn, _done)
        assert events[0].socket_type == "ROUTER"

        conn.send_message([b"hello", b"there"])
        _drive(sock, conn, lambda _: True)
        assert router.recv_multipart() == [b"ours", b"hello", b"there"]
        router.send_multipart([b"ours", b"back"])
        events = _drive(sock, conn, _messages(1), [])
        assert events == [MessageReceived([b"back"])]


def test_curve_client_against_a_pyzmq_router(context):
    server_public, server_secret = curve_keypair()
    client_public, client_secret = curve_keypair()
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    router.rcvtimeo = int(TIMEOUT * 1000)
    router.curve_server = True
    router.curve_secretkey = server_secret
    # libzmq pings every 50 ms and drops us if a PONG does not come back in time
    router.heartbeat_ivl = 50
    router.heartbeat_timeout = 300
    port = router.bind_to_random_port("tcp://127.0.0.1")
    with _connect(port) as sock:
        mechanism = CurveClientMechanism(client_public, client_secret, server_public)
        conn = Connection("DEALER", mechanism, identity=b"cid")
        conn.start(time.monotonic())
        events = _drive(sock, conn, _done)
        assert (events[0].socket_type, events[0].identity) == ("ROUTER", b"")

        conn.send_message([b"", b"x" * 1000])
        _drive(sock, conn, lambda _: True)
        assert router.recv_multipart() == [b"cid", b"", b"x" * 1000]

        # stay around long enough for several PINGs, answering each
        stop = time.monotonic() + 0.6
        _drive(sock, conn, lambda _: time.monotonic() > stop, [])
        router.send_multipart([b"cid", b"still", b"here"])
        events = _drive(sock, conn, _messages(1), [])
        assert events == [MessageReceived([b"still", b"here"])]
        assert conn.state is ConnectionState.ESTABLISHED


def test_curve_server_against_a_pyzmq_dealer(context):
    server_public, server_secret = curve_keypair()
    client_public, client_secret = curve_keypair()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    dealer = context.socket(zmq.DEALER)
    dealer.linger = 0
    dealer.rcvtimeo = int(TIMEOUT * 1000)
    dealer.curve_serverkey = server_public
    dealer.curve_publickey = client_public
    dealer.curve_secretkey = client_secret
    dealer.connect(f"tcp://127.0.0.1:{port}")
    listener.settimeout(TIMEOUT)
    sock, _ = listener.accept()
    with listener, sock:
        keys = CurveServerKeys(server_public, server_secret)
        conn = Connection("ROUTER", CurveServerMechanism(keys))
        conn.start(time.monotonic())
        events = _drive(sock, conn, _done)
        request, done = events
        assert request.client_key == z85.decode(client_public)
        assert (done.socket_type, done.user_id) == ("DEALER", b"user")

        dealer.send_multipart([b"a", b"b" * 300])
        events = _drive(sock, conn, _messages(1), [])
        assert events == [MessageReceived([b"a", b"b" * 300])]
        conn.send_message([b"reply"])
        _drive(sock, conn, lambda _: True)
        assert dealer.recv_multipart() == [b"reply"]
