"""Import order: install() before or after Starlette, FastAPI and the app's modules are imported.

Each case runs in a fresh interpreter, so that "before" really is before anything is imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The app's module: it imports the names the way apps do (Starlette's and FastAPI's), declares
# its routes at import time, and holds on to the classes it imported.
APP = """
from fastapi import FastAPI, WebSocket as FastAPIWebSocket, WebSocketDisconnect as FastAPIDisconnect
from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

seen = []


async def starlette_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    assert isinstance(websocket, WebSocket)
    assert websocket.client_state == WebSocketState.CONNECTED
    try:
        await websocket.receive_text()
    except WebSocketDisconnect as exc:
        seen.append(("starlette", type(websocket).__module__, exc.code))


class Endpoint(WebSocketEndpoint):
    async def on_connect(self, websocket: WebSocket) -> None:
        seen.append(("endpoint", type(websocket).__module__, None))
        await websocket.accept()


async def raw_asgi(scope, receive, send) -> None:
    websocket = WebSocket(scope, receive, send)  # user code building its own
    seen.append(("raw", type(websocket).__module__, None))
    await websocket.accept()
    await websocket.close()


starlette_app = Starlette(
    routes=[WebSocketRoute("/ws", starlette_endpoint), WebSocketRoute("/cls", Endpoint)]
)
fastapi_app = FastAPI()


@fastapi_app.websocket("/ws")
async def fastapi_endpoint(websocket: FastAPIWebSocket) -> None:
    await websocket.accept()
    try:
        await websocket.receive_text()
    except FastAPIDisconnect as exc:
        seen.append(("fastapi", type(websocket).__module__, exc.code))
"""

DRIVE = """
def drive():
    from starlette.testclient import TestClient
    import app
    app.seen.clear()
    for asgi, path in (
        (app.starlette_app, "/ws"),
        (app.starlette_app, "/cls"),
        (app.fastapi_app, "/ws"),
        (app.raw_asgi, "/"),
    ):
        with TestClient(asgi).websocket_connect(path) as ws:
            if path == "/ws":
                ws.close(code=4000)
    return list(app.seen)


FERRO = "ferrosocket.websockets"
SWITCHED = [
    ("starlette", FERRO, 4000), ("endpoint", FERRO, None), ("fastapi", FERRO, 4000), ("raw", FERRO, None)
]
STARLETTE = [(kind, "starlette.websockets", code) for kind, _, code in SWITCHED]
"""


def run(tmp_path: Path, script: str) -> str:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "main.py").write_text(DRIVE + textwrap.dedent(script))
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_install_before_any_import(tmp_path: Path) -> None:
    run(
        tmp_path,
        """
        import sys
        import ferrosocket
        ferrosocket.install()
        assert "fastapi" not in sys.modules and "app" not in sys.modules
        assert drive() == SWITCHED, drive()
        """,
    )


def test_install_after_the_app_is_imported_and_served(tmp_path: Path) -> None:
    run(
        tmp_path,
        """
        import app
        assert drive() == STARLETTE, drive()  # the middleware stacks are built by now
        import ferrosocket
        ferrosocket.install()
        assert drive() == SWITCHED, drive()
        ferrosocket.uninstall()
        assert drive() == STARLETTE, drive()
        """,
    )


def test_install_without_starlette_says_so(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        import sys
        sys.modules["starlette"] = None  # as if it were not installed
        import ferrosocket
        try:
            ferrosocket.install()
        except ImportError as exc:
            print(exc)
        else:
            raise AssertionError("install() without Starlette did not raise")
        assert not ferrosocket.installed()
        """,
    )
    assert "Starlette is not importable" in out


@pytest.mark.parametrize("where", ["before", "after"])
def test_adopt_in_either_order(tmp_path: Path, where: str) -> None:
    imports = "import app\nimport ferrosocket\n" if where == "after" else "import ferrosocket\nimport app\n"
    run(
        tmp_path,
        imports
        + """
adopted = ferrosocket.adopt(app.starlette_endpoint)
assert drive()[0] == ("starlette", FERRO, 4000)  # adopted
assert drive()[2] == ("fastapi", "starlette.websockets", 4000)  # not adopted
""",
    )
