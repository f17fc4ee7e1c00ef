"""The server-wide keys of one listener: its long-term key pair, the rotating minute
keys that seal cookies, and the cache of cookies already accepted.

Theory of operation
-------------------
A CurveZMQ server answers a HELLO with a WELCOME whose cookie holds the client's
short-term public key C' and the server's short-term secret s', sealed with a minute
key only the server knows. The server then forgets both: until the client returns the
cookie in a valid INITIATE, the connection costs the server nothing but its socket.

Minute keys are generations. A generation is created (32 bytes from ``rng``) when the
current one is ``cookie_lifetime`` seconds old, and lives on as the *previous* key for
one more period, so a cookie minted just before a rotation still opens. A generation
older than two periods is wiped, so no cookie older than two periods ever opens.
Rotation is lazy: it happens when a cookie is minted or opened, judged by the ``now``
passed in.

A cookie opens for anyone who holds it, on any connection of the listener, so an
INITIATE seen on the wire could be replayed on a new connection to pass for the
client. Each generation therefore remembers the cookies it has accepted (by their
16-byte nonce, unique per cookie), and a cookie it remembers is refused. The memory
is bounded by ``replay_cache_size`` entries in all: when it is full, the oldest
generation is retired early, wiping its key. That never opens a replay window (a
retired key opens nothing), and it never locks clients out: a handshake whose cookie
key was retired fails once, and its retry gets a cookie from a fresh key.
"""

from __future__ import annotations

import hashlib
from typing import Optional

from ..crypto import Backend, get_backend
from ..errors import CryptoError, InvalidKeyError, LocalProtocolError
from ..keys import KeyLike, key_bytes
from ._commands import COOKIE_NONCE
from ._session import Rng, _z85

__all__ = ["CurveServerKeys"]

_COOKIE_KEY_SIZE = 32
_COOKIE_NONCE_TAIL = 16


class _Generation:
    """One minute key and the nonces of the cookies it sealed that were accepted."""

    __slots__ = ("accepted", "created", "key")

    def __init__(self, key: bytearray, created: float) -> None:
        self.key: Optional[bytearray] = key
        self.created = created
        self.accepted: set[bytes] = set()


class CurveServerKeys:
    """The keys one listening CurveZMQ server shares among all its connections.

    Give the same instance to every :class:`CurveServer` of a listener: the replay
    cache protects only the connections that share it. Like the codecs, it is meant
    for one thread (one event loop) and takes no locks.

    The secret key is copied into a bytearray that :meth:`close` wipes. The
    ``secret_key`` object you pass, and any ``bytes`` made from it, are immutable and
    cannot be wiped by us.

    Args:
        public_key: the server's long-term public key S (32 raw bytes, 40 Z85
            characters, or 41 with a trailing NUL).
        secret_key: the matching secret key s, in the same forms.
        cookie_lifetime: seconds between minute-key rotations. A cookie opens for at
            least one and less than two lifetimes. RFC 26 suggests 60 s: long enough
            for a client to answer a WELCOME across a slow link, short enough that a
            captured cookie soon becomes useless.
        replay_cache_size: how many accepted cookies are remembered in all; each
            entry costs about 100 bytes. When full, the oldest minute key is retired
            early (see the module's theory of operation).
        rng: ``rng(n)`` returns n random bytes; the backend's CSPRNG by default.
        backend: the crypto backend; the default one when omitted.

    Raises:
        InvalidKeyError: a key is malformed, or the public key is not the secret
            key's.
        ValueError: ``cookie_lifetime`` is not positive or ``replay_cache_size`` is
            below 1.
    """

    def __init__(
        self,
        public_key: KeyLike,
        secret_key: KeyLike,
        *,
        cookie_lifetime: float = 60.0,
        replay_cache_size: int = 4096,
        rng: Optional[Rng] = None,
        backend: Optional[Backend] = None,
    ) -> None:
        if not cookie_lifetime > 0:
            raise ValueError(
                f"expected a positive cookie_lifetime, got {cookie_lifetime}"
            )
        if replay_cache_size < 1:
            raise ValueError(
                f"expected a replay_cache_size of at least 1, got {replay_cache_size}"
            )
        self.backend = backend if backend is not None else get_backend()
        # minute keys come from the caller's rng (copied; its bytes cannot be
        # wiped), or straight from the backend's CSPRNG into our own buffer
        self._rng: Optional[Rng] = rng
        self.cookie_lifetime = float(cookie_lifetime)
        self.replay_cache_size = int(replay_cache_size)

        self._public_key = key_bytes(public_key, "server public key")
        self._secret_key: Optional[bytearray] = bytearray(
            key_bytes(secret_key, "server secret key")
        )
        try:
            derived = self.backend.scalarmult_base(self._secret_key)
        except CryptoError:
            derived = b""
        if derived != self._public_key:
            self.backend.wipe(self._secret_key)
            raise InvalidKeyError("the server public key is not the secret key's")

        # oldest first; at most two: the previous and the current minute key
        self._generations: list[_Generation] = []
        self._entries = 0

    def __repr__(self) -> str:
        state = "closed" if self._secret_key is None else "open"
        return (
            f"<CurveServerKeys {state} public_key={_z85(self._public_key)} "
            f"cookie_lifetime={self.cookie_lifetime:g} "
            f"replay_cache={self._entries}/{self.replay_cache_size}>"
        )

    @property
    def public_key(self) -> bytes:
        """The server's long-term public key S, 32 raw bytes."""
        return self._public_key

    def close(self) -> None:
        """Wipe the secret key and every minute key; the server keys are unusable."""
        for generation in list(self._generations):
            self._retire(generation)
        if self._secret_key is not None:
            self.backend.wipe(self._secret_key)
            self._secret_key = None

    # -- for CurveServer (same package) -------------------------------------------

    def _secret(self) -> bytearray:
        if self._secret_key is None:
            raise LocalProtocolError("the server keys were closed")
        return self._secret_key

    def _mint_cookie(
        self, cn_client, cn_secret, nonce_tail: bytes, now: float, binding=b""
    ) -> bytes:
        """Seal C' + s' with the current minute key, bound to ``binding``; returns
        the 96-byte cookie."""
        key = self._cookie_key(self._current(now), binding)
        plaintext = bytearray(64)
        try:
            plaintext[:32] = cn_client
            plaintext[32:] = cn_secret
            box = self.backend.box_afternm(plaintext, COOKIE_NONCE + nonce_tail, key)
        finally:
            self.backend.wipe(plaintext)
            self.backend.wipe(key)
        return nonce_tail + box

    def _open_cookie(self, cookie, now: float, binding=b""):
        """Open a cookie with the current or previous minute key, bound to
        ``binding``.

        Returns ``(ticket, C', s')`` with s' in a new bytearray the caller wipes, or
        None when no live key opens it (forged, tampered, expired, or minted for
        another connection).
        """
        self._secret()
        self._rotate(now)
        nonce_tail = bytes(cookie[:_COOKIE_NONCE_TAIL])
        nonce = COOKIE_NONCE + nonce_tail
        box = cookie[_COOKIE_NONCE_TAIL:]
        for generation in reversed(self._generations):
            key = self._cookie_key(generation, binding)
            try:
                plaintext = self.backend.box_open_afternm(box, nonce, key)
            except CryptoError:
                continue
            finally:
                self.backend.wipe(key)
            cn_client, cn_secret = bytes(plaintext[:32]), plaintext[32:64]
            self.backend.wipe(plaintext)
            return (generation, nonce_tail), cn_client, cn_secret
        return None

    @staticmethod
    def _cookie_key(generation: _Generation, binding) -> bytearray:
        # The key that seals a connection's cookie: the minute key itself, or,
        # when the connection has a binding (its peer address), a keyed BLAKE2b of
        # the binding under the minute key. A cookie then opens only on the
        # connection whose HELLO earned it, so an INITIATE moved to another
        # connection fails there, and no per-connection state is needed for it.
        if not binding:
            return bytearray(generation.key)
        digest = hashlib.blake2b(
            bytes(binding),
            key=generation.key,
            digest_size=32,
            person=b"curvezmq-cookie",
        )
        # TODO: hashlib returns the derived key as immutable bytes that we cannot
        # wipe; a derivation in the crypto core would keep it in wipeable memory.
        return bytearray(digest.digest())

    def _was_accepted(self, ticket) -> bool:
        generation, nonce_tail = ticket
        return nonce_tail in generation.accepted

    def _remember(self, ticket) -> None:
        """Record that the INITIATE carrying this cookie was accepted."""
        generation, nonce_tail = ticket
        while generation.key is not None and self._entries >= self.replay_cache_size:
            self._retire(self._generations[0])
        if generation.key is None:
            # its key is wiped: that cookie can never open again, no entry needed
            return
        generation.accepted.add(nonce_tail)
        self._entries += 1

    # -- minute keys ------------------------------------------------------------------

    def _current(self, now: float) -> _Generation:
        self._secret()
        self._rotate(now)
        return self._generations[-1]

    def _rotate(self, now: float) -> None:
        generations = self._generations
        lifetime = self.cookie_lifetime
        if not generations or now - generations[-1].created >= lifetime:
            if self._rng is None:
                key = self.backend.random_secret(_COOKIE_KEY_SIZE)
            else:
                key = bytearray(self._rng(_COOKIE_KEY_SIZE))
            generations.append(_Generation(key, now))
        while len(generations) > 2 or now - generations[0].created >= 2 * lifetime:
            self._retire(generations[0])

    def _retire(self, generation: _Generation) -> None:
        self.backend.wipe(generation.key)
        generation.key = None
        self._entries -= len(generation.accepted)
        generation.accepted.clear()
        self._generations.remove(generation)
