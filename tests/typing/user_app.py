"""A plain user app, as a user writes it: the typing fixture for pyright and mypy (make lint).

Not a test module (pytest does not collect it); tests/test_packaging.py runs it, so it is also
known to work. It subclasses WebSocket, constructs it, reads headers, query_params, url and
JSON, and serves a raw ASGI app with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ferrosocket import URL, Headers, QueryParams, WebSocket, WebSocketDisconnect, WebSocketState

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ChatSocket(WebSocket):
    """A subclass with its own helpers: its constructor must be typed as building a ChatSocket."""

    def room(self) -> str:
        return self.query_params.get("room", "lobby")

    def token(self) -> str | None:
        return self.headers.get("authorization")


def describe(websocket: ChatSocket) -> dict[str, Any]:
    url: URL = websocket.url
    headers: Headers = websocket.headers
    query: QueryParams = websocket.query_params
    return {
        "room": websocket.room(),
        "token": websocket.token(),
        "path": url.path,
        "scheme": url.scheme,
        "port": url.port,
        "host": headers.get("host"),
        "tags": query.getlist("tag"),
        "header_names": list(headers.keys()),
    }


async def app(scope: Message, receive: Receive, send: Send) -> None:
    websocket = ChatSocket(scope=scope, receive=receive, send=send)
    info = describe(websocket)
    if websocket.token() is None:
        await websocket.close(code=4401, reason="no token")
        return
    await websocket.accept(subprotocol=None)
    await websocket.send_json({"hello": info["room"]})
    try:
        while websocket.client_state is WebSocketState.CONNECTED:
            data: Any = await websocket.receive_json()
            await websocket.send_json({"echo": data, "path": info["path"]})
    except WebSocketDisconnect as disconnect:
        print(f"closed {disconnect.code}: {disconnect.reason}")


def construct(scope: Message, receive: Receive, send: Send) -> ChatSocket:
    return ChatSocket(scope, receive, send)
