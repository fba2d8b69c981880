"""pytest plugin for the upstream suites (loaded with ``-p upstream_plugin`` by run_upstream.py).

It switches ferrosocket on, counts the WebSocket objects built during each test, and writes a JSON report
to ``$FERROSOCKET_DROPIN_REPORT`` at the end:

* ``ferrosocket``: ``ferrosocket.WebSocket`` instances built, per test (node id);
* ``starlette``: instances of Starlette's own ``WebSocket`` class built (its ``__init__`` ran),
  per test: with the switch on there must be none;
* ``outcomes``: the outcome of every test (passed / failed / skipped / xfailed / xpassed / error);
* ``crashes``: for each test that failed or errored, the key line of its (first) traceback;
* ``installed``: whether the switch was still on when the session ended.

``FERROSOCKET_DROPIN_SWITCH`` is ``before`` (the default: install() already ran as the process
started, in ``every_process/sitecustomize.py``, which run_upstream.py puts on ``PYTHONPATH`` so
that every Python subprocess is switched too), ``after`` (install once every test module, with its
apps and routes, has been imported) or ``off`` (no switch, only the counts: the baseline run).

``FERROSOCKET_DROPIN_ALLOW`` (JSON ``{node id: reason}``) marks the upstream tests that need an
allowance as ``xfail(strict=True)``, so an allowance that is no longer needed fails the run.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import threading
from typing import Any

import ferrosocket  # noqa: I001 (before pytest and Starlette, on purpose)

# FERROSOCKET_DROPIN_SWITCH says when to switch: "before" (as the process started: before pytest,
# conftest.py, the test modules, Starlette and FastAPI are imported), "after" (once every test
# module is imported and its apps and routes are built), or "off" (the baseline: counts only).
SWITCH = os.environ.get("FERROSOCKET_DROPIN_SWITCH", "before")
if SWITCH not in ("before", "after", "off"):
    raise ValueError(f"FERROSOCKET_DROPIN_SWITCH={SWITCH!r}: before, after or off")

_WATCHED = ("starlette", "fastapi", "tests", "docs_src")
_at_install: list[str] = []


def _install() -> None:
    _at_install.extend(sorted(m for m in sys.modules if m.partition(".")[0] in _WATCHED))
    ferrosocket.install()


if SWITCH == "before":
    _started: Any = sys.modules.get("sitecustomize")
    if not ferrosocket.installed() or not hasattr(_started, "IMPORTED_AT_INSTALL"):
        raise RuntimeError(
            "FERROSOCKET_DROPIN_SWITCH=before: every_process/sitecustomize.py did not run install() "
            "as the process started (is its directory first on PYTHONPATH?)"
        )
    _at_install.extend(_started.IMPORTED_AT_INSTALL)

import pytest  # noqa: E402
import starlette.websockets  # noqa: E402

_lock = threading.Lock()
_current = "<outside any test>"
_counts: dict[str, collections.Counter[str]] = {
    "ferrosocket": collections.Counter(),
    "starlette": collections.Counter(),
}
_outcomes: dict[str, str] = {}
_crashes: dict[str, str] = {}  # node id -> the key line of its first failure
_allow: dict[str, str] = json.loads(os.environ.get("FERROSOCKET_DROPIN_ALLOW", "{}"))


def _counting(kind: str, init: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        with _lock:
            _counts[kind][_current] += 1
        init(self, *args, **kwargs)

    return __init__


# The app runs in the TestClient's portal thread: the counters are shared, the test is current.
ferrosocket.WebSocket.__init__ = _counting("ferrosocket", ferrosocket.WebSocket.__init__)  # type: ignore[method-assign]
starlette.websockets.WebSocket.__init__ = _counting("starlette", starlette.websockets.WebSocket.__init__)  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    # FastAPI's tests/utils.py marks some tests xdist_group (pytest-xdist registers it; its
    # --strict-markers rejects it when xdist is not installed, and grouping is moot here).
    if not config.pluginmanager.hasplugin("xdist"):
        config.addinivalue_line("markers", "xdist_group(name): pytest-xdist grouping (not installed here)")


def pytest_collection_finish(session: pytest.Session) -> None:
    if SWITCH == "after":
        assert "starlette.websockets" in sys.modules and not ferrosocket.installed()
        _install()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if SWITCH == "off":
        return
    for item in items:
        reason = _allow.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=f"ferrosocket allowance: {reason}", strict=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    global _current
    _current = item.nodeid
    try:
        return (yield)
    finally:
        _current = "<outside any test>"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        if hasattr(report, "wasxfail"):
            outcome = "xpassed" if report.passed else "xfailed"
        elif report.when != "call" and report.failed:
            outcome = "error"
        else:
            outcome = report.outcome
        # A teardown error after a passed call still counts against the test.
        if _outcomes.get(report.nodeid) in (None, "passed") or outcome == "error":
            _outcomes[report.nodeid] = outcome
        if report.failed and report.nodeid not in _crashes:
            crash = getattr(report.longrepr, "reprcrash", None)
            _crashes[report.nodeid] = str(getattr(crash, "message", report.longrepr))[:500]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("FERROSOCKET_DROPIN_REPORT")
    if not path:
        return
    report = {
        "switch": SWITCH,
        # The modules of Starlette, FastAPI and the upstream tests already imported at install().
        "imported_at_install": _at_install,
        "installed": ferrosocket.installed(),
        "exitstatus": int(exitstatus),
        "outcomes": _outcomes,
        "crashes": _crashes,
        "ferrosocket": dict(_counts["ferrosocket"]),
        "starlette": dict(_counts["starlette"]),
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, sort_keys=True)
