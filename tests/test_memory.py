"""Memory: reference cycles through WebSockets are collected; a long session does not grow."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import weakref
from collections.abc import Coroutine
from typing import Any

import pytest

from ferrosocket import WebSocket


def make_scope() -> dict[str, Any]:
    return {"type": "websocket", "path": "/", "headers": [(b"host", b"h")], "query_string": b"a=1"}


def test_cycles_through_10000_websockets_are_collected() -> None:
    gc.collect()
    refs = []
    for _ in range(10_000):
        scope = make_scope()
        ws = WebSocket(scope, None, None)
        # Cycles through every place a WebSocket keeps Python objects: the scope (held by the
        # Rust base), the cached views, the instance dict and the state.
        scope["ws"] = ws
        ws.state.me = ws
        _ = (ws.url, ws.headers, ws.query_params)
        ws.extra = [ws]
        refs.append(weakref.ref(ws))
    del scope, ws
    gc.collect()
    alive = sum(1 for r in refs if r() is not None)
    assert alive == 0


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Drives a coroutine whose awaits never suspend (in-memory callables)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the coroutine suspended")


def rss_kib() -> int:
    """This process's resident set, from /proc (the page size is the machine's: 4 KiB on x86_64,
    up to 64 KiB on aarch64 kernels)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux: reads the resident set from /proc")
def test_a_million_messages_through_one_connection_do_not_grow_memory() -> None:
    incoming = {"type": "websocket.receive", "text": "hello"}
    sent = 0

    async def receive() -> dict[str, Any]:
        return incoming

    async def send(message: Any) -> None:
        nonlocal sent
        sent += 1

    ws = WebSocket(make_scope(), receive, send)
    connect = {"type": "websocket.connect"}

    async def first() -> dict[str, Any]:
        return connect

    ws._receive = first
    run_sync(ws.accept())
    ws._receive = receive

    async def session(n: int) -> None:
        for _ in range(n):
            text = await ws.receive_text()
            await ws.send_text(text)

    run_sync(session(100_000))  # warm up: caches, allocator pools
    gc.collect()
    before = rss_kib()
    run_sync(session(900_000))
    gc.collect()
    after = rss_kib()
    assert sent == 1_000_001
    assert after - before < 1024, f"RSS grew by {after - before} KiB over 900,000 round trips"


class _Records(list[Any]):
    """A JSON array (sent through the stdlib's encoder: a list subclass) that weakrefs can see."""


def test_send_json_and_broadcast_do_not_hold_the_data_across_the_send() -> None:
    # `await ws.send_json(await ws.receive_json())`: the only reference to the data is the
    # method's. Held across the server's send, a large object graph ages into the GC's older
    # generations on servers whose send suspends (granian), and costs full collections.
    import ferrosocket

    alive_during_send: list[bool] = []
    data_ref: list[weakref.ref[Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            gc.collect()  # nothing else holds the data: only the method's own reference could
            alive_during_send.append(data_ref[-1]() is not None)

    def temporary() -> _Records:
        data = _Records([{"a": [1, None]}, "b"])
        data_ref.append(weakref.ref(data))
        return data

    async def main() -> None:
        ws = WebSocket(make_scope(), receive, send)
        await ws.accept()
        await ws.send_json(temporary())
        await ws.send_json(temporary(), mode="binary")
        result = await ferrosocket.broadcast([ws], temporary(), mode="json")
        assert result.delivered == 1

    asyncio.run(main())
    assert alive_during_send == [False, False, False]


def test_a_connections_headers_and_query_parameters_are_reused_by_the_next() -> None:
    # A connection's Headers and QueryParams (and the record of a send that moves its state) are
    # freed with it and kept for the next connection (PyO3's `freelist`): a busy server's new
    # connections then make fewer allocations that count toward the cyclic GC's next collection.
    # A reused object is not tracked by the GC (no cycle can run through it: it holds str and
    # bytes); that is how a test can see it was reused. The values are each connection's own.
    from ferrosocket.datastructures import MutableHeaders

    def connection(n: int) -> WebSocket[Any]:
        scope = make_scope()
        scope["headers"] = [(b"host", b"h"), (b"x-n", str(n).encode())]
        scope["query_string"] = f"n={n}".encode()
        return WebSocket(scope, None, None)

    first = connection(1)
    assert (first.headers["x-n"], first.query_params["n"]) == ("1", "1")
    first._begin_send({"type": "websocket.accept"})  # the record is freed at once, to its free list
    del first  # its views go back to their free lists
    second = connection(2)
    headers, query = second.headers, second.query_params
    assert not gc.is_tracked(headers)
    assert not gc.is_tracked(query)
    assert (headers["x-n"], headers["host"], query["n"]) == ("2", "h", "2")
    assert headers.raw == [(b"host", b"h"), (b"x-n", b"2")]
    assert not gc.is_tracked(second._begin_send({"type": "websocket.accept"}))
    # A Python subclass's instances are made and tracked as usual.
    assert gc.is_tracked(MutableHeaders(raw=[(b"a", b"b")]))


def test_accept_and_close_hold_no_bound_method_of_the_connection_across_the_servers_send() -> None:
    # accept() and close() look at `self.receive`/`self.send` to see whether a subclass or the
    # instance replaced them; the bound methods that makes must not live across the awaits (every
    # object a connection holds while it waits counts toward the cyclic GC's next collection).
    import types

    held: list[list[str]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        methods = [r for r in gc.get_referrers(ws) if isinstance(r, types.MethodType)]
        held.append([f"{m.__func__.__name__}" for m in methods])

    ws = WebSocket(make_scope(), receive, send)
    run_sync(ws.accept())
    run_sync(ws.close())
    assert held == [[], []]
