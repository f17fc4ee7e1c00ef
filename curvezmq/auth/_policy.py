"""In-process authentication policies for CURVE servers.

libzmq asks a ZAP handler (RFC 27) over an inproc socket; with none bound it admits
every client whose handshake is cryptographically valid. Our engine asks a policy
object directly instead, with the same inputs a ZAP handler gets (the client's
long-term public key and its address) and the same kind of answer (a status code
and a user id). The default, :class:`AllowAny`, is libzmq's behaviour without a
handler.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import z85
from ..keys import KeyLike, key_bytes

__all__ = ["AllowAny", "AllowKeys", "AuthPolicy", "Decision"]


@dataclass(frozen=True)
class Decision:
    """A policy's answer for one client.

    Attributes:
        status: ``"200"`` to admit; ``"400"`` (refused) or ``"500"`` (internal
            error) make the server send ERROR with that code, as libzmq does for
            the same ZAP answers; ``"300"`` closes without an ERROR.
        user_id: the user id for an admitted client, exposed as the ``User-Id``
            message property.
        reason: a short text for the server's log; never key material beyond the
            Z85 public key.
    """

    status: str
    user_id: bytes = b""
    reason: str = ""

    @property
    def allowed(self) -> bool:
        """Whether the client is admitted."""
        return self.status == "200"


class AuthPolicy:
    """Base class of policies: decides on a CURVE client's long-term public key.

    Subclasses override :meth:`authenticate`. It is called on the event loop, so it
    must not block; a policy that needs I/O should decide from a cache it keeps up to
    date elsewhere.
    """

    def authenticate(self, client_key: bytes, address: str) -> Decision:
        """Decide whether the client may complete its handshake.

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
    """Admit every client whose handshake is valid (libzmq without a ZAP handler).

    The connection is still encrypted and the server still authenticated to the
    client; only the client is not checked, the model ZeroMQ calls Stonehouse
    without an allow list.
    """

    def authenticate(self, client_key: bytes, address: str) -> Decision:
        """Admit the client; its user id is the Z85 of its public key."""
        return Decision("200", curve_user_id(client_key))


class AllowKeys(AuthPolicy):
    """Admit only clients whose long-term public key is in a set.

    Args:
        keys: public keys in any accepted form (32 raw bytes, 40 Z85 characters, or
            41 with a trailing NUL).

    Raises:
        InvalidKeyError: (a ValueError) one of the keys is malformed.
    """

    def __init__(self, keys: Iterable[KeyLike] = ()) -> None:
        self._keys: set[bytes] = {key_bytes(k, "client public key") for k in keys}

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
