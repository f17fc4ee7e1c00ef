"""Replays, tampering and wrong keys, with real libzmq peers (pyzmq) next to a raw
attacker. A relay between the two real peers captures or flips bytes."""

from __future__ import annotations

import json
import logging
import pathlib
import time

import nacl.bindings as nb
import pytest

import curvezmq.zmq as ours

from ._raw import (
    GREETING,
    ZERO_SHARED_KEY,
    RawCurveClient,
    Relay,
    closed_by_peer,
    command,
    connect,
    frame,
    n8,
    recv_exact,
    split_frames,
)
from .conftest import (
    assert_nothing_delivered,
    curve_client,
    engine_warnings,
    honest_round_trip,
    make_server,
    zmq,
)

pytestmark = pytest.mark.timeout(20)

VECTORS = pathlib.Path(__file__).parent.parent / "vectors"
LOW_ORDER = bytes.fromhex(
    json.loads((VECTORS / "x25519.json").read_text())["low_order_point"]
)


@pytest.fixture
def captured(server, pctx, keys):
    """An honest libzmq REQ handshake and one round trip through a relay; returns
    the client's frames (HELLO, INITIATE, MESSAGE...) as sent on the wire."""
    relay = Relay(server.endpoint)
    try:
        client = pctx.socket(zmq.REQ)
        curve_client(client, keys)
        client.connect(relay.endpoint)
        client.send(b"original")
        assert server.recv() == b"original"
        server.send(b"reply")
        assert client.recv() == b"reply"
        client.close(linger=0)
        time.sleep(0.05)
        up = bytes(relay.up[0])
    finally:
        relay.close()
    frames = split_frames(up)
    assert frames[0][1][:6] == b"\x05HELLO"
    assert frames[1][1][:9] == b"\x08INITIATE"
    return up, frames


def test_replayed_hello_gets_nowhere(server, pctx, keys, captured):
    _up, frames = captured
    sock = connect(server.endpoint)
    sock.sendall(GREETING + frames[0][2])
    recv_exact(sock, 64)
    # a HELLO cannot be told from its replay: the server answers with a WELCOME
    # only the original client can open, and keeps nothing for it
    _, welcome, _ = split_frames(recv_exact(sock, 2 + 168), start=0)[0]
    assert welcome[:8] == b"\x07WELCOME"
    sock.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_replayed_whole_session_delivers_nothing(server, pctx, keys, captured):
    # greeting + HELLO + INITIATE + the MESSAGEs, byte for byte on a new
    # connection: the INITIATE's cookie was spent, so it must be refused before the
    # replayed request can be opened with the regenerated session key
    up, _frames = captured
    sock = connect(server.endpoint)
    sock.sendall(up)
    assert closed_by_peer(sock, 2.0)
    sock.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_replayed_initiate_after_own_hello_is_refused(
    server, pctx, keys, captured, caplog
):
    caplog.set_level(logging.INFO, logger="curvezmq")
    _up, frames = captured
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    # the captured INITIATE (its cookie, its box) and the captured request
    raw.send(frames[1][2] + b"".join(f[2] for f in frames[2:]))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    # the cookie is bound to the connection that earned it, so on this one it
    # does not even open; the replay cache would refuse it otherwise
    warnings = engine_warnings(caplog)
    assert any("cookie" in m for m in warnings), caplog.text
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_tampered_welcome_towards_our_client(ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = pctx.socket(zmq.REP)
    server.curve_server = True
    server.curve_secretkey = keys.server_secret
    server.curve_publickey = keys.server_public
    server.linger = 0
    server.rcvtimeo = 3000
    port = server.bind_to_random_port("tcp://127.0.0.1")
    # first connection: one bit of the WELCOME box flipped; later ones clean
    relay = Relay(f"tcp://127.0.0.1:{port}", flip_down={0: 64 + 2 + 100})
    try:
        client = ctx.socket(ours.REQ)
        curve_client(client, keys)
        client.connect(relay.endpoint)
        client.send(b"through")
        assert server.recv() == b"through"
        server.send(b"back")
        assert client.recv() == b"back"
        with pytest.raises(zmq.Again):
            server.recv(zmq.NOBLOCK)
        assert len(relay.up) >= 2  # our client reconnected after the failure
    finally:
        relay.close()
        server.close(linger=0)
    warnings = engine_warnings(caplog)
    assert any("WELCOME" in m and "CRYPTOGRAPHIC" in m for m in warnings), warnings


def test_tampered_ready_towards_our_client(ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = pctx.socket(zmq.REP)
    server.curve_server = True
    server.curve_secretkey = keys.server_secret
    server.curve_publickey = keys.server_public
    server.linger = 0
    server.rcvtimeo = 3000
    port = server.bind_to_random_port("tcp://127.0.0.1")
    # READY follows greeting (64) and WELCOME (2 + 168): flip inside its box
    relay = Relay(f"tcp://127.0.0.1:{port}", flip_down={0: 64 + 170 + 2 + 20})
    try:
        client = ctx.socket(ours.REQ)
        curve_client(client, keys)
        client.connect(relay.endpoint)
        client.send(b"through")
        assert server.recv() == b"through"
        server.send(b"back")
        assert client.recv() == b"back"
    finally:
        relay.close()
        server.close(linger=0)
    assert any("READY" in m for m in engine_warnings(caplog)), engine_warnings(caplog)


def test_tampered_reply_towards_our_client(ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = pctx.socket(zmq.REP)
    server.curve_server = True
    server.curve_secretkey = keys.server_secret
    server.curve_publickey = keys.server_public
    server.linger = 0
    server.rcvtimeo = 3000
    port = server.bind_to_random_port("tcp://127.0.0.1")
    relay = Relay(f"tcp://127.0.0.1:{port}")
    try:
        client = ctx.socket(ours.REQ)
        curve_client(client, keys)
        client.rcvtimeo = 500
        client.connect(relay.endpoint)
        client.send(b"through")
        assert server.recv() == b"through"
        # flip a bit inside the box of the reply's first MESSAGE
        relay.flip_down[0] = len(relay.down[0]) + 2 + 20
        server.send(b"back")
        # the connection is dropped; the reply is lost (as with libzmq), but no
        # garbage reaches the application
        with pytest.raises(ours.Again):
            client.recv()
        client.close(linger=0)
    finally:
        relay.close()
        server.close(linger=0)
    warnings = engine_warnings(caplog)
    assert any("connection with" in m and "CRYPTOGRAPHIC" in m for m in warnings), (
        warnings
    )


def test_tampered_message_closes_only_that_connection(server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.handshake()
    # a second, honest raw session stays up meanwhile
    other = RawCurveClient(server.endpoint, keys.server_public)
    other.handshake()
    body = bytearray(raw.message_body(b"evil"))
    body[20] ^= 0x01
    raw.send(frame(bytes(body)))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert any("CRYPTOGRAPHIC" in m for m in engine_warnings(caplog))
    assert_nothing_delivered(server)
    other.send(other.request(b"still here"))
    assert server.recv() == b"still here"
    server.send(b"yes")
    assert other.read_message()[-1][1] == b"yes"
    other.close()
    honest_round_trip(pctx, server, keys)


def test_valid_request_before_a_tampered_frame_is_delivered(server, keys):
    # internals.md: a violation's `events` hold what the same data produced
    # before it, "which the caller should still deliver" (libzmq does); a request
    # that opened and authenticated is accepted data and must not be lost
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.handshake()
    good = raw.request(b"accepted")
    bad = bytearray(raw.message_body(b"evil"))
    bad[20] ^= 0x01
    raw.send(good + frame(bytes(bad)))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    server.rcvtimeo = 500
    assert server.recv() == b"accepted"


def test_valid_request_then_later_tampered_frame(server, keys):
    # the control for the test above: in two reads, the request is delivered
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.handshake()
    raw.send(raw.request(b"accepted"))
    assert server.recv() == b"accepted"
    bad = bytearray(raw.message_body(b"evil"))
    bad[20] ^= 0x01
    raw.send(frame(bytes(bad)))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()


def test_our_client_with_wrong_server_key_against_libzmq(ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = pctx.socket(zmq.REP)
    server.curve_server = True
    server.curve_secretkey = keys.server_secret
    server.linger = 0
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client = ctx.socket(ours.REQ)
    curve_client(client, keys, server_public=keys.other_public)
    client.rcvtimeo = 1500
    client.connect(f"tcp://127.0.0.1:{port}")
    client.send(b"lost")
    with pytest.raises(ours.Again):
        client.recv()
    with pytest.raises(zmq.Again):
        server.recv(zmq.NOBLOCK)
    failures = [m for m in engine_warnings(caplog) if "handshake with" in m]
    # retried with backoff, never in a tight loop
    assert 1 <= len(failures) <= 12, failures
    client.close(linger=0)
    server.close(linger=0)


def test_libzmq_client_with_wrong_server_key_against_us(server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    client = pctx.socket(zmq.REQ)
    curve_client(client, keys, server_public=keys.other_public)
    client.connect(server.endpoint)
    client.send(b"lost")
    time.sleep(0.5)
    client.close(linger=0)
    assert any("CRYPTOGRAPHIC" in m for m in engine_warnings(caplog))
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_low_order_client_short_key_in_hello(server, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    # C' = a low-order point, the signature sealed under the all-zero shared key
    # it yields: it would open if the server computed that key
    nonce = n8(1)
    box = nb.crypto_box_afternm(bytes(64), b"CurveZMQHELLO---" + nonce, ZERO_SHARED_KEY)
    hello = b"\x05HELLO\x01\x00" + bytes(72) + LOW_ORDER + nonce + box
    sock = connect(server.endpoint)
    sock.sendall(GREETING + command(hello))
    assert closed_by_peer(sock, 2.0)
    sock.close()
    assert engine_warnings(caplog)
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_low_order_client_long_term_key_in_initiate(server, pctx, keys):
    # C = a low-order point, the vouch sealed under the all-zero shared key
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    tail = bytes(16)
    vouch = nb.crypto_box_afternm(
        raw.cn_public + raw.server_key, b"VOUCH---" + tail, ZERO_SHARED_KEY
    )
    nonce = raw._next()
    meta = b"\x0bSocket-Type\x00\x00\x00\x03REQ\x08Identity\x00\x00\x00\x00"
    box = nb.crypto_box_afternm(
        LOW_ORDER + tail + vouch + meta, b"CurveZMQINITIATE" + nonce, raw.key
    )
    raw.send(command(b"\x08INITIATE" + raw.cookie + nonce + box))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_wrong_socket_type_in_initiate(server, pctx, keys):
    raw = RawCurveClient(server.endpoint, keys.server_public, socket_type=b"PUB")
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.send(command(raw.initiate_body()))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_refused_client_gets_error_400(ctx, pctx, keys):
    from curvezmq.auth import AllowKeys

    ctx.curve_policy = AllowKeys([keys.client_public])
    server = make_server(ctx, keys)
    server.endpoint = server.getsockopt(ours.LAST_ENDPOINT).decode()
    raw = RawCurveClient(server.endpoint, keys.server_public)  # a stranger's key
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.send(command(raw.initiate_body()))
    from ._raw import read_frame

    _, body = read_frame(raw.sock)
    assert body == b"\x05ERROR\x03400"
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def _moved_initiate(endpoint, server_public):
    """Client A's INITIATE sent first on connection B (which made its own HELLO),
    then on A: returns what B and A got ("READY" or "closed")."""
    from ._raw import read_frame

    a = RawCurveClient(endpoint, server_public)
    b = RawCurveClient(endpoint, server_public)
    outcome = []
    try:
        for c in (a, b):
            c.send_greeting()
            c.send(command(c.hello_body()))
            c.read_greeting()
            c.read_welcome()
        initiate = command(a.initiate_body())
        for c in (b, a):
            c.send(initiate)
            try:
                _, body = read_frame(c.sock)
                outcome.append("READY" if body[:6] == b"\x05READY" else repr(body))
            except (EOFError, ConnectionResetError):
                outcome.append("closed")
    finally:
        a.close()
        b.close()
    return outcome


def test_libzmq_binds_the_cookie_to_its_connection(pctx, keys):
    # the control: libzmq refuses A's INITIATE on B and accepts it on A
    server = pctx.socket(zmq.REP)
    server.curve_server = True
    server.curve_secretkey = keys.server_secret
    server.linger = 0
    port = server.bind_to_random_port("tcp://127.0.0.1")
    assert _moved_initiate(f"tcp://127.0.0.1:{port}", keys.server_public) == [
        "closed",
        "READY",
    ]
    server.close(linger=0)


def test_initiate_moved_to_another_connection_is_refused(server, pctx, keys):
    assert _moved_initiate(server.endpoint, keys.server_public) == ["closed", "READY"]
