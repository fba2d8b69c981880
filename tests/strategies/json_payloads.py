"""JSON payloads: scalars, nested values, edge values that the encoders treat differently, JSON
texts for the receive side, and materialise_json for the values hypothesis cannot build."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------
# JSON payloads
# ---------------------------------------------------------------------------------------------


# (What send_json sends is compared by its parsed value: json.dumps and orjson spell floats differently.)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)

json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=4), children, max_size=3),
    ),
    max_leaves=6,
)


class Circular(list):  # type: ignore[type-arg]
    """Marker: replaced by a self-containing list when the payload is built."""


class Color(enum.Enum):
    """A plain Enum: orjson writes its members as their value, Starlette (json.dumps) raises TypeError."""

    RED = "red"
    HALF = 0.5


JSON_EDGE_VALUES: list[Any] = [
    {1: "int key"},
    {None: 1},
    {True: 1, "a": 2},
    {1.5: 1},
    {"b": 1, "a": 2},
    (1, 2),
    2**64,
    2**70,
    -(2**64),
    1e-7,
    1e-5,
    1e16,
    1.5e300,
    5e-324,
    -0.0,
    0.1,
    math.nan,
    math.inf,
    -math.inf,
    "\ud800",
    "é€😀",
    "\x00\x1f",
    "</script>",
    {"a": (1, "x")},
    {1, 2},
    b"bytes",
    bytearray(b"x"),
    object(),
    Circular(),
    "line\u2028sep",
    Color.RED,
    Color.HALF,
    [Color.RED, math.nan],  # both would send the stdlib's way; the enum member must still raise
]

json_edge_values = st.one_of(st.sampled_from(JSON_EDGE_VALUES), json_values)

JSON_TEXT_EDGES: list[str] = [
    "",
    "{",
    " 1 ",
    "[1,]",
    "1 2",
    "01",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    '"\\ud800"',
    '"\\udc00\\ud800"',
    '{"a":1,"a":2}',
    "\ufeff1",
    "[" * 50 + "]" * 50,
    "true",
    "nul",
    '"\x01"',
    "1.0",
    "1E2",
    "-0",
    '{"a": [1, 2, {"b": null}]}',
]

json_texts = st.one_of(
    st.sampled_from(JSON_TEXT_EDGES),
    json_values.map(lambda v: json.dumps(v)),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
)


def materialise_json(value: Any) -> Any:
    """Turn markers into the real (unbuildable-by-hypothesis) objects; call once per side."""
    if isinstance(value, Circular):
        circ: list[Any] = []
        circ.append(circ)
        return circ
    return value
