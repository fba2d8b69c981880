"""atheris harness: query strings through ``WebSocket.query_params`` and ``QueryParams``.

Differential against Starlette 1.10 (``parse_qsl(..., keep_blank_values=True)`` on the latin-1
decoding of the scope's bytes, ``urlencode`` for ``str()``), plus properties: no Rust panic,
``str(q)`` parses back to the same pairs, bytes and their latin-1 text parse alike.

Run: ``python tests/fuzz/fuzz_query.py -max_total_time=20`` (or tests/fuzz/run.py).
"""

from __future__ import annotations

from typing import Any

import atheris

with atheris.instrument_imports(include=["starlette"]):
    import starlette.datastructures as star_ds
    import starlette.websockets as star_ws

from _common import Input, ferrosocket, main, outcome, same, websocket_scope


def views(q: Any) -> dict[str, Any]:
    """Everything a QueryParams shows, as plain data: each view's own outcome."""
    keys = list(q.keys())
    calls: dict[str, Any] = {
        "multi_items": lambda: q.multi_items(),
        "items": lambda: list(q.items()),
        "keys": lambda: keys,
        "values": lambda: list(q.values()),
        "len": lambda: len(q),
        "iter": lambda: list(q),
        "str": lambda: str(q),
        "repr": lambda: repr(q),
        "get": lambda: [q.get(k) for k in keys],
        "getitem": lambda: [q[k] for k in keys],
        "getlist": lambda: [q.getlist(k) for k in keys],
        "contains": lambda: [k in q for k in keys],
        "missing": lambda: (q.get("\x00missing"), "\x00missing" in q, q.getlist("\x00missing")),
    }
    return {name: outcome(call) for name, call in calls.items()}


def check_scope(raw: bytes) -> None:
    scope = websocket_scope(query_string=raw)
    ferro = outcome(lambda: views(ferrosocket.WebSocket(scope, None, None).query_params))
    star = outcome(lambda: views(star_ws.WebSocket(scope, None, None).query_params))
    same("WebSocket.query_params", ferro, star, raw)
    # The bytes and their latin-1 text give the same pairs.
    from_bytes = outcome(lambda: views(ferrosocket.QueryParams(raw)))
    from_text = outcome(lambda: views(ferrosocket.QueryParams(raw.decode("latin-1"))))
    same("QueryParams(bytes) vs QueryParams(latin-1 str)", from_bytes, from_text, raw)
    same("QueryParams(bytes)", from_bytes, outcome(lambda: views(star_ds.QueryParams(raw))), raw)
    # str() is urlencode of the pairs, and parses back to them.
    q = ferrosocket.QueryParams(raw)
    again = ferrosocket.QueryParams(str(q))
    if again.multi_items() != q.multi_items():
        raise AssertionError(f"str() does not parse back: {raw!r} -> {str(q)!r} -> {again.multi_items()!r}")


def check_text(text: str) -> None:
    ferro = outcome(lambda: views(ferrosocket.QueryParams(text)))
    star = outcome(lambda: views(star_ds.QueryParams(text)))
    same("QueryParams(str)", ferro, star, text)


def check_pairs(pairs: list[tuple[str, str]], as_dict: bool) -> None:
    arg: Any = dict(pairs) if as_dict else pairs
    ferro = outcome(lambda: views(ferrosocket.QueryParams(arg)))
    star = outcome(lambda: views(star_ds.QueryParams(arg)))
    same("QueryParams(pairs)", ferro, star, arg)
    if ferro[0] == "ok":
        q = ferrosocket.QueryParams(arg)
        if ferrosocket.QueryParams(str(q)).multi_items() != q.multi_items():
            raise AssertionError(f"urlencode does not round-trip: {arg!r} -> {str(q)!r}")


def test_one_input(data: bytes) -> None:
    inp = Input(data)
    which = inp.int(0, 3)
    if which == 0:
        check_text(inp.text_with_surrogates(48))
    elif which == 1:
        pairs = [(inp.text_with_surrogates(8), inp.text_with_surrogates(8)) for _ in range(inp.int(0, 5))]
        check_pairs(pairs, inp.bool())
    else:
        check_scope(inp.raw(96))


if __name__ == "__main__":
    main(test_one_input)
