"""ZMTP connections in memory with curvezmq's extensions: compact framing on the
wire, the invalid-message policy and its budget, and lean sessions (after READY a
connection references no short-term secret, no cookie, no long-term secret copy)."""

from __future__ import annotations

import gc
import logging
import types

import pytest

from curvezmq import curve_keypair
from curvezmq.codec import CurveServerKeys
from curvezmq.crypto import Backend, get_backend
from curvezmq.errors import LimitError, Reason
from curvezmq.keys import key_bytes
from curvezmq.zmtp import (
    CommandReceived,
    Connection,
    ConnectionState,
    CurveClientMechanism,
    CurveServerMechanism,
    MessageDropped,
    MessageReceived,
)

from ._util import feed, frame, pipe, split_frames


class Draws:
    """The backend's CSPRNG, remembering every draw; handed to mechanisms as a
    plain function so that no connection can reach the record."""

    def __init__(self):
        self.backend = get_backend()
        self.draws: list[bytes] = []

    def rng(self):
        def rng(size: int) -> bytes:
            out = self.backend.random(size)
            self.draws.append(out)
            return out

        return rng


def _pair(compact=True, drop_invalid=False, invalid_budget=16, draws=None, **kwargs):
    server_public, server_secret = curve_keypair()
    client_public, client_secret = curve_keypair()
    keys = CurveServerKeys(server_public, server_secret)
    options = {"drop_invalid": drop_invalid, "invalid_budget": invalid_budget}
    client_mech = CurveClientMechanism(
        client_public,
        client_secret,
        server_public,
        compact=compact,
        rng=draws.rng() if draws else None,
        **options,
    )
    server_mech = CurveServerMechanism(
        keys, compact=compact, rng=draws.rng() if draws else None, **options
    )
    client = Connection("DEALER", client_mech, **kwargs)
    server = Connection("ROUTER", server_mech, **kwargs)
    client.start(0.0)
    server.start(0.0)
    return client, server, key_bytes(client_secret), keys


def _established(**kwargs):
    client, server, _, _ = _pair(**kwargs)
    pipe(client, server)
    assert client.state is server.state is ConnectionState.ESTABLISHED
    return client, server


# -- compact framing on the wire -----------------------------------------------------


def test_compact_message_is_17_bytes_plus_a_2_byte_frame_header():
    client, server = _established(compact=True)
    assert client.compact and server.compact
    for size in (0, 1, 100, 238):
        client.send_message([b"m" * size])
        out = client.data_to_send()
        assert len(out) == 2 + 17 + size
        assert out[:2] == bytes((0x00, 17 + size))
        assert server.receive_data(out, 0.0) == [MessageReceived([b"m" * size])]
    # past 255 body bytes: a long frame, outer flags 0x02 only
    client.send_message([b"L" * 239, b"tail"])
    out = client.data_to_send()
    [(first_flags, first), (second_flags, second)] = split_frames(out)
    assert (first_flags, len(first)) == (0x02, 256)
    assert (second_flags, len(second)) == (0x00, 21)
    assert server.receive_data(out, 0.0) == [MessageReceived([b"L" * 239, b"tail"])]


def test_standard_message_when_compact_is_off():
    client, server = _established(compact=False)
    assert not client.compact and not server.compact
    client.send_message([b"x" * 10])
    out = client.data_to_send()
    assert len(out) == 2 + 33 + 10 and out[2:10] == b"\x07MESSAGE"


def test_compact_both_ways_with_commands_and_any_chunking():
    client, server = _established(compact=True)
    server.send_message([b"down", b"stream"])
    client.send_subscription(b"topic")
    client.send_command("PING", b"\x00\x00ctx")
    events = []
    out = client.data_to_send()
    for index in range(len(out)):
        events += server.receive_data(out[index : index + 1], 0.0)
    assert events == [CommandReceived("SUBSCRIBE", b"topic")]
    # the PONG came back compact, behind the server's message
    got = client.receive_data(server.data_to_send(), 0.0)
    assert got == [MessageReceived([b"down", b"stream"])]


def test_max_message_size_counts_the_compact_overhead():
    client, server = _established(compact=True, max_message_size=10)
    client.send_message([b"x" * 10])
    assert server.receive_data(client.data_to_send(), 0.0) == [
        MessageReceived([b"x" * 10])
    ]
    client.send_message([b"x" * 11])
    with pytest.raises(LimitError) as info:
        server.receive_data(client.data_to_send(), 0.0)
    assert "at most 10 bytes" in str(info.value) and "of 11" in str(info.value)


# -- the invalid-message policy ------------------------------------------------------


def _sealed(sender: Connection, data: bytes) -> bytes:
    sender.send_message([data])
    return sender.data_to_send()


def _forge(sender: Connection, data: bytes, nonce: int | None = None) -> bytes:
    """A frame the peer would refuse: a flipped tag byte, or (standard framing) a
    chosen nonce with a box that cannot open."""
    if nonce is None:
        out = bytearray(_sealed(sender, data))
        out[-1] ^= 0x01
        return bytes(out)
    body = b"\x07MESSAGE" + nonce.to_bytes(8, "big") + bytes(17 + len(data))
    return frame(0x00, body)


@pytest.mark.parametrize("compact", [False, True], ids=["standard", "compact"])
def test_close_policy_closes_at_the_first_invalid_message(compact):
    client, server = _established(compact=compact)
    events, reason = feed(server, _forge(client, b"bad"))
    assert events == [] and reason is Reason.ZMTP_CRYPTOGRAPHIC
    assert server.state is ConnectionState.CLOSED


def test_drop_policy_standard_framing_forgeries_then_valid_frames():
    client, server = _established(compact=False, drop_invalid=True)
    valid = _sealed(client, b"one")
    assert server.receive_data(valid, 0.0) == [MessageReceived([b"one"])]
    forgeries = [
        _forge(client, b"bad mac"),  # costs the client a nonce, which is fine
        _forge(client, b"max", nonce=2**64 - 1),
        valid,  # a repeated nonce
        frame(0x00, b"\x07MESSAGE" + bytes(10)),  # too short
    ]
    reasons = []
    for count, forged in enumerate(forgeries, start=1):
        [dropped] = server.receive_data(forged, 1.0)
        assert isinstance(dropped, MessageDropped) and dropped.dropped == count
        reasons.append(dropped.reason)
    assert reasons == [
        Reason.ZMTP_CRYPTOGRAPHIC,
        Reason.ZMTP_CRYPTOGRAPHIC,
        Reason.ZMTP_INVALID_SEQUENCE,
        Reason.ZMTP_MALFORMED_COMMAND_MESSAGE,
    ]
    # the forged 2^64 - 1 did not move the floor: later frames still open
    client.send_message([b"two", b"three"])
    assert server.receive_data(client.data_to_send(), 2.0) == [
        MessageReceived([b"two", b"three"])
    ]


def test_drop_policy_compact_framing_forgeries_then_valid_frames():
    client, server = _established(compact=True, drop_invalid=True)
    good = _sealed(client, b"genuine")
    for count in range(1, 4):
        bad = bytearray(good)
        bad[2 + count] ^= 0x10
        [dropped] = server.receive_data(bytes(bad), 0.0)
        assert dropped.dropped == count and dropped.reason is Reason.ZMTP_CRYPTOGRAPHIC
        assert "compact MESSAGE" in dropped.detail
    assert server.receive_data(good, 0.0) == [MessageReceived([b"genuine"])]
    # a replay of it now carries the wrong implicit nonce
    [dropped] = server.receive_data(good, 0.0)
    assert isinstance(dropped, MessageDropped)
    assert server.receive_data(_sealed(client, b"next"), 0.0) == [
        MessageReceived([b"next"])
    ]


def test_drop_policy_budget_closes_the_connection():
    client, server = _established(compact=True, drop_invalid=True, invalid_budget=3)
    bad = _forge(client, b"bad")
    for _ in range(3):
        [dropped] = server.receive_data(bad, 0.0)
        assert isinstance(dropped, MessageDropped)
    events, reason = feed(server, bad + _sealed(client, b"too late"))
    assert events == [] and reason is Reason.ZMTP_CRYPTOGRAPHIC
    assert server.state is ConnectionState.CLOSED


def test_drop_policy_keeps_a_valid_message_in_the_same_chunk():
    client, server = _established(compact=False, drop_invalid=True)
    data = _sealed(client, b"before") + _forge(client, b"x") + _sealed(client, b"after")
    events = server.receive_data(data, 0.0)
    assert [type(e) for e in events] == [
        MessageReceived,
        MessageDropped,
        MessageReceived,
    ]


# -- lean sessions -------------------------------------------------------------------

_SKIP = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    logging.Logger,
    Backend,
    CurveServerKeys,  # shared by all connections of a listener
)


def _reachable_bytes(root) -> list[bytes]:
    """Every bytes-like object reachable from ``root`` through references, not
    crossing into modules, classes, functions, loggers, the backend or the
    listener's shared keys."""
    seen, stack, found = set(), [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SKIP):
            continue
        seen.add(id(obj))
        if isinstance(obj, (bytes, bytearray, memoryview)):
            found.append(bytes(obj))
            continue
        stack.extend(gc.get_referents(obj))
    return found


def _handshake_with_capture(**kwargs):
    draws = Draws()
    client, server, client_secret, _ = _pair(draws=draws, **kwargs)
    # control: while the handshake needs them, the walk does find c' and c
    held = _reachable_bytes(client)
    assert any(draws.draws[0] in blob for blob in held)
    assert any(client_secret in blob for blob in held)
    wire = []
    events = []
    while True:
        moved = False
        for src, dst in ((client, server), (server, client)):
            data = src.data_to_send()
            if data:
                moved = True
                wire.append((src, data))
                for event in dst.receive_data(data, 0.0):
                    events.append(event)
                    if type(event).__name__ == "AuthenticationRequested":
                        dst.accept()
        if not moved:
            break
    assert client.state is server.state is ConnectionState.ESTABLISHED
    client_stream = b"".join(data for src, data in wire if src is client)
    [initiate] = [
        body
        for _, body in split_frames(client_stream[64:])
        if body[:9] == b"\x08INITIATE"
    ]
    cookie = initiate[9:105]
    # draws: c' first (client start), then s' (server, at HELLO)
    c_short = draws.draws[0]
    s_short = [d for d in draws.draws if len(d) == 32][1]
    return (
        client,
        server,
        {
            "c'": c_short,
            "s'": s_short,
            "cookie": cookie,
            "c": client_secret,
        },
    )


@pytest.mark.parametrize("compact", [False, True], ids=["standard", "compact"])
def test_no_short_term_secret_cookie_or_long_term_copy_after_ready(compact):
    client, server, secrets = _handshake_with_capture(compact=compact)
    assert client.mechanism._codec is None and server.mechanism._codec is None
    for conn in (client, server):
        held = _reachable_bytes(conn)
        assert held, "the walk found nothing: it is broken"
        for name, secret in secrets.items():
            assert not any(secret in blob for blob in held), (conn, name)
    # the session key is reachable (it must be) and the walk can see it
    assert any(bytes(client._codec._key) in blob for blob in _reachable_bytes(client))


def test_closing_wipes_the_session_key():
    client, server = _established(compact=True)
    keys = [client._codec._key, server._codec._key]
    assert keys[0] == keys[1] and any(keys[0])
    client.close()
    server.close()
    assert keys == [bytearray(32), bytearray(32)]


def test_a_violation_wipes_the_session_key():
    client, server = _established(compact=True)
    key = server._codec._key
    feed(server, _forge(client, b"x"))
    assert server.state is ConnectionState.CLOSED and key == bytearray(32)
