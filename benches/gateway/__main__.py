"""The gateway benchmark's command line (``python benches/gateway_bench.py``): the series of every
server kind, then the report (stdout, JSON, SVG)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from loadtest.system import raise_nofile
from report import machine_info, snapshot_ferrosocket

from gateway import APPS, EXTRA_APPS, SERVERS, WORKLOADS, contenders
from gateway import __doc__ as METHOD  # the method, for --help
from gateway.chart import write_chart
from gateway.series import Sizes, run_series
from gateway.summary import error_lines, summarise, tables

BENCHES = Path(__file__).resolve().parents[1]
PACKAGES = ("ferrosocket", "starlette", "fastapi", "orjson", "uvicorn", "granian", "websockets", "matplotlib")
FULL = Sizes(connections=1000, subscribers=1000, json1k=5, json16k=2, handshakes=1000, broadcasts=10)
QUICK = Sizes(connections=100, subscribers=100, json1k=2, json16k=1, handshakes=40, broadcasts=3)
# Rough server CPU per unit (µs) and fixed costs (s), for the estimate printed before a run.
# (The release build on the 2-core machine of docs/performance.md's runs, both servers and all
# apps together; a slower machine or the development build takes longer.)
GUESS_US = {"json1k": 70.0, "json16k": 220.0, "handshake": 330.0, "fanout": 25.0}
GUESS_BUSY = 0.6  # the server's share of a burst's wall time (the rest: waiting for the client)
GUESS_BURST_S = 0.05  # per burst besides that and the settle time: commands, GC probes
GUESS_SERVER_S = 1.0  # per app server: start, checks, stop
GUESS_OPEN_US = 600.0  # per connection opened at the start (a server's busy handshakes)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=METHOD, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small bursts, 2 rounds, under a minute"
    )
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: uvicorn,granian")
    parser.add_argument(
        "--apps",
        default=",".join(APPS),
        help=f"comma-separated, of {','.join((*APPS, *EXTRA_APPS))}; or all (those run on request too)",
    )
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma-separated, of {','.join(WORKLOADS)}"
    )
    parser.add_argument("--rounds", type=int, help="measured rounds per server (default 15; --quick 2)")
    parser.add_argument("--warmup-rounds", type=int, default=1, help="unmeasured rounds first (default 1)")
    parser.add_argument(
        "--connections", type=int, help=f"JSON connections per app (default {FULL.connections})"
    )
    parser.add_argument(
        "--subscribers", type=int, help=f"fan-out subscribers per app (default {FULL.subscribers})"
    )
    parser.add_argument(
        "--json1k", type=int, help=f"round trips per connection per 1 KB burst ({FULL.json1k})"
    )
    parser.add_argument(
        "--json16k", type=int, help=f"round trips per connection per 16 KB burst ({FULL.json16k})"
    )
    parser.add_argument("--handshakes", type=int, help=f"connections per handshake burst ({FULL.handshakes})")
    parser.add_argument(
        "--handshake-passes",
        type=int,
        help="handshake bursts per app per round, each pass in a new random order (3; --quick 1)",
    )
    parser.add_argument("--broadcasts", type=int, help=f"messages per fan-out burst ({FULL.broadcasts})")
    parser.add_argument("--clients", type=int, default=1, help="client worker processes (default 1)")
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes in flight per worker")
    parser.add_argument(
        "--settle",
        type=float,
        help="seconds between a burst's last unit and the CPU reading (0.1; --quick 0.02)",
    )
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin server and client to CPUs"
    )
    parser.add_argument(
        "--nice", type=int, default=0, help="niceness of servers and clients (e.g. -10 as root)"
    )
    parser.add_argument(
        "--aslr", action="store_true", help="leave address space randomisation on for the servers"
    )
    parser.add_argument(
        "--keepalive-pings",
        action="store_true",
        help="let uvicorn ping every open connection every 20 s (its default; off here: noise)",
    )
    parser.add_argument(
        "--hash-seed", type=int, help="PYTHONHASHSEED of every server (default: random per server)"
    )
    parser.add_argument("--order-seed", type=int, help="seed of the bursts' random order (default: random)")
    parser.add_argument(
        "--phase-timeout", type=float, help="seconds a burst or the opening may take (120; --quick 20)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=4 * 3600.0,
        help="seconds: no new round starts after (shared by the servers)",
    )
    parser.add_argument("--out", type=Path, help="output stem (default benches/results/gateway[-quick])")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 on an error, or (not with --quick) a missed target"
    )
    parser.add_argument(
        "--package", type=Path, help="measure this ferrosocket package directory (default: installed)"
    )
    parser.add_argument("--replot", type=Path, help="only re-write the tables and chart of this gateway JSON")
    args = parser.parse_args()
    base = QUICK if args.quick else FULL
    args.sizes = Sizes(
        *(
            getattr(args, f) if getattr(args, f) is not None else getattr(base, f)
            for f in Sizes.__dataclass_fields__
        )
    )
    args.rounds = args.rounds if args.rounds is not None else (2 if args.quick else 15)
    if args.handshake_passes is None:
        args.handshake_passes = 1 if args.quick else 3
    args.settle = args.settle if args.settle is not None else (0.02 if args.quick else 0.1)
    args.phase_timeout = args.phase_timeout or (20.0 if args.quick else 120.0)
    args.out = args.out or BENCHES / "results" / ("gateway-quick" if args.quick else "gateway")
    if args.apps == "all":
        args.apps = ",".join((*APPS, *EXTRA_APPS))
    for name, known in (("servers", SERVERS), ("apps", (*APPS, *EXTRA_APPS)), ("workloads", WORKLOADS)):
        chosen = [x for x in getattr(args, name).split(",") if x]
        unknown = [x for x in chosen if x not in known]
        if unknown:
            parser.error(f"--{name}: unknown {', '.join(unknown)}")
        setattr(args, name, [x for x in known if x in chosen])
    if len(os.sched_getaffinity(0)) < 2:
        args.pin = False
    return args


def estimate_seconds(args: argparse.Namespace) -> float:
    """A rough duration of the run, from GUESS_*: the figure printed before it starts."""
    sizes: Sizes = args.sizes
    per_round = sum(
        len(contenders(w, args.apps))
        * (args.handshake_passes if w == "handshake" else 1)
        * (sizes.units(w) * GUESS_US[w] / 1e6 / GUESS_BUSY + GUESS_BURST_S + args.settle)
        for w in args.workloads
    )
    opening = len(args.apps) * (sizes.connections + sizes.subscribers) * GUESS_OPEN_US / 1e6
    setup = len(args.apps) * GUESS_SERVER_S + opening
    return float(len(args.servers) * (setup + (args.rounds + args.warmup_rounds) * per_round))


def write_outputs(report: dict[str, Any], stem: Path) -> str:
    text = tables(report["groups"])
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_chart(stem.with_suffix(".svg"), report)
    return text


def main() -> int:
    args = parse_args()
    if args.replot:
        saved: dict[str, Any] = json.loads(args.replot.read_text())
        saved["groups"] = summarise(saved["series"], saved["apps"], saved["workloads"])
        print(write_outputs(saved, args.replot.with_suffix("")))
        return 0
    # SIGTERM as Ctrl-C: the finally blocks stop the servers and clients this run started
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    nofile = raise_nofile()
    sizes: Sizes = args.sizes
    per_worker = len(args.apps) * (sizes.connections + sizes.subscribers + 1) // max(1, args.clients)
    if nofile < per_worker + args.concurrency + 256:
        print(f"warning: RLIMIT_NOFILE is {nofile}: too few for {per_worker:,} connections per client worker")
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin:  # the orchestrator beside the clients, off the server's CPU
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, set(cpus[1:]))
    info = machine_info(PACKAGES)
    estimate = estimate_seconds(args)
    rounds = f"{args.rounds} rounds (+{args.warmup_rounds} warm-up)"
    print(f"gateway: {', '.join(args.servers)}; {len(args.apps)} apps; {rounds}")
    print(
        f"  open per app: {sizes.connections:,} JSON connections, {sizes.subscribers:,} subscribers; bursts: "
        f"1 KB {sizes.connections:,}x{sizes.json1k}, 16 KB {sizes.connections:,}x{sizes.json16k}, "
        f"{sizes.handshakes:,} handshakes ({args.handshake_passes} per app per round), "
        f"{sizes.broadcasts} x {sizes.subscribers:,} deliveries"
    )
    print(
        f"estimated duration: about {estimate / 60:.1f} min (--rounds and the burst sizes set it)", flush=True
    )
    started = time.monotonic()
    series = []
    with tempfile.TemporaryDirectory(prefix="ferro-gateway-") as tmp_name:
        tmp = Path(tmp_name)
        snapshot = tmp / "site"
        info["build"] = snapshot_ferrosocket(snapshot, args.package)
        print(f"ferrosocket build: {info['build']['profile']}; copied from {info['build']['package']}")
        for i, server in enumerate(args.servers):
            deadline = started + args.budget * (i + 1) / len(args.servers)
            series.append(
                run_series(
                    server,
                    args.apps,
                    args.workloads,
                    sizes,
                    args,
                    tmp,
                    snapshot,
                    deadline,
                    lambda line: print("  " + line, flush=True),
                )
            )
    info["loadavg_end"] = os.getloadavg()
    report: dict[str, Any] = {
        "quick": args.quick,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "sizes"},
        "sizes": vars(sizes),
        "apps": args.apps,
        "workloads": args.workloads,
        "machine": info,
        "seconds": time.monotonic() - started,
        "estimated_seconds": estimate,
        "series": series,
    }
    report["groups"] = summarise(series, args.apps, args.workloads)
    errors = error_lines(series)
    report["errors"] = errors
    print()
    print(write_outputs(report, args.out))
    print()
    smoke = "smoke run (--quick): the numbers mean little; " if args.quick else ""
    if not info["build"]["profile"].startswith("release"):
        # `make build-dev` (the tests' build) writes the same in-place extension as build-release
        print(f"ferrosocket build: {info['build']['profile']}, not the release build the targets are for")
    print(f"{smoke}took {report['seconds']:.0f} s (estimated {estimate:.0f} s)")
    print(f"load average at start {info['loadavg_start']}, at end {info['loadavg_end']}")
    print(
        f"errors: {len(errors) and sum(1 for _ in errors)} kind(s)"
        if errors
        else "errors: 0; every reply checked"
    )
    for line in errors[:40]:
        print("  " + line)
    print(f"wrote {args.out}.json, {args.out}.svg")
    unmet = [
        f"{g['server']} {g['workload']}: {c['name']}"
        for g in report["groups"]
        for c in g["comparisons"]
        if c["met"] is False
    ]
    if unmet:
        print("targets not met: " + "; ".join(unmet))
    return 1 if args.check and (errors or (unmet and not args.quick)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
