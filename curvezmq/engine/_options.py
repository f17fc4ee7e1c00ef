"""The options an engine socket runs with, in plain Python units.

The pyzmq layer translates ``setsockopt`` numbers into these fields. Like libzmq,
an endpoint copies what it needs when ``bind`` or ``connect`` is called, so changing
a security option afterwards does not affect endpoints that already exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..certs import Certificate

__all__ = [
    "DEFAULT_COOKIE_LIFETIME",
    "DEFAULT_HELLO_IVL",
    "DEFAULT_MAX_HANDSHAKES",
    "DEFAULT_MAX_METADATA",
    "DEFAULT_RECONNECT_CAP",
    "DEFAULT_VALIDATOR_TIMEOUT",
    "Options",
]

# When RECONNECT_IVL_MAX is 0 (libzmq's default, which means "no maximum": libzmq
# then retries every IVL plus jitter forever), we still back off exponentially up to
# this cap. A restarted server is found again within a few seconds, and a client that
# keeps failing its handshake costs the server one attempt per few seconds instead of
# ten per second.
DEFAULT_RECONNECT_CAP = 5.0

# The hardening options' defaults (README.md, "Hardening options"), in libzmq's
# units. None of them changes what a libzmq peer sees.
#
# Metadata a peer may put in a handshake command: libzmq sends about 40 bytes, a
# certificate with a few names a few hundred; 8 KiB leaves room for application
# properties while keeping what an unauthenticated peer makes us buffer small.
DEFAULT_MAX_METADATA = 8192
# An honest client sends its greeting and HELLO in its first round trip; 2 s
# covers a slow link and a loaded server many times over, while a peer that
# connects and says nothing loses its slot in 2 s instead of HANDSHAKE_IVL's 30.
DEFAULT_HELLO_IVL = 2000
# Handshakes in progress per bound endpoint. A connection waiting for INITIATE
# costs the server about 3.3 KiB (bench/memory.py) and no key material (no state
# before proof), so 1024 pin under 4 MiB, while a fleet of honest clients
# reconnecting at once still fits. A full cap evicts the least progress first, so
# it never locks honest clients out.
DEFAULT_MAX_HANDSHAKES = 1024
# RFC 26 suggests discarding the cookie key after about a minute: long enough for
# any honest INITIATE, short enough that a captured cookie is soon worthless.
DEFAULT_COOKIE_LIFETIME = 60000
# A validator that looks a key up (a file, a directory service) answers in
# milliseconds; 5 s allows a slow one and still leaves most of HANDSHAKE_IVL.
DEFAULT_VALIDATOR_TIMEOUT = 5000


@dataclass
class Options:
    """Socket options; times are in milliseconds and -1 means "none", as in libzmq.

    Attributes:
        curve_server: act as the CURVE server on every connection of the socket.
        curve_publickey: our long-term public key, 32 raw bytes, or None.
        curve_secretkey: our long-term secret key, 32 raw bytes, or None. Kept out
            of the repr.
        curve_serverkey: the server's public key (CURVE client), or None.
        plain_server: act as the PLAIN server on every connection.
        plain_username: the PLAIN client's username (0..255 bytes), or None when
            the socket is not a PLAIN client.
        plain_password: the PLAIN client's password, or None. Kept out of the
            repr.
        zap_domain: the ZAP domain the authentication policy is told; under
            NULL a non-empty one makes the socket ask the policy at all.
        routing_id: the Identity we announce (REQ, DEALER, ROUTER), 0..255 bytes.
        linger: how long ``close`` keeps trying to deliver queued messages; -1
            waits forever, 0 drops them at once.
        rcvtimeo: how long a receive waits; -1 forever.
        sndtimeo: how long a send waits for room; -1 forever.
        reconnect_ivl: the first reconnect delay; -1 turns reconnecting off.
        reconnect_ivl_max: the cap of the exponential backoff; 0 uses
            :data:`DEFAULT_RECONNECT_CAP`.
        maxmsgsize: the largest frame a peer may announce; -1 is unlimited.
        sndhwm: messages queued per peer before sends block or drop; 0 unlimited.
        rcvhwm: messages queued per peer before we stop reading it; 0 unlimited.
        handshake_ivl: how long a connection may take to finish its handshake;
            0 waits forever (libzmq's meaning).
        backlog: the listen backlog of bound endpoints.
        heartbeat_ivl: send a PING this often once a connection is up; 0 never.
        heartbeat_ttl: the TTL our PINGs announce (the peer may close after
            that long without traffic); sent in deciseconds, at most 65.5 s.
        heartbeat_timeout: close a connection that sends nothing for this long
            after our PING; -1 means heartbeat_ivl.
        ipv6: resolve and bind IPv6 too (``tcp://*`` binds both families).
        router_mandatory: (ROUTER) an unknown routing id fails the send
            (EHOSTUNREACH) and a full peer blocks it, instead of dropping.
        req_relaxed: (REQ) a new request may abandon the one awaiting a reply.
        req_correlate: (REQ) prefix requests with an id and accept only the
            reply that carries it back.
        xpub_verbose: (XPUB) deliver every subscription, not only new topics.
        xpub_verboser: (XPUB) also deliver every unsubscription.
        curve_drop_invalid: (CURVE, curvezmq's CURVE_INVALID_POLICY) discard a
            MESSAGE whose box fails, log it and go on, instead of closing the
            connection (the default, as RFC 26 asks).
        curve_invalid_budget: (CURVE_INVALID_BUDGET) with curve_drop_invalid,
            the most MESSAGEs that may fail within 10 s before the connection
            closes anyway; -1 for no limit.
        curve_compact: (CURVE_COMPACT) offer, or as a server confirm, compact
            framing with curvezmq peers (docs/extensions.md); libzmq peers never
            see it.
        curve_max_metadata: (CURVE_MAX_METADATA) the most metadata bytes a
            peer's handshake command may carry (CURVE INITIATE and READY, NULL
            and PLAIN READY); checked on the frame header, before anything is
            buffered.
        curve_hello_ivl: (CURVE_HELLO_IVL, CURVE server) close a connection
            that has not sent a valid HELLO this long after it was accepted;
            0 leaves it to handshake_ivl.
        max_handshakes: (MAX_HANDSHAKES) connections of one bound endpoint that
            may be handshaking at once; past it the one with the least progress
            (oldest first) is closed to make room.
        curve_cookie_lifetime: (CURVE_COOKIE_LIFETIME, CURVE server) how often
            the key that seals WELCOME cookies rotates; a cookie opens for at
            least one and less than two lifetimes.
        curve_validator: (the ``curve_validator`` socket attribute) a callable
            ``(key, certificate, address) -> bool``, or a coroutine function,
            that must admit each CURVE peer; None admits every peer the policy
            admits.
        curve_validator_timeout: (CURVE_VALIDATOR_TIMEOUT) how long the
            validator may take; past it the peer is refused.
        curve_cert_exchange: (CURVE_CERT_EXCHANGE) present our certificate to
            curvezmq peers in INITIATE / READY and, as a CURVE server, answer
            certificate fetches (docs/extensions.md); libzmq peers never see it.
        curve_certificate: (CURVE_CERTIFICATE) the public
            :class:`~curvezmq.certs.Certificate` we present; None presents our
            public key without metadata.
        curve_serverkey_fetch: (CURVE_SERVERKEY_FETCH, CURVE client) fetch the
            server's certificate before each connection and use its key, once
            the validator (or, without one, the known-hosts store) trusts it.
        curve_known_hosts: (CURVE_KNOWN_HOSTS) the known-hosts file of the
            fetch; empty for ``~/.curvezmq/known_hosts``.
    """

    curve_server: bool = False
    curve_publickey: bytes | None = None
    curve_secretkey: bytes | None = field(default=None, repr=False)
    curve_serverkey: bytes | None = None
    plain_server: bool = False
    plain_username: bytes | None = None
    plain_password: bytes | None = field(default=None, repr=False)
    zap_domain: bytes = b""
    routing_id: bytes = b""
    linger: int = -1
    rcvtimeo: int = -1
    sndtimeo: int = -1
    reconnect_ivl: int = 100
    reconnect_ivl_max: int = 0
    maxmsgsize: int = -1
    sndhwm: int = 1000
    rcvhwm: int = 1000
    handshake_ivl: int = 30000
    backlog: int = 100
    heartbeat_ivl: int = 0
    heartbeat_ttl: int = 0
    heartbeat_timeout: int = -1
    ipv6: bool = False
    router_mandatory: bool = False
    req_relaxed: bool = False
    req_correlate: bool = False
    xpub_verbose: bool = False
    xpub_verboser: bool = False
    curve_drop_invalid: bool = False
    curve_invalid_budget: int = 16
    curve_compact: bool = True
    curve_max_metadata: int = DEFAULT_MAX_METADATA
    curve_hello_ivl: int = DEFAULT_HELLO_IVL
    max_handshakes: int = DEFAULT_MAX_HANDSHAKES
    curve_cookie_lifetime: int = DEFAULT_COOKIE_LIFETIME
    curve_validator: Callable | None = None
    curve_validator_timeout: int = DEFAULT_VALIDATOR_TIMEOUT
    curve_cert_exchange: bool = True
    curve_certificate: Certificate | None = None
    curve_serverkey_fetch: bool = False
    curve_known_hosts: bytes = b""

    @property
    def mechanism(self) -> str:
        """``"CURVE"`` or ``"PLAIN"`` when a role of that mechanism is configured,
        else ``"NULL"``. The pyzmq layer keeps at most one configured, as libzmq
        does (the last security option set decides)."""
        if self.curve_server or self.curve_serverkey is not None:
            return "CURVE"
        if self.curve_serverkey_fetch:
            return "CURVE"
        if self.plain_server or self.plain_username is not None:
            return "PLAIN"
        if self.plain_password is not None:
            return "PLAIN"
        return "NULL"
