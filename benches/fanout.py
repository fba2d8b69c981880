"""Fan-out of one JSON message to 1,000 in-memory subscribers: ns per delivered message.

    .venv/bin/python benches/fanout.py [--subscribers 1000] [--rounds 200] [--check]

Run it on a release build (`make build-release`). Every variant sends the same ~1 KB chat
message (nested, unicode, two nulls, a UUID-shaped string) to the same accepted connections,
whose ASGI ``send`` appends the message to a list (checked after every run: each subscriber got
exactly the expected payload once). In each round the variants run once each, in a random order,
and each round gives one ratio per variant against the floor of the same round (paired and
interleaved, so drifts of the machine cancel out); the table shows medians over the rounds and
the 2.5-97.5 percentiles of the ratios. GC is off while timing.

* floor: ``payload = orjson.dumps(data).decode()``, then ``await send({"type":
  "websocket.send", "text": payload})`` for each subscriber's ASGI ``send``: no checks at all;
* no-check send_text loop: the encoded payload through an ``async def send_text`` that only
  awaits ``send``: one coroutine layer, the least any ``send_text`` method costs;
* broadcast: ``await ferrosocket.broadcast(websockets, data, "json")``;
* ferrosocket send_json loop: ``for ws in websockets: await ws.send_json(data)``;
* Starlette send_json loop: the same with Starlette 1.10.0's ``WebSocket``.

Target (issue 13): broadcast <= 1.05x the floor per delivered message.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket as StarletteWebSocket

import ferrosocket
from ferrosocket import WebSocket

SCOPE = {"type": "websocket", "path": "/chat", "headers": [], "query_string": b""}
TARGET = 1.05


def chat_message() -> dict[str, Any]:
    """About 1 KB of JSON: nested, unicode, two nulls, a UUID string."""
    return {
        "event": "message",
        "id": "0b4e9f5c-3d2a-4c1b-9e8f-7a6b5c4d3e2f",
        "room": {"name": "général", "members": 42, "topic": None},
        "author": {"name": "Zoë", "avatar": None, "roles": ["member", "moderator"]},
        "text": "Bonjour à tous 👋 " * 24,
        "mentions": [{"name": "ann", "offset": 3}, {"name": "bob", "offset": 17}],
        "sent_at": 1_764_000_000.25,
    }


class Subscriber:
    """One in-memory connection's ASGI callables."""

    __slots__ = ("messages",)

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


class NoCheckSender:
    """``send_text`` as one ``async def`` layer over ``send`` and nothing else."""

    __slots__ = ("_send",)

    def __init__(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self._send = send

    async def send_text(self, data: str) -> None:
        await self._send({"type": "websocket.send", "text": data})


async def accepted(cls: Any, subscribers: list[Subscriber]) -> list[Any]:
    websockets = []
    for subscriber in subscribers:
        websocket = cls(dict(SCOPE), subscriber.receive, subscriber.send)
        await websocket.accept()
        websockets.append(websocket)
    for subscriber in subscribers:
        subscriber.messages.clear()
    return websockets


def variants(data: Any, subscribers: int) -> tuple[dict[str, Callable[[], Awaitable[Any]]], list[Subscriber]]:
    """The fan-outs to time, and every subscriber they send to."""
    plain = [Subscriber() for _ in range(subscribers)]
    sends = [subscriber.send for subscriber in plain]
    wrapped = [Subscriber() for _ in range(subscribers)]
    no_check = [NoCheckSender(subscriber.send) for subscriber in wrapped]
    ours = [Subscriber() for _ in range(subscribers)]
    loop = [Subscriber() for _ in range(subscribers)]
    theirs = [Subscriber() for _ in range(subscribers)]
    websockets = asyncio.get_event_loop().run_until_complete(accepted(WebSocket, ours))
    loop_websockets = asyncio.get_event_loop().run_until_complete(accepted(WebSocket, loop))
    starlette = asyncio.get_event_loop().run_until_complete(accepted(StarletteWebSocket, theirs))

    async def floor() -> None:
        payload = orjson.dumps(data).decode()
        for send in sends:
            await send({"type": "websocket.send", "text": payload})

    async def no_check_loop() -> None:
        payload = orjson.dumps(data).decode()
        for sender in no_check:
            await sender.send_text(payload)

    async def broadcast() -> None:
        result = await ferrosocket.broadcast(websockets, data, "json")
        assert result.ok

    async def send_json_loop() -> None:
        for websocket in loop_websockets:
            await websocket.send_json(data)

    async def starlette_loop() -> None:
        for websocket in starlette:
            await websocket.send_json(data)

    timed: dict[str, Callable[[], Awaitable[Any]]] = {
        "floor": floor,
        "no-check send_text loop": no_check_loop,
        "broadcast": broadcast,
        "ferrosocket send_json loop": send_json_loop,
        "Starlette send_json loop": starlette_loop,
    }
    groups = {"floor": plain, "no-check send_text loop": wrapped, "broadcast": ours}
    groups |= {"ferrosocket send_json loop": loop, "Starlette send_json loop": theirs}
    return timed, [s for name in timed for s in groups[name]]


def check(subscribers: list[Subscriber], data: Any) -> None:
    """Every subscriber got the message once; clears them for the next run."""
    expected = json.loads(json.dumps(data))
    for subscriber in subscribers:
        (message,) = subscriber.messages
        assert message["type"] == "websocket.send" and json.loads(message["text"]) == expected
        subscriber.messages.clear()


def run(subscribers: int, rounds: int) -> dict[str, list[float]]:
    data = chat_message()
    timed, everyone = variants(data, subscribers)
    loop = asyncio.get_event_loop()
    per_delivery: dict[str, list[float]] = {name: [] for name in timed}
    names = list(timed)
    for warmup in range(3):
        for name in names:
            loop.run_until_complete(timed[name]())
        check(everyone, data) if warmup == 0 else [s.messages.clear() for s in everyone]
    gc.disable()
    try:
        for _ in range(rounds):
            random.shuffle(names)
            for name in names:
                coroutine = timed[name]()
                start = time.perf_counter_ns()
                loop.run_until_complete(coroutine)
                per_delivery[name].append((time.perf_counter_ns() - start) / subscribers)
            gc.enable()
            check(everyone, data)
            gc.disable()
    finally:
        gc.enable()
    return per_delivery


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report(per_delivery: dict[str, list[float]], subscribers: int) -> bool:
    floor = per_delivery["floor"]
    print(f"fan-out of one ~1 KB JSON message to {subscribers:,} in-memory subscribers, asyncio")
    print(f"{'variant':28} {'ns/delivery':>12} {'x floor (median, 95% of rounds)':>34}")
    broadcast_ratio = 0.0
    for name, values in per_delivery.items():
        ratios = [v / f for v, f in zip(values, floor, strict=True)]
        median = statistics.median(ratios)
        if name == "broadcast":
            broadcast_ratio = median
        spread = f"{percentile(ratios, 0.025):.2f}-{percentile(ratios, 0.975):.2f}"
        print(f"{name:28} {statistics.median(values):12,.0f} {median:20.3f} ({spread})")
    starlette = statistics.median(per_delivery["Starlette send_json loop"])
    ours = statistics.median(per_delivery["ferrosocket send_json loop"])
    print(f"ferrosocket send_json loop / Starlette's: {ours / starlette:.2f}x")
    met = broadcast_ratio <= TARGET
    print(f"target: broadcast <= {TARGET}x the floor: {broadcast_ratio:.3f}x, {'met' if met else 'NOT met'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    asyncio.set_event_loop(asyncio.new_event_loop())
    met = report(run(args.subscribers, args.rounds), args.subscribers)
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
