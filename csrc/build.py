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

# Where Debian's libnacl-dev puts NaCl's headers; setup.py's probe may find them
# elsewhere and says so through this variable.
NACL_INCLUDE_DIR = os.environ.get("CURVEZMQ_NACL_INCLUDE", "/usr/include/nacl")

# NaCl's amd64 assembly carries no .note.GNU-stack, which would make the linker
# mark the whole module as needing an executable stack; and its symbols (the same
# names libsodium exports) stay private to the module, so that neither library
# can stand in for the other when both are loaded in one process.
NACL_LINK_ARGS = ["-Wl,-z,noexecstack", "-Wl,--exclude-libs,ALL"]

# What each backend adds to the shared build: defines, libraries, link flags.
BACKENDS = {
    "portable": {
        "define": "CURVEZMQ_BACKEND_PORTABLE",
        "libraries": [],
        "extra_link_args": [],
        "include_dirs": [],
        "sources": [os.path.join("csrc", "portable", "portable.c")],
    },
    "libsodium": {
        "define": "CURVEZMQ_BACKEND_LIBSODIUM",
        "libraries": ["sodium"],
        "extra_link_args": [],
        "include_dirs": [],
        "sources": [],
    },
    "nacl": {
        "define": "CURVEZMQ_BACKEND_NACL",
        # librandombytes after libnacl: libnacl's keypair functions call it
        "libraries": ["nacl", "randombytes"],
        "extra_link_args": NACL_LINK_ARGS,
        "include_dirs": [NACL_INCLUDE_DIR],
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


portable = make_ffi("portable")
libsodium = make_ffi("libsodium")
nacl = make_ffi("nacl")
