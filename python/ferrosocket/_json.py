"""JSON for ``receive_json`` / ``send_json``: orjson where its result is the stdlib's.

Starlette is the reference: ``json.loads(text)`` on receive, and
``json.dumps(data, separators=(",", ":"), ensure_ascii=False)`` on send.

The four functions are implemented in Rust (``ferrosocket._core``: ``src/python/json.rs``, with
the input scan in ``src/json_scan.rs`` and the walk of the data in ``src/python/json_exact.rs``)
and re-exported here. Their fallbacks are ``json.loads(text)`` and
``json.dumps(data, separators=(",", ":"), ensure_ascii=False)``, called as Starlette calls them.

Policy: each call decides *before* running orjson whether orjson's result is the stdlib's
(the same value, or a failure where the stdlib fails too); when it is not, or when orjson then
fails, the stdlib produces the result, so values, exceptions and messages are the stdlib's.

* loads: one pass over the input, skipping strings. orjson turns integers beyond 64 bits into
  floats, so a run of 19+ digits outside strings goes to the stdlib; so does a nesting deeper
  than orjson parses (1024) or than the interpreter can recurse into at this point
  (``Py_EnterRecursiveCall``, the stdlib decoder's own check: ``sys.getrecursionlimit()`` on
  3.11, the C recursion limit on 3.12+), where ``json.loads`` raises ``RecursionError``. orjson
  refuses NaN, Infinity, 1e400 and lone-surrogate escapes, which the stdlib then parses.
* dumps: one walk of the data. orjson writes ``json.dumps``' value for the exact builtin types:
  ``dict`` with ``str`` keys, ``list``, ``tuple``, ``str``, ``int``, finite ``float``, ``bool``
  and ``None``, nested at most 64 deep (orjson writes up to 254 levels, but corrupts the heap on
  some data nested deeper than 64: found from 118 levels with orjson 3.11) and no deeper than
  the interpreter can recurse now. Anything else goes to the stdlib: NaN and the infinities
  (orjson would write ``null``), subclasses of builtins (including ``IntEnum``/``StrEnum`` and
  named tuples), other key types, and the types orjson serialises natively but ``json.dumps``
  refuses (``uuid.UUID``, dataclasses, datetimes, enums, numpy, ``orjson.Fragment``), cycles.
  What the walk does not look at, orjson refuses: integers beyond 64 bits and lone surrogates.

The result is the stdlib's value; the text may spell a float differently (``1e-7`` for
``1e-07``). Arguments of other types go straight to the stdlib call: ``loads_text`` of a
non-``str`` is ``json.loads(text)``; ``loads_bytes`` of anything but
``bytes``/``bytearray``/``memoryview`` is ``json.loads(bytes(data).decode("utf-8"))``.
"""

from __future__ import annotations

# The Rust functions import it: a missing orjson fails here, at import.
import orjson  # noqa: F401  # pyright: ignore[reportUnusedImport]

from ferrosocket._core import dumps_bytes, dumps_text, loads_bytes, loads_text

__all__ = ["dumps_bytes", "dumps_text", "loads_bytes", "loads_text"]
