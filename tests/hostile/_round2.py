"""Helpers for the second round of hostile tests: a raw CURVE client that offers
compact framing (docs/extensions.md) and seals compact MESSAGEs by hand with
PyNaCl, and a raw server that answers certificate fetches with whatever a test
wants. Nothing here uses curvezmq's own codec."""

from __future__ import annotations

import socket
import threading
import time

import nacl.bindings as nb

from ._raw import RawCurveClient, command, frame, metadata, n8


class RawCompactClient(RawCurveClient):
    """A raw CURVE client whose INITIATE carries ``X-CurveZMQ-Framing`` (any
    value, any spelling) and that can seal compact MESSAGE bodies."""

    def handshake_with(self, extra: bytes = b"", **props: bytes) -> bytes:
        """Greeting, HELLO, WELCOME, INITIATE with these extra properties (and
        ``extra``, already encoded, after them), READY; returns READY's
        plaintext metadata."""
        self.send_greeting()
        self.send(command(self.hello_body()))
        self.read_greeting()
        self.read_welcome()
        meta = metadata(Socket_Type=self.socket_type) + metadata(**props) + extra
        self.send(command(self.initiate_body(meta)))
        return self.read_ready()

    def compact_body(
        self, data: bytes, flags: int = 0, nonce: int | None = None
    ) -> bytes:
        if nonce is None:
            nonce = self.nonce
            self.nonce += 1
        return nb.crypto_box_afternm(
            bytes((flags,)) + data, b"CurveZMQMESSAGEC" + n8(nonce), self.key
        )

    def compact_frames(self, parts: list[bytes]) -> bytes:
        out = b""
        for index, part in enumerate(parts):
            more = 0x01 if index < len(parts) - 1 else 0
            out += frame(self.compact_body(part, more))
        return out

    def open_compact(self, body: bytes) -> tuple[int, bytes]:
        self.peer_nonce += 1
        plain = nb.crypto_box_open_afternm(
            body, b"CurveZMQMESSAGES" + n8(self.peer_nonce), self.key
        )
        return plain[0], plain[1:]


class FetchServer:
    """A listening socket that answers every connection with ``answer`` (bytes,
    sent after reading up to 64 bytes), optionally trickled, then closes (or
    holds the connection open when ``hold``)."""

    def __init__(self, answer: bytes, trickle: float = 0.0, hold: bool = False):
        self.answer = answer
        self.trickle = trickle
        self.hold = hold
        self.connections = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.listener.settimeout(0.1)
        self.endpoint = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self._stop = False
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(2)
            try:
                conn.recv(64)
                if self.trickle:
                    for i in range(len(self.answer)):
                        if self._stop:
                            break
                        conn.sendall(self.answer[i : i + 1])
                        time.sleep(self.trickle)
                else:
                    conn.sendall(self.answer)
            except OSError:
                pass
            if self.hold:
                self._held.append(conn)
            else:
                conn.close()

    def close(self) -> None:
        self._stop = True
        self.listener.close()
        self._thread.join(3)
        for conn in self._held:
            conn.close()
