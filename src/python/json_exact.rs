//! When orjson's result is the stdlib `json` module's, decided before orjson runs:
//!
//! * [`orjson_dumps_depth`]: one walk of `send_json`'s data. orjson writes the same JSON value
//!   as `json.dumps` for the exact builtin types (`dict` with `str` keys, `list`, `tuple`, `str`,
//!   `int`, finite `float`, `bool`, `None`) nested at most [`ORJSON_DUMPS_MAX_DEPTH`] deep; for
//!   anything else (subclasses, enums, UUIDs, dataclasses, datetimes, NaN, non-str keys, ...) it
//!   writes something else or `json.dumps` raises. What the walk cannot see costs orjson an
//!   exception: ints beyond 64 bits and lone surrogates.
//! * [`can_recurse`]: whether the interpreter can still enter a nesting that deep, as the
//!   stdlib's C encoder and decoder do per array or object (`Py_EnterRecursiveCall`), so that
//!   orjson is only used where `json.dumps`/`json.loads` would not raise `RecursionError`.

use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// `orjson.dumps` writes arrays and objects nested this deep and fails beyond ("Recursion limit
/// reached"); the walk stops there too, which also bounds its own recursion (and ends cycles).
pub const ORJSON_DUMPS_MAX_DEPTH: usize = 254;

/// The recursion levels the stdlib takes beyond the nesting itself, counted from inside a
/// builtin called by Python code (as ours are called where Starlette's `send_json`/
/// `receive_json` call `json.dumps`/`json.loads`); the call of a builtin takes none. On 3.11,
/// where every Python frame takes a level: the frames of `json.dumps`, `JSONEncoder.encode` and
/// `iterencode` (`json.loads`, `JSONDecoder.decode`, `raw_decode`) and the call of the C encoder
/// (scanner), 4. On 3.12+, where only calls through C do: the call of the C encoder, 1.
/// (Measured at the limit by `tests/test_json_compat.py` on 3.11, 3.12 and 3.13.)
pub fn stdlib_levels(py: Python<'_>) -> usize {
    static LEVELS: OnceLock<usize> = OnceLock::new();
    *LEVELS.get_or_init(|| if py.version_info() >= (3, 12) { 1 } else { 4 })
}

/// The nesting depth of `obj` (0 for a scalar) when `orjson.dumps(obj)` writes the value
/// `json.dumps(obj, separators=(",", ":"), ensure_ascii=False)` writes, or may fail where it
/// fails (ints beyond 64 bits, lone surrogates); None when it may write something else.
///
/// Reads the containers' items without running any Python code (exact types only).
pub fn orjson_dumps_depth(obj: &Bound<'_, PyAny>) -> Option<usize> {
    let mut deepest = 0;
    walk(obj, 0, &mut deepest).then_some(deepest)
}

/// `obj` lies at nesting `depth`; `deepest` collects the deepest container's.
fn walk(obj: &Bound<'_, PyAny>, depth: usize, deepest: &mut usize) -> bool {
    // The common scalars first: a type pointer comparison each.
    if obj.is_exact_instance_of::<PyString>()
        || obj.is_exact_instance_of::<PyInt>()
        || obj.is_none()
        || obj.is_exact_instance_of::<PyBool>()
    {
        return true;
    }
    if let Ok(float) = obj.cast_exact::<PyFloat>() {
        // orjson writes NaN and the infinities as null; json.dumps as NaN, Infinity, -Infinity.
        return float.value().is_finite();
    }
    let depth = depth + 1;
    if let Ok(dict) = obj.cast_exact::<PyDict>() {
        if !enter(depth, deepest) {
            return false;
        }
        // orjson refuses other keys; json.dumps turns int, float, bool and None keys into strings.
        return dict.iter().all(|(key, value)| {
            key.is_exact_instance_of::<PyString>() && walk(&value, depth, deepest)
        });
    }
    if let Ok(list) = obj.cast_exact::<PyList>() {
        return enter(depth, deepest) && list.iter().all(|item| walk(&item, depth, deepest));
    }
    if let Ok(tuple) = obj.cast_exact::<PyTuple>() {
        // Both write a tuple as an array.
        return enter(depth, deepest) && tuple.iter().all(|item| walk(&item, depth, deepest));
    }
    false
}

/// A container at nesting `depth`: within orjson's limit? Records the deepest.
fn enter(depth: usize, deepest: &mut usize) -> bool {
    *deepest = (*deepest).max(depth);
    depth <= ORJSON_DUMPS_MAX_DEPTH
}

/// True when `levels` more recursion levels can be entered now (`Py_EnterRecursiveCall`, the
/// check the stdlib's C encoder and decoder make per level, against the same counter: the
/// Python recursion limit on 3.11, the C recursion limit on 3.12+); false after clearing the
/// `RecursionError` that the first level too many raises.
#[allow(unsafe_code)]
pub fn can_recurse(py: Python<'_>, levels: usize) -> bool {
    let mut entered = 0;
    while entered < levels {
        // SAFETY: the GIL is held (`py`); the argument is a NUL-terminated static string. On
        // failure the call raised RecursionError and did not count the level.
        if unsafe { ffi::Py_EnterRecursiveCall(c"".as_ptr()) } != 0 {
            break;
        }
        entered += 1;
    }
    for _ in 0..entered {
        // SAFETY: the GIL is held; one leave for each successful enter above.
        unsafe { ffi::Py_LeaveRecursiveCall() };
    }
    if entered < levels {
        drop(PyErr::take(py));
        return false;
    }
    true
}
