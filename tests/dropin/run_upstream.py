"""Starlette's and FastAPI's own WebSocket tests, run with ``ferrosocket.install()`` on.

    python tests/dropin/run_upstream.py [starlette] [fastapi]        (``make dropin``)

For the Starlette and FastAPI versions installed here, it downloads their source distributions
from PyPI (``pip download --no-deps --no-binary :all:``, cached in ``target/dropin/``), extracts
the test files and the few helpers they import into a temporary directory, and runs them there
with pytest, under each project's own pytest configuration (its ``pyproject.toml``: warnings
are errors, strict markers, FastAPI's 20 s timeout) plus ``upstream_plugin.py``. None of the
upstream code is kept in this repository.

Each suite runs three times, in parallel subprocesses: with ``install()`` called before
anything is imported, with ``install()`` called after every test module (with its apps and
routes) is imported, and without the switch (the baseline). The plugin counts, per test, the
``ferrosocket.WebSocket`` objects and the instances of Starlette's own class that were built.

A switched run fails unless: pytest passed; it ran as many test cases as the baseline (and,
for the pinned versions, as many as expected), on asyncio and trio for Starlette; none failed
or errored (upstream tests needing an allowance are listed in ``Suite.allow`` and run as
strict xfails); the switch was still on at the end; no instance of Starlette's class was built;
and every test built exactly as many ``ferrosocket.WebSocket`` objects as it builds Starlette
ones without the switch. A switch that is silently inactive cannot pass.
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@dataclass
class Suite:
    project: str  # the PyPI name
    files: list[str]  # glob patterns inside the sdist (relative to its top directory)
    targets: list[str]  # what pytest runs
    expected: dict[str, int]  # version -> test cases (node ids) it must run, all backends together
    # Upstream tests that need an allowance: node id -> why (run as xfail(strict=True)).
    allow: dict[str, str] = field(default_factory=dict)


SUITES = [
    Suite(
        project="starlette",
        files=[
            "pyproject.toml",
            "tests/__init__.py",
            "tests/conftest.py",
            "tests/types.py",
            "tests/test_websockets.py",
        ],
        targets=["tests/test_websockets.py"],
        expected={"1.10.0": 79},  # 40 tests, 39 of them on asyncio and on trio
    ),
    Suite(
        project="fastapi",
        files=[
            "pyproject.toml",
            "tests/__init__.py",
            "tests/utils.py",
            "tests/test_ws_router.py",
            "tests/test_ws_dependencies.py",
            "tests/test_security_websockets.py",
            "tests/test_dependency_*websockets.py",
            "tests/test_tutorial/__init__.py",
            "tests/test_tutorial/test_websockets/*.py",
            "docs_src/websockets_/*.py",
        ],
        targets=[
            "tests/test_ws_router.py",
            "tests/test_ws_dependencies.py",
            "tests/test_security_websockets.py",
            "tests/test_dependency_*websockets.py",
            "tests/test_tutorial/test_websockets",
        ],
        expected={"0.165.0": 73},
        allow={
            "tests/test_ws_router.py::test_depend_err_middleware": (
                "the test's middleware closes with code 1006, which RFC 6455 reserves: it is never sent "
                "on the wire (servers fail the connection with 1002 or drop it). ferrosocket refuses to "
                "send it with a ValueError before any I/O (docs/differences.md)"
            ),
        },
    ),
]


def log(message: str) -> None:
    print(message, flush=True)


def fetch_sdist(project: str, version: str, cache: Path) -> Path:
    """The sdist of ``project==version``, downloaded once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(project)}-{re.escape(version)}\.tar\.gz$", re.IGNORECASE)
    found = [p for p in cache.iterdir() if pattern.match(p.name)]
    if found:
        return found[0]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--dest",
        str(cache),
        f"{project}=={version}",
    ]
    log(f"  $ {' '.join(command[2:])}")
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    found = [p for p in cache.iterdir() if pattern.match(p.name)]
    if not found:
        raise SystemExit(f"pip download left no {project}-{version}.tar.gz in {cache}")
    return found[0]


def extract(sdist: Path, patterns: list[str], dest: Path) -> list[str]:
    """Extracts the members matching ``patterns`` into ``dest``; returns their paths."""
    import fnmatch

    taken: list[str] = []
    with tarfile.open(sdist) as tar:
        members = tar.getmembers()
        top = members[0].name.split("/")[0]
        for pattern in patterns:
            hits = [
                m
                for m in members
                if m.isfile() and fnmatch.fnmatchcase(m.name.removeprefix(top + "/"), pattern)
            ]
            if not hits:
                raise SystemExit(f"{sdist.name} has no file matching {pattern!r}")
            for member in hits:
                relative = member.name.removeprefix(top + "/")
                target = dest / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
                taken.append(relative)
    return sorted(set(taken))


TIMEOUT = 240  # seconds, for all the pytest runs together (they take about 20 s)
MODES = ("before", "after", "off")  # install() before any import / after collection / no switch


def launch(suite: Suite, workdir: Path, mode: str, report: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(workdir)])
    env["FERROSOCKET_DROPIN_SWITCH"] = mode
    env["FERROSOCKET_DROPIN_REPORT"] = str(report)
    env["FERROSOCKET_DROPIN_ALLOW"] = json.dumps(suite.allow)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    targets = [str(p.relative_to(workdir)) for t in suite.targets for p in sorted(workdir.glob(t))]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "upstream_plugin",
        "-p",
        "anyio",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfEx",
        f"--rootdir={workdir}",
        *targets,
    ]
    return subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def backend_of(nodeid: str) -> str:
    match = re.search(r"\b(asyncio|trio)\b[^\[\]]*\]$", nodeid)
    return match.group(1) if match else "-"


@dataclass
class Run:
    mode: str
    rc: int
    output: str
    report: dict[str, Any] | None


def check_run(suite: Suite, run: Run, baseline: Run) -> list[str]:
    """Prints one switched run's summary; returns its problems."""
    name = f"{suite.project} (install() {run.mode})"
    if run.report is None:
        return [f"{name}: pytest wrote no report (exit {run.rc})"]
    report = run.report
    outcomes: dict[str, str] = report["outcomes"]
    ferro: dict[str, int] = report["ferrosocket"]
    theirs: dict[str, int] = report["starlette"]
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for nodeid, outcome in outcomes.items():
        table[backend_of(nodeid)][outcome] += 1
    built = sum(ferro.values())
    imported = report["imported_at_install"]
    log(
        f"-- install() {run.mode}: {len(outcomes)} test cases, pytest exit {run.rc}; "
        f"{len(imported)} Starlette/FastAPI/test modules were imported at install()"
    )
    for backend in sorted(table):
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(table[backend].items()))
        log(f"   {'backend ' + backend if backend != '-' else 'no backend':<16} {counts}")
    log(
        f"   ferrosocket.WebSocket built: {built} (in {sum(1 for n in ferro.values() if n)} tests); "
        f"Starlette's WebSocket built: {sum(theirs.values())}"
    )

    problems: list[str] = []
    if run.rc != 0:
        problems.append(f"{name}: pytest exited with {run.rc}")
    if not report["installed"]:
        problems.append(f"{name}: ferrosocket.install() was no longer in effect at the end")
    # (Starlette's pytest configuration imports starlette.exceptions for its warning filters.)
    early = [
        m
        for m in imported
        if m in ("starlette.websockets", "starlette.routing", "fastapi")
        or "." in m
        and m.partition(".")[0] in ("tests", "docs_src")
    ]
    if run.mode == "before" and early:
        problems.append(f"{name}: already imported at install(): {', '.join(early)}")
    if run.mode == "after" and not any(m.startswith("tests.") for m in imported):
        problems.append(f"{name}: the test modules were not imported before install()")
    expected = suite.expected.get(importlib.metadata.version(suite.project))
    if baseline.report is not None and len(outcomes) != len(baseline.report["outcomes"]):
        problems.append(
            f"{name}: {len(outcomes)} test cases ran, {len(baseline.report['outcomes'])} without the switch"
        )
    if expected is not None and len(outcomes) != expected:
        problems.append(f"{name}: {len(outcomes)} test cases ran, {expected} expected")
    bad = sorted(n for n, o in outcomes.items() if o not in ("passed", "xfailed"))
    if bad:
        problems.append(f"{name}: not passed: {', '.join(f'{n} ({outcomes[n]})' for n in bad)}")
    stray = sorted(n for n, o in outcomes.items() if o == "xfailed" and n not in suite.allow)
    if stray:
        problems.append(f"{name}: xfailed upstream: {', '.join(stray)}")
    if built == 0:
        problems.append(f"{name}: no ferrosocket.WebSocket was built: the switch is not active")
    if any(theirs.values()):
        where = ", ".join(f"{n} ({c})" for n, c in sorted(theirs.items()) if c)
        problems.append(f"{name}: Starlette's own WebSocket class was built: {where}")
    # One for one: each test builds as many ferrosocket objects as it builds Starlette objects
    # without the switch.
    if baseline.report is not None:
        expected_counts: dict[str, int] = baseline.report["starlette"]
        both = [
            n for n, o in outcomes.items() if o == "passed" and baseline.report["outcomes"].get(n) == "passed"
        ]
        differ = sorted(n for n in both if ferro.get(n, 0) != expected_counts.get(n, 0))
        if differ:
            problems.append(
                f"{name}: WebSocket objects built differ from the baseline: "
                + ", ".join(f"{n} ({ferro.get(n, 0)} vs {expected_counts.get(n, 0)})" for n in differ)
            )
        else:
            log(
                f"   per test, the same number of WebSocket objects as without the switch ({len(both)} tests)"
            )
    if problems:
        log(run.output[-6000:])
    return problems


def check_baseline(suite: Suite, run: Run) -> list[str]:
    if run.report is None:
        return [f"{suite.project} (baseline): pytest wrote no report (exit {run.rc}):\n{run.output[-4000:]}"]
    outcomes = run.report["outcomes"]
    counts = collections.Counter(outcomes.values())
    built = sum(run.report["starlette"].values())
    log(
        f"-- baseline, no switch: {len(outcomes)} test cases, "
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f"; Starlette's WebSocket built: {built}; ferrosocket's: {sum(run.report['ferrosocket'].values())}"
    )
    expected = suite.expected.get(importlib.metadata.version(suite.project), len(outcomes))
    if run.rc != 0 or sum(run.report["ferrosocket"].values()) or len(outcomes) != expected:
        log(run.output[-4000:])
        return [f"{suite.project} (baseline): exit {run.rc}, {len(outcomes)} test cases: the harness is off"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cache", type=Path, default=REPO / "target" / "dropin", help="where the sdists are kept"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("suites", nargs="*", default=[s.project for s in SUITES], help="starlette, fastapi")
    args = parser.parse_args()

    start = time.monotonic()
    chosen = [s for s in SUITES if s.project in args.suites]
    workroot = Path(tempfile.mkdtemp(prefix="ferrosocket-dropin-"))
    problems: list[str] = []
    try:
        running = []
        for suite in chosen:
            version = importlib.metadata.version(suite.project)
            log(f"== {suite.project} {version}: fetching the sdist")
            sdist = fetch_sdist(suite.project, version, args.cache)
            workdir = workroot / suite.project
            files = extract(sdist, suite.files, workdir)
            log(f"   {sdist.name}: {len(files)} files extracted into {workdir}")
            for mode in MODES:
                report = workroot / f"{suite.project}-{mode}.json"
                running.append((suite, version, mode, report, launch(suite, workdir, mode, report)))
        runs: dict[tuple[str, str], Run] = {}
        deadline = time.monotonic() + TIMEOUT
        for suite, _version, mode, report, process in running:
            try:
                output, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
                output += f"\n[killed: the runs took more than {TIMEOUT} s]"
            data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
            runs[suite.project, mode] = Run(mode, process.returncode, output, data)
        for suite in chosen:
            log(f"== {suite.project} {importlib.metadata.version(suite.project)}: {' '.join(suite.targets)}")
            baseline = runs[suite.project, "off"]
            problems += check_baseline(suite, baseline)
            for mode in MODES[:-1]:
                problems += check_run(suite, runs[suite.project, mode], baseline)
            for nodeid, reason in sorted(suite.allow.items()):
                log(f"   allowance: {nodeid}: {reason}")
    finally:
        if args.keep:
            log(f"kept {workroot}")
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    log(f"== drop-in run: {time.monotonic() - start:.1f} s")
    if problems:
        for problem in problems:
            log(f"FAIL {problem}")
        return 1
    log("OK: both suites pass with ferrosocket.install() on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
