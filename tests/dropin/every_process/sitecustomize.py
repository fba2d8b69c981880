"""``ferrosocket.install()`` at the start of every Python process of a switched upstream run.

run_upstream.py puts this directory on ``PYTHONPATH`` for the runs whose switch is ``before``;
Python imports ``sitecustomize`` as it starts, before ``site`` hands over to the program, so the
pytest process and every Python subprocess the upstream tests start (FastAPI runs some of its
telemetry tests in fresh interpreters) are switched before they import anything else.

Each process counts the ``ferrosocket.WebSocket`` objects and the instances of Starlette's own
class it built, and writes the totals to ``$FERROSOCKET_DROPIN_PROCESSES/<pid>.json`` as it exits:
run_upstream.py checks that Starlette's class was never built in any of them.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from typing import Any

_WATCHED = ("starlette", "fastapi", "tests", "docs_src")
# The Starlette/FastAPI/test modules already imported when install() ran (upstream_plugin reads it).
IMPORTED_AT_INSTALL = sorted(m for m in sys.modules if m.partition(".")[0] in _WATCHED)

import ferrosocket  # noqa: E402

ferrosocket.install()

import starlette.websockets  # noqa: E402

_lock = threading.Lock()
_built = {"ferrosocket": 0, "starlette": 0}


def _counting(kind: str, init: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        with _lock:
            _built[kind] += 1
        init(self, *args, **kwargs)

    return __init__


ferrosocket.WebSocket.__init__ = _counting("ferrosocket", ferrosocket.WebSocket.__init__)  # type: ignore[method-assign]
starlette.websockets.WebSocket.__init__ = _counting("starlette", starlette.websockets.WebSocket.__init__)  # type: ignore[method-assign]


@atexit.register
def _write_counts() -> None:
    directory = os.environ.get("FERROSOCKET_DROPIN_PROCESSES")
    if not directory:
        return
    record = {"argv": sys.argv, "installed": ferrosocket.installed(), **_built}
    with open(os.path.join(directory, f"{os.getpid()}.json"), "w", encoding="utf-8") as fh:
        json.dump(record, fh)
