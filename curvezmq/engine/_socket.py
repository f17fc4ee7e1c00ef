"""The engine socket: endpoints, pipes, the inbox, and waiting with timeouts.

Theory of operation. A socket owns its bound endpoints (listeners), its connected
endpoints (connecters, each with a persistent pipe) and the pipes of accepted
connections. A connection joins the socket's routing only after its handshake
completes; a connected endpoint's pipe is routable from ``connect`` on (for the
patterns that route by load balancing), so messages sent early wait in it, as in
libzmq.

Every incoming message lands in one inbox, in arrival order, tagged with its pipe:
that is fair queueing by arrival, and the pipe tells REP where to reply and ROUTER
which id to prepend.

TODO: libzmq fair-queues round robin over per-pipe queues; with one arrival-order
inbox a fast peer can fill up to RCVHWM messages ahead of a slow one, which delays
(never starves) the slow peer. The patterns (:mod:`._patterns`) override the ``_x*`` hooks:
``_xattach``/``_xdetach`` (a pipe joins or leaves), ``_xdeliver`` (a message
arrived), ``_xsend`` and ``_xrecv``.

Everything here runs on the socket's event loop. ``send_nowait``/``recv_nowait``
raise :class:`BusyError` when they would block; ``send``/``recv`` are coroutines
that wait up to a timeout. ``close`` lingers (LINGER) while queued messages can
still be delivered, then closes every connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Callable, ClassVar

from ..auth import AllowAny, AuthPolicy
from ..codec import CurveServerKeys
from ..errors import BusyError, ClosedError, InvalidKeyError, LocalProtocolError
from ..keys import curve_public, key_bytes
from ..zmtp import (
    Connection,
    CurveClientMechanism,
    CurveServerMechanism,
    NullMechanism,
)
from ._endpoint import EndpointError, parse_endpoint
from ._options import Options
from ._pipe import Pipe
from ._protocol import ZmtpProtocol, logger
from ._transport import Connecter, Listener

__all__ = ["Socket"]

_DEFAULT_POLICY = AllowAny()
_WIRE_LOGGER = logging.getLogger("curvezmq.zmtp")

# How often a lingering close checks whether its queues have drained, in seconds.
_LINGER_POLL = 0.005


class Socket:
    """Base class of the engine's socket patterns.

    Args:
        options: the socket options; a fresh :class:`Options` when omitted.
        loop: the event loop the socket lives on; the running one when omitted.
        policy: a callable returning the :class:`~curvezmq.auth.AuthPolicy` that
            admits CURVE clients, asked once per handshake (so a Context can swap
            it at any time); admit everyone when omitted.

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
        self._inbox: deque = deque()
        self._readers: list[asyncio.Future] = []
        self._writers: list[asyncio.Future] = []
        self._listeners: list[Listener] = []
        self._connecters: list[Connecter] = []
        self._accepted: set[Pipe] = set()
        self._server_keys: dict[bytes, CurveServerKeys] = {}
        self._close_task: asyncio.Task | None = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.last_endpoint or "unbound"
        return f"<{type(self).__name__} {self.socket_type} {state}>"

    # -- endpoints ------------------------------------------------------------------

    def bind(self, endpoint: str) -> str:
        """Listen on a tcp endpoint.

        Args:
            endpoint: ``tcp://host:port``; ``*`` as the host binds every IPv4
                interface, ``*`` or ``0`` as the port picks a free one.

        Returns:
            the bound endpoint with the real port.

        Raises:
            EndpointError: the endpoint is malformed or not tcp.
            OSError: the address cannot be bound.
            InvalidKeyError: the CURVE options are incomplete.
            ClosedError: the socket is closed.
        """
        self._check_open()
        parsed = parse_endpoint(endpoint, bind=True)
        self._check_mechanism()
        listener = Listener(self, parsed)
        self.last_endpoint = listener.open()
        self._listeners.append(listener)
        return self.last_endpoint

    def connect(self, endpoint: str) -> None:
        """Connect to a tcp endpoint, and keep reconnecting until closed.

        Args:
            endpoint: ``tcp://host:port``.

        Raises:
            EndpointError: the endpoint is malformed or not tcp.
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
        elif options.curve_serverkey is not None:
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

    def _new_connection(self, options: Options) -> Connection:
        # options: the endpoint's copy, taken at bind or connect
        if options.curve_server:
            secret = options.curve_secretkey
            keys = self._server_keys.get(secret)
            if keys is None:
                # one set of cookie keys per server key, shared by its endpoints
                public = key_bytes(curve_public(secret))
                keys = self._server_keys[secret] = CurveServerKeys(public, secret)
            mechanism = CurveServerMechanism(keys)
        elif options.curve_serverkey is not None:
            mechanism = CurveClientMechanism(
                public_key=options.curve_publickey,
                secret_key=options.curve_secretkey,
                server_key=options.curve_serverkey,
            )
        else:
            mechanism = NullMechanism()
        return Connection(
            self.socket_type,
            mechanism,
            identity=options.routing_id,
            max_message_size=options.maxmsgsize,
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
        properties = {"Peer-Address": protocol.peer_ip}
        for name, value in event.peer_metadata.items():
            properties.setdefault(name, bytes(value).decode("utf-8", "replace"))
        if event.user_id:
            properties["User-Id"] = bytes(event.user_id).decode("utf-8", "replace")
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
        if not pipe.attached:
            self._xattach(pipe, None)
            pipe.attached = True

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
            self._detach_pipe(pipe)
        elif not self.routable_before_handshake:
            self._detach_pipe(pipe)

    def _deliver(self, pipe: Pipe, frames: list) -> None:
        if self.closed:
            return
        self._xdeliver(pipe, frames)

    def _command(self, pipe: Pipe, name: str, data: bytes) -> None:
        # SUBSCRIBE / CANCEL: meaningful to PUB-side patterns only
        logger.debug("ignored %s from %s", name, pipe.label)

    # -- the inbox --------------------------------------------------------------------

    def _push(self, pipe: Pipe, frames: list) -> None:
        self._inbox.append((pipe, frames))
        pipe.inbound += 1
        hwm = self.options.rcvhwm
        protocol = pipe.protocol
        if 0 < hwm <= pipe.inbound and not pipe.reading_paused and protocol:
            # the application is behind: let TCP hold this peer back
            pipe.reading_paused = True
            protocol.pause_reading()
        if self._readers:
            _wake(self._readers)

    def _pop(self) -> tuple[Pipe, list]:
        try:
            pipe, frames = self._inbox.popleft()
        except IndexError:
            raise BusyError("no message has arrived") from None
        pipe.inbound -= 1
        self.last_properties = pipe.properties
        if pipe.reading_paused and pipe.inbound <= self.options.rcvhwm // 2:
            pipe.reading_paused = False
            if pipe.protocol is not None:
                pipe.protocol.resume_reading()
        return pipe, frames

    def _wake_writers(self) -> None:
        if self._writers:
            _wake(self._writers)

    # -- pattern hooks ------------------------------------------------------------------

    def _xattach(self, pipe: Pipe, event) -> str | None:
        """A pipe joins; return a reason to refuse it (ROUTER), else None."""
        raise NotImplementedError

    def _xdetach(self, pipe: Pipe) -> None:
        raise NotImplementedError

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        self._push(pipe, frames)

    def _xsend(self, frames: list) -> None:
        raise NotImplementedError

    def _xrecv(self) -> list:
        return self._pop()[1]

    def _xcheck_send(self) -> None:
        """Raise LocalProtocolError if a send may not start now (REQ, REP)."""

    def _xcan_send(self) -> bool:
        """Whether a send would go through now, the pattern's state allowing."""
        return True

    def _xcheck_recv(self) -> None:
        """Raise LocalProtocolError if a receive may not start now (REQ, REP)."""

    # -- sending and receiving ------------------------------------------------------------

    def check_send(self) -> None:
        """Check that a message may be sent now, before its first part is given.

        Raises:
            LocalProtocolError: the pattern forbids sending now (EFSM).
            ClosedError: the socket is closed.
        """
        self._check_open()
        self._xcheck_send()

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
        while not self._inbox:
            self._check_open()
            if deadline is not None and self.loop.time() >= deadline:
                return False
            try:
                await self._wait(self._readers, deadline, "receive")
            except BusyError:
                return False
        return True

    @property
    def readable(self) -> bool:
        """Whether a message waits in the inbox (REQ/REP rules not applied)."""
        return bool(self._inbox)

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

    # -- closing --------------------------------------------------------------------------

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
        for waiters in (self._readers, self._writers):
            for future in waiters:
                if not future.done():
                    future.set_exception(ClosedError("the socket was closed"))
            waiters.clear()
        for listener in self._listeners:
            listener.close()
        self._inbox.clear()
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


def _wake(waiters: list) -> None:
    for future in waiters:
        if not future.done():
            future.set_result(False)
    waiters.clear()


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(True)
