"""The asyncio engine: tcp and ipc endpoints, reconnects, heartbeats, and the
socket patterns.

Everything here runs on one event loop; the pyzmq-compatible layer
(:mod:`curvezmq.zmq`) drives it from other threads or from coroutines.
"""

from ._endpoint import Endpoint, EndpointError, format_endpoint, parse_endpoint
from ._exchange import fetch_server_certificate
from ._options import (
    DEFAULT_COOKIE_LIFETIME,
    DEFAULT_HELLO_IVL,
    DEFAULT_MAX_HANDSHAKES,
    DEFAULT_MAX_METADATA,
    DEFAULT_RECONNECT_CAP,
    DEFAULT_VALIDATOR_TIMEOUT,
    Options,
)
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
from ._transport import Connecter, Listener

__all__ = [
    "DEFAULT_COOKIE_LIFETIME",
    "DEFAULT_HELLO_IVL",
    "DEFAULT_MAX_HANDSHAKES",
    "DEFAULT_MAX_METADATA",
    "DEFAULT_RECONNECT_CAP",
    "DEFAULT_VALIDATOR_TIMEOUT",
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
    "fetch_server_certificate",
    "format_endpoint",
    "parse_endpoint",
]
