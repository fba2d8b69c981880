"""Differential tests: ferrosocket's WebSocket state machine against its specification,
tests/reference.py (Starlette 1.10.0 plus the deliberate differences of docs/differences.md).

A generated sequence of operations (accept, receive*, iter_*, send*, close, send_denial_response,
raw send() of every message type, state writes) runs on each class against scripted receive/send
callables: the receive script is a generated list of ASGI messages (a scripted receive that runs
out raises ``RuntimeError("script exhausted")``), and the send callable records every message and can
be scripted to raise (OSError, ConnectionResetError, RuntimeError) or to be cancelled on its Nth call.
After EVERY step both sides are compared: the return value (or exception type, message and
code/reason), both states by name and value, the peer's close code and reason, every message handed
to send so far (what send_json sends by its parsed value: the float spelling may differ), and how
many times receive was called.

``test_reference_is_starlette_*`` run the same harness on Starlette and the reference, on inputs
outside the documented differences: they keep the reference from drifting away from Starlette.

The hypothesis tests are sync and drive the coroutines with ``anyio.run(..., backend=...)`` on both
asyncio and trio (the ``anyio_backend`` fixture); the example tests use ``@pytest.mark.anyio``.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import pickle
import types
from collections.abc import Mapping
from typing import Any, NamedTuple

import anyio
import anyio.lowlevel
import pytest
from differential import Differ, diff_settings, exc_sig, norm, outcome, show_pair
from hypothesis import event, given
from hypothesis import strategies as st
from strategies.json_payloads import (
    JSON_EDGE_VALUES,
    JSON_TEXT_EDGES,
    json_edge_values,
    json_texts,
    materialise_json,
)
from strategies.messages import receive_scripts, send_faults
from strategies.operations import DENIAL_VARIANTS, op_scopes, op_sequences, ops, plain_cases, plain_scopes

SEND_EXCEPTIONS: dict[str, type[BaseException]] = {
    "OSError": OSError,
    "ConnectionResetError": ConnectionResetError,
    "RuntimeError": RuntimeError,
}
RUN_TIMEOUT = 10.0


def parsed_json(payload: Any) -> Any:
    """A JSON payload by its parsed value, object keys in order (docs/differences.md, row "send_json":
    the same parsed value; the float spelling may differ)."""
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        return ("JSON", norm(json.loads(text, object_pairs_hook=lambda pairs: ("object", pairs))))
    except Exception as exc:
        return ("not JSON", norm(payload), exc_sig(exc))


def record(message: Any, from_send_json: bool = False) -> Any:
    """The normalised form of a message handed to send (``headers`` compared as a list of pairs)."""
    if not isinstance(message, Mapping):
        return ("non-mapping message", norm(message))
    m = dict(message)
    if from_send_json:
        for key in ("text", "bytes"):
            if isinstance(m.get(key), (str, bytes)):
                m[key] = parsed_json(m[key])
    headers = m.get("headers")
    if headers is not None and not isinstance(headers, (str, bytes)):
        try:
            m["headers"] = [tuple(p) if isinstance(p, (list, tuple)) else p for p in headers]
        except Exception as exc:
            m["headers"] = ("unlistable headers", exc_sig(exc))
    return norm(m)


class Harness:
    """One side of a comparison: a WebSocket over a scripted receive and a recording send."""

    def __init__(
        self,
        lib: Any,
        scope: dict[str, Any],
        script: list[Any],
        send_faults: dict[int, str],
        peer_close: bool = True,
    ) -> None:
        self.lib = lib
        self.peer_close = peer_close  # compare close_code/close_reason (Starlette has neither)
        self.in_send_json = False
        self.scope = copy.deepcopy(scope)
        self.script = copy.deepcopy(script)
        self.send_faults = dict(send_faults)
        self.pos = 0
        self.receive_calls = 0
        self.send_calls = 0
        self.sent: list[Any] = []
        self.cancel_scope: anyio.CancelScope | None = None
        self.ws = lib.WebSocket(self.scope, self.receive, self.send)

    async def _cancel_current(self) -> None:
        assert self.cancel_scope is not None, "cancellation scripted outside an operation"
        self.cancel_scope.cancel()
        await anyio.sleep_forever()

    async def receive(self) -> Any:
        self.receive_calls += 1
        if self.pos >= len(self.script):
            raise RuntimeError("script exhausted")
        item = self.script[self.pos]
        self.pos += 1
        if isinstance(item, tuple) and item[0] == "memoryview":  # (not deep-copyable, so built here)
            return {"type": "websocket.receive", "bytes": memoryview(item[1])}
        if isinstance(item, tuple):  # a scripted fault
            if item[0] == "cancel":
                await self._cancel_current()
            raise SEND_EXCEPTIONS[item[1]](f"receive fault {item[1]}")
        await anyio.lowlevel.checkpoint()
        return item

    async def send(self, message: Any) -> None:
        index = self.send_calls
        self.send_calls += 1
        self.sent.append(record(message, self.in_send_json))
        fault = self.send_faults.get(index)
        if fault == "cancel":
            await self._cancel_current()
        elif fault is not None:
            raise SEND_EXCEPTIONS[fault](f"send fault {fault} on call {index}")
        await anyio.lowlevel.checkpoint()

    def snapshot(self) -> tuple[Any, ...]:
        peer_close = (
            [("close_code, close_reason", outcome(lambda: (self.ws.close_code, self.ws.close_reason)))]
            if self.peer_close
            else []
        )
        return (
            ("client_state", outcome(lambda: self.ws.client_state)),
            ("application_state", outcome(lambda: self.ws.application_state)),
            *peer_close,
            ("sent", list(self.sent)),
            ("receive calls", self.receive_calls),
        )


def materialise_headers(headers: Any) -> Any:
    if headers == "gen":
        return ((name, value) for name, value in [(b"x-gen", b"1"), (b"x-gen2", b"2")])
    return copy.deepcopy(headers)


def make_denial_response(variant: str) -> Any:
    if variant == "starlette-plaintext":
        from starlette.responses import PlainTextResponse

        return PlainTextResponse("denied", status_code=403, headers={"x-why": "test"})
    messages = DENIAL_VARIANTS[variant]

    async def response(scope: Any, receive: Any, send: Any) -> None:
        for message in messages:
            await send(copy.deepcopy(message))

    return response


async def _consume(aiter: Any) -> Any:
    items: list[Any] = []
    try:
        async for item in aiter:
            items.append(norm(item))
    except Exception as exc:
        return ("iterated", items, exc_sig(exc))
    return ("iterated", items, None)


async def perform(h: Harness, op: tuple[Any, ...]) -> Any:
    ws, lib = h.ws, h.lib
    kind = op[0]
    if kind == "accept":
        _, sub, headers, style = op
        if style == "positional":
            return await ws.accept(sub, materialise_headers(headers))
        if style == "keyword":
            return await ws.accept(subprotocol=sub, headers=materialise_headers(headers))
        return await ws.accept()
    if kind == "receive":
        return await ws.receive()
    if kind == "receive_text":
        return await ws.receive_text()
    if kind == "receive_bytes":
        return await ws.receive_bytes()
    if kind == "receive_json":
        return await (ws.receive_json() if op[1] == "default" else ws.receive_json(mode=op[1]))
    if kind == "iter_text":
        return await _consume(ws.iter_text())
    if kind == "iter_bytes":
        return await _consume(ws.iter_bytes())
    if kind == "iter_json":
        return await _consume(ws.iter_json())
    if kind == "send":
        return await ws.send(copy.deepcopy(op[1]))
    if kind == "send_text":
        return await ws.send_text(op[1])
    if kind == "send_bytes":
        return await ws.send_bytes(op[1])
    if kind == "send_json":
        data = materialise_json(op[1])
        return await (ws.send_json(data) if op[2] == "default" else ws.send_json(data, mode=op[2]))
    if kind == "close":
        _, code, reason = op
        if code == "default" and reason == "default":
            return await ws.close()
        if reason == "default":
            return await ws.close(code)
        if code == "default":
            return await ws.close(reason=copy.deepcopy(reason))
        return await ws.close(code=code, reason=copy.deepcopy(reason))
    if kind == "send_denial_response":
        return await ws.send_denial_response(make_denial_response(op[1]))
    if kind == "set_client_state":
        ws.client_state = lib.WebSocketState[op[1]]
        return None
    if kind == "set_application_state":
        ws.application_state = lib.WebSocketState[op[1]]
        return None
    raise AssertionError(f"unknown op {op!r}")  # pragma: no cover


async def run_step(h: Harness, op: tuple[Any, ...]) -> Any:
    with anyio.CancelScope() as scope:
        h.cancel_scope = scope
        h.in_send_json = op[0] == "send_json"
        try:
            value = await perform(h, op)
        except Exception as exc:
            result: Any = exc_sig(exc)
        else:
            result = ("ok", norm(value))
    h.cancel_scope = None
    h.in_send_json = False
    if scope.cancelled_caught:
        return ("cancelled",)
    return result


async def run_sequence(
    lib: Any,
    scope: dict[str, Any],
    script: list[Any],
    send_faults: dict[int, str],
    seq: list[tuple[Any, ...]],
    peer_close: bool = True,
    stop_before: Any = None,
) -> list[Any]:
    """The trace of ``seq`` on ``lib``: a snapshot after every step. ``stop_before(h, op)`` ends the
    sequence early (the tests against Starlette stop where a documented difference begins)."""
    try:
        h = Harness(lib, scope, script, send_faults, peer_close)
    except Exception as exc:
        return [("construct", exc_sig(exc))]
    trace: list[Any] = [("initial", h.snapshot())]
    try:
        with anyio.fail_after(RUN_TIMEOUT):
            for i, op in enumerate(seq):
                if stop_before is not None and stop_before(h, op):
                    break
                result = await run_step(h, op)
                trace.append((f"step {i}: {op!r}", result, h.snapshot()))
    except TimeoutError:
        trace.append(("timeout", f"the sequence did not finish in {RUN_TIMEOUT}s", h.snapshot()))
    return trace


def first_difference(ref_trace: list[Any], sut_trace: list[Any], labels: tuple[str, str]) -> str | None:
    for i in range(max(len(ref_trace), len(sut_trace))):
        r: Any = ref_trace[i] if i < len(ref_trace) else ("<missing step>",)
        s: Any = sut_trace[i] if i < len(sut_trace) else ("<missing step>",)
        if r != s:
            lines = [f"traces differ at entry {i}: {r[0]}"]
            if len(r) == len(s) == 3:
                names = ("result",) + tuple(part[0] for part in r[2])
                r_parts = (r[1],) + tuple(part[1] for part in r[2])
                s_parts = (s[1],) + tuple(part[1] for part in s[2])
                for name, rp, sp in zip(names, r_parts, s_parts, strict=True):
                    mark = "  " if rp == sp else "!!"
                    lines.append(f"{mark} {name}:\n{show_pair(labels, rp, sp, indent=' ' * 7)}")
            else:
                lines.append(show_pair(labels, r, s, indent="   "))
            lines.append("earlier steps (identical on both sides):")
            lines += [f"   {entry[0]} -> {entry[1]!r}" for entry in ref_trace[1:i]]
            return "\n".join(lines)
    return None


async def run_both(
    impls: tuple[Any, Any],
    scope: dict[str, Any],
    script: list[Any],
    send_faults: dict[int, str],
    seq: list[tuple[Any, ...]],
) -> tuple[list[Any], list[Any]]:
    ref, sut = impls
    ref_trace = await run_sequence(ref, scope, script, send_faults, seq)
    sut_trace = await run_sequence(sut, scope, script, send_faults, seq)
    return ref_trace, sut_trace


def record_events(trace: list[Any], seq: list[tuple[Any, ...]]) -> None:
    for entry, op in zip(trace[1:], seq, strict=False):  # a trace may end early
        result = entry[1]
        kind = (
            "ok"
            if result[0] == "ok"
            else result[0]
            if result[0] != "raise"
            else getattr(result[1], "__name__", result[1])
        )
        event(f"{op[0]} -> {kind}")


def run_and_compare(
    impls: tuple[Any, Any],
    backend: str,
    scope: dict[str, Any],
    script: list[Any],
    send_faults: dict[int, str],
    seq: list[tuple[Any, ...]],
) -> tuple[list[Any], list[Any]]:
    ref_trace, sut_trace = anyio.run(run_both, impls, scope, script, send_faults, seq, backend=backend)
    record_events(ref_trace, seq)
    diff = first_difference(ref_trace, sut_trace, impls.labels)
    if diff is not None:
        raise AssertionError(f"[{backend}] {diff}")
    return ref_trace, sut_trace


# ---------------------------------------------------------------------------------------------
# Generated operation sequences
# ---------------------------------------------------------------------------------------------


@diff_settings(400)
@given(scope=op_scopes, script=receive_scripts(odd=False), seq=op_sequences(odd=False))
def test_ops_well_typed(
    impls: Any, diff_counter: Any, anyio_backend: str, scope: Any, script: Any, seq: Any
) -> None:
    """Valid messages and well-typed arguments, in any order (so in every state)."""
    diff_counter.add(f"websocket[{anyio_backend}]")
    run_and_compare(impls, anyio_backend, scope, script, {}, seq)


@diff_settings(300)
@given(scope=op_scopes, script=receive_scripts(odd=True), seq=op_sequences(odd=True))
def test_ops_odd_messages_and_arguments(
    impls: Any, diff_counter: Any, anyio_backend: str, scope: Any, script: Any, seq: Any
) -> None:
    """Malformed receive messages (no code, both/neither text and bytes, wrong types, unexpected types),
    raw sends without a type, odd close codes and reasons, wrongly typed send_text/send_bytes data."""
    diff_counter.add(f"websocket[{anyio_backend}]")
    run_and_compare(impls, anyio_backend, scope, script, {}, seq)


@diff_settings(300)
@given(
    scope=op_scopes,
    script=receive_scripts(odd=False, faults=True),
    faults=send_faults(enabled=True),
    seq=op_sequences(odd=False),
)
def test_ops_with_server_faults(
    impls: Any, diff_counter: Any, anyio_backend: str, scope: Any, script: Any, faults: Any, seq: Any
) -> None:
    """The server's send raises OSError / ConnectionResetError / RuntimeError or is cancelled on its
    Nth call; the server's receive raises or is cancelled."""
    diff_counter.add(f"websocket[{anyio_backend}]")
    run_and_compare(impls, anyio_backend, scope, script, faults, seq)


class _ModeStr(str):
    """A str subclass equal to (and hashing as) its value: a valid mode to Starlette."""


# The modes: valid ones, a str subclass of one, an invalid str (RuntimeError) and an unhashable
# one (Starlette's `mode not in {...}` raises TypeError).
json_modes = st.sampled_from(["text", "binary", "default", _ModeStr("binary"), "Text", []])
json_ops = st.lists(
    st.one_of(
        st.tuples(st.just("send_json"), json_edge_values, json_modes),
        st.tuples(st.just("receive_json"), json_modes),
        st.tuples(st.just("iter_json")),
    ),
    min_size=1,
    max_size=6,
)

json_scripts = st.lists(
    st.one_of(
        st.builds(lambda t: {"type": "websocket.receive", "text": t}, json_texts),
        st.builds(
            lambda t: {"type": "websocket.receive", "bytes": t.encode("utf-8", "surrogatepass")}, json_texts
        ),
        st.builds(
            lambda b: {"type": "websocket.receive", "bytes": b},
            st.sampled_from([b"\xff", b"\xef\xbb\xbf1", b'"\xe9"']),
        ),
    ),
    max_size=6,
).map(lambda msgs: [{"type": "websocket.connect"}, *msgs, {"type": "websocket.disconnect", "code": 1000}])


@diff_settings(300)
@given(script=json_scripts, seq=json_ops)
def test_json_edges(impls: Any, diff_counter: Any, anyio_backend: str, script: Any, seq: Any) -> None:
    """send_json / receive_json on values where json and orjson disagree (non-str keys, big ints, NaN,
    lone surrogates, circular data, 1e400, duplicate keys, BOM, ...)."""
    diff_counter.add(f"websocket[{anyio_backend}]")
    scope = {"type": "websocket", "path": "/", "query_string": b"", "headers": []}
    run_and_compare(impls, anyio_backend, scope, script, {}, [("accept", None, None, "default"), *seq])


@diff_settings(200)
@given(
    scope=op_scopes,
    script=receive_scripts(odd=False),
    before=st.lists(ops(odd=False), max_size=2),
    variant=st.sampled_from(sorted(DENIAL_VARIANTS)),
    after=st.lists(ops(odd=False), max_size=3),
    faults=send_faults(enabled=True) | st.just({}),
)
def test_denial_response(
    impls: Any,
    diff_counter: Any,
    anyio_backend: str,
    scope: Any,
    script: Any,
    before: Any,
    variant: str,
    after: Any,
    faults: Any,
) -> None:
    """send_denial_response with and without the extension, in any state, and what follows it."""
    diff_counter.add(f"websocket[{anyio_backend}]")
    seq = [*before, ("send_denial_response", variant), *after]
    run_and_compare(impls, anyio_backend, scope, script, faults, seq)


# ---------------------------------------------------------------------------------------------
# Pinned examples: Starlette behaviour that is easy to get wrong, and each documented difference
# ---------------------------------------------------------------------------------------------

BASIC_SCOPE: dict[str, Any] = {
    "type": "websocket",
    "path": "/ws",
    "query_string": b"",
    "headers": [(b"host", b"testserver")],
    "extensions": {"websocket.http.response": {}},
}
CONNECT = {"type": "websocket.connect"}
ACCEPT = ("accept", None, None, "default")
DISCONNECT_1001 = {"type": "websocket.disconnect", "code": 1001, "reason": "gone"}
SAME = "same as Starlette"


class Pinned(NamedTuple):
    script: list[Any]
    faults: dict[int, str]
    seq: list[Any]
    # The outcome of the last step, as (result, number of messages handed to send): the result is
    # "ok" or the exception (a builtin class, or a class name).
    starlette: tuple[Any, int]
    spec: Any = SAME  # the reference's (so ferrosocket's) outcome where docs/differences.md differs


PINNED: dict[str, Pinned] = {
    # Starlette's behaviour, kept.
    "OSError from send becomes WebSocketDisconnect(1006) in CONNECTED": Pinned(
        [CONNECT], {1: "OSError"}, [ACCEPT, ("send_text", "x")], ("WebSocketDisconnect", 2)
    ),
    "receive_json checks mode before the state": Pinned(
        [CONNECT], {}, [("receive_json", "invalid")], (RuntimeError, 0)
    ),
    "send_json serialises before checking the state": Pinned(
        [CONNECT], {}, [("send_json", {1, 2}, "text")], (TypeError, 0)
    ),
    "receive_text after the app closed needs accept": Pinned(
        [CONNECT, {"type": "websocket.receive", "text": "x"}],
        {},
        [ACCEPT, ("close", "default", "default"), ("receive_text",)],
        ("WebSocketDisconnected", 2),
    ),
    "send after close raises WebSocketDisconnected": Pinned(
        [CONNECT],
        {},
        [ACCEPT, ("close", "default", "default"), ("send_text", "x")],
        ("WebSocketDisconnected", 2),
    ),
    "a raw send without a type after close: the state is checked first": Pinned(
        [CONNECT],
        {},
        [ACCEPT, ("close", "default", "default"), ("send", {"text": "x"})],
        ("WebSocketDisconnected", 2),
    ),
    "receive after disconnect raises WebSocketDisconnected": Pinned(
        [CONNECT, {"type": "websocket.disconnect", "code": 1000}],
        {},
        [ACCEPT, ("receive",), ("receive",)],
        ("WebSocketDisconnected", 1),
    ),
    "close before accept, then denial response is refused": Pinned(
        [CONNECT],
        {},
        [("close", "default", "default"), ("send_denial_response", "start+body")],
        ("WebSocketDisconnected", 1),
    ),
    "an unhashable message type while CONNECTING is compared with !=": Pinned(
        [{"type": ["websocket.connect"]}], {}, [("receive",)], (RuntimeError, 0)
    ),
    "an unhashable message type in the RESPONSE state is compared with !=": Pinned(
        [CONNECT],
        {},
        [
            ("send", {"type": "websocket.http.response.start", "status": 403, "headers": []}),
            ("send", {"type": ["websocket.http.response.body"], "body": b""}),
        ],
        (RuntimeError, 1),
    ),
    "denial response then close": Pinned(
        [CONNECT],
        {},
        [("send_denial_response", "start+more+body"), ("close", "default", "default")],
        ("WebSocketDisconnected", 3),
    ),
    # docs/differences.md, "Incoming messages".
    "receive_text() on a binary message": Pinned(
        [CONNECT, {"type": "websocket.receive", "bytes": b"x"}],
        {},
        [ACCEPT, ("receive_text",)],
        (KeyError, 1),
        ("UnexpectedMessageType", 1),
    ),
    "receive_text() when the server sends text=None": Pinned(
        [CONNECT, {"type": "websocket.receive", "text": None, "bytes": b"x"}],
        {},
        [ACCEPT, ("receive_text",)],
        ("ok", 1),
        ("UnexpectedMessageType", 1),
    ),
    "a payload of the wrong type": Pinned(
        [CONNECT, {"type": "websocket.receive", "text": b"x"}],
        {},
        [ACCEPT, ("receive_text",)],
        ("ok", 1),
        (TypeError, 1),
    ),
    "receive_json(mode='binary') on a memoryview": Pinned(
        [CONNECT, ("memoryview", b"[1]")],
        {},
        [ACCEPT, ("receive_json", "binary")],
        (AttributeError, 1),
        ("ok", 1),
    ),
    "a disconnect without code": Pinned(
        [CONNECT, {"type": "websocket.disconnect"}],
        {},
        [ACCEPT, ("receive_text",)],
        (KeyError, 1),
        ("WebSocketDisconnect", 1),
    ),
    # docs/differences.md, "Outgoing messages".
    "send_text(bytes)": Pinned([CONNECT], {}, [ACCEPT, ("send_text", b"raw")], ("ok", 2), (TypeError, 1)),
    "close(code) outside the sendable codes": Pinned(
        [CONNECT], {}, [ACCEPT, ("close", 1006, "default")], ("ok", 2), (ValueError, 1)
    ),
    "accept(subprotocol) not offered by the client": Pinned(
        [CONNECT], {}, [("accept", "chat", None, "keyword")], ("ok", 1), (ValueError, 0)
    ),
    # docs/differences.md, "The state machine".
    "sending after the peer's disconnect was received": Pinned(
        [CONNECT, DISCONNECT_1001],
        {},
        [ACCEPT, ("receive_text",), ("send_text", "still here")],
        ("ok", 2),
        ("WebSocketDisconnect", 1),
    ),
    "close() after the peer's disconnect sends nothing": Pinned(
        [CONNECT, DISCONNECT_1001],
        {},
        [ACCEPT, ("receive_text",), ("close", 4000, "bye")],
        ("ok", 2),
        ("ok", 1),
    ),
    "the state moves after the send: a cancelled close can be retried": Pinned(
        [CONNECT],
        {1: "cancel"},
        [ACCEPT, ("close", "default", "default"), ("close", "default", "default")],
        ("WebSocketDisconnected", 2),
        ("ok", 3),
    ),
    "OSError from the server during accept()": Pinned(
        [CONNECT], {0: "OSError"}, [ACCEPT], (OSError, 1), ("WebSocketDisconnect", 1)
    ),
}


def last_outcome(trace: list[Any]) -> tuple[Any, int]:
    """The result of the last step ("ok", "cancelled" or the exception) and the number of sent messages."""
    _, result, snapshot = trace[-1]
    sent = dict(snapshot)["sent"]
    return (result[0] if result[0] != "raise" else result[1], len(sent))


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(PINNED))
async def test_pinned_examples(
    impls: Any, starlette_vs_reference: Any, diff_counter: Any, anyio_backend: str, name: str
) -> None:
    diff_counter.add(f"websocket[{anyio_backend}]")
    case = PINNED[name]
    starlette, reference = starlette_vs_reference
    # The harness reproduces Starlette's behaviour ...
    starlette_trace = await run_sequence(
        starlette, BASIC_SCOPE, case.script, case.faults, case.seq, peer_close=False
    )
    assert last_outcome(starlette_trace) == case.starlette, starlette_trace
    # ... the reference gives it too, or the documented difference ...
    ref_trace, sut_trace = await run_both(impls, BASIC_SCOPE, case.script, case.faults, case.seq)
    expected = case.starlette if case.spec == SAME else case.spec
    assert last_outcome(ref_trace) == expected, ref_trace
    # ... and ferrosocket matches the reference step by step.
    diff = first_difference(ref_trace, sut_trace, impls.labels)
    assert diff is None, diff


@pytest.mark.anyio
@pytest.mark.parametrize("second", ["receive", "receive_text", "receive_json", "iter_bytes"])
async def test_two_receivers(impls: Any, diff_counter: Any, anyio_backend: str, second: str) -> None:
    """docs/differences.md, "Two tasks in receive() at once": the second gets RuntimeError at once;
    the first still gets its message, and the one after goes to the next receive()."""
    diff_counter.add(f"websocket[{anyio_backend}]")

    async def run(lib: Any) -> Any:
        script = [
            CONNECT,
            {"type": "websocket.receive", "text": "1"},
            {"type": "websocket.receive", "text": "2"},
        ]
        waiting, release = anyio.Event(), anyio.Event()
        calls = 0

        async def receive() -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:  # the first receive after accept() waits until released
                waiting.set()
                await release.wait()
            return script.pop(0)

        async def send(message: Any) -> None:
            pass

        ws = lib.WebSocket(copy.deepcopy(BASIC_SCOPE), receive, send)
        await ws.accept()
        results: dict[str, Any] = {}

        async def first() -> None:
            results["first"] = await outcome_of(ws.receive_text())

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            await waiting.wait()
            with anyio.move_on_after(1):
                call = getattr(ws, second)()
                results["second"] = await outcome_of(anext(call) if second.startswith("iter") else call)
            release.set()
        results["third"] = await outcome_of(ws.receive_text())
        return results, calls

    ref, sut = impls
    ref_result = await run(ref)
    assert ref_result[0]["second"][1] is RuntimeError, ref_result
    sut_result = await run(sut)
    assert ref_result == sut_result, show_pair(impls.labels, ref_result, sut_result)


@pytest.mark.anyio
async def test_receive_helpers_bypass_receive(impls: Any, diff_counter: Any, anyio_backend: str) -> None:
    """docs/differences.md, "receive_text()/receive_bytes()/receive_json()": they do not call
    self.receive(), so a subclass that overrides receive() sees only accept()'s and its own calls."""
    diff_counter.add(f"websocket[{anyio_backend}]")
    script = [
        CONNECT,
        {"type": "websocket.receive", "text": "a"},
        {"type": "websocket.receive", "bytes": b"b"},
        {"type": "websocket.receive", "text": "[1]"},
        {"type": "websocket.receive", "text": "c"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    seq = [
        ACCEPT,
        ("receive_text",),
        ("receive_bytes",),
        ("receive_json", "text"),
        ("iter_text",),
        ("receive",),
    ]

    async def run(lib: Any) -> Any:
        calls: list[str] = []

        class Counting(lib.WebSocket):  # type: ignore[name-defined,misc]
            async def receive(self) -> Any:
                calls.append("receive")
                return await super().receive()

        namespace = types.SimpleNamespace(WebSocket=Counting, WebSocketState=lib.WebSocketState)
        return await run_sequence(namespace, BASIC_SCOPE, script, {}, seq), calls

    (ref_trace, ref_calls), (sut_trace, sut_calls) = [await run(lib) for lib in impls]
    assert ref_calls == ["receive", "receive"], ref_calls  # accept(), and the last step
    diff = first_difference(ref_trace, sut_trace, impls.labels)
    assert diff is None, diff
    assert ref_calls == sut_calls, show_pair(impls.labels, ref_calls, sut_calls)


async def outcome_of(awaitable: Any) -> Any:
    try:
        return ("ok", norm(await awaitable))
    except Exception as exc:
        return exc_sig(exc)


# ---------------------------------------------------------------------------------------------
# The reference against Starlette, where docs/differences.md lists no difference
# ---------------------------------------------------------------------------------------------

SENDING_OPS = {"accept", "send", "send_text", "send_bytes", "send_json", "close", "send_denial_response"}


def peer_left(h: Harness, op: tuple[Any, ...]) -> bool:
    """A send once the peer's disconnect was received: the documented difference the plain inputs
    cannot avoid up front (Starlette hands it to the server; the reference raises or sends nothing)."""
    return (
        op[0] in SENDING_OPS
        and h.ws.client_state.name == "DISCONNECTED"
        and h.ws.application_state.name == "CONNECTED"
    )


@diff_settings(150)
@given(scope=plain_scopes, case=plain_cases())
def test_reference_is_starlette_on_plain_sequences(
    starlette_vs_reference: Any, diff_counter: Any, anyio_backend: str, scope: Any, case: Any
) -> None:
    """Well-typed, already complete messages and arguments, receives that match the payloads: the
    reference must behave exactly as Starlette (up to a send after the peer's disconnect)."""
    diff_counter.add("reference vs starlette")
    script, seq = case

    async def main() -> tuple[list[Any], list[Any]]:
        traces = []
        for lib in starlette_vs_reference:
            traces.append(
                await run_sequence(lib, scope, script, {}, seq, peer_close=False, stop_before=peer_left)
            )
        return traces[0], traces[1]

    starlette_trace, reference_trace = anyio.run(main, backend=anyio_backend)
    record_events(starlette_trace, seq)
    diff = first_difference(starlette_trace, reference_trace, starlette_vs_reference.labels)
    assert diff is None, diff


# ---------------------------------------------------------------------------------------------
# Exceptions, WebSocketClose, and the async-ness of the methods
# ---------------------------------------------------------------------------------------------


def _denial_exception(lib: Any) -> Any:
    """Starlette's TestClient: class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect)."""
    import httpx2

    class WebSocketDenialResponse(httpx2.Response, lib.WebSocketDisconnect):  # type: ignore[misc]
        pass

    exc = WebSocketDenialResponse(status_code=403, content=b"denied")
    return (
        exc.status_code,
        exc.content,
        isinstance(exc, lib.WebSocketDisconnect),
        isinstance(exc, Exception),
        getattr(exc, "code", "<no code>"),
        getattr(exc, "reason", "<no reason>"),
        str(exc),
    )


@diff_settings(100)
@given(
    code=st.one_of(st.sampled_from([1000, 1001, 1006, 4000]), st.integers(-1, 5000)),
    reason=st.one_of(st.none(), st.sampled_from(["", "bye", "é"])),
)
def test_exceptions(impls: Any, diff_counter: Any, code: int, reason: str | None) -> None:
    diff_counter.add("exceptions")
    d = Differ.of(impls)
    WD = "WebSocketDisconnect"
    d.check(f"{WD}()", lambda lib: lib.WebSocketDisconnect())
    d.check(f"{WD}(code)", lambda lib: lib.WebSocketDisconnect(code))
    d.check(f"{WD}(code, reason)", lambda lib: lib.WebSocketDisconnect(code, reason))
    d.check(f"{WD}(code=, reason=)", lambda lib: lib.WebSocketDisconnect(code=code, reason=reason))
    d.check(f"{WD}(reason=)", lambda lib: lib.WebSocketDisconnect(reason=reason))
    for label, make in [
        ("positional", lambda lib: lib.WebSocketDisconnect(code, reason)),
        ("keywords", lambda lib: lib.WebSocketDisconnect(code=code, reason=reason)),
    ]:
        d.check(f"{WD}({label}).args", lambda lib, make=make: make(lib).args)
        d.check(
            f"repr({WD}({label}))",
            lambda lib, make=make: repr(make(lib)).replace(lib.WebSocketDisconnect.__module__, "<module>"),
        )
        d.check(f"pickle {WD}({label})", lambda lib, make=make: pickle.loads(pickle.dumps(make(lib))))
        d.check(f"copy {WD}({label})", lambda lib, make=make: copy.copy(make(lib)))
    d.check(f"raise/catch {WD} as Exception", lambda lib: _raise_catch(lib.WebSocketDisconnect(code, reason)))
    d.check(f"{WD} with too many args", lambda lib: lib.WebSocketDisconnect(code, reason, "extra"))
    d.check(
        f"{WD} MRO builtins",
        lambda lib: [c.__name__ for c in lib.WebSocketDisconnect.__mro__ if c.__module__ == "builtins"],
    )
    d.check(
        "WebSocketDisconnected MRO builtins",
        lambda lib: [c.__name__ for c in lib.WebSocketDisconnected.__mro__ if c.__module__ == "builtins"],
    )
    d.check("WebSocketDisconnected('m')", lambda lib: lib.WebSocketDisconnected("m"))
    d.check("WebSocketDenialResponse(httpx.Response, WebSocketDisconnect)", _denial_exception)
    d.check(
        "WebSocketClose(code, reason) attrs",
        lambda lib: (lambda c: (c.code, c.reason))(lib.WebSocketClose(code, reason)),
    )
    d.check("WebSocketClose() attrs", lambda lib: (lambda c: (c.code, c.reason))(lib.WebSocketClose()))
    d.check("WebSocketState members", lambda lib: [(m.name, m.value) for m in lib.WebSocketState])
    # docs/differences.md, row "UnexpectedMessageType": a KeyError with a message.
    d.check(
        "UnexpectedMessageType('m')",
        lambda lib: (lambda e: (e, e.args, repr(e), isinstance(e, KeyError)))(lib.UnexpectedMessageType("m")),
    )
    d.check("UnexpectedMessageType()", lambda lib: str(lib.UnexpectedMessageType()))
    d.done()


def _raise_catch(exc: BaseException) -> Any:
    try:
        raise exc
    except Exception as caught:
        return (caught is exc, norm(caught))


@diff_settings(30)
@given(code=st.sampled_from([1000, 1008, 4000]), reason=st.one_of(st.none(), st.sampled_from(["", "bye"])))
def test_websocket_close_app(
    impls: Any, diff_counter: Any, anyio_backend: str, code: int, reason: str | None
) -> None:
    diff_counter.add(f"websocket[{anyio_backend}]")

    async def main() -> list[Any]:
        results = []
        for lib in impls:
            sent: list[Any] = []

            async def send(message: Any, sent: list[Any] = sent) -> None:
                sent.append(record(message))

            async def receive() -> Any:  # pragma: no cover
                raise RuntimeError("script exhausted")

            try:
                value = await lib.WebSocketClose(code, reason)(copy.deepcopy(BASIC_SCOPE), receive, send)
                res: Any = ("ok", norm(value))
            except Exception as exc:
                res = exc_sig(exc)
            results.append((res, sent))
        return results

    ref, sut = anyio.run(main, backend=anyio_backend)
    assert ref == sut, show_pair(impls.labels, ref, sut)


ASYNC_METHODS = (
    "accept",
    "receive",
    "send",
    "receive_text",
    "receive_bytes",
    "receive_json",
    "send_text",
    "send_bytes",
    "send_json",
    "close",
    "send_denial_response",
)
ASYNC_GENERATORS = ("iter_text", "iter_bytes", "iter_json")


def test_methods_are_async_def(impls: Any, diff_counter: Any) -> None:
    """anyio.from_thread.run under trio (and Starlette's is_async_callable) need real coroutines."""
    from starlette._utils import is_async_callable

    diff_counter.add("exceptions")

    async def noop_receive() -> Any:  # pragma: no cover
        raise RuntimeError("script exhausted")

    async def noop_send(message: Any) -> None:  # pragma: no cover
        pass

    d = Differ.of(impls)
    for name in ASYNC_METHODS:
        d.check(
            f"inspect.iscoroutinefunction(ws.{name})",
            lambda lib, n=name: inspect.iscoroutinefunction(
                getattr(lib.WebSocket(dict(BASIC_SCOPE), noop_receive, noop_send), n)
            ),
        )
        d.check(
            f"asyncio.iscoroutinefunction(ws.{name})",
            lambda lib, n=name: asyncio.iscoroutinefunction(
                getattr(lib.WebSocket(dict(BASIC_SCOPE), noop_receive, noop_send), n)
            ),
        )
        d.check(
            f"is_async_callable(ws.{name})",
            lambda lib, n=name: is_async_callable(
                getattr(lib.WebSocket(dict(BASIC_SCOPE), noop_receive, noop_send), n)
            ),
        )

    def coroutine_of(lib: Any) -> Any:
        coro = lib.WebSocket(dict(BASIC_SCOPE), noop_receive, noop_send).close()
        try:
            return (inspect.iscoroutine(coro), inspect.isawaitable(coro))
        finally:
            close = getattr(coro, "close", None)
            if close is not None:
                close()

    d.check("inspect.iscoroutine(ws.close())", coroutine_of)
    for name in ASYNC_GENERATORS:

        def agen(lib: Any, n: str = name) -> Any:
            it = getattr(lib.WebSocket(dict(BASIC_SCOPE), noop_receive, noop_send), n)()
            return (
                inspect.isasyncgen(it),
                hasattr(it, "aclose"),
                hasattr(it, "__anext__"),
                hasattr(it, "asend"),
            )

        d.check(f"ws.{name}() is an async generator", agen)
        d.check(
            f"isasyncgenfunction(ws.{name})",
            lambda lib, n=name: inspect.isasyncgenfunction(
                getattr(lib.WebSocket(dict(BASIC_SCOPE), noop_receive, noop_send), n)
            ),
        )
    d.done()


@pytest.mark.anyio
async def test_close_from_thread(impls: Any, diff_counter: Any, anyio_backend: str) -> None:
    """anyio.from_thread.run(websocket.close, ...) (as Starlette's TestClient does) on both backends."""
    diff_counter.add(f"websocket[{anyio_backend}]")
    results = []
    for lib in impls:
        h = Harness(lib, BASIC_SCOPE, [CONNECT], {})
        await h.ws.accept()

        def in_thread(ws: Any = h.ws) -> None:
            anyio.from_thread.run(ws.close, 1001, "bye")

        try:
            await anyio.to_thread.run_sync(in_thread)
            res: Any = ("ok",)
        except Exception as exc:
            res = exc_sig(exc)
        results.append((res, h.snapshot()))
    assert results[0] == results[1], show_pair(impls.labels, results[0], results[1])


# ---------------------------------------------------------------------------------------------
# JSON tables: each edge value as its own test (json against orjson disagreements)
# ---------------------------------------------------------------------------------------------


def _json_table_run(impls: Any, script: list[Any], seq: list[Any]) -> None:
    ref_trace, sut_trace = anyio.run(run_both, impls, BASIC_SCOPE, script, {}, seq, backend="asyncio")
    diff = first_difference(ref_trace, sut_trace, impls.labels)
    assert diff is None, diff


@pytest.mark.parametrize("mode", ["text", "binary"])
@pytest.mark.parametrize(
    "value", JSON_EDGE_VALUES, ids=lambda v: type(v).__name__ + ":" + repr(v)[:20].replace(" ", "")
)
def test_send_json_table(impls: Any, diff_counter: Any, value: Any, mode: str) -> None:
    diff_counter.add("tables")
    _json_table_run(impls, [CONNECT], [ACCEPT, ("send_json", value, mode)])


@pytest.mark.parametrize("mode", ["text", "binary"])
@pytest.mark.parametrize("text", JSON_TEXT_EDGES, ids=lambda t: repr(t)[:24].replace(" ", "") or "empty")
def test_receive_json_table(impls: Any, diff_counter: Any, text: str, mode: str) -> None:
    diff_counter.add("tables")
    message: dict[str, Any]
    if mode == "text":
        message = {"type": "websocket.receive", "text": text}
    else:
        message = {"type": "websocket.receive", "bytes": text.encode("utf-8", "surrogatepass")}
    _json_table_run(impls, [CONNECT, message], [ACCEPT, ("receive_json", mode)])
