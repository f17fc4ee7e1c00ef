"""Shared fixtures: every crypto test runs on every built backend."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from curvezmq import crypto

VECTORS = pathlib.Path(__file__).parent / "vectors"


def load_vectors(name: str) -> dict:
    """Load tests/vectors/<name>.json; each file names its origin."""
    with open(VECTORS / f"{name}.json", encoding="utf-8") as f:
        data = json.load(f)
    assert data.get("origin"), f"{name}.json does not name its origin"
    return data


def _required() -> set[str]:
    value = os.environ.get("CURVEZMQ_REQUIRE_BACKENDS", "")
    if value == "all":
        return set(crypto.RANKING)
    return {name for name in value.split(",") if name}


def backend_or_skip(name: str) -> crypto.Backend:
    """The backend ``name``; if it is missing, skip with the reason, or fail when
    CURVEZMQ_REQUIRE_BACKENDS asks for it."""
    if name in crypto.available():
        return crypto.get_backend(name)
    why = crypto.unavailable_reasons().get(name, "unknown")
    if name in _required():
        pytest.fail(f"backend {name} is required but unavailable: {why}")
    pytest.skip(f"backend {name} unavailable: {why}")


@pytest.fixture(params=crypto.RANKING)
def backend(request) -> crypto.Backend:
    """Each backend in turn (see backend_or_skip)."""
    return backend_or_skip(request.param)
