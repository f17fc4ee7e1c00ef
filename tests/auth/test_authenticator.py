"""Policies and the zmq.auth Authenticator, decided without a network: the ZAP
answers pyzmq's handler gives (PROTOCOL-MORE.md sections 1.4 and 2.3)."""

from __future__ import annotations

import asyncio
import logging
import types

import pytest

from curvezmq import certs, z85, zmq
from curvezmq.auth import AllowAny, AllowKeys, AuthPolicy, AuthRequest, Decision
from curvezmq.zmq.auth import CURVE_ALLOW_ANY, Authenticator
from curvezmq.zmq.auth.asyncio import AsyncioAuthenticator
from curvezmq.zmq.auth.thread import ThreadAuthenticator

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def _context():
    return types.SimpleNamespace(curve_policy=AllowAny())


def _null(address="127.0.0.1", domain="global"):
    return AuthRequest("NULL", domain, address)


def _plain(username=b"admin", password=b"secret", domain="", address="127.0.0.1"):
    return AuthRequest("PLAIN", domain, address, b"", (username, password))


def _curve(key=KEY, domain="", address="127.0.0.1"):
    return AuthRequest("CURVE", domain, address, b"", (key,))


def _decide(policy, request):
    answer = policy.decide(request)
    if asyncio.iscoroutine(answer) or isinstance(answer, asyncio.Future):
        answer = asyncio.run(_await(answer))
    return answer


async def _await(answer):
    return await answer


def _status(decision):
    return None if decision is None else (decision.status, decision.user_id)


def test_decisions_and_requests_hold_no_surprises():
    with pytest.raises(ValueError):
        Decision("201")
    assert Decision(b"400").status == "400"
    assert Decision("200", "alice").user_id == b"alice"
    request = _plain(password=b"hunter2")
    assert "hunter2" not in repr(request)
    assert (request.username, request.password, request.client_key) == (
        b"admin",
        b"hunter2",
        b"",
    )
    assert _curve().client_key == KEY


def test_allow_any_is_libzmq_without_a_handler():
    policy = AllowAny()
    assert policy.decide(_null()) is None
    assert policy.decide(_plain()) is None  # the engine refuses PLAIN then
    assert _status(policy.decide(_curve())) == ("200", z85.encode(KEY))


def test_allow_keys_decides_curve_only():
    policy = AllowKeys([z85.encode(KEY)])
    assert _status(policy.decide(_curve())) == ("200", z85.encode(KEY))
    assert policy.decide(_curve(OTHER)).status == "400"
    assert policy.decide(_plain()) is None


def test_base_policy_hands_curve_to_authenticate():
    class Named(AuthPolicy):
        def authenticate(self, client_key, address):
            return Decision("200", address)

    assert _status(Named().decide(_curve())) == ("200", b"127.0.0.1")
    with pytest.raises(NotImplementedError):
        AuthPolicy().decide(_curve())


# -- the Authenticator --------------------------------------------------------------


def test_start_installs_and_stop_restores():
    context = _context()
    before = context.curve_policy
    auth = ThreadAuthenticator(context)
    auth.start()
    assert context.curve_policy is auth and auth.is_alive()
    second = ThreadAuthenticator(context)
    with pytest.raises(Exception) as info:
        second.start()
    # pyzmq's second bind of the ZAP endpoint fails the same way
    assert getattr(info.value, "errno", None) == zmq.EADDRINUSE
    auth.stop()
    assert context.curve_policy is before and not auth.is_alive()
    second.start()
    second.stop()


def test_unconfigured_admits_null_refuses_plain_and_curve():
    auth = Authenticator(_context())
    assert _status(_decide(auth, _null())) == ("200", b"anonymous")
    assert _decide(auth, _plain()).reason == "No passwords defined"
    assert _decide(auth, _curve()).reason == "Unknown domain"


def test_address_lists():
    auth = Authenticator(_context())
    auth.allow("127.0.0.1")
    with pytest.raises(ValueError):
        auth.deny("10.0.0.1")
    assert _decide(auth, _null()).status == "200"
    refused = _decide(auth, _null(address="10.0.0.1"))
    assert (refused.status, refused.reason) == ("400", "Address not allowed")
    # an allowed address still needs PLAIN credentials
    assert _decide(auth, _plain()).status == "400"

    auth = Authenticator(_context())
    auth.deny("10.0.0.1")
    with pytest.raises(ValueError):
        auth.allow("127.0.0.1")
    assert _decide(auth, _null(address="10.0.0.1")).reason == "Address denied"
    assert _decide(auth, _null()).status == "200"
    auth.configure_curve(location=CURVE_ALLOW_ANY)
    assert _decide(auth, _curve(address="10.0.0.1")).status == "400"


def test_plain_passwords_by_domain(caplog):
    caplog.set_level(logging.DEBUG)
    auth = Authenticator(_context())
    auth.configure_plain("*", {"admin": "secret"})
    auth.configure_plain("global", {"other": "pw"})
    assert _status(_decide(auth, _plain())) == ("200", b"admin")
    assert _decide(auth, _plain(password=b"bogus")).reason == "Invalid password"
    assert _decide(auth, _plain(username=b"eve")).reason == "Invalid username"
    assert _decide(auth, _plain(domain="nope")).reason == "Invalid domain"
    # a non-empty domain must match exactly; "*" is only for no domain
    assert _decide(auth, _plain(domain="global")).reason == "Invalid username"
    assert _decide(auth, _plain(b"other", b"pw", "global")).status == "200"
    assert "secret" not in caplog.text and "bogus" not in caplog.text


def test_curve_by_certificate_directory(tmp_path):
    auth = Authenticator(_context())
    public_path, _ = certs.create_certificates(tmp_path, "client")
    client_key = z85.decode(certs.load_certificate(public_path)[0])
    auth.configure_curve("*", tmp_path)
    assert _status(_decide(auth, _curve(client_key))) == (
        "200",
        z85.encode(client_key),
    )
    assert _decide(auth, _curve(OTHER)).reason == "Unknown key"
    assert _decide(auth, _curve(client_key, domain="x")).reason == "Unknown domain"
    # a directory that cannot be read leaves the domain as it was
    auth.configure_curve("*", tmp_path / "missing")
    assert _decide(auth, _curve(client_key)).status == "200"
    auth.configure_curve("*", CURVE_ALLOW_ANY)
    assert _decide(auth, _curve(OTHER)).status == "200"


def test_curve_user_id_can_be_overridden():
    class Named(Authenticator):
        def curve_user_id(self, client_public_key):
            return "user-" + client_public_key[:2].hex()

    auth = Named(_context())
    auth.configure_curve(location=CURVE_ALLOW_ANY)
    assert _decide(auth, _curve()).user_id == b"user-0001"


class _Provider:
    def __init__(self, verdict):
        self.verdict = verdict
        self.calls = []

    def callback(self, domain, key):
        self.calls.append((domain, key))
        return self.verdict


class _AsyncProvider(_Provider):
    async def callback(self, domain, key):
        self.calls.append((domain, key))
        await asyncio.sleep(0)
        return self.verdict


@pytest.mark.parametrize("kind", [Authenticator, ThreadAuthenticator])
@pytest.mark.parametrize("provider_class", [_Provider, _AsyncProvider])
def test_curve_by_callback(kind, provider_class):
    auth = kind(_context())
    yes, no = provider_class(True), provider_class(False)
    auth.configure_curve_callback("*", yes)
    auth.configure_curve_callback("strict", no)

    async def run():
        async def decide(request):
            answer = auth.decide(request)
            if not isinstance(answer, Decision):
                answer = await answer
            return answer

        return (
            await decide(_curve()),
            await decide(_curve(domain="strict")),
            await decide(_curve(domain="other")),
        )

    allowed, refused, unknown = asyncio.run(run())
    assert _status(allowed) == ("200", z85.encode(KEY))
    assert yes.calls == [("*", z85.encode(KEY))]
    assert (refused.status, refused.reason) == ("400", "Unknown key")
    assert unknown.reason == "Unknown domain"


def test_asyncio_authenticator_takes_pyzmqs_arguments():
    with pytest.warns(DeprecationWarning):
        auth = AsyncioAuthenticator(_context(), loop=object())
    auth.configure_gssapi()
    auth.start()
    assert _decide(auth, _null()).status == "200"
    auth.stop()


def test_allow_keys_from_a_certificate_directory(tmp_path):
    pyzmq_public, _ = certs.create_certificates(tmp_path, "pyzmq-named")
    czmq = certs.Certificate.generate()
    czmq.save(tmp_path / "czmq-named")
    (tmp_path / "notes.txt").write_text("not a certificate\n")
    (tmp_path / "sub").mkdir()
    policy = AllowKeys.from_directory(tmp_path)
    assert len(policy) == 2
    assert certs.load_certificate(pyzmq_public)[0] in policy
    assert czmq.public_key in policy
