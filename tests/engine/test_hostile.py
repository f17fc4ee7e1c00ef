"""Hostile bytes from a raw TCP peer: each connection closes, nothing is buffered
beyond the limit, nothing reaches the application, the socket keeps serving."""

from __future__ import annotations

import asyncio
import logging
import os
import struct

import pytest
import zmq as pyzmq
import zmq.asyncio as pyzmq_asyncio

from curvezmq.engine import create_socket
from curvezmq.errors import BusyError

from .conftest import run, wait_for

pytestmark = pytest.mark.timeout(60)

# our CURVE greeting as a client would send it: signature, version 3.1, "CURVE"
GREETING = (
    b"\xff"
    + bytes(8)
    + b"\x7f"
    + b"\x03\x01"
    + b"CURVE".ljust(20, b"\x00")
    + b"\x00"
    + bytes(31)
)


async def _closed_by_peer(reader: asyncio.StreamReader, timeout: float) -> bool:
    # True when the server closed the connection (EOF or reset) within timeout
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except asyncio.TimeoutError:
        return False


async def _attack(server, payload: bytes, timeout: float = 2.0) -> bool:
    host, port = server.last_endpoint[len("tcp://") :].rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(payload)
        await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        return True
    closed = await _closed_by_peer(reader, timeout)
    writer.close()
    return closed


async def _honest_round_trip(server, keys) -> None:
    # a libzmq client still gets through after the attacks
    ctx = pyzmq_asyncio.Context()
    try:
        client = ctx.socket(pyzmq.REQ)
        client.curve_serverkey = keys.server_public
        client.curve_publickey = keys.client_public
        client.curve_secretkey = keys.client_secret
        client.linger = 0
        client.connect(server.last_endpoint)
        await client.send(b"honest")
        assert await server.recv(timeout=3) == [b"honest"]
        await server.send([b"welcome"])
        assert await asyncio.wait_for(client.recv(), 3) == b"welcome"
    finally:
        ctx.destroy(linger=0)


def _warnings(caplog) -> list:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "curvezmq.engine"
    ]


def test_random_bytes_close_the_connection(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        server = create_socket("REP", keys.server_options())
        server.bind("tcp://127.0.0.1:0")
        assert await _attack(server, b"\x00" + os.urandom(4096))
        assert await _attack(server, b"\xff" + os.urandom(4096))
        with pytest.raises(BusyError):
            server.recv_nowait()
        await _honest_round_trip(server, keys)
        await server.close(0)

    run(main())
    failures = [m for m in _warnings(caplog) if "handshake with 127.0.0.1:" in m]
    assert len(failures) >= 2, _warnings(caplog)


def test_truncated_greeting_times_out(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        server = create_socket("REP", keys.server_options(handshake_ivl=300))
        server.bind("tcp://127.0.0.1:0")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await _attack(server, GREETING[:20], timeout=3.0)
        assert 0.25 <= loop.time() - started < 2.0
        with pytest.raises(BusyError):
            server.recv_nowait()
        await _honest_round_trip(server, keys)
        await server.close(0)

    run(main())
    assert any("no handshake within 300 ms" in m for m in _warnings(caplog))


@pytest.mark.parametrize("flags", [0x06, 0x02], ids=["command", "data"])
def test_huge_frame_header_before_hello_is_refused_at_once(keys, caplog, flags):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        server = create_socket("REP", keys.server_options())
        server.bind("tcp://127.0.0.1:0")
        host, port = server.last_endpoint[len("tcp://") :].rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(GREETING + struct.pack(">BQ", flags, 1 << 31))
        await writer.drain()
        # closed on the header alone: no body byte was needed, none was kept
        assert await _closed_by_peer(reader, 2.0)
        assert not server._listeners[0].pending
        writer.close()
        with pytest.raises(BusyError):
            server.recv_nowait()
        await _honest_round_trip(server, keys)
        await server.close(0)

    run(main())
    assert any("127.0.0.1:" in m and "failed" in m for m in _warnings(caplog))


def test_null_client_against_curve_server_is_a_mechanism_mismatch(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        server = create_socket("REP", keys.server_options())
        server.bind("tcp://127.0.0.1:0")
        null_greeting = GREETING[:12] + b"NULL".ljust(20, b"\x00") + GREETING[32:]
        assert await _attack(server, null_greeting)
        await server.close(0)

    run(main())
    assert any("MECHANISM_MISMATCH" in m for m in _warnings(caplog)), _warnings(caplog)


def test_silent_connections_cannot_lock_out_honest_clients(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        server = create_socket("REP", keys.server_options(max_handshakes=4))
        server.bind("tcp://127.0.0.1:0")
        host, port = server.last_endpoint[len("tcp://") :].rsplit(":", 1)
        silent = [await asyncio.open_connection(host, int(port)) for _ in range(8)]
        listener = server._listeners[0]
        await wait_for(
            lambda: (
                len(listener.pending) <= 4
                and any("MAX_HANDSHAKES" in m for m in _warnings(caplog))
            )
        )
        await _honest_round_trip(server, keys)
        for _, writer in silent:
            writer.close()
        await server.close(0)

    run(main())


def test_client_with_the_wrong_server_key_is_named_in_a_warning(keys, caplog):
    from curvezmq import curve_keypair

    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        server = create_socket("REP", keys.server_options())
        server.bind("tcp://127.0.0.1:0")
        ctx = pyzmq_asyncio.Context()
        try:
            client = ctx.socket(pyzmq.REQ)
            client.curve_serverkey = curve_keypair()[0]  # not the server's
            client.curve_publickey = keys.client_public
            client.curve_secretkey = keys.client_secret
            client.linger = 0
            client.connect(server.last_endpoint)
            await client.send(b"sealed for someone else")
            await wait_for(
                lambda: any("ZMTP_CRYPTOGRAPHIC" in m for m in _warnings(caplog))
            )
            with pytest.raises(BusyError):
                await server.recv(timeout=0.2)
        finally:
            ctx.destroy(linger=0)
            await server.close(0)

    run(main())
    message = next(m for m in _warnings(caplog) if "ZMTP_CRYPTOGRAPHIC" in m)
    assert message.startswith("handshake with 127.0.0.1:")
