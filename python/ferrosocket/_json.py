"""JSON for ``receive_json`` / ``send_json``: orjson fast paths, stdlib-exact fallbacks.

Starlette is the reference: ``json.loads(text)`` on receive, and
``json.dumps(data, separators=(",", ":"), ensure_ascii=False)`` on send.

Policy: every call tries orjson first.  Whenever orjson fails, or its result could differ
from the stdlib's, the call is redone with the stdlib ``json`` module, so values, exceptions
and messages are the stdlib's.  The "could differ" checks are cheap scans:

* loads: orjson turns integers beyond 64 bits into floats, so any input with a run of 19+
  ASCII digits is parsed by ``json.loads``; results that may be nested deeper than orjson's
  encoder limit (254) are also parsed by ``json.loads``, which raises ``RecursionError`` where
  the stdlib does.
* dumps: orjson writes ``null`` for NaN/Infinity and serialises ``uuid.UUID``, which Starlette
  writes as ``NaN``/``Infinity``/``-Infinity`` and rejects.  Output holding ``null`` or a
  UUID-shaped string is parsed back and compared with the input; on any difference the stdlib
  encoder produces the result (so NaN gives ``NaN``, a UUID gives the stdlib ``TypeError``).
  Dataclasses, datetimes and subclasses of builtins are passed through to the stdlib.

Known deviation (not detectable without walking every payload): members of plain ``enum.Enum``
(not ``IntEnum``/``StrEnum``) are written as their value, on both paths, where Starlette raises
``TypeError``; ``orjson.Fragment`` is written as its content on the fast path.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any, Final

import orjson

__all__ = ["dumps_bytes", "dumps_text", "loads_bytes", "loads_text"]


def _enum_value(obj: Any) -> Any:
    """The stdlib encoder's ``default``: plain Enum members as their value (what orjson writes on
    the fast path), so a payload is encoded the same way whichever path it takes; anything else
    raises the stdlib's own ``TypeError``."""
    if isinstance(obj, enum.Enum):
        return obj.value
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


# == Starlette's json.dumps, but for plain Enum members (see the module docstring).
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_enum_value)
_DUMPS_OPTIONS: Final = (
    orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)

# Maps every ASCII digit to "0" and both opening brackets to "[", so that one translate() lets a
# substring search find digit runs and a count() bound the nesting depth.
_SCAN_TABLE: Final = bytes(
    0x30 if 0x30 <= i <= 0x39 else 0x5B if i in (0x5B, 0x7B) else 0x20 for i in range(256)
)
_DIGIT_RUN: Final = b"0" * 19  # the shortest integer orjson may not hold is 19 digits long (-2**63 - 1)
_ORJSON_MAX_DEPTH: Final = 254  # orjson.dumps raises "Recursion limit reached" beyond this nesting
_UUID_TAIL: Final = re.compile(rb"-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\"")


def _needs_stdlib_loads(raw: bytes | bytearray, result: Any) -> bool:
    """True when orjson's ``result`` for ``raw`` may differ from ``json.loads``."""
    if len(raw) < len(_DIGIT_RUN):
        return False  # too short for a 19-digit integer or deep nesting
    scan = raw.translate(_SCAN_TABLE)
    if scan.find(_DIGIT_RUN) >= 0:  # (find, not "in": bytes.__contains__ is slow for a bytes needle)
        return True
    # orjson succeeded, so brackets are balanced: deeper than 254 takes more than 2 * 254 bytes.
    if len(raw) > 2 * _ORJSON_MAX_DEPTH and scan.count(b"[") > _ORJSON_MAX_DEPTH:
        # Possibly nested deeper than json.loads may recurse: let orjson's encoder measure the depth.
        try:
            orjson.dumps(result)
        except orjson.JSONEncodeError:
            return True
    return False


def loads_text(text: str) -> Any:
    """``json.loads(text)``."""
    try:
        raw = text.encode("utf-8")
        result = orjson.loads(raw)
    except (UnicodeEncodeError, orjson.JSONDecodeError):
        pass  # lone surrogates, NaN, 1e400, invalid JSON, ...: json.loads decides
    else:
        if not _needs_stdlib_loads(raw, result):
            return result
    return json.loads(text)


def loads_bytes(data: bytes | bytearray | memoryview) -> Any:
    """``json.loads(bytes(data).decode("utf-8"))``."""
    try:
        result = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass  # invalid UTF-8 (-> UnicodeDecodeError below), invalid JSON, non-contiguous views, ...
    else:
        raw = data.tobytes() if isinstance(data, memoryview) else data
        if not _needs_stdlib_loads(raw, result):
            return result
    return json.loads(bytes(data).decode("utf-8"))


def _orjson_dumps(obj: Any) -> bytes | None:
    """orjson's encoding of ``obj``, or None when it may differ from Starlette's."""
    try:
        out = orjson.dumps(obj, option=_DUMPS_OPTIONS)
    except orjson.JSONEncodeError:
        return None  # non-str keys, big ints, surrogates, subclasses, cycles, depth, unsupported types
    if out.find(b"null") >= 0 or (out.find(b"-") >= 0 and _UUID_TAIL.search(out) is not None):
        # NaN/Infinity became null, or a UUID became a string: a faithful encoding parses back equal.
        # (Tuples also fail this check: they are only sent the slow way.)
        if orjson.loads(out) != obj:
            return None
    return out


def dumps_text(obj: Any) -> str:
    """``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``, up to formatting."""
    out = _orjson_dumps(obj)
    if out is None:
        return _ENCODER.encode(obj)
    return out.decode("utf-8")


def dumps_bytes(obj: Any) -> bytes:
    """``json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")``, up to formatting."""
    out = _orjson_dumps(obj)
    if out is None:
        return _ENCODER.encode(obj).encode("utf-8")
    return out
