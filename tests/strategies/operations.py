"""What the app does: operation scripts on the WebSocket for the differential websocket tests
(accept, receive, send, close, denial responses, state changes), their small scopes, and the
"plain" cases outside every documented difference."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .json_payloads import json_values
from .messages import binaries, disconnect_msgs, texts
from .scopes import extensions

# ---------------------------------------------------------------------------------------------
# App-side operations on the WebSocket
# ---------------------------------------------------------------------------------------------

STATE_NAMES = ["CONNECTING", "CONNECTED", "DISCONNECTED", "RESPONSE"]

good_close_codes = st.sampled_from([1000, 1001, 1008, 1011, 3000, 4000, 4999])
odd_close_codes = st.sampled_from([0, 999, 1004, 1005, 1006, 1015, 5000, -1, 2**31])
good_reasons = st.one_of(st.none(), st.sampled_from(["", "bye", "é€"]), st.text(max_size=4))
odd_reasons = st.sampled_from([["a", "list"], {"k": [1, None]}, 5, b"bytes", "x" * 130, "é" * 70, "\ud800"])

subprotocols = st.one_of(st.none(), st.sampled_from(["chat", "", "v1.proto", "a b"]))
some_accept_headers = st.one_of(
    st.just([]),
    st.lists(st.tuples(st.sampled_from([b"x-a", b"set-cookie", b"X-B"]), st.binary(max_size=4)), max_size=3),
)
good_accept_headers = st.one_of(st.none(), some_accept_headers)
odd_accept_headers = st.one_of(
    st.lists(st.tuples(st.sampled_from([b"x-a", b"set-cookie"]), st.binary(max_size=3)), max_size=2).map(
        tuple
    ),
    st.just([[b"x-list", b"pair"]]),
    st.just([("x-str", "value")]),
    st.just({b"x-dict": b"v"}),
    st.just("gen"),  # replaced by a generator of pairs when run
)


@st.composite
def raw_messages(draw: st.DrawFn, *, odd: bool) -> dict[str, Any]:
    """Messages for `websocket.send()`: every type, for every state."""
    kind = draw(
        st.sampled_from(
            [
                "accept",
                "send_text",
                "send_bytes",
                "close",
                "response_start",
                "response_body",
                "unknown",
            ]
            + (
                ["no_type", "send_both", "send_neither", "http_start", "close_no_code", "unhashable_type"]
                + ["send_bytearray", "bad_status", "bad_body"]
                if odd
                else []
            )
        )
    )
    if kind == "accept":
        msg: dict[str, Any] = {"type": "websocket.accept"}
        if draw(st.booleans()):
            msg["subprotocol"] = draw(subprotocols)
        if draw(st.booleans()):
            msg["headers"] = draw(some_accept_headers)
        return msg
    if kind == "send_text":
        return {"type": "websocket.send", "text": draw(st.text(max_size=4))}
    if kind == "send_bytes":
        return {"type": "websocket.send", "bytes": draw(st.binary(max_size=4))}
    if kind == "close":
        msg = {"type": "websocket.close", "code": draw(good_close_codes)}
        if draw(st.booleans()):
            msg["reason"] = draw(st.sampled_from(["", "bye"]))
        return msg
    if kind == "response_start":
        return {
            "type": "websocket.http.response.start",
            "status": draw(st.sampled_from([403, 401, 500])),
            "headers": [(b"content-type", b"text/plain")],
        }
    if kind == "response_body":
        msg = {"type": "websocket.http.response.body", "body": draw(st.binary(max_size=4))}
        more = draw(st.sampled_from(["absent", True, False]))
        if more != "absent":
            msg["more_body"] = more
        return msg
    if kind == "unknown":
        return {
            "type": draw(st.sampled_from(["websocket.foo", "http.response.start", "websocket.connect", ""]))
        }
    if kind == "no_type":
        return {"text": "no type"}
    if kind == "send_both":
        return {"type": "websocket.send", "text": "t", "bytes": b"b"}
    if kind == "send_neither":
        return {"type": "websocket.send"}
    if kind == "http_start":
        return {"type": "http.response.start", "status": 403, "headers": []}
    if kind == "unhashable_type":  # Starlette compares it with != in the RESPONSE state
        return {"type": ["websocket.http.response.body"], "body": b""}
    if kind == "send_bytearray":
        return {"type": "websocket.send", "bytes": bytearray(draw(st.binary(max_size=4)))}
    if kind == "bad_status":
        msg = {"type": "websocket.http.response.start", "headers": []}
        status = draw(st.sampled_from([True, 99, 600, "403", None, "missing"]))
        return msg if status == "missing" else {**msg, "status": status}
    if kind == "bad_body":
        body = draw(st.sampled_from(["missing", None, bytearray(b"x"), "str"]))
        msg = {"type": "websocket.http.response.body", "more_body": draw(st.booleans())}
        return msg if body == "missing" else {**msg, "body": body}
    return {"type": "websocket.close"}


# Denial responses: a tiny ASGI response that sends a sequence of messages.
DENIAL_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "start+body": [
        {
            "type": "websocket.http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "websocket.http.response.body", "body": b"denied"},
    ],
    "start+more+body": [
        {"type": "websocket.http.response.start", "status": 401, "headers": []},
        {"type": "websocket.http.response.body", "body": b"a", "more_body": True},
        {"type": "websocket.http.response.body", "body": b"b", "more_body": False},
    ],
    "start-only": [{"type": "websocket.http.response.start", "status": 403, "headers": []}],
    "start+body+extra": [
        {"type": "websocket.http.response.start", "status": 403, "headers": []},
        {"type": "websocket.http.response.body", "body": b""},
        {"type": "websocket.http.response.body", "body": b"late"},
    ],
    "accept": [{"type": "websocket.accept"}],
    "close": [{"type": "websocket.close", "code": 1000, "reason": ""}],
    "nothing": [],
    "starlette-plaintext": [],  # a real starlette.responses.PlainTextResponse
}


@st.composite
def accepts(draw: st.DrawFn, *, odd: bool) -> tuple[Any, ...]:
    headers = draw(st.one_of(good_accept_headers, odd_accept_headers) if odd else good_accept_headers)
    sub = draw(st.one_of(subprotocols, st.just(b"bytes-subprotocol")) if odd else subprotocols)
    style = draw(st.sampled_from(["positional", "keyword", "default"]))
    return ("accept", sub, headers, style)


@st.composite
def ops(draw: st.DrawFn, *, odd: bool) -> tuple[Any, ...]:
    kinds = [
        "accept",
        "accept",
        "receive",
        "receive_text",
        "receive_text",
        "receive_bytes",
        "receive_json",
        "iter_text",
        "iter_bytes",
        "iter_json",
        "send",
        "send",
        "send_text",
        "send_text",
        "send_bytes",
        "send_json",
        "close",
        "close",
        "send_denial_response",
        "set_client_state",
        "set_application_state",
    ]
    kind = draw(st.sampled_from(kinds))
    if kind == "accept":
        return draw(accepts(odd=odd))
    if kind == "receive_json":
        mode = draw(st.sampled_from(["text", "binary", "default", "invalid", "TEXT"]))
        return ("receive_json", mode)
    if kind == "send":
        return ("send", draw(raw_messages(odd=odd)))
    if kind == "send_text":
        data = draw(st.one_of(st.text(max_size=6), st.just(b"raw")) if odd else st.text(max_size=6))
        return ("send_text", data)
    if kind == "send_bytes":
        data = draw(
            st.one_of(
                st.binary(max_size=6),
                st.just("str"),
                st.binary(max_size=6).map(bytearray),
                st.binary(max_size=6).map(memoryview),
            )
            if odd
            else st.binary(max_size=6)
        )
        return ("send_bytes", data)
    if kind == "send_json":
        data = draw(json_values)
        mode = draw(st.sampled_from(["text", "binary", "default", "invalid"]))
        return ("send_json", data, mode)
    if kind == "close":
        code = draw(st.one_of(st.just("default"), good_close_codes, *([odd_close_codes] if odd else [])))
        reason = draw(st.one_of(st.just("default"), good_reasons, *([odd_reasons] if odd else [])))
        return ("close", code, reason)
    if kind == "send_denial_response":
        return ("send_denial_response", draw(st.sampled_from(sorted(DENIAL_VARIANTS))))
    if kind in ("set_client_state", "set_application_state"):
        return (kind, draw(st.sampled_from(STATE_NAMES)))
    return (kind,)


@st.composite
def op_sequences(draw: st.DrawFn, *, odd: bool, max_size: int = 10) -> list[tuple[Any, ...]]:
    seq = draw(st.lists(ops(odd=odd), max_size=max_size))
    first = draw(st.integers(0, 3))
    if first:  # most real apps accept first; the first accept is the one whose arguments are used
        seq.insert(0, ("accept", None, None, "default") if first == 1 else draw(accepts(odd=odd)))
    return seq


# A small websocket scope for the operation tests (the properties are covered elsewhere).
op_scopes = st.builds(
    lambda ext, subs: {
        "type": "websocket",
        "path": "/ws",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "subprotocols": subs,
        **({} if ext is None else {"extensions": ext}),
    },
    st.one_of(st.none(), extensions),
    st.sampled_from([[], ["chat"]]),
)

# ---------------------------------------------------------------------------------------------
# Plain inputs: well-typed, already normalised, outside every documented difference
# ---------------------------------------------------------------------------------------------
# For the tests that check that the reference still equals Starlette where docs/differences.md lists
# no difference. What cannot be excluded up front (a send after the peer's disconnect was received) is
# cut off by the test itself.

plain_header_values = st.binary(max_size=4).filter(lambda v: not any(c in v for c in b"\r\n\0"))
plain_accept_headers = st.lists(
    st.tuples(st.sampled_from([b"x-a", b"set-cookie", b"x-b"]), plain_header_values), max_size=3
)
plain_reasons = st.one_of(st.none(), st.sampled_from(["", "bye", "é€"]), st.text(max_size=4))
PLAIN_DENIALS = sorted(set(DENIAL_VARIANTS) - {"accept"})  # its {"type": "websocket.accept"} is completed

# The scope of the plain operation tests offers the one subprotocol they accept with.
plain_scopes = op_scopes.map(lambda scope: {**scope, "subprotocols": ["chat"]})


plain_accepts = st.tuples(
    st.just("accept"),
    st.sampled_from([None, "chat"]),
    st.none() | plain_accept_headers,
    st.sampled_from(["positional", "keyword", "default"]),
)


@st.composite
def plain_raw_messages(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """Complete messages for ``websocket.send()``: nothing for the reference to check or fill in."""
    choice = draw(st.sampled_from(["accept", "send", "close", "response_start", "response_body", "unknown"]))
    if choice == "accept":
        subprotocol = draw(st.sampled_from([None, "chat"]))
        return {"type": "websocket.accept", "subprotocol": subprotocol, "headers": draw(plain_accept_headers)}
    if choice == "send":
        payload = draw(st.text(max_size=4) if kind == "text" else st.binary(max_size=4))
        return {"type": "websocket.send", kind: payload}
    if choice == "close":
        return {
            "type": "websocket.close",
            "code": draw(good_close_codes),
            "reason": draw(st.text(max_size=4)),
        }
    if choice == "response_start":
        return {"type": "websocket.http.response.start", "status": 403, "headers": [(b"x-a", b"1")]}
    if choice == "response_body":
        return {"type": "websocket.http.response.body", "body": b"x", "more_body": draw(st.booleans())}
    return {"type": draw(st.sampled_from(["websocket.foo", "http.response.start", ""]))}


@st.composite
def plain_ops(draw: st.DrawFn, kind: str) -> tuple[Any, ...]:
    """An operation whose receives match the script's payload ``kind`` ("text" or "bytes")."""
    receivers: list[tuple[Any, ...]] = (
        [
            ("receive_text",),
            ("iter_text",),
            ("receive_json", "text"),
            ("receive_json", "default"),
            ("iter_json",),
        ]
        if kind == "text"
        else [("receive_bytes",), ("iter_bytes",), ("receive_json", "binary")]
    )
    choice = draw(
        st.sampled_from(["accept", "receive", "receive", "send", "data", "data", "close", "denial"])
    )
    if choice == "accept":
        return draw(plain_accepts)
    if choice == "receive":
        return draw(st.sampled_from([("receive",), ("receive_json", "invalid"), *receivers]))
    if choice == "send":
        return ("send", draw(plain_raw_messages(kind)))
    if choice == "data":
        return draw(
            st.one_of(
                st.tuples(st.just("send_text"), st.text(max_size=6)),
                st.tuples(st.just("send_bytes"), st.binary(max_size=6)),
                st.tuples(st.just("send_json"), json_values, st.sampled_from(["text", "binary", "default"])),
            )
        )
    if choice == "close":
        return (
            "close",
            draw(st.just("default") | good_close_codes),
            draw(st.just("default") | plain_reasons),
        )
    return ("send_denial_response", draw(st.sampled_from(PLAIN_DENIALS)))


@st.composite
def plain_cases(draw: st.DrawFn) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """A receive script with payloads of one kind, and operations that receive that kind."""
    kind = draw(st.sampled_from(["text", "bytes"]))
    payloads = texts if kind == "text" else binaries
    body = st.one_of(payloads.map(lambda p: {"type": "websocket.receive", kind: p}), disconnect_msgs())
    script = [{"type": "websocket.connect"}, *draw(st.lists(body, max_size=6)), draw(disconnect_msgs())]
    seq = draw(st.lists(plain_ops(kind), max_size=10))
    if draw(st.integers(0, 2)) != 0:
        seq.insert(0, draw(plain_accepts))
    return script, seq
