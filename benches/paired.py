"""Paired, interleaved ratios in one process: ferrosocket against every other variant of the
selected operations of ``test_bench_python.py``, round by round.

    .venv/bin/python benches/paired.py json            # operations whose id contains "json"
    .venv/bin/python benches/paired.py json_send --pairs 101

For a busy machine: where ``report.py`` times all rounds of one variant, then all of the next,
this alternates single rounds of ferrosocket and the other variant (A B, then B A, ...) with the
same number of operations per round, and reports the median of the per-pair ratios with its
interquartile range; load that comes and goes hits both sides of most pairs alike. Every
variant's result is checked first, as in the suite. GC is off while timing.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_bench_python as suite  # noqa: E402
from operations import OPERATIONS  # noqa: E402


def _round(bench: suite.Bench, n: int) -> float:
    args = bench.args_for(n)
    start = time.perf_counter()
    bench.target(*args)
    return (time.perf_counter() - start) / n


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("select", help="a substring of the operation ids (e.g. json)")
    parser.add_argument("--pairs", type=int, default=61, help="pairs of rounds per comparison (default 61)")
    args = parser.parse_args()

    targets = {op.id: {t.reference: t for t in op.targets} for op in OPERATIONS}
    ops = [op.id for op in OPERATIONS if args.select in op.id]
    head = ("operation", "against", "ferrosocket ns", "other ns", "ratio", "IQR")
    print(f"{head[0]:26} {head[1]:28} {head[2]:>14} {head[3]:>10} {head[4]:>6} {head[5]:>13}  target")
    for op in ops:
        benches = {c.variant: c.build() for c in suite.CASES if c.op == op}
        for variant, bench in benches.items():
            got = bench.check() if bench.check is not None else bench.target(*bench.args_for(3))
            assert got == suite.EXPECTED[op], f"{op} {variant} gave {got!r}"
        ours = benches.pop("ferrosocket")
        n, _ = suite.calibrate(ours)
        for variant, other in benches.items():
            ratios, a_ns, b_ns = [], [], []
            gc.collect()
            gc.disable()
            try:
                for i in range(args.pairs):
                    if i % 2:
                        b, a = _round(other, n), _round(ours, n)
                    else:
                        a, b = _round(ours, n), _round(other, n)
                    ratios.append(a / b)
                    a_ns.append(a * 1e9)
                    b_ns.append(b * 1e9)
            finally:
                gc.enable()
            q1, median, q3 = statistics.quantiles(ratios, n=4)
            target = targets[op].get(variant)
            verdict = (
                "" if target is None else f"{target.describe()}: {'met' if target.met(median) else 'NOT met'}"
            )
            print(
                f"{op:26} {variant:28} {statistics.median(a_ns):14,.0f} {statistics.median(b_ns):10,.0f} "
                f"{median:6.3f} [{q1:.3f}, {q3:.3f}]  {verdict}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
