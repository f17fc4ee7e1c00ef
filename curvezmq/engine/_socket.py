"""The engine socket: endpoints, pipes, the inbox, and waiting with timeouts.

Theory of operation. A socket owns its bound endpoints (listeners), its connected
endpoints (connecters, each with a persistent pipe) and the pipes of accepted
connections. A connection joins the socket's routing only after its handshake
completes; a connected endpoint's pipe is routable from ``connect`` on (for the
patterns that route by load balancing), so messages sent early wait in it, as in
libzmq.

Every incoming message waits in its pipe's inbox. The socket keeps the pipes that
have messages in a ring and takes one message from the pipe at its head, which then
goes to the back if it has more: fair queueing round robin, as libzmq does, so a
fast peer cannot push a slow one's messages back. The pipe a message came from
tells REP where to reply and ROUTER which id to prepend.

The patterns (:mod:`._patterns`) override the ``_x*`` hooks: ``_xattach`` /
``_xdetach`` (a pipe joins or leaves), ``_xdeliver`` (a message arrived),
``_xcommand`` (a SUBSCRIBE or CANCEL arrived), ``_xsend``, ``_xrecv`` and
``_xhas_in``, and the checks ``_xcheck_send``, ``_xcheck_recv``, ``_xcan_send``.

Everything here runs on the socket's event loop. ``send_nowait``/``recv_nowait``
raise :class:`BusyError` when they would block; ``send``/``recv`` are coroutines
that wait up to a timeout. ``close`` lingers (LINGER) while queued messages can
still be delivered, then closes every connection.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from typing import Callable, ClassVar

from ..auth import AllowAny, AuthPolicy
from ..certs import Certificate
from ..codec import CurveServerKeys
from ..errors import (
    BrokenError,
    BusyError,
    ClosedError,
    InvalidKeyError,
    LocalProtocolError,
)
from ..keys import curve_public, key_bytes
from ..zmtp import (
    Connection,
    CurveClientMechanism,
    CurveServerMechanism,
    NullMechanism,
    PlainClientMechanism,
    PlainServerMechanism,
)
from ._endpoint import EndpointError, parse_endpoint
from ._monitor import MonitorCallback, MonitorEvent
from ._options import Options
from ._pipe import Pipe
from ._protocol import ZmtpProtocol, logger
from ._transport import Connecter, Listener

__all__ = ["Socket", "UnroutableError", "UnsupportedError"]

_DEFAULT_POLICY = AllowAny()
_WIRE_LOGGER = logging.getLogger("curvezmq.zmtp")

# How long the pipe of a lost accepted connection stays in the pattern's routing,
# in seconds. libzmq tears a pipe down asynchronously: until the socket's own thread
# gets to process the termination, a send may still pick the dying pipe, and the
# message is dropped with it. Applications count on this without knowing: pyzmq's
# woodhouse example sends on a PUSH right after its only peer closed and expects
# the send to return, not to block for want of a peer. Meanwhile the pipe takes
# messages (dropped at the end) and no longer counts for LINGER. Short enough that a
# peer reconnecting with the same routing id (at least RECONNECT_IVL later, 100 ms
# by default) finds its old pipe gone.
_LOST_PIPE_GRACE = 0.02

# How often a lingering close checks whether its queues have drained, in seconds.
_LINGER_POLL = 0.005


class UnsupportedError(LocalProtocolError):
    """The socket type cannot do this at all: send on PULL or SUB, receive on PUSH
    or PUB (libzmq's ENOTSUP)."""


class UnroutableError(BrokenError):
    """ROUTER_MANDATORY: no connected peer has the routing id a message names
    (libzmq's EHOSTUNREACH)."""


class Socket:
    """Base class of the engine's socket patterns.

    Args:
        options: the socket options; a fresh :class:`Options` when omitted.
        loop: the event loop the socket lives on; the running one when omitted.
        policy: a callable returning the :class:`~curvezmq.auth.AuthPolicy` that
            decides on peers (every CURVE and PLAIN client, NULL peers when
            ZAP_DOMAIN is set), asked once per handshake (so a Context can swap
            it at any time); :class:`~curvezmq.auth.AllowAny` when omitted.

    Attributes:
        socket_type: the ZMTP Socket-Type, e.g. ``"DEALER"``.
        last_endpoint: the endpoint of the last ``bind`` or ``connect``.
    """

    socket_type: ClassVar[str] = ""
    # whether a connected endpoint's pipe is routable before its handshake (true
    # for load-balancing patterns, so sends queue; ROUTER needs the peer's id)
    routable_before_handshake: ClassVar[bool] = True

    def __init__(
        self,
        options: Options | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        policy: Callable[[], AuthPolicy] | None = None,
    ) -> None:
        self.loop = loop if loop is not None else asyncio.get_running_loop()
        self.options = options if options is not None else Options()
        self._policy = policy
        self.last_endpoint = ""
        self.last_properties: dict = {}
        self.closed = False
        # the pipes with messages waiting, in fair-queue order, each at most once
        self._ready: deque[Pipe] = deque()
        # callables told that the socket may have become readable or writable
        # (Poller), called on the loop thread
        self._watchers: list[Callable[[], None]] = []
        self._readers: list[asyncio.Future] = []
        self._writers: list[asyncio.Future] = []
        self._listeners: list[Listener] = []
        self._connecters: list[Connecter] = []
        self._accepted: set[Pipe] = set()
        self._server_keys: dict[tuple[bytes, int], CurveServerKeys] = {}
        self._close_task: asyncio.Task | None = None
        self._monitor: MonitorCallback | None = None
        self._monitor_events = 0

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.last_endpoint or "unbound"
        return f"<{type(self).__name__} {self.socket_type} {state}>"

    # -- endpoints ------------------------------------------------------------------

    def bind(self, endpoint: str) -> str:
        """Listen on a tcp or ipc endpoint.

        Args:
            endpoint: ``tcp://host:port``; ``*`` as the host binds every IPv4
                interface (and every IPv6 one with the ``ipv6`` option), ``*``
                or ``0`` as the port picks a free one. ``ipc://path``;
                ``ipc://*`` makes a fresh path.

        Returns:
            the bound endpoint with the real port or path (LAST_ENDPOINT).

        Raises:
            EndpointError: the endpoint is malformed or neither tcp nor ipc.
            OSError: the address cannot be bound (EADDRINUSE for an ipc path a
                live socket listens on).
            InvalidKeyError: the CURVE options are incomplete.
            ClosedError: the socket is closed.
        """
        self._check_open()
        parsed = parse_endpoint(endpoint, bind=True)
        self._check_mechanism()
        listener = Listener(self, parsed)
        try:
            self.last_endpoint = listener.open()
        except OSError as exc:
            self._monitor_event(MonitorEvent.BIND_FAILED, exc.errno or 0, endpoint)
            raise
        self._listeners.append(listener)
        return self.last_endpoint

    def connect(self, endpoint: str) -> None:
        """Connect to a tcp or ipc endpoint, and keep reconnecting until closed.

        Args:
            endpoint: ``tcp://host:port`` or ``ipc://path``.

        Raises:
            EndpointError: the endpoint is malformed or neither tcp nor ipc.
            InvalidKeyError: the CURVE options are incomplete.
            ClosedError: the socket is closed.
        """
        self._check_open()
        parsed = parse_endpoint(endpoint, bind=False)
        self._check_mechanism()
        connecter = Connecter(self, parsed)
        self._connecters.append(connecter)
        if self.routable_before_handshake:
            self._attach_pipe(connecter.pipe)
        connecter.start()
        self.last_endpoint = endpoint

    def unbind(self, endpoint: str) -> None:
        """Stop listening on an endpoint bound before.

        Raises:
            EndpointError: no such bound endpoint (libzmq: ENOENT).
        """
        for listener in self._listeners:
            if endpoint in (listener.endpoint, listener.requested.text):
                self._listeners.remove(listener)
                listener.close()
                return
        raise EndpointError(f"{endpoint!r} is not bound")

    def disconnect(self, endpoint: str) -> None:
        """Stop a connected endpoint; messages queued for it are dropped.

        Raises:
            EndpointError: no such connected endpoint.
        """
        for connecter in self._connecters:
            if connecter.endpoint.text == endpoint:
                self._connecters.remove(connecter)
                connecter.stop()
                connecter.pipe.queue.clear()
                self._detach_pipe(connecter.pipe)
                return
        raise EndpointError(f"{endpoint!r} is not connected")

    def set_monitor(
        self, callback: MonitorCallback | None, events: int = MonitorEvent.ALL
    ) -> None:
        """Report monitor events to ``callback(event, value, endpoint)``.

        A monitor already set is told MONITOR_STOPPED and replaced, as libzmq
        does. The callback runs on the socket's loop and must not block.

        Args:
            callback: the new monitor, or None to stop monitoring.
            events: a mask of :class:`MonitorEvent` values to report.
        """
        if self._monitor is not None:
            self._monitor_event(MonitorEvent.MONITOR_STOPPED, 0, "")
        self._monitor = callback
        self._monitor_events = int(events) if callback is not None else 0

    def _monitor_event(self, event: MonitorEvent, value: int, endpoint: str) -> None:
        monitor = self._monitor
        if monitor is not None and event & self._monitor_events:
            try:
                monitor(int(event), int(value), endpoint)
            except Exception:
                logger.exception("the socket monitor failed on %s", event.name)

    def policy(self) -> AuthPolicy:
        """The authentication policy in force now."""
        if self._policy is None:
            return _DEFAULT_POLICY
        return self._policy() or _DEFAULT_POLICY

    @property
    def connecters(self) -> list[Connecter]:
        """The connected endpoints (for tests and statistics)."""
        return list(self._connecters)

    # -- connections (called by the protocol and the endpoints) --------------------

    def _check_mechanism(self) -> None:
        # fail at bind/connect, where the caller can see it, not per connection
        options = self.options
        if options.curve_server:
            if options.curve_secretkey is None:
                raise InvalidKeyError("a CURVE server needs curve_secretkey")
            derived = key_bytes(curve_public(options.curve_secretkey))
            if options.curve_publickey not in (None, derived):
                # libzmq ignores a server's own public key and serves with the
                # secret key's; do the same, but say so
                logger.warning(
                    "curve_publickey is not the public key of curve_secretkey; "
                    "serving with the secret key's public key %s",
                    curve_public(options.curve_secretkey).decode("ascii"),
                )
        elif options.curve_serverkey is not None or options.curve_serverkey_fetch:
            if options.curve_secretkey is None or options.curve_publickey is None:
                raise InvalidKeyError(
                    "a CURVE client needs curve_publickey and curve_secretkey"
                )
            if key_bytes(curve_public(options.curve_secretkey)) != bytes(
                options.curve_publickey
            ):
                raise InvalidKeyError(
                    "curve_publickey is not the public key of curve_secretkey"
                )
        else:
            return
        certificate = options.curve_certificate
        if certificate is not None and certificate.public_key != key_bytes(
            curve_public(options.curve_secretkey)
        ):
            raise InvalidKeyError(
                "curve_certificate names another key than curve_secretkey's"
            )

    def _new_connection(
        self, options: Options, peer: str = "", server_key: bytes | None = None
    ) -> Connection:
        # options: the endpoint's copy, taken at bind or connect; peer: the
        # remote address and port, which binds a CURVE server's cookies to this
        # connection; server_key: a CURVE client's fetched and trusted server key
        if options.curve_server:
            secret = options.curve_secretkey
            lifetime = options.curve_cookie_lifetime
            keys = self._server_keys.get((secret, lifetime))
            if keys is None:
                # one set of cookie keys per server key (and cookie lifetime),
                # shared by its endpoints
                public = key_bytes(curve_public(secret))
                keys = CurveServerKeys(public, secret, cookie_lifetime=lifetime / 1000)
                self._server_keys[(secret, lifetime)] = keys
            mechanism = CurveServerMechanism(
                keys,
                binding=peer.encode(),
                certificate=_our_certificate(options, keys.public_key),
                **_curve_options(options),
            )
        elif options.curve_serverkey is not None or server_key is not None:
            mechanism = CurveClientMechanism(
                public_key=options.curve_publickey,
                secret_key=options.curve_secretkey,
                server_key=options.curve_serverkey or server_key,
                certificate=_our_certificate(options, options.curve_publickey),
                **_curve_options(options),
            )
        elif options.plain_server:
            mechanism = PlainServerMechanism()
        elif options.mechanism == "PLAIN":
            mechanism = PlainClientMechanism(
                options.plain_username or b"", options.plain_password or b""
            )
        else:
            # libzmq asks ZAP about NULL peers only when a domain is set
            mechanism = NullMechanism(authenticate=bool(options.zap_domain))
        # libzmq: HEARTBEAT_TIMEOUT -1 means the interval; times in ms
        timeout = options.heartbeat_timeout
        return Connection(
            self.socket_type,
            mechanism,
            identity=options.routing_id,
            max_message_size=options.maxmsgsize,
            max_metadata=options.curve_max_metadata,
            heartbeat_ivl=options.heartbeat_ivl / 1000,
            heartbeat_ttl=options.heartbeat_ttl / 1000,
            heartbeat_timeout=None if timeout < 0 else timeout / 1000,
            logger=_WIRE_LOGGER,
        )

    def _attach_connection(
        self, protocol: ZmtpProtocol, event, pipe: Pipe | None
    ) -> None:
        # a handshake completed: give the connection a pipe and route over it;
        # a closed socket still lets its connected endpoints deliver what is
        # queued while it lingers
        if self.closed and (pipe is None or not pipe.queue):
            protocol.local_close = True
            protocol.close()
            return
        if pipe is None:
            pipe = Pipe(self, protocol.peer, persistent=False)
            self._accepted.add(pipe)
        # libzmq's precedence on a clash: Peer-Address, then what the decision
        # attached (User-Id, ZAP metadata), then the peer's own metadata
        properties = {"Peer-Address": protocol.peer_ip}
        if event.user_id:
            properties["User-Id"] = _text(event.user_id)
        for name, value in event.auth_metadata.items():
            properties.setdefault(str(name), _text(value))
        for name, value in event.peer_metadata.items():
            properties.setdefault(name, _text(value))
        pipe.properties = properties
        pipe.protocol = protocol
        protocol.pipe = pipe
        if not pipe.attached:
            refusal = self._xattach(pipe, event)
            if refusal:
                self._accepted.discard(pipe)
                pipe.protocol = None
                protocol.pipe = None
                protocol.fail(refusal)
                return
            pipe.attached = True
        pipe.drain()
        self._wake_writers()

    def _attach_pipe(self, pipe: Pipe) -> None:
        # a connected endpoint's pipe, routable before any connection exists
        if not pipe.attached and self._xattach(pipe, None) is None:
            pipe.attached = True
            self._wake_writers()

    def _detach_pipe(self, pipe: Pipe) -> None:
        if pipe.attached:
            pipe.attached = False
            self._xdetach(pipe)

    def _connection_lost(self, protocol: ZmtpProtocol) -> None:
        pipe = protocol.pipe
        protocol.pipe = None
        if pipe is None:
            return
        pipe.protocol = None
        if pipe.reading_paused:
            pipe.reading_paused = False
        if not pipe.persistent:
            self._accepted.discard(pipe)
            if pipe.attached and not self.closed:
                # see _LOST_PIPE_GRACE
                self.loop.call_later(_LOST_PIPE_GRACE, self._drop_lost_pipe, pipe)
            else:
                self._detach_pipe(pipe)
        elif not self.routable_before_handshake:
            self._detach_pipe(pipe)

    def _drop_lost_pipe(self, pipe: Pipe) -> None:
        # what was sent to the lost peer meanwhile is dropped with its pipe
        pipe.queue.clear()
        self._detach_pipe(pipe)

    def _deliver(self, pipe: Pipe, frames: list) -> None:
        if self.closed:
            return
        self._xdeliver(pipe, frames)

    def _command(self, pipe: Pipe, name: str, data: bytes) -> None:
        # SUBSCRIBE / CANCEL: meaningful to PUB-side patterns only
        if pipe is not None and not self.closed:
            self._xcommand(pipe, name, data)

    # -- the fair queue ---------------------------------------------------------------

    def _push(self, pipe: Pipe, frames: list) -> None:
        inbox = pipe.inbox
        if not inbox:
            self._ready.append(pipe)
        inbox.append(frames)
        hwm = self.options.rcvhwm
        protocol = pipe.protocol
        if 0 < hwm <= len(inbox) and not pipe.reading_paused and protocol:
            # the application is behind: let TCP hold this peer back
            pipe.reading_paused = True
            protocol.pause_reading()
        if self._readers:
            _wake(self._readers)
        if self._watchers:
            self._notify_watchers()

    def _pop(self) -> tuple[Pipe, list]:
        # round robin over the pipes that have messages: one from the head pipe,
        # which goes to the back of the ring if it has more
        ready = self._ready
        try:
            pipe = ready.popleft()
        except IndexError:
            raise BusyError("no message has arrived") from None
        inbox = pipe.inbox
        frames = inbox.popleft()
        if inbox:
            ready.append(pipe)
        self.last_properties = pipe.properties
        if pipe.reading_paused and len(inbox) <= self.options.rcvhwm // 2:
            pipe.reading_paused = False
            if pipe.protocol is not None:
                pipe.protocol.resume_reading()
        return pipe, frames

    def _drop_inbox(self) -> None:
        # forget every message not taken yet (REQ before a new request, close)
        for pipe in self._ready:
            pipe.inbox.clear()
            if pipe.reading_paused:
                pipe.reading_paused = False
                if pipe.protocol is not None:
                    pipe.protocol.resume_reading()
        self._ready.clear()

    def _wake_readers(self) -> None:
        # a pattern with its own queue (XPUB) has something new
        if self._readers:
            _wake(self._readers)
        if self._watchers:
            self._notify_watchers()

    def _wake_writers(self) -> None:
        if self._writers:
            _wake(self._writers)
        if self._watchers:
            self._notify_watchers()

    def _notify_watchers(self) -> None:
        for watcher in list(self._watchers):
            try:
                watcher()
            except Exception:
                logger.exception("a socket watcher failed")

    def add_watcher(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher()`` whenever the socket may have become readable or
        writable, or was closed (for pollers); on the loop thread.

        Args:
            watcher: a quick callable taking no arguments.
        """
        self._watchers.append(watcher)

    def remove_watcher(self, watcher: Callable[[], None]) -> None:
        """Stop calling a watcher added before; unknown ones are ignored."""
        try:
            self._watchers.remove(watcher)
        except ValueError:
            pass

    # -- pattern hooks -----------------------------------------------------------------

    def _xattach(self, pipe: Pipe, event) -> str | None:
        """A pipe joins; return a reason to refuse it (ROUTER), else None."""
        raise NotImplementedError

    def _xdetach(self, pipe: Pipe) -> None:
        raise NotImplementedError

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        """A whole message arrived on a pipe; queue it (or filter, or raise
        RemoteProtocolError to drop the connection)."""
        self._push(pipe, frames)

    def _xcommand(self, pipe: Pipe, name: str, data: bytes) -> None:
        """The peer sent SUBSCRIBE or CANCEL (PUB and XPUB act on it)."""
        logger.debug("ignored %s from %s", name, pipe.label)

    def _xsend(self, frames: list) -> None:
        """Route one whole message; raise BusyError when it must wait."""
        raise NotImplementedError

    def _xrecv(self) -> list:
        """Take one message; raise BusyError when there is none."""
        return self._pop()[1]

    def _xhas_in(self) -> bool:
        """Whether ``_xrecv`` would return a message now."""
        return bool(self._ready)

    def _xcheck_send(self) -> None:
        """Raise LocalProtocolError if a send may not start now (REQ, REP)."""

    def _xcan_send(self) -> bool:
        """Whether a send would go through now, the pattern's state allowing."""
        return True

    def _xcheck_first(self, first) -> None:
        """Check the first part of a message sent part by part (ROUTER)."""

    def _xcheck_recv(self) -> None:
        """Raise LocalProtocolError if a receive may not start now (REQ, REP)."""

    # -- sending and receiving ---------------------------------------------------------

    def check_send(self, first=None) -> None:
        """Check that a message may be sent now, before its last part is given.

        Args:
            first: the message's first part, when the caller has it (a ROUTER
                with ROUTER_MANDATORY refuses an unknown id right away).

        Raises:
            LocalProtocolError: the pattern forbids sending now (EFSM).
            UnroutableError: ROUTER_MANDATORY and no peer has that id.
            ClosedError: the socket is closed.
        """
        self._check_open()
        self._xcheck_send()
        if first is not None:
            self._xcheck_first(first)

    def can_send(self) -> bool:
        """Whether a send would neither block nor raise EFSM now (POLLOUT)."""
        if self.closed:
            return False
        try:
            self._xcheck_send()
        except LocalProtocolError:
            return False
        return self._xcan_send()

    def send_nowait(self, frames: list) -> None:
        """Send one whole message without waiting.

        Args:
            frames: the parts, each bytes-like.

        Raises:
            BusyError: no peer can take it now.
            LocalProtocolError: the pattern forbids sending now (EFSM).
            ClosedError: the socket is closed.
        """
        self._check_open()
        self._xsend(frames)

    def recv_nowait(self) -> list:
        """Receive one whole message without waiting.

        Returns:
            the parts.

        Raises:
            BusyError: nothing has arrived.
            LocalProtocolError: the pattern forbids receiving now (EFSM).
            ClosedError: the socket is closed.
        """
        self._check_open()
        self._xcheck_recv()
        return self._xrecv()

    async def send(self, frames: list, timeout: float | None = None) -> None:
        """Send one whole message, waiting for room up to a timeout.

        Args:
            frames: the parts, each bytes-like.
            timeout: seconds; None uses SNDTIMEO (-1 waits forever), 0 does not
                wait.

        Raises:
            BusyError: the timeout expired.
            LocalProtocolError: the pattern forbids sending now (EFSM).
            ClosedError: the socket is or was closed while waiting.
        """
        deadline = self._deadline(timeout, self.options.sndtimeo)
        while True:
            self._check_open()
            try:
                self._xsend(frames)
                return
            except BusyError:
                if deadline == 0:
                    raise
            await self._wait(self._writers, deadline, "send")

    async def recv(self, timeout: float | None = None) -> list:
        """Receive one whole message, waiting up to a timeout.

        Args:
            timeout: seconds; None uses RCVTIMEO (-1 waits forever), 0 does not
                wait.

        Returns:
            the parts.

        Raises:
            BusyError: the timeout expired.
            LocalProtocolError: the pattern forbids receiving now (EFSM).
            ClosedError: the socket is or was closed while waiting.
        """
        deadline = self._deadline(timeout, self.options.rcvtimeo)
        while True:
            self._check_open()
            self._xcheck_recv()
            try:
                return self._xrecv()
            except BusyError:
                if deadline == 0:
                    raise
            await self._wait(self._readers, deadline, "receive")

    async def wait_readable(self, timeout: float | None) -> bool:
        """Wait until a receive would not block (for ``poll``).

        Args:
            timeout: seconds, or None for no limit.

        Returns:
            whether a message is ready.
        """
        deadline = None if timeout is None else self.loop.time() + timeout
        while not self._xhas_in():
            self._check_open()
            if deadline is not None and self.loop.time() >= deadline:
                return False
            try:
                await self._wait(self._readers, deadline, "receive")
            except BusyError:
                return False
        return True

    async def wait_writable(self, timeout: float | None) -> bool:
        """Wait until a send would neither block nor raise EFSM (for ``poll``).

        Args:
            timeout: seconds, or None for no limit.

        Returns:
            whether a send would go through now.
        """
        deadline = None if timeout is None else self.loop.time() + timeout
        while not self.can_send():
            self._check_open()
            if deadline is not None and self.loop.time() >= deadline:
                return False
            try:
                await self._wait(self._writers, deadline, "send")
            except BusyError:
                return False
        return True

    @property
    def readable(self) -> bool:
        """Whether a message is waiting (REQ/REP order rules not applied)."""
        return self._xhas_in()

    def _deadline(self, timeout: float | None, option_ms: int) -> float | None:
        if timeout is None:
            timeout = None if option_ms < 0 else option_ms / 1000
        if timeout is None:
            return None
        if timeout <= 0:
            return 0
        return self.loop.time() + timeout

    async def _wait(self, waiters: list, deadline: float | None, what: str) -> None:
        future = self.loop.create_future()
        waiters.append(future)
        timer = None
        if deadline is not None:
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                waiters.remove(future)
                raise BusyError(f"timed out waiting to {what}")
            timer = self.loop.call_later(remaining, _expire, future)
        try:
            expired = await future
        finally:
            if timer is not None:
                timer.cancel()
            if future in waiters:
                waiters.remove(future)
        if expired:
            raise BusyError(f"timed out waiting to {what}")

    def _check_open(self) -> None:
        if self.closed:
            raise ClosedError("the socket is closed")

    # -- closing -----------------------------------------------------------------------

    def close(self, linger: int | None = None) -> asyncio.Task:
        """Close the socket; queued messages get up to LINGER ms to leave.

        Args:
            linger: milliseconds, overriding the LINGER option; -1 waits until
                everything queued is delivered, 0 drops it at once.

        Returns:
            a task that finishes when every connection is closed.
        """
        if self._close_task is not None:
            return self._close_task
        self.closed = True
        self.set_monitor(None)
        for waiters in (self._readers, self._writers):
            for future in waiters:
                if not future.done():
                    future.set_exception(ClosedError("the socket was closed"))
            waiters.clear()
        for listener in self._listeners:
            listener.close()
        self._drop_inbox()
        if self._watchers:
            self._notify_watchers()
        linger_ms = self.options.linger if linger is None else linger
        self._close_task = self.loop.create_task(self._close(linger_ms))
        return self._close_task

    def _pipes(self) -> list[Pipe]:
        return [c.pipe for c in self._connecters] + list(self._accepted)

    async def _close(self, linger_ms: int) -> None:
        # linger: connecters keep (re)connecting meanwhile, as in libzmq
        drained = linger_ms == 0
        try:
            if linger_ms != 0:
                deadline = None
                if linger_ms > 0:
                    deadline = self.loop.time() + linger_ms / 1000
                while not all(pipe.drained for pipe in self._pipes()):
                    if deadline is not None and self.loop.time() >= deadline:
                        break
                    await asyncio.sleep(_LINGER_POLL)
                else:
                    drained = True
        finally:
            # also on cancellation (the loop is shutting down): never leak sockets
            self._shut_down(abort=not drained or linger_ms == 0)
        # let the transports run their close callbacks
        await asyncio.sleep(0)

    def _shut_down(self, abort: bool) -> None:
        protocols = [c.protocol for c in self._connecters if c.protocol is not None]
        protocols += [p.protocol for p in self._accepted if p.protocol is not None]
        for connecter in self._connecters:
            connecter.stop()
        for protocol in protocols:
            protocol.local_close = True
            if abort:
                protocol.abort()
            else:
                protocol.close()
        for pipe in self._pipes():
            pipe.queue.clear()
        self._accepted.clear()
        for keys in self._server_keys.values():
            close_keys = getattr(keys, "close", None)
            if close_keys is not None:
                close_keys()
        self._server_keys.clear()


def _text(value) -> str:
    # message properties are text, as zmq_msg_gets returns them
    if isinstance(value, str):
        return value
    return bytes(value).decode("utf-8", "replace")


def _wake(waiters: list) -> None:
    for future in waiters:
        if not future.done():
            future.set_result(False)
    waiters.clear()


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(True)


def _our_certificate(options: Options, public_key: bytes) -> Certificate | None:
    # the certificate we present to curvezmq peers: the configured one, or our
    # bare public key (one object per key, shared by all connections); None when
    # the exchange is off
    if not options.curve_cert_exchange:
        return None
    if options.curve_certificate is not None:
        return options.curve_certificate
    return _bare_certificate(bytes(public_key))


@functools.lru_cache(maxsize=64)
def _bare_certificate(public_key: bytes) -> Certificate:
    return Certificate(public_key)


def _curve_options(options: Options) -> dict:
    # curvezmq's own CURVE options (invalid-message policy, compact framing) as
    # the CURVE mechanisms take them
    return {
        "drop_invalid": options.curve_drop_invalid,
        "invalid_budget": options.curve_invalid_budget,
        "compact": options.curve_compact,
    }
