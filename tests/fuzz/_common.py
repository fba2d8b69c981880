"""Shared pieces of the atheris harnesses in this folder (not a pytest module: see run.py).

* ``Input``: structured values out of the fuzzer's bytes, biased toward the syntax of the query,
  URL and Host grammars: each input byte picks a token (a syntax char, an escape, a non-ASCII or
  special char), so a one-byte mutation swaps one token for another.
* ``outcome``: run a call and return its result or the type of what it raised; a Rust panic
  (pyo3's ``PanicException``, a ``BaseException``) is never an outcome, it fails the harness.
* ``run_sync``: drive a coroutine that never suspends (recording send/receive) without a loop.
* ``websocket_scope``: a minimal ASGI websocket scope.
* ``ferrosocket``: the package, imported on first use. With ``FERROSOCKET_FUZZ_PKG`` set (run.py
  does), from that folder: a copy of the package whose Rust extension was built with coverage
  instrumentation (sancov), so the fuzzer is guided by the Rust code's branches too. Such an
  extension needs libFuzzer's symbols, which atheris loads only when fuzzing starts: hence the
  import on first use, and ``RTLD_GLOBAL`` in ``main``.
"""

from __future__ import annotations

import codecs
import ipaddress
import os
import sys
import types
import urllib.parse
from collections.abc import Callable, Coroutine
from typing import Any

import atheris

# --- Token tables -----------------------------------------------------------------------------

SYNTAX = [
    "%", "+", "&", "=", ";", "[", "]", ":", "@", "/", "?", "#", "\\", "\r", "\n", "\x00", "\t",
    " ", ".", ",", "'", "!", "$", "*", "(", ")", "~", "-", "_", "v", "V",
]  # fmt: skip
ESCAPES = [
    "%%", "%2", "%25", "%2B", "%2b", "%26", "%3D", "%3F", "%23", "%5C", "%2F", "%C3", "%A9",
    "%c3%a9", "%E2%82", "%E2%82%AC", "%F0%9F%A6%80", "%ED%A0%80", "%C0%80", "%FF", "%zz", "%4g",
    "%0", "%00",
]  # fmt: skip
PIECES = [
    "::", "]:", "[::1]", "[::ffff:1.2.3.4]", "[v1.x]", "[V1.x]", "[1.2.3.4]", "[fe80::1%25e]",
    "//", "://", "ws://", "wss://", "http://", "https://", "localhost", "example.com", "Ex.COM",
    ":80", ":443", ":0", ":65535", ":65536", ":0000000080", ":99999", "user:pw@", "1.2.3.4",
    "ffff", "0", "00", "a=1", "&&", "==", "++",
]  # fmt: skip
# Non-ASCII: latin-1 edges, case mappings in and out of latin-1 (KELVIN SIGN, ANGSTROM SIGN,
# Ÿ, long s, dotted and dotless i), a newer-Unicode letter, separators, BOM, replacement char,
# a 4-byte char, non-ASCII digits, fullwidth and NFKC-sensitive chars.
SPECIALS = [
    "\x80", "\xa0", "\xb5", "\xc0", "\xc9", "\xd7", "\xdf", "\xe9", "\xff", "\u0100", "\u0130",
    "\u0131", "\u0178", "\u017f", "\u03a3", "\u1e9e", "\u212a", "\u212b", "\u1c89", "\u2028",
    "\ufeff", "\ufffd", "\U0001f980", "\U0010ffff", "\u0661", "\uff10", "\uff0f", "\u2100",
    "\uff03", "\uff1f",
]  # fmt: skip


def _table() -> list[str]:
    table = [chr(i) for i in range(0x20, 0x7F)]  # printable ASCII: 95
    table += SYNTAX + ESCAPES + PIECES + SPECIALS
    table += [chr(i) for i in range(0x80, 0x100) if chr(i) not in table]
    return table[:256]


# Inputs that hit the known divergences from Starlette listed in README.md (lone surrogates in
# str inputs, header pairs given as lists) are generated only with FUZZ_KNOWN_DIVERGENCES=1,
# so that the default run fails only on something new.
KNOWN_DIVERGENCES = os.environ.get("FUZZ_KNOWN_DIVERGENCES", "") not in ("", "0")

TEXT_TOKENS = _table()
assert len(TEXT_TOKENS) == 256, len(TEXT_TOKENS)


class Input:
    """Typed values out of the fuzzer's bytes."""

    def __init__(self, data: bytes) -> None:
        self.fdp = atheris.FuzzedDataProvider(data)

    def int(self, lo: int, hi: int) -> int:
        return int(self.fdp.ConsumeIntInRange(lo, hi))

    def bool(self) -> bool:
        return bool(self.fdp.ConsumeBool())

    def pick(self, values: list[Any]) -> Any:
        return values[self.int(0, len(values) - 1)]

    def text(self, max_tokens: int = 24) -> str:
        """Text: syntax tokens mostly, sometimes any code point (surrogates excluded)."""
        mode = self.int(0, 7)
        n = self.int(0, max_tokens)
        if mode == 0:
            return str(self.fdp.ConsumeUnicodeNoSurrogates(n))
        if mode == 1:
            return self.fdp.ConsumeBytes(n).decode("latin-1")
        return "".join(TEXT_TOKENS[b] for b in self.fdp.ConsumeBytes(n))

    def text_with_surrogates(self, max_tokens: int = 24) -> str:
        """Like ``text``; with ``FUZZ_KNOWN_DIVERGENCES=1`` it may hold lone surrogates."""
        if KNOWN_DIVERGENCES and self.int(0, 3) == 0:
            return str(self.fdp.ConsumeUnicode(self.int(0, max_tokens)))
        return self.text(max_tokens)

    def raw(self, max_len: int = 48) -> bytes:
        """Bytes: token text as UTF-8, raw bytes (invalid UTF-8 likely), or latin-1 tokens."""
        mode = self.int(0, 3)
        if mode == 0:
            return bytes(self.fdp.ConsumeBytes(self.int(0, max_len)))
        text = "".join(TEXT_TOKENS[b] for b in self.fdp.ConsumeBytes(self.int(0, max_len // 2)))
        if mode == 1:
            return text.encode("latin-1", "replace")
        return text.encode("utf-8")


# --- Outcomes ---------------------------------------------------------------------------------


class RustPanic(AssertionError):
    """A pyo3 PanicException came out of ferrosocket."""


def is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException"


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """``("ok", value)`` or ``("raise", exception type name)``; a Rust panic fails the input."""
    try:
        return ("ok", fn())
    except Exception as exc:  # PanicException is a BaseException: it is not caught here
        return ("raise", type(exc).__name__)
    except BaseException as exc:
        if is_panic(exc):
            raise RustPanic(f"Rust panic: {exc!r}") from exc
        raise


def same(label: str, ferro: tuple[str, Any], star: tuple[str, Any], *context: Any) -> None:
    """Assert two outcomes are equal, with the input in the message."""
    if ferro != star:
        raise AssertionError(f"{label}: ferrosocket {ferro!r} != starlette {star!r}\n  input: {context!r}")


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that completes without suspending."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("coroutine suspended: the harness' send/receive must not await")


def websocket_scope(**items: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "subprotocols": [],
        "state": {},
        "extensions": {},
    }
    scope.update(items)
    return scope


def _pct_escape(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    bad = err.object[err.start : err.end]
    return ("".join(f"%{b:02X}" for b in bad), err.end)


codecs.register_error("ferrosocket-fuzz-pct", _pct_escape)


def query_text(raw: bytes) -> str:
    """The URL text ferrosocket makes of a query string: UTF-8, invalid bytes as ``%XX``."""
    return raw.decode("utf-8", "ferrosocket-fuzz-pct")


def _load_ferrosocket() -> Any:
    pkg = os.environ.get("FERROSOCKET_FUZZ_PKG")
    if pkg:
        sys.path.insert(0, pkg)
    with atheris.instrument_imports(include=["ferrosocket"]):
        import ferrosocket
    if pkg and not os.path.realpath(ferrosocket.__file__).startswith(os.path.realpath(pkg)):
        raise RuntimeError(f"ferrosocket came from {ferrosocket.__file__}, not from {pkg}")
    return ferrosocket


class _LazyFerrosocket:
    """``ferrosocket``, imported on first attribute access (see the module docstring)."""

    _module: Any = None

    def __getattr__(self, name: str) -> Any:
        if _LazyFerrosocket._module is None:
            _LazyFerrosocket._module = _load_ferrosocket()
        return getattr(_LazyFerrosocket._module, name)


ferrosocket: Any = _LazyFerrosocket()


def _instrument_stdlib() -> None:
    """Coverage for the reference side too: Starlette parses with ``urllib.parse`` and
    ``ipaddress``, imported before any harness could hook the import, so patched here."""
    for module in (urllib.parse, ipaddress):
        for obj in list(vars(module).values()):
            if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__:
                atheris.instrument_func(obj)
            elif isinstance(obj, type) and obj.__module__ == module.__name__:
                for member in list(vars(obj).values()):
                    if isinstance(member, types.FunctionType):
                        atheris.instrument_func(member)


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Run a harness: libFuzzer flags and corpus folders or crash files from the command line
    (see run.py); given files, it replays them once."""
    # libFuzzer's symbols (loaded by atheris.Fuzz) must be visible to an instrumented extension.
    sys.setdlopenflags(os.RTLD_GLOBAL | os.RTLD_NOW)
    _instrument_stdlib()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
