"""The executable specification of ferrosocket: Starlette 1.10.0 plus docs/differences.md.

Each class here is Starlette's own, subclassed only where docs/differences.md lists a deliberate
difference; every override names its row of that document in a comment (the exception messages are
ferrosocket's wording). The differential tests compare ferrosocket against this module, so a
difference that is not encoded here is a failure; ``test_reference_is_starlette_*`` checks that this
module still equals Starlette wherever no documented difference applies.

Classes without a documented difference are Starlette's: ``WebSocketState``, ``WebSocketDisconnect``,
``WebSocketDisconnected``, ``WebSocketClose``, ``MutableHeaders``, ``Address``, ``State``.

Where each section of docs/differences.md is encoded:

* API shape: ``URL`` (a str); ``WebSocket.close_code``/``close_reason``; ``UnexpectedMessageType``;
  ``Headers.__hash__``/``QueryParams.__hash__`` (type names); ``Headers`` (a snapshot, malformed
  entries); ``WebSocket._receive_data`` (receive_* without self.receive()). send_json is Starlette's
  ``json.dumps`` (``_json_dumps``); its float spelling is the tests' part: they compare what it
  sends by parsed value. receive_json is Starlette's ``json.loads``.
* Outgoing messages: ``WebSocket.send`` with ``_text_payload``, ``_bytes_payload``, ``_close_code``,
  ``_close_reason``, ``_header_list``, ``_denial_status``; ``accept()`` and ``close()`` hand their
  arguments to it as given; ``send_text()``/``send_bytes()`` check theirs first.
* Incoming messages: ``WebSocket._payload``; ``_next_message`` (a disconnect without code);
  ``receive_json`` (memoryview); ``URL`` (non-UTF-8 query bytes).
* The state machine: ``WebSocket.send`` (after the peer's disconnect, the state after the send,
  OSError during accept, sends while a move is going out: ``_moving_to``); ``_next_message`` (one
  reader at a time); ``accept()`` and ``send_denial_response()`` check their arguments before any
  I/O; ``_close_code`` (any int before accept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import starlette.datastructures as sd
import starlette.websockets as sw
from starlette.datastructures import Address, MutableHeaders, State
from starlette.websockets import (
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
]

CONNECTING, CONNECTED, DISCONNECTED, RESPONSE = (
    WebSocketState.CONNECTING,
    WebSocketState.CONNECTED,
    WebSocketState.DISCONNECTED,
    WebSocketState.RESPONSE,
)
BYTES_LIKE = (bytes, bytearray, memoryview)


# --- API shape: the data structures ----------------------------------------------------------


def _percent_encode_non_utf8(raw: bytes) -> bytes:
    """Row "websocket.url with non-UTF-8 bytes in the query string": those bytes become %XX."""
    text = raw.decode("utf-8", "surrogateescape")  # each invalid byte -> one lone surrogate
    return re.sub("[\udc80-\udcff]", lambda m: f"%{ord(m[0]) - 0xDC00:02X}", text).encode()


class URL(str):
    """Row "websocket.url": a str equal to Starlette's ``str(url)`` (so hashable, and compared as a
    str), with Starlette's components and methods; ``replace("a", "b")`` (positional) is str's."""

    _url: sd.URL

    def __new__(cls, url: str = "", scope: Any = None, **components: Any) -> URL:
        if scope is not None and isinstance(scope.get("query_string"), bytes):
            scope = {**scope, "query_string": _percent_encode_non_utf8(scope["query_string"])}
        starlette_url = sd.URL(url, scope, **components)
        self = super().__new__(cls, str(starlette_url))
        self._url = starlette_url
        return self

    scheme = property(lambda self: self._url.scheme)
    netloc = property(lambda self: self._url.netloc)
    path = property(lambda self: self._url.path)
    query = property(lambda self: self._url.query)
    fragment = property(lambda self: self._url.fragment)
    username = property(lambda self: self._url.username)
    password = property(lambda self: self._url.password)
    hostname = property(lambda self: self._url.hostname)
    port = property(lambda self: self._url.port)
    components = property(lambda self: self._url.components)
    is_secure = property(lambda self: self._url.is_secure)

    def replace(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if args:
            return str.replace(self, *args, **kwargs)
        return type(self)(str(self._url.replace(**kwargs)))

    def include_query_params(self, **kwargs: Any) -> URL:
        return type(self)(str(self._url.include_query_params(**kwargs)))

    def replace_query_params(self, **kwargs: Any) -> URL:
        return type(self)(str(self._url.replace_query_params(**kwargs)))

    def remove_query_params(self, keys: Any) -> URL:
        return type(self)(str(self._url.remove_query_params(keys)))

    def __repr__(self) -> str:
        return repr(self._url)


class Headers(sd.Headers):
    """Rows "Headers and the scope" and "Malformed header entries in the scope": an immutable snapshot
    of the pairs (Starlette keeps the list it was given, and shows later changes to it), checked when
    it is built. Row "Type names in built-in error messages": the Rust class's qualified name."""

    def __init__(self, headers: Any = None, raw: Any = None, scope: Any = None) -> None:
        super().__init__(headers, raw, scope)  # with scope=: stores list(scope["headers"]) back, as Starlette
        self._list = [_header_pair(pair) for pair in self._list]

    def __hash__(self) -> int:
        raise TypeError("unhashable type: 'ferrosocket._core.Headers'")


def _header_pair(pair: Any) -> tuple[bytes, bytes]:
    try:
        name, value = pair
    except (TypeError, ValueError):
        name = value = None
    if not (isinstance(name, (bytes, bytearray)) and isinstance(value, (bytes, bytearray))):
        raise TypeError(f"headers must be (bytes, bytes) pairs, got {pair!r}")
    return bytes(name), bytes(value)


class QueryParams(sd.QueryParams):
    """Row "Type names in built-in error messages"."""

    def __hash__(self) -> int:
        raise TypeError("unhashable type: 'ferrosocket._core.QueryParams'")


class UnexpectedMessageType(KeyError):
    """Row "UnexpectedMessageType": a KeyError (what Starlette raises) that says what happened."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --- Outgoing messages: checked before any I/O (the state stays unchanged) --------------------


def _type_name(obj: Any) -> str:
    return type(obj).__name__


def _text_payload(data: Any, what: str) -> None:
    """Rows "send_text(data)" and raw send: a str that UTF-8 can encode."""
    if not isinstance(data, str):
        raise TypeError(f"{what} expects a str, got {_type_name(data)}")
    data.encode("utf-8")  # UnicodeEncodeError on a lone surrogate


def _bytes_payload(data: Any, what: str) -> bytes:
    """Row "send_bytes(data)": bytes-like, sent as bytes."""
    if not isinstance(data, BYTES_LIKE):
        raise TypeError(f"{what} expects bytes, bytearray or memoryview, got {_type_name(data)}")
    return data if isinstance(data, bytes) else bytes(data)


def _close_code(code: Any, *, on_the_wire: bool) -> int:
    """Row "close(code)": an int; in the RFC 6455 range only when it goes on the wire (after
    accept: before it, the server answers HTTP 403 and never sends the code)."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"close code must be an int, got {_type_name(code)}")
    if on_the_wire and not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueError(
            f"close code {code!r} cannot be sent: "
            "use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)"
        )
    return code


def _close_reason(reason: Any) -> str:
    """Row "close(reason=...)": a str cut to the 123 UTF-8 bytes a close frame holds; a list or dict
    as compact JSON, cut the same way; None is ""."""
    if reason is None:
        return ""
    if isinstance(reason, (list, dict)):
        reason = _json_dumps(reason)
    if not isinstance(reason, str):
        raise TypeError(
            f"close reason must be a str or None (or a list or dict, sent as JSON), got {_type_name(reason)}"
        )
    return reason.encode("utf-8")[:123].decode("utf-8", "ignore")  # cut at a character boundary


_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _header_list(headers: Any, *, accept: bool) -> list[tuple[bytes, bytes]]:
    """Rows "accept(headers)" and "denial response start": a fresh list of 2-tuples of bytes, names
    RFC 7230 tokens (lower-cased), values without CR, LF or NUL."""
    if headers is None:
        return []
    if isinstance(headers, (str, dict, *BYTES_LIKE)):
        raise TypeError(f"headers must be an iterable of (bytes, bytes) pairs, got {_type_name(headers)}")
    checked = []
    for pair in headers:
        try:
            if isinstance(pair, (str, *BYTES_LIKE)):
                raise TypeError
            name, value = pair
            if not (isinstance(name, BYTES_LIKE) and isinstance(value, BYTES_LIKE)):
                raise TypeError
        except Exception:
            raise TypeError(f"each header must be a (bytes, bytes) pair, got {pair!r}") from None
        name, value = bytes(name).lower(), bytes(value)
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not a valid HTTP token")
        if re.search(rb"[\r\n\0]", value):
            raise ValueError(f"header value for {name!r} contains CR, LF or NUL")
        if accept and name == b"sec-websocket-protocol":
            raise ValueError(
                "set the subprotocol with accept(subprotocol=...), not a sec-websocket-protocol header"
            )
        checked.append((name, value))
    return checked


def _denial_status(status: Any) -> Any:
    """Row "denial response start": an int in 100-599."""
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(f"denial response status must be an int, got {_type_name(status)}")
    if not 100 <= status <= 599:
        raise ValueError(f"denial response status {status!r} is outside 100-599")
    return status


def _json_dumps(data: Any) -> str:
    # Starlette's json.dumps call. The row's other half, "float spelling may differ", is in the tests:
    # they compare what send_json sends by its parsed value.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


# --- The connection ----------------------------------------------------------------------------


class WebSocket(sw.WebSocket):
    def __init__(self, scope: Any, receive: Any, send: Any) -> None:
        super().__init__(scope, receive, send)
        self._peer_close: tuple[Any, Any] | None = None  # (code, reason) of the peer's disconnect
        self._receiving = False

    # API shape: the scope's views are the classes above.

    @property
    def url(self) -> URL:  # type: ignore[override]
        if not hasattr(self, "_url"):
            self._url = URL(scope=self.scope)
        return self._url  # type: ignore[return-value]

    @property
    def base_url(self) -> URL:  # type: ignore[override]
        url = super().base_url  # Starlette's, cached in self._base_url
        if not isinstance(url, URL):
            self._base_url = url = URL(str(url))
        return url

    @property
    def headers(self) -> Headers:
        if not hasattr(self, "_headers"):
            self._headers = Headers(scope=self.scope)  # read once, when first used
        return self._headers  # type: ignore[return-value]

    @property
    def query_params(self) -> QueryParams:
        if not hasattr(self, "_query_params"):
            self._query_params = QueryParams(self.scope["query_string"])
        return self._query_params  # type: ignore[return-value]

    # Row "close_code, close_reason": the peer's close, once a disconnect was received.

    @property
    def close_code(self) -> Any:
        return None if self._peer_close is None else self._peer_close[0]

    @property
    def close_reason(self) -> Any:
        return None if self._peer_close is None else self._peer_close[1] or ""

    def _peer_gone(self) -> WebSocketDisconnect:
        """The WebSocketDisconnect of the peer's close, built as Starlette builds it from the message
        (``WebSocketDisconnect(code, reason)``); ``code=1006`` when the client state was set to
        DISCONNECTED without one."""
        if self._peer_close is None:
            return WebSocketDisconnect(code=1006)
        return WebSocketDisconnect(*self._peer_close)

    # Incoming messages.

    async def receive(self) -> Any:
        return await self._next_message()

    async def _next_message(self) -> Any:
        """Starlette's receive(), plus two rows: "Two tasks in receive() at once" (the second gets a
        RuntimeError at once), and "a disconnect without code" (read as 1005)."""
        if self.client_state not in (CONNECTING, CONNECTED):
            return await super().receive()  # Starlette's WebSocketDisconnected
        if self._receiving:
            raise RuntimeError(
                "another task is already waiting in receive() on this WebSocket: receive from one task only"
            )
        self._receiving = True
        try:
            message = await super().receive()
        finally:
            self._receiving = False
        if message["type"] == "websocket.disconnect":
            self._peer_close = (message.get("code", 1005), message.get("reason"))
        return message

    def _raise_on_disconnect(self, message: Any) -> None:
        if message["type"] == "websocket.disconnect":
            raise self._peer_gone()

    async def _receive_data(self) -> Any:
        """Row "receive_text()/receive_bytes()/receive_json()": Starlette's checks, without calling
        self.receive()."""
        if (self._moving_to or self.application_state) != CONNECTED:
            raise WebSocketDisconnected('WebSocket is not connected. Need to call "accept" first.')
        message = await self._next_message()
        self._raise_on_disconnect(message)
        return message

    @staticmethod
    def _payload(message: Any, key: str, json_method: bool = False) -> Any:
        """Rows "receive_text() on a binary message", "receive_bytes() on a text message" (and the
        same for ``receive_json``, ``json_method``) and "a payload of the wrong type"."""
        if message["type"] != "websocket.receive":
            return message[key]  # a websocket.connect message: Starlette's KeyError
        value = message.get(key)
        other = "bytes" if key == "text" else "text"
        if value is None:
            if message.get(other) is None:
                raise UnexpectedMessageType(
                    "the server sent a websocket.receive message with neither text nor bytes"
                )
            kind = "binary" if key == "text" else "text"
            if json_method:
                called, instead = (
                    ("receive_json()", 'receive_json(mode="binary")')
                    if key == "text"
                    else ('receive_json(mode="binary")', "receive_json()")
                )
                raise UnexpectedMessageType(f"{called} got a {kind} message: use {instead} or receive()")
            raise UnexpectedMessageType(
                f"receive_{key}() got a {kind} message: use receive_{other}() or receive()"
            )
        if not isinstance(value, str if key == "text" else BYTES_LIKE):
            wanted = "str" if key == "text" else "bytes"
            raise TypeError(f'the server sent a "{key}" payload of type {_type_name(value)}, not {wanted}')
        return value

    async def receive_text(self) -> str:
        return self._payload(await self._receive_data(), "text")  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        return self._payload(await self._receive_data(), "bytes")  # type: ignore[no-any-return]

    async def receive_json(self, mode: str = "text") -> Any:
        if mode not in {"text", "binary"}:
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        message = await self._receive_data()
        if mode == "text":
            return json.loads(self._payload(message, "text", json_method=True))
        # Row "receive_json(mode="binary") on a memoryview": decoded.
        return json.loads(bytes(self._payload(message, "bytes", json_method=True)).decode("utf-8"))

    # Outgoing messages.

    # Row "A send while a close (or accept, or denial) is going out": the state that move will
    # commit, which later sends are checked against (Starlette's state has already moved).
    _moving_to: Any = None

    async def send(self, message: Any) -> None:
        state = self._moving_to or self.application_state
        # Starlette's state check, first (before the message is read).
        if state == DISCONNECTED:
            raise WebSocketDisconnected('Cannot call "send" once a close message has been sent.')
        message_type = message["type"]
        if state == CONNECTING:
            if message_type not in {"websocket.accept", "websocket.close", "websocket.http.response.start"}:
                raise RuntimeError(
                    'Expected ASGI message "websocket.accept", "websocket.close" or '
                    f'"websocket.http.response.start", but got {message_type!r}'
                )
        elif state == CONNECTED:
            if message_type not in {"websocket.send", "websocket.close"}:
                raise RuntimeError(
                    f'Expected ASGI message "websocket.send" or "websocket.close", but got {message_type!r}'
                )
        elif message_type != "websocket.http.response.body":
            raise RuntimeError(
                f'Expected ASGI message "websocket.http.response.body", but got {message_type!r}'
            )

        # Then the message itself (rows of "Outgoing messages"), normalised where needed.
        peer_left = self.client_state == DISCONNECTED
        if message_type == "websocket.send":
            text, data = message.get("text"), message.get("bytes")
            if (text is None) == (data is None):
                raise ValueError(
                    "a websocket.send message must carry exactly one payload: "
                    "'text' (str) or 'bytes' (bytes-like)"
                )
            if text is not None:
                _text_payload(text, "a websocket.send message's 'text'")
            elif not isinstance(data, bytes):
                data = _bytes_payload(data, "a websocket.send message's 'bytes'")
                message = {"type": "websocket.send", "bytes": data}
            if peer_left:  # Row "Sending after the peer's disconnect was received".
                raise self._peer_gone()
            after = state
        elif message_type == "websocket.close":
            code = _close_code(message.get("code", 1000), on_the_wire=state == CONNECTED)
            message = {
                "type": "websocket.close",
                "code": code,
                "reason": _close_reason(message.get("reason")),
            }
            if peer_left and state == CONNECTED:  # Row "close() after the peer's disconnect".
                self.application_state = DISCONNECTED
                return
            after = DISCONNECTED
        elif message_type == "websocket.accept":
            message = self._accept_message(message.get("subprotocol"), message.get("headers"))
            after = CONNECTED
        elif message_type == "websocket.http.response.start":
            if "status" not in message:
                raise ValueError("a denial response needs a 'status'")
            status = _denial_status(message["status"])
            message = {
                **message,
                "status": status,
                "headers": _header_list(message.get("headers"), accept=False),
            }
            after = RESPONSE
        else:  # websocket.http.response.body; row "denial response body": always carries bytes
            more = bool(message.get("more_body", False))
            body = message.get("body")
            if not isinstance(body, bytes):
                body = b"" if body is None else _bytes_payload(body, "a denial response body")
                message = {"type": "websocket.http.response.body", "body": body, "more_body": more}
            after = RESPONSE if more else DISCONNECTED

        moves = after is not state
        if moves:
            self._moving_to = after
        try:
            await self._send(message)
        except OSError:
            # As Starlette for a connected socket; row "OSError from the server during accept()".
            if state == CONNECTED or message_type == "websocket.accept":
                self.application_state = DISCONNECTED
                raise WebSocketDisconnect(code=1006)  # noqa: B904 (as Starlette)
            raise
        finally:
            if moves and self._moving_to is after:
                self._moving_to = None
        # Row "accept(), close(), a denial response": the state moves after the server's send returned.
        self.application_state = after

    def _accept_message(self, subprotocol: Any, headers: Any) -> dict[str, Any]:
        if subprotocol is not None:  # Row "accept(subprotocol)".
            if not isinstance(subprotocol, str):
                raise TypeError(f"subprotocol must be a str or None, got {_type_name(subprotocol)}")
            offered = list(self.scope.get("subprotocols", []))
            if subprotocol not in offered:
                raise ValueError(
                    f"subprotocol {subprotocol!r} was not offered by the client "
                    f"(offered: [{', '.join(map(repr, offered))}])"
                )
        headers = _header_list(headers, accept=True)
        return {"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers}

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[bytes, bytes]] | None = None
    ) -> None:
        # Row "accept() checks its arguments before any I/O". The headers are checked as given
        # (Starlette sends `headers or []`).
        message = self._accept_message(subprotocol, headers)
        if self.client_state == CONNECTING:
            await self.receive()
        await self.send(message)

    async def send_denial_response(self, response: Any) -> None:
        if "websocket.http.response" in self.scope.get("extensions", {}):
            # Row "send_denial_response() checks a Response before any I/O".
            if hasattr(response, "status_code"):
                _denial_status(response.status_code)
            if hasattr(response, "raw_headers"):
                _header_list(response.raw_headers, accept=False)
            if getattr(response, "body", None) is not None:
                _bytes_payload(response.body, "a denial response body")
        await super().send_denial_response(response)

    async def send_text(self, data: str) -> None:
        _text_payload(data, "send_text()")  # the argument first, before the state (as send_json)
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": _bytes_payload(data, "send_bytes()")})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode not in {"text", "binary"}:
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        text = _json_dumps(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": text})
        else:
            await self.send({"type": "websocket.send", "bytes": text.encode("utf-8")})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        # The reason is checked as given (Starlette sends `reason or ""`).
        await self.send({"type": "websocket.close", "code": code, "reason": reason})
