"""The drop-in suites across the supported Starlette releases (``make dropin-matrix``).

    python tests/dropin/run_matrix.py [--only 0.40.0 ...] [--jobs N]

For each pair below, a Starlette release and the FastAPI release that pins it, installed side by
side with ``pip install --no-deps --target target/dropin-matrix/<starlette>+<fastapi>`` (cached),
it runs that Starlette's own ``tests/test_websockets.py`` and that FastAPI's WebSocket tests (both
from their source distributions, cached in ``target/dropin/``) twice: with ``install()`` on from
the start of every process, and without the switch. The directory goes first on ``PYTHONPATH``;
everything else (pytest, anyio, httpx, pydantic, trio) is this virtualenv's, unless a pair lists
an older release of it to install into the same directory.

The rule (run_upstream.py's ``peers`` rule): every test case that passed (or skipped, or xfailed)
without the switch has the same outcome with it, as many test cases ran as expected for that
release, ferrosocket's class was built and Starlette's never (in any process), and each test built
as many ferrosocket objects as it builds Starlette ones stock. Tests that fail stock are listed.

Then ``diff_eras.py`` runs under each of these Starlette releases, and under the latest patch of
every other minor release in the range (``DIFF_ALSO``): the same calls through the switched class
and through that release's own class, compared result for result.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from run_upstream import DROPIN, HERE, REPO, Plan, Subject, Suite, log, report, run_plan

# Each suite as make dropin runs it; FastAPI's with the files only some releases have made
# optional, and its docs directory under both names (docs_src/websockets/ until 0.134).
STARLETTE = next(s for s in DROPIN.suites if s.project == "starlette")
_FASTAPI = next(s for s in DROPIN.suites if s.project == "fastapi")
_ONLY_SOME = {"tests/test_security_websockets.py", "tests/test_dependency_*websockets.py"}
_RENAMED = {"docs_src/websockets_/*.py": "docs_src/websockets*/*.py"}


def _any_release(patterns: list[str]) -> list[str]:
    return ["?" + p if p in _ONLY_SOME else _RENAMED.get(p, p) for p in patterns]


FASTAPI = Suite("fastapi", _any_release(_FASTAPI.files), _any_release(_FASTAPI.targets), {})


@dataclass
class Pair:
    starlette: str
    fastapi: str
    # Test cases each suite must run (all backends), so that a collection that silently shrank fails.
    expected: tuple[int, int]
    # Options for pytest (both runs), for what the virtualenv's newer packages change.
    pytest_args: list[str] = field(default_factory=list)
    # Other requirements installed into the same directory (releases these tests need).
    extra: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.starlette}+{self.fastapi}"


# The TestClient of Starlette before 1.7 names anyio.abc.BlockingPortal, an alias that anyio 4.15
# deprecated: under the suites' warnings-are-errors every test fails stock with this virtualenv's
# anyio. (An older anyio is no way out: its pytest plugin imports what pytest 9.2 deprecated.)
OLD_TESTCLIENT = ["-W", "ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning"]

# A hung test fails after this (they take well under a second), stock or switched, instead of
# stalling the whole matrix: FastAPI's chat tutorial test (two TestClient sessions, each on its own
# event loop thread, one app object between them) can wait forever for a message sent across the
# loops, stock too, on a busy machine. Such a test is re-run alone until it ends otherwise
# (run_upstream.rerun_hung), then as any other failure: stock first, then switched where the
# outcomes differ.
PER_TEST = ["--timeout", "10"]

# Each Starlette era of docs/migration.md's table, with the FastAPI release that pins it.
PAIRS = [
    Pair("0.40.0", "0.115.5", (75, 51), OLD_TESTCLIENT),  # FastAPI 0.115.3-0.115.5: starlette>=0.40,<0.42
    Pair("0.46.2", "0.115.14", (75, 51), OLD_TESTCLIENT),  # <0.47
    Pair("0.49.3", "0.120.4", (75, 53), OLD_TESTCLIENT),  # <0.50
    Pair("0.52.1", "0.128.8", (75, 52), OLD_TESTCLIENT),  # <1.0
    Pair("1.0.1", "0.135.4", (79, 40), OLD_TESTCLIENT),  # >=0.46 from FastAPI 0.134 on
    Pair("1.5.1", "0.150.0", (79, 73), OLD_TESTCLIENT),
    Pair("1.10.0", "0.165.0", (79, 73)),  # make dropin's
]

MATRIX = Plan(
    name="dropin-matrix",
    modes=("before", "off"),
    strict=False,
    timeout=900,
    jobs=2,  # CI has 2 cores
    suites=[STARLETTE, FASTAPI],
)

CACHE = REPO / "target" / "dropin-matrix"


def installed(label: str, requirements: list[str]) -> Path:
    """``target/dropin-matrix/<label>``, holding ``requirements`` (installed once, without deps)."""
    path = CACHE / label
    complete = path / ".complete"  # holds the requirements installed
    if complete.exists() and complete.read_text(encoding="utf-8").split() == requirements:
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{label}-", dir=CACHE))
    try:
        log(f"  $ pip install --no-deps --target {path.relative_to(REPO)} {' '.join(requirements)}")
        # uv when this venv has it (make venv installs it: a second where pip takes three), else pip.
        if importlib.util.find_spec("uv") is not None:
            pip = [sys.executable, "-m", "uv", "pip", "install", "--python", sys.executable]
        else:
            pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-compile"]
        subprocess.run(
            [*pip, "-q", "--no-deps", "--target", str(staging), *requirements], check=True, timeout=600
        )
        (staging / ".complete").write_text("\n".join(requirements), encoding="utf-8")
        shutil.rmtree(path, ignore_errors=True)
        staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def pair_dir(pair: Pair) -> Path:
    return installed(pair.label, [f"starlette=={pair.starlette}", f"fastapi=={pair.fastapi}", *pair.extra])


# diff_eras.py runs under these releases too (Starlette alone): the latest patch of every minor
# release in the range, and 1.0.0 (the last one that takes any Host header as is).
DIFF_ALSO = [
    "0.41.3", "0.42.0", "0.43.0", "0.44.0", "0.45.3", "0.47.3", "0.48.0", "0.50.0", "0.51.0",
    "1.0.0", "1.1.0", "1.2.1", "1.3.1", "1.4.1", "1.6.0", "1.7.0", "1.8.0", "1.9.0",
]  # fmt: skip


def diff_eras(releases: list[tuple[str, Path]], jobs: int) -> list[str]:
    """diff_eras.py under each (Starlette version, directory), ``jobs`` at a time; the problems."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # It needs no plugin, and loading those installed here takes 8 of its 10 seconds.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-W", "error"]
    command += [f"--rootdir={HERE}", "-c", os.devnull, str(HERE / "diff_eras.py")]
    problems: list[str] = []
    waiting = list(releases)
    running: list[tuple[str, subprocess.Popen[str]]] = []
    while waiting or running:
        while waiting and len(running) < jobs:
            version, path = waiting.pop(0)
            env["PYTHONPATH"] = os.pathsep.join([str(path), str(HERE)])
            process = subprocess.Popen(
                command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            running.append((version, process))
        version, process = running.pop(0)
        output, _ = process.communicate(timeout=300)
        last = output.strip().splitlines()[-1:] or ["(no output)"]
        log(f"== diff_eras.py under Starlette {version}: {last[0]}")
        if process.returncode != 0:
            log(output[-6000:])
            problems.append(
                f"diff_eras.py under Starlette {version}: pytest exited with {process.returncode}"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", default=[], help="Starlette versions (default: every pair)")
    parser.add_argument("--jobs", type=int, default=0, help="pytest processes at a time (default: 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    start = time.monotonic()
    pairs = [p for p in PAIRS if not args.only or p.starlette in args.only]
    if not pairs:
        raise SystemExit(f"no pair for {args.only}: {[p.starlette for p in PAIRS]}")
    subjects: list[Subject] = []
    for pair in pairs:
        path = [str(pair_dir(pair))]
        for suite, version, expected in zip(
            (STARLETTE, FASTAPI), (pair.starlette, pair.fastapi), pair.expected, strict=True
        ):
            # A copy per release, holding that release's expected count.
            mine = Suite(suite.project, suite.files, suite.targets, {version: expected}, suite.allow)
            options = PER_TEST + pair.pytest_args
            subjects.append(Subject(mine, version, path, f"{suite.project}-{version}", options))
    workroot = Path(tempfile.mkdtemp(prefix="ferrosocket-dropin-matrix-"))
    try:
        problems = run_plan(MATRIX, subjects, REPO / "target" / "dropin", workroot, args.jobs)
    finally:
        if args.keep:
            log(f"kept {workroot}")
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    releases = [(pair.starlette, pair_dir(pair)) for pair in pairs]
    if not args.only:
        releases += [(v, installed(f"starlette-{v}", [f"starlette=={v}"])) for v in DIFF_ALSO]
    problems += diff_eras(
        sorted(releases, key=lambda r: [int(n) for n in r[0].split(".")]), args.jobs or MATRIX.jobs
    )
    return report(MATRIX.name, start, problems)


if __name__ == "__main__":
    sys.exit(main())
