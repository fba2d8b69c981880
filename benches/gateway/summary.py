"""The gateway benchmark's summary: per-round ratios, their medians with 95% confidence intervals,
the targets, the tables.

Every measured round gives each contender's server CPU per unit; a comparison takes, in each
round, the ratio of two contenders' costs from that round's bursts (or of their costs above a
floor's: (ours - floor) / (theirs - floor)), and is summarised by the median over rounds with
its 95% confidence interval (stats.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from gateway import (
    APPS,
    BROADCAST,
    EXTRA_APPS,
    LABELS,
    SERVERS,
    UNITS,
    WORKLOAD_LABELS,
    WORKLOADS,
    contenders,
    label,
)
from gateway.stats import Estimate, median_ci


@dataclass(frozen=True)
class Comparison:
    workloads: tuple[str, ...]
    ours: str
    theirs: str
    limit: float | None = None  # a target: the ratio at most this; None: shown for information
    floor: str | None = None  # compare the costs above this contender's
    # The target holds "in every run": not only the median, the whole 95% interval is under the
    # limit (so another run's median falls under it too); each round's value is shown.
    every_run: bool = False
    show_rounds: bool = False  # each round's value in the table (as for an "every run" target)

    def value(self, costs: dict[str, float]) -> float | None:
        """The ratio in one round (``costs``: that round's cost per contender)."""
        if self.ours not in costs or self.theirs not in costs:
            return None
        if self.floor is None:
            return costs[self.ours] / costs[self.theirs]
        if self.floor not in costs:
            return None
        above = costs[self.theirs] - costs[self.floor]
        return (costs[self.ours] - costs[self.floor]) / above if above else None

    def describe(self, workload: str) -> str:
        ours, theirs = label(workload, self.ours), label(workload, self.theirs)
        if self.floor is None:
            return f"{ours} / {theirs}"
        floor = label(workload, self.floor).split(" (")[0]
        return f"({ours} − {floor}) / ({theirs} − {floor})"


JSON = ("json1k", "json16k")
TARGETS = (
    Comparison(JSON, "ferrosocket", "starlette-orjson", 1.05),
    Comparison(JSON, "ferrosocket", "starlette", 0.65),
    Comparison(("fanout",), BROADCAST, "raw", 1.05),
    Comparison(("fanout",), "ferrosocket", "starlette", 0.55),
    Comparison(("handshake",), "ferrosocket", "starlette", 0.3, floor="raw", every_run=True),
)
SHOWN = (
    Comparison((*JSON, "fanout"), "fastapi-install", "fastapi"),
    Comparison(("handshake",), "fastapi-install", "fastapi", floor="raw"),
    # The floor of a class (--apps ...,check-free): the handshake target's ratio for a class that
    # checks nothing, measured in the same rounds as ferrosocket's, and the two classes' costs.
    Comparison(("handshake",), "check-free", "starlette", floor="raw", show_rounds=True),
    Comparison(("handshake",), "ferrosocket", "check-free"),
)


def costs_by_round(bursts: list[dict[str, Any]], workload: str) -> dict[int, dict[str, float]]:
    """Measured rounds' cost per unit (µs) per contender, for one workload of one server: a
    round's bursts of one contender (the handshake's passes) pooled, CPU over units."""
    cpu: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    units: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in bursts:
        if b["workload"] == workload and b["round"] >= 0 and b["cpu_us_per_unit"] is not None:
            cpu[b["round"]][b["contender"]] += b["cpu_us_per_unit"] * b["units"]
            units[b["round"]][b["contender"]] += b["units"]
    return {r: {c: cpu[r][c] / units[r][c] for c in cpu[r]} for r in sorted(cpu)}


def estimate_dict(e: Estimate | None) -> dict[str, float] | None:
    return (
        None
        if e is None
        else {"median": e.median, "low": e.low, "high": e.high, "coverage": e.coverage, "n": e.n}
    )


def summarise(series: list[dict[str, Any]], apps: list[str], workloads: list[str]) -> list[dict[str, Any]]:
    """One group per server and workload: each contender's cost and ratios, the comparisons."""
    groups = []
    for result in sorted(series, key=lambda r: SERVERS.index(r["server"])):
        bursts = result["bursts"]
        for workload in [w for w in WORKLOADS if w in workloads]:
            rounds = costs_by_round(bursts, workload)
            rows = {}
            for contender in contenders(workload, apps):
                mine = [b for b in bursts if b["workload"] == workload and b["contender"] == contender]
                measured = [b for b in mine if b["round"] >= 0]
                costs = [c[contender] for c in rounds.values() if contender in c]
                vs_starlette = Comparison((workload,), contender, "starlette")
                vs_floor = Comparison((workload,), contender, "raw")
                rows[contender] = {
                    "cost": estimate_dict(median_ci(costs)),
                    "per_round": costs,
                    "x_starlette": estimate_dict(median_ci(ratios(vs_starlette, rounds))),
                    "x_floor": estimate_dict(median_ci(ratios(vs_floor, rounds))),
                    "gc_us_per_unit": median_or_none([b.get("gc_us_per_unit") for b in measured]),
                    "server_busy": median_or_none([b["server_busy"] for b in measured]),
                    "client_cpu_us_per_unit": median_or_none([b["client_cpu_us_per_unit"] for b in measured]),
                    "units_checked": sum(b["units"] for b in mine),
                    "units_planned": sum(b["planned"] for b in mine),
                    "errors": sum(b["error_count"] for b in mine),
                }
            compared = []
            for comparison in (*TARGETS, *SHOWN):
                if workload not in comparison.workloads:
                    continue
                values = ratios(comparison, rounds)
                if not values and comparison.limit is None:
                    continue  # shown for information, and one of its apps did not run
                e = median_ci(values)
                met = None
                if comparison.limit is not None and e is not None:
                    met = (e.high if comparison.every_run else e.median) <= comparison.limit
                compared.append(
                    {
                        "name": comparison.describe(workload),
                        "ours": comparison.ours,
                        "theirs": comparison.theirs,
                        "floor": comparison.floor,
                        "limit": comparison.limit,
                        "every_run": comparison.every_run,
                        "show_rounds": comparison.every_run or comparison.show_rounds,
                        "per_round": values,
                        "estimate": estimate_dict(e),
                        "met": met,
                    }
                )
            groups.append(
                {
                    "server": result["server"],
                    "workload": workload,
                    "rounds": len(rounds),
                    "contenders": rows,
                    "comparisons": compared,
                }
            )
    return groups


def ratios(comparison: Comparison, rounds: dict[int, dict[str, float]]) -> list[float]:
    return [v for costs in rounds.values() if (v := comparison.value(costs)) is not None]


def median_or_none(values: list[float | None]) -> float | None:
    clean = sorted(v for v in values if v is not None)
    return clean[len(clean) // 2] if clean else None


def show(e: dict[str, float] | None, digits: int = 2) -> str:
    if e is None:
        return "—"
    return Estimate(e["median"], e["low"], e["high"], e["coverage"], int(e["n"])).show(digits)


def markdown(head: list[str], right: int, rows: list[list[str]]) -> list[str]:
    """A Markdown table whose columns from ``right`` on are right-aligned."""
    align = ["---" if i < right else "---:" for i in range(len(head))]
    return [f"| {' | '.join(cells)} |" for cells in (head, align, *rows)]


def overview(groups: list[dict[str, Any]]) -> list[str]:
    """Server CPU per unit, medians over rounds: a row per server and workload, a column per app."""
    shown = [c for c in (*APPS, *EXTRA_APPS, BROADCAST) if any(c in g["contenders"] for g in groups)]
    rows = []
    for g in groups:
        cells = [g["server"], f"{WORKLOAD_LABELS[g['workload']]} (µs per {UNITS[g['workload']]})"]
        for contender in shown:
            cost = g["contenders"].get(contender, {}).get("cost")
            cells.append("—" if cost is None else f"{cost['median']:,.1f}")
        rows.append(cells)
    return markdown(["server", "workload", *(LABELS[c] for c in shown)], 2, rows)


def tables(groups: list[dict[str, Any]]) -> str:
    """The overview, the targets, then every contender's figures (× Starlette, × the floor, GC)."""
    figures, targets = [], []
    for g in groups:
        workload = WORKLOAD_LABELS[g["workload"]]
        for contender, row in g["contenders"].items():
            figures.append(
                [
                    g["server"],
                    f"{workload} ({UNITS[g['workload']]})",
                    label(g["workload"], contender),
                    show(row["cost"], 1),
                    "—" if row["gc_us_per_unit"] is None else f"{row['gc_us_per_unit']:.1f}",
                    show(row["x_starlette"]),
                    show(row["x_floor"]),
                    str(row["errors"]),
                    f"{row['units_checked']:,} of {row['units_planned']:,}",
                ]
            )
        for c in g["comparisons"]:
            limit = (
                "—"
                if c["limit"] is None
                else f"≤ {c['limit']}" + (" in every run (95% CI)" if c.get("every_run") else "")
            )
            shown_rounds = c.get("show_rounds", c.get("every_run"))  # (older results: every_run)
            per_round = ", ".join(f"{v:.2f}" for v in c["per_round"]) if shown_rounds else ""
            met = "—" if c["met"] is None else ("**yes**" if c["met"] else "**NO**")
            targets.append([g["server"], workload, c["name"], show(c["estimate"]), per_round, limit, met])
    head = [
        "server",
        "workload",
        "app",
        "server CPU µs per unit",
        "of which GC",
        "× Starlette",
        "× floor",
        "errors",
    ]
    details = markdown([*head, "replies checked"], 3, figures)
    head = [
        "server",
        "workload",
        "ratio of server CPU per unit",
        "median [95% CI]",
        "per round",
        "target",
        "met",
    ]
    return "\n".join(
        [*overview(groups), "", *markdown(head, 3, targets), "", "Per app, medians [95% CI]:", "", *details]
    )


def error_lines(series: list[dict[str, Any]]) -> list[str]:
    """Every error of the run, by server and kind: the run is valid only with none."""
    lines = []
    for result in series:
        errors: Counter[str] = Counter(result["errors"])
        for b in result["bursts"]:
            for why, n in b["errors"].items():
                errors[f"{b['workload']} {LABELS[b['contender']]}: {why}"] += n
        lines += [f"{result['server']}: {why}: {n}" for why, n in sorted(errors.items())]
        for app, problems in result.get("close", {}).get("server_logs", {}).items():
            lines += [f"{result['server']} {app} log: {line}" for line in problems]
    return lines
