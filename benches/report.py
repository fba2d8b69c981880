"""Runs the Python benchmarks in several processes and reports ferrosocket against its targets.

    python benches/report.py            # 5 processes; writes benches/results/latest.{json,md,png}
    python benches/report.py --quick    # CI smoke: 1 process, 3 rounds, no timing checks;
                                        # writes benches/results/quick.{json,md,png}

``make bench`` runs ``cargo bench`` (the pure Rust core, saved to target/cargo-bench.txt and
copied into the report), then ``make build-release`` and this script.

Each process runs the whole pytest-benchmark suite (benches/test_bench_python.py): every variant
of every operation (ferrosocket, Starlette, floors, peers), one after another, in the same
process. Processes differ in ``PYTHONHASHSEED`` (dict lookups cost 17-41 ns depending on it) and
alternate between forward and reverse order. Per operation and variant the result is the median
over processes of each process's median ns/op; a ratio is the median over processes of the ratio
taken within each process (a paired comparison: the process-to-process noise cancels).

``--check`` exits 1 when a target is not met (not with ``--quick``, whose numbers mean nothing).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from operations import OPERATIONS  # noqa: E402

SUITE = HERE / "test_bench_python.py"
PACKAGES = ("ferrosocket", "starlette", "orjson", "multidict", "pytest", "pytest-benchmark", "matplotlib")
ROLE_ORDER = ("ferrosocket", "starlette", "floor", "peer")
COLORS = {"ferrosocket": "#d2691e", "starlette": "#4a7ab5", "floor": "#9a9a9a", "peer": "#6aa36a"}


def role(variant: str) -> str:
    return variant.split(":", 1)[0]


def short(variant: str) -> str:
    return variant.split(":", 1)[-1]


# --- Machine and build ---------------------------------------------------------------------------


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _sha1(path: Path) -> str | None:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return None


def snapshot_ferrosocket(dest: Path, source: Path | None = None) -> dict[str, Any]:
    """Copies the installed ferrosocket package (or the package directory ``source``: Python files
    and extension) into ``dest``.

    The benchmark processes import this copy (``PYTHONPATH``), so a ``maturin develop`` run by
    someone else meanwhile cannot swap the extension under a measurement. Returns which Cargo
    profile the extension came from: its bytes against the last ``maturin develop --release``
    (target/release, profile-guided or not: target/release/pgo.txt) and ``--profile fast``
    (target/fast) outputs."""
    if source is None:
        spec = importlib.util.find_spec("ferrosocket")  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("ferrosocket is not installed: run `make build-release` first")
        source = Path(next(iter(spec.submodule_search_locations)))
    shutil.copytree(source, dest / "ferrosocket", ignore=shutil.ignore_patterns("__pycache__"))
    extensions = [*(dest / "ferrosocket").glob("_core*.so"), *(dest / "ferrosocket").glob("_core*.pyd")]
    if len(extensions) != 1:
        raise SystemExit(f"expected one ferrosocket extension in {source}, found {len(extensions)}")
    digest = _sha1(extensions[0])
    profile = "unknown (matches neither target/release nor target/fast)"
    if digest == _sha1(ROOT / "target" / "release" / "libferrosocket.so"):
        # `make build-release` records the profile the build was guided by (empty: none).
        pgo_record = ROOT / "target" / "release" / "pgo.txt"
        profile_path = pgo_record.read_text().strip() if pgo_record.exists() else ""
        pgo = f"profile-guided: {Path(profile_path).name}" if profile_path else "not profile-guided"
        profile = f"release (fat LTO, codegen-units=1, {pgo})"
    elif digest == _sha1(ROOT / "target" / "fast" / "libferrosocket.so"):
        profile = "fast (no LTO, codegen-units=16)"
    return {"package": str(source), "extension": extensions[0].name, "sha1": digest, "profile": profile}


def machine_info(packages: tuple[str, ...] = PACKAGES) -> dict[str, Any]:
    """The machine, the interpreter, the versions of ``packages``, the commit; shared by load.py."""
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "rustc": _run(["rustc", "--version"]),
        "packages": versions,
        "git": _run(["git", "rev-parse", "--short", "HEAD"]) + (" (modified)" if status else ""),
        "loadavg_start": os.getloadavg(),
    }


# --- Running ------------------------------------------------------------------------------------


def run_process(
    index: int, quick: bool, budget: float, workdir: Path, snapshot: Path, select: str | None = None
) -> dict[str, Any]:
    seed = random.randrange(1, 2**32 - 1)
    out = workdir / f"process-{index}.json"
    env = dict(os.environ)
    env.update(
        PYTHONHASHSEED=str(seed),
        FERRO_BENCH_REVERSE=str(index % 2),
        FERRO_BENCH_QUICK="1" if quick else "",
        FERRO_BENCH_BUDGET=str(budget),
        PYTHONPATH=os.pathsep.join(filter(None, [str(snapshot), os.environ.get("PYTHONPATH")])),
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-q",
        "-p",
        "no:cacheprovider",
        "--benchmark-disable-gc",
        f"--benchmark-json={out}",
        "--benchmark-columns=median,rounds",
        *(["-k", select] if select else []),
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit(f"benchmark process {index + 1} failed (exit {proc.returncode})")
    data = json.loads(out.read_text())
    imported = data["machine_info"].get("ferrosocket_file", "")
    if not imported.startswith(str(snapshot)):
        raise SystemExit(
            f"benchmark process {index + 1} imported ferrosocket from {imported}, not the snapshot"
        )
    ns: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        ns[info["op"]][info["variant"]] = bench["stats"]["median"] * 1e9 / info["ops_per_round"]
    order = "reverse" if index % 2 else "forward"
    print(f"  process {index + 1}: {time.perf_counter() - started:5.1f} s, hash seed {seed}, {order} order")
    return {"pythonhashseed": seed, "order": order, "ns_per_op": ns}


# --- Summary ------------------------------------------------------------------------------------


def summarise(processes: list[dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    rows = []
    for op in OPERATIONS:
        per_process = [p["ns_per_op"].get(op.id, {}) for p in processes]
        if not any(per_process):  # not selected (-k)
            continue
        variants = sorted({v for pp in per_process for v in pp}, key=lambda v: (ROLE_ORDER.index(role(v)), v))
        needed = [
            "ferrosocket",
            "starlette",
            *(t.reference for t in op.targets),
            *(v for pair in op.between for v in pair),
        ]
        missing = [v for v in needed if v not in variants]
        if missing:
            raise SystemExit(f"{op.id}: no result for {', '.join(missing)}")
        results = {}
        for v in variants:
            values = [pp[v] for pp in per_process]
            results[v] = {
                "median_ns": statistics.median(values),
                "min_ns": min(values),
                "max_ns": max(values),
                "per_process_ns": values,
            }
        ratios = {}
        for v in variants:
            if v != "ferrosocket":
                ratios[v] = statistics.median(pp["ferrosocket"] / pp[v] for pp in per_process)
        targets = []
        for t in op.targets:
            ratio = ratios[t.reference]
            targets.append(
                {
                    "reference": t.reference,
                    "limit": t.limit,
                    "strict": t.strict,
                    "target": t.describe(),
                    "ratio": ratio,
                    "met": None if quick else t.met(ratio),
                }
            )
        between = [
            {
                "variant": v,
                "reference": ref,
                "ratio": statistics.median(pp[v] / pp[ref] for pp in per_process),
            }
            for v, ref in op.between
        ]
        rows.append(
            {
                "op": op.id,
                "label": op.label,
                "variants": results,
                "ratios": ratios,
                "targets": targets,
                "between": between,
            }
        )
    return rows


def loop_overhead(processes: list[dict[str, Any]]) -> float | None:
    values = [p["ns_per_op"].get("loop", {}).get("floor:empty") for p in processes]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_ns(ns: float) -> str:
    return f"{ns:,.0f}" if ns >= 100 else f"{ns:.1f}"


def fmt_ratio(r: float) -> str:
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| operation | ferrosocket ns | Starlette ns | floor / peer ns | ferrosocket / Starlette "
        "| ferrosocket / floor, peer | target | met |",
        "| --- | ---: | ---: | --- | ---: | --- | --- | --- |",
    ]
    for row in rows:
        v, r = row["variants"], row["ratios"]
        others = [name for name in v if role(name) in ("floor", "peer")]
        spread = (v["ferrosocket"]["max_ns"] - v["ferrosocket"]["min_ns"]) / v["ferrosocket"]["median_ns"] / 2
        fs_cell = f"{fmt_ns(v['ferrosocket']['median_ns'])} ±{spread:.0%}"
        other_cell = "; ".join(f"{short(o)} {fmt_ns(v[o]['median_ns'])}" for o in others) or "—"
        other_ratio = "; ".join(f"{fmt_ratio(r[o])}× {short(o)}" for o in others) or "—"
        target = "; ".join(t["target"].replace("floor:", "").replace("peer:", "") for t in row["targets"])
        met = "; ".join(
            "—" if t["met"] is None else ("**yes**" if t["met"] else "**NO**") for t in row["targets"]
        )
        lines.append(
            f"| {row['label']} | {fs_cell} | {fmt_ns(v['starlette']['median_ns'])} | {other_cell} "
            f"| {fmt_ratio(r['starlette'])} | {other_ratio} | {target} | {met} |"
        )
    return "\n".join(lines)


def between_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The ratios of other variants to each other that operations ask for (``between``)."""
    return [
        f"- {row['label']}: {short(b['variant'])} / {short(b['reference'])} = {fmt_ratio(b['ratio'])}×"
        for row in rows
        for b in row["between"]
    ]


def machine_lines(info: dict[str, Any], processes: list[dict[str, Any]]) -> list[str]:
    pkgs = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    seeds = [str(p["pythonhashseed"]) for p in processes]
    return [
        f"- date: {info['date']}; git {info['git']}",
        f"- CPU: {info['cpu']}; {info['cores']} cores ({info['cores_usable']} usable); "
        f"Linux {info['kernel']}",
        f"- load average (1, 5, 15 min) at start {info['loadavg_start']}, at end {info['loadavg_end']}",
        f"- {info['python']}; {info['rustc']}",
        f"- packages: {pkgs}",
        f"- ferrosocket build: **{info['build']['profile']}**",
        f"- {len(processes)} process(es); hash seeds {', '.join(seeds)}",
    ]


def write_markdown(path: Path, report: dict[str, Any], table: str, rust: str | None) -> None:
    info = report["machine"]
    between = between_lines(report["operations"])
    if between:
        between = ["Floors against each other (medians of the ratios within each process):", "", *between, ""]
    parts = [
        "# ferrosocket benchmarks"
        + (" (quick smoke run: the numbers mean nothing)" if report["quick"] else ""),
        "",
        "ns per operation, medians over processes (each a median over rounds); ratios are medians of the",
        "ratios taken within each process. ± is half the spread of ferrosocket's number across processes.",
        "Every number includes the benchmark loop itself: "
        + (
            f"{fmt_ns(report['loop_ns'])} ns per iteration."
            if report["loop_ns"] is not None
            else "not measured in this run (-k left the loop out)."
        ),
        "Method: see the docstring of benches/test_bench_python.py.",
        "",
        table,
        "",
        *between,
        "## Machine",
        "",
        *machine_lines(info, report["processes"]),
    ]
    if rust:
        parts += ["", "## Rust core (`cargo bench`, divan)", "", "```", rust.rstrip(), "```"]
    path.write_text("\n".join(parts) + "\n")


def write_chart(path: Path, report: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["operations"]
    fig, (ax_ns, ax_target) = plt.subplots(
        1, 2, figsize=(15, 0.9 * len(rows) + 2.5), gridspec_kw={"width_ratios": [3, 2]}
    )
    height = 0.8
    labels = []
    for i, row in enumerate(rows):
        variants = list(row["variants"])
        bar_h = height / len(variants)
        for j, v in enumerate(variants):
            y = i + (j - (len(variants) - 1) / 2) * bar_h
            ns = row["variants"][v]["median_ns"]
            ax_ns.barh(y, ns, height=bar_h * 0.92, color=COLORS[role(v)])
            ax_ns.text(ns * 1.05, y, f"{short(v)} {fmt_ns(ns)}", va="center", fontsize=7)
        labels.append(row["label"].replace(" (", "\n("))
    ax_ns.set_yticks(range(len(rows)), labels, fontsize=8)
    ax_ns.invert_yaxis()
    ax_ns.set_xscale("log")
    ax_ns.set_xlabel("ns per operation (log scale)")
    ax_ns.set_title("ferrosocket, Starlette 1.10.0, floors and peers")
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[r]) for r in ROLE_ORDER]
    ax_ns.legend(handles, ROLE_ORDER, loc="lower right", fontsize=8)
    ax_ns.set_xlim(right=ax_ns.get_xlim()[1] * 6)

    names, values, colors = [], [], []
    for row in rows:
        for t in row["targets"]:
            names.append(f"{row['op']}\nvs {short(t['reference'])} ({t['target'].split('×')[0]}×)")
            values.append(t["ratio"] / t["limit"])
            colors.append("#999999" if t["met"] is None else ("#3c9a3c" if t["met"] else "#c83c3c"))
    ax_target.barh(range(len(values)), values, color=colors)
    for k, val in enumerate(values):
        ax_target.text(val * 1.02, k, f"{val:.2f}", va="center", fontsize=7)
    ax_target.axvline(1.0, color="black", linewidth=1)
    ax_target.set_xlim(0, max([1.0, *values]) * 1.15)
    ax_target.set_yticks(range(len(names)), names, fontsize=7)
    ax_target.invert_yaxis()
    ax_target.set_xlabel("ferrosocket's ratio / target limit (≤ 1: met)")
    ax_target.set_title("targets")
    machine = report["machine"]
    title = f"{machine['cpu']}; {machine['python']}; ferrosocket {build_name(machine)} build; "
    save_chart(fig, path, title + f"{len(report['processes'])} process(es)", report["quick"], dpi=110)


def build_name(machine: dict[str, Any]) -> str:
    """The Cargo profile of the measured extension, in a word ("release", "fast", "unknown")."""
    return str(machine["build"]["profile"].split(" (")[0])


def save_chart(fig: Any, path: Path, title: str, quick: bool, dpi: int) -> None:
    """Title the matplotlib figure (marked when the run was a quick one), write it, close it."""
    import matplotlib.pyplot as plt

    fig.suptitle(title + ("; QUICK: not a measurement" if quick else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 process, 3 rounds: checks that all runs")
    parser.add_argument("--processes", type=int, default=5, help="separate processes (default 5)")
    parser.add_argument("--budget", type=float, default=0.3, help="seconds of timed rounds per benchmark")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where to write the results")
    parser.add_argument("--rust", type=Path, help="cargo bench output to copy into the report")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument(
        "-k", dest="select", help="only the benchmarks pytest -k selects (e.g. json); writes selected.*"
    )
    args = parser.parse_args()
    processes_n = 1 if args.quick else args.processes

    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="ferro-bench-") as tmp:
        snapshot = Path(tmp) / "site"
        info["build"] = snapshot_ferrosocket(snapshot)
        print(f"ferrosocket build: {info['build']['profile']}; copied from {info['build']['package']}")
        print(f"running {SUITE.relative_to(ROOT)} in {processes_n} process(es)" + (" (quick)" * args.quick))
        processes = [
            run_process(i, args.quick, args.budget, Path(tmp), snapshot, args.select)
            for i in range(processes_n)
        ]
    info["loadavg_end"] = os.getloadavg()

    rows = summarise(processes, args.quick)
    report = {
        "quick": args.quick,
        "machine": info,
        "loop_ns": loop_overhead(processes),
        "operations": rows,
        "processes": processes,
    }
    table = markdown_table(rows)
    rust = None
    if args.rust and args.rust.exists():
        rust = args.rust.read_text()
        start = rust.find("Timer precision")  # drop cargo's Compiling/Running lines
        rust = rust[start:] if start >= 0 else rust

    args.out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if args.quick else "selected" if args.select else "latest"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_markdown(args.out / f"{stem}.md", report, table, rust)
    write_chart(args.out / f"{stem}.png", report)

    print()
    print(table)
    print()
    if between := between_lines(rows):
        print("\n".join(["floors against each other:", *between, ""]))
    print("\n".join(machine_lines(info, processes)))
    written = [args.out / f"{stem}.{ext}" for ext in ("json", "md", "png")]
    print(f"\nwrote {', '.join(str(p) for p in written)}")
    if args.quick:
        print("quick run: every benchmark ran; timings not checked")
        return 0
    unmet = [f"{row['op']} ({t['target']})" for row in rows for t in row["targets"] if not t["met"]]
    print(
        f"targets met: {sum(t['met'] for row in rows for t in row['targets'])} of "
        f"{sum(len(row['targets']) for row in rows)}" + (f"; not met: {', '.join(unmet)}" if unmet else "")
    )
    return 1 if args.check and unmet else 0


if __name__ == "__main__":
    raise SystemExit(main())
