"""Z85, ZeroMQ's base-85 text form for binary keys (RFC 32), strict like libzmq.

Four bytes (a big-endian 32-bit value) become five characters, most significant
first. Unlike pyzmq's helper, every malformed input raises ``ValueError`` (an
:class:`~curvezmq.errors.InvalidKeyError`) with the reason.
"""

from __future__ import annotations

from typing import Union

from .errors import InvalidKeyError

__all__ = ["ALPHABET", "decode", "encode"]

ALPHABET = (
    b"0123456789abcdefghijklmnopqrstuvwxyz"
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
)

# Character -> value, with -1 for bytes outside the alphabet.
_VALUES = [-1] * 256
for _i, _c in enumerate(ALPHABET):
    _VALUES[_c] = _i
del _i, _c

_POWERS = (85**4, 85**3, 85**2, 85, 1)


def encode(data: Union[bytes, bytearray, memoryview]) -> bytes:
    """Encode bytes as Z85.

    Args:
        data: binary data whose length is a multiple of 4 (empty gives empty).

    Returns:
        the Z85 text as ASCII bytes, 5 characters per 4 bytes.

    Raises:
        InvalidKeyError: (a ValueError) the length is not a multiple of 4.
    """
    data = bytes(data)
    if len(data) % 4:
        raise InvalidKeyError(
            f"z85 encoding needs a multiple of 4 bytes, got {len(data)} bytes"
        )
    out = bytearray()
    for offset in range(0, len(data), 4):
        value = int.from_bytes(data[offset : offset + 4], "big")
        for power in _POWERS:
            out.append(ALPHABET[value // power % 85])
    return bytes(out)


def decode(text: Union[str, bytes, bytearray, memoryview]) -> bytes:
    """Decode Z85 text.

    Args:
        text: Z85 characters as str or ASCII bytes; the length must be a
            non-zero multiple of 5.

    Returns:
        the decoded bytes, 4 per 5 characters.

    Raises:
        InvalidKeyError: (a ValueError) the text is empty, its length is not a
            multiple of 5, it holds a character outside the Z85 alphabet, or a
            group is worth more than 2**32 - 1.
    """
    if isinstance(text, str):
        try:
            text = text.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidKeyError("z85 text holds a non-ASCII character") from None
    text = bytes(text)
    if not text:
        raise InvalidKeyError("z85 text is empty")
    if len(text) % 5:
        raise InvalidKeyError(
            f"z85 text needs a multiple of 5 characters, got {len(text)}"
        )
    out = bytearray()
    for offset in range(0, len(text), 5):
        value = 0
        for position in range(offset, offset + 5):
            digit = _VALUES[text[position]]
            if digit < 0:
                raise InvalidKeyError(
                    f"z85 text holds {chr(text[position])!r} at position "
                    f"{position}, outside the alphabet"
                )
            value = value * 85 + digit
        if value > 0xFFFFFFFF:
            raise InvalidKeyError(
                f"z85 group at position {offset} is worth {value}, above 2**32 - 1"
            )
        out += value.to_bytes(4, "big")
    return bytes(out)
