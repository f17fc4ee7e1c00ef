"""Socket types: which peers each may talk to, and the metadata we announce.

The table is R23's, which is also R37's list and what libzmq's ``check_socket_type``
does: exact, case-sensitive type names. libzmq does not require the peer to send a
Socket-Type at all, so a peer without one is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Reason, RemoteProtocolError
from ._framing import printable

__all__ = [
    "COMPATIBLE",
    "SENDS_IDENTITY",
    "SOCKET_TYPES",
    "check_peer_socket_type",
    "our_properties",
]

COMPATIBLE: Mapping[str, frozenset] = {
    "REQ": frozenset({b"REP", b"ROUTER"}),
    "REP": frozenset({b"REQ", b"DEALER"}),
    "DEALER": frozenset({b"REP", b"DEALER", b"ROUTER"}),
    "ROUTER": frozenset({b"REQ", b"DEALER", b"ROUTER"}),
    "PUB": frozenset({b"SUB", b"XSUB"}),
    "XPUB": frozenset({b"SUB", b"XSUB"}),
    "SUB": frozenset({b"PUB", b"XPUB"}),
    "XSUB": frozenset({b"PUB", b"XPUB"}),
    "PUSH": frozenset({b"PULL"}),
    "PULL": frozenset({b"PUSH"}),
    "PAIR": frozenset({b"PAIR"}),
}

SOCKET_TYPES = frozenset(COMPATIBLE)

# libzmq sends an Identity property (possibly empty) only from these types.
SENDS_IDENTITY = frozenset({"REQ", "DEALER", "ROUTER"})

# libzmq's routing ids are 1..255 bytes; an empty one means "none set".
MAX_IDENTITY_SIZE = 255


def our_properties(socket_type: str, identity: bytes) -> dict:
    """Return our metadata properties in libzmq's order: Socket-Type, Identity."""
    properties = {"Socket-Type": socket_type.encode("ascii")}
    if socket_type in SENDS_IDENTITY:
        properties["Identity"] = bytes(identity)
    return properties


def check_peer_socket_type(local: str, metadata: Mapping[str, bytes]) -> str:
    """Check the peer's Socket-Type property against our socket type.

    Args:
        local: our socket type, one of :data:`SOCKET_TYPES`.
        metadata: the peer's decoded metadata.

    Returns:
        The peer's socket type, or ``""`` when it sent none.

    Raises:
        RemoteProtocolError: (reason ZMTP_INVALID_METADATA) our socket type cannot
            talk to the peer's.
    """
    # exact case, like libzmq: a "socket-type" property is an opaque one to it, so
    # dict.get, not the codec's case-folding Metadata.get
    value = dict.get(metadata, "Socket-Type")
    if value is None:
        return ""
    value = bytes(value)
    if value not in COMPATIBLE[local]:
        raise RemoteProtocolError(
            f"expected a peer socket type that a {local} socket accepts, got "
            f"{printable(value)}",
            Reason.ZMTP_INVALID_METADATA,
        )
    return value.decode("ascii")
