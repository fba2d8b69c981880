//! `receive_json` / `send_json`'s JSON: orjson where its result is the stdlib's, decided before
//! orjson runs, and the stdlib `json` module everywhere else (the policy is in
//! `python/ferrosocket/_json.py`'s docstring; the input scan in [`crate::json_scan`], the walk of
//! `send_json`'s data and the recursion check in [`super::json_exact`]).
//!
//! orjson's functions are looked up once (`super::py_objects`). The fallbacks are `json.loads` and `json.dumps`, looked
//! up at each (rare) use and called as Starlette calls them, so that they raise RecursionError at
//! the same depth.
//!
//! The `pub fn`s are the Rust-level entry points; the `#[pyfunction]`s wrap them for `_core`.

use pyo3::exceptions::PyUnicodeEncodeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyString};

use super::json_exact::{can_recurse, orjson_dumps_depth, stdlib_levels};
use super::py_objects::imported;
use crate::json_scan::{scan_loads_input, ORJSON_LOADS_MAX_DEPTH};

/// `json.loads(text)`, the stdlib's, called as Starlette calls it: from `receive_json`, it
/// recurses exactly as deep before RecursionError.
fn stdlib_loads<'py>(text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = text.py();
    imported(py)?
        .json
        .bind(py)
        .getattr(intern!(py, "loads"))?
        .call1((text,))
}

/// `json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`, Starlette's call.
fn stdlib_dumps<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "separators"), (",", ":"))?;
    kwargs.set_item(intern!(py, "ensure_ascii"), false)?;
    imported(py)?
        .json
        .bind(py)
        .getattr(intern!(py, "dumps"))?
        .call((obj,), Some(&kwargs))
}

/// True when `orjson.loads` of the JSON text `raw` gives `json.loads`'s value, or fails where it
/// fails: no number orjson may round (a run of 19+ digits), a nesting orjson parses and the
/// interpreter could recurse into now (json.loads raises RecursionError where it cannot).
fn orjson_loads_exact(py: Python<'_>, raw: &[u8]) -> bool {
    let scan = scan_loads_input(raw);
    !scan.digit_run
        && scan.depth <= ORJSON_LOADS_MAX_DEPTH
        && can_recurse(py, scan.depth + stdlib_levels(py))
}

/// `orjson.loads(arg)` (`arg` holds the UTF-8 `raw`) when that is `json.loads`'s result; None when
/// the stdlib must decide (orjson failed: lone surrogates, NaN, 1e400, invalid JSON, ...; or it
/// would differ).
fn exact_orjson_loads<'py>(
    arg: &Bound<'py, PyAny>,
    raw: &[u8],
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = arg.py();
    let orjson = &imported(py)?.orjson;
    if !orjson_loads_exact(py, raw) {
        return Ok(None);
    }
    match orjson.loads.bind(py).call1((arg,)) {
        Ok(result) => Ok(Some(result)),
        Err(err) if err.is_instance(py, orjson.decode_error.bind(py)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `json.loads(text)` (for a `str`; anything else goes to `json.loads` as it is).
pub fn loads_text<'py>(text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = text.py();
    let Ok(string) = text.cast::<PyString>() else {
        return stdlib_loads(text);
    };
    let raw = match string.to_str() {
        Ok(utf8) => utf8.as_bytes(),
        // Lone surrogates: json.loads decides.
        Err(err) if err.is_instance_of::<PyUnicodeEncodeError>(py) => {
            return stdlib_loads(text);
        }
        Err(err) => return Err(err),
    };
    let parsed = if string.is_exact_instance_of::<PyString>() {
        exact_orjson_loads(text, raw)?
    } else {
        // orjson only takes an exact str: give it the UTF-8 (`text.encode()`).
        exact_orjson_loads(PyBytes::new(py, raw).as_any(), raw)?
    };
    match parsed {
        Some(result) => Ok(result),
        None => stdlib_loads(text),
    }
}

/// `json.loads(bytes(data).decode("utf-8"))` (orjson first for `bytes`, `bytearray` and
/// `memoryview`; anything else goes straight to that stdlib call).
pub fn loads_bytes<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = data.py();
    let parsed = if let Ok(bytes) = data.cast::<PyBytes>() {
        exact_orjson_loads(data, bytes.as_bytes())?
    } else if let Ok(array) = data.cast::<PyByteArray>() {
        exact_orjson_loads(data, &array.to_vec())?
    } else if data.is_instance_of::<PyMemoryView>() {
        // The bytes of the view, in order (a released view fails here, as bytes(data) below).
        match data.call_method0(intern!(py, "tobytes")) {
            Ok(raw) => {
                let raw = raw.cast_into::<PyBytes>()?;
                exact_orjson_loads(raw.as_any(), raw.as_bytes())?
            }
            Err(_) => None,
        }
    } else {
        None
    };
    if let Some(result) = parsed {
        return Ok(result);
    }
    // Invalid UTF-8 (-> UnicodeDecodeError), invalid JSON, non-contiguous views, ...
    let bytes = py.get_type::<PyBytes>().call1((data,))?;
    let text = bytes.call_method1(intern!(py, "decode"), (intern!(py, "utf-8"),))?;
    stdlib_loads(&text)
}

/// orjson's encoding of `obj`, or None when it may differ from Starlette's (the stdlib's).
fn orjson_dumps<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let py = obj.py();
    let orjson = &imported(py)?.orjson;
    let Some(depth) = orjson_dumps_depth(obj) else {
        return Ok(None);
    };
    if !can_recurse(py, depth + stdlib_levels(py)) {
        return Ok(None);
    }
    match orjson.dumps.bind(py).call1((obj,)) {
        Ok(out) => Ok(Some(out.cast_into::<PyBytes>()?)),
        // Ints beyond 64 bits, lone surrogates: the stdlib writes or refuses them its own way.
        Err(err) if err.is_instance(py, orjson.encode_error.bind(py)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`, up to formatting: a `str`.
pub fn dumps_text<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    match orjson_dumps(obj)? {
        // == out.decode("utf-8") (the same strict UTF-8 decoder).
        Some(out) => Ok(PyString::from_bytes(obj.py(), out.as_bytes())?.into_any()),
        None => stdlib_dumps(obj),
    }
}

/// `dumps_text`, checked as a text frame's payload (no lone surrogate, as `send_text` checks):
/// orjson's output is valid UTF-8 by construction, so only the stdlib's needs the check.
pub fn dumps_text_frame<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    match orjson_dumps(obj)? {
        Some(out) => Ok(PyString::from_bytes(obj.py(), out.as_bytes())?.into_any()),
        None => {
            let text = stdlib_dumps(obj)?;
            super::outgoing::text_payload(&text, "send_json()")?;
            Ok(text)
        }
    }
}

/// `json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")`, up to
/// formatting: `bytes`.
pub fn dumps_bytes<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    match orjson_dumps(obj)? {
        Some(out) => Ok(out.into_any()),
        None => {
            let py = obj.py();
            stdlib_dumps(obj)?.call_method1(intern!(py, "encode"), (intern!(py, "utf-8"),))
        }
    }
}

/// ``json.loads(text)``.
#[pyfunction(name = "loads_text")]
pub fn py_loads_text<'py>(text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    loads_text(text)
}

/// ``json.loads(bytes(data).decode("utf-8"))``.
#[pyfunction(name = "loads_bytes")]
pub fn py_loads_bytes<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    loads_bytes(data)
}

/// ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``, up to formatting.
#[pyfunction(name = "dumps_text")]
pub fn py_dumps_text<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    dumps_text(obj)
}

/// ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")``, up to
/// formatting.
#[pyfunction(name = "dumps_bytes")]
pub fn py_dumps_bytes<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    dumps_bytes(obj)
}
