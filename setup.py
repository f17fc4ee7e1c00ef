"""Build curvezmq: one cffi extension module per crypto backend found.

A backend whose system library is missing is skipped with a message, unless
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

# The probe program and link flags that tell whether a backend can be built here.
PROBES = {
    "libsodium": (
        "#include <sodium.h>\nint main(void) { return sodium_init() < 0; }\n",
        ["-lsodium"],
        "Debian: apt-get install libsodium-dev",
    ),
}


def can_build(backend: str) -> bool:
    source, flags, _ = PROBES[backend]
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w", encoding="ascii") as f:
            f.write(source)
        result = subprocess.run(
            [cc, path, "-o", os.path.join(tmp, "probe")] + flags,
            capture_output=True,
        )
    return result.returncode == 0


def wanted_backends() -> list[str]:
    required = os.environ.get("CURVEZMQ_REQUIRE_BACKENDS", "")
    if required == "all":
        required_set = set(PROBES)
    else:
        required_set = {name for name in required.split(",") if name}
    chosen = []
    for backend in PROBES:
        if can_build(backend):
            chosen.append(backend)
            continue
        hint = PROBES[backend][2]
        if backend in required_set:
            sys.exit(f"curvezmq: backend {backend!r} is required but cannot be built ({hint})")
        print(f"curvezmq: skipping backend {backend!r}: its library is missing ({hint})",
              file=sys.stderr)
    return chosen


setup(cffi_modules=[f"csrc/build.py:{name}" for name in wanted_backends()])
