"""The portable C core on its own, in both of its arithmetics.

The Python extension uses the fast build (64-bit limbs with 128-bit products,
vectorised Salsa20). The fallback (32-bit limbs with 64-bit products, plain C
Salsa20), which a compiler without ``unsigned __int128`` would get, cannot be
reached from Python on this machine, so both are compiled here from the same
sources, with the project's warning flags, into:

- ``driver.c``: answers crypto requests on a pipe, checked against known answers,
  against libsodium through PyNaCl, and against a pure-Python Poly1305;
- ``ct_harness.c``: runs every secret-handling path with its secrets marked
  undefined under valgrind's memcheck, which reports any branch or memory index
  that depends on them. Two canaries prove that memcheck does report them.
"""

from __future__ import annotations

import os
import pathlib
import random
import shutil
import subprocess

import pytest

from tests.conftest import load_vectors

nacl_bindings = pytest.importorskip("nacl.bindings")
nacl_exceptions = pytest.importorskip("nacl.exceptions")

HERE = pathlib.Path(__file__).resolve().parent
CSRC = HERE.parent.parent / "csrc"
PORTABLE = CSRC / "portable" / "portable.c"

CC = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
VALGRIND = shutil.which("valgrind")
MEMCHECK_H = pathlib.Path("/usr/include/valgrind/memcheck.h")

# The flags csrc/build.py compiles with, plus the checks STYLE.md asks of our C.
CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Wconversion", "-Werror"]

VARIANTS = {
    "fast": [],
    "fallback": ["-DCURVEZMQ_PORTABLE_NO_INT128", "-DCURVEZMQ_PORTABLE_NO_VECTOR"],
}
ARITHMETIC = {"fast": "radix 2^51", "fallback": "radix 2^25.5"}

X25519 = load_vectors("x25519")
BOX = load_vectors("nacl_box")
POLY = load_vectors("poly1305")
SIGMA = b"expand 32-byte k"
P = 2**255 - 19

pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler")

h = bytes.fromhex


def _compile(out: pathlib.Path, sources: list, flags: list) -> pathlib.Path:
    result = subprocess.run(
        [CC, *CFLAGS, *flags, f"-I{CSRC}", *map(str, sources), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{out.name} does not compile:\n{result.stderr}"
    return out


class Driver:
    """A running driver.c: one request line in, one answer line out."""

    def __init__(self, path: pathlib.Path) -> None:
        self.proc = subprocess.Popen(
            [str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, op: str, *args) -> str:
        parts = [op] + [
            (a.hex() or "-") if isinstance(a, (bytes, bytearray)) else str(a)
            for a in args
        ]
        self.proc.stdin.write(" ".join(parts) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer and not answer.startswith(("error", "mismatch")), (op, answer)
        return answer

    def bytes(self, op: str, *args):
        """The answer as bytes, or None when the core refused."""
        answer = self.ask(op, *args)
        if answer == "fail":
            return None
        return b"" if answer == "-" else bytes.fromhex(answer)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module", params=list(VARIANTS))
def driver(request, tmp_path_factory):
    variant = request.param
    out = tmp_path_factory.mktemp("portable") / f"driver-{variant}"
    flags = [f"-I{CSRC / 'portable'}", *VARIANTS[variant]]
    proc = Driver(_compile(out, [HERE / "driver.c", PORTABLE], flags))
    proc.variant = variant
    yield proc
    proc.close()


def _oracle(func, *args):
    try:
        return func(*args)
    except nacl_exceptions.CryptoError:
        return None


def poly1305_reference(key: bytes, message: bytes) -> bytes:
    """Poly1305 as RFC 8439 section 2.5.1 states it, in Python integers."""
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    p = 2**130 - 5
    acc = 0
    for i in range(0, len(message), 16):
        acc = (acc + int.from_bytes(message[i : i + 16] + b"\x01", "little")) * r % p
    return ((acc + s) % 2**128).to_bytes(16, "little")


# -- known answers ---------------------------------------------------------------


def test_arithmetic_is_the_one_asked_for(driver):
    assert driver.ask("arith") == ARITHMETIC[driver.variant]


def test_rfc7748_x25519(driver):
    for case in X25519["single"]:
        assert driver.bytes("x25519", h(case["scalar"]), h(case["u"])) == h(case["out"])
    assert driver.bytes("iterate", 1) == h(X25519["iterated"]["after_1"])
    assert driver.bytes("iterate", 1000) == h(X25519["iterated"]["after_1000"])

    dh = X25519["dh"]
    assert driver.bytes("base", h(dh["alice_sk"])) == h(dh["alice_pk"])
    assert driver.bytes("base", h(dh["bob_sk"])) == h(dh["bob_pk"])
    assert driver.bytes("x25519", h(dh["alice_sk"]), h(dh["bob_pk"])) == h(dh["shared"])
    assert driver.bytes("x25519", h(dh["bob_sk"]), h(dh["alice_pk"])) == h(dh["shared"])
    assert (
        driver.bytes("x25519", h(dh["alice_sk"]), h(X25519["low_order_point"])) is None
    )


def test_nacl_box_and_secretbox(driver):
    pk, sk = h(BOX["receiver_pk"]), h(BOX["sender_sk"])
    nonce, message, box = h(BOX["nonce"]), h(BOX["message"]), h(BOX["box"])
    assert driver.bytes("beforenm", pk, sk) == h(BOX["beforenm"])
    assert driver.bytes("box", pk, sk, nonce, message) == box
    assert driver.bytes("secretbox", h(BOX["beforenm"]), nonce, message) == box
    opened = driver.bytes(
        "box_open", h(BOX["sender_pk"]), h(BOX["receiver_sk"]), nonce, box
    )
    assert opened == message
    assert driver.bytes("secretbox_open", h(BOX["beforenm"]), nonce, box) == message


def test_salsa20_family_agrees_with_itself(driver):
    """beforenm is HSalsa20 of the shared secret; the XSalsa20 stream starts with
    Salsa20 of the HSalsa20 subkey; its bytes from 32 on are what secretbox xors."""
    shared = h(X25519["dh"]["shared"])
    assert driver.bytes("hsalsa20", bytes(16), shared, SIGMA) == h(BOX["beforenm"])

    key, nonce = os.urandom(32), os.urandom(24)
    stream = driver.bytes("stream", nonce, key, 1000)
    subkey = driver.bytes("hsalsa20", nonce[:16], key, SIGMA)
    first = driver.bytes("salsa20", nonce[16:] + bytes(8), subkey, SIGMA)
    assert stream[:64] == first
    sealed = nacl_bindings.crypto_secretbox(bytes(1000 - 32), nonce, key)
    assert stream[32:] == sealed[16:]


def test_poly1305_rfc8439(driver):
    message = POLY["message_ascii"].encode("ascii")
    assert driver.bytes("poly1305", h(POLY["key"]), message) == h(POLY["tag"])
    assert poly1305_reference(h(POLY["key"]), message) == h(POLY["tag"])
    assert (
        driver.ask("poly1305_verify", h(POLY["key"]), message, h(POLY["tag"])) == "ok"
    )
    forged = bytearray(h(POLY["tag"]))
    forged[15] ^= 0x80
    assert driver.ask("poly1305_verify", h(POLY["key"]), message, forged) == "fail"


def test_poly1305_edges(driver):
    """Accumulators that end between p and 2^130, the largest r and s, long runs of
    0xff: the cases the final reduction and the carries must get right."""
    r_max = (0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF).to_bytes(16, "little")
    r_one = (1).to_bytes(16, "little")
    keys = [
        r_one + bytes(16),
        r_one + b"\xff" * 16,
        r_max + bytes(16),
        r_max + b"\xff" * 16,
        b"\xff" * 32,
        bytes(32),
    ]
    # with r = 1 the accumulator is the sum of the chunks (each plus 2^128):
    # (2^128 - 1) + (2^128 - 4 + d) + 2 * 2^128 = p + d, for d = 0..3
    messages = [
        b"\xff" * 16 + (2**128 - 4 + d).to_bytes(16, "little") for d in range(4)
    ]
    messages += [b"\xff" * n for n in (0, 1, 15, 16, 17, 31, 32, 33, 64, 65, 200)]
    messages += [bytes(n) for n in (1, 16, 48)]
    for key in keys:
        for message in messages:
            got = driver.bytes("poly1305", key, message)
            assert got == poly1305_reference(key, message), (key.hex(), message.hex())


# -- against the oracles -----------------------------------------------------------


SPECIAL_U = [
    (0).to_bytes(32, "little"),
    (1).to_bytes(32, "little"),
    h(X25519["low_order_point"]),
    (P - 1).to_bytes(32, "little"),
    (P).to_bytes(32, "little"),
    (P + 1).to_bytes(32, "little"),
    (P + 2).to_bytes(32, "little"),
    (2**255 - 1).to_bytes(32, "little"),
    (2**256 - 1).to_bytes(32, "little"),
]


def test_x25519_against_pynacl(driver):
    rng = random.Random(os.urandom(8))
    for i in range(400):
        n = rng.randbytes(32)
        u = SPECIAL_U[i] if i < len(SPECIAL_U) else rng.randbytes(32)
        assert driver.bytes("x25519", n, u) == _oracle(
            nacl_bindings.crypto_scalarmult, n, u
        ), (n.hex(), u.hex())
        assert driver.bytes("base", n) == nacl_bindings.crypto_scalarmult_base(n)
        sk, pk = rng.randbytes(32), rng.randbytes(32)
        assert driver.bytes("beforenm", pk, sk) == _oracle(
            nacl_bindings.crypto_box_beforenm, pk, sk
        )


SIZES = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1024, 65536]


def test_boxes_against_pynacl(driver):
    rng = random.Random(os.urandom(8))
    for size in SIZES * 4:
        message, nonce, key = rng.randbytes(size), rng.randbytes(24), rng.randbytes(32)
        sealed = nacl_bindings.crypto_box_afternm(message, nonce, key)
        assert driver.bytes("secretbox", key, nonce, message) == sealed, size
        assert driver.bytes("secretbox_open", key, nonce, sealed) == message
        forged = bytearray(sealed)
        forged[rng.randrange(len(forged))] ^= 1 << rng.randrange(8)
        assert driver.bytes("secretbox_open", key, nonce, forged) is None

        pk, sk = rng.randbytes(32), rng.randbytes(32)
        sealed = nacl_bindings.crypto_box(message, nonce, pk, sk)
        assert driver.bytes("box", pk, sk, nonce, message) == sealed
        peer_pk = nacl_bindings.crypto_scalarmult_base(sk)
        peer_sk = rng.randbytes(32)
        sealed = nacl_bindings.crypto_box(message, nonce, peer_pk, peer_sk)
        sender_pk = nacl_bindings.crypto_scalarmult_base(peer_sk)
        assert driver.bytes("box_open", sender_pk, sk, nonce, sealed) == message


def test_poly1305_against_reference(driver):
    rng = random.Random(os.urandom(8))
    for size in list(range(70)) + [255, 256, 1000, 4096]:
        key, message = rng.randbytes(32), rng.randbytes(size)
        assert driver.bytes("poly1305", key, message) == poly1305_reference(
            key, message
        )


def test_randombytes(driver):
    a, b = driver.bytes("random", 64), driver.bytes("random", 64)
    assert len(a) == len(b) == 64 and a != b
    assert len(driver.bytes("random", 1000)) == 1000


# -- constant time under valgrind ---------------------------------------------------


@pytest.fixture(scope="module")
def harnesses(tmp_path_factory):
    if VALGRIND is None or not MEMCHECK_H.exists():
        pytest.skip("valgrind and its headers are not installed (Debian: valgrind)")
    out = tmp_path_factory.mktemp("ct")
    flags = ["-DCURVEZMQ_BACKEND_PORTABLE", "-DCURVEZMQ_PORTABLE_CT_CHECK"]
    sources = [HERE / "ct_harness.c", PORTABLE, CSRC / "curvezmq.c"]
    return {
        variant: _compile(out / f"ct-{variant}", sources, flags + extra)
        for variant, extra in VARIANTS.items()
    }


def _memcheck(path: pathlib.Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [VALGRIND, "--tool=memcheck", "--error-exitcode=1", "-q", str(path), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_constant_time_under_memcheck(harnesses, variant):
    result = _memcheck(harnesses[variant])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"arithmetic: {ARITHMETIC[variant]}" in result.stdout
    assert "all checks ran" in result.stdout


@pytest.mark.parametrize("canary", ["canary-branch", "canary-index"])
def test_memcheck_catches_a_secret_branch_and_index(harnesses, canary):
    result = _memcheck(harnesses["fast"], canary)
    assert result.returncode == 1, result.stderr
    expected = (
        "Conditional jump" if canary == "canary-branch" else "uninitialised value"
    )
    assert expected in result.stderr
