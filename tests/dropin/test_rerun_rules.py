"""run_upstream's re-run rules, on a small suite of its own: a test that hung is re-run alone until
it ends otherwise (at most ``HUNG_RERUNS`` times), and its outcome is then the re-run's.

The suite runs without the switch (``mode="off"``), through the same pytest command and plugin as
the upstream runs; pytest-timeout stops a hung test after 1 s.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import run_upstream
from run_upstream import Run, Suite, hung_tests, rerun_hung

TESTS = """
import time
from pathlib import Path

def test_passes():
    pass

def test_hangs_once():
    marker = Path(__file__).with_name("hung-once")
    if not marker.exists():
        marker.touch()
        time.sleep(60)

def test_hangs_always():
    time.sleep(60)

def test_fails():
    assert False, "a plain failure"
"""


def a_run(tmp_path: Path) -> Run:
    workdir = tmp_path / "suite"
    workdir.mkdir()
    (workdir / "test_suite.py").write_text(textwrap.dedent(TESTS), encoding="utf-8")
    suite = Suite("suite", files=[], targets=["test_suite.py"], expected={})
    return Run(
        suite, "off", workdir, ["test_suite.py"], tmp_path / "runs" / "suite-off", "0", [], ["--timeout", "1"]
    )


def test_a_hung_test_is_rerun_alone_until_it_ends_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_upstream, "HUNG_RERUNS", 2)
    run = a_run(tmp_path)
    run_upstream.run_all([run], 1, 120)
    assert run.report is not None
    first = dict(run.report["outcomes"])
    assert hung_tests(run) == ["test_suite.py::test_hangs_always", "test_suite.py::test_hangs_once"]

    rerun_hung([run], 120)

    outcomes = run.report["outcomes"]
    assert outcomes["test_suite.py::test_hangs_once"] == "passed"
    assert "test_suite.py::test_hangs_once" not in run.report["crashes"]
    # Still hung after HUNG_RERUNS re-runs: failed, with the last re-run's failure.
    assert outcomes["test_suite.py::test_hangs_always"] == "failed"
    assert "Timeout (>" in run.report["crashes"]["test_suite.py::test_hangs_always"]
    # The tests that did not hang keep their first outcome and are never re-run.
    assert outcomes["test_suite.py::test_passes"] == first["test_suite.py::test_passes"] == "passed"
    assert outcomes["test_suite.py::test_fails"] == first["test_suite.py::test_fails"] == "failed"
    assert [r.targets for r in run.reruns] == [
        ["test_suite.py::test_hangs_always", "test_suite.py::test_hangs_once"],
        ["test_suite.py::test_hangs_always"],
    ]
    assert all(r.why == "hung" and r.report is not None for r in run.reruns)
    # Both listed under "hung" with their first failure.
    assert sorted(run.report["hung"]) == [
        "test_suite.py::test_hangs_always",
        "test_suite.py::test_hangs_once",
    ]
    assert all("Timeout (>" in first for first in run.report["hung"].values())
    assert run_upstream.log_reruns(run) == []
