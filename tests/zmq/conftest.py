"""Fixtures for the pyzmq-compatible API tests: our Context and pyzmq's, CURVE keys.

Every test talks to libzmq through pyzmq over real TCP on 127.0.0.1 and sets short
timeouts, so a failure shows up as an error in seconds, never as a hang.
"""

from __future__ import annotations

import pytest

zmq_pyzmq = pytest.importorskip("zmq")

import curvezmq.zmq as ours

# Every blocking receive in these tests gives up after this many milliseconds.
TIMEOUT_MS = 3000


class Keys:
    """A server and a client key pair, Z85."""

    def __init__(self) -> None:
        self.server_public, self.server_secret = ours.curve_keypair()
        self.client_public, self.client_secret = ours.curve_keypair()


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
    context = zmq_pyzmq.Context()
    yield context
    context.destroy(linger=0)


def curve_server(sock, keys: Keys) -> None:
    """Make a socket (ours or pyzmq's) a CURVE server with the test keys."""
    sock.curve_server = True
    sock.curve_secretkey = keys.server_secret
    sock.curve_publickey = keys.server_public
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS


def curve_client(sock, keys: Keys, server_public=None) -> None:
    """Make a socket (ours or pyzmq's) a CURVE client of the test server."""
    sock.curve_serverkey = server_public or keys.server_public
    sock.curve_publickey = keys.client_public
    sock.curve_secretkey = keys.client_secret
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS


def bind_local(sock) -> str:
    """Bind to a free port on 127.0.0.1 and return the endpoint."""
    sock.bind("tcp://127.0.0.1:*")
    endpoint = sock.getsockopt(ours.LAST_ENDPOINT)
    return endpoint.decode() if isinstance(endpoint, bytes) else endpoint
