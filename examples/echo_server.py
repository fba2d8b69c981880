"""An echo server written with ferrosocket: the same WebSocket API as Starlette's.

The client announces each message with a text frame that names its kind,
then sends the message itself:

    "text"         a text frame, echoed back as text
    "bytes"        a binary frame, echoed back as binary
    "json"         JSON in a text frame, parsed and sent back with send_json
    "json-binary"  JSON in a binary frame, the same in binary mode
    "close"        no message: the server closes with code 4000, reason "goodbye"

Serve it on its own with:  uvicorn --app-dir examples echo_server:app
(`make demo` runs it together with a real client: see examples/demo.py).
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ferrosocket import WebSocket, WebSocketDisconnect

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 426, "headers": [(b"upgrade", b"websocket")]})
        await send({"type": "http.response.body", "body": b"This is a WebSocket endpoint.\n"})
        return
    if scope["type"] != "websocket":
        return  # lifespan events: nothing to start or stop

    websocket = WebSocket(scope=scope, receive=receive, send=send)
    await websocket.accept()
    try:
        while True:
            kind = await websocket.receive_text()
            match kind:
                case "text":
                    await websocket.send_text(await websocket.receive_text())
                case "bytes":
                    await websocket.send_bytes(await websocket.receive_bytes())
                case "json":
                    await websocket.send_json(await websocket.receive_json())
                case "json-binary":
                    data = await websocket.receive_json(mode="binary")
                    await websocket.send_json(data, mode="binary")
                case "close":
                    # 4000-4999 are free for applications; a code other than the
                    # default 1000 shows that code and reason reach the client.
                    await websocket.close(code=4000, reason="goodbye")
                    return
                case _:
                    await websocket.close(code=1003, reason=f"unknown kind {kind!r}")
                    return
    except WebSocketDisconnect:
        pass  # the client went away: nothing left to do
