"""The hardening options against hostile peers over real sockets (README.md,
"Hardening options"): size limits before and after authentication
(CURVE_MAX_METADATA, MAXMSGSIZE), deadlines and the pending-handshake cap
(CURVE_HELLO_IVL, MAX_HANDSHAKES, HANDSHAKE_IVL), and what the server holds before
a client has proven itself (CURVE_COOKIE_LIFETIME, the state of a connection
waiting for INITIATE). Huge frame headers before HELLO and INITIATE are tested in
test_pre_handshake.py."""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import select
import socket
import sys
import time

import pytest

import curvezmq.zmq as ours
from curvezmq.auth import AuthPolicy, Decision
from curvezmq.codec import CurveServerKeys

from ._raw import (
    GREETING,
    RawCurveClient,
    closed_by_peer,
    command,
    connect,
    metadata,
)
from .conftest import (
    TIMEOUT_MS,
    assert_nothing_delivered,
    curve_client,
    engine_warnings,
    honest_round_trip,
    make_server,
    zmq,
)

pytestmark = pytest.mark.timeout(30)


def _server(ctx, keys, **options):
    sock = make_server(ctx, keys, **options)
    sock.endpoint = sock.last_endpoint.decode()
    return sock


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


# -- 1. two size limits ---------------------------------------------------------------


def test_initiate_with_a_mib_of_metadata_is_refused(server, pctx, keys, caplog):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    gc.collect()
    before = _rss()
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    big = metadata(Socket_Type=b"REQ", X_Big=bytes(2**20))
    raw.send(command(raw.initiate_body(big)))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert _rss() - before < 16 * 2**20
    assert any("INITIATE" in m for m in engine_warnings(caplog)), caplog.text
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_curve_max_metadata_is_a_socket_option(ctx, pctx, keys):
    # 300 bytes admit libzmq's ~35 bytes of INITIATE metadata and refuse 400
    server = _server(ctx, keys, curve_max_metadata=300)
    assert server.getsockopt(ours.CURVE_MAX_METADATA) == 300
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.send(command(raw.initiate_body(metadata(Socket_Type=b"REQ", X=bytes(400)))))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    honest_round_trip(pctx, server, keys)

    # and raised, it admits what the default (8 KiB) refuses
    roomy = _server(ctx, keys, curve_max_metadata=20000)
    raw = RawCurveClient(roomy.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.send(command(raw.initiate_body(metadata(Socket_Type=b"REQ", X=bytes(9000)))))
    raw.read_ready()
    raw.send(raw.request(b"roomy"))
    assert roomy.recv() == b"roomy"
    raw.close()


def test_maxmsgsize_100_with_a_pyzmq_client(ctx, pctx, keys, caplog):
    # libzmq's MAXMSGSIZE 100 would refuse its own HELLO (200 bytes); ours applies
    # to application bytes only, so a pyzmq client completes its handshake, 100
    # bytes pass and 101 close the connection
    caplog.set_level(logging.WARNING, logger="curvezmq")
    pull = ctx.socket(ours.PULL)
    pull.curve_server = True
    pull.curve_secretkey = keys.server_secret
    pull.maxmsgsize = 100
    pull.rcvtimeo = TIMEOUT_MS
    pull.linger = 0
    endpoint = f"tcp://127.0.0.1:{pull.bind_to_random_port('tcp://127.0.0.1')}"
    push = pctx.socket(zmq.PUSH)
    curve_client(push, keys)
    push.connect(endpoint)
    try:
        push.send(b"x" * 100)
        assert pull.recv() == b"x" * 100

        push.send(b"y" * 101)
        time.sleep(0.3)
        with pytest.raises(ours.Again):
            pull.recv(ours.NOBLOCK)
        warnings = engine_warnings(caplog)
        assert any("at most 100 bytes" in m for m in warnings), warnings

        # pyzmq reconnects on its own; the limit still lets it in
        push.send(b"z" * 100)
        assert pull.recv() == b"z" * 100
    finally:
        push.close(linger=0)


def test_maxmsgsize_100_against_a_pyzmq_server(ctx, pctx, keys, caplog):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    push = pctx.socket(zmq.PUSH)
    push.curve_server = True
    push.curve_secretkey = keys.server_secret
    push.linger = 0
    port = push.bind_to_random_port("tcp://127.0.0.1")
    pull = ctx.socket(ours.PULL)
    curve_client(pull, keys)
    pull.maxmsgsize = 100
    pull.connect(f"tcp://127.0.0.1:{port}")
    try:
        push.send(b"x" * 100)
        assert pull.recv() == b"x" * 100
        push.send(b"y" * 101)
        time.sleep(0.3)
        with pytest.raises(ours.Again):
            pull.recv(ours.NOBLOCK)
        assert any("at most 100 bytes" in m for m in engine_warnings(caplog))
    finally:
        push.close(linger=0)


# -- 2. deadlines and a cap without a lockout -----------------------------------------


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _half_greetings(port: int, count: int) -> list:
    # connect all at once (non-blocking), then send each half a greeting: the
    # flood arrives well within CURVE_HELLO_IVL
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        socks.append(sock)
    waiting = set(socks)
    deadline = time.monotonic() + 3.0
    while waiting and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(waiting), [], 0.1)
        for sock in writable:
            sock.send(GREETING[:32])
            waiting.discard(sock)
    assert not waiting, f"{len(waiting)} connections not made"
    now = time.monotonic()
    return [(sock, now) for sock in socks]


def _wait_all_closed(socks: list, within: float) -> list:
    """Wait for the server to close every socket; return the late ones."""
    open_ = {sock.fileno(): (sock, t) for sock, t in socks}
    deadline = time.monotonic() + within
    while open_ and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_), [], [], 0.1)
        for fd in ready:
            sock, _started = open_[fd]
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                data = b""
            if not data:
                del open_[fd]
            # else: the server's greeting; keep waiting for the close
    return list(open_.values())


def test_500_silent_half_greetings_do_not_lock_out_a_pyzmq_client(
    ctx, pctx, keys, caplog
):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    _raise_fd_limit(2048)
    cap, hello_ivl = 100, 300
    # a listen backlog above the flood, so the kernel queues every connection and
    # our cap is what the flood meets
    server = _server(
        ctx, keys, max_handshakes=cap, curve_hello_ivl=hello_ivl, backlog=1024
    )
    listener = server._engine._listeners[0]
    port = int(server.endpoint.rsplit(":", 1)[1])
    socks = []
    try:
        socks += _half_greetings(port, 250)
        # the cap is full of silent peers when the honest client arrives
        for _ in range(100):
            if len(listener.pending) == cap:
                break
            time.sleep(0.002)
        assert len(listener.pending) == cap
        started = time.monotonic()
        honest_round_trip(pctx, server, keys, b"during the flood")
        assert time.monotonic() - started < 2.0
        socks += _half_greetings(port, 250)
        honest_round_trip(pctx, server, keys, b"after the flood")

        late = _wait_all_closed(socks, hello_ivl / 1000 + 3.0)
        assert not late, f"{len(late)} silent connections still open"
    finally:
        for sock, _ in socks:
            sock.close()
    assert listener.evicted > 0
    warnings = engine_warnings(caplog)
    assert any("MAX_HANDSHAKES" in m for m in warnings)
    assert any("CURVE_HELLO_IVL" in m for m in warnings)
    assert_nothing_delivered(server)


def test_hello_ivl_spares_a_client_that_sent_its_hello(ctx, pctx, keys):
    # a greeting without HELLO goes at CURVE_HELLO_IVL; a valid HELLO then
    # silence is left to HANDSHAKE_IVL
    server = _server(ctx, keys, curve_hello_ivl=200, handshake_ivl=1500)
    assert server.curve_hello_ivl == 200
    silent = connect(server.endpoint)
    silent.sendall(GREETING)
    hello = RawCurveClient(server.endpoint, keys.server_public)
    hello.send_greeting()
    hello.send(command(hello.hello_body()))
    hello.read_greeting()
    hello.read_welcome()
    started = time.monotonic()
    try:
        assert closed_by_peer(silent, 1.0)
        assert time.monotonic() - started < 1.0
        assert not closed_by_peer(hello.sock, 0.5)
        assert closed_by_peer(hello.sock, 2.0)  # HANDSHAKE_IVL
    finally:
        silent.close()
        hello.close()
    honest_round_trip(pctx, server, keys)


class _NeverDecides(AuthPolicy):
    def authenticate(self, client_key, address):
        return asyncio.sleep(60, Decision("200"))


@pytest.mark.parametrize("who", ["policy", "validator"])
def test_handshake_ivl_bounds_the_answer_about_a_client(who, ctx, pctx, keys, caplog):
    # HANDSHAKE_IVL bounds the whole handshake, the answer about the client
    # included, whatever CURVE_VALIDATOR_TIMEOUT allows
    caplog.set_level(logging.WARNING, logger="curvezmq")
    options = {"handshake_ivl": 300, "curve_validator_timeout": 60000}
    if who == "policy":
        ctx.curve_policy = _NeverDecides()
    else:

        async def slow(key, certificate, address):
            await asyncio.sleep(60)
            return True

        options["curve_validator"] = slow
    server = _server(ctx, keys, **options)
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    raw.send(command(raw.initiate_body()))
    started = time.monotonic()
    assert closed_by_peer(raw.sock, 2.0)
    assert time.monotonic() - started < 1.0
    raw.close()
    assert any("HANDSHAKE_IVL" in m for m in engine_warnings(caplog))
    assert_nothing_delivered(server)


def test_defaults(ctx):
    sock = ctx.socket(ours.REP)
    assert sock.getsockopt(ours.CURVE_MAX_METADATA) == 8192
    assert sock.getsockopt(ours.CURVE_HELLO_IVL) == 2000
    assert sock.getsockopt(ours.MAX_HANDSHAKES) == 1024
    assert sock.getsockopt(ours.CURVE_COOKIE_LIFETIME) == 60000
    assert sock.getsockopt(ours.CURVE_VALIDATOR_TIMEOUT) == 5000
    assert sock.getsockopt(ours.CURVE_CERT_EXCHANGE) == 1
    assert sock.getsockopt(ours.CURVE_SERVERKEY_FETCH) == 0
    assert sock.handshake_ivl == 30000 and sock.maxmsgsize == -1
    for option, bad in [
        (ours.MAX_HANDSHAKES, 0),
        (ours.CURVE_COOKIE_LIFETIME, 0),
        (ours.CURVE_HELLO_IVL, -1),
        (ours.CURVE_CERT_EXCHANGE, 2),
    ]:
        with pytest.raises(ours.ZMQError):
            sock.setsockopt(option, bad)
    sock.close()


# -- 3. state held before proof --------------------------------------------------------


def _waiting_for_initiate(server, keys):
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    return raw


def _cookie_refused(raw, caplog) -> bool:
    raw.send(command(raw.initiate_body()))
    closed = closed_by_peer(raw.sock, 2.0)
    raw.close()
    return closed and any("cookie" in m for m in engine_warnings(caplog))


def test_cookie_key_two_rotations_old_is_refused(ctx, pctx, keys, caplog):
    caplog.set_level(logging.WARNING, logger="curvezmq")
    # long enough that the first INITIATE (at 1.3 lifetimes) is well within the
    # two lifetimes a key lives, even on a loaded machine
    lifetime = 500
    server = _server(ctx, keys, curve_cookie_lifetime=lifetime)
    assert server.curve_cookie_lifetime == lifetime

    # one rotation old (the previous key) still opens
    raw = _waiting_for_initiate(server, keys)
    time.sleep(1.3 * lifetime / 1000)
    raw.send(command(raw.initiate_body()))
    raw.read_ready()
    raw.close()

    # two rotations old: the key is wiped, the cookie opens no more
    raw = _waiting_for_initiate(server, keys)
    time.sleep(2.3 * lifetime / 1000)
    assert _cookie_refused(raw, caplog), caplog.text
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def _reachable(root, shared: list) -> list:
    """Every object reachable from root without passing through a shared one."""
    seen = {id(o) for o in shared}
    out, stack = [], [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, type(sys), type(_reachable))):
            continue
        seen.add(id(obj))
        out.append(obj)
        stack.extend(gc.get_referents(obj))
    return out


def test_a_connection_waiting_for_initiate_holds_nothing_of_the_client(server, keys):
    # no state before proof: between WELCOME and INITIATE the connection keeps
    # its transport, an empty read buffer bounded by one INITIATE, and nothing
    # the client sent or that the WELCOME sealed
    raw = _waiting_for_initiate(server, keys)
    try:
        listener = server._engine._listeners[0]
        for _ in range(50):
            if listener.pending:
                break
            time.sleep(0.01)
        (protocol,) = list(listener.pending)
        conn = protocol.conn
        assert conn.handshake_progress == 2
        assert len(conn._buf) == 0
        assert conn._limit == 257 + 8192  # the next frame: one INITIATE at most
        assert protocol._hello_timer is None  # the HELLO deadline was met
        codec = conn.mechanism._codec
        assert codec._key is None and codec.client_key is None
        assert not codec.peer_metadata and codec._session is None

        # nothing reachable from the connection holds C', S' or the cookie
        engine = server._engine
        shared = [
            engine,
            protocol.owner,
            protocol.loop,
            protocol.transport,
            codec._keys,
            codec._backend,
            codec._log,
            conn._log,
            conn.mechanism._logger,
            conn.mechanism._server_keys,
            conn.mechanism._certificate,
        ]
        reachable = _reachable(protocol, shared)
        buffers = [
            bytes(o) for o in reachable if isinstance(o, (bytes, bytearray)) and o
        ]
        for secret in (raw.cn_public, raw.server_cn, raw.cookie):
            assert not any(secret in b for b in buffers)
        size = sum(sys.getsizeof(o) for o in reachable)
        assert size < 8192, f"{size} bytes per connection waiting for INITIATE"
    finally:
        raw.close()


def test_server_keys_follow_the_cookie_lifetime_option(ctx, keys):
    server = _server(ctx, keys, curve_cookie_lifetime=1234)
    raw = _waiting_for_initiate(server, keys)
    raw.close()
    (server_keys,) = server._engine._server_keys.values()
    assert isinstance(server_keys, CurveServerKeys)
    assert server_keys.cookie_lifetime == pytest.approx(1.234)
