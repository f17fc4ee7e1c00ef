"""pyzmq's ``zmq.utils.monitor``: decode what a monitor socket receives.

``recv_monitor_message(sock)`` reads one event from the socket
``Socket.get_monitor_socket()`` returned and answers
``{'event': zmq.Event, 'value': zmq.Event, 'endpoint': bytes}``; with an asyncio
monitor socket it answers an awaitable of the same. As in pyzmq, the value is
wrapped in ``zmq.Event`` even when it is an fd or an errno.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable

from .._constants import Event

__all__ = ["parse_monitor_message", "recv_monitor_message"]

# uint16 event then int32 value, native order (pyzmq reads both as signed)
_EVENT_FRAME = struct.Struct("=hi")


def parse_monitor_message(msg: list) -> dict:
    """Decode one monitor event.

    Args:
        msg: the two frames: 6 bytes (event, value) and the endpoint.

    Returns:
        ``{'event': Event, 'value': Event, 'endpoint': bytes}``.

    Raises:
        RuntimeError: not two frames, or a first frame that is not 6 bytes, as
            in pyzmq.
    """
    if len(msg) != 2 or len(msg[0]) != _EVENT_FRAME.size:
        raise RuntimeError(f"Invalid event message format: {msg}")
    event, value = _EVENT_FRAME.unpack(bytes(msg[0]))
    return {
        "event": Event(event),
        "value": Event(value),
        "endpoint": bytes(msg[1]),
    }


async def _parse_later(pending: Awaitable) -> dict:
    return parse_monitor_message(await pending)


def recv_monitor_message(socket, flags: int = 0):
    """Receive one event from a monitor socket and decode it.

    Args:
        socket: what ``get_monitor_socket()`` returned (blocking or asyncio).
        flags: recv flags (``zmq.NOBLOCK``).

    Returns:
        the dict of :func:`parse_monitor_message`, or an awaitable of it for an
        asyncio monitor socket.

    Raises:
        zmq.Again: NOBLOCK and no event queued, or the monitor's RCVTIMEO expired.
        RuntimeError: a malformed event message.
    """
    msg = socket.recv_multipart(flags)
    if isinstance(msg, Awaitable):
        return _parse_later(msg)
    return parse_monitor_message(msg)
