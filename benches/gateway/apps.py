"""The gateway benchmark's apps: one per server process, chosen by ``FERRO_LOAD_APP`` at import
time, served as ``gateway.apps:app`` with benches/ (and the ferrosocket snapshot) on PYTHONPATH.
Each serves the four workloads by path (gateway/workloads.py has what the clients send):

    /json        echo JSON: receive a message, decode it, encode it, send it back
    /handshake   read the upgrade's headers, cookies, bearer token and query parameters, accept,
                 answer the client's one message with what was read, close
    /subscribe   accept, register on the client's first message, answer "subscribed", then wait
    /publish     per message "MODE SEQ": send fanout_message(SEQ) to every subscriber, answer
                 "SEQ:COUNT" (COUNT: the subscribers reached)

The apps:

    raw               the floor: bare ASGI messages, orjson, headers/cookies/query read with
                      str.split (no percent-decoding); the fan-out encodes once
    starlette         Starlette's WebSocket: receive_json/send_json, the fan-out a send_json loop
    starlette-orjson  Starlette's WebSocket with orjson by hand: orjson.loads(receive_text()),
                      send_text(orjson.dumps(x).decode()); the fan-out encodes once, send_text loop
    ferrosocket       ferrosocket's WebSocket, the same code as starlette; the fan-out also with
                      ferrosocket.broadcast() (publish mode "broadcast")
    ferrosocket-orjson  ferrosocket's WebSocket, the same code as starlette-orjson
    fastapi           FastAPI routes (@app.websocket), the same endpoints; the handshake's values
                      through FastAPI's parameters (Query, Cookie, Header), as FastAPI apps do
    fastapi-install   the same FastAPI app with ferrosocket.install() called first
    check-free        the floor of a WebSocket class (only when named in --apps): the same
                      endpoints over CheckFreeWebSocket, Starlette's names with nothing checked

The raw, Starlette and ferrosocket apps dispatch on the path in one plain function (the same for
all), so their differences are the WebSocket class's; FastAPI's routing is part of its rows.
HTTP probes and the lifespan: asgi_service.py.
"""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations, which
# name classes imported inside fastapi_app().

import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NamedTuple

import orjson
from asgi_service import Message, Receive, Send, serve

from gateway.workloads import fanout_message, handshake_reply

APP_NAME = os.environ.get("FERRO_LOAD_APP", "raw")
SUBSCRIBERS: list[Any] = []  # the fan-out's: WebSockets (the raw app: ASGI send callables)
FanOut = Callable[[int], Awaitable[int]]  # sends message SEQ to every subscriber; how many
dumps, loads = orjson.dumps, orjson.loads


# --- raw ASGI: the floor


async def raw_app(scope: Message, receive: Receive, send: Send) -> None:
    await receive()  # websocket.connect
    path = scope["path"]
    if path == "/json":
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": dumps(loads(message["text"])).decode()})
    elif path == "/handshake":
        await raw_handshake(scope, receive, send)
    elif path == "/subscribe":
        await send({"type": "websocket.accept"})
        await receive()  # the subscription request
        SUBSCRIBERS.append(send)
        await send({"type": "websocket.send", "text": "subscribed"})
        try:
            while (await receive())["type"] == "websocket.receive":
                pass
        finally:
            SUBSCRIBERS.remove(send)
    elif path == "/publish":
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            seq = message["text"].partition(" ")[2]
            payload = dumps(fanout_message(int(seq))).decode()
            for subscriber in SUBSCRIBERS:
                await subscriber({"type": "websocket.send", "text": payload})
            await send({"type": "websocket.send", "text": f"{seq}:{len(SUBSCRIBERS)}"})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def raw_handshake(scope: Message, receive: Receive, send: Send) -> None:
    token = origin = agent = cookie = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = value.decode("latin-1").removeprefix("Bearer ")
        elif name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"user-agent":
            agent = value.decode("latin-1")
        elif name == b"cookie":
            cookie = value.decode("latin-1")
    cookies = dict(pair.split("=", 1) for pair in cookie.split("; "))
    query = dict(pair.split("=", 1) for pair in scope["query_string"].decode("latin-1").split("&"))
    path, host = scope["path"], scope["client"][0]
    await send({"type": "websocket.accept"})
    text = (await receive())["text"]
    reply = handshake_reply(
        query["room"], query["user"], cookies["session"], token, origin, agent, path, host, text
    )
    await send({"type": "websocket.send", "text": reply})
    await send({"type": "websocket.close", "code": 1000})


# --- a WebSocket class: Starlette's or ferrosocket's (and FastAPI's routes call the same endpoints)


class Endpoints:
    """The four endpoints over a WebSocket object; ``by_hand``: JSON through orjson and the text
    methods instead of receive_json/send_json; ``fan_outs``: the publish modes."""

    def __init__(self, disconnect: tuple[type[BaseException], ...], by_hand: bool) -> None:
        self.disconnect = disconnect
        self.by_hand = by_hand
        self.fan_outs: dict[str, FanOut] = {"loop": self.send_text_loop if by_hand else self.send_json_loop}

    async def json_echo(self, websocket: Any) -> None:
        await websocket.accept()
        try:
            while True:
                if self.by_hand:
                    await websocket.send_text(dumps(loads(await websocket.receive_text())).decode())
                else:
                    await websocket.send_json(await websocket.receive_json())
        except self.disconnect:
            pass

    async def handshake(self, websocket: Any) -> None:
        headers, query = websocket.headers, websocket.query_params
        await answer_once(
            websocket,
            query["room"],
            query["user"],
            websocket.cookies["session"],
            headers["authorization"].removeprefix("Bearer "),
            headers["origin"],
            headers["user-agent"],
        )

    async def subscribe(self, websocket: Any) -> None:
        await websocket.accept()
        await websocket.receive_text()  # the subscription request
        SUBSCRIBERS.append(websocket)
        try:
            await websocket.send_text("subscribed")
            while True:
                await websocket.receive_text()
        except self.disconnect:
            pass
        finally:
            SUBSCRIBERS.remove(websocket)

    async def publish(self, websocket: Any) -> None:
        await websocket.accept()
        try:
            while True:
                mode, _, seq = (await websocket.receive_text()).partition(" ")
                count = await self.fan_outs[mode](int(seq))
                await websocket.send_text(f"{seq}:{count}")
        except self.disconnect:
            pass

    async def send_json_loop(self, seq: int) -> int:
        data = fanout_message(seq)
        for websocket in SUBSCRIBERS:
            await websocket.send_json(data)
        return len(SUBSCRIBERS)

    async def send_text_loop(self, seq: int) -> int:
        text = dumps(fanout_message(seq)).decode()
        for websocket in SUBSCRIBERS:
            await websocket.send_text(text)
        return len(SUBSCRIBERS)

    def routes(self) -> dict[str, Callable[[Any], Awaitable[None]]]:
        return {
            "/json": self.json_echo,
            "/handshake": self.handshake,
            "/subscribe": self.subscribe,
            "/publish": self.publish,
        }


async def answer_once(
    websocket: Any, room: str, user: str, session: str, token: str, origin: str, agent: str
) -> None:
    """The handshake's end: accept, answer the one message with what was read, close."""
    path, host = websocket.url.path, websocket.client.host
    await websocket.accept()
    text = await websocket.receive_text()
    await websocket.send_text(handshake_reply(room, user, session, token, origin, agent, path, host, text))
    await websocket.close()


# --- the floor of a class: what any WebSocket class with Starlette's API costs over the raw app


class CheckFreeURL(NamedTuple):
    path: str


class CheckFreeAddress(NamedTuple):
    host: str
    port: int


class CheckFreeWebSocket:
    """Starlette's attribute and method names over the scope and the ASGI callables, with nothing
    checked (no state, no message type), cached or decoded beyond what the raw app does: the
    scope read as the raw app reads it (latin-1, ``str.split``), each method one coroutine frame
    around the awaited callable. A disconnect message raises KeyError in the receive methods (the
    endpoints' disconnect exception for this class). What a connection costs here over the raw
    app is what any class-based API costs: an object, its views of the scope, coroutine methods.
    """

    __slots__ = ("_receive", "_send", "scope")

    def __init__(self, scope: Message, receive: Receive, send: Send) -> None:
        self.scope, self._receive, self._send = scope, receive, send

    @property
    def headers(self) -> dict[str, str]:
        return {name.decode("latin-1"): value.decode("latin-1") for name, value in self.scope["headers"]}

    @property
    def query_params(self) -> dict[str, str]:
        query = self.scope["query_string"].decode("latin-1")
        return dict(pair.split("=", 1) for pair in query.split("&")) if query else {}

    @property
    def cookies(self) -> dict[str, str]:
        for name, value in self.scope["headers"]:
            if name == b"cookie":
                return dict(pair.split("=", 1) for pair in value.decode("latin-1").split("; "))
        return {}

    @property
    def url(self) -> CheckFreeURL:
        return CheckFreeURL(self.scope["path"])

    @property
    def client(self) -> CheckFreeAddress:
        return CheckFreeAddress(*self.scope["client"])

    async def accept(self) -> None:
        await self._receive()  # websocket.connect
        await self._send({"type": "websocket.accept"})

    async def receive_text(self) -> Any:
        return (await self._receive())["text"]

    async def send_text(self, data: str) -> None:
        await self._send({"type": "websocket.send", "text": data})

    async def receive_json(self) -> Any:
        return loads((await self._receive())["text"])

    async def send_json(self, data: Any) -> None:
        await self._send({"type": "websocket.send", "text": dumps(data).decode()})

    async def close(self, code: int = 1000) -> None:
        await self._send({"type": "websocket.close", "code": code})


def class_app(
    websocket_class: Any, endpoints: Endpoints
) -> Callable[[Message, Receive, Send], Awaitable[None]]:
    routes = endpoints.routes()

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        await routes[scope["path"]](websocket_class(scope, receive, send))

    return app


def fastapi_app(endpoints: Endpoints) -> Any:
    from fastapi import Cookie, FastAPI, Header, WebSocket

    app = FastAPI()

    @app.websocket("/json")
    async def json_route(websocket: WebSocket) -> None:
        await endpoints.json_echo(websocket)

    @app.websocket("/handshake")
    async def handshake_route(
        websocket: WebSocket,
        room: str,
        user: str,
        session: Annotated[str, Cookie()],
        authorization: Annotated[str, Header()],
        origin: Annotated[str, Header()],
        user_agent: Annotated[str, Header()],
    ) -> None:
        token = authorization.removeprefix("Bearer ")
        await answer_once(websocket, room, user, session, token, origin, user_agent)

    @app.websocket("/subscribe")
    async def subscribe_route(websocket: WebSocket) -> None:
        await endpoints.subscribe(websocket)

    @app.websocket("/publish")
    async def publish_route(websocket: WebSocket) -> None:
        await endpoints.publish(websocket)

    return app


def choose(name: str) -> tuple[Any, str]:
    """The WebSocket side of app ``name`` and where its WebSocket class comes from."""
    if name == "raw":
        return raw_app, "no wrapper"
    from starlette.websockets import WebSocket as StarletteWebSocket
    from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

    if name in ("starlette", "starlette-orjson"):
        import starlette

        endpoints = Endpoints((StarletteDisconnect,), by_hand=name == "starlette-orjson")
        return class_app(StarletteWebSocket, endpoints), str(starlette.__file__)
    if name == "check-free":
        return class_app(CheckFreeWebSocket, Endpoints((KeyError,), by_hand=False)), __file__
    if name == "fastapi":
        import fastapi

        return fastapi_app(Endpoints((StarletteDisconnect,), by_hand=False)), str(fastapi.__file__)
    import ferrosocket

    if name == "fastapi-install":
        ferrosocket.install()  # its WebSocketDisconnect derives from Starlette's too
        return fastapi_app(Endpoints((StarletteDisconnect,), by_hand=False)), str(ferrosocket.__file__)
    if name in ("ferrosocket", "ferrosocket-orjson"):
        endpoints = Endpoints((ferrosocket.WebSocketDisconnect,), by_hand=name == "ferrosocket-orjson")

        async def broadcast(seq: int) -> int:
            return (await ferrosocket.broadcast(SUBSCRIBERS, fanout_message(seq), "json")).delivered

        endpoints.fan_outs["broadcast"] = broadcast
        return class_app(ferrosocket.WebSocket, endpoints), str(ferrosocket.__file__)
    raise SystemExit(f"FERRO_LOAD_APP={name!r}: not one of the gateway's apps")


WEBSOCKET, ORIGIN = choose(APP_NAME)
app = serve(WEBSOCKET, APP_NAME, ORIGIN)
