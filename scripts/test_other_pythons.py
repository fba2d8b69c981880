"""The core suite (``pytest --core``) on every other CPython this machine has.

    python scripts/test_other_pythons.py [--list] [--main PYTHON] [--jobs N]

Finds the CPython interpreters of version 3.11 or later on PATH (``python3.N``, ``python3.Nt``)
and under pyenv (``$(pyenv root)/versions/*``), one per version and build (free-threaded builds
count apart), leaving out the main one (``--main``, default: the interpreter running this
script, i.e. .venv's). For each, in order of version:

1. a virtual environment ``.venv-<version>`` in the repository (kept between runs; its
   requirements are re-installed only when requirements/build.txt or tests-core.txt changed; by
   uv from the main venv when it has it, else by pip);
2. ``maturin build --profile fast`` for it (the builds one after the other), with a Cargo
   target directory of its own (``target/py<version>``), so the builds for different
   interpreters do not evict each other, and ``pip install`` of that wheel: not ``maturin
   develop``, which would leave the other interpreters' extension modules in
   python/ferrosocket/ next to the main one;
3. ``pytest -p anyio --core`` (``--jobs`` interpreters at a time, default 2: pytest uses one
   core; each run's output is printed whole when it ends) with the hypothesis profile ``quick``
   (HYPOTHESIS_PROFILE, unless set): the full profile runs on the main interpreter (``make
   test``); here the point is each interpreter's own behaviour.

Exits non-zero when any of them fails, or when pytest collects no test. Stdlib only.
``make test-pythons`` runs it; so does .ci/run.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = [REPO / "requirements" / "build.txt", REPO / "requirements" / "tests-core.txt"]
TAIL_LINES = 60  # of a failed run's output, repeated at the end
OLDEST = (3, 11)  # pyproject.toml's requires-python
PROBE = (
    "import platform, sys, sysconfig; "
    "print(platform.python_implementation(), sys.version_info[0], sys.version_info[1], "
    "int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))), sys.executable)"
)


@dataclass(frozen=True)
class Interpreter:
    version: tuple[int, int]
    free_threaded: bool
    executable: str

    @property
    def name(self) -> str:
        return f"{self.version[0]}.{self.version[1]}{'t' if self.free_threaded else ''}"


def probe(executable: str) -> Interpreter | None:
    """What ``executable`` is, or None if it does not run (a pyenv shim of a version that is not
    active, a broken link) or is not CPython."""
    try:
        done = subprocess.run(
            [executable, "-c", PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = done.stdout.split(maxsplit=4)
    if done.returncode != 0 or len(fields) != 5 or fields[0] != "CPython":
        return None
    return Interpreter((int(fields[1]), int(fields[2])), fields[3] == "1", fields[4].strip())


def candidates() -> list[str]:
    found: list[str] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        found += sorted(glob.glob(os.path.join(directory, "python3.[0-9]*")))
    pyenv = shutil.which("pyenv")
    root = os.environ.get("PYENV_ROOT") or (
        subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        if pyenv
        else ""
    )
    if root:
        found += sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python3")))
    # python3.12-config and the like are not interpreters.
    return [path for path in found if re.search(r"python3\.\d+t?$|python3$", path)]


def discover(main: Interpreter) -> list[Interpreter]:
    by_name: dict[str, Interpreter] = {}
    for path in candidates():
        found = probe(path)
        if found is None or found.version < OLDEST or found.name == main.name:
            continue
        by_name.setdefault(found.name, found)
    return sorted(by_name.values(), key=lambda i: (i.version, i.free_threaded))


def run(command: list[str], **kwargs: object) -> None:
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def prepare(interpreter: Interpreter) -> Path:
    """The interpreter's venv, with the core test requirements and ferrosocket built into it."""
    venv = REPO / f".venv-{interpreter.name}"
    python = venv / "bin" / "python"
    if not python.exists():
        run([interpreter.executable, "-m", "venv", str(venv)])
    stamp = venv / ".requirements-core.installed"
    wanted = "".join(path.read_text() for path in REQUIREMENTS)
    if not stamp.exists() or stamp.read_text() != wanted:
        install(python, [arg for path in REQUIREMENTS for arg in ("-r", str(path))])
        stamp.write_text(wanted)
    env = dict(
        os.environ,
        VIRTUAL_ENV=str(venv),
        PYO3_PYTHON=str(python),
        CARGO_TARGET_DIR=str(REPO / "target" / f"py{interpreter.name}"),
    )
    wheels = REPO / "target" / f"py{interpreter.name}" / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    maturin = [str(venv / "bin" / "maturin"), "build", "--profile", "fast", "--interpreter", str(python)]
    run([*maturin, "--out", str(wheels)], cwd=REPO, env=env)
    (wheel,) = wheels.glob("ferrosocket-*.whl")
    install(python, ["--no-deps", "--reinstall", str(wheel)])
    return python


def install(python: Path, arguments: list[str]) -> None:
    """``pip install`` into ``python``'s venv, done by uv from the main venv when it has uv
    (make venv installs it: several times faster), else by that venv's pip."""
    if importlib.util.find_spec("uv") is not None:
        run([sys.executable, "-m", "uv", "pip", "install", "-q", "--python", str(python), *arguments])
    else:
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        arguments = ["--force-reinstall" if a == "--reinstall" else a for a in arguments]
        run([*pip, "-q", *arguments])


@dataclass
class SuiteRun:
    """One interpreter's pytest, running in the background, its output kept in a file."""

    name: str
    process: subprocess.Popen[bytes]
    output: Path
    started: float


def start_tests(name: str, command: list[str], env: dict[str, str], output: Path) -> SuiteRun:
    print(f"$ {' '.join(command)}  (CPython {name}, in the background)", flush=True)
    with output.open("wb") as sink:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
    return SuiteRun(name, process, output, time.monotonic())


def finish_tests(run: SuiteRun) -> tuple[int, list[str], float]:
    """Waits for the run; prints its whole output; returns its exit status, the last lines of
    its output and how long it took."""
    returncode = run.process.wait()
    seconds = time.monotonic() - run.started
    text = run.output.read_text(errors="replace")
    print(f"== CPython {run.name}: pytest --core output", flush=True)
    sys.stdout.write(text)
    sys.stdout.flush()
    return returncode, text.splitlines(keepends=True)[-TAIL_LINES:], seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="only list the interpreters found")
    parser.add_argument("--main", default=sys.executable, help="the main interpreter, left out")
    parser.add_argument("--jobs", type=int, default=2, help="test suites at a time (default 2)")
    args = parser.parse_args()
    main_interpreter = probe(args.main)
    if main_interpreter is None:
        print(f"{args.main} is not a CPython that runs", file=sys.stderr)
        return 2
    others = discover(main_interpreter)
    print(
        f"main CPython {main_interpreter.name} ({main_interpreter.executable}); others found: "
        + (", ".join(f"{i.name} ({i.executable})" for i in others) or "none"),
        flush=True,
    )
    if args.list:
        return 0
    env = dict(os.environ)
    env.setdefault("HYPOTHESIS_PROFILE", "quick")
    results: list[tuple[str, str, float]] = []
    failures: list[tuple[str, list[str]]] = []
    # The builds one after the other (each uses every core), then the suites side by side, at
    # most --jobs at a time (pytest uses one core).
    ready: list[tuple[Interpreter, Path, float]] = []
    for interpreter in others:
        print(f"== CPython {interpreter.name}: build", flush=True)
        start = time.monotonic()
        try:
            ready.append((interpreter, prepare(interpreter), time.monotonic() - start))
        except subprocess.CalledProcessError as exc:
            results.append((interpreter.name, f"set-up failed (exit {exc.returncode})", 0.0))
    with tempfile.TemporaryDirectory(prefix="ferrosocket-pythons-") as directory:
        waiting = list(ready)
        running: list[tuple[SuiteRun, float]] = []
        while waiting or running:
            while waiting and len(running) < args.jobs:
                interpreter, python, setup = waiting.pop(0)
                command = [str(python), "-m", "pytest", "-p", "anyio", "--core", "-q"]
                output = Path(directory) / f"{interpreter.name}.log"
                running.append((start_tests(interpreter.name, command, env, output), setup))
            test_run, setup = running.pop(0)
            returncode, tail, seconds = finish_tests(test_run)
            outcome = "passed" if returncode == 0 else f"FAILED (pytest exit {returncode})"
            if returncode != 0:
                failures.append((test_run.name, tail))
            results.append((test_run.name, f"{outcome}; set-up {setup:.0f} s", seconds))
    for name, tail in failures:
        # Repeated here, at the end, where a CI log that keeps only its last part still shows
        # it (a crash's "Fatal Python error" and traceback, faulthandler's, is among them).
        print(f"== CPython {name}: the end of its pytest output")
        print("".join(tail), end="")
    print("== the core suite on the other CPythons")
    for name, outcome, seconds in results:
        print(f"CPython {name}: {outcome}, tests {seconds:.0f} s")
    return 0 if all(outcome.startswith("passed") for _, outcome, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
