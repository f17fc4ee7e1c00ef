"""Certificate exchange in the sans-IO layer (docs/extensions.md): certificates in
INITIATE and READY between two connections in memory, the CURVEZMQ-CERT answer of a
server, and the client side of a fetch fed in any chunking."""

from __future__ import annotations

import pytest

from curvezmq import curve_keypair
from curvezmq.certs import Certificate
from curvezmq.codec import CurveServerKeys, encode_metadata
from curvezmq.errors import Reason, RemoteProtocolError
from curvezmq.keys import key_bytes
from curvezmq.zmtp import (
    CERT_MECHANISM,
    CERTIFICATE_PROPERTY,
    AuthenticationRequested,
    CertificateExchangeError,
    CertificateFetch,
    CertificateServed,
    Connection,
    ConnectionState,
    CurveClientMechanism,
    CurveServerMechanism,
    HandshakeCompleted,
)

from ._util import LIBZMQ_CURVE_GREETING, feed, greeting, pipe, split_frames


@pytest.fixture(scope="module")
def keys():
    server_public, server_secret = curve_keypair()
    client_public, client_secret = curve_keypair()
    return {
        "server": CurveServerKeys(server_public, server_secret),
        "server_public": key_bytes(server_public),
        "client": (client_public, client_secret, server_public),
        "client_public": key_bytes(client_public),
    }


def _pair(keys, client_cert=None, server_cert=None):
    client = Connection(
        "DEALER", CurveClientMechanism(*keys["client"], certificate=client_cert)
    )
    server = Connection(
        "ROUTER", CurveServerMechanism(keys["server"], certificate=server_cert)
    )
    client.start(0.0)
    server.start(0.0)
    return client, server


def _of(events, kind):
    (event,) = [e for e in events if isinstance(e, kind)]
    return event


def test_certificates_travel_both_ways_and_leave_the_metadata(keys):
    client_cert = Certificate(keys["client_public"], None, {"name": "c"})
    server_cert = Certificate(keys["server_public"], None, {"name": "s"})
    client, server = _pair(keys, client_cert, server_cert)
    client_events, server_events = pipe(client, server)

    request = _of(server_events, AuthenticationRequested)
    assert request.certificate == client_cert
    assert CERTIFICATE_PROPERTY not in request.metadata
    done = _of(server_events, HandshakeCompleted)
    assert done.certificate == client_cert
    done = _of(client_events, HandshakeCompleted)
    assert done.certificate == server_cert
    assert CERTIFICATE_PROPERTY not in done.peer_metadata
    assert done.socket_type == "ROUTER"


def test_a_server_without_a_certificate_answers_none(keys):
    # the exchange off on the server: the client's property stays an opaque one,
    # and READY carries nothing back
    client, server = _pair(keys, Certificate(keys["client_public"]), None)
    client_events, server_events = pipe(client, server)
    request = _of(server_events, AuthenticationRequested)
    assert request.certificate is None
    assert CERTIFICATE_PROPERTY in request.metadata
    assert _of(client_events, HandshakeCompleted).certificate is None


def test_a_client_that_offers_nothing_gets_nothing(keys):
    # libzmq clients never see the property
    client, server = _pair(keys, None, Certificate(keys["server_public"]))
    client_events, server_events = pipe(client, server)
    assert _of(server_events, AuthenticationRequested).certificate is None
    # the client does not strip the property, so it would show here if sent
    done = _of(client_events, HandshakeCompleted)
    assert CERTIFICATE_PROPERTY not in done.peer_metadata


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"metadata\n", id="no-key"),
        pytest.param("other", id="another-key"),
        pytest.param("secret", id="with-a-secret-key"),
    ],
)
def test_bad_peer_certificates_are_refused(keys, value):
    if value == "other":
        value = Certificate(curve_keypair()[0]).public_text()
    elif value == "secret":
        cert = Certificate.generate()
        value = cert._zpl(secret=True)
    client, server = _pair(keys, None, Certificate(keys["server_public"]))
    # the client's own metadata carries the bad property
    client._mechanism._codec._metadata += encode_metadata({CERTIFICATE_PROPERTY: value})
    with pytest.raises(RemoteProtocolError) as info:
        pipe(client, server)
    assert info.value.reason in (
        Reason.ZMTP_INVALID_METADATA,
        Reason.ZMTP_KEY_EXCHANGE,
    )
    assert server.state is ConnectionState.CLOSED


def test_server_answers_a_fetch_and_closes(keys):
    cert = Certificate(keys["server_public"], None, {"name": "s"})
    server = Connection(
        "ROUTER", CurveServerMechanism(keys["server"], certificate=cert)
    )
    server.start(0.0)
    server.data_to_send()
    events, error = feed(server, greeting(CERT_MECHANISM), chunk=7)
    assert error is None and events == [CertificateServed()]
    assert server.state is ConnectionState.CLOSED
    ((flags, body),) = split_frames(server.data_to_send())
    assert flags == 0x04 and body[:12] == b"\x0bCERTIFICATE"
    assert Certificate.from_public_text(body[12:]) == cert


def test_a_server_without_the_exchange_refuses_a_fetch(keys):
    server = Connection("ROUTER", CurveServerMechanism(keys["server"]))
    server.start(0.0)
    server.data_to_send()
    _, error = feed(server, greeting(CERT_MECHANISM))
    assert error is Reason.ZMTP_MECHANISM_MISMATCH


def test_fetch_reads_the_answer_in_any_chunking(keys):
    cert = Certificate(keys["server_public"], None, {"name": "s"})
    server = Connection(
        "ROUTER", CurveServerMechanism(keys["server"], certificate=cert)
    )
    server.start(0.0)
    fetch = CertificateFetch("tcp://here:1")
    server.receive_data(fetch.greeting(), 0.0)
    answer = server.data_to_send()
    for chunk in (1, 3, 64, len(answer)):
        fetch = CertificateFetch("tcp://here:1")
        got = None
        for i in range(0, len(answer), chunk):
            got = fetch.receive_data(answer[i : i + chunk])
        assert got == cert


def test_fetch_against_a_libzmq_greeting_then_close():
    fetch = CertificateFetch("tcp://libzmq:1")
    assert fetch.receive_data(LIBZMQ_CURVE_GREETING) is None
    error = fetch.connection_lost()
    assert isinstance(error, CertificateExchangeError) and not error.supported
    assert "certificate exchange not supported" in str(error)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(greeting(b"NULL"), id="a-NULL-server"),
        pytest.param(b"\x00" * 64, id="not-zmtp"),
    ],
)
def test_fetch_refuses_a_server_that_speaks_no_curve(answer):
    with pytest.raises(CertificateExchangeError) as info:
        CertificateFetch().receive_data(answer)
    assert not info.value.supported


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"\x04\x06\x05READY", id="another-command"),
        pytest.param(b"\x00\x03abc", id="a-data-frame"),
        pytest.param(b"\x06" + (10**6).to_bytes(8, "big"), id="too-big"),
        pytest.param(b"\x04\x0e\x0bCERTIFICATExyz"[:16], id="not-a-certificate"),
    ],
)
def test_fetch_refuses_anything_but_a_certificate(frame):
    with pytest.raises(CertificateExchangeError) as info:
        CertificateFetch().receive_data(LIBZMQ_CURVE_GREETING + frame)
    assert info.value.supported


def test_truncated_answer_is_not_mistaken_for_no_support():
    fetch = CertificateFetch()
    fetch.receive_data(LIBZMQ_CURVE_GREETING + b"\x04\x40\x0bCERT")
    assert fetch.connection_lost().supported
