"""Where a new connection's cost goes when the caches are cold (one process, paired rounds).

    python benches/handshake_cold.py            # after `make build-release`
    python benches/handshake_cold.py --rounds 15 --connections 400 --evict-mb 8

The gateway benchmark's handshake (benches/gateway: the browser-like upgrade, read the headers,
cookies, token and query, accept, one message each way, close) costs ferrosocket a fifth of
Starlette's extra over the raw ASGI app when timed in a loop, but about twice that share end to
end on uvicorn. The difference is the CPU caches: in a loop every connection finds the code and
data of the one before it in cache; in a server, the server's own work between two connections
of an app evicts them. This script times the same handshake, in process, on the same endpoints
as the gateway apps (gateway/apps.py, with a scope shaped as uvicorn's), both ways:

* warm: connection after connection, as a micro-benchmark does;
* cold: ``--evict-mb`` of memory written before each connection (a cache line in 64 bytes), so
  each starts with the caches (and TLBs) holding none of it, as in a busy server.

Each round times every app's ``--connections`` connections in a random order; per round it takes
(ferrosocket - raw) / (Starlette - raw), the gateway target's ratio, and prints the median over
rounds with its 95% interval. Then, to show what a cold start costs per call: one call into
compiled code (a Rust getter, ``ws.client_state``) against a Python attribute read
(``ws._receive``), each right after an eviction.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway.apps import choose  # noqa: E402
from gateway.stats import median_ci  # noqa: E402
from gateway.workloads import HANDSHAKE_PATH, browser_upgrade, visitor  # noqa: E402

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
APPS = ("raw", "starlette", "ferrosocket")


def uvicorn_scope(n: int) -> dict[str, Any]:
    """The scope uvicorn (websockets-sansio) gives the gateway's handshake ``n``."""
    v = visitor(n, "cold")
    request = browser_upgrade("127.0.0.1", 8000, base64.b64encode(n.to_bytes(16, "big")), v).decode()
    lines = request.split("\r\n")
    headers = [
        (name.lower().encode(), value.encode())
        for name, _, value in (line.partition(": ") for line in lines[1:] if line)
    ]
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000 + n % 20000),
        "root_path": "",
        "path": HANDSHAKE_PATH,
        "raw_path": HANDSHAKE_PATH.encode(),
        "query_string": v.query.encode(),
        "headers": headers,
        "subprotocols": [],
        "state": {},
        "extensions": {"websocket.http.response": {}},
    }


class Peer:
    """The server's side of one connection: 'connect', then the client's one message."""

    def __init__(self, n: int) -> None:
        self.incoming = [{"type": "websocket.receive", "text": f"hello {n}"}, {"type": "websocket.connect"}]
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return self.incoming.pop()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


class Evictor:
    def __init__(self, megabytes: int) -> None:
        self.buffer = bytearray(megabytes << 20)
        self.lines = bytes(len(self.buffer) // 64)

    def __call__(self) -> None:
        self.buffer[::64] = self.lines  # one write per cache line


async def burst(app: App, scopes: list[dict[str, Any]], evict: Evictor | None) -> float:
    """Microseconds per connection of ``app`` over ``scopes`` (the eviction not counted)."""
    total = 0.0
    for n, scope in enumerate(scopes):
        peer = Peer(n)
        if evict is not None:
            evict()
        start = time.perf_counter()
        await app(scope, peer.receive, peer.send)
        total += time.perf_counter() - start
        if [m["type"] for m in peer.sent] != ["websocket.accept", "websocket.send", "websocket.close"]:
            raise SystemExit(f"unexpected messages from the app: {peer.sent}")
    return total / len(scopes) * 1e6


async def series(
    apps: dict[str, App], rounds: int, connections: int, evict: Evictor | None
) -> tuple[dict[str, list[float]], list[float]]:
    order = random.Random(7)
    costs: dict[str, list[float]] = {name: [] for name in apps}
    ratios = []
    for round_number in range(rounds + 1):  # the first is a warm-up
        scopes = [uvicorn_scope(round_number * connections + i) for i in range(connections)]
        names = list(apps)
        order.shuffle(names)
        this = {name: await burst(apps[name], [dict(s) for s in scopes], evict) for name in names}
        if round_number == 0:
            continue
        for name, cost in this.items():
            costs[name].append(cost)
        ratios.append((this["ferrosocket"] - this["raw"]) / (this["starlette"] - this["raw"]))
    return costs, ratios


def cold_call_costs(evict: Evictor, samples: int) -> dict[str, float]:
    """Median microseconds of one call right after an eviction, per kind of call."""
    import ferrosocket

    ws = ferrosocket.WebSocket(uvicorn_scope(0), None, None)
    calls: dict[str, Callable[[], object]] = {
        "nothing (the timing itself)": lambda: None,
        "Python attribute (ws._receive)": lambda: ws._receive,
        "Rust getter (ws.client_state)": lambda: ws.client_state,
    }
    out = {}
    for name, call in calls.items():
        times = []
        for _ in range(samples):
            evict()
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times) * 1e6
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--connections", type=int, default=300, help="per app and round")
    parser.add_argument("--evict-mb", type=int, default=8)
    args = parser.parse_args()
    apps = {name: choose(name)[0] for name in APPS}
    evict = Evictor(args.evict_mb)
    print(f"handshake in one process: {args.rounds} rounds (+1 warm-up), {args.connections} connections each")
    print("| caches | raw ASGI | Starlette | ferrosocket | (ferrosocket - raw) / (Starlette - raw) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, evictor in (("warm", None), (f"cold ({args.evict_mb} MB evicted)", evict)):
        costs, ratios = asyncio.run(series(apps, args.rounds, args.connections, evictor))
        medians = [f"{statistics.median(costs[name]):.1f} µs" for name in APPS]
        estimate = median_ci(ratios)
        assert estimate is not None
        print(f"| {label} | {' | '.join(medians)} | {estimate.show()} |")
    print()
    print("one call right after an eviction (median of 400):")
    for name, cost in cold_call_costs(evict, 400).items():
        print(f"  {name:34} {cost:5.2f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
