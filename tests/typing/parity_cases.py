"""User code that must type-check the same against ferrosocket as against Starlette 1.10.0.

Not run, only checked. `make lint` checks it as written (ferrosocket's classes): mypy --strict, and
pyright. tests/typing/test_typing_cases.py checks it twice, as written and with Starlette's classes
in place of ferrosocket's (the import block between the two markers below), under mypy --strict and
pyright strict: on both sides every line must give exactly the errors its comments name (mypy's in
`# type: ignore[...]`, pyright's in `# pyright: ignore[...]`) and no line any other. `assert_type`
pins the types Starlette gives precisely. Each case is named after the defect of the typing hunt it
guards (Any where Starlette has a type, or an error one checker reported on one side only).
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    ItemsView,
    Iterable,
    KeysView,
    Mapping,
    MutableMapping,
    ValuesView,
)
from typing import Any, assert_never, assert_type

from starlette.datastructures import URL as StarletteURL
from starlette.responses import PlainTextResponse, Response

# >>> ferrosocket imports (the Starlette side swaps this block)
from ferrosocket import URL, Headers, MutableHeaders, QueryParams, WebSocket, WebSocketState

# <<<

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# --- The connection's accessors: Starlette's types, not Any. ----------------------------------


def url_is_url(ws: WebSocket) -> None:
    assert_type(ws.url, URL)
    assert_type(ws.base_url, URL)
    assert_type(ws.url.path, str)
    assert_type(ws.url.port, int | None)
    print(ws.url.prot)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownArgumentType]


def states_are_enum_members(ws: WebSocket) -> str:
    assert_type(ws.client_state, WebSocketState)
    assert_type(ws.application_state, WebSocketState)
    match ws.client_state:  # exhaustive: no missing return
        case WebSocketState.CONNECTING:
            return "connecting"
        case WebSocketState.CONNECTED:
            return "open"
        case WebSocketState.DISCONNECTED:
            return "closed"
        case WebSocketState.RESPONSE:
            return "denied"


def states_are_not_strings(ws: WebSocket) -> bool:
    ws.client_state = "CONNECTED"  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    return ws.client_state == "CONNECTED"  # type: ignore[comparison-overlap]  # pyright: ignore[reportUnnecessaryComparison]


def state_value_is_int(ws: WebSocket) -> int:
    return ws.application_state.value


def eq_narrows_the_enum(state: WebSocketState) -> str:
    # WebSocketState's run-time __eq__ (equal to Starlette's members) is hidden from type checkers,
    # so `==` narrows as on Starlette's plain enum.
    if state == WebSocketState.CONNECTING:
        return "a"
    elif state == WebSocketState.CONNECTED:
        return "b"
    elif state == WebSocketState.DISCONNECTED:
        return "c"
    elif state == WebSocketState.RESPONSE:
        return "d"
    else:
        assert_never(state)


def scope_is_mutable_mapping(ws: WebSocket) -> None:
    assert_type(ws.scope, MutableMapping[str, Any])
    ws.scope["extra"] = 1
    ws.scope.foo()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


def url_for_is_starlettes_url(ws: WebSocket) -> str:
    assert_type(ws.url_for("room", id=1), StarletteURL)
    return ws.url_for("room").pth  # type: ignore[attr-defined, no-any-return]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]


# --- Raw messages and the constructor: Starlette's Scope, Receive, Send, Message. -------------


async def raw_messages_are_mutable(ws: WebSocket) -> None:
    await PlainTextResponse("no", status_code=403)(ws.scope, ws.receive, ws.send)
    message = await ws.receive()
    assert_type(message, MutableMapping[str, Any])
    message["seen"] = True
    await ws.send(message)


def constructor_takes_scope_receive_send(scope: Scope, receive: Receive, send: Send, x: int) -> None:
    WebSocket(scope, receive, send)
    WebSocket(scope=scope, receive=receive, send=send)
    WebSocket(x, x, x)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    WebSocket(scope)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


async def denial_response_is_a_response(ws: WebSocket) -> None:
    await ws.send_denial_response(PlainTextResponse("no", status_code=403))
    await ws.send_denial_response("forbidden")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


async def send_bytes_takes_bytes(ws: WebSocket) -> None:
    await ws.send_bytes(b"x")
    # Starlette's parameter type: a bytearray is sent at run time by ferrosocket, but not typed.
    await ws.send_bytes(bytearray(b"x"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# --- Subclasses written with Starlette's signatures. -------------------------------------------


class EveryMethod(WebSocket):
    """Every public method overridden with Starlette 1.10.0's own signature."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope, receive, send)

    @property
    def url(self) -> URL:
        return super().url

    def url_for(self, name: str, /, **path_params: Any) -> StarletteURL:
        return super().url_for(name, **path_params)

    async def receive(self) -> Message:
        return await super().receive()

    async def send(self, message: Message) -> None:
        await super().send(message)

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[bytes, bytes]] | None = None
    ) -> None:
        await super().accept(subprotocol, headers)

    async def receive_text(self) -> str:
        return await super().receive_text()

    async def receive_bytes(self) -> bytes:
        return await super().receive_bytes()

    async def receive_json(self, mode: str = "text") -> Any:
        return await super().receive_json(mode)

    async def iter_text(self) -> AsyncIterator[str]:
        async for text in super().iter_text():
            yield text

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        async for data in super().iter_bytes():
            yield data

    async def iter_json(self) -> AsyncIterator[Any]:
        async for value in super().iter_json():
            yield value

    async def send_text(self, data: str) -> None:
        await super().send_text(data)

    async def send_bytes(self, data: bytes) -> None:
        await super().send_bytes(data)

    async def send_json(self, data: Any, mode: str = "text") -> None:
        await super().send_json(data, mode)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await super().close(code, reason)

    async def send_denial_response(self, response: Response) -> None:
        await super().send_denial_response(response)


def subclass_is_built_as_itself(scope: Scope, receive: Receive, send: Send) -> None:
    assert_type(EveryMethod(scope, receive, send), EveryMethod)


class MyHeaders(Headers):
    def shout(self) -> str:
        return self.get("x", "").upper()


class MyMutableHeaders(MutableHeaders):
    def tag(self) -> None:
        self["x-tag"] = "1"


def datastructure_subclasses_are_built_as_themselves() -> None:
    assert_type(MyHeaders({"x": "y"}), MyHeaders)
    assert_type(MyMutableHeaders({"x": "y"}), MyMutableHeaders)
    print(MyHeaders({"x": "y"}).shout())
    MyMutableHeaders({"x": "y"}).tag()


# --- Datastructures. ---------------------------------------------------------------------------


def log_all(m: Mapping[str, str]) -> None: ...


def headers_and_query_params_are_mappings(ws: WebSocket) -> None:
    log_all(ws.headers)
    log_all(ws.query_params)
    MutableHeaders().update(ws.headers)
    headers: Mapping[str, str] = ws.headers
    print(headers)


def mutablecopy_is_mutable_headers(ws: WebSocket) -> MutableHeaders:
    m = ws.headers.mutablecopy()
    assert_type(m, MutableHeaders)
    assert_type(m.setdefault("x-a", "1"), str)
    assert_type(m.raw, list[tuple[bytes, bytes]])
    assert_type(m | {"x-b": "2"}, MutableHeaders)
    m.apend("x-a", "1")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    return m


def mutable_headers_get_is_typed() -> str:
    m = MutableHeaders({"a": "b"})
    assert_type(m.get("a"), str | None)
    assert_type(m.get("a", "z"), str)
    assert_type(m.get("a", 0), str | int)
    return m.get("a").uper()  # type: ignore[union-attr, no-any-return]  # pyright: ignore[reportAttributeAccessIssue, reportOptionalMemberAccess, reportUnknownMemberType, reportUnknownVariableType]


def query_params_views_are_typed(ws: WebSocket) -> None:
    q = ws.query_params
    assert_type(q.keys(), KeysView[str])
    assert_type(q.values(), ValuesView[str])
    assert_type(q.items(), ItemsView[str, str])
    for key, value in q.items():
        print(key.uper(), value)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownArgumentType]
    n: int = q.keys()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    print(n)


def query_params_constructor_is_typed(q: QueryParams) -> None:
    QueryParams("a=1&b=2")
    QueryParams(b"a=1")
    QueryParams({"a": "1"})
    QueryParams([("a", "1")])
    QueryParams(q)
    QueryParams(a="1")
    assert_type(QueryParams("a=1").getlist("a"), list[str])
    QueryParams(123)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def url_components_are_read_only(url: URL) -> None:
    url.path = "/x"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    url.port = 8080  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    url.fragment = "top"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    url.hostname = "h"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    url.note = 1  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]


def url_components_are_typed(url: URL) -> None:
    assert_type(url.scheme, str)
    assert_type(url.netloc, str)
    assert_type(url.query, str)
    assert_type(url.fragment, str)
    assert_type(url.username, str | None)
    assert_type(url.password, str | None)
    assert_type(url.hostname, str | None)
    assert_type(url.is_secure, bool)
    assert_type(url.replace(path="/x"), URL)
    assert_type(url.include_query_params(a=1), URL)
