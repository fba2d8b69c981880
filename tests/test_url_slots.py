"""A new URL's component slots are filled at their offsets for the registered `URL` class and
through `object.__setattr__` for any other class (src/python/url_slots.rs): both ways give the
same components, and the references they store are counted right."""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest

import ferrosocket
from ferrosocket import _core
from ferrosocket.websockets import WebSocketDisconnect, WebSocketDisconnected, WebSocketState

PATH = "/ws/rooms/lobby"


def scope(host: bytes = b"example.com:8443") -> dict[str, Any]:
    return {
        "type": "websocket",
        "scheme": "wss",
        "path": PATH,
        "query_string": b"a=1&b=2",
        "headers": [(b"host", host)],
        "server": ("127.0.0.1", 8000),
    }


def components(url: Any) -> tuple[Any, ...]:
    return (str(url), url.scheme, url.netloc, url.path, url.query, url.port)


class MyURL(ferrosocket.URL):
    pass


class ShadowedPath(ferrosocket.URL):
    """Defines its own `path` slot: the base class's offset is not where `.path` reads."""

    __slots__ = ("path",)


EXPECTED = ("wss://example.com:8443/ws/rooms/lobby?a=1&b=2", "wss", "example.com:8443", PATH, "a=1&b=2", 8443)


@pytest.mark.parametrize("cls", [ferrosocket.URL, MyURL, ShadowedPath])
def test_every_class_gets_the_same_components(cls: type[ferrosocket.URL]) -> None:
    for url in (cls(scope=scope()), cls(EXPECTED[0])):
        assert type(url) is cls
        assert components(url) == EXPECTED


@pytest.mark.parametrize("cls", [ferrosocket.URL, MyURL])
def test_a_url_whose_port_raises_still_raises(cls: type[ferrosocket.URL]) -> None:
    # No Host header: the server's port, out of range, is written out (as Starlette does).
    from_server = scope() | {"headers": [], "server": ("127.0.0.1", 99999)}
    for url in (cls(scope=from_server), cls("ws://h:99999/p")):
        assert url.__class__ is cls and url.path in (PATH, "/p")
        with pytest.raises(ValueError, match="out of range"):
            url.port  # noqa: B018


def test_the_slots_hold_counted_references() -> None:
    path = PATH + "/counted"
    a_scope = scope() | {"path": path}
    gc.collect()
    before = sys.getrefcount(path)
    urls = [ferrosocket.URL(scope=a_scope) for _ in range(100)]
    assert all(url.path is path for url in urls)  # the scope's own str, stored in each slot
    assert sys.getrefcount(path) == before + 100
    del urls
    gc.collect()
    assert sys.getrefcount(path) == before


def test_registering_a_class_without_the_slots_is_refused_and_changes_nothing() -> None:
    states = tuple(WebSocketState)
    unexpected = ferrosocket.UnexpectedMessageType
    with pytest.raises(TypeError, match="URL class without a `scheme` slot"):
        _core._register(str, states, WebSocketDisconnect, WebSocketDisconnected, unexpected)
    url = ferrosocket.WebSocket(scope(), None, None).url
    assert type(url) is ferrosocket.URL and components(url) == EXPECTED
