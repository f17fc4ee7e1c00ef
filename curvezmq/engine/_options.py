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
    """

    curve_server: bool = False
    curve_publickey: bytes | None = None
    curve_secretkey: bytes | None = field(default=None, repr=False)
    curve_serverkey: bytes | None = None
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

    @property
    def mechanism(self) -> str:
        """``"CURVE"`` when a CURVE role is configured, else ``"NULL"``."""
        if self.curve_server or self.curve_serverkey is not None:
            return "CURVE"
        return "NULL"
