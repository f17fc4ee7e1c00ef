"""Crypto backends: compiled cffi modules behind one small interface.

The first available backend in :data:`RANKING` is chosen at import;
``CURVEZMQ_BACKEND=name`` overrides the choice.
"""

from ._backend import (
    RANKING,
    Backend,
    available,
    default_backend,
    get_backend,
    unavailable_reasons,
)
from ._speed import quick_speed

__all__ = [
    "RANKING",
    "Backend",
    "available",
    "default_backend",
    "get_backend",
    "quick_speed",
    "unavailable_reasons",
]
