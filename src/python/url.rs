//! URL building from the scope and URL component parsing, for the Python `URL` str subclass.

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::headers::decode_latin1;
use crate::host::parse_host_header;
use crate::scope_url::{query_text, url_from_scope, ScopeParts, ScopeUrlError, Server};
use crate::urlsplit::{netloc_needs_nfkc_check, urlsplit, SplitUrl};

use super::registry::url_class;

/// `scope.get(key)`, fast for dicts.
pub fn scope_get<'py>(
    scope: &Bound<'py, PyAny>,
    key: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    if let Ok(dict) = scope.cast::<PyDict>() {
        return dict.get_item(key);
    }
    let value = scope.call_method1(intern!(scope.py(), "get"), (key,))?;
    Ok(if value.is_none() { None } else { Some(value) })
}

/// The value of the first header named exactly `b"host"`, as Starlette's URL reads it.
fn host_header(scope: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let py = scope.py();
    for pair in scope.get_item(intern!(py, "headers"))?.try_iter()? {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair?.extract()?;
        let is_host = match key.cast::<PyBytes>() {
            Ok(key) => key.as_bytes() == b"host",
            Err(_) => key.eq(PyBytes::new(py, b"host"))?,
        };
        if is_host {
            let text = match value.cast::<PyBytes>() {
                Ok(value) => decode_latin1(value.as_bytes()),
                Err(_) => value
                    .call_method1(intern!(py, "decode"), ("latin-1",))?
                    .extract()?,
            };
            return Ok(Some(text));
        }
    }
    Ok(None)
}

/// `a, b = obj` for any iterable, with Python's own errors.
fn unpack_pair<'py>(obj: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let mut items = obj.try_iter()?;
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

/// `str(starlette.datastructures.URL(scope=scope))`.
pub fn url_string_from_scope(scope: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = scope.py();
    let scheme: String = match scope_get(scope, intern!(py, "scheme"))? {
        Some(scheme) => scheme.extract()?,
        None => "http".to_owned(),
    };
    let server = scope_get(scope, intern!(py, "server"))?;
    let path_obj = scope.get_item(intern!(py, "path"))?;
    let path = path_obj.cast::<PyString>()?.to_cow()?;
    let query_bytes = scope_get(scope, intern!(py, "query_string"))?;
    let query: String = match &query_bytes {
        None => String::new(),
        Some(raw) => match raw.cast::<PyBytes>() {
            // Bytes that are not UTF-8 are percent-encoded rather than raising (Starlette raises).
            Ok(bytes) => query_text(bytes.as_bytes()).into_owned(),
            // Not bytes: let Python's own `.decode()` decide (and raise).
            Err(_) => raw.call_method0(intern!(py, "decode"))?.extract()?,
        },
    };
    let host = host_header(scope)?;
    // Starlette unpacks `scope["server"]` (`host, port = server`) only when the Host header is
    // missing or invalid; a list works as well as a tuple.
    let host_is_usable = host
        .as_deref()
        .and_then(parse_host_header)
        .is_some_and(|parsed| parsed.is_valid_port());
    let server_parts = match &server {
        Some(server) if !host_is_usable => {
            let (host, port) = unpack_pair(server)?;
            let port_value = if port.is_exact_instance_of::<pyo3::types::PyInt>() {
                port.extract::<i64>().ok()
            } else {
                None
            };
            Some((
                host.cast::<PyString>()?.to_cow()?.into_owned(),
                port.str()?.to_string(),
                port_value,
            ))
        }
        _ => None,
    };
    let parts = ScopeParts {
        scheme: &scheme,
        path: &path,
        query: &query,
        host_header: host.as_deref(),
        server: server_parts
            .as_ref()
            .map(|(host, port_text, port_value)| Server {
                host,
                port_text,
                port_value: *port_value,
            }),
    };
    url_from_scope(&parts).map_err(|err| match err {
        ScopeUrlError::UnknownScheme(scheme) => PyKeyError::new_err(scheme),
    })
}

/// A new `ferrosocket.URL` (the str subclass) for `text`, with its parsed parts attached.
pub fn make_url<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let cls = url_class(py)?;
    let cls = &cls;
    let url = py
        .get_type::<PyString>()
        .call_method1(intern!(py, "__new__"), (cls, text))?;
    url.setattr(intern!(py, "_parts"), UrlParts::parse(py, text)?)?;
    Ok(url)
}

/// `ferrosocket.URL(scope=scope)`.
#[pyfunction]
pub fn url_from_scope_string(scope: &Bound<'_, PyAny>) -> PyResult<String> {
    url_string_from_scope(scope)
}

/// The components of a URL string, as `urllib.parse.urlsplit` gives them.
#[pyclass(frozen, module = "ferrosocket._core")]
pub struct UrlParts {
    /// The split URL, or the message of the `ValueError` `urlsplit` raises for it (Starlette
    /// raises it on first access to a component, so do we).
    split: Result<SplitUrl, String>,
}

impl UrlParts {
    pub fn parse(py: Python<'_>, text: &str) -> PyResult<Self> {
        let split = match urlsplit(text) {
            Ok(split) if netloc_needs_nfkc_check(&split.netloc) => {
                match nfkc_check(py, &split.netloc)? {
                    None => Ok(split),
                    Some(message) => Err(message),
                }
            }
            Ok(split) => Ok(split),
            Err(err) => Err(err.message()),
        };
        Ok(UrlParts { split })
    }

    fn split(&self) -> PyResult<&SplitUrl> {
        self.split
            .as_ref()
            .map_err(|message| PyValueError::new_err(message.clone()))
    }
}

/// Runs `urllib.parse._checknetloc` (the NFKC check on non-ASCII netlocs) and returns the
/// message of the `ValueError` it raises, if any.
fn nfkc_check(py: Python<'_>, netloc: &str) -> PyResult<Option<String>> {
    let check = py.import("urllib.parse")?.getattr("_checknetloc")?;
    match check.call1((netloc,)) {
        Ok(_) => Ok(None),
        Err(err) if err.is_instance_of::<PyValueError>(py) => {
            Ok(Some(err.value(py).str()?.to_string()))
        }
        Err(err) => Err(err),
    }
}

#[pymethods]
impl UrlParts {
    #[new]
    fn new(py: Python<'_>, url: &str) -> PyResult<Self> {
        Self::parse(py, url)
    }

    #[getter]
    fn scheme(&self) -> PyResult<&str> {
        Ok(&self.split()?.scheme)
    }

    #[getter]
    fn netloc(&self) -> PyResult<&str> {
        Ok(&self.split()?.netloc)
    }

    #[getter]
    fn path(&self) -> PyResult<&str> {
        Ok(&self.split()?.path)
    }

    #[getter]
    fn query(&self) -> PyResult<&str> {
        Ok(&self.split()?.query)
    }

    #[getter]
    fn fragment(&self) -> PyResult<&str> {
        Ok(&self.split()?.fragment)
    }

    #[getter]
    fn username(&self) -> PyResult<Option<&str>> {
        Ok(self.split()?.username())
    }

    #[getter]
    fn password(&self) -> PyResult<Option<&str>> {
        Ok(self.split()?.password())
    }

    #[getter]
    fn hostname<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        let split = self.split()?;
        let (raw, _) = split.hostinfo();
        if raw.is_ascii() {
            return Ok(split.hostname().map(|h| PyString::new(py, &h)));
        }
        // Non-ASCII: Python's own `str.lower` (its Unicode tables may differ from Rust's).
        let (name, zone) = match raw.split_once('%') {
            Some((name, zone)) => (name, Some(zone)),
            None => (raw, None),
        };
        let lowered = PyString::new(py, name).call_method0(intern!(py, "lower"))?;
        let lowered = lowered.cast::<PyString>()?.to_cow()?.into_owned();
        let text = match zone {
            Some(zone) => format!("{lowered}%{zone}"),
            None => lowered,
        };
        Ok(Some(PyString::new(py, &text)))
    }

    #[getter]
    fn port(&self) -> PyResult<Option<u16>> {
        self.split()?
            .port()
            .map_err(|err| PyValueError::new_err(err.message()))
    }
}
