"""Sans-IO ZMTP 3.1: greeting, framing with limits, metadata, the NULL, PLAIN and
CURVE mechanisms, and one connection's state machine.

A :class:`Connection` is fed bytes and returns events; it never touches a socket or
a clock. CURVE is delegated to :mod:`curvezmq.codec`.
"""

from ._connection import Connection, ConnectionState
from ._events import (
    AuthenticationRequested,
    CertificateServed,
    CommandReceived,
    ErrorReceived,
    Event,
    HandshakeCompleted,
    HeartbeatTimedOut,
    MessageDropped,
    MessageReceived,
)
from ._exchange import (
    CERT_MECHANISM,
    CERTIFICATE_PROPERTY,
    CertificateExchangeError,
    CertificateFetch,
)
from ._mechanisms import (
    PLAIN_ERROR_PREFIX,
    CurveClientMechanism,
    CurveServerMechanism,
    Mechanism,
    NullMechanism,
    PlainClientMechanism,
    PlainServerMechanism,
)
from ._sockets import COMPATIBLE, SOCKET_TYPES

__all__ = [
    "CERTIFICATE_PROPERTY",
    "CERT_MECHANISM",
    "COMPATIBLE",
    "PLAIN_ERROR_PREFIX",
    "SOCKET_TYPES",
    "AuthenticationRequested",
    "CertificateExchangeError",
    "CertificateFetch",
    "CertificateServed",
    "CommandReceived",
    "Connection",
    "ConnectionState",
    "CurveClientMechanism",
    "CurveServerMechanism",
    "ErrorReceived",
    "Event",
    "HandshakeCompleted",
    "HeartbeatTimedOut",
    "Mechanism",
    "MessageDropped",
    "MessageReceived",
    "NullMechanism",
    "PlainClientMechanism",
    "PlainServerMechanism",
]
