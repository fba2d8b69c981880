"""The Rust JSON functions (``ferrosocket._core``) at the edges of their byte scans.

``test_json_compat.py`` compares them with the stdlib on general inputs; here the inputs are
built around what decides between orjson and the stdlib: for loads, the scan in
``src/json_scan.rs`` (runs of 17 to 21 digits, in and out of strings; nesting around orjson's
limit of 1024; brackets, digits and escaped quotes inside strings, which are not nesting or
numbers), for dumps the walk in ``src/python/json_exact.rs`` (nesting around 254, NaN, big
integers, ``uuid.UUID`` among UUID-shaped strings and nulls); and around the argument types they
treat apart (subclasses of ``str``/``bytes``/``bytearray``, other types).
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
import test_json_compat as jc
from hypothesis import given, settings
from hypothesis import strategies as st

from ferrosocket import _core
from ferrosocket import _json as fj

# Integers of 17 to 21 digits, the 64-bit limits and their neighbours among them.
LIMITS = [2**63, 2**64, 10**18, 10**19, 10**20]
BIG_INTS = st.one_of(
    st.integers(10**16, 10**21),
    st.sampled_from(LIMITS).flatmap(lambda n: st.integers(n - 2, n + 1)),
)
NUMBERS = st.builds(
    lambda sign, digits, frac, exp: sign + str(digits) + frac + exp,
    st.sampled_from(["", "-"]),
    BIG_INTS | st.integers(0, 9999),
    st.sampled_from(["", "", ".5", "." + "0" * 18, ".1234567890123456789"]),
    st.sampled_from(["", "", "e5", "E-400", "e0000000000000000001"]),
)
HEX_GROUP = st.text("0123456789abcdefABCDEF-", min_size=3, max_size=13)
UUIDISH = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.lists(HEX_GROUP, min_size=1, max_size=6).map("-".join),
)
STRINGS = st.one_of(
    UUIDISH,
    st.sampled_from(["null", "nul", "anullb", "-", "[{", "[[[[", '\\"[[', "\\", '"]]"', "1" * 19 + "]"]),
    BIG_INTS.map(str),
    jc.TEXT,
)


def _nested(depth: int, opener: str, leaf: str) -> str:
    if opener == "[":
        return "[" * depth + leaf + "]" * depth
    return '{"k":' * depth + leaf + "}" * depth


@st.composite
def scan_texts(draw: st.DrawFn) -> str:
    """JSON text near the loads scan's decisions: digit runs, nesting, strings of brackets."""
    leaf = draw(st.one_of(NUMBERS, STRINGS.map(json.dumps), st.just("null")))
    shape = draw(st.sampled_from(["leaf", "array", "nested", "deep", "brackets-in-strings"]))
    if shape == "leaf":
        return leaf
    if shape == "array":
        return "[" + ",".join(draw(st.lists(st.one_of(NUMBERS, STRINGS.map(json.dumps)), max_size=6))) + "]"
    if shape == "nested":
        return _nested(draw(st.integers(250, 260)), draw(st.sampled_from("[{")), leaf)
    if shape == "deep":  # around orjson's limit: the stdlib's real limit decides beyond
        return _nested(draw(st.integers(1020, 1030)), draw(st.sampled_from("[{")), leaf)
    # Many brackets inside a string (after an escaped quote): not nesting; then real nesting.
    brackets = json.dumps('\\"' + "[" * draw(st.integers(250, 1100)) + '"')
    return f"[{brackets},{leaf},{_nested(draw(st.integers(1, 5)), '[', leaf)}]"


@settings(max_examples=500, deadline=None)
@given(scan_texts(), jc.BUFFER_KIND)
def test_loads_at_the_scan_edges(text: str, kind: str) -> None:
    jc.check_loads_text(text)
    jc.check_loads_bytes(jc.to_buffer(kind, text.encode()))


@pytest.mark.parametrize("limit", LIMITS)
def test_loads_integers_around_the_64_bit_limits(limit: int) -> None:
    for n in range(limit - 2, limit + 2):
        for text in (f"{n}", f"-{n}", f"[1,-{n}]", f'{{"k":{n}}}', f"-{n}.0", f"{n}e0"):
            jc.check_loads_text(text)
            jc.check_loads_bytes(text.encode())


scan_objects = st.recursive(
    st.one_of(
        STRINGS,
        st.none(),
        st.floats(),
        st.sampled_from([math.nan, math.inf, -math.inf]),
        st.integers(-(2**70), 2**70),
        st.uuids(),
    ),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(STRINGS, c, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(scan_objects)
def test_dumps_at_the_scan_edges(obj: Any) -> None:
    jc.check_dumps(obj)


@given(UUIDISH)
def test_uuid_shaped_strings_stay_on_the_fast_path(text: str) -> None:
    # A UUID-shaped *string* parses back equal: orjson's output is kept.
    assert fj.dumps_bytes([text]) == jc.orjson.dumps([text])


def test_uuid_objects_raise_like_the_stdlib() -> None:
    with pytest.raises(TypeError, match="^Object of type UUID is not JSON serializable$"):
        fj.dumps_text(["a", uuid.UUID(int=3)])


def test_the_functions_are_the_rust_ones() -> None:
    assert fj.loads_text is _core.loads_text
    assert fj.loads_bytes is _core.loads_bytes
    assert fj.dumps_text is _core.dumps_text
    assert fj.dumps_bytes is _core.dumps_bytes


class Str(str):
    pass


class Bytes(bytes):
    pass


class ByteArray(bytearray):
    pass


@pytest.mark.parametrize(
    "text", ["[1]", "[" + "1" * 19 + "]", '"\\ud800"', "[1e400]", "[x]", "[" * 300 + "]" * 300]
)
def test_subclasses(text: str) -> None:
    jc.check_loads_text(Str(text))
    jc.check_loads_bytes(Bytes(text.encode()))
    jc.check_loads_bytes(ByteArray(text.encode()))


@pytest.mark.parametrize("value", [b"[1]", bytearray(b"[2]"), 1, None, 1.5, ["[1]"]])
def test_loads_text_of_other_types_is_json_loads(value: Any) -> None:
    assert jc.outcome(lambda: fj.loads_text(value)) == jc.outcome(lambda: json.loads(value))


@pytest.mark.parametrize("value", ["[1]", "", 3, None, [91, 93]])
def test_loads_bytes_of_other_types_is_the_stdlib_call(value: Any) -> None:
    want = jc.outcome(lambda: json.loads(bytes(value).decode("utf-8")))
    assert jc.outcome(lambda: fj.loads_bytes(value)) == want
