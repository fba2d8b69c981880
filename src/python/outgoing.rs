//! Validation of what the app sends, before any I/O. Each function raises a clear Python
//! exception for a message a server could mishandle, and returns the value to send (a fresh
//! object where the message needs normalising: lower-cased header names, a truncated reason).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};

use crate::validate::{
    is_denial_status, is_header_value, is_sendable_close_code, is_token, truncate_close_reason,
};

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

fn is_bytes_like(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
        || obj.is_instance_of::<PyMemoryView>()
}

/// A text payload: a `str` that UTF-8 can encode (no lone surrogates).
pub fn text_payload<'py>(data: &Bound<'py, PyAny>, what: &str) -> PyResult<()> {
    let text = data.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("{what} expects a str, got {}", type_name(data)))
    })?;
    // Fails with UnicodeEncodeError on a lone surrogate; caches the UTF-8 form in the str.
    text.to_str()?;
    Ok(())
}

/// A binary payload: `bytes` as is, `bytearray`/`memoryview` copied to `bytes` (servers expect
/// bytes).
pub fn bytes_payload<'py>(data: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyAny>> {
    if data.is_instance_of::<PyBytes>() {
        return Ok(data.clone());
    }
    if data.is_instance_of::<PyByteArray>() || data.is_instance_of::<PyMemoryView>() {
        let copied = data.py().get_type::<PyBytes>().call1((data,))?;
        return Ok(copied);
    }
    Err(PyTypeError::new_err(format!(
        "{what} expects bytes, bytearray or memoryview, got {}",
        type_name(data)
    )))
}

/// A close code an app may send: an `int` (not a `bool`) in 1000-1003, 1007-1014 or 3000-4999.
pub fn close_code(code: &Bound<'_, PyAny>) -> PyResult<i64> {
    if code.is_instance_of::<PyBool>() || !code.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "close code must be an int, got {}",
            type_name(code)
        )));
    }
    let value = code.extract::<i64>().unwrap_or(-1);
    if is_sendable_close_code(value) {
        Ok(value)
    } else {
        Err(PyValueError::new_err(format!(
            "close code {} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)",
            code.repr()?
        )))
    }
}

/// A close reason: `str` or `None` (`""`), cut to 123 UTF-8 bytes at a character boundary.
/// A `list` or `dict` (FastAPI closes with its validation errors as a list) is sent as compact
/// JSON, cut the same way; any other type is a `TypeError`.
pub fn close_reason<'py>(
    py: Python<'py>,
    reason: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(reason) = reason.filter(|r| !r.is_none()) else {
        return Ok(PyString::intern(py, "").into_any());
    };
    let encoded;
    let text = match reason.cast::<PyString>() {
        Ok(text) => text,
        Err(_) if reason.is_instance_of::<PyList>() || reason.is_instance_of::<PyDict>() => {
            encoded = py
                .import("ferrosocket._json")?
                .getattr("dumps_text")?
                .call1((reason,))?;
            encoded.cast::<PyString>()?
        }
        Err(_) => {
            return Err(PyTypeError::new_err(format!(
                "close reason must be a str or None (or a list or dict, sent as JSON), got {}",
                type_name(reason)
            )))
        }
    };
    let full = text.to_str()?;
    let cut = truncate_close_reason(full);
    if cut.len() == full.len() {
        Ok(text.clone().into_any())
    } else {
        Ok(PyString::new(py, cut).into_any())
    }
}

/// `accept(headers=...)` and denial headers: a fresh list of `(bytes, bytes)` with lower-cased
/// token names and values free of CR, LF and NUL.
pub fn header_list<'py>(
    py: Python<'py>,
    headers: Option<&Bound<'py, PyAny>>,
    forbid_protocol: bool,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    let Some(headers) = headers.filter(|h| !h.is_none()) else {
        return Ok(out);
    };
    if headers.is_instance_of::<PyString>()
        || is_bytes_like(headers)
        || headers.is_instance_of::<PyDict>()
    {
        return Err(PyTypeError::new_err(format!(
            "headers must be an iterable of (bytes, bytes) pairs, got {}",
            type_name(headers)
        )));
    }
    for pair in headers.try_iter()? {
        let pair = pair?;
        let bad_pair = || {
            PyTypeError::new_err(format!(
                "each header must be a (bytes, bytes) pair, got {}",
                pair.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        };
        let items: Vec<Bound<'_, PyAny>> =
            if pair.is_instance_of::<PyString>() || is_bytes_like(&pair) {
                return Err(bad_pair());
            } else {
                pair.try_iter()
                    .map_err(|_| bad_pair())?
                    .collect::<PyResult<_>>()
                    .map_err(|_| bad_pair())?
            };
        let [name, value] = items.as_slice() else {
            return Err(bad_pair());
        };
        if !is_bytes_like(name) || !is_bytes_like(value) {
            return Err(bad_pair());
        }
        let name: Vec<u8> = name
            .extract::<Vec<u8>>()
            .or_else(|_| bytes_payload(name, "header")?.extract())?;
        let value = bytes_payload(value, "header")?;
        let value_bytes = value.cast::<PyBytes>()?.as_bytes();
        let name = name.to_ascii_lowercase();
        if !is_token(&name) {
            return Err(PyValueError::new_err(format!(
                "header name {} is not a valid HTTP token",
                PyBytes::new(py, &name).repr()?
            )));
        }
        if !is_header_value(value_bytes) {
            return Err(PyValueError::new_err(format!(
                "header value for {} contains CR, LF or NUL",
                PyBytes::new(py, &name).repr()?
            )));
        }
        if forbid_protocol && name == b"sec-websocket-protocol" {
            return Err(PyValueError::new_err(
                "set the subprotocol with accept(subprotocol=...), not a sec-websocket-protocol header",
            ));
        }
        out.append(PyTuple::new(
            py,
            [PyBytes::new(py, &name).into_any(), value],
        )?)?;
    }
    Ok(out)
}

/// `accept(subprotocol=...)`: `None`, or one of the subprotocols the client offered.
pub fn subprotocol(scope: &Bound<'_, PyAny>, subprotocol: &Bound<'_, PyAny>) -> PyResult<()> {
    if subprotocol.is_none() {
        return Ok(());
    }
    let text = subprotocol.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!(
            "subprotocol must be a str or None, got {}",
            type_name(subprotocol)
        ))
    })?;
    let py = scope.py();
    let offered: Vec<Bound<'_, PyAny>> = match scope.get_item(intern!(py, "subprotocols")) {
        Ok(list) => list.try_iter()?.collect::<PyResult<_>>()?,
        Err(_) => Vec::new(),
    };
    for candidate in &offered {
        if candidate.eq(text)? {
            return Ok(());
        }
    }
    let shown: Vec<String> = offered
        .iter()
        .map(|o| o.repr().map(|r| r.to_string()).unwrap_or_default())
        .collect();
    Err(PyValueError::new_err(format!(
        "subprotocol {} was not offered by the client (offered: [{}])",
        text.repr()?,
        shown.join(", ")
    )))
}

/// A denial response status: an `int` (not `bool`) in 100-599.
pub fn denial_status(status: &Bound<'_, PyAny>) -> PyResult<()> {
    if status.is_instance_of::<PyBool>() || !status.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "denial response status must be an int, got {}",
            type_name(status)
        )));
    }
    let value = status.extract::<i64>().unwrap_or(0);
    if is_denial_status(value) {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "denial response status {} is outside 100-599",
            status.repr()?
        )))
    }
}
