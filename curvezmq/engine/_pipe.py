"""A pipe: the socket's view of one peer, with the messages waiting for it.

A pipe is what the socket patterns route over. A connected endpoint owns one
persistent pipe for its whole life, across reconnects, so that messages sent before
the connection is up (or while it is down) wait in the pipe, as in libzmq. An
accepted connection gets a pipe when its handshake completes, and the pipe dies
with the connection.

Outgoing messages go straight into the connection while it can take them; when
there is no connection, or its transport asked us to pause writing, they wait in
``queue`` up to SNDHWM messages. Incoming messages wait in the pipe's ``inbox``
until the socket's fair queue takes them, and the pipe stops reading its transport
at RCVHWM, so a peer that sends faster than the application reads is held back by
TCP instead of by memory.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ._protocol import ZmtpProtocol
    from ._socket import Socket

__all__ = ["Pipe"]


class Pipe:
    """One peer of a socket.

    Attributes:
        socket: the socket that owns the pipe.
        label: the endpoint (connected pipes) or the peer address (accepted ones),
            for logs.
        persistent: True for a connected endpoint's pipe, which outlives its
            connections.
        protocol: the live, handshaken connection, or None.
        queue: outgoing messages waiting for room in the connection.
        routing_id: the ROUTER routing id, once assigned.
        properties: the message properties of this peer (``Socket-Type``,
            ``Identity``, ``User-Id``, ``Peer-Address``), once handshaken.
        inbox: incoming messages the application has not taken yet.
        attached: whether the socket pattern routes over this pipe.
        topics: (PUB, XPUB) what the peer subscribed to, or None.
    """

    __slots__ = (
        "attached",
        "inbox",
        "label",
        "persistent",
        "properties",
        "protocol",
        "queue",
        "reading_paused",
        "routing_id",
        "socket",
        "topics",
    )

    def __init__(self, socket: Socket, label: str, persistent: bool) -> None:
        self.socket = socket
        self.label = label
        self.persistent = persistent
        self.protocol: ZmtpProtocol | None = None
        self.queue: deque = deque()
        self.routing_id = b""
        self.properties: dict = {}
        self.inbox: deque = deque()
        self.reading_paused = False
        self.attached = False
        self.topics = None

    def __repr__(self) -> str:
        state = "up" if self.protocol is not None else "down"
        return f"<Pipe {self.label} {state} queued={len(self.queue)}>"

    @property
    def writable(self) -> bool:
        """Whether a message can be written now without going past SNDHWM."""
        protocol = self.protocol
        if protocol is not None and not protocol.write_paused and not self.queue:
            return True
        hwm = self.socket.options.sndhwm
        return hwm <= 0 or len(self.queue) < hwm

    def write(self, frames: list) -> None:
        """Hand one whole message to the connection, or queue it.

        Args:
            frames: the message parts; the caller checked :attr:`writable`.
        """
        protocol = self.protocol
        if protocol is not None and not protocol.write_paused and not self.queue:
            protocol.send_message(frames)
        else:
            self.queue.append(frames)

    def drain(self) -> None:
        """Move queued messages into the connection while it takes them."""
        protocol = self.protocol
        queue = self.queue
        while queue and protocol is not None and not protocol.write_paused:
            protocol.send_message(queue.popleft())

    @property
    def drained(self) -> bool:
        """Whether nothing of ours waits to be sent (for LINGER)."""
        if self.queue:
            return False
        protocol = self.protocol
        return protocol is None or protocol.drained
