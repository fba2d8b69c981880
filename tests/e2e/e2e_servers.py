"""Real servers for the end-to-end tests: each one serves ``e2e_apps:app`` (tests/e2e/e2e_apps.py).

``start_server`` runs one through server_processes.py (its own process group, a free loopback port)
and returns once the app answers HTTP; ``stop`` ends it. The server's stdout and stderr go to a log
file that test_server_log reads and a failed start shows.

Server settings: only what the tests need. The 8 MiB messages fit every server's defaults (uvicorn's
``ws_max_size`` and hypercorn's ``websocket_max_message_size`` are 16 MiB; granian has no setting and
tungstenite's defaults are 64 MiB a message, 16 MiB a frame); the client raises its own 1 MiB
default (see test_servers.py). uvicorn's legacy ``ws="websockets"`` backend warns that it is
deprecated: those warnings are silenced with ``-W`` in that server's command line only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from server_processes import HOST, http_get, launch, stop

__all__ = ["SERVER_NAMES", "Server", "server_argv", "start_server", "stop"]

E2E_DIR = Path(__file__).resolve().parent

SERVER_NAMES = ("uvicorn-sansio", "uvicorn-wsproto", "uvicorn-websockets", "hypercorn", "granian")


def server_argv(name: str, port: int) -> list[str]:
    """The command line that serves ``e2e_apps:app`` (importable through PYTHONPATH) on HOST:port."""
    py = sys.executable
    uvicorn = ["-m", "uvicorn", "--host", HOST, "--port", str(port), "--lifespan", "on"]
    uvicorn += ["--log-level", "warning", "--timeout-graceful-shutdown", "1"]
    if name == "uvicorn-sansio":
        return [py, *uvicorn, "--ws", "websockets-sansio", "e2e_apps:app"]
    if name == "uvicorn-wsproto":
        return [py, *uvicorn, "--ws", "wsproto", "e2e_apps:app"]
    if name == "uvicorn-websockets":
        # websockets.legacy's DeprecationWarning, and uvicorn's own notice (UvicornDeprecationWarning,
        # a UserWarning: -W cannot name a category outside builtins, so match its message).
        notice = "The `websockets` implementation is deprecated"
        quiet = ["-W", "ignore::DeprecationWarning", "-W", f"ignore:{notice}:UserWarning"]
        return [py, *quiet, *uvicorn, "--ws", "websockets", "e2e_apps:app"]
    if name == "hypercorn":
        hypercorn = ["-m", "hypercorn", "--bind", f"{HOST}:{port}", "--workers", "1"]
        return [py, *hypercorn, "--log-level", "WARNING", "--graceful-timeout", "1", "e2e_apps:app"]
    if name == "granian":
        # The app runs in granian's worker process (one worker): the /report side channel is in there.
        granian = ["-m", "granian", "--interface", "asgi", "--host", HOST, "--port", str(port)]
        return [py, *granian, "--workers", "1", "--log-level", "warning", "e2e_apps:app"]
    raise ValueError(f"unknown server {name!r}")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return f"ws://{HOST}:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def answers_ok(port: int) -> bool | None:
    """True once the app answers ``GET /`` with 200 "ok" (the server is up and the app imported)."""
    return True if http_get(port, "/") == (200, b"ok") else None


def start_server(name: str, log_path: Path) -> Server:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(E2E_DIR), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    started = launch(name, lambda port: server_argv(name, port), answers_ok, log_path, cwd=E2E_DIR, env=env)
    return Server(name, started.port, started.process, log_path)
