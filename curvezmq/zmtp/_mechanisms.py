"""Security mechanisms: what a connection does between the greeting and the first
message.

A mechanism object is configuration until a :class:`~curvezmq.zmtp.Connection`
attaches it; from then on it belongs to that one connection. The connection owns
framing and limits and hands the mechanism one handshake command body at a time;
the mechanism answers with what the body meant (nothing yet, the peer is ready, the
peer refused us, or a server must decide on a client) and queues command bodies
for the connection to frame. NULL and PLAIN are written here; CURVE delegates every
command to the sans-IO codec in :mod:`curvezmq.codec`.

Deciding on a peer. A mechanism that needs the application's decision (libzmq asks
its ZAP handler) reports an :class:`AuthenticationRequested`; the connection then
waits for ``accept`` or ``refuse``:

- CURVE server: once INITIATE has checked out; the client sends nothing more
  until our READY.
- PLAIN server: once HELLO arrived; the client sends nothing more until our
  WELCOME. A PLAIN client sends nothing else for the server to check.
- NULL with ``authenticate=True`` (a socket with a ZAP domain): right after the
  peer's greeting, before our READY, which waits for the decision; the peer's own
  READY may arrive meanwhile and is kept until then (NULL is symmetric, so either
  side may be the one asking).

PLAIN's ERROR. libzmq 4.3 writes the PLAIN ERROR command's name as the five
bytes ``^RROR`` (a C string escape swallowed the length byte) and its PLAIN client
matches only that form. Our PLAIN server sends that form on purpose, so a libzmq
client reports an authentication failure (HANDSHAKE_FAILED_AUTH) and stops
reconnecting; with the RFC's ``\x05ERROR`` it would report a protocol error
instead. Our PLAIN client accepts both forms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .. import codec as _codec
from ..errors import LocalProtocolError, Reason, RemoteProtocolError
from ..keys import key_bytes
from ._events import AuthenticationRequested
from ._exchange import CERTIFICATE_PROPERTY, take_certificate
from ._framing import ERROR_MAX_SIZE, printable, split_command

__all__ = [
    "PLAIN_ERROR_PREFIX",
    "CurveClientMechanism",
    "CurveServerMechanism",
    "Mechanism",
    "NullMechanism",
    "PlainClientMechanism",
    "PlainServerMechanism",
]

# Fixed CURVE command sizes (PROTOCOL.md section 9): HELLO 200, WELCOME 168,
# INITIATE 257 + metadata, READY 30 + metadata. NULL READY is 6 + metadata.
HELLO_SIZE = 200
WELCOME_SIZE = 168
INITIATE_BASE_SIZE = 257
READY_BASE_SIZE = 30
NULL_READY_BASE_SIZE = 6

# PLAIN (RFC 24; PROTOCOL-MORE.md section 2): HELLO carries a username and a
# password of up to 255 bytes each; WELCOME is exactly its name; INITIATE and READY
# carry metadata.
PLAIN_MAX_CREDENTIAL = 255
PLAIN_HELLO_MAX_SIZE = 6 + 1 + PLAIN_MAX_CREDENTIAL + 1 + PLAIN_MAX_CREDENTIAL
PLAIN_INITIATE_BASE_SIZE = 9
# the whole ERROR prefix libzmq's PLAIN server sends and its client expects,
# instead of the RFC's b"\x05ERROR" (see the module's notes)
PLAIN_ERROR_PREFIX = b"^RROR"

_READY = b"READY"
_ERROR = b"ERROR"
_HELLO_PREFIX = b"\x05HELLO"
_WELCOME_BODY = b"\x07WELCOME"
_INITIATE_PREFIX = b"\x08INITIATE"
_READY_PREFIX = b"\x05READY"
_ERROR_PREFIX = b"\x05ERROR"


@dataclass(frozen=True)
class _Ready:
    """The handshake is over: the peer's metadata and the user id to report, and
    the certificate the peer presented (CURVE between curvezmq peers)."""

    metadata: dict
    user_id: bytes
    certificate: object = None


@dataclass(frozen=True)
class _Refused:
    """The peer sent ERROR; the connection ends without a protocol error."""

    reason: str


def _error_body(status: str, prefix: bytes = _ERROR_PREFIX) -> bytes:
    """An ERROR command body with the given reason (at most 255 bytes)."""
    reason = status.encode("ascii")
    return prefix + bytes((len(reason),)) + reason


def _parse_error(data, name: str) -> str:
    """Return the reason of an ERROR command's data (after the name)."""
    if not len(data) or len(data) < 1 + data[0]:
        raise RemoteProtocolError(
            f"expected an ERROR reason of the length its first byte gives, got "
            f"{len(data)} bytes after {name}",
            Reason.ZMTP_MALFORMED_COMMAND_ERROR,
        )
    return bytes(data[1 : 1 + data[0]]).decode("ascii", errors="replace")


class Mechanism:
    """Base of the security mechanisms a :class:`Connection` can run.

    Subclasses set ``name`` (the greeting's mechanism field) and ``as_server``
    (the greeting's as-server byte); the underscored methods are the connection's
    side of the contract and are not API.
    """

    name: bytes = b""
    as_server: bool = False
    # the CURVE codec once attached; the connection seals and opens MESSAGE with it
    _codec = None
    # whether the peer must stay silent while the application decides (CURVE and
    # PLAIN servers); a NULL peer may send its READY meanwhile
    _quiet_while_deciding = True

    def __init__(self) -> None:
        self._attached = False
        self._max_metadata = 0
        self._logger: logging.Logger = logging.getLogger("curvezmq.zmtp")

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        """Bind to one connection: our encoded metadata, limits and logger."""
        if self._attached:
            raise ValueError("a mechanism object serves one connection only")
        self._attached = True
        self._max_metadata = max_metadata
        self._logger = logger

    # every method below is called by the connection only

    def _start(self, now: float) -> None:
        """Our greeting is queued: queue our first commands, if we speak first."""

    def _greeted(self) -> AuthenticationRequested | None:
        """The peer's greeting is complete: return a request for a decision if
        one is needed now (NULL with authentication), else None."""
        return None

    def _limit(self) -> tuple[int, str, Reason]:
        """The largest body the next expected command may have, its name, and the
        reason to report when a header declares more."""
        raise NotImplementedError

    def _receive(self, body, now: float):
        """Take one handshake command body; return None, _Ready, _Refused or an
        AuthenticationRequested. Raises RemoteProtocolError."""
        raise NotImplementedError

    def _take_output(self) -> list:
        """Drain the handshake command bodies queued so far."""
        return []

    def _accept(self, user_id: bytes) -> _Ready | None:
        """The application admitted the peer: return _Ready if the handshake is
        now complete, None if more commands must come first."""
        raise LocalProtocolError(
            f"the {self.name.decode()} mechanism has no client to accept"
        )

    def _refuse(self, status: str) -> None:
        raise LocalProtocolError(
            f"the {self.name.decode()} mechanism has no client to refuse"
        )

    def _close(self) -> None:
        """Wipe what the mechanism holds; called once when the connection ends."""

    def _certificate_to_serve(self):
        """The certificate to answer a certificate fetch with (a CURVE server
        with the exchange on), else None."""


class NullMechanism(Mechanism):
    """ZMTP NULL: no security. Each side sends READY with its metadata right after
    the greeting and accepts the peer's READY (or ERROR) whenever it comes.

    Args:
        authenticate: ask for a decision on the peer right after its greeting and
            hold our READY until ``accept`` (libzmq does this when the socket has
            a ZAP domain); ``refuse`` sends ERROR instead.
    """

    name = b"NULL"
    _quiet_while_deciding = False

    def __init__(self, *, authenticate: bool = False) -> None:
        super().__init__()
        self._metadata = b""
        self._pending: list = []
        self._authenticate = authenticate
        # with authentication: whether we decided yet, our user id for the peer,
        # and the peer's READY metadata if it came before the decision
        self._decided = not authenticate
        self._user_id = b""
        self._early_ready: dict | None = None

    def __repr__(self) -> str:
        if self._authenticate:
            return "NullMechanism(authenticate=True)"
        return "NullMechanism()"

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        super()._attach(metadata, max_metadata, logger)
        self._metadata = metadata

    def _ready_body(self) -> bytes:
        return bytes((len(_READY),)) + _READY + self._metadata

    def _start(self, now: float) -> None:
        if not self._authenticate:
            self._pending.append(self._ready_body())

    def _greeted(self) -> AuthenticationRequested | None:
        if self._authenticate:
            return AuthenticationRequested("NULL")
        return None

    def _limit(self) -> tuple[int, str, Reason]:
        size = max(NULL_READY_BASE_SIZE + self._max_metadata, ERROR_MAX_SIZE)
        return size, "READY or ERROR", Reason.ZMTP_MALFORMED_COMMAND_READY

    def _receive(self, body, now: float):
        split = split_command(body)
        if split is None:
            raise RemoteProtocolError(
                f"expected a command body (name length, name, data), got "
                f"{len(body)} bytes that are not one",
                Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            )
        name, offset = split

        if name == _READY:
            if self._early_ready is not None:
                raise RemoteProtocolError(
                    "expected one READY, got a second one",
                    Reason.ZMTP_UNEXPECTED_COMMAND,
                )
            metadata = _codec.decode_metadata(body[offset:])
            self._logger.debug("NULL: peer READY with %d properties", len(metadata))
            if not self._decided:
                # our READY waits for the decision; the peer's waits with it
                self._early_ready = metadata
                return None
            return _Ready(metadata, self._user_id)
        if name == _ERROR:
            reason = _parse_error(body[offset:], "ERROR")
            self._logger.debug("NULL: peer ERROR %r", reason)
            return _Refused(reason)
        raise RemoteProtocolError(
            f"expected READY or ERROR, got {printable(name)}",
            Reason.ZMTP_UNEXPECTED_COMMAND,
        )

    def _take_output(self) -> list:
        out, self._pending = self._pending, []
        return out

    def _accept(self, user_id: bytes) -> _Ready | None:
        if self._decided:
            return super()._accept(user_id)
        self._decided = True
        self._user_id = bytes(user_id)
        self._pending.append(self._ready_body())
        if self._early_ready is not None:
            return _Ready(self._early_ready, self._user_id)
        return None

    def _refuse(self, status: str) -> None:
        if self._decided:
            super()._refuse(status)
        self._decided = True
        self._pending.append(_error_body(status))


class _PlainMechanism(Mechanism):
    """What the PLAIN client and server share: a step counter and an outbox."""

    name = b"PLAIN"

    def __init__(self) -> None:
        super().__init__()
        self._metadata = b""
        self._pending: list = []
        self._step = 0

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        super()._attach(metadata, max_metadata, logger)
        self._metadata = metadata

    def _take_output(self) -> list:
        out, self._pending = self._pending, []
        return out

    @staticmethod
    def _check_generic(body) -> None:
        # libzmq's first check on any handshake command: a length byte and at
        # least that many name bytes after it
        if len(body) <= 1 or len(body) <= body[0]:
            raise RemoteProtocolError(
                f"expected a command body (name length, name, data), got "
                f"{len(body)} bytes that are not one",
                Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            )


class PlainClientMechanism(_PlainMechanism):
    """PLAIN as the client: sends the username and the password in clear text.

    Steps: HELLO out; WELCOME (or ERROR) in; INITIATE with our metadata out; READY
    (or ERROR) in. Accepts both the RFC's ``\x05ERROR`` and libzmq's ``^RROR``.

    Args:
        username: 0..255 bytes.
        password: 0..255 bytes. It is kept as given (immutable bytes cannot be
            wiped) and never shown in a repr or a log.

    Raises:
        ValueError: a credential longer than 255 bytes.
        TypeError: a credential that is not bytes-like.
    """

    def __init__(self, username, password) -> None:
        super().__init__()
        self._username = _credential(username, "username")
        self._password = _credential(password, "password")

    def __repr__(self) -> str:
        return f"PlainClientMechanism(username={self._username!r})"

    def _start(self, now: float) -> None:
        user, password = self._username, self._password
        self._pending.append(
            _HELLO_PREFIX
            + bytes((len(user),))
            + user
            + bytes((len(password),))
            + password
        )

    def _limit(self) -> tuple[int, str, Reason]:
        if self._step == 0:
            size = max(len(_WELCOME_BODY), ERROR_MAX_SIZE)
            return size, "WELCOME or ERROR", Reason.ZMTP_MALFORMED_COMMAND_WELCOME
        size = max(NULL_READY_BASE_SIZE + self._max_metadata, ERROR_MAX_SIZE)
        return size, "READY or ERROR", Reason.ZMTP_MALFORMED_COMMAND_READY

    def _receive(self, body, now: float):
        # libzmq dispatches on whole prefixes, so libzmq's "^RROR" (whose first
        # byte would read as a 94-byte name) is matched before the generic check
        for prefix in (PLAIN_ERROR_PREFIX, _ERROR_PREFIX):
            if body[: len(prefix)] == prefix:
                reason = _parse_error(body[len(prefix) :], "ERROR")
                self._logger.debug("PLAIN: server ERROR %r", reason)
                return _Refused(reason)
        self._check_generic(body)

        if body[: len(_WELCOME_BODY)] == _WELCOME_BODY and self._step == 0:
            if len(body) != len(_WELCOME_BODY):
                raise RemoteProtocolError(
                    f"expected a WELCOME of {len(_WELCOME_BODY)} bytes, got "
                    f"{len(body)}",
                    Reason.ZMTP_MALFORMED_COMMAND_WELCOME,
                )
            self._step = 1
            self._pending.append(_INITIATE_PREFIX + self._metadata)
            return None
        if body[: len(_READY_PREFIX)] == _READY_PREFIX and self._step == 1:
            metadata = _codec.decode_metadata(body[len(_READY_PREFIX) :])
            self._step = 2
            self._logger.debug("PLAIN: server READY with %d properties", len(metadata))
            return _Ready(metadata, b"")

        expected = "WELCOME or ERROR" if self._step == 0 else "READY or ERROR"
        name = split_command(body)
        raise RemoteProtocolError(
            f"expected {expected}, got {printable(name[0] if name else body)}",
            Reason.ZMTP_UNEXPECTED_COMMAND,
        )


class PlainServerMechanism(_PlainMechanism):
    """PLAIN as the server: takes HELLO, lets the application check the username
    and password (``Connection.accept`` or ``refuse``), then WELCOME, INITIATE,
    READY.

    A refusal is sent in libzmq's ``^RROR`` form (see the module's notes); a
    ``"300"`` decision should close without calling ``refuse``, as libzmq does.
    """

    as_server = True

    def __init__(self) -> None:
        super().__init__()
        self._user_id = b""

    def __repr__(self) -> str:
        return "PlainServerMechanism()"

    def _limit(self) -> tuple[int, str, Reason]:
        if self._step == 0:
            return (
                PLAIN_HELLO_MAX_SIZE,
                "HELLO",
                Reason.ZMTP_MALFORMED_COMMAND_HELLO,
            )
        if self._step == 1:
            # the client may send nothing until our WELCOME, which waits for accept
            return 0, "no frame before our WELCOME", Reason.ZMTP_UNEXPECTED_COMMAND
        size = PLAIN_INITIATE_BASE_SIZE + self._max_metadata
        return size, "INITIATE", Reason.ZMTP_MALFORMED_COMMAND_INITIATE

    def _receive(self, body, now: float):
        self._check_generic(body)
        if self._step == 0 and body[: len(_HELLO_PREFIX)] == _HELLO_PREFIX:
            username, password = _parse_hello(body[len(_HELLO_PREFIX) :])
            self._step = 1
            self._logger.debug("PLAIN: HELLO from user %r", username)
            return AuthenticationRequested("PLAIN", (username, password))
        if self._step == 2 and body[: len(_INITIATE_PREFIX)] == _INITIATE_PREFIX:
            metadata = _codec.decode_metadata(body[len(_INITIATE_PREFIX) :])
            self._step = 3
            self._pending.append(_READY_PREFIX + self._metadata)
            return _Ready(metadata, self._user_id)
        name = split_command(body)
        raise RemoteProtocolError(
            f"expected {'HELLO' if self._step == 0 else 'INITIATE'}, got "
            f"{printable(name[0] if name else body)}",
            Reason.ZMTP_UNEXPECTED_COMMAND,
        )

    def _accept(self, user_id: bytes) -> _Ready | None:
        if self._step != 1:
            return super()._accept(user_id)
        self._step = 2
        self._user_id = bytes(user_id)
        self._pending.append(_WELCOME_BODY)
        return None

    def _refuse(self, status: str) -> None:
        if self._step != 1:
            super()._refuse(status)
        self._step = 3
        self._pending.append(_error_body(status, PLAIN_ERROR_PREFIX))


def _credential(value, what: str) -> bytes:
    if isinstance(value, str):
        raise TypeError(f"expected the PLAIN {what} as bytes, got str")
    value = bytes(value)
    if len(value) > PLAIN_MAX_CREDENTIAL:
        raise ValueError(
            f"expected a PLAIN {what} of at most {PLAIN_MAX_CREDENTIAL} bytes, got "
            f"{len(value)}"
        )
    return value


def _parse_hello(data) -> tuple[bytes, bytes]:
    """Split HELLO's data into the username and the password; exactly the two
    length-prefixed fields must be there, as libzmq checks."""
    if len(data) < 1 or len(data) < 2 + data[0]:
        raise RemoteProtocolError(
            f"expected a HELLO username and password length, got {len(data)} "
            f"bytes after HELLO",
            Reason.ZMTP_MALFORMED_COMMAND_HELLO,
        )
    username_size = data[0]
    username = bytes(data[1 : 1 + username_size])
    password_size = data[1 + username_size]
    password = bytes(data[2 + username_size :])
    if len(password) != password_size:
        raise RemoteProtocolError(
            f"expected a HELLO password of {password_size} bytes, got {len(password)}",
            Reason.ZMTP_MALFORMED_COMMAND_HELLO,
        )
    return username, password


class _CurveMechanism(Mechanism):
    """What the CURVE client and server share: a codec and a frame count.

    Once the handshake is over the connection takes the codec's session
    (:meth:`_take_session`) and the codec is dropped with everything only the
    handshake needed; the mechanism keeps the session only to close it.
    """

    name = b"CURVE"

    def __init__(
        self,
        *,
        drop_invalid: bool,
        invalid_budget: int,
        invalid_window: float,
        compact: bool,
        certificate,
        rng,
        backend,
    ) -> None:
        super().__init__()
        # the public certificate we present to curvezmq peers, or None when the
        # certificate exchange is off (then the peer's property stays opaque);
        # the peer's, once its INITIATE or READY brought one
        self._certificate = certificate
        self._peer_cert = None
        # what the codec is made with at attach time
        self._options = {
            "drop_invalid": drop_invalid,
            "invalid_budget": invalid_budget,
            "invalid_window": invalid_window,
            "compact": compact,
            "rng": rng,
            "backend": backend,
        }
        # handshake commands received so far; with the codec refusing anything out
        # of order, this count is enough to know which command comes next
        self._received = 0
        self._session = None

    def _codec_options(self) -> dict:
        options, self._options = self._options, None
        return options

    def _take_output(self) -> list:
        if self._codec is None:
            return []
        return self._codec.data_to_send()

    def _take_session(self):
        """The handshake is over: return the codec's session and drop the codec.
        Drain _take_output first."""
        session = self._session = self._codec.session
        self._codec = None
        return session

    def _close(self) -> None:
        if self._codec is not None:
            self._codec.close()
        if self._session is not None:
            self._session.close()

    def _ready_from(self, events) -> object | None:
        for event in events:
            if isinstance(event, _codec.HandshakeCompleted):
                if not self.as_server:
                    self._take_peer_certificate(
                        event.peer_metadata, "READY", self._peer_key
                    )
                return _Ready(event.peer_metadata, event.user_id, self._peer_cert)
            if isinstance(event, _codec.ErrorReceived):
                return _Refused(event.reason)
            if isinstance(event, _codec.AuthenticationRequested):
                self._take_peer_certificate(
                    event.metadata, "INITIATE", event.client_key
                )
                return AuthenticationRequested(
                    "CURVE",
                    (bytes(event.client_key),),
                    event.metadata,
                    self._peer_cert,
                )
        return None

    def _take_peer_certificate(self, metadata, command: str, key: bytes) -> None:
        # with the exchange on, the peer's certificate is ours to check and to
        # take out of the metadata it reports
        if self._certificate is not None:
            self._peer_cert = take_certificate(metadata, key, command)


class CurveClientMechanism(_CurveMechanism):
    """CURVE as the client: sends HELLO and INITIATE, proves our long-term key.

    Args:
        public_key: our long-term public key C (32 bytes or Z85).
        secret_key: our long-term secret key c.
        server_key: the server's long-term public key S.
        drop_invalid: drop a MESSAGE that fails to open instead of closing; the
            connection reports each as MessageDropped.
        invalid_budget: with ``drop_invalid``, the most MESSAGEs that may fail
            within ``invalid_window`` seconds before the connection closes
            anyway; -1 for no limit.
        invalid_window: the window of that budget, in seconds.
        compact: offer compact framing to the server (docs/extensions.md); a
            libzmq server ignores the offer.
        certificate: our public :class:`~curvezmq.certs.Certificate`, sent in
            INITIATE as ``X-CurveZMQ-Certificate`` (docs/extensions.md); the
            server's, when a curvezmq server answers with one, is checked
            against the server key and reported in HandshakeCompleted. None
            turns the exchange off.
        rng: randomness ``rng(n) -> bytes``; the backend's CSPRNG by default.
        backend: the crypto backend; the default one when omitted.

    Raises:
        InvalidKeyError: (when the connection is created) a key is malformed.
    """

    def __init__(
        self,
        public_key,
        secret_key,
        server_key,
        *,
        drop_invalid: bool = False,
        invalid_budget: int = _codec.DEFAULT_INVALID_BUDGET,
        invalid_window: float = _codec.DEFAULT_INVALID_WINDOW,
        compact: bool = False,
        certificate=None,
        rng=None,
        backend=None,
    ) -> None:
        super().__init__(
            drop_invalid=drop_invalid,
            invalid_budget=invalid_budget,
            invalid_window=invalid_window,
            compact=compact,
            certificate=certificate,
            rng=rng,
            backend=backend,
        )
        self._keys = (public_key, secret_key, server_key)
        # S, which the server's certificate must name
        self._peer_key = b""

    def __repr__(self) -> str:
        return "CurveClientMechanism()"

    @property
    def server_key(self) -> bytes:
        """The server's long-term public key S, 32 raw bytes, once attached; the
        handshake proves the server holds its secret key."""
        return self._peer_key

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        super()._attach(metadata, max_metadata, logger)
        public_key, secret_key, server_key = self._keys
        self._keys = None
        self._peer_key = key_bytes(server_key, "server key")
        if self._certificate is not None:
            # the server's certificate must name the key the handshake proves
            metadata += _codec.encode_metadata(
                {CERTIFICATE_PROPERTY: self._certificate.public_text()}
            )
        self._codec = _codec.CurveClient(
            public_key=public_key,
            secret_key=secret_key,
            server_key=server_key,
            metadata=metadata,
            max_metadata=max_metadata,
            logger=logger,
            **self._codec_options(),
        )

    def _start(self, now: float) -> None:
        self._codec.start(now)

    def _limit(self) -> tuple[int, str, Reason]:
        # the server may answer either command with an ERROR instead
        if self._received == 0:
            size = max(WELCOME_SIZE, ERROR_MAX_SIZE)
            return size, "WELCOME or ERROR", Reason.ZMTP_MALFORMED_COMMAND_WELCOME
        size = max(READY_BASE_SIZE + self._max_metadata, ERROR_MAX_SIZE)
        return size, "READY or ERROR", Reason.ZMTP_MALFORMED_COMMAND_READY

    def _receive(self, body, now: float):
        self._received += 1
        return self._ready_from(self._codec.receive(body, now))


class CurveServerMechanism(_CurveMechanism):
    """CURVE as the server: answers HELLO, checks INITIATE, then lets the
    application decide (``Connection.accept`` or ``Connection.refuse``).

    Args:
        server_keys: the server's long-term keys and cookie state, a
            :class:`curvezmq.codec.CurveServerKeys` shared by all connections.
        drop_invalid: drop a MESSAGE that fails to open instead of closing; the
            connection reports each as MessageDropped.
        invalid_budget: with ``drop_invalid``, the most MESSAGEs that may fail
            within ``invalid_window`` seconds before the connection closes
            anyway; -1 for no limit.
        invalid_window: the window of that budget, in seconds.
        compact: confirm compact framing to a client that offers it.
        certificate: our public :class:`~curvezmq.certs.Certificate`, sent in
            READY to a client whose INITIATE carried one (only curvezmq clients
            do) and to certificate fetches; the client's is checked against
            its key and reported in AuthenticationRequested. None turns the
            exchange off.
        rng: randomness ``rng(n) -> bytes``; the backend's CSPRNG by default.
        backend: the crypto backend; the default one when omitted.
        binding: identifies the connection (its peer address and port), so that
            its cookie opens on no other connection (see ``codec.CurveServer``).
    """

    as_server = True

    def __init__(
        self,
        server_keys,
        *,
        drop_invalid: bool = False,
        invalid_budget: int = _codec.DEFAULT_INVALID_BUDGET,
        invalid_window: float = _codec.DEFAULT_INVALID_WINDOW,
        compact: bool = False,
        certificate=None,
        rng=None,
        backend=None,
        binding: bytes = b"",
    ) -> None:
        super().__init__(
            drop_invalid=drop_invalid,
            invalid_budget=invalid_budget,
            invalid_window=invalid_window,
            compact=compact,
            certificate=certificate,
            rng=rng,
            backend=backend,
        )
        self._server_keys = server_keys
        self._binding = binding
        # our READY metadata, and our certificate's property when the client
        # offered its own (set at INITIATE)
        self._metadata = b""
        self._answer_certificate = False

    def __repr__(self) -> str:
        return "CurveServerMechanism()"

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        super()._attach(metadata, max_metadata, logger)
        self._metadata = metadata
        self._codec = _codec.CurveServer(
            self._server_keys,
            metadata=metadata,
            max_metadata=max_metadata,
            logger=logger,
            binding=self._binding,
            **self._codec_options(),
        )

    def _limit(self) -> tuple[int, str, Reason]:
        if self._received == 0:
            return HELLO_SIZE, "HELLO", Reason.ZMTP_MALFORMED_COMMAND_HELLO
        if self._received == 1:
            size = INITIATE_BASE_SIZE + self._max_metadata
            return size, "INITIATE", Reason.ZMTP_MALFORMED_COMMAND_INITIATE
        # the client may send nothing until our READY, which waits for accept()
        return 0, "no frame before our READY", Reason.ZMTP_UNEXPECTED_COMMAND

    def _receive(self, body, now: float):
        self._received += 1
        outcome = self._ready_from(self._codec.receive(body, now))
        if isinstance(outcome, AuthenticationRequested):
            # answer a certificate with ours: only curvezmq clients send one
            self._answer_certificate = self._peer_cert is not None
        return outcome

    def _accept(self, user_id: bytes) -> _Ready:
        if not self._answer_certificate:
            return self._ready_from(self._codec.accept(user_id=user_id))
        metadata = self._metadata + _codec.encode_metadata(
            {CERTIFICATE_PROPERTY: self._certificate.public_text()}
        )
        self._metadata = b""
        return self._ready_from(self._codec.accept(user_id=user_id, metadata=metadata))

    def _certificate_to_serve(self):
        return self._certificate

    def _refuse(self, status: str) -> None:
        self._codec.refuse(status=status)
