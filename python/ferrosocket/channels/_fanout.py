"""Hands each message the reader read to the local members of its channel, so that a member whose
sends wait holds up nobody else (asyncio only).

The reader ``add``s the messages it read, then awaits ``run()``, which returns once every
(member, message) pair was sent or handed on: the reader never waits for a member's send. The
sends run in worker tasks, started as broadcast starts them: one worker sends to member after
member, message after message, for as long as each send completes without waiting (no task per
message or per member: one task per ``run`` on an in-memory or buffered transport). A send that
has to wait is noticed the moment it yields (``_drive``): a new worker goes on with the rest, and
the waiting send gets ``timeout`` seconds, after which it is cancelled and reported. While it
waits, that member is *busy*: what comes for it meanwhile is queued in its outbox (in order), and
the task of the waiting send, once it ends, sends the outbox before the member takes messages
directly again. So each member gets its messages in order, one send at a time, and a slow member
delays the others by nothing while fewer than ``concurrency`` first sends wait at once (a worker
that goes on to drain a member's outbox gives its place back: a member with a backlog has a task
of its own).

An outbox holds at most ``backlog`` messages: a message that finds it full drops what it holds
(reported to ``failed`` with an ``OverflowError``, once per channel) and is queued alone. So a
member that never drains holds at most ``backlog`` messages (references to the messages every
member shares) and one task.
"""

# pyright: reportPrivateUsage=false
# (The package's modules share private helpers.)

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ferrosocket._broadcast import _AsyncioDeadline, _drive, cancelled_inside_error, timed_out_error

__all__ = ["FanOut", "Unit"]

logger = logging.getLogger("ferrosocket.channels")


class Unit:
    """One message of one channel, for its local members."""

    __slots__ = ("channel", "position", "payload", "is_text", "targets", "stale")

    def __init__(self, channel: str, position: object, payload: str | bytes, is_text: bool) -> None:
        self.channel = channel
        self.position = position  # the reader's position in the channel when it read the message
        self.payload = payload
        self.is_text = is_text
        self.targets: Iterator[Any] = iter(())  # the members, once the first send of it starts
        # Set once other code may have run since the members were taken (a send waited, a
        # failure was reported): each member left is then checked before its send.
        self.stale = False


class _Segment:
    """One stretch of a worker's sends: it ends after the first send that had to wait."""

    __slots__ = ("blocked", "deadline", "unit", "websocket")

    def __init__(self) -> None:
        self.blocked = False
        self.deadline = _AsyncioDeadline()
        self.unit: Unit | None = None
        self.websocket: Any = None


class FanOut:
    """The messages read and not yet handed to every member, and the tasks that send them."""

    def __init__(
        self,
        *,
        timeout: float | None,
        concurrency: int,
        backlog: int,
        members: Callable[[str], Iterable[Any]],
        current: Callable[[Unit], bool],
        is_member: Callable[[Any, str], bool],
        failed: Callable[[str, Any, Exception], None],
    ) -> None:
        self._timeout = timeout
        self._backlog = backlog
        self._members = members  # a channel's members now
        self._current = current  # False once nobody here reads the unit's channel where it was read
        self._is_member = is_member
        self._report = failed  # a send that raised or timed out, or messages dropped
        self._units: deque[Unit] = deque()  # read, no send started yet
        self._unit: Unit | None = None  # the one being handed out (its targets are shared)
        self._busy: dict[Any, deque[Unit]] = {}  # members with a send waiting: their outboxes
        self._free = concurrency  # workers that may still start (each holds a place)
        self._pulling = 0  # workers taking pairs now (not waiting on a send)
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle: asyncio.Future[None] | None = None  # the reader waits on it
        self._closed = False

    # --- The reader's side. ---

    def add(self, unit: Unit) -> None:
        if not self._closed:
            self._units.append(unit)

    async def run(self) -> None:
        """Returns once every message added was handed to every member: sent, or its send waits
        in a task of its own, or it is queued behind such a send."""
        if self._closed or not self._pending():
            return
        if self._pulling == 0 and self._free > 0:
            self._spawn()
        # (With no place free, every worker waits on a first send: the first that ends goes on.)
        waiter = self._idle = asyncio.get_running_loop().create_future()
        await waiter

    async def close(self) -> None:
        """Forgets what was not sent and cancels the sends that wait."""
        self._closed = True
        self._units.clear()
        self._busy.clear()
        if self._unit is not None:
            self._unit.stale = True  # a send running close() (a worker's) sends no more of it
            self._unit = None
        self._wake_reader()
        # Not the task calling close() (a member's send may): it would cancel its own caller.
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=2.0)
            if pending:
                logger.warning("%d channel sends did not stop", len(pending))

    # --- The workers. ---

    def _pending(self) -> bool:
        return self._unit is not None or bool(self._units)

    def _wake_reader(self) -> None:
        idle, self._idle = self._idle, None
        if idle is not None and not idle.done():
            idle.set_result(None)

    def _spawn(self) -> None:
        self._free -= 1
        self._pulling += 1
        task = asyncio.create_task(self._work(), name="ferrosocket channels sender")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _ensure_puller(self) -> None:
        if self._pulling == 0 and self._free > 0 and not self._closed and self._pending():
            self._spawn()

    def _next_unit(self) -> Unit | None:
        """The next message to hand out (its members taken now), or None: all handed out."""
        units = self._units
        while units:
            unit = units.popleft()
            if self._current(unit):
                unit.targets = iter(list(self._members(unit.channel)))
                self._unit = unit
                return unit
        self._unit = None
        self._wake_reader()
        return None

    async def _work(self) -> None:
        holds = pulling = True  # (_spawn counted both)
        owned: Any = None  # a member whose send this task waited on, until it is released
        segment: _Segment | None = None  # the current one (None: none yet, or counted as pulling again)
        try:
            while not self._closed:
                segment = _Segment()
                await _drive(self._segment(segment), self._on_block, segment)
                if not segment.blocked:
                    return  # everything was handed out
                pulling = False  # (_on_block uncounted it)
                websocket = owned = segment.websocket
                outbox = self._busy.get(websocket)
                if outbox:
                    # Messages came for it while its send waited: this task is its own now; its
                    # place goes back to the list.
                    holds = False
                    self._free += 1
                    self._ensure_puller()
                    await self._drain(websocket, outbox)
                    owned = None
                    if self._closed or not self._pending() or self._free == 0:
                        return
                    holds = True
                    self._free -= 1
                elif outbox is not None:
                    del self._busy[websocket]  # it takes messages directly again
                owned = None
                pulling = True
                self._pulling += 1
                segment = None
        except Exception:
            logger.exception("channel sender: unexpected error")
        finally:
            # After an unexpected error: a send that waited (its _on_block already uncounted this
            # worker, and its member must not stay busy, its messages queued for ever).
            blocked = segment is not None and segment.blocked
            if blocked and owned is None and segment is not None:
                owned = segment.websocket
            if owned is not None and not self._closed:
                self._busy.pop(owned, None)
            if pulling and not blocked:
                self._pulling -= 1
            if holds:
                self._free += 1
            self._ensure_puller()  # (after an unexpected error, someone goes on with the list)

    async def _segment(self, segment: _Segment) -> None:
        """Sends pairs from the list until one send has to wait; finishes that one (or lets its
        deadline cancel it), then returns."""
        busy = self._busy
        async with segment.deadline:
            while True:
                unit = self._unit
                if unit is None:
                    unit = self._next_unit()
                    if unit is None:
                        return
                segment.unit = unit
                payload = unit.payload
                is_text = unit.is_text
                # The hot path: one await, one dict check, three flag checks per member.
                for websocket in unit.targets:
                    if unit.stale and (
                        self._closed or not (self._current(unit) and self._is_member(websocket, unit.channel))
                    ):
                        continue  # it left the channel (or everyone here did, or close() ran) since
                    if busy and websocket in busy:
                        self._queue(websocket, unit)
                        continue
                    segment.websocket = websocket
                    try:
                        await (websocket.send_text(payload) if is_text else websocket.send_bytes(payload))
                    except Exception as error:
                        self._failed(unit.channel, websocket, error)
                    except BaseException as error:
                        if not _cancelled_inside(error):
                            raise  # its deadline, or close()
                        self._failed(
                            unit.channel, websocket, cancelled_inside_error(is_text, error, "the channels")
                        )
                    if segment.blocked:
                        return
                if self._unit is unit:
                    self._unit = None
        if segment.deadline.caught and segment.unit is not None:
            self._failed(
                segment.unit.channel, segment.websocket, timed_out_error(segment.unit.is_text, self._timeout)
            )

    def _on_block(self, segment: _Segment) -> None:
        """A send just yielded to the event loop: its member is busy from now on, another worker
        goes on with the list, and the send's clock starts."""
        segment.blocked = True
        if self._unit is not None:
            self._unit.stale = True  # others run while this send waits (leave, join, close)
        self._busy[segment.websocket] = deque()
        self._pulling -= 1
        self._ensure_puller()
        if self._timeout is not None:
            segment.deadline.arm(self._timeout)

    def _queue(self, websocket: Any, unit: Unit) -> None:
        outbox = self._busy[websocket]
        if len(outbox) >= self._backlog:
            dropped = Counter(
                u.channel for u in outbox if self._current(u) and self._is_member(websocket, u.channel)
            )
            outbox.clear()
            for channel, count in dropped.items():
                error = OverflowError(
                    f"{count} messages dropped: {self._backlog} waited for this connection already (backlog)"
                )
                self._failed(channel, websocket, error)
        outbox.append(unit)

    async def _drain(self, websocket: Any, outbox: deque[Unit]) -> None:
        """Sends a busy member's outbox, in order, then lets it take messages directly again."""
        while outbox and not self._closed:
            unit = outbox.popleft()
            if not self._current(unit) or not self._is_member(websocket, unit.channel):
                continue  # it left the channel (or everyone here did) since
            deadline = _AsyncioDeadline()
            try:
                async with deadline:
                    if self._timeout is not None:
                        deadline.arm(self._timeout)
                    payload = unit.payload
                    await (websocket.send_text(payload) if unit.is_text else websocket.send_bytes(payload))
            except Exception as error:
                self._failed(unit.channel, websocket, error)
            except BaseException as error:
                if not _cancelled_inside(error):
                    raise
                self._failed(
                    unit.channel, websocket, cancelled_inside_error(unit.is_text, error, "the channels")
                )
            if deadline.caught:
                self._failed(unit.channel, websocket, timed_out_error(unit.is_text, self._timeout))
        if not outbox and self._busy.get(websocket) is outbox:
            del self._busy[websocket]

    def _failed(self, channel: str, websocket: Any, error: Exception) -> None:
        """Reports a failure. The report may run the app's code (``on_failure``), which may make
        members leave: the message being handed out checks its members from now on."""
        if self._unit is not None:
            self._unit.stale = True
        self._report(channel, websocket, error)


def _cancelled_inside(error: BaseException) -> bool:
    """A CancelledError nobody asked of this task (a worker starts with none): what the send
    awaited was cancelled, not the send."""
    if not isinstance(error, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is not None and task.cancelling() == 0
