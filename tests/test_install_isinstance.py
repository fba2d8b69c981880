"""After ``ferrosocket.install()``, Starlette's datastructure classes accept ferrosocket's objects.

Libraries check the types of a connection's views against ``starlette.datastructures``: FastAPI
builds list-valued ``Query``/``Header`` parameters and the extras of parameter models only when
``isinstance(values, (ImmutableMultiDict, Headers))`` holds. So after ``install()``,
``isinstance(ws.headers, starlette.datastructures.Headers)`` and the like must be true for every
view that Starlette has a class for; the FastAPI tests below run the same app stock and switched
and compare what the endpoint received.
"""

# No `from __future__ import annotations`: FastAPI must see the endpoints' annotations.

import types
from collections.abc import Iterator
from typing import Annotated, Any

import httpx2
import pytest
import starlette.datastructures as sd
import starlette.websockets as sw
from fastapi import FastAPI, Header, Query, WebSocket
from pydantic import BaseModel, ConfigDict
from starlette.testclient import TestClient

import ferrosocket

SCOPE: dict[str, Any] = {
    "type": "websocket",
    "path": "/ws",
    "raw_path": b"/ws",
    "root_path": "",
    "scheme": "ws",
    "query_string": b"q=1&q=2&r=3",
    "headers": [(b"host", b"example.org"), (b"x-a", b"1"), (b"x-a", b"2")],
    "client": ("10.0.0.1", 5000),
    "server": ("example.org", 80),
    "subprotocols": [],
    "state": {"user": "me"},
}

# ferrosocket's view -> Starlette's classes it must be an instance of after install().
PLAIN_CLASSES = (sd.URL, sd.Address, sd.State)


def views(ws: Any) -> dict[str, tuple[Any, tuple[type, ...]]]:
    """Each view of a connection and the Starlette classes it must pass isinstance() for."""
    return {
        "headers": (ws.headers, (sd.Headers,)),
        "mutablecopy": (ws.headers.mutablecopy(), (sd.Headers, sd.MutableHeaders)),
        "query_params": (ws.query_params, (sd.QueryParams, sd.ImmutableMultiDict)),
        "url": (ws.url, (sd.URL,)),
        "base_url": (ws.base_url, (sd.URL,)),
        "client": (ws.client, (sd.Address,)),
        "state": (ws.state, (sd.State,)),
    }


@pytest.fixture
def switched() -> Iterator[None]:
    ferrosocket.install()
    try:
        yield
    finally:
        ferrosocket.uninstall()


@pytest.fixture(autouse=True)
def _always_restored() -> Iterator[None]:
    yield
    ferrosocket.uninstall()
    assert all(type(cls) is type for cls in PLAIN_CLASSES)


def connection() -> Any:
    """A WebSocket built the way Starlette's router builds one (so: ferrosocket's when switched)."""
    return sw.WebSocket(dict(SCOPE), receive=None, send=None)  # type: ignore[arg-type]


def test_views_are_instances_of_starlettes_classes(switched: None) -> None:
    ws = connection()
    assert type(ws) is ferrosocket.WebSocket
    for name, (view, classes) in views(ws).items():
        assert type(view).__module__.startswith("ferrosocket"), name
        for cls in classes:
            assert isinstance(view, cls), (name, cls)
            assert issubclass(type(view), cls), (name, cls)
    # And the classes themselves, as libraries that check annotations see them.
    pairs = [
        (ferrosocket.Headers, sd.Headers),
        (ferrosocket.MutableHeaders, sd.MutableHeaders),
        (ferrosocket.QueryParams, sd.QueryParams),
        (ferrosocket.QueryParams, sd.ImmutableMultiDict),
        (ferrosocket.URL, sd.URL),
        (ferrosocket.Address, sd.Address),
        (ferrosocket.State, sd.State),
    ]
    for ours, theirs in pairs:
        assert issubclass(ours, theirs), (ours, theirs)


def test_only_what_is_true(switched: None) -> None:
    ws = connection()
    # A view is not an instance of the Starlette classes it does not implement.
    assert not isinstance(ws.headers, sd.MutableHeaders)
    assert not isinstance(ws.query_params, sd.MultiDict)
    assert not isinstance(ws.query_params, sd.FormData)
    assert not isinstance(ws.headers, sd.ImmutableMultiDict)
    assert not isinstance(ws.url, sd.URLPath)
    # Other objects are not made instances: plain values, and ferrosocket's other classes.
    for value in ("ws://example.org/ws", ("10.0.0.1", 5000), {"user": "me"}, None, 1, ws):
        for cls in (*PLAIN_CLASSES, sd.Headers, sd.QueryParams):
            assert not isinstance(value, cls), (value, cls)
    assert not issubclass(str, sd.URL) and not issubclass(tuple, sd.Address)
    assert not issubclass(ferrosocket.URL, sd.State) and not issubclass(ferrosocket.State, sd.URL)


def test_starlettes_own_objects_and_subclasses_unchanged(switched: None) -> None:
    url, state, address = sd.URL("ws://a/b"), sd.State({"x": 1}), sd.Address("h", 1)
    assert isinstance(url, sd.URL) and isinstance(state, sd.State) and isinstance(address, sd.Address)
    assert not isinstance(url, sd.State) and not isinstance(state, sd.Address)

    # A subclass of Starlette's class defined while switched: its own checks are the ordinary
    # ones (ferrosocket's objects are not instances of it), and it stays usable after uninstall().
    class MyURL(sd.URL):
        pass

    mine = MyURL("ws://a/b")
    assert isinstance(mine, sd.URL) and isinstance(mine, MyURL) and issubclass(MyURL, sd.URL)
    assert not isinstance(connection().url, MyURL) and not issubclass(ferrosocket.URL, MyURL)
    assert str(mine) == "ws://a/b" and mine.path == "/b"
    ferrosocket.uninstall()
    assert isinstance(MyURL("ws://c/"), sd.URL) and not isinstance(connection().url, MyURL)


def test_uninstall_restores_the_plain_classes() -> None:
    before = {cls: type(cls) for cls in PLAIN_CLASSES}
    ferrosocket.install()
    ferrosocket.install()  # twice: no double swap
    assert all(type(cls) is not type for cls in PLAIN_CLASSES)
    ferrosocket.uninstall()
    assert {cls: type(cls) for cls in PLAIN_CLASSES} == before == dict.fromkeys(PLAIN_CLASSES, type)
    ws = ferrosocket.WebSocket(dict(SCOPE), None, None)
    assert not isinstance(ws.url, sd.URL)
    assert not isinstance(ws.client, sd.Address)
    assert not isinstance(ws.state, sd.State)
    # Starlette's ABCs keep ferrosocket's classes registered (an ABC registration is permanent,
    # as for WebSocket): true, since they implement the same interface.
    assert isinstance(ws.headers, sd.Headers) and isinstance(ws.query_params, sd.ImmutableMultiDict)
    # Switching again works.
    ferrosocket.install()
    assert isinstance(ws.url, sd.URL) and isinstance(ws.state, sd.State)


def test_adopt_switches_the_checks_too() -> None:
    # adopt() gives the adopted endpoints ferrosocket's WebSocket: their views must pass too.
    ferrosocket.adopt(types.SimpleNamespace())
    ws = ferrosocket.WebSocket(dict(SCOPE), None, None)
    assert isinstance(ws.url, sd.URL) and isinstance(ws.client, sd.Address)
    assert isinstance(ws.headers, sd.Headers) and isinstance(ws.query_params, sd.QueryParams)


def test_starlettes_own_checks_stay_fast_for_its_own_objects(switched: None) -> None:
    # A real instance never reaches the swapped metaclass's Python code (CPython's exact-type
    # check answers first), and Starlette's ABCs answer from their C caches.
    calls: list[Any] = []
    meta = type(sd.URL)
    original = meta.__instancecheck__
    try:
        meta.__instancecheck__ = lambda cls, inst: calls.append(inst) or original(cls, inst)  # type: ignore[method-assign]
        assert isinstance(sd.URL("ws://a/"), sd.URL)
        assert calls == []
    finally:
        meta.__instancecheck__ = original  # type: ignore[method-assign]


# --- FastAPI: list-valued parameters and parameter models -------------------------------------


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    tags: list[str] = []
    page: int = 0


class HeaderModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    x_token: list[str] = []


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.websocket("/lists")
    async def lists(
        websocket: WebSocket,
        tags: Annotated[list[str], Query()],
        x_token: Annotated[list[str], Header()],
        single: Annotated[str, Query()] = "none",
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"tags": tags, "x_token": x_token, "single": single})
        await websocket.close()

    @app.websocket("/models")
    async def models(
        websocket: WebSocket,
        query: Annotated[QueryModel, Query()],
        headers: Annotated[HeaderModel, Header()],
    ) -> None:
        await websocket.accept()
        extras = {k: v for k, v in (headers.model_extra or {}).items() if k.startswith("x-")}
        await websocket.send_json(
            {"query": query.model_dump(), "x_token": headers.x_token, "header_extras": extras}
        )
        await websocket.close()

    return app


REQUESTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("/lists?tags=a&tags=b&tags=c&single=s", [("x-token", "t1"), ("x-token", "t2")]),
    ("/lists?tags=only", [("x-token", "one")]),
    ("/models?tags=a&tags=b&page=3&extra=1&extra=2&other=x", [("x-token", "t1"), ("x-token", "t2")]),
    ("/models?extra=1", [("x-token", "t1"), ("x-extra", "e1"), ("x-extra", "e2"), ("x-one", "o")]),
]


def run_requests() -> list[Any]:
    """What the endpoints received for each of REQUESTS."""
    client = TestClient(fastapi_app())
    results = []
    for path, headers in REQUESTS:
        with client.websocket_connect(path, headers=httpx2.Headers(headers)) as ws:
            results.append(ws.receive_json())
    return results


EXPECTED = [
    {"tags": ["a", "b", "c"], "x_token": ["t1", "t2"], "single": "s"},
    {"tags": ["only"], "x_token": ["one"], "single": "none"},
    {
        "query": {"tags": ["a", "b"], "page": 3, "extra": ["1", "2"], "other": "x"},
        "x_token": ["t1", "t2"],
        "header_extras": {},
    },
    {
        "query": {"tags": [], "page": 0, "extra": "1"},
        "x_token": ["t1"],
        "header_extras": {"x-extra": ["e1", "e2"], "x-one": "o"},
    },
]


def test_fastapi_list_params_and_models_stock() -> None:
    # The baseline: what Starlette's own classes give FastAPI.
    assert run_requests() == EXPECTED


def test_fastapi_list_params_and_models_switched(switched: None) -> None:
    built: list[str] = []
    inits = {ferrosocket.WebSocket: ferrosocket.WebSocket.__init__, sw.WebSocket: sw.WebSocket.__init__}

    def spy(cls: type) -> Any:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            built.append(cls.__module__)
            inits[cls](self, *args, **kwargs)

        return __init__

    for cls in inits:
        cls.__init__ = spy(cls)  # type: ignore[misc]
    try:
        results = run_requests()
    finally:
        for cls, init in inits.items():
            cls.__init__ = init  # type: ignore[misc]
    assert built and set(built) == {"ferrosocket.websockets"}  # the switch was really on
    assert results == EXPECTED
