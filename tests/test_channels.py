"""``ferrosocket.channels.RedisChannels`` against a real redis-server, in one process.

Several ``RedisChannels`` on one Redis stand for several workers (each has its own reader and its
own members); the members are accepted ``ferrosocket.WebSocket`` objects over in-memory ASGI
callables (``Peer`` of test_broadcast.py). Network blips are made with a TCP relay between one
worker and Redis; Redis restarts with SIGKILL (no persistence: it loses everything).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio
import redis.exceptions
from redis_server import RedisServer, TcpProxy, redis_server  # noqa: F401 (a fixture)
from test_broadcast import Peer, broken_pipe, connect, stuck_until

import ferrosocket
import ferrosocket.channels._redis
from ferrosocket import BroadcastFailure, PreparedMessage, WebSocketDisconnect
from ferrosocket.channels import ChannelGap, RedisChannels

pytestmark = pytest.mark.anyio

WAIT = 10.0  # seconds for anything the tests wait for


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis-py's client is asyncio's


@pytest.fixture
async def workers(redis_server: RedisServer) -> AsyncIterator[Callable[..., RedisChannels]]:  # noqa: F811
    made: list[RedisChannels] = []

    def make(url: str | None = None, **options: Any) -> RedisChannels:
        options.setdefault("block", 0.5)
        options.setdefault("backoff", (0.02, 0.2))
        channels = RedisChannels(url or redis_server.url, **options)
        made.append(channels)
        return channels

    yield make
    for channels in made:
        await channels.close()


async def members(count: int, behaviour: Any = None) -> tuple[list[Peer], list[Any]]:
    peers = [Peer(behaviour) for _ in range(count)]
    return peers, [await connect(peer) for peer in peers]


async def eventually(check: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not check():
            await asyncio.sleep(0.01)
    assert check(), what


def texts(peer: Peer) -> list[Any]:
    return peer.payloads()


def sends_after(seconds: float) -> Callable[[Peer, dict[str, Any]], Awaitable[None]]:
    """A peer behaviour: each send completes after ``seconds``."""

    async def slow(peer: Peer, message: dict[str, Any]) -> None:
        await asyncio.sleep(seconds)
        peer.sent.append(message)

    return slow


# --- Every member of every worker gets every message, once, in publish order. ------------------


async def test_messages_reach_every_member_of_every_worker_once_in_order(
    workers: Callable[..., RedisChannels],
) -> None:
    first, second, publisher = workers(), workers(), workers()
    room_a, sockets_a = await members(3)
    room_b, sockets_b = await members(2)
    other_b, other_sockets = await members(1)
    for websocket in sockets_a:
        await first.join(websocket, "room")
    for websocket in sockets_b:
        await second.join(websocket, "room")
    await second.join(other_sockets[0], "other")

    sent: list[Any] = []
    for n in range(20):
        if n % 4 == 0:
            await publisher.publish("room", f"text {n} é", "text")
            sent.append(f"text {n} é")
        elif n % 4 == 1:
            await publisher.publish("room", bytes([n, 0, 255]), "binary")
            sent.append(bytes([n, 0, 255]))
        elif n % 4 == 2:
            await first.publish("room", PreparedMessage.json({"n": n}, mode="binary"))  # from a worker
            sent.append(f'{{"n":{n}}}'.encode())
        else:
            await second.publish("room", {"n": n, "none": None, "s": "ü"})
            sent.append(f'{{"n":{n},"none":null,"s":"ü"}}')
        await publisher.publish("other", [n])
    everyone = room_a + room_b
    await eventually(lambda: all(len(texts(peer)) == 20 for peer in everyone), "all 20 delivered")
    await eventually(lambda: len(texts(other_b[0])) == 20, "other: all 20")
    await asyncio.sleep(0.2)  # nothing more arrives
    for peer in everyone:
        assert texts(peer) == sent
    assert texts(other_b[0]) == [f"[{n}]" for n in range(20)]
    assert first.members("room") == sockets_a and second.channels_of(other_sockets[0]) == {"other"}


async def test_encoded_once_on_the_publisher_and_never_decoded(
    workers: Callable[..., RedisChannels], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = ferrosocket.channels._redis.dumps_bytes

    def counting(data: Any) -> bytes:
        nonlocal calls
        calls += 1
        return real(data)

    monkeypatch.setattr(ferrosocket.channels._redis, "dumps_bytes", counting)
    for name in ("loads_text", "loads_bytes"):  # the worker never parses what it delivers
        monkeypatch.setattr(ferrosocket._json, name, None)
    first, second = workers(), workers()
    peers, sockets = await members(6)
    for websocket in sockets[:3]:
        await first.join(websocket, "c")
    for websocket in sockets[3:]:
        await second.join(websocket, "c")
    await first.publish("c", {"k": [1, None]})
    await eventually(lambda: all(texts(peer) == ['{"k":[1,null]}'] for peer in peers), "delivered")
    assert calls == 1
    # One str per worker, handed to each of its members as it is.
    assert len({id(texts(peer)[0]) for peer in peers[:3]}) == 1
    assert len({id(texts(peer)[0]) for peer in peers[3:]}) == 1


async def test_joining_later_gets_what_is_published_after_the_join(
    workers: Callable[..., RedisChannels],
) -> None:
    worker = workers()
    early, early_sockets = await members(1)
    await worker.join(early_sockets[0], "news")
    await worker.publish("news", "one", "text")
    await eventually(lambda: texts(early[0]) == ["one"], "one")
    late, late_sockets = await members(1)
    await worker.join(late_sockets[0], "news")
    await worker.publish("news", "two", "text")
    await eventually(lambda: texts(late[0]) == ["two"] and texts(early[0]) == ["one", "two"], "two")
    # A worker's first member of a channel: from the stream's end, not its history.
    other = workers()
    fresh, fresh_sockets = await members(1)
    await other.join(fresh_sockets[0], "news")
    await worker.publish("news", "three", "text")
    await eventually(lambda: texts(fresh[0]) == ["three"], "three only")


# --- Leaving. ----------------------------------------------------------------------------------


async def test_leave_and_leave_all(workers: Callable[..., RedisChannels]) -> None:
    worker = workers()
    peers, sockets = await members(2)
    for websocket in sockets:
        await worker.join(websocket, "a", "b")
    worker.leave(sockets[0], "a", "never-joined")
    worker.leave_all(sockets[1])
    assert worker.channels_of(sockets[0]) == {"b"} and worker.channels_of(sockets[1]) == frozenset()
    await worker.publish("a", "to a", "text")
    await worker.publish("b", "to b", "text")
    await eventually(lambda: texts(peers[0]) == ["to b"], "b only")
    await asyncio.sleep(0.2)
    assert texts(peers[1]) == [] and texts(peers[0]) == ["to b"]


async def test_a_member_that_disconnects_mid_publish_leaves_everything_and_the_others_get_all(
    workers: Callable[..., RedisChannels],
) -> None:
    worker, publisher = workers(), workers()
    peers, sockets = await members(5)
    for websocket in sockets:
        await worker.join(websocket, "live", "side")
    for n in range(30):
        if n == 10:
            await eventually(lambda: len(texts(peers[2])) == 10, "ten")
            peers[2].behaviour = broken_pipe  # the transport goes away mid-stream
        await publisher.publish("live", n)
    await eventually(lambda: all(len(texts(p)) == 30 for i, p in enumerate(peers) if i != 2), "30 each")
    for i, peer in enumerate(peers):
        assert texts(peer) == [str(n) for n in range(10 if i == 2 else 30)]
    assert worker.channels_of(sockets[2]) == frozenset()  # left "side" too, without any call
    assert sockets[2] not in worker.members("live") and worker.members("side") == sockets[:2] + sockets[3:]


async def test_disconnected_members_leave_quiet_channels_too(workers: Callable[..., RedisChannels]) -> None:
    worker = workers(sweep_interval=0.05)
    peers, sockets = await members(2)
    for websocket in sockets:
        await worker.join(websocket, "quiet")
    gone = iter([{"type": "websocket.disconnect", "code": 1001}])

    async def receive() -> dict[str, Any]:
        return next(gone)

    sockets[0]._receive = receive
    with pytest.raises(WebSocketDisconnect):
        await sockets[0].receive_text()
    await eventually(lambda: worker.members("quiet") == [sockets[1]], "swept")


async def test_a_slow_member_is_reported_and_stays(workers: Callable[..., RedisChannels]) -> None:
    failures: list[tuple[str, BroadcastFailure[Any]]] = []
    worker = workers(send_timeout=0.2, on_failure=lambda name, failure: failures.append((name, failure)))
    never = asyncio.Event()
    peers, sockets = await members(3)
    peers[1].behaviour = stuck_until(never)  # type: ignore[arg-type]
    for websocket in sockets:
        await worker.join(websocket, "feed")
    await worker.publish("feed", "x", "text")
    await eventually(lambda: len(failures) == 1, "reported")
    assert failures[0][0] == "feed" and failures[0][1].websocket is sockets[1]
    assert isinstance(failures[0][1].error, TimeoutError)
    assert texts(peers[0]) == texts(peers[2]) == ["x"]
    assert worker.members("feed") == sockets


# --- Bad input: a clear exception, nothing published. ------------------------------------------


async def test_bad_input(workers: Callable[..., RedisChannels], redis_server: RedisServer) -> None:  # noqa: F811
    worker = workers(channels=["chat", "news"])
    peers, sockets = await members(1)
    with pytest.raises(ValueError, match="unknown channel 'sports'"):
        await worker.join(sockets[0], "sports")
    with pytest.raises(ValueError, match="unknown channel 'sports'"):
        await worker.publish("sports", 1)
    for bad in ("", "a b", "x" * 201, "{tag}", "é"):
        with pytest.raises(ValueError, match="bad channel name"):
            await workers().publish(bad, 1)
    with pytest.raises(TypeError, match="a channel name is a str"):
        await worker.join(sockets[0], b"chat")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not JSON serializable"):
        await worker.publish("chat", {"x": object()})
    with pytest.raises(TypeError, match="expects a str"):
        await worker.publish("chat", b"x", "text")
    with pytest.raises(ValueError, match="mode must be"):
        await worker.publish("chat", "x", "xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bad channel name"):
        RedisChannels(redis_server.url, channels=["ok", "not ok"])
    with pytest.raises(ValueError, match="maxlen"):
        RedisChannels(redis_server.url, maxlen=0)
    with pytest.raises(ValueError, match="backlog"):
        RedisChannels(redis_server.url, backlog=0)
    with pytest.raises(ValueError, match="timeout must be a positive"):
        RedisChannels(redis_server.url, send_timeout=-1)

    closed = await connect(Peer())
    await closed.close()
    with pytest.raises(RuntimeError, match="closed or disconnected WebSocket cannot join"):
        await worker.join(closed, "chat")
    not_accepted = ferrosocket.WebSocket({"type": "websocket", "path": "/", "headers": []}, None, None)
    with pytest.raises(RuntimeError, match="accept"):
        await worker.join(not_accepted, "chat")
    with pytest.raises(TypeError, match="cannot join"):
        await worker.join(object(), "chat")
    # Nothing was published, nobody joined.
    client = redis.asyncio.Redis.from_url(redis_server.url)
    assert await client.keys("ferrosocket:*") == []
    await client.aclose()
    assert worker.members("chat") == []
    await worker.close()
    with pytest.raises(RuntimeError, match="closed"):
        await worker.join(sockets[0], "chat")


# --- Blips, restarts, retention. ---------------------------------------------------------------


async def test_a_network_blip_loses_nothing(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    proxy = TcpProxy(redis_server.port)
    await proxy.start()
    gaps: list[ChannelGap] = []
    worker = workers(proxy.url, on_gap=gaps.append)
    publisher = workers()
    peers, sockets = await members(3)
    for websocket in sockets:
        await worker.join(websocket, "ticks")
    for n in range(10):
        await publisher.publish("ticks", n)
    await eventually(lambda: all(len(texts(p)) == 10 for p in peers), "before the blip")
    proxy.cut()
    for n in range(10, 40):
        await publisher.publish("ticks", n)
    await asyncio.sleep(0.5)  # the worker is retrying meanwhile
    proxy.restore()
    await eventually(lambda: all(len(texts(p)) == 40 for p in peers), "after the blip")
    await asyncio.sleep(0.2)
    for peer in peers:
        assert texts(peer) == [str(n) for n in range(40)]  # in order, once each
    assert gaps == [] and worker.reconnects >= 1
    await proxy.close()


async def test_redis_killed_and_restarted_mid_stream(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    gaps: list[ChannelGap] = []
    worker, publisher = workers(on_gap=gaps.append), workers()
    peers, sockets = await members(3)
    for websocket in sockets:
        await worker.join(websocket, "s")
    for n in range(10):
        await publisher.publish("s", n)
    await eventually(lambda: all(len(texts(p)) == 10 for p in peers), "before the kill")
    redis_server.kill()
    with pytest.raises(redis.exceptions.ConnectionError):
        await publisher.publish("s", "lost: Redis is down")  # refused: never stored
    redis_server.start()  # same port, empty
    for n in range(10, 25):  # published before the worker noticed Redis came back
        await publisher.publish("s", n)
    await eventually(lambda: all(len(texts(p)) == 25 for p in peers), "after the restart")
    await asyncio.sleep(0.2)
    for peer in peers:
        assert texts(peer) == [str(n) for n in range(25)]
    # Never silent: Redis lost the stream (nothing undelivered this time, but it cannot know).
    assert gaps == [ChannelGap("s", 0, reset=True)]


async def relayed_worker(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> tuple[TcpProxy, RedisChannels, RedisChannels, list[ChannelGap]]:
    """A worker behind a TCP relay (to cut), a publisher keeping 20 messages, the gaps reported."""
    proxy = TcpProxy(redis_server.port)
    await proxy.start()
    gaps: list[ChannelGap] = []
    return proxy, workers(proxy.url, on_gap=gaps.append), workers(maxlen=20), gaps


async def test_a_gap_beyond_retention_is_reported_with_its_count(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    proxy, worker, publisher, gaps = await relayed_worker(workers, redis_server)
    peers, sockets = await members(2)
    for websocket in sockets:
        await worker.join(websocket, "firehose")
    await publisher.publish("firehose", 0)
    await eventually(lambda: all(texts(p) == ["0"] for p in peers), "first")
    proxy.cut()
    for n in range(1, 201):
        await publisher.publish("firehose", n)
    proxy.restore()
    await eventually(lambda: len(gaps) == 1, "gap reported")
    await eventually(lambda: all(texts(p)[-1:] == ["200"] for p in peers), "caught up")
    received = [int(x) for x in texts(peers[0])]
    assert texts(peers[1]) == texts(peers[0])
    assert received[0] == 0 and received[1:] == list(range(received[1], 201))  # the retained tail, in order
    assert 20 <= len(received) - 1 < 200
    assert gaps == [ChannelGap("firehose", received[1] - 1)]  # exactly the trimmed ones
    await proxy.close()


async def test_a_join_that_cannot_reach_redis_joins_nothing(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    proxy = TcpProxy(redis_server.port)
    await proxy.start()
    worker = workers(proxy.url)
    peers, sockets = await members(2)
    await worker.join(sockets[0], "known")  # this process reads "known" from now on
    proxy.cut()
    with pytest.raises(redis.exceptions.ConnectionError):
        await worker.join(sockets[1], "known", "new")  # "new" needs Redis: nothing is joined
    assert worker.channels_of(sockets[1]) == frozenset() and worker.members("known") == [sockets[0]]
    proxy.restore()
    await worker.join(sockets[1], "known", "new")
    assert worker.channels_of(sockets[1]) == {"known", "new"}
    await proxy.close()


def test_without_redis_py_a_clear_import_error() -> None:
    code = """
import sys
sys.modules["redis"] = None  # as if the redis extra were not installed
from ferrosocket import *  # works: the channels are not in __all__
import ferrosocket
try:
    ferrosocket.RedisChannels("redis://127.0.0.1:1/0")
except ImportError as error:
    print(error)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ferrosocket.channels needs redis-py: pip install 'ferrosocket[redis]'"


async def test_close_is_clean(workers: Callable[..., RedisChannels]) -> None:
    worker = workers()
    peers, sockets = await members(1)
    await worker.join(sockets[0], "c")
    reader = worker._reader
    await worker.close()
    await worker.close()  # again: nothing
    assert reader is not None and reader.done()
    assert worker.members("c") == []
    assert sockets[0].application_state.name == "CONNECTED"  # connections are not closed


# --- Found by an adversarial review (2026-12-05). ------------------------------------------------


async def test_a_gap_is_reported_on_a_channel_empty_at_join(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    """A new room: nothing published when the worker joined, then more than ``maxlen`` published
    while it could not read. The channel's counter numbers the first entries it reads."""
    proxy, worker, publisher, gaps = await relayed_worker(workers, redis_server)
    peers, sockets = await members(1)
    await worker.join(sockets[0], "fresh")
    proxy.cut()
    for n in range(1, 201):
        await publisher.publish("fresh", n)
    proxy.restore()
    await eventually(lambda: texts(peers[0])[-1:] == ["200"], "caught up")
    first = int(texts(peers[0])[0])
    assert gaps == [ChannelGap("fresh", first - 1)] and first > 1
    await proxy.close()


async def test_a_send_that_raises_on_an_open_connection_is_reported_and_it_stays(
    workers: Callable[..., RedisChannels],
) -> None:
    failures: list[tuple[str, BroadcastFailure[Any]]] = []
    worker = workers(on_failure=lambda name, failure: failures.append((name, failure)))
    peers, sockets = await members(2)
    calls = 0

    async def fails_once(peer: Peer, message: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("a bug in some middleware")
        peer.sent.append(message)

    peers[0].behaviour = fails_once  # type: ignore[assignment]
    for websocket in sockets:
        await worker.join(websocket, "a", "b")
    await worker.publish("a", "1", "text")
    await eventually(lambda: texts(peers[1]) == ["1"] and len(failures) == 1, "first")
    assert isinstance(failures[0][1].error, ValueError) and failures[0][1].websocket is sockets[0]
    assert worker.channels_of(sockets[0]) == {"a", "b"}
    await worker.publish("b", "2", "text")
    await eventually(lambda: texts(peers[0]) == ["2"] and texts(peers[1]) == ["1", "2"], "second")


async def test_a_first_member_joining_during_delivery_gets_only_what_follows_its_join(
    workers: Callable[..., RedisChannels],
) -> None:
    worker, publisher = workers(send_timeout=0.3), workers()
    never = asyncio.Event()
    old_peers, old = await members(1, stuck_until(never))
    await worker.join(old[0], "k")
    for n in range(5):
        await publisher.publish("k", f"before {n}", "text")
    # "before 0" timed out (0.3 s); the reader read 1-4 in one batch and is sending "before 1".
    await asyncio.sleep(0.45)
    worker.leave(old[0], "k")
    new_peers, new = await members(1)
    await worker.join(new[0], "k")
    await publisher.publish("k", "after", "text")
    await eventually(lambda: texts(new_peers[0])[-1:] == ["after"], "after")
    assert texts(new_peers[0]) == ["after"]


async def test_non_ascii_prefix(workers: Callable[..., RedisChannels]) -> None:
    worker = workers(prefix="café:")
    peers, sockets = await members(1)
    await worker.join(sockets[0], "room")
    await worker.publish("room", {"hi": 1})
    await eventually(lambda: texts(peers[0]) == ['{"hi":1}'], "delivered")


@pytest.mark.parametrize(
    ("options", "match"), [({"decode_responses": True}, "decode_responses"), ({"protocol": 3}, "RESP2")]
)
async def test_a_client_that_answers_otherwise_is_refused(
    redis_server: RedisServer,  # noqa: F811
    options: dict[str, Any],
    match: str,
) -> None:
    client = redis.asyncio.Redis.from_url(redis_server.url, **options)
    try:
        with pytest.raises(ValueError, match=match):
            RedisChannels(client=client)
    finally:
        await client.aclose()


async def test_join_and_publish_after_or_during_close_raise(workers: Callable[..., RedisChannels]) -> None:
    worker = workers()
    peers, sockets = await members(2)
    await worker.join(sockets[0], "x")
    joining = asyncio.create_task(worker.join(sockets[1], "y"))  # waits for Redis: a new channel
    await asyncio.sleep(0)
    await worker.close()
    with pytest.raises(RuntimeError, match="closed"):
        await joining
    with pytest.raises(RuntimeError, match="closed"):
        await worker.publish("x", 1)


# --- Held since the second review (2026-12-05): resets, rollbacks, stuck members. ----------------


async def test_a_restart_is_reported_on_a_channel_never_published_when_joined(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    """The join gives the channel its epoch: messages the restart lost unread are reported."""
    proxy, worker, _, gaps = await relayed_worker(workers, redis_server)
    peers, sockets = await members(1)
    await worker.join(sockets[0], "room")  # nothing published on "room" yet
    proxy.cut()
    before = workers()
    for n in range(5):
        await before.publish("room", f"old {n}", "text")  # stored, never read by the worker
    await before.close()
    redis_server.kill()
    redis_server.start()  # empty
    publisher = workers()
    for n in range(3):
        await publisher.publish("room", f"new {n}", "text")
    proxy.restore()
    await eventually(lambda: len(texts(peers[0])) == 3, "the new ones")
    await asyncio.sleep(0.2)
    assert texts(peers[0]) == ["new 0", "new 1", "new 2"]
    assert gaps == [ChannelGap("room", 0, reset=True)]
    await proxy.close()


async def test_redis_back_with_older_data_sends_nothing_twice(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    """A snapshot (or a lagging AOF or replica) brings back messages 0-9 of the 15 delivered: the
    worker reads on after the last one it delivered, reports the rollback, and counts on."""
    gaps: list[ChannelGap] = []
    worker, publisher = workers(on_gap=gaps.append), workers()
    peers, sockets = await members(2)
    for websocket in sockets:
        await worker.join(websocket, "room")
    for n in range(10):
        await publisher.publish("room", n)
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    await admin.save()  # the snapshot holds 0-9
    await admin.aclose()
    for n in range(10, 15):
        await publisher.publish("room", n)
    await eventually(lambda: all(len(texts(p)) == 15 for p in peers), "15 delivered")
    redis_server.kill()
    redis_server.start()  # from the snapshot: 0-9
    await eventually(lambda: worker.reconnects >= 1, "the worker noticed")
    await asyncio.sleep(0.2)
    publisher = workers()  # (the first one's connection went with the old server)
    for n in range(100, 130):
        await publisher.publish("room", n)
    await eventually(lambda: all(texts(p)[-1:] == ["129"] for p in peers), "the new ones")
    await asyncio.sleep(0.2)
    for peer in peers:
        assert texts(peer) == [str(n) for n in [*range(15), *range(100, 130)]]
    assert gaps == [ChannelGap("room", 0, reset=True)]  # and no gap counted after it


async def test_a_rollback_seen_only_in_the_numbers_is_reported(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    """Rolled back by 40 messages, then more than maxlen published before the worker reads: the
    entries before its last one were trimmed, so only the numbering going back shows it."""
    proxy, worker, publisher, gaps = await relayed_worker(workers, redis_server)
    peers, sockets = await members(1)
    await worker.join(sockets[0], "r")
    await publisher.publish("r", 0)
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    await admin.save()  # holds message 0 (number 1)
    await admin.aclose()
    for n in range(1, 41):
        await publisher.publish("r", n)
    await eventually(lambda: len(texts(peers[0])) == 41, "41 delivered")
    proxy.cut()
    redis_server.kill()
    redis_server.start()  # from the snapshot: number 1
    publisher = workers(maxlen=20)
    for n in range(100, 130):  # numbers 2-31; maxlen 20 trims the oldest
        await publisher.publish("r", n)
    proxy.restore()
    await eventually(lambda: texts(peers[0])[-1:] == ["129"], "caught up")
    received = [int(x) for x in texts(peers[0])]
    assert received[:41] == list(range(41)) and received[41:] == list(range(received[41], 130))
    assert received[41] > 100 and gaps == [ChannelGap("r", 0, reset=True)]
    await proxy.close()


async def test_a_stuck_member_does_not_delay_the_others(workers: Callable[..., RedisChannels]) -> None:
    failures: list[tuple[str, BroadcastFailure[Any]]] = []
    worker = workers(send_timeout=1.0, on_failure=lambda name, failure: failures.append((name, failure)))
    publisher = workers()
    never = asyncio.Event()
    stuck_peers, stuck = await members(1, stuck_until(never))
    a_peers, a_sockets = await members(2)
    b_peers, b_sockets = await members(1)
    await worker.join(stuck[0], "a", "b")
    for websocket in a_sockets:
        await worker.join(websocket, "a")
    await worker.join(b_sockets[0], "b")
    for n in range(8):
        await publisher.publish("a", n)
    await publisher.publish("b", "to b")
    async with asyncio.timeout(0.8):  # well within one send_timeout, for all 9 messages
        while not (all(len(texts(p)) == 8 for p in a_peers) and texts(b_peers[0]) == ['"to b"']):
            await asyncio.sleep(0.01)
    for peer in a_peers:
        assert texts(peer) == [str(n) for n in range(8)]
    assert failures == []  # the stuck member's first send is still waiting
    await eventually(lambda: len(failures) == 2, "two sends timed out, one after the other")
    assert [(name, type(failure.error)) for name, failure in failures] == [("a", TimeoutError)] * 2
    never.set()  # it gets the rest, in order
    await eventually(lambda: len(texts(stuck_peers[0])) == 7, "the rest")
    assert texts(stuck_peers[0]) == [str(n) for n in range(2, 8)] + ['"to b"']
    assert worker.channels_of(stuck[0]) == {"a", "b"}


async def test_a_slow_member_gets_everything_in_order_while_the_others_go_on(
    workers: Callable[..., RedisChannels],
) -> None:
    worker, publisher = workers(batch=7), workers()
    slow_peers, slow_sockets = await members(1, sends_after(0.01))
    peers, sockets = await members(3)
    for websocket in [*slow_sockets, *sockets]:
        await worker.join(websocket, "x", "y")
    for n in range(60):
        await publisher.publish("xy"[n % 2], n)
    await eventually(lambda: all(len(texts(p)) == 60 for p in peers), "the fast ones")
    assert len(texts(slow_peers[0])) < 60  # still catching up on its own
    received = texts(peers[0])
    assert all(texts(p) == received for p in peers)
    for channel in range(2):  # each channel in order (no order between channels)
        assert [int(x) for x in received if int(x) % 2 == channel] == list(range(channel, 60, 2))
    await eventually(lambda: len(texts(slow_peers[0])) == 60, "the slow one")
    assert texts(slow_peers[0]) == received  # in the order the others got them


async def test_a_member_that_never_drains_holds_at_most_backlog_messages(
    workers: Callable[..., RedisChannels],
) -> None:
    failures: list[tuple[str, BroadcastFailure[Any]]] = []
    worker = workers(
        send_timeout=None, backlog=5, on_failure=lambda name, failure: failures.append((name, failure))
    )
    publisher = workers()
    never = asyncio.Event()
    stuck_peers, stuck = await members(1, stuck_until(never))
    peers, sockets = await members(1)
    for websocket in [*stuck, *sockets]:
        await worker.join(websocket, "a", "b")
    for n in range(14):  # 0 waits; 1-5 queue; 6 drops them and queues; 11 drops 6-10; 11-13 queue
        await publisher.publish("a", n)
    await publisher.publish("b", "to b")  # (after every one of "a": no order between channels)
    await eventually(lambda: len(texts(peers[0])) == 15, "the other member")
    await eventually(lambda: len(failures) == 2, "the drops")
    dropped = "5 messages dropped: 5 waited for this connection already (backlog)"
    assert [(name, str(failure.error)) for name, failure in failures] == [("a", dropped)] * 2
    assert all(isinstance(failure.error, OverflowError) for _, failure in failures)
    assert all(failure.websocket is stuck[0] for _, failure in failures)
    never.set()
    await eventually(lambda: len(texts(stuck_peers[0])) == 5, "0, then 11-13 and b's")
    assert texts(stuck_peers[0]) == ["0", "11", "12", "13", '"to b"']
    assert worker.channels_of(stuck[0]) == {"a", "b"}


# --- Found by a review of the per-member queues and the rollback handling (2026-12-05). ---------


async def test_a_member_that_leaves_while_a_message_waits_for_a_place_does_not_get_it(
    workers: Callable[..., RedisChannels],
) -> None:
    """With every place taken (concurrency=1) by a slow member's send, the message's hand-out to
    the other members waits: one that leaves meanwhile does not get it."""

    worker, publisher = workers(concurrency=1), workers()
    slow_peers, slow_sockets = await members(1, sends_after(0.3))
    peers, sockets = await members(1)
    for websocket in [*slow_sockets, *sockets]:
        await worker.join(websocket, "k")
    await publisher.publish("k", "m1", "text")
    await eventually(lambda: bool(worker._fanout._busy), "the slow member's send waits")
    worker.leave(sockets[0], "k")
    await eventually(lambda: texts(slow_peers[0]) == ["m1"], "the slow member got it")
    await asyncio.sleep(0.05)
    assert texts(peers[0]) == []


async def test_a_restored_backup_of_an_earlier_stream_sends_nothing_twice(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    """The stream is lost and made anew (another epoch), then a backup of the first one is
    restored: the worker reads the first stream on where it was, and reports the loss."""
    gaps: list[ChannelGap] = []
    worker, publisher = workers(on_gap=gaps.append), workers()
    peers, sockets = await members(1)
    await worker.join(sockets[0], "k")
    for n in range(3):
        await publisher.publish("k", f"a{n}", "text")
    await eventually(lambda: len(texts(peers[0])) == 3, "a0-a2")
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    await admin.save()  # the backup: a0-a2, the first epoch
    await admin.aclose()
    backup = redis_server.directory / "backup.rdb"
    shutil.copy(redis_server.directory / "dump.rdb", backup)
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    await admin.flushall()  # the data is lost: the next publish makes a new stream
    await admin.aclose()
    await publisher.publish("k", "b0", "text")
    await eventually(lambda: texts(peers[0])[-1:] == ["b0"], "b0")
    redis_server.kill()
    shutil.copy(backup, redis_server.directory / "dump.rdb")
    redis_server.start()  # the backup restored
    await eventually(lambda: worker.reconnects >= 1, "the worker noticed")
    publisher = workers()
    await publisher.publish("k", "a3", "text")
    await eventually(lambda: texts(peers[0])[-1:] == ["a3"], "a3")
    await asyncio.sleep(0.2)
    assert texts(peers[0]) == ["a0", "a1", "a2", "b0", "a3"]
    assert gaps == [ChannelGap("k", 0, reset=True)] * 2  # the loss, then the restore


async def test_close_awaited_in_a_members_send_completes(workers: Callable[..., RedisChannels]) -> None:
    outcome: list[str] = []
    worker = workers()

    async def closes(peer: Peer, message: dict[str, Any]) -> None:
        await worker.close()
        outcome.append("returned")
        peer.sent.append(message)

    peers, sockets = await members(3)
    closing_peers, closing_sockets = await members(1, closes)
    for websocket in [*sockets, *closing_sockets]:
        await worker.join(websocket, "k")
    await workers().publish("k", 1)
    await eventually(lambda: outcome == ["returned"], "close() returned in the send")
    assert worker.members("k") == [] and worker._positions == {}
    assert worker._reader is None


# --- Found by a review of the session's diff (2026-12-05). ------------------------------------


async def test_a_backup_restored_before_the_new_stream_was_read_sends_nothing_twice(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    """Redis restarts empty (the worker resumes at the start of a stream it has not read yet),
    then the backup of the old stream is restored: it is read on, not again."""
    worker = workers()
    peers, sockets = await members(1)
    await worker.join(sockets[0], "k")
    for n in range(3):
        await workers().publish("k", f"a{n}", "text")
    await eventually(lambda: len(texts(peers[0])) == 3, "a0-a2")
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    await admin.save()
    await admin.aclose()
    backup = redis_server.directory / "backup.rdb"
    shutil.move(redis_server.directory / "dump.rdb", backup)
    redis_server.kill()
    redis_server.start()  # empty
    await eventually(lambda: worker.reconnects >= 1, "resumed on the empty Redis")
    await asyncio.sleep(0.2)
    redis_server.kill()
    shutil.copy(backup, redis_server.directory / "dump.rdb")
    redis_server.start()  # the backup restored
    await eventually(lambda: worker.reconnects >= 2, "resumed on the restored Redis")
    await workers().publish("k", "a3", "text")
    await eventually(lambda: texts(peers[0])[-1:] == ["a3"], "a3")
    await asyncio.sleep(0.2)
    assert texts(peers[0]) == ["a0", "a1", "a2", "a3"]


async def test_an_error_while_resuming_a_restored_backup_loses_no_report(
    workers: Callable[..., RedisChannels],
    redis_server: RedisServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As test_a_restored_backup_of_an_earlier_stream_sends_nothing_twice, with Redis failing
    once just as the worker reads where it was in the restored stream: the next attempt still
    reports the restore."""
    gaps: list[ChannelGap] = []
    worker = workers(on_gap=gaps.append)
    peers, sockets = await members(1)
    await worker.join(sockets[0], "k")
    for n in range(3):
        await workers().publish("k", f"a{n}", "text")
    await eventually(lambda: len(texts(peers[0])) == 3, "a0-a2")
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    await admin.save()
    backup = redis_server.directory / "backup.rdb"
    shutil.copy(redis_server.directory / "dump.rdb", backup)
    await admin.flushall()
    await admin.aclose()
    await workers().publish("k", "b0", "text")
    await eventually(lambda: texts(peers[0])[-1:] == ["b0"], "b0")
    resume_restored = worker._resume_restored
    failures = [redis.exceptions.ConnectionError("dropped while resuming")]

    async def fails_once(restored: Any) -> None:
        if failures:
            raise failures.pop()
        await resume_restored(restored)

    monkeypatch.setattr(worker, "_resume_restored", fails_once)
    redis_server.kill()
    shutil.copy(backup, redis_server.directory / "dump.rdb")
    redis_server.start()  # the backup restored
    await eventually(lambda: not failures and worker.reconnects >= 1, "failed once, resumed")
    await workers().publish("k", "a3", "text")
    await eventually(lambda: texts(peers[0])[-1:] == ["a3"], "a3")
    await asyncio.sleep(0.2)
    assert texts(peers[0]) == ["a0", "a1", "a2", "b0", "a3"]
    assert gaps == [ChannelGap("k", 0, reset=True)] * 2  # the loss, then the restore


async def test_the_senders_go_on_after_an_unexpected_error_in_a_send_that_waited() -> None:
    """A failure report that raises (an internal error) after a send that waited: the counters
    stay right and the next message is still handed out."""
    from ferrosocket.channels._fanout import FanOut, Unit

    async def waits_then_fails(peer: Peer, message: dict[str, Any]) -> None:
        await asyncio.sleep(0.01)
        raise ValueError("the send failed")

    def report_raises(channel: str, websocket: Any, error: Exception) -> None:
        raise RuntimeError("unexpected, in the report")

    _, failing_sockets = await members(1, waits_then_fails)
    peers, sockets = await members(1)
    channel = {failing_sockets[0]: None, sockets[0]: None}
    fanout = FanOut(
        timeout=1.0,
        concurrency=4,
        backlog=10,
        members=lambda name: list(channel),
        current=lambda unit: True,
        is_member=lambda websocket, name: websocket in channel,
        failed=report_raises,
    )
    fanout.add(Unit("k", None, "m1", True))
    await fanout.run()
    await eventually(lambda: not fanout._tasks, "the worker ended")
    assert (fanout._free, fanout._pulling, fanout._busy) == (4, 0, {})
    del channel[failing_sockets[0]]
    fanout.add(Unit("k", None, "m2", True))
    async with asyncio.timeout(WAIT):
        await fanout.run()
    await eventually(lambda: texts(peers[0]) == ["m1", "m2"], "m2 too")
