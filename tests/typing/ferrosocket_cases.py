"""ferrosocket's own API (no Starlette counterpart): what type checkers must accept and reject.

Not run, only checked, as parity_cases.py is (see there): `make lint`, and
tests/typing/test_typing_cases.py under mypy --strict and pyright strict, where every line must give
exactly the errors its comments name. The rejected calls all raise at run time.
"""

from __future__ import annotations

from typing import assert_type

import ferrosocket
from ferrosocket import (
    BroadcastResult,
    PreparedMessage,
    WebSocket,
    broadcast,
    send_prepared,
)


def misspelled_names_are_errors() -> None:
    # The lazy module __getattr__ (RedisChannels, ChannelGap) is hidden from type checkers.
    from ferrosocket import Websocket  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType]

    ferrosocket.instal()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    print(Websocket)  # pyright: ignore[reportUnknownArgumentType]
    assert_type(ferrosocket.PreparedMessage, type[PreparedMessage])


async def prepared_messages_come_from_the_factories(ws: WebSocket) -> None:
    assert_type(PreparedMessage.text("x"), PreparedMessage)
    assert_type(PreparedMessage.binary(bytearray(b"x")), PreparedMessage)
    assert_type(PreparedMessage.json({"a": 1}, "binary"), PreparedMessage)
    assert_type(PreparedMessage.text("x").payload, str | bytes)
    await send_prepared(ws, PreparedMessage.text("x"))
    PreparedMessage()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


async def broadcast_data_follows_the_mode(conns: list[WebSocket], prepared: PreparedMessage) -> None:
    assert_type(await broadcast(conns, "x"), BroadcastResult[WebSocket])
    await broadcast(conns, "x", "text")
    await broadcast(conns, b"x", "binary")
    await broadcast(conns, bytearray(b"x"), "binary")
    await broadcast(conns, memoryview(b"x"), "binary")
    await broadcast(conns, {"a": 1}, "json")
    await broadcast(conns, "x", "json")
    await broadcast(conns, prepared)
    await broadcast(conns, prepared, None, timeout=None, concurrency=8)
    await broadcast(conns, b"x")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    await broadcast(conns, {"a": 1})  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    await broadcast(conns, "x", "binary")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    await broadcast(conns, b"x", "text")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    await broadcast(conns, prepared, "text")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    await broadcast(conns, prepared, "binary")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    await broadcast(conns, "x", "xml")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
