"""Start and stop a real server as a child process: shared by the end-to-end tests (e2e_servers.py)
and the load test (benches/loadtest/servers.py, which puts this directory on ``sys.path``).

``launch`` runs a command line in a process group of its own (granian and hypercorn have worker
processes) on a free loopback port, with stdout and stderr appended to a log file, and returns once
``ready(port)`` says the app answers; it retries on another port when the server dies at start (a
free port can be taken between our check and the server's bind). ``stop`` ends the group: SIGTERM,
then SIGKILL after STOP_TIMEOUT. Only the processes started here are ever signalled.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds for a server to answer its first request
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
START_ATTEMPTS = 3
LOG_TAIL = 5000  # characters of the server's log a failed start shows

T = TypeVar("T")


@dataclass
class Launched(Generic[T]):
    process: subprocess.Popen[bytes]
    port: int
    ready: T  # what ``ready(port)`` returned
    log_offset: int  # where this server's lines start in the log file


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str) -> tuple[int, bytes] | None:
    """``GET path`` on HOST:port: (status, body), or None when nothing answers."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
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


def launch(
    label: str,
    argv: Callable[[int], list[str]],
    ready: Callable[[int], T | None],
    log_path: Path,
    *,
    cwd: Path,
    env: Mapping[str, str],
    preexec_fn: Callable[[], None] | None = None,
) -> Launched[T]:
    """Start ``argv(port)`` and wait until ``ready(port)`` gives something other than None."""
    for attempt in range(START_ATTEMPTS):
        if attempt:
            time.sleep(1.0)  # e.g. ferrosocket being rebuilt into the venv at that moment
        port = free_port()
        with log_path.open("ab") as log:
            offset = log.tell()
            log.write(f"=== {label} on port {port}\n".encode())
            log.flush()
            process = subprocess.Popen(
                argv(port),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for stop()
                preexec_fn=preexec_fn,  # noqa: PLW1509 - the callers start no threads
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not has_exited(process) and time.monotonic() < deadline:
                answer = ready(port)
                if answer is not None:
                    return Launched(process, port, answer, offset)
                time.sleep(0.02)
        except BaseException:
            stop(process)
            raise
        stop(process)
        if time.monotonic() >= deadline:
            break  # it hung rather than died: another port will not help
    log_text = log_path.read_text(errors="replace")[-LOG_TAIL:]
    raise RuntimeError(f"{label} did not start; its log:\n{log_text}")
