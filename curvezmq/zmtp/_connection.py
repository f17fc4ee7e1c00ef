"""One ZMTP 3.1 connection as a sans-IO state machine.

Theory of operation
-------------------

A :class:`Connection` turns the bytes of one stream (a TCP or IPC connection) into
events and turns the application's messages into bytes. It does no I/O and reads no
clock: the caller feeds what arrived with :meth:`~Connection.receive_data`, writes
whatever :meth:`~Connection.data_to_send` returns, and passes the time in as ``now``.

States (:class:`ConnectionState`), in the order a connection walks through them::

    IDLE --start--> GREETING --peer greeting ok--> HANDSHAKE ------> ESTABLISHED
                           |                         |    ^
                           | (NULL, authenticate)    |    | accept (more commands
                           v                         v    |  to come: NULL, PLAIN)
                         AUTHENTICATING <--(CURVE INITIATE, PLAIN HELLO)
                           --accept (nothing more to come)--> ESTABLISHED
    any state --violation, peer ERROR, refuse(), close()--> CLOSED

- IDLE: created; nothing queued.
- GREETING: our whole 64-byte greeting is queued at once (libzmq sends its own in
  three pieces and deadlocks with a peer that waits for all 64 bytes before
  sending), followed by the mechanism's first command if it speaks first (NULL
  READY, CURVE HELLO). The peer's greeting is judged byte by byte as it arrives.
- HANDSHAKE: the mechanism (NULL, PLAIN or CURVE) exchanges its commands. Every
  frame body goes to the mechanism, whatever its flags (libzmq does not check the
  COMMAND bit of handshake frames either).
- AUTHENTICATING: the mechanism asked for a decision on the peer (an
  AuthenticationRequested: a CURVE server after INITIATE, a PLAIN server after
  HELLO, NULL with authentication right after the greeting) and waits for the
  application's :meth:`~Connection.accept` or :meth:`~Connection.refuse`. CURVE
  and PLAIN peers must stay silent meanwhile; a NULL peer's READY is kept until
  the decision.
- ESTABLISHED: messages flow. Under NULL a frame body is a message part (or a
  command when the COMMAND flag is set); under CURVE every frame body is a MESSAGE
  that the codec's session opens, and MORE and COMMAND come only from the inner
  flags byte. The connection keeps only that session (key, counters, framing):
  the codec and whatever the handshake needed are dropped on entry. A MESSAGE
  the mechanism's drop policy discards becomes a MessageDropped event.
- CLOSED: terminal. Reached on a protocol violation (receive_data raised
  :class:`~curvezmq.errors.RemoteProtocolError`), an ERROR from the peer, our
  refusal, or :meth:`~Connection.close`. Bytes already queued (an ERROR) can still
  be drained with data_to_send.

What always holds:

- A frame's declared size is checked against the limit of the current state as soon
  as its header is complete, before the body is waited for: before the handshake
  completes the limit is the size of the next command the mechanism expects (a
  CURVE server accepts a HELLO of exactly 200 bytes and nothing bigger), after it
  ``max_message_size`` bounds each part's application bytes. So the receive buffer
  never holds more than one frame plus whatever one ``receive_data`` call brings.
- Bytes from the peer produce events or a RemoteProtocolError (with a
  :class:`~curvezmq.errors.Reason`), nothing else; the connection is CLOSED before
  the error is raised, its receive buffer dropped and the mechanism's secrets wiped.
- A call the current state does not allow raises
  :class:`~curvezmq.errors.LocalProtocolError` and has no effect.
- The receive buffer is a bytearray read at an offset; it is replaced (not
  resized) once per receive_data call, so frame bodies handed out as memoryviews
  stay valid.

Heartbeats (ZMTP 3.1 PING and PONG, only once ESTABLISHED). The connection keeps
the time of the last bytes it was fed; liveness is counted from bytes, not whole
frames, so a large message still arriving never looks like silence. Three
deadlines feed :meth:`~Connection.get_timer`:

- with ``heartbeat_ivl`` set, a PING goes out every interval, carrying our TTL;
- after a PING of ours, the peer has ``heartbeat_timeout`` (default: the
  interval) to send anything at all;
- after a peer's PING with a TTL above 0, the peer must send something at least
  every TTL.

A missed deadline closes the connection and :meth:`~Connection.handle_timer`
returns :class:`HeartbeatTimedOut`. A PING of ours announces at most 655
deciseconds: libzmq multiplies the TTL by 100 in 16 bits, so a larger one wraps
around to a tiny timeout and libzmq would drop us.
"""

from __future__ import annotations

import enum
import logging
import struct

from .. import codec as _codec
from ..errors import LimitError, LocalProtocolError, Reason, RemoteProtocolError
from ._events import (
    AuthenticationRequested,
    CertificateServed,
    CommandReceived,
    ErrorReceived,
    HandshakeCompleted,
    HeartbeatTimedOut,
    MessageDropped,
    MessageReceived,
)
from ._exchange import CERT_MECHANISM, certificate_command
from ._framing import (
    COMMAND,
    GREETING_SIZE,
    LONG,
    MAX_FRAME_SIZE,
    MORE,
    check_greeting,
    command_body,
    frame_header,
    make_greeting,
    printable,
    split_command,
)
from ._mechanisms import Mechanism, _Ready, _Refused
from ._sockets import (
    MAX_IDENTITY_SIZE,
    SOCKET_TYPES,
    check_peer_socket_type,
    our_properties,
)

__all__ = ["Connection", "ConnectionState"]

_LOGGER = logging.getLogger("curvezmq.zmtp")

_SIZE = struct.Struct(">Q").unpack_from
_CodecMessage = _codec.MessageReceived
_CodecRejected = _codec.MessageRejected

# A MESSAGE body is the application's bytes plus 33: "\x07MESSAGE" (8), the short
# nonce (8), the Poly1305 tag (16) and the inner flags byte (1).
CURVE_MESSAGE_OVERHEAD = 33
# The default cap on the metadata a peer may send in a handshake command. libzmq
# sends about 40 bytes; 8 KiB leaves room for application properties while keeping
# what an unauthenticated peer can make us buffer small.
DEFAULT_MAX_METADATA = 8192

# The most parts one received message may have. ZeroMQ envelopes add a frame per
# hop, and applications rarely send more than a few parts; a cap keeps a peer that
# never ends its message from piling parts up (libzmq has none), and bounds the
# memory of one message to MAX_MESSAGE_PARTS * max_message_size when a size limit
# is set.
MAX_MESSAGE_PARTS = 1024

# PING = "\x04PING" + ttl(2) + context(0..16) (PROTOCOL.md section 5). A shorter
# PING is ignored: libzmq echoes 16 bytes read past the end of one, we never do.
_PING = b"PING"
_PONG = b"PONG"
_PING_MIN_SIZE = 7
_PING_CONTEXT_MAX = 16
_SURFACED_COMMANDS = {b"SUBSCRIBE": "SUBSCRIBE", b"CANCEL": "CANCEL"}
# The largest TTL we announce, in deciseconds: libzmq computes TTL * 100 in a
# uint16, so 656 and above wrap to a few milliseconds and libzmq drops us.
MAX_PING_TTL = 655
# A subscription as a ZMTP 3.0 peer wants it: a data message, 1 or 0 then topic.
_SUBSCRIBE_BYTE = b"\x01"
_CANCEL_BYTE = b"\x00"


class ConnectionState(enum.Enum):
    """Where a :class:`Connection` is; see the module's theory of operation."""

    IDLE = "idle"
    GREETING = "greeting"
    HANDSHAKE = "handshake"
    AUTHENTICATING = "authenticating"
    ESTABLISHED = "established"
    CLOSED = "closed"


_S = ConnectionState

# The local operations each state allows: the single source of truth for what the
# application may call when. Input from the peer is judged by the mechanism and the
# frame handlers instead.
_ALLOWED = {
    "start": {_S.IDLE},
    "receive_data": {
        _S.GREETING,
        _S.HANDSHAKE,
        _S.AUTHENTICATING,
        _S.ESTABLISHED,
    },
    "send_message": {_S.ESTABLISHED},
    "send_command": {_S.ESTABLISHED},
    "accept": {_S.AUTHENTICATING},
    "refuse": {_S.AUTHENTICATING},
}


class Connection:
    """The ZMTP 3.1 protocol of one connection, without I/O.

    Args:
        socket_type: our socket type, ``"DEALER"``, ``"ROUTER"``, ``"REQ"``...
        mechanism: a :class:`NullMechanism`, :class:`PlainClientMechanism`,
            :class:`PlainServerMechanism`, :class:`CurveClientMechanism` or
            :class:`CurveServerMechanism`, used by this connection only.
        identity: our Identity property (sent by REQ, DEALER and ROUTER), 0..255
            bytes.
        max_message_size: the most application bytes one message part may carry
            once the handshake is done; -1 for no limit (libzmq's MAXMSGSIZE,
            applied to the plaintext under CURVE).
        max_metadata: the most metadata bytes a peer's handshake command may
            carry; bounds what an unauthenticated peer can make us buffer.
        heartbeat_ivl: seconds between the PINGs we send once established; 0
            sends none (libzmq's HEARTBEAT_IVL).
        heartbeat_ttl: the TTL our PINGs announce, in seconds; the peer may
            drop us after that long without traffic. Sent in deciseconds,
            capped at :data:`MAX_PING_TTL` (HEARTBEAT_TTL).
        heartbeat_timeout: seconds the peer has to send anything after a PING
            of ours before we close; None means ``heartbeat_ivl``, 0 never
            (HEARTBEAT_TIMEOUT).
        logger: where DEBUG detail goes; ``logging.getLogger("curvezmq.zmtp")``
            when omitted.

    Raises:
        ValueError: an unknown socket type, an identity longer than 255 bytes,
            a negative limit or heartbeat time, or a mechanism already used by
            another connection.
        TypeError: ``mechanism`` is not a mechanism.
        InvalidKeyError: a CURVE mechanism was given a malformed key.
    """

    def __init__(
        self,
        socket_type: str,
        mechanism: Mechanism,
        *,
        identity: bytes = b"",
        max_message_size: int = -1,
        max_metadata: int = DEFAULT_MAX_METADATA,
        heartbeat_ivl: float = 0.0,
        heartbeat_ttl: float = 0.0,
        heartbeat_timeout: float | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if socket_type not in SOCKET_TYPES:
            raise ValueError(
                f"expected a socket type among {sorted(SOCKET_TYPES)}, got "
                f"{socket_type!r}"
            )
        if len(identity) > MAX_IDENTITY_SIZE:
            raise ValueError(
                f"expected an identity of at most {MAX_IDENTITY_SIZE} bytes, got "
                f"{len(identity)}"
            )
        if max_message_size < -1 or max_metadata < 0:
            raise ValueError(
                f"expected max_message_size >= -1 and max_metadata >= 0, got "
                f"{max_message_size} and {max_metadata}"
            )
        if not isinstance(mechanism, Mechanism):
            raise TypeError(f"expected a mechanism, got {type(mechanism).__name__}")
        if heartbeat_timeout is None:
            heartbeat_timeout = heartbeat_ivl
        if min(heartbeat_ivl, heartbeat_ttl, heartbeat_timeout) < 0:
            raise ValueError(
                f"expected heartbeat times >= 0, got interval {heartbeat_ivl}, "
                f"ttl {heartbeat_ttl}, timeout {heartbeat_timeout}"
            )

        self.socket_type = socket_type
        self.identity = bytes(identity)
        self._max_message_size = max_message_size
        self._log = logger or _LOGGER
        self._mechanism = mechanism
        metadata = _codec.encode_metadata(our_properties(socket_type, identity))
        mechanism._attach(metadata, max_metadata, self._log)
        # under CURVE the codec, then from ESTABLISHED on its session (both open and
        # seal MESSAGE bodies); None under NULL and PLAIN
        self._codec = mechanism._codec

        self._state = ConnectionState.IDLE
        self._handshake_steps = 0
        self._peer_version: tuple[int, int] | None = None
        self._error: RemoteProtocolError | None = None
        self._out: list = []
        self._buf = bytearray()
        self._pos = 0
        # the largest frame body the current state admits, and how to name it
        self._limit = 0
        self._expect = ""
        self._limit_reason = Reason.ZMTP_UNSPECIFIED
        self._on_frame = self._handshake_frame
        # what accept() attached to the peer, reported when the handshake completes
        self._auth_metadata: dict = {}
        # heartbeats: the clock as of the last call that passed one in, when the
        # peer last sent any bytes, and the deadlines (None: not armed)
        self._heartbeat_ivl = heartbeat_ivl
        self._heartbeat_timeout = heartbeat_timeout
        # our PING: "\x04PING" + TTL in deciseconds, big-endian
        ttl = min(int(heartbeat_ttl * 10 + 1e-9), MAX_PING_TTL)
        self._ping = command_body(_PING, ttl.to_bytes(2, "big"))
        self._now = 0.0
        self._last_received = 0.0
        self._next_ping: float | None = None
        self._pong_deadline: float | None = None
        self._peer_ttl = 0.0
        # set by the caller while its transport cannot take more bytes: what the
        # peer provokes (PONGs) is then not queued
        self.writing_paused = False
        # the parts of the message being received, up to one without MORE; at
        # most MAX_MESSAGE_PARTS, so with max_message_size set a peer that never
        # ends its message can pin at most their product
        self._parts: list = []

    def __repr__(self) -> str:
        return (
            f"<Connection {self.socket_type} {self._mechanism.name.decode()} "
            f"{self._state.value}>"
        )

    # -- state -----------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The connection's :class:`ConnectionState`."""
        return self._state

    @property
    def peer_version(self) -> tuple[int, int] | None:
        """The peer's ZMTP version, ``(3, 0)`` or ``(3, 1)``; None before its
        greeting. A 3.0 peer wants subscriptions as data messages, a 3.1 peer as
        SUBSCRIBE and CANCEL commands."""
        return self._peer_version

    @property
    def max_message_size(self) -> int:
        """The most application bytes a received message part may carry; -1 for
        no limit."""
        return self._max_message_size

    @property
    def mechanism(self) -> Mechanism:
        """The mechanism this connection runs."""
        return self._mechanism

    @property
    def compact(self) -> bool:
        """True once both CURVE peers agreed on compact framing
        (docs/extensions.md): each MESSAGE then carries no name and no nonce."""
        return bool(getattr(self._codec, "compact", False))

    @property
    def handshake_progress(self) -> int:
        """How far the peer has come: 0 until its whole greeting arrived, then 1 plus
        the handshake commands it got accepted. A partial greeting counts as
        nothing, so a peer cannot look busy by trickling bytes."""
        return self._handshake_steps

    def _check(self, operation: str) -> None:
        if self._state not in _ALLOWED[operation]:
            raise LocalProtocolError(
                f"{operation}() is not allowed while the connection is "
                f"{self._state.value}"
            )

    def _enter_established(self) -> None:
        self._state = ConnectionState.ESTABLISHED
        if self._heartbeat_ivl > 0:
            self._next_ping = self._now + self._heartbeat_ivl
        if self._codec is not None:
            # keep only the session: the codec goes, with our handshake metadata,
            # the peer's keys and the rng; its last command (READY) goes out first
            self._flush_mechanism()
            self._codec = self._mechanism._take_session()
        self._on_frame = self._null_frame if self._codec is None else self._curve_frame
        if self._max_message_size < 0:
            self._limit = MAX_FRAME_SIZE
        elif self._codec is None:
            self._limit = self._max_message_size
        else:
            self._limit = self._max_message_size + self._codec.overhead
        self._expect = "a message part"
        self._limit_reason = Reason.ZMTP_UNSPECIFIED

    def _enter_closed(self) -> None:
        if self._state is ConnectionState.CLOSED:
            return
        self._state = ConnectionState.CLOSED
        self._buf = bytearray()
        self._pos = 0
        self._parts = []
        self._mechanism._close()

    def _expect_next(self) -> None:
        self._limit, self._expect, self._limit_reason = self._mechanism._limit()

    # -- local operations ------------------------------------------------------

    def start(self, now: float) -> None:
        """Queue our 64-byte greeting, and the mechanism's first command after it.

        Args:
            now: the current time in seconds.

        Raises:
            LocalProtocolError: the connection was already started.
            InvalidKeyError: (CURVE client) the server key is a low-order point.
        """
        self._check("start")
        self._now = self._last_received = now
        mechanism = self._mechanism
        self._out.append(make_greeting(mechanism.name, mechanism.as_server))
        # the mechanism's first command (NULL READY, CURVE HELLO) goes out right
        # behind the greeting: libzmq reads exactly 64 greeting bytes before any
        # frame, and not waiting for the peer's greeting saves half a round trip
        mechanism._start(now)
        self._flush_mechanism()
        self._state = ConnectionState.GREETING

    def data_to_send(self) -> bytes:
        """Return the bytes to write to the peer, possibly ``b""``, and forget them."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out = []
        return data

    def send_message(self, frames) -> None:
        """Queue one message.

        Args:
            frames: its parts, a non-empty sequence of bytes-like objects. They
                are copied (or, under CURVE, sealed) before this returns.

        Raises:
            LocalProtocolError: the handshake is not complete, or the connection
                is closed.
            ValueError: no parts.
            TypeError: ``frames`` is one bytes-like object, not a sequence of them.
        """
        self._check("send_message")
        if isinstance(frames, (bytes, bytearray, memoryview, str)):
            raise TypeError("expected a sequence of message parts, got a single one")
        if not frames:
            raise ValueError("expected at least one message part, got none")

        out = self._out
        if self._codec is not None:
            # MORE travels inside the box; the outer frame is always a plain one
            for body in self._codec.send_message(frames):
                out.append(frame_header(0, len(body)))
                out.append(body)
            return
        last = len(frames) - 1
        for index, frame in enumerate(frames):
            frame = bytes(frame)
            out.append(frame_header(MORE if index < last else 0, len(frame)))
            out.append(frame)

    def send_command(self, name, data=b"") -> None:
        """Queue a ZMTP command (SUBSCRIBE, CANCEL, PING...), inside the box under
        CURVE.

        Args:
            name: the command name, 1..255 ASCII characters (str or bytes).
            data: the bytes after the name.

        Raises:
            LocalProtocolError: the handshake is not complete, or the connection
                is closed.
            ValueError: an empty or over-long name.
        """
        self._check("send_command")
        if isinstance(name, str):
            name = name.encode("ascii")
        if not 1 <= len(name) <= 255:
            raise ValueError(
                f"expected a command name of 1..255 bytes, got {len(name)}"
            )
        self._send_command_body(command_body(bytes(name), data))

    def send_subscription(self, topic, subscribe: bool = True) -> None:
        """Queue a subscription (SUB, XSUB) in the form the peer understands.

        A ZMTP 3.1 peer gets a SUBSCRIBE or CANCEL command; a 3.0 peer (greeting
        minor 0, libzmq before 4.3.3) a data message of 1 or 0 and the topic.

        Args:
            topic: the prefix, bytes-like; empty means every message.
            subscribe: True for SUBSCRIBE, False for CANCEL.

        Raises:
            LocalProtocolError: the handshake is not complete, or the connection
                is closed.
        """
        self._check("send_command")
        topic = bytes(topic)
        if self._peer_version == (3, 0):
            flag = _SUBSCRIBE_BYTE if subscribe else _CANCEL_BYTE
            self.send_message([flag + topic])
        else:
            self.send_command("SUBSCRIBE" if subscribe else "CANCEL", topic)

    def _send_command_body(self, body: bytes) -> None:
        if self._codec is not None:
            for sealed in self._codec.send_message([body], command=True):
                self._out.append(frame_header(0, len(sealed)))
                self._out.append(sealed)
            return
        self._out.append(frame_header(COMMAND, len(body)))
        self._out.append(body)

    def accept(self, user_id: bytes = b"", metadata=None) -> list:
        """Let the peer of an AuthenticationRequested in.

        Args:
            user_id: who the peer is, as a ZAP handler would name it.
            metadata: properties the decision attaches to this peer (a ZAP
                reply's metadata), or None. They are reported in
                HandshakeCompleted.auth_metadata and never sent to the peer.

        Returns:
            ``[HandshakeCompleted]`` when the handshake is now complete (CURVE;
            NULL when the peer's READY already came), else ``[]`` and the
            handshake goes on (PLAIN's WELCOME, NULL's READY are queued).

        Raises:
            LocalProtocolError: no AuthenticationRequested is pending.
            RemoteProtocolError: (NULL) the READY the peer sent while we decided
                names a socket type ours cannot talk to; the connection is
                CLOSED.
        """
        self._check("accept")
        self._auth_metadata = dict(metadata or {})
        ready = self._mechanism._accept(user_id)
        if ready is None:
            self._flush_mechanism()
            self._state = ConnectionState.HANDSHAKE
            self._expect_next()
            return []
        try:
            done = self._complete(ready, self._auth_metadata)
        except RemoteProtocolError as exc:
            self._error = exc
            self._enter_closed()
            raise
        self._flush_mechanism()
        return [done]

    def refuse(self, status: str = "400") -> None:
        """Turn away the peer of an AuthenticationRequested.

        Queues ERROR with ``status`` (libzmq sends exactly "400" or "500"; PLAIN
        in libzmq's ``^RROR`` form) and closes the connection; drain
        data_to_send before closing the transport. For a "300" decision call
        :meth:`close` instead: libzmq then sends nothing.

        Raises:
            LocalProtocolError: no AuthenticationRequested is pending.
        """
        self._check("refuse")
        self._mechanism._refuse(status)
        self._flush_mechanism()
        self._enter_closed()

    def close(self) -> None:
        """End the connection from our side: wipe secrets, drop buffers.

        Queued bytes can still be drained. Calling it again does nothing.
        """
        self._enter_closed()

    def get_timer(self) -> float | None:
        """Return when :meth:`handle_timer` wants to be called, or None.

        Only heartbeats set deadlines; bounding the handshake (libzmq's
        HANDSHAKE_IVL) is left to the caller, which owns the clock.

        Returns:
            the earliest heartbeat deadline in the time base of ``now``, or None.
            Calling :meth:`handle_timer` early does no harm.
        """
        if self._state is not ConnectionState.ESTABLISHED:
            return None
        deadline = self._next_ping
        pong = self._pong_deadline
        if pong is not None and (deadline is None or pong < deadline):
            deadline = pong
        if self._peer_ttl:
            ttl = self._last_received + self._peer_ttl
            if deadline is None or ttl < deadline:
                deadline = ttl
        return deadline

    def handle_timer(self, now: float) -> list:
        """Act on the heartbeat deadlines that have passed.

        Args:
            now: the current time in seconds.

        Returns:
            ``[HeartbeatTimedOut]`` when the peer stayed silent too long (the
            connection is then CLOSED), else ``[]``; a PING may be queued for
            data_to_send.
        """
        if self._state is not ConnectionState.ESTABLISHED:
            return []
        self._now = now
        silence = now - self._last_received

        # 1. the peer owes us traffic after our PING, or within its own TTL
        pong = self._pong_deadline
        if pong is not None and now >= pong:
            return self._timed_out(
                silence,
                f"expected traffic within {self._heartbeat_timeout:g} s of our "
                "PING, got none",
            )
        if self._peer_ttl and silence >= self._peer_ttl:
            return self._timed_out(
                silence,
                f"expected traffic at least every {self._peer_ttl:g} s (the TTL of "
                "the peer's PING), got none",
            )

        # 2. our own PING, and from it the wait for an answer
        if self._next_ping is not None and now >= self._next_ping:
            self._send_command_body(self._ping)
            self._next_ping = now + self._heartbeat_ivl
            if self._pong_deadline is None and self._heartbeat_timeout > 0:
                self._pong_deadline = now + self._heartbeat_timeout
        return []

    def keep_alive(self, now: float) -> None:
        """Count the peer as heard from at ``now`` without bytes from it.

        For a caller that stopped reading on purpose (back-pressure): the
        peer's bytes wait unread, so silence says nothing about the peer.

        Args:
            now: the current time in seconds.
        """
        self._now = self._last_received = now
        self._pong_deadline = None

    def _timed_out(self, silence: float, reason: str) -> list:
        self._log.debug("heartbeat: %s", reason)
        self._enter_closed()
        return [HeartbeatTimedOut(silence, reason)]

    # -- receiving -------------------------------------------------------------

    def receive_data(self, data, now: float) -> list:
        """Take bytes that arrived from the peer, in any chunking.

        Args:
            data: the bytes, a bytes-like object.
            now: the current time in seconds.

        Returns:
            The events the bytes completed, in order.

        Raises:
            RemoteProtocolError: the peer broke the protocol (LimitError when a
                frame header declared more than the current state admits). The
                connection is CLOSED first; the exception's ``events`` attribute
                holds the events the same data produced before the violation,
                which the caller should still deliver.
            LocalProtocolError: start() was not called.
        """
        if self._error is not None:
            raise RemoteProtocolError(
                f"the connection already failed: {self._error}", self._error.reason
            )
        events: list = []
        if self._state is ConnectionState.CLOSED or not data:
            # after an ERROR or our own close, late bytes mean nothing
            return events
        self._check("receive_data")
        # any bytes at all prove the peer alive, even a fraction of a frame
        self._now = self._last_received = now
        self._pong_deadline = None

        self._buf += data
        try:
            if self._state is ConnectionState.GREETING:
                self._read_greeting(now, events)
            if self._state not in (ConnectionState.GREETING, ConnectionState.CLOSED):
                self._read_frames(now, events)
        except RemoteProtocolError as exc:
            self._error = exc
            self._enter_closed()
            exc.events = events
            raise

        # compact: a fresh buffer, so memoryviews handed out stay valid
        if self._pos:
            if self._pos >= len(self._buf):
                self._buf = bytearray()
            else:
                self._buf = self._buf[self._pos :]
            self._pos = 0
        return events

    def _read_greeting(self, now: float, events: list) -> None:
        greeting = self._buf[:GREETING_SIZE]
        if self._fetching_certificate(greeting):
            # a certificate fetch (docs/extensions.md): answer and close
            self._out.append(
                certificate_command(self._mechanism._certificate_to_serve())
            )
            self._log.debug("answered a certificate fetch")
            self._enter_closed()
            events.append(CertificateServed())
            return
        version = check_greeting(greeting, self._mechanism.name)
        if version is None:
            return
        self._pos = GREETING_SIZE
        self._peer_version = version
        self._state = ConnectionState.HANDSHAKE
        self._handshake_steps = 1
        self._log.debug(
            "ZMTP %d.%d peer greeting, mechanism %s",
            *version,
            self._mechanism.name.decode(),
        )
        self._expect_next()
        request = self._mechanism._greeted()
        if request is not None:
            # NULL with authentication decides before its READY goes out
            self._state = ConnectionState.AUTHENTICATING
            events.append(request)

    def _fetching_certificate(self, greeting) -> bool:
        # a whole greeting naming CURVEZMQ-CERT, to a CURVE server that serves
        # its certificate; anything else goes the usual way (and a mechanism
        # mismatch closes the connection)
        if len(greeting) < GREETING_SIZE:
            return False
        if self._mechanism._certificate_to_serve() is None:
            return False
        try:
            return check_greeting(greeting, CERT_MECHANISM) is not None
        except RemoteProtocolError:
            return False

    def _read_frames(self, now: float, events: list) -> None:
        buf = self._buf
        view = memoryview(buf)
        end = len(buf)
        pos = self._pos
        while end - pos >= 2:
            flags = buf[pos]
            if flags & LONG:
                if end - pos < 9:
                    break
                (size,) = _SIZE(buf, pos + 1)
                start = pos + 9
            else:
                size = buf[pos + 1]
                start = pos + 2
            if size > self._limit:
                raise self._too_big(size)
            stop = start + size
            if stop > end:
                break
            pos = self._pos = stop
            self._on_frame(flags, view[start:stop], now, events)
            if self._state is ConnectionState.CLOSED:
                break

    def _too_big(self, size: int) -> LimitError:
        if size > MAX_FRAME_SIZE:
            return LimitError(
                f"expected a frame size below 2**63, got a header declaring {size}",
                Reason.ZMTP_UNSPECIFIED,
            )
        if self._state is ConnectionState.ESTABLISHED:
            limit = self._max_message_size
            if self._codec is not None:
                size -= self._codec.overhead
            return LimitError(
                f"expected a message part of at most {limit} bytes, got a frame "
                f"announcing one of {size}",
                self._limit_reason,
            )
        if not self._limit:
            return LimitError(
                f"expected {self._expect}, got a frame header declaring {size} bytes",
                self._limit_reason,
            )
        return LimitError(
            f"expected {self._expect} of at most {self._limit} bytes, got a frame "
            f"header declaring {size}",
            self._limit_reason,
        )

    def _flush_mechanism(self) -> None:
        for body in self._mechanism._take_output():
            self._out.append(frame_header(COMMAND, len(body)))
            self._out.append(body)

    def _complete(self, ready: _Ready, auth_metadata=None) -> HandshakeCompleted:
        socket_type = check_peer_socket_type(self.socket_type, ready.metadata)
        identity = bytes(dict.get(ready.metadata, "Identity", b""))
        self._enter_established()
        self._log.debug(
            "handshake complete with a %s peer", socket_type or "(no Socket-Type)"
        )
        return HandshakeCompleted(
            ready.metadata,
            ready.user_id,
            socket_type,
            identity,
            auth_metadata or {},
            ready.certificate,
        )

    # the frame handlers: one per phase, chosen when the phase begins

    def _handshake_frame(self, flags: int, body, now: float, events: list) -> None:
        deciding = self._state is ConnectionState.AUTHENTICATING
        if deciding and self._mechanism._quiet_while_deciding:
            raise RemoteProtocolError(
                "expected nothing from the peer while we decide on it, got a frame",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )
        outcome = self._mechanism._receive(body, now)
        self._handshake_steps += 1

        if isinstance(outcome, _Ready):
            # check the peer's socket type before a PLAIN server's READY leaves
            done = self._complete(outcome, self._auth_metadata)
            self._flush_mechanism()
            events.append(done)
            return
        self._flush_mechanism()
        if outcome is None:
            self._expect_next()
        elif isinstance(outcome, _Refused):
            self._enter_closed()
            events.append(ErrorReceived(outcome.reason))
        elif isinstance(outcome, AuthenticationRequested):
            if outcome.metadata:
                # a CURVE server checked INITIATE: refuse a wrong socket type
                # before asking the application about a client it could never
                # talk to
                check_peer_socket_type(self.socket_type, outcome.metadata)
            self._state = ConnectionState.AUTHENTICATING
            self._expect_next()
            events.append(outcome)

    def _null_frame(self, flags: int, body, now: float, events: list) -> None:
        if flags & COMMAND:
            self._command(body, events)
            return
        self._add_part(body.tobytes(), flags & MORE, events)

    def _curve_frame(self, flags: int, body, now: float, events: list) -> None:
        # the outer flags carry nothing: libzmq sends 0x00 / 0x02 and takes MORE
        # and COMMAND from the inner flags byte, which the session reports
        for event in self._codec.receive(body, now):
            if type(event) is not _CodecMessage:
                if type(event) is _CodecRejected:
                    self._log.debug("dropped a MESSAGE: %s", event.reason.name)
                    events.append(
                        MessageDropped(event.reason, event.detail, event.dropped)
                    )
                continue
            if event.command:
                self._command(event.data, events)
                continue
            self._add_part(event.data, event.more, events)

    def _add_part(self, part, more, events: list) -> None:
        parts = self._parts
        parts.append(part)
        if not more:
            events.append(MessageReceived(parts))
            self._parts = []
        elif len(parts) >= MAX_MESSAGE_PARTS:
            raise LimitError(
                f"expected a message of at most {MAX_MESSAGE_PARTS} parts, got "
                f"{len(parts)} parts and more to come",
                Reason.ZMTP_UNSPECIFIED,
            )

    def _command(self, body, events: list) -> None:
        split = split_command(body)
        if split is None:
            self._log.debug("ignored a malformed command of %d bytes", len(body))
            return
        name, offset = split

        if name == _PING:
            if len(body) < _PING_MIN_SIZE:
                self._log.debug("ignored a PING of %d bytes", len(body))
                return
            # the peer's TTL (deciseconds): it will be silent no longer than this
            ttl = (body[5] << 8) | body[6]
            if ttl:
                self._peer_ttl = ttl / 10
            if self.writing_paused:
                # the peer is not reading what we send: a PONG would only pile up
                # behind the rest (libzmq keeps at most one pending); any bytes it
                # gets from us later prove we are alive just as well
                self._log.debug("no PONG while the peer is not reading")
                return
            context = bytes(body[_PING_MIN_SIZE : _PING_MIN_SIZE + _PING_CONTEXT_MAX])
            self._send_command_body(command_body(_PONG, context))
        elif name == _PONG:
            pass
        elif name in _SURFACED_COMMANDS:
            events.append(
                CommandReceived(_SURFACED_COMMANDS[name], bytes(body[offset:]))
            )
        else:
            # libzmq drops unknown commands after the handshake without closing
            self._log.debug("ignored a %s command", printable(name))
