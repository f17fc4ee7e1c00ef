"""The CurveZMQ client: HELLO, WELCOME, INITIATE, READY, then MESSAGE both ways.

Theory of operation
-------------------
States and what moves them (the table ``CurveClient._TABLE`` is the only way in):

========================  ===========  =============================================
state                     input        action, next state
========================  ===========  =============================================
IDLE                      ``start()``  make C'/c', queue HELLO (nonce 1); WAIT_WELCOME
WAIT_WELCOME              WELCOME      open with (S, c'), take S' and the cookie,
                                       session key = beforenm(S', c'), wipe c',
                                       queue INITIATE (nonce 2) with the vouch;
                                       WAIT_READY
WAIT_WELCOME, WAIT_READY  ERROR        report ErrorReceived; ERROR
WAIT_READY                READY        open, take the server's metadata, its nonce
                                       becomes the floor, hand the key and the
                                       counters to the session; ESTABLISHED
ESTABLISHED               MESSAGE      open (prefix ``CurveZMQMESSAGES``), nonce
                                       strictly above the floor (compact: any
                                       body, nonce floor + 1)
========================  ===========  =============================================

Anything else is a protocol violation: the machine moves to ERROR, wipes its
secrets, and raises RemoteProtocolError. Our messages carry nonces 3, 4, ... with the
prefix ``CurveZMQMESSAGEC``.

The client uses ``rng`` twice, in this order: 32 bytes for c' at ``start()``, and 16
bytes for the vouch nonce when WELCOME arrives. A test that replays those bytes gets
the same HELLO and INITIATE back.

Secrets: c' lives in a bytearray until the session key exists; our copy of the
long-term secret key c until the vouch is sealed; the WELCOME plaintext (S' and
the cookie) until INITIATE is built; the session key until ``close()`` or the
terminal state.

Compact framing: with ``compact=True`` INITIATE's metadata also offers it
(``X-CurveZMQ-Framing: compact``); the session uses it only if READY confirms.
A READY that confirms a framing we did not offer is a protocol violation: the two
sides would disagree on every MESSAGE.
"""

from __future__ import annotations

import logging
from typing import Optional

from ..crypto import Backend
from ..errors import (
    CryptoError,
    InvalidKeyError,
    LocalProtocolError,
    Reason,
    RemoteProtocolError,
)
from ..keys import KeyLike, key_bytes
from ._commands import (
    CURVE_MAX_METADATA,
    ERROR,
    ERROR_MIN_SIZE,
    HELLO_NONCE,
    HELLO_PADDING_SIZE,
    HELLO_VERSION,
    INITIATE_NONCE,
    MESSAGE,
    MESSAGE_NONCE_CLIENT,
    MESSAGE_NONCE_SERVER,
    READY,
    READY_MIN_SIZE,
    READY_NONCE,
    VOUCH_NONCE,
    WELCOME,
    WELCOME_NONCE,
    WELCOME_SIZE,
)
from ._events import ErrorReceived, Event, HandshakeCompleted
from ._metadata import MetadataLike, encode_metadata
from ._session import (
    DEFAULT_INVALID_BUDGET,
    DEFAULT_INVALID_WINDOW,
    FRAMING_COMPACT,
    FRAMING_PROPERTY,
    CurveState,
    Rng,
    _CurveCodec,
    _take_framing,
    _z85,
)

__all__ = ["CurveClient"]

_HELLO_HEAD = b"\x05HELLO" + HELLO_VERSION + bytes(HELLO_PADDING_SIZE)
_INITIATE_HEAD = b"\x08INITIATE"
# the HELLO signature box seals 64 zero bytes
_HELLO_SIGNATURE = bytes(64)


class CurveClient(_CurveCodec):
    """A sans-IO CurveZMQ client, byte-exact with libzmq 4.3.

    Call :meth:`start`, send what :meth:`data_to_send` returns, feed every command body
    from the server to :meth:`receive`, and once
    :class:`~curvezmq.codec.HandshakeCompleted` arrives, seal frames with
    :meth:`send_message`.

    The secret key is copied into a bytearray that is wiped once the vouch is sealed.
    The ``secret_key`` object you pass, and any ``bytes`` made from it, are immutable
    and cannot be wiped by us.

    Args:
        public_key: our long-term public key C (32 raw bytes, 40 Z85 characters, or
            41 with a trailing NUL).
        secret_key: our long-term secret key c, in the same forms.
        server_key: the server's long-term public key S, in the same forms.
        metadata: our metadata for INITIATE: encoded ZMTP metadata (see
            :func:`encode_metadata`), or a mapping or pair list to encode.
        max_metadata: the largest READY metadata accepted from the server, in bytes
            (libzmq's CURVE_MAX_METADATA by default).
        drop_invalid: when True a MESSAGE that fails (box, nonce, size) is reported as
            :class:`~curvezmq.codec.MessageRejected` and the session goes on; when
            False (the default, like libzmq) it ends the session.
        invalid_budget: with ``drop_invalid``, the most MESSAGEs that may fail
            within ``invalid_window`` seconds; one more ends the session. -1 for
            no limit.
        invalid_window: the window of the budget, in seconds of the ``now``
            passed to :meth:`receive`.
        compact: offer compact framing (docs/extensions.md) in INITIATE; it is
            used if the server confirms it. A libzmq server ignores the offer.
        rng: ``rng(n)`` returns n random bytes; the backend's CSPRNG by default.
        backend: the crypto backend; the default one when omitted.
        logger: where to log, at DEBUG only; ``curvezmq.codec`` by default.

    Raises:
        InvalidKeyError: a key is malformed, or the public key is not the secret
            key's.
        LocalProtocolError: our metadata is malformed or names
            ``X-CurveZMQ-Framing`` (reason ``ZMTP_INVALID_METADATA``).
        ValueError: ``max_metadata`` or ``invalid_budget`` is negative, or
            ``invalid_window`` is not positive.
    """

    _ROLE = "client"
    _SEND_PREFIX = MESSAGE_NONCE_CLIENT
    _RECV_PREFIX = MESSAGE_NONCE_SERVER

    def __init__(
        self,
        *,
        public_key: KeyLike,
        secret_key: KeyLike,
        server_key: KeyLike,
        metadata: MetadataLike = b"",
        max_metadata: int = CURVE_MAX_METADATA,
        drop_invalid: bool = False,
        invalid_budget: int = DEFAULT_INVALID_BUDGET,
        invalid_window: float = DEFAULT_INVALID_WINDOW,
        compact: bool = False,
        rng: Optional[Rng] = None,
        backend: Optional[Backend] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        super().__init__(
            max_metadata=max_metadata,
            drop_invalid=drop_invalid,
            invalid_budget=invalid_budget,
            invalid_window=invalid_window,
            compact=compact,
            rng=rng,
            backend=backend,
            logger=logger,
            state=CurveState.IDLE,
        )
        # C' and c'; c' is wiped once the session key exists
        self._cn_public: Optional[bytes] = None
        self._cn_secret: Optional[bytearray] = None

        self._metadata = self._own_metadata(metadata)
        if self._compact:
            self._metadata += encode_metadata({FRAMING_PROPERTY: FRAMING_COMPACT})
        self._public_key = key_bytes(public_key, "client public key")
        self._server_key = key_bytes(server_key, "server public key")
        # our copy of c, wiped once the vouch is sealed
        self._secret_key: Optional[bytearray] = bytearray(
            key_bytes(secret_key, "client secret key")
        )
        try:
            derived = self._backend.scalarmult_base(self._secret_key)
        except CryptoError:
            derived = b""
        if derived != self._public_key:
            self._wipe_secrets()
            raise InvalidKeyError("the client public key is not the secret key's")

    def __repr__(self) -> str:
        return (
            f"<CurveClient {self._state.name} public_key={_z85(self._public_key)} "
            f"server_key={_z85(self._server_key)} "
            f"short_key={_z85(self._cn_public)}>"
        )

    @property
    def server_key(self) -> bytes:
        """The server's long-term public key S, 32 raw bytes."""
        return self._server_key

    def start(self, now: float) -> None:
        """Make our short-term key pair and queue HELLO.

        Args:
            now: the caller's clock, in seconds.

        Raises:
            LocalProtocolError: ``start()`` was already called.
            InvalidKeyError: the server key is a low-order point, with which no
                key agreement is possible.
        """
        if self._state is not CurveState.IDLE:
            raise LocalProtocolError(
                f"client: start() called in state {self._state.name}",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )

        # C'/c' from rng, so that a test can replay the handshake byte for byte
        self._cn_secret = self._draw_secret(32)
        self._cn_public = self._backend.scalarmult_base(self._cn_secret)

        # HELLO = name, version, padding, C', N8, Box[64 zeros](C'->S)
        nonce = self._next_nonce()
        try:
            signature = self._backend.box(
                _HELLO_SIGNATURE, HELLO_NONCE + nonce, self._server_key, self._cn_secret
            )
        except CryptoError:
            self._fail_local()
            raise InvalidKeyError(
                "the server public key is a low-order point"
            ) from None
        self._pending.append(_HELLO_HEAD + self._cn_public + nonce + signature)
        self._state = CurveState.WAIT_WELCOME
        self._log.debug(
            "client: sent HELLO to server %s with C' %s",
            _z85(self._server_key),
            _z85(self._cn_public),
        )

    # -- handlers -------------------------------------------------------------------

    def _on_welcome(self, body, now: float) -> list[Event]:
        # 1. size: exactly 168 bytes
        if len(body) != WELCOME_SIZE:
            raise RemoteProtocolError(
                f"client: expected a {WELCOME_SIZE}-byte WELCOME, got {len(body)} "
                "bytes",
                Reason.ZMTP_MALFORMED_COMMAND_WELCOME,
            )

        # 2. open Box[S' + cookie](S->C')
        try:
            plaintext = self._backend.box_open(
                body[24:],
                WELCOME_NONCE + bytes(body[8:24]),
                self._server_key,
                self._cn_secret,
            )
        except CryptoError as exc:
            raise RemoteProtocolError(
                "client: WELCOME box does not open (wrong server key?)",
                Reason.ZMTP_CRYPTOGRAPHIC,
            ) from exc
        try:
            initiate = self._initiate(plaintext)
        finally:
            # S' and the cookie: only INITIATE needed them
            self._wipe(plaintext)
        self._pending.append(initiate)
        self._state = CurveState.WAIT_READY
        self._log.debug("client: WELCOME opened, sent INITIATE")
        return []

    def _initiate(self, welcome: bytearray) -> bytes:
        """Steps 3 to 5 of WELCOME, from its plaintext S' + cookie: the INITIATE."""
        view = memoryview(welcome)
        server_cn = view[:32]
        cookie = view[32:]

        # 3. session key = beforenm(S', c'); c' is no longer needed
        try:
            self._key = self._backend.beforenm(server_cn, self._cn_secret)
        except CryptoError as exc:
            raise RemoteProtocolError(
                "client: the server's short-term key S' is a low-order point",
                Reason.ZMTP_KEY_EXCHANGE,
            ) from exc
        self._wipe(self._cn_secret)
        self._cn_secret = None

        # 4. vouch = Box[C' + S](C->S'), then our copy of c is no longer needed
        vouch_tail = bytes(self._rng(16))
        vouch = self._backend.box(
            self._cn_public + self._server_key,
            VOUCH_NONCE + vouch_tail,
            server_cn,
            self._secret_key,
        )
        self._wipe(self._secret_key)
        self._secret_key = None

        # 5. INITIATE = name, cookie, N8, Box[C + vouch nonce + vouch + metadata]
        nonce = self._next_nonce()
        box = self._backend.box_afternm(
            self._public_key + vouch_tail + vouch + self._metadata,
            INITIATE_NONCE + nonce,
            self._key,
        )
        return b"".join((_INITIATE_HEAD, cookie, nonce, box))

    def _on_ready(self, body, now: float) -> list[Event]:
        # 1. size: at least 30 bytes
        if len(body) < READY_MIN_SIZE:
            raise RemoteProtocolError(
                f"client: expected a READY of at least {READY_MIN_SIZE} bytes, got "
                f"{len(body)} bytes",
                Reason.ZMTP_MALFORMED_COMMAND_READY,
            )

        # 2. open Box[metadata](S'->C')
        nonce = bytes(body[6:14])
        try:
            metadata = self._backend.box_open_afternm(
                body[14:], READY_NONCE + nonce, self._key
            )
        except CryptoError as exc:
            raise RemoteProtocolError(
                "client: READY box does not open", Reason.ZMTP_CRYPTOGRAPHIC
            ) from exc

        # 3. the server's metadata, and whether it confirmed compact framing
        peer_metadata = self._open_metadata(metadata, "READY")
        framing = _take_framing(peer_metadata)
        compact = framing is not None
        if compact and (not self._compact or framing != FRAMING_COMPACT):
            offered = FRAMING_COMPACT if self._compact else b"none"
            raise RemoteProtocolError(
                f"client: READY confirms {FRAMING_PROPERTY} {framing[:40]!r}, but we "
                f"offered {offered!r}",
                Reason.ZMTP_INVALID_METADATA,
            )

        # 4. the READY nonce is the floor for the server's messages; the key and
        # both counters go to the session
        self._peer_nonce = int.from_bytes(nonce, "big")
        self._peer_metadata = peer_metadata
        self._start_session(compact)
        self._state = CurveState.ESTABLISHED
        self._log.debug(
            "client: READY opened, session established (%s framing)",
            "compact" if compact else "standard",
        )
        return [HandshakeCompleted(peer_metadata, b"")]

    def _on_error(self, body, now: float) -> list[Event]:
        # ERROR = name, reason length, reason; libzmq tolerates trailing bytes
        if len(body) < ERROR_MIN_SIZE or body[6] > len(body) - ERROR_MIN_SIZE:
            raise RemoteProtocolError(
                f"client: malformed ERROR of {len(body)} bytes",
                Reason.ZMTP_MALFORMED_COMMAND_ERROR,
            )
        reason = bytes(body[7 : 7 + body[6]]).decode("ascii", errors="replace")
        self._fail_local()
        self._log.debug("client: server sent ERROR %r", reason)
        return [ErrorReceived(reason)]

    # -- secrets ---------------------------------------------------------------------

    def _fail_local(self) -> None:
        self._wipe_secrets()
        self._state = CurveState.ERROR

    def _wipe_secrets(self) -> None:
        super()._wipe_secrets()
        self._wipe(self._cn_secret)
        self._cn_secret = None
        self._wipe(self._secret_key)
        self._secret_key = None

    _TABLE = {
        (CurveState.WAIT_WELCOME, WELCOME): _on_welcome,
        (CurveState.WAIT_WELCOME, ERROR): _on_error,
        (CurveState.WAIT_READY, READY): _on_ready,
        (CurveState.WAIT_READY, ERROR): _on_error,
        (CurveState.ESTABLISHED, MESSAGE): _CurveCodec._on_message,
    }
