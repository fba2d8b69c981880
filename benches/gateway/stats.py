"""The median of per-round values and its distribution-free confidence interval.

The interval is the order-statistics one: with n values sorted, [x_(j), x_(n+1-j)] covers the
median with probability 1 - 2 P(B <= j - 1), B ~ Binomial(n, 1/2); j is the largest that keeps
the coverage at least ``level``. Below 6 values no such j exists for 95%: the interval is then
the whole range, and its (lower) coverage is reported with it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from math import comb


@dataclass(frozen=True)
class Estimate:
    median: float
    low: float
    high: float
    coverage: float  # of [low, high]: at least the level asked for, unless there are too few values
    n: int

    def show(self, digits: int = 2) -> str:
        if self.n == 1:
            return f"{self.median:.{digits}f}"
        short = "" if self.coverage >= 0.95 else f", {self.coverage:.0%}"
        return f"{self.median:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}{short}]"


def median_ci(values: list[float], level: float = 0.95) -> Estimate | None:
    if not values:
        return None
    xs = sorted(values)
    n = len(xs)
    probs = [comb(n, i) / 2**n for i in range(n + 1)]
    alpha = (1 - level) / 2
    j, tail = 1, probs[0]  # tail: P(B <= j - 1)
    while j < n - j and tail + probs[j] <= alpha:
        tail += probs[j]
        j += 1
    return Estimate(statistics.median(xs), xs[j - 1], xs[n - j], 1 - 2 * tail, n)
