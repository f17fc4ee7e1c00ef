"""Z85 (strict like libzmq) and the forms in which keys are accepted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import curvezmq
from curvezmq import z85
from curvezmq.errors import InvalidKeyError
from curvezmq.keys import key_bytes
from tests.conftest import load_vectors

Z85 = load_vectors("z85")


@pytest.mark.parametrize("pair", Z85["pairs"], ids=lambda p: p["z85"])
def test_z85_vectors(pair):
    raw = bytes.fromhex(pair["bytes"])
    assert z85.encode(raw) == pair["z85"].encode()
    assert z85.decode(pair["z85"]) == raw
    assert z85.decode(pair["z85"].encode()) == raw


@pytest.mark.parametrize("text", Z85["must_reject_decode"])
def test_z85_rejects(text):
    with pytest.raises(ValueError):
        z85.decode(text)


@pytest.mark.parametrize("text", ["", "abc\u00e9d", "Hello World", 'Hell"'])
def test_z85_rejects_more(text):
    with pytest.raises(InvalidKeyError):
        z85.decode(text)


def test_z85_encode_rejects_bad_length():
    with pytest.raises(ValueError, match="multiple of 4"):
        z85.encode(b"abc")
    assert z85.encode(b"") == b""


@given(st.binary(max_size=64).filter(lambda b: len(b) % 4 == 0 and b))
def test_z85_round_trip(data):
    assert z85.decode(z85.encode(data)) == data


def test_key_forms():
    keys = Z85["curve_test_keys"]
    raw = z85.decode(keys["server_public"])
    assert key_bytes(raw) == raw
    assert key_bytes(keys["server_public"]) == raw
    assert key_bytes(keys["server_public"].encode()) == raw
    assert key_bytes(keys["server_public"].encode() + b"\0") == raw
    assert key_bytes(bytearray(raw)) == raw
    for bad in (b"", raw[:31], raw + b"x", keys["server_public"][:39], b"x" * 41, 42):
        with pytest.raises(InvalidKeyError):
            key_bytes(bad)


def test_bad_secret_key_error_does_not_show_the_key():
    secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%c "
    with pytest.raises(InvalidKeyError) as info:
        curvezmq.curve_public(secret)
    assert secret not in str(info.value)
    assert "D:)Q" not in str(info.value)


def test_curve_keypair_and_public():
    public, secret = curvezmq.curve_keypair()
    assert len(public) == 40 and len(secret) == 40
    assert curvezmq.curve_public(secret) == public
    keys = Z85["curve_test_keys"]
    assert (
        curvezmq.curve_public(keys["client_secret"]) == keys["client_public"].encode()
    )
    assert (
        curvezmq.curve_public(keys["server_secret"]) == keys["server_public"].encode()
    )


def test_keypair_matches_pyzmq():
    zmq = pytest.importorskip("zmq")
    public, secret = curvezmq.curve_keypair()
    assert zmq.curve_public(secret) == public
    public, secret = zmq.curve_keypair()
    assert curvezmq.curve_public(secret) == public
