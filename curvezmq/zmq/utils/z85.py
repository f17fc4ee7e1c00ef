"""pyzmq's ``zmq.utils.z85``: Z85 text for binary data (RFC 32).

Like pyzmq: ``encode`` takes bytes whose length is a multiple of 4, ``decode``
takes bytes or ASCII text whose length is a multiple of 5, and empty input gives
empty output. Unlike pyzmq, every malformed input raises ``ValueError`` (a
character outside the alphabet raises KeyError there, a five-character group worth
more than 2**32 - 1 ``struct.error``).
"""

from __future__ import annotations

from ... import z85 as _z85

__all__ = ["Z85CHARS", "Z85MAP", "decode", "encode"]

# the alphabet, and each character's value, under pyzmq's names
Z85CHARS = _z85.ALPHABET
Z85MAP = {char: index for index, char in enumerate(Z85CHARS)}


def encode(rawbytes: bytes | bytearray | memoryview) -> bytes:
    """Encode bytes as Z85.

    Args:
        rawbytes: data whose length is a multiple of 4.

    Returns:
        the Z85 text as ASCII bytes; ``b""`` for empty input.

    Raises:
        ValueError: the length is not a multiple of 4.
    """
    return _z85.encode(rawbytes)


def decode(z85bytes: str | bytes | bytearray | memoryview) -> bytes:
    """Decode Z85 text.

    Args:
        z85bytes: Z85 characters as bytes or str; a multiple of 5 of them.

    Returns:
        the bytes; ``b""`` for empty input, as pyzmq.

    Raises:
        ValueError: the length is not a multiple of 5, a character is outside the
            alphabet or not ASCII, or a group is worth more than 2**32 - 1.
    """
    if not len(z85bytes):
        return b""
    return _z85.decode(z85bytes)
