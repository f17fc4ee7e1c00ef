"""pyzmq's API over curvezmq: ``import curvezmq.zmq as zmq``.

The subset of pyzmq that applications use: :class:`Context`, :class:`Socket`,
:class:`Poller` and :func:`select`, the constants with pyzmq's numbers,
:class:`ZMQError` and :class:`Again` with pyzmq's errno values, ``curve_keypair``,
``curve_public``, ``has`` and the version calls. Socket types: PAIR, PUB, SUB,
REQ, REP, DEALER, ROUTER, PULL, PUSH, XPUB, XSUB; transports: tcp (IPv4, and IPv6
with the ``ipv6`` option) and ipc.

Security: NULL, PLAIN and CURVE, with ``zmq.auth`` (``ThreadAuthenticator``,
``AsyncioAuthenticator``, certificate files), ``zmq.utils.z85``, and monitor
events through ``Socket.get_monitor_socket`` and ``zmq.utils.monitor``.

Differences from pyzmq worth knowing:

- servers ask ``Context.curve_policy`` (an in-process policy for every mechanism,
  :class:`curvezmq.auth.AllowAny` by default: libzmq without a ZAP handler)
  instead of a ZAP socket; a started ``zmq.auth`` authenticator is that policy;
- ``get_monitor_socket`` returns an in-process PAIR-like object, not a socket on
  an inproc endpoint (there is no inproc transport);
- ``Context.term`` closes sockets the application left open instead of blocking.

TODO: the inproc transport is not here yet; applications that connect sockets
over inproc (a proxy's backend, say) cannot switch imports yet.
"""

import asyncio as _asyncio

from .. import __version__ as curvezmq_version
from ..engine import fetch_server_certificate as _fetch_server_certificate
from ..keys import curve_keypair as _curve_keypair
from ..keys import curve_public as _curve_public
from . import _constants
from ._constants import *
from ._context import Context
from ._error import (
    Again,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    strerror,
)
from ._frame import Frame, Message
from ._poll import Poller, select
from ._proxy import device, proxy
from ._socket import Socket

# pyzmq's names for the blocking classes, beside zmq.asyncio's
SyncContext = Context
SyncSocket = Socket

# The libzmq release whose wire behaviour we reproduce, and the pyzmq release whose
# API we mirror: applications compare these to enable features.
_ZMQ_VERSION = (4, 3, 5)
_PYZMQ_VERSION = (27, 3, 0)

__version__ = ".".join(map(str, _PYZMQ_VERSION))

# Capabilities for has(): only what this implementation really offers.
_CAPABILITIES = frozenset({"curve", "ipc"})


def zmq_version() -> str:
    """The libzmq version whose wire behaviour curvezmq reproduces: ``'4.3.5'``."""
    return ".".join(map(str, _ZMQ_VERSION))


def zmq_version_info() -> tuple:
    """``zmq_version()`` as a tuple of ints."""
    return _ZMQ_VERSION


def pyzmq_version() -> str:
    """The pyzmq API version mirrored here: ``'27.3.0'``."""
    return __version__


def pyzmq_version_info() -> tuple:
    """``pyzmq_version()`` as a tuple of ints."""
    return _PYZMQ_VERSION


def has(capability: str) -> bool:
    """Whether a capability is available, like ``zmq.has``.

    Args:
        capability: ``"curve"``, ``"ipc"``, ``"pgm"``, ``"tipc"``, ``"norm"``,
            ``"gssapi"``, ``"draft"``.

    Returns:
        True for ``"curve"`` and ``"ipc"``.
    """
    return capability in _CAPABILITIES


def curve_keypair() -> tuple:
    """A new CURVE key pair, ``(public, secret)``, each 40 Z85 bytes."""
    return _curve_keypair()


def curve_public(secret_key) -> bytes:
    """The Z85 public key of a secret key (32 raw or 40 Z85 bytes).

    Raises:
        ZMQError: EINVAL for a malformed key.
    """
    try:
        return _curve_public(secret_key)
    except ValueError as exc:
        raise ZMQError(_constants.Errno.EINVAL, str(exc)) from exc


def fetch_server_certificate(endpoint: str, timeout: float = 5.0, *, ipv6=False):
    """Fetch a curvezmq CURVE server's public certificate (curvezmq's own;
    docs/extensions.md), blocking.

    A separate short connection whose greeting names ``CURVEZMQ-CERT``; a curvezmq
    server answers with its certificate and closes. The answer is not
    authenticated: check its key (a fingerprint from the server's operator, a
    :class:`curvezmq.certs.KnownHosts` store) before trusting it. In a coroutine,
    await ``curvezmq.zmq.asyncio.fetch_server_certificate`` instead.

    Args:
        endpoint: ``tcp://host:port`` or ``ipc://path``.
        timeout: seconds for the whole exchange.
        ipv6: resolve host names to IPv6 addresses too.

    Returns:
        the server's :class:`curvezmq.certs.Certificate` (public).

    Raises:
        curvezmq.zmtp.CertificateExchangeError: the server does not offer the
            exchange (``.supported`` is False: "certificate exchange not
            supported", e.g. libzmq), answered something else, or not in time.
        OSError: the connection could not be made.
        ValueError: a malformed endpoint.
        RuntimeError: called from a thread whose event loop is running.
    """
    return _asyncio.run(_fetch_server_certificate(endpoint, timeout, ipv6=ipv6))


__all__ = [
    "Again",
    "Context",
    "ContextTerminated",
    "Frame",
    "InterruptedSystemCall",
    "Message",
    "NotDone",
    "Poller",
    "device",
    "proxy",
    "Socket",
    "SyncContext",
    "SyncSocket",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "curve_keypair",
    "curve_public",
    "curvezmq_version",
    "fetch_server_certificate",
    "has",
    "pyzmq_version",
    "pyzmq_version_info",
    "select",
    "strerror",
    "zmq_version",
    "zmq_version_info",
    *_constants.__all__,
]
