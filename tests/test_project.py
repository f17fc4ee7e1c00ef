"""Checks on the project itself: CI runs the README's line, layers import downward,
our C compiles cleanly, and backend selection behaves as documented."""

from __future__ import annotations

import ast
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "curvezmq"

# DESIGN.md's layers, lowest first: a module may import only from its own layer or
# a lower one. The package root re-exports keys and crypto, so it sits with them.
LAYERS = [
    {"curvezmq.errors", "curvezmq._version"},
    {"curvezmq.crypto"},
    {"curvezmq", "curvezmq.z85", "curvezmq.keys", "curvezmq.certs"},
    {"curvezmq.auth"},
    {"curvezmq.codec"},
    {"curvezmq.zmtp"},
    {"curvezmq.engine"},
    {"curvezmq.zmq"},
    {"curvezmq.cli", "curvezmq.__main__"},
]


def _layer_of(module: str) -> int:
    best = None
    for index, names in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + "."):
                if best is None or len(name) > len(best[1]):
                    best = (index, name)
    assert best is not None, f"{module} belongs to no layer in DESIGN.md"
    return best[0]


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path, module: str):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    for alias in node.names:
                        yield f"{target}.{alias.name}"
                    continue
                yield target
            elif node.module:
                yield node.module


def test_readme_and_ci_run_the_same_test_line():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    test_lines = [b for b in blocks if "pytest" in b]
    assert len(test_lines) == 1, "README.md needs exactly one test command block"
    line = test_lines[0].strip()
    assert "\n" not in line, "the README test command must be one line"
    assert line.startswith("apt-get update && apt-get install -y")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert line in ci_lines, ".ci/run does not run the README's test line"


def test_readme_main_job_line():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    demo = [b for b in blocks if "curvezmq demo" in b]
    assert len(demo) == 1 and "\n" not in demo[0].strip()
    assert demo[0].startswith("apt-get update && apt-get install -y")


def test_layers_import_only_downward():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        layer = _layer_of(module)
        for target in _imports(path, module):
            if target != "curvezmq" and not target.startswith("curvezmq."):
                continue
            if _layer_of(target) > layer:
                bad.append(f"{module} imports {target}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


SANS_IO = ("curvezmq.codec", "curvezmq.zmtp")
FORBIDDEN_IN_SANS_IO = {"asyncio", "socket", "time", "os", "selectors", "threading"}


def test_sans_io_layers_import_no_io():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if not module.startswith(SANS_IO):
            continue
        for target in _imports(path, module):
            if target.split(".")[0] in FORBIDDEN_IN_SANS_IO:
                bad.append(f"{module} imports {target}")
    assert not bad, "\n".join(bad)


# Each backend's build of the C sources: its define, extra flags, and the header
# whose absence means its library is not installed.
C_BUILDS = {
    "libsodium": (["-DCURVEZMQ_BACKEND_LIBSODIUM"], "sodium.h"),
    "nacl": (["-DCURVEZMQ_BACKEND_NACL", "-I/usr/include/nacl"], "crypto_box.h"),
    "portable": (["-DCURVEZMQ_BACKEND_PORTABLE"], None),
    "portable-fallback": (
        [
            "-DCURVEZMQ_BACKEND_PORTABLE",
            "-DCURVEZMQ_PORTABLE_NO_INT128",
            "-DCURVEZMQ_PORTABLE_NO_VECTOR",
        ],
        None,
    ),
}


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
@pytest.mark.parametrize("build", list(C_BUILDS))
def test_c_sources_compile_cleanly(build):
    flags, header = C_BUILDS[build]
    sources = [ROOT / "csrc" / "curvezmq.c"]
    if build.startswith("portable"):
        sources.append(ROOT / "csrc" / "portable" / "portable.c")
    for source in sources:
        result = subprocess.run(
            [
                "cc",
                "-std=c99",
                "-fsyntax-only",
                "-Wall",
                "-Wextra",
                "-Wconversion",
                "-Werror",
                *flags,
                "-I",
                str(ROOT / "csrc"),
                str(source),
            ],
            capture_output=True,
            text=True,
        )
        if header and header in result.stderr and "No such file" in result.stderr:
            pytest.skip(f"the {build} headers are not installed")
        assert result.returncode == 0, result.stderr


def _run_python(code: str, **env) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def test_backend_override_and_unknown_name():
    import curvezmq

    name = curvezmq.backends()[0]
    ok = _run_python("import curvezmq; print(curvezmq.backend)", CURVEZMQ_BACKEND=name)
    assert ok.returncode == 0 and ok.stdout.strip() == name

    bad = _run_python("import curvezmq", CURVEZMQ_BACKEND="no-such-backend")
    assert bad.returncode != 0
    assert "BackendUnavailableError" in bad.stderr
    assert name in bad.stderr  # the message lists what is available


def test_backends_listed_in_rank_order():
    import curvezmq
    from curvezmq import crypto

    names = curvezmq.backends()
    assert names == [n for n in crypto.RANKING if n in names]
    assert curvezmq.backend in names
