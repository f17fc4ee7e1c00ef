"""The CurveZMQ server: HELLO, WELCOME, INITIATE, a decision, READY or ERROR.

Theory of operation
-------------------
States and what moves them (the table ``CurveServer._TABLE`` is the only way in):

=============  ==========  ====================================================
state          input       action, next state
=============  ==========  ====================================================
WAIT_HELLO     HELLO       open the signature with (C', s); only then make S'/s',
                           seal C' + s' in a cookie with the minute key, wipe s',
                           queue WELCOME; WAIT_INITIATE
WAIT_INITIATE  INITIATE    open the cookie, refuse a replay, open the box and the
                           vouch, check the metadata; report
                           AuthenticationRequested; WAIT_DECISION
WAIT_DECISION  accept()    queue READY (nonce 1), hand the key and the counters
                           to the session; ESTABLISHED
WAIT_DECISION  refuse()    queue ERROR; ERROR
ESTABLISHED    MESSAGE     open (prefix ``CurveZMQMESSAGEC``), nonce strictly
                           above the floor (compact: any body, nonce floor + 1)
=============  ==========  ====================================================

Anything else is a protocol violation: the machine moves to ERROR, wipes its
secrets, and raises RemoteProtocolError. Like libzmq, the server never sends ERROR
for a violation, only for a refusal.

No state before proof: the server holds no key for the connection until a HELLO's
box opens, and between WELCOME and INITIATE it holds none at all: C' and s' live only
in the cookie, sealed with the listener's minute key (see :class:`CurveServerKeys`).

Compact framing: a client that offers it (``X-CurveZMQ-Framing`` in INITIATE) gets
it confirmed in READY when ``compact=True``; a client that does not offer it (every
libzmq client) never sees the property. The offer is stripped from the metadata we
report either way.

The server uses ``rng`` at HELLO, in this order: 32 bytes for s', 16 for the cookie
nonce, 16 for the WELCOME nonce. Our messages carry nonces 2, 3, ... with the prefix
``CurveZMQMESSAGES`` (READY took 1).
"""

from __future__ import annotations

import logging
from typing import Optional, Union

from ..crypto import Backend
from ..errors import (
    CryptoError,
    LocalProtocolError,
    Reason,
    RemoteProtocolError,
)
from ._commands import (
    COOKIE_SIZE,
    CURVE_MAX_METADATA,
    HELLO,
    HELLO_NONCE,
    HELLO_SIZE,
    HELLO_VERSION,
    INITIATE,
    INITIATE_MIN_SIZE,
    INITIATE_NONCE,
    MESSAGE,
    MESSAGE_NONCE_CLIENT,
    MESSAGE_NONCE_SERVER,
    READY_NONCE,
    VOUCH_NONCE,
    WELCOME_NONCE,
)
from ._cookie import CurveServerKeys
from ._events import AuthenticationRequested, Event, HandshakeCompleted
from ._metadata import MetadataLike, encode_metadata
from ._session import (
    DEFAULT_INVALID_BUDGET,
    DEFAULT_INVALID_WINDOW,
    FRAMING_COMPACT,
    FRAMING_PROPERTY,
    CurveState,
    Rng,
    _CurveCodec,
    _framing_names,
    _take_framing,
    _z85,
)

__all__ = ["CurveServer"]

_WELCOME_HEAD = b"\x07WELCOME"
_READY_HEAD = b"\x05READY"
_ERROR_HEAD = b"\x05ERROR"
# Curve25519's field prime: a canonical public key is a number below it
_CURVE25519_P = 2**255 - 19
# the reason of an ERROR is one length byte of printable text
_MAX_STATUS_SIZE = 255
# what READY carries to confirm a client's offer of compact framing
_CONFIRM_COMPACT = encode_metadata({FRAMING_PROPERTY: FRAMING_COMPACT})


class CurveServer(_CurveCodec):
    """A sans-IO CurveZMQ server for one connection, byte-exact with libzmq 4.3.

    Feed every command body from the client to :meth:`receive` and send what
    :meth:`data_to_send` returns. When
    :class:`~curvezmq.codec.AuthenticationRequested` arrives, decide (ask a policy,
    a ZAP handler...) and answer with :meth:`accept` or :meth:`refuse`.

    Args:
        keys: the listener's :class:`CurveServerKeys`, shared by all its connections.
        metadata: our metadata for READY: encoded ZMTP metadata, or a mapping or pair
            list to encode. ``accept()`` may override it.
        max_metadata: the largest INITIATE metadata accepted from a client, in bytes
            (libzmq's CURVE_MAX_METADATA by default).
        drop_invalid: when True a MESSAGE that fails (box, nonce, size) is reported as
            :class:`~curvezmq.codec.MessageRejected` and the session goes on; when
            False (the default, like libzmq) it ends the session.
        invalid_budget: with ``drop_invalid``, the most MESSAGEs that may fail
            within ``invalid_window`` seconds; one more ends the session. -1 for
            no limit.
        invalid_window: the window of the budget, in seconds of the ``now``
            passed to :meth:`receive`.
        compact: confirm compact framing (docs/extensions.md) in READY when the
            client offers it.
        rng: ``rng(n)`` returns n random bytes; the backend's CSPRNG by default.
        backend: the crypto backend; the keys' backend when omitted.
        logger: where to log, at DEBUG only; ``curvezmq.codec`` by default.
        binding: what identifies this connection to the listener, such as the
            peer's address and port. The cookie is sealed under a key derived from
            the minute key and the binding, so it opens only on the connection
            whose HELLO earned it: an INITIATE observed on the wire and raced onto
            another connection fails there, where libzmq needs per-connection state
            to refuse it. Empty (the default) binds nothing; the replay cache still
            refuses a second use of a cookie.

    :meth:`receive` raises :class:`~curvezmq.errors.RemoteProtocolError` for anything
    the client breaks, and :class:`~curvezmq.errors.LocalProtocolError` (state
    unchanged) if the shared :class:`CurveServerKeys` were closed.

    Raises:
        LocalProtocolError: our metadata is malformed or names
            ``X-CurveZMQ-Framing`` (reason ``ZMTP_INVALID_METADATA``).
        ValueError: ``max_metadata`` or ``invalid_budget`` is negative, or
            ``invalid_window`` is not positive.
    """

    _ROLE = "server"
    _SEND_PREFIX = MESSAGE_NONCE_SERVER
    _RECV_PREFIX = MESSAGE_NONCE_CLIENT

    def __init__(
        self,
        keys: CurveServerKeys,
        *,
        metadata: MetadataLike = b"",
        max_metadata: int = CURVE_MAX_METADATA,
        drop_invalid: bool = False,
        invalid_budget: int = DEFAULT_INVALID_BUDGET,
        invalid_window: float = DEFAULT_INVALID_WINDOW,
        compact: bool = False,
        rng: Optional[Rng] = None,
        backend: Optional[Backend] = None,
        logger: Optional[logging.Logger] = None,
        binding: bytes = b"",
    ) -> None:
        super().__init__(
            max_metadata=max_metadata,
            drop_invalid=drop_invalid,
            invalid_budget=invalid_budget,
            invalid_window=invalid_window,
            compact=compact,
            rng=rng,
            backend=backend if backend is not None else keys.backend,
            logger=logger,
            state=CurveState.WAIT_HELLO,
        )
        self._keys = keys
        self._binding = bytes(binding)
        self._metadata = self._own_metadata(metadata)
        # the client's long-term key C, known once its INITIATE is valid
        self._client_key: Optional[bytes] = None
        self._user_id = b""
        # whether the client offered compact framing and we confirm it
        self._agreed_compact = False

    def __repr__(self) -> str:
        return (
            f"<CurveServer {self._state.name} "
            f"server_key={_z85(self._keys.public_key)} "
            f"client_key={_z85(self._client_key)}>"
        )

    @property
    def client_key(self) -> Optional[bytes]:
        """The client's long-term public key C once its INITIATE is valid, else None."""
        return self._client_key

    @property
    def user_id(self) -> bytes:
        """The user id given to :meth:`accept` (empty before)."""
        return self._user_id

    def start(self, now: float) -> None:
        """Do nothing: the client speaks first. Here so both roles start alike."""

    def accept(
        self, user_id: Union[bytes, str] = b"", metadata: Optional[MetadataLike] = None
    ) -> list[Event]:
        """Accept the client that sent the INITIATE: queue READY.

        Args:
            user_id: who the client is, as the decision named it (libzmq's User-Id
                property); ``str`` is encoded as UTF-8.
            metadata: our metadata for READY, encoded or a mapping; None sends the
                metadata given to the constructor.

        Returns:
            ``[HandshakeCompleted(peer_metadata, user_id)]``.

        Raises:
            LocalProtocolError: no AuthenticationRequested is waiting for an answer,
                or ``metadata`` is malformed. The state does not change.
            TypeError: ``user_id`` is neither bytes-like nor str.
        """
        self._check_deciding("accept")
        if isinstance(user_id, str):
            user_id = user_id.encode("utf-8")
        if not isinstance(user_id, (bytes, bytearray, memoryview)):
            raise TypeError(f"expected user_id as bytes or str, got {type(user_id)}")
        ready_metadata = (
            self._metadata if metadata is None else self._own_metadata(metadata)
        )
        self._user_id = bytes(user_id)

        if self._agreed_compact:
            ready_metadata += _CONFIRM_COMPACT

        # READY = name, N8, Box[metadata](S'->C'); then the key and both counters
        # go to the session
        nonce = self._next_nonce()
        box = self._backend.box_afternm(ready_metadata, READY_NONCE + nonce, self._key)
        self._pending.append(_READY_HEAD + nonce + box)
        self._start_session(self._agreed_compact)
        self._state = CurveState.ESTABLISHED
        self._log.debug(
            "server: accepted client %s, sent READY (%s framing)",
            _z85(self._client_key),
            "compact" if self._agreed_compact else "standard",
        )
        return [HandshakeCompleted(self._peer_metadata, self._user_id)]

    def refuse(self, status: str = "400") -> None:
        """Refuse the client that sent the INITIATE: queue ERROR and end.

        libzmq sends ERROR only for a definite refusal, with a ZAP status as its
        reason: ``"400"`` (authentication failed) or ``"500"`` (internal error). A
        libzmq client does not reconnect after it. The ERROR can still be drained
        with :meth:`data_to_send` once the codec is in its terminal state.

        Args:
            status: the reason text, printable ASCII of at most 255 characters.

        Raises:
            LocalProtocolError: no AuthenticationRequested is waiting for an answer,
                or ``status`` is not printable ASCII of at most 255 characters. The
                state does not change.
        """
        self._check_deciding("refuse")
        if (
            not isinstance(status, str)
            or len(status) > _MAX_STATUS_SIZE
            or not all(" " <= ch <= "~" for ch in status)
        ):
            raise LocalProtocolError(
                "expected an ERROR status of at most 255 printable ASCII characters",
                Reason.ZMTP_MALFORMED_COMMAND_ERROR,
            )

        raw = status.encode("ascii")
        self._pending.append(_ERROR_HEAD + bytes((len(raw),)) + raw)
        self._wipe_secrets()
        self._state = CurveState.ERROR
        self._log.debug(
            "server: refused client %s with ERROR %r", _z85(self._client_key), status
        )

    # -- handlers -------------------------------------------------------------------

    def _on_hello(self, body, now: float) -> list[Event]:
        # 1. size and version; like libzmq, the padding is not checked
        if len(body) != HELLO_SIZE:
            raise RemoteProtocolError(
                f"server: expected a {HELLO_SIZE}-byte HELLO, got {len(body)} bytes",
                Reason.ZMTP_MALFORMED_COMMAND_HELLO,
            )
        if body[6:8] != HELLO_VERSION:
            raise RemoteProtocolError(
                f"server: expected HELLO version 1.0, got {body[6]}.{body[7]}",
                Reason.ZMTP_MALFORMED_COMMAND_HELLO,
            )

        # 2. open Box[64 zeros](C'->S): proves the client knows S; a low-order C'
        # fails here too, since the backend refuses an all-zero shared secret
        cn_client = bytes(body[80:112])
        try:
            self._backend.box_open(
                body[120:200],
                HELLO_NONCE + bytes(body[112:120]),
                cn_client,
                self._keys._secret(),
            )
        except CryptoError as exc:
            raise RemoteProtocolError(
                "server: HELLO signature box does not open (wrong server key, or a "
                "low-order C')",
                Reason.ZMTP_CRYPTOGRAPHIC,
            ) from exc

        # 3. only now: S'/s', the cookie, WELCOME; then forget s'
        cn_secret = self._draw_secret(32)
        try:
            cn_public = self._backend.scalarmult_base(cn_secret)
            cookie = self._keys._mint_cookie(
                cn_client, cn_secret, self._rng(16), now, self._binding
            )
            welcome_tail = bytes(self._rng(16))
            box = self._backend.box(
                cn_public + cookie,
                WELCOME_NONCE + welcome_tail,
                cn_client,
                self._keys._secret(),
            )
        finally:
            self._wipe(cn_secret)
        self._pending.append(_WELCOME_HEAD + welcome_tail + box)
        self._state = CurveState.WAIT_INITIATE
        self._log.debug(
            "server: HELLO from C' %s opened, sent WELCOME", _z85(cn_client)
        )
        return []

    def _on_initiate(self, body, now: float) -> list[Event]:
        # 1. size
        if len(body) < INITIATE_MIN_SIZE:
            raise RemoteProtocolError(
                f"server: expected an INITIATE of at least {INITIATE_MIN_SIZE} bytes, "
                f"got {len(body)} bytes",
                Reason.ZMTP_MALFORMED_COMMAND_INITIATE,
            )

        # 2. the cookie opens with the current or previous minute key
        opened = self._keys._open_cookie(body[9 : 9 + COOKIE_SIZE], now, self._binding)
        if opened is None:
            raise RemoteProtocolError(
                "server: INITIATE cookie does not open (forged, or older than its "
                "minute key)",
                Reason.ZMTP_CRYPTOGRAPHIC,
            )
        ticket, cn_client, cn_secret = opened
        try:
            client_key, metadata = self._open_initiate(
                body, ticket, cn_client, cn_secret
            )
        finally:
            self._wipe(cn_secret)

        # 6. metadata size, then framing; our own property is taken out
        peer_metadata = self._open_metadata(metadata, "INITIATE")
        offer = _take_framing(peer_metadata)
        if offer is not None and self._compact:
            self._agreed_compact = FRAMING_COMPACT in _framing_names(offer)

        # the cookie is spent: no other connection may use it again
        self._keys._remember(ticket)
        self._client_key = client_key
        self._peer_nonce = int.from_bytes(body[105:113], "big")
        self._peer_metadata = peer_metadata
        self._state = CurveState.WAIT_DECISION
        self._log.debug(
            "server: INITIATE from client %s is valid, waiting for a decision",
            _z85(client_key),
        )
        return [AuthenticationRequested(client_key, peer_metadata)]

    def _open_initiate(self, body, ticket, cn_client: bytes, cn_secret: bytearray):
        """Steps 3 to 5 of INITIATE; returns (C, metadata bytes)."""
        # 3. a cookie accepted once is never accepted again
        if self._keys._was_accepted(ticket):
            raise RemoteProtocolError(
                "server: INITIATE cookie was already used (replayed INITIATE)",
                Reason.ZMTP_KEY_EXCHANGE,
            )

        # 4. open Box[C + vouch + metadata](C'->S') with the session key
        try:
            self._key = self._backend.beforenm(cn_client, cn_secret)
        except CryptoError as exc:
            raise RemoteProtocolError(
                "server: C' is a low-order point", Reason.ZMTP_KEY_EXCHANGE
            ) from exc
        try:
            plaintext = self._backend.box_open_afternm(
                body[113:], INITIATE_NONCE + bytes(body[105:113]), self._key
            )
        except CryptoError as exc:
            raise RemoteProtocolError(
                "server: INITIATE box does not open", Reason.ZMTP_CRYPTOGRAPHIC
            ) from exc
        view = memoryview(plaintext)
        client_key = bytes(view[:32])

        # 4b. X25519 ignores bit 255 and reduces modulo p, so one key has aliases
        # that open the same vouch; a policy must judge the one canonical form,
        # or a revoked key would pass a deny list by flipping bit 255
        if int.from_bytes(client_key, "little") >= _CURVE25519_P:
            raise RemoteProtocolError(
                "server: INITIATE carries a non-canonical client key C (bit 255 set "
                "or not below 2**255 - 19)",
                Reason.ZMTP_KEY_EXCHANGE,
            )

        # 5. open the vouch Box[C' + S](C->S') and check both halves
        try:
            vouch = self._backend.box_open(
                view[48:128], VOUCH_NONCE + bytes(view[32:48]), client_key, cn_secret
            )
        except CryptoError as exc:
            raise RemoteProtocolError(
                "server: INITIATE vouch does not open", Reason.ZMTP_CRYPTOGRAPHIC
            ) from exc
        vouch_view = memoryview(vouch)
        same_cn = self._backend.verify_32(vouch_view[:32], cn_client)
        same_server = self._backend.verify_32(vouch_view[32:], self._keys.public_key)
        if not (same_cn & same_server):
            raise RemoteProtocolError(
                "server: the vouch does not hold this connection's C' and our S",
                Reason.ZMTP_KEY_EXCHANGE,
            )
        return client_key, view[128:]

    def _check_deciding(self, what: str) -> None:
        if self._state is not CurveState.WAIT_DECISION:
            raise LocalProtocolError(
                f"server: {what}() needs a pending AuthenticationRequested, but the "
                f"state is {self._state.name}",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )

    _TABLE = {
        (CurveState.WAIT_HELLO, HELLO): _on_hello,
        (CurveState.WAIT_INITIATE, INITIATE): _on_initiate,
        (CurveState.ESTABLISHED, MESSAGE): _CurveCodec._on_message,
    }
