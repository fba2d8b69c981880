"""The check-free class: the floor of any WebSocket class whose methods are coroutines.

``CheckFree(receive, send)`` has ``async def`` ``receive_text``/``send_text``,
``receive_bytes``/``send_bytes`` and ``receive_json``/``send_json`` that check nothing (no state,
no message type, no payload type): each is one coroutine frame around the awaited ASGI callable
and the least dict work that gets the payload out of, or into, a message. JSON is plain orjson
(``orjson.loads(message["text"])``, ``orjson.dumps(data).decode()``) with no decision about
whether its result is the stdlib's.

The round trips of the suite (``test_bench_python.py``) run it on the same callables as
ferrosocket's and Starlette's WebSocket and the bare loop, and ``round_trip_layers.py`` times it
layer by layer: what it costs over the bare ``await receive()`` / ``await send()`` loop is what a
coroutine method costs, whatever it does.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["BoundaryFloor", "CheckFree"]


class CheckFree:
    """``async def`` methods over ``receive``/``send`` with no checks at all."""

    __slots__ = ("_receive", "_send")

    def __init__(self, receive: Any, send: Any) -> None:
        self._receive, self._send = receive, send

    async def receive_text(self) -> Any:
        return (await self._receive())["text"]

    async def send_text(self, data: str) -> None:
        await self._send({"type": "websocket.send", "text": data})

    async def receive_bytes(self) -> Any:
        return (await self._receive())["bytes"]

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def receive_json(self) -> Any:
        return orjson.loads((await self._receive())["text"])

    async def send_json(self, data: Any) -> None:
        await self._send({"type": "websocket.send", "text": orjson.dumps(data).decode()})


# A call into compiled code that does nothing: a builtin taking one object (METH_O, the cheapest
# call shape there is; PyO3's methods with arguments are METH_FASTCALL | METH_KEYWORDS).
_crossing = id


class BoundaryFloor(CheckFree):
    """The check-free class plus the crossings into compiled code that checks made there need,
    and nothing else: one before the awaited ``receive()`` (the state: Starlette raises without
    receiving), one after it (the message type and the payload), one before the ``send()`` (the
    state and the payload). A crossing here calls a builtin that does nothing (``id``), so this
    is the floor of any class that checks in Rust (or C) with ``async def`` methods, as
    ferrosocket does: ferrosocket / this class is what its checks cost beyond crossing.
    Text and bytes only."""

    __slots__ = ()

    async def receive_text(self) -> Any:
        _crossing(self)
        message = await self._receive()
        _crossing(message)
        return message["text"]

    async def send_text(self, data: str) -> None:
        _crossing(data)
        await self._send({"type": "websocket.send", "text": data})

    async def receive_bytes(self) -> Any:
        _crossing(self)
        message = await self._receive()
        _crossing(message)
        return message["bytes"]

    async def send_bytes(self, data: bytes) -> None:
        _crossing(data)
        await self._send({"type": "websocket.send", "bytes": data})
