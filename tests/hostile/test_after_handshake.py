"""Abuse from a peer that completed a real CURVE handshake (a raw PyNaCl client):
forged nonces, bad boxes, commands in the box, odd frames, endless multipart. By
default a violation closes that connection only; commands we do not serve are
ignored; nothing bad reaches the application; the server keeps serving."""

from __future__ import annotations

import logging
import time

import pytest

from ._raw import RawCurveClient, closed_by_peer, command, frame
from .conftest import assert_nothing_delivered, engine_warnings, honest_round_trip

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def raw(server, keys):
    client = RawCurveClient(server.endpoint, keys.server_public)
    client.handshake()
    yield client
    client.close()


def round_trip(raw, server, payload: bytes = b"ping") -> None:
    """The same raw connection still works: a request and its reply."""
    raw.send(raw.request(payload))
    assert server.recv() == payload
    server.send(b"re:" + payload)
    parts = raw.read_message()
    assert parts[-1] == (0, b"re:" + payload), parts


def closed_and_server_fine(raw, server, pctx, keys) -> None:
    assert closed_by_peer(raw.sock, 2.0)
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_replayed_message_nonce_is_refused(raw, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    delimiter = raw.message_body(b"", 0x01)
    body = raw.message_body(b"once")
    raw.send(frame(delimiter) + frame(body))
    assert server.recv() == b"once"
    server.send(b"ok")
    raw.read_message()
    # the same two frames again: nonces not above the last
    raw.send(frame(delimiter) + frame(body))
    closed_and_server_fine(raw, server, pctx, keys)
    assert any("INVALID_SEQUENCE" in m for m in engine_warnings(caplog))


def test_message_nonce_equal_to_initiate_nonce(raw, server, pctx, keys):
    # INITIATE carried nonce 2; a MESSAGE must be strictly above it
    raw.send(frame(raw.message_body(b"", 0x01, nonce=2)))
    closed_and_server_fine(raw, server, pctx, keys)


def test_max_nonce_with_bad_box(raw, server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    body = bytearray(raw.message_body(b"x", nonce=2**64 - 1))
    body[-1] ^= 0x01
    raw.send(frame(bytes(body)))
    closed_and_server_fine(raw, server, pctx, keys)
    assert any("CRYPTOGRAPHIC" in m for m in engine_warnings(caplog))


def test_max_nonce_genuine_is_accepted_then_nothing_more(raw, server, pctx, keys):
    # nonce 2^64-1 is a legal last nonce; after it no nonce can be above it
    raw.send(frame(raw.message_body(b"", 0x01)))
    raw.send(frame(raw.message_body(b"last", nonce=2**64 - 1)))
    assert server.recv() == b"last"
    server.send(b"ok")
    raw.read_message()
    raw.send(frame(raw.message_body(b"", 0x01, nonce=2**64 - 1)))
    closed_and_server_fine(raw, server, pctx, keys)


def test_message_in_a_command_frame(raw, server):
    # PROTOCOL.md 3.9: accept outer 0x04 tolerantly and take MORE/COMMAND from the
    # inner byte only; the connection stays up either way
    delimiter = raw.message_body(b"", 0x01)
    body = raw.message_body(b"in a command frame")
    raw.send(frame(delimiter, flags=0x04) + frame(body, flags=0x04))
    assert server.recv() == b"in a command frame"
    server.send(b"ok")
    raw.read_message()
    round_trip(raw, server)


def test_outer_more_is_ignored(raw, server):
    # MORE on the outer frame of the last part: only the inner flag counts
    delimiter = raw.message_body(b"", 0x01)
    body = raw.message_body(b"outer more")
    raw.send(frame(delimiter, flags=0x01) + frame(body, flags=0x01))
    assert server.recv() == b"outer more"
    server.send(b"ok")
    raw.read_message()
    round_trip(raw, server)


@pytest.mark.parametrize("ping", [b"\x04PING", b"\x04PING\x00"])
def test_short_ping_is_ignored(ping, raw, server):
    raw.send(frame(raw.message_body(ping, 0x02)))
    # no PONG (which would come before the reply), and the connection is fine
    round_trip(raw, server)


def test_ping_with_200_context_bytes_gets_16_back(raw, server):
    context = bytes(range(200))
    raw.send(frame(raw.message_body(b"\x04PING\x00\x00" + context, 0x02)))
    parts = raw.read_message()
    assert parts == [(0x02, b"\x04PONG" + context[:16])]
    round_trip(raw, server)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x09SUBSCRIBE" + b"topic", id="SUBSCRIBE"),
        pytest.param(b"\x06CANCEL", id="CANCEL"),
        pytest.param(b"\x05HELLO" + bytes(194), id="HELLO-in-box"),
        pytest.param(b"\x04PONG", id="unsolicited-PONG"),
        pytest.param(b"", id="empty-command"),
        pytest.param(b"\x09SUB", id="name-past-end"),
    ],
)
def test_commands_in_the_box_are_ignored(body, raw, server):
    raw.send(frame(raw.message_body(body, 0x02)))
    round_trip(raw, server)
    assert_nothing_delivered(server)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x07ME", id="3-bytes"),
        pytest.param(b"\x07MESSAGE" + bytes(24), id="32-bytes"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x07MESSAGX" + bytes(40), id="wrong-name"),
    ],
)
def test_malformed_message_body_closes(body, raw, server, pctx, keys):
    raw.send(frame(body))
    closed_and_server_fine(raw, server, pctx, keys)


def test_handshake_command_after_the_handshake_closes(raw, server, pctx, keys):
    raw.send(command(raw.hello_body()))
    closed_and_server_fine(raw, server, pctx, keys)


def test_reserved_inner_flag_bits_are_ignored(raw, server):
    # libzmq masks the inner flags with 0x03
    raw.send(frame(raw.message_body(b"", 0x81)) + frame(raw.message_body(b"r", 0x80)))
    assert server.recv() == b"r"
    server.send(b"ok")
    raw.read_message()


def test_request_without_delimiter_is_dropped(raw, server):
    raw.send(frame(raw.message_body(b"no envelope")))
    round_trip(raw, server)
    assert_nothing_delivered(server)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_endless_multipart_is_bounded(ctx, pctx, keys):
    # MAXMSGSIZE caps every part at 16 KiB and a message has at most
    # MAX_MESSAGE_PARTS parts: a peer that never ends its message is closed at
    # that many parts instead of making us hold what it sends
    from curvezmq.zmtp._connection import MAX_MESSAGE_PARTS

    from .conftest import make_server

    server = make_server(ctx, keys, maxmsgsize=16384)
    server.endpoint = server.getsockopt(32).decode()
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.handshake()
    part = bytes(16384)
    before = _rss()
    closed = False
    for _ in range(MAX_MESSAGE_PARTS * 3):
        if not raw.send(frame(raw.message_body(part, 0x01))):
            closed = True
            break
    time.sleep(0.3)
    grown = _rss() - before
    raw.close()
    assert closed, "a message of endless parts was never refused"
    # unbounded, the 48 MiB sent would all be held; the cap holds about 16 MiB of
    # parts plus their buffers
    assert grown < 40 * 2**20, f"grew {grown / 2**20:.0f} MiB"


def test_ping_flood_from_a_peer_that_never_reads_is_bounded(server, ctx, keys):
    import socket

    raw = RawCurveClient(server.endpoint, keys.server_public)
    # a tiny receive window, so the kernel absorbs few of the PONGs
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.handshake()
    ping = b"\x04PING\x00\x00" + bytes(16)
    data = b"".join(frame(raw.message_body(ping, 0x02)) for _ in range(200_000))
    raw.sock.settimeout(10)
    raw.send(data)  # 11.6 MB of PINGs; their PONGs are never read
    time.sleep(0.3)

    def write_buffers():
        engine = server._engine
        return [
            p.protocol.transport.get_write_buffer_size()
            for p in engine._accepted
            if p.protocol is not None
        ]

    buffered = max(ctx._run(write_buffers) or [0])
    raw.close()
    assert buffered <= 2**20, f"{buffered} bytes of PONG buffered for one peer"
