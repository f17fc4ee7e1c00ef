"""pyzmq's ``zmq.auth.asyncio``: :class:`AsyncioAuthenticator`.

Decisions are made on the loop the Context's sockets run on; a credentials
provider's ``callback`` is called there too and may be a coroutine function.
"""

from __future__ import annotations

import warnings
from typing import Any

from ._base import Authenticator

__all__ = ["AsyncioAuthenticator"]


class AsyncioAuthenticator(Authenticator):
    """The Authenticator for asyncio code, with pyzmq's constructor.

    Args:
        context: the Context whose sockets it serves; the global instance when
            None.
        loop: deprecated and ignored, as in pyzmq.
        encoding: how domains, addresses and PLAIN credentials are decoded.
        log: a ``logging.Logger``.
    """

    def __init__(
        self,
        context: Any = None,
        loop: Any = None,
        encoding: str = "utf-8",
        log: Any = None,
    ) -> None:
        super().__init__(context, encoding, log)
        if loop is not None:
            warnings.warn(
                f"{type(self).__name__}(loop) is deprecated and ignored",
                DeprecationWarning,
                stacklevel=2,
            )
