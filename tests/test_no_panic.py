"""Arbitrary objects into every public entry point: Python exceptions are fine, a Rust panic
(pyo3's PanicException) never is."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferrosocket
from ferrosocket import URL, Headers, MutableHeaders, QueryParams, WebSocket
from ferrosocket._core import UrlParts


class Hostile:
    """An object whose every protocol method (but repr) raises."""

    def __str__(self) -> str:
        raise ValueError("no str")

    def __repr__(self) -> str:  # hypothesis must be able to report it
        return "Hostile()"

    def __eq__(self, other: object) -> bool:
        raise ValueError("no eq")

    __hash__ = object.__hash__  # hypothesis needs to hash what it generates

    def __iter__(self) -> Any:
        raise ValueError("no iter")

    def __len__(self) -> int:
        raise ValueError("no len")

    def __bool__(self) -> bool:
        raise ValueError("no bool")

    def __index__(self) -> int:
        raise ValueError("no index")


class StrSub(str):
    def lower(self) -> str:  # type: ignore[override]
        raise ValueError("no lower")


class BytesSub(bytes):
    pass


atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**200),
    st.integers(min_value=-(2**200), max_value=-(2**63)),
    st.floats(allow_nan=True),
    st.text(),
    st.text().map(StrSub),
    st.binary(),
    st.binary().map(BytesSub),
    st.binary().map(bytearray),
    st.binary().map(memoryview),
    st.just(Hostile()),
    st.sampled_from(
        [
            "websocket",
            "websocket.connect",
            "websocket.receive",
            "websocket.disconnect",
            "websocket.send",
            "websocket.close",
            "websocket.accept",
            "websocket.http.response.start",
            "websocket.http.response.body",
            "type",
            "text",
            "bytes",
            "code",
            "reason",
            "headers",
            "host",
        ]
    ),
)
objects = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(
            st.one_of(
                st.text(max_size=10),
                st.sampled_from(
                    ["type", "text", "bytes", "code", "reason", "headers", "path", "query_string"]
                ),
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


def is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException"


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        result = fn(*args, **kwargs)
        if isinstance(result, Coroutine):
            try:
                result.send(None)
            except StopIteration:
                pass
            finally:
                result.close()
        elif result is not None:
            str(result) if not isinstance(result, URL) else None
    except BaseException as exc:  # noqa: BLE001 - the point is to look at every exception
        assert not is_panic(exc), f"{fn!r} panicked: {exc!r}"


def scopes(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {"type": "websocket", **obj}
    return obj


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=objects, b=objects, c=objects)
def test_datastructures_never_panic(a: Any, b: Any, c: Any) -> None:
    call(Headers, a)
    call(Headers, raw=a)
    call(Headers, scope=scopes(a))
    call(MutableHeaders, raw=a)
    call(QueryParams, a)
    call(QueryParams, a, b)
    call(QueryParams, a, **({"k": b}))
    call(UrlParts, a)
    call(URL, a)
    call(URL, scope=scopes(a))
    h = Headers(raw=[(b"host", b"x"), (b"a", b"1")])
    q = QueryParams("a=1&b=2")
    for target in (h, q):
        for method in ("__getitem__", "__contains__", "get", "getlist", "__eq__", "__ne__"):
            call(getattr(target, method), a)
    call(h.get, a, b)
    call(q.get, a, b)
    u = URL("ws://u:p@h:80/p?q=1")
    call(u.replace, **({"path": a} if isinstance(a, str) else {}))
    call(u.include_query_params, x=a)
    call(u.remove_query_params, a)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scope=objects, message=objects, arg=objects, arg2=objects)
def test_websocket_never_panics(scope: Any, message: Any, arg: Any, arg2: Any) -> None:
    async def receive() -> Any:
        return message

    async def send(m: Any) -> None:
        return None

    try:
        ws = WebSocket(scopes(scope), receive, send)
    except BaseException as exc:  # noqa: BLE001
        assert not is_panic(exc)
        ws = WebSocket({"type": "websocket", "path": "/", "headers": []}, receive, send)
    for name in (
        "url",
        "base_url",
        "headers",
        "query_params",
        "path_params",
        "cookies",
        "client",
        "state",
        "app",
        "close_code",
        "close_reason",
        "client_state",
        "application_state",
    ):
        call(getattr, ws, name)
    call(ws.__getitem__, arg)
    call(setattr, ws, "client_state", arg)
    call(setattr, ws, "application_state", arg2)
    ws.client_state = ferrosocket.WebSocketState.CONNECTED
    ws.application_state = ferrosocket.WebSocketState.CONNECTED
    for method, args in [
        (ws.receive, ()),
        (ws.receive_text, ()),
        (ws.receive_bytes, ()),
        (ws.receive_json, (arg,)),
        (ws.send, (message,)),
        (ws.send_text, (arg,)),
        (ws.send_bytes, (arg,)),
        (ws.send_json, (arg, arg2)),
        (ws.close, (arg, arg2)),
    ]:
        call(method, *args)
    ws.client_state = ferrosocket.WebSocketState.CONNECTING
    ws.application_state = ferrosocket.WebSocketState.CONNECTING
    call(ws.accept, arg, arg2)
    call(ws.send, {"type": "websocket.http.response.start", "status": arg, "headers": arg2})
    call(ws.send, {"type": "websocket.http.response.body", "body": arg, "more_body": arg2})
