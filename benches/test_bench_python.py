"""ferrosocket against Starlette 1.10.0, floors and peers, on the same inputs (pytest-benchmark).

Run through ``benches/report.py`` (``make bench``), which runs this module in several processes
and summarises; ``pytest benches/`` alone works too (``FERRO_BENCH_QUICK=1`` for a smoke run).

Method
------
* Every benchmark function runs a loop of ``n`` operations per round, so the cost of calling the
  function and reading the timer is spread over ``n``; ``ns/op = round time / n``. The loop itself
  (``for x in list`` / ``for _ in repeat(None, n)``) is included and the same for every variant
  of an operation (a few ns per iteration: see the ``loop`` operation's ``floor:empty`` result).
  ``n`` is calibrated per variant so that every round lasts about 100 µs: rounds of equal length
  are equally likely to be preempted on a busy machine, and the median over rounds drops them.
* Inputs that a cache could answer (URLs, query strings, scopes) are unique per iteration: each
  round's ``setup`` (untimed) builds a fresh list of ``n`` scopes or strings numbered by a
  process-wide counter, so no ``functools.lru_cache`` (``urllib.parse.urlsplit`` keeps one) or
  other memo ever sees the same input twice, and generating them is not timed. The URL, query
  and handshake operations run on two such families: the scope of ``make_scope`` (a Chrome
  upgrade to a host with a port) and a browser-shaped one (``browser_scope.py``: fifteen headers
  with cookies and a bearer token, a 340-byte query string; operation ids ending in ``_browser``).
* The async operations (round trips) run ``n`` awaits inside one coroutine that is driven by hand
  with ``coro.send(None)``: ``receive``/``send`` are ``async def`` callables that never suspend,
  so the coroutine finishes in one ``send`` and there is no event loop at all. What is measured is
  the WebSocket methods plus the awaits, not a scheduler. The floor ("bare") is the raw ASGI echo
  with the same callables: ``message = await receive(); await send({...})``. The floor of any
  class whose methods are coroutines ("check-free class", ``check_free.py``) runs the same loop as
  the WebSockets through ``async def`` methods that check nothing, over the same callables.
* Variants of one operation run one after another in the same process, so a ratio compares
  numbers taken with the same dict-hash seed and the same memory layout; ``report.py`` runs the
  whole suite in several processes (different hash seeds, alternating order) and takes medians.
* Before timing, every variant's result is checked against the expected value, so a variant that
  silently does less work (or fails) cannot look fast.
* Number of rounds: after calibration, as many rounds as fit the time budget
  (``FERRO_BENCH_BUDGET`` seconds, default 0.3), at least 15; GC is off inside the timed rounds
  (``--benchmark-disable-gc``, set by ``report.py``).
"""

# ruff: noqa: B018 (attribute reads as statements are the operations being measured)

from __future__ import annotations

import functools
import itertools
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import browser_scope
import json_payloads
import orjson
import pytest
from blacksheep.server.websocket import WebSocket as BlackSheepWebSocket
from check_free import BoundaryFloor, CheckFree
from litestar.connection import WebSocket as LitestarWebSocket
from multidict import CIMultiDict
from operations import BOUNDARY, CHECK_FREE, OPERATIONS
from starlette import datastructures as sd
from starlette import websockets as sw

import ferrosocket as fs

QUICK = os.environ.get("FERRO_BENCH_QUICK", "") not in ("", "0")
BUDGET = float(os.environ.get("FERRO_BENCH_BUDGET", "0.3"))  # seconds of timed rounds per benchmark
ROUND_SECONDS = 100e-6  # the length of one round
MIN_ROUNDS = 15
MAX_ROUNDS = 5000

# --- Inputs -------------------------------------------------------------------------------------

# A Chrome WebSocket upgrade request as an ASGI server puts it in scope["headers"].
UPGRADE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"host", b"chat.example.com:8443"),
    (b"connection", b"Upgrade"),
    (b"pragma", b"no-cache"),
    (b"cache-control", b"no-cache"),
    (
        b"user-agent",
        b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        b"Chrome/131.0.0.0 Safari/537.36",
    ),
    (b"upgrade", b"websocket"),
    (b"origin", b"https://chat.example.com"),
    (b"sec-websocket-version", b"13"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"accept-language", b"en-GB,en;q=0.9,fr;q=0.8"),
    (
        b"cookie",
        b"sessionid=8f14e45fceea167a5a36dedd4bea2543; csrftoken=Xk2pQ9vLmN4rT7wZ; theme=dark; "
        b"_ga=GA1.1.123456789.1700000000",
    ),
    (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits"),
)

# Six parameters with %-escapes, "+" for space, UTF-8 and a repeated key; `since` makes it unique.
QUERY_TEMPLATE = (
    "room=general&token=eyJhbGciOiJIUzI1NiJ9.abc%2Bdef%2F&tag=a&tag=b%20c&name=J%C3%BCrgen+M&since={}"
)

_counter = itertools.count(1_700_000_000)


def query_bytes(i: int) -> bytes:
    return QUERY_TEMPLATE.format(i).encode("ascii")


def make_scope(i: int) -> dict[str, Any]:
    """A fresh websocket scope, as uvicorn builds it (plus routed path_params), unique by ``i``."""
    path = f"/ws/rooms/general/{i}"
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "wss",
        "server": ("10.0.0.5", 8443),
        "client": ("203.0.113.7", 50000 + i % 10000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": query_bytes(i),
        "headers": list(UPGRADE_HEADERS),
        "subprotocols": [],
        "state": {},
        "extensions": {"websocket.http.response": {}},
        "path_params": {"room": "general"},
    }


def make_browser_scope(i: int) -> dict[str, Any]:
    """The same scope with a browser's upgrade headers and a longer query (browser_scope.py)."""
    return make_scope(i) | {
        "headers": browser_scope.headers(i),
        "query_string": browser_scope.query_string(i),
    }


def scopes(n: int) -> Callable[[], tuple[tuple[Any, ...], dict[str, Any]]]:
    """A pedantic ``setup``: each call gives a new list of ``n`` never-seen scopes."""

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return ([make_scope(next(_counter)) for _ in range(n)],), {}

    return setup


def query_strings(n: int) -> Callable[[], tuple[tuple[Any, ...], dict[str, Any]]]:
    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return ([query_bytes(next(_counter)) for _ in range(n)],), {}

    return setup


def decoded_headers() -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in UPGRADE_HEADERS]


CONNECT = {"type": "websocket.connect"}
TEXT_MESSAGE = {"type": "websocket.receive", "text": "Hello, this is a chat message of moderate size! 👋"}
BYTES_MESSAGE = {"type": "websocket.receive", "bytes": bytes(range(64))}
JSON_OBJECT = {
    "type": "message",
    "room": "general",
    "id": 1234,
    "user": {"id": 42, "name": "Jürgen"},
    "text": "hello, world",
    "ts": 1700000000.25,
    "tags": ["a", "b"],
    "edited": False,
}
JSON_MESSAGE = {
    "type": "websocket.receive",
    "text": json.dumps(JSON_OBJECT, separators=(",", ":"), ensure_ascii=False),
}

# --- Cases --------------------------------------------------------------------------------------


@dataclass
class Bench:
    """One benchmark: each round times ``target(*args_for(n))``; ``args_for`` runs untimed.

    ``target`` performs ``n`` operations and returns the result of one of them; ``check``
    (default: ``target(*args_for(3))``) must give the operation's expected value."""

    target: Callable[..., Any]
    args_for: Callable[[int], tuple[Any, ...]]
    check: Callable[[], Any] | None = None


@dataclass
class Case:
    op: str
    variant: str  # "ferrosocket", "starlette", "floor:<name>" or "peer:<name>"
    build: Callable[[], Bench]


CASES: list[Case] = []
EXPECTED: dict[str, Any] = {}


def case(op: str, variant: str) -> Callable[[Callable[[], Bench]], Callable[[], Bench]]:
    def register(build: Callable[[], Bench]) -> Callable[[], Bench]:
        CASES.append(Case(op, variant, build))
        return build

    return register


def same(*objects: Any) -> Callable[[int], tuple[Any, ...]]:
    """``args_for`` of an operation on fixed objects: ``(*objects, n)``."""
    return lambda n: (*objects, n)


def fresh(make: Callable[[int], Any]) -> Callable[[int], tuple[list[Any]]]:
    """``args_for`` giving ``n`` never-seen inputs, ``make(i)`` for fresh numbers ``i``."""
    return lambda n: ([make(next(_counter)) for _ in range(n)],)


fresh_scopes = fresh(make_scope)


# -- The loop itself: for reading the other numbers.


@case("loop", "floor:empty")
def _loop_empty() -> Bench:
    def run(n: int) -> None:
        for _ in repeat(None, n):
            pass

    return Bench(run, same())


# -- headers["Sec-WebSocket-Version"] on headers already built.

EXPECTED["headers_getitem"] = "13"


def _getitem_run(headers: Any, n: int) -> Any:
    for _ in repeat(None, n):
        headers["Sec-WebSocket-Version"]
    return headers["Sec-WebSocket-Version"]


def _dict_getitem_run(headers: dict[str, str], n: int) -> Any:
    for _ in repeat(None, n):
        headers["sec-websocket-version"]
    return headers["sec-websocket-version"]


def _prelowered_dict() -> dict[str, str]:
    return {k.lower(): v for k, v in decoded_headers()}


for _variant, _run, _build in (
    ("ferrosocket", _getitem_run, lambda: fs.Headers(scope=make_scope(0))),
    ("starlette", _getitem_run, lambda: sd.Headers(scope=make_scope(0))),
    ("floor:dict", _dict_getitem_run, _prelowered_dict),
    ("peer:CIMultiDict", _getitem_run, lambda: CIMultiDict(decoded_headers())),
):
    case("headers_getitem", _variant)(lambda run=_run, build=_build: Bench(run, same(build())))

# -- headers.get("x-missing")

EXPECTED["headers_get_missing"] = None


def _get_missing_run(headers: Any, n: int) -> Any:
    for _ in repeat(None, n):
        headers.get("x-missing")
    return headers.get("x-missing")


for _variant, _build in (
    ("ferrosocket", lambda: fs.Headers(scope=make_scope(0))),
    ("starlette", lambda: sd.Headers(scope=make_scope(0))),
    ("floor:dict.get", _prelowered_dict),
    ("peer:CIMultiDict", lambda: CIMultiDict(decoded_headers())),
):
    case("headers_get_missing", _variant)(lambda build=_build: Bench(_get_missing_run, same(build())))

# -- Headers(scope=scope) + one lookup, a fresh scope each time.

EXPECTED["headers_from_scope"] = "13"


def _headers_from_scope(cls: Any) -> Callable[[], Bench]:
    def run(batch: list[dict[str, Any]]) -> Any:
        for scope in batch:
            cls(scope=scope)["Sec-WebSocket-Version"]
        return cls(scope=batch[-1])["Sec-WebSocket-Version"]

    return lambda: Bench(run, fresh_scopes)


case("headers_from_scope", "ferrosocket")(_headers_from_scope(fs.Headers))
case("headers_from_scope", "starlette")(_headers_from_scope(sd.Headers))


def _multidict_from_scope(scope: dict[str, Any]) -> CIMultiDict[str]:
    return CIMultiDict([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])


@case("headers_from_scope", "peer:CIMultiDict")
def _headers_from_scope_multidict() -> Bench:
    def run(batch: list[dict[str, Any]]) -> Any:
        for scope in batch:
            _multidict_from_scope(scope)["Sec-WebSocket-Version"]
        return _multidict_from_scope(batch[-1])["Sec-WebSocket-Version"]

    return Bench(run, fresh_scopes)


# -- Two families of inputs for the URL, query and handshake operations, each fresh per iteration:
# the scope above (operation ids as they are) and a browser's upgrade, with its headers and a
# longer query string (browser_scope.py; ids ending in "_browser").

FAMILIES: dict[str, tuple[Callable[[int], dict[str, Any]], Callable[[int], bytes]]] = {
    "": (make_scope, query_bytes),
    "_browser": (make_browser_scope, browser_scope.query_string),
}

# -- URL(scope=scope) + .path, .port, .scheme, .query; unique path and query each time.

EXPECTED["url_from_scope"] = ("/ws/rooms/general/7", 8443, "wss", query_bytes(7).decode())
EXPECTED["url_from_scope_browser"] = (
    "/ws/rooms/general/7",
    None,  # the browser's Host has no port
    "wss",
    browser_scope.query_string(7).decode(),
)


def _url_case(cls: Any, make: Callable[[int], dict[str, Any]]) -> Callable[[], Bench]:
    def run(batch: list[dict[str, Any]]) -> None:
        for scope in batch:
            url = cls(scope=scope)
            url.path
            url.port
            url.scheme
            url.query

    def check() -> Any:
        url = cls(scope=make(7))
        return (url.path, url.port, url.scheme, url.query)

    return lambda: Bench(run, fresh(make), check)


def _url_by_hand(scope: dict[str, Any]) -> tuple[str, str, int | None, str, str]:
    """The least a URL from a scope takes in Python: find Host, assemble the string."""
    host = ""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1")
            break
    query = scope["query_string"].decode("latin-1")
    scheme = scope["scheme"]
    path = scope["path"]
    url = f"{scheme}://{host}{path}?{query}"
    _, colon, port = host.rpartition(":")
    return url, path, int(port) if colon else None, scheme, query


def _url_by_hand_run(batch: list[dict[str, Any]]) -> None:
    for scope in batch:
        _url_by_hand(scope)


for _suffix, (_make, _) in FAMILIES.items():
    case(f"url_from_scope{_suffix}", "ferrosocket")(_url_case(fs.URL, _make))
    case(f"url_from_scope{_suffix}", "starlette")(_url_case(sd.URL, _make))
    case(f"url_from_scope{_suffix}", "floor:string assembly")(
        lambda make=_make: Bench(_url_by_hand_run, fresh(make), check=lambda: _url_by_hand(make(7))[1:])
    )

# -- QueryParams(query_string) + one lookup + getlist; unique query strings.

EXPECTED["query_params"] = ("general", ["a", "b c"], "Jürgen M")
EXPECTED["query_params_browser"] = ("general", ["release", "q3 planning", "🚀"], "Zoë Müller")


def _query_case(cls: Any, make: Callable[[int], bytes]) -> Callable[[], Bench]:
    def run(batch: list[bytes]) -> None:
        for qs in batch:
            params = cls(qs)
            params["room"]
            params.getlist("tag")

    def check() -> Any:
        params = cls(make(7))
        return (params["room"], params.getlist("tag"), params["name"])

    return lambda: Bench(run, fresh(make), check)


for _suffix, (_, _make_query) in FAMILIES.items():
    case(f"query_params{_suffix}", "ferrosocket")(_query_case(fs.QueryParams, _make_query))
    case(f"query_params{_suffix}", "starlette")(_query_case(sd.QueryParams, _make_query))

# -- The handshake: construct + url, headers, query_params, path_params, client; fresh scopes.

EXPECTED["handshake"] = ("/ws/rooms/general/7", "13", "general", {"room": "general"}, "203.0.113.7")
EXPECTED["handshake_browser"] = EXPECTED["handshake"]  # the same path, version, room and client


async def _never(*_: Any) -> Any:  # receive/send for the handshake: never called
    raise AssertionError("not called")


def _handshake_case(cls: Any, make: Callable[[int], dict[str, Any]]) -> Callable[[], Bench]:
    def run(batch: list[dict[str, Any]]) -> None:
        for scope in batch:
            ws = cls(scope, _never, _never)
            ws.url
            ws.headers
            ws.query_params
            ws.path_params
            ws.client

    def check() -> Any:
        ws = cls(make(7), _never, _never)
        return (
            ws.url.path,
            ws.headers["sec-websocket-version"],
            ws.query_params["room"],
            ws.path_params,
            ws.client.host,
        )

    return lambda: Bench(run, fresh(make), check)


def _raw_scope_reads(batch: list[dict[str, Any]]) -> None:
    for scope in batch:
        scope["path"]
        scope["headers"]
        scope["query_string"]
        scope.get("path_params")
        scope.get("client")


def _raw_scope_reads_check(make: Callable[[int], dict[str, Any]]) -> Any:
    """The values the floor's reads reach, decoded (untimed): its scopes hold the expected ones."""
    scope = make(7)
    version = dict(scope["headers"])[b"sec-websocket-version"].decode("latin-1")
    room = urllib.parse.parse_qs(scope["query_string"].decode("latin-1"))["room"][0]
    return (scope["path"], version, room, scope.get("path_params"), scope.get("client")[0])


for _suffix, (_make, _) in FAMILIES.items():
    case(f"handshake{_suffix}", "ferrosocket")(_handshake_case(fs.WebSocket, _make))
    case(f"handshake{_suffix}", "starlette")(_handshake_case(sw.WebSocket, _make))
    case(f"handshake{_suffix}", "floor:raw scope reads")(
        lambda make=_make: Bench(_raw_scope_reads, fresh(make), check=lambda: _raw_scope_reads_check(make))
    )


# -- Round trips: n awaits inside one coroutine, driven without an event loop.


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Runs a coroutine that never suspends to completion; returns its value."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a benchmark coroutine suspended: its receive/send must never wait")


class Channel:
    """In-memory ASGI ``receive``/``send``: ``receive`` gives ``websocket.connect`` until
    :meth:`connected`, then always ``message``; ``send`` drops (or, recording, keeps) messages."""

    def __init__(self, message: dict[str, Any], record: bool = False) -> None:
        incoming: dict[str, Any] = CONNECT
        self.sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return incoming

        if record:
            sent = self.sent

            async def send(out: dict[str, Any]) -> None:
                sent.append(out)

        else:

            async def send(out: dict[str, Any]) -> None:
                pass

        def connected() -> None:
            nonlocal incoming
            incoming = message

        self.receive = receive
        self.send = send
        self.connected = connected


def accepted(cls: Any, channel: Channel) -> Any:
    ws = cls(make_scope(0), channel.receive, channel.send)
    drive(ws.accept())
    channel.connected()
    return ws


def check_free(channel: Channel, cls: type[CheckFree] = CheckFree) -> CheckFree:
    """The check-free class (check_free.py), or ``cls``, on ``channel``: no accept (it keeps no
    state)."""
    channel.connected()
    return cls(channel.receive, channel.send)


async def _text_loop(ws: Any, n: int) -> None:
    for _ in repeat(None, n):
        await ws.send_text(await ws.receive_text())


async def _bytes_loop(ws: Any, n: int) -> None:
    for _ in repeat(None, n):
        await ws.send_bytes(await ws.receive_bytes())


async def _json_loop(ws: Any, n: int) -> None:
    for _ in repeat(None, n):
        await ws.send_json(await ws.receive_json())


async def _bare_text_loop(receive: Any, send: Any, n: int) -> None:
    for _ in repeat(None, n):
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"]})


async def _bare_bytes_loop(receive: Any, send: Any, n: int) -> None:
    for _ in repeat(None, n):
        message = await receive()
        await send({"type": "websocket.send", "bytes": message["bytes"]})


async def _bare_orjson_loop(receive: Any, send: Any, n: int) -> None:
    loads, dumps = orjson.loads, orjson.dumps
    for _ in repeat(None, n):
        message = await receive()
        await send({"type": "websocket.send", "text": dumps(loads(message["text"])).decode()})


def _run_loop(loop: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
    drive(loop(*args))


ROUND_TRIPS = {
    "text_round_trip": (TEXT_MESSAGE, _text_loop, _bare_text_loop, "text"),
    "bytes_round_trip": (BYTES_MESSAGE, _bytes_loop, _bare_bytes_loop, "bytes"),
    "json_round_trip": (JSON_MESSAGE, _json_loop, _bare_orjson_loop, "text"),
}
for _op, (_message, _, _, _key) in ROUND_TRIPS.items():
    EXPECTED[_op] = [{"type": "websocket.send", _key: _message[_key]}] * 3


def _ws_round_trip(op: str, make_ws: Callable[[Channel], Any]) -> Callable[[], Bench]:
    """The round trip ``op`` through the methods of ``make_ws(channel)``."""
    message, loop, _, _ = ROUND_TRIPS[op]

    def check() -> Any:
        channel = Channel(message, record=True)
        ws = make_ws(channel)
        channel.sent.clear()  # the accept message
        drive(loop(ws, 3))
        return channel.sent

    return lambda: Bench(_run_loop, same(loop, make_ws(Channel(message))), check)


def _bare_round_trip(op: str) -> Callable[[], Bench]:
    message, _, loop, _ = ROUND_TRIPS[op]

    def check() -> Any:
        channel = Channel(message, record=True)
        channel.connected()
        drive(loop(channel.receive, channel.send, 3))
        return channel.sent

    def build() -> Bench:
        channel = Channel(message)
        channel.connected()
        return Bench(_run_loop, same(loop, channel.receive, channel.send), check)

    return build


for _op in ROUND_TRIPS:
    case(_op, "ferrosocket")(_ws_round_trip(_op, functools.partial(accepted, fs.WebSocket)))
    case(_op, "starlette")(_ws_round_trip(_op, functools.partial(accepted, sw.WebSocket)))
    case(_op, CHECK_FREE)(_ws_round_trip(_op, check_free))
for _op in ("text_round_trip", "bytes_round_trip"):
    case(_op, BOUNDARY)(_ws_round_trip(_op, functools.partial(check_free, cls=BoundaryFloor)))
case("text_round_trip", "floor:bare")(_bare_round_trip("text_round_trip"))
case("bytes_round_trip", "floor:bare")(_bare_round_trip("bytes_round_trip"))
case("json_round_trip", "peer:bare + orjson")(_bare_round_trip("json_round_trip"))

# -- JSON at the floor: send_json / receive_json against orjson by hand over the text path of the
# same ferrosocket WebSocket; JSON round trips against Litestar's and BlackSheep's WebSocket.


async def _send_json_loop(ws: Any, data: Any, n: int) -> None:
    for _ in repeat(None, n):
        await ws.send_json(data)


async def _orjson_send_text_loop(ws: Any, data: Any, n: int) -> None:
    dumps = orjson.dumps
    for _ in repeat(None, n):
        await ws.send_text(dumps(data).decode())


async def _receive_json_loop(ws: Any, n: int) -> Any:
    for _ in repeat(None, n - 1):
        await ws.receive_json()
    return await ws.receive_json()


async def _orjson_receive_text_loop(ws: Any, n: int) -> Any:
    loads = orjson.loads
    for _ in repeat(None, n - 1):
        loads(await ws.receive_text())
    return loads(await ws.receive_text())


def _json_received(name: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": json_payloads.encoded(name)}


def _json_send_case(
    name: str, cls: Any, loop: Callable[..., Coroutine[Any, Any, Any]]
) -> Callable[[], Bench]:
    data = json_payloads.PAYLOADS[name]

    def check() -> Any:
        channel = Channel(CONNECT, record=True)
        ws = accepted(cls, channel)
        channel.sent.clear()  # the accept message
        drive(loop(ws, data, 3))
        return [json.loads(message["text"]) for message in channel.sent]

    return lambda: Bench(_run_loop, same(loop, accepted(cls, Channel(CONNECT)), data), check)


def _json_receive_case(
    name: str, cls: Any, loop: Callable[..., Coroutine[Any, Any, Any]]
) -> Callable[[], Bench]:
    def run(ws: Any, n: int) -> Any:
        return drive(loop(ws, n))

    return lambda: Bench(run, same(accepted(cls, Channel(_json_received(name)))))


for _name in json_payloads.PAYLOADS:
    EXPECTED[f"json_send_{_name}"] = [json_payloads.PAYLOADS[_name]] * 3
    EXPECTED[f"json_receive_{_name}"] = json_payloads.PAYLOADS[_name]
    for _variant, _cls, _send_loop, _receive_loop in (
        ("ferrosocket", fs.WebSocket, _send_json_loop, _receive_json_loop),
        ("starlette", sw.WebSocket, _send_json_loop, _receive_json_loop),
        ("floor:orjson + send_text", fs.WebSocket, _orjson_send_text_loop, None),
        ("floor:orjson + receive_text", fs.WebSocket, None, _orjson_receive_text_loop),
    ):
        if _send_loop is not None:
            case(f"json_send_{_name}", _variant)(_json_send_case(_name, _cls, _send_loop))
        if _receive_loop is not None:
            case(f"json_receive_{_name}", _variant)(_json_receive_case(_name, _cls, _receive_loop))


class _LitestarHandler:
    """What Litestar's ``receive_json`` asks of the route handler in ``scope["route_handler"]``
    (a registered handler answers from a cache): no type decoders."""

    def resolve_type_decoders(self) -> None:
        return None


def _litestar_ws(channel: Channel) -> Any:
    ws = LitestarWebSocket(
        make_scope(0) | {"route_handler": _LitestarHandler()}, channel.receive, channel.send
    )
    drive(ws.accept())
    channel.connected()
    return ws


def _blacksheep_ws(channel: Channel) -> Any:
    ws = BlackSheepWebSocket(make_scope(0), channel.receive, channel.send)
    drive(ws.accept())
    channel.connected()
    return ws


for _size in ("1kb", "16kb"):
    _op, _message = f"json_round_trip_{_size}", _json_received(f"{_size}_nulls")
    EXPECTED[_op] = [json_payloads.PAYLOADS[f"{_size}_nulls"]] * 3

    def _round_trip_case(
        make_ws: Callable[[Channel], Any], message: dict[str, Any] = _message
    ) -> Callable[[], Bench]:
        def check() -> Any:
            channel = Channel(message, record=True)
            ws = make_ws(channel)
            channel.sent.clear()  # the accept message
            drive(_json_loop(ws, 3))
            return [json.loads(sent["text"]) for sent in channel.sent]

        return lambda: Bench(_run_loop, same(_json_loop, make_ws(Channel(message))), check)

    def _bare_orjson_case(message: dict[str, Any] = _message) -> Bench:
        def check() -> Any:
            channel = Channel(message, record=True)
            channel.connected()
            drive(_bare_orjson_loop(channel.receive, channel.send, 3))
            return [json.loads(sent["text"]) for sent in channel.sent]

        channel = Channel(message)
        channel.connected()
        return Bench(_run_loop, same(_bare_orjson_loop, channel.receive, channel.send), check)

    case(_op, "ferrosocket")(_round_trip_case(lambda c: accepted(fs.WebSocket, c)))
    case(_op, "starlette")(_round_trip_case(lambda c: accepted(sw.WebSocket, c)))
    case(_op, "peer:litestar")(_round_trip_case(_litestar_ws))
    case(_op, "peer:blacksheep")(_round_trip_case(_blacksheep_ws))
    case(_op, "peer:bare + orjson")(_bare_orjson_case)

# Order: by operation as listed in operations.py (the loop first), variants as registered.
_OP_ORDER = {"loop": -1} | {op.id: i for i, op in enumerate(OPERATIONS)}
CASES.sort(key=lambda c: _OP_ORDER[c.op])
assert {c.op for c in CASES} == set(_OP_ORDER), "every operation has cases and every case an operation"

# --- The test -----------------------------------------------------------------------------------


def _time_round(bench: Bench, n: int) -> float:
    args = bench.args_for(n)
    start = time.perf_counter()
    bench.target(*args)
    return time.perf_counter() - start


def calibrate(bench: Bench) -> tuple[int, int]:
    """Picks ``n`` (operations per round) so that a round takes about ``ROUND_SECONDS``, and the
    number of rounds that fits the budget. Short, equal rounds for every variant: a round the OS
    preempts is an outlier the median drops, and a long round would be preempted more often."""
    if QUICK:
        return 5, 3
    n = 8
    while (elapsed := min(_time_round(bench, n) for _ in range(3))) < ROUND_SECONDS / 4:
        n *= 4
    n = max(1, round(n * ROUND_SECONDS / elapsed))
    per_round = min(_time_round(bench, n) for _ in range(3))
    return n, max(MIN_ROUNDS, min(MAX_ROUNDS, int(BUDGET / per_round)))


@pytest.mark.parametrize("bench_case", CASES, ids=[f"{c.op}-{c.variant}" for c in CASES])
def test_bench(benchmark: Any, bench_case: Case) -> None:
    bench = bench_case.build()
    if bench_case.op in EXPECTED:
        got = bench.check() if bench.check is not None else bench.target(*bench.args_for(3))
        assert got == EXPECTED[bench_case.op], f"{bench_case.variant} gave {got!r}"

    n, rounds = calibrate(bench)
    benchmark.group = bench_case.op
    benchmark.name = f"{bench_case.op}[{bench_case.variant}]"
    benchmark.extra_info.update(op=bench_case.op, variant=bench_case.variant, ops_per_round=n)
    benchmark.pedantic(bench.target, setup=lambda: (bench.args_for(n), {}), rounds=rounds, warmup_rounds=1)
