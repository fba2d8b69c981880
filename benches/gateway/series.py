"""One server kind's series: its app servers, the client workers, then rounds of bursts.

Every app of the series gets a server process of its own (its own process group, pinned to the
server CPU, the same PYTHONHASHSEED for all), started once; they stay up, with their connections
open, for the whole series, and only the one under a burst has work. In each round the workloads
come in a random order, and within a workload every contender's burst in a random order; a burst's
server CPU is the app server's group's CPU time (schedstat, ns) read just before the burst's
command and ``settle`` seconds after its last unit, divided by the units completed; the part of it
spent in cyclic garbage collections is read from the app's ``/gc`` probe, outside that window,
which also runs a full collection before each burst (every burst starts from the same collector
state).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest.servers import (
    Server,
    check_app,
    gc_delta,
    gc_stats,
    group_cpu_ns,
    log_problems,
    start_server,
    stop,
)
from loadtest.workers import collect, end, send_all, spawn

from gateway import FERROSOCKET_APPS, app_of, contenders
from gateway.clients import gateway_worker

TARGET = "gateway.apps:app"


@dataclass
class Sizes:
    """Units per burst, and the connections kept open."""

    connections: int  # JSON connections per app, all of them active in a JSON burst
    subscribers: int  # fan-out subscribers per app
    json1k: int  # round trips per connection in a 1 KB JSON burst
    json16k: int  # ... in a 16 KB one
    handshakes: int  # new connections per handshake burst
    broadcasts: int  # messages published per fan-out burst

    def units(self, workload: str) -> int:
        if workload == "json1k":
            return self.connections * self.json1k
        if workload == "json16k":
            return self.connections * self.json16k
        if workload == "handshake":
            return self.handshakes
        return self.subscribers * self.broadcasts


def shares(total: int, parts: int) -> list[tuple[int, int]]:
    """``total`` split into ``parts`` consecutive (first, count) ranges."""
    share, extra = divmod(total, parts)
    ranges, first = [], 0
    for i in range(parts):
        count = share + (1 if i < extra else 0)
        ranges.append((first, count))
        first += count
    return ranges


class Series:
    """The app servers of one server kind and the client workers connected to all of them."""

    def __init__(
        self, server: str, apps: list[str], sizes: Sizes, args: argparse.Namespace, tmp: Path
    ) -> None:
        self.server = server
        self.apps = apps
        self.sizes = sizes
        self.args = args
        self.tmp = tmp
        self.servers: dict[str, Server] = {}
        self.procs: list[Any] = []
        self.pipes: list[Any] = []
        self.published = dict.fromkeys(apps, 0)  # the fan-out's last message number, per app
        self.visitors = 0  # handshake visitors so far: each one's values are new
        self.salt = f"{random.randrange(16**8):08x}"
        cpus = sorted(os.sched_getaffinity(0))
        self.server_cpus = {cpus[0]} if args.pin and len(cpus) >= 2 else None
        self.client_cpus = set(cpus[1:]) if self.server_cpus else None

    def start(self, snapshot: Path, seed: int) -> dict[str, Any]:
        """Start every app's server, then the client workers; returns what the workers opened."""
        for app in self.apps:
            home = self.tmp / f"{self.server}-{app}"
            home.mkdir(parents=True, exist_ok=True)
            srv = start_server(
                self.server,
                app,
                home,
                snapshot,
                self.server_cpus,
                self.args.nice,
                seed,
                not self.args.aslr,
                target=TARGET,
                keepalive_pings=self.args.keepalive_pings,
            )
            self.servers[app] = srv
            check_app(srv, app, snapshot, app in FERROSOCKET_APPS)
        workers = max(1, self.args.clients)
        connections = shares(self.sizes.connections, workers)
        subscribers = shares(self.sizes.subscribers, workers)
        cfgs = []
        for i in range(workers):
            cfgs.append(
                {
                    "ports": {app: srv.port for app, srv in self.servers.items()},
                    "first": connections[i][0],
                    "connections": connections[i][1],
                    "subscribers": subscribers[i][1],
                    "total_subscribers": self.sizes.subscribers,
                    "publisher": i == 0,
                    "concurrency": self.args.concurrency,
                    "timeout": self.args.phase_timeout,
                    "command_timeout": self.args.phase_timeout + 60,
                    "salt": self.salt,
                    "cpus": self.client_cpus,
                    "nice": self.args.nice,
                }
            )
        self.procs, self.pipes = spawn(gateway_worker, cfgs)
        ready = collect(self.pipes, "ready", self.args.phase_timeout + 30)
        opened: dict[str, Counter[str]] = {app: Counter() for app in self.apps}
        for answer in ready:
            for app, counts in answer["opened"].items():
                opened[app].update(counts)
        errors = sum((Counter(answer["errors"]) for answer in ready), Counter())
        return {
            "opened": {app: dict(c) for app, c in opened.items()},
            "errors": dict(errors),
            "seconds": max(answer["seconds"] for answer in ready),
        }

    def commands(self, workload: str, contender: str) -> list[Any]:
        """The command each worker gets for one burst."""
        app = app_of(contender)
        workers = len(self.pipes)
        if workload in ("json1k", "json16k"):
            rounds = getattr(self.sizes, workload)
            return [("json", app, workload, rounds)] * workers
        if workload == "handshake":
            ranges = shares(self.sizes.handshakes, workers)
            first = self.visitors
            self.visitors += self.sizes.handshakes
            return [("handshake", app, first + start, count) for start, count in ranges]
        self.published[app] += self.sizes.broadcasts
        mode = "broadcast" if contender.endswith(":broadcast") else "loop"
        return [("fanout", app, mode, self.published[app])] * workers

    def burst(self, workload: str, contender: str) -> dict[str, Any]:
        """One burst: its units, the server's CPU time over it, errors."""
        srv = self.servers[app_of(contender)]
        commands = self.commands(workload, contender)
        # Outside the CPU window (its HTTP request is not counted): a full collection, so that every
        # burst starts from the same collector state. Otherwise whether a burst pays for a full
        # collection of the whole heap (the idle connections of the other workloads included)
        # depends on where the previous burst left the counters: uvicorn's handshake bursts cost
        # 65 or 200 us of GC per connection by that accident alone, more than the difference
        # between the apps.
        gc0 = gc_stats(srv.port, objects=False, collect=True)
        cpu0 = group_cpu_ns(srv.process.pid)
        started = time.monotonic()
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        answers = collect(self.pipes, "done", self.args.phase_timeout + 30)
        wall = time.monotonic() - started
        time.sleep(self.args.settle)
        cpu_ns = group_cpu_ns(srv.process.pid) - cpu0
        gc1 = gc_stats(srv.port, objects=False)
        units = sum(a["units"] for a in answers)
        planned = self.sizes.units(workload)
        errors = sum((Counter(a["errors"]) for a in answers), Counter())
        if units < planned:
            errors["units not completed"] += planned - units
        if cpu_ns <= 0:
            errors["no CPU time read: is the server gone?"] += 1
        return {
            "server": self.server,
            "workload": workload,
            "contender": contender,
            "units": units,
            "planned": planned,
            "cpu_us_per_unit": cpu_ns / 1e3 / units if units else None,
            # the app server's cyclic garbage collections during the burst (asgi_service.py's hook)
            "gc_us_per_unit": gc_delta(gc0, gc1, "seconds") * 1e6 / units if units and gc0 and gc1 else None,
            # per generation: how often the collector ran, per 1,000 units
            "gc_runs_per_1000": [
                (after - before) * 1000 / units
                for before, after in zip(gc0["collections"], gc1["collections"], strict=True)
            ]
            if units and gc0 and gc1
            else None,
            "server_busy": cpu_ns / 1e9 / wall if wall > 0 else None,
            "client_cpu_us_per_unit": sum(a["cpu"] for a in answers) * 1e6 / units if units else None,
            "wall_s": wall,
            "errors": dict(errors),
            "error_count": sum(errors.values()),
        }

    def round(self, number: int, workloads: list[str], order: random.Random) -> list[dict[str, Any]]:
        """Every contender's burst of every workload, in a random order; ``number`` < 0: warm-up.
        The handshake workload runs ``--handshake-passes`` passes over its contenders, each pass in
        a new random order (summary.costs_by_round pools a round's bursts of a contender)."""
        records = []
        for workload in order.sample(workloads, len(workloads)):
            names = contenders(workload, self.apps)
            for _ in range(self.args.handshake_passes if workload == "handshake" else 1):
                for contender in order.sample(names, len(names)):
                    record = self.burst(workload, contender)
                    record["round"] = number
                    records.append(record)
        return records

    def close(self) -> dict[str, Any]:
        """Close every connection and stop every server: their errors (the servers' logs too)."""
        errors: Counter[str] = Counter()
        closed: list[dict[str, Any]] = []
        try:
            if self.pipes:
                send_all(self.pipes, "close")
                closed = collect(self.pipes, "closed", self.args.phase_timeout + 30)
        except RuntimeError as exc:
            errors[f"close: {exc}"[:200]] += 1
        finally:
            end(self.pipes, self.procs)
            for srv in self.servers.values():
                stop(srv.process)
        by_app: dict[str, list[str]] = {}
        for app, srv in self.servers.items():
            problems = log_problems(srv.new_log())
            if problems:
                by_app[app] = problems[-15:]
                errors[f"server log of {app}: errors/tracebacks"] += len(problems)
        closing = sum(c["closing"] for c in closed)
        clean = sum(c["clean"] for c in closed)
        if clean < closing:
            errors["close handshakes not completed"] += closing - clean
        return {"errors": dict(errors), "closing": closing, "clean": clean, "server_logs": by_app}


def run_series(
    server: str,
    apps: list[str],
    workloads: list[str],
    sizes: Sizes,
    args: argparse.Namespace,
    tmp: Path,
    snapshot: Path,
    deadline: float,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """The whole series of one server kind: warm-up rounds, then measured rounds until ``args.rounds``
    or ``deadline`` (monotonic; at least one measured round runs)."""
    seed = args.hash_seed if args.hash_seed is not None else random.randrange(1, 2**32)
    order = random.Random(args.order_seed)
    series = Series(server, apps, sizes, args, tmp)
    result: dict[str, Any] = {"server": server, "hash_seed": seed, "bursts": [], "errors": {}}
    errors: Counter[str] = Counter()
    started = time.monotonic()
    try:
        result["open"] = series.start(snapshot, seed)
        errors.update(result["open"]["errors"])
        progress(
            f"{server}: {len(apps)} app servers up, connections open ({time.monotonic() - started:.0f} s)"
        )
        for number in range(-args.warmup_rounds, args.rounds):
            if number > 0 and time.monotonic() > deadline:
                progress(f"{server}: time budget spent: {args.rounds - number} round(s) not run")
                break
            round_started = time.monotonic()
            records = series.round(number, workloads, order)
            result["bursts"].extend(records)
            bad = sum(r["error_count"] for r in records)
            took = time.monotonic() - round_started
            left = (args.rounds - number - 1) * took
            what = "warm-up round" if number < 0 else f"round {number + 1}/{args.rounds}"
            progress(
                f"{server}: {what} in {took:.1f} s, {bad} errors; about {left / 60:.1f} min left for {server}"
            )
    except Exception as exc:  # a failed series is a result (errors), not the end of the run
        errors[f"series failed: {type(exc).__name__}: {exc}"[:300]] += 1
    finally:
        closed = series.close()
    errors.update(closed["errors"])
    result["close"] = closed
    result["errors"] = dict(errors)
    result["seconds"] = time.monotonic() - started
    return result
