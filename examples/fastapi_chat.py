"""A FastAPI chat room on ferrosocket: every message is broadcast to everyone connected.

The app is plain FastAPI code, written against FastAPI's own `WebSocket` and
`WebSocketDisconnect`. The single line `ferrosocket.install()` switches it to ferrosocket:
from then on every WebSocket that Starlette and FastAPI construct is a `ferrosocket.WebSocket`
(isinstance checks, `except WebSocketDisconnect` and parameter injection keep working). Remove
that line and the same app runs on Starlette's class.

    GET  /              a minimal browser client (open it in two tabs)
    WS   /chat/{name}   join the room as NAME. You get {"event": "welcome", "members": [...],
                        "websocket": CLASS}; everyone (you too) gets {"event": "join", "name"};
                        each text frame you send reaches everyone as
                        {"event": "message", "name", "text"}; when you leave, the others get
                        {"event": "leave", "name"}

Each event is encoded once and sent to every member by `ferrosocket.broadcast`: a member
whose connection has gone, or that cannot take a message within SEND_TIMEOUT seconds, is
reported by the broadcast (it never holds the others back longer than that) and removed.

Run it with:  uvicorn --app-dir examples fastapi_chat:app
"""

from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

import ferrosocket

ferrosocket.install()  # the one-line switch (before or after the imports and routes: either works)

app = FastAPI(title="ferrosocket chat")


SEND_TIMEOUT = 5.0  # seconds a member may take to accept one message before it is dropped


class ChatRoom:
    """The connected members, and a broadcast that drops members it could not reach."""

    def __init__(self) -> None:
        self.members: dict[WebSocket, str] = {}

    async def join(self, websocket: WebSocket, name: str) -> None:
        await websocket.accept()
        self.members[websocket] = name
        implementation = f"{type(websocket).__module__}.{type(websocket).__qualname__}"
        members = sorted(self.members.values())
        await websocket.send_json({"event": "welcome", "members": members, "websocket": implementation})
        await self.broadcast({"event": "join", "name": name})

    async def leave(self, websocket: WebSocket) -> None:
        name = self.members.pop(websocket, None)
        if name is not None:
            await self.broadcast({"event": "leave", "name": name})

    async def broadcast(self, event: dict[str, Any]) -> None:
        # Encoded once; broadcast() reads the members once, so joins and leaves meanwhile are fine.
        result = await ferrosocket.broadcast(self.members, event, "json", timeout=SEND_TIMEOUT)
        for failure in result.failures:  # gone (WebSocketDisconnect, RuntimeError) or too slow
            await self.leave(failure.websocket)


room = ChatRoom()


@app.websocket("/chat/{name}")
async def chat(websocket: WebSocket, name: str) -> None:
    await room.join(websocket, name)
    try:
        while True:
            text = await websocket.receive_text()
            await room.broadcast({"event": "message", "name": name, "text": text})
    except WebSocketDisconnect:
        await room.leave(websocket)


PAGE = """<!doctype html>
<meta charset="utf-8"><title>ferrosocket chat</title>
<p><input id="name" placeholder="your name"> <button id="join">join</button></p>
<pre id="log"></pre>
<form id="form"><input id="text" autocomplete="off" placeholder="message"> <button>send</button></form>
<script>
let ws;
const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
document.getElementById("join").onclick = () => {
  const name = encodeURIComponent(document.getElementById("name").value || "anonymous");
  ws = new WebSocket(`ws://${location.host}/chat/${name}`);
  ws.onmessage = (event) => log(event.data);
  ws.onclose = () => log("(disconnected)");
};
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  if (ws) ws.send(text.value);
  text.value = "";
};
</script>
"""


@app.get("/")
async def index() -> HTMLResponse:
    return HTMLResponse(PAGE)
