"""PLAIN, and NULL with authentication, as sans-IO state machines: byte-exact
commands (PROTOCOL-MORE.md sections 1 and 2), decisions, refusals and the
violations libzmq names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvezmq.codec import encode_metadata
from curvezmq.errors import LocalProtocolError, Reason, RemoteProtocolError
from curvezmq.zmtp import (
    PLAIN_ERROR_PREFIX,
    AuthenticationRequested,
    Connection,
    ConnectionState,
    ErrorReceived,
    HandshakeCompleted,
    MessageReceived,
    NullMechanism,
    PlainClientMechanism,
    PlainServerMechanism,
)

from ._util import command, feed, frame, greeting, pipe, ready, split_frames

# libzmq 4.3.5's PLAIN client HELLO for admin/secret, as probed
LIBZMQ_HELLO = bytes.fromhex("041305") + b"HELLO\x05admin\x06secret"
LIBZMQ_WELCOME = b"\x04\x08\x07WELCOME"
# libzmq's PLAIN server ERROR: the malformed "^RROR" prefix
LIBZMQ_PLAIN_ERROR = bytes.fromhex("04095e52524f5203") + b"400"


def _plain_pair(username=b"admin", password=b"secret", client_type="DEALER"):
    client = Connection(
        client_type, PlainClientMechanism(username, password), identity=b"ID1"
    )
    server = Connection("ROUTER", PlainServerMechanism())
    client.start(0.0)
    server.start(0.0)
    return client, server


def test_client_sends_libzmqs_hello_then_initiate():
    client = Connection("DEALER", PlainClientMechanism(b"admin", b"secret"))
    client.start(0.0)
    sent = client.data_to_send()
    assert sent[:64] == greeting(b"PLAIN")
    assert sent[64:] == LIBZMQ_HELLO

    client.receive_data(greeting(b"PLAIN") + LIBZMQ_WELCOME, 0.0)
    [(flags, body)] = split_frames(client.data_to_send())
    assert flags == 0x04
    assert body == b"\x08INITIATE" + encode_metadata(
        {"Socket-Type": b"DEALER", "Identity": b""}
    )
    [done] = client.receive_data(
        frame(4, command(b"READY", encode_metadata({"Socket-Type": b"ROUTER"}))), 0.0
    )
    assert isinstance(done, HandshakeCompleted) and done.socket_type == "ROUTER"
    assert client.state is ConnectionState.ESTABLISHED


def test_server_asks_then_welcomes_then_readies():
    server = Connection("ROUTER", PlainServerMechanism())
    server.start(0.0)
    assert server.data_to_send() == greeting(b"PLAIN", as_server=1)

    [request] = server.receive_data(greeting(b"PLAIN") + LIBZMQ_HELLO, 0.0)
    assert request == AuthenticationRequested("PLAIN", (b"admin", b"secret"))
    assert "secret" not in repr(request)
    assert server.state is ConnectionState.AUTHENTICATING
    assert server.data_to_send() == b""

    assert server.accept(b"admin", {"Role": b"ops"}) == []
    assert server.data_to_send() == LIBZMQ_WELCOME
    initiate = command(
        b"INITIATE", encode_metadata({"Socket-Type": b"DEALER", "Identity": b"ID1"})
    )
    [done] = server.receive_data(frame(4, initiate), 0.0)
    assert done == HandshakeCompleted(
        {"Socket-Type": b"DEALER", "Identity": b"ID1"},
        b"admin",
        "DEALER",
        b"ID1",
        {"Role": b"ops"},
    )
    [(_, body)] = split_frames(server.data_to_send())
    assert body == b"\x05READY" + encode_metadata(
        {"Socket-Type": b"ROUTER", "Identity": b""}
    )


def test_pair_exchanges_messages():
    client, server = _plain_pair()
    events_client, events_server = pipe(client, server)
    assert isinstance(events_server[-1], HandshakeCompleted)
    assert events_server[-1].user_id == b""  # pipe() accepts with no user id
    assert isinstance(events_client[-1], HandshakeCompleted)
    client.send_message([b"a", b"b"])
    _, events_server = pipe(client, server)
    assert events_server == [MessageReceived([b"a", b"b"])]


def test_refusal_is_libzmqs_form_and_our_client_reads_it():
    client, server = _plain_pair()
    pipe(client, server, accept=False)
    server.refuse("400")
    assert server.state is ConnectionState.CLOSED
    error = server.data_to_send()
    assert error == LIBZMQ_PLAIN_ERROR
    assert error[2:7] == PLAIN_ERROR_PREFIX
    assert client.receive_data(error, 0.0) == [ErrorReceived("400")]
    assert client.state is ConnectionState.CLOSED


@pytest.mark.parametrize(
    "body", [b"\x05ERROR\x03500", PLAIN_ERROR_PREFIX + b"\x03500"], ids=["rfc", "^RROR"]
)
@pytest.mark.parametrize("after_welcome", [False, True])
def test_client_accepts_both_error_forms(body, after_welcome):
    client = Connection("DEALER", PlainClientMechanism(b"u", b"p"))
    client.start(0.0)
    data = greeting(b"PLAIN") + (LIBZMQ_WELCOME if after_welcome else b"")
    client.receive_data(data, 0.0)
    assert client.receive_data(frame(4, body), 0.0) == [ErrorReceived("500")]


@pytest.mark.parametrize(
    ("hello", "reason"),
    [
        (b"\x05HELLO", Reason.ZMTP_MALFORMED_COMMAND_HELLO),
        (b"\x05HELLO\x05admin", Reason.ZMTP_MALFORMED_COMMAND_HELLO),
        (b"\x05HELLO\x05admin\x06secre", Reason.ZMTP_MALFORMED_COMMAND_HELLO),
        (b"\x05HELLO\x05admin\x06secrets", Reason.ZMTP_MALFORMED_COMMAND_HELLO),
        (b"\x05HELLO\x09admin", Reason.ZMTP_MALFORMED_COMMAND_HELLO),
        (b"\x08INITIATE", Reason.ZMTP_UNEXPECTED_COMMAND),
        (b"\x09", Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
    ],
)
def test_server_names_bad_hellos_like_libzmq(hello, reason):
    server = Connection("ROUTER", PlainServerMechanism())
    server.start(0.0)
    events, error = feed(server, greeting(b"PLAIN") + frame(4, hello))
    assert (events, error) == ([], reason)
    assert server.state is ConnectionState.CLOSED


def test_empty_credentials_are_a_valid_hello():
    server = Connection("ROUTER", PlainServerMechanism())
    server.start(0.0)
    [request] = server.receive_data(
        greeting(b"PLAIN") + frame(4, b"\x05HELLO\x00\x00"), 0.0
    )
    assert request.credentials == (b"", b"")


def test_server_wants_silence_while_deciding():
    client, server = _plain_pair()
    pipe(client, server, accept=False)
    _, error = feed(server, frame(4, b"\x08INITIATE"))
    assert error is Reason.ZMTP_UNEXPECTED_COMMAND


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x07WELCOMEx", Reason.ZMTP_MALFORMED_COMMAND_WELCOME),
        (b"\x05READY", Reason.ZMTP_UNEXPECTED_COMMAND),
        (b"\x05HELLO\x00\x00", Reason.ZMTP_UNEXPECTED_COMMAND),
        (b"\x05ERROR\x09400", Reason.ZMTP_MALFORMED_COMMAND_ERROR),
    ],
)
def test_client_names_bad_answers_like_libzmq(body, reason):
    client = Connection("DEALER", PlainClientMechanism(b"u", b"p"))
    client.start(0.0)
    _, error = feed(client, greeting(b"PLAIN") + frame(4, body))
    assert error is reason


def test_client_refuses_a_second_welcome_and_bad_ready_metadata():
    client = Connection("DEALER", PlainClientMechanism(b"u", b"p"))
    client.start(0.0)
    client.receive_data(greeting(b"PLAIN") + LIBZMQ_WELCOME, 0.0)
    _, error = feed(client, LIBZMQ_WELCOME)
    assert error is Reason.ZMTP_UNEXPECTED_COMMAND

    client = Connection("DEALER", PlainClientMechanism(b"u", b"p"))
    client.start(0.0)
    client.receive_data(greeting(b"PLAIN") + LIBZMQ_WELCOME, 0.0)
    _, error = feed(client, frame(4, b"\x05READY\x0bSocket-Type\x00\x00"))
    assert error is Reason.ZMTP_INVALID_METADATA


def test_server_refuses_an_incompatible_socket_type_before_ready():
    client, server = _plain_pair(client_type="PUB")
    pipe(client, server, accept=False)
    server.accept(b"u")
    client.receive_data(server.data_to_send(), 0.0)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive_data(client.data_to_send(), 0.0)
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA
    assert server.data_to_send() == b""  # no READY left


def test_credentials_are_checked_and_kept_out_of_reprs():
    mechanism = PlainClientMechanism(b"admin", b"hunter2")
    assert "hunter2" not in repr(mechanism)
    with pytest.raises(ValueError):
        PlainClientMechanism(b"x" * 256, b"")
    with pytest.raises(TypeError):
        PlainClientMechanism("admin", b"")


def test_accept_and_refuse_need_a_pending_request():
    client, server = _plain_pair()
    with pytest.raises(LocalProtocolError):
        server.accept()
    with pytest.raises(LocalProtocolError):
        client.refuse()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 9))
def test_arbitrary_bytes_give_events_or_a_protocol_error(data, chunk):
    for mechanism in (PlainServerMechanism(), PlainClientMechanism(b"u", b"p")):
        conn = Connection("ROUTER", mechanism)
        conn.start(0.0)
        events, _ = feed(conn, greeting(b"PLAIN") + data, chunk)
        assert all(
            isinstance(e, (AuthenticationRequested, ErrorReceived)) for e in events
        )


# -- NULL with authentication (a socket with a ZAP domain) ---------------------------


def test_null_with_authentication_holds_ready_until_accepted():
    conn = Connection("ROUTER", NullMechanism(authenticate=True))
    conn.start(0.0)
    assert conn.data_to_send() == greeting(b"NULL")  # no READY yet
    [request] = conn.receive_data(greeting(b"NULL"), 0.0)
    assert request == AuthenticationRequested("NULL")
    assert conn.state is ConnectionState.AUTHENTICATING

    # the peer's READY may come while we decide; it waits for the decision
    assert conn.receive_data(frame(4, ready(b"DEALER", b"x")), 0.0) == []
    [done] = conn.accept(b"anonymous", {"Zone": b"lab"})
    assert (done.user_id, done.identity, done.auth_metadata) == (
        b"anonymous",
        b"x",
        {"Zone": b"lab"},
    )
    [(_, body)] = split_frames(conn.data_to_send())
    assert body.startswith(b"\x05READY")
    assert conn.state is ConnectionState.ESTABLISHED


def test_null_with_authentication_accepts_before_the_peers_ready():
    conn = Connection("DEALER", NullMechanism(authenticate=True))
    conn.start(0.0)
    conn.receive_data(greeting(b"NULL"), 0.0)
    assert conn.accept(b"anonymous") == []
    assert conn.state is ConnectionState.HANDSHAKE
    [done] = conn.receive_data(frame(4, ready(b"ROUTER")), 0.0)
    assert done.user_id == b"anonymous"


def test_null_refusal_sends_error_and_closes():
    conn = Connection("DEALER", NullMechanism(authenticate=True))
    conn.start(0.0)
    conn.data_to_send()
    conn.receive_data(greeting(b"NULL"), 0.0)
    conn.refuse("400")
    assert conn.data_to_send() == frame(4, command(b"ERROR", b"\x03400"))
    assert conn.state is ConnectionState.CLOSED


def test_null_refuses_a_second_ready_and_a_bad_socket_type_at_accept():
    conn = Connection("DEALER", NullMechanism(authenticate=True))
    conn.start(0.0)
    conn.receive_data(greeting(b"NULL") + frame(4, ready(b"ROUTER")), 0.0)
    _, error = feed(conn, frame(4, ready(b"ROUTER")))
    assert error is Reason.ZMTP_UNEXPECTED_COMMAND

    conn = Connection("DEALER", NullMechanism(authenticate=True))
    conn.start(0.0)
    conn.receive_data(greeting(b"NULL") + frame(4, ready(b"PUB")), 0.0)
    with pytest.raises(RemoteProtocolError) as info:
        conn.accept()
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA
    assert conn.state is ConnectionState.CLOSED


def test_two_authenticating_null_peers_complete():
    a = Connection("DEALER", NullMechanism(authenticate=True))
    b = Connection("ROUTER", NullMechanism(authenticate=True))
    a.start(0.0)
    b.start(0.0)
    events_a, events_b = pipe(a, b)
    assert isinstance(events_a[-1], HandshakeCompleted)
    assert isinstance(events_b[-1], HandshakeCompleted)
