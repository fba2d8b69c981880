"""ferrosocket: Starlette's WebSocket class on a Rust core.

``from ferrosocket import WebSocket`` and use it exactly like ``starlette.websockets.WebSocket``.
"""

from typing import TYPE_CHECKING, Any

from ferrosocket import datastructures, websockets
from ferrosocket._core import __version__
from ferrosocket._install import adopt, install, installed, uninstall
from ferrosocket.datastructures import URL as URL
from ferrosocket.datastructures import Address as Address
from ferrosocket.datastructures import Headers as Headers
from ferrosocket.datastructures import MutableHeaders as MutableHeaders
from ferrosocket.datastructures import QueryParams as QueryParams
from ferrosocket.datastructures import State as State
from ferrosocket.websockets import UnexpectedMessageType as UnexpectedMessageType
from ferrosocket.websockets import WebSocket as WebSocket
from ferrosocket.websockets import WebSocketClose as WebSocketClose
from ferrosocket.websockets import WebSocketDisconnect as WebSocketDisconnect
from ferrosocket.websockets import WebSocketDisconnected as WebSocketDisconnected
from ferrosocket.websockets import WebSocketState as WebSocketState

__all__ = ["__version__", "adopt", "install", "installed", "uninstall"]
__all__ += datastructures.__all__
__all__ += websockets.__all__

# Encode once, send to many (docs/broadcast.md).
from ferrosocket._broadcast import BroadcastFailure, BroadcastResult, broadcast  # noqa: E402
from ferrosocket._prepared import MessageSink, PreparedMessage, send_prepared  # noqa: E402

__all__ += [
    "BroadcastFailure",
    "BroadcastResult",
    "MessageSink",
    "PreparedMessage",
    "broadcast",
    "send_prepared",
]

# Channels across processes (docs/scaling.md): need the `redis` extra, so imported on first use
# (and left out of __all__: `from ferrosocket import *` works without redis-py).
if TYPE_CHECKING:
    from ferrosocket.channels import ChannelGap as ChannelGap
    from ferrosocket.channels import RedisChannels as RedisChannels


else:  # at run time only: a type checker that saw it would accept any misspelled name

    def __getattr__(name: str) -> Any:
        if name in ("ChannelGap", "RedisChannels"):
            from ferrosocket import channels

            return getattr(channels, name)
        raise AttributeError(f"module 'ferrosocket' has no attribute {name!r}")
