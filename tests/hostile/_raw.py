"""A raw attacker: plain ``socket`` connections that speak ZMTP 3.1 and CURVE by hand.

The CURVE side is written straight from PROTOCOL.md with PyNaCl; it shares no code
with curvezmq, so a hostile test never uses our own codec to attack our own codec.
A small TCP relay lets a test watch, capture or tamper the bytes between two real
peers (pyzmq and ours).
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time

import nacl.bindings as nb

from curvezmq.keys import key_bytes

# the box key any low-order public key gives, whatever the secret key; the codec
# tests compute it with a pure-Python HSalsa20, since libsodium refuses to
from tests.codec._nacl_peer import ZERO_SHARED_KEY, hsalsa20  # noqa: F401

# -- ZMTP ---------------------------------------------------------------------------


def greeting(mechanism: bytes = b"CURVE", major: int = 3, minor: int = 1) -> bytes:
    """A 64-byte ZMTP greeting, as-server 0 like libzmq."""
    return (
        b"\xff"
        + bytes(8)
        + b"\x7f"
        + bytes((major, minor))
        + mechanism.ljust(20, b"\0")
        + b"\x00"
        + bytes(31)
    )


GREETING = greeting()


def frame(body: bytes, flags: int = 0, long: bool | None = None) -> bytes:
    """One ZMTP frame; LONG when the body needs it (or when asked)."""
    if long is None:
        long = len(body) > 255
    if long:
        return struct.pack(">BQ", flags | 0x02, len(body)) + body
    return bytes((flags, len(body))) + body


def command(body: bytes) -> bytes:
    return frame(body, flags=0x04)


def endpoint_address(endpoint) -> tuple[str, int]:
    if isinstance(endpoint, bytes):
        endpoint = endpoint.decode()
    host, port = endpoint[len("tcp://") :].rsplit(":", 1)
    return host, int(port)


def connect(endpoint, timeout: float = 3.0) -> socket.socket:
    sock = socket.create_connection(endpoint_address(endpoint), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def recv_exact(sock: socket.socket, n: int) -> bytes:
    """Read exactly n bytes; raises EOFError if the peer closes first."""
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError(f"peer closed after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    flags = recv_exact(sock, 1)[0]
    if flags & 0x02:
        (size,) = struct.unpack(">Q", recv_exact(sock, 8))
    else:
        size = recv_exact(sock, 1)[0]
    return flags, recv_exact(sock, size)


def closed_by_peer(sock: socket.socket, timeout: float = 3.0) -> bool:
    """True when the peer closes (EOF or reset) within timeout; data is skipped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not chunk:
            return True


def send_quietly(sock: socket.socket, data: bytes) -> bool:
    """Send; False when the peer already closed on us."""
    try:
        sock.sendall(data)
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False


# -- CURVE by hand (PROTOCOL.md section 3) ---------------------------------------------


def n8(counter: int) -> bytes:
    return counter.to_bytes(8, "big")


def metadata(**props: bytes) -> bytes:
    out = b""
    for name, value in props.items():
        name = name.replace("_", "-").encode()
        out += bytes((len(name),)) + name + struct.pack(">I", len(value)) + value
    return out


class RawCurveClient:
    """A CURVE client over a raw socket, with every step exposed for tampering.

    ``handshake()`` does greeting, HELLO, WELCOME, INITIATE and READY; afterwards
    ``message_body(...)`` builds MESSAGE bodies with any nonce and flags, and
    ``open_message`` opens the server's.
    """

    def __init__(
        self,
        endpoint,
        server_key,
        public=None,
        secret=None,
        socket_type: bytes = b"REQ",
        timeout: float = 3.0,
    ):
        self.server_key = key_bytes(server_key)
        if public is None:
            public, secret = nb.crypto_box_keypair()
        self.public, self.secret = key_bytes(public), key_bytes(secret)
        self.socket_type = socket_type
        self.sock = connect(endpoint, timeout)
        self.cn_public, self.cn_secret = nb.crypto_box_keypair()
        self.nonce = 1
        self.peer_nonce = 0
        self.key: bytes | None = None
        self.cookie: bytes | None = None
        self.server_cn: bytes | None = None
        self.sent: list[bytes] = []  # every frame we wrote, for replays

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> bool:
        self.sent.append(data)
        return send_quietly(self.sock, data)

    def _next(self) -> bytes:
        nonce = n8(self.nonce)
        self.nonce += 1
        return nonce

    # the handshake, one step at a time

    def send_greeting(self) -> None:
        self.send(GREETING)

    def read_greeting(self) -> bytes:
        return recv_exact(self.sock, 64)

    def hello_body(self) -> bytes:
        nonce = self._next()
        box = nb.crypto_box(
            bytes(64), b"CurveZMQHELLO---" + nonce, self.server_key, self.cn_secret
        )
        return b"\x05HELLO\x01\x00" + bytes(72) + self.cn_public + nonce + box

    def read_welcome(self) -> None:
        _flags, body = read_frame(self.sock)
        assert body[:8] == b"\x07WELCOME", body[:16]
        plain = nb.crypto_box_open(
            body[24:], b"WELCOME-" + body[8:24], self.server_key, self.cn_secret
        )
        self.server_cn, self.cookie = plain[:32], plain[32:]
        self.key = nb.crypto_box_beforenm(self.server_cn, self.cn_secret)

    def initiate_body(self, meta: bytes | None = None) -> bytes:
        if meta is None:
            meta = metadata(Socket_Type=self.socket_type, Identity=b"")
        vouch_tail = os.urandom(16)
        vouch = nb.crypto_box(
            self.cn_public + self.server_key,
            b"VOUCH---" + vouch_tail,
            self.server_cn,
            self.secret,
        )
        nonce = self._next()
        box = nb.crypto_box_afternm(
            self.public + vouch_tail + vouch + meta,
            b"CurveZMQINITIATE" + nonce,
            self.key,
        )
        return b"\x08INITIATE" + self.cookie + nonce + box

    def read_ready(self) -> bytes:
        _flags, body = read_frame(self.sock)
        assert body[:6] == b"\x05READY", body[:16]
        plain = nb.crypto_box_open_afternm(
            body[14:], b"CurveZMQREADY---" + body[6:14], self.key
        )
        self.peer_nonce = int.from_bytes(body[6:14], "big")
        return plain

    def handshake(self) -> None:
        self.send_greeting()
        self.send(command(self.hello_body()))
        self.read_greeting()
        self.read_welcome()
        self.send(command(self.initiate_body()))
        self.read_ready()

    # after the handshake

    def message_body(
        self, data: bytes, flags: int = 0, nonce: int | None = None
    ) -> bytes:
        if nonce is None:
            nonce = self.nonce
            self.nonce += 1
        raw = n8(nonce)
        box = nb.crypto_box_afternm(
            bytes((flags,)) + data, b"CurveZMQMESSAGEC" + raw, self.key
        )
        return b"\x07MESSAGE" + raw + box

    def message_frames(self, parts: list[bytes]) -> bytes:
        out = b""
        for index, part in enumerate(parts):
            more = 0x01 if index < len(parts) - 1 else 0
            out += frame(self.message_body(part, more))
        return out

    def request(self, payload: bytes) -> bytes:
        """What a REQ sends: an empty delimiter, then the body."""
        return self.message_frames([b"", payload])

    def open_message(self, body: bytes) -> tuple[int, bytes]:
        assert body[:8] == b"\x07MESSAGE", body[:16]
        plain = nb.crypto_box_open_afternm(
            body[16:], b"CurveZMQMESSAGES" + body[8:16], self.key
        )
        return plain[0], plain[1:]

    def read_message(self) -> list[tuple[int, bytes]]:
        """Read one whole message (up to a part without inner MORE)."""
        parts = []
        while True:
            _, body = read_frame(self.sock)
            flags, data = self.open_message(body)
            parts.append((flags, data))
            if not flags & 0x01:
                return parts


# -- a relay that watches or tampers ---------------------------------------------------


class Relay:
    """A TCP relay on 127.0.0.1 in front of ``target``.

    Records every byte each way per connection (``up``: client to server, ``down``:
    server to client). ``tamper_down(conn_index, offset)`` flips one byte of the
    server-to-client stream of one connection at that stream offset.
    """

    def __init__(self, target, flip_down: dict | None = None) -> None:
        self.target = endpoint_address(target)
        self.flip_down = dict(flip_down or {})  # connection index -> stream offset
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.up: list[bytearray] = []
        self.down: list[bytearray] = []
        self._stop = False
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            index = len(self.up)
            self.up.append(bytearray())
            self.down.append(bytearray())
            self._socks += [client, server]
            thread = threading.Thread(
                target=self._pump, args=(index, client, server), daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _pump(self, index: int, client: socket.socket, server: socket.socket) -> None:
        socks = [client, server]
        try:
            while not self._stop:
                ready, _, _ = select.select(socks, [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        self.up[index] += data
                        server.sendall(data)
                    else:
                        start = len(self.down[index])
                        flip = self.flip_down.get(index)
                        if flip is not None and start <= flip < start + len(data):
                            data = bytearray(data)
                            data[flip - start] ^= 0x01
                            data = bytes(data)
                        self.down[index] += data
                        client.sendall(data)
        except OSError:
            return
        finally:
            for sock in socks:
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self.listener.close()
        self._accept_thread.join(2)
        for thread in self._threads:
            thread.join(2)
        for sock in self._socks:
            try:
                sock.close()
            except OSError:
                pass


def split_frames(stream: bytes, start: int = 64) -> list[tuple[int, bytes, bytes]]:
    """Split a captured stream after the greeting into (flags, body, raw frame)."""
    out = []
    pos = start
    while pos + 2 <= len(stream):
        flags = stream[pos]
        if flags & 0x02:
            (size,) = struct.unpack_from(">Q", stream, pos + 1)
            head = 9
        else:
            size = stream[pos + 1]
            head = 2
        end = pos + head + size
        if end > len(stream):
            break
        out.append((flags, stream[pos + head : end], stream[pos:end]))
        pos = end
    return out


# -- low-order points ----------------------------------------------------------------
