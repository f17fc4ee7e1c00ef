"""The socket patterns, with libzmq's semantics.

Each pattern is the base :class:`Socket` plus its routing rules. Incoming messages
are fair-queued round robin over the pipes that have some (the base class does
that); outgoing ones go

- round robin over the pipes that can take a message (DEALER, REQ, PUSH, PAIR;
  a pipe at SNDHWM sits out until it drains, and when none can take it the send
  blocks, or fails with BusyError, libzmq's EAGAIN);
- to the peer the first frame names (ROUTER) or the request came from (REP),
  dropped when that peer is gone or full;
- to every subscriber whose subscriptions match (PUB, XPUB), dropped for the
  subscribers at SNDHWM;
- to every publisher (XSUB: subscriptions and upstream messages), dropped at
  SNDHWM.

The patterns:

- DEALER: as above, no envelope handling.
- REQ: a DEALER that adds an empty delimiter frame (and with REQ_CORRELATE a
  4-byte request id before it), allows only strict send/receive alternation
  (anything else is EFSM, a LocalProtocolError; REQ_RELAXED lets a new request
  abandon the old one), accepts a reply only from the pipe its request went to,
  and drops a connection whose peer sends a message without the delimiter.
- REP keeps every frame up to and including the first empty one as the envelope
  and sends it back in front of the reply; a request without an empty frame is
  dropped silently.
- ROUTER prepends the peer's routing id to what it receives (the peer's Identity
  if it sent one, else 5 bytes: 0x00 and a 32-bit counter) and routes what it
  sends by the first frame; a message for an unknown id is dropped silently, or
  with ROUTER_MANDATORY fails with :class:`UnroutableError` (EHOSTUNREACH), and
  waits (BusyError) when that peer is full.
- PUSH sends round robin and cannot receive; PULL fair-queues and cannot send
  (:class:`UnsupportedError`, libzmq's ENOTSUP).
- PAIR talks to exactly one peer; a second connection is refused.
- PUB sends each message to the subscribers whose topics prefix its first
  frame; it cannot receive. XPUB also hands the application the subscriptions,
  as messages ``b"\\x01" + topic`` / ``b"\\x00" + topic``: a subscription only
  when the topic is new to the socket and an unsubscription only when no
  subscriber is left (every one with XPUB_VERBOSE / XPUB_VERBOSER), and any
  other message a subscriber sends upstream.
- SUB keeps counted prefix subscriptions (two SUBSCRIBEs need two
  UNSUBSCRIBEs; an UNSUBSCRIBE of a topic it does not hold is ignored), sends
  every subscription and the last unsubscription of a topic to every publisher,
  resends them all on each new connection, and delivers only the messages that
  match. XSUB does the same with subscriptions the application writes as
  messages (``b"\\x01" + topic`` / ``b"\\x00" + topic``); anything else it
  writes goes upstream to every publisher.

Subscriptions travel as SUBSCRIBE / CANCEL commands to a ZMTP 3.1 peer (inside
the box under CURVE) and as data messages ``\\x01topic`` / ``\\x00topic`` to a
3.0 one; PUB and XPUB accept both forms from anyone. The publisher side keeps a
set per subscriber (a repeated SUBSCRIBE changes nothing, one CANCEL removes
it), as libzmq does; the subscriber side counts, and only sends the CANCEL that
brings a count to zero, so both ends agree.

A new pattern is a subclass that sets ``socket_type`` and overrides the ``_x*``
hooks of :class:`Socket`, then registers in :data:`SOCKET_CLASSES`.
"""

from __future__ import annotations

import random
import struct
from collections import deque

from ..errors import BusyError, LocalProtocolError, Reason, RemoteProtocolError
from ._pipe import Pipe
from ._protocol import logger
from ._socket import Socket, UnroutableError, UnsupportedError

__all__ = [
    "SOCKET_CLASSES",
    "Dealer",
    "Pair",
    "Pub",
    "Pull",
    "Push",
    "Rep",
    "Req",
    "Router",
    "Sub",
    "Topics",
    "XPub",
    "XSub",
    "create_socket",
]

_SUBSCRIBE = 1
_CANCEL = 0
_REQUEST_ID = struct.Struct("=I")  # libzmq copies a uint32 in host order


class Topics:
    """Prefix subscriptions, each with a count.

    Matching looks up the message's prefixes of each subscribed length in a
    dict, so its cost grows with the number of distinct topic lengths, not of
    topics.
    """

    __slots__ = ("_counts", "_lengths")

    def __init__(self) -> None:
        self._counts: dict[bytes, int] = {}
        self._lengths: dict[int, int] = {}  # topic length -> topics of it

    def __len__(self) -> int:
        return len(self._counts)

    def __contains__(self, topic: bytes) -> bool:
        return topic in self._counts

    def __iter__(self):
        return iter(list(self._counts))

    def add(self, topic: bytes) -> bool:
        """Count one more subscription to ``topic``; return whether it is new."""
        count = self._counts.get(topic, 0)
        self._counts[topic] = count + 1
        if count:
            return False
        self._lengths[len(topic)] = self._lengths.get(len(topic), 0) + 1
        return True

    def remove(self, topic: bytes, every: bool = False) -> bool:
        """Drop one subscription to ``topic`` (all of them with ``every``).

        Returns:
            whether the topic is gone now; False also when it was not there.
        """
        count = self._counts.get(topic)
        if count is None:
            return False
        if count > 1 and not every:
            self._counts[topic] = count - 1
            return False
        del self._counts[topic]
        size = len(topic)
        if self._lengths[size] == 1:
            del self._lengths[size]
        else:
            self._lengths[size] -= 1
        return True

    def match(self, data) -> bool:
        """Whether some topic is a prefix of ``data`` (bytes-like)."""
        counts = self._counts
        if not counts:
            return False
        size = len(data)
        if type(data) is not bytes:
            longest = max(self._lengths)
            data = bytes(memoryview(data)[:longest])
        for length in self._lengths:
            if length <= size and data[:length] in counts:
                return True
        return False


# -- load balancing: DEALER, REQ, PUSH, PAIR ----------------------------------------


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


class Push(_LoadBalanced):
    """PUSH: round robin out; receives nothing."""

    socket_type = "PUSH"

    def _xcheck_recv(self) -> None:
        raise UnsupportedError("a PUSH socket cannot receive")

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        # a PULL never sends; whatever a misbehaving peer sends is dropped
        logger.debug("dropped a message a PULL peer sent to PUSH %s", pipe.label)


class Pull(Socket):
    """PULL: fair queue in; sends nothing."""

    socket_type = "PULL"

    def _xattach(self, pipe: Pipe, event) -> str | None:
        return None

    def _xdetach(self, pipe: Pipe) -> None:
        pass

    def _xcheck_send(self) -> None:
        raise UnsupportedError("a PULL socket cannot send")

    def _xsend(self, frames: list) -> None:
        self._xcheck_send()

    def _xcan_send(self) -> bool:
        return False


class Pair(_LoadBalanced):
    """PAIR: one peer, both ways; any further connection is refused."""

    socket_type = "PAIR"

    def _xattach(self, pipe: Pipe, event) -> str | None:
        if self._out:
            return "a PAIR socket already has its peer"
        return super()._xattach(pipe, event)


class Req(_LoadBalanced):
    """REQ: strict request/reply alternation with an empty delimiter frame."""

    socket_type = "REQ"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reply_pipe: Pipe | None = None  # None: ready to send
        # REQ_CORRELATE ids: libzmq starts at rand(); any start will do
        self._request_id = random.getrandbits(32)

    def _xcheck_send(self) -> None:
        if self._reply_pipe is not None and not self.options.req_relaxed:
            raise LocalProtocolError(
                "expected a recv of the reply before the next send on a REQ socket"
            )

    def _xcheck_recv(self) -> None:
        if self._reply_pipe is None:
            raise LocalProtocolError("expected a send before a recv on a REQ socket")

    def _xsend(self, frames: list) -> None:
        self._xcheck_send()
        envelope = [b""]
        request_id = self._request_id
        if self.options.req_correlate:
            request_id = (request_id + 1) & 0xFFFFFFFF
            envelope = [_REQUEST_ID.pack(request_id), b""]
        pipe = self._lb_send(envelope + list(frames))
        # sent: replies to earlier requests that are still queued are stale now
        self._request_id = request_id
        self._reply_pipe = pipe
        self._drop_inbox()

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        # libzmq's REQ session drops a connection whose peer sends anything but
        # [id (4 bytes),] empty delimiter, body
        if len(frames) >= 2 and len(frames[0]) == 0:
            body_at = 1
        elif len(frames) >= 3 and len(frames[0]) == 4 and len(frames[1]) == 0:
            body_at = 2
        else:
            raise RemoteProtocolError(
                f"expected a reply of an empty delimiter frame and a body, got "
                f"{len(frames)} frames starting with {len(frames[0])} bytes",
                Reason.ZMTP_UNSPECIFIED,
            )
        if pipe is not self._reply_pipe:
            logger.debug("dropped a stray reply from %s", pipe.label)
            return
        if self.options.req_correlate:
            expected = _REQUEST_ID.pack(self._request_id)
            if body_at != 2 or bytes(frames[0]) != expected:
                logger.debug("dropped a reply to another request from %s", pipe.label)
                return
        elif body_at != 1:
            logger.debug("dropped a reply with a request id from %s", pipe.label)
            return
        self._push(pipe, frames[body_at:])

    def _xrecv(self) -> list:
        self._xcheck_recv()
        _, frames = self._pop()
        self._reply_pipe = None
        return frames

    def _xdetach(self, pipe: Pipe) -> None:
        super()._xdetach(pipe)
        # the reply can never come; libzmq keeps waiting, and so do we: with
        # REQ_RELAXED the application can send a new request instead


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

    def _xcheck_first(self, first) -> None:
        # libzmq fails the id part of a send(SNDMORE) at once
        if self.options.router_mandatory and bytes(first) not in self._by_id:
            raise UnroutableError(
                f"expected the routing id of a connected peer, got {bytes(first)!r}"
            )

    def _xsend(self, frames: list) -> None:
        # a lone frame is taken as a routing id with nothing to send (libzmq)
        if len(frames) < 2:
            return
        pipe = self._by_id.get(bytes(frames[0]))
        mandatory = self.options.router_mandatory
        if pipe is None:
            if mandatory:
                raise UnroutableError(
                    f"expected the routing id of a connected peer, got "
                    f"{bytes(frames[0])!r}"
                )
            return
        if not pipe.writable:
            if mandatory:
                raise BusyError(f"peer {pipe.label} is at its send high-water mark")
            logger.debug("dropped a message to %s, which is full", pipe.label)
            return
        pipe.write(list(frames[1:]))

    def _xcan_send(self) -> bool:
        # without ROUTER_MANDATORY a send never waits (it may drop)
        if not self.options.router_mandatory:
            return True
        return any(pipe.writable for pipe in self._by_id.values())


# -- publish / subscribe ------------------------------------------------------------


class XPub(Socket):
    """XPUB: fan out by subscription; hand subscriptions to the application."""

    socket_type = "XPUB"
    routable_before_handshake = False
    # XPUB delivers subscriptions and upstream messages; PUB does not
    _delivers = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._subscribers: list[Pipe] = []
        # how many subscribers hold each topic, for XPUB's notifications
        self._holders: dict[bytes, int] = {}
        # XPUB's notifications and upstream messages, in arrival order: one
        # queue, so a subscription and its cancel are never reordered
        self._pending: deque = deque()

    def _xattach(self, pipe: Pipe, event) -> str | None:
        pipe.topics = Topics()
        self._subscribers.append(pipe)
        return None

    def _xdetach(self, pipe: Pipe) -> None:
        self._subscribers.remove(pipe)
        topics, pipe.topics = pipe.topics, None
        # topics nobody wants any more are announced as unsubscriptions
        for topic in topics or ():
            self._release(pipe, topic, notify_always=False)

    def _xcommand(self, pipe: Pipe, name: str, data: bytes) -> None:
        self._subscription(pipe, name == "SUBSCRIBE", bytes(data))

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        # the ZMTP 3.0 form, which libzmq accepts from any peer: a part that
        # starts with 1 or 0 is a (un)subscription; anything else goes upstream
        upstream = []
        for frame in frames:
            if len(frame) and frame[0] in (_SUBSCRIBE, _CANCEL):
                self._subscription(pipe, frame[0] == _SUBSCRIBE, bytes(frame[1:]))
            else:
                upstream.append(frame)
        if upstream and self._delivers:
            self._notify(pipe, upstream)

    def _subscription(self, pipe: Pipe, subscribe: bool, topic: bytes) -> None:
        topics = pipe.topics
        if topics is None:
            return
        # TODO: a subscriber can add topics without limit (libzmq sets none
        # either), so one peer can grow this socket's memory at will; a cap per
        # subscriber would bound it.
        if subscribe:
            # a set per subscriber, as libzmq's trie: a repeat changes nothing
            new = topic not in topics
            if new:
                topics.add(topic)
                holders = self._holders.get(topic, 0) + 1
                self._holders[topic] = holders
                new = holders == 1
            if new or self.options.xpub_verbose or self.options.xpub_verboser:
                self._notify(pipe, [b"\x01" + topic])
        elif topics.remove(topic, every=True):
            self._release(pipe, topic, notify_always=self.options.xpub_verboser)
        else:
            # a CANCEL of a topic this peer never held means nothing
            logger.debug("ignored a CANCEL of an unknown topic from %s", pipe.label)

    def _release(self, pipe: Pipe, topic: bytes, notify_always: bool) -> None:
        holders = self._holders[topic] - 1
        if holders:
            self._holders[topic] = holders
        else:
            del self._holders[topic]
        if not holders or notify_always:
            self._notify(pipe, [b"\x00" + topic])

    def _notify(self, pipe: Pipe, frames: list) -> None:
        if not self._delivers or self.closed:
            return
        # TODO: this queue has no bound (libzmq's has none either): a subscriber
        # that churns subscriptions while the application never reads the XPUB
        # grows it without limit; RCVHWM back-pressure on that pipe would fix it.
        self._pending.append((pipe, frames))
        self._wake_readers()

    def _xhas_in(self) -> bool:
        return bool(self._pending)

    def _xrecv(self) -> list:
        try:
            pipe, frames = self._pending.popleft()
        except IndexError:
            raise BusyError("no message has arrived") from None
        self.last_properties = pipe.properties
        return frames

    def _drop_inbox(self) -> None:
        super()._drop_inbox()
        self._pending.clear()

    def _xsend(self, frames: list) -> None:
        first = frames[0]
        for pipe in self._subscribers:
            if pipe.topics.match(first):
                if pipe.writable:
                    pipe.write(frames)
                else:
                    logger.debug("dropped a message to %s, which is full", pipe.label)

    def _xcan_send(self) -> bool:
        return True  # a full subscriber drops, it never blocks


class Pub(XPub):
    """PUB: fan out by subscription; receives nothing."""

    socket_type = "PUB"
    _delivers = False

    def _xcheck_recv(self) -> None:
        raise UnsupportedError("a PUB socket cannot receive")


class XSub(Socket):
    """XSUB: subscriptions written as messages; fair queue in, filtered."""

    socket_type = "XSUB"
    routable_before_handshake = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._publishers: list[Pipe] = []
        self._topics = Topics()

    def _xattach(self, pipe: Pipe, event) -> str | None:
        self._publishers.append(pipe)
        # a new connection (or a reconnect) learns every subscription at once
        protocol = pipe.protocol
        if protocol is not None:
            for topic in self._topics:
                protocol.send_subscription(topic, True)
        return None

    def _xdetach(self, pipe: Pipe) -> None:
        self._publishers.remove(pipe)

    def _xdeliver(self, pipe: Pipe, frames: list) -> None:
        if self._topics.match(frames[0]):
            self._push(pipe, frames)

    def _subscribe(self, topic: bytes, subscribe: bool) -> bool:
        # counted: every SUBSCRIBE goes out (libzmq's XPUB dedups), only the
        # CANCEL that removes the last count does
        if subscribe:
            self._topics.add(topic)
            return True
        return self._topics.remove(topic)

    def _xsend(self, frames: list) -> None:
        first = frames[0]
        is_subscription = len(first) and first[0] in (_SUBSCRIBE, _CANCEL)
        if is_subscription and not self._subscribe(
            bytes(first[1:]), first[0] == _SUBSCRIBE
        ):
            return  # libzmq drops the CANCEL of a topic it does not hold
        # written as the application wrote it, as libzmq's XSUB does
        for pipe in self._publishers:
            if pipe.writable:
                pipe.write(frames)

    def _xcan_send(self) -> bool:
        return True  # a full publisher drops, it never blocks


class Sub(XSub):
    """SUB: subscriptions by option; receives what matches, sends nothing."""

    socket_type = "SUB"

    def _xcheck_send(self) -> None:
        raise UnsupportedError("a SUB socket cannot send")

    def _xsend(self, frames: list) -> None:
        self._xcheck_send()

    def _xcan_send(self) -> bool:
        return False

    def subscribe(self, topic: bytes, subscribe: bool = True) -> None:
        """Subscribe to a prefix (SUBSCRIBE), or drop one subscription to it
        (UNSUBSCRIBE).

        Args:
            topic: the prefix; empty subscribes to everything.
            subscribe: False to unsubscribe.
        """
        topic = bytes(topic)
        if not self._subscribe(topic, subscribe):
            return
        for pipe in self._publishers:
            if pipe.protocol is not None:
                pipe.protocol.send_subscription(topic, subscribe)


SOCKET_CLASSES: dict[str, type] = {
    "PAIR": Pair,
    "PUB": Pub,
    "SUB": Sub,
    "REQ": Req,
    "REP": Rep,
    "DEALER": Dealer,
    "ROUTER": Router,
    "PULL": Pull,
    "PUSH": Push,
    "XPUB": XPub,
    "XSUB": XSub,
}


def create_socket(socket_type: str, *args, **kwargs) -> Socket:
    """Create an engine socket of a ZMTP socket type.

    Args:
        socket_type: ``"REQ"``, ``"REP"``, ``"DEALER"``, ``"ROUTER"``, ``"PUB"``,
            ``"SUB"``, ``"XPUB"``, ``"XSUB"``, ``"PUSH"``, ``"PULL"`` or
            ``"PAIR"``.
        *args: passed to the socket class (options).
        **kwargs: passed to the socket class (loop, policy).

    Returns:
        the new socket.

    Raises:
        NotImplementedError: the type exists in ZeroMQ but not here (STREAM and
            the draft types).
        ValueError: the type is unknown.
    """
    cls = SOCKET_CLASSES.get(socket_type)
    if cls is None:
        if socket_type in ("STREAM", "SERVER", "CLIENT", "RADIO", "DISH"):
            raise NotImplementedError(f"{socket_type} sockets are not implemented")
        raise ValueError(f"unknown socket type {socket_type!r}")
    return cls(*args, **kwargs)
