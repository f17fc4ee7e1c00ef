"""Round 2: a careless user of the newest API: hardening options set to nonsense
and to their extremes, an authenticator started and stopped in a loop while
clients connect, a certificate directory that changes under a running
authenticator, and a monitor socket nobody reads or that is already closed."""

from __future__ import annotations

import os
import threading
import time

import pytest

import curvezmq.zmq as ours
import curvezmq.zmq._monitor as monitor_module
from curvezmq.zmq.auth.thread import ThreadAuthenticator
from curvezmq.zmq.utils.monitor import recv_monitor_message

from ._raw import connect
from .conftest import (
    TIMEOUT_MS,
    assert_nothing_delivered,
    curve_client,
    honest_round_trip,
    make_server,
    zmq,
)

pytestmark = pytest.mark.timeout(20)

HARDENING = {
    "MAX_HANDSHAKES": 1,
    "CURVE_HELLO_IVL": 0,
    "CURVE_COOKIE_LIFETIME": 1,
    "CURVE_MAX_METADATA": 0,
    "CURVE_VALIDATOR_TIMEOUT": 1,
    "CURVE_INVALID_BUDGET": -1,
}


@pytest.mark.parametrize("name", sorted(HARDENING))
def test_hardening_options_refuse_nonsense(name, ctx):
    option = getattr(ours, name)
    sock = ctx.socket(ours.REP)
    before = sock.getsockopt(option)
    for bad in (HARDENING[name] - 1, -(2**31), 2**31, 2**63, 2**64, "many", None):
        with pytest.raises(ours.ZMQError) as info:
            sock.setsockopt(option, bad)
        assert info.value.errno == ours.EINVAL, bad
        assert sock.getsockopt(option) == before
    sock.close()


def test_hardening_options_at_their_extremes_still_serve(ctx, pctx, keys):
    # the largest value each takes: nothing overflows later (timers, cookie
    # keys, frame limits), and a libzmq client is served
    top = 2**31 - 1
    server = make_server(
        ctx,
        keys,
        max_handshakes=top,
        curve_hello_ivl=top,
        curve_cookie_lifetime=top,
        curve_max_metadata=top,
        curve_validator_timeout=top,
        curve_invalid_budget=top,
        handshake_ivl=top,
        curve_validator=lambda key, certificate, address: True,
    )
    server.endpoint = server.last_endpoint.decode()
    for option in HARDENING:
        assert server.getsockopt(getattr(ours, option)) == top
    honest_round_trip(pctx, server, keys)
    # and our own client with the same extremes
    client = ctx.socket(ours.REQ)
    curve_client(client, keys)
    for option in HARDENING:
        client.setsockopt(getattr(ours, option), top)
    client.connect(server.endpoint)
    client.send(b"extremes")
    assert server.recv() == b"extremes"
    server.send(b"ok")
    assert client.recv() == b"ok"
    client.close()


# Round 2 found: zmq/_socket.py setsockopt has no range for HANDSHAKE_IVL (a README
# hardening option): -1 is accepted and silently means no deadline, where libzmq (and
# pyzmq) refuse a negative HANDSHAKE_IVL with EINVAL. Fixed in b0cfd22; kept as a
# regression test.
def test_negative_handshake_ivl_is_einval(ctx):
    sock = ctx.socket(ours.REP)
    try:
        with pytest.raises(ours.ZMQError) as info:
            sock.setsockopt(ours.HANDSHAKE_IVL, -1)
        assert info.value.errno == ours.EINVAL
    finally:
        sock.close()


# -- the authenticator -----------------------------------------------------------------


def test_authenticator_started_and_stopped_in_a_loop_while_clients_connect(
    ctx, pctx, keys, tmp_path, caplog
):
    # the listed client is served whenever it comes; the policy never fails
    directory = tmp_path / "keys"
    directory.mkdir()
    (directory / "client.key").write_text(
        f'curve\n    public-key = "{keys.client_public.decode()}"\n'
    )
    auth = ThreadAuthenticator(ctx)
    auth.configure_curve(domain="*", location=str(directory))
    server = make_server(ctx, keys)
    server.endpoint = server.last_endpoint.decode()
    stop = threading.Event()
    toggles = []

    def toggle():
        while not stop.is_set():
            auth.start()
            time.sleep(0.002)
            auth.stop()
            toggles.append(1)
            time.sleep(0.001)

    thread = threading.Thread(target=toggle)
    thread.start()
    try:
        for i in range(15):
            honest_round_trip(pctx, server, keys, b"while toggling %d" % i)
    finally:
        stop.set()
        thread.join()
    assert len(toggles) > 5
    assert not any("policy failed" in r.getMessage() for r in caplog.records)
    # started for good: a stranger is refused, the listed client admitted
    auth.start()
    stranger = pctx.socket(zmq.REQ)
    curve_client(stranger, keys)
    stranger.curve_publickey = keys.other_public
    stranger.curve_secretkey = keys.other_secret
    stranger.connect(server.endpoint)
    try:
        stranger.send(b"stranger")
    except zmq.Again:
        pass  # refused before the send: libzmq dropped the pipe
    server.rcvtimeo = 500
    with pytest.raises(ours.Again):
        server.recv()
    server.rcvtimeo = TIMEOUT_MS
    honest_round_trip(pctx, server, keys, b"listed")
    stranger.close(linger=0)
    auth.stop()
    assert ctx.curve_policy is not auth


def test_certificate_directory_changing_under_the_authenticator(
    ctx, pctx, keys, tmp_path
):
    directory = tmp_path / "keys"
    directory.mkdir()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(directory))
    server = make_server(ctx, keys)
    server.endpoint = server.last_endpoint.decode()
    server.rcvtimeo = 500

    def served(payload: bytes) -> bool:
        client = pctx.socket(zmq.REQ)
        curve_client(client, keys)
        client.connect(server.endpoint)
        try:
            client.send(payload)
            return server.recv() == payload and (server.send(b"ok") or True)
        except (ours.Again, zmq.Again):
            return False  # refused (libzmq may drop the pipe before the send)
        finally:
            client.close(linger=0)

    path = directory / "client.key"
    path.write_text(f'curve\n    public-key = "{keys.client_public.decode()}"\n')
    assert not served(b"added, not reloaded")  # read at configure time only
    auth.configure_curve(domain="*", location=str(directory))
    assert served(b"reloaded")
    os.remove(path)
    assert served(b"removed, not reloaded")
    auth.configure_curve(domain="*", location=str(directory))
    assert not served(b"removed and reloaded")
    # a directory that vanished: logged, the domain stays as it was
    os.rmdir(directory)
    auth.configure_curve(domain="*", location=str(directory))
    assert not served(b"directory gone")
    assert_nothing_delivered(server)
    auth.stop()


# -- the monitor ---------------------------------------------------------------------


def test_monitor_nobody_reads_is_bounded(ctx, pctx, keys, monkeypatch):
    monkeypatch.setattr(monitor_module, "MAX_QUEUED_EVENTS", 40)
    server = make_server(ctx, keys)
    server.endpoint = server.last_endpoint.decode()
    monitor = server.get_monitor_socket()
    # 60 connections that hang up: ACCEPTED, HANDSHAKE_FAILED_NO_DETAIL and
    # DISCONNECTED each, 180 events nobody reads
    for _ in range(60):
        connect(server.endpoint).close()
    honest_round_trip(pctx, server, keys)
    deadline = time.monotonic() + 3
    while monitor.dropped < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(monitor._queue) == 40 and monitor.dropped >= 100
    # the oldest events are the ones kept, readable as pyzmq reads them
    first = recv_monitor_message(monitor, ours.NOBLOCK)
    assert first["event"] == ours.EVENT_ACCEPTED
    assert first["endpoint"] == server.endpoint.encode()
    monitor.close()


def test_monitor_after_close(ctx, keys):
    server = make_server(ctx, keys)
    monitor = server.get_monitor_socket()
    woken = []

    def blocked_reader():
        try:
            monitor.recv()
        except ours.ZMQError as exc:
            woken.append(exc.errno)

    reader = threading.Thread(target=blocked_reader)
    reader.start()
    time.sleep(0.05)
    monitor.close()
    reader.join(2)
    assert not reader.is_alive() and woken == [ours.ENOTSOCK]
    for call in (
        lambda: recv_monitor_message(monitor),
        lambda: recv_monitor_message(monitor, ours.NOBLOCK),
        lambda: monitor.recv_multipart(),
    ):
        with pytest.raises(ours.ZMQError) as info:
            call()
        assert info.value.errno == ours.ENOTSOCK
    with pytest.raises(ours.ZMQError):
        monitor.poll(0)
    # a new monitor can be had, and disable_monitor on a closed one is harmless
    server.disable_monitor()
    again = server.get_monitor_socket()
    assert again is not monitor and not again.closed
    server.disable_monitor()
    assert recv_monitor_message(again, ours.NOBLOCK)["event"] == (
        ours.EVENT_MONITOR_STOPPED
    )
    again.close()


LOW_ORDER_KEYS = {
    "zero": bytes(32),
    "order-8": bytes.fromhex(
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"
    ),
}


@pytest.mark.parametrize("which", sorted(LOW_ORDER_KEYS))
def test_low_order_server_key_is_einval(which, ctx, keys):
    server = make_server(ctx, keys)
    client = ctx.socket(ours.REQ)
    client.curve_publickey = keys.client_public
    client.curve_secretkey = keys.client_secret
    client.reconnect_ivl = 20
    try:
        with pytest.raises(ours.ZMQError) as info:
            client.curve_serverkey = LOW_ORDER_KEYS[which]
            client.connect(server.last_endpoint.decode())
        assert info.value.errno == ours.EINVAL
    finally:
        client.close(linger=0)
