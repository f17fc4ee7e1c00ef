"""pyzmq's ``zmq.auth.thread``: :class:`ThreadAuthenticator`.

pyzmq runs its authenticator in a background thread that serves the ZAP socket.
Here decisions are made in-process on the Context's loop, so there is no thread to
run; what stays from the name is that a credentials provider's ``callback`` runs
in a worker thread (it may block, for example on a database), while the
handshake waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from typing import Any

from ._base import Authenticator

__all__ = ["ThreadAuthenticator"]


class ThreadAuthenticator(Authenticator):
    """The Authenticator for blocking code, with pyzmq's constructor.

    Args:
        context: the Context whose sockets it serves; the global instance when
            None.
        encoding: how domains, addresses and PLAIN credentials are decoded.
        log: a ``logging.Logger``.
    """

    def __init__(
        self, context: Any = None, encoding: str = "utf-8", log: Any = None
    ) -> None:
        super().__init__(context, encoding, log)

    def _call_provider(self, provider: Any, domain: str, z85_key: bytes):
        callback = provider.callback
        if inspect.iscoroutinefunction(callback):
            return callback(domain, z85_key)
        # off the event loop: a blocking lookup must not stall every socket
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(None, callback, domain, z85_key)

    def __del__(self) -> None:
        # the context may already be gone at interpreter exit
        with contextlib.suppress(Exception):
            self.stop()
