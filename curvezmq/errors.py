"""The exception hierarchy of curvezmq.

Every error that curvezmq raises on purpose derives from :class:`CurveZMQError`. This
module imports nothing from the rest of the package, so every layer may import it.

Messages are lowercase, say what was expected and what arrived, and never contain
secret bytes.
"""

from __future__ import annotations

import enum

__all__ = [
    "AuthenticationError",
    "BackendError",
    "BackendUnavailableError",
    "BrokenError",
    "BusyError",
    "ClosedError",
    "CryptoError",
    "CurveZMQError",
    "EngineError",
    "InvalidKeyError",
    "LimitError",
    "LocalProtocolError",
    "ProtocolError",
    "Reason",
    "RemoteProtocolError",
]


class CurveZMQError(Exception):
    """Root of every error curvezmq raises on purpose."""


class InvalidKeyError(CurveZMQError, ValueError):
    """A key, or its Z85 text, has the wrong length or content."""


class BackendError(CurveZMQError):
    """A crypto backend failed to load, failed its self-test, or misbehaved."""


class BackendUnavailableError(BackendError):
    """The requested crypto backend is unknown or was not built."""


class CryptoError(CurveZMQError):
    """A box failed to open, or a key agreement produced a low-order point."""


class Reason(enum.IntEnum):
    """Why a handshake or session failed, numbered like libzmq's protocol errors.

    The values are libzmq's ZMQ_PROTOCOL_ERROR_* codes, so a socket monitor reports the
    same number libzmq would.
    """

    ZMTP_UNSPECIFIED = 0x10000000
    ZMTP_UNEXPECTED_COMMAND = 0x10000001
    ZMTP_INVALID_SEQUENCE = 0x10000002
    ZMTP_KEY_EXCHANGE = 0x10000003
    ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
    ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
    ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
    ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
    ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
    ZMTP_MALFORMED_COMMAND_READY = 0x10000016
    ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
    ZMTP_INVALID_METADATA = 0x10000018
    ZMTP_CRYPTOGRAPHIC = 0x11000001
    ZMTP_MECHANISM_MISMATCH = 0x11000002
    ZAP_UNSPECIFIED = 0x20000000
    ZAP_MALFORMED_REPLY = 0x20000001
    ZAP_BAD_REQUEST_ID = 0x20000002
    ZAP_BAD_VERSION = 0x20000003
    ZAP_INVALID_STATUS_CODE = 0x20000004
    ZAP_INVALID_METADATA = 0x20000005


class ProtocolError(CurveZMQError):
    """The protocol was broken, by us (Local) or by the peer (Remote).

    Attributes:
        reason: a :class:`Reason`, named like libzmq's protocol error codes.
    """

    def __init__(self, message: str, reason: Reason = Reason.ZMTP_UNSPECIFIED):
        super().__init__(message)
        self.reason = reason


class LocalProtocolError(ProtocolError):
    """The caller asked us to do something the protocol forbids in this state."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids; the connection must end."""


class AuthenticationError(CurveZMQError):
    """The peer refused us (an ERROR command) or we refused the peer.

    Attributes:
        status: the ZAP-style status text, for example ``"400"``.
    """

    def __init__(self, message: str, status: str = ""):
        super().__init__(message)
        self.status = status


class LimitError(RemoteProtocolError):
    """A peer announced more data than the configured limit allows."""


class EngineError(CurveZMQError):
    """Root of the engine's errors: busy, broken or closed."""


class BusyError(EngineError):
    """The operation would block: a queue is full or nothing has arrived yet."""


class BrokenError(EngineError):
    """The connection or socket failed and cannot go on."""


class ClosedError(EngineError):
    """The socket or context was closed by the application."""
