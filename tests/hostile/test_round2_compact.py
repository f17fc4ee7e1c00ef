"""Round 2: compact framing (docs/extensions.md section 1) against hostile peers
over real TCP. A raw PyNaCl client that offers compact framing in odd ways, then
speaks the other framing, sends bodies shorter than a box, duplicates or skips
frames, or buries genuine frames in forgeries at a high rate; and a raw server
that confirms a framing our client never offered. Nothing forged may reach the
application, a dropped frame must never move the implicit counter, and an honest
libzmq client is served afterwards."""

from __future__ import annotations

import logging
import os

import nacl.bindings as nb
import pytest

import curvezmq.zmq as ours

from ._raw import closed_by_peer, command, frame, metadata, n8, read_frame
from ._round2 import RawCompactClient
from .conftest import (
    assert_nothing_delivered,
    curve_client,
    engine_warnings,
    honest_round_trip,
    make_server,
)
from .test_hostile_server import RawServer

pytestmark = pytest.mark.timeout(20)

FRAMING = "X_CurveZMQ_Framing"  # the property, as _raw.metadata spells names


def _server(ctx, keys, kind=None, **options):
    sock = make_server(ctx, keys, kind, **options)
    sock.endpoint = sock.last_endpoint.decode()
    return sock


def _raw(server, keys, socket_type=b"REQ") -> RawCompactClient:
    return RawCompactClient(
        server.endpoint, keys.server_public, socket_type=socket_type
    )


def _confirms(ready: bytes) -> bool:
    return b"X-CurveZMQ-Framing\x00\x00\x00\x07compact" in ready


# -- the two framings mixed up ---------------------------------------------------------


def test_compact_offer_then_standard_messages_closes(ctx, pctx, keys):
    server = _server(ctx, keys)
    raw = _raw(server, keys)
    try:
        assert _confirms(raw.handshake_with(**{FRAMING: b"compact"}))
        # a standard MESSAGE fed to a compact receiver: the box is 16 bytes off
        raw.send(raw.request(b"standard after compact"))
        assert closed_by_peer(raw.sock, 2.0)
    finally:
        raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_no_offer_then_compact_messages_closes(ctx, pctx, keys):
    server = _server(ctx, keys)
    raw = _raw(server, keys)
    try:
        assert not _confirms(raw.handshake_with())
        raw.send(raw.compact_frames([b"", b"compact without an offer"]))
        assert closed_by_peer(raw.sock, 2.0)
    finally:
        raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_compact_off_on_the_server_ignores_the_offer(ctx, keys):
    # CURVE_COMPACT=0 on the server: no confirmation, standard framing works
    server = _server(ctx, keys, curve_compact=0)
    raw = _raw(server, keys)
    try:
        assert not _confirms(raw.handshake_with(**{FRAMING: b"compact"}))
        raw.send(raw.request(b"standard"))
        assert server.recv() == b"standard"
        server.send(b"ok")
        assert raw.read_message()[-1] == (0, b"ok")
    finally:
        raw.close()


@pytest.mark.parametrize(
    "extra, agreed",
    [
        pytest.param(metadata(x_curvezmq_framing=b"compact"), True, id="name-lower"),
        pytest.param(metadata(X_CURVEZMQ_FRAMING=b"compact"), True, id="name-upper"),
        pytest.param(metadata(**{FRAMING: b"COMPACT"}), False, id="value-upper"),
        pytest.param(metadata(**{FRAMING: b"zstd, compact "}), True, id="list"),
        pytest.param(metadata(**{FRAMING: b"compact,compact"}), True, id="twice"),
        pytest.param(metadata(**{FRAMING: b""}), False, id="empty"),
        pytest.param(metadata(**{FRAMING: b",,\xff\x00" * 1000}), False, id="junk"),
        pytest.param(
            metadata(**{FRAMING: b"none"}) + metadata(x_curvezmq_framing=b"compact"),
            False,
            id="repeated-first-wins",
        ),
        pytest.param(
            metadata(**{FRAMING: b"compact"}) + metadata(x_curvezmq_framing=b"no"),
            True,
            id="repeated-first-wins-compact",
        ),
    ],
)
def test_odd_offers_agree_on_one_framing_and_it_works(extra, agreed, ctx, keys):
    server = _server(ctx, keys)
    raw = _raw(server, keys)
    try:
        ready = raw.handshake_with(extra=extra)
        assert _confirms(ready) is agreed
        assert ready.count(b"Framing") == int(agreed)  # confirmed once, exactly
        if agreed:
            raw.send(raw.compact_frames([b"", b"odd offer"]))
        else:
            raw.send(raw.request(b"odd offer"))
        frame_ = server.recv(copy=False)
        assert frame_.bytes == b"odd offer"
        # the offer never reaches the application, in whatever spelling
        for name in ("X-CurveZMQ-Framing", "x-curvezmq-framing"):
            with pytest.raises(ours.ZMQError):
                frame_.get(name)
        server.send(b"ok")
        if agreed:
            _, delimiter = read_frame(raw.sock)
            _, body = read_frame(raw.sock)
            assert raw.open_compact(delimiter) == (1, b"")
            assert raw.open_compact(body) == (0, b"ok")
        else:
            assert raw.read_message()[-1] == (0, b"ok")
    finally:
        raw.close()


# -- short, duplicated, skipped frames ------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 16])
def test_compact_body_shorter_than_a_box_closes(size, ctx, pctx, keys, caplog):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    server = _server(ctx, keys)
    raw = _raw(server, keys)
    try:
        raw.handshake_with(**{FRAMING: b"compact"})
        raw.send(frame(os.urandom(size)))
        assert closed_by_peer(raw.sock, 2.0)
    finally:
        raw.close()
    assert any("MALFORMED_COMMAND_MESSAGE" in m for m in engine_warnings(caplog))
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_short_and_duplicated_compact_frames_are_dropped_without_moving_the_counter(
    ctx, keys, caplog
):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    server = _server(
        ctx, keys, curve_invalid_policy=ours.CURVE_INVALID_DROP, curve_invalid_budget=-1
    )
    raw = _raw(server, keys)
    try:
        raw.handshake_with(**{FRAMING: b"compact"})
        first = raw.compact_frames([b"", b"one"])
        raw.send(first)
        assert server.recv() == b"one"
        server.send(b"r1")
        for size in (0, 1, 16, 17):
            raw.send(frame(os.urandom(size)))
        raw.send(first)  # both frames again: sealed under spent nonces
        raw.send(frame(raw.compact_body(b"", 1, nonce=raw.nonce + 1)))  # the future
        raw.send(raw.compact_frames([b"", b"two"]))
        assert server.recv() == b"two"
        server.send(b"r2")
    finally:
        raw.close()
    drops = [m for m in engine_warnings(caplog) if "dropped an invalid" in m]
    assert len(drops) == 7, drops
    assert_nothing_delivered(server)


def test_a_skipped_compact_frame_desynchronises_until_the_budget_closes(
    ctx, pctx, keys, caplog
):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    server = _server(
        ctx, keys, curve_invalid_policy=ours.CURVE_INVALID_DROP, curve_invalid_budget=3
    )
    raw = _raw(server, keys)
    try:
        raw.handshake_with(**{FRAMING: b"compact"})
        raw.nonce += 1  # one frame lost on the way
        for n in range(3):
            raw.send(raw.compact_frames([b"", b"never %d" % n]))
            if n == 0:
                assert not closed_by_peer(raw.sock, 0.2)
        assert closed_by_peer(raw.sock, 2.0)
    finally:
        raw.close()
    assert any("more than 3 invalid" in m for m in engine_warnings(caplog))
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


# -- forgeries interleaved with genuine frames at a high rate --------------------------


@pytest.mark.parametrize("compact", [True, False], ids=["compact", "standard"])
def test_forgeries_interleaved_at_a_high_rate_never_move_the_floor(compact, ctx, keys):
    count = 400
    server = _server(
        ctx,
        keys,
        ours.PULL,
        curve_invalid_policy=ours.CURVE_INVALID_DROP,
        curve_invalid_budget=-1,
    )
    raw = _raw(server, keys, socket_type=b"PUSH")
    logging.getLogger("curvezmq").setLevel(logging.ERROR)  # 3 drops a message
    try:
        raw.handshake_with(**({FRAMING: b"compact"} if compact else {}))
        out = bytearray()
        previous = b""
        for i in range(count):
            payload = b"genuine %d" % i
            if compact:
                genuine = frame(raw.compact_body(payload))
                forged = [
                    previous,  # replayed
                    frame(raw.compact_body(b"ahead", nonce=raw.nonce + 7)),
                    frame(os.urandom(17 + i % 40)),
                ]
            else:
                genuine = frame(raw.message_body(payload))
                top = n8(2**64 - 1)
                box = nb.crypto_box_afternm(
                    b"\x00forged", b"CurveZMQMESSAGEC" + top, os.urandom(32)
                )
                forged = [
                    previous,  # replayed
                    frame(b"\x07MESSAGE" + top + box),  # the highest nonce, bad MAC
                    frame(b"\x07MESSAGE" + os.urandom(8 + 17 + i % 40)),
                ]
            out += genuine + b"".join(forged)
            previous = genuine
        raw.send(bytes(out))
        received = [server.recv() for _ in range(count)]
        assert received == [b"genuine %d" % i for i in range(count)]
        assert not closed_by_peer(raw.sock, 0.1)
    finally:
        logging.getLogger("curvezmq").setLevel(logging.NOTSET)
        raw.close()
    assert_nothing_delivered(server)


# -- a server that confirms what was not offered ---------------------------------------


def _raw_ready_with(raw_server, conn, framing: bytes) -> None:
    """Finish the handshake with a READY that carries ``framing``."""
    cn_public, cn_secret = nb.crypto_box_keypair()
    conn.sendall(raw_server.welcome(cn_public))
    _, initiate = read_frame(conn)
    assert initiate[:9] == b"\x08INITIATE"
    key = nb.crypto_box_beforenm(raw_server.client_cn, cn_secret)
    meta = metadata(Socket_Type=b"REP", **{FRAMING: framing})
    box = nb.crypto_box_afternm(meta, b"CurveZMQREADY---" + n8(1), key)
    conn.sendall(command(b"\x05READY" + n8(1) + box))


@pytest.mark.parametrize(
    "offer, confirmation",
    [(0, b"compact"), (1, b"COMPACT"), (1, b"compact,compact"), (1, b"zstd")],
)
def test_our_client_refuses_a_confirmation_it_did_not_ask_for(
    offer, confirmation, ctx, keys, caplog
):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    raw_server = RawServer(keys)
    client = ctx.socket(ours.REQ)
    curve_client(client, keys)
    client.curve_compact = offer
    client.rcvtimeo = 300
    client.connect(raw_server.endpoint)
    client.send(b"request")
    try:
        conn = raw_server.accept()
        _raw_ready_with(raw_server, conn, confirmation)
        assert closed_by_peer(conn, 2.0)
        conn.close()
        with pytest.raises(ours.Again):
            client.recv()
        assert any("INVALID_METADATA" in m for m in engine_warnings(caplog))
        # it tries again, politely (a violation is not a refusal)
        raw_server.accept(read_hello=True).close()
    finally:
        client.close(linger=0)
        raw_server.close()
