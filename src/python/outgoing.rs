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

use super::json::dumps_text;
use super::tools::{get_item, is_bytes_like, safe_repr, type_name};

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

/// Where a close goes: before `accept()` the server answers HTTP 403 and the code never reaches
/// the wire; after it, the code is sent in a close frame.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CloseGoes {
    BeforeAccept,
    OnTheWire,
}

/// A close code an app may send: an `int` (not a `bool`); on the wire, in 1000-1003, 1007-1014 or
/// 3000-4999 (apps close before accept with HTTP-like codes such as 403: those go through).
pub fn close_code(code: &Bound<'_, PyAny>, goes: CloseGoes) -> PyResult<()> {
    match goes {
        CloseGoes::BeforeAccept => strict_int(code, "close code").map(drop),
        CloseGoes::OnTheWire => int_in_range(
            code,
            "close code",
            is_sendable_close_code,
            "cannot be sent: use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)",
        ),
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
            encoded = dumps_text(reason)?;
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
                safe_repr(&pair)
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
    let shown: Vec<String> = offered.iter().map(safe_repr).collect();
    Err(PyValueError::new_err(format!(
        "subprotocol {} was not offered by the client (offered: [{}])",
        text.repr()?,
        shown.join(", ")
    )))
}

/// The value of the `int` argument `value` (None beyond 64 bits, where no range here reaches);
/// a `TypeError` naming `what` for any other type, `bool` included.
fn strict_int(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<i64>> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, got {}",
            type_name(value)
        )));
    }
    Ok(value.extract::<i64>().ok())
}

/// `strict_int(value, what)` within the range `in_range` accepts; else a `ValueError`:
/// "{what} {value!r} {outside}".
fn int_in_range(
    value: &Bound<'_, PyAny>,
    what: &str,
    in_range: fn(i64) -> bool,
    outside: &str,
) -> PyResult<()> {
    if strict_int(value, what)?.is_some_and(in_range) {
        return Ok(());
    }
    Err(PyValueError::new_err(format!(
        "{what} {} {outside}",
        value.repr()?
    )))
}

/// A denial response status: an `int` (not `bool`) in 100-599.
pub fn denial_status(status: &Bound<'_, PyAny>) -> PyResult<()> {
    int_in_range(
        status,
        "denial response status",
        is_denial_status,
        "is outside 100-599",
    )
}

// --- Whole messages: what `send()` hands the server, checked and normalised. ---

/// `{"type": "websocket.send", key: payload}`: the message of `send_text`/`send_bytes`/`send_json`.
pub fn data_message<'py>(
    key: &Bound<'py, PyString>,
    payload: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    new_message(
        intern!(key.py(), "websocket.send"),
        [(key, payload.clone())],
    )
}

/// A new ASGI message: `{"type": kind, **dict(fields)}`.
fn new_message<'py, const N: usize>(
    kind: &Bound<'py, PyString>,
    fields: [(&Bound<'py, PyString>, Bound<'py, PyAny>); N],
) -> PyResult<Bound<'py, PyDict>> {
    let message = PyDict::new(kind.py());
    message.set_item(intern!(kind.py(), "type"), kind)?;
    for (key, value) in fields {
        message.set_item(key, value)?;
    }
    Ok(message)
}

/// `websocket.send`: exactly one payload, `text` a str or `bytes` bytes-like. A `bytearray` or
/// `memoryview` payload is sent as a fresh message carrying `bytes`.
pub fn send_message<'py>(message: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = message.py();
    let text = get_item(message, intern!(py, "text"))?.filter(|v| !v.is_none());
    let bytes = get_item(message, intern!(py, "bytes"))?.filter(|v| !v.is_none());
    match (text, bytes) {
        (Some(text), None) => {
            text_payload(&text, "a websocket.send message's 'text'")?;
            Ok(message.clone())
        }
        (None, Some(bytes)) => {
            let payload = bytes_payload(&bytes, "a websocket.send message's 'bytes'")?;
            if payload.is(&bytes) {
                return Ok(message.clone());
            }
            Ok(data_message(intern!(py, "bytes"), &payload)?.into_any())
        }
        _ => Err(PyValueError::new_err(
            "a websocket.send message must carry exactly one payload: 'text' (str) or 'bytes' (bytes-like)",
        )),
    }
}

/// `websocket.close`: a code (default 1000; see [`close_code`]) and a str reason of at most 123
/// bytes.
pub fn close_message<'py>(
    message: &Bound<'py, PyAny>,
    goes: CloseGoes,
) -> PyResult<Bound<'py, PyAny>> {
    let py = message.py();
    let code = get_item(message, intern!(py, "code"))?;
    if let Some(code) = &code {
        close_code(code, goes)?;
    }
    let reason = get_item(message, intern!(py, "reason"))?;
    let checked = close_reason(py, reason.as_ref())?;
    if code.is_some() && reason.as_ref().is_some_and(|r| r.is(&checked)) {
        return Ok(message.clone());
    }
    let copy = PyDict::new(py);
    copy.set_item(intern!(py, "type"), intern!(py, "websocket.close"))?;
    copy.set_item(
        intern!(py, "code"),
        code.unwrap_or_else(|| PyInt::new(py, 1000).into_any()),
    )?;
    copy.set_item(intern!(py, "reason"), checked)?;
    Ok(copy.into_any())
}

/// `websocket.accept`: an offered subprotocol and checked headers, as a fresh message.
pub fn accept_message<'py>(
    scope: &Bound<'py, PyAny>,
    subprotocol_given: Option<&Bound<'py, PyAny>>,
    headers: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = scope.py();
    if let Some(sub) = subprotocol_given {
        subprotocol(scope, sub)?;
    }
    let headers = header_list(py, headers, true)?;
    let copy = PyDict::new(py);
    copy.set_item(intern!(py, "type"), intern!(py, "websocket.accept"))?;
    copy.set_item(intern!(py, "subprotocol"), subprotocol_given)?;
    copy.set_item(intern!(py, "headers"), headers)?;
    Ok(copy.into_any())
}

/// `websocket.http.response.start`: a status in 100-599 and checked headers.
pub fn denial_start_message<'py>(message: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = message.py();
    let status = get_item(message, intern!(py, "status"))?
        .ok_or_else(|| PyValueError::new_err("a denial response needs a 'status'"))?;
    denial_status(&status)?;
    let headers = get_item(message, intern!(py, "headers"))?;
    let headers = header_list(py, headers.as_ref(), false)?;
    let copy = PyDict::new(py);
    if let Ok(dict) = message.cast::<PyDict>() {
        copy.update(dict.as_mapping())?;
    }
    copy.set_item(
        intern!(py, "type"),
        intern!(py, "websocket.http.response.start"),
    )?;
    copy.set_item(intern!(py, "status"), status)?;
    copy.set_item(intern!(py, "headers"), headers)?;
    Ok(copy.into_any())
}

/// `websocket.http.response.body`: always with a bytes `body` (b"" when missing). Returns the
/// message to send and whether more body follows.
pub fn denial_body_message<'py>(
    message: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, bool)> {
    let py = message.py();
    let more = match get_item(message, intern!(py, "more_body"))? {
        Some(value) => value.is_truthy()?,
        None => false,
    };
    let body = get_item(message, intern!(py, "body"))?.filter(|b| !b.is_none());
    let body = match body {
        Some(body) => {
            let checked = bytes_payload(&body, "a denial response body")?;
            if checked.is(&body) {
                return Ok((message.clone(), more));
            }
            checked
        }
        None => PyBytes::new(py, b"").into_any(),
    };
    let copy = new_message(
        intern!(py, "websocket.http.response.body"),
        [
            (intern!(py, "body"), body),
            (
                intern!(py, "more_body"),
                PyBool::new(py, more).to_owned().into_any(),
            ),
        ],
    )?;
    Ok((copy.into_any(), more))
}

/// `send_denial_response(response)`, before any I/O: what a Starlette `Response` will send (its
/// `status_code`, `raw_headers` and `body`, where it has them) is checked as the messages will be.
/// Any other ASGI app has each of its messages checked as it sends them.
pub fn denial_response(response: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = response.py();
    fn attribute<'py>(
        obj: &Bound<'py, PyAny>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        if obj.hasattr(name)? {
            Ok(Some(obj.getattr(name)?))
        } else {
            Ok(None)
        }
    }
    if let Some(status) = attribute(response, intern!(py, "status_code"))? {
        denial_status(&status)?;
    }
    if let Some(headers) = attribute(response, intern!(py, "raw_headers"))? {
        header_list(py, Some(&headers), false)?;
    }
    if let Some(body) = attribute(response, intern!(py, "body"))?.filter(|b| !b.is_none()) {
        bytes_payload(&body, "a denial response body")?;
    }
    Ok(())
}
