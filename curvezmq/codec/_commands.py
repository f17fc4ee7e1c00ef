"""Byte layouts of the CurveZMQ commands (RFC 26 as libzmq 4.3 puts them on the wire).

Every constant is named after the protocol's own token. The codec sees command bodies
(the bytes of one ZMTP frame body): ``name_len(1) + name + data``. Sizes are whole
bodies, command name included.

Boxes are in wire form (16-byte tag, then ciphertext), so a box is always 16 bytes
longer than what it seals. Short nonces (N8) are big-endian counters starting at 1.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "COOKIE_NONCE",
    "COOKIE_SIZE",
    "CURVE_MAX_METADATA",
    "ERROR",
    "ERROR_MIN_SIZE",
    "FLAG_COMMAND",
    "FLAG_MORE",
    "HELLO",
    "HELLO_NONCE",
    "HELLO_PADDING_SIZE",
    "HELLO_SIZE",
    "HELLO_VERSION",
    "INITIATE",
    "INITIATE_MIN_SIZE",
    "INITIATE_NONCE",
    "MESSAGE",
    "MESSAGE_MIN_SIZE",
    "MESSAGE_NONCE_CLIENT",
    "MESSAGE_NONCE_SERVER",
    "NONCE_MAX",
    "READY",
    "READY_MIN_SIZE",
    "READY_NONCE",
    "VOUCH_NONCE",
    "VOUCH_SIZE",
    "WELCOME",
    "WELCOME_NONCE",
    "WELCOME_SIZE",
    "command_name",
]

# -- command names, as they appear after the length byte ----------------------------

HELLO = b"HELLO"
WELCOME = b"WELCOME"
INITIATE = b"INITIATE"
READY = b"READY"
MESSAGE = b"MESSAGE"
ERROR = b"ERROR"

# -- sizes of whole command bodies ----------------------------------------------------

# HELLO: 6 name + 2 version + 72 padding + 32 C' + 8 N8 + 80 signature box. The padding
# makes HELLO as long as WELCOME plus some, so a forged source address cannot make the
# server send more than it received (anti-amplification).
HELLO_SIZE = 200
HELLO_VERSION = b"\x01\x00"
HELLO_PADDING_SIZE = 72
# WELCOME: 8 name + 16 nonce tail + box of S'(32) + cookie(96).
WELCOME_SIZE = 168
# INITIATE: 9 name + 96 cookie + 8 N8 + box of C(32) + vouch nonce(16) + vouch(80)
# + metadata; 257 with empty metadata.
INITIATE_MIN_SIZE = 257
# READY: 6 name + 8 N8 + box of metadata; 30 with empty metadata.
READY_MIN_SIZE = 30
# MESSAGE: 8 name + 8 N8 + box of flags(1) + data.
MESSAGE_MIN_SIZE = 33
# ERROR: 6 name + reason length(1) + reason.
ERROR_MIN_SIZE = 7

# cookie = 16-byte nonce tail + secretbox of C'(32) + s'(32)
COOKIE_SIZE = 96
# vouch box = box of C'(32) + S(32); its 16-byte nonce tail travels beside it
VOUCH_SIZE = 80

# libzmq's cap on the metadata it will decrypt in one INITIATE or READY
# (CURVE_MAX_METADATA): enough for Socket-Type, Identity and application properties,
# small enough that an unauthenticated peer cannot make us allocate much.
CURVE_MAX_METADATA = 8192

# short nonces are unsigned 64-bit counters
NONCE_MAX = 2**64 - 1

# -- nonce prefixes ----------------------------------------------------------------

HELLO_NONCE = b"CurveZMQHELLO---"
WELCOME_NONCE = b"WELCOME-"
COOKIE_NONCE = b"COOKIE--"
INITIATE_NONCE = b"CurveZMQINITIATE"
VOUCH_NONCE = b"VOUCH---"
READY_NONCE = b"CurveZMQREADY---"
# RFC 26's grammar writes "CurveZMQMESSAGE-"; its prose and libzmq use C and S.
MESSAGE_NONCE_CLIENT = b"CurveZMQMESSAGEC"
MESSAGE_NONCE_SERVER = b"CurveZMQMESSAGES"

# -- the flags byte inside a MESSAGE box -------------------------------------------

FLAG_MORE = 0x01
# libzmq 4.3 marks a ZMTP command carried inside the box (PING, SUBSCRIBE...) with
# 0x02; RFC 26 calls the bit reserved. Other bits are ignored on receive.
FLAG_COMMAND = 0x02


def command_name(body) -> Optional[bytes]:
    """Return the name of a command body, or None when the body has no valid name.

    A valid body starts with a length byte of 1..255 followed by that many name bytes.
    """
    if len(body) < 2:
        return None
    size = body[0]
    if size == 0 or size > len(body) - 1:
        return None
    return bytes(body[1 : 1 + size])
