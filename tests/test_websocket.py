"""Scenario tests of ferrosocket's WebSocket against scripted ASGI callables (asyncio and trio).

The differential tests (test_diff_*.py) compare with Starlette on generated inputs; these pin
the behaviours a reader should see spelled out.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from ferrosocket import (
    WebSocket,
    WebSocketClose,
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketState,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket",
        "path": "/ws",
        "query_string": b"room=1&room=2",
        "headers": [(b"host", b"example.org"), (b"sec-websocket-version", b"13")],
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    scope.update(extra)
    return scope


def test_url_components_are_plain_strings_and_errors_are_lazy() -> None:
    from ferrosocket import URL

    class Text(str):
        pass

    # Built from the scope's own pieces (no parse): plain str components, as urlsplit gives.
    url = WebSocket(make_scope(path=Text("/ws"), scheme=Text("ws")), None, None).url
    assert (type(url.path), type(url.scheme), url.fragment) == (str, str, "")
    # The text would split otherwise (a `#` in the query): parsed.
    url = URL(scope=make_scope(query_string=b"a=1#frag"))
    assert (url.query, url.fragment) == ("a=1", "frag")
    # urlsplit raises on every access, as Starlette does; other names are plain AttributeErrors.
    bad = URL("http://[::1/x")
    for _ in range(2):
        for name in ("scheme", "netloc", "path", "query", "fragment", "port", "hostname"):
            with pytest.raises(ValueError, match="Invalid IPv6 URL"):
                getattr(bad, name)
    with pytest.raises(AttributeError, match="'URL' object has no attribute 'nope'"):
        bad.nope  # noqa: B018
    # Such a URL is of a hidden subclass (URL itself has no `__getattr__`) that passes for URL.
    assert bad.__class__ is URL and isinstance(bad, URL) and type(bad).__name__ == "URL"
    assert pickle.loads(pickle.dumps(bad)).__class__ is URL
    assert type(URL("http://h/x")) is URL and type(bad.replace("x", "y")) is str
    # Only `.port` raises for a bad port; the server's port is not validated by Starlette.
    url = URL(scope=make_scope(headers=[], server=("h", None)))
    assert (url, url.hostname, url.path) == ("ws://h:None/ws?room=1&room=2", "h", "/ws")
    with pytest.raises(ValueError, match="Port could not be cast to integer value as 'None'"):
        url.port  # noqa: B018


class Peer:
    """Scripted receive, recording send."""

    def __init__(self, *incoming: dict[str, Any]) -> None:
        self.incoming = list(incoming)
        self.sent: list[dict[str, Any]] = []
        self.fail_send_with: BaseException | None = None

    async def receive(self) -> dict[str, Any]:
        if not self.incoming:
            raise RuntimeError("script exhausted")
        return self.incoming.pop(0)

    async def send(self, message: dict[str, Any]) -> None:
        if self.fail_send_with is not None:
            raise self.fail_send_with
        self.sent.append(message)


CONNECT = {"type": "websocket.connect"}


def text(value: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": value}


async def test_echo_session_and_states() -> None:
    peer = Peer(CONNECT, text("hello"), {"type": "websocket.receive", "bytes": b"\x00"}, text('{"a": 1}'))
    ws = WebSocket(make_scope(subprotocols=["chat", "superchat"]), peer.receive, peer.send)
    assert ws.client_state is WebSocketState.CONNECTING
    assert ws.application_state is WebSocketState.CONNECTING
    await ws.accept(subprotocol="chat")
    assert ws.client_state is WebSocketState.CONNECTED
    assert ws.application_state is WebSocketState.CONNECTED
    assert await ws.receive_text() == "hello"
    assert await ws.receive_bytes() == b"\x00"
    assert await ws.receive_json() == {"a": 1}
    await ws.send_text("t")
    await ws.send_bytes(b"b")
    await ws.send_json({"k": [1, 2]}, mode="binary")
    await ws.close(4000, "bye")
    assert ws.application_state is WebSocketState.DISCONNECTED
    assert peer.sent == [
        {"type": "websocket.accept", "subprotocol": "chat", "headers": []},
        {"type": "websocket.send", "text": "t"},
        {"type": "websocket.send", "bytes": b"b"},
        {"type": "websocket.send", "bytes": b'{"k":[1,2]}'},
        {"type": "websocket.close", "code": 4000, "reason": "bye"},
    ]
    with pytest.raises(WebSocketDisconnected, match='Cannot call "send" once a close message has been sent.'):
        await ws.send_text("late")


async def test_disconnect_ends_iteration_and_blocks_receive() -> None:
    peer = Peer(
        CONNECT, text("a"), text("b"), {"type": "websocket.disconnect", "code": 1001, "reason": "away"}
    )
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    assert [m async for m in ws.iter_text()] == ["a", "b"]
    assert ws.client_state is WebSocketState.DISCONNECTED
    # The app may still close after the client left (Starlette keeps application_state).
    assert ws.application_state is WebSocketState.CONNECTED
    with pytest.raises(WebSocketDisconnected, match="disconnect message has been received"):
        await ws.receive()


async def test_receive_disconnect_raises_with_code_and_reason() -> None:
    peer = Peer(CONNECT, {"type": "websocket.disconnect", "code": 4001, "reason": "bye"})
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.receive_text()
    assert (caught.value.code, caught.value.reason) == (4001, "bye")


async def test_unexpected_messages_are_runtime_errors() -> None:
    ws = WebSocket(make_scope(), Peer(text("x")).receive, Peer().send)
    with pytest.raises(
        RuntimeError, match="^Expected ASGI message \"websocket.connect\", but got 'websocket.receive'$"
    ):
        await ws.receive()
    ws = WebSocket(make_scope(), Peer().receive, Peer().send)
    with pytest.raises(RuntimeError, match="but got 'websocket.send'$"):
        await ws.send({"type": "websocket.send", "text": "x"})
    assert ws.application_state is WebSocketState.CONNECTING


async def test_receive_text_before_accept() -> None:
    ws = WebSocket(make_scope(), Peer(CONNECT).receive, Peer().send)
    with pytest.raises(WebSocketDisconnected, match='Need to call "accept" first'):
        await ws.receive_text()


async def test_oserror_from_send_means_1006() -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    peer.fail_send_with = OSError("gone")
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.send_text("x")
    assert caught.value.code == 1006
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_json_modes() -> None:
    peer = Peer(CONNECT, {"type": "websocket.receive", "bytes": b'{"n": 12345678901234567890123}'})
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    with pytest.raises(RuntimeError, match='The "mode" argument should be "text" or "binary".'):
        await ws.receive_json(mode="yaml")
    assert await ws.receive_json(mode="binary") == {"n": 12345678901234567890123}
    await ws.send_json({"s": "é"})
    assert json.loads(peer.sent[-1]["text"]) == {"s": "é"}


async def test_typed_methods_bypass_overridden_receive_and_send() -> None:
    # docs/differences.md: receive_*/send_* do the checks themselves, without calling
    # self.receive()/self.send() (one coroutine less per message).
    calls: list[str] = []

    class Logged(WebSocket):
        async def receive(self) -> Any:
            calls.append("receive")
            return await super().receive()

        async def send(self, message: Any) -> None:
            calls.append("send")
            await super().send(message)

    peer = Peer(CONNECT, text("a"), {"type": "websocket.receive", "bytes": b"b"}, text("[1]"))
    ws = Logged(make_scope(), peer.receive, peer.send)
    await ws.accept()
    assert calls == ["receive", "send"]
    assert await ws.receive_text() == "a"
    assert await ws.receive_bytes() == b"b"
    assert await ws.receive_json() == [1]
    await ws.send_text("x")
    await ws.send_bytes(b"y")
    await ws.send_json({"z": 1})
    await ws.send_json([2], mode="binary")
    assert calls == ["receive", "send"]
    assert [m.get("text", m.get("bytes")) for m in peer.sent[1:]] == ["x", b"y", '{"z":1}', b"[2]"]


async def test_send_json_oserror_means_1006() -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    await ws.accept()
    peer.fail_send_with = OSError("gone")
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.send_json({"a": 1})
    assert caught.value.code == 1006
    assert isinstance(caught.value.__context__, OSError)
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_denial_response_needs_the_extension() -> None:
    async def response(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.http.response.start", "status": 401, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"no"})

    peer = Peer(CONNECT)
    ws = WebSocket(make_scope(), peer.receive, peer.send)
    with pytest.raises(RuntimeError, match="doesn't support the Websocket Denial Response extension"):
        await ws.send_denial_response(response)
    ws = WebSocket(make_scope(extensions={"websocket.http.response": {}}), peer.receive, peer.send)
    await ws.send_denial_response(response)
    assert ws.application_state is WebSocketState.DISCONNECTED
    assert [m["type"] for m in peer.sent] == ["websocket.http.response.start", "websocket.http.response.body"]


async def test_websocket_close_app() -> None:
    peer = Peer()
    await WebSocketClose(code=1008)({}, peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_scope_views() -> None:
    scope = make_scope(
        headers=[(b"host", b"example.org:8080"), (b"cookie", b"a=1; b=2"), (b"x", b"1"), (b"X", b"2")]
    )
    ws = WebSocket(scope, None, None)
    assert ws.url == "ws://example.org:8080/ws?room=1&room=2"
    assert isinstance(ws.url, str)
    assert (ws.url.scheme, ws.url.hostname, ws.url.port, ws.url.path, ws.url.query) == (
        "ws",
        "example.org",
        8080,
        "/ws",
        "room=1&room=2",
    )
    assert ws.url is ws.url  # cached
    assert ws.headers["HOST"] == "example.org:8080"
    assert ws.headers.getlist("x") == ["1"]  # raw b"X" is not matched, as in Starlette
    assert scope["headers"] is not None and isinstance(scope["headers"], list)
    assert ws.query_params["room"] == "2"
    assert ws.query_params.getlist("room") == ["1", "2"]
    assert ws.cookies == {"a": "1", "b": "2"}
    assert ws.client == ("127.0.0.1", 50000)
    assert ws.client is not None and ws.client.host == "127.0.0.1"
    assert ws["path"] == "/ws" and len(ws) == len(scope) and set(ws) == set(scope)
    assert ws.path_params == {}
    ws.state.user = "me"
    assert scope["state"] == {"user": "me"}
    assert ws == ws and ws != WebSocket(scope, None, None)


def test_scope_type_must_be_websocket() -> None:
    with pytest.raises(AssertionError):
        WebSocket({"type": "http"}, None, None)


def test_url_components_are_read_only() -> None:
    url = WebSocket(make_scope(), None, None).url
    for name in ("path", "scheme", "netloc", "query", "port", "fragment", "hostname"):
        with pytest.raises(AttributeError, match=f"property '{name}' of 'URL' object has no setter"):
            setattr(url, name, "x")
        with pytest.raises(AttributeError, match="has no deleter"):
            delattr(url, name)
    with pytest.raises(AttributeError, match="'URL' object has no attribute 'note'"):
        url.note = 1  # type: ignore[attr-defined]
    assert (url.path, url.scheme, url.netloc, url.port) == ("/ws", "ws", "example.org", None)
