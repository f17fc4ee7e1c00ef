"""Endpoint strings: ``tcp://host:port`` and ``ipc://path`` parsed into what asyncio
needs.

tcp, as libzmq takes it: a host name, an IPv4 address, a bracketed IPv6 address
(``tcp://[::1]:5555``), ``*`` for every interface (bind only: IPv4, or IPv6 and
IPv4 when the IPV6 option is on), and ``*`` or ``0`` as the port for one the
system picks (bind only).

ipc: a filesystem path (``ipc:///tmp/feed.sock``, or relative), ``ipc://@name``
for Linux's abstract namespace, and ``ipc://*`` (bind only) for a fresh path in a
new temporary directory.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..errors import CurveZMQError

__all__ = ["Endpoint", "EndpointError", "format_endpoint", "parse_endpoint"]

# Transports libzmq knows; naming one of them is "not supported yet", anything else
# is malformed.
_KNOWN_TRANSPORTS = frozenset(
    {"tcp", "ipc", "inproc", "pgm", "epgm", "tipc", "vmci", "ws", "wss", "udp", "norm"}
)
_SUPPORTED = ("tcp", "ipc")

# The longest path a unix socket address holds (sun_path is 108 bytes on Linux,
# 104 on the BSDs, including the terminating NUL); longer fails with a clear error
# here instead of an obscure one from bind.
_MAX_IPC_PATH = 107


class EndpointError(CurveZMQError, ValueError):
    """An endpoint string is malformed, or names a transport we do not have.

    Attributes:
        unsupported: True when the transport is real but not implemented here.
    """

    def __init__(self, message: str, unsupported: bool = False):
        super().__init__(message)
        self.unsupported = unsupported


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint.

    Attributes:
        host: (tcp) the host name or address, without brackets; ``""`` for every
            interface.
        port: (tcp) the port; 0 asks the system for a free one.
        text: the string as the application gave it.
        transport: ``"tcp"`` or ``"ipc"``.
        path: (ipc) the socket path; ``"*"`` asks for a fresh one; a leading
            ``"@"`` names an abstract socket (Linux).
    """

    host: str
    port: int
    text: str
    transport: str = "tcp"
    path: str = ""

    @property
    def address(self):
        """What ``connect``/``bind`` of a Python socket takes: ``(host, port)``, or
        the path (a NUL-led one for an abstract socket)."""
        if self.transport == "ipc":
            if self.path.startswith("@"):
                return "\0" + self.path[1:]
            return self.path
        return (self.host, self.port)


def parse_endpoint(text: str, *, bind: bool) -> Endpoint:
    """Parse ``tcp://host:port`` or ``ipc://path``.

    Args:
        text: the endpoint string.
        bind: whether it is for ``bind`` (wildcards allowed) or ``connect``.

    Returns:
        the :class:`Endpoint`.

    Raises:
        EndpointError: the string is malformed, or its transport is neither tcp
            nor ipc.
    """
    transport, sep, address = text.partition("://")
    if not sep:
        raise EndpointError(f"expected an endpoint like tcp://host:port, got {text!r}")
    if transport not in _SUPPORTED:
        if transport in _KNOWN_TRANSPORTS:
            raise EndpointError(
                f"transport {transport!r} is not supported yet (only tcp and ipc)",
                unsupported=True,
            )
        raise EndpointError(
            f"unknown transport {transport!r} in {text!r}", unsupported=True
        )
    if transport == "ipc":
        return _parse_ipc(text, address, bind)
    # TODO: libzmq's "tcp://source;host:port" and interface names (eth0) are not
    # parsed; applications that pin the source address cannot connect yet.
    host, colon, port_text = address.rpartition(":")
    if not colon or not host:
        raise EndpointError(f"expected host:port after tcp://, got {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise EndpointError(
                f"expected an IPv6 address in brackets, got {host!r}"
            ) from exc
    if host == "*":
        if not bind:
            raise EndpointError(f"cannot connect to the wildcard host in {text!r}")
        host = ""
    if port_text in ("*", "0"):
        if not bind:
            raise EndpointError(f"cannot connect to a wildcard port in {text!r}")
        port = 0
    else:
        if not port_text.isdigit():
            raise EndpointError(f"expected a port number, got {port_text!r}")
        port = int(port_text)
        if not 0 < port < 65536:
            raise EndpointError(f"expected a port in 1..65535, got {port}")
    return Endpoint(host, port, text)


def _parse_ipc(text: str, path: str, bind: bool) -> Endpoint:
    if not path:
        raise EndpointError(f"expected a path after ipc://, got {text!r}")
    if path == "*" and not bind:
        raise EndpointError(f"cannot connect to the wildcard path in {text!r}")
    if len(path.encode()) > _MAX_IPC_PATH:
        raise EndpointError(
            f"expected an ipc path of at most {_MAX_IPC_PATH} bytes, got "
            f"{len(path.encode())}"
        )
    return Endpoint("", 0, text, "ipc", path)


def format_endpoint(host: str, port: int) -> str:
    """Format an address the way libzmq's LAST_ENDPOINT shows it.

    Args:
        host: a numeric IPv4 or IPv6 address.
        port: the port.

    Returns:
        ``tcp://1.2.3.4:5`` or ``tcp://[::1]:5``.
    """
    if ":" in host:
        return f"tcp://[{host}]:{port}"
    return f"tcp://{host}:{port}"
