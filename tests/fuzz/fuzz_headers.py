"""atheris harness: header tables through ``WebSocket.headers``, ``Headers`` and ``MutableHeaders``.

Differential against Starlette 1.10: lookups lower-case only the key (then latin-1) and compare it
with the raw names byte for byte; order and duplicates are kept; values decode as latin-1.
Properties: no Rust panic, ``get``/``getlist``/``in`` agree with a naive scan of ``raw``.

Run: ``python tests/fuzz/fuzz_headers.py -max_total_time=20`` (or tests/fuzz/run.py).
"""

from __future__ import annotations

from typing import Any

import atheris

with atheris.instrument_imports(include=["starlette"]):
    import starlette.datastructures as star_ds
    import starlette.websockets as star_ws

from _common import KNOWN_DIVERGENCES, Input, ferrosocket, main, outcome, same, websocket_scope

NAMES = [
    b"host", b"Host", b"HOST", b"cookie", b"Cookie", b"sec-websocket-protocol", b"x-a", b"X-A",
    b"k", b"K", b"\xe9", b"\xc9", b"x-\xff", b"", b"a b", b"a\x00", b"a:b",
]  # fmt: skip


def lookup_keys(inp: Input, names: list[bytes]) -> list[str]:
    """Keys to look up: the names in other cases, special chars, arbitrary text."""
    keys = []
    for _ in range(inp.int(1, 6)):
        how = inp.int(0, 5)
        if how <= 2 and names:
            key = inp.pick(names).decode("latin-1")
            key = [key, key.upper(), key.title()][how]
        elif how == 3:
            key = inp.pick(["\u212a", "\u0130", "\u0178", "\u017f", "\u212b", "\u03a3", "\xdf", "\xc9"])
        else:
            key = inp.text_with_surrogates(8)
        keys.append(key)
    return keys


def views(h: Any, keys: list[str]) -> dict[str, Any]:
    """Everything a Headers shows, each view with its own outcome."""
    calls: dict[str, Any] = {
        "raw": lambda: list(h.raw),
        "keys": lambda: list(h.keys()),
        "values": lambda: list(h.values()),
        "items": lambda: list(h.items()),
        "len": lambda: len(h),
        "iter": lambda: list(h),
        "repr": lambda: repr(h),
        "mutablecopy": lambda: list(h.mutablecopy().raw),
    }
    for i, key in enumerate(keys):
        calls[f"get[{i}]"] = lambda key=key: h.get(key)
        calls[f"get_default[{i}]"] = lambda key=key: h.get(key, "<default>")
        calls[f"getlist[{i}]"] = lambda key=key: h.getlist(key)
        calls[f"contains[{i}]"] = lambda key=key: key in h
        calls[f"getitem[{i}]"] = lambda key=key: h[key]
    return {name: outcome(call) for name, call in calls.items()}


def naive(raw: list[tuple[bytes, bytes]], key: str) -> list[str]:
    """Starlette's rule, written out: key.lower() in latin-1 against the raw names."""
    lowered = key.lower().encode("latin-1")
    return [v.decode("latin-1") for n, v in raw if n == lowered]


def check_table(inp: Input) -> None:
    pairs = []
    for _ in range(inp.int(0, 8)):
        name = inp.pick(NAMES) if inp.bool() else inp.raw(8)
        pairs.append((name, inp.raw(16)))
    keys = lookup_keys(inp, [n for n, _ in pairs] + NAMES[:3])
    # The scope's headers as a list or a tuple of tuples; lists of lists (which ASGI allows: their
    # `raw` differs) only with FUZZ_KNOWN_DIVERGENCES=1 (see README.md).
    shape = inp.int(0, 2)
    if shape == 1 and KNOWN_DIVERGENCES:
        headers: Any = [list(p) for p in pairs]
    else:
        headers = tuple(pairs) if shape == 2 else pairs
    scope = websocket_scope(headers=headers)
    ferro = ferrosocket.WebSocket(scope, None, None).headers
    star = star_ws.WebSocket(scope, None, None).headers
    fv, sv = views(ferro, keys), views(star, keys)
    same("WebSocket.headers", ("ok", fv), ("ok", sv), pairs, keys)
    same("Headers(raw=...)", ("ok", views(ferrosocket.Headers(raw=pairs), keys)), ("ok", fv), pairs, keys)
    same("Headers(scope=...)", ("ok", views(ferrosocket.Headers(scope=scope), keys)), ("ok", fv), pairs, keys)
    # Equality is of the sorted raw pairs; a table equals its copy and a reordered table.
    same("==", outcome(lambda: ferro == ferrosocket.Headers(raw=pairs[::-1])), ("ok", True), pairs)
    for key in keys:
        try:
            expected = naive(pairs, key)
        except UnicodeEncodeError:
            continue
        if ferro.getlist(key) != expected or (key in ferro) != bool(expected):
            raise AssertionError(f"lookup {key!r} != naive scan {expected!r}: {pairs!r}")


def check_mapping(inp: Input) -> None:
    """``Headers(headers={str: str})`` and ``MutableHeaders`` edits."""
    mapping = {inp.text_with_surrogates(6): inp.text_with_surrogates(8) for _ in range(inp.int(0, 4))}
    ferro = outcome(lambda: list(ferrosocket.Headers(headers=mapping).raw))
    star = outcome(lambda: list(star_ds.Headers(headers=mapping).raw))
    same("Headers(headers=...)", ferro, star, mapping)

    raw = [(inp.pick(NAMES), inp.raw(8)) for _ in range(inp.int(0, 4))]
    fm = ferrosocket.MutableHeaders(raw=list(raw))
    sm = star_ds.MutableHeaders(raw=list(raw))
    ops = []
    for _ in range(inp.int(1, 6)):
        op = inp.int(0, 5)
        key = inp.pick(NAMES).decode("latin-1") if inp.bool() else inp.text_with_surrogates(6)
        value = inp.text_with_surrogates(8)
        ops.append((op, key, value))

        def apply(m: Any, op: int = op, key: str = key, value: str = value) -> Any:
            if op == 0:
                m[key] = value
            elif op == 1:
                del m[key]
            elif op == 2:
                m.append(key, value)
            elif op == 3:
                return m.setdefault(key, value)
            elif op == 4:
                m.update({key: value})
            else:
                m.add_vary_header(value)
            return None

        same("MutableHeaders op", outcome(lambda: apply(fm)), outcome(lambda: apply(sm)), raw, ops)
        same("MutableHeaders.raw", outcome(lambda: list(fm.raw)), outcome(lambda: list(sm.raw)), raw, ops)
    keys = [k for _, k, _ in ops]
    same("MutableHeaders views", ("ok", views(fm, keys)), ("ok", views(sm, keys)), raw, ops)


def test_one_input(data: bytes) -> None:
    inp = Input(data)
    if inp.int(0, 3) == 0:
        check_mapping(inp)
    else:
        check_table(inp)


if __name__ == "__main__":
    main(test_one_input)
