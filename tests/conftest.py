"""Shared fixtures for the differential tests: ferrosocket against its executable specification.

The specification is ``tests/reference.py``: Starlette 1.10.0's classes, subclassed where
docs/differences.md documents a deliberate difference.

* ``impls``: the pair ``(ref, sut)``; ``ref`` is the reference, ``sut`` is ferrosocket.  The real
  ferrosocket is imported, and a missing module makes every differential test fail (never skip).
  ``FERROSOCKET_DIFF_SELFTEST=1`` substitutes the reference for ferrosocket: a self-test of the
  harness, in which every differential test must pass.
* ``starlette_vs_reference``: the pair ``(Starlette 1.10.0, reference)``, for the tests that check
  that the reference equals Starlette wherever no documented difference applies (in every mode).
* ``anyio_backend``: asyncio and trio, for ``@pytest.mark.anyio`` tests and for the hypothesis tests,
  which drive their coroutines with ``anyio.run(fn, backend=anyio_backend)``.
* ``diff_counter``: counts the differential examples run; printed at the end of the session.
* Hypothesis profiles: "ci" (default), "thorough", "quick"; choose with ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import collections
import importlib
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Make the `strategies` package and `differential` importable by the test modules whatever the import mode.
sys.path.insert(0, str(Path(__file__).parent))

SELFTEST_ENV = "FERROSOCKET_DIFF_SELFTEST"
SELFTEST = os.environ.get(SELFTEST_ENV, "") not in ("", "0")

PUBLIC_NAMES = (
    "WebSocket",
    "WebSocketState",
    "WebSocketDisconnect",
    "WebSocketDisconnected",
    "WebSocketClose",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "URL",
    "Address",
    "State",
)

# --- Hypothesis profiles ----------------------------------------------------------------------
_common: dict[str, Any] = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize=False,
    print_blob=True,
)
settings.register_profile("ci", max_examples=100, **_common)
settings.register_profile("quick", max_examples=20, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.register_profile("exhaustive", max_examples=10000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --- The implementations ----------------------------------------------------------------------
def _starlette_namespace() -> types.SimpleNamespace:
    import starlette.datastructures as sd
    import starlette.websockets as sw

    return types.SimpleNamespace(
        WebSocket=sw.WebSocket,
        WebSocketState=sw.WebSocketState,
        WebSocketDisconnect=sw.WebSocketDisconnect,
        WebSocketDisconnected=sw.WebSocketDisconnected,
        WebSocketClose=sw.WebSocketClose,
        Headers=sd.Headers,
        MutableHeaders=sd.MutableHeaders,
        QueryParams=sd.QueryParams,
        URL=sd.URL,
        Address=sd.Address,
        State=sd.State,
    )


def load_sut() -> Any:
    """ferrosocket, or (self-test) the reference.  Never skips."""
    if SELFTEST:
        return importlib.import_module("reference")
    try:
        module = importlib.import_module("ferrosocket")
    except ImportError as exc:
        raise RuntimeError(
            "ferrosocket is not importable, so the differential tests cannot run "
            f"(set {SELFTEST_ENV}=1 only to self-test the harness against the reference): {exc!r}"
        ) from exc
    return module


class ImplPair(tuple):  # type: ignore[type-arg]
    """(ref, sut) with their labels, and a short repr for hypothesis' falsifying-example reports."""

    labels: tuple[str, str]

    def __new__(cls, ref: Any, sut: Any, labels: tuple[str, str]) -> ImplPair:
        pair = super().__new__(cls, (ref, sut))
        pair.labels = labels
        return pair

    def __repr__(self) -> str:
        return f"<{self.labels[0]} vs {self.labels[1]}>"


SUT_LABEL = "reference (self-test)" if SELFTEST else "ferrosocket"


@pytest.fixture(scope="session")
def impls() -> ImplPair:
    return ImplPair(importlib.import_module("reference"), load_sut(), ("reference", SUT_LABEL))


@pytest.fixture(scope="session")
def starlette_vs_reference() -> ImplPair:
    return ImplPair(_starlette_namespace(), importlib.import_module("reference"), ("starlette", "reference"))


@pytest.fixture(scope="session", params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- Example counter --------------------------------------------------------------------------
class DiffCounter:
    def __init__(self) -> None:
        self.by_kind: collections.Counter[str] = collections.Counter()

    def __repr__(self) -> str:
        return "<diff counter>"

    def add(self, kind: str) -> None:
        self.by_kind[kind] += 1

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


_COUNTER = pytest.StashKey[DiffCounter]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_COUNTER] = DiffCounter()


@pytest.fixture(scope="session")
def diff_counter(request: pytest.FixtureRequest) -> DiffCounter:
    return request.config.stash[_COUNTER]


def pytest_report_header(config: pytest.Config) -> list[str]:
    mode = (
        "SELF-TEST: the reference against itself"
        if SELFTEST
        else "ferrosocket against the reference (Starlette 1.10.0 + docs/differences.md)"
    )
    return [
        f"differential tests: {mode}; hypothesis profile {os.environ.get('HYPOTHESIS_PROFILE', 'ci')!r} "
        f"(max_examples={settings.default.max_examples})"
    ]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    counter = config.stash.get(_COUNTER, None)
    if counter is None or not counter.total:
        return
    detail = ", ".join(f"{kind}: {n}" for kind, n in sorted(counter.by_kind.items()))
    mode = " (SELF-TEST: the reference against itself)" if SELFTEST else ""
    terminalreporter.write_line(f"differential examples run: {counter.total}{mode} [{detail}]")


# --- The core suite ---------------------------------------------------------------------------
# `pytest --core`: the Rust-backed datastructures, the WebSocket's behaviour and its conformance
# with Starlette, needing only requirements/tests-core.txt (packages every platform has). It is
# what each built wheel is tested with on every platform (scripts/installed_wheel_tests.py) and
# what .ci/run runs on every CPython besides the main one. Paths relative to tests/.
CORE_SUITE = frozenset(
    {
        "test_client_address.py",
        "test_comparisons.py",
        "test_copy_pickle.py",
        "test_diff_datastructures.py",
        "test_diff_edge_cases.py",
        "test_diff_websocket.py",
        "test_hardening.py",
        "test_headers_cache.py",
        "test_json_compat.py",
        "test_json_scans.py",
        "test_memory.py",
        "test_no_panic.py",
        "test_packaging.py",
        "test_reentrancy.py",
        "test_trust.py",
        "test_url_slots.py",
        "test_websocket.py",
        "dropin/test_dropin_order.py",
        "dropin/test_dropin_switch.py",
    }
)
TESTS_DIR = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--core",
        action="store_true",
        help="collect only the core suite (CORE_SUITE in tests/conftest.py: requirements/tests-core.txt)",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption("core"):
        return None
    try:
        relative = collection_path.resolve().relative_to(TESTS_DIR).as_posix()
    except ValueError:
        return None
    if relative == ".":
        return None
    if collection_path.is_dir():
        return not any(name.startswith(f"{relative}/") for name in CORE_SUITE) or None
    return relative not in CORE_SUITE or None
