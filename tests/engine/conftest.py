"""Fixtures for the engine tests: asyncio sockets of ours, pyzmq peers, raw TCP."""

from __future__ import annotations

import asyncio

import pytest

from curvezmq import curve_keypair
from curvezmq.engine import Options
from curvezmq.keys import key_bytes


class Keys:
    """A server and a client key pair: Z85 for pyzmq, raw for our Options."""

    def __init__(self) -> None:
        self.server_public, self.server_secret = curve_keypair()
        self.client_public, self.client_secret = curve_keypair()

    def server_options(self, **kwargs) -> Options:
        return Options(
            curve_server=True,
            curve_publickey=key_bytes(self.server_public),
            curve_secretkey=key_bytes(self.server_secret),
            linger=0,
            **kwargs,
        )

    def client_options(self, server_public=None, **kwargs) -> Options:
        return Options(
            curve_serverkey=key_bytes(server_public or self.server_public),
            curve_publickey=key_bytes(self.client_public),
            curve_secretkey=key_bytes(self.client_secret),
            linger=0,
            **kwargs,
        )


@pytest.fixture
def keys() -> Keys:
    return Keys()


def run(coroutine, timeout: float = 20.0):
    """Run a test coroutine on a fresh loop, failing instead of hanging."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def wait_for(predicate, timeout: float = 3.0, step: float = 0.01) -> None:
    """Poll until ``predicate()`` is true, or fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)
