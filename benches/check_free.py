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

__all__ = ["CheckFree"]


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
