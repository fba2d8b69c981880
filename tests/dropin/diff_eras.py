"""Differential test of the switch under one Starlette release (run by run_matrix.py, not by ``make test``).

run_matrix.py runs it with a Starlette release (and its FastAPI) first on ``PYTHONPATH``. Every
probe runs twice on the same inputs: through the class ``starlette.websockets.WebSocket(...)``
builds with ``ferrosocket.install()`` on (ferrosocket's, or its subclass for that release), and
through that release's own class (``type.__call__`` past the switch's metaclass). The results
must be equal: values, the messages sent, the states, and exceptions (the first class in their
MRO that is not ferrosocket's, and the message). The inputs stay clear of the deliberate
differences of docs/differences.md, which hold the same in every release.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pytest
import starlette
import starlette.datastructures as sd
import starlette.websockets as sw

import ferrosocket
from ferrosocket import _install, _starlette_profile

ferrosocket.install()
assert _install._switch.profile is not None and ferrosocket.installed()
PROFILE = _install._switch.profile


def build(kind: str, scope: dict[str, Any], receive: Any = None, send: Any = None) -> Any:
    scope = copy.deepcopy(scope)
    if kind == "ferrosocket":
        ws = sw.WebSocket(scope, receive, send)
        assert isinstance(ws, ferrosocket.WebSocket)
    else:
        ws = type.__call__(sw.WebSocket, scope, receive, send)
        assert type(ws) is sw.WebSocket
    return ws


def norm(value: Any) -> Any:
    """A comparable form: exceptions by their first non-ferrosocket class (the switch raises
    subclasses of Starlette's own), whether they are exactly a built-in class, and their text."""
    if isinstance(value, BaseException):
        shown = next(c for c in type(value).__mro__ if not c.__module__.startswith("ferrosocket"))
        builtin = type(value).__module__ == "builtins"
        extra = (value.code, value.reason) if isinstance(value, sw.WebSocketDisconnect) else ()
        return ("raised", f"{shown.__module__}.{shown.__qualname__}", builtin, str(value), *extra)
    if isinstance(value, sd.URL) or isinstance(value, ferrosocket.datastructures.URL):
        return ("URL", str(value))
    if isinstance(value, sw.WebSocketState):
        return ("state", value.name)
    if isinstance(value, dict | list | tuple):
        return repr(value)
    return value


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return norm(call())
    except Exception as exc:
        return norm(exc)


# --- The views of the scope. ---

HOSTS = [
    None,
    b"example.com",
    b"example.com:8080",
    b"EXAMPLE.com:443",
    b"evil.com/x?y",
    b"user@host",
    b"[::1]:8000",
    b"[::1]:99999",
    b"host:notaport",
    b"",
]
SERVERS = [None, ("testserver", 80), ("127.0.0.1", 8443), ("::1", 8000), ("::1", 80)]
PATHS = ["/", "/a/b", "/a?b#c\\d", "//double", "relative", "/caf\u00e9"]
QUERIES = [b"", b"a=1&a=2&b=", b"x=%20y+z&&q"]


def scopes() -> list[dict[str, Any]]:
    made = []
    for i, host in enumerate(HOSTS):
        for j, server in enumerate(SERVERS):
            headers = [(b"host", host)] if host is not None else []
            headers += [(b"cookie", b"a=1; b=2"), (b"cookie", b"c=3"), (b"x-dup", b"1"), (b"x-dup", b"2")]
            path = PATHS[(i + j) % len(PATHS)]
            made.append(
                {
                    "type": "websocket",
                    "scheme": ("ws", "wss")[(i + j) % 2],
                    "path": path,
                    "root_path": ("", "/root")[j % 2],
                    "query_string": QUERIES[(i * 3 + j) % len(QUERIES)],
                    "headers": headers,
                    "server": server,
                    "client": ("1.2.3.4", 5678),
                    "path_params": {"p": "v"},
                }
            )
    return made


SCOPES = scopes()


class Session(dict[str, Any]):
    accessed = 0

    def mark_accessed(self) -> None:
        self.accessed += 1


VIEWS: dict[str, Callable[[Any], Any]] = {
    "url": lambda ws: ws.url,
    "url parts": lambda ws: (
        [getattr(ws.url, a) for a in ("scheme", "netloc", "path", "query", "port")]
        + [ws.url.hostname, ws.url.is_secure]
    ),
    "base_url": lambda ws: ws.base_url,
    "url.replace(hostname=::1)": lambda ws: ws.url.replace(hostname="::1"),
    "url.replace(port=1)": lambda ws: ws.url.replace(port=1),
    "url.replace(scheme=http)": lambda ws: ws.url.replace(scheme="http"),
    "url.include_query_params": lambda ws: ws.url.include_query_params(z="1"),
    "url.remove_query_params": lambda ws: ws.url.remove_query_params("a"),
    "headers": lambda ws: ws.headers.items(),
    "headers.getlist": lambda ws: ws.headers.getlist("x-dup"),
    "query_params": lambda ws: ws.query_params.multi_items(),
    "query_params ==": lambda ws: ws.query_params == type(ws.query_params)("b=&a=2&a=1"),
    "cookies": lambda ws: ws.cookies,
    "client": lambda ws: tuple(ws.client),
    "path_params": lambda ws: ws.path_params,
    "isinstance": lambda ws: [
        isinstance(ws, sw.WebSocket),
        isinstance(ws.url, sd.URL),
        isinstance(ws.headers, sd.Headers),
        isinstance(ws.query_params, sd.QueryParams),
        isinstance(ws.state, sd.State),
        isinstance(ws.client, sd.Address),
    ],
}


def state_use(ws: Any) -> Any:
    ws.state.user = "u"
    results = [ws.scope["state"], ws.state.user, outcome(lambda: ws.state.missing)]
    results.append(outcome(lambda: ws.state["user"]))
    results.append(outcome(lambda: "user" in ws.state))
    results.append(outcome(lambda: len(ws.state)))
    return results


def session_use(ws: Any) -> Any:
    ws.scope["session"] = Session(k=1)
    return [ws.session, ws.scope["session"].accessed]


VIEWS["state"] = state_use
VIEWS["session"] = session_use
VIEWS["session missing"] = lambda ws: ws.auth


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_views_of_the_scope(view: str) -> None:
    differ = []
    for n, scope in enumerate(SCOPES):
        ours = outcome(lambda: VIEWS[view](build("ferrosocket", scope)))  # noqa: B023
        theirs = outcome(lambda: VIEWS[view](build("starlette", scope)))  # noqa: B023
        if ours != theirs:
            differ.append(
                f"scope {n} {scope['headers'][:1]} {scope['server']} {scope['path']!r}: {ours} != {theirs}"
            )
    assert not differ, (
        f"{len(differ)} of {len(SCOPES)} differ under Starlette {starlette.__version__}:\n"
        + "\n".join(differ[:10])
    )


# --- Conversations: a script of messages from the server, calls by the app. ---

CONNECT = {"type": "websocket.connect"}
TEXT = {"type": "websocket.receive", "text": "hi"}
BYTES = {"type": "websocket.receive", "bytes": b"\x01"}
JSON = {"type": "websocket.receive", "text": '{"a": [1, 2.5, null]}'}
BYE = {"type": "websocket.disconnect", "code": 4001, "reason": "bye"}

# name -> (messages the server hands over, the app's calls: (method, args) in order)
SCRIPTS: dict[str, tuple[list[dict[str, Any]], list[tuple[str, tuple[Any, ...]]]]] = {
    "receive_text before accept": ([CONNECT, TEXT], [("receive_text", ())]),
    "receive_bytes before accept": ([CONNECT, BYTES], [("receive_bytes", ())]),
    "receive_json before accept": ([CONNECT, JSON], [("receive_json", ())]),
    "receive_json bad mode": ([CONNECT], [("accept", ()), ("receive_json", ("nope",))]),
    "send_json bad mode": ([CONNECT], [("accept", ()), ("send_json", ({}, "nope"))]),
    "echo": (
        [CONNECT, TEXT, BYTES, JSON, BYE],
        [("accept", ("chat",)), ("receive_text", ()), ("send_text", ("x",)), ("receive_bytes", ())]
        + [("send_bytes", (b"y",)), ("receive_json", ()), ("send_json", ({"k": ["v", 1]},))]
        + [("receive_text", ()), ("receive_text", ())],
    ),
    "json binary": (
        [CONNECT, {"type": "websocket.receive", "bytes": b'{"b": 1}'}],
        [("accept", ()), ("receive_json", ("binary",)), ("send_json", ([1], "binary"))],
    ),
    "receive after disconnect": ([CONNECT, BYE], [("accept", ()), ("receive", ()), ("receive", ())]),
    "send after close": ([CONNECT], [("accept", ()), ("close", (1000, None)), ("send_text", ("late",))]),
    "receive_text after close": ([CONNECT], [("accept", ()), ("close", ()), ("receive_text", ())]),
    "close with a reason": ([CONNECT], [("accept", ()), ("close", (4000, "done"))]),
    "close before accept": ([CONNECT], [("close", ())]),
    "wrong first message": ([TEXT], [("receive", ())]),
    "wrong message when connected": ([CONNECT, CONNECT], [("accept", ()), ("receive", ())]),
    "send a receive message": ([CONNECT], [("send", (TEXT,))]),
    "accept twice": ([CONNECT], [("accept", ()), ("accept", ())]),
    "denial without the extension": ([CONNECT], [("send_denial_response", (None,))]),
    "iter_text": ([CONNECT, TEXT, TEXT, BYE], [("accept", ()), ("iter_text", ())]),
    "iter_json": ([CONNECT, JSON, BYE], [("accept", ()), ("iter_json", ())]),
}


def converse(kind: str, name: str) -> list[Any]:
    incoming, calls = SCRIPTS[name]
    queue = list(incoming)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    async def run() -> list[Any]:
        ws = build(
            kind, {"type": "websocket", "path": "/", "headers": [], "subprotocols": ["chat"]}, receive, send
        )
        results: list[Any] = []
        for method, args in calls:
            try:
                if method.startswith("iter_"):
                    value: Any = [item async for item in getattr(ws, method)()]
                else:
                    value = await getattr(ws, method)(*args)
            except Exception as exc:
                value = exc
            results.append((method, norm(value), ws.client_state.name, ws.application_state.name))
        return [*results, ("sent", repr(sent))]

    return asyncio.run(run())


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_conversations(name: str) -> None:
    assert converse("ferrosocket", name) == converse("starlette", name)


def test_the_profile_is_this_releases() -> None:
    version = _starlette_profile.release_of(starlette.__version__)
    assert PROFILE.release == version
    assert PROFILE.websocket_disconnected == hasattr(sw, "WebSocketDisconnected")
    assert PROFILE.state_mapping == hasattr(sd.State, "__getitem__")
