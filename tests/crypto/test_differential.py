"""Every backend against libsodium through PyNaCl, the independent oracle.

10,000 random cases per operation and backend: the same output, or a refusal on
both sides. Messages cover sizes 0, 1, 31, 32, 33, 63, 64, 255, 256, 1 KiB and
64 KiB, most cases at the small sizes and a handful at 64 KiB. Key agreement also
meets the points libsodium refuses (low order, in canonical and non-canonical
encodings) and non-canonical u-coordinates it accepts.

Inputs come from a seeded generator; a failure names its seed, operation and size.
The operations that do an X25519 per case are marked slow (about 20 s in all);
CI runs them too.
"""

from __future__ import annotations

import os
import random

import pytest

from curvezmq.errors import CryptoError

nacl_bindings = pytest.importorskip("nacl.bindings")
nacl_exceptions = pytest.importorskip("nacl.exceptions")

CASES = 10_000

# Cases per message size; they add up to CASES.
SIZE_COUNTS = {
    0: 1000,
    1: 1000,
    31: 1000,
    32: 1000,
    33: 1000,
    63: 1000,
    64: 1000,
    255: 1000,
    256: 1000,
    1024: 992,
    65536: 8,
}
assert sum(SIZE_COUNTS.values()) == CASES

PREFIX = b"CurveZMQMESSAGEC"
P = 2**255 - 19


def _le(value: int) -> bytes:
    return (value % 2**256).to_bytes(32, "little")


# u-coordinates libsodium refuses (X25519 with them is all zero for any scalar):
# 0, 1, the two points of order 8, p - 1, and p, p + 1 (non-canonical 0 and 1);
# each also with bit 255 set, which X25519 ignores.
_LOW_ORDER = [
    _le(0),
    _le(1),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    _le(P - 1),
    _le(P),
    _le(P + 1),
]
SPECIAL_POINTS = (
    _LOW_ORDER
    + [_le(int.from_bytes(u, "little") | 1 << 255) for u in _LOW_ORDER]
    # non-canonical encodings of ordinary points, and the largest 255-bit value
    + [_le(P + k) for k in (2, 3, 9, 18)]
    + [_le(2**255 - 1), _le(2**256 - 1)]
)


def _sizes(rng: random.Random) -> list[int]:
    sizes = [size for size, count in SIZE_COUNTS.items() for _ in range(count)]
    rng.shuffle(sizes)
    return sizes


def _ours(func, *args):
    """("ok", output) or ("refused",) for a call on our backend."""
    try:
        return ("ok", bytes(func(*args)))
    except CryptoError:
        return ("refused",)


def _oracle(func, *args):
    """The same for a call through PyNaCl."""
    try:
        return ("ok", bytes(func(*args)))
    except nacl_exceptions.CryptoError:
        return ("refused",)


class _Diff:
    """Collects disagreements; the test fails listing the first few."""

    def __init__(self, backend, op: str) -> None:
        self.seed = int.from_bytes(os.urandom(8), "big")
        self.rng = random.Random(self.seed)
        self.where = f"{backend.name} {op} seed={self.seed}"
        self.bad: list[str] = []
        self.count = 0

    def bytes(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    def check(self, ours, oracle, what: str) -> None:
        self.count += 1
        if ours != oracle and len(self.bad) < 5:
            self.bad.append(f"{what}: ours {ours!r:.80} oracle {oracle!r:.80}")

    def done(self, expected: int = CASES) -> None:
        assert self.count >= expected, f"{self.where}: only {self.count} cases"
        assert not self.bad, f"{self.where}:\n" + "\n".join(self.bad)


# -- key agreement: an X25519 per case --------------------------------------------


@pytest.mark.slow
def test_scalarmult(backend):
    diff = _Diff(backend, "scalarmult")
    for i in range(CASES):
        scalar = diff.bytes(32)
        point = SPECIAL_POINTS[i] if i < len(SPECIAL_POINTS) else diff.bytes(32)
        diff.check(
            _ours(backend.scalarmult, scalar, point),
            _oracle(nacl_bindings.crypto_scalarmult, scalar, point),
            f"n={scalar.hex()} p={point.hex()}",
        )
    diff.done()


@pytest.mark.slow
def test_scalarmult_base(backend):
    diff = _Diff(backend, "scalarmult_base")
    for _ in range(CASES):
        scalar = diff.bytes(32)
        diff.check(
            _ours(backend.scalarmult_base, scalar),
            _oracle(nacl_bindings.crypto_scalarmult_base, scalar),
            f"n={scalar.hex()}",
        )
    diff.done()


@pytest.mark.slow
def test_beforenm(backend):
    diff = _Diff(backend, "beforenm")
    for i in range(CASES):
        secret = diff.bytes(32)
        public = SPECIAL_POINTS[i] if i < len(SPECIAL_POINTS) else diff.bytes(32)
        diff.check(
            _ours(backend.beforenm, public, secret),
            _oracle(nacl_bindings.crypto_box_beforenm, public, secret),
            f"pk={public.hex()} sk={secret.hex()}",
        )
    diff.done()


@pytest.mark.slow
def test_box(backend):
    diff = _Diff(backend, "box")
    for size in _sizes(diff.rng):
        message, nonce = diff.bytes(size), diff.bytes(24)
        public, secret = diff.bytes(32), diff.bytes(32)
        diff.check(
            _ours(backend.box, message, nonce, public, secret),
            _oracle(nacl_bindings.crypto_box, message, nonce, public, secret),
            f"size {size}",
        )
    diff.done()


@pytest.mark.slow
def test_box_open(backend):
    diff = _Diff(backend, "box_open")
    for i, size in enumerate(_sizes(diff.rng)):
        message, nonce = diff.bytes(size), diff.bytes(24)
        public, secret = diff.bytes(32), diff.bytes(32)
        box = bytearray(nacl_bindings.crypto_box(message, nonce, public, secret))
        if i % 10 == 0:
            box[diff.rng.randrange(len(box))] ^= 1 << diff.rng.randrange(8)
        diff.check(
            _ours(backend.box_open, box, nonce, public, secret),
            _oracle(nacl_bindings.crypto_box_open, bytes(box), nonce, public, secret),
            f"size {size}",
        )
    diff.done()


# -- symmetric: boxes under a precomputed key --------------------------------------


def test_box_afternm(backend):
    diff = _Diff(backend, "box_afternm")
    for size in _sizes(diff.rng):
        message, nonce, key = diff.bytes(size), diff.bytes(24), diff.bytes(32)
        diff.check(
            _ours(backend.box_afternm, message, nonce, key),
            _oracle(nacl_bindings.crypto_box_afternm, message, nonce, key),
            f"size {size}",
        )
    diff.done()


def test_box_open_afternm(backend):
    diff = _Diff(backend, "box_open_afternm")
    for i, size in enumerate(_sizes(diff.rng)):
        message, nonce, key = diff.bytes(size), diff.bytes(24), diff.bytes(32)
        box = bytearray(nacl_bindings.crypto_box_afternm(message, nonce, key))
        if i % 10 == 0:
            box[diff.rng.randrange(len(box))] ^= 1 << diff.rng.randrange(8)
        diff.check(
            _ours(backend.box_open_afternm, box, nonce, key),
            _oracle(nacl_bindings.crypto_box_open_afternm, bytes(box), nonce, key),
            f"size {size}",
        )
    diff.done()


def _oracle_body(nonce: int, flags: int, data: bytes, key: bytes) -> bytes:
    n8 = nonce.to_bytes(8, "big")
    box = nacl_bindings.crypto_box_afternm(bytes([flags]) + data, PREFIX + n8, key)
    return b"\x07MESSAGE" + n8 + box


def test_message_seal(backend):
    diff = _Diff(backend, "message_seal")
    for size in _sizes(diff.rng):
        data, key = diff.bytes(size), diff.bytes(32)
        nonce, flags = diff.rng.getrandbits(64), diff.rng.getrandbits(8)
        diff.check(
            _ours(backend.message_seal, PREFIX, nonce, flags, data, key),
            _oracle(_oracle_body, nonce, flags, data, key),
            f"size {size}",
        )
    diff.done()


def test_message_open(backend):
    diff = _Diff(backend, "message_open")
    for i, size in enumerate(_sizes(diff.rng)):
        data, key = diff.bytes(size), diff.bytes(32)
        nonce, flags = diff.rng.randrange(1, 2**64), diff.rng.getrandbits(8)
        floor = diff.rng.randrange(nonce)
        body = bytearray(_oracle_body(nonce, flags, data, key))
        if i % 10 == 0:
            # anywhere after the name: the nonce or the box
            body[diff.rng.randrange(8, len(body))] ^= 1 << diff.rng.randrange(8)
            expected = ("refused",)
        else:
            expected = ("ok", bytes([flags]) + data, nonce)

        try:
            got_nonce, got_flags, view = backend.message_open(body, PREFIX, key, floor)
            ours = ("ok", bytes([got_flags]) + bytes(view), got_nonce)
        except CryptoError as exc:
            # a flipped nonce bit may fall to or below the floor: refused either way
            assert exc.code in ("mac", "nonce"), exc.code
            ours = ("refused",)
        diff.check(ours, expected, f"size {size}")
    diff.done()


def test_special_points_are_exercised(backend):
    """The refusals above are real: every low-order point is refused by both."""
    scalar = os.urandom(32)
    for point in SPECIAL_POINTS:
        ours = _ours(backend.scalarmult, scalar, point)
        oracle = _oracle(nacl_bindings.crypto_scalarmult, scalar, point)
        assert ours == oracle
    refused = [
        p
        for p in SPECIAL_POINTS
        if _ours(backend.scalarmult, scalar, p)[0] == "refused"
    ]
    assert len(refused) == 2 * len(_LOW_ORDER)
