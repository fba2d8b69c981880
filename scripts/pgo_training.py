"""The workload ferrosocket's release builds are optimised for (profile-guided optimisation).

    python scripts/pgo_training.py        # run by scripts/pgo_profile.sh on an instrumented build

What a gateway does most, in the proportions it does it, in one process and on in-memory
``receive``/``send`` callables (the profile records which branches and calls are hot; the
compiler then lays the hot code out together and inlines along it):

* new connections with a browser's upgrade (benches/browser_scope.py: fifteen headers, seven
  cookies, a query string of twelve parameters): the headers, query parameters, cookies, URL and
  client read, then accept, one text message each way, close;
* text, bytes and JSON round trips on open connections, JSON with the payloads of the benchmarks
  (benches/json_payloads.py: small, 1 KB and 16 KB, with and without nulls), both modes;
* ``broadcast()`` of text and JSON to a hundred connections (asyncio).

No error paths: they are rare in a gateway and stay out of the hot layout. Needs only
ferrosocket and orjson (the wheel builds run it on every platform's own interpreter). Checks
what it gets back, so a training run that went wrong fails instead of training on it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))

import browser_scope  # noqa: E402 (needs the path above)
from json_payloads import PAYLOADS  # noqa: E402

import ferrosocket  # noqa: E402

HANDSHAKES = 20_000
ROUND_TRIPS = 20_000  # text and bytes each; JSON: this many small, a fifth 1 KB, a fiftieth 16 KB
BROADCASTS = 200
SUBSCRIBERS = 100


class Peer:
    """The server's side of a connection: pops what the client sent, keeps what the app sent."""

    def __init__(self, incoming: list[dict[str, Any]]) -> None:
        self.incoming = incoming  # popped from the end
        self.sent: list[Any] = []

    async def receive(self) -> dict[str, Any]:
        return self.incoming.pop()

    async def send(self, message: Any) -> None:
        self.sent.append(message)


def scope(i: int) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "wss",
        "server": ("10.0.0.5", 8000),
        "client": ("203.0.113.7", 40000 + i % 20000),
        "root_path": "",
        "path": "/ws/chat",
        "raw_path": b"/ws/chat",
        "query_string": browser_scope.query_string(i),
        "headers": browser_scope.headers(i),
        "subprotocols": [],
        "state": {},
        "extensions": {"websocket.http.response": {}},
    }


def drive(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Runs a coroutine that never suspends (the in-memory peers never do)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the in-memory peer suspended")


async def handshake(i: int, scopes: list[dict[str, Any]]) -> None:
    peer = Peer([{"type": "websocket.receive", "text": f"hello {i}"}, {"type": "websocket.connect"}])
    ws = ferrosocket.WebSocket(scopes[i % len(scopes)], peer.receive, peer.send)
    headers, query = ws.headers, ws.query_params
    read = (
        headers["authorization"],
        headers["origin"],
        headers["user-agent"],
        query["room"],
        query["user"],
        query.getlist("tag"),
        ws.cookies["sessionid"],
        ws.url.path,
        ws.client.host if ws.client else "",
    )
    await ws.accept()
    text = await ws.receive_text()
    await ws.send_text(f"{text} {len(read)}")
    await ws.close()
    if [m["type"] for m in peer.sent] != ["websocket.accept", "websocket.send", "websocket.close"]:
        raise RuntimeError(f"unexpected messages: {peer.sent}")


def connected(incoming: list[dict[str, Any]]) -> tuple[ferrosocket.WebSocket, Peer]:
    peer = Peer(incoming + [{"type": "websocket.connect"}])
    ws = ferrosocket.WebSocket(scope(0), peer.receive, peer.send)
    drive(ws.accept())
    return ws, peer


async def round_trips(ws: ferrosocket.WebSocket, kind: str, count: int) -> None:
    receive, send = getattr(ws, f"receive_{kind}"), getattr(ws, f"send_{kind}")
    for _ in range(count):
        await send(await receive())


async def json_round_trips(ws: ferrosocket.WebSocket, mode: str, count: int) -> None:
    for _ in range(count):
        await ws.send_json(await ws.receive_json(mode=mode), mode=mode)


def messages() -> None:
    for kind, message in (
        ("text", {"type": "websocket.receive", "text": "hello, world"}),
        ("bytes", {"type": "websocket.receive", "bytes": b"\x00\x01hello"}),
    ):
        ws, peer = connected([message] * ROUND_TRIPS)
        drive(round_trips(ws, kind, ROUND_TRIPS))
        if len(peer.sent) != ROUND_TRIPS + 1:
            raise RuntimeError(f"{kind}: {len(peer.sent)} messages sent")
    shares = {"small": 1, "1kb": 5, "16kb": 50}
    for name, payload in PAYLOADS.items():
        count = ROUND_TRIPS // shares[name.split("_")[0]]
        for mode, key, encoded in (
            ("text", "text", ferrosocket_text(payload)),
            ("binary", "bytes", ferrosocket_text(payload).encode()),
        ):
            ws, peer = connected([{"type": "websocket.receive", key: encoded}] * count)
            drive(json_round_trips(ws, mode, count))
            if peer.sent[-1] != {"type": "websocket.send", key: encoded}:
                raise RuntimeError(f"JSON {name} ({mode}): not echoed as sent")


def ferrosocket_text(payload: Any) -> str:
    """The payload as send_json writes it (and a client would send it)."""
    ws, peer = connected([])
    drive(ws.send_json(payload))
    return peer.sent[-1]["text"]  # type: ignore[no-any-return]


async def fan_out() -> None:
    subscribers = [connected([])[0] for _ in range(SUBSCRIBERS)]
    for n in range(BROADCASTS):
        data: Any = f"message {n}" if n % 2 else {"seq": n, "body": PAYLOADS["1kb_nulls"]}
        result = await ferrosocket.broadcast(subscribers, data, "text" if n % 2 else "json")
        if result.delivered != SUBSCRIBERS:
            raise RuntimeError(f"broadcast: {result}")


def main() -> int:
    start = time.perf_counter()
    scopes = [scope(i) for i in range(1_000)]
    for i in range(HANDSHAKES):
        drive(handshake(i, scopes))
    messages()
    asyncio.run(fan_out())
    print(f"pgo training: {ferrosocket.__file__}: done in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
