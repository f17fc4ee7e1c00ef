"""ZMTP metadata: the exact encoding libzmq uses, case-insensitive names, and every
malformation refused with ZMTP_INVALID_METADATA."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvezmq.codec import Metadata, decode_metadata, encode_metadata
from curvezmq.errors import LocalProtocolError, Reason, RemoteProtocolError


def test_dealer_metadata_is_encoded_like_libzmq():
    encoded = encode_metadata([("Socket-Type", b"DEALER"), ("Identity", b"")])
    assert encoded == (
        b"\x0bSocket-Type\x00\x00\x00\x06DEALER" + b"\x08Identity\x00\x00\x00\x00"
    )
    assert len(encoded) == 35


def test_encode_accepts_mappings_pairs_str_and_bytes():
    assert encode_metadata({}) == b"" == encode_metadata([])
    assert encode_metadata({b"X-A": "é"}) == b"\x03X-A\x00\x00\x00\x02\xc3\xa9"
    assert encode_metadata({"X-A": memoryview(b"v")}) == b"\x03X-A\x00\x00\x00\x01v"


def test_names_are_case_insensitive_but_keep_their_case():
    metadata = decode_metadata(encode_metadata({"Socket-Type": b"PUB", "X-Foo": b""}))
    assert isinstance(metadata, Metadata) and isinstance(metadata, dict)
    assert list(metadata) == ["Socket-Type", "X-Foo"]
    assert metadata["socket-type"] == metadata["SOCKET-TYPE"] == b"PUB"
    assert "x-foo" in metadata and "x-bar" not in metadata
    assert metadata.get("x-FOO") == b"" and metadata.get("nope", 1) == 1
    assert metadata == {"Socket-Type": b"PUB", "X-Foo": b""}
    with pytest.raises(KeyError):
        metadata["missing"]
    with pytest.raises(KeyError):
        metadata[3]


def test_a_repeated_name_keeps_its_first_value():
    data = b"\x01a\x00\x00\x00\x011" + b"\x01A\x00\x00\x00\x012"
    assert decode_metadata(data) == {"a": b"1"}


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x00\x00",  # empty name
        b"\x05Sock",  # name cut short
        b"\x04Name\x00\x00",  # value length cut short
        b"\x04Name\x00\x00\x00\x05abc",  # value cut short
        b"\x04Name\x00\x00\x00\x00\x01",  # one trailing byte (libzmq refuses it too)
        b"\x04Name\xff\xff\xff\xff",  # a value larger than everything
        b"\x01",
    ],
)
def test_malformed_metadata_is_refused(data):
    with pytest.raises(RemoteProtocolError) as info:
        decode_metadata(data)
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA


@pytest.mark.parametrize(
    "properties",
    [
        {"": b"x"},
        {"x" * 256: b"x"},
        {"Näme": b"x"},
        {b"\xff": b"x"},
        [("Socket-Type", b"A"), ("socket-type", b"B")],
    ],
)
def test_bad_local_metadata_is_a_local_error(properties):
    with pytest.raises(LocalProtocolError) as info:
        encode_metadata(properties)
    assert info.value.reason is Reason.ZMTP_INVALID_METADATA


_names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+",
    min_size=1,
    max_size=255,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_names, st.binary(max_size=300), max_size=6))
def test_encode_then_decode_round_trips(properties):
    unique = {}
    for name, value in properties.items():
        if name.lower() not in {n.lower() for n in unique}:
            unique[name] = value
    assert decode_metadata(encode_metadata(unique)) == unique


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=120))
def test_arbitrary_bytes_decode_or_raise_remote_protocol_error(data):
    try:
        metadata = decode_metadata(data)
    except RemoteProtocolError as exc:
        assert exc.reason is Reason.ZMTP_INVALID_METADATA
    else:
        assert all(isinstance(value, bytes) for value in metadata.values())
        if all(name.isascii() for name in metadata):
            # nothing was lost unless a name repeated
            again = encode_metadata(metadata)
            assert again == data or len(again) < len(data)
