"""Socket monitor events: what happened to a socket's endpoints and connections.

The engine reports the events libzmq's ``zmq_socket_monitor`` reports, with
libzmq's numbers and values, to at most one callback per socket (libzmq also
allows one monitor per socket). The pyzmq layer turns each report into the
two-frame message pyzmq's ``recv_monitor_message`` parses.

Where each event comes from, and its value:

| event | where | value |
| --- | --- | --- |
| LISTENING / BIND_FAILED | ``bind`` | listening fd / errno |
| ACCEPTED | a connection accepted | its fd |
| CONNECT_DELAYED | a connect attempt starts | EINPROGRESS |
| CONNECTED | the attempt succeeded | its fd |
| CONNECT_RETRIED | a reconnect is scheduled | the delay in ms |
| CLOSED | a listener is closed | its fd |
| HANDSHAKE_SUCCEEDED | the handshake completed | 0 |
| HANDSHAKE_FAILED_PROTOCOL | the peer broke the handshake | its ``Reason`` |
| HANDSHAKE_FAILED_AUTH | the peer's ERROR, or our policy's refusal | 300, 400 or 500 |
| HANDSHAKE_FAILED_NO_DETAIL | see below | an errno |
| DISCONNECTED | a connection we did not close ourselves ended | its fd |
| MONITOR_STOPPED | the monitor was replaced or removed, or the socket closed | 0 |

HANDSHAKE_FAILED_PROTOCOL carries the :class:`~curvezmq.errors.Reason` (libzmq's
protocol error code). HANDSHAKE_FAILED_NO_DETAIL carries EPIPE or ECONNRESET when the
peer closed during the handshake, ETIMEDOUT when HANDSHAKE_IVL expired, and EFAULT
when a PLAIN server has no policy for PLAIN.

The endpoint is the bound address for a listener and its connections, the
``connect`` string for a connecter and its connections, as in libzmq.
"""

from __future__ import annotations

import enum
from typing import Callable

__all__ = ["MonitorCallback", "MonitorEvent"]


class MonitorEvent(enum.IntFlag):
    """libzmq's monitor event numbers (``ZMQ_EVENT_*``)."""

    CONNECTED = 0x0001
    CONNECT_DELAYED = 0x0002
    CONNECT_RETRIED = 0x0004
    LISTENING = 0x0008
    BIND_FAILED = 0x0010
    ACCEPTED = 0x0020
    ACCEPT_FAILED = 0x0040
    CLOSED = 0x0080
    CLOSE_FAILED = 0x0100
    DISCONNECTED = 0x0200
    MONITOR_STOPPED = 0x0400
    HANDSHAKE_FAILED_NO_DETAIL = 0x0800
    HANDSHAKE_SUCCEEDED = 0x1000
    HANDSHAKE_FAILED_PROTOCOL = 0x2000
    HANDSHAKE_FAILED_AUTH = 0x4000
    ALL = 0xFFFF


# callback(event, value, endpoint), called on the socket's event loop; it must not
# block or raise
MonitorCallback = Callable[[int, int, str], None]
