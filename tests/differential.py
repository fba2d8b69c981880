"""Normalisation and comparison helpers shared by the differential tests: exception signatures,
norm/outcome, the Differ that runs one probe on both sides, and the hypothesis settings."""

from __future__ import annotations

import collections.abc as _abc
import math
from typing import Any

_MAX_DEPTH = 12

# Builtin exception classes whose membership is part of an exception's observable identity
# (`except RuntimeError:` in user code must behave the same on both sides).
BUILTIN_EXC_CHECKS: tuple[type[BaseException], ...] = (
    RuntimeError,
    OSError,
    ValueError,
    UnicodeError,
    KeyError,
    LookupError,
    TypeError,
    AttributeError,
    AssertionError,
    NotImplementedError,
)


def exc_sig(exc: BaseException) -> tuple[Any, ...]:
    """An exception as compared across the two libraries.

    Builtin exceptions compare by the type itself, others by type name; then ``str(exc)``, the
    builtin classes it is an instance of, and ``code``/``reason`` for WebSocketDisconnect.
    """
    t = type(exc)
    tkey: Any = t if t.__module__ == "builtins" else t.__name__
    bases = tuple(b.__name__ for b in BUILTIN_EXC_CHECKS if isinstance(exc, b))
    extra: tuple[Any, ...] = ()
    if t.__name__ == "WebSocketDisconnect" or any(c.__name__ == "WebSocketDisconnect" for c in t.__mro__):
        extra = (norm(getattr(exc, "code", "<no code>")), norm(getattr(exc, "reason", "<no reason>")))
    try:
        text = str(exc)
    except Exception as e:  # pragma: no cover - only on a broken __str__
        text = f"<str() raised {type(e).__name__}>"
    return ("raise", tkey, text, bases, extra)


def norm(x: Any, _depth: int = 0) -> Any:
    """A plain, comparable form of a value returned by either library."""
    if _depth > _MAX_DEPTH:
        return ("<too deep>",)
    d = _depth + 1
    t = type(x)
    name = t.__name__
    if x is None or t in (bool, int, str, bytes, bytearray):
        return (name, x)
    if t is float:
        return ("float", "nan" if math.isnan(x) else repr(x))
    if name == "URL":
        return ("URL", str(x))
    if name == "WebSocketState":
        return ("WebSocketState", getattr(x, "name", "?"), getattr(x, "value", "?"))
    if name in ("Headers", "MutableHeaders"):
        return (name, norm(outcome(lambda: list(x.raw)), d))
    if name == "QueryParams":
        return (name, norm(outcome(lambda: list(x.multi_items())), d))
    if name == "State":
        return ("State", norm(outcome(lambda: [(k, x[k]) for k in x]), d))
    if isinstance(x, BaseException):
        return exc_sig(x)
    if isinstance(x, tuple) and hasattr(t, "_fields"):  # namedtuples: Address, SplitResult
        return (name, tuple(norm(v, d) for v in x))
    if t is tuple:
        return ("tuple", tuple(norm(v, d) for v in x))
    if t is list:
        return ("list", [norm(v, d) for v in x])
    if isinstance(x, dict):
        items = sorted(((norm(k, d), norm(v, d)) for k, v in x.items()), key=repr)
        extra = getattr(x, "accessed", None)
        return (name, items) if extra is None else (name, items, ("accessed", extra))
    if isinstance(x, _abc.KeysView):
        return ("KeysView", [norm(v, d) for v in x])
    if isinstance(x, _abc.ItemsView):
        return ("ItemsView", [norm(v, d) for v in x])
    if isinstance(x, _abc.ValuesView):
        return ("ValuesView", [norm(v, d) for v in x])
    if isinstance(x, (set, frozenset)):
        return (name, sorted((norm(v, d) for v in x), key=repr))
    if t.__module__.startswith("starlette") or name in ("FakeRouter", "FakeApp"):
        return ("obj", name)
    return ("obj", t.__module__, t.__qualname__)


def outcome(thunk: Any) -> Any:
    """Call ``thunk``; its normalised value, or the signature of the exception it raised."""
    try:
        value = thunk()
    except Exception as exc:
        return exc_sig(exc)
    return ("ok", norm(value))


def show_pair(labels: tuple[str, str], r: Any, s: Any, indent: str = "    ") -> str:
    """Two differing outcomes, one line each, labelled."""
    width = max(map(len, labels)) + 1
    return "\n".join(
        f"{indent}{label + ':':<{width}} {value!r}" for label, value in zip(labels, (r, s), strict=True)
    )


class Differ:
    """Applies the same probe to both sides (the reference and ferrosocket, or Starlette and the
    reference) and records mismatches."""

    def __init__(self, ref: Any, sut: Any, labels: tuple[str, str] = ("reference", "ferrosocket")) -> None:
        self.ref = ref
        self.sut = sut
        self.labels = labels
        self.mismatches: list[str] = []
        self.checks = 0

    @classmethod
    def of(cls, impls: Any) -> Differ:
        """A Differ over a pair from conftest (``impls`` or ``starlette_vs_reference``)."""
        return cls(*impls, labels=impls.labels)

    def check(self, label: str, probe: Any) -> None:
        self.checks += 1
        r = outcome(lambda: probe(self.ref))
        s = outcome(lambda: probe(self.sut))
        if r != s:
            self.mismatches.append(f"{label}:\n{show_pair(self.labels, r, s)}")

    def same(self, label: str, r: Any, s: Any) -> None:
        """Compare two already computed values/outcomes."""
        self.checks += 1
        if r != s:
            self.mismatches.append(f"{label}:\n{show_pair(self.labels, r, s)}")

    def done(self) -> None:
        if self.mismatches:
            shown = self.mismatches[:12]
            more = len(self.mismatches) - len(shown)
            raise AssertionError(
                f"{len(self.mismatches)} of {self.checks} probes differ:\n"
                + "\n".join(shown)
                + (f"\n  ... and {more} more" if more else "")
            )


def scaled(n: int) -> int:
    """Scale a per-test example count from the "ci" baseline (100 examples) to the loaded profile."""
    from hypothesis import settings

    return max(1, n * settings.default.max_examples // 100)


def diff_settings(n: int) -> Any:
    """Hypothesis settings for a differential test that runs about ``n`` examples under "ci"."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=scaled(n),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
