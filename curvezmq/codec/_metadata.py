"""ZMTP metadata: the properties carried in INITIATE and READY (and in ZAP replies).

A property is ``name_len(1) + name + value_len(4, big-endian) + value``; metadata is a
plain concatenation of properties, and empty metadata is legal. Names are 1..255
bytes and, per ZMTP, case-insensitive: :class:`Metadata` keeps each name as the peer
spelled it and finds it whatever the case asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Union

from ..errors import LocalProtocolError, Reason, RemoteProtocolError

__all__ = ["Metadata", "decode_metadata", "encode_metadata"]

# ZMTP 3.1 caps a value at 2^31 - 1 bytes (the length is a signed 32-bit integer in
# some implementations).
_MAX_VALUE_SIZE = 2**31 - 1
_MAX_NAME_SIZE = 255

MetadataLike = Union[
    Mapping[Union[str, bytes], Union[bytes, bytearray, memoryview, str]],
    Iterable[tuple[Union[str, bytes], Union[bytes, bytearray, memoryview, str]]],
]


class Metadata(dict):
    """A ``dict[str, bytes]`` of ZMTP properties whose lookups ignore case.

    Iteration, equality and ``repr`` use the names as they were spelled on the wire;
    ``md["socket-type"]``, ``md.get(...)`` and ``in`` also find ``"Socket-Type"``.
    """

    def __missing__(self, name):
        found = self._fold(name)
        if found is None:
            raise KeyError(name)
        return dict.__getitem__(self, found)

    def __contains__(self, name) -> bool:
        return dict.__contains__(self, name) or self._fold(name) is not None

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def _fold(self, name):
        if not isinstance(name, str):
            return None
        folded = name.lower()
        for key in self:
            if key.lower() == folded:
                return key
        return None


def encode_metadata(properties: MetadataLike) -> bytes:
    """Encode properties as ZMTP metadata, in the order given.

    Args:
        properties: a mapping, or an iterable of ``(name, value)`` pairs. Names are
            ASCII ``str`` or ``bytes`` of 1..255 bytes; values are bytes-like, or
            ``str`` (encoded as UTF-8).

    Returns:
        the encoded metadata (empty for no properties).

    Raises:
        LocalProtocolError: (reason ``ZMTP_INVALID_METADATA``) a name is empty,
            longer than 255 bytes or not ASCII, a name appears twice (ignoring
            case), or a value is longer than 2^31 - 1 bytes.
    """
    items = properties.items() if isinstance(properties, Mapping) else properties
    out = bytearray()
    seen = set()
    for name, value in items:
        raw_name = _name_bytes(name)
        folded = raw_name.lower()
        if folded in seen:
            raise LocalProtocolError(
                f"metadata property {raw_name.decode('ascii')!r} appears twice",
                Reason.ZMTP_INVALID_METADATA,
            )
        seen.add(folded)
        if isinstance(value, str):
            value = value.encode("utf-8")
        if len(value) > _MAX_VALUE_SIZE:
            raise LocalProtocolError(
                f"expected a metadata value of at most {_MAX_VALUE_SIZE} bytes, "
                f"got {len(value)} bytes",
                Reason.ZMTP_INVALID_METADATA,
            )
        out += bytes((len(raw_name),))
        out += raw_name
        out += len(value).to_bytes(4, "big")
        out += value
    return bytes(out)


def decode_metadata(data) -> Metadata:
    """Decode ZMTP metadata received from a peer.

    A name that repeats (ignoring case) keeps its first value, as libzmq does. Names
    are decoded as Latin-1 so that no byte a peer sends can fail to decode; libzmq
    peers only send ASCII names.

    Args:
        data: the metadata bytes (bytes-like), possibly empty.

    Returns:
        a :class:`Metadata` (a ``dict[str, bytes]`` with case-insensitive lookups).

    Raises:
        RemoteProtocolError: (reason ``ZMTP_INVALID_METADATA``) a property is
            truncated, a name is empty, or bytes trail the last property.
    """
    view = memoryview(data)
    result = Metadata()
    folded_names = set()
    offset = 0
    end = len(view)
    while offset < end:
        name_size = view[offset]
        if name_size == 0:
            raise RemoteProtocolError(
                f"metadata property at offset {offset} has an empty name",
                Reason.ZMTP_INVALID_METADATA,
            )
        name_end = offset + 1 + name_size
        if name_end + 4 > end:
            raise RemoteProtocolError(
                f"metadata property at offset {offset} is truncated: expected "
                f"{name_size + 5} bytes at least, got {end - offset}",
                Reason.ZMTP_INVALID_METADATA,
            )
        value_size = int.from_bytes(view[name_end : name_end + 4], "big")
        value_end = name_end + 4 + value_size
        if value_end > end:
            raise RemoteProtocolError(
                f"metadata property at offset {offset} announces a {value_size}-byte "
                f"value but only {end - name_end - 4} bytes follow",
                Reason.ZMTP_INVALID_METADATA,
            )
        name = bytes(view[offset + 1 : name_end]).decode("latin-1")
        folded = name.lower()
        if folded not in folded_names:
            folded_names.add(folded)
            result[name] = bytes(view[name_end + 4 : value_end])
        offset = value_end
    return result


def _name_bytes(name) -> bytes:
    if isinstance(name, str):
        try:
            raw = name.encode("ascii")
        except UnicodeEncodeError:
            raise LocalProtocolError(
                f"metadata names must be ASCII, got {name!r}",
                Reason.ZMTP_INVALID_METADATA,
            ) from None
    else:
        raw = bytes(name)
    if not 1 <= len(raw) <= _MAX_NAME_SIZE:
        raise LocalProtocolError(
            f"expected a metadata name of 1..{_MAX_NAME_SIZE} bytes, got {len(raw)}",
            Reason.ZMTP_INVALID_METADATA,
        )
    try:
        raw.decode("ascii")
    except UnicodeDecodeError:
        raise LocalProtocolError(
            "metadata names must be ASCII", Reason.ZMTP_INVALID_METADATA
        ) from None
    return raw
