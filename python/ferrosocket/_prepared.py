"""``PreparedMessage``: one WebSocket message, encoded once, to send on any number of connections.

A prepared message holds the frame's payload exactly as ``send_text``/``send_bytes`` take it: a
``str`` for a text frame, ``bytes`` for a binary one. JSON is encoded by the same function as
``WebSocket.send_json`` (``ferrosocket._json.dumps_bytes``: orjson, with the stdlib wherever its
output could differ from Starlette's ``json.dumps``), so the payload is the one ``send_json``
would send. Every check that can fail is made when the message is built, before anything is sent.
"""

# pyright: reportUnnecessaryIsInstance=false, reportPrivateUsage=false
# (Arguments are checked at run time, whatever their annotations; the package's modules share
# private helpers.)

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, Never, Protocol, final

from ferrosocket._json import dumps_bytes

__all__ = ["MessageSink", "PreparedMessage", "send_prepared"]

_JSON_MODES: Final = ("text", "binary")


class MessageSink(Protocol):
    """What a prepared message is sent on: ferrosocket's ``WebSocket``, Starlette's, or any object
    with these two coroutine methods."""

    async def send_text(self, data: str) -> None: ...

    async def send_bytes(self, data: bytes) -> None: ...


@final
class PreparedMessage:
    """A text or binary frame's payload, built and checked once. Build it with
    ``PreparedMessage.text``, ``.binary`` or ``.json``; send it with ``send_prepared`` or
    ``broadcast``."""

    __slots__ = ("_payload", "_is_text")

    _payload: str | bytes
    _is_text: bool

    if TYPE_CHECKING:
        # To type checkers a call needs an argument no value has, so `PreparedMessage()` is an
        # error there too (it always raises at run time).
        def __init__(self, *, _build_with_text_binary_or_json: Never) -> None: ...

    else:

        def __init__(self) -> None:
            raise TypeError("build a PreparedMessage with PreparedMessage.text(), .binary() or .json()")

    @classmethod
    def _make(cls, payload: str | bytes, is_text: bool) -> PreparedMessage:
        message = object.__new__(cls)
        object.__setattr__(message, "_payload", payload)
        object.__setattr__(message, "_is_text", is_text)
        return message

    @classmethod
    def text(cls, data: str) -> PreparedMessage:
        """A text frame holding ``data``. ``TypeError`` unless ``data`` is a ``str``;
        ``UnicodeEncodeError`` if it holds a lone surrogate (no text frame can carry one)."""
        if not isinstance(data, str):
            raise TypeError(f"PreparedMessage.text() expects a str, not {type(data).__name__}")
        # The string's own content, as a server sends it: not a subclass's `__str__` (a
        # `class Event(str, Enum)` member's is "Event.TICK") nor its `encode`.
        text = str.__str__(data)
        str.encode(text, "utf-8")  # raises on a lone surrogate, as send_text would on every connection
        return cls._make(text, True)

    @classmethod
    def binary(cls, data: bytes | bytearray | memoryview) -> PreparedMessage:
        """A binary frame holding a copy of ``data`` (later changes to a ``bytearray`` do not
        show). ``TypeError`` unless ``data`` is bytes-like."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(
                f"PreparedMessage.binary() expects bytes, bytearray or memoryview, not {type(data).__name__}"
            )
        return cls._make(bytes(data), False)

    @classmethod
    def json(cls, data: Any, mode: Literal["text", "binary"] = "text") -> PreparedMessage:
        """``data`` encoded as ``WebSocket.send_json(data, mode)`` encodes it (the same function),
        in a text frame (``mode="text"``) or a binary one. Raises what ``json.dumps`` raises for
        data it cannot encode (``TypeError``, ``ValueError``, ``RecursionError``), and
        ``UnicodeEncodeError`` for a lone surrogate; ``ValueError`` for another ``mode``."""
        if mode not in _JSON_MODES:
            raise ValueError(f'mode must be "text" or "binary", not {mode!r}')
        encoded: bytes = dumps_bytes(data)  # UTF-8: a lone surrogate raises UnicodeEncodeError here
        if mode == "text":
            return cls._make(encoded.decode("utf-8"), True)
        return cls._make(encoded, False)

    @property
    def payload(self) -> str | bytes:
        """What is sent: a ``str`` for a text frame, ``bytes`` for a binary one."""
        return self._payload

    @property
    def is_text(self) -> bool:
        """True for a text frame, False for a binary one."""
        return self._is_text

    # copy, deepcopy and pickle make it again from its payload (the slots cannot be set).
    def __reduce__(self) -> tuple[Any, ...]:
        return (PreparedMessage._make, (self._payload, self._is_text))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a PreparedMessage is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a PreparedMessage is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PreparedMessage):
            return NotImplemented
        return self._is_text == other._is_text and self._payload == other._payload

    def __hash__(self) -> int:
        return hash((self._is_text, self._payload))

    def __repr__(self) -> str:
        kind = "text" if self._is_text else "binary"
        size = len(self._payload)
        return f"<PreparedMessage {kind}, {size} {'characters' if self._is_text else 'bytes'}>"


async def send_prepared(websocket: MessageSink, message: PreparedMessage) -> None:
    """Send ``message`` on one connection: ``websocket.send_text`` or ``send_bytes`` of its payload,
    with nothing encoded again. Raises whatever that send raises."""
    if not isinstance(message, PreparedMessage):
        raise TypeError(f"send_prepared() expects a PreparedMessage, not {type(message).__name__}")
    payload = message._payload
    if isinstance(payload, str):
        await websocket.send_text(payload)
    else:
        await websocket.send_bytes(payload)
