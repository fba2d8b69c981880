"""Starlette's and FastAPI's own tests, run with ``ferrosocket.install()`` on, against a stock run.

    python tests/dropin/run_upstream.py [starlette] [fastapi]          (``make dropin``)
    python tests/dropin/run_upstream.py --peers [starlette] [fastapi]  (``make peers``)

For the Starlette and FastAPI versions installed here, it downloads their source distributions
from PyPI (``pip download --no-deps --no-binary :all:``, cached in ``target/dropin/``), extracts
the test files and the few helpers they import into a temporary directory, and runs them there
with pytest, under each project's own pytest configuration (its ``pyproject.toml``: warnings
are errors, strict markers, FastAPI's 20 s timeout) plus ``upstream_plugin.py``. None of the
upstream code is kept in this repository.

Two plans:

* ``dropin``: their WebSocket tests (Starlette's ``tests/test_websockets.py``, FastAPI's
  websocket test files), three runs each: with ``install()`` on from the start of every process,
  with ``install()`` called after every test module (with its apps and routes) is imported, and
  without the switch (the baseline). Every test must pass: upstream tests needing an allowance
  are listed in ``Suite.allow`` and run as strict xfails.
* ``peers``: Starlette's whole ``tests/`` directory and every FastAPI test file that mentions
  websockets, with ``install()`` on from the start of every process and without the switch. No
  allowance: every test whose outcome was passed, skipped or xfailed without the switch must have
  the same outcome with it (tests that fail without the switch, e.g. a permission test run as
  root, are listed and cannot be judged). A test that fails without the switch is re-run alone,
  still without it, first: if it passes then (it timed out on a busy machine) it is judged; a
  test that then differs with the switch is re-run alone with it, and passes the rule only if
  it has its stock outcome there.

In both plans, and before those re-runs, a test that hung (pytest-timeout failed it) is re-run
alone in the same mode until it ends otherwise, ``HUNG_RERUNS`` times at most: FastAPI's chat
tutorial test hangs now and then, stock as often as switched. Every re-run is listed.

"From the start of every process" is ``every_process/sitecustomize.py`` on ``PYTHONPATH``: Python
imports it as it starts, so pytest and every Python subprocess the tests start are switched before
anything else is imported. Each such process writes how many ``ferrosocket.WebSocket`` objects and
instances of Starlette's own class it built; the plugin counts the same per test.

A switched run fails unless: pytest ran as many test cases as the baseline (and, for the pinned
versions, as many as expected), on asyncio and trio for Starlette; the outcomes meet the plan's
rule above; the switch was still on at the end; no instance of Starlette's class was built, in any
process; and every test that passed in both runs built exactly as many ``ferrosocket.WebSocket``
objects as it builds Starlette ones without the switch. A switch that is silently inactive cannot
pass.
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
    # Glob patterns inside the sdist (relative to its top directory); a leading "?" marks one that
    # may match nothing (files that only some releases have: run_matrix.py).
    files: list[str]
    targets: list[str]  # what pytest runs: directories or glob patterns ("?" as for files)
    expected: dict[str, int]  # version -> test cases (node ids) it must run, all backends together
    # Upstream tests that need an allowance: node id -> why (run as xfail(strict=True)).
    allow: dict[str, str] = field(default_factory=dict)
    # Only the target files whose text mentions this (any case); None: every target.
    mentions: str | None = None


@dataclass
class Plan:
    name: str
    suites: list[Suite]
    modes: tuple[str, ...]  # the switched modes ("before", "after"), then "off" (the baseline)
    # True: every test must pass (allowances aside); False: every test that passed, was skipped
    # or xfailed without the switch must have the same outcome with it.
    strict: bool
    timeout: float  # seconds, for all the pytest runs of the plan together
    jobs: int = 0  # pytest processes at a time; 0: all at once


DROPIN = Plan(
    name="dropin",
    modes=("before", "after", "off"),
    strict=True,
    timeout=240,  # they take about 20 s
    suites=[
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
            # No allowance: test_depend_err_middleware closes with 1006 before accept, which
            # ferrosocket sends as Starlette does (the server answers 403; no close frame).
        ),
    ],
)

PEERS = Plan(
    name="peers",
    modes=("before", "off"),
    strict=False,
    timeout=900,
    # A suite's switched and stock runs side by side, one suite after the other: on 2 cores that
    # took 290 s where all four at once took 326 s, and FastAPI's telemetry tests (fresh
    # interpreters, 15 s timeouts) timed out less.
    jobs=2,
    suites=[
        Suite(
            project="starlette",
            files=["pyproject.toml", "tests/*"],
            targets=["tests"],
            expected={"1.10.0": 1416},
        ),
        Suite(
            project="fastapi",
            files=["pyproject.toml", "tests/*", "docs_src/*"],
            targets=["tests/**/test_*.py"],
            mentions="websocket",
            expected={"0.165.0": 794},
        ),
    ],
)

PLANS = {plan.name: plan for plan in (DROPIN, PEERS)}


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
            optional, pattern = pattern.startswith("?"), pattern.removeprefix("?")
            hits = [
                m
                for m in members
                if m.isfile() and fnmatch.fnmatchcase(m.name.removeprefix(top + "/"), pattern)
            ]
            if not hits and not optional:
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


EVERY_PROCESS = HERE / "every_process"  # its sitecustomize.py switches each process as it starts


def select_targets(suite: Suite, workdir: Path) -> list[str]:
    """The paths pytest runs, relative to ``workdir``."""
    paths: list[Path] = []
    for target in suite.targets:
        optional, target = target.startswith("?"), target.removeprefix("?")
        found = sorted(workdir.glob(target))
        if not found and not optional:
            raise SystemExit(f"{suite.project}: no target matches {target!r}")
        paths += found
    if suite.mentions is not None:
        needle = suite.mentions.lower()
        paths = [p for p in paths if needle in p.read_text(encoding="utf-8", errors="replace").lower()]
    return [str(p.relative_to(workdir)) for p in paths]


JUDGED = ("passed", "skipped", "xfailed")  # peers: outcomes without the switch that must not change


@dataclass
class Run:
    suite: Suite
    mode: str  # "before", "after" or "off"
    workdir: Path
    targets: list[str]
    scratch: Path  # the run's report, output and per-process counts
    version: str  # the version of suite.project whose tests these are
    # Directories put on PYTHONPATH before the test files (run_matrix.py: a Starlette and a
    # FastAPI release installed with `pip install --target`); the ones installed here otherwise.
    python_path: list[str] = field(default_factory=list)
    pytest_args: list[str] = field(default_factory=list)  # more options for pytest
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0
    rc: int = -1
    output: str = ""
    report: dict[str, Any] | None = None
    # One record per switched Python process: its argv and how many of each class it built.
    processes: list[dict[str, Any]] = field(default_factory=list)
    # The same switch over some of its tests only, in order (rerun_alone): their outcomes are
    # merged into this run's report where the rule takes them (merge_rerun).
    reruns: list[Run] = field(default_factory=list)
    why: str = ""  # a re-run's: "hung", "mended" or "flaky" (the list it adds its tests to)

    @property
    def name(self) -> str:
        tested = f"{self.suite.project} {self.version}"
        return f"{tested} (install() {self.mode})" if self.mode != "off" else tested

    def start(self) -> None:
        self.scratch.mkdir(parents=True)
        (self.scratch / "processes").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        path = [*self.python_path, str(HERE), str(self.workdir)]
        if self.mode == "before":
            path.insert(0, str(EVERY_PROCESS))
        env["PYTHONPATH"] = os.pathsep.join(path)
        env["FERROSOCKET_DROPIN_SWITCH"] = self.mode
        env["FERROSOCKET_DROPIN_REPORT"] = str(self.scratch / "report.json")
        env["FERROSOCKET_DROPIN_PROCESSES"] = str(self.scratch / "processes")
        env["FERROSOCKET_DROPIN_ALLOW"] = json.dumps(self.suite.allow)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
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
            # pytest's own temporary-directory clean-up can leave a scandir iterator to the
            # garbage collector: under the upstream suites' warnings-as-errors that fails a run
            # now and then, stock or switched alike (seen once in `make dropin`).
            "-W",
            "ignore:unclosed scandir iterator:ResourceWarning",
            f"--rootdir={self.workdir}",
            *self.pytest_args,
            *self.targets,
        ]
        if self.mode == "before":
            # sitecustomize imported Starlette, and so anyio, before pytest started: pytest then
            # warns that it cannot rewrite the asserts of anyio's pytest plugin (an error under
            # the upstream warning filters). The tests' own modules are rewritten as usual.
            command[3:3] = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        with open(self.scratch / "output.txt", "wb") as out:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started = time.monotonic()

    def finish(self, killed: str = "") -> None:
        assert self.process is not None
        if killed:
            self.process.kill()
        self.rc = self.process.wait()
        self.seconds = time.monotonic() - self.started
        self.output = (self.scratch / "output.txt").read_text(encoding="utf-8", errors="replace") + killed
        report = self.scratch / "report.json"
        self.report = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
        for record in sorted((self.scratch / "processes").glob("*.json")):
            self.processes.append(json.loads(record.read_text(encoding="utf-8")))


def run_all(runs: list[Run], jobs: int, timeout: float) -> None:
    """Runs at most ``jobs`` pytest processes at a time, all within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    waiting, running = list(runs), list[Run]()
    while waiting or running:
        while waiting and len(running) < jobs:
            run = waiting.pop(0)
            run.start()
            running.append(run)
        time.sleep(0.2)
        for run in list(running):
            assert run.process is not None
            if run.process.poll() is not None:
                run.finish()
                running.remove(run)
            elif time.monotonic() > deadline:
                run.finish(killed=f"\n[killed: the runs took more than {timeout:.0f} s]")
                running.remove(run)
        if time.monotonic() > deadline:
            for run in waiting:
                run.scratch.mkdir(parents=True, exist_ok=True)
                run.output = f"[not started: the runs took more than {timeout:.0f} s]"
            waiting.clear()


def backend_of(nodeid: str) -> str:
    match = re.search(r"\b(asyncio|trio)\b[^\[\]]*\]$", nodeid)
    return match.group(1) if match else "-"


def summarize(run: Run) -> None:
    assert run.report is not None
    outcomes: dict[str, str] = run.report["outcomes"]
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for nodeid, outcome in outcomes.items():
        table[backend_of(nodeid)][outcome] += 1
    title = "baseline, no switch" if run.mode == "off" else f"install() {run.mode}"
    log(f"-- {title}: {len(outcomes)} test cases, pytest exit {run.rc}, {run.seconds:.0f} s")
    for backend in sorted(table):
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(table[backend].items()))
        log(f"   {'backend ' + backend if backend != '-' else 'no backend':<16} {counts}")
    ferro, theirs = run.report["ferrosocket"], run.report["starlette"]
    log(
        f"   in the pytest process, ferrosocket.WebSocket built: {sum(ferro.values())} "
        f"(in {sum(1 for n in ferro.values() if n)} tests); "
        f"Starlette's WebSocket built: {sum(theirs.values())}"
    )
    if run.processes:
        log(
            f"   in all {len(run.processes)} switched Python processes: ferrosocket.WebSocket built "
            f"{sum(p['ferrosocket'] for p in run.processes)}, Starlette's "
            f"{sum(p['starlette'] for p in run.processes)}"
        )


# A test that hung (pytest-timeout failed it) is re-run alone in the same mode, up to this many
# times, until it ends otherwise; that outcome is then its outcome. FastAPI's chat tutorial test
# (two TestClient sessions, each on its own event-loop thread, one app object between them) hangs
# stock too: a message one loop's thread puts into the other loop's stream can leave that loop
# asleep in select() (anyio's Event.set from a foreign thread). Run in a loop (FastAPI 0.115.14,
# Starlette 0.46.2), stock against switched: on an idle machine it hung 11 times in 1,339 runs
# against 10 in 1,432; beside two busy loops 8 in 534 against 8 in 160, then 10 in 33 against 10
# in 45, then 8 in 11 against 8 in 126. In CI it once hung twice in a row with the switch.
HUNG_RERUNS = 4


def hung_tests(run: Run) -> list[str]:
    """The tests of ``run`` (as merged so far) that pytest-timeout failed."""
    if run.report is None:
        return []
    crashes: dict[str, str] = run.report["crashes"]
    return sorted(
        n for n, o in run.report["outcomes"].items() if o == "failed" and "Timeout (>" in crashes.get(n, "")
    )


def rerun_alone(run: Run, nodeids: list[str], why: str) -> Run:
    """A run of the same switch over ``nodeids`` only (appended to ``run.reruns``)."""
    rerun = Run(
        run.suite,
        run.mode,
        run.workdir,
        nodeids,
        run.scratch.with_name(f"{run.scratch.name}-rerun{len(run.reruns) + 1}"),
        run.version,
        run.python_path,
        run.pytest_args,
        why=why,
    )
    run.reruns.append(rerun)
    return rerun


def merge_rerun(run: Run, rerun: Run, nodeids: list[str]) -> None:
    """``nodeids`` take their outcome, failure and object counts from ``rerun``; each is listed
    under ``rerun.why`` in the run's report with the failure of its first run."""
    report, again = run.report, rerun.report
    if report is None or again is None:
        return
    for nodeid in nodeids:
        if nodeid not in again["outcomes"]:
            continue
        report.setdefault(rerun.why, {}).setdefault(nodeid, report["crashes"].get(nodeid, ""))
        report["outcomes"][nodeid] = again["outcomes"][nodeid]
        report["crashes"].pop(nodeid, None)
        if nodeid in again["crashes"]:
            report["crashes"][nodeid] = again["crashes"][nodeid]
        for counted in ("ferrosocket", "starlette"):
            report[counted][nodeid] = again[counted].get(nodeid, 0)


def rerun_hung(runs: list[Run], timeout: float) -> None:
    """Each test that hung is re-run alone, same switch, until it ends otherwise (``HUNG_RERUNS``
    times at most): listed under ``"hung"`` in its run's report."""
    for _ in range(HUNG_RERUNS):
        again = [(run, rerun_alone(run, hung, "hung")) for run in runs if (hung := hung_tests(run))]
        if not again:
            return
        for run, rerun in again:
            log(f"== {run.name}: re-running alone {len(rerun.targets)} test cases that hung")
        run_all([rerun for _, rerun in again], 1, timeout)
        for run, rerun in again:
            merge_rerun(run, rerun, rerun.targets)


def log_reruns(run: Run) -> list[str]:
    """Lists the tests of ``run`` that were re-run alone and why; returns the re-runs' problems."""
    report = run.report or {}
    for nodeid, first in sorted(report.get("hung", {}).items()):
        times = sum(1 for r in run.reruns if r.why == "hung" and nodeid in r.targets)
        log(
            f"   hung ({first}), re-run alone {times} time{'s' if times > 1 else ''}: "
            f"{nodeid}: {report['outcomes'][nodeid]}"
        )
    return [
        f"{run.name}: a re-run wrote no report (exit {r.rc}):\n{r.output[-4000:]}"
        for r in run.reruns
        if r.report is None
    ]


def check_baseline(plan: Plan, run: Run) -> list[str]:
    suite = run.suite
    if run.report is None:
        return [f"{run.name} (baseline): pytest wrote no report (exit {run.rc}):\n{run.output[-4000:]}"]
    summarize(run)
    outcomes: dict[str, str] = run.report["outcomes"]
    expected = suite.expected.get(run.version, len(outcomes))
    failing = sorted(n for n, o in outcomes.items() if o not in ("passed", "skipped", "xfailed"))
    for nodeid in failing:
        log(f"   fails without the switch: {nodeid}: {run.report['crashes'].get(nodeid, outcomes[nodeid])}")
    problems = log_reruns(run)
    mended = sorted(run.report.get("mended", {}))
    for nodeid in mended:
        log(f"   failed without the switch, passed re-run alone without it (judged as passing): {nodeid}")
    harness_off = sum(run.report["ferrosocket"].values()) or len(outcomes) != expected
    all_mended = run.rc == 1 and bool(mended or run.report.get("hung")) and not failing
    if harness_off or (run.rc != 0 and (plan.strict or not failing) and not all_mended):
        log(run.output[-4000:])
        return [f"{run.name} (baseline): exit {run.rc}, {len(outcomes)} test cases: the harness is off"]
    return problems


def differing(run: Run, baseline: Run) -> list[str]:
    """peers: the tests that passed, skipped or xfailed without the switch, and not so with it."""
    if run.report is None or baseline.report is None:
        return []
    stock: dict[str, str] = baseline.report["outcomes"]
    return sorted(n for n, o in stock.items() if o in JUDGED and run.report["outcomes"].get(n) != o)


def check_run(plan: Plan, run: Run, baseline: Run) -> list[str]:
    """Prints one switched run's summary; returns its problems."""
    suite, name = run.suite, run.name
    if run.report is None:
        return [f"{name}: pytest wrote no report (exit {run.rc}):\n{run.output[-4000:]}"]
    summarize(run)
    report = run.report
    outcomes: dict[str, str] = report["outcomes"]
    ferro: dict[str, int] = report["ferrosocket"]
    stock: dict[str, str] = baseline.report["outcomes"] if baseline.report is not None else {}
    problems: list[str] = []
    if not report["installed"]:
        problems.append(f"{name}: ferrosocket.install() was no longer in effect at the end")
    imported = report["imported_at_install"]
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
    expected = suite.expected.get(run.version)
    if baseline.report is not None and len(outcomes) != len(stock):
        problems.append(f"{name}: {len(outcomes)} test cases ran, {len(stock)} without the switch")
    if expected is not None and len(outcomes) != expected:
        problems.append(f"{name}: {len(outcomes)} test cases ran, {expected} expected")

    problems += log_reruns(run)
    if plan.strict:
        if run.rc != 0 and not (run.rc == 1 and report.get("hung")):
            problems.append(f"{name}: pytest exited with {run.rc}")
        bad = sorted(n for n, o in outcomes.items() if o not in ("passed", "xfailed"))
        stray = sorted(n for n, o in outcomes.items() if o == "xfailed" and n not in suite.allow)
        if stray:
            problems.append(f"{name}: xfailed upstream: {', '.join(stray)}")
    else:
        if run.rc not in (0, 1):
            problems.append(f"{name}: pytest exited with {run.rc}")
        judged = {n: o for n, o in stock.items() if o in JUDGED}
        bad = differing(run, baseline)
        mended = sorted(n for n, o in outcomes.items() if o == "passed" and n in stock and n not in judged)
        for nodeid in mended:
            log(f"   fails without the switch, passes with it: {nodeid}")
        for nodeid, first in sorted(report.get("flaky", {}).items()):
            log(f"   re-run alone with the switch, as without it: {nodeid} (first run: {first})")
        log(
            f"   {len(judged) - len(bad)} of the {len(judged)} test cases that pass (or skip, or xfail) "
            "without the switch do the same with it"
        )
    if bad:
        problems.append(
            f"{name}: not as without the switch ({len(bad)}): "
            + "; ".join(
                f"{n} ({outcomes.get(n, 'missing')}: {report['crashes'].get(n, '')})".replace(": )", ")")
                for n in bad
            )
        )

    built = sum(ferro.values()) + sum(p["ferrosocket"] for p in run.processes)
    if built == 0:
        problems.append(f"{name}: no ferrosocket.WebSocket was built: the switch is not active")
    reruns = run.reruns
    for counted in [report] + [r.report for r in reruns if r.report is not None]:
        if any(counted["starlette"].values()):
            where = ", ".join(f"{n} ({c})" for n, c in sorted(counted["starlette"].items()) if c)
            problems.append(f"{name}: Starlette's own WebSocket class was built: {where}")
    if run.mode == "before":
        if not any("pytest" in " ".join(p["argv"]) for p in run.processes):
            problems.append(f"{name}: the pytest process wrote no count: was it switched as it started?")
        for record in run.processes + [p for r in reruns for p in r.processes]:
            if record["starlette"] or not record["installed"]:
                problems.append(
                    f"{name}: a process built Starlette's WebSocket {record['starlette']} times "
                    f"(switch on at exit: {record['installed']}): {' '.join(record['argv'])}"
                )
    # One for one: each test builds as many ferrosocket objects as it builds Starlette objects
    # without the switch.
    if baseline.report is not None:
        expected_counts: dict[str, int] = baseline.report["starlette"]
        both = [n for n, o in outcomes.items() if o == "passed" and stock.get(n) == "passed"]
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


@dataclass
class Subject:
    """One suite at one release: its tests, and where that release is imported from."""

    suite: Suite
    version: str
    python_path: list[str] = field(default_factory=list)  # see Run.python_path
    label: str = ""  # its directory under the work root (default: the project)
    pytest_args: list[str] = field(default_factory=list)  # see Run.pytest_args


def run_plan(plan: Plan, subjects: list[Subject], cache: Path, workroot: Path, jobs: int) -> list[str]:
    """Runs each subject's tests in each of the plan's modes; returns the problems found."""
    groups: list[list[Run]] = []
    for subject in subjects:
        suite, version, label = subject.suite, subject.version, subject.label or subject.suite.project
        log(f"== {suite.project} {version}: fetching the sdist")
        sdist = fetch_sdist(suite.project, version, cache)
        workdir = workroot / label
        files = extract(sdist, suite.files, workdir)
        targets = select_targets(suite, workdir)
        log(f"   {sdist.name}: {len(files)} files extracted into {workdir}; {len(targets)} targets")
        groups.append(
            [
                Run(
                    suite,
                    mode,
                    workdir,
                    targets,
                    workroot / "runs" / f"{label}-{mode}",
                    version,
                    subject.python_path,
                    subject.pytest_args,
                )
                for mode in plan.modes
            ]
        )
    runs = [run for group in groups for run in group]
    run_all(runs, jobs or plan.jobs or len(runs), plan.timeout)
    rerun_hung(runs, plan.timeout)
    if not plan.strict:
        # Then the tests that failed without the switch, alone and still without it: one that
        # passes then had timed out on a busy machine, and is judged like the others ("mended").
        reruns: list[tuple[Run, Run]] = []
        for group in groups:
            baseline = group[-1]
            failing = sorted(
                n for n, o in (baseline.report or {}).get("outcomes", {}).items() if o not in JUDGED
            )
            if failing:
                log(f"== {baseline.name} (no switch): re-running alone {len(failing)} failed test cases")
                reruns.append((baseline, rerun_alone(baseline, failing, "mended")))
        run_all([rerun for _, rerun in reruns], 1, plan.timeout)
        for baseline, rerun in reruns:
            again = (rerun.report or {}).get("outcomes", {})
            merge_rerun(baseline, rerun, [n for n in rerun.targets if again.get(n) in JUDGED])
        # Last, the tests whose outcome differs with the switch, alone and still with it: a test
        # that really breaks under the switch breaks again; one that timed out on a busy machine
        # has its stock outcome, and is listed ("flaky").
        switched: list[tuple[Run, Run, Run]] = []  # (run, its baseline, its re-run)
        for group in groups:
            baseline = group[-1]
            for run in group[:-1]:
                nodeids = differing(run, baseline)
                if nodeids:
                    log(
                        f"== {run.name}: re-running alone {len(nodeids)} test cases not as without the switch"
                    )
                    switched.append((run, baseline, rerun_alone(run, nodeids, "flaky")))
        run_all([rerun for _, _, rerun in switched], 1, plan.timeout)
        for run, baseline, rerun in switched:
            stock, again = (baseline.report or {})["outcomes"], (rerun.report or {}).get("outcomes", {})
            merge_rerun(run, rerun, [n for n in rerun.targets if again.get(n) == stock[n]])
    problems: list[str] = []
    for group in groups:
        baseline = group[-1]
        suite = baseline.suite
        log(f"== {suite.project} {baseline.version} ({plan.name}): {' '.join(baseline.targets)}")
        problems += check_baseline(plan, baseline)
        for run in group[:-1]:
            problems += check_run(plan, run, baseline)
        for nodeid, reason in sorted(suite.allow.items()):
            log(f"   allowance: {nodeid}: {reason}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cache", type=Path, default=REPO / "target" / "dropin", help="where the sdists are kept"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--peers", action="store_true", help="the peers plan (whole suites) instead of the drop-in one"
    )
    parser.add_argument(
        "--jobs", type=int, default=0, help="pytest processes at a time (default: the plan's)"
    )
    parser.add_argument("suites", nargs="*", help="starlette, fastapi (default: both)")
    args = parser.parse_args()

    plan = PEERS if args.peers else DROPIN
    start = time.monotonic()
    chosen = [s for s in plan.suites if not args.suites or s.project in args.suites]
    subjects = [Subject(suite, importlib.metadata.version(suite.project)) for suite in chosen]
    workroot = Path(tempfile.mkdtemp(prefix=f"ferrosocket-{plan.name}-"))
    try:
        problems = run_plan(plan, subjects, args.cache, workroot, args.jobs)
    finally:
        if args.keep:
            log(f"kept {workroot}")
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    return report(plan.name, start, problems)


def report(name: str, start: float, problems: list[str]) -> int:
    log(f"== {name} run: {time.monotonic() - start:.1f} s")
    if problems:
        for problem in problems:
            log(f"FAIL {problem}")
        return 1
    log(f"OK: with ferrosocket.install() on, every suite passes as without it ({name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
