"""``zmq.Poller`` and ``zmq.select``: wait on several sockets (and plain files).

Theory of operation. A blocking :class:`Poller` asks each socket for its events
(one hand-off to the Context's loop thread per Context, for all of its sockets),
and returns at once if any is ready. Otherwise it waits in ``select`` on the
plain file descriptors it was given plus one end of a private socket pair. Each
polled engine socket has a watcher that writes a byte to the other end whenever
the socket may have become readable or writable, so the wait ends as soon as
anything changes, and the events are asked for again. The watchers are installed
before the first look and removed when ``poll`` returns, so no change slips
between a look and the wait.

A socket becomes readable on a message arriving, writable on a peer connecting,
a queue draining or a transport taking data again; changes the polling thread
makes itself (a recv that lets REQ send) are seen by the next look.
"""

from __future__ import annotations

import select as _select
import socket as _socket
import time
from typing import Any

from ._constants import Errno, PollEvent
from ._error import ZMQError

__all__ = ["Poller", "select"]

_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
_POLLERR = int(PollEvent.POLLERR)


def _is_ours(obj: Any) -> bool:
    # one of our blocking sockets (it has an engine on a Context's loop)
    from ._socket import Socket

    return isinstance(obj, Socket)


def _fileno(obj: Any) -> int:
    if isinstance(obj, int):
        return obj
    try:
        return obj.fileno()
    except AttributeError:
        raise TypeError(
            f"expected a curvezmq socket, a file descriptor or an object with "
            f"fileno(), got {type(obj).__name__}"
        ) from None


class Poller:
    """A set of sockets and file descriptors to wait on, like ``zmq.Poller``.

    Attributes:
        sockets: the registered ``(socket, flags)`` pairs, in registration order.
    """

    def __init__(self) -> None:
        self.sockets: list[tuple[Any, int]] = []
        self._index: dict[Any, int] = {}
        self._waker: tuple[_socket.socket, _socket.socket] | None = None

    def __contains__(self, socket: Any) -> bool:
        return socket in self._index

    def register(self, socket: Any, flags: int = _POLLIN | _POLLOUT) -> None:
        """Watch a socket or file for ``flags`` (POLLIN, POLLOUT, POLLERR).

        Registering again changes the flags; flags of 0 unregisters it.

        Args:
            socket: a curvezmq socket, a file descriptor, or an object with
                ``fileno()``.
            flags: the events of interest.
        """
        if not flags:
            if socket in self._index:
                self.unregister(socket)
            return
        if socket in self._index:
            self.sockets[self._index[socket]] = (socket, int(flags))
        else:
            self._index[socket] = len(self.sockets)
            self.sockets.append((socket, int(flags)))

    def modify(self, socket: Any, flags: int = _POLLIN | _POLLOUT) -> None:
        """Change the flags of a registered socket (``register`` again)."""
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        """Stop watching a socket.

        Raises:
            KeyError: it was not registered (as in pyzmq).
        """
        index = self._index.pop(socket)
        self.sockets.pop(index)
        for other, position in self._index.items():
            if position > index:
                self._index[other] = position - 1

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait until a registered socket has an event of interest.

        Args:
            timeout: milliseconds; None or a negative number waits forever, 0
                only looks.

        Returns:
            ``(socket, events)`` for each registered socket with events, in
            registration order; empty on timeout.

        Raises:
            ZMQError: ENOTSOCK when a registered socket is closed.
        """
        deadline = None
        if timeout is not None and timeout >= 0:
            deadline = time.monotonic() + timeout / 1000
        ours = [(s, f) for s, f in self.sockets if _is_ours(s)]
        files = [(s, _fileno(s), f) for s, f in self.sockets if not _is_ours(s)]
        for sock, _ in ours:
            if sock.closed:
                raise ZMQError(Errno.ENOTSOCK)

        if ours and self._waker is None:
            self._waker = _socket.socketpair()
            for end in self._waker:
                end.setblocking(False)
        watchers = self._watch(ours) if ours else []
        try:
            while True:
                if self._waker is not None:
                    _drain(self._waker[0])
                ready = self._look(ours, files)
                remaining = None
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                if ready or (remaining is not None and remaining <= 0):
                    return ready
                self._wait(files, remaining)
        finally:
            self._unwatch(watchers)

    # -- looking and waiting ----------------------------------------------------------

    def _look(self, ours: list, files: list) -> list:
        found: dict[Any, int] = {}
        # one hand-off per Context for all of its sockets
        by_context: dict[Any, list] = {}
        for sock, flags in ours:
            by_context.setdefault(sock.context, []).append((sock, flags))
        for context, members in by_context.items():
            engines = [sock._engine for sock, _ in members]
            masks = context._run(_engine_masks, engines)
            for (sock, flags), mask in zip(members, masks):
                if sock._receiving:
                    mask |= _POLLIN
                if mask & flags:
                    found[sock] = mask & flags
        if files:
            readers = [fd for _, fd, f in files if f & _POLLIN]
            writers = [fd for _, fd, f in files if f & _POLLOUT]
            errors = [fd for _, fd, f in files if f & _POLLERR]
            r, w, x = _select.select(readers, writers, errors, 0)
            for obj, fd, flags in files:
                mask = (
                    (_POLLIN if fd in r else 0)
                    | (_POLLOUT if fd in w else 0)
                    | (_POLLERR if fd in x else 0)
                )
                if mask & flags:
                    found[obj] = mask & flags
        return [(s, found[s]) for s, _ in self.sockets if s in found]

    def _wait(self, files: list, remaining: float | None) -> None:
        readers = [fd for _, fd, f in files if f & _POLLIN]
        writers = [fd for _, fd, f in files if f & _POLLOUT]
        errors = [fd for _, fd, f in files if f & _POLLERR]
        if self._waker is not None:
            readers.append(self._waker[0].fileno())
        if not readers and not writers and not errors:
            # nothing to wait on: zmq_poll with no items just sleeps
            time.sleep(remaining if remaining is not None else 3600)
            return
        _select.select(readers, writers, errors, remaining)

    def _watch(self, ours: list) -> list:
        end = self._waker[1]

        def wake() -> None:
            try:
                end.send(b"\x00")
            except OSError:
                pass  # full: a wake-up is already pending

        watchers = []
        for context, engines in _engines_by_context(ours).items():
            context._run(_add_watchers, engines, wake)
            watchers.append((context, engines, wake))
        return watchers

    def _unwatch(self, watchers: list) -> None:
        for context, engines, wake in watchers:
            try:
                context._run(_remove_watchers, engines, wake)
            except Exception:
                pass  # the Context is gone, and the watchers with it

    def __del__(self) -> None:
        waker = getattr(self, "_waker", None)
        if waker is not None:
            for end in waker:
                end.close()


def _engines_by_context(ours: list) -> dict:
    grouped: dict[Any, list] = {}
    for sock, _ in ours:
        grouped.setdefault(sock.context, []).append(sock._engine)
    return grouped


def _engine_masks(engines: list) -> list[int]:
    # on the loop thread: each engine's POLLIN / POLLOUT
    from ._socket import _engine_events

    return [_engine_events(engine) for engine in engines]


def _add_watchers(engines: list, wake) -> None:
    for engine in engines:
        engine.add_watcher(wake)


def _remove_watchers(engines: list, wake) -> None:
    for engine in engines:
        engine.remove_watcher(wake)


def _drain(sock: _socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


def select(
    rlist: list, wlist: list, xlist: list, timeout: float | None = None
) -> tuple[list, list, list]:
    """Wait like ``select.select`` on sockets and files, as ``zmq.select`` does.

    Args:
        rlist: wait until these are readable.
        wlist: wait until these are writable.
        xlist: wait for errors on these.
        timeout: seconds (not milliseconds, as in pyzmq); None waits forever.

    Returns:
        the ready subsets of ``rlist``, ``wlist`` and ``xlist``.
    """
    poller = Poller()
    for objs, flag in ((rlist, _POLLIN), (wlist, _POLLOUT), (xlist, _POLLERR)):
        for obj in objs:
            flags = dict(poller.sockets).get(obj, 0) if obj in poller else 0
            poller.register(obj, flags | flag)
    found = dict(poller.poll(None if timeout is None else timeout * 1000))
    return (
        [s for s in rlist if found.get(s, 0) & _POLLIN],
        [s for s in wlist if found.get(s, 0) & _POLLOUT],
        [s for s in xlist if found.get(s, 0) & _POLLERR],
    )
