"""The drop-in switch: Starlette and FastAPI construct ferrosocket's ``WebSocket``.

``ferrosocket.install()``, once at the top of an app's entry point, and every
``starlette.websockets.WebSocket(scope, receive, send)`` call in the process returns a
``ferrosocket.WebSocket`` instead. ``ferrosocket.uninstall()`` puts Starlette back.
``@ferrosocket.adopt`` does the same for chosen endpoints only, without the global switch.

How it works (Starlette 0.40 to 1.10, FastAPI 0.115.3 and later):

* **The release.** ``install()`` reads the installed Starlette's version once and takes its
  profile (``_starlette_profile.py``): the behaviours that differ within the supported range.
  On a release with 1.10's behaviour the connection is ``ferrosocket.WebSocket``; on an older
  one, a subclass of it from ``_starlette_profile`` with that release's ``cookies``, ``state``,
  ``session`` and URL rules; before 1.7 a use after close raises a plain ``RuntimeError``, and
  before 1.10 ``QueryParams ==`` compares sorted pairs (both rules of the Rust core, set here).

* **Construction.** No name is rebound: ``starlette.websockets.WebSocket`` (and
  ``fastapi.WebSocket``, the same object) stays Starlette's class, and that class gets a
  metaclass (a subclass of its own ``ABCMeta``) whose ``__call__`` builds a
  ``ferrosocket.WebSocket``. Every place that constructs one goes through that call, wherever
  and whenever it imported the name: ``starlette.routing`` (``WebSocketRoute``, ``Router``,
  ``Mount``, FastAPI's ``@app.websocket_route``), ``starlette.endpoints``
  (``WebSocketEndpoint``), ``starlette.middleware.exceptions`` (``ExceptionMiddleware`` and the
  exception handlers), ``fastapi.routing`` (``@app.websocket``, ``APIRouter``, dependencies),
  and user code that builds one itself. So the order of imports does not matter.
* **isinstance.** ``ferrosocket.WebSocket`` is registered as a virtual subclass of Starlette's
  ``WebSocket`` (``ABCMeta.register``), so ``isinstance(ws, starlette.websockets.WebSocket)``,
  ``requires()``'s check, and FastAPI's parameter injection (``lenient_issubclass(annotation,
  WebSocket)`` when the route is built, ``isinstance(request, WebSocket)`` per connection) all
  accept it, whichever of the two classes the code names. This registration is permanent (an
  ABC cannot unregister), and true: ferrosocket implements Starlette's whole interface.
* **The connection's views.** ``isinstance(ws.headers, starlette.datastructures.Headers)``,
  ``isinstance(ws.query_params, ImmutableMultiDict)`` (and ``QueryParams``), and the same for
  ``MutableHeaders``, ``URL``, ``Address`` and ``State``, are true, so code that checks Starlette's
  types keeps working: FastAPI builds list-valued ``Query``/``Header`` parameters and parameter
  models' extras only for ``ImmutableMultiDict``/``Headers``. Starlette's ``Headers``,
  ``MutableHeaders`` and ``QueryParams`` are ABCs: ferrosocket's classes are registered with them
  (permanent, like the ``WebSocket`` registration; the checks stay C-cached). ``URL``, ``State``
  and ``Address`` are plain classes: while switched they get a metaclass (a subclass of
  ``type``, see ``_metaclass.py``) whose ``__instancecheck__``/``__subclasscheck__`` also
  accept ferrosocket's class; ``uninstall()`` gives ``type`` back. A real Starlette instance
  never reaches that Python code (CPython answers an exact type match first).
* **Exceptions.** The connection raises ``WebSocketDisconnect`` and ``WebSocketDisconnected``
  classes that derive from both ferrosocket's and Starlette's (registered with the Rust core),
  so ``except starlette.websockets.WebSocketDisconnect``, ``except
  fastapi.WebSocketDisconnect`` and ``except ferrosocket.WebSocketDisconnect`` all catch them.
  They live in this module under those names (``ferrosocket._install.WebSocketDisconnect``), so
  they pickle, also into a process that never called ``install()`` (the module makes them on
  first access). Starlette's names are not rebound: the TestClient keeps raising Starlette's own
  ``WebSocketDisconnect`` and ``WebSocketDenialResponse`` (an ``httpx.Response`` and a
  ``WebSocketDisconnect``) on the client side, exactly as before.
* **States.** ``ws.client_state`` and ``ws.application_state`` are Starlette's
  ``WebSocketState`` members, so ``==``, ``is`` and ``isinstance`` against Starlette's (or
  FastAPI's) enum hold; ferrosocket's own members compare equal to them too.
* ``WebSocketClose`` needs nothing: it never touches the connection class.

What stays Starlette's: subclasses of Starlette's ``WebSocket`` (``class MyWS(WebSocket)``) keep
Starlette's implementation, because they inherit its methods (one defined while switched gets a
pass-through metaclass, so its constructor sees its arguments as given); and ``type(ws) is
starlette.websockets.WebSocket`` is false (``isinstance`` is the supported check). The metaclass
costs one Python call per connection: ``WebSocket(scope, receive=..., send=...)`` took 0.44 µs
switched, against 0.35 µs calling ferrosocket's class directly and 0.56 µs for Starlette's own.

Import order: ``install()`` imports ``starlette.websockets`` itself and works before or after
Starlette, FastAPI and the app's modules are imported, before or after routes are declared, and
after the app has served connections. Connections already open keep the class they were built
with, so switch (and ``uninstall()``) when none is open: at startup, at shutdown, in tests. It
raises ``ImportError`` when Starlette is not installed, and ``RuntimeError``, changing nothing,
for a Starlette outside ``SUPPORTED_STARLETTE``, or if something else has already replaced the
metaclass of Starlette's ``WebSocket`` or if Starlette's ``WebSocketState`` is not the one
ferrosocket implements.
"""

from __future__ import annotations

import abc
import importlib
import threading
from typing import Any, TypeVar, cast

from ferrosocket import _core, _exceptions, _metaclass
from ferrosocket import _starlette_profile as _profile
from ferrosocket import datastructures as _ferro_data
from ferrosocket import websockets as _ferro
from ferrosocket._starlette_profile import SUPPORTED_STARLETTE, StarletteProfile

__all__ = ["SUPPORTED_STARLETTE", "adopt", "install", "installed", "uninstall"]

# ferrosocket's class for each Starlette datastructure that is an ABC (registered, permanently)...
_REGISTERED = (
    ("Headers", _ferro_data.Headers),
    ("MutableHeaders", _ferro_data.MutableHeaders),
    ("QueryParams", _ferro_data.QueryParams),  # and so ImmutableMultiDict, its base
)
# ... and for each that is a plain class (metaclass ``type``: swapped while switched).
# (StateAttributes: the base of ferrosocket's State, and websocket.state before Starlette 0.52.)
_SWAPPED = (
    ("URL", _ferro_data.URL),
    ("Address", _ferro_data.Address),
    ("State", _ferro_data.StateAttributes),
)

# The attribute that @adopt sets on an endpoint (function, method, class or any object).
_ADOPTED = "__ferrosocket_adopted__"

_T = TypeVar("_T")


class _Switch:
    """What is currently switched, guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # True after install(): every construction of Starlette's WebSocket builds ours.
        self.everywhere = False
        # Set while the bridge is on (install() or adopt()): Starlette's WebSocket class and the
        # metaclass it had before.
        self.starlette_class: type | None = None
        self.original_meta: type | None = None
        # Starlette's plain datastructure classes whose metaclass was swapped (given back when off).
        self.swapped: list[type] = []
        # What differs in the switched Starlette's release (set while the bridge is on; read by
        # tests/dropin/diff_eras.py to know which era it checks).
        self.profile: StarletteProfile | None = None


_switch = _Switch()


def _adopted(scope: Any) -> bool:
    """True when the scope's endpoint (set by Starlette's router) was marked by @adopt."""
    try:
        endpoint = scope.get("endpoint")
    except Exception:  # noqa: BLE001 (a malformed scope is Starlette's to reject)
        return False
    return endpoint is not None and getattr(endpoint, _ADOPTED, False) is True


_NOT_GIVEN: Any = object()
_metaclasses: dict[tuple[type, type], type] = {}


def _make_metaclass(base_meta: type, starlette_class: type, ferro_class: type) -> type:
    """The metaclass that Starlette's ``WebSocket`` gets: a subclass of ``base_meta``.

    Its ``__call__`` has Starlette's signature, not ``*args, **kwargs``: that keeps the
    construction about as fast as calling ferrosocket's class directly. ``ferro_class`` is
    ``ferrosocket.WebSocket``, or its subclass for an older Starlette (``_starlette_profile``).
    Only Starlette's class
    itself has this metaclass: a subclass of it created while switched gets ``Plain``, whose
    ``__call__`` is type's, so a subclass's constructor receives its arguments untouched.
    """
    try:
        return _metaclasses[starlette_class, ferro_class]
    except KeyError:
        pass
    switch = _switch

    def __call__(cls: Any, scope: Any, receive: Any = _NOT_GIVEN, send: Any = _NOT_GIVEN) -> Any:
        if switch.everywhere or _adopted(scope):
            return ferro_class(
                scope,
                receive if receive is not _NOT_GIVEN else None,
                send if send is not _NOT_GIVEN else None,
            )
        given = {"receive": receive, "send": send}  # as called: a missing one is Starlette's TypeError
        return type.__call__(cls, scope, **{k: v for k, v in given.items() if v is not _NOT_GIVEN})

    def __new__(
        mcls: Any, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> Any:
        if mcls is switch_meta:  # a subclass of Starlette's WebSocket, defined while switched
            mcls = plain_meta
        return base_meta.__new__(mcls, name, bases, namespace, **kwargs)

    switch_meta = type(
        "FerrosocketSwitch",
        (base_meta,),
        {
            "__call__": __call__,
            "__new__": __new__,
            "__module__": __name__,
            "__qualname__": "FerrosocketSwitch",
        },
    )
    plain_meta = type(
        "FerrosocketSwitch.Plain",
        (switch_meta,),
        {"__call__": type.__call__, "__module__": __name__, "__qualname__": "FerrosocketSwitch.Plain"},
    )
    _metaclasses[starlette_class, ferro_class] = switch_meta
    return switch_meta


_exception_cache: dict[tuple[type, type], tuple[type, type]] = {}
# The names of the bridged exception classes in this module (a Starlette imported a second time,
# with new classes, gets a suffix).
_BRIDGED_NAMES = ("WebSocketDisconnect", "WebSocketDisconnected")


def _bridge_exceptions(starlette_websockets: Any) -> tuple[type, type]:
    """``WebSocketDisconnect`` and ``WebSocketDisconnected`` classes that are both libraries'.

    Each is stored in this module under its qualified name, so pickle finds it. A Starlette
    before 1.7 has no ``WebSocketDisconnected``: its stand-in is ``RuntimeError``, what such a
    Starlette raises (the connection raises a plain ``RuntimeError`` there, see ``_bridge_on``).
    """
    key = (
        starlette_websockets.WebSocketDisconnect,
        getattr(starlette_websockets, "WebSocketDisconnected", RuntimeError),
    )
    try:
        return _exception_cache[key]
    except KeyError:
        pass
    suffix = f"_{len(_exception_cache) + 1}" if _exception_cache else ""
    docs = (
        "The peer went away: both ferrosocket's and Starlette's WebSocketDisconnect.",
        "Use of a closed connection: both ferrosocket's and Starlette's WebSocketDisconnected.",
    )
    ours = (_exceptions.WebSocketDisconnect, _exceptions.WebSocketDisconnected)
    made: list[type] = []
    for name, own, theirs, doc in zip(_BRIDGED_NAMES, ours, key, docs, strict=True):
        qualname = name + suffix
        bridged = type(
            name, (own, theirs), {"__module__": __name__, "__qualname__": qualname, "__doc__": doc}
        )
        globals()[qualname] = bridged
        made.append(bridged)
    disconnect, disconnected = made
    _exception_cache[key] = (disconnect, disconnected)
    return disconnect, disconnected


def __getattr__(name: str) -> type:
    """The bridged exception classes, made on first access: pickle finds them in a process
    (a worker, say) that has not called ``install()``."""
    if name in _BRIDGED_NAMES:
        with _switch.lock:
            _bridge_exceptions(_import_starlette()[0])
        return cast(type, globals()[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _import_starlette() -> tuple[Any, StarletteProfile]:
    """``starlette.websockets`` and the profile of its release, once it is known to be supported."""
    try:
        starlette = importlib.import_module("starlette")
        version = str(getattr(starlette, "__version__", "unknown"))
        release = _profile.release_of(version)
        (low, high) = SUPPORTED_STARLETTE
        if release is None or not _profile.is_supported(release):
            raise RuntimeError(
                f"ferrosocket.install() and ferrosocket.adopt() support Starlette {low[0]}.{low[1]} "
                f"to {high[0]}.{high[1]}, but Starlette {version} is installed (imported from "
                f"{getattr(starlette, '__file__', '?')}): nothing was changed. Install a supported "
                "Starlette, or construct ferrosocket.WebSocket(scope, receive, send) directly."
            )
        return importlib.import_module("starlette.websockets"), _profile.profile_for(release)
    except ImportError as exc:
        raise ImportError(
            "ferrosocket.install() and ferrosocket.adopt() switch Starlette (and FastAPI) to "
            "ferrosocket's WebSocket, but Starlette is not importable here. Without Starlette, "
            "use ferrosocket.WebSocket(scope, receive, send) directly."
        ) from exc


def _datastructure(module: Any, name: str, meta: type) -> type:
    """Starlette's datastructure class ``name``, checked to have the metaclass ``meta``."""
    cls = getattr(module, name, None)
    if not isinstance(cls, type) or type(cls) is not meta:
        raise RuntimeError(
            f"starlette.datastructures.{name} is {cls!r} (metaclass {type(cls)!r}), not a class "
            f"with the metaclass {meta!r}: something else has patched it, and ferrosocket.install() "
            "would fight it"
        )
    return cls


def _bridge_on() -> None:
    """Starlette's WebSocket builds ours when asked to; exceptions, states and types are shared.

    Everything is checked before anything changes: an error leaves Starlette as it was.
    """
    if _switch.starlette_class is not None:
        return
    sw, profile = _import_starlette()
    sd = importlib.import_module("starlette.datastructures")
    starlette_class = sw.WebSocket
    if starlette_class is _ferro.WebSocket or not isinstance(starlette_class, type):
        raise RuntimeError(
            "starlette.websockets.WebSocket has been replaced (it is "
            f"{starlette_class!r}): ferrosocket.install() needs Starlette's own class"
        )
    meta = type(starlette_class)
    if meta is not abc.ABCMeta:
        raise RuntimeError(
            f"the metaclass of starlette.websockets.WebSocket is {meta!r}, not abc.ABCMeta: "
            "something else has patched Starlette's WebSocket, and ferrosocket.install() would "
            "fight it"
        )
    ours = [(m.name, m.value) for m in _ferro.WebSocketState]
    theirs = [(m.name, m.value) for m in sw.WebSocketState]
    if theirs != ours:
        raise RuntimeError(
            f"starlette.websockets.WebSocketState is {theirs}, ferrosocket implements {ours}: "
            "this Starlette version is not one ferrosocket can stand in for"
        )
    registered = [(_datastructure(sd, name, abc.ABCMeta), own) for name, own in _REGISTERED]
    swapped = [
        (cls, _metaclass.accepting_metaclass(cls, own))
        for cls, own in ((_datastructure(sd, name, type), own) for name, own in _SWAPPED)
    ]
    disconnect, disconnected = _bridge_exceptions(sw)
    # The changes: first the ones that can be undone.
    try:
        for cls, accepting in swapped:
            _metaclass.set_metaclass(cls, accepting)
            _switch.swapped.append(cls)
    except BaseException:
        _give_metaclasses_back()
        raise
    starlette_class.__class__ = _make_metaclass(meta, starlette_class, _profile.connection_class(profile))
    _switch.starlette_class = starlette_class
    _switch.original_meta = meta
    _switch.profile = profile
    # The two differences that live in the Rust core: the class of a use after close, and the
    # equality of QueryParams.
    if not profile.websocket_disconnected:
        disconnected = RuntimeError
    _ferro._use(tuple(sw.WebSocketState), disconnect, disconnected)  # pyright: ignore[reportPrivateUsage]
    _core._query_params_equal_as_sorted_pairs(not profile.query_params_key_order)  # pyright: ignore[reportPrivateUsage]
    # An ABC registration is permanent (and true: ferrosocket's classes implement Starlette's API).
    cast(abc.ABCMeta, starlette_class).register(_ferro.WebSocket)
    for cls, own in registered:
        cast(abc.ABCMeta, cls).register(own)


def _give_metaclasses_back() -> None:
    while _switch.swapped:
        _metaclass.set_metaclass(_switch.swapped.pop(), type)


def _bridge_off() -> None:
    starlette_class, meta = _switch.starlette_class, _switch.original_meta
    if starlette_class is None or meta is None:
        return
    starlette_class.__class__ = meta
    _give_metaclasses_back()
    _ferro._use(  # pyright: ignore[reportPrivateUsage]
        tuple(_ferro.WebSocketState), _exceptions.WebSocketDisconnect, _exceptions.WebSocketDisconnected
    )
    _core._query_params_equal_as_sorted_pairs(False)  # pyright: ignore[reportPrivateUsage]
    _switch.starlette_class = None
    _switch.original_meta = None
    _switch.profile = None


def install() -> None:
    """Make every Starlette and FastAPI WebSocket path construct ``ferrosocket.WebSocket``.

    Call it once, at the top of the app's entry point; before or after importing Starlette,
    FastAPI and the app's modules, it makes no difference. Calling it again does nothing.
    ``except WebSocketDisconnect``, ``isinstance(ws, WebSocket)``, ``ws.client_state ==
    WebSocketState.CONNECTED`` (with Starlette's, FastAPI's or ferrosocket's names) and the
    TestClient keep working unchanged. See the module docstring for what is patched and why.
    """
    with _switch.lock:
        _bridge_on()
        _switch.everywhere = True


def uninstall() -> None:
    """Undo :func:`install` (and :func:`adopt`): Starlette constructs its own class again.

    Starlette's ``WebSocket`` gets its metaclass back, and the connection raises ferrosocket's
    own exception classes and reports ferrosocket's ``WebSocketState`` members again. Endpoints
    marked with ``@adopt`` keep their mark and use ferrosocket again after the next
    ``install()`` or ``adopt()``. Connections already open keep their class. (ferrosocket's class
    stays registered as a virtual subclass of Starlette's: an ABC registration cannot be undone.)
    """
    with _switch.lock:
        _switch.everywhere = False
        _bridge_off()


def installed() -> bool:
    """True while :func:`install` is in effect."""
    return _switch.everywhere


def adopt(endpoint: _T) -> _T:
    """Use ferrosocket for this endpoint only, without the global switch.

    Works as a decorator, in either order with the route decorator, on anything Starlette's
    router calls an endpoint: a ``@app.websocket_route`` / ``WebSocketRoute`` function, a
    ``WebSocketEndpoint`` subclass (its subclasses inherit the mark), or a FastAPI
    ``@app.websocket`` / ``APIRouter`` function (dependencies and parameter injection unchanged)::

        @app.websocket("/ws")
        @ferrosocket.adopt
        async def ws(websocket: WebSocket): ...

    The endpoint's WebSocket is then a ``ferrosocket.WebSocket``; the rest of the app keeps
    Starlette's. It works through the scope's ``"endpoint"``, which Starlette's router sets
    before the route builds its WebSocket; a raw ASGI app (no router) should construct
    ``ferrosocket.WebSocket`` itself. The endpoint object is returned as it is, with one
    attribute set; a wrapper applied on top with ``functools.wraps`` copies the mark.
    """
    with _switch.lock:
        _bridge_on()
    setattr(endpoint, _ADOPTED, True)
    return endpoint
