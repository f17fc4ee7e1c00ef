"""The curvezmq command: keygen, info, and the demo (ours and against libzmq)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from curvezmq import curve_public, z85
from curvezmq.cli import main

pytestmark = pytest.mark.timeout(120)

# A demo run over 127.0.0.1 with a small count finishes in about a second; the
# timeout only guards against a hang.
DEMO_TIMEOUT = 60


def _cli(*args: str, extra_code: str = "") -> subprocess.CompletedProcess:
    code = (
        f"{extra_code}import sys; from curvezmq.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
    )


def test_keygen_prints_a_matching_pair(capsys):
    assert main(["keygen"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("public: ") and lines[1].startswith("secret: ")
    public, secret = lines[0].split()[1], lines[1].split()[1]
    assert len(z85.decode(public)) == len(z85.decode(secret)) == 32
    assert curve_public(secret).decode() == public


def test_info_lists_version_and_backends(capsys):
    import curvezmq

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"curvezmq {curvezmq.__version__}" in out
    assert f"default backend: {curvezmq.backend}" in out
    for name in curvezmq.crypto.RANKING:
        assert f"backend {name}:" in out
    for name in curvezmq.backends():
        # each built backend shows a quick speed figure
        assert f"backend {name}: available (" in out and "X25519/s" in out


def test_demo_exits_zero():
    result = _cli("demo", "--count", "300")
    assert result.returncode == 0, result.stderr
    assert "handshake:" in result.stdout
    assert "round trips/s" in result.stdout
    assert "server: curvezmq" in result.stdout


def test_demo_against_pyzmq_exits_zero():
    pytest.importorskip("zmq")
    result = _cli("demo", "--count", "300", "--peer", "pyzmq")
    assert result.returncode == 0, result.stderr
    assert "server: libzmq" in result.stdout
    assert "round trips/s" in result.stdout


def test_demo_against_pyzmq_without_pyzmq_exits_two():
    # a None entry in sys.modules makes "import zmq" fail as if not installed
    result = _cli(
        "demo", "--peer", "pyzmq", extra_code="import sys; sys.modules['zmq'] = None; "
    )
    assert result.returncode == 2
    assert "pyzmq" in result.stderr and "not installed" in result.stderr


def test_bad_usage_exits_two(capsys):
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    assert main(["demo", "--count", "0"]) == 2
