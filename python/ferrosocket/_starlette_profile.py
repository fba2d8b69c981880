"""What differs between the Starlette releases ``ferrosocket.install()`` supports, decided once.

``install()`` reads the installed Starlette's version and takes its :class:`StarletteProfile`:
one flag per behaviour that changed between 0.40.0 and 1.10.0, each true from the release that
brought today's (1.10) behaviour. Found by diffing ``starlette/websockets.py``, ``requests.py``
(``HTTPConnection``), ``datastructures.py`` and ``testclient.py`` of every release in the range
(docs/migration.md has the table). ``ferrosocket.WebSocket`` itself keeps 1.10's behaviour; on an
older Starlette the switch builds :func:`connection_class`'s subclass of it, which overrides only
the properties that differ there, and sets the two rules that live in the Rust core (the
exception class of a use after close, ``QueryParams`` equality) through ``_install.py``.

What does not differ in the range, and so needs nothing: the state machine and every exception
message, ``send_denial_response``, ``close(reason=...)`` (``reason or ""``), the ``mode`` checks
of ``receive_json``/``send_json``, ``WebSocketState``'s members, ``WebSocketDisconnect``,
``WebSocketClose``, the import paths of the datastructures (all in ``starlette.datastructures``),
``Headers``, ``MutableHeaders``, ``Address``, ``url_for``, ``path_params``, ``client``. The test
client changed (the WebSocket session was rewritten on memory streams in 0.45, ``httpx2`` came in
1.2), but it is Starlette's own and stays so; ``make dropin-matrix`` runs each era's own tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from ferrosocket import datastructures as _ferro_data
from ferrosocket import websockets as _ferro
from ferrosocket._core import cookie_parser

if TYPE_CHECKING:
    from collections.abc import MutableMapping

__all__ = [
    "LATEST",
    "SUPPORTED_STARLETTE",
    "Release",
    "StarletteProfile",
    "connection_class",
    "is_supported",
    "profile_for",
    "release_of",
]

# The Starlette releases install() and adopt() support: (major, minor) of the first and the last,
# any patch release. FastAPI 0.115.3 and later require 0.40 or newer; make dropin-matrix runs
# releases across the range with their own WebSocket tests, switched.
SUPPORTED_STARLETTE = ((0, 40), (1, 10))

Release = tuple[int, int, int]


@dataclass(frozen=True)
class StarletteProfile:
    """The behaviours that differ within the supported range: true where the release has 1.10's."""

    release: Release
    # 0.49: `cookies` merges every Cookie header; before, only the first one.
    cookies_every_header: bool
    # 0.52: `State` is also a mutable mapping (`state["x"]`, `len`, `iter`); before, attributes only.
    state_mapping: bool
    # 1.0: `session` calls the session's `mark_accessed()` when it has one; before, never.
    session_mark_accessed: bool
    # 1.7: a use after close raises `WebSocketDisconnected` (a RuntimeError); before, a plain
    # `RuntimeError` with the same message (the class does not exist).
    websocket_disconnected: bool
    # 1.9: the URL from the scope escapes `?`, `#`, `\` in the path (ferrosocket's Rust rules).
    # Before, each era builds it its own way (0.40-1.0.0: any Host header as is; 1.0.1: a
    # Host header checked by a pattern; 1.3: urlunsplit; 1.7: host:port parsed, IPv6 servers
    # bracketed; 1.8: `URL.replace(hostname=...)` brackets IPv6): the text comes from that
    # Starlette's own `URL(scope=...)`, `replace()` from its `URL.replace`.
    url_rules: bool
    # 1.10: `QueryParams ==` sorts the pairs by key only (stable: the order of one key's values
    # matters); before, `sorted(pairs)` (it does not).
    query_params_key_order: bool


# The release that brought each behaviour of 1.10.0 (the one place these versions are written).
_SINCE: dict[str, Release] = {
    "cookies_every_header": (0, 49, 0),
    "state_mapping": (0, 52, 0),
    "session_mark_accessed": (1, 0, 0),
    "websocket_disconnected": (1, 7, 0),
    "url_rules": (1, 9, 0),
    "query_params_key_order": (1, 10, 0),
}
# The flags a connection class overrides properties for (the other two are rules of the Rust core).
_CONNECTION_FLAGS = ("cookies_every_header", "state_mapping", "session_mark_accessed", "url_rules")


def release_of(version: str) -> Release | None:
    """``(major, minor, patch)`` of a version string (``"1.8.0rc1"``: ``(1, 8, 0)``), or None."""
    found = re.match(r"(\d+)\.(\d+)(?!\d)(?:\.(\d+))?", version)
    if found is None:
        return None
    return (int(found[1]), int(found[2]), int(found[3] or 0))


def is_supported(release: Release) -> bool:
    low, high = SUPPORTED_STARLETTE
    return low <= release[:2] <= high


def profile_for(release: Release) -> StarletteProfile:
    """The profile of a Starlette release (in the supported range: the caller checked)."""
    return StarletteProfile(release, **{name: release >= since for name, since in _SINCE.items()})


LATEST = profile_for((1, 10, 0))


# --- The connection on an older Starlette: the properties that differ there. ---


class URL(_ferro_data.URL):
    """``websocket.url``/``base_url`` on a switched Starlette before 1.9: the text is that
    Starlette's ``URL(scope=...)``, ``replace()`` (and so ``include_query_params()`` and the
    like) is its ``URL.replace``. Every other behaviour is ferrosocket's ``URL``."""

    __slots__ = ()

    @overload
    def replace(self, old: str, new: str, count: SupportsIndex = -1, /) -> str: ...
    @overload
    def replace(self, **kwargs: Any) -> URL: ...
    def replace(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            return str.replace(self, *args, **kwargs)
        from starlette.datastructures import URL as StarletteURL

        return self.__class__(str(StarletteURL(str(self)).replace(**kwargs)))


class State(_ferro_data.StateAttributes):
    """``websocket.state`` on a switched Starlette before 0.52: attributes only, as its ``State``."""


def _utf8_query(scope: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The scope, with a query string that is not UTF-8 percent-encoded where it is not (Starlette
    raises ``UnicodeDecodeError``; ferrosocket's URL never does, docs/differences.md)."""
    raw = scope.get("query_string", b"")
    if not isinstance(raw, bytes):
        return scope
    try:
        raw.decode()
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")  # each bad byte: U+DC80 + byte
        fixed = "".join(f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c for c in text)
        return {**scope, "query_string": fixed.encode()}
    return scope


def _url_from_starlette(scope: MutableMapping[str, Any]) -> URL:
    from starlette.datastructures import URL as StarletteURL

    return URL(str(StarletteURL(scope=_utf8_query(scope))))


class _EraUrl(_ferro.WebSocket):
    __slots__ = ()

    @property
    def url(self) -> URL:
        try:
            return self.__dict__["_era_url"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        url = self.__dict__["_era_url"] = _url_from_starlette(self.scope)
        return url

    _url_of_scope = staticmethod(_url_from_starlette)  # base_url: this era's rules


class _EraCookies(_ferro.WebSocket):
    __slots__ = ()

    @property
    def cookies(self) -> dict[str, str]:
        # Only the first Cookie header counts; made once, kept where this era's Starlette kept it.
        try:
            return self.__dict__["_cookies"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        header = self.headers.get("cookie")
        cookies = self.__dict__["_cookies"] = cookie_parser(header) if header else {}
        return cookies


class _EraSession(_ferro.WebSocket):
    __slots__ = ()

    @property
    def session(self) -> dict[str, Any]:
        assert "session" in self.scope, "SessionMiddleware must be installed to access request.session"
        return self.scope["session"]  # type: ignore[no-any-return]  # (no mark_accessed())


class _EraState(_ferro.WebSocket):
    __slots__ = ()
    _state_class = State


_OVERRIDES: dict[str, type[_ferro.WebSocket]] = {
    "cookies_every_header": _EraCookies,
    "state_mapping": _EraState,
    "session_mark_accessed": _EraSession,
    "url_rules": _EraUrl,
}
_classes: dict[str, type[_ferro.WebSocket]] = {}


def _class_name(profile: StarletteProfile) -> str:
    """``WebSocket_0_49``: named after the first release whose connection class is this one."""
    start = max([(0, 40, 0)] + [_SINCE[f] for f in _CONNECTION_FLAGS if getattr(profile, f)])
    return f"WebSocket_{start[0]}_{start[1]}"


def connection_class(profile: StarletteProfile) -> type[_ferro.WebSocket]:
    """The class a switched Starlette builds: ``ferrosocket.WebSocket`` where the connection
    behaves as in 1.10, else a subclass (in this module, so it pickles) with the older properties."""
    mixins = tuple(_OVERRIDES[f] for f in _CONNECTION_FLAGS if not getattr(profile, f))
    if not mixins:
        return _ferro.WebSocket
    name = _class_name(profile)
    try:
        return _classes[name]
    except KeyError:
        pass
    made = type(
        "WebSocket",
        (*mixins, _ferro.WebSocket),
        {
            "__slots__": (),
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": f"ferrosocket's WebSocket as Starlette {profile.release[0]}.{profile.release[1]} "
            "behaves (see ferrosocket._starlette_profile).",
        },
    )
    globals()[name] = made
    return _classes.setdefault(name, made)


def __getattr__(name: str) -> type:
    """The connection classes, made on first access: pickle finds them in any process."""
    found = re.fullmatch(r"WebSocket_(\d+)_(\d+)", name)
    if found is not None:
        release = (int(found[1]), int(found[2]), 0)
        if is_supported(release):
            profile = profile_for(release)
            made = connection_class(profile)
            if made is not _ferro.WebSocket and _class_name(profile) == name:
                return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


assert [f.name for f in fields(StarletteProfile)][1:] == list(_SINCE), "a flag without its release"
