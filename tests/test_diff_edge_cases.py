"""Edge cases through Starlette 1.10.0 and ferrosocket side by side: the same value, or the same
exception (type and message).

Each case is an input a differential review found handled differently (2026-12-05): pairs given
as lists, non-str URL arguments and scheme values, server ports equal to a default without being
an ``int``, lone surrogates as lookup keys, ``remove_query_params`` with an iterator, falsy
``accept(headers=...)``, missing constructor arguments, the context of ``WebSocketDisconnect(1006)``,
and the ``Mapping`` protocol's corners (``cls[...]``, ``reversed()``, ``bool()``). The probes are
compared directly with Starlette, not with tests/reference.py.
"""

from __future__ import annotations

import copy
import enum
import pickle
import typing
from collections.abc import Callable
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
import starlette.datastructures as starlette_datastructures
import starlette.websockets as starlette_websockets
from differential import outcome

import ferrosocket
import ferrosocket.datastructures as ferrosocket_datastructures

Probe = Callable[[ModuleType], Any]


class Port(enum.IntEnum):
    HTTP = 80


class RaisingIter:
    def __iter__(self) -> Any:
        raise RuntimeError("iteration failed")


def scope(**fields: Any) -> dict[str, Any]:
    return {"type": "websocket", "path": "/p", "headers": [], **fields}


HOST = [(b"host", b"h")]

DATASTRUCTURE_CASES: dict[str, Probe] = {
    # QueryParams: a pair is any two-item iterable, with Python's unpacking errors.
    "QueryParams(list of lists)": lambda L: L.QueryParams([["a", "1"]]).multi_items(),
    "QueryParams(list of lists, kwargs)": lambda L: L.QueryParams([["a", "1"]], b="2").multi_items(),
    "QueryParams(list of 2-char str)": lambda L: L.QueryParams(["ab"]).multi_items(),
    "QueryParams(1-tuple)": lambda L: L.QueryParams([("a",)]),
    "QueryParams(3-tuple)": lambda L: L.QueryParams([("a", "b", "c")]),
    "QueryParams(int item)": lambda L: L.QueryParams([5]),
    "QueryParams(item whose __iter__ raises)": lambda L: L.QueryParams([RaisingIter()]),
    "QueryParams.getlist(lone surrogate)": lambda L: L.QueryParams("a=1").getlist("\udc80"),
    # Headers: a lookup key that latin-1 cannot encode raises latin-1's own error.
    "Headers[lone surrogate]": lambda L: L.Headers(raw=[(b"a", b"1")])["\udc80"],
    "Headers.get(lone surrogate)": lambda L: L.Headers(raw=[(b"a", b"1")]).get("\udc80"),
    "Headers.getlist(lone surrogate)": lambda L: L.Headers(raw=[(b"a", b"1")]).getlist("\udc80"),
    "lone surrogate in Headers": lambda L: "\udc80" in L.Headers(raw=[(b"a", b"1")]),
    # The Mapping protocol's corners.
    "Headers[str]": lambda L: repr(L.Headers[str]).rpartition(".")[2],
    "QueryParams[str]": lambda L: repr(L.QueryParams[str]).rpartition(".")[2],
    "MutableHeaders[str]": lambda L: repr(L.MutableHeaders[str]).rpartition(".")[2],
    "reversed(MutableHeaders)": lambda L: list(reversed(L.MutableHeaders(raw=[(b"a", b"1")]))),
    "reversed(empty MutableHeaders)": lambda L: list(reversed(L.MutableHeaders())),
    "get_type_hints(Address)": lambda L: typing.get_type_hints(L.Address),
    # URL: every URL is true; a non-str argument is a TypeError (Starlette's, from str()).
    "bool(URL(''))": lambda L: bool(L.URL("")),
    "bool(URL(scope), empty path)": lambda L: bool(L.URL(scope=scope(path=""))),
    "URL(bytes)": lambda L: str(L.URL(b"http://x/")),
    "URL(int)": lambda L: str(L.URL(5)),
    "URL('').replace(scheme=None)": lambda L: str(L.URL("").replace(scheme=None)),
    # URL(scope=...): a non-str scheme fails where Starlette uses it, an int-like default port
    # is left out.
    "scheme None, Host": lambda L: str(L.URL(scope=scope(scheme=None, headers=HOST))),
    "scheme bytes, Host": lambda L: str(L.URL(scope=scope(scheme=b"ws", headers=HOST))),
    "scheme None, server": lambda L: str(L.URL(scope=scope(scheme=None, server=("h", 80)))),
    "scheme bytes, server": lambda L: str(L.URL(scope=scope(scheme=b"ws", server=("h", 80)))),
    "scheme unknown, server": lambda L: str(L.URL(scope=scope(scheme="gopher", server=("h", 80)))),
    "scheme None, no host": lambda L: str(L.URL(scope=scope(scheme=None))),
    "port IntEnum 80, ws": lambda L: str(L.URL(scope=scope(scheme="ws", server=("h", Port.HTTP)))),
    "port 80.0, ws": lambda L: str(L.URL(scope=scope(scheme="ws", server=("h", 80.0)))),
    "port 80.0, wss": lambda L: str(L.URL(scope=scope(scheme="wss", server=("h", 80.0)))),
    "port 443.0, wss": lambda L: str(L.URL(scope=scope(scheme="wss", server=("h", 443.0)))),
    "port equal to anything, wss": lambda L: str(L.URL(scope=scope(scheme="wss", server=("h", mock.ANY)))),
    "port equal to anything, unknown scheme": lambda L: str(
        L.URL(scope=scope(scheme="gopher", server=("h", mock.ANY)))
    ),
    "scheme unhashable, server": lambda L: str(L.URL(scope=scope(scheme=[], server=("h", 80)))),
    "server host whose __iter__ raises": lambda L: str(L.URL(scope=scope(server=RaisingIter()))),
    # An empty netloc: urlunsplit's rules for it changed in Python 3.13 (the core suite runs there).
    "empty server host, path //": lambda L: repr(L.URL(scope=scope(path="//", server=("", 80)))),
    "empty server host, path //x": lambda L: L.URL(scope=scope(path="//x", server=("", 80))).path,
    "empty server host, path /a, wss": lambda L: str(
        L.URL(scope=scope(path="/a", scheme="wss", server=("", 443)))
    ),
    # remove_query_params: `keys` iterated once, each key hashed.
    "remove(iterator)": lambda L: str(L.URL("http://h/?b=1&a=2&c=3").remove_query_params(iter(["a", "b"]))),
    "remove(generator)": lambda L: str(L.URL("http://h/?b=1&a=2").remove_query_params(k for k in ["a"])),
    "remove(bytes)": lambda L: str(L.URL("http://h/?a=1").remove_query_params(b"a")),
    "remove(unhashable key)": lambda L: str(L.URL("http://h/?a=1").remove_query_params([["a"]])),
    "remove(None), no query": lambda L: str(L.URL("http://h/").remove_query_params(None)),
    "remove(int)": lambda L: str(L.URL("http://h/?a=1").remove_query_params(5)),
}


@pytest.mark.parametrize("name", DATASTRUCTURE_CASES)
def test_datastructure_case(name: str) -> None:
    probe = DATASTRUCTURE_CASES[name]
    theirs = outcome(lambda: probe(starlette_datastructures))
    ours = outcome(lambda: probe(ferrosocket_datastructures))
    assert ours == theirs


WEBSOCKET = {"starlette": starlette_websockets.WebSocket, "ferrosocket": ferrosocket.WebSocket}

CONSTRUCTOR_CASES: dict[str, Callable[[Any], Any]] = {
    "scope only": lambda cls: cls(scope()),
    "scope and receive": lambda cls: cls(scope(), None),
    "keyword receive only": lambda cls: cls(scope(), receive=None),
    "too many": lambda cls: cls(scope(), None, None, None),
    "unknown keyword": lambda cls: cls(scope(), None, None, extra=1),
    "keywords": lambda cls: type(cls(scope=scope(), receive=None, send=None)).__name__,
}


@pytest.mark.parametrize("name", CONSTRUCTOR_CASES)
def test_constructor_case(name: str) -> None:
    make = CONSTRUCTOR_CASES[name]
    theirs = outcome(lambda: make(WEBSOCKET["starlette"]))
    ours = outcome(lambda: make(WEBSOCKET["ferrosocket"]))
    assert ours == theirs


class Tagged(ferrosocket.WebSocket):
    def __init__(self, scope: Any, receive: Any, send: Any, tag: str) -> None:
        super().__init__(scope, receive, send)
        self.tag = tag


def test_subclass_with_its_own_signature_is_made_copied_and_pickled() -> None:
    """A subclass's own ``__init__`` gets the arguments (the base class takes only the scope, the
    first argument or ``scope=``); copies and pickles are made again without ``__init__``, as
    Starlette's are."""
    ws = Tagged(scope(), None, None, "t")
    assert ws.tag == "t" and ws.scope["path"] == "/p"
    ws.state.user = "u"
    assert ws.base_url == "/"
    for copied in (copy.copy(ws), copy.deepcopy(ws), pickle.loads(pickle.dumps(ws))):
        assert type(copied) is Tagged and copied.tag == "t" and copied.scope == ws.scope
        assert copied.state.user == "u" and copied.base_url == "/"
        assert copied.client_state is ws.client_state


class Peer:
    """The server's side: 'connect' first; records what is sent; raises ``fail`` for every send
    but the accept when given."""

    def __init__(self, fail: OSError | None = None) -> None:
        self.incoming = [{"type": "websocket.connect"}]
        self.sent: list[dict[str, Any]] = []
        self.fail = fail

    async def receive(self) -> Any:
        return self.incoming.pop()

    async def send(self, message: Any) -> None:
        if self.fail is not None and message["type"] != "websocket.accept":
            raise self.fail
        self.sent.append(dict(message))


@pytest.mark.parametrize("headers", [{}, "", b"", 0, ()], ids=repr)
@pytest.mark.anyio
async def test_accept_with_empty_headers(headers: Any) -> None:
    """``accept(headers=...)`` sends ``headers or []``, as Starlette does."""
    sent = {}
    for name, cls in WEBSOCKET.items():
        peer = Peer()
        await cls(scope(), peer.receive, peer.send).accept(headers=headers)
        sent[name] = peer.sent
    assert (
        sent["ferrosocket"]
        == sent["starlette"]
        == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    )


@pytest.mark.parametrize("how", ["send", "send_text", "close"])
@pytest.mark.anyio
async def test_lost_peer_keeps_the_oserror_as_context(how: str) -> None:
    """``WebSocketDisconnect(1006)`` for a server send that raised ``OSError`` has that error as
    its ``__context__``, from every send method, as in Starlette."""
    for cls in WEBSOCKET.values():
        gone = OSError("gone")
        peer = Peer(fail=gone)
        ws = cls(scope(), peer.receive, peer.send)
        await ws.accept()
        with pytest.raises(Exception) as raised:
            if how == "send":
                await ws.send({"type": "websocket.send", "text": "x"})
            elif how == "send_text":
                await ws.send_text("x")
            else:
                await ws.close()
        assert type(raised.value).__name__ == "WebSocketDisconnect"
        assert raised.value.code == 1006  # type: ignore[attr-defined]
        assert raised.value.__context__ is gone, cls


class NoTruth:
    def __bool__(self) -> bool:
        raise ValueError("no truth value")


@pytest.mark.anyio
async def test_accept_headers_whose_truth_raises() -> None:
    """``headers or []`` raises what ``bool(headers)`` raises (ferrosocket before any I/O)."""
    for cls in WEBSOCKET.values():
        peer = Peer()
        with pytest.raises(ValueError, match="no truth value"):
            await cls(scope(), peer.receive, peer.send).accept(headers=NoTruth())
        assert peer.sent == []
