"""NULL: READY both ways, metadata and socket types, ERROR, commands, two connections
piped in memory."""

from __future__ import annotations

import pytest

from curvezmq.errors import LocalProtocolError, Reason, RemoteProtocolError
from curvezmq.zmtp import (
    COMPATIBLE,
    CommandReceived,
    Connection,
    ConnectionState,
    ErrorReceived,
    HandshakeCompleted,
    MessageReceived,
    NullMechanism,
)

from ._util import command, frame, greeting, null_established, pipe, ready


def _pair(a_type="DEALER", b_type="ROUTER", **kwargs):
    a = Connection(a_type, NullMechanism(), **kwargs)
    b = Connection(b_type, NullMechanism(), **kwargs)
    a.start(0.0)
    b.start(0.0)
    return a, b


def test_our_ready_is_libzmq_byte_for_byte():
    # PROTOCOL-MORE.md 1.1: a PUSH's READY, and DEALER with empty identity is 41
    push = Connection("PUSH", NullMechanism())
    push.start(0.0)
    assert push.data_to_send()[64:] == (
        b"\x04\x1a\x05READY\x0bSocket-Type\x00\x00\x00\x04PUSH"
    )
    dealer = Connection("DEALER", NullMechanism(), identity=b"abc")
    dealer.start(0.0)
    out = dealer.data_to_send()[64:]
    assert out == frame(
        4,
        b"\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER"
        b"\x08Identity\x00\x00\x00\x03abc",
    )
    assert len(out) - 2 == 44


def test_dealer_router_handshake_and_multipart():
    a, b = _pair(identity=b"me")
    events_a, events_b = pipe(a, b)
    assert [type(e) for e in events_a] == [HandshakeCompleted]
    assert (events_a[0].socket_type, events_a[0].identity) == ("ROUTER", b"me")
    assert events_a[0].user_id == b""
    assert events_b[0].socket_type == "DEALER"
    assert events_b[0].peer_metadata["Socket-Type"] == b"DEALER"
    assert a.state is b.state is ConnectionState.ESTABLISHED

    a.send_message([b"", b"hello", b"world"])
    b.send_message([memoryview(b"back")])
    events_a, events_b = pipe(a, b)
    assert events_b == [MessageReceived([b"", b"hello", b"world"])]
    assert events_a == [MessageReceived([b"back"])]


def test_ready_before_our_own_is_sent():
    # the peer's greeting and READY arrive before we wrote ours: still fine
    conn = Connection("REP", NullMechanism())
    conn.start(0.0)
    events = conn.receive_data(greeting() + frame(4, ready(b"REQ", b"")), 0.0)
    assert isinstance(events[0], HandshakeCompleted)
    out = conn.data_to_send()
    assert out[:1] == b"\xff" and out[64:72] == b"\x04\x19\x05READY"


def test_message_in_the_same_chunk_as_ready():
    conn = Connection("PULL", NullMechanism())
    conn.start(0.0)
    data = greeting() + frame(4, ready(b"PUSH")) + frame(0, b"m")
    events = conn.receive_data(data, 0.0)
    assert [type(e) for e in events] == [HandshakeCompleted, MessageReceived]


@pytest.mark.parametrize("local", sorted(COMPATIBLE))
def test_socket_type_table(local):
    for peer in sorted(COMPATIBLE):
        conn = Connection(local, NullMechanism())
        conn.start(0.0)
        data = greeting() + frame(4, ready(peer.encode()))
        if peer.encode() in COMPATIBLE[local]:
            assert isinstance(conn.receive_data(data, 0.0)[0], HandshakeCompleted)
        else:
            with pytest.raises(RemoteProtocolError) as info:
                conn.receive_data(data, 0.0)
            assert info.value.reason is Reason.ZMTP_INVALID_METADATA
            assert conn.state is ConnectionState.CLOSED


def test_incompatible_pair_piped_in_memory():
    a, b = _pair("REQ", "DEALER")
    with pytest.raises(RemoteProtocolError) as info:
        pipe(a, b)
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA


def test_socket_type_compared_with_exact_case():
    conn = Connection("PULL", NullMechanism())
    conn.start(0.0)
    from curvezmq.codec import encode_metadata

    # "socket-type" is an opaque property to libzmq: no Socket-Type at all
    body = command(b"READY", encode_metadata({"socket-type": b"NOPE"}))
    events = conn.receive_data(greeting() + frame(4, body), 0.0)
    assert events[0].socket_type == ""
    conn = Connection("PULL", NullMechanism())
    conn.start(0.0)
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(greeting() + frame(4, ready(b"push")), 0.0)


def test_empty_metadata_accepted():
    conn = Connection("PAIR", NullMechanism())
    conn.start(0.0)
    events = conn.receive_data(greeting() + frame(4, command(b"READY")), 0.0)
    assert events == [HandshakeCompleted({}, b"", "", b"")]


def test_ready_with_a_trailing_byte_refused():
    conn = Connection("PULL", NullMechanism())
    conn.start(0.0)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(greeting() + frame(4, ready(b"PUSH") + b"\x01"), 0.0)
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA


def test_ready_without_the_command_flag_is_still_ready():
    conn = Connection("PULL", NullMechanism())
    conn.start(0.0)
    events = conn.receive_data(greeting() + frame(0, ready(b"PUSH")), 0.0)
    assert isinstance(events[0], HandshakeCompleted)


@pytest.mark.parametrize(
    "body, reason",
    [
        (command(b"HELLO"), Reason.ZMTP_UNEXPECTED_COMMAND),
        (command(b"PING", b"\x00\x00"), Reason.ZMTP_UNEXPECTED_COMMAND),
        (b"", Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
        (b"\x09READY", Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
        (command(b"ERROR", b"\x05400"), Reason.ZMTP_MALFORMED_COMMAND_ERROR),
        (command(b"ERROR"), Reason.ZMTP_MALFORMED_COMMAND_ERROR),
    ],
)
def test_bad_handshake_commands(body, reason):
    conn = Connection("PULL", NullMechanism())
    conn.start(0.0)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(greeting() + frame(4, body), 0.0)
    assert info.value.reason is reason
    assert conn.state is ConnectionState.CLOSED


def test_peer_error_closes_without_raising():
    conn = Connection("PULL", NullMechanism())
    conn.start(0.0)
    data = greeting() + frame(4, command(b"ERROR", b"\x03400")) + b"junk"
    assert conn.receive_data(data, 0.0) == [ErrorReceived("400")]
    assert conn.state is ConnectionState.CLOSED
    # late bytes after the ERROR mean nothing
    assert conn.receive_data(b"more", 0.0) == []
    with pytest.raises(LocalProtocolError):
        conn.send_message([b"x"])


def test_ping_answered_with_pong_echoing_at_most_16_bytes():
    conn = null_established()
    ping = command(b"PING", b"\x00\x0f" + bytes(range(20)))
    assert conn.receive_data(frame(4, ping), 0.0) == []
    assert conn.data_to_send() == frame(4, command(b"PONG", bytes(range(16))))

    conn.receive_data(frame(4, command(b"PING", b"\x00\x00")), 0.0)
    assert conn.data_to_send() == frame(4, command(b"PONG"))


@pytest.mark.parametrize("body", [b"\x04PING", b"\x04PING\x00", b"\x04PON"])
def test_short_ping_ignored(body):
    conn = null_established()
    assert conn.receive_data(frame(4, body), 0.0) == []
    assert conn.data_to_send() == b""
    assert conn.state is ConnectionState.ESTABLISHED


def test_pong_and_unknown_commands_ignored():
    conn = null_established()
    data = (
        frame(4, command(b"PONG", b"ctx"))
        + frame(4, command(b"JOIN", b"g"))
        + frame(4, command(b"READY"))
        + frame(4, b"")
        + frame(0, b"after")
    )
    assert conn.receive_data(data, 0.0) == [MessageReceived([b"after"])]
    assert conn.data_to_send() == b""


def test_subscribe_and_cancel_surface():
    conn = null_established("XPUB", b"SUB")
    data = frame(4, command(b"SUBSCRIBE", b"topic")) + frame(4, command(b"CANCEL"))
    assert conn.receive_data(data, 0.0) == [
        CommandReceived("SUBSCRIBE", b"topic"),
        CommandReceived("CANCEL", b""),
    ]


def test_command_inside_a_multipart_message_does_not_cut_it():
    conn = null_established()
    data = frame(1, b"a") + frame(4, command(b"PING", b"\x00\x00")) + frame(0, b"b")
    assert conn.receive_data(data, 0.0) == [MessageReceived([b"a", b"b"])]


def test_send_command_and_its_checks():
    a, b = _pair("SUB", "XPUB")
    with pytest.raises(LocalProtocolError):
        a.send_command("SUBSCRIBE", b"x")
    pipe(a, b)
    a.send_command("SUBSCRIBE", b"x")
    a.send_command(b"PING", b"\x00\x00")
    events_a, events_b = pipe(a, b)
    assert events_b == [CommandReceived("SUBSCRIBE", b"x")]
    assert events_a == []
    with pytest.raises(ValueError):
        a.send_command("")
    with pytest.raises(ValueError):
        a.send_message([])
    with pytest.raises(TypeError):
        a.send_message(b"not a list of parts")


def test_max_message_size_in_a_pipe():
    a, b = _pair(max_message_size=100)
    pipe(a, b)
    a.send_message([b"x" * 100])
    assert pipe(a, b)[1] == [MessageReceived([b"x" * 100])]
    a.send_message([b"x" * 101])
    with pytest.raises(RemoteProtocolError):
        pipe(a, b)
    assert b.state is ConnectionState.CLOSED


def test_accept_and_refuse_are_curve_server_only():
    a, _ = _pair()
    with pytest.raises(LocalProtocolError):
        a.accept()
    with pytest.raises(LocalProtocolError):
        a.refuse("400")


def test_constructor_checks():
    with pytest.raises(ValueError):
        Connection("dealer", NullMechanism())
    with pytest.raises(ValueError):
        Connection("DEALER", NullMechanism(), identity=bytes(256))
    with pytest.raises(TypeError):
        Connection("DEALER", object())
    mechanism = NullMechanism()
    Connection("DEALER", mechanism)
    with pytest.raises(ValueError):
        Connection("DEALER", mechanism)


def test_close_is_terminal_and_idempotent():
    a, b = _pair()
    pipe(a, b)
    a.close()
    a.close()
    assert a.state is ConnectionState.CLOSED
    assert a.receive_data(b"\x00\x01x", 0.0) == []
    with pytest.raises(LocalProtocolError):
        a.send_message([b"x"])


def test_timer_hooks_exist():
    a, _ = _pair()
    assert a.get_timer() is None
    assert a.handle_timer(0.0) == []
