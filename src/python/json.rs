//! `receive_json` / `send_json`'s JSON: orjson fast paths with stdlib-exact fallbacks (the
//! policy is in `python/ferrosocket/_json.py`'s docstring; the scans in [`crate::json_scan`]).
//!
//! orjson's functions are looked up once. The fallbacks stay in Python and are looked up at each
//! (rare) use, as the Python code did: `json.loads` in the stdlib `json` module, and the
//! `_ENCODER` of `ferrosocket._json` (imported lazily, so the functions also work from Rust
//! before the package has finished importing).
//!
//! The `pub fn`s are the Rust-level entry points; the `#[pyfunction]`s wrap them for `_core`.

use pyo3::exceptions::PyUnicodeEncodeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString, PyType};

use crate::json_scan::{dumps_may_differ, loads_check, LoadsCheck};

/// orjson's functions, exceptions and `send_json`'s options.
struct Orjson {
    loads: Py<PyAny>,
    dumps: Py<PyAny>,
    decode_error: Py<PyType>,
    encode_error: Py<PyType>,
    /// `OPT_PASSTHROUGH_DATACLASS | OPT_PASSTHROUGH_DATETIME | OPT_PASSTHROUGH_SUBCLASS`:
    /// dataclasses, datetimes and subclasses of builtins go to the stdlib encoder.
    dumps_options: Py<PyAny>,
}

static ORJSON: PyOnceLock<Orjson> = PyOnceLock::new();
static STDLIB_JSON: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static FERROSOCKET_JSON: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn orjson(py: Python<'_>) -> PyResult<&Orjson> {
    ORJSON.get_or_try_init(py, || {
        let module = py.import("orjson")?;
        let option = |name: &str| -> PyResult<u64> { module.getattr(name)?.extract() };
        let options = option("OPT_PASSTHROUGH_DATACLASS")?
            | option("OPT_PASSTHROUGH_DATETIME")?
            | option("OPT_PASSTHROUGH_SUBCLASS")?;
        Ok(Orjson {
            loads: module.getattr("loads")?.unbind(),
            dumps: module.getattr("dumps")?.unbind(),
            decode_error: module.getattr("JSONDecodeError")?.cast_into()?.unbind(),
            encode_error: module.getattr("JSONEncodeError")?.cast_into()?.unbind(),
            dumps_options: options.into_pyobject(py)?.into_any().unbind(),
        })
    })
}

fn module<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyModule>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyModule>> {
    cell.get_or_try_init(py, || Ok::<_, PyErr>(py.import(name)?.unbind()))
        .map(|m| m.bind(py))
}

/// `json.loads(text)`, the stdlib's.
fn stdlib_loads<'py>(text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = text.py();
    module(py, &STDLIB_JSON, "json")?
        .getattr(intern!(py, "loads"))?
        .call1((text,))
}

/// `ferrosocket._json._ENCODER.encode(obj)`: Starlette's `json.dumps`, but for plain Enum members.
fn stdlib_dumps<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    module(py, &FERROSOCKET_JSON, "ferrosocket._json")?
        .getattr(intern!(py, "_ENCODER"))?
        .call_method1(intern!(py, "encode"), (obj,))
}

/// True when orjson's `result` for `raw` may differ from `json.loads`'s.
fn needs_stdlib_loads(orjson: &Orjson, raw: &[u8], result: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = result.py();
    match loads_check(raw) {
        LoadsCheck::Exact => Ok(false),
        LoadsCheck::DigitRun => Ok(true),
        // Possibly nested deeper than json.loads may recurse: orjson's encoder measures it.
        LoadsCheck::MaybeDeep => match orjson.dumps.bind(py).call1((result,)) {
            Ok(_) => Ok(false),
            Err(err) if err.is_instance(py, orjson.encode_error.bind(py)) => Ok(true),
            Err(err) => Err(err),
        },
    }
}

/// `orjson.loads(arg)`, or None when it fails.
fn try_orjson_loads<'py>(
    orjson: &Orjson,
    arg: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = arg.py();
    match orjson.loads.bind(py).call1((arg,)) {
        Ok(result) => Ok(Some(result)),
        Err(err) if err.is_instance(py, orjson.decode_error.bind(py)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `orjson.loads(arg)` when it is `json.loads`'s result for `raw` (the bytes of `arg`), else
/// None (orjson failed: lone surrogates, NaN, 1e400, invalid JSON, ...; or it may differ).
fn exact_orjson_loads<'py>(
    orjson: &Orjson,
    arg: &Bound<'py, PyAny>,
    raw: &[u8],
) -> PyResult<Option<Bound<'py, PyAny>>> {
    match try_orjson_loads(orjson, arg)? {
        Some(result) if !needs_stdlib_loads(orjson, raw, &result)? => Ok(Some(result)),
        _ => Ok(None),
    }
}

/// `json.loads(text)` (for a `str`; anything else goes to `json.loads` as it is).
pub fn loads_text<'py>(text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = text.py();
    if let Ok(string) = text.cast::<PyString>() {
        match string.to_str() {
            Ok(utf8) => {
                let orjson = orjson(py)?;
                let raw = utf8.as_bytes();
                let parsed = if string.is_exact_instance_of::<PyString>() {
                    exact_orjson_loads(orjson, text, raw)?
                } else {
                    // orjson only takes an exact str: give it the UTF-8 (`text.encode()`).
                    exact_orjson_loads(orjson, PyBytes::new(py, raw).as_any(), raw)?
                };
                if let Some(result) = parsed {
                    return Ok(result);
                }
            }
            // Lone surrogates: json.loads decides.
            Err(err) if err.is_instance_of::<PyUnicodeEncodeError>(py) => {}
            Err(err) => return Err(err),
        }
    }
    stdlib_loads(text)
}

/// `json.loads(bytes(data).decode("utf-8"))` (orjson first for `bytes`, `bytearray` and
/// `memoryview`; anything else goes straight to that stdlib call).
pub fn loads_bytes<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = data.py();
    let parsed = if let Ok(bytes) = data.cast::<PyBytes>() {
        exact_orjson_loads(orjson(py)?, data, bytes.as_bytes())?
    } else if let Ok(array) = data.cast::<PyByteArray>() {
        let orjson = orjson(py)?;
        match try_orjson_loads(orjson, data)? {
            Some(result) if !needs_stdlib_loads(orjson, &array.to_vec(), &result)? => Some(result),
            _ => None,
        }
    } else if data.is_instance_of::<PyMemoryView>() {
        let orjson = orjson(py)?;
        match try_orjson_loads(orjson, data)? {
            Some(result) => {
                let raw = data.call_method0(intern!(py, "tobytes"))?;
                let raw = raw.cast_into::<PyBytes>()?;
                (!needs_stdlib_loads(orjson, raw.as_bytes(), &result)?).then_some(result)
            }
            None => None,
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

/// orjson's encoding of `obj`, or None when it may differ from Starlette's.
fn orjson_dumps<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let py = obj.py();
    let orjson = orjson(py)?;
    let dumps = orjson.dumps.bind(py);
    let out = match dumps.call1((obj, py.None(), orjson.dumps_options.bind(py))) {
        Ok(out) => out.cast_into::<PyBytes>()?,
        // Non-str keys, big ints, surrogates, subclasses, cycles, depth, unsupported types.
        Err(err) if err.is_instance(py, orjson.encode_error.bind(py)) => return Ok(None),
        Err(err) => return Err(err),
    };
    // NaN/Infinity became null, or a UUID became a string: a faithful encoding parses back
    // equal. (Tuples also fail this check: they are only sent the slow way.)
    if dumps_may_differ(out.as_bytes()) && orjson.loads.bind(py).call1((&out,))?.ne(obj)? {
        return Ok(None);
    }
    Ok(Some(out))
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
