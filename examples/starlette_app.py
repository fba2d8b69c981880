"""A Starlette app whose WebSocket route runs on ferrosocket, adopted one route at a time.

`@ferrosocket.adopt` on a WebSocket endpoint makes Starlette's router hand that endpoint a
`ferrosocket.WebSocket` instead of its own class; every other route keeps Starlette's. (To
switch the whole app at once, call `ferrosocket.install()` at the top instead: see
examples/fastapi_chat.py.) Nothing else changes: the route, the path and query parameters,
`accept`, `iter_json`, `send_json` are Starlette's API.

    GET  /                     plain text: what this app is
    WS   /ws/{room}?nick=NAME  greets with {"room", "nick", "websocket"} (the class serving the
                               connection), then echoes each JSON message as
                               {"room", "nick", "echo": MESSAGE} until the client closes

Run it with:  uvicorn --app-dir examples starlette_app:app
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute

import ferrosocket


async def homepage(request: Request) -> PlainTextResponse:
    return PlainTextResponse("A Starlette app with a ferrosocket WebSocket route at /ws/{room}\n")


@ferrosocket.adopt
async def room(websocket: ferrosocket.WebSocket) -> None:
    name: str = websocket.path_params["room"]
    nick = websocket.query_params.get("nick", "anonymous")
    await websocket.accept()
    implementation = f"{type(websocket).__module__}.{type(websocket).__qualname__}"
    await websocket.send_json({"room": name, "nick": nick, "websocket": implementation})
    async for message in websocket.iter_json():  # ends when the client closes
        await websocket.send_json({"room": name, "nick": nick, "echo": message})


app = Starlette(
    routes=[
        Route("/", homepage),
        WebSocketRoute("/ws/{room}", room),
    ]
)
