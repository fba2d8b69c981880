"""What a cold connection fetches from memory, per app: cachegrind's simulated caches, counted.

    python benches/handshake_cachegrind.py                 # after `make build-release`; needs valgrind
    python benches/handshake_cachegrind.py --connections 200 --evict-mb 4

benches/handshake_cold.py times the gateway's handshake (gateway/apps.py: read the upgrade's
headers, cookies, token and query, accept, one message each way, close) with the caches evicted
before each connection. This script counts instead of timing, so noise does not enter: it runs the
same connections under valgrind's cachegrind (a 32 KB L1i, 48 KB L1d and 2 MB last-level cache,
``--evict-mb`` written before each connection), once with ``--connections`` connections and once
with none, and divides the difference by the connections. Per app it prints the instructions
executed and the cache misses per connection, split by where the code lives: ferrosocket's
extension (its Rust, and the PyO3 and Rust standard library code compiled into it), CPython,
and the rest (libc, other extensions). The eviction writes data: the simulated L1i keeps what it
holds across it, so the code counts are a lower bound for a fully cold connection. A last-level
instruction miss is machine code fetched from memory: that is the cost a new connection pays in a
server whose own work between two connections evicts the app's code. Counts move by 1-3% from
run to run (Python's hash seed changes dict layouts).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

APPS = ("raw", "starlette", "ferrosocket")
CACHES = ["--I1=32768,8,64", "--D1=49152,12,64", "--LL=2097152,16,64"]
SHOWN = {
    "Ir": "instructions",
    "I1mr": "L1i misses",
    "ILmr": "code from memory (LL misses)",
    "D1mr": "L1d read misses",
    "DLmr": "data read from memory (LL read misses)",
}

# Run under cachegrind: warm-up connections, then the counted ones, each after an eviction.
DRIVER = """
import asyncio, sys
sys.path.insert(0, {benches!r})
from handshake_cold import Evictor, Peer, uvicorn_scope
from gateway.apps import choose

app, count, evict = choose({app!r})[0], {count}, Evictor({evict_mb})
evictions_only = {evictions_only!r}

async def main():
    scopes = [uvicorn_scope(n) for n in range(count + 5)]
    for n in range(count + 5):
        peer = Peer(n)
        if n >= 5:
            evict()
            if evictions_only:
                continue
        await app(dict(scopes[n]), peer.receive, peer.send)

asyncio.run(main())
"""


def where(file: str, function: str) -> str:
    # The extension is the only Rust here: its own code and PyO3's, and the Rust standard
    # library's compiled into it (Rust paths have "::"; CPython and libc are C).
    if "::" in function or "/src/python/" in file:
        return "ferrosocket's extension"
    if any(part in file for part in ("Python/", "Objects/", "Modules/", "Include/", "Parser/")):
        return "CPython"
    return "the rest"


def per_connection(
    app: str, count: int, evict_mb: int, scratch: Path, evictions_only: bool = False
) -> dict[str, dict[str, float]]:
    """{where: {event: per connection}}: a run of ``count`` connections minus a run of none."""
    runs = []
    for n in (0, count):
        out = scratch / f"{app}.{n}.{evictions_only}.out"
        run(app, n, evict_mb, out, evictions_only)
        runs.append(counts(out))
    (events, none), (_, some) = runs
    return {
        place: {
            event: (some[place][i] - none.get(place, [0] * len(events))[i]) / count
            for i, event in enumerate(events)
        }
        for place in some
    }


def counts(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    events: list[str] = []
    totals: dict[str, list[int]] = collections.defaultdict(lambda: [0] * len(events))
    file = function = ""
    for line in path.read_text().splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("fl="):
            file = line[3:]
        elif line.startswith("fn="):
            function = line[3:]
        elif line[:1].isdigit():
            row = totals[where(file, function)]
            for i, value in enumerate(line.split()[1:]):
                row[i] += int(value)
    return events, totals


def run(app: str, count: int, evict_mb: int, out: Path, evictions_only: bool = False) -> None:
    benches = str(Path(__file__).resolve().parent)
    driver = DRIVER.format(
        benches=benches, app=app, count=count, evict_mb=evict_mb, evictions_only=evictions_only
    )
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=yes", *CACHES, f"--cachegrind-out-file={out}"]
    subprocess.run([*command, sys.executable, "-c", driver], check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--evict-mb", type=int, default=4, help="more than the simulated 2 MB last level")
    args = parser.parse_args()
    print(f"per connection, {args.connections} cold connections ({args.evict_mb} MB evicted before each,")
    print("the evictions' own counts taken off):")
    print(f"| app | where | {' | '.join(SHOWN.values())} |")
    print("| --- | --- |" + " ---: |" * len(SHOWN))
    with tempfile.TemporaryDirectory() as scratch:
        evictions = per_connection("raw", args.connections, args.evict_mb, Path(scratch), evictions_only=True)
        for app in APPS:
            cost = per_connection(app, args.connections, args.evict_mb, Path(scratch))
            for place in [*sorted(cost), "all"]:
                cells = []
                for event in SHOWN:
                    if place == "all":
                        value = sum(c[event] for c in cost.values()) - sum(
                            e[event] for e in evictions.values()
                        )
                    else:
                        value = cost[place][event] - evictions.get(place, {}).get(event, 0.0)
                    cells.append(f"{value:,.0f}")
                print(f"| {app} | {place} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
