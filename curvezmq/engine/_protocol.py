"""The asyncio protocol of one TCP connection: bytes in, bytes out, one timer.

Theory of operation. The protocol is deliberately thin: every protocol decision is
made by the sans-IO :class:`curvezmq.zmtp.Connection` it owns. The protocol

1. feeds each chunk the transport delivers into ``Connection.receive_data`` and
   hands the events it returns to the socket (messages), the policy (a peer to
   decide on) or its endpoint (handshake done, refused);
2. drains ``Connection.data_to_send()`` into the transport once per loop turn, so
   many messages sent in one turn leave in one ``write``;
3. re-arms one timer from ``Connection.get_timer()`` (heartbeats), plus the
   handshake deadline (HANDSHAKE_IVL) until the handshake completes. The timer
   is moved only when a deadline comes earlier; firing early costs one call that
   does nothing, where moving it on every chunk would cost a timer per chunk.
   While the socket holds this peer back (RCVHWM), the peer counts as alive:
   its bytes wait unread by our choice.

States: handshaking (from ``connection_made``), ready (``HandshakeCompleted``: the
socket now routes over the connection), closed (``connection_lost``). A
``RemoteProtocolError`` from the connection, or from a socket pattern rejecting what
the peer sent, is logged once with the peer's address and closes this connection
only; anything the connection still has to say (an ERROR) is written first.

Deciding on a peer. An AuthenticationRequested becomes an
:class:`~curvezmq.auth.AuthRequest` (the socket's ZAP domain, the peer's address,
our routing id, the credentials) for the socket's policy, as libzmq makes a ZAP
request. A policy may answer at once or with an awaitable; the handshake waits for
it (up to HANDSHAKE_IVL), and an answer for a connection that closed meanwhile is
dropped.

Every outcome is also reported to the socket's monitor (see
:mod:`curvezmq.engine._monitor`): CONNECTED or ACCEPTED when the connection is
made, HANDSHAKE_SUCCEEDED or one HANDSHAKE_FAILED_* event, DISCONNECTED when it
ends without our asking.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import logging
import socket as _socket
import struct
from typing import TYPE_CHECKING

from ..auth import AuthRequest, Decision
from ..errors import CurveZMQError, RemoteProtocolError
from ..zmtp import (
    AuthenticationRequested,
    CertificateServed,
    CommandReceived,
    ErrorReceived,
    HandshakeCompleted,
    HeartbeatTimedOut,
    MessageDropped,
    MessageReceived,
)
from ._exchange import Verdict, validate
from ._monitor import MonitorEvent

if TYPE_CHECKING:  # pragma: no cover
    from ._pipe import Pipe
    from ._socket import Socket

__all__ = ["ZmtpProtocol", "logger"]

logger = logging.getLogger("curvezmq.engine")

# Messages written into the connection in one loop turn are normally flushed at the
# end of the turn. A sender that never yields would grow that buffer without bound,
# so past this many unflushed bytes we flush at once, which lets the transport's
# own high-water mark pause us.
_FLUSH_AT = 256 * 1024


class ZmtpProtocol(asyncio.Protocol):
    """One TCP connection of a socket.

    Args:
        socket: the engine socket this connection belongs to.
        owner: the ``Listener`` that accepted it or the ``Connecter`` that made it.
        outgoing: True for a connection we initiated.
    """

    # One per connection, so no per-instance dict: past 30 attributes CPython
    # gives each instance a full dict of its own (1.5 KiB here). A new attribute
    # goes here too.
    __slots__ = (
        "_auth_task",
        "_flush_handle",
        "_handshake_reported",
        "_handshake_timer",
        "_held",
        "_hello_timer",
        "_no_detail_errno",
        "_peer_certificate",
        "_timer",
        "_timer_at",
        "_unflushed",
        "bytes_received",
        "closed",
        "closing",
        "conn",
        "failed",
        "fd",
        "handshake_time",
        "local_close",
        "loop",
        "outgoing",
        "owner",
        "peer",
        "peer_ip",
        "pipe",
        "reading_paused",
        "ready",
        "refused",
        "socket",
        "started",
        "transport",
        "write_paused",
    )

    def __init__(self, socket: Socket, owner, outgoing: bool) -> None:
        self.socket = socket
        self.owner = owner
        self.outgoing = outgoing
        self.loop = socket.loop
        self.transport: asyncio.Transport | None = None
        self.conn = None
        self.pipe: Pipe | None = None
        self.peer = "?"
        self.peer_ip = ""
        self.ready = False
        self.closing = False  # close() or abort() was called
        self.closed = False
        self.failed = False  # a failure was logged; say nothing more at close
        self.refused = False  # the server sent ERROR: do not reconnect
        self.local_close = False  # we closed it on purpose (socket close)
        self.write_paused = False
        self.reading_paused = False
        self.bytes_received = 0
        self.started = self.loop.time()
        self.handshake_time: float | None = None  # seconds, once done
        self._unflushed = 0
        self._flush_handle: asyncio.Handle | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._handshake_timer: asyncio.TimerHandle | None = None
        self._hello_timer: asyncio.TimerHandle | None = None
        # the certificate the CURVE peer presented, and (client) the events that
        # arrived behind READY while the validator decides on the server
        self._peer_certificate = None
        self._held: list | None = None
        # the monitor's view: our fd, whether a HANDSHAKE_FAILED_* event was
        # reported, the errno to report if the handshake ends without one
        self.fd = -1
        self._handshake_reported = False
        self._no_detail_errno = errno.EPIPE
        # the policy's or the validator's answer being awaited
        self._auth_task: asyncio.Future | None = None

    @property
    def awaiting_decision(self) -> bool:
        """True while the handshake waits on our side (the policy or the
        validator), not on the peer."""
        return self._auth_task is not None

    def __repr__(self) -> str:
        state = "ready" if self.ready else "closed" if self.closed else "handshaking"
        return f"<ZmtpProtocol {self.peer} {state}>"

    # -- asyncio callbacks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self.peer_ip = str(peer[0])
            host = f"[{peer[0]}]" if ":" in self.peer_ip else self.peer_ip
            self.peer = f"{host}:{peer[1]}"
        else:
            # a unix socket (ipc): the peer has no address; name it by the
            # endpoint and the peer process, as libzmq gives ZAP ":uid:gid:pid"
            self.peer_ip = _peer_credentials(transport)
            self.peer = f"{self.owner.label} {self.peer_ip}".rstrip()

        # build the sans-IO connection; a failure here is ours, not the peer's
        try:
            self.conn = self.socket._new_connection(
                self.owner.options, self.peer, self.owner.server_key
            )
            self.conn.start(self.loop.time())
        except Exception:
            logger.exception("cannot start a connection with %s", self.peer)
            self.failed = True
            transport.abort()
            return

        self.owner.connection_made(self)
        sock = transport.get_extra_info("socket")
        self.fd = sock.fileno() if sock is not None else -1
        if self.outgoing:
            logger.info("connected to %s", self.peer)
            self._monitor(MonitorEvent.CONNECTED, self.fd)
        else:
            logger.info("accepted a connection from %s", self.peer)
            self._monitor(MonitorEvent.ACCEPTED, self.fd)
        options = self.owner.options
        ivl = options.handshake_ivl
        if ivl > 0:
            self._handshake_timer = self.loop.call_later(
                ivl / 1000, self._handshake_timeout
            )
        if not self.outgoing and options.curve_server and options.curve_hello_ivl > 0:
            # a peer that has not even sent a valid HELLO by then goes early
            self._hello_timer = self.loop.call_later(
                options.curve_hello_ivl / 1000, self._hello_timeout
            )
        self._flush()
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        if self.closing or self.conn is None:
            return
        self.bytes_received += len(data)
        try:
            try:
                events = self.conn.receive_data(data, self.loop.time())
            except RemoteProtocolError as exc:
                # what the peer sent before its violation was accepted: deliver
                # it, then close (libzmq does the same)
                for event in getattr(exc, "events", ()):
                    if self.closing:
                        break
                    self._handle(event)
                raise
            for event in events:
                if self.closing:
                    break  # refused or failed halfway through this chunk
                self._handle(event)
        except RemoteProtocolError as exc:
            self._fail(exc)
            return
        except Exception:
            # a bug on our side: lose this connection, keep the socket and the loop
            logger.exception("internal error on the connection with %s", self.peer)
            self.failed = True
            self.abort()
            return
        if self._hello_timer is not None and self.conn.handshake_progress >= 2:
            # a valid HELLO: CURVE_HELLO_IVL is met, HANDSHAKE_IVL bounds the rest
            self._hello_timer.cancel()
            self._hello_timer = None
        self._flush()
        self._arm_timer()

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        was_ready = self.ready
        self.ready = False
        self._cancel_timers()
        if self._auth_task is not None:
            self._auth_task.cancel()
            self._auth_task = None
        self._held = None
        if not self.local_close:
            # libzmq reports a handshake that just ended as a failure without
            # detail (EPIPE when the peer closed), then every loss as DISCONNECTED
            if not was_ready and not self._handshake_reported:
                if isinstance(exc, OSError) and exc.errno:
                    self._no_detail_errno = exc.errno
                self._handshake_failed(
                    MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL, self._no_detail_errno
                )
            self._monitor(MonitorEvent.DISCONNECTED, self.fd)
        if self.conn is not None:
            try:
                self.conn.close()  # wipes session keys
            except CurveZMQError:
                pass
        if self.pipe is not None:
            self.socket._connection_lost(self)
        self.owner.connection_lost(self)

        if self.failed:
            logger.debug("connection with %s closed", self.peer)
        elif self.local_close:
            if was_ready:
                logger.info("closed the connection with %s", self.peer)
        elif was_ready:
            why = f": {exc}" if exc else ""
            logger.info("connection with %s closed%s", self.peer, why)
        else:
            # libzmq closes without a word on most handshake failures (a wrong
            # server key, an unknown client key answered with 300...), so this is
            # often the only trace of one
            why = f" ({exc})" if exc else ""
            logger.warning(
                "handshake with %s failed: the peer closed the connection before "
                "the handshake completed%s",
                self.peer,
                why,
            )

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.conn is not None:
            self.conn.writing_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.conn is not None:
            self.conn.writing_paused = False
        if self.pipe is not None:
            self.pipe.drain()
            self.socket._wake_writers()

    # -- events from the connection ------------------------------------------------

    def _handle(self, event) -> None:
        if self._held is not None:
            # the validator is deciding on the server that sent these
            self._held.append(event)
            return
        kind = type(event)
        if kind is MessageReceived:
            self.socket._deliver(self.pipe, event.frames)
        elif kind is AuthenticationRequested:
            self._authenticate(event)
        elif kind is HandshakeCompleted:
            self._handshake_done(event)
        elif kind is ErrorReceived:
            self._refused(event.reason)
        elif kind is CommandReceived:
            self.socket._command(self.pipe, event.name, event.data)
        elif kind is MessageDropped:
            # CURVE_INVALID_DROP: the connection goes on, within its budget
            logger.warning(
                "dropped an invalid MESSAGE from %s: %s: %s (%d dropped on this "
                "connection)",
                self.peer,
                getattr(event.reason, "name", event.reason),
                event.detail,
                event.dropped,
            )
        elif kind is HeartbeatTimedOut:
            self.fail(f"heartbeat: {event.reason} for {event.silence * 1000:.0f} ms")
        elif kind is CertificateServed:
            logger.info("sent our certificate to %s (a certificate fetch)", self.peer)
            self.local_close = True
            self.close()
        else:
            logger.debug("ignored %r from %s", event, self.peer)

    def _authenticate(self, event: AuthenticationRequested) -> None:
        # ask the policy, as libzmq asks its ZAP handler
        options = self.owner.options
        self._peer_certificate = event.certificate
        request = AuthRequest(
            mechanism=event.mechanism,
            domain=options.zap_domain.decode("utf-8", "replace"),
            address=self.peer_ip,
            identity=options.routing_id,
            credentials=tuple(event.credentials),
        )
        try:
            answer = self.socket.policy().decide(request)
        except Exception:
            logger.exception("the authentication policy failed for %s", self.peer)
            answer = Decision("500", reason="the authentication policy failed")

        if inspect.isawaitable(answer):
            # the handshake waits; HANDSHAKE_IVL still bounds it
            task = asyncio.ensure_future(answer, loop=self.loop)
            self._auth_task = task
            task.add_done_callback(lambda done: self._decided(request, done))
            return
        self._apply_decision(request, answer)

    def _decided(self, request: AuthRequest, task: asyncio.Future) -> None:
        if self._auth_task is task:
            self._auth_task = None
        if task.cancelled() or self.closing or self.closed:
            return
        try:
            answer = task.result()
        except Exception:
            logger.exception("the authentication policy failed for %s", self.peer)
            answer = Decision("500", reason="the authentication policy failed")
        try:
            self._apply_decision(request, answer)
        except RemoteProtocolError as exc:
            self._fail(exc)
            return
        self._flush()
        self._arm_timer()

    def _apply_decision(self, request: AuthRequest, answer) -> None:
        mechanism = request.mechanism
        if answer is None:
            if mechanism == "PLAIN":
                # libzmq's PLAIN server without a ZAP handler: close, no ERROR,
                # HANDSHAKE_FAILED_NO_DETAIL with EFAULT
                logger.warning(
                    "handshake with %s failed: no authentication policy handles "
                    "PLAIN (set one, e.g. an Authenticator with configure_plain)",
                    self.peer,
                )
                self._handshake_failed(
                    MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL, errno.EFAULT
                )
                self.failed = True
                self.close()
                return
            # NULL and CURVE without a handler: admitted, no user id
            answer = Decision("200")
        elif not isinstance(answer, Decision):
            logger.error(
                "the authentication policy answered %r for %s, not a Decision",
                type(answer).__name__,
                self.peer,
            )
            answer = Decision("500", reason="the authentication policy failed")

        if answer.allowed:
            validator = self.owner.options.curve_validator
            if mechanism == "CURVE" and validator is not None:
                # the policy admits the key; the validator has the last word
                self._start_validation(
                    validator,
                    request.credentials[0],
                    self.peer_ip,
                    lambda verdict: self._server_validated(answer, verdict),
                )
                return
            self._admit(answer)
            return

        logger.warning(
            "handshake with %s failed: client refused with %s (%s%s)",
            self.peer,
            answer.status,
            mechanism,
            f": {answer.reason}" if answer.reason else "",
        )
        self._handshake_failed(MonitorEvent.HANDSHAKE_FAILED_AUTH, int(answer.status))
        self.failed = True
        if answer.status in ("400", "500"):
            # libzmq sends ERROR only for 400 and 500; 300 closes silently
            self.conn.refuse(answer.status)
        self.close()

    def _admit(self, answer: Decision) -> None:
        follow = self.conn.accept(user_id=answer.user_id, metadata=answer.metadata)
        for event in follow:
            self._handle(event)

    # -- the CURVE peer validator ------------------------------------------------------

    def _start_validation(self, validator, key: bytes, address: str, then) -> None:
        # ask the validator off the loop's critical path; HANDSHAKE_IVL still
        # bounds the whole handshake, CURVE_VALIDATOR_TIMEOUT the validator
        timeout = self.owner.options.curve_validator_timeout / 1000
        task = asyncio.ensure_future(
            validate(
                validator,
                bytes(key),
                self._peer_certificate,
                address,
                timeout,
                max(self.owner.options.max_handshakes, 1),
            ),
            loop=self.loop,
        )
        self._auth_task = task

        def done(task: asyncio.Future) -> None:
            if self._auth_task is task:
                self._auth_task = None
            if task.cancelled() or self.closing or self.closed:
                return
            try:
                then(task.result())
            except RemoteProtocolError as exc:
                self._fail(exc)
                return
            self._flush()
            self._arm_timer()

        task.add_done_callback(done)

    def _server_validated(self, answer: Decision, verdict: Verdict) -> None:
        if verdict.admitted:
            self._admit(answer)
            return
        # refused like a ZAP 400: ERROR "400", and a libzmq client stops
        logger.warning(
            "handshake with %s failed: client refused: %s", self.peer, verdict.reason
        )
        self._handshake_failed(MonitorEvent.HANDSHAKE_FAILED_AUTH, 400)
        self.failed = True
        self.conn.refuse("400")
        self.close()

    def _client_validated(self, event: HandshakeCompleted, verdict: Verdict) -> None:
        if not verdict.admitted:
            self._handshake_failed(MonitorEvent.HANDSHAKE_FAILED_AUTH, 400)
            self.failed = True
            if verdict.timed_out:
                logger.warning(
                    "handshake with %s failed: server not validated: %s; will retry",
                    self.peer,
                    verdict.reason,
                )
            else:
                # a refusal is final, as an ERROR from the server is
                self.refused = True
                logger.error(
                    "handshake with %s failed: server refused by the validator: "
                    "%s; not reconnecting",
                    self.peer,
                    verdict.reason,
                )
            self.close()
            return
        held, self._held = self._held or [], None
        if self.reading_paused and self.transport is not None:
            self.reading_paused = False
            self.conn.keep_alive(self.loop.time())
            self.transport.resume_reading()
        self._handshake_done(event, validated=True)
        for later in held:
            if self.closing:
                break
            self._handle(later)

    def _handshake_done(self, event: HandshakeCompleted, validated=False) -> None:
        validator = self.owner.options.curve_validator
        if (
            self.outgoing
            and not validated
            and validator is not None
            and self.owner.options.mechanism == "CURVE"
        ):
            key = self.conn.mechanism.server_key
            if key != self.owner.trusted_key:
                # hold the connection (and what the server sends) until the
                # validator admits the server
                self._held = []
                self._peer_certificate = event.certificate
                if self.transport is not None and not self.transport.is_closing():
                    self.reading_paused = True
                    self.transport.pause_reading()
                self._start_validation(
                    validator,
                    key,
                    self.owner.label,
                    lambda verdict: self._client_validated(event, verdict),
                )
                return
        self.ready = True
        self.handshake_time = self.loop.time() - self.started
        for handle in (self._handshake_timer, self._hello_timer):
            if handle is not None:
                handle.cancel()
        self._handshake_timer = self._hello_timer = None
        self._peer_certificate = None
        self._monitor(MonitorEvent.HANDSHAKE_SUCCEEDED, 0)
        logger.info(
            "handshake with %s done in %.1f ms (%s%s, peer %s)",
            self.peer,
            self.handshake_time * 1000,
            self.owner.options.mechanism,
            ", compact framing" if self.conn.compact else "",
            event.socket_type or "without a Socket-Type",
        )
        self.owner.handshake_done(self, event)

    def _refused(self, reason: str) -> None:
        # ERROR is final: libzmq stops reconnecting after it, and so do we
        self.refused = True
        self.failed = True
        if reason in ("300", "400", "500"):
            # libzmq reports only a ZAP status as an authentication failure
            self._handshake_failed(MonitorEvent.HANDSHAKE_FAILED_AUTH, int(reason))
        logger.error(
            "handshake with %s failed: the server refused us with ERROR %r; "
            "not reconnecting",
            self.peer,
            reason,
        )
        self.close()

    def _fail(self, exc: RemoteProtocolError) -> None:
        what = "handshake with" if not self.ready else "connection with"
        reason = getattr(exc.reason, "name", str(exc.reason))
        logger.warning("%s %s failed: %s: %s", what, self.peer, reason, exc)
        if not self.ready:
            self._handshake_failed(
                MonitorEvent.HANDSHAKE_FAILED_PROTOCOL, int(exc.reason)
            )
        self.failed = True
        self.close()

    def fail(self, message: str) -> None:
        """Close the connection because of something the peer did, with a WARNING.

        Args:
            message: the reason, for the log.
        """
        what = "handshake with" if not self.ready else "connection with"
        logger.warning("%s %s failed: %s", what, self.peer, message)
        self.failed = True
        self.close()

    # -- sending --------------------------------------------------------------------

    def send_message(self, frames: list) -> None:
        """Encode one message; it leaves at the end of this loop turn.

        Args:
            frames: the parts of one whole message.
        """
        self.conn.send_message(frames)
        for frame in frames:
            self._unflushed += len(frame)
        if self._unflushed >= _FLUSH_AT:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = self.loop.call_soon(self._flush)

    def send_subscription(self, topic: bytes, subscribe: bool) -> None:
        """Send SUBSCRIBE or CANCEL in the form the peer's ZMTP version wants; it
        leaves at the end of this loop turn.

        Args:
            topic: the prefix.
            subscribe: False for CANCEL.
        """
        if self.closing:
            return
        self.conn.send_subscription(topic, subscribe)
        if self._flush_handle is None:
            self._flush_handle = self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._unflushed = 0
        if self.conn is None or self.transport is None:
            return
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    @property
    def drained(self) -> bool:
        """Whether everything we sent has left for the kernel (for LINGER)."""
        if self.closed or self.transport is None:
            return True
        return (
            self._flush_handle is None and self.transport.get_write_buffer_size() == 0
        )

    # -- closing --------------------------------------------------------------------

    def close(self) -> None:
        """Write what is pending (an ERROR, queued messages), then close."""
        self.closing = True
        if self.transport is None or self.transport.is_closing():
            return
        self._flush()
        self._cancel_timers()
        self.transport.close()

    def abort(self) -> None:
        """Close at once, dropping anything not yet written."""
        self.closing = True
        self._cancel_timers()
        if self.transport is not None:
            self.transport.abort()

    def pause_reading(self) -> None:
        """Stop reading the peer (the socket's inbox is at RCVHWM for it)."""
        if self.transport is not None and not self.transport.is_closing():
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """Read the peer again."""
        if self.transport is not None and not self.transport.is_closing():
            self.reading_paused = False
            # heartbeat silence counts from now, not from when we stopped
            if self.conn is not None and not self.closing:
                self.conn.keep_alive(self.loop.time())
            self.transport.resume_reading()

    # -- timers ---------------------------------------------------------------------

    def _arm_timer(self) -> None:
        if self.conn is None:
            return
        deadline = self.conn.get_timer()
        if deadline is None:
            return  # a timer already set fires early and harmlessly
        if self._timer is not None:
            if self._timer_at <= deadline:
                return
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self.closed or self.closing:
            return
        now = self.loop.time()
        if self.reading_paused:
            self.conn.keep_alive(now)
        try:
            events = self.conn.handle_timer(now) or ()
            for event in events:
                if self.closing:
                    break
                self._handle(event)
        except RemoteProtocolError as exc:
            self._fail(exc)
            return
        self._flush()
        self._arm_timer()

    def _handshake_timeout(self) -> None:
        self._handshake_timer = None
        if not self.ready and not self.closed:
            self._no_detail_errno = errno.ETIMEDOUT
            self.fail(
                f"no handshake within {self.owner.options.handshake_ivl} ms "
                "(HANDSHAKE_IVL)"
            )

    def _hello_timeout(self) -> None:
        # handshake_progress is 2 once the greeting and a valid HELLO are in
        self._hello_timer = None
        if self.ready or self.closed or self.closing or self.conn is None:
            return
        if self.conn.handshake_progress < 2:
            self._no_detail_errno = errno.ETIMEDOUT
            self.fail(
                f"no valid HELLO within {self.owner.options.curve_hello_ivl} ms of "
                "connecting (CURVE_HELLO_IVL)"
            )

    def _cancel_timers(self) -> None:
        for handle in (
            self._timer,
            self._handshake_timer,
            self._hello_timer,
            self._flush_handle,
        ):
            if handle is not None:
                handle.cancel()
        self._timer = self._handshake_timer = self._flush_handle = None
        self._hello_timer = None
        self._timer_at = None

    # -- the monitor ----------------------------------------------------------------

    def _monitor(self, event: MonitorEvent, value: int) -> None:
        self.socket._monitor_event(event, value, self.owner.label)

    def _handshake_failed(self, event: MonitorEvent, value: int) -> None:
        # one HANDSHAKE_FAILED_* per connection, as libzmq reports
        if not self._handshake_reported:
            self._handshake_reported = True
            self._monitor(event, value)


def _peer_credentials(transport) -> str:
    # libzmq's ipc peer address: ":uid:gid:pid" of the process at the other end,
    # from SO_PEERCRED (Linux); "" where the platform cannot tell
    sock = transport.get_extra_info("socket")
    peercred = getattr(_socket, "SO_PEERCRED", None)
    if sock is None or peercred is None:
        return ""
    try:
        raw = sock.getsockopt(_socket.SOL_SOCKET, peercred, struct.calcsize("3i"))
    except OSError:
        return ""
    pid, uid, gid = struct.unpack("3i", raw)
    return f":{uid}:{gid}:{pid}"
