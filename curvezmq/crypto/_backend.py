"""Loading, self-testing and choosing the compiled crypto backends.

Each backend is a cffi extension module ``curvezmq.crypto._<name>`` compiled from the
same C sources (``csrc/``) against different primitives. :class:`Backend` wraps one of
them with the few calls CurveZMQ needs. Inputs are any bytes-like objects (passed to C
without copying through ``ffi.from_buffer``); secrets we create are returned as
``bytearray`` so their owner can wipe them with :meth:`Backend.wipe`.
"""

from __future__ import annotations

import importlib
import os
from typing import Optional

from .._version import C_VERSION
from ..errors import BackendError, BackendUnavailableError, CryptoError

__all__ = [
    "RANKING",
    "Backend",
    "available",
    "default_backend",
    "get_backend",
    "unavailable_reasons",
]

# The order in which backends are preferred, fastest first, as bench/crypto.py
# measured it (README.md records the figures); nothing is timed at import.
# libsodium is 1.5-2x faster than the others on X25519 and 2-2.5x on large boxes
# (vectorised Salsa20 and Poly1305); our portable core edges out NaCl's 2011 code.
RANKING = ("libsodium", "portable", "nacl")

KEYBYTES = 32
NONCEBYTES = 24
MACBYTES = 16
MESSAGE_OVERHEAD = 33
# A compact MESSAGE (docs/extensions.md) is the box alone: tag(16) + flags(1) + data.
COMPACT_OVERHEAD = 17
# Where message_open leaves flags + data in its output buffer (NaCl's zero padding).
_OPEN_OFFSET = 32
# Where message_seal_compact leaves the compact body: after NaCl's 16 zero bytes.
_COMPACT_OFFSET = 16

# Known answers for the load-time self-test. The HELLO signature box and the MESSAGE
# body are the CurveZMQ vectors of the project's fact sheet, also in tests/vectors.
_ALICE_SK = bytes.fromhex(
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
)
_ALICE_PK = bytes.fromhex(
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
)
_BOB_PK = bytes.fromhex(
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
)
_BEFORENM = bytes.fromhex(
    "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389"
)
_SERVER_PK = bytes.fromhex(
    "54fcba24e93249969316fb617c872bb0c1d1ff14800427c594cbfacf1bc2d652"
)
_HELLO_BOX = bytes.fromhex(
    "0f12e6d8432bc1f8ff6ac5ee7f33480ae7055a3256384031c6382831537a187b"
    "355282ee552bddcddbdd0b742decd9059e9a5b358af2f7b8ecb51345fc4f6a87"
    "dd72ffb8478b040724d2f7eb375faefa"
)
_MESSAGE_BODY = bytes.fromhex(
    "074d45535341474500000000000000036e9c22422e895912ed639d5d9b4c566698db82f7753a"
)


class Backend:
    """One compiled crypto backend.

    Args:
        name: the backend's name (``portable``, ``libsodium`` or ``nacl``).
        module: its cffi extension module, with ``ffi`` and ``lib``.

    Raises:
        BackendError: the module was built from other C sources, failed to
            initialise, or failed its known-answer self-test.
    """

    def __init__(self, name: str, module) -> None:
        self.name = name
        self._ffi = module.ffi
        self._lib = module.lib

        version = self._ffi.string(self._lib.curvezmq_version()).decode("ascii")
        if version != C_VERSION:
            raise BackendError(
                f"backend {name!r} was built from C sources {version}, expected "
                f"{C_VERSION}: rebuild with 'pip install -e .'"
            )
        if self._lib.curvezmq_init() != 0:
            raise BackendError(f"backend {name!r} failed to initialise")
        self._self_test()

    def __repr__(self) -> str:
        return f"<curvezmq Backend {self.name!r}>"

    # -- randomness and hygiene ---------------------------------------------

    def random(self, size: int) -> bytes:
        """Return ``size`` bytes from the backend's CSPRNG (for nonces; a secret
        should come from :meth:`random_secret`)."""
        buf = self._ffi.new("unsigned char[]", size)
        self._lib.curvezmq_randombytes(buf, size)
        out = bytes(self._ffi.buffer(buf, size))
        self._lib.curvezmq_wipe(buf, size)
        return out

    def random_secret(self, size: int) -> bytearray:
        """Return ``size`` random bytes in a new bytearray, written there by C and
        nowhere else, so that wiping it leaves no copy behind."""
        out = bytearray(size)
        if size:
            self._lib.curvezmq_randombytes(self._ffi.from_buffer(out), size)
        return out

    def wipe(self, buf) -> None:
        """Zero a writable buffer (a bytearray) in a way the compiler keeps."""
        if buf is not None and len(buf):
            self._lib.curvezmq_wipe(self._ffi.from_buffer(buf), len(buf))

    def verify_32(self, x, y) -> bool:
        """Constant-time comparison of two 32-byte strings."""
        _check_len(x, 32, "value")
        _check_len(y, 32, "value")
        return (
            self._lib.curvezmq_verify_32(
                self._ffi.from_buffer(x), self._ffi.from_buffer(y)
            )
            == 0
        )

    # -- X25519 ---------------------------------------------------------------

    def keypair(self) -> tuple[bytes, bytearray]:
        """Return a fresh (public, secret) Curve25519 key pair."""
        public = bytearray(KEYBYTES)
        secret = bytearray(KEYBYTES)
        rc = self._lib.curvezmq_keypair(
            self._ffi.from_buffer(public), self._ffi.from_buffer(secret)
        )
        if rc != 0:
            raise BackendError(f"key generation failed in backend {self.name!r}")
        return bytes(public), secret

    def scalarmult_base(self, secret) -> bytes:
        """Return the public key of a 32-byte secret key."""
        _check_len(secret, KEYBYTES, "secret key")
        public = bytearray(KEYBYTES)
        rc = self._lib.curvezmq_scalarmult_base(
            self._ffi.from_buffer(public), self._ffi.from_buffer(secret)
        )
        if rc != 0:
            raise CryptoError("secret key gives an all-zero public key")
        return bytes(public)

    def scalarmult(self, secret, public) -> bytearray:
        """Return X25519(secret, public); refuses a low-order ``public``."""
        _check_len(secret, KEYBYTES, "secret key")
        _check_len(public, KEYBYTES, "public key")
        out = bytearray(KEYBYTES)
        rc = self._lib.curvezmq_scalarmult(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(secret),
            self._ffi.from_buffer(public),
        )
        if rc != 0:
            raise CryptoError("key agreement gave the all-zero secret (low-order key)")
        return out

    def beforenm(self, public, secret) -> bytearray:
        """Return the precomputed box key for ``public`` and ``secret``.

        Raises:
            CryptoError: ``public`` is a low-order point.
        """
        _check_len(public, KEYBYTES, "public key")
        _check_len(secret, KEYBYTES, "secret key")
        key = bytearray(KEYBYTES)
        rc = self._lib.curvezmq_beforenm(
            self._ffi.from_buffer(key),
            self._ffi.from_buffer(public),
            self._ffi.from_buffer(secret),
        )
        if rc != 0:
            raise CryptoError("key agreement gave the all-zero secret (low-order key)")
        return key

    # -- boxes, in wire form (tag || ciphertext) --------------------------------

    def box(self, message, nonce, public, secret) -> bytes:
        """Return crypto_box(message) in wire form (16 bytes longer).

        Raises:
            CryptoError: ``public`` is a low-order point.
        """
        _check_len(nonce, NONCEBYTES, "nonce")
        _check_len(public, KEYBYTES, "public key")
        _check_len(secret, KEYBYTES, "secret key")
        out = bytearray(len(message) + MACBYTES)
        rc = self._lib.curvezmq_box(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(message),
            len(message),
            self._ffi.from_buffer(nonce),
            self._ffi.from_buffer(public),
            self._ffi.from_buffer(secret),
        )
        self._raise_for(rc, "box")
        return bytes(out)

    def box_open(self, box, nonce, public, secret) -> bytearray:
        """Open a wire-form crypto_box into a new bytearray the caller may wipe.

        Raises:
            CryptoError: the box is shorter than its tag, fails its MAC, or
                ``public`` is a low-order point.
        """
        _check_len(nonce, NONCEBYTES, "nonce")
        _check_len(public, KEYBYTES, "public key")
        _check_len(secret, KEYBYTES, "secret key")
        if len(box) < MACBYTES:
            raise CryptoError(f"box of {len(box)} bytes is shorter than its tag")
        out = bytearray(len(box) - MACBYTES)
        rc = self._lib.curvezmq_box_open(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(box),
            len(box),
            self._ffi.from_buffer(nonce),
            self._ffi.from_buffer(public),
            self._ffi.from_buffer(secret),
        )
        self._raise_for(rc, "box")
        return out

    def box_afternm(self, message, nonce, key) -> bytes:
        """Return crypto_box_afternm (= crypto_secretbox) in wire form."""
        _check_len(nonce, NONCEBYTES, "nonce")
        _check_len(key, KEYBYTES, "key")
        out = bytearray(len(message) + MACBYTES)
        rc = self._lib.curvezmq_box_afternm(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(message),
            len(message),
            self._ffi.from_buffer(nonce),
            self._ffi.from_buffer(key),
        )
        self._raise_for(rc, "box")
        return bytes(out)

    def box_open_afternm(self, box, nonce, key) -> bytearray:
        """Open a wire-form crypto_box_afternm (= crypto_secretbox_open) into a new
        bytearray the caller may wipe.

        Raises:
            CryptoError: the box is shorter than its tag or fails its MAC.
        """
        _check_len(nonce, NONCEBYTES, "nonce")
        _check_len(key, KEYBYTES, "key")
        if len(box) < MACBYTES:
            raise CryptoError(f"box of {len(box)} bytes is shorter than its tag")
        out = bytearray(len(box) - MACBYTES)
        rc = self._lib.curvezmq_box_open_afternm(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(box),
            len(box),
            self._ffi.from_buffer(nonce),
            self._ffi.from_buffer(key),
        )
        self._raise_for(rc, "box")
        return out

    # -- the per-message fast path ---------------------------------------------

    def message_seal(self, prefix, nonce: int, flags: int, data, key) -> bytearray:
        """Seal one MESSAGE command body (``len(data) + 33`` bytes) in one C call.

        Args:
            prefix: the 16-byte nonce prefix (``CurveZMQMESSAGEC`` or ``...S``).
            nonce: this side's counter for the message.
            flags: the inner flags byte (0x01 MORE, 0x02 COMMAND).
            data: the payload, any bytes-like object.
            key: the 32-byte precomputed session key.
        """
        out = bytearray(len(data) + MESSAGE_OVERHEAD)
        self._lib.curvezmq_message_seal(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(prefix),
            nonce,
            flags,
            self._ffi.from_buffer(data),
            len(data),
            self._ffi.from_buffer(key),
        )
        return out

    def message_open(
        self, body, prefix, key, floor: int
    ) -> tuple[int, int, memoryview]:
        """Open one MESSAGE command body in one C call.

        Args:
            body: the whole MESSAGE command body.
            prefix: the peer's 16-byte nonce prefix.
            key: the 32-byte precomputed session key.
            floor: the highest peer nonce accepted so far.

        Returns:
            ``(nonce, flags, data)``: the message's nonce (the new floor), its inner
            flags byte and a view of its payload.

        Raises:
            CryptoError: with ``code`` ``"malformed"`` (short body or wrong name),
                ``"nonce"`` (not above ``floor``) or ``"mac"`` (the box fails).
        """
        out = bytearray(len(body))
        floor_p = self._ffi.new("uint64_t *", floor)
        rc = self._lib.curvezmq_message_open(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(body),
            len(body),
            self._ffi.from_buffer(prefix),
            self._ffi.from_buffer(key),
            floor_p,
        )
        if rc != 0:
            raise _message_error(rc, len(body), floor, body)
        view = memoryview(out)
        return floor_p[0], out[_OPEN_OFFSET], view[_OPEN_OFFSET + 1 :]

    def message_seal_compact(
        self, prefix, nonce: int, flags: int, data, key
    ) -> memoryview:
        """Seal one compact MESSAGE body (``len(data) + 17`` bytes) in one C call.

        The same box as :meth:`message_seal` with the same nonce, without the
        command name and the explicit nonce in front (docs/extensions.md).

        Args:
            prefix: the 16-byte nonce prefix (``CurveZMQMESSAGEC`` or ``...S``).
            nonce: this side's counter for the message.
            flags: the inner flags byte (0x01 MORE, 0x02 COMMAND).
            data: the payload, any bytes-like object.
            key: the 32-byte precomputed session key.

        Returns:
            a view of the body (tag, then the encrypted flags and data).
        """
        out = bytearray(len(data) + MESSAGE_OVERHEAD)
        self._lib.curvezmq_message_seal_compact(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(prefix),
            nonce,
            flags,
            self._ffi.from_buffer(data),
            len(data),
            self._ffi.from_buffer(key),
        )
        return memoryview(out)[_COMPACT_OFFSET:]

    def message_open_compact(
        self, body, prefix, key, floor: int
    ) -> tuple[int, int, memoryview]:
        """Open one compact MESSAGE body in one C call; its nonce is ``floor + 1``.

        Args:
            body: the whole compact body (tag, encrypted flags and data).
            prefix: the peer's 16-byte nonce prefix.
            key: the 32-byte precomputed session key.
            floor: the peer's last nonce, whose successor sealed this body.

        Returns:
            ``(nonce, flags, data)`` as :meth:`message_open` returns them.

        Raises:
            CryptoError: with ``code`` ``"malformed"`` (shorter than 17 bytes),
                ``"nonce"`` (``floor`` is 2^64 - 1: no nonce is left) or ``"mac"``
                (the box fails).
        """
        out = bytearray(len(body) + _COMPACT_OFFSET)
        floor_p = self._ffi.new("uint64_t *", floor)
        rc = self._lib.curvezmq_message_open_compact(
            self._ffi.from_buffer(out),
            self._ffi.from_buffer(body),
            len(body),
            self._ffi.from_buffer(prefix),
            self._ffi.from_buffer(key),
            floor_p,
        )
        if rc != 0:
            raise _compact_error(rc, len(body), floor)
        view = memoryview(out)
        return floor_p[0], out[_OPEN_OFFSET], view[_OPEN_OFFSET + 1 :]

    # -- internals --------------------------------------------------------------

    def _raise_for(self, rc: int, what: str) -> None:
        if rc == 0:
            return
        if rc == self._lib.CURVEZMQ_ENOMEM:
            raise MemoryError(f"backend {self.name!r} could not allocate a {what}")
        raise CryptoError(f"{what} failed to open or a key was low-order")

    def _self_test(self) -> None:
        try:
            shared = self.beforenm(_BOB_PK, _ALICE_SK)
            ok = bytes(shared) == _BEFORENM
            ok = ok and self.scalarmult_base(_ALICE_SK) == _ALICE_PK
            nonce = b"CurveZMQHELLO---" + (1).to_bytes(8, "big")
            ok = ok and self.box(bytes(64), nonce, _SERVER_PK, _ALICE_SK) == _HELLO_BOX
            body = self.message_seal(b"CurveZMQMESSAGEC", 3, 0, b"Hello", _BEFORENM)
            ok = ok and bytes(body) == _MESSAGE_BODY
            n, flags, data = self.message_open(body, b"CurveZMQMESSAGEC", _BEFORENM, 2)
            ok = ok and (n, flags, bytes(data)) == (3, 0, b"Hello")
            # compact: the same box, without the 16-byte header
            compact = self.message_seal_compact(
                b"CurveZMQMESSAGEC", 3, 0, b"Hello", _BEFORENM
            )
            ok = ok and bytes(compact) == _MESSAGE_BODY[16:]
            n, flags, data = self.message_open_compact(
                compact, b"CurveZMQMESSAGEC", _BEFORENM, 2
            )
            ok = ok and (n, flags, bytes(data)) == (3, 0, b"Hello")
        except (CryptoError, ValueError) as exc:
            raise BackendError(
                f"backend {self.name!r} failed its self-test: {exc}"
            ) from exc
        if not ok:
            raise BackendError(
                f"backend {self.name!r} failed its known-answer self-test"
            )


def _message_error(rc: int, size: int, floor: int, body) -> CryptoError:
    if rc == -3:
        err = CryptoError(
            f"expected a MESSAGE of at least {MESSAGE_OVERHEAD} bytes, "
            f"got {size} bytes starting {bytes(body[:8])!r}"
        )
        err.code = "malformed"
    elif rc == -2:
        err = CryptoError(
            f"expected a MESSAGE nonce above {floor}, "
            f"got {int.from_bytes(bytes(body[8:16]), 'big')}"
        )
        err.code = "nonce"
    else:
        err = CryptoError(f"MESSAGE box of {size} bytes failed to open")
        err.code = "mac"
    return err


def _compact_error(rc: int, size: int, floor: int) -> CryptoError:
    if rc == -3:
        err = CryptoError(
            f"expected a compact MESSAGE of at least {COMPACT_OVERHEAD} bytes, "
            f"got {size} bytes"
        )
        err.code = "malformed"
    elif rc == -2:
        err = CryptoError(f"expected no compact MESSAGE after nonce {floor}")
        err.code = "nonce"
    else:
        err = CryptoError(
            f"compact MESSAGE box of {size} bytes failed to open with nonce {floor + 1}"
        )
        err.code = "mac"
    return err


def _check_len(value, size: int, what: str) -> None:
    if len(value) != size:
        raise ValueError(f"expected a {size}-byte {what}, got {len(value)} bytes")


_loaded: dict[str, Backend] = {}
_reasons: dict[str, str] = {}


def _load_all() -> None:
    for name in RANKING:
        if name in _loaded or name in _reasons:
            continue
        try:
            module = importlib.import_module(f"curvezmq.crypto._{name}")
        except ImportError as exc:
            _reasons[name] = f"not built ({exc})"
            continue
        try:
            _loaded[name] = Backend(name, module)
        except BackendError as exc:
            _reasons[name] = str(exc)


def available() -> list[str]:
    """Return the names of the built, self-tested backends, fastest first."""
    _load_all()
    return [name for name in RANKING if name in _loaded]


def unavailable_reasons() -> dict[str, str]:
    """Return, for each backend that cannot be used, why not."""
    _load_all()
    return dict(_reasons)


def get_backend(name: Optional[str] = None) -> Backend:
    """Return a backend by name, or the default one when ``name`` is None.

    Raises:
        BackendUnavailableError: ``name`` is unknown, not built, or failed its
            self-test; the message lists the available names.
    """
    if name is None:
        return default_backend()
    _load_all()
    if name in _loaded:
        return _loaded[name]
    why = _reasons.get(name, "unknown backend name")
    raise BackendUnavailableError(
        f"crypto backend {name!r} is not available ({why}); "
        f"available: {', '.join(available()) or 'none'}"
    )


_default: Optional[Backend] = None


def default_backend() -> Backend:
    """Return the backend chosen at import: ``CURVEZMQ_BACKEND``, else the fastest.

    Raises:
        BackendUnavailableError: ``CURVEZMQ_BACKEND`` names an unavailable
            backend, or no backend is available at all.
    """
    global _default
    if _default is None:
        wanted = os.environ.get("CURVEZMQ_BACKEND")
        if wanted:
            _default = get_backend(wanted)
        else:
            names = available()
            if not names:
                raise BackendUnavailableError(
                    "no crypto backend is available: "
                    + "; ".join(f"{k}: {v}" for k, v in _reasons.items())
                )
            _default = _loaded[names[0]]
    return _default
