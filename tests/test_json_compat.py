"""Differential tests: ferrosocket._json against the stdlib json calls Starlette makes."""

from __future__ import annotations

import array
import dataclasses
import datetime
import decimal
import enum
import json
import math
import operator
import sys
import uuid
from collections import OrderedDict, namedtuple
from collections.abc import Callable
from typing import Any

import numpy
import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

try:
    from ferrosocket import _json as fj
except ImportError:  # package not built/installed: load the module straight from the source tree
    import importlib.util
    import pathlib

    _path = pathlib.Path(__file__).resolve().parents[1] / "python" / "ferrosocket" / "_json.py"
    _spec = importlib.util.spec_from_file_location("_ferrosocket_json_under_test", _path)
    assert _spec is not None and _spec.loader is not None
    fj = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(fj)

MANY = settings(max_examples=1000, deadline=None)
SOME = settings(max_examples=300, deadline=None)
# The deepest nesting ferrosocket hands to orjson.dumps (json_exact.rs: ORJSON_DUMPS_MAX_DEPTH).
DUMPS_ORJSON_DEPTH = 64


# ---------------------------------------------------------------------------------------------
# Comparison helpers


def same(a: Any, b: Any) -> bool:
    """Strict structural equality: same types, dict key order, -0.0 != 0.0, NaN == NaN.

    Iterative: json.loads nests as deep as the interpreter's C recursion limit lets it (about
    1,000 levels on CPython 3.11, several thousand on 3.12 and later), deeper than Python code
    may recurse."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if math.isnan(x) or math.isnan(y):
                if not (math.isnan(x) and math.isnan(y)):
                    return False
            elif not (x == y and math.copysign(1.0, x) == math.copysign(1.0, y)):
                return False
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif isinstance(x, dict):
            if len(x) != len(y):
                return False
            for (kx, vx), (ky, vy) in zip(x.items(), y.items(), strict=True):
                pending.append((kx, ky))
                pending.append((vx, vy))
        elif not x == y:
            return False
    return True


def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - any exception is part of the compared behaviour
        return ("raise", type(exc), str(exc))


def assert_same_outcome(got: tuple[Any, ...], want: tuple[Any, ...]) -> None:
    if want[0] == "ok":
        assert got[0] == "ok", f"raised {got[1:]}, expected {want[1]!r}"
        assert same(got[1], want[1]), f"{got[1]!r} != {want[1]!r}"
    else:
        assert got == want


def ref_dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def check_loads_text(text: str) -> None:
    assert_same_outcome(outcome(lambda: fj.loads_text(text)), outcome(lambda: json.loads(text)))


def check_loads_bytes(data: bytes | bytearray | memoryview) -> None:
    want = outcome(lambda: json.loads(bytes(data).decode("utf-8")))
    assert_same_outcome(outcome(lambda: fj.loads_bytes(data)), want)


def check_dumps(obj: Any) -> None:
    want = outcome(lambda: json.loads(ref_dumps(obj)))
    got_text = outcome(lambda: fj.dumps_text(obj))
    if got_text[0] == "ok":
        assert type(got_text[1]) is str
        got_text = outcome(lambda: json.loads(got_text[1]))
    assert_same_outcome(got_text, want)

    want_b = outcome(lambda: json.loads(ref_dumps(obj).encode("utf-8").decode("utf-8")))
    got_b = outcome(lambda: fj.dumps_bytes(obj))
    if got_b[0] == "ok":
        assert type(got_b[1]) is bytes
        got_b = outcome(lambda: json.loads(got_b[1].decode("utf-8")))
    assert_same_outcome(got_b, want_b)


def test_helpers_are_strict() -> None:
    assert same([1, {"a": float("nan")}], [1, {"a": float("nan")}])
    for a, b in [
        (1, 1.0),
        (True, 1),
        (0.0, -0.0),
        (float("nan"), None),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ]:
        assert not same(a, b)
        assert not same([a], [b])
    with pytest.raises(AssertionError):
        assert_same_outcome(("raise", ValueError, "x"), ("raise", ValueError, "y"))
    with pytest.raises(AssertionError):
        assert_same_outcome(("ok", 2**64), ("ok", float(2**64)))


# ---------------------------------------------------------------------------------------------
# Strategies

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
ANY_CHAR = st.one_of(st.characters(codec="utf-8"), SURROGATES)
TEXT = st.text(ANY_CHAR, max_size=8)
JSONISH_CHAR = st.one_of(
    st.sampled_from(
        list('{}[]",:0123456789-+.eE \t\n\r\\/ubfnrtNaIyl\x00\x1f\x7f\x0c\ufeff\u2028\ud800\udc00')
    ),
    st.characters(codec="utf-8"),
)
EXTREME_INTS = [
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63),
    -(2**63) - 1,
    -(2**64),
    10**18,
    10**19,
    -(10**19),
]
INTS = st.one_of(st.integers(), st.integers(-(2**70), 2**70), st.sampled_from(EXTREME_INTS))
FLOATS = st.one_of(
    st.floats(), st.sampled_from([5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308])
)

json_values = st.recursive(
    st.none() | st.booleans() | INTS | FLOATS | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@st.composite
def rendered_json(draw: st.DrawFn) -> str:
    """Valid JSON (for json.loads) with random layout: indent, separators, escapes, surrounding space."""
    value = draw(json_values)
    indent = draw(st.none() | st.integers(0, 2) | st.sampled_from(["\t", " \r\n"]))
    item_sep = draw(st.sampled_from([",", ", ", " , ", ",\n", "\t,\r"]))
    key_sep = draw(st.sampled_from([":", ": ", " :\t", "\n:\n"]))
    text = json.dumps(value, indent=indent, separators=(item_sep, key_sep), ensure_ascii=draw(st.booleans()))
    space = st.sampled_from(["", " ", "\n\t", "\r\n "])
    return draw(space) + text + draw(space)


@st.composite
def duplicate_keys(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(st.sampled_from("abc"), json_values), max_size=6))
    return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    text = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "insert", "delete", "replace"]))
        i = draw(st.integers(0, len(text)))
        if op == "truncate":
            text = text[:i]
        elif op == "insert":
            text = text[:i] + draw(JSONISH_CHAR) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i] + draw(JSONISH_CHAR) + text[i + 1 :]
    return text


NUMBER = st.from_regex(r"\A-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,25})?([eE][-+]?[0-9]{1,22})?\Z")
NEAR_NUMBER = st.from_regex(r"\A[-+]?[0-9]{0,25}\.?[0-9]{0,5}([eE][-+]?[0-9]{0,4})?\Z")
NUMBER_CONTEXT = st.sampled_from(["{}", "[{}]", '{{"k":{}}}', '"{}"', "[1,{},2]", " {}\n"])

valid_texts = st.one_of(rendered_json(), duplicate_keys())
any_texts = st.one_of(
    valid_texts,
    mutated(valid_texts),
    st.text(JSONISH_CHAR, max_size=30),
    st.text(ANY_CHAR, max_size=30),
    st.builds(str.format, NUMBER_CONTEXT, NUMBER | NEAR_NUMBER),
)


def to_buffer(kind: str, data: bytes) -> bytes | bytearray | memoryview:
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(data)
    return data


BUFFER_KIND = st.sampled_from(["bytes", "bytearray", "memoryview"])
any_bytes = st.one_of(
    any_texts.map(lambda s: s.encode("utf-8", "surrogatepass")),  # surrogates -> invalid UTF-8
    st.binary(max_size=40),
    st.lists(
        st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xe2\x82", b"["])
    ).flatmap(lambda parts: valid_texts.map(lambda s: b"".join(parts) + s.encode("utf-8", "surrogatepass"))),
)


class MyStr(str):
    pass


class MyInt(int):
    pass


class MyFloat(float):
    pass


class MyDict(dict):  # type: ignore[type-arg]
    pass


class MyList(list):  # type: ignore[type-arg]
    pass


class MyTuple(tuple):  # type: ignore[type-arg]
    pass


class ReversedDict(dict):  # type: ignore[type-arg]
    """json.dumps iterates a dict subclass through its items(); orjson would read the storage."""

    def items(self) -> Any:
        return list(reversed(list(super().items())))


class Color(enum.IntEnum):
    RED = 1


class Word(enum.StrEnum):
    HI = "hi"


class Plain(enum.Enum):
    A = 1


Point = namedtuple("Point", "x y")


@dataclasses.dataclass
class DC:
    x: int = 1


UNSUPPORTED = [
    object(),
    {1, 2},
    frozenset(),
    b"x",
    bytearray(b"x"),
    1 + 2j,
    decimal.Decimal("1.5"),
    datetime.datetime(2020, 1, 1),
    datetime.date(2020, 1, 1),
    datetime.time(1, 2),
    datetime.timedelta(1),
    uuid.UUID(int=5),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    DC(),
    {(1, 2): 1},
    {b"k": 1},
    range(3),
]

py_leaves = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    FLOATS,
    TEXT,
    TEXT.map(MyStr),
    INTS.map(MyInt),
    FLOATS.map(MyFloat),
    st.sampled_from([Color.RED, Word.HI]),
)
py_keys = st.one_of(
    TEXT, INTS, FLOATS, st.booleans(), st.none(), TEXT.map(MyStr), st.sampled_from([Color.RED])
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.lists(children, max_size=4)
    dicts = st.dictionaries(py_keys, children, max_size=4)
    return st.one_of(
        lists,
        dicts,
        lists.map(tuple),
        lists.map(MyList),
        lists.map(MyTuple),
        dicts.map(MyDict),
        dicts.map(OrderedDict),
        st.tuples(children, children).map(lambda t: Point(*t)),
    )


py_objects = st.recursive(py_leaves, _containers, max_leaves=20)
plain_objects = st.recursive(  # only builtin types: what a real payload looks like
    st.none() | st.booleans() | INTS | FLOATS | TEXT,
    lambda c: (
        st.lists(c, max_size=4) | st.lists(c, max_size=4).map(tuple) | st.dictionaries(TEXT, c, max_size=4)
    ),
    max_leaves=20,
)
with_unsupported = st.recursive(
    st.sampled_from(UNSUPPORTED) | st.none() | st.booleans() | st.floats() | TEXT, _containers, max_leaves=8
)


# ---------------------------------------------------------------------------------------------
# loads_text / loads_bytes


@settings(max_examples=500, deadline=None)  # valid_texts are also a part of any_texts below
@given(valid_texts)
def test_loads_text_valid(text: str) -> None:
    check_loads_text(text)


@MANY
@given(any_texts)
@example("18446744073709551616")
@example('{"a":[1,-9223372036854775809]}')
@example("[1e400]")
@example('"\\ud800"')
def test_loads_text_any(text: str) -> None:
    check_loads_text(text)


@MANY
@given(any_bytes, BUFFER_KIND)
def test_loads_bytes_any(data: bytes, kind: str) -> None:
    check_loads_bytes(to_buffer(kind, data))


LOADS_EDGE_CASES = [
    "-0", "-0.0", "0", "1E5", "1e-7", "0.1", "1e400", "-1e400", "1e-400", "5e-324", "2.4703282292062328e-324",
    "1.7976931348623157e308", "1.7976931348623159e308", "1e00000000000000001", "1e0000000000000000001",
    "18446744073709551615", "18446744073709551616", "9223372036854775807", "-9223372036854775808",
    "-9223372036854775809", "9999999999999999999", "-9999999999999999999", "1234567890123456789.5",
    "123456789012345678", "-123456789012345678", "[1,-99999999999999999999]", '{"k":100000000000000000000}',
    '"12345678901234567890"', "1" * 4301, "1" * 4300, "0." + "1" * 30,
    "NaN", "-NaN", "Infinity", "-Infinity", "[NaN,Infinity,-Infinity]", "nan", "inf",
    '{"a":1,"b":2,"a":3}', '{"a":1,"a":{"b":1},"b":0}', " \t\n\r[1] \r\n", "\ufeff[1]", "\ufeff", "", " ",
    "\n", '"\\ud800"', '"\\udc00\\ud800"', '"\\ud83d\\ude00"', '"\\ud83d"', '"\ud800"', '"\x00"', '"\x1f"',
    '"\x7f"', '"\\u0000"', '"\\/"', '"\\x"', '"\\u00"', '"\\uZZZZ"', '"\u2028\u2029"', '"a', "[1,]",
    '{"a":1,}', "{,}", "[,1]",
    "00", "01", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "tru", "nul", "truex", "[1] x", "\x0c1", "1\x0c",
    '{"":0}', "[]", "{}", "{1:2}", "{'a':1}", "[1 2]", "\x00", "\u00a01",
    "[" * 254 + "]" * 254, "[" * 255 + "]" * 255, "[" * 300 + "]" * 300, "[" * 1025 + "]" * 1025,
    "[" + ",".join(["[]"] * 300) + "]", '{"a":' * 300 + "1" + "}" * 300, "[" * 5000 + "]" * 5000,
]  # fmt: skip


@pytest.mark.parametrize("text", LOADS_EDGE_CASES)
def test_loads_edge_cases(text: str) -> None:
    check_loads_text(text)
    check_loads_bytes(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf[1]", b'"\xed\xa0\x80"', b'"\xc0\x80"', b"\xff", b'"\xf4\x90\x80\x80"', b'"\xe2\x82"',
        b"[1,\xff]", b"18446744073709551616", memoryview(b"[1, 2]")[::2], memoryview(b"[[10,20]]")[1:-1],
        memoryview(array.array("b", b"[1]")), memoryview(array.array("i", [0x31])), memoryview(b"{}"),
        bytearray(b"[18446744073709551616]"), memoryview(b"[-18446744073709551616, 1]"),
    ],
)  # fmt: skip
def test_loads_bytes_edge_cases(data: bytes | bytearray | memoryview) -> None:
    check_loads_bytes(data)


# Deeper than any CPython's json.loads goes (3.11: about 1,000 levels; 3.12, 3.13: a C
# recursion limit of several thousand; 3.14: the stack's real size).
DEPTH_PROBE_CAP = 1 << 17


def stdlib_loads_depth_limit() -> int | None:
    """The smallest nesting depth at which this interpreter's json.loads raises RecursionError
    (None if it parses DEPTH_PROBE_CAP levels)."""

    def raises(depth: int) -> bool:
        try:
            json.loads("[" * depth + "]" * depth)
        except RecursionError:
            return True
        return False

    if not raises(DEPTH_PROBE_CAP):
        return None
    low, high = 1, DEPTH_PROBE_CAP  # raises(low) is False, raises(high) is True
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if raises(middle) else (middle, high)
    return high


def test_loads_deep_nesting_follows_the_interpreters_limit() -> None:
    # orjson parses up to 1,024 levels whatever the interpreter; json.loads stops where this
    # interpreter's recursion limit does (on 3.11 below 1,024: there we must not return orjson's
    # result). The exact limit moves by a few levels with the depth of the calling stack (3.11
    # counts Python frames and C calls together), so we compare a margin either side of it.
    limit = stdlib_loads_depth_limit()
    margin = 16
    depths = [1023, 1024, 1025] + ([limit - margin, limit + margin] if limit else [DEPTH_PROBE_CAP])
    for depth in depths:
        text = "[" * depth + "]" * depth
        check_loads_text(text)
        check_loads_bytes(text.encode())
    if limit is not None:
        text = "[" * (limit + margin) + "]" * (limit + margin)
        with pytest.raises(RecursionError):
            fj.loads_text(text)
        with pytest.raises(RecursionError):
            fj.loads_bytes(text.encode())


def test_loads_big_ints_are_exact() -> None:
    for n in EXTREME_INTS + [3**80, -(3**80)]:
        assert same(fj.loads_text(f"[{n}]"), [n])
        assert same(fj.loads_bytes(f'{{"n":{n}}}'.encode()), {"n": n})


# ---------------------------------------------------------------------------------------------
# dumps_text / dumps_bytes


@MANY
@given(plain_objects)
def test_dumps_plain(obj: Any) -> None:
    check_dumps(obj)


@MANY
@given(py_objects)
def test_dumps_subclasses_and_keys(obj: Any) -> None:
    check_dumps(obj)


@SOME
@given(with_unsupported)
def test_dumps_unsupported(obj: Any) -> None:
    check_dumps(obj)


def _nested(depth: int) -> Any:
    x: Any = []
    for _ in range(depth - 1):
        x = [x]
    return x


def _circular() -> Any:
    a: list[Any] = []
    a.append({"a": a})
    return a


DUMPS_EDGE_CASES = [
    float("nan"), float("inf"), -float("inf"), [float("nan"), None], {"x": float("inf"), "y": None}, -0.0,
    5e-324, 1e16, 1.7976931348623157e308, 2**64, -(2**63) - 1, 2**64 - 1, -(2**63), [2**100, None], 10**5000,
    "\ud800", ["ok", "\udfff"], {"\ud800": 1}, "\x00\x1f\x7f\u2028", (1, 2), (), ((1,), [()]), Point(1, 2),
    {1: 2, "1": 3}, {True: 1, None: 2, 1.5: 3, float("nan"): 4, float("inf"): 5, -0.0: 6}, {(1,): 2},
    {MyStr("k"): MyStr("v")}, MyInt(5), MyFloat(float("nan")), Color.RED, Word.HI, {Color.RED: Word.HI},
    OrderedDict(a=1), MyDict(a=(1,)), ReversedDict(a=1, b=2), [ReversedDict(a=[1], b=None)], MyList([1]),
    MyTuple((1,)), None, [None], "null", {"null": "nullable"},
    uuid.UUID(int=7), [uuid.UUID(int=7), None], "00000000-0000-0000-0000-000000000007",
    {"u": uuid.UUID(int=1)},
    datetime.datetime(2020, 1, 1), DC(), [DC()], _nested(254), _nested(255), _nested(300), _nested(5000),
    _circular(), {"a": {1, 2}}, b"bytes",
]  # fmt: skip


@pytest.mark.parametrize("obj", DUMPS_EDGE_CASES, ids=lambda o: type(o).__name__)
def test_dumps_edge_cases(obj: Any) -> None:
    check_dumps(obj)


def test_dumps_non_finite_floats_are_written_like_json() -> None:
    obj = [float("nan"), float("inf"), -float("inf"), None]
    assert fj.dumps_text(obj) == "[NaN,Infinity,-Infinity,null]"
    assert fj.dumps_bytes({"v": float("nan")}) == b'{"v":NaN}'


def test_dumps_errors_match_json_exactly() -> None:
    with pytest.raises(ValueError, match="^Circular reference detected$"):
        fj.dumps_text(_circular())
    with pytest.raises(TypeError, match="^Object of type UUID is not JSON serializable$"):
        fj.dumps_bytes({"id": uuid.UUID(int=1)})
    with pytest.raises(UnicodeEncodeError):
        fj.dumps_bytes(["\ud800"])
    assert fj.dumps_text(["\ud800"]) == '["\ud800"]'


def test_dumps_fast_path_returns_orjson_output() -> None:
    obj = {"a": [1, 2.5, "é", True], "b": {"c": -3}}
    assert fj.dumps_bytes(obj) == orjson.dumps(obj)
    assert fj.dumps_text(obj) == orjson.dumps(obj).decode()


def test_enums_fragments_and_numpy_are_written_like_json_dumps() -> None:
    # orjson writes a plain Enum member as its value and a Fragment as its content, where
    # json.dumps raises; IntEnum/StrEnum members and numpy floats are int/str/float subclasses,
    # which json.dumps writes as such.
    cases = [
        [Plain.A],
        [Plain.A, None],
        {"e": Plain.A, "nan": float("nan")},
        orjson.Fragment(b'{"a":1}'),
        [orjson.Fragment(b"[]"), "x"],
        [numpy.int64(3)],
        [numpy.array([1, 2])],
        [numpy.float64(1.5), numpy.float64("nan")],
        [Color.RED, Word.HI],
        {Word.HI: Color.RED},
    ]
    for obj in cases:
        check_dumps(obj)
    with pytest.raises(TypeError, match="^Object of type Plain is not JSON serializable$"):
        fj.dumps_text([Plain.A])
    with pytest.raises(TypeError, match="^Object of type Fragment is not JSON serializable$"):
        fj.dumps_bytes({"f": orjson.Fragment(b"1")})
    assert fj.dumps_text([Color.RED, Word.HI, numpy.float64(1.5)]) == '[1,"hi",1.5]'


# ---------------------------------------------------------------------------------------------
# Realistic payloads: full of nulls and UUID-shaped strings, deeply nested, and every type that
# orjson writes differently from json.dumps or that json.dumps refuses.

FALLBACK_LEAVES = [
    float("nan"), float("inf"), -float("inf"), 2**64, -(2**63) - 1, 10**30, "\ud800", "a\udfffb",
    uuid.UUID(int=7), uuid.UUID("12345678-1234-5678-1234-567812345678"), datetime.datetime(2020, 1, 1),
    datetime.date(2020, 1, 2), datetime.time(1, 2), DC(), Plain.A, Color.RED, Word.HI,
    orjson.Fragment(b"[1]"), numpy.int64(3), numpy.float64(1.5), numpy.array([1.0]), numpy.bool_(True),
    decimal.Decimal("1.5"), MyStr("s"), MyInt(3), MyFloat(2.5), MyFloat(float("nan")), Point(1, None),
    MyTuple((None,)), MyList([None]), MyDict(a=None), ReversedDict(a=1, b=None), OrderedDict(a=None),
    {1: None}, {None: 1}, {(1,): 2}, {Word.HI: 1}, {MyStr("k"): None}, b"x", {1, 2}, object(),
]  # fmt: skip
UUID_STRINGS = st.uuids().map(str)
realistic_leaves = st.one_of(
    st.none(),
    st.just(None),
    UUID_STRINGS,
    UUID_STRINGS.map(lambda u: {"id": u, "parent": None}),
    INTS,
    FLOATS,
    TEXT,
    st.sampled_from(FALLBACK_LEAVES),
)


def _wrap(depth: int, leaf: Any, kind: str) -> Any:
    for _ in range(depth):
        leaf = {"k": leaf} if kind == "dict" else (leaf,) if kind == "tuple" else [leaf, None]
    return leaf


deep_values = st.builds(
    _wrap,
    st.integers(200, 270) | st.integers(1, 300),
    realistic_leaves,
    st.sampled_from(["list", "dict", "tuple"]),
)
realistic_objects = st.recursive(
    realistic_leaves | deep_values,
    lambda c: (
        st.lists(c, max_size=6)
        | st.lists(c, max_size=3).map(tuple)
        | st.dictionaries(TEXT | UUID_STRINGS, c, max_size=6)
        | st.dictionaries(py_keys, c, max_size=3)
    ),
    max_leaves=25,
)


def _pairs(depth: int) -> Any:
    value = None
    for _ in range(depth):
        value = [value, None]
    return value


@pytest.mark.parametrize(("width", "depth"), [(3, 246), (10, 100), (40, 86), (23, 75)])
def test_dumps_nested_data_that_crashed_orjson_3_12(width: int, depth: int) -> None:
    # orjson 3.12.0 and 3.13.0 corrupt the heap on these (glibc aborts: "double free or
    # corruption"), found by test_dumps_realistic on CPython 3.12; pyproject.toml leaves them out.
    obj = [_pairs(depth) for _ in range(width)]
    for _ in range(20):
        assert fj.dumps_text(obj) == ref_dumps(obj)
        assert fj.dumps_bytes(obj) == ref_dumps(obj).encode()


def _chain(depth: int, leaf: Any, container: type) -> Any:
    value = leaf
    for _ in range(depth):
        value = (value,) if container is tuple else [value]
    return value


@pytest.mark.parametrize(
    ("depth", "copies", "container", "prefix"),
    [(239, 2, tuple, 0), (135, 9, tuple, 0), (118, 6, list, 0), (130, 10, list, 1), (186, 10, list, 3)],
)
def test_dumps_nested_data_that_crashes_orjson_3_11(
    depth: int, copies: int, container: type, prefix: int
) -> None:
    # orjson 3.10.18 to 3.11.9 corrupt the heap on these ("realloc(): invalid next size"; the
    # first found by test_dumps_realistic in CI, the others by a scan around it): nothing nested
    # deeper than DUMPS_ORJSON_DEPTH is handed to orjson.
    chain = _chain(depth, -7.108873716367653e-247, container)
    obj = ([], ["p" * 100] * prefix + [-(2**63), 5e-324, *[chain] * copies, "\x9aag"], {"": None})
    for _ in range(20):
        assert fj.dumps_text(obj) == ref_dumps(obj)
        assert fj.dumps_bytes(obj) == ref_dumps(obj).encode()


@SOME
@given(realistic_objects)
def test_dumps_realistic(obj: Any) -> None:
    check_dumps(obj)


@MANY
@given(
    st.lists(
        st.one_of(
            st.none(), UUID_STRINGS, st.integers(-(2**63), 2**64 - 1), st.text(st.characters(codec="utf-8"))
        ),
        max_size=50,
    )
)
def test_dumps_of_nulls_and_uuid_strings_is_orjsons(items: list[Any]) -> None:
    # Exact builtin types only: orjson's output as it is (nothing re-parsed, no fallback).
    obj = {"items": items, "nested": [{"id": None, "of": tuple(items)}]}
    assert fj.dumps_bytes(obj) == orjson.dumps(obj)
    assert fj.dumps_text(obj) == orjson.dumps(obj).decode()


@SOME
@given(realistic_objects)
def test_loads_of_realistic_texts(obj: Any) -> None:
    try:
        text = ref_dumps(obj)
    except (TypeError, ValueError, RecursionError):
        return
    check_loads_text(text)
    check_loads_bytes(text.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------------------------------------
# RecursionError where the stdlib raises it: at the interpreter's real limit, whatever it is
# (3.11: sys.getrecursionlimit() less the stack in use; 3.12+: the C recursion limit, 1500 on
# 3.12 and 10000 on 3.13, less the C calls in progress).


def _deepest(fn: Callable[[int], Any], hi: int) -> int:
    """The deepest nesting in [0, hi] that ``fn(depth)`` takes without RecursionError, here."""
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            fn(mid)
            lo = mid
        except RecursionError:
            hi = mid - 1
    return lo


def _array_text(depth: int) -> str:
    return "[" * depth + "]" * depth


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def _eat_c_stack(levels: int, fn: Callable[[], Any]) -> Any:
    # Each level is a Python frame entered from C: 2 C recursion levels on 3.12+.
    return fn() if levels <= 0 else operator.call(_eat_c_stack, levels - 1, fn)


def _with_room(room: int, fn: Callable[[], Any]) -> Any:
    """``fn()`` called where json.loads can nest about ``room`` deep (about: the tests measure)."""
    if sys.version_info < (3, 12):
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(_stack_depth() + room)
        try:
            return fn()
        finally:
            sys.setrecursionlimit(old)
    here = _deepest(lambda d: json.loads(_array_text(d)), 20_000)
    levels = max(0, (here - room) // 2)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, _stack_depth() + levels + 200))  # Python frames: not json's limit
    try:
        return _eat_c_stack(levels, fn)
    finally:
        sys.setrecursionlimit(old)


def _loads_limits() -> tuple[int, int, int]:
    """The deepest arrays json.loads, loads_text and loads_bytes take here."""
    return (
        _deepest(lambda d: json.loads(_array_text(d)), 20_000),
        _deepest(lambda d: fj.loads_text(_array_text(d)), 20_000),
        _deepest(lambda d: fj.loads_bytes(_array_text(d).encode()), 20_000),
    )


def _dumps_limits() -> tuple[int, int, int]:
    """The deepest lists json.dumps (as Starlette calls it), dumps_text and dumps_bytes take here."""
    return (
        # json.dumps called straight from the lambda, as Starlette calls it (not through ref_dumps).
        _deepest(lambda d: json.dumps(_nested(d), separators=(",", ":"), ensure_ascii=False), 20_000),
        _deepest(lambda d: fj.dumps_text(_nested(d)), 20_000),
        _deepest(lambda d: fj.dumps_bytes(_nested(d)), 20_000),
    )


def _check_limit(limits: tuple[int, int, int], orjson_max: int) -> None:
    """ferrosocket's deepest nesting (``limits[1:]``) against the stdlib's (``limits[0]``).

    Exact where orjson would take the nesting (the recursion check decides). Beyond, the stdlib
    decides, called from Rust: on 3.12+ that call takes 2 C recursion levels that Starlette's
    Python-to-Python call does not, so it raises RecursionError up to 2 levels earlier there."""
    want, *got = limits
    for ours in got:
        if want <= orjson_max or sys.version_info < (3, 12):
            assert ours == want, limits
        else:
            assert want - 2 <= ours <= want, limits


@pytest.mark.parametrize("room", [None, 600, 200, 60])
def test_recursion_error_at_the_interpreters_limit(room: int | None) -> None:
    """At the stack's top (``None``) and where only ``room`` levels are left, below the depths
    orjson is used to (1024 for loads, 64 for dumps) where orjson would parse or write what the stdlib
    refuses: the same deepest nesting as the stdlib, and the same results either side of it."""

    def measure() -> tuple[tuple[int, int, int], tuple[int, int, int], list[tuple[Any, Any]]]:
        loads, dumps = _loads_limits(), _dumps_limits()
        outcomes = []
        for depth in (loads[0] - 3, loads[0] + 3):
            text = _array_text(max(depth, 1))
            want = _shape(lambda text=text: json.loads(text))
            outcomes.append((_shape(lambda text=text: fj.loads_text(text)), want))
        for depth in (dumps[0] - 3, dumps[0] + 3):
            obj = _nested(max(depth, 1))
            want = _shape(lambda obj=obj: json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
            outcomes.append((_shape(lambda obj=obj: fj.dumps_text(obj)), want))
        return loads, dumps, outcomes

    loads, dumps, outcomes = measure() if room is None else _with_room(room, measure)
    if room is not None:  # where orjson alone would take what the stdlib refuses
        assert loads[0] < 1024 and (room > DUMPS_ORJSON_DEPTH or dumps[0] < DUMPS_ORJSON_DEPTH), (
            loads,
            dumps,
        )
    _check_limit(loads, 1024)
    _check_limit(dumps, DUMPS_ORJSON_DEPTH)
    for got, want in outcomes:
        assert got == want


def _shape(fn: Callable[[], Any]) -> tuple[Any, ...]:
    """``outcome`` for results too deep to compare recursively: a text as is, nested single-item
    lists as their depth."""
    result = outcome(fn)
    if result[0] == "raise" or isinstance(result[1], str):
        return result
    value, depth = result[1], 0
    while isinstance(value, list):
        value, depth = (value[0] if value else None), depth + 1
    return ("ok", "depth", depth)


def test_lowered_recursion_limit_is_honoured() -> None:
    # A payload orjson handles (100 deep) where the interpreter cannot recurse 100 levels more.
    text, obj = _array_text(100), _nested(100)

    def check() -> None:
        with pytest.raises(RecursionError):
            json.loads(text)
        with pytest.raises(RecursionError):
            ref_dumps(obj)
        with pytest.raises(RecursionError):
            fj.loads_text(text)
        with pytest.raises(RecursionError):
            fj.loads_bytes(text.encode())
        with pytest.raises(RecursionError):
            fj.dumps_text(obj)
        with pytest.raises(RecursionError):
            fj.dumps_bytes(obj)

    _with_room(50, check)


# ---------------------------------------------------------------------------------------------
# Dicts read straight from their tables (src/python/dict_entries.rs)


def test_dict_tables_are_read_directly_on_the_supported_versions() -> None:
    # The walk of send_json's data reads a dict's entries directly once `_core`'s import has
    # proven the layout; on a supported CPython with the GIL the proof must succeed (or every
    # dict silently takes PyDict_Next: dumps_text of a 16 KB page 20.4 us instead of 16.5).
    import sysconfig

    from ferrosocket import _core

    supported = (
        sys.implementation.name == "cpython"
        and (3, 11) <= sys.version_info[:2] <= (3, 14)
        and not sysconfig.get_config_var("Py_GIL_DISABLED")
    )
    assert _core._dict_tables_read_directly() is supported


class _Attributes:
    def __init__(self) -> None:
        self.a, self.b = _MARK, "x"


class _Key(str):
    pass


# orjson writes 1e-07 as "1e-7", json.dumps as "1e-07": the text shows which one ran.
_MARK = 1e-07


def _table_shapes() -> list[tuple[str, dict[Any, Any], str]]:
    """(name, dict, which encoder writes it): every dict holds _MARK."""
    deleted: dict[Any, Any] = {f"k{i}": i for i in range(50)}
    for i in range(0, 50, 3):
        del deleted[f"k{i}"]
    deleted["mark"] = _MARK
    every_other_gone = {f"k{i}": [i, _MARK] for i in range(20)}
    for i in range(1, 20, 2):
        every_other_gone.pop(f"k{i}")
    emptied = dict(deleted)
    for key in list(emptied):
        del emptied[key]
    once_int_keyed: dict[Any, Any] = {"a": _MARK, 2: "two", "b": [3]}
    del once_int_keyed[2]  # a table for any keys, now holding str keys only
    any_keys_deleted = _any_keys_table({f"k{i}": [i] for i in range(40)})
    for i in range(0, 40, 3):
        del any_keys_deleted[f"k{i}"]
    any_keys_deleted["mark"] = _MARK
    # orjson.loads makes its objects of nine keys or more for their size: on 3.11 a table for
    # any keys (the records of a received page of history, sent back by an echo).
    record = orjson.loads(orjson.dumps({f"field{i}": i for i in range(12)} | {"mark": _MARK}))
    nan_after_deletions = {f"k{i}": _MARK for i in range(10)}
    del nan_after_deletions["k0"], nan_after_deletions["k5"]
    nan_after_deletions["k9"] = float("nan")
    return [
        ("empty", {"empty": {}, "mark": _MARK}, "orjson"),
        ("deleted items", deleted, "orjson"),
        ("every other item gone", every_other_gone, "orjson"),
        ("every item deleted", {"emptied": emptied, "mark": _MARK}, "orjson"),
        ("instance attributes (split table)", vars(_Attributes()), "orjson"),
        ("once held an int key", once_int_keyed, "orjson"),
        ("table for any keys, deleted items", any_keys_deleted, "orjson"),
        ("orjson.loads's object of 13 keys", {"records": [record, record]}, "orjson"),
        ("two-byte hash index", {f"key{i}": _MARK for i in range(300)}, "orjson"),
        ("four-byte hash index", {f"key{i}": _MARK for i in range(50_000)}, "orjson"),
        ("nested, deleted", {"outer": deleted, "list": [deleted, every_other_gone]}, "orjson"),
        ("str subclass key", {"a": _MARK, _Key("b"): 2}, "json.dumps"),
        ("NaN after deletions", nan_after_deletions, "json.dumps"),
        ("int key", {"a": _MARK, 2: "two"}, "json.dumps"),
        ("int key after deletions", _any_keys_table({"a": _MARK, "b": 1}) | {3: 3}, "json.dumps"),
    ]


def _any_keys_table(items: dict[str, Any]) -> dict[Any, Any]:
    """``items`` in a dict whose table is one for any keys (it held an int key first), each
    inserted on its own (a dict merged into an empty one would take the other's table)."""
    table: dict[Any, Any] = {0: None}
    del table[0]
    for key, value in items.items():
        table[key] = value
    return table


@pytest.mark.parametrize(
    ("obj", "writer"), [pytest.param(obj, writer, id=name) for name, obj, writer in _table_shapes()]
)
def test_dicts_of_every_table_shape_are_written_like_json_dumps(obj: dict[Any, Any], writer: str) -> None:
    check_dumps(obj)
    text = fj.dumps_text(obj)
    if writer == "orjson":  # orjson's own output, byte for byte, where it is json.dumps' value
        assert text == orjson.dumps(obj).decode()
        assert "1e-7" in text
    else:
        assert text == ref_dumps(obj)
        assert "1e-07" in text


@SOME
@given(
    st.dictionaries(
        st.text(max_size=8), st.none() | st.integers(-(2**63), 2**63 - 1) | st.text(), max_size=40
    ),
    st.data(),
)
def test_dicts_with_deleted_items_are_written_like_json_dumps(
    obj: dict[str, Any], data: st.DataObject
) -> None:
    keys = list(obj)
    for key in data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([])):
        del obj[key]
    obj["mark"] = _MARK  # after the deletions; json.dumps would write it as 1e-07
    any_keys = _any_keys_table(obj)
    for key in data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([])):
        any_keys.pop(key, None)
    for payload in (obj, {"wrapped": obj, "items": [obj, obj]}, any_keys, [any_keys, obj]):
        check_dumps(payload)
        assert fj.dumps_text(payload) == orjson.dumps(payload).decode()
