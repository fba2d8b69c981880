"""The exceptions a connection raises pickle and copy, with the switch on and off.

After ``install()`` the connection raises bridged classes (derived from both ferrosocket's and
Starlette's ``WebSocketDisconnect``/``WebSocketDisconnected``), made at run time by
``ferrosocket._install``. pickle stores a class by its module and qualified name, so those must
name the bridged class itself (and work in a process that never called ``install()``: task
queues and multiprocessing unpickle in workers).
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import starlette.websockets as sw

import ferrosocket

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
SCOPE = {"type": "websocket", "path": "/ws", "headers": []}


@pytest.fixture(autouse=True)
def _always_restored() -> Iterator[None]:
    yield
    ferrosocket.uninstall()


def receiver(*messages: dict[str, Any]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


async def send(message: Any) -> None:
    pass


def raised_by_a_connection(websocket_class: Any = sw.WebSocket) -> list[BaseException]:
    """What a connection raises (built as Starlette's router builds it, by default): a disconnect
    with a code and a reason, a disconnect with the defaults, and uses of the closed connection."""
    raised: list[BaseException] = []

    async def main() -> None:
        for disconnect in (
            {"type": "websocket.disconnect", "code": 4001, "reason": "bye"},
            {"type": "websocket.disconnect"},
        ):
            ws = websocket_class(dict(SCOPE), receiver({"type": "websocket.connect"}, disconnect), send)
            await ws.accept()
            for _ in range(2):  # the disconnect; then a receive after it
                try:
                    await ws.receive_text()
                except Exception as exc:  # noqa: BLE001 (collected and checked below)
                    raised.append(exc)
        ws = websocket_class(dict(SCOPE), receiver(), send)
        ws.client_state = ws.application_state = ws.client_state.DISCONNECTED
        try:
            await ws.send_text("late")
        except Exception as exc:  # noqa: BLE001
            raised.append(exc)

    anyio.run(main)
    return raised


def same(a: BaseException, b: BaseException) -> None:
    assert type(a) is type(b)
    assert a.args == b.args
    assert str(a) == str(b)
    assert getattr(a, "code", None) == getattr(b, "code", None)
    assert getattr(a, "reason", None) == getattr(b, "reason", None)


def check_round_trips(raised: list[BaseException]) -> None:
    kinds = {type(exc).__name__ for exc in raised}
    assert kinds == {"WebSocketDisconnect", "WebSocketDisconnected"}, raised
    codes = sorted(
        exc.code
        for exc in raised
        if isinstance(exc, sw.WebSocketDisconnect | ferrosocket.WebSocketDisconnect)
    )
    assert codes == [1005, 4001]
    for exc in raised:
        for protocol in PROTOCOLS:
            same(pickle.loads(pickle.dumps(exc, protocol=protocol)), exc)
        same(copy.copy(exc), exc)
        same(copy.deepcopy(exc), exc)


def test_exceptions_of_an_unswitched_connection_round_trip() -> None:
    raised = raised_by_a_connection(ferrosocket.WebSocket)
    assert {type(exc) for exc in raised} == {
        ferrosocket.WebSocketDisconnect,
        ferrosocket.WebSocketDisconnected,
    }
    check_round_trips(raised)
    # And after the switch was on once.
    ferrosocket.install()
    ferrosocket.uninstall()
    raised = raised_by_a_connection(ferrosocket.WebSocket)
    assert {type(exc) for exc in raised} == {
        ferrosocket.WebSocketDisconnect,
        ferrosocket.WebSocketDisconnected,
    }
    check_round_trips(raised)


def test_exceptions_of_a_switched_connection_round_trip() -> None:
    ferrosocket.install()
    raised = raised_by_a_connection()
    for exc in raised:  # the bridged classes: both libraries'
        base = (
            sw.WebSocketDisconnect
            if type(exc).__name__ == "WebSocketDisconnect"
            else sw.WebSocketDisconnected
        )
        assert isinstance(exc, base)
    check_round_trips(raised)
    # Still after uninstall(): the classes stay where pickle looks for them.
    ferrosocket.uninstall()
    check_round_trips(raised)


def test_bridged_exceptions_unpickle_in_a_process_without_install() -> None:
    ferrosocket.install()
    raised = raised_by_a_connection()
    payload = pickle.dumps(raised, protocol=2)
    child = """
import pickle, sys
import starlette.websockets as sw
import ferrosocket
raised = pickle.loads(sys.stdin.buffer.read())
assert not ferrosocket.installed()
for exc in raised:
    name = type(exc).__name__
    assert isinstance(exc, getattr(sw, name)) and isinstance(exc, getattr(ferrosocket, name)), exc
print([(type(e).__qualname__, e.args, getattr(e, "code", None), getattr(e, "reason", None)) for e in raised])
"""
    result = subprocess.run(
        [sys.executable, "-c", child], input=payload, capture_output=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    expected = [
        (type(exc).__qualname__, exc.args, getattr(exc, "code", None), getattr(exc, "reason", None))
        for exc in raised
    ]
    assert result.stdout.decode().strip() == repr(expected)
