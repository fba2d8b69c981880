"""ferrosocket.install() / uninstall() / adopt(): every Starlette and FastAPI WebSocket path.

Each test records the class of the WebSocket its endpoints receive. The ``switch`` fixture
uninstalls after every test (and checks that Starlette is back), so the rest of the suite sees
ferrosocket unswitched. Import-order cases run in subprocesses: see test_dropin_order.py.
Starlette's and FastAPI's own test suites are run by run_upstream.py (``make dropin``).
"""

# No `from __future__ import annotations`: FastAPI must see the endpoints' annotations, which
# name dependencies local to the tests.

import abc
import functools
from collections.abc import Iterator
from typing import Annotated, Any

import fastapi
import fastapi.security
import pytest
import starlette.websockets as sw
from fastapi import APIRouter, Depends, FastAPI, Security
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser, requires
from starlette.endpoints import WebSocketEndpoint
from starlette.exceptions import WebSocketException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Router, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse

import ferrosocket
from ferrosocket import _install

StarletteWebSocket = sw.WebSocket


@pytest.fixture
def switch() -> Iterator[None]:
    ferrosocket.install()
    try:
        yield
    finally:
        ferrosocket.uninstall()
        assert type(StarletteWebSocket) is abc.ABCMeta
        assert not ferrosocket.installed()


@pytest.fixture(autouse=True)
def _always_restored() -> Iterator[None]:
    yield
    ferrosocket.uninstall()


def echo_app(seen: list[type]) -> Any:
    async def endpoint(websocket: sw.WebSocket) -> None:
        seen.append(type(websocket))
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    return endpoint


def talk(app: Any, path: str = "/ws", **client: Any) -> None:
    with TestClient(app, **client).websocket_connect(path) as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"


# --- Starlette --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_websocket_route_function(switch: None, backend: str) -> None:
    seen: list[type] = []
    talk(Starlette(routes=[WebSocketRoute("/ws", echo_app(seen))]), backend=backend)
    assert seen == [ferrosocket.WebSocket]


def test_websocket_route_decorator_router_and_mount(switch: None) -> None:
    seen: list[type] = []
    router = Router()
    router.add_websocket_route("/ws", echo_app(seen))
    app = Starlette(
        routes=[Mount("/sub", routes=[WebSocketRoute("/ws", echo_app(seen))]), Mount("/r", app=router)]
    )
    app.router.add_websocket_route("/ws", echo_app(seen))
    for path in ("/ws", "/sub/ws", "/r/ws"):
        talk(app, path)
    assert seen == [ferrosocket.WebSocket] * 3


def test_websocket_endpoint_class(switch: None) -> None:
    seen: list[type] = []

    class Echo(WebSocketEndpoint):
        encoding = "text"

        async def on_connect(self, websocket: sw.WebSocket) -> None:
            seen.append(type(websocket))
            await websocket.accept()

        async def on_receive(self, websocket: sw.WebSocket, data: Any) -> None:
            await websocket.send_text(data)

    talk(Starlette(routes=[WebSocketRoute("/ws", Echo)]))
    assert seen == [ferrosocket.WebSocket]


def test_exception_middleware_and_handlers(switch: None) -> None:
    seen: list[tuple[str, type]] = []

    class Boom(Exception):
        pass

    async def on_boom(websocket: sw.WebSocket, exc: Exception) -> None:
        seen.append(("handler", type(websocket)))
        await websocket.close(code=4001, reason="boom")

    async def raises(websocket: sw.WebSocket) -> None:
        seen.append(("route", type(websocket)))
        raise Boom

    async def raw_asgi(scope: Any, receive: Any, send: Any) -> None:  # not a route: the middleware's conn
        raise Boom

    async def refuses(websocket: sw.WebSocket) -> None:
        raise WebSocketException(code=4003, reason="no")  # Starlette's default handler closes

    app = Starlette(
        routes=[WebSocketRoute("/ws", raises), WebSocketRoute("/no", refuses), Mount("/raw", app=raw_asgi)],
        exception_handlers={Boom: on_boom},
    )
    client = TestClient(app)
    for path, code in (("/ws", 4001), ("/raw/x", 4001), ("/no", 4003)):
        with pytest.raises(sw.WebSocketDisconnect) as info:
            with client.websocket_connect(path):
                pass  # pragma: no cover
        assert info.value.code == code
    assert seen == [("route", ferrosocket.WebSocket), ("handler", ferrosocket.WebSocket)] + [
        ("handler", ferrosocket.WebSocket)
    ]


def test_requires(switch: None) -> None:
    seen: list[type] = []

    class Backend(AuthenticationBackend):
        async def authenticate(self, conn: Any) -> tuple[AuthCredentials, SimpleUser] | None:
            if "auth" in conn.query_params:
                return AuthCredentials(["authenticated"]), SimpleUser("me")
            return None

    @requires("authenticated")
    async def secret(websocket: sw.WebSocket) -> None:
        seen.append(type(websocket))
        await websocket.accept()
        await websocket.send_text(websocket.user.username)
        await websocket.close()

    app = Starlette(
        routes=[WebSocketRoute("/ws", secret)],
        middleware=[Middleware(AuthenticationMiddleware, backend=Backend())],
    )
    client = TestClient(app)
    with client.websocket_connect("/ws?auth=1") as ws:
        assert ws.receive_text() == "me"
    with pytest.raises(sw.WebSocketDisconnect):
        with client.websocket_connect("/ws"):
            pass  # pragma: no cover
    assert seen == [ferrosocket.WebSocket]


# --- FastAPI ----------------------------------------------------------------------------------


def test_fastapi_routes_dependencies_and_injection(switch: None) -> None:
    seen: list[tuple[str, type]] = []

    async def dependency(websocket: fastapi.WebSocket) -> str:
        seen.append(("Depends", type(websocket)))
        return websocket.query_params.get("who", "nobody")

    async def security(websocket: fastapi.WebSocket, scopes: fastapi.security.SecurityScopes) -> list[str]:
        seen.append(("Security", type(websocket)))
        return scopes.scopes

    app = FastAPI()
    router = APIRouter(prefix="/r")

    @app.websocket("/ws/{item}")
    async def direct(
        websocket: fastapi.WebSocket,
        item: str,
        who: Annotated[str, Depends(dependency)],
        granted: Annotated[list[str], Security(security, scopes=["read"])],
    ) -> None:
        seen.append(("route", type(websocket)))
        assert isinstance(websocket, sw.WebSocket)
        await websocket.accept()
        await websocket.send_json({"item": item, "who": who, "granted": granted})
        await websocket.close()

    @router.websocket("/ws")
    async def routed(websocket: sw.WebSocket) -> None:  # Starlette's name, FastAPI's router
        seen.append(("APIRouter", type(websocket)))
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    app.include_router(router)
    plain: list[type] = []
    app.websocket_route("/plain")(echo_app(plain))  # Starlette's WebSocketRoute, on a FastAPI app
    client = TestClient(app)
    with client.websocket_connect("/ws/7?who=me") as ws:
        assert ws.receive_json() == {"item": "7", "who": "me", "granted": ["read"]}
    talk(app, "/r/ws")
    talk(app, "/plain")
    assert sorted(seen) == sorted(
        [
            ("Depends", ferrosocket.WebSocket),
            ("Security", ferrosocket.WebSocket),
            ("route", ferrosocket.WebSocket),
        ]
        + [("APIRouter", ferrosocket.WebSocket)]
    )
    assert plain == [ferrosocket.WebSocket]


def test_fastapi_accepts_ferrosocket_annotation_and_validation_close(switch: None) -> None:
    app = FastAPI()

    @app.websocket("/ws")
    async def annotated(websocket: ferrosocket.WebSocket, n: int) -> None:  # injected, not a query param
        await websocket.accept()
        await websocket.send_json(n * 2)
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws?n=21") as ws:
        assert ws.receive_json() == 42
    with pytest.raises(fastapi.WebSocketDisconnect) as info:  # validation error: code 1008, a list reason
        with client.websocket_connect("/ws?n=x"):
            pass  # pragma: no cover
    assert info.value.code == 1008


# --- What user code sees ----------------------------------------------------------------------


def test_user_code_unchanged(switch: None) -> None:
    from fastapi import WebSocketDisconnect as FastAPIDisconnect
    from fastapi.websockets import WebSocketState as FastAPIState

    seen: dict[str, Any] = {}

    async def endpoint(websocket: sw.WebSocket) -> None:
        seen["isinstance"] = isinstance(websocket, sw.WebSocket) and isinstance(websocket, fastapi.WebSocket)
        seen["connecting"] = websocket.client_state == sw.WebSocketState.CONNECTING
        await websocket.accept()
        seen["connected"] = (
            websocket.client_state == sw.WebSocketState.CONNECTED
            and websocket.application_state is FastAPIState.CONNECTED
            and websocket.client_state == ferrosocket.WebSocketState.CONNECTED
            and isinstance(websocket.client_state, sw.WebSocketState)
        )
        try:
            await websocket.receive_text()
        except sw.WebSocketDisconnect as exc:  # and fastapi's, and ferrosocket's: one class
            seen["disconnect"] = (
                isinstance(exc, FastAPIDisconnect),
                isinstance(exc, ferrosocket.WebSocketDisconnect),
                exc.code,
            )
        seen["after"] = websocket.client_state == sw.WebSocketState.DISCONNECTED
        try:
            await websocket.receive_text()
        except sw.WebSocketDisconnected as exc:
            seen["disconnected"] = isinstance(exc, ferrosocket.WebSocketDisconnected) and isinstance(
                exc, RuntimeError
            )

    with TestClient(Starlette(routes=[WebSocketRoute("/ws", endpoint)])).websocket_connect("/ws") as ws:
        ws.close(code=4004)
    assert seen == {
        "isinstance": True,
        "connecting": True,
        "connected": True,
        "disconnect": (True, True, 4004),
        "after": True,
        "disconnected": True,
    }


def test_websocket_close_and_denial_response(switch: None) -> None:
    async def refuse(websocket: sw.WebSocket) -> None:
        await sw.WebSocketClose(code=4008, reason="go away")(
            websocket.scope, websocket.receive, websocket.send
        )

    async def deny(websocket: sw.WebSocket) -> None:
        await websocket.send_denial_response(PlainTextResponse("nope", status_code=403))

    client = TestClient(Starlette(routes=[WebSocketRoute("/close", refuse), WebSocketRoute("/deny", deny)]))
    with pytest.raises(sw.WebSocketDisconnect) as closed:
        with client.websocket_connect("/close"):
            pass  # pragma: no cover
    assert (closed.value.code, closed.value.reason) == (4008, "go away")
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect("/deny"):
            pass  # pragma: no cover
    assert denied.value.status_code == 403 and denied.value.text == "nope"
    assert isinstance(denied.value, sw.WebSocketDisconnect)


def test_direct_construction_and_subclasses(switch: None) -> None:
    scope = {"type": "websocket", "path": "/", "headers": []}
    assert type(StarletteWebSocket(scope, receive=None, send=None)) is ferrosocket.WebSocket
    assert type(StarletteWebSocket[dict[str, Any]](scope, None, None)) is ferrosocket.WebSocket

    class Mine(StarletteWebSocket):  # a subclass keeps Starlette's implementation and its arguments
        def __init__(self, scope: Any, receive: Any, send: Any, *, extra: int) -> None:
            super().__init__(scope, receive, send)
            self.extra = extra

    mine = Mine(scope, None, send=None, extra=5)
    assert type(mine) is Mine and mine.extra == 5 and isinstance(mine, StarletteWebSocket)
    ferrosocket.uninstall()
    assert type(Mine(scope, None, None, extra=1)) is Mine
    ferrosocket.adopt(lambda: None)  # the bridge without the global switch: Starlette's arguments
    with pytest.raises(TypeError, match="send"):
        StarletteWebSocket(scope, receive=None)  # type: ignore[call-arg]


def test_install_twice_and_uninstall_restores() -> None:
    scope = {"type": "websocket", "path": "/", "headers": []}
    ferrosocket.install()
    ferrosocket.install()
    assert ferrosocket.installed()
    assert type(StarletteWebSocket(scope, None, None)) is ferrosocket.WebSocket
    ferrosocket.uninstall()
    ferrosocket.uninstall()
    assert type(StarletteWebSocket) is abc.ABCMeta
    assert type(StarletteWebSocket(scope, None, None)) is StarletteWebSocket
    # ferrosocket's own connection is ferrosocket's again: its own enum and exception classes.
    ws = ferrosocket.WebSocket(scope, None, None)
    assert ws.client_state is ferrosocket.WebSocketState.CONNECTING
    assert ws.client_state == sw.WebSocketState.CONNECTING  # equal either way, switched or not
    assert sw.WebSocketState.CONNECTING == ws.client_state
    assert ws.client_state != sw.WebSocketState.CONNECTED
    assert {sw.WebSocketState.CONNECTING: 1}[ws.client_state] == 1  # same hash

    async def gone() -> None:
        async def connect() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def broken_send(message: Any) -> None:
            raise OSError

        ws = ferrosocket.WebSocket(scope, connect, broken_send)
        with pytest.raises(ferrosocket.WebSocketDisconnect) as info:
            await ws.accept()
        assert type(info.value) is ferrosocket.WebSocketDisconnect  # not the switched class

    import anyio

    anyio.run(gone)


def test_exceptions_raised_when_switched_derive_from_both(switch: None) -> None:
    import anyio

    async def main() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "websocket.disconnect", "code": 1001}

        async def broken_send(message: Any) -> None:
            raise OSError

        ws = ferrosocket.WebSocket({"type": "websocket", "path": "/", "headers": []}, receive, broken_send)
        ws.client_state = ws.application_state = sw.WebSocketState.CONNECTED
        with pytest.raises(sw.WebSocketDisconnect) as info:  # raised by the Rust core
            await ws.receive_text()
        assert info.value.code == 1001 and isinstance(info.value, ferrosocket.WebSocketDisconnect)
        with pytest.raises(sw.WebSocketDisconnect) as info:  # a send after the peer left: its close
            await ws.send_text("x")
        assert info.value.code == 1001 and isinstance(info.value, ferrosocket.WebSocketDisconnect)
        ws = ferrosocket.WebSocket({"type": "websocket", "path": "/", "headers": []}, receive, broken_send)
        ws.client_state = ws.application_state = sw.WebSocketState.CONNECTED
        with pytest.raises(sw.WebSocketDisconnect) as info:  # OSError from the server's send -> 1006
            await ws.send_text("x")
        assert info.value.code == 1006 and isinstance(info.value, ferrosocket.WebSocketDisconnect)

    anyio.run(main)


# --- adopt(): one route at a time -------------------------------------------------------------


def test_adopt_starlette_routes_only_those() -> None:
    seen: list[tuple[str, type]] = []

    def recorder(name: str) -> Any:
        async def endpoint(websocket: sw.WebSocket) -> None:
            seen.append((name, type(websocket)))
            await websocket.accept()
            try:
                await websocket.receive_text()
            except sw.WebSocketDisconnect:  # Starlette's name catches ferrosocket's disconnect
                seen.append((name, sw.WebSocketDisconnect))

        return endpoint

    class Adopted(WebSocketEndpoint):
        async def on_connect(self, websocket: sw.WebSocket) -> None:
            seen.append(("class", type(websocket)))
            await websocket.accept()

    app = Starlette()
    app.router.add_websocket_route("/plain", recorder("plain"))
    app.router.add_websocket_route("/adopted", ferrosocket.adopt(recorder("adopted")))
    app.router.add_websocket_route("/class", ferrosocket.adopt(Adopted))
    # A wrapper made with functools.wraps over an adopted endpoint keeps the mark.
    app.router.add_websocket_route("/wrapped", requires([])(ferrosocket.adopt(recorder("wrapped"))))
    assert not ferrosocket.installed()
    client = TestClient(app)
    for path in ("/plain", "/adopted", "/class", "/wrapped"):
        with client.websocket_connect(path) as ws:
            ws.close()
    assert seen == [
        ("plain", StarletteWebSocket),
        ("plain", sw.WebSocketDisconnect),
        ("adopted", ferrosocket.WebSocket),
        ("adopted", sw.WebSocketDisconnect),
        ("class", ferrosocket.WebSocket),
        ("wrapped", ferrosocket.WebSocket),
        ("wrapped", sw.WebSocketDisconnect),
    ]


@pytest.mark.parametrize("order", ["adopt-below", "adopt-above"])
def test_adopt_fastapi_route(order: str) -> None:
    seen: list[type] = []
    app = FastAPI()

    async def dependency(websocket: fastapi.WebSocket) -> type:
        return type(websocket)

    async def endpoint(websocket: fastapi.WebSocket, dep: Annotated[type, Depends(dependency)]) -> None:
        seen.extend([type(websocket), dep])
        await websocket.accept()
        await websocket.close()

    if order == "adopt-below":
        app.websocket("/ws")(ferrosocket.adopt(endpoint))
    else:
        ferrosocket.adopt(app.websocket("/ws")(endpoint))

    @app.websocket("/plain")
    async def plain(websocket: fastapi.WebSocket) -> None:
        seen.append(type(websocket))
        await websocket.accept()
        await websocket.close()

    client = TestClient(app)
    for path in ("/ws", "/plain"):
        with client.websocket_connect(path):
            pass
    assert seen == [ferrosocket.WebSocket, ferrosocket.WebSocket, StarletteWebSocket]


def test_adopt_then_install_then_uninstall() -> None:
    seen: list[type] = []
    app = Starlette(
        routes=[WebSocketRoute("/a", ferrosocket.adopt(echo_app(seen))), WebSocketRoute("/b", echo_app(seen))]
    )
    talk(app, "/a")
    talk(app, "/b")
    ferrosocket.install()
    talk(app, "/b")
    ferrosocket.uninstall()  # everything back to Starlette, adopted endpoints included
    talk(app, "/a")
    assert seen == [ferrosocket.WebSocket, StarletteWebSocket, ferrosocket.WebSocket, StarletteWebSocket]


# --- Refusals ---------------------------------------------------------------------------------


def test_refuses_a_foreign_metaclass() -> None:
    class Other(abc.ABCMeta):
        pass

    StarletteWebSocket.__class__ = Other
    try:
        with pytest.raises(RuntimeError, match="something else has patched"):
            ferrosocket.install()
    finally:
        StarletteWebSocket.__class__ = abc.ABCMeta
    assert not ferrosocket.installed() and _install._switch.starlette_class is None


def test_adopt_keeps_the_object(switch: None) -> None:
    async def endpoint(websocket: Any) -> None:
        pass  # pragma: no cover

    partial = functools.partial(endpoint)
    assert ferrosocket.adopt(endpoint) is endpoint and ferrosocket.adopt(partial) is partial
