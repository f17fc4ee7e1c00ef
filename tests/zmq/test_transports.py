"""Transports against libzmq: ipc (paths, ipc://*, abstract names, stale and live
socket files), IPv6 on [::1] and the dual-stack wildcard, and
bind_to_random_port's two modes."""

from __future__ import annotations

import errno
import os
import socket
import sys
import time

import pytest
import zmq as pyzmq

from curvezmq import zmq

from .conftest import TIMEOUT_MS, curve_client, curve_server

pytestmark = pytest.mark.timeout(60)


def _setup(sock, **options):
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    for name, value in options.items():
        setattr(sock, name, value)
    return sock


def _round_trip(req, rep) -> None:
    req.send(b"ping")
    assert rep.recv() == b"ping"
    rep.send(b"pong")
    assert req.recv() == b"pong"


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(
    not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine"
)
needs_unix = pytest.mark.skipif(
    not hasattr(socket, "AF_UNIX"), reason="no unix sockets"
)


# -- ipc ---------------------------------------------------------------------------


@needs_unix
@pytest.mark.parametrize("ours", ["bound", "connecting"])
def test_ipc_round_trip_with_libzmq(ctx, pctx, keys, tmp_path, ours):
    endpoint = f"ipc://{tmp_path}/feed.sock"
    if ours == "bound":
        rep, req = _setup(ctx.socket(zmq.REP)), _setup(pctx.socket(pyzmq.REQ))
    else:
        rep, req = _setup(pctx.socket(pyzmq.REP)), _setup(ctx.socket(zmq.REQ))
    curve_server(rep, keys)
    curve_client(req, keys)
    rep.bind(endpoint)
    assert rep.last_endpoint == endpoint.encode()
    req.connect(endpoint)
    _round_trip(req, rep)


@needs_unix
def test_ipc_wildcard_and_cleanup(ctx, pctx):
    pull = _setup(ctx.socket(zmq.PULL))
    pull.bind("ipc://*")
    endpoint = pull.last_endpoint.decode()
    path = endpoint[len("ipc://") :]
    assert os.path.exists(path)
    push = _setup(pctx.socket(pyzmq.PUSH))
    push.connect(endpoint)
    push.send(b"through a fresh path")
    assert pull.recv() == b"through a fresh path"
    pull.close()
    deadline = time.monotonic() + 3
    while os.path.exists(path):  # removed when the listener closes
        assert time.monotonic() < deadline
        time.sleep(0.01)


@needs_unix
def test_ipc_stale_file_replaced_live_one_refused(ctx, pctx, tmp_path):
    path = str(tmp_path / "stale.sock")
    # a socket file whose process is gone
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(path)
    dead.close()
    assert os.path.exists(path)
    pull = _setup(ctx.socket(zmq.PULL))
    pull.bind(f"ipc://{path}")
    push = _setup(pctx.socket(pyzmq.PUSH))
    push.connect(f"ipc://{path}")
    push.send(b"fresh")
    assert pull.recv() == b"fresh"

    # a path someone still listens on is not stolen (libzmq would unlink it)
    other = ctx.socket(zmq.PULL)
    with pytest.raises(zmq.ZMQError) as info:
        other.bind(f"ipc://{path}")
    assert info.value.errno == zmq.EADDRINUSE
    # nor is a file that is not a socket
    plain = tmp_path / "plain"
    plain.write_text("keep me")
    with pytest.raises(zmq.ZMQError) as info:
        other.bind(f"ipc://{plain}")
    assert info.value.errno == zmq.EADDRINUSE
    assert plain.read_text() == "keep me"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_ipc_abstract_name_with_libzmq(ctx, pctx):
    name = f"ipc://@curvezmq-test-{os.getpid()}-{time.monotonic_ns()}"
    push = _setup(pctx.socket(pyzmq.PUSH))
    push.bind(name)
    pull = _setup(ctx.socket(zmq.PULL))
    pull.connect(name)
    push.send(b"abstract")
    assert pull.recv() == b"abstract"


# -- IPv6 --------------------------------------------------------------------------


@needs_ipv6
@pytest.mark.parametrize("ours", ["bound", "connecting"])
def test_ipv6_round_trip_with_libzmq(ctx, pctx, keys, ours):
    if ours == "bound":
        rep, req = _setup(ctx.socket(zmq.REP)), _setup(pctx.socket(pyzmq.REQ))
    else:
        rep, req = _setup(pctx.socket(pyzmq.REP)), _setup(ctx.socket(zmq.REQ))
    for sock in (rep, req):
        sock.ipv6 = 1
    curve_server(rep, keys)
    curve_client(req, keys)
    rep.bind("tcp://[::1]:*")
    endpoint = rep.last_endpoint.decode()
    assert endpoint.startswith("tcp://[::1]:")
    req.connect(endpoint)
    _round_trip(req, rep)
    if ours == "bound":
        req.send(b"who")
        frame = rep.recv(copy=False)
        assert frame.get("Peer-Address") == "::1"
        rep.send(b"you")
        req.recv()


@needs_ipv6
def test_ipv6_wildcard_serves_both_families(ctx, pctx):
    pull = _setup(ctx.socket(zmq.PULL), ipv6=1)
    assert pull.ipv6 == 1
    pull.bind("tcp://*:0")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://[::]:")
    port = endpoint.rsplit(":", 1)[1]
    for host in ("127.0.0.1", "[::1]"):
        push = _setup(pctx.socket(pyzmq.PUSH), ipv6=1)
        push.connect(f"tcp://{host}:{port}")
        push.send(host.encode())
        assert pull.recv() == host.encode()


def test_ipv6_address_without_the_option_is_enodev(ctx, pctx):
    for sock in (ctx.socket(zmq.PULL), pctx.socket(pyzmq.PULL)):
        sock.linger = 0
        with pytest.raises((zmq.ZMQError, pyzmq.ZMQError)) as info:
            sock.bind("tcp://[::1]:0")
        assert info.value.errno == errno.ENODEV
    ipv4 = ctx.socket(zmq.PULL)
    ipv4.bind("tcp://*:0")
    assert ipv4.last_endpoint.startswith(b"tcp://0.0.0.0:")


# -- bind_to_random_port -------------------------------------------------------------


def test_bind_to_random_port_like_pyzmq(ctx):
    sock = ctx.socket(zmq.PULL)
    # the default range: the system picks, as pyzmq does (LAST_ENDPOINT)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    assert sock.last_endpoint == f"tcp://127.0.0.1:{port}".encode()

    # an explicit range: a port of it
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert sock.bind_to_random_port("tcp://127.0.0.1", free, free + 1) == free

    # every port of the range taken: ZMQBindError after max_tries
    other = ctx.socket(zmq.PULL)
    with pytest.raises(zmq.ZMQBindError):
        other.bind_to_random_port("tcp://127.0.0.1", free, free + 1, max_tries=3)
