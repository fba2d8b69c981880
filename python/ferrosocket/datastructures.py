"""The data structures of a connection: URL, headers, query parameters, state.

``Headers`` and ``QueryParams`` are Rust classes (``ferrosocket._core``). ``URL`` is a ``str``
subclass whose components are parsed in Rust. ``MutableHeaders`` and ``State`` are small Python
classes with Starlette's API.
"""

# pyright: reportPrivateUsage=false, reportUnnecessaryIsInstance=false, reportUnusedFunction=false
# (The modules share private helpers; arguments are checked at run time whatever their
# annotations; `_url_class_with_errors` and `_url_text_from_components` are called from Rust.)

from __future__ import annotations

import copyreg
import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self, SupportsIndex, TypeVar, overload
from urllib.parse import SplitResult, parse_qsl, urlencode

from ferrosocket._core import (
    Address,
    Headers,
    QueryParams,
    UrlParts,
    _register_datastructures,
    url_fragment,
    url_hostname,
    url_new,
    url_password,
    url_username,
)

__all__ = ["URL", "Address", "Headers", "MutableHeaders", "QueryParams", "State"]

Mapping.register(Headers)  # pyright: ignore
Mapping.register(QueryParams)  # pyright: ignore

_T = TypeVar("_T")  # (at run time too: typing.get_overloads() resolves the hints)

# `cls.__new__(cls, *args)`, which pickle and copy know (NEWOBJ): an object made without `__init__`.
_NEWOBJ: Any = copyreg.__newobj__  # type: ignore[attr-defined]  # (missing from typeshed)


def _read_only(url: URL, name: str, what: str) -> AttributeError:
    """The error for writing to a URL: Starlette's for its properties, else a missing attribute."""
    kind = type(url).__name__
    if hasattr(type(url), name):
        return AttributeError(f"property {name!r} of {kind!r} object has no {what}")
    return AttributeError(f"{kind!r} object has no attribute {name!r}")


class URL(str):
    """A URL: the string itself, plus its parsed components (``url.path``, ``url.port``, ...).

    Equal to Starlette's ``str(URL(...))`` for the same input. Unlike Starlette's ``URL`` it is
    a ``str`` (so it hashes, compares and formats as one).
    """

    # The components are slots, set when the URL is made: a read is a plain slot read, which
    # CPython specialises (it would not if the class had a `__getattr__`). A slot stays empty
    # only when urlsplit (or `.port`) raises for this URL: such a URL is an instance of a hidden
    # subclass (`_url_class_with_errors`) whose `__getattr__` asks `_parts`, which raises the
    # same ValueError (Starlette raises on access too). The rarely read components are
    # properties computed from `netloc` or the text.
    if TYPE_CHECKING:  # to type checkers the components are read-only properties, as Starlette's
        __slots__ = ("_parts",)
        _parts: UrlParts

        @property
        def scheme(self) -> str: ...
        @property
        def netloc(self) -> str: ...
        @property
        def path(self) -> str: ...
        @property
        def query(self) -> str: ...
        @property
        def port(self) -> int | None: ...

    else:
        __slots__ = ("_parts", "netloc", "path", "port", "query", "scheme")
        _parts: UrlParts
        scheme: str
        netloc: str
        path: str
        query: str
        port: int | None

    if TYPE_CHECKING:

        def __new__(
            cls, url: str = "", scope: Mapping[str, Any] | None = None, **components: Any
        ) -> Self: ...

    else:
        # Starlette's signature and assertions, in one native call (see _core.url_new).
        __new__ = staticmethod(url_new)

    def __reduce__(self) -> tuple[type[URL], tuple[str]]:
        return (self.__class__, (str(self),))

    # Starlette's URL has neither `__bool__` nor `__len__`: every URL is true, the empty one too.
    def __bool__(self) -> bool:
        return True

    # Read-only, as Starlette's properties are: a URL whose `.path` could be reassigned would no
    # longer match its own text. (The slots are filled in Rust, past this method.) Run time only:
    # type checkers would take a `__setattr__` to allow any attribute to be set; to them the
    # components are read-only properties (above) and other names unknown, as for Starlette's URL.
    if not TYPE_CHECKING:

        def __setattr__(self, name: str, value: Any) -> None:
            raise _read_only(self, name, "setter")

        def __delattr__(self, name: str) -> None:
            raise _read_only(self, name, "deleter")

    if TYPE_CHECKING:

        @property
        def fragment(self) -> str: ...
        @property
        def username(self) -> str | None: ...
        @property
        def password(self) -> str | None: ...
        @property
        def hostname(self) -> str | None: ...

    else:
        fragment: str = property(url_fragment)
        username: str | None = property(url_username)
        password: str | None = property(url_password)
        hostname: str | None = property(url_hostname)

    @property
    def components(self) -> SplitResult:
        return SplitResult(self.scheme, self.netloc, self.path, self.query, self.fragment)

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    @overload
    def replace(self, old: str, new: str, count: SupportsIndex = -1, /) -> str: ...
    @overload
    def replace(self, **kwargs: Any) -> URL: ...
    def replace(self, *args: Any, **kwargs: Any) -> Any:
        """``url.replace(path="/x")`` gives a new URL with those components replaced (Starlette's
        API); ``url.replace("a", "b")`` is still ``str.replace`` and gives a plain ``str``."""
        if args:
            return str.replace(self, *args, **kwargs)
        if "username" in kwargs or "password" in kwargs or "hostname" in kwargs or "port" in kwargs:
            hostname = kwargs.pop("hostname", None)
            port = kwargs.pop("port", self.port)
            username = kwargs.pop("username", self.username)
            password = kwargs.pop("password", self.password)

            if hostname is None:
                netloc = self.netloc
                _, _, hostname = netloc.rpartition("@")

                if hostname and hostname[-1] != "]":
                    hostname = hostname.rsplit(":", 1)[0]
            elif ":" in hostname and not hostname.startswith("["):
                try:
                    ipaddress.IPv6Address(hostname)
                except ValueError:
                    pass
                else:
                    hostname = f"[{hostname}]"

            netloc = hostname
            if port is not None:
                netloc += f":{port}"
            if username is not None:
                userpass = username
                if password is not None:
                    userpass += f":{password}"
                netloc = f"{userpass}@{netloc}"

            kwargs["netloc"] = netloc

        components = self.components._replace(**kwargs)
        return self.__class__(components.geturl())

    def include_query_params(self, **kwargs: Any) -> URL:
        updates = {str(key): str(value) for key, value in kwargs.items()}
        pairs = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in updates]
        return self.replace(query=urlencode(pairs + list(updates.items())))

    def replace_query_params(self, **kwargs: Any) -> URL:
        query = urlencode([(str(key), str(value)) for key, value in kwargs.items()])
        return self.replace(query=query)

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        if isinstance(keys, str):
            keys = [keys]
        # Starlette pops each key from a dict of the pairs: `keys` is iterated once, and each
        # must hash.
        removed = {key: None for key in keys}
        pairs = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in removed]
        return self.replace(query=urlencode(pairs))

    def __repr__(self) -> str:
        url = str(self)
        if self.password:
            url = str(self.replace(password="********"))
        return f"{self.__class__.__name__}({url!r})"


_URL_SLOTS = frozenset(("netloc", "path", "port", "query", "scheme"))
_CLASSES_WITH_ERRORS: dict[type[URL], type[URL]] = {}


def _url_class_with_errors(cls: type[URL]) -> type[URL]:
    """The subclass of ``cls`` for a URL whose components (some or all) raise ``ValueError``.

    It looks like ``cls`` (same name, ``url.__class__ is cls``, pickles and copies as ``cls``);
    only ``type(url)`` shows it. Its ``__getattr__`` is reached for an empty component slot and
    raises the error from ``_parts``; other names go to ``cls.__getattr__`` if there is one.
    """
    try:
        return _CLASSES_WITH_ERRORS[cls]
    except KeyError:
        pass
    fallback = getattr(cls, "__getattr__", None)

    def __getattr__(self: URL, name: str) -> Any:
        if name in _URL_SLOTS:
            return self._parts.component(name)
        if fallback is not None:
            return fallback(self, name)
        message = f"'{cls.__name__}' object has no attribute '{name}'"
        raise AttributeError(message, name=name, obj=self)

    namespace = {
        "__slots__": (),
        "__getattr__": __getattr__,
        "__class__": property(lambda self: cls),
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    metaclass: Any = type(cls)
    sub: type[URL] = metaclass(cls.__name__, (cls,), namespace)
    _CLASSES_WITH_ERRORS.setdefault(cls, sub)
    return _CLASSES_WITH_ERRORS[cls]


def _url_text_from_components(**components: Any) -> str:
    """``URL(**components)``'s text, as Starlette builds it."""
    return URL("").replace(**components).components.geturl()


class MutableHeaders(Headers):
    """A mutable copy of headers, with Starlette's ``MutableHeaders`` API (``raw`` is live)."""

    __slots__ = ("_list",)
    _list: list[tuple[bytes, bytes]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # The Rust table of the base class stays empty: this class keeps its pairs in `_list`.
        return super().__new__(cls)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: Any = None,
    ) -> None:
        self._list = []
        if headers is not None:
            assert raw is None, 'Cannot set both "headers" and "raw".'
            assert scope is None, 'Cannot set both "headers" and "scope".'
            self._list = [
                (key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()
            ]
        elif raw is not None:
            assert scope is None, 'Cannot set both "raw" and "scope".'
            self._list = raw
        elif scope is not None:
            self._list = scope["headers"] = list(scope["headers"])  # pyright: ignore[reportIncompatibleMethodOverride]

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._list

    # Lists, as Starlette's (not Mapping's views).
    def keys(self) -> list[str]:  # type: ignore[override]
        return [key.decode("latin-1") for key, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [value.decode("latin-1") for _, value in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(key.decode("latin-1"), value.decode("latin-1")) for key, value in self._list]

    @overload
    def get(self, key: str, default: None = None) -> str | None: ...
    @overload
    def get(self, key: str, default: str | _T) -> str | _T: ...
    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def getlist(self, key: str) -> list[str]:
        get_header_key = key.lower().encode("latin-1")
        return [
            item_value.decode("latin-1") for item_key, item_value in self._list if item_key == get_header_key
        ]

    def mutablecopy(self) -> MutableHeaders:
        return MutableHeaders(raw=self._list[:])

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle: made again without `__init__`, with a copy of the pairs (so
        # that `copy.copy` gives an independent copy; Starlette's shares the list).
        state = getattr(self, "__dict__", None)
        return (_NEWOBJ, (type(self),), (state, {"_list": list(self._list)}))

    def __getitem__(self, key: str) -> str:
        get_header_key = key.lower().encode("latin-1")
        for header_key, header_value in self._list:
            if header_key == get_header_key:
                return header_value.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        get_header_key = key.lower().encode("latin-1")
        for header_key, _ in self._list:
            if header_key == get_header_key:
                return True
        return False

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    # A `Mapping` (as Starlette's is): not a sequence, whatever `__getitem__` and `__len__` say.
    __reversed__ = None

    # `==` and `!=` are the base class's: `sorted(self._list) == sorted(other._list)` for any
    # Headers, Starlette's own left to its `__eq__` (docs/differences.md).
    __hash__ = None

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        as_dict = dict(self.items())
        if len(as_dict) == len(self):
            return f"{class_name}({as_dict!r})"
        return f"{class_name}(raw={self.raw!r})"

    def __setitem__(self, key: str, value: str) -> None:
        """Set the header `key` to `value`, removing any duplicate entries. Retains insertion order."""
        set_key = key.lower().encode("latin-1")
        set_value = value.encode("latin-1")

        found_indexes: list[int] = []
        for idx, (item_key, _) in enumerate(self._list):
            if item_key == set_key:
                found_indexes.append(idx)

        for idx in reversed(found_indexes[1:]):
            del self._list[idx]

        if found_indexes:
            idx = found_indexes[0]
            self._list[idx] = (set_key, set_value)
        else:
            self._list.append((set_key, set_value))

    def __delitem__(self, key: str) -> None:
        """Remove the header `key`."""
        del_key = key.lower().encode("latin-1")

        pop_indexes: list[int] = []
        for idx, (item_key, _) in enumerate(self._list):
            if item_key == del_key:
                pop_indexes.append(idx)

        for idx in reversed(pop_indexes):
            del self._list[idx]

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        new = self.mutablecopy()
        new.update(other)
        return new

    def setdefault(self, key: str, value: str) -> str:
        """If the header `key` does not exist, then set it to `value`. Returns the header value."""
        set_key = key.lower().encode("latin-1")
        set_value = value.encode("latin-1")

        for item_key, item_value in self._list:
            if item_key == set_key:
                return item_value.decode("latin-1")
        self._list.append((set_key, set_value))
        return value

    def update(self, other: Mapping[str, str]) -> None:
        for key, val in other.items():
            self[key] = val

    def append(self, key: str, value: str) -> None:
        """Append a header, preserving any duplicate entries."""
        append_key = key.lower().encode("latin-1")
        append_value = value.encode("latin-1")
        self._list.append((append_key, append_value))

    def add_vary_header(self, vary: str) -> None:
        self["vary"] = ", ".join([*self.getlist("vary"), vary])


class StateAttributes:
    """Arbitrary state, stored in a dict, read and written as attributes only: Starlette's
    ``State`` before 0.52 (``ferrosocket.install()`` on such a Starlette makes ``websocket.state``
    one of these, named ``State``). Starlette's ``State`` checks accept it while switched."""

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None):
        if state is None:
            state = {}
        super().__setattr__("_state", state)

    def __setattr__(self, key: Any, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: Any) -> Any:
        try:
            return self._state[key]
        except KeyError:
            message = "'{}' object has no attribute '{}'"
            raise AttributeError(message.format(self.__class__.__name__, key))  # noqa: B904 (as Starlette)

    def __delattr__(self, key: Any) -> None:
        del self._state[key]

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle (Starlette's State raises RecursionError): a State over a
        # copy of the dict.
        return (type(self), (dict(self._state),))


class State(StateAttributes):
    """Arbitrary state, stored in a dict (``websocket.state`` writes to ``scope["state"]``):
    attributes, and (as Starlette's since 0.52) a mutable mapping."""

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)


# The helpers the Rust side calls back (ferrosocket._core holds them: src/python/py_objects.rs).
_register_datastructures(MutableHeaders, _url_class_with_errors, _url_text_from_components)
