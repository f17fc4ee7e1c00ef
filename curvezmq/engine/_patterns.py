"""The socket patterns: REQ, REP, DEALER, ROUTER, with libzmq's semantics.

Each pattern is the base :class:`Socket` plus its routing rules:

- DEALER sends round robin over the pipes that can take a message and receives
  from all of them in arrival order.
- REQ is a DEALER that adds an empty delimiter frame, allows only strict
  send/receive alternation (anything else is EFSM, a LocalProtocolError), accepts a
  reply only from the pipe its request went to, and drops a connection whose peer
  sends a message without the delimiter.
- REP keeps every frame up to and including the first empty one as the envelope
  and sends it back in front of the reply; a request without an empty frame is
  dropped silently.
- ROUTER prepends the peer's routing id to what it receives (the peer's Identity
  if it sent one, else 5 bytes: 0x00 and a 32-bit counter) and routes what it
  sends by the first frame; a message for an unknown id is dropped silently.

A new pattern (PUSH, PULL, PAIR, PUB, SUB, XPUB, XSUB) is a subclass that sets
``socket_type`` and overrides the ``_x*`` hooks, then registers in
:data:`SOCKET_CLASSES`; the load-balancing mixin serves PUSH and PAIR as it is.
"""

from __future__ import annotations

import random
import struct

from ..errors import BusyError, LocalProtocolError, Reason, RemoteProtocolError
from ._pipe import Pipe
from ._protocol import logger
from ._socket import Socket

__all__ = ["SOCKET_CLASSES", "Dealer", "Rep", "Req", "Router", "create_socket"]


class _LoadBalanced(Socket):
    """Round robin over the attached pipes, skipping those at SNDHWM."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._out: list[Pipe] = []
        self._next = 0

    def _xattach(self, pipe: Pipe, event) -> str | None:
        self._out.append(pipe)
        return None

    def _xdetach(self, pipe: Pipe) -> None:
        index = self._out.index(pipe)
        del self._out[index]
        if index < self._next:
            self._next -= 1

    def _lb_send(self, frames: list) -> Pipe:
        pipes = self._out
        count = len(pipes)
        for step in range(count):
            index = (self._next + step) % count
            pipe = pipes[index]
            if pipe.writable:
                pipe.write(frames)
                self._next = index + 1
                return pipe
        if count:
            raise BusyError("every peer is at its send high-water mark")
        raise BusyError("no peer to send to")

    def _xsend(self, frames: list) -> None:
        self._lb_send(frames)

    def _xcan_send(self) -> bool:
        return any(pipe.writable for pipe in self._out)


class Dealer(_LoadBalanced):
    """DEALER: round robin out, fair queue in, no envelope handling."""

    socket_type = "DEALER"


class Req(_LoadBalanced):
    """REQ: strict request/reply alternation with an empty delimiter frame."""

    socket_type = "REQ"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reply_pipe: Pipe | None = None  # None: ready to send

    def _xcheck_send(self) -> None:
        if self._reply_pipe is not None:
            raise LocalProtocolError(
                "expected a recv of the reply before the next send on a REQ socket"
            )

    def _xcheck_recv(self) -> None:
        if self._reply_pipe is None:
            raise LocalProtocolError("expected a send before a recv on a REQ socket")

    def _xsend(self, frames: list) -> None:
        self._xcheck_send()
        # replies to earlier requests that are still queued are stale now
        while self._inbox:
            self._pop()
        self._reply_pipe = self._lb_send([b""] + list(frames))

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        if len(frames) < 2 or len(frames[0]) != 0:
            raise RemoteProtocolError(
                f"expected a reply of an empty delimiter frame and a body, got "
                f"{len(frames)} frames starting with {len(frames[0])} bytes",
                Reason.ZMTP_UNSPECIFIED,
            )
        if pipe is self._reply_pipe:
            self._push(pipe, frames[1:])
        else:
            logger.debug("dropped a stray reply from %s", pipe.label)

    def _xrecv(self) -> list:
        self._xcheck_recv()
        _, frames = self._pop()
        self._reply_pipe = None
        return frames

    def _xdetach(self, pipe: Pipe) -> None:
        super()._xdetach(pipe)
        # the reply can never come; libzmq keeps waiting (REQ_RELAXED is the way
        # out there), so do we
        # TODO: REQ_RELAXED and REQ_CORRELATE are not implemented; a REQ whose
        # peer vanished mid-request stays stuck until it is closed.


class Rep(Socket):
    """REP: receive a request, send the reply back along its envelope."""

    socket_type = "REP"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reply_to: tuple[Pipe, list] | None = None

    def _xattach(self, pipe: Pipe, event) -> str | None:
        return None

    def _xdetach(self, pipe: Pipe) -> None:
        pass

    def _xcheck_send(self) -> None:
        if self._reply_to is None:
            raise LocalProtocolError(
                "expected a recv of a request before a send on a REP socket"
            )

    def _xcheck_recv(self) -> None:
        if self._reply_to is not None:
            raise LocalProtocolError(
                "expected a send of the reply before the next recv on a REP socket"
            )

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        for frame in frames:
            if len(frame) == 0:
                self._push(pipe, frames)
                return
        logger.debug("dropped a request without an envelope from %s", pipe.label)

    def _xrecv(self) -> list:
        self._xcheck_recv()
        pipe, frames = self._pop()
        split = next(i for i, frame in enumerate(frames) if len(frame) == 0) + 1
        self._reply_to = (pipe, frames[:split])
        return frames[split:]

    def _xsend(self, frames: list) -> None:
        self._xcheck_send()
        pipe, envelope = self._reply_to
        self._reply_to = None
        # a reply to a peer that left, or whose pipe is full, is dropped (libzmq)
        if pipe.protocol is not None and pipe.writable:
            pipe.write(envelope + list(frames))
        else:
            logger.debug("dropped a reply to %s, which is gone or full", pipe.label)


class Router(Socket):
    """ROUTER: routing ids on the way in, routing by the first frame on the way out."""

    socket_type = "ROUTER"
    routable_before_handshake = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._by_id: dict[bytes, Pipe] = {}
        # libzmq starts its counter at rand(); any start will do
        self._next_id = random.getrandbits(32)

    def _xattach(self, pipe: Pipe, event) -> str | None:
        identity = bytes(event.identity) if event is not None else b""
        if identity:
            if identity in self._by_id:
                # first come wins, as in libzmq without ROUTER_HANDOVER
                return f"routing id {identity!r} is already taken by another peer"
            if identity[0] == 0:
                # libzmq reserves ids starting with a zero byte for its own
                return f"routing id {identity!r} starts with a zero byte"
        else:
            identity = b"\x00" + struct.pack(">I", self._next_id)
            self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        pipe.routing_id = identity
        self._by_id[identity] = pipe
        return None

    def _xdetach(self, pipe: Pipe) -> None:
        if self._by_id.get(pipe.routing_id) is pipe:
            del self._by_id[pipe.routing_id]

    def _xrecv(self) -> list:
        pipe, frames = self._pop()
        return [pipe.routing_id] + frames

    def _xsend(self, frames: list) -> None:
        # TODO: ROUTER_MANDATORY (EHOSTUNREACH for an unknown id) is not
        # implemented; unroutable messages are always dropped silently.
        if len(frames) < 2:
            return
        pipe = self._by_id.get(bytes(frames[0]))
        if pipe is None or not pipe.writable:
            return
        pipe.write(list(frames[1:]))


SOCKET_CLASSES: dict[str, type] = {
    "REQ": Req,
    "REP": Rep,
    "DEALER": Dealer,
    "ROUTER": Router,
}


def create_socket(socket_type: str, *args, **kwargs) -> Socket:
    """Create an engine socket of a ZMTP socket type.

    Args:
        socket_type: ``"REQ"``, ``"REP"``, ``"DEALER"`` or ``"ROUTER"``.
        *args: passed to the socket class (options).
        **kwargs: passed to the socket class (loop, policy).

    Returns:
        the new socket.

    Raises:
        NotImplementedError: the type exists in ZeroMQ but not here yet.
        ValueError: the type is unknown.
    """
    cls = SOCKET_CLASSES.get(socket_type)
    if cls is None:
        if socket_type in ("PAIR", "PUB", "SUB", "PUSH", "PULL", "XPUB", "XSUB"):
            # TODO: PAIR, PUB, SUB, PUSH, PULL, XPUB and XSUB are a later issue;
            # applications using them cannot move to curvezmq yet.
            raise NotImplementedError(f"{socket_type} sockets are not implemented yet")
        raise ValueError(f"unknown socket type {socket_type!r}")
    return cls(*args, **kwargs)
