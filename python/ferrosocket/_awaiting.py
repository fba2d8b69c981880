"""Support for the Rust coroutines of the message path (``receive_text()`` and friends).

They drive the server's ``receive()``/``send()`` coroutines step by step from Rust. When one of
those callables returns something other than a native coroutine (a future, an object with
``__await__``, or something that cannot be awaited at all), the Rust side awaits it through
``await_any`` instead, so that CPython's own ``await`` rules and error messages apply.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def await_any(awaitable: Awaitable[T]) -> T:
    """``await awaitable``, as a native coroutine."""
    return await awaitable
