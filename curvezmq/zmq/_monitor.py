"""The receiving end of a socket monitor: a PAIR-like object fed in-process.

pyzmq's ``get_monitor_socket`` binds an inproc PAIR inside libzmq and returns the
PAIR connected to it. curvezmq has no inproc transport, so the engine hands each
event to a callback on its loop, and :class:`MonitorSocket` queues it as the same
two-frame message libzmq sends: a 6-byte frame (uint16 event, uint32 value, host
byte order) and the endpoint text. ``recv``, ``recv_multipart``, ``poll`` and
``close`` behave as on a PAIR, so ``zmq.utils.monitor.recv_monitor_message`` and
code written for pyzmq work unchanged. :class:`AsyncMonitorSocket` is the same
with awaitable calls, for ``zmq.asyncio`` sockets.

A monitor socket can be registered with ``zmq.Poller`` (or ``select``): its
``fileno()`` is one end of a private socket pair that holds one byte exactly while
an event waits, the way libzmq's FD option signals a socket.

TODO: a monitor socket cannot be reached by address (``Socket.monitor(addr)`` is
refused, as there is no inproc transport), so code that connects its own PAIR to
the monitor endpoint must use ``get_monitor_socket`` instead.
"""

from __future__ import annotations

import asyncio
import socket as _socket
import struct
import threading
import time
from collections import deque
from typing import Any

from ._constants import Errno, Flag, PollEvent, SocketOption, SocketType
from ._error import Again, ContextTerminated, ZMQError
from ._frame import Frame

__all__ = ["AsyncMonitorSocket", "MonitorSocket", "pack_event"]

# libzmq's first frame: uint16 event id then uint32 value, native byte order
_EVENT_FRAME = struct.Struct("=HI")

# Events queued and not yet read. libzmq's PAIR drops at its HWM (1000 by default)
# as well; this bounds what a socket that reconnects forever can pile up.
MAX_QUEUED_EVENTS = 10000


def pack_event(event: int, value: int, endpoint: str) -> list:
    """Encode one monitor event as libzmq's two frames.

    Args:
        event: the event number (``zmq.EVENT_*``).
        value: its value (an fd, an errno, a reason code...).
        endpoint: the endpoint the event concerns.

    Returns:
        ``[6-byte frame, endpoint bytes]``.
    """
    return [
        _EVENT_FRAME.pack(event & 0xFFFF, value & 0xFFFFFFFF),
        endpoint.encode("utf-8", "replace"),
    ]


class _MonitorBase:
    """The queue and the PAIR surface both monitor sockets share.

    Args:
        context: the Context of the monitored socket.
        addr: the name the monitor goes by (pyzmq's inproc address).

    Attributes:
        context: the Context.
        addr: the monitor's name.
        linger: accepted and ignored (nothing is ever sent).
        rcvtimeo: how long a blocking ``recv`` waits, in ms; -1 forever.
    """

    socket_type = SocketType.PAIR
    type = SocketType.PAIR

    def __init__(self, context, addr: str) -> None:
        self.context = context
        self.addr = addr
        self.linger = 0
        self.rcvtimeo = -1
        self._lock = threading.Lock()
        self._queue: deque = deque()
        self._parts: deque = deque()
        self._closed = False
        # set by Context.term, which closes monitor sockets with the others
        self._terminated = False
        self.dropped = 0
        # made by the first fileno(): (reader, writer), and whether the writer
        # has put the byte that says "readable"
        self._signal: tuple | None = None
        self._signalled = False
        sockets = getattr(context, "_sockets", None)
        if sockets is not None:
            sockets.add(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._queue)} queued"
        return f"<curvezmq.zmq.MonitorSocket {self.addr} {state}>"

    @property
    def closed(self) -> bool:
        """Whether the monitor socket was closed."""
        return self._closed

    @property
    def rcvmore(self) -> int:
        """1 while the parts of a half-read event remain."""
        return int(bool(self._parts))

    def getsockopt(self, option: int) -> Any:
        """Read RCVMORE, RCVTIMEO, LINGER, TYPE or EVENTS.

        Raises:
            ZMQError: EINVAL for another option; ENOTSOCK once closed.
        """
        self._check_open()
        option = int(option)
        if option == SocketOption.RCVMORE:
            return self.rcvmore
        if option == SocketOption.RCVTIMEO:
            return self.rcvtimeo
        if option == SocketOption.LINGER:
            return self.linger
        if option == SocketOption.TYPE:
            return int(SocketType.PAIR)
        if option == SocketOption.EVENTS:
            return PollEvent.POLLIN if self._readable() else 0
        raise ZMQError(Errno.EINVAL, f"a monitor socket has no option {option}")

    get = getsockopt

    def setsockopt(self, option: int, value: Any) -> None:
        """Set RCVTIMEO or LINGER; other options are accepted and ignored, as
        nothing is ever sent on a monitor socket.

        Raises:
            ZMQError: ENOTSOCK once closed.
        """
        self._check_open()
        option = int(option)
        if option == SocketOption.RCVTIMEO:
            self.rcvtimeo = int(value)
        elif option == SocketOption.LINGER:
            self.linger = int(value)

    set = setsockopt

    def close(self, linger: int | None = None) -> None:
        """Close: queued events are dropped and later ones ignored; a blocked
        ``recv`` raises (ContextTerminated when the Context is terminating)."""
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._parts.clear()
            signal, self._signal = self._signal, None
        if signal is not None:
            for end in signal:
                end.close()
        sockets = getattr(self.context, "_sockets", None)
        if sockets is not None:
            sockets.discard(self)
        self._wake()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- fed by the engine, on its loop ------------------------------------------

    def _push(self, event: int, value: int, endpoint: str) -> None:
        with self._lock:
            if self._closed:
                return
            if len(self._queue) >= MAX_QUEUED_EVENTS:
                self.dropped += 1
                return
            self._queue.append(pack_event(event, value, endpoint))
            self._update_signal()
        self._wake()

    def _wake(self) -> None:
        """Tell waiting readers that something changed."""

    # -- the file descriptor Poller waits on -------------------------------------

    def fileno(self) -> int:
        """A file descriptor that is readable exactly while an event waits.

        Raises:
            ZMQError: ENOTSOCK once closed.
        """
        with self._lock:
            self._check_open()
            if self._signal is None:
                reader, writer = _socket.socketpair()
                reader.setblocking(False)
                writer.setblocking(False)
                self._signal = (reader, writer)
                self._update_signal()
            return self._signal[0].fileno()

    def _update_signal(self) -> None:
        # under the lock: one byte in the pair while readable, none otherwise
        if self._signal is None:
            return
        readable = self._readable()
        if readable and not self._signalled:
            self._signal[1].send(b"\x01")
            self._signalled = True
        elif not readable and self._signalled:
            self._signal[0].recv(1)
            self._signalled = False

    # -- reading -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            if self._terminated:
                raise ContextTerminated()
            raise ZMQError(Errno.ENOTSOCK)

    def _readable(self) -> bool:
        return bool(self._parts or self._queue)

    def _take_part(self, copy: bool) -> Any:
        # under the lock: the next part of the current event, else the first part
        # of the next one
        if not self._parts:
            self._parts.extend(self._queue.popleft())
        part = self._parts.popleft()
        self._update_signal()
        if copy:
            return part
        return Frame(part, more=bool(self._parts))

    def _take_message(self, copy: bool) -> list:
        parts = [self._take_part(copy)]
        while self._parts:
            parts.append(self._take_part(copy))
        return parts


class MonitorSocket(_MonitorBase):
    """The blocking monitor socket ``Socket.get_monitor_socket`` returns.

    Args:
        context: the Context of the monitored socket.
        addr: the name the monitor goes by.
    """

    def __init__(self, context, addr: str) -> None:
        super().__init__(context, addr)
        self._changed = threading.Condition(self._lock)

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _wait(self, timeout_ms: int | None) -> bool:
        # wait until readable or closed; False on timeout
        deadline = None
        if timeout_ms is not None and timeout_ms >= 0:
            deadline = time.monotonic() + timeout_ms / 1000
        with self._changed:
            while not self._readable() and not self._closed:
                if deadline is None:
                    self._changed.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive the next part of the next event.

        Raises:
            zmq.Again: NOBLOCK and nothing queued, or RCVTIMEO expired.
            ZMQError: ENOTSOCK once closed.
        """
        self._check_open()
        if not flags & Flag.DONTWAIT:
            self._wait(self.rcvtimeo)
        with self._lock:
            self._check_open()
            if not self._readable():
                raise Again()
            return self._take_part(copy)

    def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list:
        """Receive one whole event: ``[6-byte frame, endpoint]``.

        Raises:
            zmq.Again, ZMQError: as :meth:`recv`.
        """
        self._check_open()
        if not flags & Flag.DONTWAIT:
            self._wait(self.rcvtimeo)
        with self._lock:
            self._check_open()
            if not self._readable():
                raise Again()
            return self._take_message(copy)

    def poll(self, timeout: int | None = None, flags: int = PollEvent.POLLIN) -> int:
        """Wait until an event is queued.

        Args:
            timeout: milliseconds; None or a negative value waits forever.
            flags: POLLIN (POLLOUT is never ready: a monitor only receives).

        Returns:
            POLLIN when readable, else 0.

        Raises:
            ZMQError: ENOTSUP once closed, as pyzmq.
        """
        if self._closed:
            raise ZMQError(Errno.ENOTSUP)
        if not flags & PollEvent.POLLIN:
            return 0
        if timeout is not None and timeout < 0:
            timeout = None
        if self._wait(timeout) and self._readable():
            return PollEvent.POLLIN
        return 0


class AsyncMonitorSocket(_MonitorBase):
    """The monitor socket a ``zmq.asyncio`` socket returns: ``recv``,
    ``recv_multipart`` and ``poll`` are coroutines.

    Args:
        context: the Context of the monitored socket.
        addr: the name the monitor goes by.
        loop: the loop the monitored socket runs on (events arrive there).
    """

    def __init__(self, context, addr: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(context, addr)
        self._loop = loop
        self._waiters: list[asyncio.Future] = []

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def _wait(self, timeout_ms: int | None) -> bool:
        timeout = None
        if timeout_ms is not None and timeout_ms >= 0:
            timeout = timeout_ms / 1000
        deadline = None if timeout is None else self._loop.time() + timeout
        while not self._readable() and not self._closed:
            future = self._loop.create_future()
            self._waiters.append(future)
            remaining = None if deadline is None else deadline - self._loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(future, remaining)
            except asyncio.TimeoutError:
                return False
        return True

    async def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive the next part of the next event.

        Raises:
            zmq.Again: NOBLOCK and nothing queued, or RCVTIMEO expired.
            ZMQError: ENOTSOCK once closed.
        """
        self._check_open()
        if not flags & Flag.DONTWAIT:
            await self._wait(self.rcvtimeo)
        self._check_open()
        if not self._readable():
            raise Again()
        return self._take_part(copy)

    async def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list:
        """Receive one whole event: ``[6-byte frame, endpoint]``.

        Raises:
            zmq.Again, ZMQError: as :meth:`recv`.
        """
        self._check_open()
        if not flags & Flag.DONTWAIT:
            await self._wait(self.rcvtimeo)
        self._check_open()
        if not self._readable():
            raise Again()
        return self._take_message(copy)

    async def poll(
        self, timeout: int | None = None, flags: int = PollEvent.POLLIN
    ) -> int:
        """Wait until an event is queued; POLLIN, or 0 on timeout.

        Raises:
            ZMQError: ENOTSUP once closed.
        """
        if self._closed:
            raise ZMQError(Errno.ENOTSUP)
        if not flags & PollEvent.POLLIN:
            return 0
        if timeout is not None and timeout < 0:
            timeout = None
        if await self._wait(timeout) and self._readable():
            return PollEvent.POLLIN
        return 0
