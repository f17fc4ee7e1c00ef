"""A raw ZMTP NULL peer over a plain blocking socket, for what pyzmq cannot show:
the exact frames on the wire, a ZMTP 3.0 peer, and a peer that falls silent."""

from __future__ import annotations

import socket
import struct
import time

from curvezmq.codec import encode_metadata


def greeting(minor: int = 1) -> bytes:
    """A NULL greeting, ZMTP 3.``minor``."""
    return (
        b"\xff"
        + bytes(8)
        + b"\x7f"
        + bytes((3, minor))
        + b"NULL".ljust(20, b"\0")
        + bytes(32)
    )


def frame(flags: int, body: bytes) -> bytes:
    if len(body) > 255:
        return struct.pack(">BQ", flags | 0x02, len(body)) + body
    return bytes((flags, len(body))) + body


def command(name: bytes, data: bytes = b"") -> bytes:
    return bytes((len(name),)) + name + data


class RawPeer:
    """One end of a TCP connection that speaks ZMTP NULL by hand.

    Args:
        sock: a connected socket.
        socket_type: the Socket-Type we announce.
        minor: our ZMTP minor version (0 for a 3.0 peer).
    """

    def __init__(self, sock: socket.socket, socket_type: bytes, minor: int = 1):
        self.sock = sock
        self.sock.settimeout(3)
        self.socket_type = socket_type
        self.minor = minor
        self._buf = b""

    @classmethod
    def connect(cls, endpoint: str, socket_type: bytes, minor: int = 1) -> RawPeer:
        host, port = endpoint[len("tcp://") :].rsplit(":", 1)
        return cls(socket.create_connection((host, int(port))), socket_type, minor)

    def handshake(self) -> tuple[int, dict]:
        """Greet, send READY, read the peer's greeting and READY.

        Returns:
            the peer's minor version and its READY body.
        """
        ready = command(b"READY", encode_metadata({"Socket-Type": self.socket_type}))
        self.sock.sendall(greeting(self.minor) + frame(0x04, ready))
        peer_greeting = self._read(64)
        flags, body = self.read_frame()
        assert flags & 0x04 and body.startswith(b"\x05READY"), (flags, body)
        return peer_greeting[11], body

    def send(self, flags: int, body: bytes) -> None:
        self.sock.sendall(frame(flags, body))

    def send_command(self, name: bytes, data: bytes = b"") -> None:
        self.send(0x04, command(name, data))

    def read_frame(self, timeout: float = 3.0) -> tuple[int, bytes]:
        """Read one frame; raise socket.timeout when none comes in time."""
        self.sock.settimeout(timeout)
        head = self._read(2)
        flags = head[0]
        if flags & 0x02:
            size = struct.unpack(">Q", head[1:2] + self._read(7))[0]
        else:
            size = head[1]
        return flags, self._read(size)

    def frames(self, quiet: float = 0.3) -> list:
        """Every frame that arrives until ``quiet`` seconds pass without one."""
        out = []
        while True:
            try:
                out.append(self.read_frame(quiet))
            except (socket.timeout, TimeoutError):
                return out

    def closed_by_peer(self, within: float) -> bool:
        """Whether the other side closes the connection within ``within`` s,
        reading (and discarding) whatever arrives meanwhile."""
        deadline = time.monotonic() + within
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                if not self.sock.recv(65536):
                    return True
            except (socket.timeout, TimeoutError):
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True

    def close(self) -> None:
        self.sock.close()

    def _read(self, size: int) -> bytes:
        while len(self._buf) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the peer")
            self._buf += chunk
        data, self._buf = self._buf[:size], self._buf[size:]
        return data
