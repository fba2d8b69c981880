"""The exceptions of the connection, as Starlette defines them."""

from __future__ import annotations


class WebSocketDisconnect(Exception):
    """The peer went away (or the server's send failed): ``code`` and ``reason`` say how."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""


class WebSocketDisconnected(RuntimeError):
    """
    Raised when attempting to use a disconnected WebSocket.
    """
