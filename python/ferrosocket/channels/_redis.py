"""``RedisChannels``: named channels that span processes and hosts, carried on Redis Streams.

Publishing (any process): the message is encoded once (``PreparedMessage``) and appended to the
channel's stream by one Lua script, which also numbers it (``n``: 1, 2, ... per channel) and tags
it with the stream's epoch (``e``: when its numbering started, so a Redis that lost its data is
told apart from one that trimmed it); ``XADD ... MAXLEN ~ maxlen`` keeps at least the last
``maxlen`` messages.

Joining a channel nobody published on yet gives it its epoch (the publish script keeps it), so
that the stream this process reads always has an epoch it knows.

Delivering (each process with members): one reader task ``XREAD``s every channel that has a local
member, from the last id it delivered, and hands each entry's payload, as it is (a text frame's
UTF-8 bytes become a ``str`` once per process: ASGI text frames are ``str``), to the local members
through ``FanOut`` (``_fanout.py``: the reader never waits for a member's send; a member whose
send waits gets its next messages queued, in order, at most ``backlog`` of them). A number that
skips reports a gap (messages trimmed before this process read them); a new epoch reports a
reset. On a Redis error the reader retries with exponential backoff and jitter, then reads on from
the last id it delivered: what was published meanwhile is delivered, in order, once. A stream of
the same epoch that lost that last id (Redis came back with older data) is read on from there
too, its numbering taken up where the restored data ends, and reported as a reset. A connection
whose send fails because it has gone leaves all its channels; so does any connection found
disconnected by the periodic sweep.
"""

# pyright: reportUnnecessaryIsInstance=false, reportPrivateUsage=false
# (Arguments are checked at run time, whatever their annotations; the package's modules share
# private helpers.)

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

from ferrosocket._broadcast import BroadcastFailure, _check_bounds, _prepare
from ferrosocket._json import dumps_bytes
from ferrosocket._prepared import PreparedMessage
from ferrosocket.channels._fanout import FanOut, Unit
from ferrosocket.channels._membership import Membership, check_can_join, is_gone
from ferrosocket.channels._names import ChannelNames

__all__ = ["ChannelGap", "RedisChannels"]

logger = logging.getLogger("ferrosocket.channels")

# KEYS: the stream, the channel's counter hash. ARGV: maxlen, the payload's field ("t": text,
# "b": binary), the payload. Returns the new entry's id. The epoch is kept when a join made it.
_PUBLISH: Final = """
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
local e = redis.call('HGET', KEYS[2], 'e')
if not e then
  local now = redis.call('TIME')
  e = now[1] .. '.' .. now[2]
  redis.call('HSET', KEYS[2], 'e', e)
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'e', e, ARGV[2], ARGV[3])
"""

# KEYS: the stream, the channel's counter hash. Returns the stream's last entry ({id, {field,
# value, ...}}), or, for an empty stream, {"", {n, e}} from the counter hash, after giving the
# channel its epoch if it had none (one script: nothing is published between the two reads).
_JOIN: Final = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then
  return last[1]
end
local now = redis.call('TIME')
redis.call('HSETNX', KEYS[2], 'e', now[1] .. '.' .. now[2])
return {'', redis.call('HMGET', KEYS[2], 'n', 'e')}
"""

_START: Final = b"0-0"
_EPOCHS_KEPT: Final = 4  # earlier streams of a channel whose position a process remembers


@dataclass(frozen=True, slots=True)
class ChannelGap:
    """Messages of ``channel`` this process will never deliver.

    ``missed`` is how many were trimmed (the stream keeps about ``maxlen``) before this process
    read them; ``reset`` is True when Redis lost the channel's stream (restarted without
    persistence, flushed) or came back with older data (a rollback: a snapshot, a lagging AOF or
    replica): then ``missed`` counts only those lost after the new stream began (for a rollback:
    0, or a lower bound), and messages that were stored before and not yet read are lost too,
    uncounted."""

    channel: str
    missed: int
    reset: bool = False


def _warn_gap(gap: ChannelGap) -> None:
    if gap.reset:
        logger.warning(
            "channel %r: Redis lost its stream or came back with older data (restarted, flushed, "
            "restored): undelivered messages from before are lost; %d published since were trimmed "
            "before this process read them",
            gap.channel,
            gap.missed,
        )
    else:
        logger.warning(
            "channel %r: %d messages were trimmed before this process read them (raise maxlen)",
            gap.channel,
            gap.missed,
        )


def _warn_failure(channel: str, failure: BroadcastFailure[Any]) -> None:
    logger.warning("channel %r: a message did not reach a connection: %r", channel, failure.error)


class _Position:
    """Where this process is in one channel's stream."""

    __slots__ = ("last_id", "number", "epoch", "earlier")

    def __init__(self, last_id: bytes, number: int | None, epoch: bytes | None) -> None:
        self.last_id = last_id  # the last entry delivered (or the stream's end when joined)
        self.number = number  # its "n" (when joined to an empty stream: the channel's counter)
        self.epoch = epoch  # its "e" (when joined to an empty stream: the epoch the join made)
        # The streams this process read before this one: epoch -> the last entry delivered from
        # it, so that a backup of one of them, restored, is read on, not read again.
        self.earlier: dict[bytes, bytes] = {}

    def leave_epoch(self) -> None:
        """Remembers where this process is in the current stream, which it leaves for another."""
        if self.epoch is not None and self.last_id != _START:
            self.earlier.pop(self.epoch, None)
            self.earlier[self.epoch] = self.last_id
            while len(self.earlier) > _EPOCHS_KEPT:
                del self.earlier[next(iter(self.earlier))]


def _entry_number(fields: dict[bytes, bytes]) -> tuple[int | None, bytes | None]:
    try:
        return int(fields[b"n"]), fields[b"e"]
    except (KeyError, ValueError):
        return None, None  # not written by publish(): delivered, never counted


class RedisChannels:
    """Named channels across processes and hosts, through one Redis (or Valkey) server.

    Create one per process (e.g. at startup), ``join`` connections to channels, ``publish``
    from anywhere; ``close()`` at shutdown (or use ``async with``). asyncio only (redis-py's
    asyncio client). See docs/scaling.md for the delivery guarantees."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "ferrosocket:",
        maxlen: int = 10_000,
        channels: Iterable[str] | Callable[[str], bool] | None = None,
        send_timeout: float | None = 5.0,
        concurrency: int = 256,
        on_gap: Callable[[ChannelGap], None] | None = None,
        on_failure: Callable[[str, BroadcastFailure[Any]], None] | None = None,
        client: Any = None,
        block: float = 5.0,
        batch: int = 256,
        backoff: tuple[float, float] = (0.05, 5.0),
        sweep_interval: float = 10.0,
        backlog: int = 1_000,
    ) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1:
            raise ValueError(f"maxlen must be a positive int, not {maxlen!r}")
        if isinstance(backlog, bool) or not isinstance(backlog, int) or backlog < 1:
            raise ValueError(f"backlog must be a positive int, not {backlog!r}")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive int, not {batch!r}")
        if not (0 < backoff[0] <= backoff[1]) or not block > 0 or not sweep_interval > 0:
            raise ValueError("backoff must be (first, most), 0 < first <= most; block, sweep_interval > 0")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
        _check_bounds(send_timeout, concurrency)
        try:
            import redis.asyncio
        except ImportError as error:
            needs = "ferrosocket.channels needs redis-py: pip install 'ferrosocket[redis]'"
            raise ImportError(needs) from error
        if client is None:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # No retries inside redis-py: a retried publish could be stored twice; the reader
            # retries by itself. The socket timeout outlasts a blocked XREAD.
            client = redis.asyncio.Redis.from_url(  # pyright: ignore[reportUnknownMemberType]
                url, retry=Retry(NoBackoff(), 0), socket_timeout=block + 10.0, socket_connect_timeout=5.0
            )
            self._owns_client = True
        else:
            _check_client(client)
            self._owns_client = False
        self._client = client
        self._names = ChannelNames(channels)
        self._prefix = prefix
        self._prefix_bytes = len(prefix.encode())  # keys are UTF-8: a lone surrogate raises here
        self._maxlen = maxlen
        self._on_gap = on_gap or _warn_gap
        self._on_failure = on_failure or _warn_failure
        self._block_ms = max(1, round(block * 1000))
        self._batch = batch
        self._backoff = backoff
        self._sweep_interval = sweep_interval
        self._membership: Membership[Any] = Membership()
        self._positions: dict[str, _Position] = {}
        self._fanout = FanOut(
            timeout=send_timeout,
            concurrency=concurrency,
            backlog=backlog,
            members=lambda channel: self._membership.members(channel),
            current=lambda unit: self._positions.get(unit.channel) is unit.position,
            is_member=lambda websocket, channel: self._membership.is_member(websocket, channel),
            failed=self._send_failed,
        )
        self._wake_key = f"{prefix}wake:{os.getpid()}:{random.getrandbits(64):016x}".encode()
        self._wake_id: bytes = _START
        self._reader: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False
        self._stopping = asyncio.Event()  # set by close(): ends the reader's backoff waits
        self._script: Any = None
        self._join_script: Any = None
        self.reconnects = 0
        """How many times the reader lost Redis and got it back (for monitoring)."""

    # --- Keys. ---

    def _stream_key(self, channel: str) -> bytes:
        return f"{self._prefix}s:{channel}".encode()

    def _counter_key(self, channel: str) -> bytes:
        return f"{self._prefix}n:{channel}".encode()

    def _channel_of(self, key: bytes) -> str:
        return key[self._prefix_bytes + 2 :].decode()

    # --- Lifecycle. ---

    async def __aenter__(self) -> RedisChannels:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Starts the reader (``join`` does it when needed). Idempotent."""
        if self._closed:
            raise RuntimeError("these channels are closed")
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name="ferrosocket channels reader")
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="ferrosocket channels sweeper")

    async def close(self) -> None:
        """Stops reading, forgets every membership (the connections stay open), and closes the
        Redis client if this object made it. Idempotent; never waits much longer than ``block``."""
        self._closed = True
        self._stopping.set()
        # Forgotten before the first await: a close() awaited from a member's send (whose task
        # the channels own) still leaves nothing behind if that task is cancelled meanwhile.
        self._positions.clear()
        self._membership = Membership()
        reader, sweeper = self._reader, self._sweeper
        self._reader = self._sweeper = None
        try:
            await self._stop(reader, sweeper)
        finally:
            if self._owns_client:
                await self._client.aclose()

    async def _stop(self, reader: asyncio.Task[None] | None, sweeper: asyncio.Task[None] | None) -> None:
        if sweeper is not None:
            sweeper.cancel()
            await asyncio.wait({sweeper})
        await self._fanout.close()  # nothing is sent after this; a reader handing out returns
        if reader is not None and not reader.done():
            # The reader ends by itself once its XREAD returns: a wake-up makes that now. (No
            # cancellation mid-command unless that fails: redis-py may turn a CancelledError
            # into a ConnectionError while it drops the connection.)
            try:
                await asyncio.wait_for(self._wake(), self._block_ms / 1000)
                woken = True
            except TimeoutError:
                woken = False  # Redis stopped answering: the XREAD would wait for its socket timeout
            done, _ = await asyncio.wait({reader}, timeout=self._block_ms / 1000 + 2.0 if woken else 0)
            if not done:
                reader.cancel()
                done, _ = await asyncio.wait({reader}, timeout=2.0)
                if not done:
                    logger.warning("the channel reader did not stop")

    # --- Membership. ---

    async def join(self, websocket: Any, *channels: str) -> None:
        """Adds an accepted connection to ``channels``: from now on it gets what is published on
        them. ``RuntimeError`` for a connection not accepted or already closed, ``ValueError`` /
        ``TypeError`` for a bad or unknown channel name, a redis-py error when Redis cannot be
        reached to join a channel this process did not read yet."""
        names = [self._names.check(channel) for channel in channels]
        check_can_join(websocket)
        if self._closed:
            raise RuntimeError("these channels are closed")
        await self.start()
        # Every new channel's position first, then all the joins at once (no await between them):
        # a Redis error leaves the connection in none of the channels.
        tails: dict[str, _Position] = {}
        while missing := [n for n in dict.fromkeys(names) if n not in self._positions and n not in tails]:
            for name in missing:
                tails[name] = await self._join_position(name)
        if self._closed:  # close() ran while we waited for Redis
            raise RuntimeError("these channels are closed")
        added = False
        for name in names:
            if name not in self._positions:  # (or another join added it meanwhile)
                self._positions[name] = tails[name]
                added = True
            self._membership.join(websocket, name)
        if is_gone(websocket):  # it went away while we waited for Redis
            self.leave_all(websocket)
            raise RuntimeError("a closed or disconnected WebSocket cannot join a channel")
        if added:
            await self._wake()
            if self._closed:  # close() ran meanwhile and forgot the membership
                raise RuntimeError("these channels are closed")

    def leave(self, websocket: Any, *channels: str) -> None:
        """Removes the connection from ``channels`` (names it did not join are ignored)."""
        for channel in channels:
            name = self._names.check(channel)
            if self._membership.leave(websocket, name):
                self._positions.pop(name, None)

    def leave_all(self, websocket: Any) -> None:
        """Removes the connection from every channel. Not needed for a connection that has gone:
        that happens by itself."""
        for name in self._membership.leave_all(websocket):
            self._positions.pop(name, None)

    def channels_of(self, websocket: Any) -> frozenset[str]:
        """The channels this connection joined (in this process)."""
        return self._membership.channels_of(websocket)

    def members(self, channel: str) -> list[Any]:
        """The connections of this process that joined ``channel``."""
        return list(self._membership.members(self._names.check(channel)))

    # --- Publishing. ---

    async def publish(self, channel: str, data: Any, mode: Literal["text", "binary", "json"] = "json") -> str:
        """Publishes ``data`` on ``channel``, to every member in every process; returns the
        stream entry's id. Encodes once, here (``mode`` as in ``broadcast``; a
        ``PreparedMessage`` is sent as it is). Bad input raises before anything is sent; a
        redis-py ``ConnectionError``/``TimeoutError`` means Redis could not be reached (if the
        connection broke while the command was in flight, the message may have been stored)."""
        name = self._names.check(channel)
        if self._closed:
            raise RuntimeError("these channels are closed")
        field: bytes
        payload: bytes
        if mode == "json" and not isinstance(data, PreparedMessage):
            field, payload = b"t", dumps_bytes(data)  # UTF-8 already (a lone surrogate raises)
        else:
            prepared = _prepare(data, None if isinstance(data, PreparedMessage) else mode).payload
            field, payload = (b"t", prepared.encode()) if isinstance(prepared, str) else (b"b", prepared)
        if self._script is None:
            self._script = self._client.register_script(_PUBLISH)
        keys = [self._stream_key(name), self._counter_key(name)]
        entry_id = await self._script(keys=keys, args=[self._maxlen, field, payload])
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    # --- Reading. ---

    async def _join_position(self, channel: str) -> _Position:
        """The position at the end of the channel's stream. Nothing published yet: its start,
        numbered from the channel's counter (a gap in the first entries read shows), with the
        channel's epoch, made now if it had none (a Redis that loses the stream before this
        process reads it shows: the next stream has another epoch)."""
        if self._join_script is None:
            self._join_script = self._client.register_script(_JOIN)
        keys = [self._stream_key(channel), self._counter_key(channel)]
        entry_id, values = await self._join_script(keys=keys, args=[])
        if not entry_id:
            number, epoch = values
            return _Position(_START, int(number or 0), epoch)
        number, epoch = _entry_number(dict(zip(values[::2], values[1::2], strict=True)))
        return _Position(entry_id, number, epoch)

    async def _wake(self) -> None:
        """Wakes the reader from its blocked XREAD, to read a newly joined channel now."""
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.xadd(self._wake_key, {b"w": b""}, maxlen=16, approximate=False)
                pipe.expire(self._wake_key, 3600)
                await pipe.execute()
        except Exception as error:  # the reader's next XREAD includes the channel anyway
            logger.debug("could not wake the channel reader: %r", error)

    async def _read_forever(self) -> None:
        import redis.exceptions

        delay = self._backoff[0]
        lost = False
        while not self._closed:
            try:
                if lost:
                    await self._resume()
                    lost = False
                    self.reconnects += 1
                    logger.warning("Redis reachable again: channels resumed")
                await self._read_once()
                delay = self._backoff[0]
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as error:
                if self._stopped():
                    return
                if not lost:
                    logger.warning("Redis unreachable (%r): retrying with backoff", error)
                lost = True
                await self._pause(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self._backoff[1])
            except Exception:
                if self._stopped():
                    return
                logger.exception("channel reader: unexpected error; retrying")
                lost = True
                await self._pause(delay)
                delay = min(delay * 2, self._backoff[1])

    def _stopped(self) -> bool:
        """Closed, or this task was cancelled (redis-py may have turned the cancellation into a
        ConnectionError while it dropped the connection: never read on after that)."""
        task = asyncio.current_task()
        return self._closed or (task is not None and task.cancelling() > 0)

    async def _pause(self, seconds: float) -> None:
        """The backoff wait; close() ends it early."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _resume(self) -> None:
        """After an outage, per channel. A new stream (another epoch, or none: Redis lost the
        channel) is read from its start (``_count`` reports the reset). The same stream without
        the last entry delivered while it holds older ones came back with older data (a snapshot,
        a lagging AOF or replica): it is read on after that entry (what is at or before it was
        delivered: nothing twice), its numbering taken up from the newest entry restored (entries
        stored since continue it), and the rollback is reported as a reset (messages stored
        after the restored data and not read here are lost, uncounted)."""
        positions = list(self._positions.items())
        if not positions:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for channel, position in positions:
                stream = self._stream_key(channel)
                pipe.xrevrange(stream, count=1)
                pipe.hget(self._counter_key(channel), b"e")
                pipe.xrevrange(stream, max=position.last_id, count=1)
            replies: list[Any] = await pipe.execute()
        restored: list[tuple[str, _Position, bytes, bytes]] = []
        for index, (channel, position) in enumerate(positions):
            if self._positions.get(channel) is not position:
                continue  # left (or left and joined again) meanwhile
            tail, counter_epoch, before = replies[3 * index : 3 * index + 3]
            epoch = (_entry_number(tail[0][1])[1] if tail else None) or counter_epoch
            if (
                epoch is not None
                and epoch in position.earlier
                and (epoch != position.epoch or position.last_id == _START)
            ):
                # A backup of a stream read before, restored after that one was lost or made anew
                # (this process may not have read the new one yet): read on where it was.
                restored.append((channel, position, epoch, position.earlier[epoch]))
            elif epoch is not None and position.epoch is not None and epoch != position.epoch:
                position.leave_epoch()
                position.last_id = _START
            elif epoch is None:
                position.leave_epoch()
                position.last_id = _START
            elif position.last_id != _START and before and before[0][0] != position.last_id:
                number, _ = _entry_number(before[0][1])
                if number is not None:
                    position.number = number
                self._report_gap(ChannelGap(channel, 0, reset=True))
        if restored:
            await self._resume_restored(restored)

    async def _resume_restored(self, restored: list[tuple[str, _Position, bytes, bytes]]) -> None:
        """Reads on in restored backups of earlier streams, from the last entry delivered from
        each; numbered from the newest entry at or before it; each reported as a reset (what the
        stream read since held unread is lost). Redis is asked first, so that an error leaves every
        position as it was, for the next ``_resume``."""
        async with self._client.pipeline(transaction=False) as pipe:
            for channel, _, _, last_id in restored:
                pipe.xrevrange(self._stream_key(channel), max=last_id, count=1)
            replies: list[Any] = await pipe.execute()
        for (channel, position, epoch, last_id), before in zip(restored, replies, strict=True):
            if self._positions.get(channel) is not position or position.earlier.get(epoch) != last_id:
                continue  # left, or moved on, meanwhile
            del position.earlier[epoch]
            position.leave_epoch()
            position.last_id, position.epoch = last_id, epoch
            position.number = _entry_number(before[0][1])[0] if before else None
            self._report_gap(ChannelGap(channel, 0, reset=True))

    async def _read_once(self) -> None:
        streams: dict[bytes, bytes] = {self._wake_key: self._wake_id}
        for channel, position in self._positions.items():
            streams[self._stream_key(channel)] = position.last_id
        response: Any = await self._client.xread(streams, count=self._batch, block=self._block_ms)
        if not response or self._closed:
            return
        # redis-py answers XREAD with a list of (key, entries) pairs (RESP2, checked in __init__).
        items: list[tuple[bytes, list[Any]]] = list(response)
        for key, entries in items:
            if key == self._wake_key:
                if entries:
                    self._wake_id = entries[-1][0]
                continue
            self._deliver(self._channel_of(key), entries)
        await self._fanout.run()  # every message handed out (not necessarily sent: see _fanout)

    def _deliver(self, channel: str, entries: Any) -> None:
        position = self._positions.get(channel)
        if position is None or self._closed:
            return  # everyone here left the channel while the XREAD waited
        for entry_id, fields in entries:
            number, epoch = _entry_number(fields)
            if number is not None:
                self._count(channel, position, number, epoch)
            position.last_id = entry_id
            message = _message(fields)
            if message is not None:
                self._fanout.add(Unit(channel, position, message.payload, message.is_text))

    def _send_failed(self, channel: str, websocket: Any, error: Exception) -> None:
        if is_gone(websocket):
            self.leave_all(websocket)  # it has gone: leave everything, silently
        else:  # a timeout, a send that raised on a connection still open, a backlog dropped
            self._report_failure(channel, BroadcastFailure(websocket, error))

    def _count(self, channel: str, position: _Position, number: int, epoch: bytes | None) -> None:
        """Reports the messages this entry's number says were skipped."""
        gap: ChannelGap | None = None
        if position.epoch is not None and epoch != position.epoch:
            position.leave_epoch()
            if position.number is not None or number > 1:
                gap = ChannelGap(channel, number - 1, reset=True)
        elif position.number is not None and number > position.number + 1:
            gap = ChannelGap(channel, number - position.number - 1)
        elif position.number is not None and number <= position.number:
            # The numbering went back: Redis came back with older data, and what _resume could
            # have seen of it was trimmed since. How many were trimmed is not known.
            gap = ChannelGap(channel, 0, reset=True)
        position.number = number
        position.epoch = epoch
        if gap is not None:
            self._report_gap(gap)

    def _report_gap(self, gap: ChannelGap) -> None:
        try:
            self._on_gap(gap)
        except Exception:
            logger.exception("on_gap raised")

    def _report_failure(self, channel: str, failure: BroadcastFailure[Any]) -> None:
        try:
            self._on_failure(channel, failure)
        except Exception:
            logger.exception("on_failure raised")

    async def _sweep_forever(self) -> None:
        """Connections that disconnected leave their channels, even channels nobody publishes on."""
        while True:
            await asyncio.sleep(self._sweep_interval)
            for websocket in self._membership.connections():
                if is_gone(websocket):
                    self.leave_all(websocket)


def _check_client(client: Any) -> None:
    """A caller's own client must answer as the reader reads: bytes (not ``decode_responses``),
    RESP2 (RESP3 nests XREAD's answer one level deeper)."""
    options: dict[str, Any] = (
        getattr(getattr(client, "connection_pool", None), "connection_kwargs", None) or {}
    )
    if options.get("decode_responses"):
        raise ValueError("RedisChannels needs a client made without decode_responses=True (it reads bytes)")
    if str(options.get("protocol", 2)) == "3":
        raise ValueError("RedisChannels needs a RESP2 client (protocol=2, redis-py's default), not RESP3")


def _message(fields: dict[bytes, bytes]) -> PreparedMessage | None:
    text = fields.get(b"t")
    if text is not None:
        try:
            return PreparedMessage._make(text.decode("utf-8"), True)
        except UnicodeDecodeError:
            logger.warning("skipped a stream entry whose text is not UTF-8")
            return None
    payload = fields.get(b"b")
    if payload is not None:
        return PreparedMessage._make(payload, False)
    return None
