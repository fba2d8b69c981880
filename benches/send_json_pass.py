"""What `send_json`'s pass over the data costs: the encoder alone, against orjson by hand.

    python benches/send_json_pass.py                # after `make build-release`
    python benches/send_json_pass.py --rounds 60 --calls 500

`send_json` encodes with orjson only once a pass over the data has found that orjson writes
`json.dumps`' value (src/python/json_exact.rs); the pass reads a dict's items straight from its
entry table (src/python/dict_entries.rs). This script times `ferrosocket._core.dumps_text(data)`
(the pass, orjson, the str) against `orjson.dumps(data).decode()`, on the 16 KB page of chat
history with nulls (json_payloads.py) in two shapes: as written in Python (dict displays: tables
of str keys) and as `orjson.loads` makes it (its objects of nine keys or more get a table for keys
of any type, as every dict made for a known size does): what an echo or a relay sends back.
Rounds alternate the four timings in a random order; it prints the median µs per call of each,
and per shape the median over rounds of the difference, the pass's cost, with a 95% interval.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import json_payloads  # noqa: E402
from gateway.stats import median_ci  # noqa: E402

from ferrosocket import _core  # noqa: E402


def per_call(function: Callable[[Any], Any], data: Any, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function(data)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=300, help="calls per timing")
    args = parser.parse_args()

    written = json_payloads.PAYLOADS["16kb_nulls"]
    shapes = {"as written": written, "as orjson.loads makes it": orjson.loads(orjson.dumps(written))}
    by_hand: Callable[[Any], Any] = lambda data: orjson.dumps(data).decode()  # noqa: E731
    encoders = {"dumps_text": _core.dumps_text, "orjson.dumps + decode": by_hand}
    for data in shapes.values():
        assert _core.dumps_text(data) == by_hand(data)  # the same text: the pass found it exact

    timings: dict[tuple[str, str], list[float]] = {(s, e): [] for s in shapes for e in encoders}
    for _ in range(args.rounds):
        order = list(timings)
        random.shuffle(order)
        for shape, encoder in order:
            timings[shape, encoder].append(per_call(encoders[encoder], shapes[shape], args.calls))

    print(f"16 KB page with nulls, µs per call (medians of {args.rounds} rounds of {args.calls} calls):")
    print("| data | dumps_text | orjson.dumps + decode | the pass: difference [95% CI] |")
    print("| --- | ---: | ---: | ---: |")
    for shape in shapes:
        ours, hand = timings[shape, "dumps_text"], timings[shape, "orjson.dumps + decode"]
        diff = median_ci([a - b for a, b in zip(ours, hand, strict=True)])
        shown = diff.show() if diff else "—"
        print(f"| {shape} | {statistics.median(ours):.2f} | {statistics.median(hand):.2f} | {shown} |")
    print(f"dict tables read directly: {_core._dict_tables_read_directly()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
