"""The ASGI echo apps that benches/load.py serves, one per server process.

Served as ``load_apps:app`` with this directory (and the ferrosocket snapshot) on PYTHONPATH. Which
app is chosen by ``FERRO_LOAD_APP`` at import time, so the server runs only that one:

    raw          a bare ASGI echo: no wrapper class at all (the floor)
    starlette    ``starlette.websockets.WebSocket``: accept, then receive_text/send_text in a loop
    ferrosocket  ``ferrosocket.WebSocket``: the same code
    lean         a minimal pure-Python class with the same three coroutine methods and no state
                 checks (an optional reference: what the API's shape, one coroutine per call,
                 costs by itself)

HTTP (``/``, ``/info``, ``/gc``), the lifespan, the GC accounting and the raised descriptor limit
come from asgi_service.py, which the gateway benchmark's apps share.
"""

from __future__ import annotations

import os
from typing import Any

from asgi_service import App, Message, Receive, Send, serve

APP_NAME = os.environ.get("FERRO_LOAD_APP", "raw")


async def raw_echo(scope: Message, receive: Receive, send: Send) -> None:
    """The floor: the ASGI messages themselves, nothing else."""
    message = await receive()  # websocket.connect
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return  # websocket.disconnect
        text = message.get("text")
        if text is None:
            await send({"type": "websocket.send", "bytes": message.get("bytes")})
        else:
            await send({"type": "websocket.send", "text": text})


def wrapped_echo(websocket_class: Any, disconnect: type[BaseException]) -> App:
    """Starlette's and ferrosocket's echo: the same code for both classes."""

    async def echo(scope: Message, receive: Receive, send: Send) -> None:
        websocket = websocket_class(scope, receive, send)
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_text(text)
        except disconnect:
            pass

    return echo


if APP_NAME == "raw":
    ECHO: App = raw_echo
    ORIGIN = "no wrapper"
elif APP_NAME == "starlette":
    import starlette
    from starlette.websockets import WebSocket as StarletteWebSocket
    from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

    ECHO = wrapped_echo(StarletteWebSocket, StarletteDisconnect)
    ORIGIN = str(starlette.__file__)
elif APP_NAME == "ferrosocket":
    import ferrosocket
    from ferrosocket import WebSocket as FerroWebSocket
    from ferrosocket import WebSocketDisconnect as FerroDisconnect

    ECHO = wrapped_echo(FerroWebSocket, FerroDisconnect)
    ORIGIN = str(ferrosocket.__file__)
elif APP_NAME == "lean":

    class LeanDisconnect(Exception):
        pass

    class LeanWebSocket:
        __slots__ = ("_receive", "_send")

        def __init__(self, scope: Message, receive: Receive, send: Send) -> None:
            self._receive = receive
            self._send = send

        async def accept(self) -> None:
            await self._receive()  # websocket.connect
            await self._send({"type": "websocket.accept"})

        async def receive_text(self) -> str:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                raise LeanDisconnect(message.get("code", 1000))
            return message["text"]  # type: ignore[no-any-return]

        async def send_text(self, data: str) -> None:
            await self._send({"type": "websocket.send", "text": data})

    ECHO = wrapped_echo(LeanWebSocket, LeanDisconnect)
    ORIGIN = "load_apps.LeanWebSocket"
else:
    raise SystemExit(f"FERRO_LOAD_APP={APP_NAME!r}: expected raw, starlette, ferrosocket or lean")


app = serve(ECHO, APP_NAME, ORIGIN)
