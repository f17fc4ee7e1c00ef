"""The ``curvezmq`` command: key pairs, backend information, and a demo.

``curvezmq keygen`` prints a new key pair; ``curvezmq info`` the version and the
crypto backends; ``curvezmq demo`` runs a CURVE server and client over 127.0.0.1
with fresh keys, the client admitted by a key policy, and reports the handshake
time and the round-trip rate. ``--peer pyzmq`` puts libzmq (through pyzmq) on the
server side. This module is the only one in curvezmq that prints.

Exit codes: 0 success, 1 the demo failed, 2 bad usage or a missing optional
dependency.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import threading
import time
from collections.abc import Sequence

import curvezmq

from . import crypto
from .auth import AllowKeys
from .keys import curve_keypair

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# How long the demo waits for any one reply before it gives up, in milliseconds:
# long enough for a loaded CI machine, short enough that a broken peer fails fast.
_DEMO_TIMEOUT_MS = 10_000


class DemoError(Exception):
    """The demo could not complete; the message says why."""


def _keygen(args: argparse.Namespace) -> int:
    public, secret = curve_keypair()
    print(f"public: {public.decode()}")
    print(f"secret: {secret.decode()}")
    return EXIT_OK


def _info(args: argparse.Namespace) -> int:
    print(f"curvezmq {curvezmq.__version__}")
    print(f"python {sys.version.split()[0]}")
    available = crypto.available()
    print(f"default backend: {curvezmq.backend}")
    for name in crypto.RANKING:
        if name in available:
            speed = crypto.quick_speed(name)
            # a few milliseconds of work: an order of magnitude, not a benchmark
            # (bench/crypto.py measures properly)
            print(
                f"backend {name}: available ({speed['x25519_per_s']:,.0f} X25519/s, "
                f"{speed['box_1k_mib_per_s']:,.0f} MiB/s sealing 1 KiB boxes)"
            )
        else:
            why = crypto.unavailable_reasons().get(name, "unknown reason")
            print(f"backend {name}: unavailable ({why})")
    try:
        import zmq as pyzmq
    except ImportError:
        print("pyzmq: not installed (demo --peer pyzmq needs it)")
    else:
        print(f"pyzmq {pyzmq.pyzmq_version()} with libzmq {pyzmq.zmq_version()}")
    return EXIT_OK


# -- the demo ------------------------------------------------------------------------


async def _client_round_trips(
    context, server_public: bytes, client: tuple, endpoint: str, count: int, size: int
) -> tuple[float, float, float]:
    """Connect a CURVE REQ client and run ``count`` round trips.

    Returns:
        (handshake seconds, first round trip seconds, seconds for the rest).
    """
    from .zmq import REQ, Again

    sock = context.socket(REQ)
    sock.curve_serverkey = server_public
    sock.curve_publickey, sock.curve_secretkey = client
    sock.rcvtimeo = _DEMO_TIMEOUT_MS
    sock.linger = 0
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    try:
        started = time.perf_counter()
        sock.connect(endpoint)
        await sock.send(payload)
        try:
            reply = await sock.recv()
        except Again:
            raise DemoError(
                f"no reply within {_DEMO_TIMEOUT_MS} ms: the handshake failed "
                "(see the warnings above)"
            ) from None
        first = time.perf_counter() - started
        if reply != payload:
            raise DemoError("the first reply differs from the request")
        handshake = sock._engine.connecters[0].last_handshake_time or 0.0

        started = time.perf_counter()
        for _ in range(count - 1):
            await sock.send(payload)
            if await sock.recv() != payload:
                raise DemoError("a reply differs from its request")
        return handshake, first, time.perf_counter() - started
    finally:
        sock.close(linger=0)


async def _demo_ours(count: int, size: int) -> tuple[str, tuple]:
    from .zmq import REP
    from .zmq.asyncio import Context

    server_public, server_secret = curve_keypair()
    client = curve_keypair()
    context = Context()
    context.curve_policy = AllowKeys([client[0]])
    server = context.socket(REP)
    server.curve_server = True
    server.curve_secretkey = server_secret
    server.linger = 0
    port = server.bind_to_random_port("tcp://127.0.0.1")

    async def serve() -> None:
        for _ in range(count):
            await server.send(await server.recv())

    task = asyncio.ensure_future(serve())
    try:
        timings = await _client_round_trips(
            context, server_public, client, f"tcp://127.0.0.1:{port}", count, size
        )
        await asyncio.wait_for(task, _DEMO_TIMEOUT_MS / 1000)
    finally:
        task.cancel()
        context.destroy(linger=0)
        await context.wait_closed()
    return "curvezmq", timings


class _KeyCallback:
    # pyzmq's credentials provider: admit exactly one client key
    def __init__(self, allowed_z85: bytes) -> None:
        self.allowed = allowed_z85

    def callback(self, domain: str, key: bytes) -> bool:
        # pyzmq hands over the client key as Z85 text
        return key == self.allowed


async def _demo_pyzmq(count: int, size: int) -> tuple[str, tuple]:
    import zmq as pyzmq
    from zmq.auth.thread import ThreadAuthenticator

    from .zmq.asyncio import Context

    server_public, server_secret = curve_keypair()
    client = curve_keypair()
    pctx = pyzmq.Context()
    auth = ThreadAuthenticator(pctx)
    auth.start()
    auth.configure_curve_callback("*", credentials_provider=_KeyCallback(client[0]))
    server = pctx.socket(pyzmq.REP)
    server.curve_server = True
    server.curve_secretkey = server_secret
    server.curve_publickey = server_public
    server.rcvtimeo = _DEMO_TIMEOUT_MS
    server.linger = 0
    port = server.bind_to_random_port("tcp://127.0.0.1")
    errors: list = []

    def serve() -> None:
        try:
            for _ in range(count):
                server.send(server.recv())
        except pyzmq.ZMQError as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve, name="pyzmq-server", daemon=True)
    thread.start()
    context = Context()
    try:
        timings = await _client_round_trips(
            context, server_public, client, f"tcp://127.0.0.1:{port}", count, size
        )
        thread.join(_DEMO_TIMEOUT_MS / 1000)
        if errors:
            raise DemoError(f"the pyzmq server failed: {errors[0]}")
    finally:
        context.destroy(linger=0)
        await context.wait_closed()
        thread.join(_DEMO_TIMEOUT_MS / 1000)
        server.close(linger=0)
        auth.stop()
        pctx.term()
    return f"libzmq {pyzmq.zmq_version()} (pyzmq {pyzmq.pyzmq_version()})", timings


def _demo(args: argparse.Namespace) -> int:
    if args.count < 1:
        print("curvezmq demo: --count must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.size < 0:
        print("curvezmq demo: --size must not be negative", file=sys.stderr)
        return EXIT_USAGE
    if args.peer == "pyzmq":
        try:
            import zmq  # noqa: F401 - only whether it imports
        except ImportError:
            print(
                "curvezmq demo: --peer pyzmq needs pyzmq, which is not installed "
                "(pip install pyzmq)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        run = _demo_pyzmq
    else:
        run = _demo_ours

    print(
        f"curvezmq {curvezmq.__version__} demo: CURVE REQ/REP over 127.0.0.1, "
        f"fresh keys, client admitted by key, backend {curvezmq.backend}"
    )
    try:
        server, (handshake, first, rest) = asyncio.run(run(args.count, args.size))
    except DemoError as exc:
        print(f"curvezmq demo failed: {exc}", file=sys.stderr)
        return EXIT_FAILED

    print(f"server: {server}; client: curvezmq")
    print(
        f"handshake: {handshake * 1000:.2f} ms (first round trip {first * 1000:.2f} ms)"
    )
    if args.count > 1:
        # the first round trip pays for the connection; the rate is of the rest
        trips = args.count - 1
        rate = trips / rest if rest > 0 else float("inf")
        print(
            f"{args.count} round trips of {args.size} bytes, all answered; after "
            f"the first, {rate:,.0f} round trips/s ({2 * rate:,.0f} messages/s)"
        )
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curvezmq", description="CurveZMQ for Python: keys, backends, demo."
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log engine events (-v: INFO, -vv: DEBUG)",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.required = True

    keygen = sub.add_parser("keygen", help="print a new CURVE key pair (Z85)")
    keygen.set_defaults(run=_keygen)

    info = sub.add_parser("info", help="print the version and the crypto backends")
    info.set_defaults(run=_info)

    demo = sub.add_parser(
        "demo", help="CURVE round trips between a server and a client on 127.0.0.1"
    )
    demo.add_argument(
        "--count", type=int, default=5000, help="round trips to run (default 5000)"
    )
    demo.add_argument(
        "--size", type=int, default=64, help="bytes per message (default 64)"
    )
    demo.add_argument(
        "--peer",
        choices=("curvezmq", "pyzmq"),
        default="curvezmq",
        help="who runs the server: curvezmq (default) or libzmq through pyzmq",
    )
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``curvezmq`` command.

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` by default.

    Returns:
        the exit code: 0 success, 1 the demo failed, 2 bad usage or a missing
        optional dependency.
    """
    args = _parser().parse_args(argv)
    level = logging.WARNING
    if args.verbose == 1:
        level = logging.INFO
    elif args.verbose > 1:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
