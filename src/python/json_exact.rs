//! When orjson's result is the stdlib `json` module's, decided before orjson runs:
//!
//! * [`orjson_dumps_depth`]: one walk of `send_json`'s data. orjson writes the same JSON value
//!   as `json.dumps` for the exact builtin types (`dict` with `str` keys, `list`, `tuple`, `str`,
//!   `int`, finite `float`, `bool`, `None`) nested at most [`ORJSON_DUMPS_MAX_DEPTH`] deep; for
//!   anything else (subclasses, enums, UUIDs, dataclasses, datetimes, NaN, non-str keys, ...) it
//!   writes something else or `json.dumps` raises. What the walk cannot see costs orjson an
//!   exception: ints beyond 64 bits and lone surrogates. (The walk is the module's one unsafe
//!   part: borrowed pointers, as it runs no Python code.)
//! * [`can_recurse`]: whether the interpreter can still enter a nesting that deep, as the
//!   stdlib's C encoder and decoder do per array or object (`Py_EnterRecursiveCall`), so that
//!   orjson is only used where `json.dumps`/`json.loads` would not raise `RecursionError`.

use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;

use super::dict_entries::{entries, Entries};

/// The deepest nesting handed to `orjson.dumps`; deeper data goes to `json.dumps`. orjson
/// itself writes up to 254 levels, but corrupts the heap on some data nested deeper than this
/// (glibc aborts; found from 118 levels with orjson 3.10.18 to 3.11.9, and below 64 with 3.12
/// and 3.13: tests/test_json_compat.py keeps the shapes). The walk stops here too, which also
/// bounds its own recursion (and ends cycles).
pub const ORJSON_DUMPS_MAX_DEPTH: usize = 64;

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
pub fn orjson_dumps_depth(obj: &Bound<'_, PyAny>) -> Option<usize> {
    let mut deepest = 0;
    // SAFETY: `obj` is a live object and the GIL is held (`Bound`); see `walk`.
    #[allow(unsafe_code)]
    let exact = unsafe { walk(obj.as_ptr(), 0, &mut deepest) };
    exact.then_some(deepest)
}

/// `obj` lies at nesting `depth`; `deepest` collects the deepest container's.
///
/// On the hot path of `send_json`: borrowed pointers and type pointer comparisons, no reference
/// counting (measured 3-7% faster `dumps_text` than PyO3's owned iteration). The scalars of a
/// container are checked in its loop, not by a call each: reading each item's type is what the
/// walk waits on (a cache miss per object), and a loop without calls lets the CPU overlap those
/// reads.
///
/// # Safety
/// The GIL is held and `obj` is alive. The walk reads exact builtin containers only, with no
/// call that could run Python code (no allocation, no `__eq__`/`__hash__`, no finaliser), so no
/// container changes under it and every borrowed item stays alive (the GIL-holding builds only:
/// a free-threaded build would need the containers' critical sections).
#[allow(unsafe_code)]
#[inline(always)]
unsafe fn walk(obj: *mut ffi::PyObject, depth: usize, deepest: &mut usize) -> bool {
    let ty = ffi::Py_TYPE(obj);
    exact_scalar(obj, ty) || walk_container(obj, ty, depth, deepest)
}

/// True for the scalars orjson writes as `json.dumps` does: exact `str`, `int`, `bool`, `None`
/// and finite `float` (orjson writes NaN and the infinities as null; json.dumps as NaN,
/// Infinity, -Infinity).
///
/// # Safety
/// As [`walk`]; `ty` is `obj`'s type.
#[allow(unsafe_code)]
#[inline(always)]
unsafe fn exact_scalar(obj: *mut ffi::PyObject, ty: *mut ffi::PyTypeObject) -> bool {
    ty == &raw mut ffi::PyUnicode_Type
        || ty == &raw mut ffi::PyLong_Type
        || obj == ffi::Py_None()
        || ty == &raw mut ffi::PyBool_Type
        || (ty == &raw mut ffi::PyFloat_Type && ffi::PyFloat_AS_DOUBLE(obj).is_finite())
}

/// [`walk`] for what is not an exact scalar: an exact `dict` with `str` keys, `list` or `tuple`
/// (both write a tuple as an array) whose items all pass; anything else fails.
///
/// # Safety
/// As [`walk`]; `ty` is `obj`'s type.
#[allow(unsafe_code)]
unsafe fn walk_container(
    obj: *mut ffi::PyObject,
    ty: *mut ffi::PyTypeObject,
    depth: usize,
    deepest: &mut usize,
) -> bool {
    let depth = depth + 1;
    if ty == &raw mut ffi::PyDict_Type {
        if !enter(depth, deepest) {
            return false;
        }
        // orjson refuses keys other than str; json.dumps turns int, float, bool and None keys
        // into strings. Read directly where proven (deleted items have a NULL value); else
        // PyDict_Next. A table of str keys holds exact str only (CPython turns it into a table
        // of any keys at the first other key): no key check there.
        let str_key = |key: *mut ffi::PyObject| ffi::Py_TYPE(key) == &raw mut ffi::PyUnicode_Type;
        return match entries(obj) {
            Some(Entries::StrKeys(entries)) => entries
                .iter()
                .all(|entry| entry.value.is_null() || walk(entry.value, depth, deepest)),
            Some(Entries::AnyKeys(entries)) => entries.iter().all(|entry| {
                entry.value.is_null() || (str_key(entry.key) && walk(entry.value, depth, deepest))
            }),
            None => {
                let (mut pos, mut key, mut value) = (0, std::ptr::null_mut(), std::ptr::null_mut());
                while ffi::PyDict_Next(obj, &mut pos, &mut key, &mut value) != 0 {
                    if !str_key(key) || !walk(value, depth, deepest) {
                        return false;
                    }
                }
                true
            }
        };
    }
    if ty == &raw mut ffi::PyList_Type {
        return enter(depth, deepest)
            && (0..ffi::PyList_GET_SIZE(obj))
                .all(|i| walk(ffi::PyList_GET_ITEM(obj, i), depth, deepest));
    }
    if ty == &raw mut ffi::PyTuple_Type {
        return enter(depth, deepest)
            && (0..ffi::PyTuple_GET_SIZE(obj))
                .all(|i| walk(ffi::PyTuple_GET_ITEM(obj, i), depth, deepest));
    }
    false
}

/// A container at nesting `depth`: within the depth handed to orjson? Records the deepest.
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
