"""The one-call MESSAGE fast path, against PyNaCl as an independent oracle."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

nacl_bindings = pytest.importorskip("nacl.bindings")

from curvezmq.errors import CryptoError

PREFIX_C = b"CurveZMQMESSAGEC"
SIZES = [0, 1, 31, 32, 33, 63, 64, 255, 256, 1024, 65536]


def _oracle_body(prefix, nonce, flags, data, key):
    full_nonce = prefix + nonce.to_bytes(8, "big")
    box = nacl_bindings.crypto_box_afternm(bytes([flags]) + data, full_nonce, key)
    return b"\x07MESSAGE" + nonce.to_bytes(8, "big") + box


@pytest.mark.parametrize("size", SIZES)
def test_seal_equals_pynacl_afternm(backend, size):
    key = os.urandom(32)
    data = os.urandom(size)
    nonce = int.from_bytes(os.urandom(8), "big")
    body = backend.message_seal(PREFIX_C, nonce, 0x01, data, key)
    assert bytes(body) == _oracle_body(PREFIX_C, nonce, 0x01, data, key)


@pytest.mark.parametrize("size", SIZES)
def test_open_what_pynacl_seals(backend, size):
    key = os.urandom(32)
    data = os.urandom(size)
    body = _oracle_body(PREFIX_C, 7, 0x02, data, key)
    nonce, flags, view = backend.message_open(body, PREFIX_C, key, 6)
    assert (nonce, flags, bytes(view)) == (7, 0x02, data)


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=600),
    flags=st.integers(0, 255),
    nonce=st.integers(1, 2**64 - 1),
)
def test_seal_open_round_trip(data, flags, nonce):
    from curvezmq.crypto import available, get_backend

    for name in available():
        backend = get_backend(name)
        key = b"k" * 32
        body = backend.message_seal(PREFIX_C, nonce, flags, data, key)
        assert len(body) == len(data) + 33
        assert bytes(body) == _oracle_body(PREFIX_C, nonce, flags, data, key)
        got = backend.message_open(body, PREFIX_C, key, nonce - 1)
        assert (got[0], got[1], bytes(got[2])) == (nonce, flags, data)


def test_open_refuses_stale_nonce_short_body_and_bad_mac(backend):
    key = os.urandom(32)
    body = backend.message_seal(PREFIX_C, 5, 0, b"hello", key)

    with pytest.raises(CryptoError) as info:
        backend.message_open(body, PREFIX_C, key, 5)
    assert info.value.code == "nonce"

    with pytest.raises(CryptoError) as info:
        backend.message_open(body[:32], PREFIX_C, key, 0)
    assert info.value.code == "malformed"

    renamed = bytearray(body)
    renamed[1:8] = b"MESSAGX"
    with pytest.raises(CryptoError) as info:
        backend.message_open(renamed, PREFIX_C, key, 0)
    assert info.value.code == "malformed"

    for index in range(16, len(body)):
        tampered = bytearray(body)
        tampered[index] ^= 0x80
        with pytest.raises(CryptoError) as info:
            backend.message_open(tampered, PREFIX_C, key, 0)
        assert info.value.code == "mac"

    # the wrong direction's prefix is a different nonce: the box fails
    with pytest.raises(CryptoError):
        backend.message_open(body, b"CurveZMQMESSAGES", key, 0)


def test_forged_max_nonce_does_not_move_floor(backend):
    key = os.urandom(32)
    forged = bytearray(backend.message_seal(PREFIX_C, 2**64 - 1, 0, b"x", key))
    forged[-1] ^= 1
    floor = 2
    with pytest.raises(CryptoError):
        backend.message_open(forged, PREFIX_C, key, floor)
    good = backend.message_seal(PREFIX_C, 3, 0, b"ok", key)
    nonce, _, view = backend.message_open(good, PREFIX_C, key, floor)
    assert (nonce, bytes(view)) == (3, b"ok")


def test_keypair_and_random(backend):
    public, secret = backend.keypair()
    assert isinstance(secret, bytearray) and len(public) == 32
    assert backend.scalarmult_base(secret) == public
    assert nacl_bindings.crypto_scalarmult_base(bytes(secret)) == public
    backend.wipe(secret)
    assert secret == bytearray(32)
    assert backend.random(24) != backend.random(24)
    # a secret is drawn straight into a bytearray its owner can wipe
    first, second = backend.random_secret(32), backend.random_secret(32)
    assert isinstance(first, bytearray) and len(first) == 32 and first != second
    assert backend.random_secret(0) == bytearray()


def test_box_matches_pynacl(backend):
    pk1, sk1 = nacl_bindings.crypto_box_keypair()
    pk2, sk2 = nacl_bindings.crypto_box_keypair()
    nonce = os.urandom(24)
    for size in SIZES:
        m = os.urandom(size)
        ours = backend.box(m, nonce, pk2, sk1)
        assert ours == nacl_bindings.crypto_box(m, nonce, pk2, sk1)
        assert backend.box_open(ours, nonce, pk1, sk2) == m
        key = nacl_bindings.crypto_box_beforenm(pk2, sk1)
        assert bytes(backend.beforenm(pk2, sk1)) == key


# -- compact MESSAGE bodies (docs/extensions.md): the same box, no header -----------


@pytest.mark.parametrize("size", SIZES)
def test_compact_seal_is_the_standard_box_without_its_header(backend, size):
    key = os.urandom(32)
    data = os.urandom(size)
    nonce = int.from_bytes(os.urandom(8), "big")
    body = backend.message_seal_compact(PREFIX_C, nonce, 0x01, data, key)
    assert len(body) == size + 17
    assert bytes(body) == _oracle_body(PREFIX_C, nonce, 0x01, data, key)[16:]


@pytest.mark.parametrize("size", SIZES)
def test_compact_open_takes_the_nonce_after_the_floor(backend, size):
    key = os.urandom(32)
    data = os.urandom(size)
    body = _oracle_body(PREFIX_C, 7, 0x02, data, key)[16:]
    nonce, flags, view = backend.message_open_compact(body, PREFIX_C, key, 6)
    assert (nonce, flags, bytes(view)) == (7, 0x02, data)
    # any other floor means another nonce: the box fails
    for floor in (5, 7, 2**64 - 2):
        with pytest.raises(CryptoError) as info:
            backend.message_open_compact(body, PREFIX_C, key, floor)
        assert info.value.code == "mac"


def test_compact_open_refuses_short_bodies_bad_macs_and_no_nonce_left(backend):
    key = os.urandom(32)
    body = bytes(backend.message_seal_compact(PREFIX_C, 5, 0, b"hello", key))

    with pytest.raises(CryptoError) as info:
        backend.message_open_compact(body[:16], PREFIX_C, key, 4)
    assert info.value.code == "malformed"
    with pytest.raises(CryptoError) as info:
        backend.message_open_compact(body, PREFIX_C, key, 2**64 - 1)
    assert info.value.code == "nonce"
    for index in range(len(body)):
        tampered = bytearray(body)
        tampered[index] ^= 0x80
        with pytest.raises(CryptoError) as info:
            backend.message_open_compact(tampered, PREFIX_C, key, 4)
        assert info.value.code == "mac"
    # the empty payload: tag and flags only
    empty = backend.message_seal_compact(PREFIX_C, 2**64 - 1, 0, b"", key)
    got = backend.message_open_compact(empty, PREFIX_C, key, 2**64 - 2)
    assert (got[0], got[1], bytes(got[2])) == (2**64 - 1, 0, b"")
