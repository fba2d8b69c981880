"""Channel names: what a name may be, and the application's list of known channels."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

__all__ = ["ChannelNames"]

# Printable ASCII without spaces or braces: safe in a Redis key and in a log line.
_NAME: Final = re.compile(r"[A-Za-z0-9_.:@/#+=-]{1,200}")
_RULE: Final = "1 to 200 characters among letters, digits and _ . : @ / # + = -"


class ChannelNames:
    """Checks channel names: their spelling, and, when the application named its channels (a
    collection of names, or a predicate), that the name is one of them."""

    __slots__ = ("_known",)

    def __init__(self, known: Iterable[str] | Callable[[str], bool] | None) -> None:
        if known is None or callable(known):
            self._known = known
        else:
            names = frozenset(known)
            for name in names:
                self._spelling(name)
            self._known = names.__contains__

    @staticmethod
    def _spelling(name: object) -> str:
        if not isinstance(name, str):
            raise TypeError(f"a channel name is a str, not {type(name).__name__}")
        if _NAME.fullmatch(name) is None:
            raise ValueError(f"bad channel name {name!r}: {_RULE}")
        return name

    def check(self, name: object) -> str:
        """``name``, or ``TypeError``/``ValueError`` saying what is wrong with it."""
        checked = self._spelling(name)
        if self._known is not None and not self._known(checked):
            raise ValueError(f"unknown channel {checked!r}")
        return checked
