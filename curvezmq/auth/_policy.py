"""In-process authentication policies: ZAP's decisions without a ZAP socket.

libzmq asks a ZAP handler (RFC 27) over an inproc socket; with none bound it admits
every NULL and CURVE client and refuses every PLAIN one. Our engine asks a policy
object directly instead, with the inputs a ZAP handler gets (an
:class:`AuthRequest`: domain, peer address, mechanism, credentials) and the same
kind of answer (a :class:`Decision`: a status code, a user id and metadata).

When the engine asks, as libzmq asks its handler:

- NULL: only when the socket has a ZAP_DOMAIN; the request carries no credentials.
- PLAIN: always (the server needs someone to check the password).
- CURVE: always, once the client's vouch has proved its long-term key.

What the engine does with the answer:

- ``"200"``: the handshake goes on; the user id becomes the ``User-Id`` message
  property and the metadata further message properties.
- ``"300"``: the connection is closed without a word (a temporary failure).
- ``"400"`` / ``"500"``: ERROR with that code, then close.
- ``None`` (the policy does not handle this mechanism): what libzmq does with no
  handler bound. NULL and CURVE clients are admitted without a user id; a PLAIN
  client is turned away without an ERROR (libzmq closes and reports EFAULT).

The default, :class:`AllowAny`, is libzmq's behaviour without a handler, except that
it names CURVE clients by the Z85 of their key, as pyzmq's authenticator does.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Union

from .. import z85
from ..certs import Certificate
from ..keys import KeyLike, key_bytes

__all__ = [
    "MECHANISMS",
    "STATUSES",
    "AllowAny",
    "AllowKeys",
    "AuthPolicy",
    "AuthRequest",
    "Decision",
    "curve_user_id",
]

# The mechanisms a request can name, and the status codes a decision can carry
# (libzmq refuses a ZAP reply with any other status).
MECHANISMS = ("NULL", "PLAIN", "CURVE")
STATUSES = ("200", "300", "400", "500")


@dataclass(frozen=True)
class AuthRequest:
    """What a policy is asked about one connection (a ZAP request's frames).

    Attributes:
        mechanism: ``"NULL"``, ``"PLAIN"`` or ``"CURVE"``.
        domain: the socket's ZAP_DOMAIN as text, ``""`` when unset.
        address: the peer's IP address as text, without the port.
        identity: our own socket's routing id (what libzmq puts in the request).
        credentials: ``()`` for NULL, ``(username, password)`` for PLAIN,
            ``(client_key,)`` for CURVE (32 raw bytes, proven by the vouch). Kept
            out of the repr: a PLAIN password is a secret.
    """

    mechanism: str
    domain: str = ""
    address: str = ""
    identity: bytes = b""
    credentials: tuple = field(default=(), repr=False)

    @property
    def client_key(self) -> bytes:
        """CURVE: the client's long-term public key, 32 raw bytes; else b""."""
        if self.mechanism == "CURVE" and self.credentials:
            return bytes(self.credentials[0])
        return b""

    @property
    def username(self) -> bytes:
        """PLAIN: the username the client sent; else b""."""
        if self.mechanism == "PLAIN" and self.credentials:
            return bytes(self.credentials[0])
        return b""

    @property
    def password(self) -> bytes:
        """PLAIN: the password the client sent; else b"". Never log it."""
        if self.mechanism == "PLAIN" and len(self.credentials) > 1:
            return bytes(self.credentials[1])
        return b""


@dataclass(frozen=True)
class Decision:
    """A policy's answer for one client (a ZAP reply).

    Attributes:
        status: ``"200"`` to admit; ``"400"`` (refused) or ``"500"`` (internal
            error) make the server send ERROR with that code, as libzmq does for
            the same ZAP answers; ``"300"`` closes without an ERROR.
        user_id: the user id for an admitted client, exposed as the ``User-Id``
            message property (bytes, or text stored as UTF-8).
        reason: a short text for the server's log (a ZAP reply's status text);
            never a secret.
        metadata: properties an admitted client's messages carry besides
            ``User-Id`` (a ZAP reply's metadata), names to bytes or text.

    Raises:
        ValueError: the status is not one of 200, 300, 400, 500.
    """

    status: str
    user_id: bytes = b""
    reason: str = ""
    metadata: Mapping = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        status = self.status
        if isinstance(status, (bytes, bytearray)):
            status = bytes(status).decode("ascii", "replace")
        status = str(status)
        if status not in STATUSES:
            raise ValueError(f"expected a status among {STATUSES}, got {status!r}")
        object.__setattr__(self, "status", status)
        if isinstance(self.user_id, str):
            object.__setattr__(self, "user_id", self.user_id.encode("utf-8"))

    @property
    def allowed(self) -> bool:
        """Whether the client is admitted."""
        return self.status == "200"


# What decide() may return: a decision, None for "not mine", or an awaitable of
# either (the engine awaits it while the handshake waits).
Answer = Union[Decision, None, Awaitable]


class AuthPolicy:
    """Base class of policies.

    Override :meth:`decide` to handle any mechanism, or only :meth:`authenticate`
    for CURVE. Both are called on the event loop, so they must not block: a policy
    that needs I/O returns an awaitable (a coroutine or a future, for example from
    ``loop.run_in_executor``) and the handshake waits for it.
    """

    def decide(self, request: AuthRequest) -> Answer:
        """Decide on one client.

        Args:
            request: what is known about the client.

        Returns:
            a :class:`Decision`; None when this policy does not handle the
            mechanism (then the engine does what libzmq does with no ZAP handler,
            see the module's notes); or an awaitable of either. The base class
            hands CURVE requests to :meth:`authenticate` and answers None to
            the rest.
        """
        if request.mechanism == "CURVE":
            return self.authenticate(request.client_key, request.address)
        return None

    def authenticate(self, client_key: bytes, address: str) -> Decision:
        """Decide whether a CURVE client may complete its handshake.

        Args:
            client_key: the client's long-term public key, 32 raw bytes, already
                proven by its vouch.
            address: the peer's IP address as text, without the port.

        Returns:
            a :class:`Decision`.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def curve_user_id(client_key: bytes) -> bytes:
    """The user id pyzmq's authenticator gives a CURVE client: the Z85 of its key."""
    return z85.encode(client_key)


class AllowAny(AuthPolicy):
    """libzmq without a ZAP handler: admit every NULL and CURVE client whose
    handshake is valid, turn every PLAIN client away.

    The connection is still encrypted and the server still authenticated to the
    client; only the client is not checked, the model ZeroMQ calls Stonehouse.
    Unlike libzmq, a CURVE client gets the Z85 of its key as its user id.
    """

    def authenticate(self, client_key: bytes, address: str) -> Decision:
        """Admit the client; its user id is the Z85 of its public key."""
        return Decision("200", curve_user_id(client_key))


class AllowKeys(AuthPolicy):
    """Admit only CURVE clients whose long-term public key is in a set.

    NULL and PLAIN requests are left alone (answered None), as by a handler that
    knows only CURVE.

    Args:
        keys: public keys in any accepted form (32 raw bytes, 40 Z85 characters, or
            41 with a trailing NUL).

    Raises:
        InvalidKeyError: (a ValueError) one of the keys is malformed.
    """

    def __init__(self, keys: Iterable[KeyLike] = ()) -> None:
        self._keys: set[bytes] = {key_bytes(k, "client public key") for k in keys}

    @classmethod
    def from_directory(cls, directory) -> AllowKeys:
        """Admit the keys of the public certificates in a directory.

        Every file that reads as a certificate counts (pyzmq's ``NAME.key`` and
        czmq's ``NAME`` alike); secret certificates (``*_secret``) and files that
        are not certificates are skipped. Call again to pick up changes.

        Args:
            directory: the directory.

        Raises:
            OSError: the directory cannot be listed.
        """
        keys = []
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if not entry.is_file() or entry.name.endswith("_secret"):
                continue
            try:
                keys.append(Certificate.load(entry.path).public_key)
            except (OSError, ValueError):
                continue
        return cls(keys)

    def allow(self, key: KeyLike) -> None:
        """Add a public key to the set.

        Raises:
            InvalidKeyError: the key is malformed.
        """
        self._keys.add(key_bytes(key, "client public key"))

    def revoke(self, key: KeyLike) -> None:
        """Remove a public key; connections already admitted stay up.

        Raises:
            InvalidKeyError: the key is malformed.
        """
        self._keys.discard(key_bytes(key, "client public key"))

    def __contains__(self, key: KeyLike) -> bool:
        return key_bytes(key, "client public key") in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def authenticate(self, client_key: bytes, address: str) -> Decision:
        """Admit the client if its key is in the set, else refuse with 400."""
        if bytes(client_key) in self._keys:
            return Decision("200", curve_user_id(client_key))
        return Decision(
            "400",
            reason=f"client key {curve_user_id(client_key).decode()} is not allowed",
        )

    def __repr__(self) -> str:
        return f"AllowKeys(<{len(self._keys)} keys>)"
