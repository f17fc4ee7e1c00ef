"""curvezmq: CurveZMQ for Python.

A C crypto core compiled through cffi (backends ``portable``, ``libsodium``, ``nacl``),
a sans-IO CurveZMQ codec, and a ZMTP 3.1 engine with a pyzmq-compatible API.

Attributes:
    backend: the name of the crypto backend chosen at import.
"""

import logging as _logging

from ._version import __version__
from .crypto import available as backends
from .crypto import default_backend as _default_backend
from .errors import (
    AuthenticationError,
    BackendError,
    BackendUnavailableError,
    CryptoError,
    CurveZMQError,
    InvalidKeyError,
    LimitError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from .keys import curve_keypair, curve_public

_logging.getLogger(__name__).addHandler(_logging.NullHandler())

backend: str = _default_backend().name

__all__ = [
    "AuthenticationError",
    "BackendError",
    "BackendUnavailableError",
    "CryptoError",
    "CurveZMQError",
    "InvalidKeyError",
    "LimitError",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "__version__",
    "backend",
    "backends",
    "curve_keypair",
    "curve_public",
]
