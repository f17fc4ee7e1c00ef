"""Endpoint strings: ``tcp://host:port`` parsed into what asyncio needs.

Only the tcp transport exists for now. libzmq's forms that we accept: a host name,
an IPv4 address, a bracketed IPv6 address, ``*`` for every IPv4 interface (bind
only), and ``*`` or ``0`` as the port for one the system picks (bind only).
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
    """A parsed tcp endpoint.

    Attributes:
        host: the host name or address, without brackets; ``""`` for every
            interface.
        port: the port; 0 asks the system for a free one.
        text: the string as the application gave it.
    """

    host: str
    port: int
    text: str


def parse_endpoint(text: str, *, bind: bool) -> Endpoint:
    """Parse ``tcp://host:port``.

    Args:
        text: the endpoint string.
        bind: whether it is for ``bind`` (wildcards allowed) or ``connect``.

    Returns:
        the :class:`Endpoint`.

    Raises:
        EndpointError: the string is malformed, or its transport is not tcp.
    """
    transport, sep, address = text.partition("://")
    if not sep:
        raise EndpointError(f"expected an endpoint like tcp://host:port, got {text!r}")
    if transport != "tcp":
        if transport in _KNOWN_TRANSPORTS:
            raise EndpointError(
                f"transport {transport!r} is not supported yet (only tcp)",
                unsupported=True,
            )
        raise EndpointError(
            f"unknown transport {transport!r} in {text!r}", unsupported=True
        )
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
