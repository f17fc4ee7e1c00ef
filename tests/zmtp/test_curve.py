"""CURVE over ZMTP: two connections piped in memory, MESSAGE framing as libzmq does
it, limits on handshake frames and on the plaintext of messages."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvezmq import curve_keypair
from curvezmq.codec import CurveServer, CurveServerKeys
from curvezmq.errors import (
    LimitError,
    LocalProtocolError,
    Reason,
    RemoteProtocolError,
)
from curvezmq.zmtp import (
    AuthenticationRequested,
    CommandReceived,
    Connection,
    ConnectionState,
    CurveClientMechanism,
    CurveServerMechanism,
    ErrorReceived,
    HandshakeCompleted,
    MessageDropped,
    MessageReceived,
)

from ._util import (
    LIBZMQ_CURVE_GREETING,
    command,
    feed,
    frame,
    greeting,
    pipe,
    split_frames,
)

# fixed keys (PROTOCOL.md section 8) for tests that replay or build many sessions
_FIXED_SERVER = (
    "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
    "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
)
_FIXED_CLIENT = (
    "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID",
    "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
    _FIXED_SERVER[0],
)


@pytest.fixture(scope="module")
def keys():
    server_public, server_secret = curve_keypair()
    client_public, client_secret = curve_keypair()
    return {
        "server": CurveServerKeys(server_public, server_secret),
        "client": (client_public, client_secret, server_public),
    }


def _pair(keys, client_type="DEALER", server_type="ROUTER", **kwargs):
    client = Connection(client_type, CurveClientMechanism(*keys["client"]), **kwargs)
    server = Connection(server_type, CurveServerMechanism(keys["server"]), **kwargs)
    client.start(0.0)
    server.start(0.0)
    return client, server


def _established(keys, **kwargs):
    client, server = _pair(keys, **kwargs)
    pipe(client, server)
    assert client.state is server.state is ConnectionState.ESTABLISHED
    return client, server


def test_greetings_and_hello_queued_at_start(keys):
    client, server = _pair(keys)
    sent = client.data_to_send()
    assert sent[:64] == greeting(b"CURVE", as_server=0)
    # HELLO: a 200-byte command frame right behind the greeting
    assert sent[64:66] == b"\x04\xc8" and sent[66:72] == b"\x05HELLO"
    assert len(sent) == 64 + 2 + 200
    assert server.data_to_send() == greeting(b"CURVE", as_server=1)


def test_dealer_router_handshake_and_multipart(keys):
    client, server = _pair(keys, identity=b"cid")
    events_client, events_server = pipe(client, server, accept=False)
    assert events_client == []
    [request] = events_server
    assert isinstance(request, AuthenticationRequested)
    assert request.metadata["Socket-Type"] == b"DEALER"
    assert server.state is ConnectionState.AUTHENTICATING

    [done] = server.accept(b"alice", {"X-Role": b"admin"})
    assert done == HandshakeCompleted(
        request.metadata, b"alice", "DEALER", b"cid", {"X-Role": b"admin"}
    )
    events_client, _ = pipe(client, server)
    [done] = events_client
    assert isinstance(done, HandshakeCompleted)
    assert (done.socket_type, done.identity, done.user_id) == ("ROUTER", b"cid", b"")

    client.send_message([b"", b"hello", b"x" * 1000])
    server.send_message([b"back"])
    events_client, events_server = pipe(client, server)
    assert events_server == [MessageReceived([b"", b"hello", b"x" * 1000])]
    assert events_client == [MessageReceived([b"back"])]


def test_req_rep(keys):
    client, server = _established(keys, client_type="REQ", server_type="REP")
    client.send_message([b"", b"ping?"])
    assert pipe(client, server)[1] == [MessageReceived([b"", b"ping?"])]


def test_message_travels_in_data_frames_with_inner_flags(keys):
    client, server = _established(keys)
    client.send_message([b"a", b"b" * 300])
    out = client.data_to_send()
    # outer flags 0x00 for a 34-byte MESSAGE, 0x02 (LONG only) for a 333-byte one
    assert out[:2] == b"\x00\x22" and out[2:10] == b"\x07MESSAGE"
    second = out[2 + 34 :]
    assert second[:1] == b"\x02"
    assert struct.unpack(">Q", second[1:9])[0] == 333
    assert server.receive_data(out, 0.0) == [MessageReceived([b"a", b"b" * 300])]


@pytest.mark.parametrize("outer", [0x01, 0x04, 0x05, 0xF8])
def test_outer_flags_of_a_message_are_ignored(keys, outer):
    client, server = _established(keys)
    client.send_message([b"payload"])
    out = bytearray(client.data_to_send())
    out[0] = outer
    assert server.receive_data(bytes(out), 0.0) == [MessageReceived([b"payload"])]


def test_ping_inside_the_box_answered_with_pong(keys):
    client, server = _established(keys)
    client.send_command("PING", b"\x00\x0f" + b"c" * 20)
    assert server.receive_data(client.data_to_send(), 0.0) == []
    [(flags, body)] = split_frames(server.data_to_send())
    assert flags == 0x00
    # open it with the client's codec: a sealed command echoing 16 context bytes
    [pong] = client._codec.receive(body, 0.0)
    assert pong.command and not pong.more
    assert bytes(pong.data) == command(b"PONG", b"c" * 16)


def test_pong_swallowed_by_the_connection(keys):
    client, server = _established(keys)
    client.send_command("PING", b"\x00\x00ctx")
    assert pipe(client, server) == ([], [])
    assert client.state is server.state is ConnectionState.ESTABLISHED


def test_subscribe_inside_the_box(keys):
    client, server = _established(keys, client_type="SUB", server_type="XPUB")
    client.send_command(b"SUBSCRIBE", b"news")
    client.send_command(b"CANCEL", b"news")
    client.send_command(b"NOSUCH", b"x")
    assert pipe(client, server)[1] == [
        CommandReceived("SUBSCRIBE", b"news"),
        CommandReceived("CANCEL", b"news"),
    ]


def test_short_ping_inside_the_box_ignored(keys):
    client, server = _established(keys)
    client.send_command(b"PING", b"\x00")
    server.receive_data(client.data_to_send(), 0.0)
    assert server.data_to_send() == b""
    assert server.state is ConnectionState.ESTABLISHED


def test_incompatible_socket_types_refused_on_both_sides(keys):
    # the server refuses before asking the application
    client, server = _pair(keys, client_type="PUSH", server_type="PUSH")
    with pytest.raises(RemoteProtocolError) as info:
        pipe(client, server)
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA
    assert server.state is ConnectionState.CLOSED
    assert server.data_to_send() == b""  # silent close, as libzmq


def test_client_refuses_a_wrong_server_type(keys):
    # the table is symmetric, so a server of the wrong type is a bare codec that
    # announces PUSH to a DEALER client
    client = Connection("DEALER", CurveClientMechanism(*keys["client"]))
    client.start(0.0)
    codec = CurveServer(keys["server"], metadata={"Socket-Type": b"PUSH"})
    sent = client.data_to_send()
    [(_, hello)] = split_frames(sent[64:])
    codec.receive(hello, 0.0)
    [welcome] = codec.data_to_send()
    client.receive_data(greeting(b"CURVE") + frame(4, welcome), 0.0)
    [(_, initiate)] = split_frames(client.data_to_send())
    codec.receive(initiate, 0.0)
    codec.accept()
    [ready] = codec.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        client.receive_data(frame(4, ready), 0.0)
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA
    assert client.state is ConnectionState.CLOSED


def test_refuse_sends_error_and_the_client_reports_it(keys):
    client, server = _pair(keys)
    _, events_server = pipe(client, server, accept=False)
    assert isinstance(events_server[0], AuthenticationRequested)
    server.refuse("400")
    assert server.state is ConnectionState.CLOSED
    error = server.data_to_send()
    assert error == frame(4, command(b"ERROR", b"\x03400"))
    assert client.receive_data(error, 0.0) == [ErrorReceived("400")]
    assert client.state is ConnectionState.CLOSED
    with pytest.raises(LocalProtocolError):
        server.accept()


def test_nothing_may_arrive_while_the_server_decides(keys):
    client, server = _pair(keys)
    pipe(client, server, accept=False)
    with pytest.raises(LimitError):
        server.receive_data(b"\x00\x01x", 0.0)
    client, server = _pair(keys)
    pipe(client, server, accept=False)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive_data(b"\x04\x00", 0.0)
    assert info.value.reason is Reason.ZMTP_UNEXPECTED_COMMAND


def test_two_to_the_31_before_hello_refused_on_the_header(keys):
    server = Connection("ROUTER", CurveServerMechanism(keys["server"]))
    server.start(0.0)
    server.receive_data(LIBZMQ_CURVE_GREETING, 0.0)
    with pytest.raises(LimitError) as info:
        server.receive_data(b"\x06" + struct.pack(">Q", 2**31), 0.0)
    assert info.value.reason is Reason.ZMTP_MALFORMED_COMMAND_HELLO
    assert "HELLO" in str(info.value) and "200" in str(info.value)
    assert server.state is ConnectionState.CLOSED
    assert len(server._buf) == 0


def test_hello_must_be_exactly_200(keys):
    server = Connection("ROUTER", CurveServerMechanism(keys["server"]))
    server.start(0.0)
    server.receive_data(greeting(b"CURVE"), 0.0)
    with pytest.raises(LimitError):
        server.receive_data(b"\x04\xc9", 0.0)
    server = Connection("ROUTER", CurveServerMechanism(keys["server"]))
    server.start(0.0)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive_data(greeting(b"CURVE") + frame(4, b"\x05HELLO" + bytes(193)), 0)
    assert not isinstance(info.value, LimitError)


def test_handshake_limits_follow_the_expected_command(keys):
    client, server = _pair(keys, max_metadata=100)
    # server: INITIATE up to 257 + 100
    server.receive_data(client.data_to_send(), 0.0)
    assert server._limit == 357
    # client: WELCOME or an ERROR of up to 262 bytes
    assert client._limit == 0
    client.receive_data(server.data_to_send()[:64], 0.0)
    assert client._limit == 262
    client.receive_data(server.data_to_send(), 0.0)
    assert client._limit == 262  # READY 30 + 100 is below an ERROR's 262


def test_client_refuses_an_oversized_welcome_header(keys):
    client, _ = _pair(keys)
    client.receive_data(greeting(b"CURVE"), 0.0)
    with pytest.raises(LimitError):
        # 263: more than a WELCOME (168) or the longest ERROR (262)
        client.receive_data(b"\x06" + struct.pack(">Q", 263), 0.0)
    assert client.state is ConnectionState.CLOSED


def test_max_message_size_is_on_the_plaintext(keys):
    client, server = _established(keys, max_message_size=100)
    client.send_message([b"x" * 100])
    assert pipe(client, server)[1] == [MessageReceived([b"x" * 100])]
    client.send_message([b"x" * 101])
    out = client.data_to_send()
    # the header alone (134 = 101 + 33) is enough to refuse
    assert out[:2] == b"\x00\x86"
    with pytest.raises(LimitError) as info:
        server.receive_data(out[:2], 0.0)
    assert "101" in str(info.value)
    assert server.state is ConnectionState.CLOSED


def test_handshake_limits_do_not_apply_max_message_size(keys):
    # unlike libzmq's MAXMSGSIZE, a tiny message limit does not break the handshake
    client, server = _established(keys, max_message_size=1)
    client.send_message([b"x"])
    assert pipe(client, server)[1] == [MessageReceived([b"x"])]


def test_tampered_message_closes(keys):
    client, server = _established(keys)
    client.send_message([b"secret"])
    out = bytearray(client.data_to_send())
    out[-1] ^= 1
    with pytest.raises(RemoteProtocolError) as info:
        server.receive_data(bytes(out), 0.0)
    assert info.value.reason is Reason.ZMTP_CRYPTOGRAPHIC
    assert server.state is ConnectionState.CLOSED


def test_drop_invalid_keeps_the_session(keys):
    client = Connection("DEALER", CurveClientMechanism(*keys["client"]))
    server = Connection(
        "ROUTER", CurveServerMechanism(keys["server"], drop_invalid=True)
    )
    client.start(0.0)
    server.start(0.0)
    pipe(client, server)
    client.send_message([b"bad"])
    out = bytearray(client.data_to_send())
    out[-1] ^= 1
    [dropped] = server.receive_data(bytes(out), 0.0)
    assert isinstance(dropped, MessageDropped) and dropped.dropped == 1
    assert dropped.reason is Reason.ZMTP_CRYPTOGRAPHIC
    client.send_message([b"good"])
    assert pipe(client, server)[1] == [MessageReceived([b"good"])]


def test_curve_refuses_a_null_peer(keys):
    client, _ = _pair(keys)
    with pytest.raises(RemoteProtocolError) as info:
        client.receive_data(greeting(b"NULL"), 0.0)
    assert info.value.reason is Reason.ZMTP_MECHANISM_MISMATCH


def _replayable_run(chunk: int):
    """A whole CURVE session with seeded randomness, the server fed in chunks;
    returns the server's events."""
    rngs = [random.Random(seed).randbytes for seed in (1, 2, 3)]
    server_keys = CurveServerKeys(*_FIXED_SERVER, rng=rngs[0])
    client = Connection(
        "DEALER", CurveClientMechanism(*_FIXED_CLIENT, rng=rngs[1]), identity=b"id"
    )
    server = Connection("ROUTER", CurveServerMechanism(server_keys, rng=rngs[2]))
    client.start(0.0)
    server.start(0.0)
    events = []
    for _ in range(3):
        data = client.data_to_send()
        new, error = feed(server, data, chunk)
        assert error is None
        events += new
        if any(isinstance(e, AuthenticationRequested) for e in new):
            events += server.accept(b"user")
        client.receive_data(server.data_to_send(), 0.0)
    client.send_message([b"a", b"b"])
    client.send_command("PING", b"\x00\x00")
    client.send_command("SUBSCRIBE", b"t")
    client.send_message([b"c" * 400])
    new, error = feed(server, client.data_to_send(), chunk)
    assert server.data_to_send()  # the PONG
    return events + new, error


def test_fed_whole_or_byte_by_byte():
    whole = _replayable_run(0)
    assert [type(e) for e in whole[0]] == [
        AuthenticationRequested,
        HandshakeCompleted,
        MessageReceived,
        CommandReceived,
        MessageReceived,
    ]
    assert _replayable_run(1) == whole
    assert _replayable_run(7) == whole


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 9))
def test_arbitrary_bytes_to_a_curve_server(data, chunk):
    server = Connection("ROUTER", CurveServerMechanism(CurveServerKeys(*_FIXED_SERVER)))
    server.start(0.0)
    events, _ = feed(server, greeting(b"CURVE") + data, chunk)
    assert events == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=4), st.integers(0, 9))
def test_arbitrary_frames_to_an_established_curve_server(bodies, chunk):
    client = Connection("DEALER", CurveClientMechanism(*_FIXED_CLIENT))
    server = Connection("ROUTER", CurveServerMechanism(CurveServerKeys(*_FIXED_SERVER)))
    client.start(0.0)
    server.start(0.0)
    pipe(client, server)
    data = b"".join(frame(0, b"\x07MESSAGE" + body) for body in bodies)
    events, _ = feed(server, data, chunk)
    assert events == []


def test_mechanism_serves_one_connection(keys):
    mechanism = CurveServerMechanism(keys["server"])
    Connection("ROUTER", mechanism)
    with pytest.raises(ValueError):
        Connection("ROUTER", mechanism)
