"""What the CurveZMQ client and server have in common: the state set, the dispatch
through a (state, command) table, the established session, and secret hygiene.

Theory of operation
-------------------
A codec is driven by its caller: ``receive(body, now)`` feeds one command body from
the peer, the handshake's own answers are queued and drained with ``data_to_send()``,
and ``send_message()`` seals application frames once the handshake is over. Each
machine (``CurveClient``, ``CurveServer``) declares one table mapping
``(state, command name)`` to a handler; that table is the only way in, so a command
absent from it, in any state, is a protocol violation.

Invariants:

- Bytes from the peer produce events or :class:`RemoteProtocolError`, nothing else.
  Before the error propagates the machine is in its terminal ``ERROR`` state and its
  secrets are wiped; an ERROR already queued can still be drained.
- The peer's nonce floor moves only when a box carrying that nonce has opened, so a
  forged MESSAGE can never make a later genuine one look replayed.
- Our own counter starts at 1 and only grows; it is never reused.
- Secrets we create (short-term secret keys, the session key) live in bytearrays and
  are wiped as soon as they are no longer needed, and at ``close()``. A short-term
  secret key arrives from ``rng`` as immutable ``bytes``: we copy it into our
  bytearray at once, but cannot wipe the rng's own object.

The session. Once the handshake is over, all a connection needs is a
:class:`CurveSession`: the precomputed key, our counter, the peer's nonce floor, the
two nonce prefixes and the framing. The codec hands it out (``codec.session``) so
that a transport can keep it and drop the codec with everything the handshake
needed (our metadata, the peer's keys, the rng). The session and the codec share
one key buffer, so wiping either wipes both.

Invalid messages. By default a MESSAGE that fails (box, nonce, size) ends the
session, as RFC 26 asks and libzmq does. With ``drop_invalid`` it is reported as
:class:`MessageRejected` and the session goes on, until more than
``invalid_budget`` MESSAGEs have failed within ``invalid_window`` seconds of the
caller's clock: then it ends as if the policy were to close. The budget keeps a
peer (or a man in the middle) that only sends garbage from costing us a box
check per frame forever.

Compact framing (docs/extensions.md). When both peers are curvezmq and agree in
INITIATE and READY, a MESSAGE body is only its box: no command name, no explicit
nonce. The nonce is implicit (the peer's previous one plus one; a stream keeps the
order) and the crypto is byte for byte the same.
"""

from __future__ import annotations

import collections
import enum
import logging
from typing import Callable, ClassVar, Optional

from .. import z85
from ..crypto import Backend, get_backend
from ..errors import CryptoError, LocalProtocolError, Reason, RemoteProtocolError
from ._commands import (
    FLAG_COMMAND,
    FLAG_MORE,
    NONCE_MAX,
    command_name,
)
from ._events import Event, MessageReceived, MessageRejected
from ._metadata import Metadata, decode_metadata, encode_metadata

__all__ = [
    "DEFAULT_INVALID_BUDGET",
    "DEFAULT_INVALID_WINDOW",
    "FRAMING_COMPACT",
    "FRAMING_PROPERTY",
    "CurveSession",
    "CurveState",
    "Rng",
]

Rng = Callable[[int], bytes]

_LOGGER = logging.getLogger("curvezmq.codec")

# what message_open's CryptoError codes mean, named like libzmq's protocol errors
_MESSAGE_REASONS = {
    "malformed": Reason.ZMTP_MALFORMED_COMMAND_MESSAGE,
    "nonce": Reason.ZMTP_INVALID_SEQUENCE,
    "mac": Reason.ZMTP_CRYPTOGRAPHIC,
}


# The metadata property that negotiates compact framing (docs/extensions.md): the
# client offers the framings it speaks, comma-separated; a server that speaks one
# names it in READY. The "X-" prefix is the one ZMTP leaves to applications; libzmq
# ignores it (and keeps it as a message property, which is why we strip it from
# what we report).
FRAMING_PROPERTY = "X-CurveZMQ-Framing"
FRAMING_COMPACT = b"compact"

# How many MESSAGEs may fail within how many seconds before a dropping session
# closes anyway. A genuine peer over TCP never sends one that fails; a few can come
# from a middlebox or an attacker injecting frames, and dropping those keeps the
# connection. A steady stream of them is an attack on our CPU (a box check each)
# or a session that cannot recover (a lost frame under compact framing makes every
# later nonce wrong), so 16 in 10 s ends it.
DEFAULT_INVALID_BUDGET = 16
DEFAULT_INVALID_WINDOW = 10.0

# the body overhead of each framing: name(8) + N8(8) + tag(16) + flags(1), or
# tag(16) + flags(1)
_STANDARD_OVERHEAD = 33
_COMPACT_OVERHEAD = 17


class CurveState(enum.Enum):
    """Where a client or server codec stands.

    Client: ``IDLE`` -> ``WAIT_WELCOME`` -> ``WAIT_READY`` -> ``ESTABLISHED``.
    Server: ``WAIT_HELLO`` -> ``WAIT_INITIATE`` -> ``WAIT_DECISION`` ->
    ``ESTABLISHED``. ``ERROR`` (a violation, a refusal, an ERROR received) and
    ``CLOSED`` (``close()`` called) are terminal.
    """

    IDLE = "idle"
    WAIT_WELCOME = "wait-welcome"
    WAIT_READY = "wait-ready"
    WAIT_HELLO = "wait-hello"
    WAIT_INITIATE = "wait-initiate"
    WAIT_DECISION = "wait-decision"
    ESTABLISHED = "established"
    ERROR = "error"
    CLOSED = "closed"

    @property
    def is_terminal(self) -> bool:
        """True for ``ERROR`` and ``CLOSED``: nothing more can happen."""
        return self is CurveState.ERROR or self is CurveState.CLOSED


_Handler = Callable[["_CurveCodec", object, float], list]


class _CurveCodec:
    """The machinery shared by CurveClient and CurveServer (not public)."""

    _ROLE: ClassVar[str]
    # (state, command name) -> handler; set by each subclass
    _TABLE: ClassVar[dict[tuple[CurveState, bytes], _Handler]]
    _SEND_PREFIX: ClassVar[bytes]
    _RECV_PREFIX: ClassVar[bytes]

    def __init__(
        self,
        *,
        max_metadata: int,
        drop_invalid: bool,
        invalid_budget: int,
        invalid_window: float,
        compact: bool,
        rng: Optional[Rng],
        backend: Optional[Backend],
        logger: Optional[logging.Logger],
        state: CurveState,
    ) -> None:
        if max_metadata < 0:
            raise ValueError(f"expected max_metadata >= 0, got {max_metadata}")
        if invalid_budget < -1 or invalid_window <= 0:
            raise ValueError(
                f"expected invalid_budget >= -1 and invalid_window > 0, got "
                f"{invalid_budget} and {invalid_window}"
            )
        self._backend = backend if backend is not None else get_backend()
        self._rng: Rng = rng if rng is not None else self._backend.random
        # with the backend's own CSPRNG a secret is drawn straight into our buffer
        self._own_rng = rng is None
        self._log = logger if logger is not None else _LOGGER
        self._max_metadata = max_metadata
        self._drop_invalid = bool(drop_invalid)
        self._invalid_budget = invalid_budget
        self._invalid_window = invalid_window
        self._compact = bool(compact)
        self._state = state
        self._pending: list[bytes] = []
        # the precomputed box key of C' and S', from beforenm; a secret, shared with
        # the session once the handshake is over
        self._key: Optional[bytearray] = None
        # our next short nonce, and the highest nonce of the peer's accepted so far;
        # the session carries both on once the handshake is over
        self._nonce = 1
        self._peer_nonce = 0
        self._peer_metadata = Metadata()
        self._session: Optional[CurveSession] = None

    # -- public surface ---------------------------------------------------------

    @property
    def state(self) -> CurveState:
        """The current :class:`CurveState`."""
        return self._state

    @property
    def is_established(self) -> bool:
        """True once MESSAGE may flow: READY received (client) or sent (server)."""
        return self._state is CurveState.ESTABLISHED

    @property
    def peer_metadata(self) -> Metadata:
        """The peer's metadata once its INITIATE or READY opened, else empty."""
        return self._peer_metadata

    @property
    def max_metadata(self) -> int:
        """The largest metadata, in bytes, accepted from the peer."""
        return self._max_metadata

    @property
    def session(self) -> Optional[CurveSession]:
        """The :class:`CurveSession` once the handshake is over (None before, and
        after the codec ended). A transport may keep it and drop the codec."""
        return self._session

    @property
    def compact(self) -> bool:
        """True when both peers agreed on compact framing (see the module notes)."""
        return self._session is not None and self._session.compact

    def receive(self, body, now: float) -> list[Event]:
        """Feed one command body from the peer.

        Args:
            body: the bytes of one ZMTP frame body (any bytes-like object; a MESSAGE
                arrives in a data frame, every other command in a command frame).
            now: the caller's clock, in seconds (monotonic).

        Returns:
            the events this body caused, possibly none.

        Raises:
            RemoteProtocolError: the body breaks the protocol in this state, with a
                :class:`~curvezmq.errors.Reason`; the codec is now in ``ERROR``
                and its secrets are wiped. Also raised for any body fed after the
                codec reached a terminal state.
        """
        session = self._session
        if session is not None and session.compact:
            # a compact MESSAGE has no name to dispatch on: every body is one
            handler = _CurveCodec._on_message
        else:
            handler = self._TABLE.get((self._state, command_name(body)))
        if handler is None:
            raise self._fail(self._unexpected(body))
        try:
            return handler(self, body, now)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise
        except CryptoError as exc:
            # every handler converts its own; this is the last line of defence
            raise self._fail(
                RemoteProtocolError(
                    f"{self._ROLE}: a box failed to open", Reason.ZMTP_CRYPTOGRAPHIC
                )
            ) from exc

    def data_to_send(self) -> list[bytes]:
        """Drain the handshake command bodies queued for the peer.

        Each body is sent as a ZMTP command frame. The queue survives the terminal
        state, so an ERROR queued by a refusal can still be sent.

        Returns:
            the queued bodies, oldest first (empty when none).
        """
        pending, self._pending = self._pending, []
        return pending

    def send_message(self, frames, command: bool = False) -> list:
        """Seal one message: one MESSAGE body per frame.

        Each body is sent as a ZMTP *data* frame (outer flags 0x00, or 0x02 when it
        needs a long size), as libzmq does; MORE and COMMAND travel in the inner
        flags byte.

        Args:
            frames: a sequence of bytes-like frames, at least one. Every frame but
                the last carries the inner MORE flag.
            command: set the inner COMMAND flag (0x02): the frames are ZMTP command
                bodies (PING, SUBSCRIBE...).

        Returns:
            one MESSAGE body per frame, in order: a ``bytearray`` each, or a
            ``memoryview`` under compact framing.

        Raises:
            LocalProtocolError: the handshake is not complete, the codec is closed,
                ``frames`` is empty, or our nonce counter would pass 2^64 - 1. The
                state does not change.
            TypeError: ``frames`` is a single bytes-like object, not a sequence.
        """
        if self._state is not CurveState.ESTABLISHED:
            raise LocalProtocolError(
                f"{self._ROLE}: cannot send a message in state {self._state.name}",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )
        return self._session.send_message(frames, command)

    def close(self) -> None:
        """Wipe our secrets and enter the terminal state.

        Queued bodies can still be drained. Calling it again does nothing.
        """
        self._wipe_secrets()
        if not self._state.is_terminal:
            self._state = CurveState.CLOSED

    # -- helpers for the machines -------------------------------------------------

    def _draw_secret(self, size: int) -> bytearray:
        """Draw a secret into a bytearray we own and wipe. The backend's CSPRNG
        writes it there directly; a caller's rng returns bytes we copy (and cannot
        wipe)."""
        if self._own_rng:
            return self._backend.random_secret(size)
        return bytearray(self._rng(size))

    def _next_nonce(self) -> bytes:
        """Take our next short nonce, as its 8 wire bytes."""
        nonce = self._nonce
        self._nonce = nonce + 1
        return nonce.to_bytes(8, "big")

    def _fail(self, exc: RemoteProtocolError) -> RemoteProtocolError:
        """Enter the terminal state, wipe, and hand back the error to raise."""
        self._wipe_secrets()
        if self._state is not CurveState.CLOSED:
            self._state = CurveState.ERROR
        self._log.debug("%s: protocol error %s: %s", self._ROLE, exc.reason.name, exc)
        return exc

    def _wipe_secrets(self) -> None:
        self._wipe(self._key)
        self._key = None
        if self._session is not None:
            self._session.close()
            self._session = None

    def _start_session(self, compact: bool) -> None:
        """The handshake is over: hand the key and both counters to a session."""
        self._session = CurveSession(
            self._backend,
            self._key,
            role=self._ROLE,
            send_prefix=self._SEND_PREFIX,
            recv_prefix=self._RECV_PREFIX,
            nonce=self._nonce,
            peer_nonce=self._peer_nonce,
            compact=compact,
            drop_invalid=self._drop_invalid,
            invalid_budget=self._invalid_budget,
            invalid_window=self._invalid_window,
            logger=self._log,
        )

    def _wipe(self, buf: Optional[bytearray]) -> None:
        if buf is not None:
            self._backend.wipe(buf)

    def _unexpected(self, body) -> RemoteProtocolError:
        name = command_name(body)
        if self._state.is_terminal:
            return RemoteProtocolError(
                f"{self._ROLE}: expected nothing after the session ended "
                f"({self._state.name}), got a {len(body)}-byte body",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )
        if name is None:
            return RemoteProtocolError(
                f"{self._ROLE}: expected a command body (name length, name), got "
                f"{len(body)} bytes starting {bytes(body[:8])!r}",
                Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            )
        expected = " or ".join(
            n.decode("ascii") for (s, n) in self._TABLE if s is self._state
        )
        return RemoteProtocolError(
            f"{self._ROLE}: expected {expected or 'no command'} in state "
            f"{self._state.name}, got {name[:20]!r}",
            Reason.ZMTP_UNEXPECTED_COMMAND,
        )

    def _own_metadata(self, metadata) -> bytes:
        """Check metadata we are about to send; encode a mapping or pair list."""
        if isinstance(metadata, (bytes, bytearray, memoryview)):
            raw = bytes(metadata)
            try:
                decode_metadata(raw)
            except RemoteProtocolError as exc:
                raise LocalProtocolError(
                    f"our metadata is malformed: {exc}", Reason.ZMTP_INVALID_METADATA
                ) from None
        else:
            raw = encode_metadata(metadata)
        if raw and FRAMING_PROPERTY in decode_metadata(raw):
            raise LocalProtocolError(
                f"the {FRAMING_PROPERTY} property is the codec's to send (use "
                "compact=)",
                Reason.ZMTP_INVALID_METADATA,
            )
        return raw

    def _open_metadata(self, data, command: str) -> Metadata:
        """Size-check and decode metadata that came out of a peer's box."""
        if len(data) > self._max_metadata:
            raise RemoteProtocolError(
                f"{self._ROLE}: expected at most {self._max_metadata} bytes of "
                f"metadata in {command}, got {len(data)}",
                Reason.ZMTP_INVALID_METADATA,
            )
        return decode_metadata(data)

    def _on_message(self, body, now: float) -> list[Event]:
        return self._session.receive(body, now)


def _take_framing(metadata: Metadata) -> Optional[bytes]:
    """Remove our framing property from the peer's metadata; return its value."""
    name = metadata._fold(FRAMING_PROPERTY)
    if name is None:
        return None
    return metadata.pop(name)


def _framing_names(value: bytes) -> list[bytes]:
    return [name.strip() for name in value.split(b",")]


class CurveSession:
    """One connection's CurveZMQ state once the handshake is over.

    It holds only what MESSAGE needs: the precomputed key, our counter, the peer's
    nonce floor, the nonce prefixes, the framing, and the invalid-message policy.
    Made by a client or server codec (``codec.session``); a transport may keep it
    and drop the codec.

    Raises (from :meth:`receive`): RemoteProtocolError for a MESSAGE that fails
    under the close policy, or past the budget under the drop policy; the session
    is then closed and its key wiped.
    """

    __slots__ = (
        "_backend",
        "_budget",
        "_drop_invalid",
        "_key",
        "_log",
        "_nonce",
        "_open",
        "_peer_nonce",
        "_recent",
        "_recv_prefix",
        "_role",
        "_seal",
        "_send_prefix",
        "_window",
        "compact",
        "dropped",
        "overhead",
    )

    def __init__(
        self,
        backend: Backend,
        key: bytearray,
        *,
        role: str,
        send_prefix: bytes,
        recv_prefix: bytes,
        nonce: int,
        peer_nonce: int,
        compact: bool = False,
        drop_invalid: bool = False,
        invalid_budget: int = DEFAULT_INVALID_BUDGET,
        invalid_window: float = DEFAULT_INVALID_WINDOW,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        self.compact = compact
        # the body bytes each MESSAGE adds to its payload
        self.overhead = _COMPACT_OVERHEAD if compact else _STANDARD_OVERHEAD
        # how many MESSAGEs this session has dropped in all
        self.dropped = 0
        self._backend = backend
        self._key: Optional[bytearray] = key
        self._nonce = nonce
        self._peer_nonce = peer_nonce
        self._send_prefix = send_prefix
        self._recv_prefix = recv_prefix
        if compact:
            self._seal = backend.message_seal_compact
            self._open = backend.message_open_compact
        else:
            self._seal = backend.message_seal
            self._open = backend.message_open
        self._drop_invalid = drop_invalid
        self._budget = invalid_budget
        self._window = invalid_window
        # the times of the last drops, at most budget + 1; made at the first drop
        self._recent: Optional[collections.deque] = None
        self._role = role
        self._log = logger if logger is not None else _LOGGER

    def __repr__(self) -> str:
        framing = "compact" if self.compact else "standard"
        state = "open" if self._key is not None else "closed"
        return f"<CurveSession {self._role} {framing} {state}>"

    @property
    def is_open(self) -> bool:
        """False once :meth:`close` was called or a MESSAGE ended the session."""
        return self._key is not None

    @property
    def nonce(self) -> int:
        """The nonce our next MESSAGE will carry."""
        return self._nonce

    @property
    def peer_nonce(self) -> int:
        """The peer's nonce floor: its last nonce whose box opened."""
        return self._peer_nonce

    def send_message(self, frames, command: bool = False) -> list:
        """Seal one message: one MESSAGE body per frame (see the codec's method).

        Raises:
            LocalProtocolError: the session is closed, ``frames`` is empty, or our
                counter would pass 2^64 - 1.
            TypeError: ``frames`` is a single bytes-like object.
        """
        key = self._key
        if key is None:
            raise LocalProtocolError(
                f"{self._role}: cannot send a message on a closed session",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )
        if isinstance(frames, (bytes, bytearray, memoryview, str)):
            raise TypeError("expected a sequence of frames, got a single frame")
        count = len(frames)
        if count == 0:
            raise LocalProtocolError(
                "expected at least one frame, got none", Reason.ZMTP_UNSPECIFIED
            )
        if self._nonce + count - 1 > NONCE_MAX:
            raise LocalProtocolError(
                "our short nonce counter is exhausted: start a new session",
                Reason.ZMTP_INVALID_SEQUENCE,
            )

        seal = self._seal
        prefix = self._send_prefix
        base = FLAG_COMMAND if command else 0
        last = count - 1
        nonce = self._nonce
        bodies = []
        for index, frame in enumerate(frames):
            flags = (base | FLAG_MORE) if index < last else base
            bodies.append(seal(prefix, nonce, flags, frame, key))
            nonce += 1
        self._nonce = nonce
        return bodies

    def receive(self, body, now: float) -> list[Event]:
        """Open one MESSAGE body from the peer.

        Args:
            body: the body of one ZMTP data frame.
            now: the caller's clock, in seconds (for the invalid-message budget).

        Returns:
            ``[MessageReceived]``, or ``[MessageRejected]`` when the MESSAGE
            failed and the drop policy dropped it.

        Raises:
            RemoteProtocolError: the MESSAGE failed under the close policy, or one
                too many failed within the window under the drop policy; or the
                session was already closed. The session is closed.
        """
        key = self._key
        if key is None:
            raise RemoteProtocolError(
                f"{self._role}: expected nothing after the session ended, got a "
                f"{len(body)}-byte body",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )
        # one C call checks size (and name, and nonce floor) and opens the box
        try:
            nonce, flags, data = self._open(
                body, self._recv_prefix, key, self._peer_nonce
            )
        except CryptoError as exc:
            return self._reject(exc, now)

        self._peer_nonce = nonce
        return [
            MessageReceived(
                data.toreadonly(),
                bool(flags & FLAG_MORE),
                bool(flags & FLAG_COMMAND),
            )
        ]

    def close(self) -> None:
        """Wipe the session key; later calls do nothing."""
        if self._key is not None:
            self._backend.wipe(self._key)
            self._key = None

    def _reject(self, exc: CryptoError, now: float) -> list[Event]:
        reason = _MESSAGE_REASONS.get(getattr(exc, "code", "mac"))
        if reason is None:
            reason = Reason.ZMTP_CRYPTOGRAPHIC
        if not self._drop_invalid:
            self.close()
            raise RemoteProtocolError(f"{self._role}: {exc}", reason) from exc

        # the drop policy, within its budget: a sliding window of the last
        # budget + 1 drop times
        self.dropped += 1
        budget = self._budget
        if budget >= 0:
            recent = self._recent
            if recent is None:
                recent = self._recent = collections.deque(maxlen=budget + 1)
            recent.append(now)
            if len(recent) > budget and now - recent[0] < self._window:
                self.close()
                raise RemoteProtocolError(
                    f"{self._role}: more than {budget} invalid MESSAGEs within "
                    f"{self._window:g} s, the last: {exc}",
                    reason,
                ) from exc
        self._log.debug("%s: MESSAGE dropped: %s", self._role, exc)
        return [MessageRejected(reason, str(exc), self.dropped)]


def _z85(key) -> str:
    """The Z85 text of a public key, for reprs and logs (never for secrets)."""
    if key is None:
        return "-"
    return z85.encode(bytes(key)).decode("ascii")
