"""The package version, and the version the compiled C sources must carry."""

__all__ = ["C_VERSION", "__version__"]

__version__ = "0.1.0"

# Must equal CURVEZMQ_C_VERSION in csrc/curvezmq.c: a stale extension module built
# from older C sources is refused at import with a rebuild hint.
C_VERSION = "0.2.0"
