"""Reconnects with backoff, and the REQ/REP/DEALER/ROUTER rules, against libzmq."""

from __future__ import annotations

import asyncio
import logging

import pytest
import zmq as pyzmq
import zmq.asyncio as pyzmq_asyncio

from curvezmq.engine import DEFAULT_RECONNECT_CAP, Options, create_socket
from curvezmq.errors import BusyError, LocalProtocolError

from .conftest import run, wait_for

pytestmark = pytest.mark.timeout(60)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_backoff_doubles_with_jitter_and_caps():
    async def main():
        sock = create_socket(
            "DEALER", Options(reconnect_ivl=100, reconnect_ivl_max=800)
        )
        sock.connect(f"tcp://127.0.0.1:{_free_port()}")
        connecter = sock.connecters[0]
        connecter.stop()
        for failures, base in [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (9, 0.8)]:
            connecter.failures = failures
            delays = [connecter.next_delay() for _ in range(200)]
            assert all(base <= d <= base * 1.5 for d in delays), (failures, delays[:3])
            assert max(delays) - min(delays) > base * 0.1  # there is jitter
        # IVL_MAX 0: libzmq would retry every ~100 ms forever; we cap instead
        connecter.options.reconnect_ivl_max = 0
        connecter.failures = 40
        assert (
            DEFAULT_RECONNECT_CAP
            <= connecter.next_delay()
            <= DEFAULT_RECONNECT_CAP * 1.5
        )
        # no setting makes a tight loop
        connecter.options.reconnect_ivl = 0
        connecter.failures = 0
        assert connecter.next_delay() >= 0.01
        connecter.options.reconnect_ivl = -1
        assert connecter.next_delay() is None
        await sock.close(0)

    run(main())


def test_refused_connections_are_retried_politely():
    async def main():
        sock = create_socket("DEALER", Options(linger=0))
        sock.connect(f"tcp://127.0.0.1:{_free_port()}")
        await asyncio.sleep(1.0)
        attempts = sock.connecters[0].attempts
        # 100, 200, 400 ms (+ up to 50 %): 3 or 4 attempts in a second
        assert 2 <= attempts <= 5, attempts
        await sock.close(0)

    run(main())


def test_reconnect_ivl_minus_one_never_retries():
    async def main():
        sock = create_socket("DEALER", Options(linger=0, reconnect_ivl=-1))
        sock.connect(f"tcp://127.0.0.1:{_free_port()}")
        await asyncio.sleep(0.5)
        assert sock.connecters[0].attempts == 1
        await sock.close(0)

    run(main())


def test_reconnects_after_the_server_restarts(keys):
    async def main():
        port = _free_port()
        endpoint = f"tcp://127.0.0.1:{port}"
        pctx = pyzmq_asyncio.Context()
        client = create_socket("DEALER", keys.client_options(rcvtimeo=3000))
        try:
            for round_ in range(2):
                server = pctx.socket(pyzmq.ROUTER)
                server.curve_server = True
                server.curve_secretkey = keys.server_secret
                server.linger = 0
                server.bind(endpoint)
                if round_ == 0:
                    client.connect(endpoint)
                await client.send([b"round %d" % round_])
                peer, body = await asyncio.wait_for(server.recv_multipart(), 5)
                assert body == b"round %d" % round_
                await server.send_multipart([peer, b"ack"])
                assert await client.recv() == [b"ack"]
                server.close(0)
                await wait_for(lambda: client.connecters[0].protocol is None)
            assert client.connecters[0].handshakes == 2
        finally:
            await client.close(0)
            pctx.destroy(linger=0)

    run(main())


def test_req_drops_a_connection_whose_reply_has_no_delimiter(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        pctx = pyzmq_asyncio.Context()
        req = create_socket("REQ", keys.client_options())
        try:
            router = pctx.socket(pyzmq.ROUTER)
            router.curve_server = True
            router.curve_secretkey = keys.server_secret
            router.linger = 0
            port = router.bind_to_random_port("tcp://127.0.0.1")
            req.connect(f"tcp://127.0.0.1:{port}")
            await req.send([b"question"])
            peer, empty, body = await asyncio.wait_for(router.recv_multipart(), 5)
            assert (empty, body) == (b"", b"question")
            await router.send_multipart([peer, b"no delimiter"])
            await wait_for(
                lambda: any(
                    "expected a reply of an empty delimiter" in r.getMessage()
                    for r in caplog.records
                )
            )
            with pytest.raises(BusyError):
                await req.recv(timeout=0.2)
        finally:
            await req.close(0)
            pctx.destroy(linger=0)

    run(main())


def test_rep_keeps_the_envelope(keys):
    async def main():
        pctx = pyzmq_asyncio.Context()
        rep = create_socket("REP", keys.server_options())
        try:
            rep.bind("tcp://127.0.0.1:0")
            dealer = pctx.socket(pyzmq.DEALER)
            dealer.curve_serverkey = keys.server_public
            dealer.curve_publickey = keys.client_public
            dealer.curve_secretkey = keys.client_secret
            dealer.linger = 0
            dealer.connect(rep.last_endpoint)
            # a request without an empty frame is dropped silently (libzmq)
            await dealer.send_multipart([b"no envelope"])
            await dealer.send_multipart([b"hop2", b"hop1", b"", b"body"])
            assert await rep.recv(timeout=3) == [b"body"]
            with pytest.raises(LocalProtocolError):
                rep.recv_nowait()
            await rep.send([b"answer"])
            got = await asyncio.wait_for(dealer.recv_multipart(), 3)
            assert got == [b"hop2", b"hop1", b"", b"answer"]
            with pytest.raises(LocalProtocolError):
                rep.send_nowait([b"second answer"])
        finally:
            await rep.close(0)
            pctx.destroy(linger=0)

    run(main())


def test_router_refuses_a_duplicate_identity(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        pctx = pyzmq_asyncio.Context()
        router = create_socket("ROUTER", keys.server_options())
        try:
            router.bind("tcp://127.0.0.1:0")
            dealers = []
            for _ in range(2):
                dealer = pctx.socket(pyzmq.DEALER)
                dealer.routing_id = b"twin"
                dealer.curve_serverkey = keys.server_public
                dealer.curve_publickey = keys.client_public
                dealer.curve_secretkey = keys.client_secret
                dealer.linger = 0
                dealer.connect(router.last_endpoint)
                dealers.append(dealer)
                await dealer.send(b"from %d" % len(dealers))
                await asyncio.sleep(0.2)
            assert await router.recv(timeout=3) == [b"twin", b"from 1"]
            with pytest.raises(BusyError):
                await router.recv(timeout=0.3)
            assert any("already taken" in r.getMessage() for r in caplog.records)
            await router.send([b"twin", b"to the first"])
            assert await asyncio.wait_for(dealers[0].recv(), 3) == b"to the first"
        finally:
            await router.close(0)
            pctx.destroy(linger=0)

    run(main())


def test_maxmsgsize_closes_the_connection(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        pctx = pyzmq_asyncio.Context()
        router = create_socket("ROUTER", keys.server_options(maxmsgsize=1000))
        try:
            router.bind("tcp://127.0.0.1:0")
            dealer = pctx.socket(pyzmq.DEALER)
            dealer.curve_serverkey = keys.server_public
            dealer.curve_publickey = keys.client_public
            dealer.curve_secretkey = keys.client_secret
            dealer.linger = 0
            dealer.connect(router.last_endpoint)
            await dealer.send(b"x" * 1000)
            assert (await router.recv(timeout=3))[1] == b"x" * 1000
            await dealer.send(b"x" * 1001)
            with pytest.raises(BusyError):
                await router.recv(timeout=0.5)
            assert any(
                r.levelno == logging.WARNING
                and "connection with 127.0.0.1:" in r.getMessage()
                for r in caplog.records
            )
        finally:
            await router.close(0)
            pctx.destroy(linger=0)

    run(main())
