"""Certificate exchange between curvezmq peers and the CURVE peer validator
(docs/extensions.md), over real sockets: certificates in INITIATE and READY, a
validator that admits, refuses, raises or is too slow, the certificate fetch with
a known-hosts store (first contact trusted, a changed key refused), and libzmq on
the other side of each."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

import curvezmq.zmq as ours
import curvezmq.zmq.asyncio as ours_asyncio
from curvezmq.certs import Certificate, KnownHosts
from curvezmq.keys import key_bytes
from curvezmq.zmtp import CERTIFICATE_PROPERTY, CertificateExchangeError

from ._raw import RawCurveClient, closed_by_peer, command, metadata, read_frame
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


class Recorder:
    """A validator that records what it was asked and answers as told."""

    def __init__(self, answer=True, delay: float = 0.0):
        self.answer = answer
        self.delay = delay
        self.calls: list = []

    def __call__(self, key, certificate, address):
        self.calls.append((key, certificate, address))
        if self.delay:
            time.sleep(self.delay)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


def _server(ctx, keys, **options):
    sock = make_server(ctx, keys, **options)
    sock.endpoint = sock.last_endpoint.decode()
    return sock


def _client(ctx, keys, endpoint, kind=None, **options):
    sock = ctx.socket(kind if kind is not None else ours.REQ)
    curve_client(sock, keys)
    for name, value in options.items():
        setattr(sock, name, value)
    sock.connect(endpoint)
    return sock


def _fetching_client(ctx, keys, endpoint, **options):
    # a client with no server key: it fetches the server's certificate
    sock = ctx.socket(ours.REQ)
    sock.curve_publickey = keys.client_public
    sock.curve_secretkey = keys.client_secret
    sock.curve_serverkey_fetch = True
    sock.linger = 0
    sock.rcvtimeo = TIMEOUT_MS
    for name, value in options.items():
        setattr(sock, name, value)
    sock.connect(endpoint)
    return sock


def _wait_for(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _errors(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("curvezmq")
    ]


# -- certificates in the handshake -----------------------------------------------------


def test_certificates_are_exchanged_and_validated(ctx, keys):
    server_check, client_check = Recorder(), Recorder()
    server = _server(
        ctx,
        keys,
        curve_certificate=Certificate(keys.server_public, metadata={"name": "srv"}),
        curve_validator=server_check,
    )
    client = _client(
        ctx,
        keys,
        server.endpoint,
        curve_certificate=Certificate(
            keys.client_public, metadata={"name": "cli", "email": "c@example.org"}
        ).public_text(),
        curve_validator=client_check,
    )
    client.send(b"hello")
    frame = server.recv(copy=False)
    assert frame.bytes == b"hello"
    server.send(b"world")
    assert client.recv() == b"world"

    ((key, certificate, address),) = server_check.calls
    assert key == key_bytes(keys.client_public) and address == "127.0.0.1"
    assert certificate.metadata == {"name": "cli", "email": "c@example.org"}
    assert certificate.public_key == key
    ((key, certificate, address),) = client_check.calls
    assert key == key_bytes(keys.server_public) and address == server.endpoint
    assert certificate.metadata == {"name": "srv"}
    # the property is ours: it is not reported as a message property
    with pytest.raises(ours.ZMQError):
        frame.get(CERTIFICATE_PROPERTY)
    client.close()


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(False, id="False"),
        pytest.param(RuntimeError("boom"), id="raises"),
        pytest.param("yes", id="truthy-not-True"),
    ],
)
def test_server_validator_refusal_sends_error_400(answer, ctx, pctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    check = Recorder(answer)
    server = _server(ctx, keys, curve_validator=check)
    client = _client(ctx, keys, server.endpoint)
    client.send(b"let me in")
    # ERROR "400" reaches our client, which stops for good, as libzmq does
    _wait_for(lambda: any("ERROR '400'" in m for m in _errors(caplog)))
    assert_nothing_delivered(server)
    (connecter,) = client._engine.connecters
    assert connecter.stopped and connecter.handshakes == 0
    assert len(check.calls) == 1
    client.close()


def test_libzmq_client_is_validated_without_a_certificate(ctx, pctx, keys):
    check = Recorder()
    server = _server(ctx, keys, curve_validator=check)
    honest_round_trip(pctx, server, keys)
    ((key, certificate, address),) = check.calls
    assert key == key_bytes(keys.client_public)
    assert certificate is None and address == "127.0.0.1"


def test_libzmq_client_refused_by_the_validator_gets_error_400(ctx, pctx, keys):
    server = _server(ctx, keys, curve_validator=Recorder(False))
    client = pctx.socket(zmq.REQ)
    curve_client(client, keys)
    monitor = client.get_monitor_socket()
    client.connect(server.endpoint)
    client.send(b"x")
    deadline = time.monotonic() + 3
    events = []
    while time.monotonic() < deadline:
        if monitor.poll(100):
            from zmq.utils.monitor import recv_monitor_message

            events.append(recv_monitor_message(monitor))
            if events[-1]["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                break
    assert events and events[-1]["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH
    assert events[-1]["value"] == 400
    assert_nothing_delivered(server)
    client.disable_monitor()
    client.close(linger=0)


def test_client_validator_refuses_the_server(ctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = _server(ctx, keys)
    check = Recorder(False)
    client = _client(ctx, keys, server.endpoint, curve_validator=check)
    client.send(b"for the real server only")
    _wait_for(lambda: any("refused by the validator" in m for m in _errors(caplog)))
    assert_nothing_delivered(server)
    (connecter,) = client._engine.connecters
    assert connecter.stopped and len(check.calls) == 1
    client.close()


def test_client_validator_with_a_libzmq_server(ctx, pctx, keys):
    server = pctx.socket(zmq.REP)
    server.curve_server = True
    server.curve_secretkey = keys.server_secret
    server.rcvtimeo = TIMEOUT_MS
    server.linger = 0
    port = server.bind_to_random_port("tcp://127.0.0.1")
    check = Recorder()
    client = _client(ctx, keys, f"tcp://127.0.0.1:{port}", curve_validator=check)
    client.send(b"hi libzmq")
    assert server.recv() == b"hi libzmq"
    server.send(b"hi")
    assert client.recv() == b"hi"
    ((key, certificate, _),) = check.calls
    assert key == key_bytes(keys.server_public) and certificate is None
    client.close()
    server.close()


def test_server_validator_timing_out_refuses(ctx, keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    slow = Recorder(True, delay=1.0)
    server = _server(ctx, keys, curve_validator=slow, curve_validator_timeout=200)
    client = _client(ctx, keys, server.endpoint)
    started = time.monotonic()
    client.send(b"slow")
    _wait_for(lambda: any("ERROR '400'" in m for m in _errors(caplog)))
    assert time.monotonic() - started < 0.9  # the validator would take 1 s
    assert any("within 200 ms" in m for m in engine_warnings(caplog)), caplog.text
    assert_nothing_delivered(server)
    client.close()


def test_async_client_validator_timing_out_retries(keys, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    calls = []

    async def never(key, certificate, address):
        calls.append(address)
        await asyncio.sleep(10)
        return True

    async def main():
        ctx = ours_asyncio.Context()
        server = make_server(ctx, keys)
        endpoint = server.last_endpoint.decode()
        client = ctx.socket(ours.REQ)
        curve_client(client, keys)
        client.curve_validator = never
        client.curve_validator_timeout = 100
        client.reconnect_ivl = 50
        client.connect(endpoint)
        await asyncio.sleep(0.8)
        (connecter,) = client._engine.connecters
        assert not connecter.stopped and connecter.handshakes == 0
        assert len(calls) >= 2  # timed out, then tried again
        ctx.destroy(linger=0)

    asyncio.run(main())
    assert any("within 100 ms" in m for m in engine_warnings(caplog))


def test_async_validator_admits(keys):
    async def admit(key, certificate, address):
        await asyncio.sleep(0.01)
        return certificate is not None and certificate.public_key == key

    async def main():
        ctx = ours_asyncio.Context()
        server = make_server(ctx, keys, curve_validator=admit)
        client = ctx.socket(ours.REQ)
        curve_client(client, keys)
        client.curve_validator = admit
        client.connect(server.last_endpoint.decode())
        await client.send(b"async")
        assert await server.recv() == b"async"
        await server.send(b"ok")
        assert await client.recv() == b"ok"
        ctx.destroy(linger=0)

    asyncio.run(main())


def test_certificate_for_another_key_is_refused_at_bind(ctx, keys):
    sock = ctx.socket(ours.REP)
    sock.curve_server = True
    sock.curve_secretkey = keys.server_secret
    sock.curve_certificate = Certificate(keys.other_public)
    with pytest.raises(ours.ZMQError):
        sock.bind("tcp://127.0.0.1:*")
    sock.close()


# -- a hostile client's certificate ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"not zpl at all \x00", id="garbage"),
        pytest.param(b'curve\n    secret-key = "x"\n', id="no-public-key"),
        pytest.param("other", id="another-key"),
    ],
)
def test_bad_certificate_in_initiate_is_refused(text, server, pctx, keys):
    if text == "other":
        text = Certificate(keys.other_public).public_text()
    raw = RawCurveClient(server.endpoint, keys.server_public)
    raw.send_greeting()
    raw.send(command(raw.hello_body()))
    raw.read_greeting()
    raw.read_welcome()
    meta = metadata(Socket_Type=b"REQ", X_CurveZMQ_Certificate=text)
    raw.send(command(raw.initiate_body(meta)))
    assert closed_by_peer(raw.sock, 2.0)
    raw.close()
    assert_nothing_delivered(server)
    honest_round_trip(pctx, server, keys)


def test_raw_client_gets_the_server_certificate_only_when_it_offers_one(server, keys):
    def ready_metadata(offer: bool) -> bytes:
        raw = RawCurveClient(server.endpoint, keys.server_public)
        raw.send_greeting()
        raw.send(command(raw.hello_body()))
        raw.read_greeting()
        raw.read_welcome()
        props = {"Socket_Type": b"REQ"}
        if offer:
            props["X_CurveZMQ_Certificate"] = Certificate(raw.public).public_text()
        raw.send(command(raw.initiate_body(metadata(**props))))
        plain = raw.read_ready()
        raw.close()
        return plain

    assert CERTIFICATE_PROPERTY.encode() not in ready_metadata(False)
    assert CERTIFICATE_PROPERTY.encode() in ready_metadata(True)


# -- fetching the server's certificate -------------------------------------------------


def test_fetch_from_our_server(ctx, keys):
    server = _server(
        ctx, keys, curve_certificate=Certificate(keys.server_public, None, {"a": "b"})
    )
    certificate = ours.fetch_server_certificate(server.endpoint, timeout=2.0)
    assert certificate.public_key == key_bytes(keys.server_public)
    assert certificate.metadata == {"a": "b"} and certificate.secret_key is None


def test_fetch_against_libzmq_fails_clearly(ctx, pctx, keys, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    server = pctx.socket(zmq.REP)
    server.curve_server = True
    server.curve_secretkey = keys.server_secret
    server.linger = 0
    endpoint = f"tcp://127.0.0.1:{server.bind_to_random_port('tcp://127.0.0.1')}"
    with pytest.raises(CertificateExchangeError) as info:
        ours.fetch_server_certificate(endpoint, timeout=2.0)
    assert not info.value.supported
    assert "certificate exchange not supported" in str(info.value)

    # the socket option says the same, once, and stops
    client = _fetching_client(
        ctx, keys, endpoint, curve_known_hosts=str(tmp_path / "known_hosts").encode()
    )
    _wait_for(lambda: any("not supported" in m for m in _errors(caplog)))
    (connecter,) = client._engine.connecters
    assert connecter.stopped and not (tmp_path / "known_hosts").exists()
    client.close()
    server.close()


def test_fetch_when_our_server_turned_the_exchange_off(ctx, keys):
    server = _server(ctx, keys, curve_cert_exchange=0)
    with pytest.raises(CertificateExchangeError) as info:
        ours.fetch_server_certificate(server.endpoint, timeout=2.0)
    assert not info.value.supported


def test_first_contact_trusted_then_changed_key_refused(ctx, keys, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")
    known_hosts = tmp_path / "dir" / "known_hosts"

    def fetching_client(endpoint):
        return _fetching_client(
            ctx, keys, endpoint, curve_known_hosts=str(known_hosts).encode()
        )

    # first contact: the key is written down and trusted
    first = _server(ctx, keys)
    endpoint = first.endpoint
    client = fetching_client(endpoint)
    assert client.curve_serverkey_fetch == 1 and client.mechanism == ours.CURVE
    client.send(b"first")
    assert first.recv() == b"first"
    first.send(b"ok")
    assert client.recv() == b"ok"
    client.close()
    assert KnownHosts(known_hosts).lookup(endpoint) == key_bytes(keys.server_public)
    assert any("on first use" in m for m in engine_warnings(caplog))
    assert (known_hosts.stat().st_mode & 0o777) == 0o600

    # a known key is trusted again, silently
    client = fetching_client(endpoint)
    client.send(b"again")
    assert first.recv() == b"again"
    first.send(b"ok")
    assert client.recv() == b"ok"
    client.close()
    first.close()

    # another server (another key) at the same endpoint: refused, loudly, for good
    impostor = ctx.socket(ours.REP)
    impostor.curve_server = True
    impostor.curve_secretkey = keys.other_secret
    impostor.linger = 0
    for _ in range(50):
        try:
            impostor.bind(endpoint)
            break
        except ours.ZMQError:
            time.sleep(0.05)
    client = fetching_client(endpoint)
    client.send(b"for the first server only")
    _wait_for(lambda: any("refused" in m and "changed" in m for m in _errors(caplog)))
    with pytest.raises(ours.Again):
        impostor.recv(ours.NOBLOCK)
    (connecter,) = client._engine.connecters
    assert connecter.stopped
    assert KnownHosts(known_hosts).lookup(endpoint) == key_bytes(keys.server_public)
    client.close()
    impostor.close()


def test_fetch_with_a_validator_instead_of_known_hosts(ctx, keys, tmp_path):
    server = _server(ctx, keys)
    check = Recorder()
    client = _fetching_client(
        ctx,
        keys,
        server.endpoint,
        curve_validator=check,
        curve_known_hosts=str(tmp_path / "unused").encode(),
    )
    client.send(b"validated")
    assert server.recv() == b"validated"
    server.send(b"ok")
    assert client.recv() == b"ok"
    # asked once, about the fetched certificate; not again at READY
    ((key, certificate, address),) = check.calls
    assert key == key_bytes(keys.server_public) and address == server.endpoint
    assert certificate.public_key == key
    assert not (tmp_path / "unused").exists()
    client.close()


def test_known_hosts_is_safe_for_concurrent_first_contacts(tmp_path):
    store = KnownHosts(tmp_path / "kh")
    key = Certificate.generate().public_key
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(store(key, None, "tcp://x:1")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [True] * 8
    assert store.lookup("tcp://x:1") == key
    lines = (tmp_path / "kh").read_text().splitlines()
    assert len([line for line in lines if not line.startswith("#")]) == 1


def test_fetch_timeout(keys):
    import socket as _socket

    # a server that accepts and says nothing
    listener = _socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(CertificateExchangeError) as info:
            ours.fetch_server_certificate(f"tcp://127.0.0.1:{port}", timeout=0.3)
        assert info.value.supported and "within 300 ms" in str(info.value)
        assert time.monotonic() - started < 2
    finally:
        listener.close()


def test_raw_fetch_greeting_gets_one_certificate_command(server, keys):
    # the server answers a raw fetch greeting with one CERTIFICATE command
    from ._raw import connect, greeting, recv_exact

    sock = connect(server.endpoint)
    sock.sendall(greeting(b"CURVEZMQ-CERT"))
    assert recv_exact(sock, 64)[12:17] == b"CURVE"
    flags, body = read_frame(sock)
    assert flags & 0x04 and body[:12] == b"\x0bCERTIFICATE"
    assert Certificate.from_public_text(body[12:]).public_key == key_bytes(
        keys.server_public
    )
    assert closed_by_peer(sock, 2.0)
    sock.close()
