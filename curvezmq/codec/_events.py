"""What the codec reports to its caller: frozen dataclasses named for what happened."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Reason
from ._metadata import Metadata

__all__ = [
    "AuthenticationRequested",
    "ErrorReceived",
    "Event",
    "HandshakeCompleted",
    "MessageReceived",
    "MessageRejected",
]


@dataclass(frozen=True)
class Event:
    """Base class of every codec event."""


@dataclass(frozen=True)
class AuthenticationRequested(Event):
    """Server: a valid INITIATE arrived; answer with ``accept()`` or ``refuse()``.

    Attributes:
        client_key: the client's long-term public key C, 32 raw bytes. The vouch has
            proved that the client holds its secret key.
        metadata: the client's metadata (Socket-Type, Identity...).
    """

    client_key: bytes
    metadata: Metadata = field(default_factory=Metadata)


@dataclass(frozen=True)
class HandshakeCompleted(Event):
    """The handshake is over; MESSAGE may flow both ways.

    The client reports it when READY opens; the server returns it from ``accept()``.

    Attributes:
        peer_metadata: the metadata the peer sent (READY for the client, INITIATE for
            the server).
        user_id: the user id the server's caller gave to ``accept()`` (empty on the
            client).
    """

    peer_metadata: Metadata = field(default_factory=Metadata)
    user_id: bytes = b""


@dataclass(frozen=True)
class MessageReceived(Event):
    """One MESSAGE opened: one frame of a message, or a ZMTP command.

    Attributes:
        data: the payload, a read-only ``memoryview`` (no copy is made).
        more: the inner MORE flag: more frames of this message follow.
        command: the inner COMMAND flag (libzmq's 0x02): ``data`` is a ZMTP command
            body such as PING or SUBSCRIBE.
    """

    data: memoryview
    more: bool = False
    command: bool = False


@dataclass(frozen=True)
class MessageRejected(Event):
    """A MESSAGE failed (box, nonce or size) and ``drop_invalid`` dropped it.

    The session goes on; the peer's nonce floor did not move.

    Attributes:
        reason: ``ZMTP_CRYPTOGRAPHIC`` (the box failed), ``ZMTP_INVALID_SEQUENCE``
            (the nonce was not above the last accepted one) or
            ``ZMTP_MALFORMED_COMMAND_MESSAGE`` (too short).
        detail: what was expected and what arrived, for a log (no key material).
        dropped: how many MESSAGEs the session has dropped in all, this one
            included.
    """

    reason: Reason
    detail: str = field(default="", compare=False)
    dropped: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ErrorReceived(Event):
    """Client: the server sent ERROR; the codec is now in its terminal state.

    A client should not retry with the same credentials.

    Attributes:
        reason: the server's reason text, for example ``"400"``.
    """

    reason: str
