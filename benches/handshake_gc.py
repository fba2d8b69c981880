"""The cyclic GC's share of a handshake, with many connections in flight (one process, no server).

    python benches/handshake_gc.py                 # after `make build-release`
    python benches/handshake_gc.py --in-flight 50 --connections 2000 --rounds 7

In the gateway benchmark the cyclic GC runs about twice as often for ferrosocket's app as for the
raw ASGI app although a ferrosocket connection allocates only a few more objects the collector
counts. What triggers a young-generation collection is CPython's count of allocations minus
deallocations since the last one (``gc.get_count()[0]``, threshold 700), which never goes below
zero: a deallocation at zero is not counted, and collections come as often as such uncounted
deallocations add up to the threshold. A connection's objects made together and freed together
when it ends (the connection, its views, their coroutines) make the count swing, and with many
connections in flight the swings reach zero more often. Objects reused from a free list (CPython's
dicts, tuples and lists; PyO3's ``freelist`` classes) touch the count neither way.

This script runs the gateway's handshake (gateway/apps.py's endpoints: read headers, cookies,
token and query, accept, one message each way, close) for the raw ASGI app, Starlette and
ferrosocket, ``--in-flight`` connections at a time (each await of the ASGI callables yields to the
event loop, so the connections interleave as in a server), on scopes shaped as uvicorn's. Each
round runs every app's ``--connections`` in a random order, after a full collection; per app it
prints the median over rounds (the first is a warm-up) of the CPU time per connection, of the
collector's time per connection (asgi_service.py's ``gc.callbacks`` hook, as in the servers) and
of its collections per 1,000 connections, per generation, and the gateway target's ratio
(ferrosocket - raw) / (Starlette - raw) with its 95% interval.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asgi_service  # noqa: E402  (its gc.callbacks hook counts the collector's work)
from gateway.apps import choose  # noqa: E402
from gateway.stats import median_ci  # noqa: E402
from handshake_cold import APPS, App, uvicorn_scope  # noqa: E402


async def connection(app: App, n: int, scope: dict[str, Any]) -> None:
    """One handshake: 'connect', then the client's one message; every receive and send yields."""
    incoming = [{"type": "websocket.receive", "text": f"hello {n}"}, {"type": "websocket.connect"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(0)
        return incoming.pop()

    async def send(message: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        sent.append(message["type"])

    await app(scope, receive, send)
    if sent != ["websocket.accept", "websocket.send", "websocket.close"]:
        raise SystemExit(f"unexpected messages from the app: {sent}")


async def burst(app: App, first: int, connections: int, in_flight: int) -> dict[str, Any]:
    scopes = [uvicorn_scope(first + i) for i in range(connections)]
    slots = asyncio.Semaphore(in_flight)
    tasks: set[asyncio.Task[None]] = set()

    async def serve(i: int) -> None:
        try:
            await connection(app, first + i, scopes[i])
        finally:
            slots.release()

    gc.collect()
    done = asgi_service.GC_COLLECTIONS  # per generation, updated in place
    seconds, runs = list(asgi_service.GC_SECONDS), list(done)
    started = time.thread_time()
    for i in range(connections):  # a task per connection, as a server makes
        await slots.acquire()
        task = asyncio.create_task(serve(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.wait(set(tasks))
    cpu = time.thread_time() - started
    return {
        "cpu_us": cpu / connections * 1e6,
        "gc_us": (sum(asgi_service.GC_SECONDS) - sum(seconds)) / connections * 1e6,
        "runs_per_1000": [
            (after - before) * 1000 / connections for before, after in zip(runs, done, strict=True)
        ],
    }


async def series(apps: dict[str, App], args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    order = random.Random(11)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in apps}
    for round_number in range(args.rounds + 1):  # the first is a warm-up
        names = list(apps)
        order.shuffle(names)
        for name in names:
            first = (round_number * len(apps) + names.index(name)) * args.connections
            result = await burst(apps[name], first, args.connections, args.in_flight)
            if round_number:
                results[name].append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", type=int, default=2000, help="per app and round")
    parser.add_argument("--in-flight", type=int, default=50, help="connections at a time")
    args = parser.parse_args()
    apps = {name: choose(name)[0] for name in APPS}
    results = asyncio.run(series(apps, args))
    print(
        f"handshake in one process, {args.in_flight} in flight: {args.rounds} rounds (+1 warm-up), "
        f"{args.connections:,} connections per app each"
    )
    print("| app | CPU µs per connection | of which GC | GC collections per 1,000 (generation 0, 1, 2) |")
    print("| --- | ---: | ---: | ---: |")
    for name in APPS:
        rows = results[name]
        runs = ", ".join(f"{statistics.median(r['runs_per_1000'][g] for r in rows):.1f}" for g in range(3))
        cpu = statistics.median(r["cpu_us"] for r in rows)
        gc_us = statistics.median(r["gc_us"] for r in rows)
        print(f"| {name} | {cpu:.2f} | {gc_us:.2f} | {runs} |")
    ratios = [
        (f["cpu_us"] - r["cpu_us"]) / (s["cpu_us"] - r["cpu_us"])
        for r, s, f in zip(results["raw"], results["starlette"], results["ferrosocket"], strict=True)
    ]
    estimate = median_ci(ratios)
    assert estimate is not None
    print(f"(ferrosocket - raw) / (Starlette - raw): {estimate.show()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
