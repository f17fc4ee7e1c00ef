"""Certificates as they travel (public text) and the known-hosts store of the
certificate fetch (docs/extensions.md)."""

from __future__ import annotations

import os

import pytest

from curvezmq import curve_keypair
from curvezmq.certs import Certificate, CertificateError, KnownHosts
from curvezmq.keys import key_bytes


def test_public_text_round_trips_without_the_secret_key():
    cert = Certificate.generate({"name": "Alice", "note": "C# team"})
    text = cert.public_text()
    assert b"secret-key" not in text and b"public-key" in text
    again = Certificate.from_public_text(text)
    assert again == cert.public and again.secret_key is None
    assert Certificate.from_public_text(text.decode()) == cert.public


def test_public_text_reads_a_public_certificate_file(tmp_path):
    cert = Certificate.generate({"name": "Bob"})
    cert.save_public(tmp_path / "bob.key")
    assert Certificate.from_public_text((tmp_path / "bob.key").read_bytes()) == (
        cert.public
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"\xff", id="not-utf8"),
        pytest.param(b"metadata\n    name = x\n", id="no-curve-section"),
        pytest.param(b'curve\n    public-key = "short"\n', id="malformed-key"),
        pytest.param("secret", id="secret-key-inside"),
    ],
)
def test_from_public_text_refuses(text):
    if text == "secret":
        text = Certificate.generate()._zpl(secret=True)
    with pytest.raises(CertificateError):
        Certificate.from_public_text(text, "the peer's certificate")


def test_known_hosts_trusts_on_first_use_and_refuses_a_change(tmp_path):
    path = tmp_path / "deep" / "known_hosts"
    store = KnownHosts(path)
    first, second = curve_keypair()[0], curve_keypair()[0]
    assert store.lookup("tcp://a:1") is None
    assert store.check("tcp://a:1", first) == "new"
    assert store.check("tcp://a:1", first) == "known"
    assert store.check("tcp://a:1", second) == "changed"
    assert store.check("tcp://b:2", second) == "new"
    assert store.lookup("tcp://a:1") == key_bytes(first)
    assert store(key_bytes(first), None, "tcp://a:1") is True
    assert store(key_bytes(second), None, "tcp://a:1") is False
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    # removing the line is how a deliberate key change is accepted
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if "tcp://a:1" not in line))
    assert store.check("tcp://a:1", second) == "new"


def test_known_hosts_default_path(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    store = KnownHosts()
    assert store.path == os.path.join(str(tmp_path), ".curvezmq", "known_hosts")


def test_known_hosts_refuses_an_address_it_cannot_write(tmp_path):
    store = KnownHosts(tmp_path / "kh")
    with pytest.raises(CertificateError):
        store.check("tcp://a:1\ntcp://b:2", curve_keypair()[0])


def test_known_hosts_with_a_malformed_line(tmp_path):
    path = tmp_path / "kh"
    path.write_text("# comment\n\ntcp://a:1 not-a-key\n")
    with pytest.raises(CertificateError):
        KnownHosts(path).lookup("tcp://a:1")
    assert KnownHosts(path).lookup("tcp://b:1") is None
