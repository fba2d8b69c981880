"""Real servers for the end-to-end tests: each one serves ``e2e_apps:app`` (tests/e2e/e2e_apps.py).

``start_server`` runs one in a subprocess of its own (in its own process group: granian and hypercorn
have worker processes), on a free loopback port, and returns once the app answers HTTP; ``stop``
ends it (SIGTERM to the group, then SIGKILL after STOP_TIMEOUT). The server's stdout and stderr go
to a log file that test_server_log reads and a failed start shows.

Server settings: only what the tests need. The 8 MiB messages fit every server's defaults (uvicorn's
``ws_max_size`` and hypercorn's ``websocket_max_message_size`` are 16 MiB; granian has no setting and
tungstenite's defaults are 64 MiB a message, 16 MiB a frame); the client raises its own 1 MiB
default (see test_servers.py). uvicorn's legacy ``ws="websockets"`` backend warns that it is
deprecated: those warnings are silenced with ``-W`` in that server's command line only.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

E2E_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds for a server to answer its first HTTP request
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
START_ATTEMPTS = 3  # a free port can be taken between our check and the server's bind: retry

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def answers_http(port: int) -> bool:
    """True once the app answers ``GET /`` with 200 "ok" (the server is up and the app imported)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status == 200 and response.read() == b"ok"
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def has_exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the server's main process has exited, *without* reaping it: until stop() reaps it, its
    pid, which is also its process group's id, cannot be reused, so stop() signals only our processes."""
    if process.returncode is not None:
        return True
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it is still there after STOP_TIMEOUT, SIGKILL
    whatever is left of the group (workers of a main process that died first), then reap the main."""
    if process.returncode is not None:
        return  # reaped already (stop() ran): its pid is no longer ours to signal
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT
        while not has_exited(process) and time.monotonic() < deadline:
            time.sleep(0.01)
        if has_exited(process):
            break
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_TIMEOUT)


def start_server(name: str, log_path: Path) -> Server:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(E2E_DIR), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    for attempt in range(START_ATTEMPTS):
        if attempt:
            time.sleep(1.0)  # e.g. ferrosocket being rebuilt into the venv at that moment
        port = free_port()
        with log_path.open("ab") as log:
            log.write(f"=== {name} on port {port}\n".encode())
            log.flush()
            process = subprocess.Popen(
                server_argv(name, port),
                cwd=E2E_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for stop()
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not has_exited(process) and time.monotonic() < deadline:
                if answers_http(port):
                    return Server(name, port, process, log_path)
                time.sleep(0.02)
        except BaseException:
            stop(process)
            raise
        stop(process)
        if time.monotonic() >= deadline:
            break  # it hung rather than died: another port will not help
    raise RuntimeError(f"{name} did not start; its log:\n{log_path.read_text(errors='replace')}")
