"""Security mechanisms: what a connection does between the greeting and the first
message.

A mechanism object is configuration until a :class:`~curvezmq.zmtp.Connection`
attaches it; from then on it belongs to that one connection. The connection owns
framing and limits and hands the mechanism one handshake command body at a time;
the mechanism answers with what the body meant (nothing yet, the peer is ready, the
peer refused us, or a server must decide on a client) and queues command bodies
for the connection to frame. NULL is written here; CURVE delegates every command to
the sans-IO codec in :mod:`curvezmq.codec`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .. import codec as _codec
from ..errors import LocalProtocolError, Reason, RemoteProtocolError
from ._framing import ERROR_MAX_SIZE, printable, split_command

__all__ = [
    "CurveClientMechanism",
    "CurveServerMechanism",
    "Mechanism",
    "NullMechanism",
]

# Fixed CURVE command sizes (PROTOCOL.md section 9): HELLO 200, WELCOME 168,
# INITIATE 257 + metadata, READY 30 + metadata. NULL READY is 6 + metadata.
HELLO_SIZE = 200
WELCOME_SIZE = 168
INITIATE_BASE_SIZE = 257
READY_BASE_SIZE = 30
NULL_READY_BASE_SIZE = 6

_READY = b"READY"
_ERROR = b"ERROR"


@dataclass(frozen=True)
class _Ready:
    """The handshake is over: the peer's metadata and the user id to report."""

    metadata: dict
    user_id: bytes


@dataclass(frozen=True)
class _Refused:
    """The peer sent ERROR; the connection ends without a protocol error."""

    reason: str


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

    def _accept(self, user_id: bytes) -> _Ready:
        raise LocalProtocolError(
            f"the {self.name.decode()} mechanism has no client to accept"
        )

    def _refuse(self, status: str) -> None:
        raise LocalProtocolError(
            f"the {self.name.decode()} mechanism has no client to refuse"
        )

    def _close(self) -> None:
        """Wipe what the mechanism holds; called once when the connection ends."""


class NullMechanism(Mechanism):
    """ZMTP NULL: no security. Each side sends READY with its metadata right after
    the greeting and accepts the peer's READY (or ERROR) whenever it comes.
    """

    name = b"NULL"

    def __init__(self) -> None:
        super().__init__()
        self._metadata = b""
        self._pending: list = []

    def __repr__(self) -> str:
        return "NullMechanism()"

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        super()._attach(metadata, max_metadata, logger)
        self._metadata = metadata

    def _start(self, now: float) -> None:
        self._pending.append(bytes((len(_READY),)) + _READY + self._metadata)

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
            metadata = _codec.decode_metadata(body[offset:])
            self._logger.debug("NULL: peer READY with %d properties", len(metadata))
            return _Ready(metadata, b"")
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


class _CurveMechanism(Mechanism):
    """What the CURVE client and server share: a codec and a frame count."""

    name = b"CURVE"

    def __init__(self, *, drop_invalid: bool, rng, backend) -> None:
        super().__init__()
        self._drop_invalid = drop_invalid
        self._rng = rng
        self._backend = backend
        # handshake commands received so far; with the codec refusing anything out
        # of order, this count is enough to know which command comes next
        self._received = 0

    def _take_output(self) -> list:
        return self._codec.data_to_send()

    def _close(self) -> None:
        if self._codec is not None:
            self._codec.close()

    def _ready_from(self, events) -> object | None:
        for event in events:
            if isinstance(event, _codec.HandshakeCompleted):
                return _Ready(event.peer_metadata, event.user_id)
            if isinstance(event, _codec.ErrorReceived):
                return _Refused(event.reason)
            if isinstance(event, _codec.AuthenticationRequested):
                return event
        return None


class CurveClientMechanism(_CurveMechanism):
    """CURVE as the client: sends HELLO and INITIATE, proves our long-term key.

    Args:
        public_key: our long-term public key C (32 bytes or Z85).
        secret_key: our long-term secret key c.
        server_key: the server's long-term public key S.
        drop_invalid: drop a MESSAGE that fails to open instead of closing.
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
        rng=None,
        backend=None,
    ) -> None:
        super().__init__(drop_invalid=drop_invalid, rng=rng, backend=backend)
        self._keys = (public_key, secret_key, server_key)

    def __repr__(self) -> str:
        return "CurveClientMechanism()"

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        super()._attach(metadata, max_metadata, logger)
        public_key, secret_key, server_key = self._keys
        self._keys = None
        self._codec = _codec.CurveClient(
            public_key=public_key,
            secret_key=secret_key,
            server_key=server_key,
            metadata=metadata,
            max_metadata=max_metadata,
            drop_invalid=self._drop_invalid,
            rng=self._rng,
            backend=self._backend,
            logger=logger,
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
        drop_invalid: drop a MESSAGE that fails to open instead of closing.
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
        rng=None,
        backend=None,
        binding: bytes = b"",
    ) -> None:
        super().__init__(drop_invalid=drop_invalid, rng=rng, backend=backend)
        self._server_keys = server_keys
        self._binding = binding

    def __repr__(self) -> str:
        return "CurveServerMechanism()"

    def _attach(self, metadata: bytes, max_metadata: int, logger) -> None:
        super()._attach(metadata, max_metadata, logger)
        self._codec = _codec.CurveServer(
            self._server_keys,
            metadata=metadata,
            max_metadata=max_metadata,
            drop_invalid=self._drop_invalid,
            rng=self._rng,
            backend=self._backend,
            logger=logger,
            binding=self._binding,
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
        return self._ready_from(self._codec.receive(body, now))

    def _accept(self, user_id: bytes) -> _Ready:
        return self._ready_from(self._codec.accept(user_id=user_id))

    def _refuse(self, status: str) -> None:
        self._codec.refuse(status=status)
