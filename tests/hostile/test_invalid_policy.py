"""CURVE_INVALID_POLICY over real TCP: a raw PyNaCl client that completed the
handshake sends forged MESSAGEs to our server. Under CURVE_INVALID_DROP each is
dropped and logged with the peer's address, genuine frames after them still
arrive, and CURVE_INVALID_BUDGET ends the connection; under the default
CURVE_INVALID_CLOSE the first one ends it."""

from __future__ import annotations

import logging

import pytest

import curvezmq.zmq as ours

from ._raw import RawCurveClient, closed_by_peer, frame
from .conftest import engine_warnings, honest_round_trip, make_server

pytestmark = pytest.mark.timeout(20)


def _connect(server, keys) -> RawCurveClient:
    raw = RawCurveClient(server.getsockopt(ours.LAST_ENDPOINT), keys.server_public)
    raw.handshake()
    return raw


def _bad_mac(raw: RawCurveClient, nonce: int | None = None) -> bytes:
    body = bytearray(raw.message_body(b"forged", nonce=nonce))
    body[-1] ^= 0x01
    return frame(bytes(body))


def _round_trip(raw: RawCurveClient, server, payload: bytes) -> None:
    raw.send(raw.request(payload))
    assert server.recv() == payload
    server.send(b"re:" + payload)
    assert raw.read_message()[-1] == (0, b"re:" + payload)


def test_drop_policy_forgeries_are_dropped_and_logged_and_later_frames_arrive(
    ctx, keys, caplog
):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = make_server(
        ctx, keys, curve_invalid_policy=ours.CURVE_INVALID_DROP, curve_invalid_budget=8
    )
    raw = _connect(server, keys)
    host, port = raw.sock.getsockname()
    address = f"{host}:{port}"
    try:
        _round_trip(raw, server, b"first")
        replay = raw.sent[-1]  # that request's two frames: their nonces are spent
        raw.send(_bad_mac(raw))
        raw.send(_bad_mac(raw, nonce=2**64 - 1))
        raw.send(replay)
        _round_trip(raw, server, b"after the forgeries")
        _round_trip(raw, server, b"and again")
    finally:
        raw.close()

    warnings = [m for m in engine_warnings(caplog) if "dropped an invalid" in m]
    assert len(warnings) == 4, engine_warnings(caplog)
    assert ["CRYPTOGRAPHIC" in m for m in warnings] == [True, True, False, False]
    assert all("INVALID_SEQUENCE" in m for m in warnings[2:])
    assert all(address in m for m in warnings)
    assert "(4 dropped on this connection)" in warnings[3]


def test_drop_policy_budget_closes_the_connection(ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = make_server(
        ctx, keys, curve_invalid_policy=ours.CURVE_INVALID_DROP, curve_invalid_budget=3
    )
    server.endpoint = server.getsockopt(ours.LAST_ENDPOINT).decode()
    raw = _connect(server, keys)
    try:
        for _ in range(3):
            raw.send(_bad_mac(raw))
        _round_trip(raw, server, b"within the budget")
        raw.send(_bad_mac(raw))
        assert closed_by_peer(raw.sock, 3.0)
    finally:
        raw.close()
    assert any("more than 3 invalid MESSAGEs" in m for m in engine_warnings(caplog))
    # the server serves everyone else as before
    honest_round_trip(pctx, server, keys)


def test_close_policy_is_the_default_and_closes_at_the_first(ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = make_server(ctx, keys)
    assert server.curve_invalid_policy == ours.CURVE_INVALID_CLOSE
    assert server.curve_invalid_budget == 16 and server.curve_compact == 1
    server.endpoint = server.getsockopt(ours.LAST_ENDPOINT).decode()
    raw = _connect(server, keys)
    try:
        raw.send(_bad_mac(raw, nonce=2**64 - 1))
        assert closed_by_peer(raw.sock, 3.0)
    finally:
        raw.close()
    assert not any("dropped an invalid" in m for m in engine_warnings(caplog))
    assert any("CRYPTOGRAPHIC" in m for m in engine_warnings(caplog))
    honest_round_trip(pctx, server, keys)


def test_option_values_are_checked(ctx):
    sock = ctx.socket(ours.REP)
    for option, value in (
        (ours.CURVE_INVALID_POLICY, 2),
        (ours.CURVE_INVALID_BUDGET, -2),
        (ours.CURVE_COMPACT, 5),
    ):
        with pytest.raises(ours.ZMQError) as info:
            sock.setsockopt(option, value)
        assert info.value.errno == ours.EINVAL
    sock.setsockopt(ours.CURVE_INVALID_BUDGET, -1)
    assert sock.getsockopt(ours.CURVE_INVALID_BUDGET) == -1
    sock.close()
