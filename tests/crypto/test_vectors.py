"""Known answers: RFC 7748 X25519, the NaCl box, and the CurveZMQ vectors."""

from __future__ import annotations

import pytest

from curvezmq.errors import CryptoError
from tests.conftest import load_vectors

X25519 = load_vectors("x25519")
BOX = load_vectors("nacl_box")
CURVE = load_vectors("curvezmq")

h = bytes.fromhex


@pytest.mark.parametrize("case", X25519["single"], ids=["rfc7748-1", "rfc7748-2"])
def test_x25519_single(backend, case):
    out = backend.scalarmult(h(case["scalar"]), h(case["u"]))
    assert bytes(out) == h(case["out"])


def test_x25519_iterated(backend):
    # RFC 7748 section 5.2: k = X25519(k, u), u = old k, starting from 9.
    k = u = (9).to_bytes(32, "little")
    for i in range(1, 1001):
        k, u = bytes(backend.scalarmult(k, u)), k
        if i == 1:
            assert k == h(X25519["iterated"]["after_1"])
    assert k == h(X25519["iterated"]["after_1000"])


def test_x25519_diffie_hellman(backend):
    dh = X25519["dh"]
    assert backend.scalarmult_base(h(dh["alice_sk"])) == h(dh["alice_pk"])
    assert backend.scalarmult_base(h(dh["bob_sk"])) == h(dh["bob_pk"])
    shared_a = backend.scalarmult(h(dh["alice_sk"]), h(dh["bob_pk"]))
    shared_b = backend.scalarmult(h(dh["bob_sk"]), h(dh["alice_pk"]))
    assert bytes(shared_a) == bytes(shared_b) == h(dh["shared"])


def test_low_order_point_refused(backend):
    point = h(X25519["low_order_point"])
    with pytest.raises(CryptoError):
        backend.scalarmult(h(X25519["dh"]["alice_sk"]), point)
    with pytest.raises(CryptoError):
        backend.beforenm(point, h(X25519["dh"]["alice_sk"]))
    with pytest.raises(CryptoError):
        backend.box(b"x", bytes(24), point, h(X25519["dh"]["alice_sk"]))


def test_nacl_box(backend):
    args = (h(BOX["nonce"]), h(BOX["receiver_pk"]), h(BOX["sender_sk"]))
    assert backend.box(h(BOX["message"]), *args) == h(BOX["box"])
    opened = backend.box_open(
        h(BOX["box"]), h(BOX["nonce"]), h(BOX["sender_pk"]), h(BOX["receiver_sk"])
    )
    assert opened == h(BOX["message"])


def test_nacl_beforenm_and_secretbox(backend):
    key = backend.beforenm(h(BOX["receiver_pk"]), h(BOX["sender_sk"]))
    assert bytes(key) == h(BOX["beforenm"])
    # NaCl's box is secretbox under the beforenm key
    sealed = backend.box_afternm(h(BOX["message"]), h(BOX["nonce"]), key)
    assert sealed == h(BOX["box"])
    assert backend.box_open_afternm(sealed, h(BOX["nonce"]), key) == h(BOX["message"])


def test_tampered_box_refused(backend):
    box = bytearray(h(BOX["box"]))
    for index in (0, 15, 16, len(box) - 1):
        tampered = bytearray(box)
        tampered[index] ^= 0x01
        with pytest.raises(CryptoError):
            backend.box_open_afternm(tampered, h(BOX["nonce"]), h(BOX["beforenm"]))
    with pytest.raises(CryptoError):
        backend.box_open_afternm(bytes(15), h(BOX["nonce"]), h(BOX["beforenm"]))


def test_curvezmq_hello_signature(backend):
    hello = CURVE["hello"]
    body = h(hello["body"])
    nonce = b"CurveZMQHELLO---" + hello["nonce"].to_bytes(8, "big")
    box = backend.box(
        bytes(64), nonce, h(hello["server_public"]), h(hello["client_short_secret"])
    )
    assert box == body[120:]
    assert body[80:112] == h(hello["client_short_public"])


def test_curvezmq_message_vectors(backend):
    message = CURVE["message"]
    key = h(message["key_beforenm"])
    payload = h(message["payload_with_flags"])
    c2s = backend.message_seal(b"CurveZMQMESSAGEC", 3, payload[0], payload[1:], key)
    s2c = backend.message_seal(b"CurveZMQMESSAGES", 2, payload[0], payload[1:], key)
    assert bytes(c2s) == h(message["client_to_server_nonce_3"])
    assert bytes(s2c) == h(message["server_to_client_nonce_2"])
