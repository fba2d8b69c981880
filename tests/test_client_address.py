"""``websocket.client``: made in Rust, as Starlette's ``Address(*scope.get("client"))`` makes it.

A 2-item tuple or list takes a fast path (tuple's own constructor); everything else is called as
``Address(*host_port)``. Both must give what that Python expression gives: the same value, type
and repr, or the same exception with the same message; and what Starlette's ``client`` gives,
up to the module named in a message.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import starlette.websockets as sw
from hypothesis import given
from hypothesis import strategies as st
from test_trust import ReadOnlyScope

from ferrosocket import Address, WebSocket


class Pair(tuple):  # type: ignore[type-arg]
    pass


class OldStyleSequence:
    """Iterable through ``__getitem__`` only (the sequence protocol)."""

    def __getitem__(self, index: int) -> Any:
        if index < 2:
            return ("h", 7)[index]
        raise IndexError(index)


class Unsized:
    pass


def items() -> Iterator[str]:
    yield "host"
    yield "port"


HOST_PORTS: list[Any] = [
    ("127.0.0.1", 5000),
    ["10.0.0.1", 443],
    ("::1", 0),
    ("h", None),
    (None, None),
    ("only-host",),
    ("a", 1, 2),
    (),
    [],
    ["a", 1, 2],
    "ab",
    "abc",
    b"ab",
    {"host": 1, "port": 2},
    Pair(("h", 9)),
    OldStyleSequence(),
    5,
    5.5,
    Unsized(),
]


def outcome(fn: Any) -> Any:
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 (compared: type and message)
        return ("raised", type(exc).__name__, str(exc))
    return ("ok", value, type(value).__name__, repr(value))


def reference(host_port: Any) -> Any:
    """What the Python property this replaced gave."""
    return Address(*host_port) if host_port is not None else None


class GetOverride(dict[str, Any]):
    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return ("from-get", 1) if key == "client" else super().get(key, default)


class OneArgGet(ReadOnlyScope):
    """A Mapping whose ``get`` takes the key alone: Starlette calls ``scope.get("client")``."""

    def get(self, key: str) -> Any:  # type: ignore[override]
        return self._data.get(key)


def scope(**extra: Any) -> dict[str, Any]:
    return {"type": "websocket", "path": "/", "headers": [], **extra}


@pytest.mark.parametrize("host_port", HOST_PORTS, ids=repr)
def test_client_is_address_of_the_scope_value(host_port: Any) -> None:
    ours = outcome(lambda: WebSocket(scope(client=host_port), None, None).client)
    assert ours == outcome(lambda: reference(host_port))
    theirs = outcome(lambda: sw.WebSocket(scope(client=host_port), None, None).client)  # type: ignore[arg-type]
    if ours[0] == "raised":
        assert ours[:2] == theirs[:2]
        assert ours[2] == theirs[2].replace("starlette.datastructures.", "ferrosocket._core.")
    else:
        assert theirs[0] == "ok"
        assert tuple(ours[1]) == tuple(theirs[1])
        assert ours[2] == theirs[2] == "Address"
        assert ours[3] == theirs[3]


@given(
    st.one_of(
        st.tuples(st.text(), st.integers()),
        st.lists(st.one_of(st.text(), st.integers(), st.none()), max_size=4),
        st.tuples(st.text(), st.integers()).map(list),
    )
)
def test_client_as_starlette_for_generated_values(host_port: Any) -> None:
    ours = outcome(lambda: WebSocket(scope(client=host_port), None, None).client)
    assert ours == outcome(lambda: reference(host_port))


def test_client_missing_or_none() -> None:
    assert WebSocket(scope(), None, None).client is None
    assert WebSocket(scope(client=None), None, None).client is None


def test_client_through_the_scope_own_get() -> None:
    assert WebSocket(GetOverride(scope(client=("ignored", 0))), None, None).client == ("from-get", 1)
    ws = WebSocket(OneArgGet(scope(client=["h", 2])), None, None)  # type: ignore[arg-type]
    assert ws.client == Address("h", 2)
    assert ws.client.host == "h" and ws.client.port == 2  # type: ignore[union-attr]


def test_client_holds_no_extra_reference() -> None:
    host, port = "refcount-host", 123456789
    pair = (host, port)
    ws = WebSocket(scope(client=pair), None, None)
    gc.collect()
    before = (sys.getrefcount(host), sys.getrefcount(port), sys.getrefcount(pair))
    for _ in range(1000):
        address = ws.client
        assert address is not None and address.host is host and address.port is port
    del address
    gc.collect()
    assert (sys.getrefcount(host), sys.getrefcount(port), sys.getrefcount(pair)) == before
