"""Which local connections joined which channels (one process's view; no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

__all__ = ["Membership", "is_gone", "check_can_join"]

W = TypeVar("W")


def _state_name(websocket: Any, attribute: str) -> str | None:
    state = getattr(websocket, attribute, None)
    return getattr(state, "name", None)


def is_gone(websocket: Any) -> bool:
    """True once the connection can never receive again: the app closed it, or the peer's
    disconnect was received (ferrosocket's, Starlette's and FastAPI's ``WebSocket`` states)."""
    states = (_state_name(websocket, "application_state"), _state_name(websocket, "client_state"))
    return "DISCONNECTED" in states


def check_can_join(websocket: Any) -> None:
    """``RuntimeError`` unless the connection was accepted and is still open."""
    if is_gone(websocket):
        raise RuntimeError("a closed or disconnected WebSocket cannot join a channel")
    if _state_name(websocket, "application_state") in ("CONNECTING", "RESPONSE"):
        raise RuntimeError('a WebSocket must be accepted before it joins a channel (call "accept" first)')
    if not all(callable(getattr(websocket, method, None)) for method in ("send_text", "send_bytes")):
        raise TypeError(f"{type(websocket).__name__} has no send_text/send_bytes: it cannot join a channel")


class Membership(Generic[W]):
    """Channels to their local members (insertion-ordered) and members to their channels."""

    __slots__ = ("_members", "_channels")

    def __init__(self) -> None:
        self._members: dict[str, dict[W, None]] = {}
        self._channels: dict[W, set[str]] = {}

    def join(self, websocket: W, channel: str) -> None:
        self._members.setdefault(channel, {})[websocket] = None
        self._channels.setdefault(websocket, set()).add(channel)

    def leave(self, websocket: W, channel: str) -> bool:
        """Removes one membership; True when the channel has no local member left."""
        members = self._members.get(channel)
        if members is None:
            return False
        members.pop(websocket, None)
        joined = self._channels.get(websocket)
        if joined is not None:
            joined.discard(channel)
            if not joined:
                del self._channels[websocket]
        if members:
            return False
        del self._members[channel]
        return True

    def leave_all(self, websocket: W) -> list[str]:
        """Removes every membership of ``websocket``; the channels left without a local member."""
        emptied: list[str] = []
        for channel in list(self._channels.get(websocket, ())):
            if self.leave(websocket, channel):
                emptied.append(channel)
        return emptied

    def members(self, channel: str) -> Iterable[W]:
        """The channel's local members (a live view: ``broadcast`` copies it)."""
        return self._members.get(channel, {}).keys()

    def has(self, channel: str) -> bool:
        return channel in self._members

    def is_member(self, websocket: W, channel: str) -> bool:
        joined = self._channels.get(websocket)
        return joined is not None and channel in joined

    def channels_of(self, websocket: W) -> frozenset[str]:
        return frozenset(self._channels.get(websocket, ()))

    def connections(self) -> list[W]:
        return list(self._channels)
