"""Certificate files: byte-exact pyzmq and czmq files read, ours read by pyzmq (and
by czmq when libczmq is installed), metadata both ways, the secret file's mode."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import stat

import pytest

from curvezmq import certs, z85
from curvezmq.certs import Certificate, CertificateError

from ..conftest import load_vectors

VECTORS = load_vectors("certificates")
PUBLIC_Z85 = VECTORS["public_key_z85"].encode()
SECRET_Z85 = VECTORS["secret_key_z85"].encode()
METADATA = VECTORS["metadata"]


def _write(tmp_path, name: str) -> str:
    entry = VECTORS["files"][name]
    data = entry["text"].encode()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    path = tmp_path / name.replace("/", "-")
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("name", "secret", "metadata"),
    [
        ("pyzmq/alice.key", False, {}),
        ("pyzmq/alice.key_secret", True, METADATA),
        ("czmq/alice", False, METADATA),
        ("czmq/alice_secret", True, METADATA),
    ],
)
def test_reads_pyzmq_and_czmq_files_byte_for_byte(tmp_path, name, secret, metadata):
    path = _write(tmp_path, name)
    certificate = Certificate.load(path)
    assert certificate.public_z85 == PUBLIC_Z85
    assert certificate.secret_z85 == (SECRET_Z85 if secret else None)
    assert certificate.metadata == metadata
    assert certs.load_certificate(path) == (PUBLIC_Z85, SECRET_Z85 if secret else None)


def test_secret_key_with_hash_survives_because_it_is_quoted(tmp_path):
    # the Z85 secret holds '#'; unquoted, czmq would cut it into a zero key
    assert b"#" in SECRET_Z85
    path = _write(tmp_path, "czmq/alice_secret")
    assert Certificate.load(path).secret_key == bytes(range(32))


def test_pyzmq_reads_ours_and_we_read_pyzmqs(tmp_path):
    pyzmq_auth = pytest.importorskip("zmq.auth")
    ours = tmp_path / "ours"
    theirs = tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    metadata = {"name": "Bob", "team": "C# devs", "quote": 'say "hi"'}

    public_path, secret_path = certs.create_certificates(ours, "bob", metadata)
    assert (public_path, secret_path) == (
        str(ours / "bob.key"),
        str(ours / "bob.key_secret"),
    )
    public, secret = pyzmq_auth.load_certificate(secret_path)
    assert pyzmq_auth.load_certificate(public_path) == (public, None)
    assert certs.load_certificate(secret_path) == (public, secret)
    assert z85.decode(public) == Certificate.load(public_path).public_key
    # metadata goes into both files, quoted (the one with " in single quotes)
    assert Certificate.load(public_path).metadata == metadata
    assert Certificate.load(secret_path).metadata == metadata
    assert pyzmq_auth.load_certificates(str(ours)) == certs.load_certificates(ours)

    p_public, p_secret = pyzmq_auth.create_certificates(str(theirs), "carol", metadata)
    assert certs.load_certificate(p_secret) == pyzmq_auth.load_certificate(p_secret)
    assert certs.load_certificate(p_public) == pyzmq_auth.load_certificate(p_public)
    # pyzmq writes metadata unquoted, in the secret file only
    assert Certificate.load(p_secret).metadata == metadata
    assert Certificate.load(p_public).metadata == {}


def test_secret_file_is_0600_even_with_a_lax_umask(tmp_path):
    old = os.umask(0)
    try:
        public_path, secret_path = certs.create_certificates(tmp_path, "k")
        (tmp_path / "again_secret").write_text("x")
        os.chmod(tmp_path / "again_secret", 0o666)
        Certificate.generate().save(tmp_path / "again")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(secret_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "again_secret").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(public_path).st_mode) == 0o666


def test_save_writes_czmq_names_and_layout(tmp_path):
    certificate = Certificate(PUBLIC_Z85, SECRET_Z85, METADATA)
    public_path, secret_path = certificate.save(tmp_path / "alice")
    assert secret_path == public_path + "_secret"
    expected = VECTORS["files"]["czmq/alice_secret"]["text"]
    with open(secret_path, encoding="utf-8") as f:
        written = f.read()
    # the same ZPL body as czmq's after the comment banner
    assert written.split("\n\n", 1)[1] == expected.split("\n\n", 1)[1]
    assert Certificate.load(public_path) == certificate.public
    assert "009c61" not in repr(certificate)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata\n", "no curve public-key"),
        ('curve\n    public-key = "short"\n', "public key"),
        ('    public-key = "x"\n', "before any section"),
        ('curve\n    public-key = "unclosed\n', "not closed"),
        ("curve\n    public-key: 1\n", "expected '='"),
    ],
)
def test_malformed_files_are_refused(tmp_path, text, message):
    path = tmp_path / "bad"
    path.write_text(text)
    with pytest.raises(CertificateError, match=message):
        Certificate.load(path)
    assert issubclass(CertificateError, ValueError)


def test_mismatched_keys_are_refused(tmp_path):
    other_secret = z85.encode(bytes(range(1, 33)))
    with pytest.raises(CertificateError, match="does not belong"):
        Certificate(PUBLIC_Z85, other_secret)
    path = tmp_path / "zeroed"
    # what czmq makes of an unquoted secret key cut at '#': all zeros
    path.write_text(
        f'curve\n    public-key = "{PUBLIC_Z85.decode()}"\n'
        f"    secret-key = {'0' * 40}\n"
    )
    with pytest.raises(CertificateError):
        Certificate.load(path)


def test_tolerant_reading(tmp_path):
    path = tmp_path / "loose"
    path.write_bytes(
        b"# comment\r\nmetadata\r\n  name = plain value # a comment\r\n"
        b"\tmotto='it''s'\r\ncurve\r\n    public-key = '" + PUBLIC_Z85 + b"'\r\n"
    )
    certificate = Certificate.load(path)
    assert certificate.metadata == {"name": "plain value", "motto": "it"}
    assert certificate.secret_key is None


def test_unwritable_metadata_is_refused(tmp_path):
    for metadata in ({"bad name": "x"}, {"n": "a\nb"}, {"n": "'\""}, {"/n": "x"}):
        with pytest.raises(CertificateError):
            Certificate.generate(metadata).save_public(tmp_path / "m")
    with pytest.raises(CertificateError):
        Certificate(PUBLIC_Z85).save_secret(tmp_path / "s")


def test_missing_paths_raise_oserror(tmp_path):
    with pytest.raises(OSError):
        certs.load_certificate(tmp_path / "nope.key")
    with pytest.raises(OSError):
        certs.load_certificates(tmp_path / "nope")


# -- czmq itself, when installed -------------------------------------------------------


def _czmq():
    name = ctypes.util.find_library("czmq")
    if name is None:
        pytest.skip("libczmq is not installed")
    lib = ctypes.CDLL(name)
    lib.zcert_load.restype = ctypes.c_void_p
    lib.zcert_load.argtypes = [ctypes.c_char_p]
    lib.zcert_public_txt.restype = ctypes.c_char_p
    lib.zcert_public_txt.argtypes = [ctypes.c_void_p]
    lib.zcert_secret_txt.restype = ctypes.c_char_p
    lib.zcert_secret_txt.argtypes = [ctypes.c_void_p]
    lib.zcert_meta.restype = ctypes.c_char_p
    lib.zcert_meta.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.zcert_new_from.restype = ctypes.c_void_p
    lib.zcert_new_from.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.zcert_set_meta.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
    ]
    lib.zcert_save.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.zcert_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    return lib


def test_czmq_reads_ours_and_we_read_czmqs(tmp_path):
    lib = _czmq()
    ours = Certificate(PUBLIC_Z85, SECRET_Z85, METADATA)
    _, secret_path = ours.save(tmp_path / "ours")
    cert = ctypes.c_void_p(lib.zcert_load(secret_path.encode()))
    assert cert.value
    try:
        assert lib.zcert_public_txt(cert) == PUBLIC_Z85
        assert lib.zcert_secret_txt(cert) == SECRET_Z85
        assert lib.zcert_meta(cert, b"email") == METADATA["email"].encode()
    finally:
        lib.zcert_destroy(ctypes.byref(cert))

    cert = ctypes.c_void_p(lib.zcert_new_from(bytes(ours.public_key), ours.secret_key))
    lib.zcert_set_meta(cert, b"name", b"%s", b"Alice")
    lib.zcert_save(cert, str(tmp_path / "theirs").encode())
    lib.zcert_destroy(ctypes.byref(cert))
    loaded = Certificate.load(tmp_path / "theirs_secret")
    assert (loaded.secret_key, loaded.metadata) == (ours.secret_key, {"name": "Alice"})
