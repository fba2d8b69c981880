//! The `Cookie` header as Starlette's `cookie_parser` reads it, into a `dict`: for
//! `WebSocket.cookies` (every Cookie header, Starlette 0.49 on) and, one header at a time, for
//! install()'s classes of older releases (the first one only). The parsing:
//! `crate::for_each_cookie`.

use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::headers::Headers;
use crate::{decode_latin1, for_each_cookie};

/// `{name: value}` of one `Cookie` header; a repeated name keeps its first place, last value.
#[pyfunction]
#[pyo3(signature = (cookie_string, /))]
pub fn cookie_parser<'py>(py: Python<'py>, cookie_string: &str) -> PyResult<Bound<'py, PyDict>> {
    let cookies = PyDict::new(py);
    add_cookies(&cookies, cookie_string)?;
    Ok(cookies)
}

/// Every `Cookie` header's pairs in one dict, a later header's pairs over an earlier's
/// (Starlette: `cookies.update(cookie_parser(header))` for each).
pub fn cookies_of_headers<'py>(py: Python<'py>, headers: &Headers) -> PyResult<Bound<'py, PyDict>> {
    let cookies = PyDict::new(py);
    headers.for_each_value(py, b"cookie", |value| {
        // Header values are latin-1; ASCII ones (nearly all) are their own UTF-8.
        let text = match std::str::from_utf8(value) {
            Ok(text) if text.is_ascii() => Cow::Borrowed(text),
            _ => Cow::Owned(decode_latin1(value)),
        };
        add_cookies(&cookies, &text)
    })?;
    Ok(cookies)
}

fn add_cookies(cookies: &Bound<'_, PyDict>, header: &str) -> PyResult<()> {
    for_each_cookie(header, |name, value| cookies.set_item(name, value.as_ref()))
}
