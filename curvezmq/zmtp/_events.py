"""Events a :class:`~curvezmq.zmtp.Connection` returns from the bytes it is fed."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "AuthenticationRequested",
    "CertificateServed",
    "CommandReceived",
    "ErrorReceived",
    "Event",
    "HandshakeCompleted",
    "HeartbeatTimedOut",
    "MessageDropped",
    "MessageReceived",
]


class Event:
    """Base class of the events a connection returns."""

    __slots__ = ()


@dataclass(frozen=True)
class AuthenticationRequested(Event):
    """The connection waits for a decision on its peer: call ``accept`` or
    ``refuse`` (what libzmq asks its ZAP handler).

    Raised by a CURVE server once INITIATE checked out, a PLAIN server once HELLO
    arrived, and a NULL mechanism made with ``authenticate=True`` right after the
    peer's greeting (before its READY, as libzmq does).

    Attributes:
        mechanism: ``"NULL"``, ``"PLAIN"`` or ``"CURVE"``.
        credentials: ``()`` (NULL), ``(username, password)`` (PLAIN) or
            ``(client_key,)`` (CURVE, 32 raw bytes). Kept out of the repr.
        metadata: the peer's metadata when it is already known (CURVE
            INITIATE), else empty.
        certificate: the :class:`~curvezmq.certs.Certificate` a curvezmq CURVE
            client presented in INITIATE (already checked to name its key),
            else None.
    """

    mechanism: str
    credentials: tuple = field(default=(), repr=False)
    metadata: dict = field(default_factory=dict, repr=False)
    certificate: object = field(default=None, repr=False)

    @property
    def client_key(self) -> bytes:
        """CURVE: the client's long-term public key C, 32 raw bytes; else b""."""
        if self.mechanism == "CURVE" and self.credentials:
            return bytes(self.credentials[0])
        return b""


@dataclass(frozen=True)
class HandshakeCompleted(Event):
    """The security handshake finished; messages may flow both ways.

    Attributes:
        peer_metadata: the peer's metadata properties, names as sent.
        user_id: the user id our side attached (CURVE server ``accept``), else b"".
        socket_type: the peer's Socket-Type, or "" when it sent none.
        identity: the peer's Identity property, b"" when absent.
        auth_metadata: what our CURVE server's ``accept`` attached to the client
            (a ZAP reply's metadata), never sent to the peer; else empty.
        certificate: the :class:`~curvezmq.certs.Certificate` a curvezmq CURVE
            peer presented (checked to name the key the handshake proved), else
            None.
    """

    peer_metadata: dict = field(repr=False)
    user_id: bytes
    socket_type: str
    identity: bytes
    auth_metadata: dict = field(default_factory=dict, repr=False)
    certificate: object = field(default=None, repr=False)


@dataclass(frozen=True)
class CertificateServed(Event):
    """A certificate fetch (a greeting naming ``CURVEZMQ-CERT``) was answered with
    our certificate; the connection is now closed. Drain data_to_send, then close
    the transport.
    """


@dataclass(frozen=True)
class MessageReceived(Event):
    """One whole message arrived: every part up to the one without MORE.

    Attributes:
        frames: the parts, in order, each a bytes-like object the receiver owns.
    """

    frames: list = field(repr=False)


@dataclass(frozen=True)
class CommandReceived(Event):
    """The peer sent a SUBSCRIBE or CANCEL command (PING and PONG are handled inside).

    Attributes:
        name: the command name, ``"SUBSCRIBE"`` or ``"CANCEL"``.
        data: the bytes after the name (the topic).
    """

    name: str
    data: bytes


@dataclass(frozen=True)
class ErrorReceived(Event):
    """The peer sent ERROR during the handshake; the connection is now closed.

    Attributes:
        reason: the peer's reason text, for example ``"400"``.
    """

    reason: str


@dataclass(frozen=True)
class HeartbeatTimedOut(Event):
    """The peer stayed silent past a heartbeat deadline; the connection is now
    closed.

    Attributes:
        silence: seconds since the last bytes arrived from the peer.
        reason: what was expected, for the log: an answer to our PING within
            the heartbeat timeout, or traffic within the TTL the peer's PING
            announced.
    """

    silence: float
    reason: str


@dataclass(frozen=True)
class MessageDropped(Event):
    """A CURVE MESSAGE failed (box, nonce or size) and the drop policy discarded
    it; the connection goes on. The peer's nonce floor did not move.

    Only a mechanism made with ``drop_invalid=True`` reports these; past its
    budget the connection closes with RemoteProtocolError instead.

    Attributes:
        reason: a :class:`~curvezmq.errors.Reason`: ``ZMTP_CRYPTOGRAPHIC``,
            ``ZMTP_INVALID_SEQUENCE`` or ``ZMTP_MALFORMED_COMMAND_MESSAGE``.
        detail: what was expected and what arrived, for a log.
        dropped: how many MESSAGEs this connection has dropped in all.
    """

    reason: object
    detail: str = ""
    dropped: int = 0
