"""pytest configuration for the benchmarks (benches/): run order and what goes into the JSON.

* ``FERRO_BENCH_REVERSE=1`` runs the benchmarks in reverse order. ``report.py`` alternates it
  between processes so that a drift over a run (CPU frequency, a neighbour's load) does not
  always favour the variant measured first.
* ``ferrosocket_file``: where the extension was imported from (``report.py`` checks it is its
  snapshot of the package, not a build someone swapped in meanwhile).
* ``PYTHONHASHSEED`` (``report.py`` sets one per process) is recorded in the JSON's machine info:
  dict lookups cost 17-41 ns depending on it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("FERRO_BENCH_REVERSE", "") not in ("", "0"):
        items.reverse()


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    machine_info["pythonhashseed"] = os.environ.get("PYTHONHASHSEED", "random")
    machine_info["ferro_bench_quick"] = os.environ.get("FERRO_BENCH_QUICK", "")
    import ferrosocket._core

    machine_info["ferrosocket_file"] = ferrosocket._core.__file__
