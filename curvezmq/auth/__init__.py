"""Authentication policies: who may complete a CURVE handshake with our servers.

A policy is a plain object with no event-loop code. The engine asks it once per
handshake, when the codec reports a client whose vouch checked out, and turns the
answer into ``accept`` or ``refuse`` on the connection.
"""

from ._policy import AllowAny, AllowKeys, AuthPolicy, Decision

__all__ = ["AllowAny", "AllowKeys", "AuthPolicy", "Decision"]
