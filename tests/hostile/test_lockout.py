"""Pending-handshake eviction: DESIGN.md "A cap is not a lockout". When the cap of
pending handshakes is full, the one that has made the least progress is dropped, so
silent connections must never shut honest clients out.

The cap is the MAX_HANDSHAKES option (1024 by default); these tests lower it to 32
so that they need 32 connections instead of 1024 (the same lockout was seen by hand
with the real cap and 1025 connections)."""

from __future__ import annotations

import socket
import time

import pytest

from .conftest import assert_nothing_delivered, honest_round_trip, make_server

pytestmark = pytest.mark.timeout(20)

CAP = 32


@pytest.fixture
def small_cap(ctx, keys):
    """Our CURVE REP server with MAX_HANDSHAKES = CAP."""
    sock = make_server(ctx, keys, max_handshakes=CAP)
    sock.endpoint = sock.last_endpoint.decode()
    return sock


def _flood(server, count: int, payload: bytes) -> list:
    port = int(server.endpoint.rsplit(":", 1)[1])
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        if payload:
            sock.sendall(payload)
        socks.append(sock)
    # let the server accept them all (and read their bytes) before anyone else
    time.sleep(0.3)
    return socks


def test_bare_connections_above_the_cap_do_not_lock_out(small_cap, pctx, keys):
    server = small_cap
    socks = _flood(server, CAP + 8, b"")
    try:
        honest_round_trip(pctx, server, keys)
    finally:
        for sock in socks:
            sock.close()
    assert_nothing_delivered(server)


def test_one_byte_each_above_the_cap_does_not_lock_out(small_cap, pctx, keys):
    server = small_cap
    socks = _flood(server, CAP + 4, b"\xff")
    try:
        honest_round_trip(pctx, server, keys)
    finally:
        for sock in socks:
            sock.close()
    assert_nothing_delivered(server)
