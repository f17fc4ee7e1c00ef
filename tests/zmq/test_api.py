"""The pyzmq surface: constants, errors, options, state errors, the asyncio API."""

from __future__ import annotations

import asyncio

import pytest
import zmq as pyzmq
import zmq.asyncio as pyzmq_asyncio

import curvezmq.zmq.asyncio as zaio
from curvezmq import zmq

from .conftest import TIMEOUT_MS, bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(30)


def test_constants_have_pyzmq_numbers():
    names = [
        n
        for n in dir(pyzmq)
        if n.isupper()
        and isinstance(getattr(pyzmq, n), int)
        and n
        not in {"COPY_THRESHOLD", "DRAFT_API", "PYZMQ_DRAFT_API", "IPC_PATH_MAX_LEN"}
        and not n.startswith("NORM_")
    ]
    assert len(names) > 200
    for name in names:
        assert int(getattr(zmq, name)) == int(getattr(pyzmq, name)), name
    assert (zmq.REQ, zmq.REP, zmq.DEALER, zmq.ROUTER) == (3, 4, 5, 6)
    assert (zmq.CURVE_SERVER, zmq.CURVE_PUBLICKEY, zmq.CURVE_SECRETKEY) == (47, 48, 49)
    assert zmq.ROUTING_ID == zmq.IDENTITY == 5
    assert zmq.EFSM == 156384763 and zmq.EAGAIN == 11 and zmq.ENOTSOCK == 88


def test_versions_and_capabilities():
    assert zmq.zmq_version() == "4.3.5"
    assert zmq.zmq_version_info() == (4, 3, 5)
    assert zmq.has("curve") and zmq.has("ipc") and not zmq.has("draft")


def test_curve_keys_helpers():
    public, secret = zmq.curve_keypair()
    assert len(public) == len(secret) == 40
    assert zmq.curve_public(secret) == public
    assert pyzmq.curve_public(secret) == public
    with pytest.raises(zmq.ZMQError) as info:
        zmq.curve_public(b"short")
    assert info.value.errno == zmq.EINVAL


def test_errors_are_pyzmq_shaped(ctx):
    sock = ctx.socket(zmq.DEALER)
    with pytest.raises(zmq.Again) as info:
        sock.recv(zmq.NOBLOCK)
    assert info.value.errno == zmq.EAGAIN
    assert str(info.value) == "Resource temporarily unavailable"
    assert isinstance(info.value, zmq.ZMQError)
    with pytest.raises(zmq.Again):
        sock.send(b"no peer", zmq.NOBLOCK)
    sock.close()
    with pytest.raises(zmq.ZMQError) as info:
        sock.send(b"closed")
    assert info.value.errno == zmq.ENOTSOCK
    assert zmq.strerror(zmq.EFSM) == "Operation cannot be accomplished in current state"


def test_keys_refused_at_setsockopt(ctx, keys):
    sock = ctx.socket(zmq.REQ)
    for bad in (b"x" * 31, b"~" * 40, "not a key", b"\x00" * 33):
        with pytest.raises(zmq.ZMQError) as info:
            sock.curve_secretkey = bad
        assert info.value.errno == zmq.EINVAL
    # 32 raw bytes, 40 Z85, and 41 with a trailing NUL are all accepted
    sock.curve_publickey = keys.client_public
    sock.curve_secretkey = keys.client_secret + b"\x00"
    from curvezmq import z85

    sock.curve_serverkey = z85.decode(keys.server_public)
    assert sock.curve_serverkey == keys.server_public
    assert sock.mechanism == 2
    with pytest.raises(AttributeError):
        sock.curve_secretkey  # never read back


def test_options_round_trip_and_defaults(ctx):
    sock = ctx.socket(zmq.ROUTER)
    assert sock.linger == -1 and sock.rcvtimeo == -1 and sock.sndhwm == 1000
    assert sock.reconnect_ivl == 100 and sock.maxmsgsize == -1
    assert sock.type == zmq.ROUTER and sock.last_endpoint == b""
    sock.rcvtimeo = 250
    sock.setsockopt(zmq.LINGER, 0)
    sock.identity = b"me"
    sock.hwm = 10
    assert (sock.rcvtimeo, sock.linger, sock.routing_id) == (250, 0, b"me")
    assert sock.getsockopt(zmq.SNDHWM) == sock.getsockopt(zmq.RCVHWM) == 10
    with pytest.raises(zmq.ZMQError):
        sock.setsockopt(zmq.TYPE, 1)
    with pytest.raises(zmq.ZMQError):
        sock.setsockopt(9999, 1)
    endpoint = bind_local(sock)
    assert endpoint.startswith("tcp://127.0.0.1:") and not endpoint.endswith(":0")


def test_wildcard_bind_and_bad_endpoints(ctx):
    sock = ctx.socket(zmq.REP)
    sock.bind("tcp://*:0")
    assert sock.last_endpoint.startswith(b"tcp://0.0.0.0:")
    with pytest.raises(zmq.ZMQError) as info:
        sock.bind("pgm://eth0;239.192.1.1:5555")
    assert info.value.errno == zmq.EPROTONOSUPPORT
    with pytest.raises(zmq.ZMQError) as info:
        sock.connect("tcp://127.0.0.1")
    assert info.value.errno == zmq.EINVAL
    other = ctx.socket(zmq.REP)
    with pytest.raises(zmq.ZMQError) as info:
        other.bind(sock.last_endpoint.decode())
    assert info.value.errno == zmq.EADDRINUSE


def test_curve_client_without_keys_is_einval(ctx, keys):
    sock = ctx.socket(zmq.REQ)
    sock.curve_serverkey = keys.server_public
    with pytest.raises(zmq.ZMQError) as info:
        sock.connect("tcp://127.0.0.1:5")
    assert info.value.errno == zmq.EINVAL


def test_req_and_rep_state_errors(ctx, pctx):
    rep = ctx.socket(zmq.REP)
    rep.rcvtimeo = TIMEOUT_MS
    req = pctx.socket(pyzmq.REQ)
    req.connect(bind_local(rep))
    with pytest.raises(zmq.ZMQError) as info:
        rep.send(b"reply before request")
    assert info.value.errno == zmq.EFSM

    ours = ctx.socket(zmq.REQ)
    with pytest.raises(zmq.ZMQError) as info:
        ours.recv()
    assert info.value.errno == zmq.EFSM
    ours.connect(rep.last_endpoint.decode())
    ours.send(b"one")
    with pytest.raises(zmq.ZMQError) as info:
        ours.send(b"two")
    assert info.value.errno == zmq.EFSM


def test_rcvtimeo_raises_again_on_time(ctx):
    sock = ctx.socket(zmq.DEALER)
    sock.rcvtimeo = 200
    sock.bind("tcp://127.0.0.1:*")
    import time

    started = time.monotonic()
    with pytest.raises(zmq.Again):
        sock.recv()
    assert 0.19 <= time.monotonic() - started < 1.0


def test_sndmore_and_rcvmore(ctx, pctx):
    router = ctx.socket(zmq.ROUTER)
    router.rcvtimeo = TIMEOUT_MS
    dealer = pctx.socket(pyzmq.DEALER)
    dealer.rcvtimeo = TIMEOUT_MS
    dealer.routing_id = b"d"
    dealer.connect(bind_local(router))
    dealer.send(b"a", pyzmq.SNDMORE)
    dealer.send(b"b")
    assert router.recv() == b"d" and router.rcvmore == 1
    assert router.recv() == b"a" and router.getsockopt(zmq.RCVMORE) == 1
    assert router.recv() == b"b" and router.rcvmore == 0
    router.send(b"d", zmq.SNDMORE)
    router.send_string("héllo", zmq.SNDMORE)
    router.send_json({"n": 1})
    assert dealer.recv_multipart() == ["héllo".encode(), b'{"n": 1}']


def test_context_manager_and_instance():
    with zmq.Context() as context:
        sock = context.socket(zmq.DEALER)
        sock.bind("tcp://127.0.0.1:*")
    assert context.closed and sock.closed
    with pytest.raises(zmq.ZMQError) as info:
        context.socket(zmq.DEALER)
    assert info.value.errno == zmq.ETERM
    shared = zmq.Context.instance()
    assert zmq.Context.instance() is shared
    shared.term()


def test_unimplemented_socket_type_is_enotsup(ctx):
    with pytest.raises(zmq.ZMQError) as info:
        ctx.socket(zmq.STREAM)
    assert info.value.errno == zmq.ENOTSUP


def test_asyncio_api_against_pyzmq(keys):
    async def main():
        pctx = pyzmq_asyncio.Context()
        ctx = zaio.Context()
        try:
            server = pctx.socket(pyzmq.ROUTER)
            curve_server(server, keys)
            port = server.bind_to_random_port("tcp://127.0.0.1")
            client = ctx.socket(zmq.DEALER)
            curve_client(client, keys)
            client.connect(f"tcp://127.0.0.1:{port}")
            await client.send_multipart([b"x", b"y"])
            peer, *body = await server.recv_multipart()
            assert body == [b"x", b"y"]
            await server.send_multipart([peer, b"z"])
            assert await client.poll(TIMEOUT_MS) == zmq.POLLIN
            assert await client.recv() == b"z"
            client.rcvtimeo = 100
            with pytest.raises(zmq.Again):
                await client.recv()
        finally:
            ctx.destroy(linger=0)
            await ctx.wait_closed()
            pctx.destroy(linger=0)

    asyncio.run(main())
