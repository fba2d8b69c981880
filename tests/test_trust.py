"""Regressions found by running real apps and fault injection (issue 11, items 2, 3, 4 and 8).

* close() before accept() sends any int code: servers answer HTTP 403 and never send it.
* accept() and send_denial_response() check their arguments before any I/O: nothing received,
  nothing sent, both states unchanged, and a retry with good arguments succeeds.
* Once close() has begun, no later send reaches the server (another task's send raises
  Starlette's "send after close" error while the close is still inside the server's send).
* WebSocket as a mapping over its scope answers as Starlette's does for dicts, dict subclasses
  with overridden methods and other Mappings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import anyio
import pytest
import starlette.websockets as sw
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import Response

from ferrosocket import WebSocket, WebSocketDisconnect, WebSocketDisconnected, WebSocketState

pytestmark = pytest.mark.anyio

CONNECT = {"type": "websocket.connect"}
SEND_AFTER_CLOSE = 'Cannot call "send" once a close message has been sent.'


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Peer:
    """The server side: scripted incoming messages; outgoing ones recorded. A message whose type is
    in ``hold`` waits in the server's send until ``release`` is set (back-pressure); only the
    first such message waits."""

    def __init__(self, *incoming: dict[str, Any], hold: frozenset[str] = frozenset()) -> None:
        self.incoming = list(incoming)
        self.sent: list[Any] = []
        self.received = 0
        self.hold = hold
        self.entered = anyio.Event()
        self.release = anyio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self.incoming:
            raise RuntimeError("script exhausted")
        self.received += 1
        return self.incoming.pop(0)

    async def send(self, message: Any) -> None:
        if message["type"] in self.hold and not self.entered.is_set():  # only the first one waits
            self.entered.set()
            await self.release.wait()
        self.sent.append(message)


def make_scope(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "websocket",
        "path": "/",
        "headers": [],
        "query_string": b"",
        "subprotocols": ["chat"],
        "extensions": {"websocket.http.response": {}},
    }
    base.update(extra)
    return base


# --- 2. close() before accept() --------------------------------------------------------------------


@pytest.mark.parametrize("code", [403, 1006, 4999, 1000, 999, 5000, 0, -1, 2**70])
async def test_close_before_accept_sends_any_int_code(code: int) -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.close(code)
    assert peer.sent == [{"type": "websocket.close", "code": code, "reason": ""}]
    assert ws.application_state is WebSocketState.DISCONNECTED
    assert ws.client_state is WebSocketState.CONNECTING


async def test_close_before_accept_after_reading_connect() -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    assert await ws.receive() == CONNECT
    await ws.close(code=403, reason="bad token")
    assert peer.sent == [{"type": "websocket.close", "code": 403, "reason": "bad token"}]


@pytest.mark.parametrize("code", [True, 1000.0, "403", None])
async def test_close_before_accept_still_needs_an_int(code: Any) -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    with pytest.raises(TypeError, match="close code must be an int"):
        await ws.close(code)
    assert peer.sent == []
    assert ws.application_state is WebSocketState.CONNECTING


@pytest.mark.parametrize("code", [403, 1006, 5000])
async def test_close_after_accept_keeps_the_wire_range(code: int) -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    with pytest.raises(ValueError, match="cannot be sent"):
        await ws.close(code)
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert ws.application_state is WebSocketState.CONNECTED


# --- 3. accept() and send_denial_response() check before any I/O ----------------------------------


BAD_ACCEPTS: list[tuple[dict[str, Any], type[Exception]]] = [
    ({"subprotocol": "never-offered"}, ValueError),
    ({"subprotocol": "chat\r\nx: y"}, ValueError),
    ({"subprotocol": b"chat"}, TypeError),
    ({"headers": [(b"x-a", b"1\r\nx-b: 2")]}, ValueError),
    ({"headers": [(b"sec-websocket-protocol", b"chat")]}, ValueError),
    ({"headers": [("x-a", "str")]}, TypeError),
    ({"headers": 5}, TypeError),
]


@pytest.mark.parametrize(("kwargs", "error"), BAD_ACCEPTS)
async def test_accept_checks_before_receiving_connect(kwargs: dict[str, Any], error: type[Exception]) -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    with pytest.raises(error):
        await ws.accept(**kwargs)
    assert peer.received == 0 and peer.incoming == [CONNECT]
    assert peer.sent == []
    assert ws.client_state is WebSocketState.CONNECTING
    assert ws.application_state is WebSocketState.CONNECTING
    await ws.accept("chat", [(b"x-ok", b"1")])
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-ok", b"1")]}]
    assert ws.client_state is WebSocketState.CONNECTED
    assert ws.application_state is WebSocketState.CONNECTED


def denial(status: int = 401, headers: dict[str, str] | None = None, body: Any = b"no") -> Response:
    response = Response(b"", status_code=status, headers=headers)
    response.body = body
    return response


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (denial(status=99), ValueError),
        (denial(status=600), ValueError),
        (denial(headers={"x-a": "1\r\nx-b: 2"}), ValueError),
        (denial(body="text, not bytes"), TypeError),
    ],
)
async def test_denial_response_checks_before_sending(response: Response, error: type[Exception]) -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    with pytest.raises(error):
        await ws.send_denial_response(response)
    assert peer.sent == [] and peer.received == 0
    assert ws.application_state is WebSocketState.CONNECTING
    await ws.send_denial_response(denial())
    assert [m["type"] for m in peer.sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert ws.application_state is WebSocketState.DISCONNECTED


# --- 4. No send reaches the server after close() has begun ----------------------------------------


async def test_sends_during_a_blocked_close_are_refused() -> None:
    peer = Peer(CONNECT, hold=frozenset({"websocket.close"}))
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    outcomes: list[str] = []

    async def late_senders() -> None:
        await peer.entered.wait()
        attempts = [
            lambda: ws.send_text("late"),
            lambda: ws.send_bytes(b"late"),
            lambda: ws.send_json({"late": True}),
            lambda: ws.send({"type": "websocket.send", "text": "late"}),
            lambda: ws.close(1000),
        ]
        try:
            for attempt in attempts:
                try:
                    await attempt()
                    outcomes.append("sent")
                except WebSocketDisconnected as exc:
                    outcomes.append(str(exc))
        finally:
            peer.release.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(late_senders)
        await ws.close(4000, "bye")
    assert outcomes == [SEND_AFTER_CLOSE] * 5
    assert [m["type"] for m in peer.sent] == ["websocket.accept", "websocket.close"]
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_a_cancelled_close_can_be_retried_and_sends_work_again() -> None:
    peer = Peer(CONNECT, hold=frozenset({"websocket.close"}))
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    with anyio.move_on_after(0.05):
        await ws.close()
    assert peer.entered.is_set() and peer.sent[-1]["type"] == "websocket.accept"
    assert ws.application_state is WebSocketState.CONNECTED
    await ws.send_text("still here")
    await ws.close()
    assert [m["type"] for m in peer.sent] == ["websocket.accept", "websocket.send", "websocket.close"]


# --- 8. One mapping behaviour ----------------------------------------------------------------------


class ReadOnlyScope(Mapping[str, Any]):
    """A scope that is a Mapping but not a dict."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class OverridingScope(dict[str, Any]):
    """A dict subclass whose lookups are overridden: Starlette calls the overrides."""

    def __getitem__(self, key: str) -> Any:
        if key == "app":
            return "app-from-getitem"
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key == "path_params":
            return {"from": "get-override"}
        if key == "client":
            return ("10.0.0.1", 1)
        return super().get(key, default)


def outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 (compared, type and message)
        return ("raised", type(exc).__name__, str(exc))


def accessors(ws: Any) -> dict[str, Any]:
    return {
        "path_params": outcome(lambda: ws.path_params),
        "client": outcome(lambda: ws.client),
        "app": outcome(lambda: ws.app),
        "get_missing": outcome(lambda: ws.get("missing", "dflt")),
        "get_none": outcome(lambda: ws.get("none_value", "dflt")),
        "contains_none": outcome(lambda: "none_value" in ws),
        "contains_missing": outcome(lambda: "missing" in ws),
        "len": outcome(lambda: len(ws)),
        "keys": outcome(lambda: sorted(ws)),
        "getitem_path": outcome(lambda: ws["path"]),
        "url": outcome(lambda: str(ws.url)),
    }


SCOPE_KINDS = [dict, ReadOnlyScope, OverridingScope]

optional_values = st.one_of(st.none(), st.just(...))  # ... stands for "a real value", None for None


@given(
    path_params=optional_values,
    client=optional_values,
    scheme=optional_values,
    server=optional_values,
    query_string=optional_values,
)
@pytest.mark.parametrize("kind", SCOPE_KINDS, ids=lambda k: k.__name__)
def test_mapping_scope_answers_as_starlette(
    kind: Any, path_params: Any, client: Any, scheme: Any, server: Any, query_string: Any
) -> None:
    data: dict[str, Any] = {
        "type": "websocket",
        "path": "/p",
        "headers": [],
        "none_value": None,
        "app": "the-app",
    }
    values = {
        "path_params": {"id": "1"},
        "client": ("127.0.0.1", 5000),
        "scheme": "wss",
        "server": ("example.com", 8443),
        "query_string": b"a=1",
    }
    for key, choice in [
        ("path_params", path_params),
        ("client", client),
        ("scheme", scheme),
        ("server", server),
        ("query_string", query_string),
    ]:
        if choice is not None:
            data[key] = values[key]
        elif key in ("path_params", "client"):
            data[key] = None  # present, with the value None
    ours = accessors(WebSocket(kind(dict(data)), None, None))
    theirs = accessors(sw.WebSocket(kind(dict(data)), None, None))  # type: ignore[arg-type]
    assert ours == theirs


# --- 7. A WebSocket copies and pickles as Starlette's does ----------------------------------------


async def _receive_for_pickle() -> dict[str, Any]:
    return CONNECT


async def _send_for_pickle(message: Any) -> None:
    return None


@pytest.mark.parametrize("cls", [WebSocket, sw.WebSocket], ids=["ferrosocket", "starlette"])
def test_websocket_copies_and_pickles_like_starlette(cls: Any) -> None:
    import copy
    import pickle

    scope = make_scope()
    ws = cls(scope, _receive_for_pickle, _send_for_pickle)
    ws.application_state = sw.WebSocketState.CONNECTED if cls is sw.WebSocket else WebSocketState.CONNECTED
    ws.extra = "user attribute"
    shallow = copy.copy(ws)
    assert type(shallow) is cls and shallow.scope is scope and shallow._receive is _receive_for_pickle
    assert shallow.application_state.name == "CONNECTED" and shallow.extra == "user attribute"
    deep = copy.deepcopy(ws)
    assert deep.scope == scope and deep.scope is not scope and deep.application_state.name == "CONNECTED"
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        loaded = pickle.loads(pickle.dumps(ws, protocol=protocol))
        assert type(loaded) is cls and loaded.scope == scope
        assert loaded.client_state.name == "CONNECTING" and loaded.application_state.name == "CONNECTED"

    def local() -> Any:
        async def receive() -> dict[str, Any]:
            return CONNECT

        return receive

    def pickle_error(ws: Any) -> tuple[type[BaseException], str]:
        with pytest.raises(Exception) as info:  # noqa: B017 (compared below, type and text)
            pickle.dumps(ws)
        return info.type, str(info.value)

    # Refused where Starlette's is, with the error pickle gives for the callable itself.
    error = pickle_error(cls(scope, local(), _send_for_pickle))
    assert error == pickle_error(sw.WebSocket(scope, local(), _send_for_pickle))
    assert "local object" in error[1]


# --- accept()'s own path (receive/send not overridden) and the path through overrides. ---------


class Recording(WebSocket):
    """A subclass whose receive()/send() record what accept() hands them (as Starlette's do)."""

    seen: list[Any]

    async def receive(self) -> Any:
        message = await super().receive()
        self.seen.append(("receive", message))
        return message

    async def send(self, message: Any) -> None:
        self.seen.append(("send", dict(message)))
        await super().send(message)


ACCEPTED = {"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-ok", b"1")]}


async def test_accept_goes_through_a_subclass_receive_and_send() -> None:
    peer = Peer(CONNECT)
    ws = Recording(make_scope(), peer.receive, peer.send)
    ws.seen = []
    await ws.accept("chat", [(b"X-Ok", b"1")])
    assert ws.seen == [("receive", CONNECT), ("send", ACCEPTED)]
    assert peer.sent == [ACCEPTED]


async def test_accept_goes_through_an_instance_send() -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    ws.send = send  # type: ignore[method-assign]  # a test double, as apps' tests make them
    await ws.accept("chat", [(b"X-Ok", b"1")])
    assert sent == [ACCEPTED] and peer.sent == []
    assert ws.client_state is WebSocketState.CONNECTED  # its receive() was WebSocket's


@pytest.mark.parametrize("first", ["connect received before", "connect received by accept"])
async def test_accept_own_path_sends_and_moves_states_as_the_other(first: str) -> None:
    results = []
    for cls in (WebSocket, Recording):
        peer = Peer(CONNECT)
        ws = cls(make_scope(), peer.receive, peer.send)
        ws.seen = []  # type: ignore[attr-defined]
        if first == "connect received before":
            assert await ws.receive() == CONNECT
        await ws.accept("chat", [(b"X-Ok", b"1")])
        results.append((peer.sent, peer.received, ws.client_state, ws.application_state))
    assert results[0] == results[1] == ([ACCEPTED], 1, WebSocketState.CONNECTED, WebSocketState.CONNECTED)


async def test_accept_own_path_after_a_failed_receive_or_send_can_be_retried() -> None:
    class Flaky(Peer):
        def __init__(self) -> None:
            super().__init__(CONNECT)
            self.fail_receive = self.fail_send = True

        async def receive(self) -> dict[str, Any]:
            if self.fail_receive:
                self.fail_receive = False
                raise OSError("receive failed")
            return await super().receive()

        async def send(self, message: Any) -> None:
            if self.fail_send:
                self.fail_send = False
                raise RuntimeError("send failed")  # (an OSError would mean the peer is gone)
            await super().send(message)

    peer = Flaky()
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    with pytest.raises(OSError, match="receive failed"):
        await ws.accept()
    assert ws.client_state is WebSocketState.CONNECTING  # the receive left no trace
    with pytest.raises(RuntimeError, match="send failed"):
        await ws.accept()  # 'connect' received; the accept's send failed: not committed
    assert ws.client_state is WebSocketState.CONNECTED
    assert ws.application_state is WebSocketState.CONNECTING
    await ws.accept()
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert ws.application_state is WebSocketState.CONNECTED


# --- close()'s own path (send not overridden) and the path through an override. ------------------

CLOSED = {"type": "websocket.close", "code": 4001, "reason": "bye"}


async def test_close_goes_through_a_subclass_send() -> None:
    peer = Peer(CONNECT)
    ws = Recording(make_scope(), peer.receive, peer.send)
    ws.seen = []
    await ws.accept()
    await ws.close(4001, "bye")
    assert ws.seen[-1] == ("send", CLOSED)
    assert peer.sent[-1] == CLOSED


async def test_close_goes_through_an_instance_send() -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    ws.send = send  # type: ignore[method-assign]  # a test double, as apps' tests make them
    await ws.close(4001, "bye")
    assert sent == [CLOSED]
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert ws.application_state is WebSocketState.CONNECTED  # its send() was not WebSocket's


@pytest.mark.parametrize(
    "when", ["before accept", "after accept", "after the peer left", "twice", "reason None"]
)
async def test_close_own_path_sends_and_moves_states_as_the_other(when: str) -> None:
    results = []
    for cls in (WebSocket, Recording):
        peer = Peer(CONNECT, {"type": "websocket.disconnect", "code": 1001})
        ws = cls(make_scope(), peer.receive, peer.send)
        ws.seen = []  # type: ignore[attr-defined]
        if when != "before accept":
            await ws.accept()
        if when == "after the peer left":
            with pytest.raises(WebSocketDisconnect):
                await ws.receive_text()
        outcomes = []
        for _ in range(2 if when == "twice" else 1):
            try:
                await ws.close(4001, None if when == "reason None" else "bye")
                outcomes.append("closed")
            except Exception as exc:  # noqa: BLE001 (compared: type and message)
                outcomes.append(f"{type(exc).__name__}: {exc}")
        results.append((peer.sent, outcomes, ws.client_state, ws.application_state))
    assert results[0] == results[1]
    assert results[0][3] is WebSocketState.DISCONNECTED


async def test_close_own_path_after_a_failed_send_can_be_retried() -> None:
    class Flaky(Peer):
        fail = True

        async def send(self, message: Any) -> None:
            if message["type"] == "websocket.close" and self.fail:
                self.fail = False
                raise RuntimeError("send failed")
            await super().send(message)

    peer = Flaky(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    with pytest.raises(RuntimeError, match="send failed"):
        await ws.close(4001, "bye")
    assert ws.application_state is WebSocketState.CONNECTED  # not committed
    await ws.close(4001, "bye")
    assert peer.sent[-1] == CLOSED
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_accept_and_close_through_another_connection_s_methods() -> None:
    """``ws.send = other.send`` (and receive): Starlette's accept and close then act on the other
    connection; so do these, instead of taking their own path on this one."""
    results = []
    for cls in (WebSocket, sw.WebSocket):
        peer, other_peer = Peer(CONNECT), Peer(CONNECT)
        ws = cls(make_scope(), peer.receive, peer.send)  # type: ignore[arg-type]
        other = cls(make_scope(), other_peer.receive, other_peer.send)  # type: ignore[arg-type]
        ws.receive, ws.send = other.receive, other.send  # type: ignore[method-assign]
        await ws.accept()
        await ws.close(4001, "bye")
        results.append(
            (
                peer.sent,
                peer.received,
                other_peer.sent,
                other_peer.received,
                ws.client_state.name,
                ws.application_state.name,
                other.client_state.name,
                other.application_state.name,
            )
        )
    assert results[0] == results[1]
    assert results[0][2] == [
        {"type": "websocket.accept", "subprotocol": None, "headers": []},
        CLOSED,
    ]
