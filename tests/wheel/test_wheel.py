"""The built wheel, installed as a user installs it, passes the test suite; the sdist builds.

Run by ``make wheel-test``, which first builds both with scripts/build_wheel.sh; or by hand::

    FERROSOCKET_WHEEL=dist/ferrosocket-...whl FERROSOCKET_SDIST=dist/ferrosocket-....tar.gz \\
        .venv/bin/python -m pytest -p no:cacheprovider -s tests/wheel

``test_installed_wheel_passes_the_tests``: scripts/installed_wheel_tests.py in a temporary
directory outside the source tree (a fresh venv, ``pip install`` of the wheel and the test
dependencies, a copy of tests/ and examples/, pytest run there; ``ferrosocket`` and
``ferrosocket._core`` must come from the venv). CI's wheels.yml runs the same script on every
platform it builds for.

``test_sdist_builds``: ``pip wheel`` from the sdist, in a temporary directory, builds a wheel with
the same files as the release wheel. It uses the Cargo profile ``fast``: what it checks is that the
sdist holds everything the build needs (the release profile is checked with the wheel itself).

This directory is not collected unless FERROSOCKET_WHEEL is set (see conftest.py).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
WHEEL_ENV = "FERROSOCKET_WHEEL"
SDIST_ENV = "FERROSOCKET_SDIST"
BUILD_TIMEOUT = 900  # seconds to build a wheel from the sdist


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "installed_wheel_tests", REPO / "scripts" / "installed_wheel_tests.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def required_file(name: str, suffix: str) -> Path:
    value = os.environ.get(name, "")
    assert value, f"{name} must name the built {suffix} file (make wheel-test sets it)"
    path = Path(value).resolve()
    assert path.is_file() and path.name.endswith(suffix), f"{name}={value!r} is not a {suffix} file"
    return path


def test_installed_wheel_passes_the_tests(tmp_path: Path) -> None:
    wheel = required_file(WHEEL_ENV, ".whl")
    report = load_script().run(wheel, tmp_path / "user")
    assert report["version"] == wheel.name.split("-")[1]


def test_sdist_builds(tmp_path: Path) -> None:
    wheel = required_file(WHEEL_ENV, ".whl")
    sdist = required_file(SDIST_ENV, ".tar.gz")
    out = tmp_path / "out"
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # this venv's maturin
    env["MATURIN_PEP517_ARGS"] = "--profile fast"
    # Its own target directory: a cache from one run to the next that no other build touches.
    env["CARGO_TARGET_DIR"] = str(REPO / "target" / "sdist-check")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-w", str(out), str(sdist)], cwd=tmp_path, env=env, check=True, timeout=BUILD_TIMEOUT
    )
    (built,) = out.glob("ferrosocket-*.whl")

    def package_files(path: Path) -> set[str]:
        with zipfile.ZipFile(path) as archive:
            return {name for name in archive.namelist() if ".dist-info/" not in name}

    assert package_files(built) == package_files(wheel)
