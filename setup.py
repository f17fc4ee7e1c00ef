"""Build curvezmq: one cffi extension module per crypto backend found.

The portable backend (csrc/portable/) has no dependency and is always built. A
backend whose system library is missing is skipped with a message, unless
CURVEZMQ_REQUIRE_BACKENDS=all (CI sets it) or names it, in which case the build
fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from setuptools import setup

ALWAYS = ("portable",)

NACL_PROBE = r"""
#include <crypto_box.h>
#include <crypto_core_hsalsa20.h>
#include <crypto_scalarmult_curve25519.h>
#include <crypto_verify_16.h>
#include <crypto_verify_32.h>
#include <randombytes.h>

int
probe(unsigned char *b, const unsigned char *k)
{
    randombytes(b, 64);
    return crypto_scalarmult_curve25519(b, k, b)
           + crypto_scalarmult_curve25519_base(b, k)
           + crypto_core_hsalsa20(b, k, k, k)
           + crypto_box_afternm(b, b, 64, k, k)
           + crypto_box_open_afternm(b, b, 64, k, k)
           + crypto_verify_16(b, k) + crypto_verify_32(b, k);
}
"""

# The probe program, compiler arguments and install hint of each optional backend.
# NaCl's probe links a shared object exactly as the extension will be linked, so
# a static libnacl.a built without -fPIC is caught here, not half-way through the
# build. Candidate header directories are tried in order.
PROBES = {
    "libsodium": (
        "#include <sodium.h>\nint main(void) { return sodium_init() < 0; }\n",
        [["-lsodium"]],
        "Debian: apt-get install libsodium-dev",
    ),
    "nacl": (
        NACL_PROBE,
        [
            [
                "-shared",
                "-fPIC",
                f"-I{include}",
                "-lnacl",
                "-lrandombytes",
                "-Wl,-z,noexecstack",
                "-Wl,--exclude-libs,ALL",
                "-Wl,--no-undefined",
            ]
            for include in (
                [os.environ["CURVEZMQ_NACL_INCLUDE"]]
                if os.environ.get("CURVEZMQ_NACL_INCLUDE")
                else ["/usr/include/nacl", "/usr/local/include/nacl"]
            )
        ],
        "Debian: apt-get install libnacl-dev",
    ),
}


def probe(backend: str) -> tuple[bool, str]:
    """Whether ``backend`` can be built here, and if not, a hint why."""
    source, attempts, hint = PROBES[backend]
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return False, "no C compiler"
    for flags in attempts:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "probe.c")
            with open(path, "w", encoding="ascii") as f:
                f.write(source)
            result = subprocess.run(
                [cc, path, "-o", os.path.join(tmp, "probe")] + flags,
                capture_output=True,
                text=True,
                check=False,
            )
        if result.returncode == 0:
            for flag in flags:
                if backend == "nacl" and flag.startswith("-I"):
                    # tell csrc/build.py where the headers were found
                    os.environ["CURVEZMQ_NACL_INCLUDE"] = flag[2:]
            return True, ""
        if "-fPIC" in result.stderr or "recompile with" in result.stderr:
            return (
                False,
                "its static library is not position-independent: rebuild it with -fPIC",
            )
    return False, f"its library or headers are missing ({hint})"


def wanted_backends() -> list[str]:
    required = os.environ.get("CURVEZMQ_REQUIRE_BACKENDS", "")
    if required == "all":
        required_set = set(ALWAYS) | set(PROBES)
    else:
        required_set = {name for name in required.split(",") if name}
    unknown = required_set - set(ALWAYS) - set(PROBES)
    if unknown:
        sys.exit(
            "curvezmq: CURVEZMQ_REQUIRE_BACKENDS names unknown backends "
            f"{sorted(unknown)}"
        )
    chosen = list(ALWAYS)
    for backend in PROBES:
        ok, why = probe(backend)
        if ok:
            chosen.append(backend)
            continue
        if backend in required_set:
            sys.exit(
                f"curvezmq: backend {backend!r} is required but cannot be built: {why}"
            )
        print(f"curvezmq: skipping backend {backend!r}: {why}", file=sys.stderr)
    return chosen


setup(cffi_modules=[f"csrc/build.py:{name}" for name in wanted_backends()])
