"""An independent CurveZMQ peer written straight from RFC 26 and libzmq's layouts with
PyNaCl. It shares no code with curvezmq, so when it opens what we seal and we open
what it seals, both sides read the protocol the same way.

PyNaCl's ``crypto_box`` and ``crypto_secretbox`` return the wire form (tag, then
ciphertext), like libsodium's ``_easy`` calls and like CurveZMQ.

The peers take tamper hooks so that tests can make them send what an honest peer
never would (a wrong vouch, a low-order key).
"""

from __future__ import annotations

import os
import struct

import nacl.bindings as nb


def n8(counter: int) -> bytes:
    return counter.to_bytes(8, "big")


def hsalsa20(key: bytes, inp: bytes) -> bytes:
    """HSalsa20 in pure Python: what beforenm applies to the X25519 result.

    Only the tests need it, to build boxes under the all-zero shared secret that a
    low-order public key yields (libsodium refuses to compute those).
    """
    sigma = struct.unpack("<4I", b"expand 32-byte k")
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", inp)
    x = [
        sigma[0], k[0], k[1], k[2], k[3], sigma[1], n[0], n[1],
        n[2], n[3], sigma[2], k[4], k[5], k[6], k[7], sigma[3],
    ]  # fmt: skip

    def rotl(v, c):
        return ((v << c) | (v >> (32 - c))) & 0xFFFFFFFF

    def quarter(a, b, c, d):
        x[b] ^= rotl((x[a] + x[d]) & 0xFFFFFFFF, 7)
        x[c] ^= rotl((x[b] + x[a]) & 0xFFFFFFFF, 9)
        x[d] ^= rotl((x[c] + x[b]) & 0xFFFFFFFF, 13)
        x[a] ^= rotl((x[d] + x[c]) & 0xFFFFFFFF, 18)

    for _ in range(10):
        quarter(0, 4, 8, 12)
        quarter(5, 9, 13, 1)
        quarter(10, 14, 2, 6)
        quarter(15, 3, 7, 11)
        quarter(0, 1, 2, 3)
        quarter(5, 6, 7, 4)
        quarter(10, 11, 8, 9)
        quarter(15, 12, 13, 14)
    return struct.pack("<8I", x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9])


# the box key any low-order public key gives, whatever the secret key
ZERO_SHARED_KEY = hsalsa20(bytes(32), bytes(16))


class NaclClient:
    """A CurveZMQ client: call hello(), welcome(body), ready(body), then seal/open.

    Tamper hooks: ``vouch_plaintext`` replaces C' + S inside the vouch; ``vouch_key``
    (a box key) seals the vouch with secretbox instead of crypto_box(c, S');
    ``client_key`` replaces C inside INITIATE; ``mutate_initiate_plaintext(bytes)``
    edits the INITIATE plaintext before it is boxed.
    """

    def __init__(self, public, secret, server_key, metadata=b"", **tamper):
        self.public, self.secret, self.server_key = public, secret, server_key
        self.metadata = metadata
        self.tamper = tamper
        self.nonce = 1
        self.peer_nonce = 0

    def _next(self) -> bytes:
        nonce = n8(self.nonce)
        self.nonce += 1
        return nonce

    def hello(self) -> bytes:
        self.cn_public, self.cn_secret = nb.crypto_box_keypair()
        nonce = self._next()
        box = nb.crypto_box(
            bytes(64), b"CurveZMQHELLO---" + nonce, self.server_key, self.cn_secret
        )
        return b"\x05HELLO\x01\x00" + bytes(72) + self.cn_public + nonce + box

    def welcome(self, body: bytes) -> bytes:
        """Open WELCOME; return INITIATE."""
        assert len(body) == 168 and body[:8] == b"\x07WELCOME"
        plain = nb.crypto_box_open(
            body[24:], b"WELCOME-" + body[8:24], self.server_key, self.cn_secret
        )
        self.server_cn, cookie = plain[:32], plain[32:]

        vouch_tail = os.urandom(16)
        vouch_plain = self.tamper.get(
            "vouch_plaintext", self.cn_public + self.server_key
        )
        if "vouch_key" in self.tamper:
            vouch = nb.crypto_secretbox(
                vouch_plain, b"VOUCH---" + vouch_tail, self.tamper["vouch_key"]
            )
        else:
            vouch = nb.crypto_box(
                vouch_plain, b"VOUCH---" + vouch_tail, self.server_cn, self.secret
            )
        client_key = self.tamper.get("client_key", self.public)
        plaintext = client_key + vouch_tail + vouch + self.metadata
        plaintext = self.tamper.get("mutate_initiate_plaintext", bytes)(plaintext)
        nonce = self._next()
        box = nb.crypto_box(
            plaintext, b"CurveZMQINITIATE" + nonce, self.server_cn, self.cn_secret
        )
        return b"\x08INITIATE" + cookie + nonce + box

    def ready(self, body: bytes) -> bytes:
        """Open READY; return the server's metadata."""
        assert body[:6] == b"\x05READY"
        self.peer_nonce = int.from_bytes(body[6:14], "big")
        return nb.crypto_box_open(
            body[14:], b"CurveZMQREADY---" + body[6:14], self.server_cn, self.cn_secret
        )

    def seal(self, data: bytes, flags: int = 0) -> bytes:
        nonce = self._next()
        box = nb.crypto_box(
            bytes((flags,)) + data,
            b"CurveZMQMESSAGEC" + nonce,
            self.server_cn,
            self.cn_secret,
        )
        return b"\x07MESSAGE" + nonce + box

    def open(self, body: bytes) -> tuple[int, bytes]:
        assert body[:8] == b"\x07MESSAGE"
        nonce = int.from_bytes(body[8:16], "big")
        assert nonce > self.peer_nonce
        self.peer_nonce = nonce
        plain = nb.crypto_box_open(
            body[16:], b"CurveZMQMESSAGES" + body[8:16], self.server_cn, self.cn_secret
        )
        return plain[0], plain[1:]


def parse_error(body: bytes) -> str:
    assert body[:6] == b"\x05ERROR" and body[6] <= len(body) - 7
    return body[7 : 7 + body[6]].decode("ascii")


class NaclServer:
    """A CurveZMQ server: hello(body), initiate(body), ready(), then seal/open.

    Its cookie is its own (libzmq-style: a fresh key per connection); ours is never
    opened by anyone but us. Tamper hook: ``cn_public`` replaces S' in WELCOME.
    """

    def __init__(self, public, secret, metadata=b"", **tamper):
        self.public, self.secret = public, secret
        self.metadata = metadata
        self.tamper = tamper
        self.nonce = 1
        self.peer_nonce = 0

    def _next(self) -> bytes:
        nonce = n8(self.nonce)
        self.nonce += 1
        return nonce

    def hello(self, body: bytes) -> bytes:
        """Open HELLO; return WELCOME."""
        assert len(body) == 200 and body[:8] == b"\x05HELLO\x01\x00"
        assert body[8:80] == bytes(72)
        self.cn_client = body[80:112]
        signature = nb.crypto_box_open(
            body[120:200],
            b"CurveZMQHELLO---" + body[112:120],
            self.cn_client,
            self.secret,
        )
        assert signature == bytes(64)

        self.cn_public, self.cn_secret = nb.crypto_box_keypair()
        self.cookie_key = os.urandom(32)
        cookie_tail = os.urandom(16)
        cookie = cookie_tail + nb.crypto_secretbox(
            self.cn_client + self.cn_secret, b"COOKIE--" + cookie_tail, self.cookie_key
        )
        welcome_tail = os.urandom(16)
        box = nb.crypto_box(
            self.tamper.get("cn_public", self.cn_public) + cookie,
            b"WELCOME-" + welcome_tail,
            self.cn_client,
            self.secret,
        )
        return b"\x07WELCOME" + welcome_tail + box

    def initiate(self, body: bytes) -> tuple[bytes, bytes]:
        """Open INITIATE and check cookie and vouch; return (C, metadata)."""
        assert len(body) >= 257 and body[:9] == b"\x08INITIATE"
        cookie = nb.crypto_secretbox_open(
            body[25:105], b"COOKIE--" + body[9:25], self.cookie_key
        )
        assert cookie == self.cn_client + self.cn_secret
        self.peer_nonce = int.from_bytes(body[105:113], "big")
        plain = nb.crypto_box_open(
            body[113:],
            b"CurveZMQINITIATE" + body[105:113],
            self.cn_client,
            self.cn_secret,
        )
        client_key = plain[:32]
        vouch = nb.crypto_box_open(
            plain[48:128], b"VOUCH---" + plain[32:48], client_key, self.cn_secret
        )
        # both halves: C' of this connection and our own S
        assert vouch == self.cn_client + self.public
        return client_key, plain[128:]

    def ready(self) -> bytes:
        nonce = self._next()
        box = nb.crypto_box(
            self.metadata, b"CurveZMQREADY---" + nonce, self.cn_client, self.cn_secret
        )
        return b"\x05READY" + nonce + box

    @staticmethod
    def error(reason: bytes) -> bytes:
        return b"\x05ERROR" + bytes((len(reason),)) + reason

    def seal(self, data: bytes, flags: int = 0) -> bytes:
        nonce = self._next()
        box = nb.crypto_box(
            bytes((flags,)) + data,
            b"CurveZMQMESSAGES" + nonce,
            self.cn_client,
            self.cn_secret,
        )
        return b"\x07MESSAGE" + nonce + box

    def open(self, body: bytes) -> tuple[int, bytes]:
        assert body[:8] == b"\x07MESSAGE"
        nonce = int.from_bytes(body[8:16], "big")
        assert nonce > self.peer_nonce
        self.peer_nonce = nonce
        plain = nb.crypto_box_open(
            body[16:], b"CurveZMQMESSAGEC" + body[8:16], self.cn_client, self.cn_secret
        )
        return plain[0], plain[1:]
