"""A client codec piped into a server codec: the handshake, messages both ways, the
bytes and nonces on the wire, the states, and what each side keeps in memory."""

from __future__ import annotations

import logging

import pytest

from curvezmq import z85
from curvezmq.codec import (
    HELLO_SIZE,
    INITIATE_MIN_SIZE,
    WELCOME_SIZE,
    AuthenticationRequested,
    CurveClient,
    CurveServer,
    CurveServerKeys,
    CurveState,
    HandshakeCompleted,
    MessageReceived,
    encode_metadata,
)
from curvezmq.errors import InvalidKeyError, LocalProtocolError, RemoteProtocolError

from ._pipe import ReplayRng, established, keypair, make_pipe

DEALER_METADATA = encode_metadata([("Socket-Type", b"DEALER"), ("Identity", b"")])
ROUTER_METADATA = encode_metadata([("Socket-Type", b"ROUTER"), ("Identity", b"")])


def _nonce(body: bytes, offset: int) -> int:
    return int.from_bytes(body[offset : offset + 8], "big")


def test_handshake_reaches_established_on_both_sides(backend):
    pipe = make_pipe(
        client_metadata=DEALER_METADATA,
        server_metadata=ROUTER_METADATA,
        backend=backend,
    )
    assert pipe.client.state is CurveState.IDLE
    assert pipe.server.state is CurveState.WAIT_HELLO

    pipe.client.start(0.0)
    assert pipe.client.state is CurveState.WAIT_WELCOME
    pipe.flush()
    assert pipe.client.state is CurveState.WAIT_READY
    assert pipe.server.state is CurveState.WAIT_DECISION
    [request] = pipe.server_events
    assert request == AuthenticationRequested(
        pipe.client._public_key, {"Socket-Type": b"DEALER", "Identity": b""}
    )
    assert not pipe.client.is_established and not pipe.server.is_established

    completed = pipe.server.accept(b"alice")
    assert completed == [
        HandshakeCompleted({"Socket-Type": b"DEALER", "Identity": b""}, b"alice")
    ]
    assert pipe.server.is_established
    pipe.flush()
    assert pipe.client_events == [
        HandshakeCompleted({"Socket-Type": b"ROUTER", "Identity": b""}, b"")
    ]
    assert pipe.client.is_established
    assert pipe.client.peer_metadata["socket-type"] == b"ROUTER"
    assert pipe.server.peer_metadata["SOCKET-TYPE"] == b"DEALER"
    assert pipe.server.client_key == pipe.client._public_key
    assert pipe.server.user_id == b"alice"


def test_handshake_bodies_have_libzmq_sizes_and_layout():
    pipe = make_pipe(client_metadata=DEALER_METADATA, server_metadata=ROUTER_METADATA)
    pipe.handshake()
    [hello] = pipe.bodies(b"HELLO")
    [welcome] = pipe.bodies(b"WELCOME")
    [initiate] = pipe.bodies(b"INITIATE")
    [ready] = pipe.bodies(b"READY")

    assert len(hello) == HELLO_SIZE == 200
    assert hello[:8] == b"\x05HELLO\x01\x00"
    assert hello[8:80] == bytes(72)
    assert hello[80:112] == pipe.client._cn_public
    assert len(welcome) == WELCOME_SIZE == 168
    assert welcome[:8] == b"\x07WELCOME"
    # a libzmq DEALER with an empty identity sends a 292-byte INITIATE
    assert len(initiate) == INITIATE_MIN_SIZE + len(DEALER_METADATA) == 292
    assert initiate[:9] == b"\x08INITIATE"
    assert len(ready) == 30 + len(ROUTER_METADATA) == 65
    assert ready[:6] == b"\x05READY"


def test_short_nonces_are_numbered_like_libzmq():
    pipe = established()
    [hello] = pipe.bodies(b"HELLO")
    [initiate] = pipe.bodies(b"INITIATE")
    [ready] = pipe.bodies(b"READY")
    # client: HELLO 1, INITIATE 2, messages 3, 4, ...; server: READY 1, messages 2, ...
    assert hello[112:120] == (1).to_bytes(8, "big")
    assert initiate[105:113] == (2).to_bytes(8, "big")
    assert ready[6:14] == (1).to_bytes(8, "big")

    c2s = pipe.client.send_message([b"a", b"b"]) + pipe.client.send_message([b"c"])
    s2c = pipe.server.send_message([b"x"]) + pipe.server.send_message([b"y", b"z"])
    assert [_nonce(b, 8) for b in c2s] == [3, 4, 5]
    assert [_nonce(b, 8) for b in s2c] == [2, 3, 4]
    assert all(bytes(b[:8]) == b"\x07MESSAGE" for b in c2s + s2c)
    for body in c2s:
        [event] = pipe.server.receive(body, 0.0)
        assert isinstance(event, MessageReceived)
    for body in s2c:
        [event] = pipe.client.receive(body, 0.0)
        assert isinstance(event, MessageReceived)


def test_messages_flow_both_ways_with_more_flags(backend):
    pipe = established(backend=backend)
    events = pipe.c2s([b"first", b"", b"last" * 100])
    assert [(bytes(e.data), e.more, e.command) for e in events] == [
        (b"first", True, False),
        (b"", True, False),
        (b"last" * 100, False, False),
    ]
    events = pipe.s2c([b"reply"])
    assert [(bytes(e.data), e.more, e.command) for e in events] == [
        (b"reply", False, False)
    ]
    big = bytes(range(256)) * 300
    [event] = pipe.c2s([memoryview(big)])
    assert event.data == big and len(pipe.transcript[-1][1]) == len(big) + 33


def test_commands_ride_inside_the_box_with_inner_flag_0x02():
    pipe = established()
    ping = b"\x04PING\x00\x0f"
    [body] = pipe.client.send_message([ping], command=True)
    # what libzmq decrypts: flags 02 then the ZMTP command body
    key = pipe.client._key
    plain = pipe.client._backend.box_open_afternm(
        body[16:], b"CurveZMQMESSAGEC" + bytes(body[8:16]), key
    )
    assert plain == b"\x02" + ping
    [event] = pipe.server.receive(body, 0.0)
    assert (bytes(event.data), event.more, event.command) == (ping, False, True)

    events = pipe.s2c([b"\x04PONG"], command=True)
    assert [(bytes(e.data), e.command) for e in events] == [(b"\x04PONG", True)]


def test_reserved_inner_flag_bits_are_ignored():
    pipe = established()
    backend = pipe.server._backend
    body = backend.message_seal(
        b"CurveZMQMESSAGEC", 3, 0x80 | 0x01, b"x", pipe.client._key
    )
    [event] = pipe.server.receive(body, 0.0)
    assert (bytes(event.data), event.more, event.command) == (b"x", True, False)


def test_nonce_gaps_are_accepted_like_libzmq():
    pipe = established()
    backend = pipe.server._backend
    key = pipe.client._key
    for nonce in (3, 100, 2**40):
        body = backend.message_seal(b"CurveZMQMESSAGEC", nonce, 0, b"gap", key)
        [event] = pipe.server.receive(body, 0.0)
        assert bytes(event.data) == b"gap"


def test_message_data_is_a_read_only_view():
    pipe = established()
    [event] = pipe.c2s([b"payload"])
    assert isinstance(event.data, memoryview) and event.data.readonly


def test_keys_are_accepted_in_every_form():
    client_pair = keypair(b"forms client")
    server_pair = keypair(b"forms server")
    z85_public = z85.encode(client_pair.public)
    keys = CurveServerKeys(
        z85.encode(server_pair.public).decode(), z85.encode(server_pair.secret) + b"\0"
    )
    client = CurveClient(
        public_key=z85_public.decode(),
        secret_key=bytearray(client_pair.secret),
        server_key=z85.encode(server_pair.public) + b"\0",
    )
    server = CurveServer(keys)
    from ._pipe import Pipe

    pipe = Pipe(client, server)
    pipe.handshake()
    assert server.client_key == client_pair.public


def test_mismatched_key_pairs_are_refused():
    one, two = keypair(b"one"), keypair(b"two")
    with pytest.raises(InvalidKeyError):
        CurveClient(public_key=one.public, secret_key=two.secret, server_key=two.public)
    with pytest.raises(InvalidKeyError):
        CurveServerKeys(one.public, two.secret)
    with pytest.raises(InvalidKeyError):
        CurveClient(public_key=b"short", secret_key=one.secret, server_key=two.public)


def test_client_start_twice_is_a_local_error():
    pipe = make_pipe()
    pipe.client.start(0.0)
    with pytest.raises(LocalProtocolError):
        pipe.client.start(0.0)
    assert pipe.client.state is CurveState.WAIT_WELCOME


def test_calls_the_state_forbids_are_local_errors():
    pipe = make_pipe()
    with pytest.raises(LocalProtocolError):
        pipe.client.send_message([b"too early"])
    with pytest.raises(LocalProtocolError):
        pipe.server.accept()
    with pytest.raises(LocalProtocolError):
        pipe.server.refuse()
    pipe.client.start(0.0)
    pipe.flush()
    with pytest.raises(LocalProtocolError):
        pipe.server.send_message([b"before READY"])
    with pytest.raises(LocalProtocolError):
        pipe.server.refuse("not\nprintable")
    with pytest.raises(LocalProtocolError):
        pipe.server.accept(metadata=b"\x00")
    assert pipe.server.state is CurveState.WAIT_DECISION
    pipe.server.accept()
    pipe.flush()
    with pytest.raises(LocalProtocolError):
        pipe.client.send_message([])
    with pytest.raises(TypeError):
        pipe.client.send_message(b"not a list")
    with pytest.raises(LocalProtocolError):
        pipe.server.accept()


def test_own_metadata_is_checked():
    pair = keypair(b"md")
    with pytest.raises(LocalProtocolError):
        CurveClient(
            public_key=pair.public,
            secret_key=pair.secret,
            server_key=pair.public,
            metadata=b"\x05Socket",
        )
    client = CurveClient(
        public_key=pair.public,
        secret_key=pair.secret,
        server_key=pair.public,
        metadata={"Socket-Type": "REQ"},
    )
    assert client._metadata == encode_metadata({"Socket-Type": b"REQ"})


def test_send_message_refuses_to_reuse_an_exhausted_counter():
    pipe = established()
    pipe.client.session._nonce = 2**64 - 1
    with pytest.raises(LocalProtocolError):
        pipe.client.send_message([b"a", b"b"])
    [body] = pipe.client.send_message([b"last"])
    assert _nonce(body, 8) == 2**64 - 1
    with pytest.raises(LocalProtocolError):
        pipe.client.send_message([b"one more"])


def test_accept_may_override_the_server_metadata():
    pipe = make_pipe(server_metadata=ROUTER_METADATA)
    pipe.handshake(user_id="bob", metadata={"Socket-Type": b"REP", "X-Extra": b"1"})
    assert pipe.client.peer_metadata == {"Socket-Type": b"REP", "X-Extra": b"1"}
    assert pipe.server.user_id == b"bob"


def test_refuse_sends_error_and_the_client_stops():
    pipe = make_pipe()
    pipe.client.start(0.0)
    pipe.flush()
    pipe.server.refuse("400")
    assert pipe.server.state is CurveState.ERROR
    [error] = pipe.server.data_to_send()
    assert error == b"\x05ERROR\x03400"
    [event] = pipe.client.receive(error, 0.0)
    assert event.reason == "400"
    assert pipe.client.state is CurveState.ERROR
    assert pipe.client._key is None


# -- what each side holds ------------------------------------------------------------


def test_server_holds_no_key_before_hello_nor_between_welcome_and_initiate():
    rng = ReplayRng()
    pipe = make_pipe(server_rng=rng)
    server = pipe.server
    assert server._key is None and rng.calls == []

    pipe.client.start(0.0)
    [hello] = pipe.client.data_to_send()
    # a HELLO that does not open makes the server draw no randomness at all
    bad = make_pipe(server_rng=ReplayRng())
    forged = hello[:150] + bytes([hello[150] ^ 1]) + hello[151:]
    with pytest.raises(RemoteProtocolError):
        bad.server.receive(forged, 0.0)
    assert bad.server._rng.calls == []

    before = dict(vars(server))
    server.receive(hello, 0.0)
    assert len(server.data_to_send()) == 1
    before["_pending"] = []
    # s' (32), cookie nonce (16), WELCOME nonce (16), then nothing kept but the state
    assert rng.calls == [32, 16, 16]
    assert server.state is CurveState.WAIT_INITIATE
    changed = {name for name, value in vars(server).items() if before[name] != value}
    assert changed == {"_state"}
    assert server._key is None and server._client_key is None


def test_client_wipes_short_secret_after_welcome_and_long_secret_after_vouch():
    pipe = make_pipe()
    pipe.client.start(0.0)
    cn_secret = pipe.client._cn_secret
    long_secret = pipe.client._secret_key
    assert any(cn_secret) and any(long_secret)
    pipe.flush()
    assert pipe.client.state is CurveState.WAIT_READY
    assert cn_secret == bytearray(32) and pipe.client._cn_secret is None
    assert long_secret == bytearray(32) and pipe.client._secret_key is None


def test_server_wipes_short_secret_after_sealing_the_cookie(monkeypatch):
    pipe = make_pipe()
    seen = []
    real = pipe.server._keys._mint_cookie

    def spy(cn_client, cn_secret, tail, now, binding=b""):
        seen.append(cn_secret)
        return real(cn_client, cn_secret, tail, now, binding)

    monkeypatch.setattr(pipe.server._keys, "_mint_cookie", spy)
    pipe.client.start(0.0)
    pipe.flush()
    [cn_secret] = seen
    assert isinstance(cn_secret, bytearray) and cn_secret == bytearray(32)


def test_close_wipes_the_session_key_and_is_terminal():
    pipe = established()
    client_key, server_key = pipe.client._key, pipe.server._key
    assert client_key == server_key and any(client_key)
    pipe.client.close()
    pipe.server.close()
    assert client_key == bytearray(32) and server_key == bytearray(32)
    assert pipe.client.state is CurveState.CLOSED and pipe.client.state.is_terminal
    with pytest.raises(LocalProtocolError):
        pipe.client.send_message([b"after close"])
    with pytest.raises(RemoteProtocolError):
        pipe.server.receive(b"\x07MESSAGE" + bytes(30), 0.0)
    assert pipe.server.state is CurveState.CLOSED
    pipe.client.close()


def test_server_keys_close_wipes_everything():
    pipe = established()
    keys = pipe.server._keys
    secret = keys._secret_key
    minute_key = keys._generations[-1].key
    keys.close()
    assert secret == bytearray(32) and minute_key == bytearray(32)
    fresh = make_pipe(keys=keys)
    fresh.client.start(0.0)
    [hello] = fresh.client.data_to_send()
    with pytest.raises(LocalProtocolError):
        fresh.server.receive(hello, 0.0)


def test_reprs_show_state_and_public_keys_only():
    pipe = established()
    secrets = [
        bytes(pipe.client._key),
        keypair(b"pipe client").secret,
        keypair(b"pipe server").secret,
        bytes(pipe.server._keys._generations[-1].key),
    ]
    texts = [repr(pipe.client), repr(pipe.server), repr(pipe.server._keys)]
    assert "ESTABLISHED" in texts[0] and "ESTABLISHED" in texts[1]
    assert z85.encode(pipe.server._keys.public_key).decode() in texts[1]
    for text in texts:
        for secret in secrets:
            assert secret.hex() not in text
            assert z85.encode(secret).decode() not in text


def test_logging_is_debug_only_and_never_shows_secrets(caplog):
    caplog.set_level(logging.DEBUG, logger="curvezmq.codec")
    pipe = established()
    pipe.c2s([b"x"])
    with pytest.raises(RemoteProtocolError):
        pipe.server.receive(b"\x05HELLO" + bytes(194), 0.0)
    records = [r for r in caplog.records if r.name == "curvezmq.codec"]
    assert records and all(r.levelno == logging.DEBUG for r in records)
    text = "\n".join(r.getMessage() for r in records)
    for secret in (keypair(b"pipe client").secret, keypair(b"pipe server").secret):
        assert z85.encode(secret).decode() not in text and secret.hex() not in text


def test_logger_can_be_injected():
    logger = logging.getLogger("test.codec.injected")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger.addHandler(Keep())
    logger.setLevel(logging.DEBUG)
    pair = keypair(b"log")
    client = CurveClient(
        public_key=pair.public,
        secret_key=pair.secret,
        server_key=pair.public,
        logger=logger,
    )
    client.start(0.0)
    assert records and "HELLO" in records[0].getMessage()


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_bodies_may_be_any_bytes_like_object(kind):
    pipe = make_pipe(client_metadata=DEALER_METADATA)
    pipe.client.start(0.0)
    pipe.server.receive(kind(pipe.client.data_to_send()[0]), 0.0)
    pipe.client.receive(kind(pipe.server.data_to_send()[0]), 0.0)
    [event] = pipe.server.receive(kind(pipe.client.data_to_send()[0]), 0.0)
    assert event.metadata == {"Socket-Type": b"DEALER", "Identity": b""}
    pipe.server.accept()
    pipe.client.receive(kind(pipe.server.data_to_send()[0]), 0.0)
    [body] = pipe.client.send_message([b"x"])
    [event] = pipe.server.receive(kind(body), 0.0)
    assert event.data == b"x"
    with pytest.raises(RemoteProtocolError):
        pipe.server.receive(kind(b"\x05HELLO" + bytes(194)), 0.0)


def test_a_low_order_server_key_is_refused_at_start():
    from ..conftest import load_vectors

    low = bytes.fromhex(load_vectors("x25519")["low_order_point"])
    pair = keypair(b"low")
    client = CurveClient(public_key=pair.public, secret_key=pair.secret, server_key=low)
    with pytest.raises(InvalidKeyError):
        client.start(0.0)
    assert client.state is CurveState.ERROR and client.data_to_send() == []
