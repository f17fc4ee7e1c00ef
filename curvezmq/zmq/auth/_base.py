"""The authenticator behind pyzmq's ``zmq.auth`` API, as an in-process policy.

pyzmq's Authenticator binds a ZAP socket (``inproc://zeromq.zap.01``) and libzmq
asks it about each client. Here the Authenticator *is* the Context's policy
(``ctx.curve_policy``): ``start()`` installs it, ``stop()`` puts back what was
there, and the engine asks it directly, with the same inputs and the same answers
as pyzmq's handler gives:

1. Address lists first. With an allow list, an address not on it is refused
   ("Address not allowed"); with a deny list, an address on it is refused
   ("Address denied"). Using both is an error.
2. Then the mechanism. NULL (asked only when the socket has a ZAP domain): admitted
   unless refused by address, user id ``anonymous``. PLAIN: the password must
   match ``passwords[domain][username]`` (an empty domain is looked up as ``*``),
   even for an allowed address; the user id is the username. CURVE: admitted
   when ``configure_curve(location=CURVE_ALLOW_ANY)`` was called, else by the
   credentials provider of the domain, else when the key is among the
   certificates loaded for the domain; the user id is :meth:`curve_user_id`.
3. The answer is 200 with the user id, or 400 with the reason as status text.

Passwords are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import inspect
import logging
import os
from typing import Any

from ...auth import AllowAny, AuthPolicy, AuthRequest, Decision
from ...certs import load_certificates
from ...z85 import encode as _z85_encode
from .._constants import Errno
from .._error import ZMQError

__all__ = ["CURVE_ALLOW_ANY", "Authenticator"]

# configure_curve's location that admits every CURVE client
CURVE_ALLOW_ANY = "*"

# the status text of a refusal; pyzmq's handler starts from the same one
_NO_ACCESS = "NO ACCESS"


class Authenticator(AuthPolicy):
    """pyzmq's Authenticator API, deciding in-process for one Context.

    Until configured it admits NULL peers and refuses PLAIN and CURVE clients, as
    pyzmq's does.

    Args:
        context: the Context whose sockets it serves; the global
            ``Context.instance()`` when None.
        encoding: how ZAP domains, addresses and PLAIN credentials are decoded.
        log: a ``logging.Logger``; ``curvezmq.zmq.auth`` when None.

    Attributes:
        context: the Context.
        allow_any: whether every CURVE client is admitted.
        passwords: domain -> username -> password, for PLAIN.
        certs: domain -> Z85 public key -> True, for CURVE.
        credentials_providers: domain -> object with ``callback(domain, key)``.
    """

    def __init__(
        self, context: Any = None, encoding: str = "utf-8", log: Any = None
    ) -> None:
        if context is None:
            from .._context import Context

            context = Context.instance()
        self.context = context
        self.encoding = encoding
        self.allow_any = False
        self.credentials_providers: dict[str, Any] = {}
        # pyzmq's attribute; there is no ZAP socket here
        self.zap_socket = None
        self._allowed: set[str] = set()
        self._denied: set[str] = set()
        self.passwords: dict[str, dict[str, str]] = {}
        self.certs: dict[str, dict[bytes, Any]] = {}
        self.log = log or logging.getLogger("curvezmq.zmq.auth")
        self._started = False
        self._previous: AuthPolicy | None = None

    def __repr__(self) -> str:
        state = "started" if self._started else "stopped"
        return f"<{type(self).__name__} {state}>"

    # -- starting and stopping ------------------------------------------------------

    def start(self) -> None:
        """Start deciding for the Context's sockets.

        Raises:
            ZMQError: EADDRINUSE when another authenticator is running on the
                same Context (pyzmq: the ZAP endpoint is taken).
        """
        current = self.context.curve_policy
        if current is self:
            self._started = True
            return
        if isinstance(current, Authenticator) and current._started:
            raise ZMQError(
                Errno.EADDRINUSE, "another authenticator runs on this context"
            )
        self._previous = current
        self.context.curve_policy = self
        self._started = True
        self.log.debug("Starting")

    def stop(self) -> None:
        """Stop deciding; the Context's sockets behave as with no ZAP handler
        (or as with the policy installed before :meth:`start`)."""
        if self.context.curve_policy is self:
            previous = self._previous
            self.context.curve_policy = previous if previous is not None else AllowAny()
        self._previous = None
        self._started = False

    def is_alive(self) -> bool:
        """Whether the authenticator is started."""
        return self._started

    # -- configuration ---------------------------------------------------------------

    def allow(self, *addresses: str) -> None:
        """Admit only these addresses (PLAIN and CURVE clients still need valid
        credentials).

        Raises:
            ValueError: :meth:`deny` was used.
        """
        if self._denied:
            raise ValueError("use either allow or deny, not both")
        self.log.debug("Allowing %s", ",".join(addresses))
        self._allowed = self._allowed | set(addresses)

    def deny(self, *addresses: str) -> None:
        """Refuse these addresses; others go on to the mechanism's checks.

        Raises:
            ValueError: :meth:`allow` was used.
        """
        if self._allowed:
            raise ValueError("use either allow or deny, not both")
        self.log.debug("Denying %s", ",".join(addresses))
        self._denied = self._denied | set(addresses)

    def configure_plain(
        self, domain: str = "*", passwords: dict[str, str] | None = None
    ) -> None:
        """Check PLAIN clients of a domain against ``passwords`` (username ->
        password). ``"*"`` serves sockets without a ZAP domain. An empty or
        missing dict leaves the domain as it was."""
        if passwords:
            self.passwords = {**self.passwords, domain: dict(passwords)}
        self.log.debug("Configure plain: %s", domain)

    def configure_curve(
        self, domain: str = "*", location: str | os.PathLike = "."
    ) -> None:
        """Check CURVE clients of a domain against the public certificates
        (``*.key``) in a directory, or admit every client with
        ``location=CURVE_ALLOW_ANY``. Call it again after the directory changes.
        A directory that cannot be read is logged and leaves the domain as it
        was."""
        self.log.debug("Configure curve: %s[%s]", domain, location)
        if location == CURVE_ALLOW_ANY:
            self.allow_any = True
            return
        self.allow_any = False
        try:
            keys = load_certificates(location)
        except (OSError, ValueError) as exc:
            self.log.error("Failed to load CURVE certs from %s: %s", location, exc)
            return
        self.certs = {**self.certs, domain: keys}

    def configure_curve_callback(
        self, domain: str = "*", credentials_provider: Any = None
    ) -> None:
        """Check CURVE clients of a domain with
        ``credentials_provider.callback(domain, z85_key)``, which returns a truth
        value or an awaitable of one."""
        self.allow_any = False
        if credentials_provider is None:
            self.log.error("None credentials_provider provided for domain:%s", domain)
            return
        self.credentials_providers = {
            **self.credentials_providers,
            domain: credentials_provider,
        }

    def configure_gssapi(self, domain: str = "*", location: str | None = None) -> None:
        """Accepted and ignored: curvezmq has no GSSAPI mechanism."""

    def curve_user_id(self, client_public_key: bytes) -> str:
        """The user id of an admitted CURVE client: the Z85 of its key.

        Override to name clients otherwise; called only for admitted clients.
        """
        return _z85_encode(client_public_key).decode("ascii")

    # -- deciding ----------------------------------------------------------------------

    def decide(self, request: AuthRequest):
        """Answer one request as pyzmq's ZAP handler would (see the module notes).

        Returns:
            a :class:`~curvezmq.auth.Decision`, or an awaitable of one when a
            credentials provider answers asynchronously.
        """
        domain = request.domain
        address = request.address

        # 1. the address lists
        allowed = denied = False
        reason = _NO_ACCESS
        if self._allowed:
            if address in self._allowed:
                allowed = True
            else:
                denied, reason = True, "Address not allowed"
        elif self._denied:
            if address in self._denied:
                denied, reason = True, "Address denied"
            else:
                allowed = True
        self.log.debug(
            "%s %s from %s, domain %r",
            "DENIED" if denied else "PASSED",
            request.mechanism,
            address,
            domain,
        )
        if denied:
            return Decision("400", reason=reason)

        # 2. the mechanism's own check
        user_id = "anonymous"
        if request.mechanism == "PLAIN":
            username = request.username.decode(self.encoding, "replace")
            password = request.password.decode(self.encoding, "replace")
            allowed, reason = self._authenticate_plain(domain, username, password)
            user_id = username
        elif request.mechanism == "CURVE":
            key = request.client_key
            outcome = self._authenticate_curve(domain, key)
            if inspect.isawaitable(outcome):
                return self._finish_curve(outcome, key)
            allowed, reason = outcome
            if allowed:
                user_id = self.curve_user_id(key)
        else:
            allowed = True

        # 3. the answer
        return self._answer(allowed, reason, user_id)

    async def _finish_curve(self, pending, key: bytes) -> Decision:
        allowed, reason = await pending
        user_id = self.curve_user_id(key) if allowed else ""
        return self._answer(allowed, reason, user_id)

    @staticmethod
    def _answer(allowed: bool, reason: str | bytes, user_id: str) -> Decision:
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        if allowed:
            return Decision("200", user_id, "OK")
        return Decision("400", reason=reason)

    def _authenticate_plain(
        self, domain: str, username: str, password: str
    ) -> tuple[bool, str]:
        """Check a PLAIN username and password; returns (allowed, reason)."""
        if not self.passwords:
            self.log.debug("DENIED (PLAIN) no passwords defined")
            return False, "No passwords defined"
        # sockets without a domain use the catch-all one
        domain = domain or "*"
        users = self.passwords.get(domain)
        if users is None:
            reason = "Invalid domain"
        elif username not in users:
            reason = "Invalid username"
        elif hmac.compare_digest(
            users[username].encode("utf-8"), password.encode("utf-8")
        ):
            self.log.debug("ALLOWED (PLAIN) domain=%s username=%s", domain, username)
            return True, "OK"
        else:
            reason = "Invalid password"
        self.log.debug("DENIED (PLAIN) %s", reason)
        return False, reason

    def _authenticate_curve(self, domain: str, client_key: bytes):
        """Check a CURVE client key; returns (allowed, reason), or an awaitable
        of it when the credentials provider answers asynchronously."""
        if self.allow_any:
            self.log.debug("ALLOWED (CURVE allow any client)")
            return True, "OK"
        domain = domain or "*"
        z85_key = _z85_encode(client_key)
        if self.credentials_providers:
            provider = self.credentials_providers.get(domain)
            if provider is None:
                return False, "Unknown domain"
            verdict = self._call_provider(provider, domain, z85_key)
            if inspect.isawaitable(verdict):
                return self._await_verdict(verdict, domain, z85_key)
            return self._verdict(verdict, domain, z85_key)
        keys = self.certs.get(domain)
        if keys is None:
            return False, "Unknown domain"
        return self._verdict(keys.get(z85_key), domain, z85_key)

    def _call_provider(self, provider: Any, domain: str, z85_key: bytes):
        """Call a credentials provider; a subclass may run it elsewhere."""
        return provider.callback(domain, z85_key)

    async def _await_verdict(self, pending, domain: str, z85_key: bytes):
        return self._verdict(await pending, domain, z85_key)

    def _verdict(self, verdict: Any, domain: str, z85_key: bytes) -> tuple[bool, str]:
        self.log.debug(
            "%s (CURVE) domain=%s client_key=%s",
            "ALLOWED" if verdict else "DENIED",
            domain,
            z85_key,
        )
        if verdict:
            return True, "OK"
        return False, "Unknown key"
