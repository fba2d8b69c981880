"""Comparisons of Headers, MutableHeaders, QueryParams and URL: consistent, and Starlette's.

* ``a != b`` is always ``not (a == b)``, in both operand orders, against each other and against plain
  values (``test_*_differential`` compare every answer with the reference: Starlette 1.10.0 plus
  docs/differences.md, where the URL is a str).
* Against Starlette's own classes, both operand orders give Starlette's answer: its ``__eq__`` decides,
  and its ``isinstance`` check rejects ferrosocket's classes until ``ferrosocket.install()`` registers
  them (then it compares the contents, as for its own objects). ``test_against_starlettes_classes``
  runs both ways: stock and with the classes registered as install() registers them.
* Hashing follows equality: Headers, MutableHeaders and QueryParams are unhashable (as Starlette's);
  the URL hashes as its text, and is equal only to strings (and Starlette URLs) with that text.
"""

from __future__ import annotations

import _abc
import contextlib
import copy
from collections.abc import Iterator
from types import SimpleNamespace as NS
from typing import Any

import pytest
import starlette.datastructures as sd
from differential import Differ, diff_settings
from hypothesis import given
from hypothesis import strategies as st
from strategies.datastructures import query_texts, url_strings
from strategies.scopes import header_lists, query_strings

import ferrosocket

KINDS = ("Headers", "MutableHeaders", "mutablecopy", "QueryParams", "URL")


class AlwaysEqual:
    """Says equal to anything, in either operand order."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__


class NoOpinion:
    """Leaves every comparison to the other operand."""

    def __eq__(self, other: object) -> bool:
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        return NotImplemented

    __hash__ = object.__hash__


SENTINEL = object()
PLAIN_VALUES: list[Any] = [
    *(None, 0, 5, 1.5, True, "", "a", b"", [], {}, ()),
    *(SENTINEL, AlwaysEqual(), NoOpinion()),
]


def build(lib: Any, kind: str, source: Any) -> Any:
    """One object of ``kind`` from ``source`` (a header list, a query string or a URL string)."""
    if kind == "Headers":
        return lib.Headers(raw=copy.deepcopy(source))
    if kind == "MutableHeaders":
        return lib.MutableHeaders(raw=copy.deepcopy(source))
    if kind == "mutablecopy":
        return lib.Headers(raw=copy.deepcopy(source)).mutablecopy()
    if kind == "QueryParams":
        return lib.QueryParams(source)
    return lib.URL(source)


def sources(kind: str) -> st.SearchStrategy[Any]:
    if kind in ("Headers", "MutableHeaders", "mutablecopy"):
        return header_lists()
    if kind == "QueryParams":
        return st.one_of(query_strings, query_texts)
    return url_strings


@st.composite
def source_pairs(draw: st.DrawFn, kind: str) -> tuple[Any, Any]:
    """Two sources of one kind: equal, equal up to order, or independent."""
    first = draw(sources(kind))
    how = draw(st.sampled_from(["same", "reordered", "other"]))
    if how == "same":
        return first, copy.deepcopy(first)
    if how == "reordered" and isinstance(first, list):
        return first, draw(st.permutations(first)) if first else []
    if how == "reordered" and kind == "QueryParams":
        text = first.decode("latin-1") if isinstance(first, bytes) else first
        return first, "&".join(reversed(text.split("&")))
    return first, draw(sources(kind))


def error_type(thunk: Any) -> Any:
    """The type of the exception ``thunk`` raises (messages name the classes, which differ)."""
    try:
        return ("ok", thunk())
    except Exception as exc:
        return ("raised", type(exc).__name__)


def consistent(a: Any, b: Any) -> None:
    """``a != b`` is ``not (a == b)``; ferrosocket's own answers, checked outside the Differ too."""
    assert (a != b) is (not (a == b)), (a, b)


def check_pair(d: Differ, la: str, lb: str) -> None:
    """Every comparison of ``c.<la>`` with ``c.<lb>``, both operand orders."""
    for x, y in ((la, lb), (lb, la)):
        d.check(f"{x} == {y}", lambda c, x=x, y=y: getattr(c, x) == getattr(c, y))
        d.check(f"{x} != {y}", lambda c, x=x, y=y: getattr(c, x) != getattr(c, y))
        d.check(f"{x} < {y}", lambda c, x=x, y=y: error_type(lambda: getattr(c, x) < getattr(c, y)))
        d.check(f"{x} >= {y}", lambda c, x=x, y=y: error_type(lambda: getattr(c, x) >= getattr(c, y)))


def check_plain_values(d: Differ, kind: str) -> None:
    derived = {
        "str(a)": lambda c: str(c.a),
        "list(a)": lambda c: list(c.a),
        "dict(a)": lambda c: {k: c.a[k] for k in c.a} if kind != "URL" else {},
    }
    if kind != "URL":
        derived["a.items()"] = lambda c: c.a.items()
        derived["list(a.items())"] = lambda c: list(c.a.items())
    if kind in ("Headers", "MutableHeaders", "mutablecopy"):
        derived["a.raw"] = lambda c: c.a.raw
    for i, value in enumerate(PLAIN_VALUES):
        d.check(f"a == plain[{i}]", lambda c, v=value: c.a == v)
        d.check(f"a != plain[{i}]", lambda c, v=value: c.a != v)
        d.check(f"plain[{i}] == a", lambda c, v=value: v == c.a)
        d.check(f"plain[{i}] != a", lambda c, v=value: v != c.a)
    for label, get in derived.items():
        d.check(f"a == {label}", lambda c, get=get: c.a == get(c))
        d.check(f"a != {label}", lambda c, get=get: c.a != get(c))
        d.check(f"{label} == a", lambda c, get=get: get(c) == c.a)
        d.check(f"{label} != a", lambda c, get=get: get(c) != c.a)


def own_consistency(ctx: Any) -> None:
    others = [ctx.b, ctx.a, *PLAIN_VALUES, str(ctx.a)]
    for other in others:
        consistent(ctx.a, other)
        consistent(other, ctx.a)
    if ctx.a == ctx.b:
        with contextlib.suppress(TypeError):  # unhashable: nothing to follow
            assert hash(ctx.a) == hash(ctx.b)
    if isinstance(ctx.a, str):
        assert hash(ctx.a) == hash(str(ctx.a))


@pytest.mark.parametrize("kind", KINDS)
@diff_settings(100)
@given(data=st.data())
def test_comparisons_differential(impls: Any, diff_counter: Any, kind: str, data: st.DataObject) -> None:
    diff_counter.add("comparisons")
    first, second = data.draw(source_pairs(kind), label="sources")
    d = Differ.of(impls)
    d.ref, d.sut = (NS(lib=lib, a=build(lib, kind, first), b=build(lib, kind, second)) for lib in impls)
    check_pair(d, "a", "b")
    check_pair(d, "a", "a")
    check_plain_values(d, kind)
    d.check("hash(a)", lambda c: hash(c.a))
    d.done()
    own_consistency(d.sut)


HEADER_KINDS = ("Headers", "MutableHeaders", "mutablecopy")


@pytest.mark.parametrize("kind_b", HEADER_KINDS)
@pytest.mark.parametrize("kind_a", HEADER_KINDS)
@diff_settings(40)
@given(data=st.data())
def test_headers_across_kinds(
    impls: Any, diff_counter: Any, kind_a: str, kind_b: str, data: st.DataObject
) -> None:
    """Headers and MutableHeaders compare by their pairs, whichever holds them (the MutableHeaders
    `!=` bug: it compared the empty table of the Rust base class)."""
    diff_counter.add("comparisons")
    first, second = data.draw(source_pairs("Headers"), label="sources")
    d = Differ.of(impls)
    d.ref, d.sut = (NS(a=build(lib, kind_a, first), b=build(lib, kind_b, second)) for lib in impls)
    check_pair(d, "a", "b")

    def mutated(c: Any) -> Any:
        if not hasattr(c.b, "append"):
            return None
        c.b.append("x-late", "1")
        return (c.a == c.b, c.a != c.b, c.b == c.a, c.b != c.a)

    d.check("after b.append", mutated)
    d.done()
    own_consistency(d.sut)


def test_mutable_headers_ne_agrees_with_eq() -> None:
    raw = [(b"a", b"1"), (b"b", b"2")]
    pairs = [
        (ferrosocket.MutableHeaders(raw=list(raw)), ferrosocket.Headers(raw=list(raw))),
        (ferrosocket.MutableHeaders(raw=list(raw)), ferrosocket.MutableHeaders(raw=raw[::-1])),
        (ferrosocket.MutableHeaders(), ferrosocket.Headers()),
        (ferrosocket.MutableHeaders(raw=list(raw)), ferrosocket.Headers()),
        (ferrosocket.MutableHeaders(), ferrosocket.Headers(raw=list(raw))),
    ]
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            assert (x != y) is (not (x == y))
    assert not ferrosocket.MutableHeaders(raw=list(raw)) != ferrosocket.Headers(raw=list(raw))
    assert ferrosocket.MutableHeaders() != ferrosocket.Headers(raw=list(raw))


def test_subclass_ne_follows_its_own_eq() -> None:
    """As Python's default ``__ne__``: a subclass that overrides ``__eq__`` only gets the negation."""

    class Loose(ferrosocket.Headers):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = None  # type: ignore[assignment]

    class LooseQuery(ferrosocket.QueryParams):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = None  # type: ignore[assignment]

    assert Loose() == 5 and not (Loose() != 5)
    assert LooseQuery("a=1") == "x" and not (LooseQuery("a=1") != "x")


# --- Against Starlette's own classes -------------------------------------------------------------

# Starlette's ABCs whose isinstance checks ferrosocket.install() extends to ferrosocket's classes.
REGISTRATIONS = (
    (sd.Headers, ferrosocket.Headers),
    (sd.MutableHeaders, ferrosocket.MutableHeaders),
    (sd.QueryParams, ferrosocket.QueryParams),
)
STARLETTE_ABCS = (
    *(sd.Headers, sd.MutableHeaders),
    *(sd.ImmutableMultiDict, sd.MultiDict, sd.QueryParams, sd.FormData),
)


@contextlib.contextmanager
def starlette_accepts_ferrosocket(accept: bool) -> Iterator[None]:
    """Starlette's isinstance checks accept ferrosocket's classes (as after install()) or not (stock),
    whatever an earlier test did; the registrations in place before are restored afterwards."""
    saved = {cls: [ref() for ref in _abc._get_dump(cls)[0]] for cls in STARLETTE_ABCS}

    def reset() -> None:
        for cls in STARLETTE_ABCS:
            cls._abc_registry_clear()  # type: ignore[attr-defined]
            cls._abc_caches_clear()  # type: ignore[attr-defined]

    reset()
    try:
        if accept:
            for starlette_class, ours in REGISTRATIONS:
                starlette_class.register(ours)
        yield
    finally:
        reset()
        for cls, registered in saved.items():
            for sub in registered:
                if sub is not None:
                    cls.register(sub)


def starlette_twin(kind: str, source: Any) -> Any:
    """Starlette's own object for what ``build(ferrosocket, kind, source)`` builds."""
    return build(sd, kind, source)


@pytest.mark.parametrize("registered", [False, True], ids=["stock", "registered"])
@pytest.mark.parametrize("kind", KINDS)
@diff_settings(60)
@given(data=st.data())
def test_against_starlettes_classes(
    diff_counter: Any, kind: str, registered: bool, data: st.DataObject
) -> None:
    diff_counter.add("comparisons")
    first, second = data.draw(source_pairs(kind), label="sources")
    ours = build(ferrosocket, kind, first)
    twin = starlette_twin(kind, first)  # Starlette's object in place of ours
    theirs = [starlette_twin(kind, second)]
    if kind in HEADER_KINDS:
        theirs.append(sd.MutableHeaders(raw=copy.deepcopy(second)))
    if kind == "QueryParams":
        multi = starlette_twin(kind, second).multi_items()
        theirs += [sd.ImmutableMultiDict(multi), sd.MultiDict(multi)]
    with starlette_accepts_ferrosocket(registered):
        if kind != "URL":  # (Starlette's URL is a plain class: install() swaps its metaclass)
            assert isinstance(ours, type(twin)) is registered
        for other in theirs:
            # Starlette's __eq__ decides in both orders: ferrosocket's object counts as Starlette's own
            # when Starlette's isinstance check accepts it (Headers: `isinstance(other, Headers)`;
            # QueryParams: `isinstance(other, self.__class__)`); the URL compares as a string.
            if kind == "URL":
                accepted = True
            elif kind in HEADER_KINDS:
                accepted = isinstance(ours, sd.Headers)
            else:
                accepted = isinstance(ours, type(other))
            if kind == "QueryParams" and not isinstance(other, sd.QueryParams):
                assert (ours == other) is (twin == other) is False  # only a QueryParams is equal
            else:
                assert (ours == other) is ((twin == other) if accepted else False)
            # `type(other).__eq__`, not `other == twin`: for `ImmutableMultiDict(...) == twin` Python
            # asks the QueryParams twin first (a real subclass), which ours is not.
            assert (other == ours) is (type(other).__eq__(other, twin) if accepted else False)
            consistent(ours, other)
            consistent(other, ours)


def test_starlette_headers_stock_and_registered() -> None:
    raw = [(b"a", b"1"), (b"b", b"2")]
    ours, theirs = ferrosocket.Headers(raw=list(raw)), sd.Headers(raw=raw[::-1])
    with starlette_accepts_ferrosocket(False):
        assert not (ours == theirs) and not (theirs == ours)
        assert ours != theirs and theirs != ours
    with starlette_accepts_ferrosocket(True):
        assert ours == theirs and theirs == ours
        assert not (ours != theirs) and not (theirs != ours)
        mutable = ferrosocket.MutableHeaders(raw=list(raw))
        assert mutable == theirs and theirs == mutable
        query = ferrosocket.QueryParams("a=1&b=2")
        assert query == sd.QueryParams("b=2&a=1") and sd.QueryParams("b=2&a=1") == query


def test_url_hashes_as_its_text() -> None:
    url = ferrosocket.URL("ws://example.com/chat?x=1")
    assert hash(url) == hash("ws://example.com/chat?x=1")
    assert {url: 1}["ws://example.com/chat?x=1"] == 1
    assert url == sd.URL("ws://example.com/chat?x=1") and sd.URL("ws://example.com/chat?x=1") == url
    # Starlette's URL equals anything whose str() is its text; this one, a str that hashes as one,
    # equals only strings (docs/differences.md).
    assert sd.URL("5") == 5 and ferrosocket.URL("5") != 5
