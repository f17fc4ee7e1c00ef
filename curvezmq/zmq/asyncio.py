"""pyzmq's ``zmq.asyncio`` over curvezmq: sockets with awaitable send and recv.

``import curvezmq.zmq.asyncio as zaio``; ``ctx = zaio.Context()``; then
``await sock.recv()``. The sockets live on the event loop that is running when
they are first used (bound, connected, sent or received on); nothing runs in
another thread. ``bind``, ``connect``, ``setsockopt`` and ``close`` are plain
calls, as in pyzmq.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import warnings
from typing import Any

from ..engine import create_socket, fetch_server_certificate
from ..errors import CurveZMQError
from ._constants import *
from ._constants import Errno, Flag, PollEvent
from ._context import ContextBase
from ._error import ZMQError
from ._monitor import AsyncMonitorSocket
from ._poll import Poller as _BlockingPoller
from ._socket import SocketBase, _engine_events

# plain ints: testing an int against an IntFlag member costs a microsecond or
# two per call on the per-message path, an int against an int almost nothing
_DONTWAIT = int(Flag.DONTWAIT)

__all__ = ["Context", "Poller", "Socket", "fetch_server_certificate"]


def _running_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return asyncio.get_event_loop()


class Socket(SocketBase):
    """An asyncio socket, like ``zmq.asyncio.Socket``; make it with
    ``Context.socket``."""

    def __init__(self, context, socket_type: int) -> None:
        super().__init__(context, socket_type)
        self._apply_context_options()

    @property
    def _engine(self):
        # made on first use, on the loop running then
        if self._engine_socket is None:
            self._check_open()
            try:
                self._engine_socket = create_socket(
                    self._type.name,
                    self._options,
                    loop=_running_loop(),
                    policy=self.context._get_policy,
                )
            except NotImplementedError as exc:
                raise ZMQError(Errno.ENOTSUP, str(exc)) from exc
        return self._engine_socket

    def _call(self, fn, *args) -> Any:
        try:
            return fn(*args)
        except (CurveZMQError, OSError) as exc:
            raise self._error(exc) from exc

    # -- sending -------------------------------------------------------------------

    async def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs: Any,
    ) -> None:
        """Send one part; with SNDMORE more parts follow.

        Raises:
            zmq.Again: NOBLOCK and no peer can take it, or SNDTIMEO expired.
            ZMQError: EFSM (REQ/REP order), ENOTSOCK (closed).
        """
        frames = self._stage(data, flags)
        if frames is not None:
            await self._send_frames(frames, flags)

    async def send_multipart(
        self,
        msg_parts,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs: Any,
    ) -> None:
        """Send a whole message."""
        await self._send_frames(self._stage_multipart(msg_parts), flags)

    async def _send_frames(self, frames: list, flags: int) -> None:
        # the engine is awaited inline rather than through a wrapper coroutine:
        # one coroutine frame less on every message
        engine = self._engine
        try:
            if flags & _DONTWAIT:
                engine.send_nowait(frames)
            else:
                await engine.send(frames)
        except (CurveZMQError, OSError) as exc:
            raise self._error(exc) from exc

    async def send_string(
        self,
        u: str,
        flags: int = 0,
        copy: bool = True,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> None:
        """Send text as one part."""
        await self.send(self._string_part(u, encoding), flags=flags)

    async def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> None:
        """Send an object as JSON text."""
        await self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags=flags)

    async def send_pyobj(
        self,
        obj: Any,
        flags: int = 0,
        protocol: int = pickle.DEFAULT_PROTOCOL,
        **kwargs: Any,
    ) -> None:
        """Send an object pickled; only for peers you trust, as with pyzmq."""
        await self.send(pickle.dumps(obj, protocol), flags=flags)

    # -- receiving -------------------------------------------------------------------

    async def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one part: bytes, or a ``Frame`` with ``copy=False``.

        Raises:
            zmq.Again: NOBLOCK and nothing arrived, or RCVTIMEO expired.
            ZMQError: EFSM (REQ/REP order), ENOTSOCK (closed).
        """
        self._check_open()
        if self._receiving:
            return self._next_part(copy)
        engine = self._engine
        try:
            if flags & _DONTWAIT:
                frames = engine.recv_nowait()
            else:
                frames = await engine.recv()
        except (CurveZMQError, OSError) as exc:
            raise self._error(exc) from exc
        return self._take(frames, copy)

    async def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list:
        """Receive every part of one message."""
        parts = [await self.recv(flags, copy=copy)]
        while self._receiving:
            parts.append(self._next_part(copy))
        return parts

    async def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        """Receive one part as text."""
        return (await self.recv(flags)).decode(encoding)

    async def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        """Receive one part and parse it as JSON."""
        return json.loads(await self.recv(flags), **kwargs)

    async def recv_pyobj(self, flags: int = 0) -> Any:
        """Receive one part and unpickle it; only from peers you trust."""
        return pickle.loads(await self.recv(flags))

    def _new_monitor(self, addr: str) -> AsyncMonitorSocket:
        return AsyncMonitorSocket(self.context, addr, self._engine.loop)

    def _set_monitor(self, callback, events: int) -> None:
        self._engine.set_monitor(callback, events)

    async def poll(
        self, timeout: int | None = None, flags: int = PollEvent.POLLIN
    ) -> int:
        """Wait until readable (POLLIN) or writable (POLLOUT); 0 on timeout.

        Args:
            timeout: milliseconds; None waits forever.
            flags: POLLIN, POLLOUT or both.
        """
        ready = self._ready_now(timeout, flags)
        if ready is not None:
            return ready
        poller = Poller()
        poller.register(self, flags)
        found = await poller.poll(timeout)
        return found[0][1] if found else 0

    def _engine_events(self) -> int:
        engine = self._engine_socket
        return 0 if engine is None else _engine_events(engine)


class Poller(_BlockingPoller):
    """An asyncio Poller, like ``zmq.asyncio.Poller``: ``await poller.poll()``.

    Sockets are asyncio sockets of this module, living on the running loop;
    file descriptors are watched with the loop's readers and writers.
    """

    async def poll(self, timeout: float | None = None) -> list:
        """Wait until a registered socket has an event of interest.

        Args:
            timeout: milliseconds; None or a negative number waits forever.

        Returns:
            ``(socket, events)`` for the sockets with events; empty on timeout.

        Raises:
            ZMQError: ENOTSOCK when a registered socket is closed.
        """
        loop = asyncio.get_running_loop()
        deadline = None
        if timeout is not None and timeout >= 0:
            deadline = loop.time() + timeout / 1000
        changed = asyncio.Event()
        engines = []
        files = []
        for sock, flags in self.sockets:
            if isinstance(sock, Socket):
                if sock.closed:
                    raise ZMQError(Errno.ENOTSOCK)
                engines.append(sock._engine)
            else:
                files.append((sock, _fileno(sock), flags))
        for engine in engines:
            engine.add_watcher(changed.set)
        for _, fd, flags in files:
            if flags & PollEvent.POLLIN:
                loop.add_reader(fd, changed.set)
            if flags & PollEvent.POLLOUT:
                loop.add_writer(fd, changed.set)
        try:
            while True:
                changed.clear()
                ready = self._look_here(files)
                remaining = None if deadline is None else deadline - loop.time()
                if ready or (remaining is not None and remaining <= 0):
                    return ready
                try:
                    await asyncio.wait_for(changed.wait(), remaining)
                except TimeoutError:
                    return self._look_here(files)
        finally:
            for engine in engines:
                engine.remove_watcher(changed.set)
            for _, fd, flags in files:
                if flags & PollEvent.POLLIN:
                    loop.remove_reader(fd)
                if flags & PollEvent.POLLOUT:
                    loop.remove_writer(fd)

    def _look_here(self, files: list) -> list:
        found = {}
        for sock, flags in self.sockets:
            if isinstance(sock, Socket):
                mask = sock._events() & flags
                if mask:
                    found[sock] = mask
        if files:
            found.update(dict(self._look([], files)))
        return [(s, found[s]) for s, _ in self.sockets if s in found]


def _fileno(obj: Any) -> int:
    return obj if isinstance(obj, int) else obj.fileno()


class Context(ContextBase):
    """An asyncio Context, like ``zmq.asyncio.Context``: sockets with awaitable
    calls on the running event loop."""

    def socket(self, socket_type: int, **kwargs: Any) -> Socket:
        """Make an asyncio socket.

        Raises:
            ZMQError: ETERM after ``term``; EINVAL for an unknown type.
        """
        return self._new_socket(Socket, socket_type)

    def _socket_closed(self, sock: Socket, engine, linger: int | None) -> None:
        self._sockets.discard(sock)
        if engine is not None:  # never used: no engine socket was made
            self._closing.append(engine.close(linger))

    def term(self) -> None:
        """Close the sockets left open; their LINGER runs while the loop does.

        pyzmq's ``term`` blocks; a coroutine cannot, so this returns at once. Await
        :meth:`wait_closed` to wait for the lingering sockets.
        """
        if self.closed:
            return
        self._close_sockets()
        self.closed = True

    async def wait_closed(self) -> None:
        """Wait until every closed socket has finished lingering."""
        closing, self._closing = self._closing, []
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)
