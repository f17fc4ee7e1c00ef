"""Backends meet each other and libzmq.

A client codec on one backend completes a handshake with a server codec on another,
for every ordered pair, and with randomness replayed every pair puts the very same
bytes on the wire. Then each backend, as client and as server, completes a CURVE
handshake with libzmq through pyzmq over TCP and exchanges messages.
"""

from __future__ import annotations

import itertools
import os
import socket
import time

import pytest

from curvezmq import crypto, z85
from curvezmq.codec import (
    CurveClient,
    CurveServer,
    CurveServerKeys,
    MessageReceived,
)
from curvezmq.zmtp import (
    AuthenticationRequested,
    Connection,
    CurveClientMechanism,
    CurveServerMechanism,
    HandshakeCompleted,
)
from curvezmq.zmtp import MessageReceived as ZmtpMessageReceived
from tests.codec._pipe import Pipe, ReplayRng, keypair
from tests.conftest import backend_or_skip

PAIRS = list(itertools.product(crypto.RANKING, repeat=2))
BIG = bytes(range(256)) * 300  # 76,800 bytes: several Salsa20 four-block runs


def _pipe(client_backend, server_backend) -> Pipe:
    """Fixed keys and replayed randomness: the transcript depends on nothing else."""
    server_pair = keypair(b"interop server")
    client_pair = keypair(b"interop client")
    keys = CurveServerKeys(
        server_pair.public,
        server_pair.secret,
        rng=ReplayRng(seed=b"interop keys"),
        backend=server_backend,
    )
    client = CurveClient(
        public_key=client_pair.public,
        secret_key=client_pair.secret,
        server_key=keys.public_key,
        rng=ReplayRng(seed=b"interop client rng"),
        backend=client_backend,
    )
    server = CurveServer(
        keys, rng=ReplayRng(seed=b"interop server rng"), backend=server_backend
    )
    return Pipe(client, server)


def _converse(pipe: Pipe) -> None:
    pipe.handshake(user_id=b"peer")
    events = pipe.c2s([b"hello", BIG])
    assert [bytes(e.data) for e in events] == [b"hello", BIG]
    assert all(isinstance(e, MessageReceived) for e in events)
    events = pipe.s2c([b"", b"x" * 1024])
    assert [bytes(e.data) for e in events] == [b"", b"x" * 1024]


@pytest.fixture(scope="module")
def reference_transcript():
    """The conversation with libsodium on both sides."""
    sodium = backend_or_skip("libsodium")
    pipe = _pipe(sodium, sodium)
    _converse(pipe)
    return pipe.transcript


@pytest.mark.parametrize(
    ("client_name", "server_name"), PAIRS, ids=[f"{c}-{s}" for c, s in PAIRS]
)
def test_codec_handshake_across_backends(
    client_name, server_name, reference_transcript
):
    pipe = _pipe(backend_or_skip(client_name), backend_or_skip(server_name))
    _converse(pipe)
    assert [name for name, _ in pipe.transcript] == [
        name for name, _ in reference_transcript
    ]
    assert pipe.transcript == reference_transcript


# -- against libzmq ----------------------------------------------------------------

zmq = pytest.importorskip("zmq")

TIMEOUT = 5.0


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def _pump(sock: socket.socket, conn: Connection, until) -> list:
    """Move bytes both ways until ``until(events)``; accept any client."""
    events: list = []
    deadline = time.monotonic() + TIMEOUT
    sock.settimeout(0.02)
    while True:
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        if until(events):
            return events
        assert time.monotonic() < deadline, f"timed out; events so far {events}"
        try:
            data = sock.recv(1 << 20)
        except socket.timeout:
            continue
        assert data, "libzmq closed the connection"
        new = conn.receive_data(data, time.monotonic())
        events.extend(new)
        for event in new:
            if isinstance(event, AuthenticationRequested):
                events.extend(conn.accept(b"user"))


def _done(events) -> bool:
    return any(isinstance(e, HandshakeCompleted) for e in events)


def _received(count: int):
    return lambda events: (
        sum(isinstance(e, ZmtpMessageReceived) for e in events) >= count
    )


@pytest.mark.parametrize("name", crypto.RANKING)
def test_client_on_each_backend_against_libzmq(context, name):
    backend = backend_or_skip(name)
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = backend.keypair()
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    router.rcvtimeo = int(TIMEOUT * 1000)
    router.curve_server = True
    router.curve_secretkey = server_secret
    port = router.bind_to_random_port("tcp://127.0.0.1")

    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        mechanism = CurveClientMechanism(
            client_public, bytes(client_secret), server_public, backend=backend
        )
        conn = Connection("DEALER", mechanism, identity=b"cid")
        conn.start(time.monotonic())
        _pump(sock, conn, _done)

        conn.send_message([b"", BIG])
        _pump(sock, conn, lambda _: True)
        assert router.recv_multipart() == [b"cid", b"", BIG]
        router.send_multipart([b"cid", b"back", os.urandom(3000)])
        events = _pump(sock, conn, _received(1))
        [message] = [e for e in events if isinstance(e, ZmtpMessageReceived)]
        assert message.frames[0] == b"back" and len(message.frames[1]) == 3000


@pytest.mark.parametrize("name", crypto.RANKING)
def test_server_on_each_backend_against_libzmq(context, name):
    backend = backend_or_skip(name)
    server_public, server_secret = backend.keypair()
    client_public, client_secret = zmq.curve_keypair()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    dealer = context.socket(zmq.DEALER)
    dealer.linger = 0
    dealer.rcvtimeo = int(TIMEOUT * 1000)
    dealer.curve_serverkey = z85.encode(server_public)
    dealer.curve_publickey = client_public
    dealer.curve_secretkey = client_secret
    dealer.connect(f"tcp://127.0.0.1:{port}")
    listener.settimeout(TIMEOUT)
    sock, _ = listener.accept()

    with listener, sock:
        keys = CurveServerKeys(server_public, bytes(server_secret), backend=backend)
        conn = Connection("ROUTER", CurveServerMechanism(keys, backend=backend))
        conn.start(time.monotonic())
        events = _pump(sock, conn, _done)
        assert events[0].client_key == z85.decode(client_public)

        dealer.send_multipart([b"a", BIG])
        events = _pump(sock, conn, _received(1))
        [message] = [e for e in events if isinstance(e, ZmtpMessageReceived)]
        assert message.frames == [b"a", BIG]
        conn.send_message([b"reply"])
        _pump(sock, conn, lambda _: True)
        assert dealer.recv_multipart() == [b"reply"]
