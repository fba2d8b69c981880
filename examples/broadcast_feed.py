"""A live feed on ferrosocket.broadcast: one publisher, many subscribers, slow ones dropped.

    WS /feed      subscribe: every published item arrives as {"seq": N, "item": ...}
    WS /publish   each JSON message sent here is published to every subscriber, encoded once;
                  the publisher gets {"seq": N, "delivered": D, "dropped": [REASON, ...]}

A subscriber whose send fails (it went away) or does not complete within FEED_SEND_TIMEOUT
seconds (default 2: it stopped reading and its socket buffer is full) is dropped from the feed,
and one that is merely slow is then closed with 1013 (try again later) in the background. The
other subscribers never wait for it longer than that timeout. Raw ASGI, no framework:

    uvicorn --app-dir examples broadcast_feed:app
"""

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import ferrosocket
from ferrosocket import WebSocket, WebSocketDisconnect

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SEND_TIMEOUT = float(os.environ.get("FEED_SEND_TIMEOUT", "2"))

subscribers: set[WebSocket] = set()
sequence = 0
background: set[asyncio.Task[None]] = set()


async def close_quietly(websocket: WebSocket) -> None:
    """Close a subscriber that could not keep up; give up after the same timeout."""
    with contextlib.suppress(Exception, TimeoutError):
        async with asyncio.timeout(SEND_TIMEOUT):
            await websocket.close(1013, "too slow")


async def publish(item: Any) -> dict[str, Any]:
    global sequence
    sequence += 1
    event = {"seq": sequence, "item": item}
    result = await ferrosocket.broadcast(subscribers, event, "json", timeout=SEND_TIMEOUT)
    dropped = []
    for failure in result.failures:
        subscribers.discard(failure.websocket)
        dropped.append(type(failure.error).__name__)
        if isinstance(failure.error, TimeoutError):
            task = asyncio.create_task(close_quietly(failure.websocket))
            background.add(task)
            task.add_done_callback(background.discard)
    return {"seq": sequence, "delivered": result.delivered, "dropped": dropped}


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 426, "headers": [(b"upgrade", b"websocket")]})
        await send({"type": "http.response.body", "body": b"WebSocket endpoints: /feed, /publish\n"})
        return

    websocket = WebSocket(scope, receive, send)
    if scope["path"] == "/feed":
        await websocket.accept()
        subscribers.add(websocket)
        try:
            while True:
                await websocket.receive_text()  # subscribers only listen; this notices them leave
        except WebSocketDisconnect:
            pass
        finally:
            subscribers.discard(websocket)
    elif scope["path"] == "/publish":
        await websocket.accept()
        try:
            while True:
                item = await websocket.receive_json()
                await websocket.send_json(await publish(item))
        except WebSocketDisconnect:
            pass
    else:
        await websocket.close(1008, "unknown path")
