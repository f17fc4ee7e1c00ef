"""Secrets never appear in reprs, logs or error messages: long-term secret keys,
short-term secrets (c', s'), cookie minute keys and session keys, in any form (raw
bytes as repr shows them, hex, Z85)."""

from __future__ import annotations

import base64
import logging
import traceback

import nacl.bindings as nb
import pytest

import curvezmq
import curvezmq.zmq as ours
from curvezmq import codec, z85, zmtp
from curvezmq.keys import key_bytes

from .conftest import curve_client, honest_round_trip, make_server

pytestmark = pytest.mark.timeout(20)


def forms(secret: bytes) -> list[str]:
    """The textual forms a 32-byte secret could leak in."""
    raw = bytes(secret)
    return [
        repr(raw)[2:-1],
        repr(raw[:12])[2:-1] if len(repr(raw[:12])) > 20 else repr(raw)[2:-1],
        raw.hex(),
        raw.hex().upper(),
        raw[:8].hex(),
        z85.encode(raw).decode(),
        z85.encode(raw)[:10].decode(),
        base64.b64encode(raw).decode(),
    ]


def assert_no_secret(text: str, secrets: dict) -> None:
    for name, secret in secrets.items():
        for form in forms(secret):
            assert form not in text, f"{name} leaked as {form!r}"


class RecordingRng:
    """The backend's CSPRNG, remembering each 32-byte draw (the secrets)."""

    def __init__(self):
        self.backend = curvezmq.crypto.get_backend()
        self.draws: list[bytes] = []

    def __call__(self, n: int) -> bytes:
        out = self.backend.random(n)
        if n == 32:
            self.draws.append(out)
        return out


def test_codec_handshake_reprs_and_debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("hostile.codec")
    s_pub, s_sec = nb.crypto_box_keypair()
    c_pub, c_sec = nb.crypto_box_keypair()
    crng, srng = RecordingRng(), RecordingRng()
    keys = codec.CurveServerKeys(s_pub, s_sec, rng=srng)
    server = codec.CurveServer(keys, rng=srng, logger=log)
    client = codec.CurveClient(
        public_key=c_pub, secret_key=c_sec, server_key=s_pub, rng=crng, logger=log
    )
    reprs = []

    def snap():
        reprs.extend(repr(o) for o in (keys, server, client))

    snap()
    client.start(0.0)
    snap()
    for body in client.data_to_send():
        server.receive(body, 0.0)
    snap()
    for body in server.data_to_send():
        client.receive(body, 0.0)
    snap()
    for body in client.data_to_send():
        events = server.receive(body, 0.0)
    assert isinstance(events[0], codec.AuthenticationRequested)
    reprs.extend(repr(e) for e in events)
    reprs.extend(repr(e) for e in server.accept())
    for body in server.data_to_send():
        reprs.extend(repr(e) for e in client.receive(body, 0.0))
    snap()
    # the session key both sides hold
    session = bytes(client._key)
    for body in client.send_message([b"hello"]):
        reprs.extend(repr(e) for e in server.receive(body, 0.0))
    # a violation's message, too
    try:
        server.receive(b"\x07MESSAGE" + bytes(40), 0.0)
    except curvezmq.errors.RemoteProtocolError as exc:
        reprs.append(str(exc))
        reprs.append("".join(traceback.format_exception(exc)))
    client.close()
    keys.close()
    snap()

    c_short = crng.draws[0]  # c'
    s_short = srng.draws[0]  # s', drawn at HELLO before the cookie is minted
    minute_key = srng.draws[1]  # the first minute key, drawn at the first cookie
    secrets = {
        "server secret": s_sec,
        "client secret": c_sec,
        "c'": c_short,
        "s'": s_short,
        "minute key": minute_key,
        "session key": session,
    }
    # sanity: the recorded draws are the real ones
    s_public = nb.crypto_scalarmult_base(s_short)
    assert nb.crypto_box_beforenm(s_public, c_short) == session
    text = "\n".join(reprs) + "\n" + caplog.text
    assert "HELLO" in caplog.text or "WELCOME" in caplog.text  # DEBUG was on
    assert_no_secret(text, secrets)


def test_engine_handshake_debug_logs_and_reprs(ctx, pctx, keys, caplog):
    caplog.set_level(logging.DEBUG)
    server = make_server(ctx, keys)
    server.endpoint = server.getsockopt(ours.LAST_ENDPOINT).decode()
    client = ctx.socket(ours.REQ)
    curve_client(client, keys)
    client.connect(server.endpoint)
    client.send(b"hi")
    assert server.recv() == b"hi"
    server.send(b"yo")
    assert client.recv() == b"yo"
    honest_round_trip(pctx, server, keys)

    # grab the live session keys from inside the engine before they are wiped
    def session_keys(sock):
        engine = sock._engine
        protocols = [c.protocol for c in engine._connecters if c.protocol]
        protocols += [p.protocol for p in engine._accepted if p.protocol]
        # once established a connection keeps only the codec's session
        return [bytes(p.conn._codec._key) for p in protocols]

    sessions = ctx._run(session_keys, server) + ctx._run(session_keys, client)
    assert sessions
    reprs = [repr(o) for o in (ctx, server, client, server._engine, client._engine)]
    reprs += [repr(server._options), repr(client._options)]
    reprs += ctx._run(
        lambda: [
            repr(x)
            for e in (server._engine, client._engine)
            for x in list(e._accepted)
            + e._connecters
            + [p.protocol for p in e._accepted]
            + [p.protocol.conn for p in e._accepted]
            + [p.protocol.conn.mechanism for p in e._accepted]
            + list(e._server_keys.values())
        ]
    )
    client.close()
    server.close()
    secrets = {
        "server secret": key_bytes(keys.server_secret),
        "client secret": key_bytes(keys.client_secret),
    }
    secrets.update({f"session {i}": k for i, k in enumerate(sessions)})
    assert "handshake" in caplog.text
    assert_no_secret("\n".join(reprs) + "\n" + caplog.text, secrets)


def test_secret_key_option_is_not_read_back(ctx, keys):
    sock = ctx.socket(ours.REQ)
    sock.curve_secretkey = keys.client_secret
    with pytest.raises((ours.ZMQError, AttributeError)):
        sock.getsockopt(ours.CURVE_SECRETKEY)
    assert_no_secret(
        repr(sock) + repr(sock._options), {"c": key_bytes(keys.client_secret)}
    )


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda k: k[:39], id="39-chars"),
        pytest.param(lambda k: k[:20] + b" " + k[21:], id="bad-z85-char"),
        pytest.param(lambda k: b"#####" + k[5:], id="z85-group-too-big"),
        pytest.param(lambda k: k + b"x", id="41-chars-no-nul"),
    ],
)
def test_bad_secret_key_error_does_not_echo_it(mangle, ctx, keys):
    sock = ctx.socket(ours.REQ)
    bad = mangle(keys.client_secret)
    with pytest.raises(ours.ZMQError) as info:
        sock.curve_secretkey = bad
    assert info.value.errno == ours.EINVAL
    text = "".join(traceback.format_exception(info.value))
    for start in range(0, 40, 5):
        group = keys.client_secret[start : start + 5].decode()
        if group.strip("#"):
            assert group not in text, (group, text)


def test_connection_and_mechanism_reprs():
    s_pub, s_sec = ours.curve_keypair()
    c_pub, c_sec = ours.curve_keypair()
    keys = codec.CurveServerKeys(s_pub, s_sec)
    objs = [
        zmtp.Connection("REP", zmtp.CurveServerMechanism(keys)),
        zmtp.Connection(
            "REQ",
            zmtp.CurveClientMechanism(
                public_key=c_pub, secret_key=c_sec, server_key=s_pub
            ),
        ),
        zmtp.CurveClientMechanism(public_key=c_pub, secret_key=c_sec, server_key=s_pub),
        keys,
    ]
    text = "\n".join(repr(o) for o in objs)
    assert_no_secret(text, {"s": key_bytes(s_sec), "c": key_bytes(c_sec)})
