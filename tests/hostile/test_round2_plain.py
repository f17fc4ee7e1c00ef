"""Round 2: PLAIN (PROTOCOL-MORE.md section 2) over real TCP: the longest and
out-of-range credentials through the API, HELLOs whose lengths run past the body,
PLAIN and CURVE peers meeting each other, and the password kept out of every log
(DEBUG included) and every repr."""

from __future__ import annotations

import gc
import logging

import pytest

import curvezmq.zmq as ours
from curvezmq.auth import AuthPolicy, Decision
from curvezmq.zmq.auth.thread import ThreadAuthenticator

from ._raw import closed_by_peer, command, connect, greeting, recv_exact
from .conftest import (
    TIMEOUT_MS,
    assert_nothing_delivered,
    curve_client,
    honest_round_trip,
    make_server,
    zmq,
)

pytestmark = pytest.mark.timeout(20)

USER = b"u" * 255
PASSWORD = b"Pw0rd-" + bytes(range(0x41, 0x5B)) * 9 + b"!" * 15  # 255 bytes


def _plain_server(ctx):
    sock = ctx.socket(ours.REP)
    sock.plain_server = True
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    sock.endpoint = f"tcp://127.0.0.1:{sock.bind_to_random_port('tcp://127.0.0.1')}"
    return sock


def _plain_client(context, module, endpoint, user=USER, password=PASSWORD):
    sock = context.socket(module.REQ)
    sock.plain_username = user
    sock.plain_password = password
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    sock.connect(endpoint)
    return sock


def _send_if_still_connected(sock, payload: bytes) -> None:
    # libzmq drops the pipe of a connection whose handshake failed: on a slow
    # machine a refused client may have no pipe left to queue on
    try:
        sock.send(payload)
    except (ours.Again, zmq.Again):
        pass


def _round_trip(client, server, payload: bytes) -> None:
    client.send(payload)
    assert server.recv() == payload
    server.send(b"re:" + payload)
    assert client.recv() == b"re:" + payload


def test_longest_credentials_both_ways_and_the_password_never_shows(ctx, pctx, caplog):
    assert len(USER) == len(PASSWORD) == 255
    caplog.set_level(logging.DEBUG)
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_plain("*", {USER.decode(): PASSWORD.decode()})
    server = _plain_server(ctx)

    ours_client = _plain_client(ctx, ours, server.endpoint)
    _round_trip(ours_client, server, b"ours to ours")
    their_client = _plain_client(pctx, zmq, server.endpoint)
    _round_trip(their_client, server, b"libzmq to ours")
    # a wrong password of the same length: refused, nothing delivered
    wrong = _plain_client(pctx, zmq, server.endpoint, password=PASSWORD[:-1] + b"?")
    _send_if_still_connected(wrong, b"wrong password")

    # and our client against libzmq's PLAIN server with pyzmq's authenticator
    from zmq.auth.thread import ThreadAuthenticator as TheirAuthenticator

    their_auth = TheirAuthenticator(pctx)
    their_auth.start()
    try:
        their_auth.configure_plain("*", {USER.decode(): PASSWORD.decode()})
        their_server = pctx.socket(zmq.REP)
        their_server.plain_server = True
        their_server.linger = 0
        their_server.rcvtimeo = TIMEOUT_MS
        port = their_server.bind_to_random_port("tcp://127.0.0.1")
        to_them = _plain_client(ctx, ours, f"tcp://127.0.0.1:{port}")
        _round_trip(to_them, their_server, b"ours to libzmq")
    finally:
        their_auth.stop()

    with pytest.raises(ours.Again):
        server.recv(ours.NOBLOCK)
    secret = PASSWORD.decode()
    # ours only: pyzmq's own authenticator logs the password at DEBUG
    shown = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("curvezmq")
    )
    assert secret not in shown and secret[:24] not in shown
    assert PASSWORD[:-1].decode() not in shown
    assert str(USER.decode()) in shown  # usernames are logged, passwords never
    gc.collect()
    objects = [ours_client, to_them, server, ours_client._options, auth]
    names = ("Connection", "PlainClientMechanism", "ZmtpProtocol", "AuthRequest")
    objects += [
        o
        for o in gc.get_objects()
        if type(o).__name__ in names and str(type(o).__module__).startswith("curvezmq")
    ]
    assert any(type(o).__name__ == "PlainClientMechanism" for o in objects)
    for obj in objects:
        assert secret[:24] not in repr(obj), type(obj)
    for sock in (their_client, wrong, their_server):
        sock.close(linger=0)


@pytest.mark.parametrize("size", [0, 256])
@pytest.mark.parametrize("option", ["plain_username", "plain_password"])
def test_credentials_out_of_range_are_einval(option, size, ctx):
    sock = ctx.socket(ours.REQ)
    with pytest.raises(ours.ZMQError) as info:
        setattr(sock, option, b"x" * size)
    assert info.value.errno == ours.EINVAL
    assert sock.mechanism == ours.NULL
    with pytest.raises(TypeError):
        setattr(sock, option, "text")
    sock.close()


class _Recording(AuthPolicy):
    """Admits the PLAIN client with PASSWORD; records every request."""

    def __init__(self):
        self.requests = []

    def decide(self, request):
        self.requests.append(request)
        if request.password == PASSWORD:
            return Decision("200", request.username)
        return Decision("400")


def _hello(user: bytes, password: bytes) -> bytes:
    return (
        b"\x05HELLO" + bytes((len(user),)) + user + bytes((len(password),)) + password
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x05HELLO", id="nothing"),
        pytest.param(b"\x05HELLO\xc8user", id="username-past-the-end"),
        pytest.param(b"\x05HELLO\x04user", id="no-password-length"),
        pytest.param(b"\x05HELLO\x04user\xc8pw", id="password-past-the-end"),
        pytest.param(b"\x05HELLO\x04user\x02pwEXTRA", id="trailing-bytes"),
        pytest.param(_hello(USER, PASSWORD)[:-1], id="255-and-254-of-255"),
        pytest.param(_hello(USER, PASSWORD) + b"!", id="519-bytes"),
        pytest.param(b"\x05HELLO\xff" + b"u" * 250, id="name-255-body-250"),
        pytest.param(b"\x05HELLX\x00\x00", id="wrong-name"),
    ],
)
def test_plain_hello_lengths_past_the_body(body, ctx):
    policy = _Recording()
    ctx.curve_policy = policy
    server = _plain_server(ctx)
    raw = connect(server.endpoint)
    try:
        raw.sendall(greeting(b"PLAIN") + command(body))
        recv_exact(raw, 64)
        assert closed_by_peer(raw, 2.0)
    finally:
        raw.close()
    assert policy.requests == []
    assert_nothing_delivered(server)
    client = _plain_client(ctx, ours, server.endpoint)
    _round_trip(client, server, b"honest PLAIN client")
    assert [r.mechanism for r in policy.requests] == ["PLAIN"]


def test_plain_and_curve_peers_meet(ctx, pctx, keys):
    # PLAIN clients (libzmq and ours) at our CURVE server, our CURVE client at
    # our PLAIN server: mechanism mismatch, nothing delivered, both servers
    # still serve their own kind
    curve_server = make_server(ctx, keys)
    curve_server.endpoint = curve_server.last_endpoint.decode()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_plain("*", {"admin": "secret"})
    plain_server = _plain_server(ctx)

    strays = [
        _plain_client(pctx, zmq, curve_server.endpoint, b"admin", b"secret"),
        _plain_client(ctx, ours, curve_server.endpoint, b"admin", b"secret"),
    ]
    stray = ctx.socket(ours.REQ)
    curve_client(stray, keys)
    stray.connect(plain_server.endpoint)
    strays.append(stray)
    for sock in strays:
        sock.sndtimeo = 500
        _send_if_still_connected(sock, b"wrong mechanism")
    curve_server.rcvtimeo = 500
    with pytest.raises(ours.Again):
        curve_server.recv()
    assert_nothing_delivered(plain_server)

    auth.configure_curve("*", location="*")  # CURVE_ALLOW_ANY
    honest_round_trip(pctx, curve_server, keys)
    client = _plain_client(pctx, zmq, plain_server.endpoint, b"admin", b"secret")
    _round_trip(client, plain_server, b"plain")
    for sock in strays + [client]:
        sock.close(linger=0)
