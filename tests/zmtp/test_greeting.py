"""The 64-byte greeting: ours byte for byte, libzmq's accepted in any chunking, and
older or mismatched peers refused."""

from __future__ import annotations

import pytest

from curvezmq.errors import LocalProtocolError, Reason, RemoteProtocolError
from curvezmq.zmtp import Connection, ConnectionState, NullMechanism

from ._util import LIBZMQ_CURVE_GREETING, feed, greeting


def test_our_null_greeting_byte_for_byte():
    conn = Connection("DEALER", NullMechanism())
    assert conn.data_to_send() == b""
    conn.start(0.0)
    sent = conn.data_to_send()
    assert sent[:64] == (
        b"\xff" + bytes(8) + b"\x7f\x03\x01" + b"NULL" + bytes(16) + b"\x00" + bytes(31)
    )
    # NULL's READY follows at once, without waiting for the peer's greeting
    assert sent[64:72] == b"\x04\x29\x05READY"
    assert conn.state is ConnectionState.GREETING
    assert conn.data_to_send() == b""


def test_start_twice_and_receive_before_start_are_local_errors():
    conn = Connection("DEALER", NullMechanism())
    with pytest.raises(LocalProtocolError):
        conn.receive_data(greeting(), 0.0)
    conn.start(0.0)
    with pytest.raises(LocalProtocolError):
        conn.start(0.0)


@pytest.mark.parametrize("chunk", [0, 1, 3, 10, 11, 63])
def test_libzmq_style_greeting_in_any_chunking(chunk):
    # libzmq's padding is non-zero (routing id length + 1); it must not matter
    peer = greeting(b"NULL", padding=bytes(7) + b"\x0a")
    conn = Connection("DEALER", NullMechanism())
    conn.start(0.0)
    conn.data_to_send()
    events, error = feed(conn, peer, chunk)
    assert (events, error) == ([], None)
    assert conn.state is ConnectionState.HANDSHAKE
    assert conn.peer_version == (3, 1)


def test_libzmq_sends_10_then_1_then_53_bytes():
    conn = Connection("DEALER", NullMechanism())
    conn.start(0.0)
    peer = greeting(b"NULL")
    for piece in (peer[:10], peer[10:11], peer[11:]):
        assert conn.receive_data(piece, 0.0) == []
    assert conn.state is ConnectionState.HANDSHAKE


def test_libzmq_curve_server_greeting_matches_the_fact_sheet():
    assert LIBZMQ_CURVE_GREETING == greeting(
        b"CURVE", padding=bytes(7) + b"\x01", as_server=0
    )


@pytest.mark.parametrize(
    "major, minor, version",
    [(3, 0, (3, 0)), (3, 1, (3, 1)), (3, 7, (3, 1)), (4, 0, (3, 1)), (255, 0, (3, 1))],
)
def test_peer_version_classification(major, minor, version):
    conn = Connection("PUSH", NullMechanism())
    conn.start(0.0)
    conn.receive_data(greeting(major=major, minor=minor), 0.0)
    assert conn.peer_version == version


@pytest.mark.parametrize(
    "prefix, what",
    [
        (b"\x01\x00", "ZMTP 1.0: no signature"),
        (b"\xff" + bytes(8) + b"\x00", "ZMTP 1.0: byte 9 bit 0 clear"),
        (b"\xff" + bytes(8) + b"\x7f\x01", "ZMTP 2.0"),
        (b"\xff" + bytes(8) + b"\x7f\x00", "major 0"),
        (b"\xff" + bytes(8) + b"\x7f\x02", "major 2"),
    ],
)
def test_older_peers_refused_without_waiting_for_64_bytes(prefix, what):
    conn = Connection("DEALER", NullMechanism())
    conn.start(0.0)
    sent = conn.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(prefix, 0.0)
    assert info.value.reason is Reason.ZMTP_UNSPECIFIED
    assert conn.state is ConnectionState.CLOSED
    assert sent and conn.data_to_send() == b""
    # the connection stays failed
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(b"\xff", 0.0)


@pytest.mark.parametrize("theirs", [b"CURVE", b"PLAIN", b"NULLX", b"null", b""])
def test_mechanism_mismatch(theirs):
    conn = Connection("DEALER", NullMechanism())
    conn.start(0.0)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(greeting(theirs), 0.0)
    assert info.value.reason is Reason.ZMTP_MECHANISM_MISMATCH
    assert "NULL" in str(info.value)
    assert conn.state is ConnectionState.CLOSED


def test_mechanism_compared_on_all_20_bytes():
    peer = bytearray(greeting(b"NULL"))
    peer[12 + 19] = ord("X")  # a non-NUL byte past the name
    conn = Connection("DEALER", NullMechanism())
    conn.start(0.0)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(bytes(peer), 0.0)
    assert info.value.reason is Reason.ZMTP_MECHANISM_MISMATCH


def test_peer_as_server_byte_is_ignored():
    for as_server in (0, 1, 0x80):
        conn = Connection("DEALER", NullMechanism())
        conn.start(0.0)
        conn.receive_data(greeting(as_server=as_server), 0.0)
        assert conn.state is ConnectionState.HANDSHAKE
