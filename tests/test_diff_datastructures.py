"""Differential tests: ferrosocket's Headers, MutableHeaders, QueryParams, URL, State, Address and the
scope-derived WebSocket properties, against tests/reference.py (Starlette 1.10.0 plus the deliberate
differences of docs/differences.md) on generated ASGI scopes.

Every probe runs on both sides (each with its own deep copy of the inputs); a probe's result is its
normalised return value, or the exception it raised (type, message, builtin classes).  A test fails
with the list of probes that differ. ``test_reference_is_starlette_*`` compare the reference with
Starlette itself, on inputs outside the documented differences.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Mapping
from types import SimpleNamespace as NS
from typing import Any

import pytest
from differential import Differ, diff_settings, norm
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from strategies.datastructures import (
    SPECIAL_KEYS,
    header_keys,
    header_mappings,
    mutable_header_ops,
    qp_keys,
    query_kwargs,
    query_mappings,
    query_pairs,
    query_param_kwargs,
    query_texts,
    remove_keys,
    url_component_kwargs,
    url_replace_kwargs_with_hosts,
    url_strings,
)
from strategies.scopes import (
    HOST_VALUES,
    PATH_PIECES,
    QS_PIECES,
    WS_PROPERTIES,
    header_lists,
    query_strings,
    state_dicts,
    websocket_scopes,
)

URL_COMPONENTS = (
    "scheme",
    "netloc",
    "path",
    "query",
    "fragment",
    "username",
    "password",
    "hostname",
    "port",
    "is_secure",
    "components",
)


def build_sides(d: Differ, label: str, impls: tuple[Any, Any], build: Any) -> tuple[Any, Any] | None:
    """Build a context on each side; compare construction, and return None when either side raised."""
    built = []
    for lib in impls:
        try:
            built.append(build(lib))
        except Exception as exc:
            built.append(exc)
    r, s = built
    if currently_in_test_context():
        event(f"{label}: " + (f"raised {type(r).__name__}" if isinstance(r, Exception) else "built"))
    if isinstance(r, Exception) or isinstance(s, Exception):
        d.same(
            label,
            norm(r) if isinstance(r, Exception) else ("built",),
            norm(s) if isinstance(s, Exception) else ("built",),
        )
        return None
    d.ref, d.sut = r, s
    return r, s


def check_url(d: Differ, label: str, get: Any) -> None:
    """Compare a URL (from ``get(ctx)``) as a string, by repr, and component by component."""
    d.check(f"{label}", lambda c: get(c))
    d.check(f"repr({label})", lambda c: repr(get(c)))
    d.check(f"str({label})", lambda c: str(get(c)))
    d.check(f"format({label})", lambda c: f"{get(c)}")
    for comp in URL_COMPONENTS:
        d.check(f"{label}.{comp}", lambda c, comp=comp: getattr(get(c), comp))
    d.check(f"{label} == str({label})", lambda c: get(c) == str(get(c)))
    d.check(f"{label} == URL(str({label}))", lambda c: get(c) == c.lib.URL(str(get(c))))
    d.check(f"{label} != 'x'", lambda c: get(c) != "x")


# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------


@diff_settings(375)
@given(scope=websocket_scopes(), data=st.data())
def test_headers_from_scope(
    impls: Any, diff_counter: Any, scope: dict[str, Any], data: st.DataObject
) -> None:
    diff_counter.add("datastructures")
    keys = data.draw(st.lists(header_keys(list(scope["headers"])), max_size=6), label="keys")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        sc = copy.deepcopy(scope)
        return NS(lib=lib, scope=sc, h=lib.Headers(scope=sc))

    if build_sides(d, "Headers(scope=...)", impls, build) is not None:
        d.check("scope after construction", lambda c: c.scope)
        d.check("raw", lambda c: c.h.raw)
        d.check("keys()", lambda c: c.h.keys())
        d.check("values()", lambda c: c.h.values())
        d.check("items()", lambda c: c.h.items())
        d.check("len", lambda c: len(c.h))
        d.check("list(iter)", lambda c: list(iter(c.h)))
        d.check("repr", lambda c: repr(c.h))
        d.check("dict(headers)", lambda c: dict(c.h))
        d.check("isinstance Mapping", lambda c: isinstance(c.h, Mapping))
        for k in keys:
            d.check(f"[{k!r}]", lambda c, k=k: c.h[k])
            d.check(f"get({k!r})", lambda c, k=k: c.h.get(k))
            d.check(f"get({k!r}, default)", lambda c, k=k: c.h.get(k, "<default>"))
            d.check(f"getlist({k!r})", lambda c, k=k: c.h.getlist(k))
            d.check(f"{k!r} in", lambda c, k=k: k in c.h)
        d.check("== reordered raw", lambda c: c.h == c.lib.Headers(raw=list(reversed(c.h.raw))))
        d.check("== Headers(scope=copy)", lambda c: c.h == c.lib.Headers(scope=copy.deepcopy(scope)))
        d.check("== dict", lambda c: c.h == dict(c.h.items()))
        d.check("== mutablecopy", lambda c: c.h == c.h.mutablecopy())
        d.check("!= Headers()", lambda c: c.h != c.lib.Headers())
        d.check("== Headers()", lambda c: c.h == c.lib.Headers())
        d.check("mutablecopy", lambda c: c.h.mutablecopy())
        d.check("repr(mutablecopy)", lambda c: repr(c.h.mutablecopy()))

        def mutate_copy(c: Any) -> Any:
            mc = c.h.mutablecopy()
            mc["x-new"] = "1"
            mc.append("host", "other")
            return (mc.raw, c.h.raw, c.scope["headers"])

        d.check("mutablecopy is independent", mutate_copy)

        def mutate_raw(c: Any) -> Any:
            r = c.h.raw
            r.append((b"x-raw", b"1"))
            return (c.h.raw, len(c.h))

        d.check("raw is a copy", mutate_raw)
        d.check("scope at end", lambda c: c.scope)
    d.done()


@diff_settings(250)
@given(
    mapping=header_mappings,
    raw=header_lists(),
    scope=websocket_scopes(),
    variant=st.sampled_from(
        [
            "headers",
            "headers=Headers",
            "raw",
            "raw-shared",
            "none",
            "headers+raw",
            "raw+scope",
            "headers+scope",
            "positional",
            "scope-tuple",
        ]
    ),
)
def test_headers_constructors(
    impls: Any,
    diff_counter: Any,
    mapping: dict[str, str],
    raw: list[Any],
    scope: dict[str, Any],
    variant: str,
) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        c = NS(lib=lib, raw=copy.deepcopy(raw), scope=copy.deepcopy(scope), mapping=dict(mapping))
        if variant == "headers":
            c.h = lib.Headers(headers=c.mapping)
        elif variant == "headers=Headers":
            c.h = lib.Headers(headers=lib.Headers(raw=c.raw))
        elif variant in ("raw", "raw-shared"):
            c.h = lib.Headers(raw=c.raw)
        elif variant == "none":
            c.h = lib.Headers()
        elif variant == "headers+raw":
            c.h = lib.Headers(headers=c.mapping, raw=c.raw)
        elif variant == "raw+scope":
            c.h = lib.Headers(raw=c.raw, scope=c.scope)
        elif variant == "headers+scope":
            c.h = lib.Headers(headers=c.mapping, scope=c.scope)
        elif variant == "positional":
            c.h = lib.Headers(c.mapping)
        elif variant == "scope-tuple":
            c.scope["headers"] = tuple(c.raw)
            c.h = lib.Headers(scope=c.scope)
        return c

    if build_sides(d, f"Headers construction ({variant})", impls, build) is not None:
        d.check("raw", lambda c: c.h.raw)
        d.check("items()", lambda c: c.h.items())
        d.check("repr", lambda c: repr(c.h))
        d.check("len", lambda c: len(c.h))
        d.check("scope", lambda c: c.scope)
        for k in list(mapping)[:3] + ["host", "HOST"]:
            d.check(f"get({k!r})", lambda c, k=k: c.h.get(k))
            d.check(f"getlist({k!r})", lambda c, k=k: c.h.getlist(k))
    d.done()


@diff_settings(40)
@given(scope=websocket_scopes(), via=st.sampled_from(["scope", "raw"]))
def test_headers_share_the_scope_list(impls: Any, diff_counter: Any, scope: dict[str, Any], via: str) -> None:
    """Headers is a snapshot (docs/differences.md, "Headers and the scope"): later changes to the list it
    was built from do not show through (in Starlette they do)."""
    diff_counter.add("datastructures")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        c = NS(lib=lib, scope=copy.deepcopy(scope))
        if via == "scope":
            c.h = lib.Headers(scope=c.scope)
            c.backing = c.scope["headers"]
        else:
            c.backing = list(c.scope["headers"])
            c.h = lib.Headers(raw=c.backing)
        return c

    if build_sides(d, f"Headers({via}=...)", impls, build) is not None:
        d.check(
            "append to the list, then look up",
            lambda c: (c.backing.append((b"x-late", b"v")), c.h.get("x-late"), len(c.h), c.h.raw[-1:])[1:],
        )
    d.done()


@diff_settings(20)
@given(raw=header_lists(), qs=query_strings)
def test_unhashable(impls: Any, diff_counter: Any, raw: list[Any], qs: bytes) -> None:
    """Headers, MutableHeaders and QueryParams define __eq__ only: hash() raises TypeError (naming the Rust
    class by its qualified name: docs/differences.md, "Type names in built-in error messages")."""
    diff_counter.add("datastructures")
    d = Differ.of(impls)
    d.check("hash(Headers)", lambda lib: hash(lib.Headers(raw=copy.deepcopy(raw))))
    d.check("hash(MutableHeaders)", lambda lib: hash(lib.MutableHeaders(raw=copy.deepcopy(raw))))
    d.check("hash(QueryParams)", lambda lib: hash(lib.QueryParams(qs)))
    d.done()


@diff_settings(100)
@given(
    raw=header_lists(),
    key=st.sampled_from([None, 5, b"host", 1.5, ("host",)]),
)
def test_headers_non_str_keys(impls: Any, diff_counter: Any, raw: list[Any], key: Any) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)
    if build_sides(
        d, "Headers(raw=...)", impls, lambda lib: NS(lib=lib, h=lib.Headers(raw=copy.deepcopy(raw)))
    ):
        d.check("[key]", lambda c: c.h[key])
        d.check("get(key)", lambda c: c.h.get(key))
        d.check("getlist(key)", lambda c: c.h.getlist(key))
        d.check("key in", lambda c: key in c.h)
    d.done()


@diff_settings(375)
@given(
    scope=websocket_scopes(),
    mapping=header_mappings,
    base=st.sampled_from(["raw", "scope", "mutablecopy", "headers", "empty"]),
    ops=mutable_header_ops,
)
def test_mutable_headers_ops(
    impls: Any, diff_counter: Any, scope: dict[str, Any], mapping: dict[str, str], base: str, ops: list[Any]
) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        c = NS(lib=lib, scope=copy.deepcopy(scope))
        c.backing = list(c.scope["headers"])
        if base == "raw":
            c.mh = lib.MutableHeaders(raw=c.backing)
        elif base == "scope":
            c.mh = lib.MutableHeaders(scope=c.scope)
        elif base == "mutablecopy":
            c.mh = lib.Headers(scope=c.scope).mutablecopy()
        elif base == "headers":
            c.mh = lib.MutableHeaders(headers=dict(mapping))
        else:
            c.mh = lib.MutableHeaders()
        return c

    if build_sides(d, f"MutableHeaders ({base})", impls, build) is not None:
        d.check("initial raw", lambda c: c.mh.raw)
        for i, op in enumerate(ops):
            name = op[0]
            label = f"op {i} {op!r}"
            if name == "set":
                d.check(label, lambda c, op=op: c.mh.__setitem__(op[1], op[2]))
            elif name == "del":
                d.check(label, lambda c, op=op: c.mh.__delitem__(op[1]))
            elif name == "append":
                d.check(label, lambda c, op=op: c.mh.append(op[1], op[2]))
            elif name == "setdefault":
                d.check(label, lambda c, op=op: c.mh.setdefault(op[1], op[2]))
            elif name == "update":
                d.check(label, lambda c, op=op: c.mh.update(dict(op[1])))
            elif name == "update_headers":
                d.check(
                    label,
                    lambda c, op=op: c.mh.update(
                        c.lib.MutableHeaders(
                            raw=[
                                (k.lower().encode("latin-1", "replace"), v.encode("latin-1", "replace"))
                                for k, v in op[1].items()
                            ]
                        )
                    ),
                )
            elif name in ("or", "or_list"):
                d.check(label, lambda c, op=op: (lambda r: (r, r is c.mh, type(r).__name__))(c.mh | op[1]))
            elif name in ("ior", "ior_list"):
                d.check(label, lambda c, op=op: (lambda r: (r, r is c.mh))(operator.ior(c.mh, op[1])))
            elif name == "add_vary_header":
                d.check(label, lambda c, op=op: c.mh.add_vary_header(op[1]))
            elif name == "raw_append":
                d.check(label, lambda c, op=op: c.mh.raw.append(op[1]))
            elif name == "getitem":
                d.check(label, lambda c, op=op: c.mh[op[1]])
            d.check(f"raw after op {i}", lambda c: c.mh.raw)
        d.check("items()", lambda c: c.mh.items())
        d.check("repr", lambda c: repr(c.mh))
        d.check("type", lambda c: type(c.mh).__name__)
        d.check("raw is raw (MutableHeaders.raw is the live list)", lambda c: c.mh.raw is c.mh.raw)
        d.check("scope at end", lambda c: c.scope)
        d.check("backing list at end", lambda c: c.backing)
        d.check("mutablecopy type", lambda c: type(c.mh.mutablecopy()).__name__)
    d.done()


# ---------------------------------------------------------------------------------------------
# QueryParams
# ---------------------------------------------------------------------------------------------


def check_query_params(d: Differ, keys: list[Any]) -> None:
    d.check("value", lambda c: c.qp)
    d.check("multi_items()", lambda c: c.qp.multi_items())
    d.check("keys()", lambda c: c.qp.keys())
    d.check("values()", lambda c: c.qp.values())
    d.check("items()", lambda c: c.qp.items())
    d.check("len", lambda c: len(c.qp))
    d.check("list(iter)", lambda c: list(iter(c.qp)))
    d.check("str", lambda c: str(c.qp))
    d.check("repr", lambda c: repr(c.qp))
    d.check("dict()", lambda c: dict(c.qp))
    d.check("isinstance Mapping", lambda c: isinstance(c.qp, Mapping))
    d.check("keys() & {'a', 'b'}", lambda c: c.qp.keys() & {"a", "b"})
    d.check("'a' in keys()", lambda c: "a" in c.qp.keys())
    for k in keys:
        d.check(f"[{k!r}]", lambda c, k=k: c.qp[k])
        d.check(f"get({k!r})", lambda c, k=k: c.qp.get(k))
        d.check(f"get({k!r}, default)", lambda c, k=k: c.qp.get(k, "<default>"))
        d.check(f"getlist({k!r})", lambda c, k=k: c.qp.getlist(k))
        d.check(f"{k!r} in", lambda c, k=k: k in c.qp)
    d.check("== QueryParams(str(qp))", lambda c: c.qp == c.lib.QueryParams(str(c.qp)))
    d.check("== QueryParams(multi_items)", lambda c: c.qp == c.lib.QueryParams(c.qp.multi_items()))
    d.check(
        "== QueryParams(reversed multi_items)", lambda c: c.qp == c.lib.QueryParams(c.qp.multi_items()[::-1])
    )
    d.check("== dict", lambda c: c.qp == dict(c.qp))
    d.check("!= QueryParams()", lambda c: c.qp != c.lib.QueryParams())
    d.check("== str(qp)", lambda c: c.qp == str(c.qp))


@diff_settings(375)
@given(qs=query_strings, data=st.data())
def test_query_params_from_bytes(impls: Any, diff_counter: Any, qs: bytes, data: st.DataObject) -> None:
    diff_counter.add("datastructures")
    keys = data.draw(st.lists(qp_keys, max_size=4), label="keys")
    d = Differ.of(impls)
    if build_sides(d, "QueryParams(bytes)", impls, lambda lib: NS(lib=lib, qp=lib.QueryParams(qs))):
        check_query_params(d, keys + ["a", "é", ""])
    if build_sides(
        d,
        "QueryParams(latin-1 str)",
        impls,
        lambda lib: NS(lib=lib, qp=lib.QueryParams(qs.decode("latin-1"))),
    ):
        d.check("str-built value", lambda c: c.qp)
        d.check("str-built str", lambda c: str(c.qp))
    d.done()


@diff_settings(375)
@given(
    variant=st.sampled_from(
        [
            "str",
            "pairs",
            "mapping",
            "kwargs",
            "pairs+kwargs",
            "str+kwargs",
            "bytes+kwargs",
            "mapping+kwargs",
            "own-QueryParams",
            "own-QueryParams+kwargs",
            "two-args",
            "none",
            "empty-list",
            "tuple-pairs",
        ]
    ),
    text=query_texts,
    pairs=query_pairs,
    mapping=query_mappings,
    kwargs=query_kwargs,
    keys=st.lists(qp_keys, max_size=4),
)
def test_query_params_constructors(
    impls: Any,
    diff_counter: Any,
    variant: str,
    text: str,
    pairs: list[Any],
    mapping: dict[str, Any],
    kwargs: dict[str, Any],
    keys: list[str],
) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        QP = lib.QueryParams
        p, m, kw = copy.deepcopy(pairs), dict(mapping), dict(kwargs)
        qp: Any
        if variant == "str":
            qp = QP(text)
        elif variant == "pairs":
            qp = QP(p)
        elif variant == "tuple-pairs":
            qp = QP(tuple(p))
        elif variant == "mapping":
            qp = QP(m)
        elif variant == "kwargs":
            qp = QP(**kw)
        elif variant == "pairs+kwargs":
            qp = QP(p, **kw)
        elif variant == "str+kwargs":
            qp = QP(text, **kw)
        elif variant == "bytes+kwargs":
            qp = QP(text.encode("utf-8"), **kw)
        elif variant == "mapping+kwargs":
            qp = QP(m, **kw)
        elif variant == "own-QueryParams":
            qp = QP(QP(p))
        elif variant == "own-QueryParams+kwargs":
            qp = QP(QP(text), **kw)
        elif variant == "two-args":
            qp = QP(p, m)
        elif variant == "none":
            qp = QP()
        else:
            qp = QP([])
        return NS(lib=lib, qp=qp)

    if build_sides(d, f"QueryParams construction ({variant})", impls, build) is not None:
        check_query_params(d, keys + ["a", "b", "é", ""])
    d.done()


@diff_settings(200)
@given(pairs=query_pairs, perm=st.data())
def test_query_params_equality(impls: Any, diff_counter: Any, pairs: list[Any], perm: st.DataObject) -> None:
    diff_counter.add("datastructures")
    other = perm.draw(st.permutations(pairs), label="permuted")
    d = Differ.of(impls)
    if build_sides(
        d,
        "QueryParams pair",
        impls,
        lambda lib: NS(lib=lib, a=lib.QueryParams(pairs), b=lib.QueryParams(other)),
    ):
        d.check("a == b", lambda c: c.a == c.b)
        d.check("a != b", lambda c: c.a != c.b)
        d.check("b == a", lambda c: c.b == c.a)
    d.done()


# ---------------------------------------------------------------------------------------------
# URL
# ---------------------------------------------------------------------------------------------


@diff_settings(400)
@given(scope=websocket_scopes())
def test_url_from_scope(impls: Any, diff_counter: Any, scope: dict[str, Any]) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        sc = copy.deepcopy(scope)
        return NS(lib=lib, scope=sc, url=lib.URL(scope=sc))

    if build_sides(d, "URL(scope=...)", impls, build) is not None:
        check_url(d, "url", lambda c: c.url)
        d.check("scope unchanged", lambda c: c.scope)
    d.done()


@diff_settings(375)
@given(
    scope=websocket_scopes(ascii_query=True),
    replace_kw=url_replace_kwargs_with_hosts,
    include_kw=query_param_kwargs,
    replace_q_kw=query_param_kwargs,
    remove=remove_keys,
)
def test_url_methods(
    impls: Any,
    diff_counter: Any,
    scope: dict[str, Any],
    replace_kw: dict[str, Any],
    include_kw: dict[str, Any],
    replace_q_kw: dict[str, Any],
    remove: Any,
) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        return NS(lib=lib, url=lib.URL(scope=copy.deepcopy(scope)))

    if build_sides(d, "URL(scope=...)", impls, build) is not None:
        d.check("url", lambda c: c.url)
        check_url(d, f"replace(**{replace_kw!r})", lambda c: c.url.replace(**replace_kw))
        check_url(
            d, f"include_query_params(**{include_kw!r})", lambda c: c.url.include_query_params(**include_kw)
        )
        check_url(
            d,
            f"replace_query_params(**{replace_q_kw!r})",
            lambda c: c.url.replace_query_params(**replace_q_kw),
        )
        check_url(d, f"remove_query_params({remove!r})", lambda c: c.url.remove_query_params(remove))
        d.check("replace(bogus=1)", lambda c: c.url.replace(bogus=1))
        d.check("replace() unchanged", lambda c: c.url.replace() == c.url)
    d.done()


@diff_settings(375)
@given(
    url=url_strings,
    components=url_component_kwargs,
    replace_kw=url_replace_kwargs_with_hosts,
    include_kw=query_param_kwargs,
    remove=remove_keys,
)
def test_url_from_string_and_components(
    impls: Any,
    diff_counter: Any,
    url: str,
    components: dict[str, str],
    replace_kw: dict[str, Any],
    include_kw: dict[str, Any],
    remove: Any,
) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)
    if build_sides(d, "URL(str)", impls, lambda lib: NS(lib=lib, url=lib.URL(url))) is not None:
        check_url(d, "URL(str)", lambda c: c.url)
        # docs/differences.md, "websocket.url": a str, hashable; a positional replace() is str's.
        d.check("isinstance(URL(str), str)", lambda c: isinstance(c.url, str))
        d.check("hash(URL(str)) == hash(str)", lambda c: hash(c.url) == hash(str(c.url)))
        d.check("URL(str).replace('/', '|')", lambda c: c.url.replace("/", "|"))
        check_url(d, f"replace(**{replace_kw!r})", lambda c: c.url.replace(**replace_kw))
        check_url(
            d, f"include_query_params(**{include_kw!r})", lambda c: c.url.include_query_params(**include_kw)
        )
        check_url(d, f"remove_query_params({remove!r})", lambda c: c.url.remove_query_params(remove))
    if (
        build_sides(d, "URL(**components)", impls, lambda lib: NS(lib=lib, url=lib.URL(**components)))
        is not None
    ):
        check_url(d, f"URL(**{components!r})", lambda c: c.url)
    d.ref, d.sut = (NS(lib=lib) for lib in impls)
    d.check("URL()", lambda c: c.lib.URL())
    d.check(
        "URL(url, scope=...)",
        lambda c: c.lib.URL(url or "x", scope={"type": "websocket", "path": "/", "headers": []}),
    )
    d.check("URL(url, scheme=...)", lambda c: c.lib.URL(url or "x", scheme="ws"))
    d.check(
        "URL(scope, scheme=...)",
        lambda c: c.lib.URL(scope={"type": "websocket", "path": "/", "headers": []}, scheme="ws"),
    )
    d.check("URL(bogus=...)", lambda c: c.lib.URL(bogus="x"))
    d.done()


@diff_settings(60)
@given(url=url_strings, other=st.sampled_from([None, 5, 0, [], "None", "5", b"x", 1.5]))
def test_url_eq_non_str(impls: Any, diff_counter: Any, url: str, other: Any) -> None:
    """The URL is a str (docs/differences.md, "websocket.url"): it compares as one (Starlette's URL.__eq__
    compares str(self) == str(other), whatever `other` is)."""
    diff_counter.add("datastructures")
    d = Differ.of(impls)
    for candidate in (url, str(other)):
        if (
            build_sides(d, "URL(str)", impls, lambda lib, u=candidate: NS(lib=lib, url=lib.URL(u)))
            is not None
        ):
            d.check(f"URL({candidate!r}) == {other!r}", lambda c: c.url == other)
            d.check(f"URL({candidate!r}) != {other!r}", lambda c: c.url != other)
    d.done()


# ---------------------------------------------------------------------------------------------
# State and Address
# ---------------------------------------------------------------------------------------------

state_ops = st.lists(
    st.one_of(
        st.tuples(st.just("setattr"), st.sampled_from(["a", "b", "_state", "x"]), st.integers(0, 3)),
        st.tuples(st.just("getattr"), st.sampled_from(["a", "b", "missing", "_state"])),
        st.tuples(st.just("delattr"), st.sampled_from(["a", "b", "missing"])),
        st.tuples(st.just("setitem"), st.sampled_from(["a", "b", "c"]), st.integers(0, 3)),
        st.tuples(st.just("getitem"), st.sampled_from(["a", "b", "missing"])),
        st.tuples(st.just("delitem"), st.sampled_from(["a", "b", "missing"])),
        st.tuples(st.just("iter")),
        st.tuples(st.just("len")),
    ),
    max_size=8,
)


@diff_settings(150)
@given(initial=st.one_of(st.none(), state_dicts), ops=state_ops)
def test_state(impls: Any, diff_counter: Any, initial: dict[str, Any] | None, ops: list[Any]) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        backing = copy.deepcopy(initial)
        return NS(lib=lib, backing=backing, state=lib.State(backing) if backing is not None else lib.State())

    if build_sides(d, "State", impls, build) is not None:
        for i, op in enumerate(ops):
            label = f"op {i} {op!r}"
            if op[0] == "setattr":
                d.check(label, lambda c, op=op: setattr(c.state, op[1], op[2]))
            elif op[0] == "getattr":
                d.check(
                    label,
                    lambda c, op=op: getattr(c.state, op[1]) if op[1] != "_state" else dict(c.state._state),
                )
            elif op[0] == "delattr":
                d.check(label, lambda c, op=op: delattr(c.state, op[1]))
            elif op[0] == "setitem":
                d.check(label, lambda c, op=op: c.state.__setitem__(op[1], op[2]))
            elif op[0] == "getitem":
                d.check(label, lambda c, op=op: c.state[op[1]])
            elif op[0] == "delitem":
                d.check(label, lambda c, op=op: c.state.__delitem__(op[1]))
            elif op[0] == "iter":
                d.check(label, lambda c: list(iter(c.state)))
            elif op[0] == "len":
                d.check(label, lambda c: len(c.state))
            d.check(f"backing dict after op {i}", lambda c: c.backing)
    d.done()


@diff_settings(20)
@given(host=st.sampled_from(["127.0.0.1", "::1", ""]), port=st.integers(0, 65535))
def test_address(impls: Any, diff_counter: Any, host: str, port: int) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)
    d.check("Address(h, p)", lambda lib: lib.Address(host, port))
    d.check("repr", lambda lib: repr(lib.Address(host, port)))
    d.check("fields", lambda lib: lib.Address._fields)
    d.check("kwargs", lambda lib: lib.Address(host=host, port=port))
    d.check("== tuple", lambda lib: lib.Address(host, port) == (host, port))
    d.check("unpack", lambda lib: tuple(lib.Address(host, port)))
    d.check("_asdict", lambda lib: lib.Address(host, port)._asdict())
    d.check("isinstance tuple", lambda lib: isinstance(lib.Address(host, port), tuple))
    d.done()


# ---------------------------------------------------------------------------------------------
# WebSocket: scope-derived properties and the mapping interface
# ---------------------------------------------------------------------------------------------


async def _never_receive() -> Any:  # pragma: no cover - never awaited by these tests
    raise AssertionError("receive must not be called by a property")


async def _never_send(message: Any) -> None:  # pragma: no cover
    raise AssertionError("send must not be called by a property")


def check_ws_property(d: Differ, prop: str) -> None:
    if prop in ("url", "base_url"):
        check_url(d, f"ws.{prop}", lambda c: getattr(c.ws, prop))
        d.check(f"ws.{prop} is ws.{prop} (cached)", lambda c: getattr(c.ws, prop) is getattr(c.ws, prop))
    elif prop == "headers":
        d.check("ws.headers", lambda c: c.ws.headers)
        d.check("repr(ws.headers)", lambda c: repr(c.ws.headers))
        d.check("ws.headers.get('host')", lambda c: c.ws.headers.get("host"))
        d.check("ws.headers is ws.headers (cached)", lambda c: c.ws.headers is c.ws.headers)
    elif prop == "query_params":
        d.check("ws.query_params", lambda c: c.ws.query_params)
        d.check("repr(ws.query_params)", lambda c: repr(c.ws.query_params))
        d.check(
            "ws.query_params is ws.query_params (cached)", lambda c: c.ws.query_params is c.ws.query_params
        )
    elif prop == "path_params":
        d.check("ws.path_params", lambda c: c.ws.path_params)
        d.check(
            "ws.path_params is scope['path_params']", lambda c: c.ws.path_params is c.scope.get("path_params")
        )
    elif prop == "cookies":
        d.check("ws.cookies", lambda c: c.ws.cookies)
        d.check("ws.cookies is ws.cookies (cached)", lambda c: c.ws.cookies is c.ws.cookies)
    elif prop == "client":
        d.check("ws.client", lambda c: c.ws.client)
        d.check("repr(ws.client)", lambda c: repr(c.ws.client))
        d.check("ws.client.host/port", lambda c: (c.ws.client.host, c.ws.client.port))
        d.check("type(ws.client)", lambda c: (type(c.ws.client).__name__, isinstance(c.ws.client, tuple)))
    elif prop == "state":
        d.check("ws.state", lambda c: c.ws.state)
        d.check("type(ws.state)", lambda c: type(c.ws.state).__name__)
        d.check("ws.state is ws.state (cached)", lambda c: c.ws.state is c.ws.state)
        d.check("'state' in scope", lambda c: "state" in c.scope)
    elif prop == "state_write":
        d.check("ws.state.written = 1", lambda c: setattr(c.ws.state, "written", 1))
        d.check("scope['state'] after attr write", lambda c: c.scope.get("state"))
        d.check("ws.state['item'] = 2", lambda c: c.ws.state.__setitem__("item", 2))
        d.check("ws.state.item", lambda c: c.ws.state.item)
        d.check("ws.state.missing", lambda c: c.ws.state.missing)
        d.check("del ws.state.written", lambda c: delattr(c.ws.state, "written"))
        d.check("scope['state'] after writes", lambda c: c.scope.get("state"))
    elif prop == "app":
        d.check("ws.app", lambda c: c.ws.app)
    elif prop in ("session", "auth", "user"):
        d.check(f"ws.{prop}", lambda c: getattr(c.ws, prop))
        d.check(f"scope['{prop}'] after access", lambda c: c.scope.get(prop))
    elif prop == "url_for":
        d.check("ws.url_for('route')", lambda c: c.ws.url_for("route"))
    elif prop == "url_for_params":
        d.check("ws.url_for('route', id=1, x='é')", lambda c: c.ws.url_for("route", id=1, x="é"))
    elif prop == "url_for_missing":
        d.check("ws.url_for('missing')", lambda c: c.ws.url_for("missing"))
    elif prop == "mapping":
        d.check("ws['path']", lambda c: c.ws["path"])
        d.check("ws['type']", lambda c: c.ws["type"])
        d.check("ws['nope']", lambda c: c.ws["nope"])
        d.check("ws.get('nope', 1)", lambda c: c.ws.get("nope", 1))
        d.check("'path' in ws", lambda c: "path" in c.ws)
        d.check("'nope' in ws", lambda c: "nope" in c.ws)
        d.check("len(ws)", lambda c: len(c.ws))
        d.check("list(ws)", lambda c: list(c.ws))
        d.check("list(ws.keys())", lambda c: list(c.ws.keys()))
        d.check("dict(ws)", lambda c: dict(c.ws))
        d.check("isinstance Mapping", lambda c: isinstance(c.ws, Mapping))
        d.check("ws == ws", lambda c: c.ws == c.ws)
        d.check("ws != ws", lambda c: c.ws != c.ws)
        d.check("ws == other ws (same scope)", lambda c: c.ws == c.other)
        d.check("ws != other ws (same scope)", lambda c: c.ws != c.other)
        d.check("ws == scope", lambda c: c.ws == c.scope)
        d.check("hash(ws) == hash(ws)", lambda c: hash(c.ws) == hash(c.ws))
        d.check("hash(ws) == hash(other)", lambda c: hash(c.ws) == hash(c.other))
    elif prop == "scope_identity":
        d.check("ws.scope is scope", lambda c: c.ws.scope is c.scope)
    elif prop == "states":
        d.check("client_state", lambda c: c.ws.client_state)
        d.check("application_state", lambda c: c.ws.application_state)
    else:  # pragma: no cover
        raise AssertionError(prop)


def check_ws_properties(impls: Any, scope: dict[str, Any], props: list[str]) -> None:
    d = Differ.of(impls)

    def build(lib: Any) -> Any:
        sc = copy.deepcopy(scope)
        ws = lib.WebSocket(sc, _never_receive, _never_send)
        other = lib.WebSocket(sc, receive=_never_receive, send=_never_send)
        return NS(lib=lib, scope=sc, ws=ws, other=other)

    if build_sides(d, "WebSocket(scope, receive, send)", impls, build) is not None:
        for prop in props:
            check_ws_property(d, prop)
            d.check(f"scope after {prop}", lambda c: c.scope)
    d.done()


@diff_settings(400)
@given(scope=websocket_scopes(), order=st.permutations(WS_PROPERTIES), n=st.integers(1, len(WS_PROPERTIES)))
def test_websocket_properties(
    impls: Any, diff_counter: Any, scope: dict[str, Any], order: list[str], n: int
) -> None:
    diff_counter.add("datastructures")
    check_ws_properties(impls, scope, order[:n])


@diff_settings(100)
@given(
    scope=websocket_scopes(),
    order=st.permutations(WS_PROPERTIES),
    n=st.integers(1, len(WS_PROPERTIES)),
    replace_kw=url_replace_kwargs_with_hosts,
    include_kw=query_param_kwargs,
    remove=remove_keys,
)
def test_reference_is_starlette_on_scopes(
    starlette_vs_reference: Any,
    diff_counter: Any,
    scope: dict[str, Any],
    order: list[str],
    n: int,
    replace_kw: dict[str, Any],
    include_kw: dict[str, Any],
    remove: Any,
) -> None:
    """Where the query string is UTF-8, the reference's WebSocket properties and URL methods are
    Starlette's (hash(), comparisons with non-str values and the Headers snapshot are not probed)."""
    diff_counter.add("reference vs starlette")
    if "query_string" in scope:
        scope = {**scope, "query_string": scope["query_string"].decode("utf-8", "replace").encode()}
    check_ws_properties(starlette_vs_reference, scope, order[:n])
    d = Differ.of(starlette_vs_reference)
    if build_sides(
        d, "URL(scope=...)", starlette_vs_reference, lambda lib: NS(lib=lib, url=lib.URL(scope=scope))
    ):
        check_url(d, f"replace(**{replace_kw!r})", lambda c: c.url.replace(**replace_kw))
        check_url(
            d, f"include_query_params(**{include_kw!r})", lambda c: c.url.include_query_params(**include_kw)
        )
        check_url(d, f"remove_query_params({remove!r})", lambda c: c.url.remove_query_params(remove))
    d.done()


@diff_settings(20)
@given(scope=websocket_scopes(), kind=st.sampled_from(["http", "lifespan", None]))
def test_websocket_wrong_scope_type(impls: Any, diff_counter: Any, scope: dict[str, Any], kind: Any) -> None:
    diff_counter.add("datastructures")
    d = Differ.of(impls)
    bad = dict(scope)
    if kind is None:
        del bad["type"]
    else:
        bad["type"] = kind
    d.check(
        f"WebSocket(scope type {kind!r})",
        lambda lib: lib.WebSocket(copy.deepcopy(bad), _never_receive, _never_send),
    )
    d.done()


# ---------------------------------------------------------------------------------------------
# Tables: each curated edge case as its own test, so one discrepancy cannot hide another
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_server", [False, True], ids=["no-server", "server"])
@pytest.mark.parametrize("host", HOST_VALUES, ids=lambda h: repr(h)[2:-1] or "empty")
def test_url_host_table(impls: Any, diff_counter: Any, host: bytes, with_server: bool) -> None:
    diff_counter.add("tables")
    scope: dict[str, Any] = {
        "type": "websocket",
        "path": "/p",
        "query_string": b"q=1",
        "headers": [(b"host", host)],
        "scheme": "wss",
    }
    if with_server:
        scope["server"] = ("10.0.0.1", 8000)
    d = Differ.of(impls)
    if build_sides(d, "URL(scope)", impls, lambda lib: NS(lib=lib, url=lib.URL(scope=copy.deepcopy(scope)))):
        check_url(d, "url", lambda c: c.url)
    d.done()


@pytest.mark.parametrize("with_host", [False, True], ids=["relative", "absolute"])
@pytest.mark.parametrize("piece", PATH_PIECES[3:] + ["//", "///", ""], ids=repr)
def test_url_path_table(impls: Any, diff_counter: Any, piece: str, with_host: bool) -> None:
    diff_counter.add("tables")
    d = Differ.of(impls)
    for path in (f"/{piece}x", f"{piece}/x", piece):
        scope: dict[str, Any] = {"type": "websocket", "path": path, "headers": [], "query_string": b""}
        if with_host:
            scope["headers"] = [(b"host", b"example.com")]
        if build_sides(
            d,
            f"URL(scope path={path!r})",
            impls,
            lambda lib, s=scope: NS(lib=lib, url=lib.URL(scope=copy.deepcopy(s))),
        ):
            check_url(d, f"url(path={path!r})", lambda c: c.url)
    d.done()


@pytest.mark.parametrize("piece", QS_PIECES, ids=lambda p: repr(p)[2:-1])
def test_query_table(impls: Any, diff_counter: Any, piece: bytes) -> None:
    diff_counter.add("tables")
    d = Differ.of(impls)
    for qs in (piece, b"a=" + piece, piece + b"=1", b"a=1&" + piece + b"&b=2"):
        scope = {"type": "websocket", "path": "/", "headers": [(b"host", b"h")], "query_string": qs}
        if build_sides(
            d, f"QueryParams({qs!r})", impls, lambda lib, q=qs: NS(lib=lib, qp=lib.QueryParams(q))
        ):
            d.check(f"QueryParams({qs!r})", lambda c: c.qp)
            d.check(f"str(QueryParams({qs!r}))", lambda c: str(c.qp))
        if build_sides(
            d,
            f"URL(query_string={qs!r})",
            impls,
            lambda lib, s=scope: NS(lib=lib, url=lib.URL(scope=copy.deepcopy(s))),
        ):
            check_url(d, f"url(query_string={qs!r})", lambda c: c.url)
    d.done()


MALFORMED_HEADERS: list[Any] = [
    [[b"host", b"h"]],  # not malformed: ASGI headers are an iterable of [name, value] iterables
    [(b"host", b"h"), [b"x-a", b"1"]],
    [(bytearray(b"host"), b"h")],
    [(b"host", b"h", b"x")],
    [("host", b"h")],
    [(b"host", "h")],
    [(b"host", b"h"), (b"x-a",)],
    [5],
    [b"hh"],
    [None],
]


@pytest.mark.parametrize("headers", MALFORMED_HEADERS, ids=repr)
def test_malformed_header_table(impls: Any, diff_counter: Any, headers: list[Any]) -> None:
    """docs/differences.md, "Malformed header entries in the scope": a TypeError naming the entry when
    the headers are first read (Starlette ignores it, or fails on some later lookup); the URL reads
    the Host header as Starlette does."""
    diff_counter.add("tables")
    d = Differ.of(impls)

    def scope() -> dict[str, Any]:
        return {"type": "websocket", "path": "/", "query_string": b"", "headers": copy.deepcopy(headers)}

    def ws(lib: Any) -> Any:
        return lib.WebSocket(scope(), _never_receive, _never_send)

    d.check("Headers(scope=...)", lambda lib: lib.Headers(scope=scope()))
    d.check("Headers(raw=...)", lambda lib: lib.Headers(raw=copy.deepcopy(headers)))
    d.check("ws.headers", lambda lib: ws(lib).headers)
    d.check("ws.headers.get('host')", lambda lib: ws(lib).headers.get("host"))
    d.check("ws.cookies", lambda lib: ws(lib).cookies)
    d.check("URL(scope=...)", lambda lib: lib.URL(scope=scope()))
    d.check("ws.url", lambda lib: ws(lib).url)
    d.done()


TABLE_RAW = [
    (b"host", b"h"),
    (b"Host", b"H"),
    (b"k", b"lower-k"),
    (b"K", b"upper-K"),
    (b"x-\xe9", b"latin-1 name"),
    (b"x-\xc9", b"upper latin-1 name"),
    (b"vary", b"a"),
    (b"vary", b"b"),
    (b"", b"empty name"),
]


@pytest.mark.parametrize("key", SPECIAL_KEYS, ids=repr)
def test_header_key_table(impls: Any, diff_counter: Any, key: str) -> None:
    diff_counter.add("tables")
    d = Differ.of(impls)
    if build_sides(d, "Headers(raw)", impls, lambda lib: NS(lib=lib, h=lib.Headers(raw=list(TABLE_RAW)))):
        d.check(f"[{key!r}]", lambda c: c.h[key])
        d.check(f"get({key!r})", lambda c: c.h.get(key))
        d.check(f"getlist({key!r})", lambda c: c.h.getlist(key))
        d.check(f"{key!r} in", lambda c: key in c.h)
    if build_sides(
        d, "MutableHeaders(raw)", impls, lambda lib: NS(lib=lib, h=lib.MutableHeaders(raw=list(TABLE_RAW)))
    ):
        d.check(f"mh[{key!r}] = 'v'", lambda c: (c.h.__setitem__(key, "v"), c.h.raw))
        d.check(f"del mh[{key!r}]", lambda c: (c.h.__delitem__(key), c.h.raw))
        d.check(f"mh.setdefault({key!r}, 'w')", lambda c: (c.h.setdefault(key, "w"), c.h.raw))
        d.check(f"mh.append({key!r}, 'z')", lambda c: (c.h.append(key, "z"), c.h.raw))
    d.done()
