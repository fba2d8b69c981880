"""The servers under load: their command lines, start and stop (tests/e2e/server_processes.py,
shared with the end-to-end tests), and the CPU time and memory of their process group. Shared by
the load test and the gateway benchmark (benches/gateway/), which serve different app modules.
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

__all__ = [
    "HOST",
    "Reading",
    "Server",
    "check_app",
    "gc_delta",
    "gc_stats",
    "group_cpu_ns",
    "log_problems",
    "read_group",
    "start_server",
    "stop",
]

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def server_argv(
    server: str, port: int, target: str = "load_apps:app", keepalive_pings: bool = True
) -> list[str]:
    """The command line serving the ASGI app ``target`` ("module:attribute") on ``port``.

    ``keepalive_pings=False``: uvicorn sends no keep-alive pings (``--ws-ping-interval 0``; by
    default one every 20 s on each open connection). granian sends none either way."""
    py = sys.executable
    if server == "uvicorn":
        return [
            *(py, "-m", "uvicorn", "--host", HOST, "--port", str(port)),
            *("--ws", "websockets-sansio", "--loop", "asyncio", "--lifespan", "on"),
            *(() if keepalive_pings else ("--ws-ping-interval", "0")),
            *("--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2"),
            *("--backlog", "4096", target),
        ]
    if server == "granian":
        # --backpressure: granian serves at most this many requests at once per worker (default
        # backlog/workers = 1024), and a WebSocket is a request for as long as it is open.
        return [
            *(py, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", str(port)),
            *("--workers", "1", "--loop", "asyncio", "--log-level", "warning", "--no-access-log"),
            *("--backlog", "4096", "--backpressure", "65536", target),
        ]
    raise ValueError(f"unknown server {server!r}")


@dataclass
class Reading:
    cpu: float  # seconds, user + sys, summed over the group
    rss: int  # bytes, summed over the group
    processes: int


def group_stats(pgid: int) -> list[tuple[str, list[bytes]]]:
    """The processes of process group ``pgid`` (the server and its workers): (pid, the fields of
    /proc/PID/stat after the command's name, so that ``fields[0]`` is field 3, the state)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid:  # pgrp is field 5
            found.append((entry, fields))
    return found


def read_group(pgid: int) -> Reading:
    """CPU time and RSS of every process in process group ``pgid`` (the server and its workers)."""
    ticks = rss_pages = count = 0
    for pid, fields in group_stats(pgid):
        try:
            statm = Path(f"/proc/{pid}/statm").read_bytes().split()
        except (OSError, ValueError):
            continue  # gone meanwhile
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        rss_pages += int(statm[1])
        count += 1
    return Reading(ticks / CLK_TCK, rss_pages * PAGE, count)


def group_cpu_ns(pgid: int) -> int:
    """Nanoseconds on CPU of every thread of process group ``pgid``: the first field of
    /proc/PID/task/TID/schedstat, summed. Exact to the nanosecond where /proc/PID/stat counts
    clock ticks (10 ms), so short bursts can be measured; a thread that exits takes its time along
    (the servers measured keep theirs)."""
    total = 0
    for pid, _ in group_stats(pgid):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_bytes().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return total


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
    target: str = "load_apps:app",
    keepalive_pings: bool = True,
) -> Server:
    """One server serving ``target`` (load_apps.py's app by default) with ``FERRO_LOAD_APP=app``
    (which app the module serves) and the ferrosocket ``snapshot`` first on its path; returns
    once its ``GET /info`` answers. ``keepalive_pings``: see ``server_argv``."""
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
        lambda port: server_argv(name, port, target, keepalive_pings),
        info,
        log_path,
        cwd=tmp,
        env=env,
        preexec_fn=pin,
    )
    return Server(name, app, started.port, started.process, log_path, started.log_offset, started.ready)


def check_app(server: Server, app: str, snapshot: Path, uses_ferrosocket: bool) -> None:
    """Raise unless the server runs ``app`` and, for an app built on ferrosocket, imported it from
    the ``snapshot`` (not from the tree, which a build may change meanwhile)."""
    if server.info.get("app") != app:
        raise RuntimeError(f"the server runs app {server.info.get('app')!r}, not {app!r}")
    if uses_ferrosocket and not str(server.info.get("origin", "")).startswith(str(snapshot)):
        raise RuntimeError(
            f"the server imported ferrosocket from {server.info.get('origin')}, not the snapshot"
        )


def log_problems(log: str) -> list[str]:
    """The lines of a server's log that say something went wrong."""
    return [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line or "Error" in line]


def gc_stats(port: int, objects: bool, collect: bool = False) -> dict[str, Any] | None:
    """The app server's GC work so far (asgi_service.py's ``/gc``); ``collect``: a full collection
    first, so that what follows starts from an empty young generation and no pending promotions."""
    query = "&".join(name for name, wanted in (("objects=1", objects), ("collect=1", collect)) if wanted)
    answer = http_get(port, f"/gc?{query}" if query else "/gc")
    return json.loads(answer[1]) if answer is not None and answer[0] == 200 else None


def gc_delta(before: dict[str, Any], after: dict[str, Any], key: str) -> float:
    return float(sum(after[key]) - sum(before[key]))
