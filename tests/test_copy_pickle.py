"""copy.copy, copy.deepcopy and pickle (every protocol) of the public data structures and exceptions.

Each round trip must give an equal object of the same type, with the same contents as Starlette's
own round trip of the same input (``test_*_differential``, against the reference). Where ferrosocket
deliberately differs (docs/differences.md): ``copy.copy`` of a MutableHeaders is independent of the
original (Starlette's shares the header list), and ``State`` copies and pickles (Starlette's raises
RecursionError).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from differential import Differ, diff_settings, norm
from hypothesis import given
from hypothesis import strategies as st
from strategies.datastructures import query_kwargs, query_mappings, query_pairs, query_texts, url_strings
from strategies.scopes import header_lists, query_strings, websocket_scopes

import ferrosocket

ROUND_TRIPS: dict[str, Callable[[Any], Any]] = {
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    **{
        f"pickle{protocol}": (lambda obj, protocol=protocol: pickle.loads(pickle.dumps(obj, protocol)))
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1)
    },
}


def headers_view(h: Any) -> Any:
    return (type(h).__name__, h.raw, h.items(), len(h), repr(h), h.get("host"), h.getlist("x-a"))


def query_view(q: Any) -> Any:
    keys = list(q)
    return (type(q).__name__, q.multi_items(), [(k, q[k]) for k in keys], len(q), str(q), repr(q))


def url_view(u: Any) -> Any:
    return (u.__class__.__name__, str(u), repr(u), norm(getattr_outcomes(u)))


def getattr_outcomes(u: Any) -> list[Any]:
    out = []
    for name in ("scheme", "netloc", "path", "query", "fragment", "port", "hostname", "username", "password"):
        try:
            out.append(getattr(u, name))
        except ValueError as exc:
            out.append(("ValueError", str(exc)))
    return out


def check_round_trips(d: Differ, view: Callable[[Any], Any]) -> None:
    """Each round trip of ``c.obj``: equal, of the same class, and the same view as the original."""
    d.check("original", lambda c: view(c.obj))
    for name, trip in ROUND_TRIPS.items():

        def probe(c: Any, trip: Callable[[Any], Any] = trip) -> Any:
            again = trip(c.obj)
            return (view(again), again == c.obj, again != c.obj, again.__class__ is c.obj.__class__)

        d.check(name, probe)


class Ctx:
    def __init__(self, lib: Any, obj: Any) -> None:
        self.lib = lib
        self.obj = obj


def both(d: Differ, build: Callable[[Any], Any]) -> bool:
    """Builds the object on each side; False (after comparing the errors) when either raises."""
    made = []
    for lib in (d.ref, d.sut):
        try:
            made.append(Ctx(lib, build(lib)))
        except Exception as exc:
            made.append(exc)
    if any(isinstance(m, Exception) for m in made):
        d.same("construction", *(norm(m) if isinstance(m, Exception) else "built" for m in made))
        return False
    d.ref, d.sut = made
    return True


@diff_settings(100)
@given(raw=header_lists(), how=st.sampled_from(["raw", "scope", "headers", "mutable", "mutablecopy"]))
def test_headers_differential(impls: Any, diff_counter: Any, raw: list[Any], how: str) -> None:
    diff_counter.add("copy/pickle")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        pairs = copy.deepcopy(raw)
        if how == "raw":
            return lib.Headers(raw=pairs)
        if how == "scope":
            return lib.Headers(scope={"type": "websocket", "headers": pairs})
        if how == "headers":
            return lib.Headers(headers={k.decode("latin-1"): v.decode("latin-1") for k, v in pairs})
        if how == "mutable":
            m = lib.MutableHeaders(raw=pairs)
            m.append("x-a", "appended")
            return m
        return lib.Headers(raw=pairs).mutablecopy()

    if both(d, lambda lib: build(lib)):
        check_round_trips(d, headers_view)
    d.done()


@diff_settings(100)
@given(
    source=st.one_of(
        query_strings,
        query_texts,
        query_pairs.map(lambda p: ("pairs", p)),
        query_mappings.map(lambda m: ("mapping", m)),
        query_kwargs.map(lambda k: ("kwargs", k)),
    )
)
def test_query_params_differential(impls: Any, diff_counter: Any, source: Any) -> None:
    diff_counter.add("copy/pickle")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        if isinstance(source, tuple) and source[0] == "kwargs":
            return lib.QueryParams(**source[1])
        if isinstance(source, tuple):
            return lib.QueryParams(copy.deepcopy(source[1]))
        return lib.QueryParams(source)

    if both(d, build):
        check_round_trips(d, query_view)
    d.done()


@diff_settings(100)
@given(source=st.one_of(url_strings, websocket_scopes()))
def test_url_differential(impls: Any, diff_counter: Any, source: Any) -> None:
    diff_counter.add("copy/pickle")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        if isinstance(source, dict):
            return lib.URL(scope=copy.deepcopy(source))
        return lib.URL(source)

    if both(d, build):
        check_round_trips(d, url_view)
    d.done()


EXCEPTIONS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("WebSocketDisconnect", (), {}),
    ("WebSocketDisconnect", (1001,), {}),
    ("WebSocketDisconnect", (1001, "bye"), {}),
    ("WebSocketDisconnect", (4000, None), {}),
    ("WebSocketDisconnect", (), {"code": 1006}),
    ("WebSocketDisconnect", (), {"code": 1008, "reason": "policy"}),
    ("WebSocketDisconnected", ("Cannot call receive once a disconnect message has been received.",), {}),
    ("WebSocketDisconnected", (), {}),
    ("UnexpectedMessageType", ("expected a text message, got a binary one",), {}),
    ("WebSocketClose", (1001, "bye"), {}),
    ("WebSocketClose", (), {}),
    ("Address", ("127.0.0.1", 8000), {}),
    ("WebSocketState", (1,), {}),
]


def exception_view(e: Any) -> Any:
    attrs = {k: getattr(e, k) for k in ("code", "reason", "args") if hasattr(e, k)}
    if isinstance(e, BaseException):
        return (type(e).__name__, attrs, str(e))
    is_value = isinstance(e, tuple) or type(e).__name__ == "WebSocketState"  # a namedtuple, an enum
    return (type(e).__name__, attrs, norm(e) if is_value else None)


@pytest.mark.parametrize(("name", "args", "kwargs"), EXCEPTIONS)
def test_exceptions_and_small_classes(impls: Any, name: str, args: Any, kwargs: Any) -> None:
    d = Differ.of(impls)
    assert both(d, lambda lib: getattr(lib, name)(*args, **kwargs))
    d.check("original", lambda c: exception_view(c.obj))
    for trip_name, trip in ROUND_TRIPS.items():
        d.check(trip_name, lambda c, trip=trip: exception_view(trip(c.obj)))
        d.check(f"{trip_name}: same class", lambda c, trip=trip: type(trip(c.obj)) is type(c.obj))
    d.done()


# --- ferrosocket's own guarantees ----------------------------------------------------------------


@pytest.mark.parametrize("trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_mutable_headers_copies_are_independent(trip: Callable[[Any], Any]) -> None:
    original = ferrosocket.MutableHeaders(raw=[(b"a", b"1"), (b"b", b"2")])
    again = trip(original)
    assert again == original and type(again) is ferrosocket.MutableHeaders
    again["c"] = "3"
    del again["a"]
    again.raw.append((b"d", b"4"))
    assert original.raw == [(b"a", b"1"), (b"b", b"2")]
    original.append("e", "5")
    assert again.raw == [(b"b", b"2"), (b"c", b"3"), (b"d", b"4")]


@pytest.mark.parametrize("trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_headers_from_a_scope_keep_their_raw_list(trip: Callable[[Any], Any]) -> None:
    raw = [(b"host", b"example.org"), (b"X-Raw-Case", b"v"), (b"x-a", b"1"), (b"x-a", b"2")]
    scope = {"type": "websocket", "headers": list(raw)}
    original = ferrosocket.Headers(scope=scope)
    again = trip(original)
    assert type(again) is ferrosocket.Headers
    assert again.raw == raw and again == original
    assert again["X-A"] == "1" and again.getlist("x-a") == ["1", "2"] and again.get("x-raw-case") is None


@pytest.mark.parametrize("trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_query_params_keep_their_lookup_table(trip: Callable[[Any], Any]) -> None:
    # Keys equal before str() (0 and False, 1 and True) share one entry of the lookup table, which
    # the pairs alone do not give back.
    pairs = [(0, "a"), (False, "b"), (1, "c"), (True, "d"), ("x", "e")]
    original = ferrosocket.QueryParams(pairs)
    again = trip(original)
    assert type(again) is ferrosocket.QueryParams and again == original
    assert again.multi_items() == original.multi_items()
    assert list(again.items()) == list(original.items()) == [("0", "b"), ("1", "d"), ("x", "e")]


@pytest.mark.parametrize("trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_state_copies_and_pickles(trip: Callable[[Any], Any]) -> None:
    original = ferrosocket.State({"user": "ann", "n": [1]})
    again = trip(original)
    assert type(again) is ferrosocket.State
    assert again.user == "ann" and again.n == [1] and dict(again._state) == {"user": "ann", "n": [1]}
    again.extra = 1
    assert "extra" not in original._state


class MyHeaders(ferrosocket.Headers):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.note = "from __init__"


class MyMutableHeaders(ferrosocket.MutableHeaders):
    pass


class MyQueryParams(ferrosocket.QueryParams):
    pass


class MyURL(ferrosocket.URL):
    pass


@pytest.mark.parametrize("trip", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_subclasses_keep_their_class_and_attributes(trip: Callable[[Any], Any]) -> None:
    headers = MyHeaders(None, [(b"a", b"1")])
    headers.note = "changed"  # what the copy must keep (its __init__ is not called again)
    mutable = MyMutableHeaders(raw=[(b"a", b"1")])
    mutable.extra = "x"  # type: ignore[attr-defined]
    query = MyQueryParams("a=1&a=2")
    query.extra = "q"  # type: ignore[attr-defined]
    for original in (headers, mutable, query, MyURL("ws://h:1/p"), MyURL("ws://h:99999/p")):
        again = trip(original)
        assert again.__class__ is original.__class__ and again == original
        assert getattr(again, "__dict__", None) == getattr(original, "__dict__", None)
    assert trip(headers).raw == [(b"a", b"1")] and trip(mutable).raw == [(b"a", b"1")]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def scope() -> dict[str, Any]:
    return {"type": "websocket", "path": "/ws", "query_string": b"", "headers": [], "subprotocols": []}


async def raised_by_a_connection() -> list[BaseException]:
    """The exceptions a connection raises itself (built by the Rust core)."""
    caught: list[BaseException] = []
    inbox = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "bytes": b"x"},
        {"type": "websocket.disconnect", "code": 4001, "reason": "bye"},
    ]

    async def receive() -> Any:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        if message["type"] == "websocket.send":
            raise OSError("gone")

    ws = ferrosocket.WebSocket(scope(), receive, send)
    await ws.accept()
    for action in (ws.receive_text, ws.receive_text, ws.receive_text):
        try:
            await action()
        except Exception as exc:
            caught.append(exc)
    ws2 = ferrosocket.WebSocket(scope(), receive, send)
    inbox.append({"type": "websocket.connect"})
    await ws2.accept()
    try:
        await ws2.send_text("x")  # the server's OSError: WebSocketDisconnect(code=1006)
    except Exception as exc:
        caught.append(exc)
    return caught


@pytest.mark.anyio
async def test_exceptions_raised_by_a_connection() -> None:
    caught = await raised_by_a_connection()
    kinds = [type(e).__name__ for e in caught]
    assert kinds == [
        "UnexpectedMessageType",
        "WebSocketDisconnect",
        "WebSocketDisconnected",
        "WebSocketDisconnect",
    ]
    for exc in caught:
        for trip in ROUND_TRIPS.values():
            again = trip(exc)
            assert type(again) is type(exc) and again.args == exc.args and str(again) == str(exc)
            assert (getattr(again, "code", None), getattr(again, "reason", None)) == (
                getattr(exc, "code", None),
                getattr(exc, "reason", None),
            )
