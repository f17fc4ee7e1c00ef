"""Raw sockets against our CURVE REP server before the handshake completes: half
greetings, wrong greetings, malformed and huge frames. After each attack the attacker's
connection is gone (or harmless), nothing reached the application, a WARNING names the
peer, and an honest libzmq client still completes a round trip."""

from __future__ import annotations

import logging
import socket
import struct
import time

import pytest

from ._raw import (
    GREETING,
    RawCurveClient,
    closed_by_peer,
    command,
    connect,
    frame,
    greeting,
    send_quietly,
)
from .conftest import assert_nothing_delivered, engine_warnings, honest_round_trip

pytestmark = pytest.mark.timeout(20)


@pytest.mark.parametrize("size", [1, 10, 11, 63])
def test_half_greeting_then_silence_then_close(size, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    sock = connect(server.endpoint)
    sock.sendall(GREETING[:size])
    # the server waits for the rest (HANDSHAKE_IVL bounds it), it must not close yet
    assert not closed_by_peer(sock, 0.3)
    sock.close()
    honest_round_trip(pctx, server, keys)
    assert_nothing_delivered(server)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"\x00" + GREETING[1:], id="signature-byte0"),
        pytest.param(GREETING[:9] + b"\x7e" + GREETING[10:], id="signature-byte9"),
        pytest.param(greeting(major=2, minor=0), id="version-2.0"),
        pytest.param(greeting(major=1, minor=0), id="version-1.0"),
        pytest.param(greeting(b"NULL"), id="mechanism-NULL"),
        pytest.param(greeting(b"PLAIN"), id="mechanism-PLAIN"),
        pytest.param(greeting(b"curve"), id="mechanism-lowercase"),
    ],
)
def test_wrong_greeting_is_closed(bad, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    sock = connect(server.endpoint)
    sock.sendall(bad)
    assert closed_by_peer(sock, 2.0)
    sock.close()
    assert any("failed" in m for m in engine_warnings(caplog)), caplog.text
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_major_255_is_taken_as_3_1(server, pctx, keys):
    # libzmq treats any major above 3 as 3.1; so must we: a full handshake works
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.sock.sendall(greeting(major=255, minor=255))
    raw.sock.sendall(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.sock.sendall(command(raw.initiate_body()))
    raw.read_ready()
    raw.sock.sendall(raw.request(b"from 255"))
    assert server.recv() == b"from 255"
    server.send(b"ok")
    assert raw.read_message()[-1][1] == b"ok"
    raw.close()
    honest_round_trip(pctx, server, keys)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _long(size: int, flags: int = 0x06) -> bytes:
    return bytes((flags,)) + struct.pack(">Q", size)


HUGE = [
    pytest.param(_long(2**63 - 1), id="2^63-1"),
    pytest.param(_long(2**31), id="2^31"),
    pytest.param(_long(2**64 - 16), id="2^64-16"),
    pytest.param(_long(2**64 - 1), id="2^64-1"),
    pytest.param(_long(2**63), id="2^63"),
]

# A MiB of "body" behind a huge header, in 64 KiB writes: the server must close on
# the header and keep none of it.
_TRAILER = [bytes(65536)] * 16


def _send_trailer(send) -> None:
    for chunk in _TRAILER:
        if not send(chunk):
            break


@pytest.mark.parametrize("header", HUGE)
def test_huge_frame_before_hello(header, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    before = _rss()
    sock = connect(server.endpoint)
    sock.sendall(GREETING + header)
    _send_trailer(lambda chunk: send_quietly(sock, chunk))
    assert closed_by_peer(sock, 2.0)
    sock.close()
    assert _rss() - before < 16 * 2**20
    assert any("HELLO" in m or "2**63" in m for m in engine_warnings(caplog))
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


@pytest.mark.parametrize("header", HUGE)
def test_huge_frame_after_hello(header, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    before = _rss()
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.send(header)
    _send_trailer(raw.send)
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert _rss() - before < 16 * 2**20
    assert any("INITIATE" in m or "2**63" in m for m in engine_warnings(caplog))
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(_long(2**64 - 1), id="2^64-1"),
        pytest.param(_long(2**63), id="2^63"),
    ],
)
def test_malformed_frame_size_after_initiate_is_closed(header, server, pctx, keys):
    # the top bit set is not a size at all: closed even after the handshake
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.handshake()
    raw.send(header)
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(_long(2**63 - 1), id="2^63-1"),
        pytest.param(_long(2**31), id="2^31"),
    ],
)
def test_huge_legal_frame_after_initiate_allocates_nothing(header, server, pctx, keys):
    # with MAXMSGSIZE -1 a huge frame is legal after the handshake; libzmq would
    # allocate the declared size at once. We must not: only what arrives is kept.
    before = _rss()
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.handshake()
    raw.send(header + b"x" * 1000)
    time.sleep(0.2)
    assert _rss() - before < 64 * 2**20
    honest_round_trip(pctx, server, keys)
    raw.close()
    assert_nothing_delivered(server)


def test_maxmsgsize_refuses_a_huge_frame_after_initiate(ctx, pctx, keys):
    from .conftest import make_server

    server = make_server(ctx, keys, maxmsgsize=1000)
    server.endpoint = server.getsockopt(2**5).decode()  # LAST_ENDPOINT = 32
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.handshake()
    raw.send(_long(2**31))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def _hello_variant(raw: RawCurveClient, size: int) -> bytes:
    body = raw.hello_body()
    return body[:size] if size < len(body) else body + bytes(size - len(body))


@pytest.mark.parametrize("size", [199, 201])
def test_hello_of_wrong_size(size, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(_hello_variant(raw, size)))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert any("HELLO" in m for m in engine_warnings(caplog)), caplog.text
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda raw: b"\x04\x00", id="zero-length-command"),
        pytest.param(lambda raw: b"\x04\x03\x09HE", id="name-len-past-body"),
        pytest.param(lambda raw: b"\x04\x01\x00", id="empty-name"),
        pytest.param(lambda raw: b"\x04\x06\x05READY", id="READY-before-HELLO"),
        pytest.param(
            lambda raw: command(b"\x08INITIATE" + bytes(300)), id="INITIATE-first"
        ),
        pytest.param(
            lambda raw: command(b"\x05HELLO\x02\x00" + raw.hello_body()[8:]),
            id="HELLO-version-2.0",
        ),
    ],
)
def test_malformed_command_before_hello(make, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(make(raw))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert engine_warnings(caplog), caplog.text
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_hello_in_a_command_frame_with_more(server, pctx, keys):
    # libzmq ignores MORE on handshake commands; either tolerating it (WELCOME) or
    # closing is fine, a crash or a hang is not
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(b"\x05\xc8" + raw.hello_body())
    raw.read_greeting()
    raw.read_welcome()  # tolerated, as libzmq does
    raw.send(frame(raw.initiate_body(), flags=0x05))
    raw.read_ready()
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_message_pipelined_behind_initiate_is_refused(server, pctx, keys):
    # a MESSAGE sent before our READY is a violation (libzmq's server, in its
    # sending-READY state, rejects it too): the connection closes, nothing is
    # delivered, the server goes on
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.send(command(raw.initiate_body()) + raw.request(b"eager"))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_slow_loris_does_not_lock_out_honest_clients(server, pctx, keys):
    socks = []
    try:
        for _ in range(200):
            sock = socket.create_connection(
                ("127.0.0.1", int(server.endpoint.rsplit(":", 1)[1])), timeout=3
            )
            sock.sendall(GREETING)
            socks.append(sock)
        started = time.monotonic()
        honest_round_trip(pctx, server, keys)
        assert time.monotonic() - started < 2.0
    finally:
        for sock in socks:
            sock.close()
    assert_nothing_delivered(server)


def test_silent_peers_are_closed_by_handshake_ivl(ctx, pctx, keys, caplog):
    from .conftest import make_server

    caplog.set_level(logging.INFO, logger="curvezmq")
    server = make_server(ctx, keys, handshake_ivl=300)
    server.endpoint = server.getsockopt(32).decode()
    socks = [connect(server.endpoint) for _ in range(20)]
    for sock in socks:
        sock.sendall(GREETING)
    try:
        for sock in socks:
            assert closed_by_peer(sock, 2.0)
    finally:
        for sock in socks:
            sock.close()
    assert any("HANDSHAKE_IVL" in m for m in engine_warnings(caplog))
    honest_round_trip(pctx, server, keys)
