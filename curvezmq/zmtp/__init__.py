"""Sans-IO ZMTP 3.1: greeting, framing with limits, metadata, the NULL, PLAIN and
CURVE mechanisms, and one connection's state machine.

A :class:`Connection` is fed bytes and returns events; it never touches a socket or
a clock. CURVE is delegated to :mod:`curvezmq.codec`.
"""

from ._connection import Connection, ConnectionState
from ._events import (
    AuthenticationRequested,
    CommandReceived,
    ErrorReceived,
    Event,
    HandshakeCompleted,
    HeartbeatTimedOut,
    MessageDropped,
    MessageReceived,
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
    "COMPATIBLE",
    "PLAIN_ERROR_PREFIX",
    "SOCKET_TYPES",
    "AuthenticationRequested",
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
