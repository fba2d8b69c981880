"""ferrosocket's checks where Starlette passes anything through (docs/differences.md).

Every check runs before any I/O, raises a clear exception and leaves the state unchanged, so
the app can recover. Each test here fails without the check it names.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from ferrosocket import (
    UnexpectedMessageType,
    WebSocket,
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketState,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


CONNECT = {"type": "websocket.connect"}


class Peer:
    def __init__(self, *incoming: dict[str, Any]) -> None:
        self.incoming = list(incoming)
        self.sent: list[Any] = []

    async def receive(self) -> dict[str, Any]:
        if not self.incoming:
            raise RuntimeError("script exhausted")
        return self.incoming.pop(0)

    async def send(self, message: Any) -> None:
        self.sent.append(message)


def scope(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "websocket",
        "path": "/",
        "headers": [],
        "query_string": b"",
        "subprotocols": ["chat", "json"],
        "extensions": {"websocket.http.response": {}},
    }
    base.update(extra)
    return base


async def connected(*incoming: dict[str, Any]) -> tuple[WebSocket, Peer]:
    peer = Peer(CONNECT, *incoming)
    ws = WebSocket(scope(), peer.receive, peer.send)
    await ws.accept()
    peer.sent.clear()
    return ws, peer


def assert_unchanged(ws: WebSocket, peer: Peer, app: WebSocketState = WebSocketState.CONNECTED) -> None:
    assert peer.sent == []
    assert ws.application_state is app


# --- Outgoing payloads ---


@pytest.mark.parametrize("bad", [b"bytes", 1, None, ["x"]])
async def test_send_text_takes_str_only(bad: Any) -> None:
    ws, peer = await connected()
    with pytest.raises(TypeError, match=r"send_text\(\) expects a str"):
        await ws.send_text(bad)
    assert_unchanged(ws, peer)


async def test_send_text_rejects_lone_surrogates() -> None:
    ws, peer = await connected()
    with pytest.raises(UnicodeEncodeError):
        await ws.send_text("bad \ud800")
    assert_unchanged(ws, peer)


@pytest.mark.parametrize("good", [b"x", bytearray(b"x"), memoryview(b"x")])
async def test_send_bytes_takes_bytes_like(good: Any) -> None:
    ws, peer = await connected()
    await ws.send_bytes(good)
    assert peer.sent == [{"type": "websocket.send", "bytes": b"x"}]
    assert type(peer.sent[0]["bytes"]) is bytes


@pytest.mark.parametrize("bad", ["str", 1, None])
async def test_send_bytes_rejects_the_rest(bad: Any) -> None:
    ws, peer = await connected()
    with pytest.raises(TypeError, match=r"send_bytes\(\) expects bytes"):
        await ws.send_bytes(bad)
    assert_unchanged(ws, peer)


@pytest.mark.parametrize(
    "message",
    [
        {"type": "websocket.send"},
        {"type": "websocket.send", "text": "a", "bytes": b"b"},
        {"type": "websocket.send", "text": None, "bytes": None},
    ],
)
async def test_raw_send_needs_exactly_one_payload(message: dict[str, Any]) -> None:
    ws, peer = await connected()
    with pytest.raises(ValueError, match="exactly one payload"):
        await ws.send(message)
    assert_unchanged(ws, peer)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "websocket.send", "text": b"raw"}, TypeError),
        ({"type": "websocket.send", "bytes": "str"}, TypeError),
    ],
)
async def test_raw_send_payload_types(message: dict[str, Any], error: type[Exception]) -> None:
    ws, peer = await connected()
    with pytest.raises(error):
        await ws.send(message)
    assert_unchanged(ws, peer)


# --- close() ---


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2000, 5000, -1])
async def test_close_code_range(code: int) -> None:
    ws, peer = await connected()
    with pytest.raises(ValueError, match="close code"):
        await ws.close(code)
    assert_unchanged(ws, peer)


@pytest.mark.parametrize("code", [True, 1000.0, "1000", None])
async def test_close_code_type(code: Any) -> None:
    ws, peer = await connected()
    with pytest.raises(TypeError, match="close code must be an int"):
        await ws.close(code)
    assert_unchanged(ws, peer)


@pytest.mark.parametrize("code", [1000, 1003, 1007, 1014, 3000, 4999])
async def test_close_code_accepted(code: int) -> None:
    ws, peer = await connected()
    await ws.close(code)
    assert peer.sent == [{"type": "websocket.close", "code": code, "reason": ""}]
    assert ws.application_state is WebSocketState.DISCONNECTED


@pytest.mark.parametrize("reason", [1, b"bytes", 1.5, object()])
async def test_close_reason_type(reason: Any) -> None:
    ws, peer = await connected()
    with pytest.raises(TypeError, match="close reason must be a str or None"):
        await ws.close(1008, reason)
    assert_unchanged(ws, peer)


async def test_a_list_or_dict_reason_goes_as_json() -> None:
    # FastAPI's websocket validation handler closes with its errors as a list.
    ws, peer = await connected()
    errors = [{"type": "int_parsing", "loc": ["query", "n"], "msg": "Input should be a valid integer" * 5}]
    await ws.close(1008, errors)  # type: ignore[arg-type]
    reason = peer.sent[0]["reason"]
    assert reason.startswith('[{"type":"int_parsing","loc":["query","n"]')
    assert len(reason.encode()) == 123


async def test_long_close_reason_is_truncated_at_a_character_boundary() -> None:
    ws, peer = await connected()
    await ws.close(1011, "é" * 100)
    reason = peer.sent[0]["reason"]
    assert reason == "é" * 61 and len(reason.encode()) == 122


# --- accept() ---


async def test_accept_subprotocol_must_be_offered() -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(scope(), peer.receive, peer.send)
    with pytest.raises(ValueError, match="was not offered by the client"):
        await ws.accept("xml")
    assert_unchanged(ws, peer, WebSocketState.CONNECTING)
    await ws.accept("json")
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": "json", "headers": []}]


@pytest.mark.parametrize(
    ("headers", "error", "match"),
    [
        ([(b"bad name", b"v")], ValueError, "not a valid HTTP token"),
        ([(b"x", b"a\r\nSet-Cookie: evil")], ValueError, "CR, LF or NUL"),
        ([(b"x", b"nul\x00")], ValueError, "CR, LF or NUL"),
        ([(b"Sec-WebSocket-Protocol", b"chat")], ValueError, "subprotocol"),
        ([("x", "y")], TypeError, r"\(bytes, bytes\) pair"),
        ([(b"x",)], TypeError, r"\(bytes, bytes\) pair"),
        ("x: y", TypeError, "iterable of"),
    ],
)
async def test_accept_headers_checked(headers: Any, error: type[Exception], match: str) -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(scope(), peer.receive, peer.send)
    with pytest.raises(error, match=match):
        await ws.accept(headers=headers)
    assert_unchanged(ws, peer, WebSocketState.CONNECTING)


async def test_accept_sends_a_fresh_lowercased_list() -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(scope(), peer.receive, peer.send)
    headers = ((b"X-Trace", bytearray(b"1")),)
    await ws.accept(headers=headers)
    sent = peer.sent[0]["headers"]
    assert sent == [(b"x-trace", b"1")] and isinstance(sent, list)


# --- Denial responses ---


async def test_denial_status_and_body() -> None:
    async def response(status: Any, body: bool) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "websocket.http.response.start", "status": status, "headers": [(b"x", b"1")]})
            message: dict[str, Any] = {"type": "websocket.http.response.body"}
            if body:
                message["body"] = b"no"
            await send(message)

        return app

    for bad, error in [(99, ValueError), (600, ValueError), ("403", TypeError), (True, TypeError)]:
        peer = Peer(CONNECT)
        ws = WebSocket(scope(), peer.receive, peer.send)
        with pytest.raises(error, match="denial response status"):
            await ws.send_denial_response(await response(bad, True))
        assert_unchanged(ws, peer, WebSocketState.CONNECTING)
    peer = Peer(CONNECT)
    ws = WebSocket(scope(), peer.receive, peer.send)
    await ws.send_denial_response(await response(403, False))
    assert peer.sent[1] == {"type": "websocket.http.response.body", "body": b"", "more_body": False}
    assert ws.application_state is WebSocketState.DISCONNECTED


# --- Incoming messages ---


@pytest.mark.parametrize(
    "message",
    [
        {"type": "websocket.receive", "bytes": b"x"},
        {"type": "websocket.receive", "bytes": b"x", "text": None},
    ],
)
async def test_receive_text_on_a_binary_message(message: dict[str, Any]) -> None:
    ws, _ = await connected(message)
    with pytest.raises(UnexpectedMessageType, match=r"receive_text\(\) got a binary message") as caught:
        await ws.receive_text()
    assert isinstance(caught.value, KeyError)


async def test_receive_bytes_on_a_text_message() -> None:
    ws, _ = await connected({"type": "websocket.receive", "text": "x", "bytes": None})
    with pytest.raises(KeyError, match=r"receive_bytes\(\) got a text message"):
        await ws.receive_bytes()


@pytest.mark.parametrize(
    ("mode", "message", "expected"),
    [
        (
            "text",
            {"type": "websocket.receive", "bytes": b"[]"},
            'receive_json() got a binary message: use receive_json(mode="binary")',
        ),
        (
            "binary",
            {"type": "websocket.receive", "text": "[]"},
            'receive_json(mode="binary") got a text message: use receive_json()',
        ),
    ],
)
async def test_receive_json_on_the_other_frame_names_receive_json(
    mode: str, message: dict[str, Any], expected: str
) -> None:
    ws, _ = await connected(message)
    with pytest.raises(UnexpectedMessageType) as caught:
        await ws.receive_json(mode)
    assert str(caught.value).startswith(expected) and isinstance(caught.value, KeyError)


async def test_payload_of_the_wrong_type() -> None:
    ws, _ = await connected(
        {"type": "websocket.receive", "text": b"x"}, {"type": "websocket.receive", "bytes": "x"}
    )
    with pytest.raises(TypeError, match="not str"):
        await ws.receive_text()
    with pytest.raises(TypeError, match="not bytes"):
        await ws.receive_bytes()


async def test_disconnect_without_code_is_1005_and_stays_readable() -> None:
    ws, _ = await connected({"type": "websocket.receive", "text": "a"}, {"type": "websocket.disconnect"})
    assert ws.close_code is None
    assert [t async for t in ws.iter_text()] == ["a"]
    assert (ws.close_code, ws.close_reason) == (1005, "")


async def test_receive_json_binary_takes_memoryview() -> None:
    ws, _ = await connected({"type": "websocket.receive", "bytes": memoryview(b'{"a": 1}')})
    assert await ws.receive_json(mode="binary") == {"a": 1}


def test_url_never_raises_on_a_non_utf8_query() -> None:
    ws = WebSocket(scope(query_string=b"a=\xff&b=%C3%A9"), None, None)
    assert ws.url == "/?a=%FF&b=%C3%A9"
    assert ws.query_params["a"] == "\xff"


# --- The state machine ---


async def test_send_after_the_peer_left_raises_its_close() -> None:
    ws, peer = await connected({"type": "websocket.disconnect", "code": 4001, "reason": "bye"})
    with pytest.raises(WebSocketDisconnect):
        await ws.receive_text()
    for send in (
        ws.send_text("x"),
        ws.send_bytes(b"x"),
        ws.send_json({}),
        ws.send({"type": "websocket.send", "text": "x"}),
    ):
        with pytest.raises(WebSocketDisconnect) as caught:
            await send
        assert (caught.value.code, caught.value.reason) == (4001, "bye")
    assert peer.sent == []
    # Closing afterwards is fine and sends nothing: no close frame can reach a peer that left.
    await ws.close()
    assert peer.sent == [] and ws.application_state is WebSocketState.DISCONNECTED


async def test_a_second_concurrent_receive_is_a_clear_error() -> None:
    send_stream, receive_stream = anyio.create_memory_object_stream[dict[str, Any]](10)
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    receives = 0
    first_is_waiting = anyio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal receives
        receives += 1
        if receives == 2:  # the one after accept's 'connect': `first` is in receive_text()
            first_is_waiting.set()
        return await receive_stream.receive()

    ws = WebSocket(scope(), receive, send)
    await send_stream.send(CONNECT)
    await ws.accept()
    results: list[Any] = []

    async def first() -> None:
        try:
            results.append(await ws.receive_text())
        except WebSocketDisconnect as exc:
            results.append(exc.code)

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        # Not a sleep: on a loaded machine `first` may not have started within any fixed time.
        await first_is_waiting.wait()
        with pytest.raises(RuntimeError, match="another task is already waiting"):
            await ws.receive_text()
        await send_stream.send({"type": "websocket.disconnect", "code": 1001})
    assert results == [1001]  # the real code, not an invented one
    with pytest.raises(WebSocketDisconnected):
        await ws.receive()


async def test_a_cancelled_receive_loses_no_message() -> None:
    send_stream, receive_stream = anyio.create_memory_object_stream[dict[str, Any]](10)
    ws = WebSocket(scope(), receive_stream.receive, Peer().send)
    await send_stream.send(CONNECT)
    await ws.accept()
    with anyio.move_on_after(0.01):
        await ws.receive_text()
    await send_stream.send({"type": "websocket.receive", "text": "kept"})
    assert await ws.receive_text() == "kept"


async def test_a_cancelled_close_can_be_retried() -> None:
    release = anyio.Event()
    sent: list[Any] = []

    async def slow_send(message: Any) -> None:
        if message["type"] == "websocket.close" and not release.is_set():
            await anyio.sleep_forever()
        sent.append(message)

    ws = WebSocket(scope(), Peer(CONNECT).receive, slow_send)
    await ws.accept()
    with anyio.move_on_after(0.01):
        await ws.close(1001)
    # The close did not go out, and the state says so.
    assert ws.application_state is WebSocketState.CONNECTED
    release.set()
    await ws.close(1001)
    assert sent[-1] == {"type": "websocket.close", "code": 1001, "reason": ""}
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_accept_moves_state_only_after_the_send_and_maps_oserror() -> None:
    async def failing_send(message: Any) -> None:
        raise OSError("peer gone during the handshake")

    ws = WebSocket(scope(), Peer(CONNECT).receive, failing_send)
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.accept()
    assert caught.value.code == 1006
    assert ws.application_state is WebSocketState.DISCONNECTED


@pytest.mark.parametrize(
    ("headers", "error"),
    [([(b"x", b"a\r\nb")], ValueError), ([(b"bad name", b"v")], ValueError), ([("x", "y")], TypeError)],
)
async def test_denial_headers_checked_like_accept(headers: Any, error: type[Exception]) -> None:
    peer = Peer(CONNECT)
    ws = WebSocket(scope(), peer.receive, peer.send)
    with pytest.raises(error):
        await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
    assert_unchanged(ws, peer, WebSocketState.CONNECTING)
    # Duplicate names (two set-cookie headers) are fine, and names go out lower-cased.
    await ws.send(
        {
            "type": "websocket.http.response.start",
            "status": 403,
            "headers": [(b"Set-Cookie", b"a"), (b"set-cookie", b"b")],
        }
    )
    assert peer.sent[0]["headers"] == [(b"set-cookie", b"a"), (b"set-cookie", b"b")]
