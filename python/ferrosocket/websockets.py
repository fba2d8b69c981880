"""``WebSocket``: Starlette's WebSocket connection class on a Rust core.

The Rust base class (``ferrosocket._core.Connection``) holds the scope, the two connection
states and the cached URL/headers/query parameters, and checks every state transition. This
subclass provides the async methods: each one asks Rust whether the move is allowed (and moves
the state), awaits the ASGI callable, and hands the result back to Rust to validate.
"""

from __future__ import annotations

import copyreg
import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ferrosocket._core import Connection, _register
from ferrosocket._exceptions import UnexpectedMessageType, WebSocketDisconnect, WebSocketDisconnected
from ferrosocket.datastructures import URL, State, StateAttributes

if TYPE_CHECKING:  # (Starlette is optional: only url_for and send_denial_response name its classes.)
    from starlette.datastructures import URL as StarletteURL
    from starlette.responses import Response

__all__ = [
    "UnexpectedMessageType",
    "WebSocket",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketDisconnected",
    "WebSocketState",
]

Message = MutableMapping[str, Any]  # Starlette's (starlette.types.Message)

_BAD_MODE = 'The "mode" argument should be "text" or "binary".'


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3

    # Equal to Starlette's member of the same name (either side of ==), so comparisons hold whichever
    # enum the connection reports: ferrosocket.install() makes it report Starlette's members.
    # Run time only: type checkers narrow `state == WebSocketState.X` only for an enum without an
    # `__eq__` of its own, as Starlette's is.
    if not TYPE_CHECKING:

        def __eq__(self, other: object) -> bool:
            if self is other:
                return True
            kind = type(other)
            if kind.__name__ == "WebSocketState" and kind.__module__ == "starlette.websockets":
                return self._name_ == getattr(other, "_name_", None)
            return NotImplemented

        __hash__ = enum.Enum.__hash__  # hash(name): the same as Starlette's member's


def _use(states: Iterable[Any], disconnect: type[WebSocketDisconnect], disconnected: type[Exception]) -> None:
    """Registers the state members and exception classes that connections (the Rust core) use
    (see ferrosocket._install)."""
    _register(URL, tuple(states), disconnect, disconnected, UnexpectedMessageType)


_use(WebSocketState, WebSocketDisconnect, WebSocketDisconnected)

if TYPE_CHECKING:  # Starlette's default (State), so a bare `WebSocket` annotation type-checks as there
    from typing_extensions import TypeVar as _TypeVar

    StateT = _TypeVar("StateT", bound="Mapping[str, Any] | State", default=State)
else:
    StateT = TypeVar("StateT", bound="Mapping[str, Any] | State")


_T = TypeVar("_T")

# `cls.__new__(cls, *args)`, which pickle and copy know (NEWOBJ): an object made without `__init__`.
_NEWOBJ: Any = copyreg.__newobj__  # type: ignore[attr-defined]  # (missing from typeshed)
# Starlette's caches that are slots here (`base_url`, `state`); the others live in Rust.
_SLOT_CACHES = ("_base_url", "_state")


# The receive and send methods without arguments of their own, and the iterators, are made by
# these factories, so that the protocol around the awaited ASGI callable is written once
# (receive_json and send_json, which take a mode, follow it by hand). No wrapper coroutine: one
# frame per call, as a plain method.
#
# The server's callables are read from their slots into a local, then called: CPython 3.11
# specialises reading a slot, but not `self._send(...)`, a method call on a slot, which goes
# through the generic lookup each time (an instruction-cache cost on a new connection).


def _receiver(
    begin: Callable[[Connection], None],
    finish: Callable[[Connection, Any], _T],
    name: str,
    doc: str | None = None,
) -> Callable[[WebSocket[Any]], Coroutine[Any, Any, _T]]:
    """A receive method: the check (``begin``, in Rust), the awaited ``receive()``, the commit
    (``finish``, in Rust: the state moves, the payload is taken). A ``receive()`` that raises or is
    cancelled leaves no trace (``_abort_receive``)."""

    async def receive(self: WebSocket[Any]) -> _T:
        begin(self)
        try:
            server_receive = self._receive  # pyright: ignore[reportPrivateUsage] (the factory makes WebSocket methods)
            message = await server_receive()
        except BaseException:
            self._abort_receive()
            raise
        return finish(self, message)

    return _named(receive, name, doc)


def _sender(
    message_of: Callable[[Connection, Any], Message], name: str
) -> Callable[[WebSocket[Any], Any], Coroutine[Any, Any, None]]:
    """A send method of a payload: the message made and checked (``message_of``, in Rust), then
    the awaited ``send()``; the server's ``OSError`` (the peer is gone) is ``WebSocketDisconnect``,
    as in Starlette. The body of ``send()`` without its state moves: a payload moves none."""

    async def send(self: WebSocket[Any], data: Any) -> None:
        message = message_of(self, data)
        try:
            server_send = self._send  # pyright: ignore[reportPrivateUsage] (the factory makes WebSocket methods)
            await server_send(message)
        except OSError:
            raise self._lost_in_send()  # noqa: B904 (chained like Starlette)

    return _named(send, name, None)


def _iterator(receive: str, name: str) -> Callable[[WebSocket[Any]], AsyncIterator[Any]]:
    """An async generator method: what the method ``receive`` gives, until the peer disconnects."""

    async def iterate(self: WebSocket[Any]) -> AsyncIterator[Any]:
        receive_next = getattr(self, receive)  # a subclass's own, as Starlette's ``self.receive_*()``
        try:
            while True:
                yield await receive_next()
        except WebSocketDisconnect:
            pass

    return _named(iterate, name, None)


_F = TypeVar("_F", bound=Callable[..., Any])


def _named(function: _F, name: str, doc: str | None) -> _F:
    function.__name__ = name
    function.__qualname__ = f"WebSocket.{name}"
    function.__doc__ = doc
    return function


_RECEIVE_DOC = "Receive an ASGI websocket message, ensuring valid state transitions."  # Starlette's


class WebSocket(Connection, Mapping[str, Any], Generic[StateT]):
    """A WebSocket connection: Starlette's API, ``WebSocket(scope, receive, send)``."""

    __slots__ = ("_receive", "_send", "_base_url", "_state", "__dict__", "__weakref__")

    # Starlette's Scope, Receive and Send (starlette.types).
    def __init__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        self._receive = receive
        self._send = send

    # Connections are equal only to themselves, as in Starlette (not Mapping's equality).
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    # copy, deepcopy and pickle as for Starlette's (a plain object): a copy shares the scope and
    # the callables, a deep copy copies them, pickle works where they pickle (and raises their
    # error where they do not). Made again without `__init__` (`cls.__new__(cls, scope)`, as
    # copyreg makes Starlette's), so a subclass's own `__init__` signature does not matter; the
    # callables, the states, Starlette's two caches that are slots here and the instance's
    # attributes come along.
    def __reduce__(self) -> tuple[Any, ...]:
        state = {
            "_receive": self._receive,
            "_send": self._send,
            "client_state": self.client_state,
            "application_state": self.application_state,
        }
        for cache in _SLOT_CACHES:
            try:
                state[cache] = getattr(self, cache)
            except AttributeError:
                pass  # not read yet
        return (_NEWOBJ, (type(self), self.scope), (state, dict(self.__dict__)))

    def __setstate__(self, state: tuple[dict[str, Any], dict[str, Any]]) -> None:
        states, attributes = state
        self._receive = states["_receive"]
        self._send = states["_send"]
        self.client_state = states["client_state"]
        self.application_state = states["application_state"]
        for cache in _SLOT_CACHES:
            if cache in states:
                setattr(self, cache, states[cache])
        self.__dict__.update(attributes)

    # --- Views of the scope not worth a Rust round trip (read rarely, once per connection). ---

    # The class `state` wraps the scope's dict in, how `base_url` is made from its scope: hooks
    # that install()'s classes for older Starlette releases override (ferrosocket._starlette_profile,
    # which also overrides `cookies`, made in Rust, for releases that read one Cookie header).
    _state_class: ClassVar[type[StateAttributes]] = State

    @staticmethod
    def _url_of_scope(scope: dict[str, Any]) -> URL:
        return URL(scope=scope)

    @property
    def base_url(self) -> URL:
        try:
            return self._base_url
        except AttributeError:
            pass
        base_url_scope = dict(self.scope)
        # url_for inside a Mount still builds on the top-level app's root path.
        app_root_path: str = base_url_scope.get("app_root_path", base_url_scope.get("root_path", ""))
        path = app_root_path
        if not path.endswith("/"):
            path += "/"
        base_url_scope["path"] = path
        base_url_scope["query_string"] = b""
        base_url_scope["root_path"] = app_root_path
        self._base_url: URL = self._url_of_scope(base_url_scope)
        return self._base_url

    @property
    def session(self) -> dict[str, Any]:
        assert "session" in self.scope, "SessionMiddleware must be installed to access request.session"
        session = self.scope["session"]
        # Kept for people who bring their own SessionMiddleware.
        if hasattr(session, "mark_accessed"):
            session.mark_accessed()
        return session  # type: ignore[no-any-return]

    @property
    def auth(self) -> Any:
        assert "auth" in self.scope, "AuthenticationMiddleware must be installed to access request.auth"
        return self.scope["auth"]

    @property
    def user(self) -> Any:
        assert "user" in self.scope, "AuthenticationMiddleware must be installed to access request.user"
        return self.scope["user"]

    @property
    def state(self) -> StateT:
        try:
            return self._state  # type: ignore[return-value]
        except AttributeError:
            pass
        self.scope.setdefault("state", {})
        self._state: StateAttributes = self._state_class(self.scope["state"])
        return self._state  # type: ignore[return-value]

    # Starlette's URL: the router's URLPath.make_absolute_url makes it.
    def url_for(self, name: str, /, **path_params: Any) -> StarletteURL:
        url_path_provider = self.scope.get("router") or self.scope.get("app")
        if url_path_provider is None:
            raise RuntimeError(
                "The `url_for` method can only be used inside a Starlette application or with a router."
            )
        url_path = url_path_provider.url_path_for(name, **path_params)
        return url_path.make_absolute_url(base_url=self.base_url)  # type: ignore[no-any-return]

    # --- Raw ASGI messages. ---
    #
    # Each method is: a check in Rust (`_begin_*`), the awaited ASGI callable, then a commit in
    # Rust (`_finish_*`, `_commit`, `_send_failed`). A receive that raises or is cancelled leaves
    # no trace (`_abort_receive`); a send that moves the application state (accept, close, a
    # denial response) commits the move only after the server's send returned, so a cancelled or
    # failed close can be retried.

    if TYPE_CHECKING:

        async def receive(self) -> Message: ...

    else:
        receive = _receiver(Connection._begin_receive, Connection._finish_receive, "receive", _RECEIVE_DOC)

    async def send(self, message: Message) -> None:
        """Send an ASGI websocket message, ensuring valid state transitions.

        The message is checked first (payload types, close code and reason, subprotocol,
        headers, denial status); a message that needs normalising is sent as a fresh copy.
        """
        pending = self._begin_send(message)
        if pending is None:
            return  # A close after the peer left: nothing can go out; the app side is done.
        try:
            server_send = self._send
            await server_send(pending.message)
        except BaseException as exc:
            lost = self._send_failed(pending, exc)  # WebSocketDisconnect(1006) if the peer is gone
            if lost is not None:
                raise lost  # noqa: B904 (chained like Starlette)
            raise
        self._commit(pending)

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        receive, send = self.receive, self.send
        if (
            getattr(receive, "__func__", None) is not _OWN_RECEIVE
            or getattr(receive, "__self__", None) is not self
            or getattr(send, "__func__", None) is not _OWN_SEND
            or getattr(send, "__self__", None) is not self
        ):
            # A subclass's or an instance's own receive()/send() (another connection's too) see
            # what Starlette's accept gives them: a receive() of 'connect' and a send() of the
            # accept message.
            message, connect_first = self._prepare_accept(subprotocol, headers)  # checked before any I/O
            if connect_first:
                await receive()
            await send(message)
            return
        del receive, send  # not held across the awaits (see close())
        # The same steps in three calls into Rust instead of five (each distinct call costs a new
        # connection microseconds of cache misses): 'connect' received, then the accept sent.
        message, connect_first = self._prepare_accept(subprotocol, headers, True)
        if connect_first:
            try:
                server_receive = self._receive
                received = await server_receive()
            except BaseException:
                self._abort_receive()
                raise
            pending = self._begin_accept(message, received)
        else:
            pending = self._begin_accept(message)
        try:
            server_send = self._send
            await server_send(pending.message)
        except BaseException as exc:
            lost = self._send_failed(pending, exc)
            if lost is not None:
                raise lost  # noqa: B904
            raise
        self._commit(pending)

    # --- Typed payloads. ---

    if TYPE_CHECKING:

        async def receive_text(self) -> str: ...
        async def receive_bytes(self) -> bytes: ...
        async def send_text(self, data: str) -> None: ...
        # Starlette's parameter type, so that a subclass's override copied from Starlette type-checks;
        # `bytearray` and `memoryview` are accepted at run time too (docs/differences.md).
        async def send_bytes(self, data: bytes) -> None: ...

    else:
        receive_text = _receiver(
            Connection._begin_receive_data, Connection._finish_receive_text, "receive_text"
        )
        receive_bytes = _receiver(
            Connection._begin_receive_data, Connection._finish_receive_bytes, "receive_bytes"
        )
        send_text = _sender(Connection._text_message, "send_text")
        send_bytes = _sender(Connection._bytes_message, "send_bytes")

    async def receive_json(self, mode: str = "text") -> Any:
        if mode not in {"text", "binary"}:
            raise RuntimeError(_BAD_MODE)
        self._begin_receive_data()  # then as `_receiver`'s methods, with the payload decoded
        try:
            server_receive = self._receive
            message = await server_receive()
        except BaseException:
            self._abort_receive()
            raise
        return self._finish_receive_json(message, mode == "text")

    if TYPE_CHECKING:

        def iter_text(self) -> AsyncIterator[str]: ...
        def iter_bytes(self) -> AsyncIterator[bytes]: ...
        def iter_json(self) -> AsyncIterator[Any]: ...

    else:
        iter_text = _iterator("receive_text", "iter_text")
        iter_bytes = _iterator("receive_bytes", "iter_bytes")
        iter_json = _iterator("receive_json", "iter_json")

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode not in {"text", "binary"}:
            raise RuntimeError(_BAD_MODE)
        message = self._json_message(data, mode == "text")  # then as `_sender`'s methods
        # Only the encoded message is sent: the object is not held across the await, so a
        # temporary one (`send_json(await receive_json())`) is freed now, not after the server's
        # send resumes (objects that live across awaits age into the GC's older generations).
        del data
        try:
            server_send = self._send
            await server_send(message)
        except OSError:
            raise self._lost_in_send()  # noqa: B904 (chained like Starlette)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with ``code`` and ``reason`` (a str, cut to 123 UTF-8 bytes at a character
        boundary: all a close frame can carry). After ``accept()`` the code must be one a close
        frame may carry (1000-1003, 1007-1014, 3000-4999); before it, any ``int`` (the server
        answers HTTP 403 and never sends the code)."""
        # None as "" here: the message then goes out as it is, not as a normalised copy.
        message = {"type": "websocket.close", "code": code, "reason": "" if reason is None else reason}
        send = self.send
        if getattr(send, "__func__", None) is not _OWN_SEND or getattr(send, "__self__", None) is not self:
            await send(message)  # a subclass's or an instance's own send() gets the message
            return
        # The bound method is not held across the await: each object a connection holds while it
        # waits counts toward the cyclic GC's next collection (benches/handshake_gc.py).
        del send
        # send()'s steps without its frame (a cold function costs a new connection a microsecond).
        pending = self._begin_send(message)
        if pending is None:
            return
        try:
            server_send = self._send
            await server_send(pending.message)
        except BaseException as exc:
            lost = self._send_failed(pending, exc)
            if lost is not None:
                raise lost  # noqa: B904
            raise
        self._commit(pending)

    async def send_denial_response(self, response: Response) -> None:
        if "websocket.http.response" in self.scope.get("extensions", {}):
            self._check_denial_response(response)  # before any I/O
            await response(self.scope, self.receive, self.send)
        else:
            raise RuntimeError("The server doesn't support the Websocket Denial Response extension.")


# accept() takes its own path when these are the connection's receive() and send().
_OWN_RECEIVE = WebSocket.receive
_OWN_SEND = WebSocket.send


class WebSocketClose:
    """An ASGI app that closes the connection (e.g. to refuse it before accepting)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.close", "code": self.code, "reason": self.reason})
