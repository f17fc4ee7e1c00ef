"""ZMTP 3.x greeting and frame layouts: the constants and the small pure helpers.

The receive loop itself lives in :mod:`._connection`, where it can check a frame's
declared size against the connection's current limit before any body byte is kept.
"""

from __future__ import annotations

import struct

from ..errors import Reason, RemoteProtocolError

__all__ = [
    "COMMAND",
    "ERROR_MAX_SIZE",
    "GREETING_SIZE",
    "LONG",
    "MAX_FRAME_SIZE",
    "MAX_SHORT_SIZE",
    "MECHANISM_SIZE",
    "MORE",
    "SIGNATURE",
    "check_greeting",
    "command_body",
    "frame_header",
    "make_greeting",
    "printable",
    "split_command",
]

# -- greeting (PROTOCOL.md section 1) ------------------------------------------------

GREETING_SIZE = 64
SIGNATURE = 0xFF
SIGNATURE_END = 0x7F
MAJOR = 3
MINOR = 1
MECHANISM_SIZE = 20
# offsets inside the greeting
_MAJOR_AT = 10
_MINOR_AT = 11
_MECHANISM_AT = 12
_AS_SERVER_AT = 32

# -- frames (PROTOCOL.md section 2) --------------------------------------------------

MORE = 0x01
LONG = 0x02
COMMAND = 0x04
MAX_SHORT_SIZE = 255
# R23 allows sizes up to 2**63 - 1; a header with the top bit set is malformed.
MAX_FRAME_SIZE = (1 << 63) - 1
# ERROR = name_len(1) + "ERROR"(5) + reason_len(1) + a reason of at most 255 bytes.
ERROR_MAX_SIZE = 7 + 255

_LONG_HEADER = struct.Struct(">BQ")


def make_greeting(mechanism: bytes, as_server: bool) -> bytes:
    """Return our 64-byte ZMTP 3.1 greeting.

    The padding is all zeros, as R23 asks; libzmq puts its routing id length + 1
    there and reads nobody's padding, so either is fine on the wire.
    """
    return (
        bytes((SIGNATURE,))
        + bytes(8)
        + bytes((SIGNATURE_END, MAJOR, MINOR))
        + mechanism.ljust(MECHANISM_SIZE, b"\0")
        + bytes((1 if as_server else 0,))
        + bytes(31)
    )


def check_greeting(data, mechanism: bytes) -> tuple[int, int] | None:
    """Check as much of a peer's greeting as has arrived.

    Each byte is judged as soon as it is there, so a ZMTP 1.0 or 2.0 peer (which
    sends fewer than 64 bytes and then waits) is refused without waiting forever.

    Args:
        data: the first bytes received, possibly more than 64 or fewer.
        mechanism: our mechanism name, for example ``b"CURVE"``.

    Returns:
        None while the greeting is incomplete but valid so far, else the peer's
        version as ``(3, 0)`` or ``(3, 1)``: major 3 minor 0 is 3.0, any higher
        minor or major is 3.1, as libzmq classifies it.

    Raises:
        RemoteProtocolError: the peer speaks ZMTP older than 3.0 (reason
            ZMTP_UNSPECIFIED) or another mechanism (ZMTP_MECHANISM_MISMATCH).
    """
    have = len(data)
    if have >= 1 and data[0] != SIGNATURE:
        raise RemoteProtocolError(
            f"expected a ZMTP 3 greeting starting with 0xff, got 0x{data[0]:02x} "
            "(a ZMTP 1.0 peer)"
        )
    if have >= 10 and not data[9] & 0x01:
        raise RemoteProtocolError(
            f"expected 0x7f at greeting byte 9, got 0x{data[9]:02x} (a ZMTP 1.0 peer)"
        )
    if have > _MAJOR_AT and data[_MAJOR_AT] < MAJOR:
        raise RemoteProtocolError(
            f"expected ZMTP major version 3 or later, got {data[_MAJOR_AT]}"
        )
    if have < GREETING_SIZE:
        return None

    theirs = bytes(data[_MECHANISM_AT : _MECHANISM_AT + MECHANISM_SIZE])
    ours = mechanism.ljust(MECHANISM_SIZE, b"\0")
    if theirs != ours:
        shown = printable(theirs.rstrip(b"\0"))
        raise RemoteProtocolError(
            f"expected mechanism {mechanism.decode('ascii')}, got {shown}",
            Reason.ZMTP_MECHANISM_MISMATCH,
        )
    # The as-server byte is never read: the role comes from our own configuration,
    # and libzmq always sends 0 there, even as a CURVE server.
    if data[_MAJOR_AT] == MAJOR and data[_MINOR_AT] == 0:
        return (3, 0)
    return (3, 1)


def frame_header(flags: int, size: int) -> bytes:
    """Return the flags and size bytes of a frame; LONG only when size > 255."""
    if size > MAX_SHORT_SIZE:
        return _LONG_HEADER.pack(flags | LONG, size)
    return bytes((flags, size))


def command_body(name: bytes, data=b"") -> bytes:
    """Return a ZMTP command body: name_len(1) + name + data."""
    return bytes((len(name),)) + name + bytes(data)


def split_command(body) -> tuple[bytes, int] | None:
    """Split a command body into its name and the offset of its data.

    Returns:
        ``(name, offset)``, or None when the body is empty, the name is empty or
        the name runs past the end of the body.
    """
    if not len(body):
        return None
    size = body[0]
    if size == 0 or len(body) < 1 + size:
        return None
    return bytes(body[1 : 1 + size]), 1 + size


def printable(name) -> str:
    """Show a peer-chosen command name in a message without control characters."""
    text = bytes(name[:32]).decode("ascii", errors="replace")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return repr(text + ("..." if len(name) > 32 else ""))
