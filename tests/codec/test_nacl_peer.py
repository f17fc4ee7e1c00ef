"""Our codec against an independent PyNaCl peer, both ways: it opens every command we
seal (HELLO, WELCOME, INITIATE with its vouch, READY, MESSAGE, ERROR) and we open
every command it seals. The cookie is the only box no one else opens."""

from __future__ import annotations

import nacl.bindings as nb
import pytest

from curvezmq.codec import (
    AuthenticationRequested,
    CurveClient,
    CurveServer,
    CurveServerKeys,
    CurveState,
    ErrorReceived,
    HandshakeCompleted,
    MessageReceived,
    decode_metadata,
    encode_metadata,
)
from curvezmq.errors import Reason, RemoteProtocolError

from ..conftest import load_vectors
from ._nacl_peer import ZERO_SHARED_KEY, NaclClient, NaclServer, hsalsa20, parse_error
from ._pipe import keypair

DEALER = encode_metadata([("Socket-Type", b"DEALER"), ("Identity", b"")])
ROUTER = encode_metadata([("Socket-Type", b"ROUTER")])


def test_hsalsa20_helper_matches_beforenm():
    # the helper builds the low-order tests' boxes, so it must be right
    dh = load_vectors("x25519")["dh"]
    expected = nb.crypto_box_beforenm(
        bytes.fromhex(dh["bob_pk"]), bytes.fromhex(dh["alice_sk"])
    )
    assert hsalsa20(bytes.fromhex(dh["shared"]), bytes(16)) == expected


# -- a PyNaCl client against our server ------------------------------------------------


def _our_server(backend=None, **kwargs):
    pair = keypair(b"nacl our server")
    keys = CurveServerKeys(pair.public, pair.secret, backend=backend)
    return pair, CurveServer(keys, metadata=ROUTER, backend=backend, **kwargs)


def _nacl_client(server_public, **tamper):
    pair = keypair(b"nacl their client")
    return pair, NaclClient(pair.public, pair.secret, server_public, DEALER, **tamper)


def test_nacl_client_completes_a_handshake_with_our_server(backend):
    server_pair, server = _our_server(backend)
    client_pair, client = _nacl_client(server_pair.public)

    assert server.receive(client.hello(), 0.0) == []
    [welcome] = server.data_to_send()
    initiate = client.welcome(welcome)
    [event] = server.receive(initiate, 0.0)
    assert event == AuthenticationRequested(client_pair.public, decode_metadata(DEALER))
    assert server.accept(b"user") == [
        HandshakeCompleted(decode_metadata(DEALER), b"user")
    ]
    [ready] = server.data_to_send()
    assert client.ready(ready) == ROUTER
    assert client.peer_nonce == 1


def _established_with_nacl_client():
    server_pair, server = _our_server()
    _, client = _nacl_client(server_pair.public)
    server.receive(client.hello(), 0.0)
    server.receive(client.welcome(server.data_to_send()[0]), 0.0)
    server.accept()
    client.ready(server.data_to_send()[0])
    return server, client


def test_messages_between_nacl_client_and_our_server():
    server, client = _established_with_nacl_client()
    # client -> server: nonce 3 first, MORE and COMMAND in the inner flags
    events = []
    for data, flags in (
        (b"part one", 0x01),
        (b"part two", 0x00),
        (b"\x04PING\x00\x00", 0x02),
    ):
        events += server.receive(client.seal(data, flags), 0.0)
    assert [(bytes(e.data), e.more, e.command) for e in events] == [
        (b"part one", True, False),
        (b"part two", False, False),
        (b"\x04PING\x00\x00", False, True),
    ]
    # server -> client: nonce 2 first
    bodies = server.send_message([b"a", b"b"]) + server.send_message([b"c"], True)
    opened = [client.open(bytes(body)) for body in bodies]
    assert opened == [(0x01, b"a"), (0x00, b"b"), (0x02, b"c")]
    assert [int.from_bytes(b[8:16], "big") for b in bodies] == [2, 3, 4]


def test_our_server_refusal_is_an_error_the_nacl_client_reads():
    server_pair, server = _our_server()
    _, client = _nacl_client(server_pair.public)
    server.receive(client.hello(), 0.0)
    server.receive(client.welcome(server.data_to_send()[0]), 0.0)
    server.refuse("500")
    [error] = server.data_to_send()
    assert parse_error(error) == "500"


def test_our_server_checks_the_s_half_of_the_vouch():
    server_pair, server = _our_server()
    wrong_s = keypair(b"someone else").public
    client = NaclClient(keypair(b"c").public, keypair(b"c").secret, server_pair.public)
    server.receive(client.hello(), 0.0)
    # set once C' is known
    client.tamper["vouch_plaintext"] = client.cn_public + wrong_s
    initiate = client.welcome(server.data_to_send()[0])
    with pytest.raises(RemoteProtocolError) as info:
        server.receive(initiate, 0.0)
    assert info.value.reason is Reason.ZMTP_KEY_EXCHANGE
    assert server.state is CurveState.ERROR


def test_our_server_checks_the_c_prime_half_of_the_vouch():
    server_pair, server = _our_server()
    client = NaclClient(keypair(b"c").public, keypair(b"c").secret, server_pair.public)
    server.receive(client.hello(), 0.0)
    client.tamper["vouch_plaintext"] = keypair(b"other").public + server_pair.public
    with pytest.raises(RemoteProtocolError) as info:
        server.receive(client.welcome(server.data_to_send()[0]), 0.0)
    assert info.value.reason is Reason.ZMTP_KEY_EXCHANGE


def test_a_vouch_from_another_long_term_key_is_refused():
    server_pair, server = _our_server()
    client = NaclClient(
        keypair(b"c").public,
        keypair(b"c").secret,
        server_pair.public,
        client_key=keypair(b"impersonated").public,
    )
    server.receive(client.hello(), 0.0)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive(client.welcome(server.data_to_send()[0]), 0.0)
    assert info.value.reason is Reason.ZMTP_CRYPTOGRAPHIC


def test_a_low_order_long_term_client_key_is_refused():
    # with C a low-order point, the vouch key is HSalsa20(0, 0) for anyone: a
    # backend that accepted the all-zero secret would let this vouch open
    low = bytes.fromhex(load_vectors("x25519")["low_order_point"])
    server_pair, server = _our_server()
    client = NaclClient(
        keypair(b"c").public,
        keypair(b"c").secret,
        server_pair.public,
        client_key=low,
    )
    server.receive(client.hello(), 0.0)
    client.tamper["vouch_key"] = ZERO_SHARED_KEY
    with pytest.raises(RemoteProtocolError) as info:
        server.receive(client.welcome(server.data_to_send()[0]), 0.0)
    assert info.value.reason is Reason.ZMTP_CRYPTOGRAPHIC


# -- our client against a PyNaCl server --------------------------------------------


def _our_client(server_public, backend=None, **kwargs):
    pair = keypair(b"nacl our client")
    client = CurveClient(
        public_key=pair.public,
        secret_key=pair.secret,
        server_key=server_public,
        metadata=DEALER,
        backend=backend,
        **kwargs,
    )
    return pair, client


def _nacl_server(**tamper):
    pair = keypair(b"nacl their server")
    return pair, NaclServer(pair.public, pair.secret, ROUTER, **tamper)


def test_our_client_completes_a_handshake_with_a_nacl_server(backend):
    server_pair, server = _nacl_server()
    client_pair, client = _our_client(server_pair.public, backend)
    client.start(0.0)
    [hello] = client.data_to_send()
    # the PyNaCl server opens HELLO, checks the padding, the cookie and the vouch
    assert client.receive(server.hello(hello), 0.0) == []
    [initiate] = client.data_to_send()
    assert server.initiate(initiate) == (client_pair.public, DEALER)
    assert server.peer_nonce == 2
    [event] = client.receive(server.ready(), 0.0)
    assert event == HandshakeCompleted(decode_metadata(ROUTER), b"")
    assert client.is_established


def _established_with_nacl_server():
    server_pair, server = _nacl_server()
    _, client = _our_client(server_pair.public)
    client.start(0.0)
    client.receive(server.hello(client.data_to_send()[0]), 0.0)
    server.initiate(client.data_to_send()[0])
    client.receive(server.ready(), 0.0)
    return server, client


def test_messages_between_our_client_and_a_nacl_server():
    server, client = _established_with_nacl_server()
    bodies = client.send_message([b"x", b"y"]) + client.send_message(
        [b"\x04PING"], True
    )
    assert [server.open(bytes(b)) for b in bodies] == [
        (0x01, b"x"),
        (0x00, b"y"),
        (0x02, b"\x04PING"),
    ]
    assert [int.from_bytes(b[8:16], "big") for b in bodies] == [3, 4, 5]
    events = []
    for data, flags in ((b"one", 0x01), (b"two", 0x00), (b"\x04PONG", 0x02)):
        events += client.receive(server.seal(data, flags), 0.0)
    assert all(isinstance(e, MessageReceived) for e in events)
    assert [(bytes(e.data), e.more, e.command) for e in events] == [
        (b"one", True, False),
        (b"two", False, False),
        (b"\x04PONG", False, True),
    ]


@pytest.mark.parametrize("when", ["after HELLO", "after INITIATE"])
def test_our_client_reads_an_error_from_a_nacl_server(when):
    server_pair, server = _nacl_server()
    _, client = _our_client(server_pair.public)
    client.start(0.0)
    hello = client.data_to_send()[0]
    if when == "after INITIATE":
        client.receive(server.hello(hello), 0.0)
        assert client.state is CurveState.WAIT_READY
    assert client.receive(NaclServer.error(b"400"), 0.0) == [ErrorReceived("400")]
    assert client.state is CurveState.ERROR and client.state.is_terminal


def test_our_client_refuses_a_low_order_short_term_server_key():
    low = bytes.fromhex(load_vectors("x25519")["low_order_point"])
    server_pair, server = _nacl_server(cn_public=low)
    _, client = _our_client(server_pair.public)
    client.start(0.0)
    welcome = server.hello(client.data_to_send()[0])
    with pytest.raises(RemoteProtocolError) as info:
        client.receive(welcome, 0.0)
    assert info.value.reason is Reason.ZMTP_KEY_EXCHANGE
    assert client.state is CurveState.ERROR
