"""Crypto backends against each other and PyNaCl, in one run.

For every built backend and for PyNaCl (libsodium through its own bindings):
X25519 public keys (scalarmult_base) and box keys (beforenm) per second, and
MESSAGE bodies sealed and opened (message_seal / message_open) and boxes sealed and
opened (box_afternm / box_open_afternm) per second at 32 B, 1 KiB, 64 KiB and 1 MiB.
Each figure is followed by its time relative to our libsodium backend measured in
the same run: 1.00 is as fast, 2.00 takes twice as long.

Every figure is the best of several short runs, taken in turns across the
implementations, so that a busy machine slows them all alike.

Run: python bench/crypto.py [--seconds S] [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

from curvezmq import crypto

SIZES = (32, 1024, 65536, 1 << 20)
PREFIX = b"CurveZMQMESSAGEC"
REFERENCE = "libsodium"


def _rate(func, seconds: float) -> float:
    """Calls per second of func over about ``seconds``."""
    count = 0
    batch = 1
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            func()
        count += batch
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)
        batch = min(batch * 2, 256)


def _ours(backend, secret, public, key, nonce):
    """The calls to time on one of our backends, by operation name."""

    def sized(size):
        data = os.urandom(size)
        body = backend.message_seal(PREFIX, 3, 0, data, key)
        box = backend.box_afternm(data, nonce, key)
        return {
            "message_seal": lambda: backend.message_seal(PREFIX, 3, 0, data, key),
            "message_open": lambda: backend.message_open(body, PREFIX, key, 2),
            "box_afternm": lambda: backend.box_afternm(data, nonce, key),
            "box_open_afternm": lambda: backend.box_open_afternm(box, nonce, key),
        }

    fixed = {
        "scalarmult_base": lambda: backend.scalarmult_base(secret),
        "beforenm": lambda: backend.beforenm(public, secret),
    }
    return fixed, sized


def _pynacl(secret, public, key, nonce):
    """The same calls through PyNaCl; MESSAGE bodies are built in Python."""
    from nacl import bindings

    def sized(size):
        data = os.urandom(size)

        def seal():
            full = PREFIX + (3).to_bytes(8, "big")
            box = bindings.crypto_box_afternm(b"\x00" + data, full, key)
            return b"\x07MESSAGE" + full[16:] + box

        body = seal()

        def open_():
            if body[:8] != b"\x07MESSAGE" or int.from_bytes(body[8:16], "big") <= 2:
                raise ValueError("bad MESSAGE")
            plain = bindings.crypto_box_open_afternm(
                body[16:], PREFIX + body[8:16], key
            )
            return plain[0], memoryview(plain)[1:]

        box = bindings.crypto_box_afternm(data, nonce, key)
        return {
            "message_seal": seal,
            "message_open": open_,
            "box_afternm": lambda: bindings.crypto_box_afternm(data, nonce, key),
            "box_open_afternm": lambda: bindings.crypto_box_open_afternm(
                box, nonce, key
            ),
        }

    fixed = {
        "scalarmult_base": lambda: bindings.crypto_scalarmult_base(secret),
        "beforenm": lambda: bindings.crypto_box_beforenm(public, secret),
    }
    return fixed, sized


def _measure(calls: dict, seconds: float, repeats: int) -> dict:
    """Best rate per implementation, the implementations taking turns."""
    best = dict.fromkeys(calls, 0.0)
    for _ in range(repeats):
        for name, func in calls.items():
            best[name] = max(best[name], _rate(func, seconds))
    return best


def _row(label: str, rates: dict) -> str:
    ref = rates.get(REFERENCE)
    cells = []
    for rate in rates.values():
        ratio = f"{ref / rate:5.2f}" if ref else "  -  "
        cells.append(f"{rate:>11,.0f} {ratio}")
    return f"{label:<24}" + "".join(f" {cell:>17}" for cell in cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.15, help="per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure")
    parser.add_argument("--quick", action="store_true", help="32 B and 1 KiB only")
    args = parser.parse_args()

    secret = os.urandom(32)
    public = crypto.get_backend().scalarmult_base(os.urandom(32))
    key = os.urandom(32)
    nonce = os.urandom(24)

    impls = {}
    for name in crypto.available():
        impls[name] = _ours(crypto.get_backend(name), secret, public, key, nonce)
    try:
        impls["PyNaCl"] = _pynacl(secret, public, key, nonce)
    except ImportError:
        pass
    for name, why in crypto.unavailable_reasons().items():
        print(f"# backend {name} not measured: {why}")

    print("# calls per second, then time relative to our libsodium backend")
    print(f"{'operation':<24}" + "".join(f" {name:>17}" for name in impls))
    for op in ("scalarmult_base", "beforenm"):
        calls = {name: fixed[op] for name, (fixed, _) in impls.items()}
        print(_row(op, _measure(calls, args.seconds, args.repeats)), flush=True)
    for size in SIZES[:2] if args.quick else SIZES:
        per_size = {name: sized(size) for name, (_, sized) in impls.items()}
        for op in ("message_seal", "message_open", "box_afternm", "box_open_afternm"):
            calls = {name: ops[op] for name, ops in per_size.items()}
            label = f"{op} {size if size < 1024 else f'{size // 1024} KiB'}"
            print(_row(label, _measure(calls, args.seconds, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
