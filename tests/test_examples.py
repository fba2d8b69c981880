"""Every example in examples/ runs for real: uvicorn serves it in a subprocess on a free loopback
port, real `websockets` clients talk to it, and the replies are checked.

The server's output is kept, and a test fails when it holds a traceback or an error, even if
every reply was right. Every network step has a timeout, and the server is stopped however the
test ends. The tests find the examples next to this directory (`../examples`), so they also run
from a copy of tests/ and examples/ against an installed wheel (tests/wheel/test_wheel.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HOST = "127.0.0.1"
STEP_TIMEOUT = 10.0  # seconds for one step: a connect, a reply, a close
START_TIMEOUT = 30.0  # seconds for uvicorn to import the app and listen
START_ATTEMPTS = 3  # the free port can be taken between our check and uvicorn's bind: retry
TEST_TIMEOUT = 60.0  # seconds for one test's whole conversation

# uvicorn runs in a process group of its own, stopped with SIGTERM/SIGKILL (stop() below).
pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="needs POSIX process groups and signals (os.killpg)"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STEP_TIMEOUT)


@contextlib.contextmanager
def serve(module: str, log_dir: Path) -> Iterator[int]:
    """Serve ``examples/<module>.py``'s ``app`` with uvicorn; yield the port; stop it; check its log."""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        log_path = log_dir / f"{module}-{attempt}.log"
        argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(EXAMPLES), "--host", HOST]
        argv += ["--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "1"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*argv, f"{module}:app"],
                cwd=EXAMPLES,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches any child too
            )
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and not listening(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None and listening(port):
            break
        stop(process)
        output = log_path.read_text(errors="replace")
        if "address already in use" not in output.lower() or attempt == START_ATTEMPTS:
            pytest.fail(f"uvicorn did not start examples/{module}.py:\n{output}")
    try:
        yield port
    finally:
        stop(process)
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output and "ERROR" not in output, f"the server logged an error:\n{output}"


def http_get(port: int, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of GET http://HOST:port/path."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=STEP_TIMEOUT) as response:
            return response.status, response.headers["content-type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read().decode()


def run(coroutine: Any) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(TEST_TIMEOUT):
            return await coroutine

    return asyncio.run(bounded())


async def recv(ws: ClientConnection) -> str | bytes:
    async with asyncio.timeout(STEP_TIMEOUT):
        return await ws.recv()


async def recv_json(ws: ClientConnection) -> Any:
    message = await recv(ws)
    assert isinstance(message, str), f"expected a text frame, got {message!r}"
    return json.loads(message)


def ws_connect(port: int, path: str) -> connect:
    return connect(f"ws://{HOST}:{port}{path}", open_timeout=STEP_TIMEOUT, close_timeout=STEP_TIMEOUT)


def is_ferrosocket_class(name: object) -> bool:
    return isinstance(name, str) and name.startswith("ferrosocket.") and name.endswith(".WebSocket")


# --- examples/raw_asgi_echo.py -----------------------------------------------------------------


def test_raw_asgi_echo(tmp_path: Path) -> None:
    async def talk(port: int) -> None:
        async with ws_connect(port, "/") as ws:
            messages: list[str | bytes] = ["Hello, world!", "héllo wörld 🦀", "", b"\x00\x01\xfe\xff", b""]
            for message in messages:
                await ws.send(message)
                reply = await recv(ws)
                assert type(reply) is type(message) and reply == message  # same frame type, same data
        assert ws.close_code == 1000

    with serve("raw_asgi_echo", tmp_path) as port:
        status, _, body = http_get(port, "/")
        assert (status, body) == (426, "This is a WebSocket endpoint.\n")
        run(talk(port))


# --- examples/starlette_app.py -----------------------------------------------------------------


def test_starlette_app(tmp_path: Path) -> None:
    async def talk(port: int) -> None:
        async with ws_connect(port, "/ws/lobby?nick=ann") as ws:
            greeting = await recv_json(ws)
            assert greeting["room"] == "lobby" and greeting["nick"] == "ann"
            # @ferrosocket.adopt: Starlette's router built a ferrosocket.WebSocket for this route.
            assert is_ferrosocket_class(greeting["websocket"]), greeting
            for message in [{"n": 1, "tags": ["a", "é"]}, [1.5, None, True], "just a string"]:
                await ws.send(json.dumps(message))
                assert await recv_json(ws) == {"room": "lobby", "nick": "ann", "echo": message}
        assert ws.close_code == 1000

    with serve("starlette_app", tmp_path) as port:
        status, content_type, body = http_get(port, "/")
        assert status == 200 and content_type.startswith("text/plain") and "/ws/{room}" in body
        run(talk(port))


# --- examples/fastapi_chat.py ------------------------------------------------------------------


def test_fastapi_chat_broadcasts_to_everyone(tmp_path: Path) -> None:
    async def talk(port: int) -> None:
        async with ws_connect(port, "/chat/alice") as alice:
            welcome = await recv_json(alice)
            assert welcome["event"] == "welcome" and welcome["members"] == ["alice"]
            # ferrosocket.install(): FastAPI's @app.websocket route got a ferrosocket.WebSocket.
            assert is_ferrosocket_class(welcome["websocket"]), welcome
            assert await recv_json(alice) == {"event": "join", "name": "alice"}

            async with ws_connect(port, "/chat/bob") as bob:
                welcome = await recv_json(bob)
                assert welcome["event"] == "welcome" and welcome["members"] == ["alice", "bob"]
                assert await recv_json(bob) == {"event": "join", "name": "bob"}
                assert await recv_json(alice) == {"event": "join", "name": "bob"}

                # A message from one client reaches both, the sender included.
                await alice.send("hi bob 👋")
                expected = {"event": "message", "name": "alice", "text": "hi bob 👋"}
                assert await recv_json(alice) == expected
                assert await recv_json(bob) == expected

                await bob.send("hi alice")
                expected = {"event": "message", "name": "bob", "text": "hi alice"}
                assert await recv_json(bob) == expected
                assert await recv_json(alice) == expected
            assert bob.close_code == 1000

            # bob left: alice is told, and the room goes on without him.
            assert await recv_json(alice) == {"event": "leave", "name": "bob"}
            await alice.send("anyone?")
            assert await recv_json(alice) == {"event": "message", "name": "alice", "text": "anyone?"}

    with serve("fastapi_chat", tmp_path) as port:
        status, content_type, body = http_get(port, "/")
        assert status == 200 and content_type.startswith("text/html") and "ferrosocket chat" in body
        run(talk(port))
