"""Swapping the metaclass of a class, and the metaclass that makes Starlette's checks accept ours.

``install()`` gives some of Starlette's classes a metaclass of its own (a subclass of the one they
have) and gives the original back in ``uninstall()``. For a class whose metaclass is a Python class
(``abc.ABCMeta``) that is a plain ``cls.__class__ = meta``. For a class whose metaclass is ``type``
itself (Starlette's ``URL``, ``State``, ``Address``), CPython refuses that assignment: it refuses
any ``__class__`` change from or to a built-in type, to protect the interned values of immutable
built-ins (``int``, ``str``). A class object is not such a value, so :func:`set_metaclass` then does
what ``object.__class__``'s setter would have done (move the type pointer, adjust the two
reference counts) after the same layout checks, with ctypes.
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ["accepting_metaclass", "set_metaclass"]

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a type allocated on the heap, reference-counted
_HAVE_GC = 1 << 14  # Py_TPFLAGS_HAVE_GC
# ob_type is the last field of the object header in every CPython build (default, debug with
# Py_TRACE_REFS, free-threaded): the header's size, object.__basicsize__, minus one pointer.
_OB_TYPE_OFFSET = object.__basicsize__ - ctypes.sizeof(ctypes.c_void_p)


def _layout(meta: type) -> tuple[int, ...]:
    """What must agree for two metaclasses to share their instances' memory layout."""
    return (
        meta.__basicsize__,
        meta.__itemsize__,
        meta.__dictoffset__,
        meta.__weakrefoffset__,
        meta.__flags__ & _HAVE_GC,
    )


def set_metaclass(cls: type, meta: type) -> None:
    """``cls.__class__ = meta``, also where ``type(cls)`` or ``meta`` is ``type`` itself.

    ``meta`` must be a subclass of ``type(cls)`` that adds no fields, or its base (to swap back).
    Raises ``RuntimeError`` (and changes nothing) when the two layouts differ.
    """
    old: type = type(cls)
    if old is meta:
        return
    if not (issubclass(meta, old) or issubclass(old, meta)) or _layout(meta) != _layout(old):
        raise RuntimeError(f"cannot give {cls!r} the metaclass {meta!r}: its layout differs from {old!r}")
    try:
        cls.__class__ = meta
    except TypeError:  # "__class__ assignment only supported for mutable types ...": see above
        pass
    else:
        return
    slot = ctypes.c_void_p.from_address(id(cls) + _OB_TYPE_OFFSET)
    if slot.value != id(old):
        raise RuntimeError(f"cannot give {cls!r} the metaclass {meta!r}: unknown object layout")
    api = ctypes.pythonapi
    api.Py_IncRef(ctypes.py_object(meta))
    slot.value = id(meta)
    if old.__flags__ & _HEAPTYPE:
        api.Py_DecRef(ctypes.py_object(old))
    # Forget what the interpreter cached about lookups on the class object.
    api.PyType_Modified(ctypes.py_object(cls))


_accepting: dict[type, type] = {}


def accepting_metaclass(target: type, ours: type) -> type:
    """A metaclass for ``target`` under which ``isinstance(x, target)`` also accepts ``ours``.

    A subclass of ``type(target)``, made once per target. Only ``target`` itself accepts
    ``ours``: a subclass of ``target`` (which inherits the metaclass) keeps the ordinary checks.
    Real instances of ``target`` never reach this code: CPython's ``isinstance`` answers an exact
    type match before it looks for ``__instancecheck__``.
    """
    try:
        return _accepting[target]
    except KeyError:
        pass
    base: Any = type(target)
    base_instancecheck = base.__instancecheck__
    base_subclasscheck = base.__subclasscheck__

    def __instancecheck__(cls: type, instance: Any) -> bool:
        if cls is target and isinstance(instance, ours):
            return True
        return bool(base_instancecheck(cls, instance))

    def __subclasscheck__(cls: type, subclass: Any) -> bool:
        if cls is target and isinstance(subclass, type) and issubclass(subclass, ours):
            return True
        return bool(base_subclasscheck(cls, subclass))

    name = f"FerrosocketAccepts{target.__name__}"
    meta = type(
        name,
        (base,),
        {
            "__instancecheck__": __instancecheck__,
            "__subclasscheck__": __subclasscheck__,
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": f"{target.__qualname__}'s metaclass under ferrosocket.install(): "
            f"isinstance() also accepts {ours.__module__}.{ours.__qualname__}.",
        },
    )
    return _accepting.setdefault(target, meta)
