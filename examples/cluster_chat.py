"""Chat rooms across worker processes and hosts: ferrosocket channels on Redis.

Run several workers (or several hosts) against one Redis; a message sent to any worker reaches
the room's members on every worker:

    REDIS_URL=redis://127.0.0.1:6379/0 uvicorn --app-dir examples --workers 2 cluster_chat:app

    WS /rooms/{room}?name=NAME   join ROOM. You get {"event": "welcome", "worker": PID}; each text
                                 frame you send reaches every member of ROOM, on any worker, as
                                 {"room", "name", "text", "worker": PID of the worker it was sent to}
    GET /                        "ok" (a health check)

Raw ASGI, no framework: ``RedisChannels`` is created at startup (the ASGI lifespan) and closed at
shutdown; a member that disconnects leaves its rooms by itself. Needs ``pip install
ferrosocket[redis]``.
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from ferrosocket import WebSocket, WebSocketDisconnect
from ferrosocket.channels import RedisChannels

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WORKER = os.getpid()

channels: RedisChannels | None = None


async def lifespan(receive: Receive, send: Send) -> None:
    global channels
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            channels = RedisChannels(REDIS_URL)
            await channels.start()
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            if channels is not None:
                await channels.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def room(websocket: WebSocket, name: str, member: str) -> None:
    assert channels is not None, "the lifespan starts the channels"
    await websocket.accept()
    try:
        await channels.join(websocket, f"room:{name}")
    except ValueError as error:  # a room name no channel can have
        await websocket.close(1008, str(error))
        return
    await websocket.send_json({"event": "welcome", "worker": WORKER})
    try:
        while True:
            text = await websocket.receive_text()
            event = {"room": name, "name": member, "text": text, "worker": WORKER}
            await channels.publish(f"room:{name}", event)
    except WebSocketDisconnect:
        pass  # nothing to clean up: the channels notice


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["type"] == "http":
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    websocket = WebSocket(scope, receive, send)
    path = scope["path"]
    if not path.startswith("/rooms/") or not path[len("/rooms/") :]:
        await websocket.close(1008, "use /rooms/{room}")
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    await room(websocket, path[len("/rooms/") :], query.get("name", ["anonymous"])[0])
