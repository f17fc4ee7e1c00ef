"""Cookies and minute keys: a cookie opens for at least one and less than two
lifetimes, an INITIATE is accepted once per listener, and the replay cache stays
bounded without opening a replay window or locking clients out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvezmq.codec import (
    AuthenticationRequested,
    CurveServer,
    CurveServerKeys,
    CurveState,
)
from curvezmq.errors import Reason, RemoteProtocolError

from ._pipe import ReplayRng, keypair, make_pipe

LIFETIME = 60.0


def _keys(**kwargs) -> CurveServerKeys:
    pair = keypair(b"cookie server")
    kwargs.setdefault("rng", ReplayRng(seed=b"minute keys"))
    return CurveServerKeys(pair.public, pair.secret, **kwargs)


def _hello_then_initiate(keys, hello_at: float, seed=b"c"):
    """A handshake up to the client's INITIATE, which is returned unsent."""
    pipe = make_pipe(keys=keys, seed=seed)
    pipe.client.start(hello_at)
    pipe.server.receive(pipe.client.data_to_send()[0], hello_at)
    pipe.client.receive(pipe.server.data_to_send()[0], hello_at)
    [initiate] = pipe.client.data_to_send()
    return pipe, initiate


def _initiate_at(keys, hello_at, initiate_at, seed=b"c"):
    pipe, initiate = _hello_then_initiate(keys, hello_at, seed)
    return pipe.server.receive(initiate, initiate_at)


def _another_handshake(keys, now, seed):
    """Some other client's handshake: drives rotations and fills the cache."""
    pipe = make_pipe(keys=keys, seed=seed)
    pipe.now = now
    pipe.handshake()
    return pipe


def test_cookie_after_one_rotation_is_accepted():
    keys = _keys()
    [event] = _initiate_at(keys, 0.0, LIFETIME + 1)
    assert isinstance(event, AuthenticationRequested)


def test_cookie_after_one_rotation_driven_by_other_traffic_is_accepted():
    keys = _keys()
    pipe, initiate = _hello_then_initiate(keys, 0.0)
    _another_handshake(keys, LIFETIME + 1, b"other")
    assert len(keys._generations) == 2
    [event] = pipe.server.receive(initiate, 2 * LIFETIME - 1)
    assert isinstance(event, AuthenticationRequested)


@pytest.mark.parametrize(
    "traffic", [[], [LIFETIME + 1], [LIFETIME + 1, 2 * LIFETIME + 2]]
)
def test_cookie_after_two_rotations_is_refused(traffic):
    keys = _keys()
    pipe, initiate = _hello_then_initiate(keys, 0.0)
    for index, now in enumerate(traffic):
        _another_handshake(keys, now, b"other %d" % index)
    with pytest.raises(RemoteProtocolError) as info:
        pipe.server.receive(initiate, 2 * LIFETIME + 3)
    assert info.value.reason is Reason.ZMTP_CRYPTOGRAPHIC
    assert pipe.server.state is CurveState.ERROR


def test_cookie_key_is_wiped_when_it_expires():
    keys = _keys()
    _hello_then_initiate(keys, 0.0)
    [first] = keys._generations
    key = first.key
    keys._rotate(2 * LIFETIME)
    assert key == bytearray(32) and first.key is None
    assert first not in keys._generations


@settings(max_examples=40, deadline=None)
@given(
    hello_at=st.floats(0, 1000),
    age=st.floats(0, 3 * LIFETIME),
    traffic=st.lists(st.floats(0, 3 * LIFETIME), max_size=3),
)
def test_cookie_lifetime_is_between_one_and_two_periods(hello_at, age, traffic):
    keys = _keys()
    pipe, initiate = _hello_then_initiate(keys, hello_at)
    for index, offset in enumerate(sorted(t for t in traffic if t <= age)):
        _another_handshake(keys, hello_at + offset, b"traffic %d" % index)
    try:
        pipe.server.receive(initiate, hello_at + age)
    except RemoteProtocolError as exc:
        assert exc.reason is Reason.ZMTP_CRYPTOGRAPHIC
        assert age >= LIFETIME
    else:
        assert age < 2 * LIFETIME


def test_replayed_initiate_on_a_second_connection_is_refused():
    keys = _keys()
    first = make_pipe(keys=keys, seed=b"victim")
    first.handshake()
    [initiate] = first.bodies(b"INITIATE")

    # the attacker opens its own connection, says HELLO, then replays the INITIATE
    attacker = make_pipe(keys=keys, seed=b"attacker")
    attacker.client.start(0.0)
    attacker.server.receive(attacker.client.data_to_send()[0], 0.0)
    with pytest.raises(RemoteProtocolError) as info:
        attacker.server.receive(initiate, 1.0)
    assert info.value.reason is Reason.ZMTP_KEY_EXCHANGE
    assert attacker.server.state is CurveState.ERROR
    assert attacker.server.client_key is None


def test_an_initiate_that_failed_does_not_spend_its_cookie():
    keys = _keys()
    pipe, initiate = _hello_then_initiate(keys, 0.0)
    # same cookie, broken box: refused, and the cookie is not remembered
    broken = initiate[:-1] + bytes([initiate[-1] ^ 1])
    other = CurveServer(keys)
    other.receive(_hello(keys), 0.0)
    with pytest.raises(RemoteProtocolError):
        other.receive(broken, 0.0)
    assert keys._entries == 0
    [event] = pipe.server.receive(initiate, 0.0)
    assert isinstance(event, AuthenticationRequested)
    assert keys._entries == 1


def _hello(keys) -> bytes:
    pipe = make_pipe(keys=keys, seed=b"hello only")
    pipe.client.start(0.0)
    return pipe.client.data_to_send()[0]


def test_replay_cache_stays_bounded_without_a_replay_window_or_lockout():
    keys = _keys(replay_cache_size=3)
    initiates = []
    for index in range(10):
        pipe = make_pipe(keys=keys, seed=b"client %d" % index)
        pipe.now = index * 7.0
        pipe.handshake()
        initiates += pipe.bodies(b"INITIATE")
        assert keys._entries <= 3
    # every accepted INITIATE stays refused, whatever was retired to make room
    for index, initiate in enumerate(initiates):
        server = CurveServer(keys)
        server.receive(_hello(keys), 70.0)
        with pytest.raises(RemoteProtocolError) as info:
            server.receive(initiate, 70.0)
        assert info.value.reason in (
            Reason.ZMTP_KEY_EXCHANGE,
            Reason.ZMTP_CRYPTOGRAPHIC,
        )


def test_replay_cache_of_one_still_accepts_every_honest_client():
    keys = _keys(replay_cache_size=1)
    for index in range(4):
        pipe = make_pipe(keys=keys, seed=b"honest %d" % index)
        pipe.handshake()
        assert keys._entries <= 1


def test_entries_expire_with_their_key():
    keys = _keys()
    for index in range(3):
        _another_handshake(keys, 0.0, b"early %d" % index)
    assert keys._entries == 3
    _another_handshake(keys, 2 * LIFETIME, b"late")
    assert keys._entries == 1


def test_bad_settings_are_refused():
    pair = keypair(b"settings")
    with pytest.raises(ValueError):
        CurveServerKeys(pair.public, pair.secret, cookie_lifetime=0)
    with pytest.raises(ValueError):
        CurveServerKeys(pair.public, pair.secret, replay_cache_size=0)


def test_cookie_holds_c_prime_and_s_prime_sealed_with_the_minute_key():
    keys = _keys()
    pipe = make_pipe(keys=keys, server_rng=ReplayRng(bytes(range(32))))
    pipe.client.start(0.0)
    pipe.flush()
    [initiate] = pipe.bodies(b"INITIATE")
    cookie = initiate[9:105]
    minute_key = keys._generations[-1].key
    plain = keys.backend.box_open_afternm(
        cookie[16:], b"COOKIE--" + cookie[:16], minute_key
    )
    assert plain[:32] == pipe.client._cn_public
    assert plain[32:] == bytes(range(32))


def test_a_bound_cookie_opens_only_on_its_own_connection():
    keys = _keys()
    victim = make_pipe(keys=keys, seed=b"victim", binding=b"10.0.0.1:4000")
    victim.client.start(0.0)
    victim.server.receive(victim.client.data_to_send()[0], 0.0)
    victim.client.receive(victim.server.data_to_send()[0], 0.0)
    [initiate] = victim.client.data_to_send()

    # raced onto another connection, the INITIATE's cookie does not open there
    thief = make_pipe(keys=keys, seed=b"thief", binding=b"10.0.0.2:5000")
    thief.client.start(0.0)
    thief.server.receive(thief.client.data_to_send()[0], 0.0)
    with pytest.raises(RemoteProtocolError) as info:
        thief.server.receive(initiate, 0.0)
    assert info.value.reason is Reason.ZMTP_CRYPTOGRAPHIC

    # and the honest client, on its own connection, still gets through
    [event] = victim.server.receive(initiate, 0.0)
    assert event.client_key == keypair(b"victim client").public
