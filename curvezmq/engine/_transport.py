"""Bound and connected tcp endpoints: listening, connecting and reconnecting.

A :class:`Listener` owns one listening socket and the connections it accepted
until their handshakes complete. A :class:`Connecter` owns one connected endpoint:
its persistent pipe, its current connection, and the reconnect schedule.

Reconnecting. After a failed attempt, a lost connection or a failed handshake the
connecter waits and tries again. The wait starts at RECONNECT_IVL and doubles with
each failure in a row up to RECONNECT_IVL_MAX (or :data:`DEFAULT_RECONNECT_CAP` when
that is 0), with up to 50 % random jitter so that many clients that lost the same
server do not return in lockstep. It never drops below :data:`_MIN_DELAY`, so no
setting can make a tight loop. A completed handshake resets the count. After the
server sent ERROR (an authentication failure) the connecter stops for good, as
libzmq does: the same credentials would be refused again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket as _socket
from typing import TYPE_CHECKING

from ._endpoint import Endpoint, format_endpoint
from ._options import DEFAULT_RECONNECT_CAP
from ._pipe import Pipe
from ._protocol import ZmtpProtocol, logger

if TYPE_CHECKING:  # pragma: no cover
    from ._socket import Socket

__all__ = ["MAX_PENDING_HANDSHAKES", "Connecter", "Listener"]

# Handshakes in progress per bound endpoint. Each costs a few KiB, so this bounds
# what silent or slow peers can pin, while a whole fleet of honest clients
# reconnecting at once still fits. When it is full the pending handshake that has
# made the least progress (oldest first) is dropped to make room, so silent
# connections cannot lock honest clients out.
MAX_PENDING_HANDSHAKES = 1000

# TODO: DESIGN.md asks to close a connection that sends no valid HELLO soon after
# its greeting; for now only HANDSHAKE_IVL (30 s by default) and the eviction
# above bound a silent peer, so each one holds a slot for up to 30 s.

# The shortest reconnect delay whatever RECONNECT_IVL says, in seconds.
_MIN_DELAY = 0.01


class Listener:
    """One bound tcp endpoint.

    Args:
        socket: the engine socket.
        endpoint: the parsed endpoint.

    Attributes:
        options: the socket's options as they were at ``bind``.
        endpoint: the bound address as LAST_ENDPOINT shows it.
    """

    def __init__(self, socket: Socket, endpoint: Endpoint) -> None:
        self.socket = socket
        # like libzmq, an endpoint keeps the options it was created with
        self.options = dataclasses.replace(socket.options)
        self.requested = endpoint
        self.endpoint = ""
        self.pending: dict[ZmtpProtocol, None] = {}
        self._sock: _socket.socket | None = None
        self._server: asyncio.AbstractServer | None = None
        self._task: asyncio.Task | None = None

    def open(self) -> str:
        """Bind and listen now; accepting starts on the next loop turn.

        Returns:
            the bound endpoint, e.g. ``tcp://127.0.0.1:45197``.

        Raises:
            OSError: the address cannot be bound (EADDRINUSE, EADDRNOTAVAIL...).
        """
        host = self.requested.host or "0.0.0.0"
        infos = _socket.getaddrinfo(
            host,
            self.requested.port,
            type=_socket.SOCK_STREAM,
            flags=_socket.AI_PASSIVE,
        )
        family, kind, proto, _, address = infos[0]
        sock = _socket.socket(family, kind, proto)
        try:
            if hasattr(_socket, "SO_REUSEADDR") and not _is_windows():
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(self.options.backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        bound = sock.getsockname()
        self.endpoint = format_endpoint(bound[0], bound[1])
        self._task = self.socket.loop.create_task(self._serve(sock))
        logger.info("listening on %s", self.endpoint)
        return self.endpoint

    async def _serve(self, sock: _socket.socket) -> None:
        self._server = await self.socket.loop.create_server(
            lambda: ZmtpProtocol(self.socket, self, outgoing=False),
            sock=sock,
        )

    def close(self) -> None:
        """Stop accepting and drop the handshakes still in progress."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            self._sock.close()
        for protocol in list(self.pending):
            protocol.local_close = True
            protocol.abort()
        self.pending.clear()

    # -- protocol callbacks -----------------------------------------------------------

    def connection_made(self, protocol: ZmtpProtocol) -> None:
        self.pending[protocol] = None
        if len(self.pending) > MAX_PENDING_HANDSHAKES:
            victim = min(self.pending, key=lambda p: (p.bytes_received, p.started))
            del self.pending[victim]
            victim.fail(
                f"dropped: more than {MAX_PENDING_HANDSHAKES} handshakes pending on "
                f"{self.endpoint}"
            )

    def handshake_done(self, protocol: ZmtpProtocol, event) -> None:
        self.pending.pop(protocol, None)
        self.socket._attach_connection(protocol, event, None)

    def connection_lost(self, protocol: ZmtpProtocol) -> None:
        self.pending.pop(protocol, None)


class Connecter:
    """One connected tcp endpoint, reconnected with backoff until it is closed.

    Args:
        socket: the engine socket.
        endpoint: the parsed endpoint.

    Attributes:
        options: the socket's options as they were at ``connect``.
        pipe: the endpoint's persistent pipe.
        attempts: how many connection attempts were started (for tests and stats).
        handshakes: how many handshakes completed.
        last_handshake_time: seconds from TCP connect to the last completed
            handshake, or None.
        stopped: True once closed, or refused by the server.
    """

    def __init__(self, socket: Socket, endpoint: Endpoint) -> None:
        self.socket = socket
        self.options = dataclasses.replace(socket.options)
        self.endpoint = endpoint
        self.pipe = Pipe(socket, endpoint.text, persistent=True)
        self.protocol: ZmtpProtocol | None = None
        self.attempts = 0
        self.failures = 0
        self.handshakes = 0
        self.last_handshake_time: float | None = None
        self.stopped = False
        self._retry: asyncio.TimerHandle | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the first attempt on the next loop turn."""
        self._task = self.socket.loop.create_task(self._connect())

    def stop(self) -> None:
        """Stop reconnecting and close the current connection."""
        self.stopped = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self.protocol is not None:
            self.protocol.local_close = True
            self.protocol.close()

    async def _connect(self) -> None:
        self._retry = None
        if self.stopped:
            return
        self.attempts += 1
        try:
            await self.socket.loop.create_connection(
                lambda: ZmtpProtocol(self.socket, self, outgoing=True),
                self.endpoint.host,
                self.endpoint.port,
            )
        except OSError as exc:
            # a server that is not up yet is normal: say it quietly
            logger.debug("connect to %s failed: %s", self.endpoint.text, exc)
            self._schedule()

    def _schedule(self) -> None:
        if self.stopped:
            return
        delay = self.next_delay()
        if delay is None:
            logger.info(
                "not reconnecting to %s (RECONNECT_IVL is -1)", self.endpoint.text
            )
            return
        self.failures += 1
        logger.debug("reconnecting to %s in %.0f ms", self.endpoint.text, delay * 1000)
        self._retry = self.socket.loop.call_later(delay, self._start_attempt)

    def _start_attempt(self) -> None:
        self._retry = None
        if not self.stopped:
            self._task = self.socket.loop.create_task(self._connect())

    def next_delay(self) -> float | None:
        """The wait before the next attempt, in seconds; None when disabled.

        Returns:
            RECONNECT_IVL doubled once per failure in a row, capped, plus up to
            50 % jitter; never less than 10 ms.
        """
        options = self.options
        if options.reconnect_ivl < 0:
            return None
        ivl = max(options.reconnect_ivl / 1000, _MIN_DELAY)
        if options.reconnect_ivl_max > 0:
            cap = max(options.reconnect_ivl_max / 1000, ivl)
        else:
            cap = max(DEFAULT_RECONNECT_CAP, ivl)
        base = min(cap, ivl * (2 ** min(self.failures, 30)))
        return base * (1.0 + 0.5 * random.random())

    # -- protocol callbacks -----------------------------------------------------------

    def connection_made(self, protocol: ZmtpProtocol) -> None:
        self.protocol = protocol

    def handshake_done(self, protocol: ZmtpProtocol, event) -> None:
        self.failures = 0
        self.handshakes += 1
        self.last_handshake_time = protocol.handshake_time
        self.socket._attach_connection(protocol, event, self.pipe)

    def connection_lost(self, protocol: ZmtpProtocol) -> None:
        if self.protocol is protocol:
            self.protocol = None
        if protocol.refused:
            self.stopped = True
            return
        self._schedule()


def _is_windows() -> bool:
    # Windows' SO_REUSEADDR lets a second process steal the port; libzmq skips it
    import sys

    return sys.platform.startswith("win")
