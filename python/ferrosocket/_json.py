"""JSON for ``receive_json`` / ``send_json``: orjson fast paths, stdlib-exact fallbacks.

Starlette is the reference: ``json.loads(text)`` on receive, and
``json.dumps(data, separators=(",", ":"), ensure_ascii=False)`` on send.

The four functions are implemented in Rust (``ferrosocket._core``: ``src/python/json.rs``, the
byte scans in ``src/json_scan.rs``) and re-exported here; the stdlib fallbacks they call stay
here (``_ENCODER``, ``_enum_value``) and in the ``json`` module.

Policy: every call tries orjson first.  Whenever orjson fails, or its result could differ
from the stdlib's, the call is redone with the stdlib ``json`` module, so values, exceptions
and messages are the stdlib's.  The "could differ" checks are cheap scans:

* loads: orjson turns integers beyond 64 bits into floats, so any input with a run of 19+
  ASCII digits is parsed by ``json.loads``; results that may be nested deeper than orjson's
  encoder limit (254: input of more than 508 bytes holding more than 254 ``[``/``{`` bytes,
  then measured by ``orjson.dumps``) are also parsed by ``json.loads``, which raises
  ``RecursionError`` where the stdlib does.
* dumps: orjson writes ``null`` for NaN/Infinity and serialises ``uuid.UUID``, which Starlette
  writes as ``NaN``/``Infinity``/``-Infinity`` and rejects.  Output holding ``null`` or a
  UUID-shaped string (``-xxxx-xxxx-xxxx-xxxxxxxxxxxx"``, lower-case hex) is parsed back and
  compared with the input; on any difference the stdlib encoder produces the result (so NaN
  gives ``NaN``, a UUID gives the stdlib ``TypeError``). Dataclasses, datetimes and subclasses
  of builtins are passed through to the stdlib (``OPT_PASSTHROUGH_DATACLASS | _DATETIME |
  _SUBCLASS``).

Arguments of other types go straight to the stdlib call: ``loads_text`` of a non-``str``
is ``json.loads(text)``; ``loads_bytes`` of anything but ``bytes``/``bytearray``/``memoryview``
is ``json.loads(bytes(data).decode("utf-8"))``.

Known deviation (not detectable without walking every payload): members of plain ``enum.Enum``
(not ``IntEnum``/``StrEnum``) are written as their value, on both paths, where Starlette raises
``TypeError``; ``orjson.Fragment`` is written as its content on the fast path.
"""

from __future__ import annotations

import enum
import json
from typing import Any, Final

# The Rust functions import it: a missing orjson fails here, at import.
import orjson  # noqa: F401  # pyright: ignore[reportUnusedImport]

from ferrosocket._core import dumps_bytes, dumps_text, loads_bytes, loads_text

__all__ = ["dumps_bytes", "dumps_text", "loads_bytes", "loads_text"]


def _enum_value(obj: Any) -> Any:
    """The stdlib encoder's ``default``: plain Enum members as their value (what orjson writes on
    the fast path), so a payload is encoded the same way whichever path it takes; anything else
    raises the stdlib's own ``TypeError``."""
    if isinstance(obj, enum.Enum):
        return obj.value
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


# == Starlette's json.dumps, but for plain Enum members (see the module docstring). The Rust
# dumps_text/dumps_bytes call its encode() when orjson's output is not used.
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_enum_value)
