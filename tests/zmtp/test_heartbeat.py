"""Heartbeats and subscriptions in the sans-IO connection: PING every interval, the
timeout after our PING, the peer's TTL, liveness from bytes, the TTL cap, and the
two subscription forms."""

from __future__ import annotations

import pytest

from curvezmq.codec import CurveServerKeys
from curvezmq.keys import curve_keypair
from curvezmq.zmtp import (
    CommandReceived,
    Connection,
    ConnectionState,
    CurveClientMechanism,
    CurveServerMechanism,
    HeartbeatTimedOut,
    MessageReceived,
    NullMechanism,
)

from ._util import command, frame, greeting, pipe, ready, split_frames


def _established(now=0.0, peer_minor=1, socket_type="DEALER", peer=b"ROUTER", **kw):
    """A NULL connection that took a raw peer's greeting and READY at ``now``."""
    conn = Connection(socket_type, NullMechanism(), **kw)
    conn.start(now)
    conn.data_to_send()
    conn.receive_data(greeting(minor=peer_minor) + frame(0x04, ready(peer)), now)
    assert conn.state is ConnectionState.ESTABLISHED
    conn.data_to_send()
    return conn


def test_no_heartbeat_no_timer():
    conn = _established()
    assert conn.get_timer() is None
    assert conn.handle_timer(100.0) == []
    assert conn.data_to_send() == b""


def test_timers_wait_for_the_handshake():
    conn = Connection("DEALER", NullMechanism(), heartbeat_ivl=0.1)
    conn.start(0.0)
    assert conn.get_timer() is None
    assert conn.handle_timer(1.0) == []


def test_ping_every_interval_with_our_ttl():
    conn = _established(10.0, heartbeat_ivl=0.1, heartbeat_ttl=1.5)
    assert conn.get_timer() == pytest.approx(10.1)
    assert conn.handle_timer(10.05) == []  # early: nothing
    assert conn.data_to_send() == b""
    assert conn.handle_timer(10.1) == []
    assert conn.data_to_send() == frame(4, command(b"PING", b"\x00\x0f"))
    # the answer is due within the timeout, which defaults to the interval
    assert conn.get_timer() == pytest.approx(10.2)
    conn.receive_data(frame(4, command(b"PONG")), 10.15)
    assert conn.get_timer() == pytest.approx(10.2)  # the next PING
    assert conn.handle_timer(10.2) == []
    assert conn.data_to_send() == frame(4, command(b"PING", b"\x00\x0f"))


@pytest.mark.parametrize(
    "ttl, wire", [(0.0, 0), (0.15, 1), (65.5, 655), (65.6, 655), (6553.5, 655)]
)
def test_ping_ttl_in_deciseconds_capped_at_655(ttl, wire):
    conn = _established(heartbeat_ivl=1.0, heartbeat_ttl=ttl)
    conn.handle_timer(1.0)
    assert conn.data_to_send() == frame(4, command(b"PING", wire.to_bytes(2, "big")))


def test_silence_after_our_ping_times_out():
    conn = _established(heartbeat_ivl=0.25, heartbeat_timeout=0.625)
    conn.handle_timer(0.25)
    assert conn.get_timer() == 0.5  # the next PING comes first
    conn.handle_timer(0.5)
    conn.handle_timer(0.75)
    # later PINGs do not push the first one's deadline out
    assert conn.get_timer() == 0.875
    [event] = conn.handle_timer(0.875)
    assert isinstance(event, HeartbeatTimedOut)
    assert event.silence == 0.875
    assert "our PING" in event.reason
    assert conn.state is ConnectionState.CLOSED
    assert conn.get_timer() is None


def test_timeout_zero_never_times_out():
    conn = _established(heartbeat_ivl=0.1, heartbeat_timeout=0)
    for step in range(1, 50):
        assert conn.handle_timer(step * 0.1) == []
    assert conn.state is ConnectionState.ESTABLISHED


def test_any_byte_counts_even_part_of_a_frame():
    conn = _established(heartbeat_ivl=0.1)
    conn.handle_timer(0.1)
    # the first byte of a large frame's header, nothing more
    big = frame(0, b"x" * 100_000)
    conn.receive_data(big[:1], 0.15)
    assert conn.handle_timer(0.2) == []
    # the rest trickles in, one piece per interval: never a timeout
    for step, offset in enumerate(range(1, len(big), 20_000)):
        now = 0.2 + 0.1 * step
        events = conn.receive_data(big[offset : offset + 20_000], now + 0.05)
        assert conn.handle_timer(now + 0.1) == []
    assert events == [MessageReceived([b"x" * 100_000])]


def test_peer_ttl_arms_a_deadline_reset_by_bytes():
    conn = _established()
    conn.receive_data(frame(4, command(b"PING", b"\x00\x05")), 1.0)  # 0.5 s
    assert conn.data_to_send() == frame(4, command(b"PONG"))
    assert conn.get_timer() == pytest.approx(1.5)
    conn.receive_data(b"\x00", 1.4)  # half a frame still counts
    assert conn.get_timer() == pytest.approx(1.9)
    assert conn.handle_timer(1.5) == []
    [event] = conn.handle_timer(1.9)
    assert isinstance(event, HeartbeatTimedOut)
    assert "TTL" in event.reason
    assert conn.state is ConnectionState.CLOSED


def test_peer_ttl_zero_arms_nothing():
    conn = _established()
    conn.receive_data(frame(4, command(b"PING", b"\x00\x00")), 1.0)
    assert conn.get_timer() is None


def test_short_ping_is_ignored_and_arms_nothing():
    conn = _established()
    conn.receive_data(frame(4, b"\x04PING\x00"), 1.0)
    assert conn.data_to_send() == b""
    assert conn.get_timer() is None


def test_keep_alive_stands_in_for_bytes():
    conn = _established(heartbeat_ivl=0.1)
    conn.handle_timer(0.1)
    conn.keep_alive(0.19)  # the caller paused reading on purpose
    assert conn.handle_timer(0.2) == []
    assert conn.state is ConnectionState.ESTABLISHED


def test_heartbeat_arguments_checked():
    with pytest.raises(ValueError):
        Connection("DEALER", NullMechanism(), heartbeat_ivl=-1)
    with pytest.raises(ValueError):
        Connection("DEALER", NullMechanism(), heartbeat_timeout=-0.5)


def test_curve_pings_travel_inside_the_box():
    server_public, server_secret = curve_keypair()
    client_public, client_secret = curve_keypair()
    client = Connection(
        "DEALER",
        CurveClientMechanism(client_public, client_secret, server_public),
        heartbeat_ivl=0.1,
        heartbeat_ttl=1.0,
    )
    server = Connection(
        "ROUTER",
        CurveServerMechanism(CurveServerKeys(server_public, server_secret)),
        heartbeat_ivl=0.1,
    )
    client.start(0.0)
    server.start(0.0)
    pipe(client, server)
    assert client.state is server.state is ConnectionState.ESTABLISHED
    client.handle_timer(0.1)
    [(flags, body)] = split_frames(client.data_to_send())
    assert flags == 0x00 and body[:8] == b"\x07MESSAGE"
    # the server answers inside the box, which the client takes as liveness
    assert server.receive_data(frame(flags, body), 0.12) == []
    assert client.receive_data(server.data_to_send(), 0.13) == []
    assert server.get_timer() == pytest.approx(0.1)  # its own PING
    assert client.handle_timer(0.2) == []
    assert client.state is ConnectionState.ESTABLISHED


@pytest.mark.parametrize("subscribe, name", [(True, b"SUBSCRIBE"), (False, b"CANCEL")])
def test_subscription_as_a_command_to_a_31_peer(subscribe, name):
    conn = _established(socket_type="SUB", peer=b"PUB")
    conn.send_subscription(b"topic", subscribe)
    assert conn.data_to_send() == frame(4, command(name, b"topic"))


@pytest.mark.parametrize("subscribe, flag", [(True, b"\x01"), (False, b"\x00")])
def test_subscription_as_data_to_a_30_peer(subscribe, flag):
    conn = _established(socket_type="SUB", peer=b"PUB", peer_minor=0)
    assert conn.peer_version == (3, 0)
    conn.send_subscription(b"topic", subscribe)
    assert conn.data_to_send() == frame(0, flag + b"topic")


def test_subscription_pair_in_memory():
    sub = Connection("SUB", NullMechanism())
    pub = Connection("XPUB", NullMechanism())
    sub.start(0.0)
    pub.start(0.0)
    pipe(sub, pub)
    sub.send_subscription(b"")
    sub.send_subscription(b"a", subscribe=False)
    assert pipe(sub, pub)[1] == [
        CommandReceived("SUBSCRIBE", b""),
        CommandReceived("CANCEL", b"a"),
    ]
