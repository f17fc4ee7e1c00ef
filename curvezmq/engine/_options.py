"""The options an engine socket runs with, in plain Python units.

The pyzmq layer translates ``setsockopt`` numbers into these fields. Like libzmq,
an endpoint copies what it needs when ``bind`` or ``connect`` is called, so changing
a security option afterwards does not affect endpoints that already exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_RECONNECT_CAP", "Options"]

# When RECONNECT_IVL_MAX is 0 (libzmq's default, which means "no maximum": libzmq
# then retries every IVL plus jitter forever), we still back off exponentially up to
# this cap. A restarted server is found again within a few seconds, and a client that
# keeps failing its handshake costs the server one attempt per few seconds instead of
# ten per second.
DEFAULT_RECONNECT_CAP = 5.0


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

    @property
    def mechanism(self) -> str:
        """``"CURVE"`` or ``"PLAIN"`` when a role of that mechanism is configured,
        else ``"NULL"``. The pyzmq layer keeps at most one configured, as libzmq
        does (the last security option set decides)."""
        if self.curve_server or self.curve_serverkey is not None:
            return "CURVE"
        if self.plain_server or self.plain_username is not None:
            return "PLAIN"
        if self.plain_password is not None:
            return "PLAIN"
        return "NULL"
