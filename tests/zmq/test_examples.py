"""pyzmq's security examples run on curvezmq with only their imports changed.

The examples (grasslands, strawhouse, woodhouse, stonehouse, ironhouse,
asyncio-ironhouse) come from the pyzmq 27.3.0 source distribution, downloaded when
the test runs and never kept in this repository. Each ``import zmq...`` line is
pointed at ``curvezmq.zmq``; nothing else is touched. They bind port 9000, so they
run one at a time, each in its own process with a timeout.
"""

from __future__ import annotations

import os
import pathlib
import re
import socket
import subprocess
import sys
import tarfile
import time

import pytest

pytestmark = pytest.mark.slow

PYZMQ = "pyzmq==27.3.0"
SDIST = "pyzmq-27.3.0.tar.gz"
EXAMPLES = {
    # file: what it prints when it passes
    "grasslands.py": "Grasslands test OK",
    "strawhouse.py": "Strawhouse test OK",
    "woodhouse.py": "Woodhouse test OK",
    "stonehouse.py": "Stonehouse test OK",
    "ironhouse.py": "Ironhouse test OK",
    "asyncio-ironhouse.py": "Ironhouse test OK",
}
ROOT = pathlib.Path(__file__).resolve().parents[2]

# Downloading builds the sdist's metadata, which fetches its build requirements;
# minutes on a cold cache, seconds on a warm one.
DOWNLOAD_TIMEOUT = 900
# Each example finishes in about a second; this only catches a hang.
RUN_TIMEOUT = 60


def _rewrite_imports(source: str) -> str:
    """Point ``import zmq``, ``import zmq.x`` and ``from zmq... import`` at
    curvezmq.zmq, keeping the name ``zmq`` bound as the example expects."""
    source = re.sub(
        r"^import zmq$", "import curvezmq.zmq as zmq", source, flags=re.MULTILINE
    )
    source = re.sub(
        r"^import zmq\.([\w.]+)$",
        r"import curvezmq.zmq.\1; import curvezmq.zmq as zmq",
        source,
        flags=re.MULTILINE,
    )
    return re.sub(
        r"^from zmq(\.[\w.]+)? import",
        r"from curvezmq.zmq\1 import",
        source,
        flags=re.MULTILINE,
    )


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> pathlib.Path:
    download = tmp_path_factory.mktemp("sdist")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        PYZMQ,
        "-d",
        str(download),
    ]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"downloading the {PYZMQ} sdist took over {DOWNLOAD_TIMEOUT} s")
    sdist = download / SDIST
    if result.returncode != 0 or not sdist.exists():
        why = (result.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot download the {PYZMQ} sdist (offline?): {why}")

    target = tmp_path_factory.mktemp("security")
    wanted = {f"pyzmq-27.3.0/examples/security/{name}" for name in EXAMPLES}
    wanted.add("pyzmq-27.3.0/examples/security/generate_certificates.py")
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            if member.name in wanted and member.isfile():
                source = archive.extractfile(member).read().decode("utf-8")
                name = pathlib.PurePosixPath(member.name).name
                (target / name).write_text(_rewrite_imports(source), encoding="utf-8")
    missing = {pathlib.PurePosixPath(n).name for n in wanted} - {
        p.name for p in target.iterdir()
    }
    assert not missing, f"the sdist lacks {sorted(missing)}"

    # stonehouse and ironhouse read the certificates this makes
    _run(target, "generate_certificates.py")
    return target


def _wait_for_port(port: int = 9000, timeout: float = 30.0) -> None:
    # the examples bind a fixed port; another run of them (a second test session
    # on the same machine) may hold it for a moment
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("", port))
                return
            except OSError:
                pass
        if time.monotonic() > deadline:
            pytest.skip(f"port {port}, which the examples bind, stays busy")
        time.sleep(0.2)


def _run(directory: pathlib.Path, name: str) -> subprocess.CompletedProcess:
    _wait_for_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, name],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_imports_are_all_that_changes():
    original = (
        "import zmq\nimport zmq.auth\nfrom zmq.auth.thread import X\nx = zmq.auth\n"
    )
    assert _rewrite_imports(original) == (
        "import curvezmq.zmq as zmq\n"
        "import curvezmq.zmq.auth; import curvezmq.zmq as zmq\n"
        "from curvezmq.zmq.auth.thread import X\n"
        "x = zmq.auth\n"
    )


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_security_example(examples, name):
    source = (examples / name).read_text(encoding="utf-8")
    assert not re.search(r"^(import|from) zmq\b", source, flags=re.MULTILINE)
    result = _run(examples, name)
    output = result.stdout + result.stderr
    assert EXAMPLES[name] in output, output
    assert "FAIL" not in output and "Traceback" not in output, output
