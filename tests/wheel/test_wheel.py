"""The built wheel, installed as a user installs it, passes the core suite; the sdist builds; both
install with the metadata PyPI and ``pip show`` display.

Run by ``make wheel-test``, which first builds both with scripts/build_wheel.sh; or by hand::

    FERROSOCKET_WHEEL=dist/ferrosocket-...whl FERROSOCKET_SDIST=dist/ferrosocket-....tar.gz \\
        .venv/bin/python -m pytest -p no:cacheprovider -s tests/wheel

``test_installed_wheel_passes_the_tests``: scripts/installed_wheel_tests.py in a temporary
directory outside the source tree (a fresh venv, ``pip install`` of the wheel and of
requirements/tests-core.txt, a copy of tests/ and examples/, ``pytest --core`` run there;
``ferrosocket`` and ``ferrosocket._core`` must come from the venv). CI's wheels.yml runs the same
script on every platform it builds for.

``test_wheel_and_sdist_install_with_their_metadata``: ``pip install --target`` of the wheel, and
of the sdist (built by pip), then the installed distributions' metadata checked with
tests/test_packaging.py's ``check_metadata`` (licence, project URLs, classifiers, version,
dependencies), the sdist's PKG-INFO too, and every classifier is a real one (trove-classifiers).

``test_sdist_builds``: ``pip wheel`` from the sdist, in a temporary directory, builds a wheel with
the same files as the release wheel. It uses the Cargo profile ``fast``: what it checks is that the
sdist holds everything the build needs (the release profile is checked with the wheel itself).

This directory is not collected unless FERROSOCKET_WHEEL is set (see conftest.py).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from email import message_from_bytes
from pathlib import Path
from types import ModuleType

import pytest
from test_packaging import check_metadata
from trove_classifiers import classifiers as KNOWN_CLASSIFIERS

REPO = Path(__file__).resolve().parents[2]
WHEEL_ENV = "FERROSOCKET_WHEEL"
SDIST_ENV = "FERROSOCKET_SDIST"
BUILD_TIMEOUT = 900  # seconds to build a wheel from the sdist
# Each test bounds its own steps (pip, the build, the copied suite): pyproject's 300 s per test,
# meant for one await, would stop a whole installed-suite run.
pytestmark = pytest.mark.timeout(3600)


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


def sdist_build_env() -> dict[str, str]:
    """pip building the sdist with this venv's maturin, the Cargo profile ``fast``, and a target
    directory of its own (a cache from one run to the next that no other build touches)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MATURIN_PEP517_ARGS"] = "--profile fast"
    env["CARGO_TARGET_DIR"] = str(REPO / "target" / "sdist-check")
    return env


def test_sdist_builds(tmp_path: Path) -> None:
    wheel = required_file(WHEEL_ENV, ".whl")
    sdist = required_file(SDIST_ENV, ".tar.gz")
    out = tmp_path / "out"
    env = sdist_build_env()
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-w", str(out), str(sdist)], cwd=tmp_path, env=env, check=True, timeout=BUILD_TIMEOUT
    )
    (built,) = out.glob("ferrosocket-*.whl")

    def package_files(path: Path) -> set[str]:
        with zipfile.ZipFile(path) as archive:
            return {name for name in archive.namelist() if ".dist-info/" not in name}

    assert package_files(built) == package_files(wheel)


def test_wheel_and_sdist_install_with_their_metadata(tmp_path: Path) -> None:
    wheel = required_file(WHEEL_ENV, ".whl")
    sdist = required_file(SDIST_ENV, ".tar.gz")
    version = wheel.name.split("-")[1]
    pip_install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q"]
    for name, source in (("wheel", wheel), ("sdist", sdist)):
        site = tmp_path / name
        subprocess.run(
            [*pip_install, "--target", str(site), str(source)],
            cwd=tmp_path,
            env=sdist_build_env(),
            check=True,
            timeout=BUILD_TIMEOUT,
        )
        (dist,) = importlib.metadata.distributions(path=[str(site)])
        check_metadata(dist.metadata, version)
        assert dist.read_text("licenses/LICENSE") == (REPO / "LICENSE").read_text(), name
        unknown = set(dist.metadata.get_all("Classifier") or []) - KNOWN_CLASSIFIERS
        assert not unknown, f"not trove classifiers: {unknown}"
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/PKG-INFO")
        assert member is not None
        check_metadata(message_from_bytes(member.read()), version)
