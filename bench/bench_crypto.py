"""Per-message crypto cost: our one-call fast path against PyNaCl, same run.

Prints, for each payload size and backend, messages sealed and opened per second and
the ratio against PyNaCl's crypto_box_afternm / crypto_box_open_afternm building the
same MESSAGE body in Python (the reference). Run: python bench/bench_crypto.py
"""

from __future__ import annotations

import argparse
import time

from curvezmq import crypto

SIZES = (64, 1024, 65536)
PREFIX = b"CurveZMQMESSAGEC"


def _rate(func, seconds: float) -> float:
    count = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(100):
            func()
        count += 100
    return count / (time.perf_counter() - start)


def _pynacl_pair(size: int, key: bytes):
    from nacl import bindings

    data = bytes(size)
    nonce = PREFIX + (3).to_bytes(8, "big")

    def seal():
        box = bindings.crypto_box_afternm(b"\x00" + data, nonce, key)
        return b"\x07MESSAGE" + nonce[16:] + box

    body = seal()

    def open_():
        if body[:8] != b"\x07MESSAGE":
            raise ValueError
        full = PREFIX + body[8:16]
        return bindings.crypto_box_open_afternm(body[16:], full, key)

    return seal, open_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    key = bytes(range(32))

    print(f"{'size':>6} {'backend':>10} {'seal/s':>10} {'ratio':>6} {'open/s':>10} {'ratio':>6}")
    for size in SIZES:
        try:
            ref_seal, ref_open = _pynacl_pair(size, key)
            ref = (_rate(ref_seal, args.seconds), _rate(ref_open, args.seconds))
            print(f"{size:>6} {'PyNaCl':>10} {ref[0]:>10.0f} {1:>6.2f} {ref[1]:>10.0f} {1:>6.2f}")
        except ImportError:
            ref = None
        data = bytes(size)
        for name in crypto.available():
            backend = crypto.get_backend(name)
            body = backend.message_seal(PREFIX, 3, 0, data, key)
            seal = lambda: backend.message_seal(PREFIX, 3, 0, data, key)  # noqa: E731
            open_ = lambda: backend.message_open(body, PREFIX, key, 2)  # noqa: E731
            ours = (_rate(seal, args.seconds), _rate(open_, args.seconds))
            ratios = (ours[0] / ref[0], ours[1] / ref[1]) if ref else (0.0, 0.0)
            print(
                f"{size:>6} {name:>10} {ours[0]:>10.0f} {ratios[0]:>6.2f} "
                f"{ours[1]:>10.0f} {ratios[1]:>6.2f}"
            )


if __name__ == "__main__":
    main()
