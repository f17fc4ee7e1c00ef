"""CURVE key pairs and the forms in which keys are accepted.

A key handed to curvezmq may be 32 raw bytes, 40 Z85 characters, or 41 characters
whose last one is a NUL (what libzmq's ``getsockopt`` returns). Anything else is
refused where it is given, with an :class:`~curvezmq.errors.InvalidKeyError`.

Keys passed in as immutable ``bytes`` cannot be wiped from memory; secrets that
curvezmq generates for its own use are kept in ``bytearray`` buffers and wiped.
"""

from __future__ import annotations

from typing import Optional, Union

from . import z85
from .crypto import Backend, get_backend
from .errors import CryptoError, InvalidKeyError

# A canonical Curve25519 public key is a number below the field prime.
_CURVE25519_P = 2**255 - 19
# Any fixed scalar serves to test a point: X25519 with a low-order point is zero.
_PROBE_SCALAR = bytes(range(1, 33))

__all__ = [
    "KEY_SIZE",
    "Z85_KEY_SIZE",
    "curve_keypair",
    "curve_public",
    "key_bytes",
    "usable_public_key",
]

KEY_SIZE = 32
Z85_KEY_SIZE = 40

KeyLike = Union[bytes, bytearray, memoryview, str]


def key_bytes(key: KeyLike, what: str = "key") -> bytes:
    """Return the 32 raw bytes of a key given in any accepted form.

    Args:
        key: 32 raw bytes, 40 Z85 characters, or 41 with a trailing NUL.
        what: how to name the key in an error message.

    Raises:
        InvalidKeyError: (a ValueError) the key is of another length, or its
            Z85 text is malformed. The message never shows the key.
    """
    if isinstance(key, str):
        try:
            key = key.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidKeyError(
                f"the {what} holds a character outside ASCII, so it is not Z85"
            ) from None
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise InvalidKeyError(
            f"expected the {what} as bytes or str, got {type(key).__name__}"
        )
    key = bytes(key)
    if len(key) == Z85_KEY_SIZE + 1 and key[-1] == 0:
        key = key[:-1]
    if len(key) == KEY_SIZE:
        return key
    if len(key) == Z85_KEY_SIZE:
        try:
            return z85.decode(key)
        except InvalidKeyError as exc:
            # the Z85 error names a character, which for a secret would leak it
            raise InvalidKeyError(f"the {what} is not valid Z85 text") from exc
    raise InvalidKeyError(
        f"expected the {what} as 32 bytes, 40 Z85 characters or 41 with a "
        f"trailing NUL, got {len(key)} bytes"
    )


def curve_keypair(backend: Optional[Backend] = None) -> tuple[bytes, bytes]:
    """Return a new CURVE key pair as Z85, like ``zmq.curve_keypair()``.

    Args:
        backend: the crypto backend to use; the default one when omitted.

    Returns:
        ``(public, secret)``, each 40 Z85 characters as bytes.
    """
    backend = backend or get_backend()
    public, secret = backend.keypair()
    try:
        return z85.encode(public), z85.encode(secret)
    finally:
        backend.wipe(secret)


def curve_public(secret_key: KeyLike, backend: Optional[Backend] = None) -> bytes:
    """Return the Z85 public key of a secret key, like ``zmq.curve_public()``.

    Args:
        secret_key: the secret key in any accepted form.
        backend: the crypto backend to use; the default one when omitted.

    Raises:
        InvalidKeyError: the secret key is malformed.
    """
    backend = backend or get_backend()
    return z85.encode(backend.scalarmult_base(key_bytes(secret_key, "secret key")))


def usable_public_key(key: bytes, backend: Optional[Backend] = None) -> bool:
    """Tell whether a 32-byte public key can take part in a CURVE handshake.

    A key that is not canonical (bit 255 set, or not below 2**255 - 19) or that is
    a low-order point (X25519 with it gives the all-zero secret) can never be
    proven by a handshake, so a peer's claim to hold it is refused.
    """
    if len(key) != KEY_SIZE or int.from_bytes(key, "little") >= _CURVE25519_P:
        return False
    backend = backend or get_backend()
    try:
        backend.wipe(backend.beforenm(key, _PROBE_SCALAR))
    except CryptoError:
        return False
    return True
