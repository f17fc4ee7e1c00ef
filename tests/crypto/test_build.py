"""How the backends are built and chosen: what the extension modules expose, the
NaCl module's stack, the fixed ranking, and the quick speed figure for the CLI."""

from __future__ import annotations

import importlib
import shutil
import struct
import subprocess

import pytest

from curvezmq import crypto
from curvezmq.errors import BackendUnavailableError
from tests.conftest import backend_or_skip

PT_GNU_STACK = 0x6474E551
PF_X = 1


def _module_path(name: str) -> str:
    backend_or_skip(name)
    return importlib.import_module(f"curvezmq.crypto._{name}").__file__


def _stack_flags(path: str) -> int:
    """The flags of an ELF64 little-endian file's PT_GNU_STACK header."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        pytest.skip("not a 64-bit little-endian ELF file")
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, p_flags = struct.unpack_from("<II", data, phoff + i * phentsize)
        if p_type == PT_GNU_STACK:
            return p_flags
    return PF_X  # no header: the loader assumes an executable stack


def test_ranking_is_fixed_and_complete():
    assert crypto.RANKING == ("libsodium", "portable", "nacl")


def test_portable_is_always_available():
    assert "portable" in crypto.available()


@pytest.mark.parametrize("name", crypto.RANKING)
def test_no_module_asks_for_an_executable_stack(name):
    # NaCl's assembly would, without -z noexecstack at link time
    assert not _stack_flags(_module_path(name)) & PF_X


@pytest.mark.skipif(shutil.which("nm") is None, reason="nm is not installed")
@pytest.mark.parametrize("name", ["portable", "nacl"])
def test_nacl_names_stay_inside_the_module(name):
    # libsodium exports the same names: neither may stand in for the other
    result = subprocess.run(
        ["nm", "-D", "--defined-only", _module_path(name)],
        capture_output=True,
        text=True,
        check=True,
    )
    exported = {line.split()[-1] for line in result.stdout.splitlines() if line}
    leaked = {s for s in exported if s.startswith(("crypto_", "randombytes"))}
    assert not leaked
    assert "curvezmq_message_seal" in exported


def test_quick_speed_for_every_backend():
    for name in crypto.available():
        figures = crypto.quick_speed(name, budget=0.001)
        assert figures["backend"] == name
        assert figures["x25519_per_s"] > 0 and figures["box_1k_per_s"] > 0
        assert figures["box_1k_mib_per_s"] == pytest.approx(
            figures["box_1k_per_s"] / 1024
        )
    default = crypto.quick_speed(budget=0.001)
    assert default["backend"] == crypto.default_backend().name
    backend = crypto.get_backend("portable")
    assert crypto.quick_speed(backend, budget=0.001)["backend"] == "portable"


def test_quick_speed_of_a_missing_backend_says_why():
    with pytest.raises(BackendUnavailableError, match="available: "):
        crypto.quick_speed("no-such-backend")
