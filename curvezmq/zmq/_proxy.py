"""``zmq.proxy``: forward messages between two sockets, like libzmq's zmq_proxy.

Runs in the calling thread until a socket's context ends or a socket is closed,
as pyzmq's ``zmq.proxy`` blocks until the context is terminated. Whole multipart
messages are forwarded in both directions; a capture socket, when given, gets a
copy of each one.
"""

from __future__ import annotations

from typing import Any

from ._constants import PollEvent
from ._poll import Poller

__all__ = ["device", "proxy"]

_POLLIN = int(PollEvent.POLLIN)
# How long one wait lasts, in ms: short enough that a socket closed by another
# thread ends the proxy promptly, long enough to cost nothing when idle.
_WAIT_MS = 100


def proxy(frontend: Any, backend: Any, capture: Any = None) -> None:
    """Forward messages between ``frontend`` and ``backend`` until one ends.

    Args:
        frontend: a socket (typically ROUTER or XSUB).
        backend: a socket (typically DEALER or XPUB).
        capture: an optional socket that gets a copy of every message forwarded.

    Raises:
        ContextTerminated: the sockets' context was terminated (pyzmq's way of
            ending a proxy).
        ZMQError: a socket failed otherwise, e.g. ENOTSOCK when it was closed.
    """
    poller = Poller()
    poller.register(frontend, _POLLIN)
    if backend is not frontend:
        poller.register(backend, _POLLIN)
    while True:
        ready = dict(poller.poll(_WAIT_MS))
        if ready.get(frontend, 0) & _POLLIN:
            _forward(frontend, backend, capture)
        if backend is not frontend and ready.get(backend, 0) & _POLLIN:
            _forward(backend, frontend, capture)


def _forward(source: Any, target: Any, capture: Any) -> None:
    frames = source.recv_multipart(copy=True)
    if capture is not None:
        capture.send_multipart(frames)
    target.send_multipart(frames)


def device(device_type: int, frontend: Any, backend: Any) -> None:
    """``zmq.device``: the older name of :func:`proxy`; the type is ignored, as
    libzmq ignores it.

    Raises:
        ContextTerminated, ZMQError: as :func:`proxy`.
    """
    proxy(frontend, backend)
