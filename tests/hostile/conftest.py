"""Fixtures for the hostile tests: our CURVE server (a ``curvezmq.zmq`` REP bound on
127.0.0.1), keys, and an honest libzmq (pyzmq) client that proves the server still
serves after each attack. Every blocking call has a short timeout: a failure shows up
as an error in seconds, never as a hang.
"""

from __future__ import annotations

import logging

import pytest

zmq = pytest.importorskip("zmq")
pytest.importorskip("nacl")

import curvezmq.zmq as ours

TIMEOUT_MS = 3000


class Keys:
    """A server and a client key pair (Z85), plus a stranger's."""

    def __init__(self) -> None:
        self.server_public, self.server_secret = ours.curve_keypair()
        self.client_public, self.client_secret = ours.curve_keypair()
        self.other_public, self.other_secret = ours.curve_keypair()

    @property
    def secrets(self) -> list[bytes]:
        return [self.server_secret, self.client_secret]


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def ctx():
    context = ours.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def pctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def make_server(ctx, keys: Keys, kind=None, **options):
    sock = ctx.socket(kind if kind is not None else ours.REP)
    sock.curve_server = True
    sock.curve_secretkey = keys.server_secret
    sock.curve_publickey = keys.server_public
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    for name, value in options.items():
        setattr(sock, name, value)
    sock.bind("tcp://127.0.0.1:*")
    return sock


@pytest.fixture
def server(ctx, keys):
    """Our CURVE REP server; its endpoint is ``server.endpoint``."""
    sock = make_server(ctx, keys)
    sock.endpoint = sock.getsockopt(ours.LAST_ENDPOINT).decode()
    return sock


def curve_client(sock, keys: Keys, server_public=None) -> None:
    sock.curve_serverkey = server_public or keys.server_public
    sock.curve_publickey = keys.client_public
    sock.curve_secretkey = keys.client_secret
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS


def honest_round_trip(pctx, server, keys: Keys, payload: bytes = b"honest") -> None:
    """A libzmq REQ client completes a CURVE round trip with our server."""
    client = pctx.socket(zmq.REQ)
    try:
        curve_client(client, keys)
        client.connect(server.endpoint)
        client.send(payload)
        assert server.recv() == payload
        server.send(b"re:" + payload)
        assert client.recv() == b"re:" + payload
    finally:
        client.close(linger=0)


def assert_nothing_delivered(server) -> None:
    with pytest.raises(ours.Again):
        server.recv(ours.NOBLOCK)


def engine_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("curvezmq")
    ]
