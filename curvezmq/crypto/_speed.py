"""A quick speed figure per backend, for ``curvezmq info``.

bench/crypto.py measures the backends properly, against each other and PyNaCl;
this module only spends a few milliseconds to show the order of magnitude on the
machine at hand.
"""

from __future__ import annotations

import time

from ._backend import Backend, get_backend

__all__ = ["quick_speed"]

# Each figure runs for about this long (seconds): short enough that `curvezmq info`
# stays instant with every backend, long enough for a few dozen X25519 calls.
_BUDGET = 0.004

_PREFIX = b"CurveZMQMESSAGEC"


def _rate(call, budget: float) -> float:
    """Calls per second of ``call`` over about ``budget`` seconds (at least 3)."""
    count = 0
    start = time.perf_counter()
    elapsed = 0.0
    while count < 3 or elapsed < budget:
        call()
        count += 1
        elapsed = time.perf_counter() - start
    return count / elapsed


def quick_speed(
    backend: Backend | str | None = None, *, budget: float = _BUDGET
) -> dict:
    """Measure one backend for a few milliseconds.

    Args:
        backend: a :class:`Backend`, a backend name, or None for the default one.
        budget: seconds to spend on each figure.

    Returns:
        ``{"backend": name, "x25519_per_s": float, "box_1k_per_s": float,
        "box_1k_mib_per_s": float}``: X25519 key agreements per second, and
        1 KiB MESSAGE bodies sealed per second (and the payload rate they make).

    Raises:
        BackendUnavailableError: ``backend`` names a backend that is not built or
            failed its self-test (``curvezmq.crypto.unavailable_reasons()`` says
            why).
    """
    if not isinstance(backend, Backend):
        backend = get_backend(backend)
    public, secret = backend.keypair()
    key = backend.random(32)
    data = bytes(1024)

    x25519 = _rate(lambda: backend.scalarmult(secret, public), budget)
    box = _rate(lambda: backend.message_seal(_PREFIX, 1, 0, data, key), budget)
    backend.wipe(secret)

    return {
        "backend": backend.name,
        "x25519_per_s": x25519,
        "box_1k_per_s": box,
        "box_1k_mib_per_s": box * len(data) / 2**20,
    }
