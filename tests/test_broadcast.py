"""``ferrosocket.broadcast`` and ``PreparedMessage``: encode once, send to many, report failures.

Every test runs on asyncio and on trio (the ``anyio_backend`` fixture of conftest.py). The
connections are real ``ferrosocket.WebSocket`` objects, accepted, over in-memory ASGI callables
whose ``send`` can succeed, fail, wait on an event, or yield to the event loop first.
"""

from __future__ import annotations

import copy
import enum
import json
import math
import pickle
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from starlette.websockets import WebSocket as StarletteWebSocket
from strategies.json_payloads import json_edge_values

import ferrosocket
import ferrosocket._prepared
from ferrosocket import (
    BroadcastFailure,
    BroadcastResult,
    PreparedMessage,
    WebSocket,
    WebSocketDisconnect,
    broadcast,
    send_prepared,
)

pytestmark = pytest.mark.anyio

SCOPE = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Peer:
    """One in-memory connection: what its ASGI ``send`` received, and how that send behaves."""

    def __init__(self, behaviour: Callable[[Peer, dict[str, Any]], Awaitable[None]] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.behaviour = behaviour
        self.accepted = False
        self.cancelled = False

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(self, message: dict[str, Any]) -> None:
        if not self.accepted or self.behaviour is None:
            self.accepted = True
            self.sent.append(message)
            return
        await self.behaviour(self, message)

    def payloads(self) -> list[Any]:
        return [m.get("text", m.get("bytes")) for m in self.sent if m["type"] == "websocket.send"]


async def connect(peer: Peer, cls: Any = WebSocket) -> Any:
    websocket = cls(dict(SCOPE), peer.receive, peer.send)
    await websocket.accept()
    return websocket


async def connected(count: int, behaviour: Any = None) -> tuple[list[Peer], list[Any]]:
    peers = [Peer(behaviour) for _ in range(count)]
    return peers, [await connect(peer) for peer in peers]


async def deliver(peer: Peer, message: dict[str, Any]) -> None:
    peer.sent.append(message)


async def yield_then_deliver(peer: Peer, message: dict[str, Any]) -> None:
    await anyio.sleep(0)  # a healthy send that still yields to the event loop
    peer.sent.append(message)


async def broken_pipe(peer: Peer, message: dict[str, Any]) -> None:
    raise OSError("the transport is gone")


async def fails_oddly(peer: Peer, message: dict[str, Any]) -> None:
    raise ValueError("a bug in some middleware")


def stuck_until(event: anyio.Event) -> Callable[[Peer, dict[str, Any]], Awaitable[None]]:
    async def stuck(peer: Peer, message: dict[str, Any]) -> None:
        try:
            await event.wait()
        except BaseException:
            peer.cancelled = True
            raise
        peer.sent.append(message)

    return stuck


# --- Everyone gets the message, once. ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mode", "expected"),
    [
        ("héllo 👋", None, "héllo 👋"),
        ("héllo", "text", "héllo"),
        (b"\x00\xff", "binary", b"\x00\xff"),
        (bytearray(b"ab"), "binary", b"ab"),
        (memoryview(b"cd"), "binary", b"cd"),
        ({"a": [1, None, "é"]}, "json", '{"a":[1,null,"é"]}'),
        (PreparedMessage.json([1, 2], mode="binary"), None, b"[1,2]"),
        (PreparedMessage.text("x"), None, "x"),
    ],
)
async def test_every_connection_gets_the_message_once(data: Any, mode: Any, expected: Any) -> None:
    peers, websockets = await connected(50)
    result = await broadcast(websockets, data, mode)
    assert result == BroadcastResult(50, ())
    assert result.ok and result.failed == []
    for peer in peers:
        assert peer.payloads() == [expected]
        assert type(peer.payloads()[0]) is type(expected)


async def test_connections_whose_sends_yield_all_get_it_once_within_the_concurrency_bound() -> None:
    waiting = 0
    most_waiting = 0

    async def counted(peer: Peer, message: dict[str, Any]) -> None:
        nonlocal waiting, most_waiting
        waiting += 1
        most_waiting = max(most_waiting, waiting)
        await anyio.sleep(0.001)
        waiting -= 1
        peer.sent.append(message)

    peers, websockets = await connected(200, counted)
    result = await broadcast(websockets, "m", concurrency=7)
    assert result == BroadcastResult(200, ())
    assert all(peer.payloads() == ["m"] for peer in peers)
    assert most_waiting == 7  # bounded, and the bound is used


async def test_a_worker_goes_on_with_the_list_after_its_waiting_send() -> None:
    """On a server whose every send yields (granian's), the broadcast runs ``concurrency``
    workers in all, not one task per connection (each task and its frames are garbage the cyclic
    GC then pays for: measured in `make gateway`'s granian fan-out)."""
    tasks: set[int] = set()

    async def counted(peer: Peer, message: dict[str, Any]) -> None:
        tasks.add(anyio.get_current_task().id)
        await anyio.sleep(0)
        peer.sent.append(message)

    peers, websockets = await connected(300, counted)
    result = await broadcast(websockets, "m", concurrency=5)
    assert result == BroadcastResult(300, ())
    assert all(peer.payloads() == ["m"] for peer in peers)
    assert len(tasks) == 5  # the calling task and four more; one task per send before


async def test_mixed_fast_and_yielding_sends() -> None:
    peers = [Peer(yield_then_deliver if i % 3 == 0 else deliver) for i in range(300)]
    websockets = [await connect(peer) for peer in peers]
    result = await broadcast(websockets, {"n": 1}, "json", concurrency=4)
    assert result == BroadcastResult(300, ())
    assert all(peer.payloads() == ['{"n":1}'] for peer in peers)


async def test_successive_broadcasts_arrive_in_order_on_each_connection() -> None:
    peers = [Peer(yield_then_deliver if i % 2 else deliver) for i in range(40)]
    websockets = [await connect(peer) for peer in peers]
    for n in range(5):
        assert (await broadcast(websockets, str(n), concurrency=3)).ok
    assert all(peer.payloads() == ["0", "1", "2", "3", "4"] for peer in peers)


async def test_works_on_starlette_websockets_too() -> None:
    peers = [Peer() for _ in range(5)]
    websockets = [await connect(peer, StarletteWebSocket) for peer in peers]
    result = await broadcast(websockets, {"k": "v"}, "json")
    assert result.delivered == 5
    assert all(peer.payloads() == ['{"k":"v"}'] for peer in peers)


async def test_the_collection_is_read_once_at_the_call() -> None:
    peers, websockets = await connected(10)
    members = dict.fromkeys(websockets)

    async def leaves_and_joins(peer: Peer, message: dict[str, Any]) -> None:
        members.pop(websockets[5], None)  # "dictionary changed size during iteration" if read lazily
        members[object()] = None  # type: ignore[index]
        peer.sent.append(message)

    peers[0].behaviour = leaves_and_joins
    result = await broadcast(members.keys(), "x")
    assert result == BroadcastResult(10, ())
    assert all(peer.payloads() == ["x"] for peer in peers)


async def test_an_empty_collection() -> None:
    assert await broadcast([], "x") == BroadcastResult(0, ())


# --- Encoded once. ----------------------------------------------------------------------------


async def test_json_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = ferrosocket._prepared.dumps_bytes

    def counting(data: Any) -> bytes:
        nonlocal calls
        calls += 1
        return real(data)

    monkeypatch.setattr(ferrosocket._prepared, "dumps_bytes", counting)
    peers, websockets = await connected(100)
    peers[3].behaviour = yield_then_deliver
    assert (await broadcast(websockets, {"x": [1, None]}, "json")).delivered == 100
    assert calls == 1
    message = PreparedMessage.json({"y": 2})
    for _ in range(3):
        await broadcast(websockets, message)
    await send_prepared(websockets[0], message)
    assert calls == 2
    # Every connection was handed the very same str object: nothing re-encoded per connection.
    assert len({id(peer.payloads()[-1]) for peer in peers[1:]}) == 1


@settings(max_examples=150, deadline=None)
@given(value=json_edge_values)
def test_prepared_json_is_what_send_json_sends(value: Any) -> None:
    """Differential: the payload of PreparedMessage.json is exactly ferrosocket's send_json's, and
    means what Starlette's send_json (json.dumps) sends; the same exception when it cannot."""

    async def sent_by(cls: Any, mode: str) -> Any:
        peer = Peer()
        websocket = await connect(peer, cls)
        try:
            await websocket.send_json(value, mode=mode)
        except Exception as error:
            return type(error)
        return peer.payloads()[0]

    for mode in ("text", "binary"):
        ours = anyio.run(sent_by, WebSocket, mode)
        starlettes = anyio.run(sent_by, StarletteWebSocket, mode)
        try:
            prepared: Any = PreparedMessage.json(value, mode=mode).payload  # type: ignore[arg-type]
        except Exception as error:
            prepared = type(error)
        assert prepared == ours
        if isinstance(prepared, type) != isinstance(starlettes, type):
            # The two deviations differences.md lists for send_json: a plain Enum member is written
            # as its value, where json.dumps raises; a lone surrogate raises UnicodeEncodeError
            # where Starlette hands the server a str it cannot encode.
            assert holds(value, lambda v: isinstance(v, enum.Enum) or is_lone_surrogate(v)), value
        elif isinstance(prepared, type):
            assert issubclass(prepared, starlettes)
        else:
            assert canonical(prepared) == canonical(starlettes)


def holds(value: Any, check: Callable[[Any], bool]) -> bool:
    if check(value):
        return True
    if isinstance(value, dict):
        return any(holds(k, check) or holds(v, check) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(holds(v, check) for v in value)
    return False


def is_lone_surrogate(value: Any) -> bool:
    return isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def canonical(payload: str | bytes) -> str:
    text = payload.decode() if isinstance(payload, bytes) else payload
    return json.dumps(json.loads(text), sort_keys=True)


# --- Dead and slow connections. ----------------------------------------------------------------


async def test_dead_connections_are_reported_and_the_others_still_get_it() -> None:
    peers, websockets = await connected(30)
    peers[4].behaviour = broken_pipe  # the server's send raises OSError
    peers[9].behaviour = fails_oddly  # any other exception
    gone = await connect(Peer())  # the peer disconnected: the send refuses at once
    gone_peer_receive = iter([{"type": "websocket.disconnect", "code": 1001}])

    async def receive() -> dict[str, Any]:
        return next(gone_peer_receive)

    gone._receive = receive
    with pytest.raises(WebSocketDisconnect):
        await gone.receive_text()
    closed = await connect(Peer())
    await closed.close()
    not_a_websocket = object()
    targets = [*websockets[:10], gone, closed, not_a_websocket, *websockets[10:]]

    result = await broadcast(targets, "still here")

    assert result.delivered == 28
    failures = {id(f.websocket): f.error for f in result.failures}
    assert set(failures) == {id(websockets[4]), id(websockets[9]), id(gone), id(closed), id(not_a_websocket)}
    assert isinstance(failures[id(websockets[4])], WebSocketDisconnect)
    assert failures[id(websockets[4])].code == 1006
    assert isinstance(failures[id(websockets[9])], ValueError)
    assert isinstance(failures[id(gone)], WebSocketDisconnect) and failures[id(gone)].code == 1001
    assert isinstance(failures[id(closed)], RuntimeError)
    assert isinstance(failures[id(not_a_websocket)], AttributeError)
    assert result.failed == [f.websocket for f in result.failures]
    assert all(isinstance(f, BroadcastFailure) for f in result.failures)
    for i, peer in enumerate(peers):
        assert peer.payloads() == ([] if i in (4, 9) else ["still here"])


async def test_a_slow_connection_times_out_and_does_not_hold_the_others_back() -> None:
    never = anyio.Event()
    peers, websockets = await connected(100)
    peers[0].behaviour = stuck_until(never)  # the very first one
    peers[50].behaviour = stuck_until(never)
    delivered_at: list[float] = []

    async def timed(peer: Peer, message: dict[str, Any]) -> None:
        delivered_at.append(anyio.current_time())
        peer.sent.append(message)

    for i, peer in enumerate(peers):
        if i not in (0, 50):
            peer.behaviour = timed
    start = anyio.current_time()
    with anyio.fail_after(10):
        result = await broadcast(websockets, "t", timeout=1.0)
    elapsed = anyio.current_time() - start

    assert 1.0 <= elapsed < 3.0  # one timeout, not two in a row
    assert max(delivered_at) - start < 0.5  # the others did not wait for the timeout
    assert result.delivered == 98
    assert {id(f.websocket) for f in result.failures} == {id(websockets[0]), id(websockets[50])}
    for failure in result.failures:
        assert isinstance(failure.error, TimeoutError)
        assert str(failure.error) == "send_text() did not complete within 1.0 s"
    assert peers[0].cancelled and peers[50].cancelled
    assert all(peer.payloads() == ["t"] for i, peer in enumerate(peers) if i not in (0, 50))


async def test_with_concurrency_1_each_slow_connection_delays_the_rest_by_at_most_the_timeout() -> None:
    never = anyio.Event()
    peers, websockets = await connected(6)
    for i in (1, 3):
        peers[i].behaviour = stuck_until(never)
    start = anyio.current_time()
    with anyio.fail_after(10):
        result = await broadcast(websockets, b"b", "binary", timeout=0.3, concurrency=1)
    elapsed = anyio.current_time() - start
    assert 0.6 <= elapsed < 2.0  # the two timeouts one after the other
    assert result.delivered == 4
    assert [str(f.error) for f in result.failures] == ["send_bytes() did not complete within 0.3 s"] * 2
    assert [f.websocket for f in result.failures] == [websockets[1], websockets[3]]


async def test_a_send_that_ends_before_its_timeout_is_delivered() -> None:
    soon = anyio.Event()
    peers, websockets = await connected(5)
    peers[2].behaviour = stuck_until(soon)

    async def release() -> None:
        await anyio.sleep(0.05)
        soon.set()

    async with anyio.create_task_group() as group:
        group.start_soon(release)
        result = await broadcast(websockets, "r", timeout=5.0)
    assert result == BroadcastResult(5, ())
    assert all(peer.payloads() == ["r"] for peer in peers)


async def test_without_a_timeout_a_slow_connection_is_waited_for() -> None:
    later = anyio.Event()
    peers, websockets = await connected(3)
    peers[1].behaviour = stuck_until(later)

    async def release() -> None:
        await anyio.sleep(0.2)
        later.set()

    async with anyio.create_task_group() as group:
        group.start_soon(release)
        result = await broadcast(websockets, "w", timeout=None)
    assert result.ok and peers[1].payloads() == ["w"]


async def test_cancelling_the_broadcast_cancels_the_waiting_sends() -> None:
    never = anyio.Event()
    peers, websockets = await connected(20, stuck_until(never))
    with anyio.move_on_after(0.2) as scope:
        await broadcast(websockets, "c", timeout=None, concurrency=5)
    assert scope.cancelled_caught
    assert sum(peer.cancelled for peer in peers) == 5  # the five that were waiting
    # The broadcast left nothing behind: the connections still work.
    for peer in peers:
        peer.behaviour = deliver
    assert (await broadcast(websockets, "again")).delivered == 20


# --- Bad input: a clear exception before anything is sent. ------------------------------------


class Unserialisable:
    pass


@pytest.mark.parametrize(
    ("data", "mode", "kwargs", "error", "match"),
    [
        ({"x": Unserialisable()}, "json", {}, TypeError, "not JSON serializable"),
        ({"x": {1, 2}}, "json", {}, TypeError, "not JSON serializable"),
        ("x", "xml", {}, ValueError, 'mode must be "text", "binary" or "json"'),
        (b"x", "text", {}, TypeError, "expects a str"),
        ("x", "binary", {}, TypeError, "expects bytes"),
        ("\ud800", "text", {}, UnicodeEncodeError, "surrogate"),
        (["\udfff"], "json", {}, UnicodeEncodeError, "surrogate"),
        (PreparedMessage.text("x"), "text", {}, TypeError, "mode applies to raw data"),
        ("x", None, {"timeout": -1}, ValueError, "timeout must be a positive"),
        ("x", None, {"timeout": math.nan}, ValueError, "timeout must be a positive"),
        ("x", None, {"timeout": math.inf}, ValueError, "timeout must be a positive"),
        ("x", None, {"timeout": 10**400}, ValueError, "timeout must be a positive"),  # no float
        ("x", None, {"timeout": "1"}, TypeError, "timeout must be a number"),
        ("x", None, {"concurrency": 0}, ValueError, "concurrency must be at least 1"),
        ("x", None, {"concurrency": 2.5}, TypeError, "concurrency must be an int"),
    ],
)
async def test_bad_input_raises_before_anything_is_sent(
    data: Any, mode: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    peers, websockets = await connected(5)
    with pytest.raises(error, match=match):
        await broadcast(websockets, data, mode, **kwargs)
    assert all(peer.payloads() == [] for peer in peers)


class Event(str, enum.Enum):  # noqa: UP042 (FastAPI's pattern for event names; its str() is "Event.TICK")
    TICK = "tick"


class Encodes(str):
    def encode(self, *args: Any, **kwargs: Any) -> bytes:
        return b"fine"  # a subclass cannot hide a lone surrogate from the check


async def test_text_is_the_strings_content_as_send_text_sends_it() -> None:
    peers, websockets = await connected(2)
    assert (await broadcast(websockets, Event.TICK)).ok
    await websockets[0].send_text(Event.TICK)
    assert [peer.payloads() for peer in peers] == [["tick", "tick"], ["tick"]]
    assert type(PreparedMessage.text(Event.TICK).payload) is str
    with pytest.raises(UnicodeEncodeError, match="surrogate"):
        await broadcast(websockets, Encodes("\ud800"))
    assert peers[1].payloads() == ["tick"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("position", ["calling task", "worker"])
async def test_a_send_cancelled_from_inside_is_a_failure_not_a_cancellation(position: str) -> None:
    """A send that raises ``CancelledError`` though nobody cancelled the broadcast (it awaited
    a future its server cancelled) did not deliver: reported, not counted, not propagated."""
    import asyncio

    async def cancelled_inside(peer: Peer, message: dict[str, Any]) -> None:
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future

    first = yield_then_deliver if position == "worker" else cancelled_inside
    peers = [Peer(first), Peer(cancelled_inside if position == "worker" else deliver), Peer(deliver)]
    websockets = [await connect(peer) for peer in peers]
    result = await broadcast(websockets, "m")
    assert result.delivered == 2 and len(result.failures) == 1
    failure = result.failures[0]
    assert failure.websocket is websockets[0 if position == "calling task" else 1]
    assert isinstance(failure.error, RuntimeError) and "cancelled from inside the send" in str(failure.error)
    assert isinstance(failure.error.__cause__, asyncio.CancelledError)
    assert sum(peer.payloads() == ["m"] for peer in peers) == 2
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_broadcasting_while_the_caller_handles_its_own_cancellation() -> None:
    """A "user left" broadcast from the caller's ``except CancelledError:``: a send cancelled
    from inside is a failure there too, and a new cancellation still propagates."""
    import asyncio

    async def cancelled_inside(peer: Peer, message: dict[str, Any]) -> None:
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future

    peers = [Peer(cancelled_inside), Peer(deliver)]
    websockets = [await connect(peer) for peer in peers]
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        result = await broadcast(websockets, "left")
        assert task.cancelling() == 1
    task.uncancel()
    assert result.delivered == 1 and isinstance(result.failures[0].error, RuntimeError)
    assert peers[1].payloads() == ["left"]


async def test_a_non_iterable_collection_raises_type_error() -> None:
    with pytest.raises(TypeError):
        await broadcast(42, "x")  # type: ignore[call-overload]


def test_prepared_message_builders() -> None:
    assert PreparedMessage.json({"b": 1, "a": None}).payload == '{"b":1,"a":null}'
    assert PreparedMessage.json([1], mode="binary") == PreparedMessage.binary(b"[1]")
    assert PreparedMessage.json(float("nan")).payload == "NaN"  # as json.dumps (and send_json) writes it
    source = bytearray(b"abc")
    message = PreparedMessage.binary(source)
    source[0] = 0
    assert message.payload == b"abc" and not message.is_text  # a copy
    assert PreparedMessage.text("t").is_text
    assert repr(PreparedMessage.text("t")) == "<PreparedMessage text, 1 characters>"
    with pytest.raises(ValueError, match='mode must be "text" or "binary"'):
        PreparedMessage.json({}, mode="json")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="build a PreparedMessage with"):
        PreparedMessage()
    with pytest.raises(AttributeError, match="immutable"):
        message._payload = b"x"  # type: ignore[misc]
    assert len({PreparedMessage.text("a"), PreparedMessage.text("a"), PreparedMessage.binary(b"a")}) == 2


@pytest.mark.parametrize("message", [PreparedMessage.text("t é"), PreparedMessage.json([1], mode="binary")])
def test_prepared_messages_copy_and_pickle(message: PreparedMessage) -> None:
    for copied in (copy.copy(message), copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert copied == message and type(copied) is PreparedMessage
        assert copied.payload == message.payload and copied.is_text == message.is_text


async def test_send_prepared() -> None:
    peer = Peer()
    websocket = await connect(peer)
    await send_prepared(websocket, PreparedMessage.json({"n": 1}))
    await send_prepared(websocket, PreparedMessage.binary(b"\x01"))
    assert peer.payloads() == ['{"n":1}', b"\x01"]
    with pytest.raises(TypeError, match="expects a PreparedMessage"):
        await send_prepared(websocket, "text")  # type: ignore[arg-type]
    await websocket.close()
    with pytest.raises(RuntimeError):  # a send on a closed connection raises, as send_text does
        await send_prepared(websocket, PreparedMessage.text("late"))
