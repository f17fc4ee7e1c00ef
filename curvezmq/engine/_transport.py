"""Bound and connected endpoints (tcp, ipc): listening, connecting, reconnecting.

A :class:`Listener` owns one listening socket and the connections it accepted
until their handshakes complete. A :class:`Connecter` owns one connected endpoint:
its persistent pipe, its current connection, and the reconnect schedule.

tcp binds IPv4 only unless the socket's IPV6 option is on; then ``*`` binds one
dual-stack IPv6 socket and host names resolve to both families, as in libzmq.
ipc is asyncio's unix sockets. Binding an ipc path replaces a stale socket file
left behind by a process that died, and the file is removed when the listener
closes. Unlike libzmq, which unlinks whatever is there, a path where a live
socket still accepts is refused with EADDRINUSE instead of stolen from it.

Fetching the server key (CURVE_SERVERKEY_FETCH, docs/extensions.md). A CURVE
client without a server key fetches the server's certificate over a separate short
connection before each attempt and lets the validator decide on its key (without
one, the known-hosts store: trust on first use, refuse a changed key). Only a key
so trusted is used for the handshake. A server without the exchange (libzmq) or a
refused key stops the connecter for good, loudly: retrying would change nothing.

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
import errno
import os
import random
import shutil
import socket as _socket
import stat
import tempfile
from typing import TYPE_CHECKING

from .. import z85
from ..certs import CertificateError, KnownHosts
from ..keys import usable_public_key
from ..zmtp import CertificateExchangeError
from ._endpoint import Endpoint, format_endpoint
from ._exchange import Verdict, fetch_server_certificate, validate
from ._monitor import MonitorEvent
from ._options import DEFAULT_RECONNECT_CAP
from ._pipe import Pipe
from ._protocol import ZmtpProtocol, logger

if TYPE_CHECKING:  # pragma: no cover
    from ._socket import Socket

__all__ = ["Connecter", "Listener"]

# A cap is not a lockout. MAX_HANDSHAKES (the endpoint's option) bounds the
# handshakes in progress per bound endpoint, so silent or slow peers can pin only
# so much. When it is full the pending handshake that has made the least progress
# (oldest first) is closed to make room: a newcomer always gets in, and among
# peers that have proven nothing the one that has wasted its slot longest goes.
# Deadlines empty the cap from the other side: CURVE_HELLO_IVL (2 s) closes a
# connection that sends no valid HELLO, HANDSHAKE_IVL (30 s) any unfinished one.

# The shortest reconnect delay whatever RECONNECT_IVL says, in seconds.
_MIN_DELAY = 0.01


class Listener:
    """One bound endpoint (tcp or ipc).

    Args:
        socket: the engine socket.
        endpoint: the parsed endpoint.

    Attributes:
        options: the socket's options as they were at ``bind``.
        endpoint: the bound address as LAST_ENDPOINT shows it.
        label: the same, naming the endpoint in logs.
    """

    def __init__(self, socket: Socket, endpoint: Endpoint) -> None:
        self.socket = socket
        # like libzmq, an endpoint keeps the options it was created with
        self.options = dataclasses.replace(socket.options)
        self.requested = endpoint
        self.endpoint = ""
        self.pending: dict[ZmtpProtocol, None] = {}
        self.evicted = 0  # handshakes closed to make room (for tests and stats)
        # only a connecter fetches server keys (CURVE_SERVERKEY_FETCH)
        self.server_key: bytes | None = None
        self.trusted_key: bytes | None = None
        self._sock: _socket.socket | None = None
        self._fd = -1  # the listening socket's fd, for the monitor
        self._server: asyncio.AbstractServer | None = None
        self._task: asyncio.Task | None = None
        self._unlink: str | None = None  # the ipc file we made
        self._tmpdir: str | None = None  # the directory ipc://* made

    @property
    def label(self) -> str:
        return self.endpoint or self.requested.text

    def open(self) -> str:
        """Bind and listen now; accepting starts on the next loop turn.

        Returns:
            the bound endpoint, e.g. ``tcp://127.0.0.1:45197``,
            ``tcp://[::]:45197`` or ``ipc:///tmp/tmpab12cd/socket``.

        Raises:
            OSError: the address cannot be bound (EADDRINUSE, EADDRNOTAVAIL,
                ENODEV for a host that does not resolve in the enabled
                families...).
        """
        if self.requested.transport == "ipc":
            sock = self._bind_ipc()
            serve = self.socket.loop.create_unix_server
        else:
            sock = self._bind_tcp()
            serve = self.socket.loop.create_server
        self._sock = sock
        self._fd = sock.fileno()
        self._task = self.socket.loop.create_task(self._serve(serve, sock))
        logger.info("listening on %s", self.endpoint)
        self.socket._monitor_event(MonitorEvent.LISTENING, self._fd, self.endpoint)
        return self.endpoint

    def _bind_tcp(self) -> _socket.socket:
        host, port = self.requested.host, self.requested.port
        ipv6 = self.options.ipv6 and _socket.has_ipv6
        if not host:
            # the wildcard: one dual-stack socket with IPV6, else IPv4 only
            family = _socket.AF_INET6 if ipv6 else _socket.AF_INET
            address = ("::" if ipv6 else "0.0.0.0", port)
            proto = 0
        else:
            try:
                infos = _socket.getaddrinfo(
                    host,
                    port,
                    family=_socket.AF_UNSPEC if ipv6 else _socket.AF_INET,
                    type=_socket.SOCK_STREAM,
                    flags=_socket.AI_PASSIVE,
                )
            except _socket.gaierror as exc:
                # libzmq: ENODEV for an address it cannot use (an IPv6 one
                # without the IPV6 option, an unknown name)
                raise OSError(
                    errno.ENODEV, f"cannot bind {host!r}: {exc.strerror}"
                ) from exc
            family, _, proto, _, address = infos[0]
        sock = _socket.socket(family, _socket.SOCK_STREAM, proto)
        try:
            if hasattr(_socket, "SO_REUSEADDR") and not _is_windows():
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
            if family == _socket.AF_INET6 and not host:
                sock.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 0)
            sock.bind(address)
            sock.listen(self.options.backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        bound = sock.getsockname()
        self.endpoint = format_endpoint(bound[0], bound[1])
        return sock

    def _bind_ipc(self) -> _socket.socket:
        path = self.requested.path
        if path == "*":
            # libzmq makes a fresh directory and binds "socket" in it
            self._tmpdir = tempfile.mkdtemp(prefix="curvezmq-")
            path = os.path.join(self._tmpdir, "socket")
        abstract = path.startswith("@")
        if not abstract:
            _remove_stale_socket(path)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.bind("\0" + path[1:] if abstract else path)
            sock.listen(self.options.backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            self._remove_files()
            raise
        if not abstract:
            self._unlink = path
        self.endpoint = "ipc://" + path
        return sock

    async def _serve(self, serve, sock: _socket.socket) -> None:
        # asyncio listens again with its own backlog (100 unless told): pass ours
        self._server = await serve(
            lambda: ZmtpProtocol(self.socket, self, outgoing=False),
            sock=sock,
            backlog=self.options.backlog,
        )

    def close(self) -> None:
        """Stop accepting, drop the handshakes still in progress, and remove the
        ipc file we made."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            self._sock.close()
        if self._sock is not None:
            self._sock = None
            self.socket._monitor_event(MonitorEvent.CLOSED, self._fd, self.endpoint)
        self._remove_files()
        for protocol in list(self.pending):
            protocol.local_close = True
            protocol.abort()
        self.pending.clear()

    def _remove_files(self) -> None:
        path, self._unlink = self._unlink, None
        if path is not None:
            try:
                os.unlink(path)
            except OSError:
                pass  # someone else removed or replaced it: leave theirs
        tmpdir, self._tmpdir = self._tmpdir, None
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)

    # -- protocol callbacks -----------------------------------------------------------

    def connection_made(self, protocol: ZmtpProtocol) -> None:
        cap = max(self.options.max_handshakes, 1)
        self.pending[protocol] = None
        while len(self.pending) > cap:
            # The least progress goes (a partial greeting counts as none), oldest
            # first, among the handshakes that wait on their peer, the newcomer
            # included. Those waiting on us (the policy, the validator) have
            # done their part; only when all others wait on us does the oldest of
            # them go, since otherwise a slow decision would lock every new
            # client out.
            candidates = [p for p in self.pending if not p.awaiting_decision]
            if len(candidates) == 1 and candidates[0] is protocol:
                candidates = [p for p in self.pending if p is not protocol]
            victim = min(candidates, key=_eviction_order)
            del self.pending[victim]
            self.evicted += 1
            victim.fail(
                f"evicted: {cap} handshakes pending on {self.endpoint} "
                f"(MAX_HANDSHAKES) and this one had made the least progress"
            )
            if victim is protocol:
                return

    def handshake_done(self, protocol: ZmtpProtocol, event) -> None:
        self.pending.pop(protocol, None)
        self.socket._attach_connection(protocol, event, None)

    def connection_lost(self, protocol: ZmtpProtocol) -> None:
        self.pending.pop(protocol, None)


def _eviction_order(protocol: ZmtpProtocol) -> tuple:
    conn = protocol.conn
    progress = conn.handshake_progress if conn is not None else 0
    return (progress, protocol.started)


class Connecter:
    """One connected endpoint (tcp or ipc), reconnected with backoff until closed.

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
        self.label = endpoint.text
        self.pipe = Pipe(socket, endpoint.text, persistent=True)
        self.protocol: ZmtpProtocol | None = None
        self.attempts = 0
        self.failures = 0
        self.handshakes = 0
        self.last_handshake_time: float | None = None
        self.stopped = False
        # CURVE_SERVERKEY_FETCH: the key fetched and trusted for this attempt,
        # which the validator need not judge again at READY
        self.server_key: bytes | None = None
        self.trusted_key: bytes | None = None
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
        endpoint = self.endpoint
        loop = self.socket.loop
        options = self.options
        if options.curve_serverkey_fetch and options.curve_serverkey is None:
            self.server_key = self.trusted_key = None
            if not await self._fetch_server_key():
                return
        # libzmq's non-blocking connect reports EINPROGRESS before it completes
        self.socket._monitor_event(
            MonitorEvent.CONNECT_DELAYED, errno.EINPROGRESS, endpoint.text
        )

        def factory() -> ZmtpProtocol:
            return ZmtpProtocol(self.socket, self, outgoing=True)

        try:
            if endpoint.transport == "ipc":
                await loop.create_unix_connection(factory, endpoint.address)
            else:
                # IPv4 only unless IPV6 is on, as libzmq resolves
                family = _socket.AF_UNSPEC if self.options.ipv6 else _socket.AF_INET
                await loop.create_connection(
                    factory, endpoint.host, endpoint.port, family=family
                )
        except OSError as exc:
            # a server that is not up yet is normal: say it quietly
            logger.debug("connect to %s failed: %s", self.endpoint.text, exc)
            self._schedule()

    async def _fetch_server_key(self) -> bool:
        # fetch the server's certificate and trust its key, or say why not
        options = self.options
        label = self.endpoint.text
        # the fetch is a small handshake of its own: HANDSHAKE_IVL bounds it (its
        # default when HANDSHAKE_IVL is 0, so a silent server cannot hold it)
        timeout = (options.handshake_ivl if options.handshake_ivl > 0 else 30000) / 1000
        try:
            certificate = await fetch_server_certificate(
                label, timeout, ipv6=options.ipv6
            )
        except CertificateExchangeError as exc:
            if not exc.supported:
                logger.error(
                    "cannot fetch the server key of %s: %s; not reconnecting "
                    "(give the socket CURVE_SERVERKEY instead)",
                    label,
                    exc,
                )
                self.socket._monitor_event(
                    MonitorEvent.HANDSHAKE_FAILED_PROTOCOL, int(exc.reason), label
                )
                self.stopped = True
                return False
            logger.warning("cannot fetch the server key of %s: %s", label, exc)
            self._schedule()
            return False
        except OSError as exc:
            logger.debug("fetching the server key of %s failed: %s", label, exc)
            self._schedule()
            return False
        if self.stopped:
            return False

        key = certificate.public_key
        if not usable_public_key(key):
            # no handshake could ever prove such a key: never record it as trusted
            logger.error(
                "server key of %s is unusable (low-order or non-canonical); not "
                "reconnecting",
                label,
            )
            self.socket._monitor_event(
                MonitorEvent.HANDSHAKE_FAILED_AUTH, 400, self.endpoint.text
            )
            self.stopped = True
            return False
        verdict = await self._trust(key, certificate)
        if self.stopped:
            return False
        if not verdict.admitted:
            self.socket._monitor_event(
                MonitorEvent.HANDSHAKE_FAILED_AUTH, 400, self.endpoint.text
            )
            if verdict.timed_out:
                logger.warning(
                    "server key %s of %s not trusted: %s; will retry",
                    z85.encode(key).decode(),
                    label,
                    verdict.reason,
                )
                self._schedule()
            else:
                logger.error(
                    "server key %s of %s refused: %s; not reconnecting",
                    z85.encode(key).decode(),
                    label,
                    verdict.reason,
                )
                self.stopped = True
            return False
        self.server_key = self.trusted_key = key
        return True

    async def _trust(self, key: bytes, certificate) -> Verdict:
        # the validator decides; without one, the known-hosts store
        options = self.options
        label = self.endpoint.text
        if options.curve_validator is not None:
            return await validate(
                options.curve_validator,
                key,
                certificate,
                label,
                options.curve_validator_timeout / 1000,
            )
        store = KnownHosts(options.curve_known_hosts.decode() or None)
        try:
            outcome = await self.socket.loop.run_in_executor(
                None, store.check, label, key
            )
        except (OSError, ValueError, CertificateError) as exc:
            # ValueError: a file that is not UTF-8 text
            return Verdict(False, f"known hosts file {store.path}: {exc}")
        shown = z85.encode(key).decode()
        if outcome == "new":
            logger.warning(
                "trusting server key %s of %s on first use (recorded in %s)",
                shown,
                label,
                store.path,
            )
        elif outcome == "changed":
            return Verdict(
                False,
                f"{store.path} holds another key for {label}: the server's key "
                "changed (remove its line if that was on purpose)",
            )
        else:
            logger.debug("server key %s of %s is known", shown, label)
        return Verdict(True)

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
        self.socket._monitor_event(
            MonitorEvent.CONNECT_RETRIED, round(delay * 1000), self.endpoint.text
        )
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


def _remove_stale_socket(path: str) -> None:
    # a socket file nobody accepts on any more is what a crashed process left:
    # remove it, as libzmq does; a live one is in use; anything else is not ours
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISSOCK(mode):
        raise OSError(errno.EADDRINUSE, f"{path} exists and is not a socket")
    probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        probe.setblocking(False)
        code = probe.connect_ex(path)
    finally:
        probe.close()
    if code in (errno.ECONNREFUSED, errno.ENOENT):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    raise OSError(errno.EADDRINUSE, f"a socket is listening on {path}")


def _is_windows() -> bool:
    # Windows' SO_REUSEADDR lets a second process steal the port; libzmq skips it
    import sys

    return sys.platform.startswith("win")
