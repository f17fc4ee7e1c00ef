"""NULL, PLAIN and CURVE with authentication against libzmq (pyzmq) over TCP: our
authenticators against pyzmq clients, pyzmq's authenticators against our clients,
what each side's monitor reports, and the User-Id on received frames."""

from __future__ import annotations

import asyncio
import errno
import time

import pytest
import zmq as pyzmq
from zmq.auth.thread import ThreadAuthenticator as PyzmqAuthenticator
from zmq.utils.monitor import recv_monitor_message as pyzmq_recv_monitor

from curvezmq import zmq
from curvezmq.auth import AuthPolicy, Decision
from curvezmq.certs import Certificate
from curvezmq.errors import Reason
from curvezmq.zmq.auth import CURVE_ALLOW_ANY
from curvezmq.zmq.auth.thread import ThreadAuthenticator
from curvezmq.zmq.utils import z85
from curvezmq.zmq.utils.monitor import recv_monitor_message

from .conftest import TIMEOUT_MS, bind_local, curve_client, curve_server

pytestmark = pytest.mark.timeout(60)

FAILURES = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH,
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
)
OUTCOMES = (zmq.EVENT_HANDSHAKE_SUCCEEDED, *FAILURES)


def wait_event(monitor, wanted, timeout: float = 3.0) -> dict:
    """Read monitor events (ours or pyzmq's) until one in ``wanted``."""
    recv = (
        pyzmq_recv_monitor
        if isinstance(monitor, pyzmq.Socket)
        else recv_monitor_message
    )
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if monitor.poll(50):
            event = recv(monitor)
            seen.append((int(event["event"]), int(event["value"])))
            if event["event"] in wanted:
                return event
    raise AssertionError(f"none of {wanted} within {timeout} s; saw {seen}")


def outcome(monitor) -> tuple[int, int]:
    event = wait_event(monitor, OUTCOMES)
    return int(event["event"]), int(event["value"])


@pytest.fixture
def our_auth(ctx):
    auth = ThreadAuthenticator(ctx)
    auth.start()
    yield auth
    auth.stop()


@pytest.fixture
def their_auth(pctx):
    auth = PyzmqAuthenticator(pctx)
    auth.start()
    yield auth
    auth.stop()


def _short(sock) -> None:
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS


def _client_dir(tmp_path, public_key) -> str:
    Certificate(public_key).save_public(tmp_path / "client.key")
    return str(tmp_path)


# -- CURVE -----------------------------------------------------------------------------


def test_pyzmq_authenticator_refuses_our_client(ctx, pctx, keys, their_auth, tmp_path):
    their_auth.configure_curve("*", str(tmp_path))  # no client certificate there
    server = pctx.socket(pyzmq.REP)
    curve_server(server, keys)
    client = ctx.socket(zmq.REQ)
    curve_client(client, keys)
    monitor = client.get_monitor_socket()
    client.connect(bind_local(server))
    assert outcome(monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
    # ERROR is final: the connecter stops, as libzmq's does
    wait_event(monitor, (zmq.EVENT_DISCONNECTED,))
    assert monitor.poll(300) == 0


def test_our_authenticator_refuses_pyzmq_client(ctx, pctx, keys, our_auth, tmp_path):
    other = zmq.curve_keypair()[0]
    our_auth.configure_curve("*", _client_dir(tmp_path, other))
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    server_monitor = server.get_monitor_socket()
    client = pctx.socket(pyzmq.REQ)
    curve_client(client, keys)
    client_monitor = client.get_monitor_socket()
    client.connect(bind_local(server))
    assert outcome(client_monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
    assert outcome(server_monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)


def test_our_authenticator_admits_a_listed_key(ctx, pctx, keys, our_auth, tmp_path):
    our_auth.configure_curve("*", _client_dir(tmp_path, keys.client_public))
    server = ctx.socket(zmq.ROUTER)
    curve_server(server, keys)
    client = pctx.socket(pyzmq.DEALER)
    curve_client(client, keys)
    client.routing_id = b"client-1"
    client.connect(bind_local(server))
    client.send(b"hello")
    routing_id, body = server.recv_multipart(copy=False)
    assert routing_id.bytes == b"client-1" and body.bytes == b"hello"
    # every part carries the properties, the routing id frame too
    for frame in (routing_id, body):
        assert frame.get("User-Id") == keys.client_public.decode()
        assert frame["Socket-Type"] == "DEALER"
        assert frame["Identity"] == "client-1"
        assert frame["Peer-Address"] == "127.0.0.1"


@pytest.mark.parametrize("server_side", ["ours", "pyzmq"])
@pytest.mark.parametrize("rule", ["allow", "deny"])
def test_address_rules(ctx, pctx, keys, server_side, rule):
    if server_side == "ours":
        auth = ThreadAuthenticator(ctx)
        server, client = ctx.socket(zmq.REP), pctx.socket(pyzmq.REQ)
    else:
        auth = PyzmqAuthenticator(pctx)
        server, client = pctx.socket(pyzmq.REP), ctx.socket(zmq.REQ)
    auth.start()
    try:
        getattr(auth, rule)("127.0.0.1")
        auth.configure_curve("*", CURVE_ALLOW_ANY)
        curve_server(server, keys)
        curve_client(client, keys)
        monitor = client.get_monitor_socket()
        client.connect(bind_local(server))
        if rule == "deny":
            assert outcome(monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
            return
        assert outcome(monitor) == (zmq.EVENT_HANDSHAKE_SUCCEEDED, 0)
        client.send(b"in")
        assert server.recv() == b"in"
    finally:
        auth.stop()


def test_wrong_server_key_our_client(ctx, pctx, keys):
    # libzmq cannot open our HELLO and closes without a word: all our client can
    # report is a handshake that failed without detail (the peer hung up)
    server = pctx.socket(pyzmq.REP)
    curve_server(server, keys)
    client = ctx.socket(zmq.REQ)
    curve_client(client, keys, server_public=zmq.curve_keypair()[0])
    monitor = client.get_monitor_socket()
    client.connect(bind_local(server))
    event, value = outcome(monitor)
    assert event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    assert value in (errno.EPIPE, errno.ECONNRESET)
    # not final: the client retries with backoff
    wait_event(monitor, (zmq.EVENT_CONNECT_RETRIED,))


def test_wrong_server_key_pyzmq_client(ctx, pctx, keys):
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    monitor = server.get_monitor_socket()
    client = pctx.socket(pyzmq.REQ)
    curve_client(client, keys, server_public=zmq.curve_keypair()[0])
    client.connect(bind_local(server))
    event, value = outcome(monitor)
    assert event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    assert value == zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC == Reason.ZMTP_CRYPTOGRAPHIC


# -- PLAIN -----------------------------------------------------------------------------


def _plain_client(sock, password: bytes) -> None:
    _short(sock)
    sock.plain_username = b"admin"
    sock.plain_password = password


def _plain_server(sock) -> None:
    _short(sock)
    sock.plain_server = True


@pytest.mark.parametrize("password", [b"secret", b"bogus"])
def test_plain_pyzmq_client_our_server(ctx, pctx, our_auth, password):
    our_auth.configure_plain("*", {"admin": "secret"})
    server = ctx.socket(zmq.REP)
    _plain_server(server)
    server_monitor = server.get_monitor_socket()
    client = pctx.socket(pyzmq.REQ)
    _plain_client(client, password)
    client_monitor = client.get_monitor_socket()
    client.connect(bind_local(server))
    if password == b"bogus":
        # our ERROR is libzmq's "^RROR" form: its client names an auth failure
        assert outcome(client_monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
        assert outcome(server_monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
        return
    client.send(b"hi")
    frame = server.recv(copy=False)
    assert frame.bytes == b"hi"
    assert frame.get("User-Id") == "admin"
    server.send(b"ho")
    assert client.recv() == b"ho"


@pytest.mark.parametrize("password", [b"secret", b"bogus"])
def test_plain_our_client_pyzmq_server(ctx, pctx, their_auth, password):
    their_auth.configure_plain("*", {"admin": "secret"})
    server = pctx.socket(pyzmq.REP)
    _plain_server(server)
    client = ctx.socket(zmq.REQ)
    _plain_client(client, password)
    monitor = client.get_monitor_socket()
    client.connect(bind_local(server))
    if password == b"bogus":
        assert outcome(monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
        wait_event(monitor, (zmq.EVENT_DISCONNECTED,))
        assert monitor.poll(300) == 0  # no reconnect after ERROR
        return
    client.send(b"hi")
    frame = server.recv(copy=False)
    assert frame.get("User-Id") == "admin"
    server.send(b"ho")
    assert client.recv() == b"ho"


def test_plain_server_without_a_policy_refuses_like_libzmq(ctx, pctx):
    # libzmq's PLAIN server with no ZAP handler: close, NO_DETAIL with EFAULT
    server = ctx.socket(zmq.REP)
    _plain_server(server)
    monitor = server.get_monitor_socket()
    client = pctx.socket(pyzmq.REQ)
    _plain_client(client, b"secret")
    client.connect(bind_local(server))
    assert outcome(monitor) == (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, errno.EFAULT)


# -- NULL with a ZAP domain ------------------------------------------------------------


@pytest.mark.parametrize("server_side", ["ours", "pyzmq"])
def test_null_with_zap_domain_and_deny(ctx, pctx, server_side):
    if server_side == "ours":
        auth = ThreadAuthenticator(ctx)
        server, client = ctx.socket(zmq.PUSH), pctx.socket(pyzmq.PULL)
    else:
        auth = PyzmqAuthenticator(pctx)
        server, client = pctx.socket(pyzmq.PUSH), ctx.socket(zmq.PULL)
    auth.start()
    try:
        auth.deny("127.0.0.1")
        _short(server)
        _short(client)
        server.zap_domain = b"global"
        monitor = client.get_monitor_socket()
        client.connect(bind_local(server))
        assert outcome(monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
        assert server.poll(50, zmq.POLLOUT) == 0
    finally:
        auth.stop()


def test_null_with_zap_domain_admits_anonymous(ctx, pctx, our_auth):
    our_auth.allow("127.0.0.1")
    server = ctx.socket(zmq.PULL)
    _short(server)
    server.zap_domain = b"global"
    client = pctx.socket(pyzmq.PUSH)
    _short(client)
    client.connect(bind_local(server))
    client.send(b"x")
    assert server.recv(copy=False).get("User-Id") == "anonymous"


def test_null_without_zap_domain_has_no_user_id(ctx, pctx, our_auth):
    our_auth.deny("127.0.0.1")  # never asked: no domain
    server = ctx.socket(zmq.PULL)
    _short(server)
    client = pctx.socket(pyzmq.PUSH)
    _short(client)
    client.connect(bind_local(server))
    client.send(b"x")
    frame = server.recv(copy=False)
    assert frame.get("Socket-Type") == "PUSH"
    with pytest.raises(zmq.ZMQError) as info:
        frame.get("User-Id")
    assert info.value.errno == zmq.EINVAL


# -- the monitor -----------------------------------------------------------------------


def test_monitor_reports_what_libzmqs_does(ctx, pctx, keys):
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    server_monitor = server.get_monitor_socket()
    assert server.get_monitor_socket() is server_monitor
    endpoint = bind_local(server)
    client = ctx.socket(zmq.REQ)
    curve_client(client, keys)
    client_monitor = client.get_monitor_socket()
    client.connect(endpoint)
    client.send(b"x")
    assert server.recv() == b"x"

    # the raw message: 6 bytes (uint16 event, uint32 value) and the endpoint,
    # which pyzmq's own parser reads
    raw = server_monitor.recv_multipart()
    assert len(raw[0]) == 6 and raw[1] == endpoint.encode()
    from zmq.utils.monitor import parse_monitor_message

    assert parse_monitor_message(raw)["event"] == pyzmq.EVENT_LISTENING

    accepted = wait_event(server_monitor, (zmq.EVENT_ACCEPTED,))
    assert accepted["endpoint"] == endpoint.encode() and accepted["value"] > 0
    wait_event(server_monitor, (zmq.EVENT_HANDSHAKE_SUCCEEDED,))
    for wanted in (
        zmq.EVENT_CONNECT_DELAYED,
        zmq.EVENT_CONNECTED,
        zmq.EVENT_HANDSHAKE_SUCCEEDED,
    ):
        event = wait_event(client_monitor, (wanted,))
        assert event["endpoint"] == endpoint.encode()

    client.close()
    wait_event(server_monitor, (zmq.EVENT_DISCONNECTED,))
    server.disable_monitor()
    wait_event(server_monitor, (zmq.EVENT_MONITOR_STOPPED,))
    assert server_monitor.poll(100) == 0
    server_monitor.close()
    assert server_monitor.closed
    with pytest.raises(zmq.ZMQError):
        server_monitor.recv()


def test_monitor_mask_and_nonblocking_reads(ctx):
    sock = ctx.socket(zmq.DEALER)
    _short(sock)
    monitor = sock.get_monitor_socket(
        zmq.EVENT_CONNECT_RETRIED | zmq.EVENT_MONITOR_STOPPED
    )
    with pytest.raises(zmq.Again):
        monitor.recv(zmq.NOBLOCK)
    sock.connect("tcp://127.0.0.1:1")  # refused at once: retries
    event = wait_event(monitor, (zmq.EVENT_CONNECT_RETRIED,))
    assert event["value"] >= 10 and event["endpoint"] == b"tcp://127.0.0.1:1"
    first = monitor.recv()  # part by part, like a PAIR
    assert len(first) == 6 and monitor.rcvmore == 1
    assert monitor.recv() == b"tcp://127.0.0.1:1" and monitor.rcvmore == 0
    sock.close()
    # closing the socket stops its monitor; nothing comes after that
    assert wait_event(monitor, (zmq.EVENT_MONITOR_STOPPED,))["endpoint"] == b""
    assert monitor.poll(200) == 0
    with pytest.raises(zmq.ZMQError):
        sock.get_monitor_socket()
    with pytest.raises(zmq.ZMQError):
        ctx.socket(zmq.DEALER).monitor("inproc://mine")


# -- options ---------------------------------------------------------------------------


def test_security_options_follow_libzmq(ctx, pctx):
    for lib, context in ((zmq, ctx), (pyzmq, pctx)):
        sock = context.socket(lib.DEALER)
        assert sock.mechanism == 0 and sock.zap_domain == b""
        sock.plain_username = b"u"
        assert (sock.mechanism, sock.plain_server) == (1, 0)
        assert sock.plain_username == b"u" and sock.plain_password == b""
        sock.plain_server = True
        assert (sock.mechanism, sock.plain_server) == (1, 1)
        sock.curve_server = True
        assert (sock.mechanism, sock.plain_server, sock.curve_server) == (2, 0, 1)
        sock.plain_server = False
        assert (sock.mechanism, sock.curve_server) == (0, 0)
        sock.zap_domain = b"global"
        assert sock.zap_domain == b"global"
        for option, value in (
            (lib.PLAIN_USERNAME, b""),
            (lib.PLAIN_PASSWORD, b"x" * 256),
            (lib.ZAP_DOMAIN, b"d" * 256),
        ):
            with pytest.raises(lib.ZMQError) as info:
                sock.setsockopt(option, value)
            assert info.value.errno == lib.EINVAL
        sock.close(0)


# -- asyncio ---------------------------------------------------------------------------


class _Provider:
    """A credentials provider whose callback is a coroutine, as pyzmq allows."""

    def __init__(self, allowed) -> None:
        self.allowed = allowed

    async def callback(self, domain, key):
        await asyncio.sleep(0.01)
        return key == self.allowed


def test_asyncio_authenticator_and_monitor(pctx, keys):
    import curvezmq.zmq.asyncio as zaio
    from curvezmq.zmq.auth.asyncio import AsyncioAuthenticator

    async def main():
        actx = zaio.Context()
        auth = AsyncioAuthenticator(actx)
        auth.start()
        auth.configure_curve_callback("*", _Provider(keys.client_public))
        server = actx.socket(zmq.ROUTER)
        curve_server(server, keys)
        monitor = server.get_monitor_socket()
        endpoint = bind_local(server)

        good = pctx.socket(pyzmq.DEALER)
        curve_client(good, keys)
        good.connect(endpoint)
        good.send(b"hi")
        _, body = await asyncio.wait_for(server.recv_multipart(copy=False), 3)
        assert body["User-Id"] == keys.client_public.decode()

        bad = pctx.socket(pyzmq.DEALER)
        curve_client(bad, keys)
        bad.curve_publickey, bad.curve_secretkey = pyzmq.curve_keypair()
        bad.connect(endpoint)
        seen = []
        while (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400) not in seen:
            event = await asyncio.wait_for(recv_monitor_message(monitor), 3)
            seen.append((event["event"], event["value"]))
        assert seen[0] == (zmq.EVENT_LISTENING, seen[0][1])
        assert (zmq.EVENT_HANDSHAKE_SUCCEEDED, 0) in seen
        assert await monitor.poll(0) in (0, zmq.POLLIN)

        server.close()
        auth.stop()
        actx.term()
        await actx.wait_closed()

    asyncio.run(main())


# -- a policy of our own ---------------------------------------------------------------


class _Fixed(AuthPolicy):
    """Answers every request the same way and remembers what it was asked."""

    def __init__(self, decision) -> None:
        self.decision = decision
        self.requests = []

    def decide(self, request):
        self.requests.append(request)
        return self.decision


def test_policy_metadata_becomes_message_properties(ctx, pctx, keys):
    ctx.curve_policy = policy = _Fixed(
        Decision("200", b"alice", metadata={"Role": b"admin", "Socket-Type": "X"})
    )
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    server.zap_domain = b"prod"
    client = pctx.socket(pyzmq.REQ)
    curve_client(client, keys)
    client.connect(bind_local(server))
    client.send(b"x")
    frame = server.recv(copy=False)
    assert (frame["User-Id"], frame["Role"]) == ("alice", "admin")
    # a clash: the decision's property wins over the peer's, as in libzmq
    assert frame["Socket-Type"] == "X"
    [request] = policy.requests
    assert (request.mechanism, request.domain, request.address) == (
        "CURVE",
        "prod",
        "127.0.0.1",
    )
    assert request.client_key == z85.decode(keys.client_public)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        # 300 closes without ERROR: libzmq's client sees the peer hang up
        ("300", zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL),
        ("500", zmq.EVENT_HANDSHAKE_FAILED_AUTH),
    ],
)
def test_policy_statuses_reach_a_libzmq_client(ctx, pctx, keys, status, expected):
    ctx.curve_policy = _Fixed(Decision(status))
    server = ctx.socket(zmq.REP)
    curve_server(server, keys)
    server_monitor = server.get_monitor_socket()
    client = pctx.socket(pyzmq.REQ)
    curve_client(client, keys)
    monitor = client.get_monitor_socket()
    client.connect(bind_local(server))
    event, value = outcome(monitor)
    assert event == expected
    if expected == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        assert value == int(status)
    assert outcome(server_monitor) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, int(status))
