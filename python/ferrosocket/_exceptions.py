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


class UnexpectedMessageType(KeyError):
    """``receive_text()`` got a binary message, or ``receive_bytes()`` a text one.

    A ``KeyError`` so that handlers written for Starlette (where this is a bare ``KeyError`` on
    ``message["text"]``) still catch it; unlike that one it says what happened.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
