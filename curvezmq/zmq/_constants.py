"""pyzmq's constants, with pyzmq 27.3's numbers (libzmq 4.3 values on Linux).

The enums carry the same names as ``zmq.constants``; every member is also a
module-level name, so ``zmq.REQ`` and ``zmq.SocketType.REQ`` both work.
"""

from __future__ import annotations

import errno as _errno
import sys as _sys
from enum import IntEnum, IntFlag

__all__ = [
    "HAUSNUMERO",
    "OPTION_TYPES",
    "ContextOption",
    "CurveInvalidPolicy",
    "DeviceType",
    "Errno",
    "Event",
    "Flag",
    "MessageOption",
    "PollEvent",
    "ReconnectStop",
    "RouterNotify",
    "SecurityMechanism",
    "SocketOption",
    "SocketType",
]

# libzmq numbers its own error codes from here; POSIX names the platform lacks get
# HAUSNUMERO + 1..18, libzmq-only ones HAUSNUMERO + 51..54.
HAUSNUMERO = 156384712

# POSIX errno names libzmq uses, in libzmq's fallback order (HAUSNUMERO + n).
_POSIX_NAMES = [
    "ENOTSUP",
    "EPROTONOSUPPORT",
    "ENOBUFS",
    "ENETDOWN",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ECONNREFUSED",
    "EINPROGRESS",
    "ENOTSOCK",
    "EMSGSIZE",
    "EAFNOSUPPORT",
    "ENETUNREACH",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOTCONN",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETRESET",
]

# pyzmq hard-codes the MSVC values on Windows, where Python's errno module differs.
_WINDOWS_VALUES = {
    "ENOTSUP": 129,
    "EPROTONOSUPPORT": 135,
    "ENOBUFS": 119,
    "ENETDOWN": 116,
    "EADDRINUSE": 100,
    "EADDRNOTAVAIL": 101,
    "ECONNREFUSED": 107,
    "EINPROGRESS": 112,
    "ENOTSOCK": 128,
    "EMSGSIZE": 115,
    "EAFNOSUPPORT": 102,
    "ENETUNREACH": 118,
    "ECONNABORTED": 106,
    "ECONNRESET": 108,
    "ENOTCONN": 126,
    "ETIMEDOUT": 138,
    "EHOSTUNREACH": 110,
    "ENETRESET": 117,
}


def _errno_table() -> dict[str, int]:
    table = {
        "EAGAIN": _errno.EAGAIN,
        "EFAULT": _errno.EFAULT,
        "EINVAL": _errno.EINVAL,
        "EINTR": _errno.EINTR,
    }
    for n, name in enumerate(_POSIX_NAMES, start=1):
        if _sys.platform.startswith("win"):
            table[name] = _WINDOWS_VALUES[name]
        else:
            table[name] = getattr(_errno, name, HAUSNUMERO + n)
    table.update(
        EFSM=HAUSNUMERO + 51,
        ENOCOMPATPROTO=HAUSNUMERO + 52,
        ETERM=HAUSNUMERO + 53,
        EMTHREAD=HAUSNUMERO + 54,
    )
    return table


Errno = IntEnum("Errno", _errno_table(), module=__name__)
Errno.__doc__ = "Error numbers, as ``zmq.Errno``."


class ContextOption(IntEnum):
    """Context options (zmq_ctx_set)."""

    IO_THREADS = 1
    MAX_SOCKETS = 2
    SOCKET_LIMIT = 3
    THREAD_PRIORITY = SOCKET_LIMIT
    THREAD_SCHED_POLICY = 4
    MAX_MSGSZ = 5
    MSG_T_SIZE = 6
    THREAD_AFFINITY_CPU_ADD = 7
    THREAD_AFFINITY_CPU_REMOVE = 8
    THREAD_NAME_PREFIX = 9


class SocketType(IntEnum):
    """Socket types."""

    PAIR = 0
    PUB = 1
    SUB = 2
    REQ = 3
    REP = 4
    DEALER = 5
    ROUTER = 6
    PULL = 7
    PUSH = 8
    XPUB = 9
    XSUB = 10
    STREAM = 11
    XREQ = DEALER
    XREP = ROUTER
    SERVER = 12
    CLIENT = 13
    RADIO = 14
    DISH = 15
    GATHER = 16
    SCATTER = 17
    DGRAM = 18
    PEER = 19
    CHANNEL = 20


# option number -> value type, as pyzmq and libzmq read and write them


class SocketOption(IntEnum):
    """Socket options (zmq_setsockopt)."""

    HWM = 1
    AFFINITY = 4
    ROUTING_ID = 5
    SUBSCRIBE = 6
    UNSUBSCRIBE = 7
    RATE = 8
    RECOVERY_IVL = 9
    SNDBUF = 11
    RCVBUF = 12
    RCVMORE = 13
    FD = 14
    EVENTS = 15
    TYPE = 16
    LINGER = 17
    RECONNECT_IVL = 18
    BACKLOG = 19
    RECONNECT_IVL_MAX = 21
    MAXMSGSIZE = 22
    SNDHWM = 23
    RCVHWM = 24
    MULTICAST_HOPS = 25
    RCVTIMEO = 27
    SNDTIMEO = 28
    LAST_ENDPOINT = 32
    ROUTER_MANDATORY = 33
    TCP_KEEPALIVE = 34
    TCP_KEEPALIVE_CNT = 35
    TCP_KEEPALIVE_IDLE = 36
    TCP_KEEPALIVE_INTVL = 37
    IMMEDIATE = 39
    XPUB_VERBOSE = 40
    ROUTER_RAW = 41
    IPV6 = 42
    MECHANISM = 43
    PLAIN_SERVER = 44
    PLAIN_USERNAME = 45
    PLAIN_PASSWORD = 46
    CURVE_SERVER = 47
    CURVE_PUBLICKEY = 48
    CURVE_SECRETKEY = 49
    CURVE_SERVERKEY = 50
    PROBE_ROUTER = 51
    REQ_CORRELATE = 52
    REQ_RELAXED = 53
    CONFLATE = 54
    ZAP_DOMAIN = 55
    ROUTER_HANDOVER = 56
    TOS = 57
    CONNECT_ROUTING_ID = 61
    GSSAPI_SERVER = 62
    GSSAPI_PRINCIPAL = 63
    GSSAPI_SERVICE_PRINCIPAL = 64
    GSSAPI_PLAINTEXT = 65
    HANDSHAKE_IVL = 66
    SOCKS_PROXY = 68
    XPUB_NODROP = 69
    BLOCKY = 70
    XPUB_MANUAL = 71
    XPUB_WELCOME_MSG = 72
    STREAM_NOTIFY = 73
    INVERT_MATCHING = 74
    HEARTBEAT_IVL = 75
    HEARTBEAT_TTL = 76
    HEARTBEAT_TIMEOUT = 77
    XPUB_VERBOSER = 78
    CONNECT_TIMEOUT = 79
    TCP_MAXRT = 80
    THREAD_SAFE = 81
    MULTICAST_MAXTPDU = 84
    VMCI_BUFFER_SIZE = 85
    VMCI_BUFFER_MIN_SIZE = 86
    VMCI_BUFFER_MAX_SIZE = 87
    VMCI_CONNECT_TIMEOUT = 88
    USE_FD = 89
    GSSAPI_PRINCIPAL_NAMETYPE = 90
    GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = 91
    BINDTODEVICE = 92
    IDENTITY = ROUTING_ID
    CONNECT_RID = CONNECT_ROUTING_ID
    TCP_ACCEPT_FILTER = 38
    IPC_FILTER_PID = 58
    IPC_FILTER_UID = 59
    IPC_FILTER_GID = 60
    IPV4ONLY = 31
    DELAY_ATTACH_ON_CONNECT = IMMEDIATE
    FAIL_UNROUTABLE = ROUTER_MANDATORY
    ROUTER_BEHAVIOR = ROUTER_MANDATORY
    ZAP_ENFORCE_DOMAIN = 93
    LOOPBACK_FASTPATH = 94
    METADATA = 95
    MULTICAST_LOOP = 96
    ROUTER_NOTIFY = 97
    XPUB_MANUAL_LAST_VALUE = 98
    SOCKS_USERNAME = 99
    SOCKS_PASSWORD = 100
    IN_BATCH_SIZE = 101
    OUT_BATCH_SIZE = 102
    WSS_KEY_PEM = 103
    WSS_CERT_PEM = 104
    WSS_TRUST_PEM = 105
    WSS_HOSTNAME = 106
    WSS_TRUST_SYSTEM = 107
    ONLY_FIRST_SUBSCRIBE = 108
    RECONNECT_STOP = 109
    HELLO_MSG = 110
    DISCONNECT_MSG = 111
    PRIORITY = 112
    BUSY_POLL = 113
    HICCUP_MSG = 114
    XSUB_VERBOSE_UNSUBSCRIBE = 115
    TOPICS_COUNT = 116
    NORM_MODE = 117
    NORM_UNICAST_NACK = 118
    NORM_BUFFER_SIZE = 119
    NORM_SEGMENT_SIZE = 120
    NORM_BLOCK_SIZE = 121
    NORM_NUM_PARITY = 122
    NORM_NUM_AUTOPARITY = 123
    NORM_PUSH = 124
    # curvezmq's own options, numbered from 1000 so they never meet libzmq's (which
    # ends near 124); README.md "Extensions" lists them. Add new ones at the end.
    CURVE_INVALID_POLICY = 1000
    CURVE_INVALID_BUDGET = 1001
    CURVE_COMPACT = 1002
    # hardening (README.md "Hardening options")
    CURVE_MAX_METADATA = 1003
    CURVE_HELLO_IVL = 1004
    MAX_HANDSHAKES = 1005
    CURVE_COOKIE_LIFETIME = 1006
    CURVE_VALIDATOR_TIMEOUT = 1007
    CURVE_CERT_EXCHANGE = 1008
    CURVE_CERTIFICATE = 1009
    CURVE_SERVERKEY_FETCH = 1010
    CURVE_KNOWN_HOSTS = 1011


class CurveInvalidPolicy(IntEnum):
    """Values of the CURVE_INVALID_POLICY option (curvezmq's own): what a MESSAGE
    whose box fails does to its connection."""

    CLOSE = 0
    DROP = 1


class MessageOption(IntEnum):
    """Message (frame) options."""

    MORE = 1
    SHARED = 3
    SRCFD = 2


class Flag(IntFlag):
    """Send and receive flags."""

    DONTWAIT = 1
    SNDMORE = 2
    NOBLOCK = DONTWAIT


class RouterNotify(IntEnum):
    """ROUTER_NOTIFY values."""

    CONNECT = 1
    DISCONNECT = 2


class SecurityMechanism(IntEnum):
    """Values of the MECHANISM option."""

    NULL = 0
    PLAIN = 1
    CURVE = 2
    GSSAPI = 3


class ReconnectStop(IntFlag):
    """RECONNECT_STOP flags."""

    CONN_REFUSED = 1
    HANDSHAKE_FAILED = 2
    AFTER_DISCONNECT = 4


class Event(IntFlag):
    """Socket monitor events and protocol error values."""

    PROTOCOL_ERROR_WS_UNSPECIFIED = 0x30000000
    PROTOCOL_ERROR_ZMTP_UNSPECIFIED = 0x10000000
    PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND = 0x10000001
    PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE = 0x10000002
    PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE = 0x10000003
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY = 0x10000016
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
    PROTOCOL_ERROR_ZMTP_INVALID_METADATA = 0x10000018
    PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC = 0x11000001
    PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH = 0x11000002
    PROTOCOL_ERROR_ZAP_UNSPECIFIED = 0x20000000
    PROTOCOL_ERROR_ZAP_MALFORMED_REPLY = 0x20000001
    PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID = 0x20000002
    PROTOCOL_ERROR_ZAP_BAD_VERSION = 0x20000003
    PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE = 0x20000004
    PROTOCOL_ERROR_ZAP_INVALID_METADATA = 0x20000005
    CONNECTED = 1
    CONNECT_DELAYED = 2
    CONNECT_RETRIED = 4
    LISTENING = 8
    BIND_FAILED = 16
    ACCEPTED = 32
    ACCEPT_FAILED = 64
    CLOSED = 128
    CLOSE_FAILED = 0x100
    DISCONNECTED = 0x200
    MONITOR_STOPPED = 0x400
    HANDSHAKE_FAILED_NO_DETAIL = 0x800
    HANDSHAKE_SUCCEEDED = 0x1000
    HANDSHAKE_FAILED_PROTOCOL = 0x2000
    HANDSHAKE_FAILED_AUTH = 0x4000
    ALL_V1 = 0xFFFF
    ALL = ALL_V1
    PIPES_STATS = 0x10000
    ALL_V2 = 0x1FFFF


class PollEvent(IntFlag):
    """Poll events."""

    POLLIN = 1
    POLLOUT = 2
    POLLERR = 4
    POLLPRI = 8


class DeviceType(IntEnum):
    """Device types."""

    STREAMER = 1
    FORWARDER = 2
    QUEUE = 3


# Options whose value is not a plain int; the rest are ints.
OPTION_TYPES: dict[int, str] = {
    SocketOption.AFFINITY: "int64",
    SocketOption.ROUTING_ID: "bytes",
    SocketOption.SUBSCRIBE: "bytes",
    SocketOption.UNSUBSCRIBE: "bytes",
    SocketOption.FD: "fd",
    SocketOption.MAXMSGSIZE: "int64",
    SocketOption.LAST_ENDPOINT: "bytes",
    SocketOption.PLAIN_USERNAME: "bytes",
    SocketOption.PLAIN_PASSWORD: "bytes",
    SocketOption.CURVE_PUBLICKEY: "bytes",
    SocketOption.CURVE_SECRETKEY: "bytes",
    SocketOption.CURVE_SERVERKEY: "bytes",
    SocketOption.ZAP_DOMAIN: "bytes",
    SocketOption.CONNECT_ROUTING_ID: "bytes",
    SocketOption.GSSAPI_PRINCIPAL: "bytes",
    SocketOption.GSSAPI_SERVICE_PRINCIPAL: "bytes",
    SocketOption.SOCKS_PROXY: "bytes",
    SocketOption.XPUB_WELCOME_MSG: "bytes",
    SocketOption.VMCI_BUFFER_SIZE: "int64",
    SocketOption.VMCI_BUFFER_MIN_SIZE: "int64",
    SocketOption.VMCI_BUFFER_MAX_SIZE: "int64",
    SocketOption.BINDTODEVICE: "bytes",
    SocketOption.TCP_ACCEPT_FILTER: "bytes",
    SocketOption.METADATA: "bytes",
    SocketOption.SOCKS_USERNAME: "bytes",
    SocketOption.SOCKS_PASSWORD: "bytes",
    SocketOption.WSS_KEY_PEM: "bytes",
    SocketOption.WSS_CERT_PEM: "bytes",
    SocketOption.WSS_TRUST_PEM: "bytes",
    SocketOption.WSS_HOSTNAME: "bytes",
    SocketOption.HELLO_MSG: "bytes",
    SocketOption.DISCONNECT_MSG: "bytes",
    SocketOption.HICCUP_MSG: "bytes",
    SocketOption.CURVE_CERTIFICATE: "bytes",
    SocketOption.CURVE_KNOWN_HOSTS: "bytes",
}


def _export() -> None:
    # every member as a module-level name, like pyzmq: socket types, options, flags
    # and errnos under their own names; monitor events as EVENT_*, ROUTER_NOTIFY
    # values as NOTIFY_*, RECONNECT_STOP flags as RECONNECT_STOP_*
    prefixes = {
        Event: "EVENT_",
        RouterNotify: "NOTIFY_",
        ReconnectStop: "RECONNECT_STOP_",
        CurveInvalidPolicy: "CURVE_INVALID_",
    }
    namespace = globals()
    for enum in (
        Errno,
        ContextOption,
        SocketType,
        SocketOption,
        MessageOption,
        Flag,
        RouterNotify,
        SecurityMechanism,
        ReconnectStop,
        CurveInvalidPolicy,
        Event,
        PollEvent,
        DeviceType,
    ):
        for name, member in enum.__members__.items():
            prefix = prefixes.get(enum, "")
            if name.startswith("PROTOCOL_ERROR_"):
                prefix = ""
            exported = prefix + name
            if exported not in namespace:
                namespace[exported] = member
                __all__.append(exported)


_export()
