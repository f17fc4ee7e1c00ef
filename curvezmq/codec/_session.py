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
"""

from __future__ import annotations

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

__all__ = ["CurveState", "Rng"]

Rng = Callable[[int], bytes]

_LOGGER = logging.getLogger("curvezmq.codec")

# what message_open's CryptoError codes mean, named like libzmq's protocol errors
_MESSAGE_REASONS = {
    "malformed": Reason.ZMTP_MALFORMED_COMMAND_MESSAGE,
    "nonce": Reason.ZMTP_INVALID_SEQUENCE,
    "mac": Reason.ZMTP_CRYPTOGRAPHIC,
}


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
        rng: Optional[Rng],
        backend: Optional[Backend],
        logger: Optional[logging.Logger],
        state: CurveState,
    ) -> None:
        if max_metadata < 0:
            raise ValueError(f"expected max_metadata >= 0, got {max_metadata}")
        self._backend = backend if backend is not None else get_backend()
        self._rng: Rng = rng if rng is not None else self._backend.random
        self._log = logger if logger is not None else _LOGGER
        self._max_metadata = max_metadata
        self._drop_invalid = bool(drop_invalid)
        self._state = state
        self._pending: list[bytes] = []
        # the precomputed box key of C' and S', from beforenm; a secret
        self._key: Optional[bytearray] = None
        # our next short nonce, and the highest nonce of the peer's accepted so far
        self._nonce = 1
        self._peer_nonce = 0
        self._peer_metadata = Metadata()

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

    def send_message(self, frames, command: bool = False) -> list[bytearray]:
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
            one MESSAGE body per frame, in order.

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

        seal = self._backend.message_seal
        prefix = self._SEND_PREFIX
        key = self._key
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

    def close(self) -> None:
        """Wipe our secrets and enter the terminal state.

        Queued bodies can still be drained. Calling it again does nothing.
        """
        self._wipe_secrets()
        if not self._state.is_terminal:
            self._state = CurveState.CLOSED

    # -- helpers for the machines -------------------------------------------------

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
        # one C call checks size, name and nonce floor and opens the box
        try:
            nonce, flags, data = self._backend.message_open(
                body, self._RECV_PREFIX, self._key, self._peer_nonce
            )
        except CryptoError as exc:
            reason = _MESSAGE_REASONS.get(getattr(exc, "code", "mac"))
            if reason is None:
                reason = Reason.ZMTP_CRYPTOGRAPHIC
            if self._drop_invalid:
                self._log.debug("%s: MESSAGE dropped: %s", self._ROLE, exc)
                return [MessageRejected(reason)]
            raise RemoteProtocolError(f"{self._ROLE}: {exc}", reason) from exc

        self._peer_nonce = nonce
        return [
            MessageReceived(
                data.toreadonly(),
                bool(flags & FLAG_MORE),
                bool(flags & FLAG_COMMAND),
            )
        ]


def _z85(key) -> str:
    """The Z85 text of a public key, for reprs and logs (never for secrets)."""
    if key is None:
        return "-"
    return z85.encode(bytes(key)).decode("ascii")
