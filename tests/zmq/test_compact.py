"""Compact framing over real TCP (docs/extensions.md), watched through a relay: on
between two curvezmq sockets (17 body bytes and a 2-byte frame header per short
message), off against libzmq in both directions, where everything still works."""

from __future__ import annotations

import logging

import pytest
import zmq as pyzmq

from curvezmq import zmq

from ..hostile._raw import Relay, split_frames
from .conftest import TIMEOUT_MS, bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(30)

PAYLOAD = b"compact framing " * 4  # 64 bytes


def _messages(stream: bytes) -> list[tuple[int, bytes, bytes]]:
    """The data frames after the greeting: the MESSAGEs (handshake commands are
    command frames)."""
    return [f for f in split_frames(bytes(stream)) if not f[0] & 0x04]


@pytest.fixture
def relay_to():
    relays = []

    def make(endpoint):
        relay = Relay(endpoint)
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        relay.close()


def _push_pull(push, pull, relay_to):
    endpoint = bind_local(pull)
    relay = relay_to(endpoint)
    push.connect(relay.endpoint)
    for size in (0, len(PAYLOAD)):
        push.send(PAYLOAD[:size])
        assert pull.recv() == PAYLOAD[:size]
    return relay


def test_compact_between_two_curvezmq_sockets(ctx, keys, relay_to, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq.engine")
    pull = ctx.socket(zmq.PULL)
    curve_server(pull, keys)
    push = ctx.socket(zmq.PUSH)
    curve_client(push, keys)
    relay = _push_pull(push, pull, relay_to)

    empty, full = _messages(relay.up[0])[-2:]
    assert (empty[0], len(empty[1]), len(empty[2])) == (0x00, 17, 2 + 17)
    assert (full[0], len(full[1]), len(full[2])) == (0x00, 17 + 64, 2 + 17 + 64)
    assert not full[1].startswith(b"\x07MESSAGE")
    assert sum("compact framing" in r.getMessage() for r in caplog.records) == 2

    # the offer is not an application property on either side
    push.send(b"props")
    frame = pull.recv(copy=False)
    assert frame.get("Socket-Type") == "PUSH"
    with pytest.raises(zmq.ZMQError):
        frame.get("X-CurveZMQ-Framing")


@pytest.mark.parametrize("side", ["client", "server"])
def test_curve_compact_0_on_either_side_keeps_standard_framing(
    ctx, keys, relay_to, side
):
    pull = ctx.socket(zmq.PULL)
    curve_server(pull, keys)
    push = ctx.socket(zmq.PUSH)
    curve_client(push, keys)
    (push if side == "client" else pull).curve_compact = 0
    relay = _push_pull(push, pull, relay_to)
    full = _messages(relay.up[0])[-1]
    assert full[1].startswith(b"\x07MESSAGE") and len(full[1]) == 33 + 64


def test_our_client_offers_to_libzmq_which_ignores_it(ctx, pctx, keys, relay_to):
    # our DEALER -> relay -> pyzmq ROUTER: standard MESSAGEs both ways
    router = pctx.socket(pyzmq.ROUTER)
    curve_server(router, keys)
    relay = relay_to(bind_local(router))
    dealer = ctx.socket(zmq.DEALER)
    dealer.routing_id = b"ours"
    curve_client(dealer, keys)
    dealer.connect(relay.endpoint)

    dealer.send(PAYLOAD)
    assert router.recv_multipart() == [b"ours", PAYLOAD]
    router.send_multipart([b"ours", b"reply"])
    assert dealer.recv() == b"reply"

    up, down = _messages(relay.up[0]), _messages(relay.down[0])
    assert up and down
    assert all(f[1].startswith(b"\x07MESSAGE") for f in up + down)
    assert len(up[-1][1]) == 33 + 64


def test_libzmq_client_gets_no_confirmation_from_our_server(ctx, pctx, keys, relay_to):
    # pyzmq DEALER -> relay -> our ROUTER: READY carries no framing property
    router = ctx.socket(zmq.ROUTER)
    curve_server(router, keys)
    relay = relay_to(bind_local(router))
    dealer = pctx.socket(pyzmq.DEALER)
    dealer.routing_id = b"libzmq"
    curve_client(dealer, keys)
    dealer.connect(relay.endpoint)

    dealer.send(PAYLOAD)
    assert router.recv_multipart() == [b"libzmq", PAYLOAD]
    router.send_multipart([b"libzmq", b"reply"])
    assert dealer.poll(TIMEOUT_MS) and dealer.recv() == b"reply"

    up, down = _messages(relay.up[0]), _messages(relay.down[0])
    assert all(f[1].startswith(b"\x07MESSAGE") for f in up + down)
    assert len(down[-1][1]) == 33 + len(b"reply")
    # READY is libzmq's own size for a ROUTER with an empty Identity: no property
    [ready] = [
        f for f in split_frames(bytes(relay.down[0])) if f[1][:6] == b"\x05READY"
    ]
    assert len(ready[1]) == 65
