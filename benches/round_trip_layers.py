"""Where the text round trip's time goes, layer by layer (ns per call, one process).

    python benches/round_trip_layers.py        # after `make build-release`

The issue-6 target for the text and bytes round trips was 1.5x the bare ``await receive()`` /
``await send()`` loop, which is below what any class with coroutine methods costs; the target
now is 1.15x the check-free class (benches/operations.py). This script measures, side by side
on the benchmark's own in-memory callables (``benches/test_bench_python.py``: ``Channel``,
``accepted``, driven without an event loop), what each layer adds:

* bare: ``message = await receive(); await send({...})``, the floor;
* no-check wrappers (``check_free.CheckFree``, the suite's "check-free class"):
  ``async def receive_text(self): return (await self._receive())["text"]`` and the same for
  ``send_text``: one Python coroutine layer per call and nothing else, the least an ``async def``
  method can cost (issue 2 requires the methods to be real coroutines);
* no-op crossings (``check_free.BoundaryFloor``): the no-check wrappers plus the three calls
  into compiled code that checks made there need (before and after the awaited ``receive()``,
  before the ``send()``), each a builtin that does nothing: the floor of checking in Rust;
* ferrosocket: ``receive_text()`` / ``send_text()``, whose extra work over the no-check wrappers
  is the Rust checks (state, message type, payload), timed alone in the last two lines.

Each figure is the best of 7 rounds of 200,000 calls, GC off.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import test_bench_python as tb  # noqa: E402 (needs the path above)
from check_free import BoundaryFloor, CheckFree  # noqa: E402

import ferrosocket as fs  # noqa: E402

N = 200_000
ROUNDS = 7


def drive(coro: Coroutine[Any, Any, Any]) -> None:
    try:
        coro.send(None)
    except StopIteration:
        pass
    else:
        raise RuntimeError("the in-memory callables never suspend")


def best_ns(make: Callable[[], Coroutine[Any, Any, Any]]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        coro = make()
        start = time.perf_counter()
        drive(coro)
        best = min(best, (time.perf_counter() - start) / N * 1e9)
    return best


def main() -> None:
    gc.disable()
    ws = tb.accepted(fs.WebSocket, tb.Channel(tb.TEXT_MESSAGE))
    receive, send = ws._receive, ws._send
    plain = CheckFree(receive, send)
    crossing = BoundaryFloor(receive, send)
    message = tb.TEXT_MESSAGE

    async def bare_round_trip() -> None:
        for _ in range(N):
            got = await receive()
            await send({"type": "websocket.send", "text": got["text"]})

    async def no_check_round_trip() -> None:
        for _ in range(N):
            await plain.send_text(await plain.receive_text())

    async def boundary_round_trip() -> None:
        for _ in range(N):
            await crossing.send_text(await crossing.receive_text())

    async def ferrosocket_round_trip() -> None:
        for _ in range(N):
            await ws.send_text(await ws.receive_text())

    async def bare_receive() -> None:
        for _ in range(N):
            (await receive())["text"]

    async def no_check_receive() -> None:
        for _ in range(N):
            await plain.receive_text()

    async def ferrosocket_receive() -> None:
        for _ in range(N):
            await ws.receive_text()

    async def bare_send() -> None:
        for _ in range(N):
            await send({"type": "websocket.send", "text": "x"})

    async def no_check_send() -> None:
        for _ in range(N):
            await plain.send_text("x")

    async def ferrosocket_send() -> None:
        for _ in range(N):
            await ws.send_text("x")

    async def receive_checks() -> None:
        for _ in range(N):
            ws._begin_receive_data()
            ws._finish_receive_text(message)

    async def send_checks() -> None:
        for _ in range(N):
            ws._text_message("x")

    rows = [
        ("round trip: bare", bare_round_trip),
        ("round trip: no-check async def wrappers", no_check_round_trip),
        ("round trip: no-check wrappers + 3 no-op crossings", boundary_round_trip),
        ("round trip: ferrosocket receive_text + send_text", ferrosocket_round_trip),
        ("receive: bare", bare_receive),
        ("receive: no-check receive_text", no_check_receive),
        ("receive: ferrosocket receive_text", ferrosocket_receive),
        ("send: bare", bare_send),
        ("send: no-check send_text", no_check_send),
        ("send: ferrosocket send_text", ferrosocket_send),
        ("Rust checks of receive_text alone", receive_checks),
        ("Rust checks + message of send_text alone", send_checks),
    ]
    results = {label: best_ns(make) for label, make in rows}
    for label, ns in results.items():
        print(f"{label:52s} {ns:8.1f} ns")
    bare = results["round trip: bare"]
    no_check = results["round trip: no-check async def wrappers"] / bare
    ours = results["round trip: ferrosocket receive_text + send_text"] / bare
    print(f"ratios to bare: no-check wrappers {no_check:.2f}x, ferrosocket {ours:.2f}x (old target 1.5x)")
    crossing = results["round trip: no-check wrappers + 3 no-op crossings"] / bare
    print(f"ferrosocket / no-check wrappers: {ours / no_check:.2f}x (target 1.15x)")
    print(f"no-op crossings / no-check wrappers: {crossing / no_check:.2f}x (the floor of checks in Rust)")
    print(f"ferrosocket / no-op crossings: {ours / crossing:.2f}x (what the checks cost beyond crossing)")


if __name__ == "__main__":
    main()
