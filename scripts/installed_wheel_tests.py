"""Run the core test suite against an installed ferrosocket wheel, as a user would install it.

    python scripts/installed_wheel_tests.py WHEEL_OR_DIRECTORY [--work DIR]

With the interpreter that runs this script (stdlib only, Python 3.11+; Linux, macOS, Windows):

1. a fresh virtual environment in a work directory outside the source tree (a new temporary
   directory, or ``--work``, which must be empty or absent);
2. ``pip install`` of the wheel (a ``.whl`` file, or the one in a directory of wheels that pip
   finds compatible with this interpreter: ``--no-index --find-links DIR --only-binary``), then of
   the core suite's dependencies, requirements/tests-core.txt (what every platform has wheels for);
3. a copy of tests/ (less tests/wheel/) and examples/ in the work directory, next to a pytest.ini
   made from pyproject.toml's pytest options and a conftest.py that records what the run
   imported;
4. ``pytest --core`` (the core suite: CORE_SUITE in tests/conftest.py) run there, from the work
   directory, with ``-p no:cacheprovider``, in an environment
   with nothing that points into the source tree, so ``python/`` and the editable install of
   .venv cannot stand in for the installed package.

It passes when pytest passes with no test skipped (off Linux, only tests that say they need Linux
may skip) and both ``ferrosocket`` and ``ferrosocket._core`` were imported from the virtual
environment. Used by
tests/wheel/test_wheel.py (``make wheel-test``) and by .github/workflows/wheels.yml.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO / "requirements" / "tests-core.txt"
# Off Linux, the skips allowed: tests that need Linux say so in their reason.
PLATFORM_SKIP = "needs Linux"
INSTALL_TIMEOUT = 900  # seconds for each pip install (from pip's cache it takes seconds)
PYTEST_TIMEOUT = 2400  # seconds for the whole copied suite

PROBE = '''\
"""Written by scripts/installed_wheel_tests.py: records what this run imported and how it ended."""

import json
import os
import sys
from pathlib import Path


def pytest_sessionfinish(session, exitstatus):
    import ferrosocket
    import ferrosocket._core

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = {key: len(value) for key, value in reporter.stats.items() if key}
    skips = [str(r.longrepr[2]).removeprefix("Skipped: ") for r in reporter.stats.get("skipped", [])]
    report = {
        "ferrosocket": ferrosocket.__file__,
        "core": ferrosocket._core.__file__,
        "version": ferrosocket.__version__,
        "python": sys.version.split()[0],
        "exitstatus": int(exitstatus),
        "stats": stats,
        "skips": skips,
    }
    Path(os.environ["FERROSOCKET_WHEEL_PROBE"]).write_text(json.dumps(report))
'''


def pytest_ini() -> str:
    """pyproject.toml's [tool.pytest.ini_options] as the text of a pytest.ini."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    options: dict[str, Any] = pyproject["tool"]["pytest"]["ini_options"]
    lines = ["[pytest]"]
    for key, value in options.items():
        if isinstance(value, list):
            lines.append(f"{key} =" + "".join(f"\n    {item}" for item in value))
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def scripts_dir(venv_dir: Path) -> Path:
    """Where a venv keeps its executables: Scripts on Windows, bin elsewhere."""
    return venv_dir / ("Scripts" if sys.platform == "win32" else "bin")


def user_env(venv_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who activated the venv: nothing that points into the source tree."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "PYTEST", "PYO3_")) and key != "VIRTUAL_ENV"
    }
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PATH"] = f"{scripts_dir(venv_dir)}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env.update(extra)
    return env


def run(target: Path, work: Path) -> dict[str, Any]:
    """Install ``target`` (a wheel, or a directory of wheels) in ``work`` and run the tests there.

    Returns the probe's report; raises AssertionError (or CalledProcessError) when anything fails.
    """
    target = target.resolve()
    work = work.resolve()
    assert work != REPO and REPO not in work.parents, f"{work} is inside the source tree {REPO}"
    assert not work.exists() or not any(work.iterdir()), f"{work} is not empty"
    work.mkdir(parents=True, exist_ok=True)

    venv_dir = work / "venv"
    print(f"== {sys.executable} -m venv {venv_dir}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True, timeout=INSTALL_TIMEOUT)
    python = scripts_dir(venv_dir) / ("python.exe" if sys.platform == "win32" else "python")
    env = user_env(venv_dir)
    pip = [str(python), "-m", "pip", "install", "--progress-bar", "off", "-q"]
    if target.is_dir():
        wheel_args = ["--no-index", "--find-links", str(target), "--only-binary", ":all:", "--no-deps"]
        wheel_args.append("ferrosocket")
    else:
        assert target.is_file() and target.suffix == ".whl", f"{target} is neither a wheel nor a directory"
        wheel_args = ["--no-deps", str(target)]
    print(f"== pip install {' '.join(wheel_args)}", flush=True)
    subprocess.run([*pip, *wheel_args], cwd=work, env=env, check=True, timeout=INSTALL_TIMEOUT)
    print(f"== pip install -r {REQUIREMENTS.relative_to(REPO).as_posix()}", flush=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], cwd=work, env=env, check=True, timeout=INSTALL_TIMEOUT)
    # The wheel went in with --no-deps: its own requirements (orjson) must be met all the same.
    subprocess.run(
        [str(python), "-m", "pip", "check"], cwd=work, env=env, check=True, timeout=INSTALL_TIMEOUT
    )

    # The tests and the examples, without the source tree: no python/, no Cargo project, no .venv.
    ignore = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".pytest_cache", ".hypothesis", "*.rs")
    shutil.copytree(REPO / "tests", work / "tests", ignore=ignore)
    shutil.rmtree(work / "tests" / "wheel", ignore_errors=True)
    shutil.copytree(REPO / "examples", work / "examples", ignore=ignore)
    (work / "pytest.ini").write_text(pytest_ini())
    (work / "conftest.py").write_text(PROBE)
    probe = work / "probe.json"

    command = [str(python), "-m", "pytest", "-p", "anyio", "-p", "no:cacheprovider", "--core", "tests"]
    print(f"== in {work}: {' '.join(command)}", flush=True)
    done = subprocess.run(
        command, cwd=work, env=user_env(venv_dir, FERROSOCKET_WHEEL_PROBE=str(probe)), timeout=PYTEST_TIMEOUT
    )

    assert probe.is_file(), f"pytest (exit {done.returncode}) ended before its session finished"
    report: dict[str, Any] = json.loads(probe.read_text())
    print(f"== what the run imported, and its counts: {json.dumps(report)}", flush=True)
    site = venv_dir.resolve()
    for key in ("ferrosocket", "core"):
        imported = Path(report[key]).resolve()
        assert site in imported.parents, f"the tests imported {imported}, not the package installed in {site}"
    assert Path(report["core"]).suffix in (".so", ".pyd"), report["core"]
    stats = report["stats"]
    assert done.returncode == 0, (
        f"pytest failed against the installed wheel (exit {done.returncode}): {stats}"
    )
    assert stats.get("passed", 0) > 0, f"no test passed: {stats}"
    allowed = () if sys.platform == "linux" else (PLATFORM_SKIP,)
    unexpected = [reason for reason in report["skips"] if not reason.startswith(allowed)]
    assert not unexpected, f"tests were skipped: {unexpected}"
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path, help="a ferrosocket wheel, or a directory of wheels")
    parser.add_argument("--work", type=Path, help="an empty work directory outside the source tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ferrosocket-wheel-") as tmp:
        try:
            run(args.target, args.work or Path(tmp) / "user")
        except (AssertionError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    print("the installed wheel passed the test suite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
