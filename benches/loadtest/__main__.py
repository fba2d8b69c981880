"""The load test's command line (``python benches/load.py``): the series of runs, then the report."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import machine_info as bench_machine_info
from report import snapshot_ferrosocket

from . import ALL_APPS, APPS, SERVERS
from . import __doc__ as METHOD  # the package docstring: the method, for --help
from .measurement import Plan, run_once
from .summary import fmt, machine_lines, markdown_tables, summarise, write_chart, write_markdown
from .system import raise_nofile

BENCHES = Path(__file__).resolve().parents[1]
PACKAGES = ("ferrosocket", "starlette", "uvicorn", "granian", "websockets", "matplotlib")


def machine_info() -> dict[str, Any]:
    """benches/report.py's machine figures, for this test's packages, and the descriptor limit."""
    info = bench_machine_info(PACKAGES)
    info["nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)
    return info


def parse_size(text: str) -> tuple[int, int]:
    conns, _, rounds = text.lower().partition("x")
    return int(conns.replace(",", "").replace("_", "")), int(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=METHOD, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 50x10, 1 repetition")
    parser.add_argument("--sizes", default=None, help="comma-separated CxM (default 1000x100,10000x10)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: uvicorn,granian")
    parser.add_argument(
        "--apps", default=",".join(APPS), help="comma-separated, of raw,starlette,ferrosocket,lean"
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions of each triplet (default 2)")
    parser.add_argument("--size", type=int, default=32, help="text message size in bytes (default 32)")
    parser.add_argument("--clients", type=int, default=1, help="client worker processes (default 1)")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight per worker")
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin server and client to CPUs"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness for server and client (and their autogroups), e.g. -10 as root, so that other "
        "work on the machine disturbs the measurement less",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="attach py-spy to each server during its measured phase; write collapsed stacks and a "
        "summary per run into this directory (the CPU figures then include py-spy's disturbance)",
    )
    parser.add_argument("--native", action="store_true", help="with --profile: py-spy --native")
    parser.add_argument(
        "--gc-garbage",
        action="store_true",
        help="diagnostic: the servers keep their cyclic garbage (gc.DEBUG_SAVEALL) and the JSON names its "
        "types per run (memory grows: not for measurements)",
    )
    parser.add_argument(
        "--aslr",
        action="store_true",
        help="leave address space randomisation on for the servers (default: off, as setarch -R)",
    )
    parser.add_argument(
        "--hash-seed",
        type=int,
        help="PYTHONHASHSEED of every server (default: a random one per repetition, shared by its three "
        "runs: dict lookups cost more or less depending on it)",
    )
    parser.add_argument(
        "--phase-timeout", type=float, default=180.0, help="seconds any phase of a run may take"
    )
    parser.add_argument(
        "--budget", type=float, default=3600.0, help="no new run starts after this many seconds"
    )
    parser.add_argument(
        "--out", type=Path, default=BENCHES / "results", help="where to write load.{md,json,png}"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument(
        "--package", type=Path, help="measure this ferrosocket package directory (default: the installed one)"
    )
    parser.add_argument(
        "--replot",
        type=Path,
        help="only re-write the .md and .png of this load.json (e.g. after a change here)",
    )
    args = parser.parse_args()
    if args.replot:
        report = json.loads(args.replot.read_text())
        report["groups"] = summarise(report["runs"], report["quick"])
        stem = args.replot.with_suffix("")
        write_markdown(stem.with_suffix(".md"), report, markdown_tables(report["groups"]))
        write_chart(stem.with_suffix(".png"), report)
        print(f"wrote {stem}.md, {stem}.png")
        return 0
    sizes = [
        parse_size(s) for s in (args.sizes or ("50x10" if args.quick else "1000x100,10000x10")).split(",")
    ]
    reps = args.reps or (1 if args.quick else 2)
    servers = [s for s in args.servers.split(",") if s]
    apps = [a for a in args.apps.split(",") if a]
    for s in servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}")
    for a in apps:
        if a not in ALL_APPS:
            parser.error(f"unknown app {a!r}")
    if len(os.sched_getaffinity(0)) < 2:
        args.pin = False

    # SIGTERM as Ctrl-C: the finally blocks stop the servers and clients this run started
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    nofile = raise_nofile()
    need = max(c for c, _ in sizes) + 256
    if nofile < need:
        print(f"warning: RLIMIT_NOFILE is {nofile} (hard limit): fewer than the {need} descriptors needed")
    info = machine_info()
    seeds = [
        args.hash_seed if args.hash_seed is not None else random.randrange(1, 2**32) for _ in range(reps)
    ]
    plans = [
        Plan(server, app, conns, rounds, rep, seeds[rep])
        for rep in range(reps)
        for server in servers
        for conns, rounds in sizes
        for app in apps
    ]
    runs: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ferro-load-") as tmp_name:
        tmp = Path(tmp_name)
        snapshot = tmp / "site"
        info["build"] = snapshot_ferrosocket(snapshot, args.package)
        print(f"ferrosocket build: {info['build']['profile']}; copied from {info['build']['package']}")
        shown = ", ".join(f"{c}x{m}" for c, m in sizes)
        print(f"{len(plans)} runs: {shown}; {reps} repetition(s); {', '.join(servers)}")
        for i, plan in enumerate(plans):
            if time.monotonic() - started > args.budget:
                print(f"budget of {args.budget:.0f} s spent: {len(plans) - i} runs not started")
                break
            r = run_once(plan, args, tmp, snapshot)
            runs.append(r)
            print(
                f"  [{i + 1:>2}/{len(plans)}] {plan.server:<8} {plan.conns:>6}x{plan.rounds:<4} "
                f"{plan.app:<12} cpu/rt {fmt(r.get('server_cpu_us_per_rt')):>6} µs  "
                f"rss/conn {fmt(r.get('rss_kib_per_conn'), 2):>6} KiB"
                f"  {fmt(r.get('msgs_per_s'), 0):>7} msg/s  p99 {fmt(r.get('p99_ms'), 1):>6} ms"
                f"  client {fmt(r.get('client_cpu_us_per_rt')):>5} µs/rt"
                f"  busy {fmt((r.get('server_busy') or 0) * 100, 0):>3}%"
                f"  gc {fmt(r.get('gc_us_per_rt')):>5} µs/rt"
                f"  err {r['error_count']} lost {r.get('lost')} missing {r.get('missing')}"
                f"  ({r['seconds']:.1f} s)",
                flush=True,
            )
            if r["errors"]:
                print(f"      errors: {r['errors']}")
                if r.get("server_log"):
                    print(
                        "      server log (end):\n"
                        + "\n".join("        " + x for x in r["server_log"].splitlines()[-15:])
                    )
    info["loadavg_end"] = os.getloadavg()
    groups = summarise(runs, args.quick)
    report = {
        "quick": args.quick,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": info,
        "seconds": time.monotonic() - started,
        "groups": groups,
        "runs": runs,
    }
    tables = markdown_tables(groups)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "load-quick" if args.quick else "load"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_markdown(args.out / f"{stem}.md", report, tables)
    write_chart(args.out / f"{stem}.png", report)
    print()
    print(tables)
    print()
    print("\n".join(machine_lines(report)))
    print(f"\nwrote {', '.join(str(args.out / f'{stem}.{e}') for e in ('md', 'json', 'png'))}")
    unmet = [
        f"{g['server']} {g['conns']}x{g['rounds']} {name}"
        for g in groups
        for name, t in g["targets"].items()
        if t["met"] is False
    ]
    if unmet:
        print("targets not met: " + "; ".join(unmet))
    return 1 if args.check and unmet else 0


if __name__ == "__main__":
    raise SystemExit(main())
