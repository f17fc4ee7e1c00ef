"""The codec reproduces the CurveZMQ vectors byte for byte when its randomness is
replayed (tests/vectors/curvezmq.json; the session key comes from x25519.json)."""

from __future__ import annotations

from curvezmq.codec import CurveClient

from ..conftest import load_vectors
from ._pipe import ReplayRng, keypair, make_pipe

CURVEZMQ = load_vectors("curvezmq")
X25519 = load_vectors("x25519")


def test_hello_body_matches_the_vector(backend):
    hello = CURVEZMQ["hello"]
    assert hello["nonce"] == 1
    pair = keypair(b"vector client")
    client = CurveClient(
        public_key=pair.public,
        secret_key=pair.secret,
        server_key=bytes.fromhex(hello["server_public"]),
        rng=ReplayRng(bytes.fromhex(hello["client_short_secret"])),
        backend=backend,
    )
    client.start(0.0)
    [body] = client.data_to_send()
    assert body[80:112] == bytes.fromhex(hello["client_short_public"])
    assert body == bytes.fromhex(hello["body"])


def test_message_bodies_match_the_vectors(backend):
    vectors = CURVEZMQ["message"]
    # c' = alice, s' = bob: the session key is then beforenm(bob pk, alice sk)
    pipe = make_pipe(
        client_rng=ReplayRng(bytes.fromhex(X25519["dh"]["alice_sk"])),
        server_rng=ReplayRng(bytes.fromhex(X25519["dh"]["bob_sk"])),
        backend=backend,
    )
    pipe.handshake()
    key = bytes.fromhex(vectors["key_beforenm"])
    assert bytes(pipe.client._key) == key and bytes(pipe.server._key) == key

    payload = bytes.fromhex(vectors["payload_with_flags"])
    flags, data = payload[0], payload[1:]
    assert flags == 0
    [c2s] = pipe.client.send_message([data])
    [s2c] = pipe.server.send_message([data])
    assert bytes(c2s) == bytes.fromhex(vectors["client_to_server_nonce_3"])
    assert bytes(s2c) == bytes.fromhex(vectors["server_to_client_nonce_2"])
    assert bytes(pipe.server.receive(c2s, 0.0)[0].data) == data
    assert bytes(pipe.client.receive(s2c, 0.0)[0].data) == data


def test_replayed_randomness_replays_the_whole_handshake():
    first = make_pipe(seed=b"replay")
    second = make_pipe(seed=b"replay")
    first.handshake()
    second.handshake()
    assert first.transcript == second.transcript
    assert first.c2s([b"same"])[0].data == second.c2s([b"same"])[0].data
    assert first.transcript[-1] == second.transcript[-1]
