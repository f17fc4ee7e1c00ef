"""The asyncio engine: tcp and ipc endpoints, reconnects, heartbeats, and the
socket patterns.

Everything here runs on one event loop; the pyzmq-compatible layer
(:mod:`curvezmq.zmq`) drives it from other threads or from coroutines.
"""

from ._endpoint import Endpoint, EndpointError, format_endpoint, parse_endpoint
from ._options import DEFAULT_RECONNECT_CAP, Options
from ._patterns import (
    SOCKET_CLASSES,
    Dealer,
    Pair,
    Pub,
    Pull,
    Push,
    Rep,
    Req,
    Router,
    Sub,
    Topics,
    XPub,
    XSub,
    create_socket,
)
from ._pipe import Pipe
from ._protocol import ZmtpProtocol
from ._socket import Socket, UnroutableError, UnsupportedError
from ._transport import MAX_PENDING_HANDSHAKES, Connecter, Listener

__all__ = [
    "DEFAULT_RECONNECT_CAP",
    "MAX_PENDING_HANDSHAKES",
    "SOCKET_CLASSES",
    "Connecter",
    "Dealer",
    "Endpoint",
    "EndpointError",
    "Listener",
    "Options",
    "Pair",
    "Pipe",
    "Pub",
    "Pull",
    "Push",
    "Rep",
    "Req",
    "Router",
    "Socket",
    "Sub",
    "Topics",
    "UnroutableError",
    "UnsupportedError",
    "XPub",
    "XSub",
    "ZmtpProtocol",
    "create_socket",
    "format_endpoint",
    "parse_endpoint",
]
