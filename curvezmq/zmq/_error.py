"""pyzmq's exceptions, and the mapping from curvezmq's errors onto them.

pyzmq raises :class:`ZMQError` with a libzmq errno; ``EAGAIN`` becomes
:class:`Again` and ``ETERM`` :class:`ContextTerminated`. Applications catch these by
class and read ``.errno``, so we raise the same classes with the same numbers.
"""

from __future__ import annotations

import errno as _errno
import os

from ..engine import EndpointError, UnroutableError, UnsupportedError
from ..errors import (
    BusyError,
    ClosedError,
    InvalidKeyError,
    LimitError,
    LocalProtocolError,
)
from ._constants import Errno

__all__ = [
    "Again",
    "ContextTerminated",
    "InterruptedSystemCall",
    "NotDone",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "map_error",
    "strerror",
]

# libzmq's texts for its own codes; the others come from the C library.
_LIBZMQ_TEXTS = {
    Errno.EFSM: "Operation cannot be accomplished in current state",
    Errno.ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
    Errno.ETERM: "Context was terminated",
    Errno.EMTHREAD: "No thread available",
}


def strerror(errnum: int) -> str:
    """Return the text libzmq gives an error number, like ``zmq.strerror``.

    Args:
        errnum: an errno value.

    Returns:
        the message text.
    """
    text = _LIBZMQ_TEXTS.get(errnum)
    return text if text is not None else os.strerror(errnum)


class ZMQBaseError(Exception):
    """Root of pyzmq's exceptions."""


class ZMQError(ZMQBaseError):
    """An error with a libzmq errno, like pyzmq's ``zmq.ZMQError``.

    Args:
        errno: the error number; pyzmq reads ``zmq_errno()`` when it is None,
            which has no meaning here, so None gives EINVAL.
        msg: the text; by default ``strerror(errno)``.

    Attributes:
        errno: the error number.
        strerror: the text.
    """

    errno: int | None = None
    strerror: str = ""

    def __init__(self, errno: int | None = None, msg: str | None = None):
        if errno is None:
            errno = Errno.EINVAL
        self.errno = errno
        self.strerror = msg if msg is not None else strerror(errno)
        super().__init__(self.strerror)

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.strerror!r})"


class Again(ZMQError):
    """EAGAIN: the call would block, or RCVTIMEO/SNDTIMEO expired."""

    def __init__(self, errno: int | None = None, msg: str | None = None):
        super().__init__(Errno.EAGAIN if errno is None else errno, msg)


class ContextTerminated(ZMQError):
    """ETERM: the socket's context was terminated."""

    def __init__(self, errno: int | None = None, msg: str | None = None):
        super().__init__(Errno.ETERM if errno is None else errno, msg)


class InterruptedSystemCall(ZMQError, InterruptedError):
    """EINTR: a blocking call was interrupted."""

    def __init__(self, errno: int | None = None, msg: str | None = None):
        super().__init__(_errno.EINTR if errno is None else errno, msg)


class NotDone(ZMQBaseError):
    """A wait on a tracker timed out (kept for pyzmq compatibility)."""


class ZMQBindError(ZMQBaseError):
    """``bind_to_random_port`` found no free port."""


class ZMQVersionError(NotImplementedError):
    """A feature needs a newer libzmq (kept for pyzmq compatibility)."""


def map_error(exc: BaseException) -> ZMQError | None:
    """Translate one of curvezmq's errors (or an OSError) into pyzmq's form.

    Args:
        exc: the exception raised below the pyzmq layer.

    Returns:
        the ZMQError to raise ``from exc``, or None when the exception is not one
        we translate (a bug, which should propagate as it is).
    """
    if isinstance(exc, BusyError):
        return Again()
    if isinstance(exc, ClosedError):
        return ZMQError(Errno.ENOTSOCK)
    if isinstance(exc, UnsupportedError):
        return ZMQError(Errno.ENOTSUP)
    if isinstance(exc, UnroutableError):
        return ZMQError(Errno.EHOSTUNREACH)
    if isinstance(exc, LocalProtocolError):
        return ZMQError(Errno.EFSM)
    if isinstance(exc, LimitError):
        return ZMQError(Errno.EMSGSIZE)
    if isinstance(exc, EndpointError):
        if exc.unsupported:
            return ZMQError(Errno.EPROTONOSUPPORT, str(exc))
        return ZMQError(Errno.EINVAL, str(exc))
    if isinstance(exc, InvalidKeyError):
        return ZMQError(Errno.EINVAL, str(exc))
    if isinstance(exc, OSError) and exc.errno is not None:
        return ZMQError(exc.errno, exc.strerror or strerror(exc.errno))
    return None
