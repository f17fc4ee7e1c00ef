"""Memory per CURVE connection: curvezmq's server against libzmq's (through pyzmq).

For each server and each state, a fresh server process binds a CURVE ROUTER on
127.0.0.1 with HANDSHAKE_IVL 0 (so no connection is timed out while we count), and
a separate client process (so that its own memory never counts) opens the
connections one by one with a raw ZMTP client driven by curvezmq's codec, the same
bytes for both servers:

- ``welcome``: greeting and HELLO sent, WELCOME read; the server now waits for
  INITIATE. A server that keeps no state before proof pays only for the socket.
  curvezmq caps the handshakes pending per endpoint (MAX_HANDSHAKES, about a
  thousand by default), evicting the least advanced; the bench raises the cap to
  the number of connections so that every one is counted.
- ``ready``: the whole handshake (INITIATE sent, READY read), then nothing more:
  idle authenticated connections.

The figure is the server process's resident set size (psutil) after the
connections, minus before, divided by their number. Before is taken after a
warm-up of a few whole handshakes (connected, then closed), so that both servers
have paid for their first connection's one-time allocations. RSS moves in pages
and allocators keep freed memory, so the figures are good to a few percent at
1,000 connections; run with more for finer ones.

Usage::

    python bench/memory.py                    # 1,000 connections, both servers
    python bench/memory.py --connections 2000 --only curvezmq
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import struct
import subprocess
import sys
import time

# the same raw client bytes for both servers: a DEALER with an empty Identity
_METADATA = b"\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x00"
_GREETING = b"\xff" + bytes(8) + b"\x7f\x03\x01" + b"CURVE".ljust(20, b"\0") + bytes(32)
_WARM_UP = 20
_SETTLE = 1.0  # seconds for the server to finish what the last bytes started
_STATES = ("welcome", "ready")
_SERVERS = ("curvezmq", "libzmq")
# libzmq's figure on the 2-core reference machine (DESIGN.md)
_LIBZMQ_REFERENCE_KIB = 28.4


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- the server process -----------------------------------------------------------


def serve(kind: str, count: int) -> None:
    """Bind a CURVE ROUTER, print its endpoint and key, serve until stdin closes."""
    _raise_fd_limit()
    if kind == "curvezmq":
        from curvezmq import zmq
    else:
        import zmq
    public, secret = zmq.curve_keypair()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.curve_server = True
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.handshake_ivl = 0
    sock.linger = 0
    if kind == "curvezmq":
        sock.setsockopt(zmq.MAX_HANDSHAKES, count + _WARM_UP)
    sock.bind("tcp://127.0.0.1:*")
    endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
    if isinstance(endpoint, bytes):
        endpoint = endpoint.decode()
    print(endpoint, public.decode(), flush=True)
    sys.stdin.read()
    sock.close()
    ctx.term()


# -- the client process -----------------------------------------------------------


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        chunk = sock.recv(size - len(out))
        if not chunk:
            raise EOFError(f"the server closed after {len(out)} of {size} bytes")
        out += chunk
    return bytes(out)


def _read_frame(sock: socket.socket) -> bytes:
    flags = _recv_exact(sock, 1)[0]
    if flags & 0x02:
        (size,) = struct.unpack(">Q", _recv_exact(sock, 8))
    else:
        size = _recv_exact(sock, 1)[0]
    return _recv_exact(sock, size)


def _command_frame(body: bytes) -> bytes:
    if len(body) > 255:
        return struct.pack(">BQ", 0x06, len(body)) + body
    return bytes((0x04, len(body))) + body


def _open(host: str, port: int, server_key: bytes, state: str, client_keys):
    from curvezmq.codec import CurveClient

    public, secret = client_keys
    codec = CurveClient(
        public_key=public, secret_key=secret, server_key=server_key, metadata=_METADATA
    )
    sock = socket.create_connection((host, port), timeout=10)
    codec.start(0.0)
    [hello] = codec.data_to_send()
    sock.sendall(_GREETING + _command_frame(hello))
    _recv_exact(sock, 64)
    codec.receive(_read_frame(sock), 0.0)
    if state == "ready":
        [initiate] = codec.data_to_send()
        sock.sendall(_command_frame(initiate))
        codec.receive(_read_frame(sock), 0.0)
        assert codec.is_established
    codec.close()
    return sock


def clients(endpoint: str, server_key: str, count: int, state: str) -> None:
    """Open ``count`` connections up to ``state``, say so, hold them until stdin
    closes."""
    from curvezmq.keys import curve_keypair

    _raise_fd_limit()
    host, port = endpoint[len("tcp://") :].rsplit(":", 1)
    keys = curve_keypair()
    socks = []
    try:
        for _ in range(count):
            socks.append(_open(host, int(port), server_key.encode(), state, keys))
    except (OSError, EOFError, ValueError) as exc:
        print("failed", len(socks), exc, flush=True)
        return
    print("done", len(socks), flush=True)
    sys.stdin.read()
    for sock in socks:
        sock.close()


# -- the measurement --------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _run_clients(endpoint: str, key: str, count: int, state: str, label: str):
    proc = _spawn("--clients", str(count), "--state", state, endpoint, key)
    line = proc.stdout.readline()
    if not line.startswith("done"):
        proc.kill()
        raise RuntimeError(f"{label}: the client process failed: {line.strip()!r}")
    return proc


def _finish(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(30)


def measure(kind: str, state: str, count: int) -> float:
    """Return the server's RSS growth per connection, in bytes."""
    import psutil

    server = _spawn("--serve", kind, "--connections", str(count))
    try:
        endpoint, key = server.stdout.readline().split()
        rss = psutil.Process(server.pid).memory_info

        # warm-up: whole handshakes, then closed
        label = f"{kind} server, warm-up"
        _finish(_run_clients(endpoint, key, _WARM_UP, "ready", label))
        time.sleep(_SETTLE)
        before = rss().rss

        holder = _run_clients(endpoint, key, count, state, f"{kind} server, {state}")
        time.sleep(_SETTLE)
        after = rss().rss
        _finish(holder)
    finally:
        _finish(server)
    return (after - before) / count


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--only", choices=_SERVERS)
    parser.add_argument("--serve", choices=_SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", choices=_STATES, help=argparse.SUPPRESS)
    parser.add_argument("target", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.connections)
        return
    if args.clients is not None:
        clients(*args.target, args.clients, args.state)
        return

    servers = [args.only] if args.only else list(_SERVERS)
    count = args.connections
    results = {}
    print(f"RSS growth per connection, {count} connections, server process only")
    print(f"{'server':10} {'waiting for INITIATE':>22} {'idle, authenticated':>22}")
    for kind in servers:
        row = [measure(kind, state, count) / 1024 for state in _STATES]
        results[kind] = row
        print(f"{kind:10} {row[0]:>18.1f} KiB {row[1]:>18.1f} KiB", flush=True)
    if len(results) == 2:
        ours, theirs = results["curvezmq"], results["libzmq"]
        ratios = [o / t if t > 0 else float("nan") for o, t in zip(ours, theirs)]
        print(f"{'ratio':10} {ratios[0]:>22.2f} {ratios[1]:>22.2f}")
        print(
            f"target (DESIGN.md): idle authenticated at most half of libzmq's "
            f"(reference machine: libzmq {_LIBZMQ_REFERENCE_KIB} KiB), ratio <= 0.50"
        )


if __name__ == "__main__":
    main()
