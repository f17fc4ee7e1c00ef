"""cffi build scripts: one extension module per crypto backend.

Each backend compiles the same fast path (``csrc/curvezmq.c``) against its own
primitives; the header ``csrc/curvezmq.h`` is both the cdef and the contract. This
file runs at build time only and is never imported by the package.
"""

from __future__ import annotations

import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

# Warnings our C must compile cleanly with (STYLE.md); the generated cffi wrapper
# is not ours, so -Wconversion is checked on csrc/ alone by the test suite.
EXTRA_COMPILE_ARGS = ["-O2", "-Wall", "-Wextra"]

# What each backend adds to the shared build: defines, libraries, link flags.
BACKENDS = {
    "libsodium": {
        "define": "CURVEZMQ_BACKEND_LIBSODIUM",
        "libraries": ["sodium"],
        "extra_link_args": [],
        "include_dirs": [],
        "sources": [],
    },
}


def read_cdef() -> str:
    with open(os.path.join(HERE, "curvezmq.h"), encoding="ascii") as f:
        return f.read()


def make_ffi(backend: str) -> FFI:
    """Return the FFI builder for one backend's extension module."""
    spec = BACKENDS[backend]
    ffi = FFI()
    ffi.cdef(read_cdef())
    ffi.set_source(
        f"curvezmq.crypto._{backend}",
        '#include "curvezmq.h"\n',
        sources=[os.path.join("csrc", "curvezmq.c")] + spec["sources"],
        include_dirs=[HERE] + spec["include_dirs"],
        define_macros=[(spec["define"], "1")],
        libraries=spec["libraries"],
        extra_compile_args=EXTRA_COMPILE_ARGS,
        extra_link_args=spec["extra_link_args"],
    )
    return ffi


libsodium = make_ffi("libsodium")
