//! One helper for each recurring PyO3 chore: reading a key from a message or a scope, naming a
//! type in an error, telling bytes-like objects apart, unpacking a pair, subscripting a class.

use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyString, PyTuple, PyType};

use super::py_objects::imported;

/// `mapping[key]`, or `None` when the key is missing (`KeyError`). A plain `dict` is read
/// directly; anything else, dict subclasses included, through its own `__getitem__`, so an
/// override is called as Python would call it.
pub fn get_item<'py>(
    mapping: &Bound<'py, PyAny>,
    key: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    if let Ok(dict) = mapping.cast_exact::<PyDict>() {
        return dict.get_item(key);
    }
    match mapping.get_item(key) {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.is_instance_of::<PyKeyError>(mapping.py()) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `mapping.get(key, default)`, as Starlette reads the scope: a plain `dict` directly, anything
/// else (a `Mapping`, a dict subclass with its own `get`) through its `get` method.
pub fn get_or<'py>(
    mapping: &Bound<'py, PyAny>,
    key: &Bound<'py, PyString>,
    default: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(dict) = mapping.cast_exact::<PyDict>() {
        return Ok(dict.get_item(key)?.unwrap_or(default));
    }
    mapping.call_method1(intern!(mapping.py(), "get"), (key, default))
}

/// The name of `obj`'s type, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// `repr(obj)`, or `"<unrepresentable>"` when `__repr__` raises (for error messages).
pub fn safe_repr(obj: &Bound<'_, PyAny>) -> String {
    obj.repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unrepresentable>".to_owned())
}

/// `bytes`, `bytearray` or `memoryview` (or a subclass).
pub fn is_bytes_like(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
        || obj.is_instance_of::<PyMemoryView>()
}

/// `a, b = obj` for any iterable, with Python's own errors.
pub fn unpack_pair<'py>(
    obj: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if let Ok(tuple) = obj.cast_exact::<PyTuple>() {
        if tuple.len() == 2 {
            return Ok((tuple.get_item(0)?, tuple.get_item(1)?));
        }
    }
    let mut items = obj.try_iter().map_err(|err| {
        if is_iterable(obj) {
            err // its own `__iter__` raised: Python lets that through
        } else {
            PyTypeError::new_err(format!(
                "cannot unpack non-iterable {} object",
                type_name(obj)
            ))
        }
    })?;
    let first = items.next().transpose()?;
    let second = items.next().transpose()?;
    match (first, second) {
        (Some(a), Some(b)) => {
            if items.next().transpose()?.is_some() {
                return Err(PyValueError::new_err(
                    "too many values to unpack (expected 2)",
                ));
            }
            Ok((a, b))
        }
        (first, _) => Err(PyValueError::new_err(format!(
            "not enough values to unpack (expected 2, got {})",
            usize::from(first.is_some())
        ))),
    }
}

/// `cls[item]` for a class that is generic in Starlette (a `Mapping`): `types.GenericAlias`.
pub fn generic_alias<'py>(
    cls: &Bound<'py, PyType>,
    item: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    imported(cls.py())?
        .generic_alias
        .bind(cls.py())
        .call1((cls, item))
}

/// Whether `iter(obj)` has a protocol to call (`__iter__`, or the sequence protocol): what the
/// interpreter checks before its "non-iterable" errors.
pub fn is_iterable(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: the GIL is held (`obj` is bound); reads the type's slot and asks the sequence
    // protocol, neither of which runs Python code.
    #[allow(unsafe_code)]
    unsafe {
        (*pyo3::ffi::Py_TYPE(obj.as_ptr())).tp_iter.is_some()
            || pyo3::ffi::PySequence_Check(obj.as_ptr()) != 0
    }
}
