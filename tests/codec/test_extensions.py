"""The codec's extensions beyond libzmq: compact framing between two curvezmq peers,
the invalid-message budget of the drop policy, and the lean session handed out once
the handshake is over (docs/extensions.md)."""

from __future__ import annotations

import nacl.bindings as nb
import pytest

from curvezmq.codec import (
    FRAMING_PROPERTY,
    AuthenticationRequested,
    CurveClient,
    CurveServer,
    CurveServerKeys,
    CurveSession,
    CurveState,
    MessageReceived,
    MessageRejected,
    encode_metadata,
)
from curvezmq.crypto import get_backend
from curvezmq.errors import LocalProtocolError, Reason, RemoteProtocolError

from ._pipe import Pipe, ReplayRng, keypair

SEED = b"extensions"
REQ = encode_metadata({"Socket-Type": b"REQ"})
REP = encode_metadata({"Socket-Type": b"REP"})


def make(client=None, server=None, backend=None) -> Pipe:
    """A client and a server; ``client`` and ``server`` are keyword arguments for
    each codec."""
    backend = backend or get_backend()
    server_pair, client_pair = keypair(SEED + b" server"), keypair(SEED + b" client")
    keys = CurveServerKeys(
        server_pair.public,
        server_pair.secret,
        rng=ReplayRng(seed=SEED + b" keys"),
        backend=backend,
    )
    client = {"backend": backend, **(client or {})}
    server = {"backend": backend, **(server or {})}
    return Pipe(
        CurveClient(
            public_key=client_pair.public,
            secret_key=client_pair.secret,
            server_key=keys.public_key,
            metadata=REQ,
            rng=ReplayRng(seed=SEED + b" client rng"),
            **client,
        ),
        CurveServer(
            keys, metadata=REP, rng=ReplayRng(seed=SEED + b" server rng"), **server
        ),
    )


def both(**kwargs) -> dict:
    return {"client": dict(kwargs), "server": dict(kwargs)}


def shaken(**kwargs) -> Pipe:
    pipe = make(**kwargs)
    pipe.handshake()
    return pipe


# -- compact framing: negotiation ------------------------------------------------------


def test_compact_needs_an_offer_and_a_confirmation(backend):
    pipe = shaken(backend=backend, **both(compact=True))
    assert pipe.client.compact and pipe.server.compact
    [initiate] = pipe.bodies(b"INITIATE")
    [ready] = pipe.bodies(b"READY")
    # the property travels inside the boxes: 1 + 18 + 4 + 7 more bytes each
    assert len(initiate) == 257 + len(REQ) + 30
    assert len(ready) == 30 + len(REP) + 30
    # and is never reported: not to the policy, not to the application
    [request] = [
        e for e in pipe.server_events if isinstance(e, AuthenticationRequested)
    ]
    assert dict(request.metadata) == {"Socket-Type": b"REQ"}
    assert dict(pipe.server.peer_metadata) == {"Socket-Type": b"REQ"}
    assert dict(pipe.client.peer_metadata) == {"Socket-Type": b"REP"}


@pytest.mark.parametrize(
    "client, server",
    [(False, True), (True, False), (False, False)],
    ids=["server-only", "client-only", "neither"],
)
def test_compact_stays_off_unless_both_want_it(client, server):
    pipe = shaken(client={"compact": client}, server={"compact": server})
    assert not pipe.client.compact and not pipe.server.compact
    [ready] = pipe.bodies(b"READY")
    # a server that does not confirm sends exactly libzmq's READY
    assert len(ready) == 30 + len(REP)
    assert dict(pipe.server.peer_metadata) == {"Socket-Type": b"REQ"}
    [body] = pipe.client.send_message([b"standard"])
    assert bytes(body[:8]) == b"\x07MESSAGE" and len(body) == 8 + 33


def test_offer_lists_framings_and_the_server_picks_compact():
    pipe = make(server={"compact": True})
    # a client from the future offering two framings, ours second
    pipe.client._metadata = REQ + encode_metadata({FRAMING_PROPERTY: b"zstd, compact"})
    pipe.client._compact = True
    pipe.handshake()
    assert pipe.server.compact and pipe.client.compact


def test_a_confirmation_we_did_not_ask_for_ends_the_handshake():
    pipe = make(client={"compact": False}, server={"compact": True})
    pipe.client.start(0.0)
    pipe.flush()
    pipe.server._agreed_compact = True  # a server that confirms anyway
    pipe.server.accept()
    with pytest.raises(RemoteProtocolError) as info:
        pipe.flush()
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA
    assert "X-CurveZMQ-Framing" in str(info.value)
    assert pipe.client.state is CurveState.ERROR and pipe.client._key is None


def test_our_property_is_not_the_applications_to_send():
    pair = keypair(SEED)
    for metadata in (
        {FRAMING_PROPERTY: b"compact"},
        encode_metadata({"x-curvezmq-framing": b"compact"}),
    ):
        with pytest.raises(LocalProtocolError):
            CurveClient(
                public_key=pair.public,
                secret_key=pair.secret,
                server_key=pair.public,
                metadata=metadata,
            )


# -- compact framing: the bytes -----------------------------------------------------


def test_compact_message_is_the_standard_box_without_name_and_nonce(backend):
    pipe = shaken(backend=backend, **both(compact=True))
    key = bytes(pipe.client._key)
    bodies = pipe.client.send_message([b"first", b"", b"x" * 300])
    assert [len(b) for b in bodies] == [17 + 5, 17, 17 + 300]
    # nonces 3, 4, 5 as in standard framing (HELLO 1, INITIATE 2)
    for nonce, (flags, data), body in zip(
        (3, 4, 5), ((1, b"first"), (1, b""), (0, b"x" * 300)), bodies
    ):
        plain = nb.crypto_box_open_afternm(
            bytes(body), b"CurveZMQMESSAGEC" + nonce.to_bytes(8, "big"), key
        )
        assert plain == bytes((flags,)) + data
    events = [e for body in bodies for e in pipe.server.receive(body, 0.0)]
    assert [(bytes(e.data), e.more) for e in events] == [
        (b"first", True),
        (b"", True),
        (b"x" * 300, False),
    ]
    # the server's side: READY took 1, messages from 2; commands ride inside too
    [pong] = pipe.server.send_message([b"\x04PONG"], command=True)
    plain = nb.crypto_box_open_afternm(
        bytes(pong), b"CurveZMQMESSAGES" + (2).to_bytes(8, "big"), key
    )
    assert plain == b"\x02\x04PONG"
    [event] = pipe.client.receive(pong, 0.0)
    assert event.command and bytes(event.data) == b"\x04PONG"


def test_compact_receiver_refuses_a_lost_or_reordered_message():
    pipe = shaken(**both(compact=True))
    _first, second = pipe.client.send_message([b"one", b"two"])
    # the second alone: its nonce is not the one after the floor
    with pytest.raises(RemoteProtocolError) as info:
        pipe.server.receive(second, 0.0)
    assert info.value.reason is Reason.ZMTP_CRYPTOGRAPHIC
    assert pipe.server.state is CurveState.ERROR


def test_compact_flipped_byte_or_short_body_is_dropped_and_the_session_goes_on():
    pipe = shaken(**both(compact=True, drop_invalid=True))
    good = bytes(pipe.client.send_message([b"genuine"])[0])
    for index in (0, 15, 16, len(good) - 1):
        bad = bytearray(good)
        bad[index] ^= 0x40
        [event] = pipe.server.receive(bad, 0.0)
        assert event == MessageRejected(Reason.ZMTP_CRYPTOGRAPHIC)
    [event] = pipe.server.receive(good[:16], 0.0)
    assert event == MessageRejected(Reason.ZMTP_MALFORMED_COMMAND_MESSAGE)
    assert pipe.server.session.peer_nonce == 2
    [event] = pipe.server.receive(good, 0.0)
    assert bytes(event.data) == b"genuine" and pipe.server.session.peer_nonce == 3


# -- the invalid-message budget -----------------------------------------------------


def _forged(size: int = 20) -> bytes:
    return b"\x07MESSAGE" + (2**64 - 1).to_bytes(8, "big") + bytes(size)


def test_budget_allows_16_in_10_seconds_and_closes_on_the_17th():
    pipe = shaken(**both(drop_invalid=True))
    for count in range(1, 17):
        [event] = pipe.server.receive(_forged(), count * 0.1)
        assert isinstance(event, MessageRejected) and event.dropped == count
    [event] = pipe.c2s([b"still fine"])
    assert isinstance(event, MessageReceived)
    with pytest.raises(RemoteProtocolError) as info:
        pipe.server.receive(_forged(), 5.0)
    assert "more than 16 invalid MESSAGEs within 10 s" in str(info.value)
    assert info.value.reason is Reason.ZMTP_CRYPTOGRAPHIC
    assert pipe.server.state is CurveState.ERROR and pipe.server.session is None


def test_budget_window_slides_with_now():
    pipe = shaken(**both(drop_invalid=True, invalid_budget=2, invalid_window=1.0))
    # two per second forever is within a budget of 2 per second
    for step in range(20):
        [event] = pipe.server.receive(_forged(), step * 0.5)
        assert isinstance(event, MessageRejected)
    # a third within the same second is not
    with pytest.raises(RemoteProtocolError):
        pipe.server.receive(_forged(), 9.9)


@pytest.mark.parametrize("budget, closes_at", [(0, 1), (1, 2), (-1, None)])
def test_budget_zero_one_and_unlimited(budget, closes_at):
    pipe = shaken(**both(drop_invalid=True, invalid_budget=budget))
    for count in range(1, 40):
        if count == closes_at:
            with pytest.raises(RemoteProtocolError):
                pipe.server.receive(_forged(), 0.0)
            return
        [event] = pipe.server.receive(_forged(), 0.0)
        assert isinstance(event, MessageRejected)
    assert closes_at is None and pipe.server.session.dropped == 39


def test_budget_arguments_are_checked():
    with pytest.raises(ValueError):
        make(server={"invalid_budget": -2})
    with pytest.raises(ValueError):
        make(client={"invalid_window": 0})


# -- the session --------------------------------------------------------------------


class _Recorder:
    """A backend that remembers every bytearray box_open hands back."""

    def __init__(self, backend):
        self._backend = backend
        self.opened = []

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def box_open(self, *args):
        out = self._backend.box_open(*args)
        self.opened.append(out)
        return out


def test_client_wipes_c_prime_c_and_the_welcome_plaintext():
    recorder = _Recorder(get_backend())
    pipe = make(client={"backend": recorder})
    pipe.client.start(0.0)
    cn_secret, long_secret = pipe.client._cn_secret, pipe.client._secret_key
    pipe.flush()
    [welcome] = recorder.opened  # S' + cookie
    assert len(welcome) == 128 and welcome == bytearray(128)
    assert cn_secret == bytearray(32) and long_secret == bytearray(32)
    pipe.server.accept()
    pipe.flush()
    assert pipe.client.is_established


def test_session_holds_only_what_messages_need():
    pipe = shaken(**both(compact=True))
    for codec in (pipe.client, pipe.server):
        session = codec.session
        assert isinstance(session, CurveSession) and session.is_open
        assert not hasattr(session, "__dict__")
        # the codec and the session share one key buffer
        assert session._key is codec._key
    assert repr(pipe.client.session) == "<CurveSession client compact open>"
    assert (pipe.client.session.nonce, pipe.client.session.peer_nonce) == (3, 1)
    assert (pipe.server.session.nonce, pipe.server.session.peer_nonce) == (2, 2)


def test_a_session_outlives_its_codec_and_close_wipes_the_key():
    pipe = shaken(**both(compact=True))
    client, server = pipe.client.session, pipe.server.session
    del pipe
    key = client._key
    [body] = client.send_message([b"no codec needed"])
    [event] = server.receive(body, 0.0)
    assert bytes(event.data) == b"no codec needed"
    client.close()
    assert key == bytearray(32) and not client.is_open
    with pytest.raises(LocalProtocolError):
        client.send_message([b"after close"])
    server.close()
    with pytest.raises(RemoteProtocolError):
        server.receive(body, 0.0)
