"""``broadcast``: one message, encoded once, sent to many connections; failures reported, not raised.

How it runs. The message is encoded and checked first (``PreparedMessage``), so bad input raises
before anything is sent. The connections are then sent to one after the other, in the calling
task, for as long as each send completes without waiting: a send to a healthy connection on an
in-memory or buffered transport costs what ``await websocket.send_text(payload)`` costs, and no
task is created. A send that has to wait (its coroutine yields to the event loop: a full socket
buffer, a slow peer) is noticed the moment it yields (``_drive`` steps the loop's coroutine by
hand): a new worker task goes on with the rest of the list, and the waiting send gets a deadline
of ``timeout`` seconds, after which it is cancelled and reported; once it ends, its worker goes on
with the list too, beside the others. At most ``concurrency`` workers exist, so at most that many
sends wait at once; when that many are waiting, the list resumes as soon as one of them ends. So a
slow or dead connection delays the others by at most ``timeout``, and by nothing while fewer than
``concurrency`` connections are slow.

Every task stays in the caller's task group (an ``asyncio.TaskGroup`` or a trio nursery, picked
from the library that runs the caller: ``asyncio`` and ``trio``, and anyio on either); the
coroutine of a send always runs in the task that started it (trio's and asyncio's primitives
assume so).
"""

# pyright: reportUnnecessaryIsInstance=false, reportPrivateUsage=false
# (Arguments are checked at run time, whatever their annotations; the package's modules share
# private helpers.)

from __future__ import annotations

import math
import sys
import types
from collections.abc import Callable, Coroutine, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, NamedTuple, Protocol, TypeVar, overload

from ferrosocket._prepared import MessageSink, PreparedMessage

__all__ = ["BroadcastFailure", "BroadcastResult", "broadcast"]

W = TypeVar("W", bound=MessageSink)

Mode = Literal["text", "binary", "json"]

DEFAULT_TIMEOUT: Final = 5.0
DEFAULT_CONCURRENCY: Final = 256


class BroadcastFailure(NamedTuple, Generic[W]):
    """A connection whose send did not complete, and why: the exception its send raised (a
    ``WebSocketDisconnect`` for a connection that has gone), or a ``TimeoutError`` for a send that
    did not complete within the broadcast's ``timeout`` (it was cancelled: the frame may still
    reach the peer if the server had already queued it, as a cancelled ``send_text`` may)."""

    websocket: W
    error: Exception


@dataclass(frozen=True, slots=True)
class BroadcastResult(Generic[W]):
    """What ``broadcast`` did: how many connections got the message, and the failures."""

    delivered: int
    """Sends that completed."""
    failures: tuple[BroadcastFailure[W], ...]
    """One entry per connection whose send raised or timed out, in the order they failed."""

    @property
    def failed(self) -> list[W]:
        """The connections in ``failures``."""
        return [failure.websocket for failure in self.failures]

    @property
    def ok(self) -> bool:
        """True when every connection got the message."""
        return not self.failures


def _prepare(data: Any, mode: Mode | None) -> PreparedMessage:
    if isinstance(data, PreparedMessage):
        if mode is not None:
            raise TypeError("mode applies to raw data: a PreparedMessage already says what it is")
        return data
    if mode is None or mode == "text":
        return PreparedMessage.text(data)
    if mode == "binary":
        return PreparedMessage.binary(data)
    if mode == "json":
        return PreparedMessage.json(data)
    raise ValueError(f'mode must be "text", "binary" or "json", not {mode!r}')


def _check_bounds(timeout: float | None, concurrency: int) -> None:
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
        try:
            seconds = float(timeout)  # the event loops' clocks are floats
        except OverflowError:
            raise ValueError(
                "timeout must be a positive, finite number of seconds or None,"
                " not an int too large for a float"
            ) from None
        if not seconds > 0 or math.isinf(seconds):
            raise ValueError(f"timeout must be a positive, finite number of seconds or None, not {timeout!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(f"concurrency must be an int, not {type(concurrency).__name__}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")


# The data's type follows the mode, as the run-time checks (_prepare) require: a str for text (the
# default), bytes-like for binary, anything for json, a PreparedMessage with no mode.
@overload
async def broadcast(
    websockets: Iterable[W],
    data: str,
    mode: Literal["text"] | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> BroadcastResult[W]: ...
@overload
async def broadcast(
    websockets: Iterable[W],
    data: PreparedMessage,
    mode: None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> BroadcastResult[W]: ...
@overload
async def broadcast(
    websockets: Iterable[W],
    data: bytes | bytearray | memoryview,
    mode: Literal["binary"],
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> BroadcastResult[W]: ...
@overload
async def broadcast(
    websockets: Iterable[W],
    data: Any,
    mode: Literal["json"],
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> BroadcastResult[W]: ...
async def broadcast(
    websockets: Iterable[W],
    data: Any,
    mode: Mode | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> BroadcastResult[W]:
    """Send one message to every connection in ``websockets``, encoding it once.

    ``data`` is a ``str`` (``mode="text"``, the default), bytes-like (``mode="binary"``), any
    JSON-serialisable value (``mode="json"``: a text frame, encoded exactly as ``send_json``
    encodes it), or a ``PreparedMessage`` (then leave ``mode`` out). Bad data, a bad mode or bad
    bounds raise ``TypeError``/``ValueError`` (or the JSON encoder's exception) before anything is
    sent. ``websockets`` is read once, at the call (a list, a set, a dict's keys: later changes to
    it do not matter); each connection gets one send, so pass each connection once.

    Nothing a send raises escapes: each failure is reported in the result, with the exception,
    and the other connections still get the message. A send still waiting after ``timeout``
    seconds (``None``: no limit) is cancelled and reported as a ``TimeoutError``; at most
    ``concurrency`` sends wait at once. The call returns once every send has completed, failed or
    timed out. Cancelling the call cancels the sends still in progress.
    """
    message = _prepare(data, mode)
    del data  # encoded once: a temporary object is freed now, not held across the sends
    _check_bounds(timeout, concurrency)
    targets = list(websockets)
    if not targets:
        return BroadcastResult(0, ())
    run = _Run(iter(targets), message, timeout, concurrency)
    if _running_trio():
        await _run_on_trio(run)
    else:
        await _run_on_asyncio(run)
    return BroadcastResult(len(targets) - len(run.failures), tuple(run.failures))


# --- The engine. ------------------------------------------------------------------------------


class _Deadline(Protocol):
    """A cancel scope around one segment, armed when the segment's send starts to wait."""

    caught: bool  # the scope cancelled the send (its timeout expired)

    def arm(self, seconds: float) -> None: ...
    async def __aenter__(self) -> None: ...
    async def __aexit__(self, *exc_info: Any) -> bool | None: ...


class _Run:
    """The state one broadcast's workers share."""

    __slots__ = (
        "targets",
        "payload",
        "is_text",
        "failures",
        "timeout",
        "free",
        "spawn",
        "deadline",
        "cancelled_inside_send",
    )

    def __init__(self, targets: Iterator[Any], message: PreparedMessage, timeout: float | None, slots: int):
        self.targets = targets  # shared: each connection is taken by exactly one worker
        self.payload: Any = message.payload
        self.is_text = message.is_text
        self.failures: list[BroadcastFailure[Any]] = []
        self.timeout = timeout
        self.free = slots - 1  # workers that may still be started besides the calling task
        self.spawn: Callable[[], None] = _no_spawn
        self.deadline: Callable[[], _Deadline] = _no_deadline
        # Whether a BaseException from a send is a cancellation of that send alone: nobody
        # cancelled the task running it (asyncio); the event loop's own test.
        self.cancelled_inside_send: Callable[[BaseException], bool] = _never


def _no_spawn() -> None:
    raise RuntimeError("no task group")  # replaced before any worker runs


def _no_deadline() -> _Deadline:
    raise RuntimeError("no event loop")  # replaced before any worker runs


def _never(_: BaseException) -> bool:
    return False


class _Segment:
    """One stretch of a worker's sends: it ends after the first send that had to wait."""

    __slots__ = ("blocked", "deadline")

    def __init__(self, deadline: _Deadline) -> None:
        self.blocked = False
        self.deadline = deadline


async def _send_segment(run: _Run, segment: _Segment) -> None:
    """Send to connections from the shared list until one send has to wait; finish that one
    (or let its deadline cancel it), then return."""
    targets = run.targets
    payload = run.payload
    failures = run.failures
    websocket: Any = None
    async with segment.deadline:
        # The loop is the hot path: one await and two flag checks per connection.
        is_text = run.is_text
        for websocket in targets:
            try:
                await (websocket.send_text(payload) if is_text else websocket.send_bytes(payload))
            except Exception as error:
                failures.append(BroadcastFailure(websocket, error))
            except BaseException as error:
                if not run.cancelled_inside_send(error):
                    raise  # the broadcast (its task, its deadline) is cancelled, or worse
                failures.append(
                    BroadcastFailure(websocket, cancelled_inside_error(run.is_text, error, "the broadcast"))
                )
            if segment.blocked:
                return
    if segment.deadline.caught:
        failures.append(BroadcastFailure(websocket, timed_out_error(run.is_text, run.timeout)))


# The failures' errors, shared with channels/_fanout.py.


def _method(is_text: bool) -> str:
    return "send_text()" if is_text else "send_bytes()"


def timed_out_error(is_text: bool, timeout: float | None) -> TimeoutError:
    return TimeoutError(f"{_method(is_text)} did not complete within {timeout} s")


def cancelled_inside_error(is_text: bool, cancelled: BaseException, by: str) -> RuntimeError:
    """The failure of a send that raised a cancellation nobody asked of the sender (something
    the send awaited was cancelled): it did not complete (the frame may still have gone out)."""
    error = RuntimeError(f"{_method(is_text)} was cancelled from inside the send, not by {by}")
    error.__cause__ = cancelled
    return error


def _on_block(run: _Run, segment: _Segment) -> None:
    """A send just yielded to the event loop: start a new worker on the rest of the list (unless
    ``concurrency`` workers exist: each waits on a send, and goes on with the list once its send
    ends), and start the send's clock."""
    segment.blocked = True
    if run.free > 0:
        run.free -= 1
        run.spawn()
    if run.timeout is not None:
        segment.deadline.arm(run.timeout)


@types.coroutine
def _drive(
    coroutine: Coroutine[Any, Any, None], on_block: Callable[..., None], *block_args: Any
) -> Generator[Any, Any, None]:
    """Await ``coroutine`` (a segment's sends), calling ``on_block(*block_args)`` once, the first time it
    yields to the event loop (before the event loop sees the yield). Everything else passes
    through unchanged: what the event loop sends or throws in, what the coroutine yields, in the
    same task. (channels/_fanout.py drives its sends with it too.)"""
    try:
        yielded = coroutine.send(None)
    except StopIteration:
        return
    try:
        on_block(*block_args)
    except BaseException:
        coroutine.close()
        raise
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as thrown:
            try:
                yielded = coroutine.throw(thrown)
            except StopIteration:
                return
        else:
            try:
                yielded = coroutine.send(sent)
            except StopIteration:
                return


async def _worker(run: _Run) -> None:
    """Run segments until the list is empty."""
    while True:
        segment = _Segment(run.deadline())
        await _drive(_send_segment(run, segment), _on_block, run, segment)
        if not segment.blocked:
            return  # the list is empty
        # The waiting send ended: go on with the list, beside the other workers. (A worker that
        # returned here would make one task per waiting send: on a server whose every send
        # waits, granian's, one task and its garbage per connection.)


# --- The two event loops. ---------------------------------------------------------------------


def _running_trio() -> bool:
    """True when trio runs the calling task (checked through sys.modules: trio is never imported
    here unless the application already did)."""
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


class _AsyncioDeadline:
    """``asyncio.timeout(None)``, armed later; a ``TimeoutError`` of its own is swallowed."""

    __slots__ = ("_timeout", "caught")

    def __init__(self) -> None:
        import asyncio

        self._timeout = asyncio.timeout(None)
        self.caught = False

    def arm(self, seconds: float) -> None:
        import asyncio

        self._timeout.reschedule(asyncio.get_running_loop().time() + seconds)

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        try:
            await self._timeout.__aexit__(*exc_info)
        except TimeoutError:
            if self._timeout.expired():
                self.caught = True
                return True
            raise
        return None


class _TrioDeadline:
    """A ``trio.CancelScope``, armed later."""

    __slots__ = ("_scope", "caught")

    def __init__(self) -> None:
        import trio

        self._scope = trio.CancelScope()
        self.caught = False

    def arm(self, seconds: float) -> None:
        import trio

        self._scope.deadline = trio.current_time() + seconds

    async def __aenter__(self) -> None:
        self._scope.__enter__()

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        suppressed = self._scope.__exit__(*exc_info)
        self.caught = self._scope.cancelled_caught
        return suppressed


async def _run_on_asyncio(run: _Run) -> None:
    import asyncio

    caller = asyncio.current_task()
    # The cancellation requests the calling task had already when the broadcast began (it may be
    # broadcasting from its own `except CancelledError:`); a worker starts with none.
    already = caller.cancelling() if caller is not None else 0

    def cancelled_inside_send(error: BaseException) -> bool:
        """A ``CancelledError`` while no one has asked to cancel the current task since the
        broadcast began (a deadline or a caller's ``cancel()`` would have): the send's own
        awaitable was cancelled."""
        if not isinstance(error, asyncio.CancelledError):
            return False
        task = asyncio.current_task()
        return task is not None and task.cancelling() == (already if task is caller else 0)

    async with asyncio.TaskGroup() as group:
        run.spawn = lambda: _discard(group.create_task(_worker(run)))
        run.deadline = _AsyncioDeadline
        run.cancelled_inside_send = cancelled_inside_send
        await _worker(run)


async def _run_on_trio(run: _Run) -> None:
    import trio

    async with trio.open_nursery() as nursery:
        run.spawn = lambda: nursery.start_soon(_worker, run)
        run.deadline = _TrioDeadline
        await _worker(run)


def _discard(_: object) -> None:
    pass
