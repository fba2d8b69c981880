//! URL building from the scope and URL component parsing, for the Python `URL` str subclass.

use std::borrow::Cow;
use std::sync::OnceLock;

use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

use super::tools::{get_or, type_name, unpack_pair};
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use crate::headers::decode_latin1;
use crate::host::parse_host_header;
use crate::lazy::get_or_build;
use crate::scope_url::{
    default_port, has_hash_or_unsafe, is_usable_host_header, query_text, scope_url_usable_host,
    ScopeParts, ScopeUrl, ScopeUrlError, Server,
};
use crate::urlsplit::{
    is_unsafe_url_byte, netloc_hostinfo, netloc_needs_nfkc_check, netloc_port, netloc_userinfo,
    urlsplit, SplitUrl,
};

use super::py_objects::{
    imported, url_class, url_class_with_errors, url_layout, url_text_from_components,
};
use super::url_slots::{NewUrl, UrlSlot};

/// A Host header value: the bytes object of the header list, or text decoded some other way.
enum HostValue<'py> {
    Bytes(Bound<'py, PyBytes>),
    Text(String),
}

impl HostValue<'_> {
    /// The value decoded as latin-1 (borrowed when it is ASCII).
    fn text(&self) -> Cow<'_, str> {
        match self {
            HostValue::Bytes(bytes) => {
                let bytes = bytes.as_bytes();
                match std::str::from_utf8(bytes) {
                    Ok(ascii) if bytes.is_ascii() => Cow::Borrowed(ascii),
                    _ => Cow::Owned(decode_latin1(bytes)),
                }
            }
            HostValue::Text(text) => Cow::Borrowed(text),
        }
    }
}

/// The value of the first header named exactly `b"host"`, as Starlette's URL reads it.
fn host_header<'py>(scope: &Bound<'py, PyAny>) -> PyResult<Option<HostValue<'py>>> {
    let py = scope.py();
    let headers = scope.get_item(intern!(py, "headers"))?;
    if let Some(found) = plain_host_header(&headers) {
        return Ok(found.map(HostValue::Bytes));
    }
    for pair in headers.try_iter()? {
        let (key, value) = unpack_pair(&pair?)?;
        let is_host = match key.cast::<PyBytes>() {
            Ok(key) => key.as_bytes() == b"host",
            Err(_) => key.eq(PyBytes::new(py, b"host"))?,
        };
        if is_host {
            return Ok(Some(match value.cast::<PyBytes>() {
                Ok(value) => HostValue::Bytes(value.clone()),
                Err(_) => HostValue::Text(
                    value
                        .call_method1(intern!(py, "decode"), ("latin-1",))?
                        .extract()?,
                ),
            }));
        }
    }
    Ok(None)
}

/// The value of the first `b"host"` header of a header list in the ASGI shape (a list of
/// 2-tuples of bytes), read without calling Python code; `None` for a list of another shape.
fn plain_host_header<'py>(headers: &Bound<'py, PyAny>) -> Option<Option<Bound<'py, PyBytes>>> {
    let list = headers.cast::<PyList>().ok()?;
    for pair in list.iter() {
        let tuple = pair.cast::<PyTuple>().ok()?;
        let [key, value] = tuple.as_slice() else {
            return None;
        };
        match (key.cast::<PyBytes>(), value.cast::<PyBytes>()) {
            (Ok(key), Ok(value)) if key.as_bytes() == b"host" => return Some(Some(value.clone())),
            (Ok(_), Ok(_)) => {}
            _ => return None,
        }
    }
    Some(None)
}

/// `URL(scope=scope)` before it becomes a Python object: Starlette's text, and the scope's own
/// `scheme` and `path` strings (reused as the components when they are the same text).
struct UrlFromScope<'py> {
    url: ScopeUrl,
    scheme: Option<Bound<'py, PyAny>>,
    path: Bound<'py, PyAny>,
}

/// Reads the scope for `str(starlette.datastructures.URL(scope=scope))`.
fn url_from_scope_parts<'py>(scope: &Bound<'py, PyAny>) -> PyResult<UrlFromScope<'py>> {
    let py = scope.py();
    let scheme_obj = get_or(
        scope,
        intern!(py, "scheme"),
        intern!(py, "http").clone().into_any(),
    )?;
    // A scheme that is not a str is an error wherever Starlette uses it (below); where it does
    // not (no host), the URL is the path alone.
    let (scheme, scheme_is_str): (Cow<'_, str>, bool) = match scheme_obj.cast::<PyString>() {
        Ok(scheme) => (scheme.to_cow()?, true),
        Err(_) => (Cow::Borrowed(""), false),
    };
    // `scope.get("server")`: a missing key and None both mean no server. Read in Starlette's
    // order, except from a dict (no side effects) where it is read only when it is used.
    let read_server = || -> PyResult<_> {
        Ok(Some(get_or(
            scope,
            intern!(py, "server"),
            py.None().into_bound(py),
        )?)
        .filter(|s| !s.is_none()))
    };
    let early_server = if scope.is_exact_instance_of::<PyDict>() {
        None
    } else {
        Some(read_server()?)
    };
    let path_obj = scope.get_item(intern!(py, "path"))?;
    let path = path_obj.cast::<PyString>()?.to_cow()?;
    let raw_query = get_or(
        scope,
        intern!(py, "query_string"),
        PyBytes::new(py, b"").into_any(),
    )?;
    let query: Cow<'_, str> = match raw_query.cast::<PyBytes>() {
        // Bytes that are not UTF-8 are percent-encoded rather than raising (Starlette raises).
        Ok(bytes) => query_text(bytes.as_bytes()),
        // Not bytes: let Python's own `.decode()` decide (and raise).
        Err(_) => Cow::Owned(raw_query.call_method0(intern!(py, "decode"))?.extract()?),
    };
    let host_value = host_header(scope)?;
    let host = host_value.as_ref().map(HostValue::text);
    // Starlette unpacks `scope["server"]` (`host, port = server`) only when the Host header is
    // missing or invalid; a list works as well as a tuple.
    let host_is_usable = host.as_deref().is_some_and(is_usable_host_header);
    let server = match early_server {
        Some(server) => server,
        None if host_is_usable => None,
        None => read_server()?,
    };
    let server_parts = match &server {
        Some(server) if !host_is_usable => {
            let (host, port) = unpack_pair(server)?;
            let port_value = if port.is_exact_instance_of::<pyo3::types::PyInt>() {
                port.extract::<i64>().ok()
            } else {
                // Starlette's `port == default_port`, once, with the scheme's default: an int
                // subclass or a float equal to it counts as it (written as `str(port)` otherwise).
                // An unknown scheme raises below, before any comparison, as in Starlette.
                match default_port(&scheme) {
                    Some(default) if scheme_is_str && port.eq(default)? => Some(default),
                    _ => None,
                }
            };
            Some((
                host.cast::<PyString>()?.to_cow()?.into_owned(),
                port.str()?.to_string(),
                port_value,
            ))
        }
        _ => None,
    };
    if !scheme_is_str {
        if host_is_usable {
            // `SplitResult(scheme=..., netloc=...).geturl()`
            return Err(PyTypeError::new_err("Cannot mix str and non-str arguments"));
        }
        if server_parts.is_some() {
            // `{"http": 80, ...}[scheme]`: unhashable is a TypeError, anything else missing.
            scheme_obj.hash()?;
            return Err(PyKeyError::new_err((scheme_obj.unbind(),)));
        }
    }
    let parts = ScopeParts {
        scheme: &scheme,
        path: &path,
        query: &query,
        // Checked above: an unusable Host header counts as none.
        host_header: host.as_deref().filter(|_| host_is_usable),
        server: server_parts
            .as_ref()
            .map(|(host, port_text, port_value)| Server {
                host,
                port_text,
                port_value: *port_value,
            }),
    };
    let mut url = scope_url_usable_host(&parts).map_err(|err| match err {
        // The scope's own object, as Starlette's dict lookup raises it.
        ScopeUrlError::UnknownScheme(_) => PyKeyError::new_err((scheme_obj.clone().unbind(),)),
    })?;
    // An empty netloc (a server whose host is "" on the default port): Python 3.13 changed
    // urlunsplit's rules for it, so the running interpreter's urlunsplit writes the text (the
    // components are then parsed from it: `spans` is None for an empty netloc).
    let empty_netloc = parts.host_header.is_none()
        && parts.server.as_ref().is_some_and(|server| {
            server.host.is_empty() && server.port_value == default_port(&scheme)
        });
    if empty_netloc {
        let escaped = crate::escape_path(&path);
        let split = (scheme.as_ref(), "", escaped.as_str(), query.as_ref(), "");
        url.text = imported(py)?
            .urlunsplit
            .bind(py)
            .call1((split,))?
            .extract()?;
        url.spans = None;
    }
    drop(path);
    drop(scheme);
    Ok(UrlFromScope {
        url,
        scheme: Some(scheme_obj),
        path: path_obj,
    })
}

/// The text of a URL made from `value`: Starlette's `URL` stores any object and its `str()`
/// raises for one that is not a `str`; a `ferrosocket.URL` is a `str`, so it raises when made,
/// with the same error.
fn url_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow()?.into_owned()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "__str__ returned non-string (type {})",
            type_name(value)
        ))),
    }
}

/// A new instance of `cls` (`ferrosocket.URL` or a subclass) for `text`, components not set.
fn new_url<'py>(cls: &Bound<'py, PyType>, text: &str) -> PyResult<NewUrl<'py>> {
    let py = cls.py();
    NewUrl::new(cls, text, url_layout(py)?, imported(py)?.str_new.bind(py))
}

/// `ws.url`: a new `ferrosocket.URL` for the scope.
pub fn url_for_scope<'py>(scope: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    url_of_scope(&url_class(scope.py())?, scope)
}

/// A new instance of `cls` for `URL(scope=scope)`: the common shape of scope written straight
/// from its pieces, any other read the general way.
fn url_of_scope<'py>(
    cls: &Bound<'py, PyType>,
    scope: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    match common_scope_url(cls, scope)? {
        Some(url) => Ok(url),
        None => make_url_from_scope(cls, &url_from_scope_parts(scope)?),
    }
}

/// The URL of the scope nearly every server sends, or `None` for any other: an exact dict with
/// a `ws`, `wss`, `http` or `https` scheme, a path that starts with `/` and holds none of `?#\`
/// (which Starlette escapes), a UTF-8 query string without `#`, neither with a `\t\r\n`, and a
/// Host header (in a plain header list) that Starlette accepts, ASCII and not bracketed. Its
/// text is `scheme://host` + path + `?query` (when not empty), and `urlsplit` gives back exactly
/// those pieces: what [`url_from_scope_parts`] and [`make_url_from_scope`] find for it, with a
/// fraction of their code for a new connection to run. It only reads the dict and the objects in
/// it, so the general way may read them again.
fn common_scope_url<'py>(
    cls: &Bound<'py, PyType>,
    scope: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = cls.py();
    let Ok(scope) = scope.cast_exact::<PyDict>() else {
        return Ok(None);
    };
    let (Some(scheme_obj), Some(path_obj), Some(query_obj), Some(headers)) = (
        scope.get_item(intern!(py, "scheme"))?,
        scope.get_item(intern!(py, "path"))?,
        scope.get_item(intern!(py, "query_string"))?,
        scope.get_item(intern!(py, "headers"))?,
    ) else {
        return Ok(None);
    };
    let (Ok(scheme), Ok(path), Ok(query)) = (
        scheme_obj.cast_exact::<PyString>(),
        path_obj.cast_exact::<PyString>(),
        query_obj.cast_exact::<PyBytes>(),
    ) else {
        return Ok(None);
    };
    let (Ok(scheme), Ok(path), Ok(query)) = (
        scheme.to_str(),
        path.to_str(),
        std::str::from_utf8(query.as_bytes()),
    ) else {
        return Ok(None);
    };
    // The checks on what is already read before the header scan: a scope they turn away goes
    // the general way without scanning its headers twice.
    if default_port(scheme).is_none()
        || !path.starts_with('/')
        || path
            .bytes()
            .any(|b| matches!(b, b'?' | b'#' | b'\\') || is_unsafe_url_byte(b))
        || has_hash_or_unsafe(query)
    {
        return Ok(None);
    }
    let Some(Some(host)) = plain_host_header(&headers) else {
        return Ok(None);
    };
    let host = match std::str::from_utf8(host.as_bytes()) {
        Ok(host) if host.is_ascii() && !host.starts_with('[') => host,
        _ => return Ok(None),
    };
    let Some(port) = parse_host_header(host).and_then(|parsed| parsed.port_number()) else {
        return Ok(None);
    };
    let mut text =
        String::with_capacity(scheme.len() + 3 + host.len() + path.len() + 1 + query.len());
    for piece in [scheme, "://", host, path] {
        text.push_str(piece);
    }
    if !query.is_empty() {
        text.push('?');
        text.push_str(query);
    }
    let url = new_url(cls, &text)?;
    set_components(
        &url,
        [
            scheme_obj,
            PyString::new(py, host).into_any(),
            path_obj,
            PyString::new(py, query).into_any(),
        ],
    )?;
    url.set(UrlSlot::Port, port)?;
    Ok(Some(url.into_url()))
}

/// `true` when `obj` is exactly a `str` whose text is `text`.
fn is_same_str(obj: &Bound<'_, PyAny>, text: &str) -> bool {
    obj.is_exact_instance_of::<PyString>()
        && obj
            .cast::<PyString>()
            .ok()
            .and_then(|s| s.to_cow().ok())
            .is_some_and(|s| s == text)
}

/// A new instance of `cls` for a URL built from the scope: its components are set from the
/// pieces it was built from when they are what `urlsplit` would give, else by parsing.
fn make_url_from_scope<'py>(
    cls: &Bound<'py, PyType>,
    parts: &UrlFromScope<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let text = parts.url.text.as_str();
    let Some(spans) = &parts.url.spans else {
        return make_url_of(cls, text);
    };
    let piece = |range: &std::ops::Range<usize>| text.get(range.clone()).unwrap_or_default();
    let netloc = piece(&spans.netloc);
    let port = netloc_port(netloc);
    let url = match port {
        Ok(_) => new_url(cls, text)?,
        Err(_) => new_url(&class_with_errors(cls)?, text)?,
    };
    let reuse = |obj: Option<&Bound<'py, PyAny>>, piece: &str| match obj {
        Some(obj) if is_same_str(obj, piece) => obj.clone(),
        _ => PyString::new(py, piece).into_any(),
    };
    set_components(
        &url,
        [
            reuse(parts.scheme.as_ref(), piece(&spans.scheme)),
            PyString::new(py, netloc).into_any(),
            reuse(Some(&parts.path), piece(&spans.path)),
            PyString::new(py, piece(&spans.query)).into_any(),
        ],
    )?;
    match port {
        Ok(port) => url.set(UrlSlot::Port, port)?,
        // `.port` raises: its slot stays empty, and `__getattr__` asks `_parts`.
        Err(_) => url.set(UrlSlot::Parts, UrlParts::parse(py, text)?)?,
    }
    Ok(url.into_url())
}

/// Sets the slots `scheme`, `netloc`, `path` and `query`.
fn set_components<'py>(url: &NewUrl<'py>, values: [Bound<'py, PyAny>; 4]) -> PyResult<()> {
    let slots = [
        UrlSlot::Scheme,
        UrlSlot::Netloc,
        UrlSlot::Path,
        UrlSlot::Query,
    ];
    for (slot, value) in slots.into_iter().zip(values) {
        url.set(slot, value)?;
    }
    Ok(())
}

/// The hidden subclass of `cls` for URLs a component of which raises (`urlsplit` or `.port`
/// raises for the text): it adds the `__getattr__` that raises those errors, which `URL` itself
/// does without (so that its slot reads stay specialised by CPython).
fn class_with_errors<'py>(cls: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyType>> {
    let py = cls.py();
    Ok(url_class_with_errors(py)?
        .call1((cls,))?
        .cast_into::<PyType>()?)
}

/// A new instance of `cls` (`ferrosocket.URL` or a subclass) for `text`, parsed: the component
/// slots are set when `urlsplit` succeeds (and `port` when `.port` does); when something fails,
/// `_parts` (which raises the `ValueError`s) is set, on an instance of [`class_with_errors`].
fn make_url_of<'py>(cls: &Bound<'py, PyType>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let parts = UrlParts::parse(py, text)?;
    let url = match &parts.split {
        Ok(split) if split.port().is_ok() => new_url(cls, text)?,
        _ => new_url(&class_with_errors(cls)?, text)?,
    };
    let mut complete = false;
    if let Ok(split) = &parts.split {
        set_components(
            &url,
            [
                PyString::new(py, &split.scheme).into_any(),
                PyString::new(py, &split.netloc).into_any(),
                PyString::new(py, &split.path).into_any(),
                PyString::new(py, &split.query).into_any(),
            ],
        )?;
        if let Ok(port) = split.port() {
            url.set(UrlSlot::Port, port)?;
            complete = true;
        }
    }
    if !complete {
        url.set(UrlSlot::Parts, parts)?;
    }
    Ok(url.into_url())
}

/// `URL.__new__(cls, url="", scope=None, **components)`: Starlette's three ways to make a URL,
/// as one native call (a Python `__new__` with keyword handling costs more than the parsing).
#[pyfunction]
#[pyo3(signature = (cls, url = None, scope = None, **components))]
pub fn url_new<'py>(
    cls: &Bound<'py, PyType>,
    url: Option<&Bound<'py, PyAny>>,
    scope: Option<&Bound<'py, PyAny>>,
    components: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let has_url = match url {
        Some(url) => url.is_truthy()?,
        None => false,
    };
    let has_components = components.is_some_and(|c| !c.is_empty());
    let assert = |ok: bool, message: &'static str| {
        if ok {
            Ok(())
        } else {
            Err(pyo3::exceptions::PyAssertionError::new_err(message))
        }
    };
    if let Some(scope) = scope.filter(|s| !s.is_none()) {
        assert(!has_url, r#"Cannot set both "url" and "scope"."#)?;
        assert(
            !has_components,
            r#"Cannot set both "scope" and "**components"."#,
        )?;
        return url_of_scope(cls, scope);
    }
    if has_components {
        assert(!has_url, r#"Cannot set both "url" and "**components"."#)?;
        // Rare: let the Python side build it from components (Starlette's own algorithm).
        let text = url_text_from_components(py)?.call((), components)?;
        return make_url_of(cls, &url_text(&text)?);
    }
    let text = match url.filter(|u| !u.is_none()) {
        Some(url) => url_text(url)?,
        None => String::new(),
    };
    make_url_of(cls, &text)
}

/// The components of a URL string, as `urllib.parse.urlsplit` gives them.
#[pyclass(frozen, module = "ferrosocket._core")]
pub struct UrlParts {
    /// The split URL, or the message of the `ValueError` `urlsplit` raises for it (Starlette
    /// raises it on first access to a component, so do we).
    split: Result<SplitUrl, String>,
    /// scheme, netloc, path, query, fragment as Python strings, made on first access.
    strings: [OnceLock<Py<PyString>>; 5],
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
        Ok(UrlParts {
            split,
            strings: Default::default(),
        })
    }

    /// Component `index` (see `strings`) as a cached Python string.
    fn component_string<'py>(
        &self,
        py: Python<'py>,
        index: usize,
    ) -> PyResult<Bound<'py, PyString>> {
        let split = self.split()?;
        let text = match index {
            0 => &split.scheme,
            1 => &split.netloc,
            2 => &split.path,
            3 => &split.query,
            _ => &split.fragment,
        };
        match self.strings.get(index) {
            Some(cell) => {
                Ok(
                    get_or_build(cell, || Ok::<_, PyErr>(PyString::new(py, text).unbind()))?
                        .bind(py)
                        .clone(),
                )
            }
            None => Ok(PyString::new(py, text)),
        }
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
    match imported(py)?.checknetloc.bind(py).call1((netloc,)) {
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

    /// The component `name` (`URL`'s slot of that name reads it when the URL has errors):
    /// raises the `ValueError` of `urlsplit` (or of `.port`) for the text.
    fn component<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let index = match name {
            "scheme" => 0,
            "netloc" => 1,
            "path" => 2,
            "query" => 3,
            "port" => {
                let port = self.split()?.port();
                return port
                    .map_err(|err| PyValueError::new_err(err.message()))?
                    .into_bound_py_any(py);
            }
            _ => return Err(PyValueError::new_err(format!("no URL component {name:?}"))),
        };
        Ok(self.component_string(py, index)?.into_any())
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        for value in self.strings.iter().filter_map(OnceLock::get) {
            visit.call(value)?;
        }
        Ok(())
    }
}

/// `SplitResult.hostname` for `netloc`.
fn netloc_hostname<'py>(py: Python<'py>, netloc: &str) -> PyResult<Option<Bound<'py, PyString>>> {
    let (raw, _) = netloc_hostinfo(netloc);
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.is_ascii() {
        return Ok(crate::urlsplit::netloc_hostname(netloc).map(|h| PyString::new(py, &h)));
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

/// `url.netloc` as text (raises the `ValueError` of a URL `urlsplit` rejects).
fn netloc_of<'py>(url: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    Ok(url
        .getattr(intern!(url.py(), "netloc"))?
        .cast_into::<PyString>()?)
}

/// `URL.username`: the property getter (from `url.netloc`).
#[pyfunction]
pub fn url_username(url: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let netloc = netloc_of(url)?;
    Ok(netloc_userinfo(&netloc.to_cow()?).0.map(str::to_owned))
}

/// `URL.password`: the property getter (from `url.netloc`).
#[pyfunction]
pub fn url_password(url: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let netloc = netloc_of(url)?;
    Ok(netloc_userinfo(&netloc.to_cow()?).1.map(str::to_owned))
}

/// `URL.hostname`: the property getter (from `url.netloc`).
#[pyfunction]
pub fn url_hostname<'py>(url: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyString>>> {
    let netloc = netloc_of(url)?;
    netloc_hostname(url.py(), &netloc.to_cow()?)
}

/// `URL.fragment`: the property getter (a URL made from the scope has none; rarely read, so it
/// is parsed from the text rather than kept in a slot).
#[pyfunction]
pub fn url_fragment<'py>(url: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyString>> {
    UrlParts::parse(url.py(), &url.to_cow()?)?.component_string(url.py(), 4)
}
