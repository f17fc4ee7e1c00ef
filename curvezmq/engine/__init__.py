"""The asyncio engine: tcp endpoints, reconnects, and the socket patterns.

Everything here runs on one event loop; the pyzmq-compatible layer
(:mod:`curvezmq.zmq`) drives it from other threads or from coroutines.
"""

from ._endpoint import Endpoint, EndpointError, format_endpoint, parse_endpoint
from ._options import DEFAULT_RECONNECT_CAP, Options
from ._patterns import SOCKET_CLASSES, Dealer, Rep, Req, Router, create_socket
from ._pipe import Pipe
from ._protocol import ZmtpProtocol
from ._socket import Socket
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
    "Pipe",
    "Rep",
    "Req",
    "Router",
    "Socket",
    "ZmtpProtocol",
    "create_socket",
    "format_endpoint",
    "parse_endpoint",
]
