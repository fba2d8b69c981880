"""The smallest useful ferrosocket app: a raw ASGI echo server, no framework.

Every text frame comes back as text and every binary frame as binary, until the client
closes. Plain HTTP requests get a 426 ("use a WebSocket"), and the ASGI lifespan protocol is
answered, so any ASGI server can run it as it is:

    uvicorn --app-dir examples raw_asgi_echo:app

`ferrosocket.WebSocket(scope, receive, send)` takes the place of Starlette's class with the same
arguments and methods; nothing else is needed (Starlette itself need not be installed).
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ferrosocket import WebSocket

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:  # nothing to start or stop: acknowledge both events
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 426, "headers": [(b"upgrade", b"websocket")]})
        await send({"type": "http.response.body", "body": b"This is a WebSocket endpoint.\n"})
        return

    websocket = WebSocket(scope, receive, send)
    await websocket.accept()
    while True:
        message = await websocket.receive()  # the raw ASGI message, its state transition checked
        if message["type"] == "websocket.disconnect":
            return  # the client closed (or went away): nothing left to do
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])
