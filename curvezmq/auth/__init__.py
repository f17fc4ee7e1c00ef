"""Authentication policies: who may complete a handshake with our sockets.

A policy is a plain object with no event-loop code. The engine asks it once per
handshake, with what a ZAP handler would be asked (an :class:`AuthRequest`), and
turns the :class:`Decision` into READY, ERROR or a silent close.
"""

from ._policy import (
    MECHANISMS,
    STATUSES,
    AllowAny,
    AllowKeys,
    AuthPolicy,
    AuthRequest,
    Decision,
    curve_user_id,
)

__all__ = [
    "MECHANISMS",
    "STATUSES",
    "AllowAny",
    "AllowKeys",
    "AuthPolicy",
    "AuthRequest",
    "Decision",
    "curve_user_id",
]
