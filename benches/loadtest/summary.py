"""The load test's summary: medians per server, size and app, the targets, the Markdown tables and
the chart.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from report import build_name, save_chart

from . import ALL_APPS, APPS, LABELS, SERVERS

COLORS = {"raw": "#9a9a9a", "starlette": "#4a7ab5", "ferrosocket": "#d2691e", "lean": "#6aa36a"}
WRAPPER_LIMIT = 0.2  # the wrapper's CPU cost at most a fifth of Starlette's
RSS_LIMIT_KIB = 1.0  # RSS per connection at most the raw echo's + 1 KiB


def median(values: Sequence[float | None]) -> float | None:
    clean = [v for v in values if v is not None]
    return statistics.median(clean) if clean else None


def summarise(runs: list[dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    """One group per (server, size): per-app medians, the paired differences and the targets."""
    groups: list[dict[str, Any]] = []
    keys = sorted(
        {(r["server"], r["conns"], r["rounds"]) for r in runs}, key=lambda k: (SERVERS.index(k[0]), k[1])
    )
    for server, conns, rounds in keys:
        mine = [r for r in runs if (r["server"], r["conns"], r["rounds"]) == (server, conns, rounds)]
        apps: dict[str, dict[str, Any]] = {}
        for app in ALL_APPS:
            rs = [r for r in mine if r["app"] == app]
            if not rs and app not in APPS:
                continue
            apps[app] = {
                "runs": len(rs),
                "cpu_us_per_rt": median([r.get("server_cpu_us_per_rt") for r in rs]),
                "cpu_all": [r.get("server_cpu_us_per_rt") for r in rs],
                "handshake_us_per_conn": median([r.get("handshake_cpu_us_per_conn") for r in rs]),
                "rss_kib_per_conn": median([r.get("rss_kib_per_conn") for r in rs]),
                "rss_all": [r.get("rss_kib_per_conn") for r in rs],
                "rss_idle_mib": median([r.get("rss_idle_mib") for r in rs]),
                "msgs_per_s": median([r.get("msgs_per_s") for r in rs]),
                "p50_ms": median([r.get("p50_ms") for r in rs]),
                "p99_ms": median([r.get("p99_ms") for r in rs]),
                "client_cpu_us_per_rt": median([r.get("client_cpu_us_per_rt") for r in rs]),
                "gc_us_per_rt": median([r.get("gc_us_per_rt") for r in rs]),
                "gc_tracked_per_conn": median([r.get("gc_tracked_per_conn") for r in rs]),
                "gc_collections": [r.get("gc_collections") for r in rs],
                "server_busy": median([r.get("server_busy") for r in rs]),
                "errors": sum(r["error_count"] for r in rs),
                "lost": sum(r.get("lost", 0) for r in rs),
                "missing": sum(r.get("missing", 0) for r in rs),
            }

        def paired(app: str, key: str, mine: list[dict[str, Any]] = mine) -> list[float]:
            by_rep: dict[int, dict[str, float]] = {}
            for r in mine:
                if r.get(key) is not None:
                    by_rep.setdefault(r["rep"], {})[r["app"]] = r[key]
            return [v[app] - v["raw"] for v in by_rep.values() if app in v and "raw" in v]

        cost_fs = paired("ferrosocket", "server_cpu_us_per_rt")
        cost_st = paired("starlette", "server_cpu_us_per_rt")
        rss_fs = paired("ferrosocket", "rss_kib_per_conn")
        extra = {app: median(paired(app, "server_cpu_us_per_rt")) for app in apps if app not in APPS}
        fs, st = median(cost_fs), median(cost_st)
        ratio = fs / st if fs is not None and st else None
        rss_diff = median(rss_fs)
        f = apps["ferrosocket"]
        targets = {
            "clean": {
                "met": f["runs"] > 0 and f["errors"] == 0 and f["lost"] == 0 and f["missing"] == 0,
                "value": f"{f['errors']} errors, {f['lost']} lost, {f['missing']} missing",
            },
            "wrapper_cost": {
                "met": None if quick or ratio is None else ratio <= WRAPPER_LIMIT,
                "ferrosocket_us": fs,
                "starlette_us": st,
                "ratio": ratio,
                "pairs_ferrosocket": cost_fs,
                "pairs_starlette": cost_st,
                "others_us": extra,
                "gc_ferrosocket_us": median(paired("ferrosocket", "gc_us_per_rt")),
                "gc_starlette_us": median(paired("starlette", "gc_us_per_rt")),
            },
            "rss": {
                "met": None if quick or rss_diff is None else rss_diff <= RSS_LIMIT_KIB,
                "diff_kib": rss_diff,
                "pairs": rss_fs,
            },
        }
        groups.append({"server": server, "conns": conns, "rounds": rounds, "apps": apps, "targets": targets})
    return groups


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def yes_no(met: bool | None) -> str:
    return "—" if met is None else ("**yes**" if met else "**NO**")


def span(values: list[float]) -> str:
    return f" ({min(values):.1f}…{max(values):.1f})" if len(values) > 1 else ""


def markdown_tables(groups: list[dict[str, Any]]) -> str:
    """Three tables: the figures the issue asks for, the targets, then details."""
    main = [
        "| server | C x M | app | runs | msgs/s | p50 ms | p99 ms | server CPU µs/round trip "
        "| RSS KiB/conn | errors | lost |",
        "| --- | --- | --- |" + " ---: |" * 8,
    ]
    details = [
        "| server | C x M | app | server CPU µs/rt, runs | of which GC µs/rt | GC collections (gen 0/1/2) "
        "| GC-tracked objects/conn | handshake CPU µs/conn | idle RSS MiB | server busy | client CPU µs/rt "
        "| missing round trips |",
        "| --- | --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for g in groups:
        size = f"{g['conns']:,} x {g['rounds']}"
        for app in g["apps"]:
            a = g["apps"][app]
            cpus = [c for c in a["cpu_all"] if c is not None]
            main.append(
                f"| {g['server']} | {size} | {LABELS[app]} | {a['runs']} "
                f"| {fmt(a['msgs_per_s'], 0)} | {fmt(a['p50_ms'], 1)} | {fmt(a['p99_ms'], 1)} "
                f"| {fmt(a['cpu_us_per_rt'])} | {fmt(a['rss_kib_per_conn'], 2)} "
                f"| {a['errors']} | {a['lost']} |"
            )
            collections = "; ".join("/".join(str(n) for n in c) for c in a["gc_collections"] if c) or "—"
            details.append(
                f"| {g['server']} | {size} | {LABELS[app]} | {', '.join(f'{c:.1f}' for c in cpus) or '—'} "
                f"| {fmt(a['gc_us_per_rt'])} | {collections} | {fmt(a['gc_tracked_per_conn'])} "
                f"| {fmt(a['handshake_us_per_conn'], 0)} | {fmt(a['rss_idle_mib'])} "
                f"| {fmt((a['server_busy'] or 0) * 100, 0)}% | {fmt(a['client_cpu_us_per_rt'])} "
                f"| {a['missing']} |"
            )
    targets = [
        "| server | C x M | 0 errors, 0 lost (ferrosocket) | wrapper cost µs/rt: ferrosocket; Starlette "
        "(per repetition) | of which GC | ratio (≤ 0.2) | met | RSS/conn − raw's, KiB (≤ 1) | met |",
        "| --- | --- | --- | --- | --- | ---: | --- | ---: | --- |",
    ]
    for g in groups:
        t = g["targets"]
        w, r = t["wrapper_cost"], t["rss"]
        targets.append(
            f"| {g['server']} | {g['conns']:,} x {g['rounds']} "
            f"| {t['clean']['value']}: {yes_no(t['clean']['met'])} "
            f"| {fmt(w['ferrosocket_us'], 2)}{span(w['pairs_ferrosocket'])}; "
            f"{fmt(w['starlette_us'], 2)}{span(w['pairs_starlette'])} "
            f"| {fmt(w['gc_ferrosocket_us'], 2)}; {fmt(w['gc_starlette_us'], 2)} "
            f"| {fmt(w['ratio'], 2)} | {yes_no(w['met'])} | {fmt(r['diff_kib'], 2)} | {yes_no(r['met'])} |"
        )
    return "\n".join([*main, "", *targets, "", "Details:", "", *details])


def machine_lines(report: dict[str, Any]) -> list[str]:
    info = report["machine"]
    a = report["args"]
    pkgs = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    return [
        f"- date: {info['date']}; git {info['git']}; {len(report['runs'])} runs in {report['seconds']:.0f} s",
        f"- CPU: {info['cpu']}; {info['cores']} cores ({info['cores_usable']} usable); "
        f"Linux {info['kernel']}",
        f"- load average (1, 5, 15 min) at start {info['loadavg_start']}, at end {info['loadavg_end']}",
        f"- {info['python']}; packages: {pkgs}",
        f"- ferrosocket build: **{info['build']['profile']}**",
        f"- RLIMIT_NOFILE {info['nofile']}; client: {a['clients']} worker process(es), "
        f"{a['concurrency']} handshakes in flight per worker, {a['size']}-byte text messages; "
        + ("server pinned to CPU 0, client to the others" if a["pin"] else "no CPU pinning")
        + (f"; niceness {a['nice']:+d}" if a.get("nice") else ""),
    ]


def write_markdown(path: Path, report: dict[str, Any], tables: str) -> None:
    quick = report["quick"]
    parts = [
        "# ferrosocket load test" + (" (quick smoke run: the numbers mean nothing)" if quick else ""),
        "",
        "C connections x M echo round trips on loopback, a fresh server per run, runs alternating raw ASGI",
        "echo, Starlette, ferrosocket; medians over runs (each run's figures: the details table). Server CPU",
        "is the server process group's user+sys time during the measured phase only, per round trip; RSS",
        "per connection is (RSS with every connection open − RSS idle) / C. The wrapper's cost is server",
        "CPU per round trip minus the raw echo's, the median of the per-repetition differences. Method:",
        "the docstring of benches/loadtest/__init__.py.",
        "",
        tables,
        "",
        "## Machine",
        "",
        *machine_lines(report),
    ]
    path.write_text("\n".join(parts) + "\n")


def write_chart(path: Path, report: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = report["groups"]
    names = [f"{g['server']}\n{g['conns']:,} x {g['rounds']}" for g in groups]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    width = 0.27
    xs = range(len(groups))

    def bars(ax: Any, key: str, all_key: str | None, title: str, ylabel: str) -> None:
        for j, app in enumerate(APPS):
            values = [g["apps"][app][key] or 0.0 for g in groups]
            pos = [x + (j - 1) * width for x in xs]
            ax.bar(pos, values, width * 0.92, color=COLORS[app], label=LABELS[app])
            for p, v in zip(pos, values, strict=True):
                ax.text(
                    p, v, f"{v:.1f}" if v < 1000 else f"{v / 1000:.1f}k", ha="center", va="bottom", fontsize=7
                )
            if all_key:
                for p, g in zip(pos, groups, strict=True):
                    points = [v for v in g["apps"][app][all_key] if v is not None]
                    ax.plot([p] * len(points), points, "k.", markersize=3)
        ax.set_xticks(list(xs), names, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)

    bars(axes[0][0], "cpu_us_per_rt", "cpu_all", "server CPU per round trip (dots: runs)", "µs")
    axes[0][0].legend(fontsize=8, loc="lower right")
    bars(axes[1][0], "rss_kib_per_conn", "rss_all", "server RSS per connection (dots: runs)", "KiB")
    bars(
        axes[1][1],
        "msgs_per_s",
        None,
        "round trips per second (client-bound where client CPU ≥ server's)",
        "msgs/s",
    )

    ax = axes[0][1]
    for j, (app, key) in enumerate((("starlette", "starlette_us"), ("ferrosocket", "ferrosocket_us"))):
        values = [g["targets"]["wrapper_cost"][key] or 0.0 for g in groups]
        pos = [x + (j - 0.5) * width for x in xs]
        ax.bar(pos, values, width * 0.92, color=COLORS[app], label=LABELS[app])
        for p, v, g in zip(pos, values, groups, strict=True):
            ax.text(p, v, f"{v:.2f}", ha="center", va="bottom" if v >= 0 else "top", fontsize=7)
            pairs = g["targets"]["wrapper_cost"][f"pairs_{app}"]
            ax.plot([p] * len(pairs), pairs, "k.", markersize=3)
    for x, g in zip(xs, groups, strict=True):
        st = g["targets"]["wrapper_cost"]["starlette_us"]
        if st:
            ax.plot([x - width, x + width], [st * WRAPPER_LIMIT] * 2, color="black", linewidth=1.2)
    ax.axhline(0, color="#666666", linewidth=0.6)
    ax.set_xticks(list(xs), names, fontsize=8)
    ax.set_title(
        "wrapper cost: server CPU/rt − raw echo's (dots: repetitions; line: target, Starlette's / 5)",
        fontsize=9,
    )
    ax.set_ylabel("µs", fontsize=8)
    ax.legend(fontsize=8)

    info = report["machine"]
    title = (
        f"ferrosocket load test — {info['cpu']}, {info['cores']} cores; {info['python']}; "
        f"ferrosocket {build_name(info)} build; {info['date'][:10]}"
    )
    save_chart(fig, path, title, report["quick"], dpi=100)
