"""Helpers for the codec tests: deterministic randomness and a pipe that moves command
bodies between a client codec and a server codec in memory.

Other layers' tests may import these (``from tests.codec._pipe import Pipe``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional

from curvezmq.codec import (
    AuthenticationRequested,
    CurveClient,
    CurveServer,
    CurveServerKeys,
)
from curvezmq.crypto import get_backend


class ReplayRng:
    """An rng that first replays given chunks, then yields deterministic bytes.

    Each call ``rng(n)`` takes the next queued chunk (which must be n bytes long),
    or, when the queue is empty, n bytes of a SHA-256 stream seeded with ``seed``.
    """

    def __init__(self, *chunks: bytes, seed: bytes = b"curvezmq tests") -> None:
        self.queue = list(chunks)
        self.seed = seed
        self.counter = 0
        self.calls: list[int] = []

    def __call__(self, size: int) -> bytes:
        self.calls.append(size)
        if self.queue:
            chunk = self.queue.pop(0)
            assert len(chunk) == size, f"replayed {len(chunk)} bytes for rng({size})"
            return chunk
        out = b""
        while len(out) < size:
            block = self.seed + self.counter.to_bytes(8, "big")
            out += hashlib.sha256(block).digest()
            self.counter += 1
        return out[:size]


@dataclass
class KeyPair:
    public: bytes
    secret: bytes


def keypair(seed: Optional[bytes] = None) -> KeyPair:
    """A long-term key pair, random or derived from ``seed``."""
    backend = get_backend()
    if seed is None:
        public, secret = backend.keypair()
        return KeyPair(public, bytes(secret))
    secret = hashlib.sha256(b"keypair " + seed).digest()
    return KeyPair(backend.scalarmult_base(secret), secret)


@dataclass
class Pipe:
    """A client and a server codec joined in memory.

    ``flush()`` moves every queued handshake body across until both sides are quiet,
    recording each body in ``transcript`` and each event in ``client_events`` /
    ``server_events``. A RemoteProtocolError propagates to the test.
    """

    client: CurveClient
    server: CurveServer
    now: float = 0.0
    transcript: list = field(default_factory=list)
    client_events: list = field(default_factory=list)
    server_events: list = field(default_factory=list)

    def flush(self) -> None:
        moved = True
        while moved:
            moved = False
            for body in self.client.data_to_send():
                moved = True
                self.transcript.append(("c2s", bytes(body)))
                self.server_events += self.server.receive(body, self.now)
            for body in self.server.data_to_send():
                moved = True
                self.transcript.append(("s2c", bytes(body)))
                self.client_events += self.client.receive(body, self.now)

    def handshake(self, *, user_id: bytes = b"", metadata=None) -> None:
        """Run the whole handshake; the server accepts the client."""
        self.client.start(self.now)
        self.flush()
        assert isinstance(self.server_events[-1], AuthenticationRequested)
        self.server_events += self.server.accept(user_id, metadata)
        self.flush()
        assert self.client.is_established and self.server.is_established

    def c2s(self, frames, command: bool = False) -> list:
        """Seal frames on the client, open them on the server; the server's events."""
        events = []
        for body in self.client.send_message(frames, command):
            self.transcript.append(("c2s", bytes(body)))
            events += self.server.receive(body, self.now)
        return events

    def s2c(self, frames, command: bool = False) -> list:
        """Seal frames on the server, open them on the client; the client's events."""
        events = []
        for body in self.server.send_message(frames, command):
            self.transcript.append(("s2c", bytes(body)))
            events += self.client.receive(body, self.now)
        return events

    def bodies(self, name: bytes) -> list[bytes]:
        """Every transcript body whose command name is ``name``."""
        head = bytes((len(name),)) + name
        return [body for _, body in self.transcript if body.startswith(head)]


def make_pipe(
    *,
    client_rng=None,
    server_rng=None,
    keys: Optional[CurveServerKeys] = None,
    server_key: Optional[bytes] = None,
    client_metadata=b"",
    server_metadata=b"",
    drop_invalid: bool = False,
    backend=None,
    seed: bytes = b"pipe",
    **server_kwargs,
) -> Pipe:
    """A client and a server with fresh long-term keys, deterministic by default."""
    backend = backend or get_backend()
    server_pair = keypair(seed + b" server")
    client_pair = keypair(seed + b" client")
    if keys is None:
        keys = CurveServerKeys(
            server_pair.public,
            server_pair.secret,
            rng=ReplayRng(seed=seed + b" keys"),
            backend=backend,
        )
    client = CurveClient(
        public_key=client_pair.public,
        secret_key=client_pair.secret,
        server_key=server_key if server_key is not None else keys.public_key,
        metadata=client_metadata,
        drop_invalid=drop_invalid,
        rng=client_rng or ReplayRng(seed=seed + b" client rng"),
        backend=backend,
    )
    server = CurveServer(
        keys,
        metadata=server_metadata,
        drop_invalid=drop_invalid,
        rng=server_rng or ReplayRng(seed=seed + b" server rng"),
        backend=backend,
        **server_kwargs,
    )
    return Pipe(client, server)


def established(**kwargs) -> Pipe:
    """A pipe whose handshake is complete."""
    pipe = make_pipe(**kwargs)
    pipe.handshake()
    return pipe
