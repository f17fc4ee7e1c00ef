"""CURVE certificate files, interchangeable with pyzmq's and czmq's.

A certificate is a key pair (or only its public key) and metadata, stored in ZPL
(ZeroMQ's property language, RFC 4) text::

    metadata
        name = "Alice"
    curve
        public-key = "K3HW^WVq.zo69t)(umF>:XvwTj:QGN^yKlWaVH(S"
        secret-key = "009c61o!#m2NH?C3>iWS5d]J*6CRx17-skh9337x"

The secret certificate holds both keys, the public one only the public key. Two
naming schemes exist: pyzmq's ``NAME.key`` and ``NAME.key_secret``
(:func:`create_certificates`), czmq's ``NAME`` and ``NAME_secret``
(:meth:`Certificate.save`). Either reader reads the other's files.

Writing, we follow czmq, the stricter reader: every value quoted (a Z85 key may
hold ``#``, which starts a comment in an unquoted value and once cut a czmq secret
key down to zeros), four-space indents, LF line ends, metadata in both files, and
the secret file created with mode 0600 (pyzmq writes it with the umask's mode).

Reading, we accept what either writer produces: quoted or unquoted values (pyzmq
does not quote metadata), any indent for the entries of a section, CR LF line
ends. An unquoted value ends at a ``#`` that follows a space (a comment); a ``#``
inside a word is kept, so pyzmq's unquoted ``name = C# team`` reads whole. A
secret key that does not belong to the public key is refused.
"""

from __future__ import annotations

import datetime
import glob
import os
import re
import threading
from collections.abc import Mapping
from typing import Union

from . import z85
from .crypto import Backend, get_backend
from .errors import CurveZMQError, InvalidKeyError
from .keys import KeyLike, curve_public, key_bytes

__all__ = [
    "DEFAULT_KNOWN_HOSTS",
    "Certificate",
    "CertificateError",
    "KnownHosts",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]

PathLike = Union[str, "os.PathLike[str]"]

# ZPL names (RFC 4): letters, digits and $ - _ @ . & + /, no / at either end
_NAME = re.compile(r"[A-Za-z0-9$\-_@.&+/]+")

# our banners; readers skip comments, so only the layout matters to them
_PUBLIC_BANNER = (
    "#   ****  Generated on {stamp} by curvezmq  ****\n"
    "#   ZeroMQ CURVE Public Certificate\n"
    "#   Share it freely, but check that it came from its owner before trusting\n"
    "#   the key in it.\n"
    "\n"
)
_SECRET_BANNER = (
    "#   ****  Generated on {stamp} by curvezmq  ****\n"
    "#   ZeroMQ CURVE **Secret** Certificate\n"
    "#   Keep it private: anyone who reads it can act as its owner.\n"
    "\n"
)

# the secret file's mode, whatever the umask
_SECRET_MODE = 0o600


class CertificateError(CurveZMQError, ValueError):
    """A certificate file is malformed, lacks its public key, or holds keys that
    do not belong together; or metadata cannot be written in ZPL."""


class Certificate:
    """A CURVE key pair, or a public key alone, with metadata.

    Args:
        public_key: the public key (32 raw bytes or 40 Z85 characters).
        secret_key: the matching secret key, or None for a public certificate.
        metadata: names to values (text, or bytes that are UTF-8).

    Raises:
        InvalidKeyError: (a ValueError) a key is malformed.
        CertificateError: the secret key does not belong to the public key.

    Attributes:
        public_key: 32 raw bytes.
        secret_key: 32 raw bytes or None; kept out of the repr. Given as bytes,
            it cannot be wiped from memory.
        metadata: names to text values.
    """

    def __init__(
        self,
        public_key: KeyLike,
        secret_key: KeyLike | None = None,
        metadata: Mapping | None = None,
    ) -> None:
        self.public_key = key_bytes(public_key, "public key")
        self.secret_key = None
        if secret_key is not None:
            secret = key_bytes(secret_key, "secret key")
            if key_bytes(curve_public(secret)) != self.public_key:
                raise CertificateError(
                    "the secret key does not belong to the certificate's public key"
                )
            self.secret_key = secret
        self.metadata: dict[str, str] = {
            _text(name): _text(value) for name, value in (metadata or {}).items()
        }

    @classmethod
    def generate(
        cls, metadata: Mapping | None = None, backend: Backend | None = None
    ) -> Certificate:
        """Make a certificate with a new key pair.

        Args:
            metadata: names to values, as for the constructor.
            backend: the crypto backend; the default one when omitted.
        """
        backend = backend or get_backend()
        public, secret = backend.keypair()
        try:
            return cls(public, bytes(secret), metadata)
        finally:
            backend.wipe(secret)

    def __repr__(self) -> str:
        kind = "secret" if self.secret_key is not None else "public"
        return f"<Certificate {kind} {self.public_z85.decode()}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        return (self.public_key, self.secret_key, self.metadata) == (
            other.public_key,
            other.secret_key,
            other.metadata,
        )

    @property
    def public_z85(self) -> bytes:
        """The public key as 40 Z85 characters."""
        return z85.encode(self.public_key)

    @property
    def secret_z85(self) -> bytes | None:
        """The secret key as 40 Z85 characters, or None."""
        return None if self.secret_key is None else z85.encode(self.secret_key)

    @property
    def public(self) -> Certificate:
        """This certificate without its secret key."""
        return Certificate(self.public_key, None, self.metadata)

    # -- files --------------------------------------------------------------------

    @classmethod
    def load(cls, path: PathLike) -> Certificate:
        """Read a certificate file written by curvezmq, pyzmq or czmq.

        Args:
            path: the file. Given czmq's public name ``NAME`` while ``NAME_secret``
                exists, czmq would read the secret one; we read the file named.

        Returns:
            the certificate, with its secret key when the file has one.

        Raises:
            OSError: the file cannot be read.
            CertificateError: (a ValueError) it is not ZPL, has no ``curve``
                ``public-key``, or its keys are malformed or do not match.
        """
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CertificateError(f"{os.fspath(path)} is not UTF-8 text") from exc
        sections = _parse_zpl(text, os.fspath(path))
        curve = sections.get("curve", {})
        public = curve.get("public-key")
        if public is None:
            raise CertificateError(f"no curve public-key in {os.fspath(path)}")
        secret = curve.get("secret-key")
        try:
            return cls(public, secret, sections.get("metadata", {}))
        except InvalidKeyError as exc:
            raise CertificateError(f"{exc} in {os.fspath(path)}") from exc

    def save_public(self, path: PathLike) -> None:
        """Write the public certificate (the public key and the metadata).

        Raises:
            OSError: the file cannot be written.
            CertificateError: a metadata name or value cannot be written in ZPL.
        """
        body = self._zpl(secret=False)
        with open(path, "wb") as f:
            f.write(_PUBLIC_BANNER.format(stamp=_stamp()).encode() + body)

    def save_secret(self, path: PathLike) -> None:
        """Write the secret certificate (both keys and the metadata), mode 0600.

        Raises:
            OSError: the file cannot be written.
            CertificateError: there is no secret key, or a metadata name or value
                cannot be written in ZPL.
        """
        if self.secret_key is None:
            raise CertificateError("a public certificate has no secret key to save")
        data = _SECRET_BANNER.format(stamp=_stamp()).encode() + self._zpl(secret=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags, _SECRET_MODE)
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                # the file may have existed with a wider mode
                os.fchmod(f.fileno(), _SECRET_MODE)
            f.write(data)

    def save(self, path: PathLike) -> tuple[str, str | None]:
        """Write czmq's pair of files: ``path`` (public) and ``path_secret``.

        Returns:
            the public file's path and the secret file's (None for a public
            certificate, which writes only the first).

        Raises:
            OSError, CertificateError: as the save methods.
        """
        public_path = os.fspath(path)
        self.save_public(public_path)
        if self.secret_key is None:
            return public_path, None
        secret_path = public_path + "_secret"
        self.save_secret(secret_path)
        return public_path, secret_path

    # -- in a handshake ------------------------------------------------------------

    def public_text(self) -> bytes:
        """The public certificate as ZPL text, without the banner: what a
        certificate file holds after its comments, and what curvezmq peers
        exchange in a handshake (docs/extensions.md).

        Raises:
            CertificateError: a metadata name or value cannot be written in ZPL.
        """
        return self._zpl(secret=False)

    @classmethod
    def from_public_text(cls, text, where: str = "a certificate") -> Certificate:
        """Read a public certificate from ZPL text (:meth:`public_text`, or a
        public certificate file's contents).

        Args:
            text: bytes (UTF-8) or str.
            where: names the source in error messages, e.g. the peer.

        Returns:
            the certificate, without a secret key.

        Raises:
            CertificateError: (a ValueError) not UTF-8 ZPL, no ``curve``
                ``public-key``, a malformed key, or a ``secret-key`` entry (a
                certificate that travels must never carry one).
        """
        if isinstance(text, (bytes, bytearray, memoryview)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CertificateError(f"{where} is not UTF-8 text") from exc
        sections = _parse_zpl(text, where)
        curve = sections.get("curve", {})
        public = curve.get("public-key")
        if public is None:
            raise CertificateError(f"no curve public-key in {where}")
        if "secret-key" in curve:
            raise CertificateError(
                f"expected a public certificate, got one with a secret-key in {where}"
            )
        try:
            return cls(public, None, sections.get("metadata", {}))
        except (InvalidKeyError, UnicodeDecodeError) as exc:
            raise CertificateError(f"{exc} in {where}") from exc

    def _zpl(self, secret: bool) -> bytes:
        lines = ["metadata"]
        for name, value in self.metadata.items():
            lines.append(f"    {_zpl_name(name)} = {_zpl_value(value)}")
        lines.append("curve")
        lines.append(f'    public-key = "{self.public_z85.decode()}"')
        if secret:
            lines.append(f'    secret-key = "{self.secret_z85.decode()}"')
        return ("\n".join(lines) + "\n").encode("utf-8")


# -- known hosts -----------------------------------------------------------------------

# Where a client that fetches server certificates remembers the keys it trusted.
DEFAULT_KNOWN_HOSTS = os.path.join("~", ".curvezmq", "known_hosts")
_KNOWN_HOSTS_LOCK = threading.Lock()

_KNOWN_HOSTS_BANNER = (
    "# curvezmq known hosts: one endpoint and the Z85 public key of the server\n"
    "# first seen there per line. Remove a line when a server's key changed on\n"
    "# purpose.\n"
)


class KnownHosts:
    """Server keys trusted on first use, by endpoint, in a file like ssh's
    ``known_hosts``.

    The first key seen at an endpoint is written down and trusted; later the same
    key is trusted and a different one refused, until someone removes the line.
    Each line is ``<endpoint> <Z85 public key>``; ``#`` starts a comment. The file
    is read on every lookup, so an edit takes effect at once, and created (with
    its directory) on the first key, mode 0600.

    It protects every connection after the first against a server key that
    changed (a man in the middle, or a rebuilt server). It cannot protect the
    first contact: whoever answers first is trusted (docs/extensions.md).

    An instance is a validator: ``known_hosts(key, certificate, address)``
    returns True for a known or a new key and False for a changed one.

    Args:
        path: the file; None for :data:`DEFAULT_KNOWN_HOSTS` (``~`` expanded).
    """

    def __init__(self, path: PathLike | None = None) -> None:
        self.path = os.path.expanduser(os.fspath(path or DEFAULT_KNOWN_HOSTS))

    def __repr__(self) -> str:
        return f"KnownHosts({self.path!r})"

    def lookup(self, address: str) -> bytes | None:
        """The key trusted for ``address`` (32 raw bytes), or None.

        Raises:
            OSError: the file exists but cannot be read.
            CertificateError: the line for ``address`` holds a malformed key.
        """
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.rsplit(None, 1)
            if len(parts) == 2 and parts[0] == address:
                try:
                    return key_bytes(parts[1], "known host key")
                except InvalidKeyError as exc:
                    raise CertificateError(
                        f"{self.path}, line {number}: {exc}"
                    ) from exc
        return None

    def check(self, address: str, key: KeyLike) -> str:
        """Judge ``key`` for ``address``, writing it down on first use.

        Returns:
            ``"known"`` (the key on file), ``"new"`` (none was on file; it is
            now) or ``"changed"`` (another key is on file; nothing is written).

        Raises:
            OSError: the file cannot be read or written.
            CertificateError: ``address`` cannot be written on one line, or the
                key on file is malformed.
        """
        key = key_bytes(key, "server key")
        # the file is read back line by line and each line stripped: an address
        # that does not survive that would never be found again, and every
        # contact would then count as the first
        if (
            not address
            or len(address.splitlines()) != 1
            or address.endswith(_LINE_BREAKS)
            or address != address.strip()
        ):
            raise CertificateError(f"cannot record a key for address {address!r}")
        # one first contact at a time in this process, so two connections to a
        # new endpoint cannot both write it down
        with _KNOWN_HOSTS_LOCK:
            known = self.lookup(address)
            if known is not None:
                return "known" if known == key else "changed"
            self._append(address, key)
        return "new"

    def _append(self, address: str, key: bytes) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        fresh = not os.path.exists(self.path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        fd = os.open(self.path, flags, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", newline="\n") as f:
            if fresh:
                f.write(_KNOWN_HOSTS_BANNER)
            f.write(f"{address} {z85.encode(key).decode('ascii')}\n")

    def __call__(self, key, certificate, address: str) -> bool:
        """Validate a server key as ``curve_validator`` would be asked.

        Args:
            key: the server's public key.
            certificate: its certificate or None (not used: the key decides).
            address: the endpoint, as the client connected to it.

        Returns:
            True for a known or a new key (now written down), False for a
            changed one.

        Raises:
            OSError, CertificateError: as :meth:`check`.
        """
        return self.check(address, key) != "changed"


# -- pyzmq's functions ---------------------------------------------------------------


def create_certificates(
    key_dir: PathLike, name: str, metadata: Mapping | None = None
) -> tuple[str, str]:
    """Make a key pair and write it as pyzmq does: ``NAME.key`` and
    ``NAME.key_secret`` in ``key_dir`` (the secret one with mode 0600).

    Args:
        key_dir: an existing directory.
        name: the base name of the files.
        metadata: names to values, written into both files.

    Returns:
        the public and the secret file's paths.

    Raises:
        OSError: the files cannot be written.
        CertificateError: a metadata name or value cannot be written in ZPL.
    """
    certificate = Certificate.generate(metadata)
    base = os.path.join(os.fspath(key_dir), name)
    public_path, secret_path = base + ".key", base + ".key_secret"
    certificate.save_public(public_path)
    certificate.save_secret(secret_path)
    return public_path, secret_path


def load_certificate(filename: PathLike) -> tuple[bytes, bytes | None]:
    """Read a certificate file, like pyzmq's ``zmq.auth.load_certificate``.

    Args:
        filename: a public or a secret certificate file.

    Returns:
        ``(public_key, secret_key)`` as Z85 bytes; the secret key is None for a
        public certificate.

    Raises:
        OSError: the file does not exist or cannot be read.
        CertificateError: (a ValueError) no public key, or malformed keys.
    """
    if not os.path.exists(filename):
        raise OSError(f"no certificate file at {os.fspath(filename)}")
    certificate = Certificate.load(filename)
    return certificate.public_z85, certificate.secret_z85


def load_certificates(directory: PathLike = ".") -> dict[bytes, bool]:
    """Read the public keys of every ``*.key`` file in a directory, like pyzmq.

    Args:
        directory: the directory (czmq's names, without ``.key``, are not read).

    Returns:
        Z85 public key -> True.

    Raises:
        OSError: the directory does not exist.
        CertificateError: one of the files is malformed.
    """
    if not os.path.isdir(directory):
        raise OSError(f"no certificate directory at {os.fspath(directory)}")
    keys = {}
    for path in sorted(
        glob.glob(os.path.join(glob.escape(os.fspath(directory)), "*.key"))
    ):
        public, _ = load_certificate(path)
        keys[public] = True
    return keys


# -- ZPL -------------------------------------------------------------------------------


def _parse_zpl(text: str, where: str) -> dict[str, dict[str, str]]:
    """Read the two-level ZPL of a certificate: section -> name -> value. The
    first value of a repeated name wins; deeper levels are skipped."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        entry = line.lstrip(" \t")
        if not entry or entry.startswith("#"):
            continue
        indent = len(line) - len(entry)
        name, value = _split_entry(entry, f"{where}, line {number}")
        if indent == 0:
            current = sections.setdefault(name, {})
        elif current is None:
            raise CertificateError(
                f"{where}, line {number}: an indented entry before any section"
            )
        elif indent <= 4 and value is not None:
            current.setdefault(name, value)
    return sections


def _split_entry(entry: str, where: str) -> tuple[str, str | None]:
    match = _NAME.match(entry)
    if match is None:
        raise CertificateError(f"{where}: expected a ZPL name, got {entry[:20]!r}")
    name = match.group()
    rest = entry[match.end() :].lstrip(" \t")
    if not rest or rest.startswith("#"):
        return name, None
    if not rest.startswith("="):
        raise CertificateError(f"{where}: expected '=' after {name!r}")
    rest = rest[1:].lstrip(" \t")
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        if end < 0:
            raise CertificateError(f"{where}: the value of {name!r} is not closed")
        return name, rest[1:end]
    comment = re.search(r"[ \t]#", rest)
    if comment is not None:
        rest = rest[: comment.start()]
    return name, rest.strip(" \t")


def _zpl_name(name: str) -> str:
    if not _NAME.fullmatch(name) or name.startswith("/") or name.endswith("/"):
        raise CertificateError(
            f"expected a metadata name of letters, digits and $-_@.&+/, got {name!r}"
        )
    return name


def _zpl_value(value: str) -> str:
    # every character str.splitlines() breaks at, since the reader splits so
    if len(value.splitlines()) > 1 or value.endswith(_LINE_BREAKS):
        raise CertificateError("a metadata value cannot span lines")
    for quote in ('"', "'"):
        if quote not in value:
            return f"{quote}{value}{quote}"
    raise CertificateError("a metadata value cannot hold both kinds of quote")


_LINE_BREAKS = (
    "\n",
    "\r",
    "\v",
    "\f",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
)


def _text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8")
    return str(value)


def _stamp() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
