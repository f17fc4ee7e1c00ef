"""``zmq.Socket``: pyzmq's socket API over an engine socket.

:class:`SocketBase` holds what the blocking and the asyncio sockets share: options
(``setsockopt``/``getsockopt`` and attribute access with pyzmq's names and
numbers), endpoints, the parts of a message being sent with SNDMORE, the parts of
a received message not yet read, error mapping and closing. A subclass supplies
only what blocks or awaits: ``_call`` (an engine call), ``_engine_events``,
``_set_monitor``, and the send, recv and poll methods. :class:`Socket` is the
blocking socket: each call runs on its Context's event loop thread and waits for
the answer.
"""

from __future__ import annotations

import errno as _errno
import json
import pickle
import random
import sys
from collections import deque
from typing import Any, Self

from .. import z85
from ..certs import Certificate, CertificateError
from ..engine import Options, create_socket
from ..errors import ClosedError, CurveZMQError, InvalidKeyError
from ..keys import key_bytes, usable_public_key
from ._constants import (
    Errno,
    Event,
    Flag,
    PollEvent,
    SocketOption,
    SocketType,
)
from ._error import ContextTerminated, ZMQBindError, ZMQError, map_error
from ._frame import Frame
from ._monitor import MonitorSocket

# plain ints: testing an int against an IntFlag member costs a microsecond or
# two per call on the per-message path, an int against an int almost nothing
_DONTWAIT = int(Flag.DONTWAIT)
_SNDMORE = int(Flag.SNDMORE)

__all__ = ["Socket", "SocketBase"]

# option -> Options field, for the plain int options the engine implements
_INT_FIELDS = {
    SocketOption.LINGER: "linger",
    SocketOption.RCVTIMEO: "rcvtimeo",
    SocketOption.SNDTIMEO: "sndtimeo",
    SocketOption.RECONNECT_IVL: "reconnect_ivl",
    SocketOption.RECONNECT_IVL_MAX: "reconnect_ivl_max",
    SocketOption.MAXMSGSIZE: "maxmsgsize",
    SocketOption.SNDHWM: "sndhwm",
    SocketOption.RCVHWM: "rcvhwm",
    SocketOption.HANDSHAKE_IVL: "handshake_ivl",
    SocketOption.BACKLOG: "backlog",
    SocketOption.HEARTBEAT_IVL: "heartbeat_ivl",
    SocketOption.HEARTBEAT_TIMEOUT: "heartbeat_timeout",
    SocketOption.HEARTBEAT_TTL: "heartbeat_ttl",
    SocketOption.IPV6: "ipv6",
    # curvezmq's own (README.md, Extensions)
    SocketOption.CURVE_INVALID_POLICY: "curve_drop_invalid",
    SocketOption.CURVE_INVALID_BUDGET: "curve_invalid_budget",
    SocketOption.CURVE_COMPACT: "curve_compact",
    SocketOption.CURVE_MAX_METADATA: "curve_max_metadata",
    SocketOption.CURVE_HELLO_IVL: "curve_hello_ivl",
    SocketOption.MAX_HANDSHAKES: "max_handshakes",
    SocketOption.CURVE_COOKIE_LIFETIME: "curve_cookie_lifetime",
    SocketOption.CURVE_VALIDATOR_TIMEOUT: "curve_validator_timeout",
    SocketOption.CURVE_CERT_EXCHANGE: "curve_cert_exchange",
}
# the range libzmq accepts for an int option, where it checks one
_INT_RANGES = {
    SocketOption.HEARTBEAT_IVL: (0, 2**31 - 1),
    SocketOption.HANDSHAKE_IVL: (0, 2**31 - 1),
    SocketOption.HEARTBEAT_TIMEOUT: (0, 2**31 - 1),
    # libzmq keeps deciseconds in 16 bits
    SocketOption.HEARTBEAT_TTL: (0, 6553599),
    SocketOption.CURVE_INVALID_POLICY: (0, 1),
    SocketOption.CURVE_INVALID_BUDGET: (-1, 2**31 - 1),
    SocketOption.CURVE_COMPACT: (0, 1),
    SocketOption.CURVE_MAX_METADATA: (0, 2**31 - 1),
    SocketOption.CURVE_HELLO_IVL: (0, 2**31 - 1),
    SocketOption.MAX_HANDSHAKES: (1, 2**31 - 1),
    SocketOption.CURVE_COOKIE_LIFETIME: (1, 2**31 - 1),
    SocketOption.CURVE_VALIDATOR_TIMEOUT: (1, 2**31 - 1),
    SocketOption.CURVE_CERT_EXCHANGE: (0, 1),
}
# write-only switches that only some socket types take (libzmq: EINVAL elsewhere)
_TYPED_FLAGS = {
    SocketOption.ROUTER_MANDATORY: ("router_mandatory", {SocketType.ROUTER}),
    SocketOption.REQ_RELAXED: ("req_relaxed", {SocketType.REQ}),
    SocketOption.REQ_CORRELATE: ("req_correlate", {SocketType.REQ}),
    SocketOption.XPUB_VERBOSE: ("xpub_verbose", {SocketType.XPUB, SocketType.PUB}),
    SocketOption.XPUB_VERBOSER: ("xpub_verboser", {SocketType.XPUB, SocketType.PUB}),
}
_KEY_OPTIONS = {
    SocketOption.CURVE_PUBLICKEY: ("curve_publickey", "public key"),
    SocketOption.CURVE_SECRETKEY: ("curve_secretkey", "secret key"),
    SocketOption.CURVE_SERVERKEY: ("curve_serverkey", "server key"),
}
_READ_ONLY = {
    SocketOption.TYPE,
    SocketOption.RCVMORE,
    SocketOption.EVENTS,
    SocketOption.FD,
    SocketOption.LAST_ENDPOINT,
    SocketOption.MECHANISM,
    SocketOption.THREAD_SAFE,
}
# TODO: the other options are accepted and read back but have no effect yet (TCP
# keepalive, IMMEDIATE, CONFLATE, ROUTER_HANDOVER, XPUB_NODROP, XPUB_MANUAL...);
# an application that depends on one behaves as with its default.
_OPTION_NAMES = {
    name.lower(): member for name, member in SocketOption.__members__.items()
}


# MECHANISM's read-back values (ZMQ_NULL, ZMQ_PLAIN, ZMQ_CURVE)
_MECHANISM_NUMBERS = {"NULL": 0, "PLAIN": 1, "CURVE": 2}


def _select_mechanism(opts: Options) -> None:
    # libzmq keeps one mechanism, set by the last security option: clear the
    # roles of every mechanism before the caller sets the new one (the keys stay)
    opts.curve_server = False
    opts.curve_serverkey = None
    opts.plain_server = False
    opts.plain_username = None
    opts.plain_password = None
    opts.curve_serverkey_fetch = False


# The most text a certificate we present may have: half of the default
# CURVE_MAX_METADATA, so that with Socket-Type, Identity and application
# properties the handshake command still fits a default peer's limit.
MAX_PRESENTED_CERTIFICATE = 4096


def _certificate(value: Any) -> Certificate | None:
    # CURVE_CERTIFICATE: a Certificate, or its public text (ZPL, as a public
    # certificate file holds it); empty for none. Only the public part is kept.
    if value is None:
        return None
    if isinstance(value, Certificate):
        certificate = value.public
    elif isinstance(value, str):
        raise TypeError("unicode not allowed, use setsockopt_string")
    else:
        text = bytes(value)
        if not text:
            return None
        try:
            certificate = Certificate.from_public_text(text)
        except CertificateError as exc:
            raise ZMQError(Errno.EINVAL, str(exc)) from exc
    try:
        size = len(certificate.public_text())
    except CertificateError as exc:
        raise ZMQError(Errno.EINVAL, str(exc)) from exc
    if size > MAX_PRESENTED_CERTIFICATE:
        # it travels in INITIATE or READY beside the other properties, which a
        # peer with the default CURVE_MAX_METADATA would refuse whole
        raise ZMQError(
            Errno.EINVAL,
            f"a certificate to present may hold at most "
            f"{MAX_PRESENTED_CERTIFICATE} bytes of text, got {size}",
        )
    return certificate


def _zmq_error(exc: BaseException) -> BaseException:
    mapped = map_error(exc)
    if mapped is None:
        return exc
    mapped.__cause__ = exc
    return mapped


class SocketBase:
    """Options, multipart assembly and message buffering shared by both APIs.

    Args:
        context: the Context that made the socket.
        socket_type: a socket type number (``zmq.REQ``...).

    Raises:
        ZMQError: EINVAL for an unknown socket type.
    """

    # the engine socket once made: at once for the blocking socket, on first use
    # (on the loop running then) for the asyncio one
    _engine_socket = None

    def __init__(self, context, socket_type: int) -> None:
        try:
            self._type = SocketType(int(socket_type))
        except ValueError:
            raise ZMQError(
                Errno.EINVAL, f"unknown socket type {socket_type!r}"
            ) from None
        self.context = context
        self._options = Options()
        self._extra: dict[int, Any] = {}
        self._serverkey: bytes | None = None
        self._closed = False
        self._terminated = False
        self._sending: list = []
        self._receiving: deque = deque()
        self._properties: dict = {}

    @property
    def _engine(self):
        return self._engine_socket

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _apply_context_options(self) -> None:
        # the Context's defaults, once the engine exists; like pyzmq, an option
        # this socket type does not take is skipped
        for option, value in self.context._sockopts.items():
            try:
                self.setsockopt(option, value)
            except ZMQError:
                pass

    # -- options ---------------------------------------------------------------

    @property
    def type(self) -> SocketType:
        """The socket type."""
        return self._type

    @property
    def socket_type(self) -> SocketType:
        """The socket type (pyzmq's alias)."""
        return self._type

    @property
    def closed(self) -> bool:
        """Whether the socket is closed."""
        return self._closed

    @property
    def hwm(self) -> int:
        """SNDHWM, or RCVHWM when they differ (pyzmq's ``hwm``)."""
        return self._options.sndhwm

    @hwm.setter
    def hwm(self, value: int) -> None:
        self.setsockopt(SocketOption.SNDHWM, value)
        self.setsockopt(SocketOption.RCVHWM, value)

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a socket option, like ``zmq.Socket.setsockopt``.

        Args:
            option: the option number (``zmq.CURVE_SERVER``...).
            value: an int, or bytes for byte options (str is refused as in pyzmq,
                except for keys, which are text anyway).

        Raises:
            ZMQError: EINVAL for an unknown or read-only option or a bad value
                (a malformed key); ENOTSOCK when the socket is closed.
        """
        self._check_open()
        option = int(option)
        opts = self._options
        if option in _INT_FIELDS:
            number = self._int(value)
            low, high = _INT_RANGES.get(option, (-(2**63), 2**63 - 1))
            if not low <= number <= high:
                raise ZMQError(
                    Errno.EINVAL, f"option {option} takes {low}..{high}, not {number}"
                )
            field = _INT_FIELDS[option]
            if isinstance(getattr(opts, field), bool):
                number = bool(number)
            setattr(opts, field, number)
        elif option in _TYPED_FLAGS:
            field, types = _TYPED_FLAGS[option]
            if self._type not in types:
                raise ZMQError(
                    Errno.EINVAL, f"option {option} does not apply to {self._type.name}"
                )
            setattr(opts, field, bool(self._int(value)))
        elif option in (SocketOption.SUBSCRIBE, SocketOption.UNSUBSCRIBE):
            if self._type != SocketType.SUB:
                raise ZMQError(Errno.EINVAL, "only a SUB socket takes subscriptions")
            topic = self._bytes(value)
            self._call(self._engine.subscribe, topic, option == SocketOption.SUBSCRIBE)
            return
        elif option in _KEY_OPTIONS:
            field, what = _KEY_OPTIONS[option]
            try:
                key = key_bytes(value, what)
            except InvalidKeyError as exc:
                raise ZMQError(Errno.EINVAL, str(exc)) from exc
            if option == SocketOption.CURVE_SERVERKEY and not usable_public_key(key):
                # no handshake could prove it: fail here, not at each reconnect
                raise ZMQError(
                    Errno.EINVAL, "the server key is a low-order or non-canonical point"
                )
            if option == SocketOption.CURVE_SERVERKEY:
                # libzmq: a server key makes this socket a CURVE client
                self._serverkey = key
                _select_mechanism(opts)
                opts.curve_serverkey = key
            else:
                # TODO: libzmq selects CURVE whenever any CURVE key is set; here
                # only CURVE_SERVER and CURVE_SERVERKEY do, so a PLAIN socket given
                # its own CURVE keys afterwards stays PLAIN (libzmq: CURVE with
                # the same role), and one given only its keys stays NULL.
                setattr(opts, field, key)
        elif option == SocketOption.CURVE_SERVERKEY_FETCH:
            # like a server key, the fetch makes this socket a CURVE client
            fetch = bool(self._int(value))
            if fetch or opts.curve_serverkey_fetch:
                serverkey = opts.curve_serverkey
                _select_mechanism(opts)
                opts.curve_serverkey = serverkey
            opts.curve_serverkey_fetch = fetch
        elif option == SocketOption.CURVE_CERTIFICATE:
            opts.curve_certificate = _certificate(value)
        elif option == SocketOption.CURVE_KNOWN_HOSTS:
            opts.curve_known_hosts = self._bytes(value)
        elif option == SocketOption.CURVE_SERVER:
            # libzmq: CURVE_SERVER=1 selects CURVE as server, 0 selects NULL
            _select_mechanism(opts)
            opts.curve_server = bool(self._int(value))
        elif option == SocketOption.PLAIN_SERVER:
            # libzmq: PLAIN_SERVER=1 selects PLAIN as server, 0 selects NULL
            _select_mechanism(opts)
            opts.plain_server = bool(self._int(value))
        elif option in (SocketOption.PLAIN_USERNAME, SocketOption.PLAIN_PASSWORD):
            # libzmq: either one selects PLAIN as client; 1..255 bytes each
            credential = self._bytes(value)
            if not 1 <= len(credential) <= 255:
                raise ZMQError(Errno.EINVAL, "a PLAIN credential must be 1..255 bytes")
            username, password = opts.plain_username, opts.plain_password
            _select_mechanism(opts)
            if option == SocketOption.PLAIN_USERNAME:
                username = credential
            else:
                password = credential
            opts.plain_username = b"" if username is None else username
            opts.plain_password = b"" if password is None else password
        elif option == SocketOption.ZAP_DOMAIN:
            domain = self._bytes(value)
            if len(domain) > 255:
                raise ZMQError(Errno.EINVAL, "a ZAP domain must be at most 255 bytes")
            opts.zap_domain = domain
        elif option == SocketOption.ROUTING_ID:
            value = self._bytes(value)
            if not 1 <= len(value) <= 255:
                raise ZMQError(Errno.EINVAL, "a routing id must be 1..255 bytes")
            opts.routing_id = value
        elif option in _READ_ONLY or option == SocketOption.HWM:
            raise ZMQError(Errno.EINVAL, f"option {option} cannot be set")
        elif option in SocketOption._value2member_map_:
            self._extra[option] = value
        else:
            raise ZMQError(Errno.EINVAL, f"unknown socket option {option}")
        self._options_changed()

    set = setsockopt

    def getsockopt(self, option: int) -> Any:
        """Read a socket option, like ``zmq.Socket.getsockopt``.

        Args:
            option: the option number.

        Returns:
            an int, or bytes for byte options.

        Raises:
            ZMQError: EINVAL for an unknown or write-only option (the secret key is
                never read back); ENOTSOCK when the socket is closed.
        """
        self._check_open()
        option = int(option)
        opts = self._options
        if option in _INT_FIELDS:
            value = int(getattr(opts, _INT_FIELDS[option]))
            if option == SocketOption.HEARTBEAT_TTL:
                value -= value % 100  # libzmq keeps deciseconds
            return value
        if option in _TYPED_FLAGS or option in (
            SocketOption.SUBSCRIBE,
            SocketOption.UNSUBSCRIBE,
        ):
            raise ZMQError(Errno.EINVAL, f"option {option} is write-only")
        if option == SocketOption.TYPE:
            return int(self._type)
        if option == SocketOption.RCVMORE:
            return int(bool(self._receiving))
        if option == SocketOption.LAST_ENDPOINT:
            return self._last_endpoint().encode()
        if option == SocketOption.CURVE_SERVER:
            return int(opts.curve_server)
        if option == SocketOption.MECHANISM:
            return _MECHANISM_NUMBERS[opts.mechanism]
        if option == SocketOption.PLAIN_SERVER:
            return int(opts.plain_server)
        if option == SocketOption.PLAIN_USERNAME:
            return opts.plain_username or b""
        if option == SocketOption.PLAIN_PASSWORD:
            # libzmq reads it back too; it never appears in a repr or a log
            return opts.plain_password or b""
        if option == SocketOption.ZAP_DOMAIN:
            return opts.zap_domain
        if option == SocketOption.ROUTING_ID:
            return opts.routing_id
        if option == SocketOption.CURVE_PUBLICKEY:
            return z85.encode(opts.curve_publickey) if opts.curve_publickey else b""
        if option == SocketOption.CURVE_SERVERKEY:
            return z85.encode(self._serverkey) if self._serverkey else b""
        if option == SocketOption.CURVE_SERVERKEY_FETCH:
            return int(opts.curve_serverkey_fetch)
        if option == SocketOption.CURVE_CERTIFICATE:
            certificate = opts.curve_certificate
            return certificate.public_text() if certificate is not None else b""
        if option == SocketOption.CURVE_KNOWN_HOSTS:
            return opts.curve_known_hosts
        if option == SocketOption.EVENTS:
            return self._events()
        if option in self._extra:
            return self._extra[option]
        raise ZMQError(Errno.EINVAL, f"option {option} cannot be read")

    get = getsockopt

    def setsockopt_string(
        self, option: int, value: str, encoding: str = "utf-8"
    ) -> None:
        """Set a byte option from text."""
        self.setsockopt(option, value.encode(encoding))

    def getsockopt_string(self, option: int, encoding: str = "utf-8") -> str:
        """Read a byte option as text."""
        value = self.getsockopt(option)
        return value.decode(encoding) if isinstance(value, bytes) else str(value)

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: sock.rcvtimeo, sock.last_endpoint...
        if name.startswith("_"):
            raise AttributeError(name)
        option = _OPTION_NAMES.get(name)
        if option is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        try:
            return self.getsockopt(option)
        except ZMQError as exc:
            if exc.errno == Errno.EINVAL:
                raise AttributeError(f"{name} attribute is write-only") from None
            raise

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        option = _OPTION_NAMES.get(name)
        if option is None:
            object.__setattr__(self, name, value)
        else:
            self.setsockopt(option, value)

    @staticmethod
    def _int(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ZMQError(
                    Errno.EINVAL, f"expected an int, got {value!r}"
                ) from None
        return value

    @staticmethod
    def _bytes(value: Any) -> bytes:
        if isinstance(value, str):
            raise TypeError("unicode not allowed, use setsockopt_string")
        return bytes(value)

    def _options_changed(self) -> None:
        """The engine reads Options live; nothing to push by default."""

    @property
    def curve_validator(self):
        """The CURVE peer validator (curvezmq's own; docs/extensions.md).

        A callable ``validator(key, certificate, address) -> bool``, or a
        coroutine function (``zmq.asyncio``), that every CURVE peer must pass
        once its key is proven: ``key`` is its long-term public key (32 raw
        bytes), ``certificate`` the :class:`curvezmq.certs.Certificate` it
        presented or None (libzmq peers present none), ``address`` the peer's
        IP address on a server, the endpoint we connected to on a client. False,
        an exception or no answer within CURVE_VALIDATOR_TIMEOUT refuses the
        peer: a server sends it ERROR "400", a client closes and does not
        reconnect. A plain callable runs in a worker thread, so it may block.
        None (the default) validates nothing. Like other options it applies to
        endpoints bound or connected after it is set.
        """
        return self._options.curve_validator

    @curve_validator.setter
    def curve_validator(self, validator) -> None:
        self._check_open()
        if validator is not None and not callable(validator):
            raise ZMQError(Errno.EINVAL, "curve_validator must be callable or None")
        self._options.curve_validator = validator
        self._options_changed()

    def subscribe(self, topic: Any) -> None:
        """Subscribe to a topic prefix (SUB), like pyzmq's ``subscribe``.

        Args:
            topic: bytes, or str (encoded as UTF-8); empty means everything.

        Raises:
            ZMQError: EINVAL on a socket that is not a SUB.
        """
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(SocketOption.SUBSCRIBE, topic)

    def unsubscribe(self, topic: Any) -> None:
        """Drop one subscription to a topic prefix (SUB).

        Raises:
            ZMQError: EINVAL on a socket that is not a SUB.
        """
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(SocketOption.UNSUBSCRIBE, topic)

    # -- endpoints ---------------------------------------------------------------

    def bind(self, addr: str) -> None:
        """Bind to ``tcp://host:port`` (``*`` wildcards allowed) or ``ipc://path``.

        Raises:
            ZMQError: EPROTONOSUPPORT (neither tcp nor ipc), EINVAL (malformed,
                or CURVE keys missing), EADDRINUSE, ENODEV (an address the
                enabled families cannot bind)...
        """
        self._check_open()
        self._call(self._engine.bind, addr)

    def connect(self, addr: str) -> None:
        """Connect to ``tcp://host:port`` or ``ipc://path``; reconnects until
        closed.

        Raises:
            ZMQError: EPROTONOSUPPORT (neither tcp nor ipc), EINVAL (malformed,
                or CURVE keys missing).
        """
        self._check_open()
        self._call(self._engine.connect, addr)

    def unbind(self, addr: str) -> None:
        """Stop listening on an endpoint."""
        self._check_open()
        self._call(self._engine.unbind, addr)

    def disconnect(self, addr: str) -> None:
        """Stop a connected endpoint."""
        self._check_open()
        self._call(self._engine.disconnect, addr)

    def bind_to_random_port(
        self,
        addr: str,
        min_port: int = 49152,
        max_port: int = 65536,
        max_tries: int = 100,
    ) -> int:
        """Bind ``addr`` to a free port and return the port, as pyzmq does.

        With the default range the system picks the port (it may lie outside
        49152..65535, as with pyzmq); with an explicit range, random ports of it
        are tried.

        Args:
            addr: ``tcp://host`` without a port.
            min_port: the lowest port to try.
            max_port: one past the highest port to try.
            max_tries: how many random ports to try.

        Returns:
            the port.

        Raises:
            ZMQBindError: no port of the range was free after ``max_tries``.
            ZMQError: the address cannot be bound for another reason.
        """
        if min_port == 49152 and max_port == 65536:
            self.bind(f"{addr}:*")
            return int(self._last_endpoint().rsplit(":", 1)[1])
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as exc:
                if exc.errno == Errno.EADDRINUSE:
                    continue
                if sys.platform == "win32" and exc.errno == _errno.EACCES:
                    continue
                raise
            return port
        raise ZMQBindError("Could not bind socket to random port.")

    # -- state helpers -----------------------------------------------------------

    def _error(self, exc: BaseException) -> BaseException:
        if self._terminated and isinstance(exc, ClosedError):
            return ContextTerminated()
        return _zmq_error(exc)

    def _check_open(self) -> None:
        if self._closed:
            if self._terminated:
                raise ContextTerminated()
            raise ZMQError(Errno.ENOTSOCK)

    def _last_endpoint(self) -> str:
        engine = self._engine_socket
        return engine.last_endpoint if engine is not None else ""

    def _events(self) -> int:
        if self._closed:
            return 0
        events = self._engine_events()
        if self._receiving:
            events |= PollEvent.POLLIN
        return events

    def _engine_events(self) -> int:
        raise NotImplementedError

    def _ready_now(self, timeout: int | None, flags: int) -> int | None:
        # poll's first look: the events ready now, or None when it must wait
        if self._closed:
            raise ZMQError(Errno.ENOTSUP)
        ready = self._events() & flags
        if ready or timeout == 0:
            return ready
        return None

    # -- message assembly ------------------------------------------------------------

    def _stage(self, data: Any, flags: int) -> list | None:
        # send's part: the whole message once the last part is in, else None
        self._check_open()
        part = self._part(data)
        if flags & _SNDMORE:
            # the first part of a multipart message: EFSM now, as libzmq does;
            # a single-part send is checked by the engine's send itself
            if not self._sending:
                self._call(self._engine.check_send, part)
            self._sending.append(part)
            return None
        self._sending.append(part)
        frames, self._sending = self._sending, []
        return frames

    def _stage_multipart(self, msg_parts) -> list:
        # send_multipart's part: the whole message, after any SNDMORE parts
        self._check_open()
        parts = [self._part(p) for p in msg_parts]
        if not parts:
            raise ZMQError(Errno.EINVAL, "a message needs at least one part")
        frames, self._sending = self._sending + parts, []
        return frames

    @staticmethod
    def _string_part(u: str, encoding: str) -> bytes:
        if not isinstance(u, str):
            raise TypeError("send_string expects str")
        return u.encode(encoding)

    @staticmethod
    def _part(data: Any) -> Any:
        # pyzmq copies by default, so a bytearray changed after send is not seen
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            raise TypeError("unicode not allowed, use send_string")
        if isinstance(data, Frame):
            return data.bytes
        try:
            return bytes(memoryview(data))
        except TypeError:
            raise TypeError(
                f"expected bytes or a buffer, got {type(data).__name__}"
            ) from None

    def _take(self, frames: list, copy: bool) -> Any:
        # hand out the first part, keep the rest for RCVMORE and the next recv
        self._properties = self._engine.last_properties
        first = frames[0]
        self._receiving.extend(frames[1:])
        return self._wrap(first, copy)

    def _next_part(self, copy: bool) -> Any:
        return self._wrap(self._receiving.popleft(), copy)

    def _wrap(self, data: Any, copy: bool) -> Any:
        if copy:
            return data if isinstance(data, bytes) else bytes(data)
        return Frame(data, more=bool(self._receiving), properties=self._properties)

    def __repr__(self) -> str:
        state = "closed" if self._closed else self._last_endpoint() or "unbound"
        return f"<curvezmq.zmq.{type(self).__name__}({self._type.name}) {state}>"

    # -- the monitor -----------------------------------------------------------------

    _monitor_socket = None

    def get_monitor_socket(self, events: int | None = None, addr: str | None = None):
        """Return a PAIR-like socket that receives this socket's monitor events.

        Each event is libzmq's two-frame message; read it with
        ``zmq.utils.monitor.recv_monitor_message``. Calling this again returns
        the same monitor socket until it is closed.

        Args:
            events: a mask of ``zmq.EVENT_*``; all events when None.
            addr: the name the monitor goes by (pyzmq's inproc address); no
                endpoint is bound, as curvezmq has no inproc transport.

        Returns:
            a :class:`~curvezmq.zmq._monitor.MonitorSocket` (awaitable calls for
            an asyncio socket).

        Raises:
            ZMQError: ENOTSOCK when this socket is closed.
        """
        self._check_open()
        current = self._monitor_socket
        if current is not None and not current.closed:
            return current
        if addr is None:
            addr = f"inproc://monitor.s-{id(self):x}"
        if events is None:
            events = Event.ALL
        monitor = self._new_monitor(addr)
        self._set_monitor(monitor._push, int(events))
        self._monitor_socket = monitor
        return monitor

    def disable_monitor(self) -> None:
        """Stop monitoring; the monitor socket receives MONITOR_STOPPED last."""
        self._monitor_socket = None
        if not self._closed:
            self._set_monitor(None, 0)

    def monitor(self, addr: str | None, events: int = Event.ALL) -> None:
        """Only ``monitor(None)`` (stop monitoring) is available.

        Raises:
            ZMQError: EPROTONOSUPPORT for an address: curvezmq has no inproc
                transport to publish events on; use :meth:`get_monitor_socket`.
        """
        if addr is None:
            self.disable_monitor()
            return
        raise ZMQError(
            Errno.EPROTONOSUPPORT,
            "monitor endpoints need inproc, which curvezmq lacks; use "
            "get_monitor_socket()",
        )

    def _new_monitor(self, addr: str):
        return MonitorSocket(self.context, addr)

    def _set_monitor(self, callback, events: int) -> None:
        raise NotImplementedError

    # -- closing ----------------------------------------------------------------------

    def close(self, linger: int | None = None) -> None:
        """Close the socket; queued messages get LINGER ms to leave, in the
        background (the blocking ``Context.term`` waits for them; the asyncio
        one's ``wait_closed``, while the loop keeps running).

        Args:
            linger: milliseconds, overriding the LINGER option.
        """
        if self._closed:
            return
        self._closed = True
        self._receiving.clear()
        self._sending = []
        self.context._socket_closed(self, self._engine_socket, linger)


class Socket(SocketBase):
    """A blocking socket, like ``zmq.Socket``; make it with ``Context.socket``.

    Every call runs on the Context's event loop thread. A blocking ``recv`` or
    ``send`` waits up to RCVTIMEO / SNDTIMEO and then raises :class:`zmq.Again`.
    """

    def __init__(self, context, socket_type: int) -> None:
        super().__init__(context, socket_type)
        self._engine_socket = context._run(
            create_socket,
            self._type.name,
            self._options,
            loop=context._loop,
            policy=context._get_policy,
        )
        self._apply_context_options()

    def _call(self, fn, *args) -> Any:
        try:
            return self.context._run(fn, *args)
        except (CurveZMQError, OSError) as exc:
            raise self._error(exc) from exc

    def _await(self, coroutine) -> Any:
        try:
            return self.context._run_coroutine(coroutine)
        except (CurveZMQError, OSError) as exc:
            raise self._error(exc) from exc

    # -- sending -------------------------------------------------------------------

    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs,
    ) -> None:
        """Send one part; with SNDMORE more parts of the same message follow.

        Raises:
            zmq.Again: NOBLOCK and no peer can take it, or SNDTIMEO expired.
            ZMQError: EFSM (REQ/REP order), ENOTSOCK (closed).
        """
        frames = self._stage(data, flags)
        if frames is not None:
            self._send_frames(frames, flags)

    def send_multipart(
        self,
        msg_parts,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs,
    ) -> None:
        """Send a whole message.

        Raises:
            zmq.Again, ZMQError: as :meth:`send`.
        """
        self._send_frames(self._stage_multipart(msg_parts), flags)

    def _send_frames(self, frames: list, flags: int) -> None:
        if flags & _DONTWAIT:
            self._call(self._engine.send_nowait, frames)
        else:
            self._await(self._engine.send(frames))

    def send_string(
        self,
        u: str,
        flags: int = 0,
        copy: bool = True,
        encoding: str = "utf-8",
        **kwargs,
    ) -> None:
        """Send text as one part."""
        self.send(self._string_part(u, encoding), flags=flags)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0, **kwargs) -> None:
        """Send an object as JSON text."""
        self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags=flags)

    def send_pyobj(
        self,
        obj: Any,
        flags: int = 0,
        protocol: int = pickle.DEFAULT_PROTOCOL,
        **kwargs: Any,
    ) -> None:
        """Send an object pickled; only for peers you trust, as with pyzmq."""
        self.send(pickle.dumps(obj, protocol), flags=flags)

    # -- receiving -------------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one part.

        Returns:
            bytes, or a :class:`zmq.Frame` with ``copy=False``.

        Raises:
            zmq.Again: NOBLOCK and nothing has arrived, or RCVTIMEO expired.
            ZMQError: EFSM (REQ/REP order), ENOTSOCK (closed).
        """
        self._check_open()
        if self._receiving:
            return self._next_part(copy)
        if flags & _DONTWAIT:
            frames = self._call(self._engine.recv_nowait)
        else:
            frames = self._await(self._engine.recv())
        return self._take(frames, copy)

    def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list:
        """Receive every part of one message.

        Raises:
            zmq.Again, ZMQError: as :meth:`recv`.
        """
        parts = [self.recv(flags, copy=copy)]
        while self._receiving:
            parts.append(self._next_part(copy))
        return parts

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        """Receive one part as text."""
        return self.recv(flags).decode(encoding)

    recv_unicode = recv_string

    def recv_json(self, flags: int = 0, **kwargs) -> Any:
        """Receive one part and parse it as JSON."""
        return json.loads(self.recv(flags), **kwargs)

    def recv_pyobj(self, flags: int = 0) -> Any:
        """Receive one part and unpickle it. Unpickling runs code of the
        sender's choosing: use it only with peers you trust (CURVE with an
        allow list), as with pyzmq."""
        return pickle.loads(self.recv(flags))

    def _set_monitor(self, callback, events: int) -> None:
        self._call(self._engine.set_monitor, callback, events)

    def poll(self, timeout: int | None = None, flags: int = PollEvent.POLLIN) -> int:
        """Wait until the socket is readable (POLLIN) or writable (POLLOUT).

        Args:
            timeout: milliseconds; None waits forever.
            flags: POLLIN, POLLOUT or both.

        Returns:
            the events that are ready, 0 on timeout.

        Raises:
            ZMQError: ENOTSUP on a closed socket, as in pyzmq.
        """
        ready = self._ready_now(timeout, flags)
        if ready is not None:
            return ready
        seconds = None if timeout is None or timeout < 0 else timeout / 1000
        if flags & PollEvent.POLLIN and flags & PollEvent.POLLOUT:
            from ._poll import Poller

            poller = Poller()
            poller.register(self, flags)
            found = poller.poll(timeout)
            return found[0][1] if found else 0
        if flags & PollEvent.POLLIN:
            waiting = self._engine.wait_readable(seconds)
        elif flags & PollEvent.POLLOUT:
            waiting = self._engine.wait_writable(seconds)
        else:
            return 0
        if self._await(waiting):
            return self._events() & flags
        return 0

    def _engine_events(self) -> int:
        return self.context._run(_engine_events, self._engine)


def _engine_events(engine) -> int:
    # POLLIN / POLLOUT of an engine socket, on its loop thread
    events = 0
    if _readable(engine):
        events |= PollEvent.POLLIN
    if engine.can_send():
        events |= PollEvent.POLLOUT
    return events


def _readable(engine) -> bool:
    try:
        engine._xcheck_recv()
    except CurveZMQError:
        return False
    return engine.readable
