"""CURVE message and handshake rates: curvezmq against libzmq (through pyzmq).

Everything is measured in the same run, over 127.0.0.1, with the two ends in two
processes started from this file:

- messages per second, PUSH to PULL, one part of 64 B, 1 KiB and 64 KiB, for
  curvezmq's blocking API (``curvezmq.zmq``) on both sides, curvezmq's asyncio API
  (``curvezmq.zmq.asyncio``, ``await send`` in a tight loop) on both sides, and
  libzmq (pyzmq) on both sides. The receiver (a CURVE server, bound) takes its
  first message, lets a short warm-up pass, then counts what arrives for
  ``--seconds`` (or ``--count`` messages, whichever comes first); the sender
  sends as fast as its API lets it until it is stopped.
- handshakes per second, one at a time: a REQ client process makes a socket,
  connects to a CURVE REP server, does one round trip, closes the socket
  (LINGER 0), and again, for ``--seconds`` (or ``--handshakes`` of them).

All figures are taken in ``--runs`` interleaved rounds (2), keeping the best of
each: shared VMs move by tens of percent between runs. Each curvezmq figure is
printed with its ratio to libzmq's from the same run, and
DESIGN.md's targets: at least 0.5 of libzmq at 64 B, at least 1.0 from 1 KiB up,
at least 1.0 for handshakes. Between two curvezmq peers compact framing
(``CURVE_COMPACT``) is on, as by default.

Nothing here can hang: every child has a hard deadline of its own and exits when
this process goes away (its stdin closes), every wait on a child is bounded, and
every child still running is killed on exit.

Usage::

    python bench/throughput.py                  # everything, 2 s per figure
    python bench/throughput.py --seconds 1 --only libzmq curvezmq
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import queue
import signal
import subprocess
import sys
import threading
import time

SIZES = (64, 1024, 64 * 1024)
IMPLS = ("curvezmq", "curvezmq-asyncio", "libzmq")
WARM_UP = 0.3  # seconds of traffic the receiver lets pass before it counts
CONNECT_TIMEOUT_MS = 10_000  # first message or handshake
STALL_TIMEOUT_MS = 5_000  # any later wait
# (size or "handshake") -> the minimum ratio to libzmq, DESIGN.md
TARGETS = {64: 0.5, 1024: 1.0, 64 * 1024: 1.0, "handshake": 1.0}
# libzmq on the 2-core reference machine, DESIGN.md
REFERENCE = {64: "828 k/s", 1024: "275 k/s", 64 * 1024: "15 k/s", "handshake": "604/s"}


# -- in the child processes ---------------------------------------------------------


def _guard(deadline: float) -> None:
    """Exit this child when its parent goes (stdin closes) or at its deadline."""

    def watch_stdin() -> None:
        try:
            sys.stdin.buffer.read()
        finally:
            os._exit(3)

    def watch_clock() -> None:
        time.sleep(deadline)
        print("error hard deadline reached", flush=True)
        os._exit(4)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=watch_clock, daemon=True).start()


def _module(impl: str):
    if impl == "libzmq":
        import zmq

        if not zmq.has("curve"):
            raise SystemExit("error this libzmq has no CURVE")
        return zmq
    if impl == "curvezmq-asyncio":
        import curvezmq.zmq.asyncio as zaio

        return zaio
    from curvezmq import zmq

    return zmq


def _server_socket(zmq, ctx, kind: int):
    public, secret = _keypair()
    sock = ctx.socket(kind)
    sock.curve_server = True
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.linger = 0
    sock.bind("tcp://127.0.0.1:*")
    endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
    if isinstance(endpoint, bytes):
        endpoint = endpoint.decode()
    if isinstance(public, bytes):
        public = public.decode()
    return sock, endpoint, public


def _client_socket(zmq, ctx, kind: int, server_key: str, keys):
    sock = ctx.socket(kind)
    sock.curve_serverkey = server_key.encode()
    sock.curve_publickey, sock.curve_secretkey = keys
    sock.linger = 0
    return sock


def _keypair():
    # curvezmq.zmq.asyncio has no curve_keypair of its own (pyzmq's zmq.asyncio
    # neither); libzmq's keys work for both
    import curvezmq.zmq

    return curvezmq.zmq.curve_keypair()


def _context(impl: str, zmq):
    return zmq.Context()


def _batch(size: int) -> int:
    # messages between clock reads: about 1 ms at the fastest rates
    return max(1, min(256, (1 << 20) // size))


def receiver(impl: str, size: int, seconds: float, count: int) -> None:
    """Bind a CURVE PULL, print its endpoint and key, count messages, print the
    rate."""
    zmq = _module(impl)
    ctx = _context(impl, zmq)
    kind = zmq.PULL
    batch = _batch(size)

    def report(n: int, elapsed: float) -> None:
        print(f"result {n} {elapsed:.6f}", flush=True)
        os._exit(0)

    if impl != "curvezmq-asyncio":
        sock, endpoint, public = _server_socket(zmq, ctx, kind)
        print(f"ready {endpoint} {public}", flush=True)
        sock.rcvtimeo = CONNECT_TIMEOUT_MS
        recv = sock.recv
        recv()
        sock.rcvtimeo = STALL_TIMEOUT_MS
        clock = time.monotonic
        start = clock()
        while clock() - start < WARM_UP:
            for _ in range(batch):
                recv()
        n = 0
        start = clock()
        end = start + seconds
        while n < count:
            for _ in range(batch):
                recv()
            n += batch
            now = clock()
            if now >= end:
                break
        report(n, now - start)

    async def run() -> None:
        sock, endpoint, public = _server_socket(zmq, ctx, kind)
        print(f"ready {endpoint} {public}", flush=True)
        sock.rcvtimeo = CONNECT_TIMEOUT_MS
        recv = sock.recv
        await recv()
        sock.rcvtimeo = STALL_TIMEOUT_MS
        clock = time.monotonic
        start = clock()
        while clock() - start < WARM_UP:
            for _ in range(batch):
                await recv()
        n = 0
        start = clock()
        end = start + seconds
        while n < count:
            for _ in range(batch):
                await recv()
            n += batch
            now = clock()
            if now >= end:
                break
        report(n, now - start)

    asyncio.run(run())


def sender(impl: str, size: int, endpoint: str, server_key: str, count: int) -> None:
    """Connect a CURVE PUSH and send as fast as the API lets us until stopped
    (killed, or a send that cannot go on for STALL_TIMEOUT_MS once the receiver
    has gone)."""
    zmq = _module(impl)
    ctx = _context(impl, zmq)
    payload = b"\x5a" * size
    keys = _keypair()
    batch = _batch(size)

    if impl != "curvezmq-asyncio":
        sock = _client_socket(zmq, ctx, zmq.PUSH, server_key, keys)
        sock.sndtimeo = STALL_TIMEOUT_MS
        sock.connect(endpoint)
        send = sock.send
        n = 0
        try:
            while n < count:
                for _ in range(batch):
                    send(payload)
                n += batch
        except zmq.Again:
            pass
        os._exit(0)

    async def run() -> None:
        sock = _client_socket(zmq, ctx, zmq.PUSH, server_key, keys)
        sock.sndtimeo = STALL_TIMEOUT_MS
        sock.connect(endpoint)
        send = sock.send
        n = 0
        try:
            while n < count:
                for _ in range(batch):
                    await send(payload)
                n += batch
        except zmq.Again:
            pass
        os._exit(0)

    asyncio.run(run())


def echo_server(impl: str) -> None:
    """Bind a CURVE REP, print its endpoint and key, answer until stopped."""
    zmq = _module(impl)
    ctx = _context(impl, zmq)
    if impl != "curvezmq-asyncio":
        sock, endpoint, public = _server_socket(zmq, ctx, zmq.REP)
        print(f"ready {endpoint} {public}", flush=True)
        while True:
            sock.send(sock.recv())

    async def run() -> None:
        sock, endpoint, public = _server_socket(zmq, ctx, zmq.REP)
        print(f"ready {endpoint} {public}", flush=True)
        while True:
            await sock.send(await sock.recv())

    asyncio.run(run())


def handshaker(
    impl: str, endpoint: str, server_key: str, seconds: float, count: int
) -> None:
    """Connect, one round trip, close, again: print the handshakes per second."""
    zmq = _module(impl)
    ctx = _context(impl, zmq)
    keys = _keypair()

    def report(n: int, elapsed: float) -> None:
        print(f"result {n} {elapsed:.6f}", flush=True)
        os._exit(0)

    def once_blocking() -> None:
        sock = _client_socket(zmq, ctx, zmq.REQ, server_key, keys)
        sock.rcvtimeo = STALL_TIMEOUT_MS
        sock.sndtimeo = STALL_TIMEOUT_MS
        sock.connect(endpoint)
        try:
            sock.send(b"x")
            sock.recv()
        finally:
            sock.close()

    if impl != "curvezmq-asyncio":
        for _ in range(3):  # warm-up
            once_blocking()
        n = 0
        start = time.monotonic()
        end = start + seconds
        while n < count:
            once_blocking()
            n += 1
            now = time.monotonic()
            if now >= end:
                break
        report(n, now - start)

    async def once() -> None:
        sock = _client_socket(zmq, ctx, zmq.REQ, server_key, keys)
        sock.rcvtimeo = STALL_TIMEOUT_MS
        sock.sndtimeo = STALL_TIMEOUT_MS
        sock.connect(endpoint)
        try:
            await sock.send(b"x")
            await sock.recv()
        finally:
            sock.close()

    async def run() -> None:
        for _ in range(3):
            await once()
        n = 0
        start = time.monotonic()
        end = start + seconds
        while n < count:
            await once()
            n += 1
            now = time.monotonic()
            if now >= end:
                break
        report(n, now - start)

    asyncio.run(run())


# -- in the parent process ------------------------------------------------------------

_children: list[subprocess.Popen] = []


def _kill_all() -> None:
    for proc in _children:
        if proc.poll() is None:
            proc.kill()
    for proc in _children:
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            pass
    _children.clear()


class Child:
    """A child process of this file; its stdout lines come through a queue so
    that every read has a timeout."""

    def __init__(self, deadline: float, *args: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--deadline",
                str(deadline),
                *args,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        _children.append(self.proc)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.decode(errors="replace").strip())
        self.lines.put(None)

    def line(self, timeout: float) -> list[str]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"no answer within {timeout:.0f} s") from None
        if line is None:
            raise RuntimeError(f"exited with {self.proc.wait(2)} before answering")
        words = line.split()
        if not words or words[0] == "error":
            raise RuntimeError(line or "empty line")
        return words

    def said(self) -> str:
        """Whatever the child printed and nobody read, for an error message."""
        lines = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line:
                lines.append(line)
        return " | ".join(lines) or "nothing"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.stdin:
            self.proc.stdin.close()
        if self.proc in _children:
            _children.remove(self.proc)


def _rate(words: list[str]) -> float:
    _, n, elapsed = words
    return int(n) / float(elapsed)


def measure_messages(impl: str, size: int, seconds: float, count: int) -> float:
    deadline = seconds + 20
    rx = Child(
        deadline, "--role", "receiver", impl, str(size), str(seconds), str(count)
    )
    tx = None
    try:
        _, endpoint, key = rx.line(10)
        tx = Child(
            deadline, "--role", "sender", impl, str(size), endpoint, key, str(count)
        )
        try:
            return _rate(rx.line(seconds + WARM_UP + 15))
        except RuntimeError as exc:
            raise RuntimeError(f"receiver: {exc}; sender: {tx.said()}") from None
    finally:
        rx.stop()
        if tx is not None:
            tx.stop()


def measure_handshakes(impl: str, seconds: float, count: int) -> float:
    deadline = seconds + 20
    server = Child(deadline, "--role", "echo", impl)
    client = None
    try:
        _, endpoint, key = server.line(10)
        client = Child(
            deadline,
            "--role",
            "handshaker",
            impl,
            endpoint,
            key,
            str(seconds),
            str(count),
        )
        try:
            return _rate(client.line(seconds + 15))
        except RuntimeError as exc:
            raise RuntimeError(f"client: {exc}; server: {server.said()}") from None
    finally:
        server.stop()
        if client is not None:
            client.stop()


def _fmt(rate: float | None) -> str:
    if rate is None:
        return "failed"
    if rate >= 10_000:
        return f"{rate / 1000:,.0f} k/s"
    if rate >= 1000:
        return f"{rate / 1000:,.1f} k/s"
    return f"{rate:,.0f}/s"


def _child(role: str, t: list[str]) -> None:
    if role == "receiver":
        receiver(t[0], int(t[1]), float(t[2]), int(t[3]))
    elif role == "sender":
        sender(t[0], int(t[1]), t[2], t[3], int(t[4]))
    elif role == "echo":
        echo_server(t[0])
    elif role == "handshaker":
        handshaker(t[0], t[1], t[2], float(t[3]), int(t[4]))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per figure (2)")
    parser.add_argument(
        "--count", type=int, default=5_000_000, help="most messages per figure"
    )
    parser.add_argument(
        "--handshakes", type=int, default=20_000, help="most handshakes per figure"
    )
    parser.add_argument(
        "--runs", type=int, default=2, help="rounds, the best of each figure kept (2)"
    )
    parser.add_argument("--only", nargs="+", choices=IMPLS, help="implementations")
    parser.add_argument("--no-handshakes", action="store_true")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    parser.add_argument("target", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.role:
        _guard(args.deadline or 60)
        t = args.target
        try:
            _child(args.role, t)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            print(f"error {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
            os._exit(1)
        os._exit(0)

    atexit.register(_kill_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    impls = [i for i in IMPLS if not args.only or i in args.only]
    rows = [*SIZES] + ([] if args.no_handshakes else ["handshake"])
    results: dict = {}
    errors = []
    print(
        f"CURVE over 127.0.0.1, two processes, {args.seconds:g} s per figure, "
        f"{args.runs} rounds; "
        f"curvezmq backend: {_backend()}",
        flush=True,
    )
    for run in range(1, args.runs + 1):
        for row in rows:
            for impl in impls:
                try:
                    if row == "handshake":
                        rate = measure_handshakes(impl, args.seconds, args.handshakes)
                    else:
                        rate = measure_messages(impl, row, args.seconds, args.count)
                except RuntimeError as exc:
                    rate = None
                    errors.append(f"run {run}, {impl}, {_label(row)}: {exc}")
                best = results.get((impl, row))
                if rate is not None and (best is None or rate > best):
                    results[(impl, row)] = rate
                print(
                    f"  run {run}  {_label(row):>12}  {impl:17} {_fmt(rate):>10}",
                    flush=True,
                )

    print()
    print(
        f"{'':18}"
        + "".join(f"{impl:>20}" for impl in impls)
        + f"{'target':>9}{'libzmq ref.':>13}"
    )
    for row in rows:
        base = results.get(("libzmq", row))
        cells = []
        for impl in impls:
            rate = results.get((impl, row))
            cell = _fmt(rate)
            if impl != "libzmq" and rate and base:
                cell += f" ({rate / base:.2f})"
            cells.append(f"{cell:>20}")
        print(
            f"{_label(row):18}"
            + "".join(cells)
            + f"{'>= ' + format(TARGETS[row], '.1f'):>9}{REFERENCE[row]:>13}"
        )
    print(
        f"best of {args.runs} interleaved rounds; "
        "(ratio) = curvezmq / libzmq in this run; target: DESIGN.md's minimum ratio; "
        "libzmq ref.: libzmq on DESIGN.md's 2-core reference machine"
    )
    for error in errors:
        print("error:", error)


def _label(row) -> str:
    if row == "handshake":
        return "handshakes"
    return f"{row // 1024} KiB msgs" if row >= 1024 else f"{row} B msgs"


def _backend() -> str:
    try:
        import curvezmq

        return str(curvezmq.backend)
    except Exception as exc:  # noqa: BLE001 - only a label
        return f"unavailable ({exc})"


if __name__ == "__main__":
    main()
