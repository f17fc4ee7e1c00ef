"""Certificate exchange between curvezmq peers (docs/extensions.md), sans-IO.

Two pieces, neither of which a libzmq peer ever sees:

- In the handshake. A curvezmq CURVE client puts its public certificate (the
  ZPL text of a public certificate file: its key and metadata) in INITIATE's
  metadata as :data:`CERTIFICATE_PROPERTY`; a curvezmq server answers with its own
  in READY, and only to a client that offered one, so a libzmq client never gets
  a property it did not ask for (a libzmq server keeps the client's as an opaque
  message property). Each side checks that the certificate names the key the
  handshake just proved, and takes the property out of the metadata it reports.

- Before the handshake, on a separate connection, for a client that does not
  know the server's key yet: the client's greeting names the mechanism
  :data:`CERT_MECHANISM`; a curvezmq CURVE server answers with one
  ``CERTIFICATE`` command holding its public certificate and closes. A libzmq
  server sees a mechanism mismatch and closes at the greeting, which
  :class:`CertificateFetch` reports as "certificate exchange not supported".
  Nothing in the fetch is authenticated: whoever answers may lie, so the client's
  validator (by default a known-hosts store) must decide whether to trust the key.
"""

from __future__ import annotations

from ..certs import Certificate, CertificateError
from ..errors import Reason, RemoteProtocolError
from ._framing import (
    COMMAND,
    GREETING_SIZE,
    LONG,
    check_greeting,
    command_body,
    frame_header,
    make_greeting,
    printable,
    split_command,
)

__all__ = [
    "CERTIFICATE_PROPERTY",
    "CERT_MECHANISM",
    "MAX_CERTIFICATE_SIZE",
    "CertificateExchangeError",
    "CertificateFetch",
    "certificate_command",
    "take_certificate",
]

# The metadata property that carries a certificate in INITIATE and READY ("X-" is
# the prefix ZMTP leaves to applications; libzmq ignores unknown properties).
CERTIFICATE_PROPERTY = "X-CurveZMQ-Certificate"
# The greeting mechanism of a certificate fetch; 13 of the 20 bytes a greeting
# has for it. No ZMTP peer speaks it, so any other server closes at once.
CERT_MECHANISM = b"CURVEZMQ-CERT"
# The most bytes of certificate text a fetch accepts: a key line and a few
# hundred bytes of names in practice; 8 KiB matches the default metadata cap.
MAX_CERTIFICATE_SIZE = 8192

_CERTIFICATE = b"CERTIFICATE"
_CURVE = b"CURVE"


class CertificateExchangeError(RemoteProtocolError):
    """A certificate fetch failed.

    Attributes:
        supported: False when the server does not offer the exchange at all (it
            closed at the greeting: libzmq, or curvezmq with CURVE_CERT_EXCHANGE
            off), True when it did and something else went wrong.
    """

    def __init__(
        self,
        message: str,
        reason: Reason = Reason.ZMTP_UNSPECIFIED,
        supported: bool = True,
    ) -> None:
        super().__init__(message, reason)
        self.supported = supported


def certificate_command(certificate: Certificate) -> bytes:
    """The whole frame a server sends to answer a fetch: ``CERTIFICATE`` and the
    certificate's public text, as a command frame."""
    body = command_body(_CERTIFICATE, certificate.public_text())
    return frame_header(COMMAND, len(body)) + body


def take_certificate(metadata: dict, key: bytes, who: str) -> Certificate | None:
    """Take the certificate property out of a peer's metadata and check it.

    Args:
        metadata: the peer's metadata (INITIATE or READY); the property is
            removed from it, whatever its case.
        key: the long-term key the handshake proved for the peer (C or S).
        who: names the peer's command in error messages ("INITIATE", "READY").

    Returns:
        the peer's public certificate, or None when it sent none.

    Raises:
        RemoteProtocolError: the property is not a public certificate
            (ZMTP_INVALID_METADATA), or names another key than the one the
            handshake proved (ZMTP_KEY_EXCHANGE).
    """
    value = None
    folded = CERTIFICATE_PROPERTY.lower()
    for name in [name for name in metadata if name.lower() == folded]:
        found = metadata.pop(name)
        if value is None:
            value = found
    if value is None:
        return None
    try:
        certificate = Certificate.from_public_text(
            value, f"the {CERTIFICATE_PROPERTY} property of {who}"
        )
    except CertificateError as exc:
        raise RemoteProtocolError(
            f"expected a public certificate in {who}'s {CERTIFICATE_PROPERTY}, "
            f"got {len(value)} bytes that are not one: {exc}",
            Reason.ZMTP_INVALID_METADATA,
        ) from exc
    if certificate.public_key != bytes(key):
        raise RemoteProtocolError(
            f"expected {who}'s certificate to name the key the handshake proved, "
            f"got one naming another key",
            Reason.ZMTP_KEY_EXCHANGE,
        )
    return certificate


class CertificateFetch:
    """The client side of a certificate fetch, without I/O.

    Write :meth:`greeting` to a fresh connection, feed whatever arrives to
    :meth:`receive_data` until it returns the certificate, and call
    :meth:`connection_lost` if the server closes first.

    Args:
        endpoint: names the server in error messages.
        max_size: the most certificate bytes accepted; a bigger frame header
            fails before its body is read.
    """

    def __init__(self, endpoint: str = "", max_size: int = MAX_CERTIFICATE_SIZE):
        self.endpoint = endpoint
        self._max_body = 1 + len(_CERTIFICATE) + max_size
        self._buf = bytearray()
        self._greeted = False

    def greeting(self) -> bytes:
        """Our 64-byte greeting, naming :data:`CERT_MECHANISM`."""
        return make_greeting(CERT_MECHANISM, False)

    def receive_data(self, data) -> Certificate | None:
        """Take bytes from the server.

        Returns:
            the server's certificate once its CERTIFICATE command is complete,
            else None.

        Raises:
            CertificateExchangeError: the server is no ZMTP 3 CURVE server, or
                sent something else than one CERTIFICATE command with a public
                certificate in it.
        """
        self._buf += data
        buf = self._buf
        if not self._greeted:
            try:
                check_greeting(buf[:GREETING_SIZE], _CURVE)
            except RemoteProtocolError as exc:
                raise CertificateExchangeError(
                    f"certificate exchange not supported by {self._where}: {exc}",
                    exc.reason,
                    supported=False,
                ) from exc
            if len(buf) < GREETING_SIZE:
                return None
            self._greeted = True
            del buf[:GREETING_SIZE]

        if len(buf) < 2:
            return None
        flags = buf[0]
        if flags & LONG:
            if len(buf) < 9:
                return None
            size = int.from_bytes(buf[1:9], "big")
            start = 9
        else:
            size = buf[1]
            start = 2
        if not flags & COMMAND or size > self._max_body:
            raise CertificateExchangeError(
                f"expected a CERTIFICATE command of at most {self._max_body} bytes "
                f"from {self._where}, got a frame (flags 0x{flags:02x}) of {size}",
                Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            )
        if len(buf) < start + size:
            return None
        body = bytes(buf[start : start + size])
        split = split_command(body)
        if split is None or split[0] != _CERTIFICATE:
            raise CertificateExchangeError(
                f"expected a CERTIFICATE command from {self._where}, got "
                f"{printable(split[0] if split else body)}",
                Reason.ZMTP_UNEXPECTED_COMMAND,
            )
        try:
            return Certificate.from_public_text(
                body[split[1] :], f"the certificate from {self._where}"
            )
        except CertificateError as exc:
            raise CertificateExchangeError(
                str(exc), Reason.ZMTP_INVALID_METADATA
            ) from exc

    def connection_lost(self) -> CertificateExchangeError:
        """The server closed before its certificate was complete.

        Returns:
            the error to raise: "not supported" when the server closed at the
            greeting (a libzmq server, which sees a mechanism it does not know),
            a truncated answer otherwise.
        """
        if not self._greeted or not self._buf:
            return CertificateExchangeError(
                f"certificate exchange not supported by {self._where}: the "
                "server closed the connection at the greeting (a libzmq server, "
                "or a curvezmq server with CURVE_CERT_EXCHANGE off)",
                Reason.ZMTP_MECHANISM_MISMATCH,
                supported=False,
            )
        return CertificateExchangeError(
            f"expected a whole CERTIFICATE command from {self._where}, got "
            f"{len(self._buf)} bytes and then the connection closed",
            Reason.ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        )

    @property
    def _where(self) -> str:
        return self.endpoint or "the server"
