"""pyzmq's ``zmq.auth`` over curvezmq: authenticators and certificate files.

``ThreadAuthenticator`` (:mod:`.thread`) and ``AsyncioAuthenticator``
(:mod:`.asyncio`) take pyzmq's calls (``start``, ``stop``, ``allow``, ``deny``,
``configure_plain``, ``configure_curve``, ``configure_curve_callback``) and make
pyzmq's decisions, in-process: instead of binding a ZAP socket they become the
Context's authentication policy (``ctx.curve_policy``) while started.

``create_certificates``, ``load_certificate`` and ``load_certificates`` read and
write files that pyzmq and czmq read and write (see :mod:`curvezmq.certs`); the
secret file is created with mode 0600.

Differences from pyzmq: the authenticators hold no ZAP socket and no thread
(``zap_socket`` is None, ``handle_zap_message`` does not exist), and the
implementation modules ``zmq.auth.base`` and ``zmq.auth.certs`` are private here
(their names are all exported from this package).
"""

from ...certs import create_certificates, load_certificate, load_certificates
from ._base import CURVE_ALLOW_ANY, Authenticator

__all__ = [
    "CURVE_ALLOW_ANY",
    "Authenticator",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]
