"""The package's promises about itself: what it imports, what it exports, what its metadata says.

In the core suite: these run against the editable build (make test) and against every installed
wheel (scripts/installed_wheel_tests.py), so each wheel's metadata is checked on its platform.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Mapping
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = "https://github.com/ferrosocket/ferrosocket"
PROJECT_URLS = {
    "Homepage": REPOSITORY,
    "Documentation": f"{REPOSITORY}/blob/main/docs/index.md",
    "Source": REPOSITORY,
    "Changelog": f"{REPOSITORY}/blob/main/CHANGELOG.md",
    "Issues": f"{REPOSITORY}/issues",
}
REQUIRED_CLASSIFIERS = {
    *(f"Programming Language :: Python :: 3.{minor}" for minor in (11, 12, 13, 14)),
    "Typing :: Typed",
    "Framework :: AsyncIO",
    "Framework :: FastAPI",
    "Operating System :: POSIX :: Linux",
    "Operating System :: MacOS",
    "Operating System :: Microsoft :: Windows",
}


def check_metadata(meta: Message | Mapping[str, Any], version: str) -> None:
    """What PyPI and ``pip show`` display: licence, URLs, classifiers, version, dependencies.

    ``meta`` is a distribution's core metadata (``importlib.metadata.metadata()``, or a parsed
    METADATA / PKG-INFO file: tests/wheel/ checks the wheel and the sdist with it)."""
    assert meta["Name"] == "ferrosocket"
    assert meta["Version"] == version
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    urls = dict(entry.split(", ", 1) for entry in meta.get_all("Project-URL") or [])
    assert urls == PROJECT_URLS
    classifiers = set(meta.get_all("Classifier") or [])
    assert REQUIRED_CLASSIFIERS <= classifiers, REQUIRED_CLASSIFIERS - classifiers
    assert meta["Requires-Python"] == ">=3.11"
    requires = meta.get_all("Requires-Dist") or []
    assert [r for r in requires if "extra ==" not in r] == ["orjson>=3.10,<3.12"]
    extras = sorted(r for r in requires if "extra ==" in r)
    assert [r.split(";")[0].strip()[:10] for r in extras] == ["redis>=5.0", "starlette>"], requires
    assert sorted(meta.get_all("Provides-Extra") or []) == ["redis", "starlette"]


def test_imports_without_starlette() -> None:
    # Make `import starlette` (and anything under it) fail, then import ferrosocket and use it.
    code = textwrap.dedent(
        """
        import sys
        for name in ("starlette", "fastapi", "anyio", "httpx2"):
            sys.modules[name] = None
        import ferrosocket
        from ferrosocket import WebSocket, WebSocketState, WebSocketDisconnect, WebSocketDisconnected
        from ferrosocket import WebSocketClose
        ws = WebSocket({"type": "websocket", "path": "/", "headers": []}, None, None)
        assert ws.url == "/" and ws.client_state is WebSocketState.CONNECTING
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("starlette", "fastapi", "anyio")))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['anyio', 'fastapi', 'starlette']"  # only our blocking stubs


def test_runtime_dependencies_are_orjson_only() -> None:
    from importlib.metadata import requires

    # Starlette (the versions the switch supports) and redis (ferrosocket.channels) are extras only.
    required = [r for r in requires("ferrosocket") or [] if "extra ==" not in r]
    assert required == ["orjson>=3.10,<3.12"]
    declared = requires("ferrosocket") or []
    extras = sorted(r.replace(" ", "").replace("'", '"') for r in declared if "extra ==" in r)
    assert extras == ['redis>=5.0;extra=="redis"', 'starlette>=0.40,<1.11;extra=="starlette"']


def test_installed_metadata() -> None:
    from importlib.metadata import metadata

    import ferrosocket

    check_metadata(metadata("ferrosocket"), ferrosocket.__version__)


def test_public_names() -> None:
    import ferrosocket

    for name in ferrosocket.__all__:
        assert getattr(ferrosocket, name) is not None
    assert issubclass(ferrosocket.WebSocketDisconnected, RuntimeError)
    assert ferrosocket.WebSocketDisconnect(code=1001, reason=None).reason == ""


def test_the_gil_stays_on_after_import() -> None:
    # The module declares gil_used = true: on a free-threaded CPython importing it turns the GIL
    # back on (with a RuntimeWarning). Before 3.13 (no sys._is_gil_enabled) there is always a GIL.
    code = "import sys, ferrosocket; print(getattr(sys, '_is_gil_enabled', lambda: True)())"
    env = {key: value for key, value in os.environ.items() if key != "PYTHON_GIL"}
    result = subprocess.run(
        [sys.executable, "-W", "ignore::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert result.stdout.strip() == "True", f"free-threaded build: {free_threaded}; {result}"


def test_typing_fixture_app_runs() -> None:
    # tests/typing/user_app.py is what pyright and mypy check as a user's app (make lint); it
    # must also work: a client with a token sends one JSON message, then leaves.
    path = Path(__file__).parent / "typing" / "user_app.py"
    spec = importlib.util.spec_from_file_location("user_app", path)
    assert spec is not None and spec.loader is not None
    user_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(user_app)
    scope = {
        "type": "websocket",
        "path": "/chat",
        "query_string": b"room=kitchen&tag=a&tag=b",
        "headers": [(b"host", b"example.org:8080"), (b"authorization", b"Bearer t")],
    }
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"n": 1}'},
        {"type": "websocket.disconnect", "code": 1001},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    coroutine = user_app.app(scope, receive, send)
    with pytest.raises(StopIteration):
        coroutine.send(None)  # every await above completes at once
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.send"]
    assert sent[1]["text"] == '{"hello":"kitchen"}'
    assert sent[2]["text"] == '{"echo":{"n":1},"path":"/chat"}'
    assert user_app.describe(user_app.construct(scope, receive, send))["tags"] == ["a", "b"]
    assert user_app.describe(user_app.construct(scope, receive, send))["port"] == 8080
