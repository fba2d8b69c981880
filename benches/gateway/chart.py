"""The gateway benchmark's chart (SVG, matplotlib): per server and workload, each contender's
server CPU per unit (median over rounds, whiskers: its 95% confidence interval), labelled with
its ratio to Starlette's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report import build_name, save_chart

from gateway import SERVERS, UNITS, WORKLOAD_LABELS, app_of, label

COLORS = {
    "raw": "#9a9a9a",
    "starlette": "#4a7ab5",
    "starlette-orjson": "#8fb3de",
    "ferrosocket-orjson": "#e8a33d",
    "ferrosocket": "#d2691e",
    "fastapi": "#2e8b57",
    "fastapi-install": "#9acd32",
    "check-free": "#c8c8c8",
}


def write_chart(path: Path, report: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "ferrosocket-gateway"  # stable ids: diffs show real changes
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: a smaller, searchable file
    groups = report["groups"]
    servers = [s for s in SERVERS if any(g["server"] == s for g in groups)]
    workloads = [w for w in report["workloads"] if any(g["workload"] == w for g in groups)]
    if not servers or not workloads:
        return
    fig, axes = plt.subplots(
        len(servers), len(workloads), figsize=(4.2 * len(workloads), 3.4 * len(servers)), squeeze=False
    )
    for g in groups:
        ax = axes[servers.index(g["server"])][workloads.index(g["workload"])]
        names, medians, lows, highs, colors, notes = [], [], [], [], [], []
        for contender, row in g["contenders"].items():
            cost = row["cost"]
            if cost is None:
                continue
            names.append(label(g["workload"], contender).replace(" (floor)", "\n(floor)"))
            medians.append(cost["median"])
            lows.append(cost["median"] - cost["low"])
            highs.append(cost["high"] - cost["median"])
            colors.append(COLORS[app_of(contender)])
            ratio = row["x_starlette"]
            notes.append("" if ratio is None else f"{ratio['median']:.2f}×")
        ys = list(range(len(names)))[::-1]
        ax.barh(ys, medians, xerr=[lows, highs], color=colors, height=0.7, error_kw={"elinewidth": 0.8})
        for y, m, high, note in zip(ys, medians, highs, notes, strict=True):
            ax.text(m + high, y, f" {m:.1f}  {note}", va="center", fontsize=7)  # past the whisker
        ax.set_yticks(ys, names, fontsize=7)
        ax.set_xlim(0, max((m + h for m, h in zip(medians, highs, strict=True)), default=1) * 1.4)
        ax.set_title(f"{g['server']}: {WORKLOAD_LABELS[g['workload']]}", fontsize=8)
        ax.set_xlabel(f"server CPU µs per {UNITS[g['workload']]} (× Starlette's)", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    info = report["machine"]
    rounds = max((g["rounds"] for g in groups), default=0)
    title = (
        f"ferrosocket gateway benchmark: medians of {rounds} rounds, 95% CIs — {info['cpu']}, "
        f"{info['cores']} cores; {info['python']}; ferrosocket {build_name(info)} build; {info['date'][:10]}"
    )
    save_chart(fig, path, title, report["quick"], dpi=100)
