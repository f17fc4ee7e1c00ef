"""Malformed INITIATEs from a raw client that opened a real WELCOME: bad vouch, bad
metadata, sizes. Each closes that connection only; nothing is delivered; the
application is never asked about such a client."""

from __future__ import annotations

import os
import struct

import nacl.bindings as nb
import pytest

from curvezmq.auth import AuthPolicy, Decision

from ._raw import RawCurveClient, closed_by_peer, command, metadata
from .conftest import assert_nothing_delivered, honest_round_trip

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def raw(server, keys):
    client = RawCurveClient(server.endpoint, keys.server_public)
    client.send_greeting()
    client.send(command(client.hello_body()))
    client.read_greeting()
    client.read_welcome()
    yield client
    client.close()


def _initiate(raw, vouch_plain=None, meta=None, cookie=None, tail=b""):
    if meta is None:
        meta = metadata(Socket_Type=b"REQ", Identity=b"")
    vouch_tail = os.urandom(16)
    vouch = nb.crypto_box(
        vouch_plain if vouch_plain is not None else raw.cn_public + raw.server_key,
        b"VOUCH---" + vouch_tail,
        raw.server_cn,
        raw.secret,
    )
    nonce = raw._next()
    box = nb.crypto_box_afternm(
        raw.public + vouch_tail + vouch + meta, b"CurveZMQINITIATE" + nonce, raw.key
    )
    return b"\x08INITIATE" + (cookie or raw.cookie) + nonce + box + tail


def _refused(raw, body, server, pctx, keys):
    raw.send(command(body))
    assert closed_by_peer(raw.sock, 2.0)
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_vouch_with_wrong_server_half(raw, server, pctx, keys):
    # libzmq does not check the S half; we do (PROTOCOL.md 3.4)
    body = _initiate(raw, vouch_plain=raw.cn_public + bytes(32))
    _refused(raw, body, server, pctx, keys)


def test_vouch_with_another_short_key(raw, server, pctx, keys):
    body = _initiate(raw, vouch_plain=os.urandom(32) + raw.server_key)
    _refused(raw, body, server, pctx, keys)


def test_tampered_cookie(raw, server, pctx, keys):
    cookie = bytearray(raw.cookie)
    cookie[40] ^= 1
    _refused(raw, _initiate(raw, cookie=bytes(cookie)), server, pctx, keys)


def test_truncated_initiate(raw, server, pctx, keys):
    _refused(raw, _initiate(raw)[:256], server, pctx, keys)


def test_trailing_garbage_after_the_box(raw, server, pctx, keys):
    _refused(raw, _initiate(raw, tail=b"\x00"), server, pctx, keys)


@pytest.mark.parametrize(
    "meta",
    [
        pytest.param(b"\x0bSocket-Type\x7f\xff\xff\xffREQ", id="value-len-2^31-1"),
        pytest.param(b"\x0bSocket-Type\xff\xff\xff\xffREQ", id="value-len-2^32-1"),
        pytest.param(b"\x00\x00\x00\x00\x00", id="empty-name"),
        pytest.param(b"\x0bSocket-Type\x00\x00\x00\x03REQ\x01", id="trailing-byte"),
        pytest.param(b"\xffSock", id="name-past-end"),
        pytest.param(b"\x0bSocket-Type\x00\x00\x00\x03PUB", id="incompatible-type"),
    ],
)
def test_bad_metadata(meta, raw, server, pctx, keys):
    _refused(raw, _initiate(raw, meta=meta), server, pctx, keys)


def test_metadata_above_the_cap_is_refused_on_the_header(raw, server, pctx, keys):
    # 8 KiB of metadata is the default cap; the header alone must close it
    big = metadata(Socket_Type=b"REQ", X_Big=bytes(9000))
    body = _initiate(raw, meta=big)
    raw.send(struct.pack(">BQ", 0x06, len(body)))  # header only
    assert closed_by_peer(raw.sock, 2.0)
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_many_properties_within_the_cap_are_fine(raw, server):
    props = {f"X-P{i}": b"v" for i in range(300)}
    meta = metadata(Socket_Type=b"REQ", Identity=b"") + b"".join(
        bytes((len(k),)) + k.encode() + struct.pack(">I", 1) + v
        for k, v in props.items()
    )
    raw.send(command(_initiate(raw, meta=meta)))
    raw.read_ready()
    raw.send(raw.request(b"many"))
    assert server.recv() == b"many"
    server.send(b"ok")
    raw.read_message()


def test_second_initiate_on_the_same_connection(raw, server, pctx, keys):
    body = _initiate(raw)
    raw.send(command(body))
    raw.read_ready()
    raw.send(command(body))
    assert closed_by_peer(raw.sock, 2.0)
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


class _DenyKeys(AuthPolicy):
    """A deny list keyed on the 32 bytes, the way a revocation list is written."""

    def __init__(self, denied):
        self.denied = set(denied)

    def authenticate(self, client_key, address):
        if client_key in self.denied:
            return Decision("400", reason="revoked")
        return Decision("200")


@pytest.mark.parametrize("flip_top_bit", [False, True])
def test_revoked_client_key_stays_revoked(flip_top_bit, ctx, pctx, keys, request):
    import curvezmq.zmq as ours

    from ._raw import closed_by_peer, read_frame
    from .conftest import make_server

    public, secret = nb.crypto_box_keypair()
    ctx.curve_policy = _DenyKeys({public})
    server = make_server(ctx, keys)
    server.endpoint = server.getsockopt(ours.LAST_ENDPOINT).decode()
    raw = RawCurveClient(server.endpoint, keys.server_public, public, secret)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    if flip_top_bit:
        # the same key to X25519, other bytes to a policy
        raw.public = public[:31] + bytes([public[31] ^ 0x80])
    raw.send(command(raw.initiate_body()))
    if flip_top_bit:
        # a non-canonical C is refused before any policy sees it: silent close,
        # as for every other malformed INITIATE
        assert closed_by_peer(raw.sock)
    else:
        _, body = read_frame(raw.sock)
        assert body == b"\x05ERROR\x03400", body[:8]
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)
