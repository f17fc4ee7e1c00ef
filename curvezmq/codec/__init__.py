"""Sans-IO CurveZMQ, as libzmq 4.3 speaks RFC 26: bytes in, bytes and events out.

The codec sees command bodies, never frames or sockets. A transport (the ZMTP layer,
a test, a fuzzer) feeds each body from the peer to ``receive(body, now)``, sends what
``data_to_send()`` returns as command frames and what ``send_message()`` returns as
data frames. The clock and randomness come in from outside.
"""

from ._client import CurveClient
from ._commands import (
    CURVE_MAX_METADATA,
    HELLO_SIZE,
    INITIATE_MIN_SIZE,
    MESSAGE_MIN_SIZE,
    READY_MIN_SIZE,
    WELCOME_SIZE,
)
from ._cookie import CurveServerKeys
from ._events import (
    AuthenticationRequested,
    ErrorReceived,
    Event,
    HandshakeCompleted,
    MessageReceived,
    MessageRejected,
)
from ._metadata import Metadata, decode_metadata, encode_metadata
from ._server import CurveServer
from ._session import (
    DEFAULT_INVALID_BUDGET,
    DEFAULT_INVALID_WINDOW,
    FRAMING_COMPACT,
    FRAMING_PROPERTY,
    CurveSession,
    CurveState,
)

__all__ = [
    "CURVE_MAX_METADATA",
    "DEFAULT_INVALID_BUDGET",
    "DEFAULT_INVALID_WINDOW",
    "FRAMING_COMPACT",
    "FRAMING_PROPERTY",
    "HELLO_SIZE",
    "INITIATE_MIN_SIZE",
    "MESSAGE_MIN_SIZE",
    "READY_MIN_SIZE",
    "WELCOME_SIZE",
    "AuthenticationRequested",
    "CurveClient",
    "CurveServer",
    "CurveServerKeys",
    "CurveSession",
    "CurveState",
    "ErrorReceived",
    "Event",
    "HandshakeCompleted",
    "MessageReceived",
    "MessageRejected",
    "Metadata",
    "decode_metadata",
    "encode_metadata",
]
