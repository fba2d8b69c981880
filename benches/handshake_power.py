"""How many handshake bursts per app per round a gateway run needs to resolve its 0.3 line.

    python benches/handshake_power.py RUN.json [RUN.json ...]     # runs saved with --out
    python benches/handshake_power.py runs/*.json --server granian --passes 3,6,9

The handshake target, (ferrosocket - raw) / (Starlette - raw) <= 0.3 "in every run", counts a run
only when the top of its 95% interval is under the line. Each burst's server CPU per connection
varies by about as much as ferrosocket's whole extra over the raw app, so how often a run holds the
line depends on the benchmark's precision as well as on ferrosocket's true ratio.

This script reads saved runs, pools the within-round deviations of their handshake bursts (each
burst minus the mean of its app's bursts in that round, scaled for the degrees of freedom: the
noise that pooling more bursts in a round averages out) and simulates runs of ``--rounds`` rounds
with ``P`` bursts per app per round, for several true ratios: each round's ratio from the means of
P drawn deviations around each app's cost; the median and its interval as the gateway benchmark
computes them (gateway/stats.py). It prints, per P and ratio, the interval's mean half-width and
the share of runs whose top is at or under the line, and, to check the model, how many of the
given runs held the line with what their bursts per round were.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway.stats import median_ci  # noqa: E402

APPS = ("raw", "starlette", "ferrosocket")
LINE = 0.3


def handshake_series(runs: list[dict[str, Any]], server: str) -> list[dict[str, Any]]:
    return [s for run in runs for s in run["series"] if s["server"] == server]


def deviations(series: list[dict[str, Any]]) -> list[float]:
    """Each measured handshake burst's CPU per connection minus its app's mean in its round."""
    out: list[float] = []
    for result in series:
        by_round: defaultdict[tuple[str, int], list[float]] = defaultdict(list)
        for burst in result["bursts"]:
            if burst["workload"] == "handshake" and burst["round"] >= 0:
                by_round[burst["contender"], burst["round"]].append(burst["cpu_us_per_unit"])
        for costs in by_round.values():
            if len(costs) > 1:
                mean, scale = statistics.fmean(costs), (len(costs) / (len(costs) - 1)) ** 0.5
                out.extend((c - mean) * scale for c in costs)
    return out


def observed(runs: list[dict[str, Any]], server: str) -> defaultdict[int, list[bool]]:
    """Per bursts-per-round setting: whether each given run held the handshake line."""
    held: defaultdict[int, list[bool]] = defaultdict(list)
    for run in runs:
        for group in run["groups"]:
            if group["server"] != server or group["workload"] != "handshake":
                continue
            for comparison in group["comparisons"]:
                if comparison["ours"] == "ferrosocket" and comparison["met"] is not None:
                    held[run["args"]["handshake_passes"]].append(comparison["met"])
    return held


def simulated_run(noise: list[float], costs: dict[str, float], passes: int, rounds: int) -> Any:
    values = []
    for _ in range(rounds):
        mean = {app: cost + statistics.fmean(random.choices(noise, k=passes)) for app, cost in costs.items()}
        values.append((mean["ferrosocket"] - mean["raw"]) / (mean["starlette"] - mean["raw"]))
    return median_ci(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path, help="gateway runs saved with --out")
    parser.add_argument("--server", default="granian")
    parser.add_argument("--passes", default="3,6,9", help="bursts per app per round to simulate")
    parser.add_argument("--ratios", default="0.15,0.2,0.25", help="true ratios to simulate")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--trials", type=int, default=1000, help="simulated runs per setting")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)

    runs = [json.loads(path.read_text()) for path in args.runs]
    series = handshake_series(runs, args.server)
    noise = deviations(series)
    if len(noise) < 30:
        sys.exit(f"{len(noise)} handshake bursts on {args.server} in rounds of more than one: too few")
    medians = {
        app: statistics.median(
            g["contenders"][app]["cost"]["median"]
            for run in runs
            for g in run["groups"]
            if g["server"] == args.server and g["workload"] == "handshake"
        )
        for app in APPS
    }
    extra = medians["starlette"] - medians["raw"]
    print(
        f"{args.server}: {len(runs)} runs, {len(noise):,} bursts; one burst's deviation within its "
        f"round {statistics.stdev(noise):.1f} µs per connection (standard deviation); raw app "
        f"{medians['raw']:.1f} µs, Starlette's extra {extra:.1f} µs (medians over the runs)"
    )
    for passes, held in sorted(observed(runs, args.server).items()):
        print(f"  given runs, {passes} bursts per app per round: {sum(held)} of {len(held)} held the line")
    print(
        f"simulated, {args.rounds} rounds, {args.trials:,} runs per setting: "
        "half-width / share holding the line"
    )
    ratios = [float(r) for r in args.ratios.split(",")]
    print("  bursts per round " + "".join(f"  ratio {r:<14}" for r in ratios))
    for passes in (int(p) for p in args.passes.split(",")):
        cells = []
        for ratio in ratios:
            costs = {"raw": medians["raw"], "starlette": medians["raw"] + extra}
            costs["ferrosocket"] = medians["raw"] + ratio * extra
            estimates = [simulated_run(noise, costs, passes, args.rounds) for _ in range(args.trials)]
            width = statistics.fmean((e.high - e.low) / 2 for e in estimates)
            holding = sum(e.high <= LINE for e in estimates) / len(estimates)
            cells.append(f"  ±{width:.3f} / {holding:6.1%}  ")
        print(f"  {passes:>17} " + "".join(cells))


if __name__ == "__main__":
    main()
