"""A raw, hostile server against our CURVE client (a ``curvezmq.zmq`` REQ): it holds
the real server key, so it can make every box open and still lie. Our client must
close the connection, log why, deliver nothing, and retry politely (or stop for
good after an ERROR, as libzmq does)."""

from __future__ import annotations

import logging
import socket
import struct

import nacl.bindings as nb
import pytest

import curvezmq.zmq as ours
from curvezmq.keys import key_bytes

from ._raw import GREETING, command, frame, n8, read_frame, recv_exact
from .conftest import curve_client, engine_warnings

pytestmark = pytest.mark.timeout(20)

LOW_ORDER = bytes.fromhex(
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"
)


class RawServer:
    """One listening socket; ``accept()`` returns the next connection, after
    reading the client's greeting and HELLO (C' is kept)."""

    def __init__(self, keys):
        self.public = key_bytes(keys.server_public)
        self.secret = key_bytes(keys.server_secret)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(5)
        self.endpoint = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"

    def accept(self, read_hello: bool = True) -> socket.socket:
        conn, _ = self.listener.accept()
        conn.settimeout(3)
        if read_hello:
            conn.sendall(GREETING)
            recv_exact(conn, 64)
            _, hello = read_frame(conn)
            assert hello[:6] == b"\x05HELLO"
            self.client_cn = hello[80:112]
        return conn

    def welcome(self, server_cn: bytes, cookie: bytes = bytes(96)) -> bytes:
        tail = bytes(16)
        box = nb.crypto_box(
            server_cn + cookie, b"WELCOME-" + tail, self.client_cn, self.secret
        )
        return command(b"\x07WELCOME" + tail + box)

    def close(self):
        self.listener.close()


@pytest.fixture
def raw_server(keys):
    srv = RawServer(keys)
    yield srv
    srv.close()


@pytest.fixture
def client(ctx, keys, raw_server):
    sock = ctx.socket(ours.REQ)
    curve_client(sock, keys)
    sock.rcvtimeo = 300
    sock.connect(raw_server.endpoint)
    sock.send(b"request")
    return sock


def _handshake(raw_server, conn, ready_nonce: int = 1):
    """Finish a genuine handshake on conn; returns the session key."""
    cn_public, cn_secret = nb.crypto_box_keypair()
    conn.sendall(raw_server.welcome(cn_public))
    _, initiate = read_frame(conn)
    assert initiate[:9] == b"\x08INITIATE"
    key = nb.crypto_box_beforenm(raw_server.client_cn, cn_secret)
    meta = b"\x0bSocket-Type\x00\x00\x00\x03REP"
    nonce = n8(ready_nonce)
    box = nb.crypto_box_afternm(meta, b"CurveZMQREADY---" + nonce, key)
    conn.sendall(command(b"\x05READY" + nonce + box))
    return key


def _message(key, nonce: int, flags: int, data: bytes) -> bytes:
    box = nb.crypto_box_afternm(
        bytes((flags,)) + data, b"CurveZMQMESSAGES" + n8(nonce), key
    )
    return frame(b"\x07MESSAGE" + n8(nonce) + box)


def _closed(conn, timeout=2.0) -> bool:
    conn.settimeout(timeout)
    try:
        while conn.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_low_order_server_short_key_in_welcome(client, raw_server, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    conn = raw_server.accept()
    conn.sendall(raw_server.welcome(LOW_ORDER))
    assert _closed(conn)
    conn.close()
    with pytest.raises(ours.Again):
        client.recv()
    assert any("KEY_EXCHANGE" in m for m in engine_warnings(caplog)), caplog.text
    # and it tries again, politely
    raw_server.accept(read_hello=True).close()


def test_huge_welcome_header(client, raw_server):
    conn = raw_server.accept()
    conn.sendall(struct.pack(">BQ", 0x06, 2**62))
    assert _closed(conn)
    conn.close()


def test_error_before_welcome_stops_reconnecting(client, raw_server, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    conn = raw_server.accept()
    conn.sendall(command(b"\x05ERROR\x03400"))
    assert _closed(conn)
    conn.close()
    raw_server.listener.settimeout(0.5)
    with pytest.raises(socket.timeout):
        raw_server.accept(read_hello=False)


def test_malformed_error_is_a_violation_and_retried(client, raw_server, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    conn = raw_server.accept()
    conn.sendall(command(b"\x05ERROR\x09400"))  # reason longer than the body
    assert _closed(conn)
    conn.close()
    raw_server.accept().close()  # not final: it reconnects


def test_silent_server_is_bounded_by_handshake_ivl(ctx, keys, raw_server, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    sock = ctx.socket(ours.REQ)
    curve_client(sock, keys)
    sock.handshake_ivl = 300
    sock.connect(raw_server.endpoint)
    conn = raw_server.accept(read_hello=False)
    assert _closed(conn, 2.0)
    conn.close()
    assert any("HANDSHAKE_IVL" in m for m in engine_warnings(caplog))


def test_message_nonce_not_above_ready(client, raw_server):
    conn = raw_server.accept()
    key = _handshake(raw_server, conn, ready_nonce=5)
    read_frame(conn)  # the request's delimiter
    read_frame(conn)
    conn.sendall(_message(key, 5, 0x01, b"") + _message(key, 6, 0, b"stale"))
    assert _closed(conn)
    conn.close()
    with pytest.raises(ours.Again):
        client.recv()


def test_reply_without_delimiter_drops_the_connection(client, raw_server):
    conn = raw_server.accept()
    key = _handshake(raw_server, conn)
    read_frame(conn)
    read_frame(conn)
    conn.sendall(_message(key, 2, 0, b"no delimiter"))
    assert _closed(conn)
    conn.close()
    with pytest.raises(ours.Again):
        client.recv()


def test_genuine_reply_is_delivered(client, raw_server):
    # the control for the tests above: the same raw server, telling the truth
    conn = raw_server.accept()
    key = _handshake(raw_server, conn)
    read_frame(conn)
    _, _body = read_frame(conn)
    conn.sendall(_message(key, 2, 0x01, b"") + _message(key, 3, 0, b"reply"))
    assert client.recv() == b"reply"
    conn.close()


def test_ping_from_server_is_answered(client, raw_server):
    conn = raw_server.accept()
    key = _handshake(raw_server, conn)
    read_frame(conn)
    read_frame(conn)
    conn.sendall(_message(key, 2, 0x02, b"\x04PING\x00\x00ctx"))
    _, body = read_frame(conn)
    plain = nb.crypto_box_open_afternm(body[16:], b"CurveZMQMESSAGEC" + body[8:16], key)
    assert plain == b"\x02\x04PONGctx"
    conn.close()
