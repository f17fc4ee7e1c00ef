"""Helpers for the ZMTP tests: raw frames, a fake peer's greeting, and a pipe that
moves bytes between two connections in memory."""

from __future__ import annotations

import struct

from curvezmq.codec import encode_metadata
from curvezmq.errors import RemoteProtocolError
from curvezmq.zmtp import (
    AuthenticationRequested,
    Connection,
    ConnectionState,
    NullMechanism,
)

# libzmq 4.3.5's exact greeting as a CURVE server (PROTOCOL.md section 1): padding
# is its routing id length + 1, as-server is 0 even though it is the server.
LIBZMQ_CURVE_GREETING = bytes.fromhex(
    "ff00000000000000017f0301" + b"CURVE".hex() + "00" * 15 + "00" + "00" * 31
)


def greeting(mechanism=b"NULL", major=3, minor=1, as_server=0, padding=bytes(8)):
    """A peer's 64-byte greeting with the fields given."""
    return (
        b"\xff"
        + padding
        + b"\x7f"
        + bytes((major, minor))
        + mechanism.ljust(20, b"\0")
        + bytes((as_server,))
        + bytes(31)
    )


def frame(flags: int, body: bytes, long: bool = False) -> bytes:
    """One frame; the long form when the body needs it or ``long`` asks."""
    if long or len(body) > 255:
        return struct.pack(">BQ", flags | 0x02, len(body)) + body
    return bytes((flags, len(body))) + body


def split_frames(data: bytes) -> list:
    """Split whole frames into ``(flags, body)`` pairs."""
    out = []
    pos = 0
    while pos < len(data):
        flags = data[pos]
        if flags & 0x02:
            (size,) = struct.unpack_from(">Q", data, pos + 1)
            pos += 9
        else:
            size = data[pos + 1]
            pos += 2
        out.append((flags, data[pos : pos + size]))
        pos += size
    return out


def command(name: bytes, data: bytes = b"") -> bytes:
    return bytes((len(name),)) + name + data


def ready(socket_type: bytes, identity=None) -> bytes:
    """A NULL READY command body from a peer of the given type."""
    properties = {"Socket-Type": socket_type}
    if identity is not None:
        properties["Identity"] = identity
    return command(b"READY", encode_metadata(properties))


def null_established(socket_type="DEALER", peer=b"ROUTER", **kwargs):
    """A NULL connection that has taken a peer's greeting and READY."""
    conn = Connection(socket_type, NullMechanism(), **kwargs)
    conn.start(0.0)
    conn.data_to_send()
    conn.receive_data(greeting() + frame(0x04, ready(peer)), 0.0)
    assert conn.state is ConnectionState.ESTABLISHED
    conn.data_to_send()
    return conn


def feed(conn, data: bytes, chunk: int = 0, now: float = 0.0):
    """Feed ``data`` whole (chunk 0) or in chunks; return the events and the error
    (None, or the reason of the RemoteProtocolError that ended it)."""
    events = []
    pieces = (
        [data]
        if not chunk
        else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    )
    for piece in pieces:
        try:
            events.extend(conn.receive_data(piece, now))
        except RemoteProtocolError as exc:
            events.extend(exc.events)
            return events, exc.reason
    return events, None


def pipe(a, b, now: float = 0.0, accept: bool = True):
    """Move bytes both ways until both are quiet; return each side's events.

    When ``accept`` is true an AuthenticationRequested is accepted at once.
    """
    events_a, events_b = [], []
    while True:
        moved = False
        for src, dst, sink in ((a, b, events_b), (b, a, events_a)):
            data = src.data_to_send()
            if data and dst.state is not ConnectionState.CLOSED:
                moved = True
                new = dst.receive_data(data, now)
                sink.extend(new)
                if accept:
                    for event in new:
                        if isinstance(event, AuthenticationRequested):
                            sink.extend(dst.accept())
        if not moved:
            return events_a, events_b
