"""The servers benches/cluster.py measures (raw ASGI; each serves WS /sub and GET /):

* ``local_app``: each process sends each text frame received on WS /pub to all of its own
  subscribers with ``ferrosocket.broadcast`` (encoded once: it is sent as received). Run in one
  process it is the single-process broadcast; in two workers, with a publisher connection to
  each, it is the floor of any cross-worker fan-out (no transport between the workers at all).
* ``channels_app``: ``ferrosocket.channels.RedisChannels`` (REDIS_URL); each subscriber joins
  channel "room"; the benchmark publishes from its own process.
* ``anchor_app``: Starlette's ``WebSocket`` with the ``broadcaster`` package on the same Redis
  (pub/sub; its documented pattern: one ``subscribe()`` queue per connection, ``send_text`` of
  each event), the benchmark publishing with ``PUBLISH``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from broadcaster import Broadcast
from starlette.websockets import WebSocket as StarletteWebSocket
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

import ferrosocket
from ferrosocket import PreparedMessage, WebSocket, WebSocketDisconnect
from ferrosocket.channels import RedisChannels

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def _lifespan(receive: Receive, send: Send, start: Any = None, stop: Any = None) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            if start is not None:
                await start()
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            if stop is not None:
                await stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _ok(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


# --- One process, ferrosocket.broadcast. ---

subscribers: dict[WebSocket, None] = {}


async def local_app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] == "http":
        return await _ok(send)
    websocket = WebSocket(scope, receive, send)
    await websocket.accept()
    try:
        if scope["path"] == "/pub":
            # Says which process it reached: with several workers the benchmark keeps one
            # publisher per process (each broadcasts to its own process's subscribers).
            await websocket.send_text(str(os.getpid()))
            while True:
                text = await websocket.receive_text()
                await ferrosocket.broadcast(subscribers, PreparedMessage.text(text))
        subscribers[websocket] = None
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        subscribers.pop(websocket, None)


# --- Workers, ferrosocket.channels. ---

channels: RedisChannels | None = None


async def _start_channels() -> None:
    global channels
    channels = RedisChannels(REDIS_URL)
    await channels.start()


async def _stop_channels() -> None:
    if channels is not None:
        await channels.close()


async def channels_app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send, _start_channels, _stop_channels)
    if scope["type"] == "http":
        return await _ok(send)
    assert channels is not None
    websocket = WebSocket(scope, receive, send)
    await websocket.accept()
    await channels.join(websocket, "room")
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass


# --- Workers, Starlette + broadcaster (the anchor). ---

broadcast = Broadcast(REDIS_URL)


async def _start_anchor() -> None:
    await broadcast.connect()
    # broadcaster 0.3.1 with redis-py 8: its listener wakes on the first subscribe() before the
    # SUBSCRIBE is registered, sees no subscription, and waits forever (nothing is ever
    # delivered). Subscribing once here and waking it again works around that. Also, several
    # subscribe() calls at once on a channel without subscribers keep only one queue: a standing
    # queue (one put per message) makes every connection's subscribe() take the other path. The
    # per-message delivery path is untouched.
    backend: Any = broadcast._backend
    await backend.subscribe("room")
    backend._ready.set()
    broadcast._subscribers["room"] = {asyncio.Queue()}


async def anchor_app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send, _start_anchor, broadcast.disconnect)
    if scope["type"] == "http":
        return await _ok(send)
    websocket = StarletteWebSocket(scope, receive, send)
    await websocket.accept()

    async def until_disconnect(group: anyio.abc.TaskGroup) -> None:
        try:
            while True:
                await websocket.receive_text()
        except StarletteDisconnect:
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(until_disconnect, group)
        async with broadcast.subscribe(channel="room") as subscriber:
            async for event in subscriber:  # type: ignore[union-attr]
                await websocket.send_text(event.message)
