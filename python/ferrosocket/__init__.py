"""ferrosocket: Starlette's WebSocket class on a Rust core.

``from ferrosocket import WebSocket`` and use it exactly like ``starlette.websockets.WebSocket``.
"""

from ferrosocket._core import __version__
from ferrosocket._install import adopt, install, installed, uninstall
from ferrosocket.datastructures import URL, Address, Headers, MutableHeaders, QueryParams, State
from ferrosocket.websockets import (
    UnexpectedMessageType,
    WebSocket,
    WebSocketClose,
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketState,
)

__all__ = [
    "URL",
    "Address",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UnexpectedMessageType",
    "WebSocket",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketDisconnected",
    "WebSocketState",
    "__version__",
    "adopt",
    "install",
    "installed",
    "uninstall",
]
