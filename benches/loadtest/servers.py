"""The servers under load: their command lines, start and stop (tests/e2e/server_processes.py,
shared with the end-to-end tests), and the CPU time and memory of their process group.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .system import no_address_randomisation, prioritise

BENCHES = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCHES.parent / "tests" / "e2e"))

from server_processes import HOST, http_get, launch, stop  # noqa: E402

__all__ = ["HOST", "Reading", "Server", "gc_delta", "gc_stats", "read_group", "start_server", "stop"]

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def server_argv(server: str, port: int) -> list[str]:
    py = sys.executable
    if server == "uvicorn":
        return [
            *(py, "-m", "uvicorn", "--host", HOST, "--port", str(port)),
            *("--ws", "websockets-sansio", "--loop", "asyncio", "--lifespan", "on"),
            *("--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2"),
            *("--backlog", "4096", "load_apps:app"),
        ]
    if server == "granian":
        # --backpressure: granian serves at most this many requests at once per worker (default
        # backlog/workers = 1024), and a WebSocket is a request for as long as it is open.
        return [
            *(py, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", str(port)),
            *("--workers", "1", "--loop", "asyncio", "--log-level", "warning", "--no-access-log"),
            *("--backlog", "4096", "--backpressure", "65536", "load_apps:app"),
        ]
    raise ValueError(f"unknown server {server!r}")


@dataclass
class Reading:
    cpu: float  # seconds, user + sys, summed over the group
    rss: int  # bytes, summed over the group
    processes: int


def read_group(pgid: int) -> Reading:
    """CPU time and RSS of every process in process group ``pgid`` (the server and its workers)."""
    ticks = rss_pages = count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
            fields = stat[stat.rindex(b")") + 2 :].split()
            if int(fields[2]) != pgid:  # fields[0] is field 3 (state): pgrp is field 5
                continue
            statm = Path(f"/proc/{entry}/statm").read_bytes().split()
        except (OSError, ValueError):
            continue  # gone meanwhile
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        rss_pages += int(statm[1])
        count += 1
    return Reading(ticks / CLK_TCK, rss_pages * PAGE, count)


@dataclass
class Server:
    name: str
    app: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int
    info: dict[str, Any]

    def new_log(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")


def start_server(
    name: str,
    app: str,
    tmp: Path,
    snapshot: Path,
    cpus: set[int] | None,
    nice: int = 0,
    seed: int = 0,
    no_aslr: bool = False,
    gc_saveall: bool = False,
) -> Server:
    """One server serving ``app`` (load_apps.py) with the ferrosocket ``snapshot`` first on its path;
    returns once its ``GET /info`` answers."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(snapshot), str(BENCHES), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env["FERRO_LOAD_APP"] = app
    env["PYTHONHASHSEED"] = str(seed)
    if gc_saveall:
        env["FERRO_LOAD_GC_SAVEALL"] = "1"
    log_path = tmp / "servers.log"

    def pin() -> None:
        if no_aslr:
            no_address_randomisation()
        if cpus:
            os.sched_setaffinity(0, cpus)
        if nice:
            prioritise(nice)  # start_new_session: the server leads a session (an autogroup) of its own

    def info(port: int) -> dict[str, Any] | None:
        answer = http_get(port, "/info")
        return json.loads(answer[1]) if answer is not None and answer[0] == 200 else None

    started = launch(
        f"{name} {app}",
        lambda port: server_argv(name, port),
        info,
        log_path,
        cwd=tmp,
        env=env,
        preexec_fn=pin,
    )
    return Server(name, app, started.port, started.process, log_path, started.log_offset, started.ready)


def gc_stats(port: int, objects: bool) -> dict[str, Any] | None:
    answer = http_get(port, "/gc?objects=1" if objects else "/gc")
    return json.loads(answer[1]) if answer is not None and answer[0] == 200 else None


def gc_delta(before: dict[str, Any], after: dict[str, Any], key: str) -> float:
    return float(sum(after[key]) - sum(before[key]))
