"""One run of the load test: a fresh server, the warm-up, the client workers, the measured phase,
the close; the figures of the run (see the package's docstring for what each one means).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clients import client_worker, sync_session
from .profiles import start_py_spy, stop_py_spy
from .servers import Server, check_app, gc_delta, gc_stats, log_problems, read_group, start_server, stop
from .workers import collect, end, send_all, spawn

SETTLE = 0.5  # seconds of quiet before the idle and open readings


@dataclass
class Plan:
    server: str
    app: str
    conns: int
    rounds: int
    rep: int
    seed: int  # PYTHONHASHSEED of the server: one per repetition, the same for the three apps


def plan_name(plan: Plan) -> str:
    return f"{plan.server}-{plan.conns}x{plan.rounds}-{plan.app}-rep{plan.rep}"


def run_once(plan: Plan, args: argparse.Namespace, tmp: Path, snapshot: Path) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = {cpus[0]} if args.pin and len(cpus) >= 2 else None
    client_cpus = set(cpus[1:]) if server_cpus else None
    workers_n = max(1, min(args.clients, plan.conns))
    result: dict[str, Any] = {
        "server": plan.server,
        "app": plan.app,
        "conns": plan.conns,
        "rounds": plan.rounds,
        "rep": plan.rep,
        "hash_seed": plan.seed,
        "errors": {},
    }
    errors: Counter[str] = Counter()
    started = time.monotonic()
    cfgs: list[dict[str, Any]] = []
    procs: list[Any] = []
    pipes: list[Any] = []
    srv: Server | None = None
    spy: subprocess.Popen[bytes] | None = None
    try:
        srv = start_server(
            plan.server,
            plan.app,
            tmp,
            snapshot,
            server_cpus,
            args.nice,
            plan.seed,
            not args.aslr,
            args.gc_garbage,
        )
        info = srv.info
        result["server_info"] = info
        check_app(srv, plan.app, snapshot, plan.app == "ferrosocket")
        for i in range(2):
            sync_session(srv.port, args.size, 20, 10_000_000 + i)
        time.sleep(SETTLE)
        gc_idle = gc_stats(srv.port, objects=True)
        idle = read_group(srv.process.pid)

        share, extra = divmod(plan.conns, workers_n)
        first = 0
        for i in range(workers_n):
            count = share + (1 if i < extra else 0)
            cfg = {
                "port": srv.port,
                "size": args.size,
                "first": first,
                "count": count,
                "rounds": plan.rounds,
                "concurrency": args.concurrency,
                "timeout": args.phase_timeout,
                "command_timeout": args.phase_timeout + 60,
                "cpus": client_cpus,
                "nice": args.nice,
            }
            first += count
            cfgs.append(cfg)
        procs, pipes = spawn(client_worker, cfgs)
        ready = collect(pipes, "ready", args.phase_timeout + 30)
        opened = sum(r["opened"] for r in ready)
        result["connect_seconds"] = max(r["seconds"] for r in ready)
        time.sleep(SETTLE)
        gc0 = gc_stats(srv.port, objects=False)
        open_ = read_group(srv.process.pid)
        if args.profile:
            spy = start_py_spy(int(info["pid"]), args.profile / f"{plan_name(plan)}.raw", args.native)
        send_all(pipes, "go")
        done = collect(pipes, "done", args.phase_timeout + 30)
        after = read_group(srv.process.pid)
        gc1 = gc_stats(srv.port, objects=True)
        if spy is not None:
            result["profile"] = stop_py_spy(spy, args.profile / f"{plan_name(plan)}.raw")
        send_all(pipes, "close")
        closed = collect(pipes, "closed", args.phase_timeout + 30)
        for proc in procs:
            proc.join(10)

        latencies = array("d")
        for d in done:
            latencies.frombytes(d["latencies"])
        lat = sorted(latencies)
        echoed = sum(d["echoed"] for d in done)
        wall = max(d["end"] for d in done) - min(d["start"] for d in done)
        for c in closed:
            errors.update(c["errors"])
        result.update(
            {
                "opened": opened,
                "round_trips": echoed,
                "planned": plan.conns * plan.rounds,
                "missing": plan.conns * plan.rounds - echoed,
                "lost": sum(c["lost"] for c in closed),
                "sent_total": sum(c["sent"] for c in closed),
                "echoed_total": sum(c["echoed"] for c in closed),
                "closed_clean": sum(c["clean"] for c in closed),
                "wall_s": wall,
                "msgs_per_s": echoed / wall if wall > 0 else 0.0,
                "p50_ms": lat[len(lat) // 2] * 1e3 if lat else None,
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3 if lat else None,
                "server_cpu_us_per_rt": (after.cpu - open_.cpu) / echoed * 1e6 if echoed else None,
                "handshake_cpu_us_per_conn": (open_.cpu - idle.cpu) / opened * 1e6 if opened else None,
                "rss_idle_mib": idle.rss / 2**20,
                "rss_open_mib": open_.rss / 2**20,
                "rss_after_mib": after.rss / 2**20,
                "rss_kib_per_conn": (open_.rss - idle.rss) / opened / 1024 if opened else None,
                "server_processes": open_.processes,
                # the server's cyclic GC during the measured phase (gc.callbacks in asgi_service.py)
                "gc_us_per_rt": gc_delta(gc0, gc1, "seconds") * 1e6 / echoed
                if echoed and gc0 and gc1
                else None,
                "gc_collections": [b - a for a, b in zip(gc0["collections"], gc1["collections"], strict=True)]
                if gc0 and gc1
                else None,
                "gc_garbage": gc1.get("garbage_types") if gc1 else None,
                "gc_tracked_per_conn": (gc1["tracked"] - gc_idle["tracked"]) / opened
                if gc1 and gc_idle and opened
                else None,
                # the server's CPU over the measured phase's wall time: ~100% when it is the bottleneck
                # and has its core to itself; less when the client lags or other processes take its CPU
                "server_busy": (after.cpu - open_.cpu) / wall if wall > 0 else None,
                "loadavg": os.getloadavg()[0],
                "client_cpu_us_per_rt": sum(d["cpu"] for d in done) / echoed * 1e6 if echoed else None,
                "client_notes": [n for c in closed for n in c["notes"]][:5],
            }
        )
    except Exception as exc:  # one failed run is a result (errors), not the end of the series
        errors[f"run failed: {exc}"[:200]] += 1
        result.setdefault("missing", plan.conns * plan.rounds)
        result.setdefault("lost", 0)
    finally:
        end(pipes, procs)
        if spy is not None and spy.returncode is None:
            spy.kill()
            spy.wait(5)
        if srv is not None:
            stop(srv.process)
    log = srv.new_log() if srv is not None else ""
    bad = log_problems(log)
    if bad:
        errors["server log: errors/tracebacks"] += len(bad)
        result["server_log"] = log[-2000:]
    result["errors"] = dict(errors)
    result["error_count"] = sum(errors.values())
    result["seconds"] = time.monotonic() - started
    return result
