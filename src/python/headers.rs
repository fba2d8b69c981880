//! `Headers`: the immutable, case-insensitive multidict over the scope's raw header list.

use pyo3::exceptions::{PyKeyError, PyTypeError, PyUnicodeEncodeError};
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt};

use crate::headers::{decode_latin1, lower_latin1, HeaderTable};

/// An immutable, case-insensitive multidict of the raw `(bytes, bytes)` header pairs.
#[pyclass(frozen, subclass, mapping, module = "ferrosocket._core")]
pub struct Headers {
    pub(crate) table: HeaderTable,
    /// The decoded value of each header, made on first lookup (lookups repeat; decoding is the
    /// larger part of their cost).
    values: Box<[OnceLock<Py<PyString>>]>,
}

/// Copies `(name, value)` byte pairs out of any iterable of 2-item sequences.
pub fn table_from_pairs(pairs: &Bound<'_, PyAny>) -> PyResult<HeaderTable> {
    let hint = pairs.len().unwrap_or(0);
    let mut table = HeaderTable::with_capacity(hint, hint * 32);
    for pair in pairs.try_iter()? {
        let pair = pair?;
        // The ASGI shape, a 2-tuple of bytes, without touching reference counts.
        if let Ok(tuple) = pair.cast::<PyTuple>() {
            if let [name, value] = tuple.as_slice() {
                if let (Ok(name), Ok(value)) = (name.cast::<PyBytes>(), value.cast::<PyBytes>()) {
                    table.push(name.as_bytes(), value.as_bytes());
                    continue;
                }
            }
        }
        let (name, value) = if let Ok(tuple) = pair.cast::<PyTuple>() {
            if tuple.len() != 2 {
                return Err(bad_pair(&pair));
            }
            (tuple.get_item(0)?, tuple.get_item(1)?)
        } else {
            // Any 2-item iterable, as Starlette's `for key, value in headers` accepts.
            let items: Vec<Bound<'_, PyAny>> = pair
                .try_iter()
                .and_then(|it| it.collect::<PyResult<_>>())
                .map_err(|_| bad_pair(&pair))?;
            match <[Bound<'_, PyAny>; 2]>::try_from(items) {
                Ok([name, value]) => (name, value),
                Err(_) => return Err(bad_pair(&pair)),
            }
        };
        with_bytes(&name, |n| with_bytes(&value, |v| table.push(n, v)))
            .and_then(|inner| inner)
            .map_err(|_| bad_pair(&pair))?;
    }
    Ok(table)
}

/// Runs `f` over the bytes of a `bytes` or `bytearray`.
fn with_bytes<R>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(f(bytes.as_bytes()));
    }
    let owned: Vec<u8> = obj.extract::<Vec<u8>>().or_else(|_| {
        obj.cast::<pyo3::types::PyByteArray>()
            .map(|b| b.to_vec())
            .map_err(PyErr::from)
    })?;
    Ok(f(&owned))
}

fn bad_pair(pair: &Bound<'_, PyAny>) -> PyErr {
    let shown = pair
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unprintable>".to_owned());
    PyTypeError::new_err(format!("headers must be (bytes, bytes) pairs, got {shown}"))
}

/// A latin-1 Python `str` for raw header bytes.
pub fn latin1_str<'py>(py: Python<'py>, bytes: &[u8]) -> Bound<'py, PyString> {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.is_ascii() => PyString::new(py, text),
        _ => PyString::new(py, &decode_latin1(bytes)),
    }
}

/// Runs `f` on the lowered lookup key: short ASCII keys (all real header names) are lowered
/// into a stack buffer, anything else goes through [`lookup_key`].
pub fn with_lookup_key<R>(key: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if key.is_exact_instance_of::<PyString>() {
        if let Some(text) = key.cast::<PyString>().ok().and_then(|t| t.to_str().ok()) {
            let bytes = text.as_bytes();
            let mut buf = [0u8; 64];
            if bytes.is_ascii() {
                if let Some(slot) = buf.get_mut(..bytes.len()) {
                    for (out, b) in slot.iter_mut().zip(bytes) {
                        *out = b.to_ascii_lowercase();
                    }
                    return Ok(f(slot));
                }
            }
        }
    }
    Ok(f(&lookup_key(key)?))
}

/// Starlette's `key.lower().encode("latin-1")`, with Python's own errors for odd keys.
pub fn lookup_key(key: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(text) = key.cast::<PyString>() {
        if key.is_exact_instance_of::<PyString>() {
            let text = text.to_cow()?;
            return lower_latin1(&text).ok_or_else(|| encode_error(key));
        }
    }
    // Not a plain str: do exactly what Starlette does and let Python raise what it raises.
    let encoded = key
        .call_method0(intern!(key.py(), "lower"))?
        .call_method1(intern!(key.py(), "encode"), ("latin-1",))?;
    Ok(encoded.cast::<PyBytes>()?.as_bytes().to_vec())
}

fn encode_error(key: &Bound<'_, PyAny>) -> PyErr {
    // Re-run the failing encode in Python for its exact UnicodeEncodeError.
    match key
        .call_method0(intern!(key.py(), "lower"))
        .and_then(|lowered| lowered.call_method1(intern!(key.py(), "encode"), ("latin-1",)))
    {
        Err(err) => err,
        Ok(_) => PyUnicodeEncodeError::new_err("header name is not latin-1"),
    }
}

impl Headers {
    pub fn from_table(table: HeaderTable) -> Self {
        let values = (0..table.len()).map(|_| OnceLock::new()).collect();
        Headers { table, values }
    }

    /// The value of header `index` as a (cached) `str`.
    fn value_str<'py>(&self, py: Python<'py>, index: usize) -> Option<Bound<'py, PyString>> {
        let (_, raw) = self.table.get(index)?;
        let cell = self.values.get(index)?;
        Some(
            cell.get_or_init(|| latin1_str(py, raw).unbind())
                .bind(py)
                .clone(),
        )
    }

    /// The raw pairs as a new list of `(bytes, bytes)` tuples.
    pub fn raw_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .table
            .iter()
            .map(|(n, v)| (PyBytes::new(py, n), PyBytes::new(py, v)));
        PyList::new(py, items)
    }

    fn items_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .table
            .iter()
            .map(|(n, v)| (latin1_str(py, n), latin1_str(py, v)));
        PyList::new(py, items)
    }

    fn keys_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.table.iter().map(|(n, _)| latin1_str(py, n)))
    }

    fn first_value<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyString>>> {
        let index = with_lookup_key(key, |lowered| self.table.position(lowered))?;
        Ok(index.and_then(|i| self.value_str(key.py(), i)))
    }
}

/// Raw pairs of another `Headers` (ours, or a Python subclass such as `MutableHeaders`).
fn other_raw(other: &Bound<'_, PyAny>) -> PyResult<HeaderTable> {
    table_from_pairs(&other.getattr(intern!(other.py(), "raw"))?)
}

#[pymethods]
impl Headers {
    #[new]
    #[pyo3(signature = (headers = None, raw = None, scope = None))]
    fn new(
        headers: Option<&Bound<'_, PyAny>>,
        raw: Option<&Bound<'_, PyAny>>,
        scope: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py_assert = |ok: bool, message: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(pyo3::exceptions::PyAssertionError::new_err(message))
            }
        };
        if let Some(headers) = headers {
            py_assert(raw.is_none(), r#"Cannot set both "headers" and "raw"."#)?;
            py_assert(scope.is_none(), r#"Cannot set both "headers" and "scope"."#)?;
            let mut table = HeaderTable::default();
            for item in headers
                .call_method0(intern!(headers.py(), "items"))?
                .try_iter()?
            {
                let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
                let key = key
                    .call_method0(intern!(key.py(), "lower"))?
                    .call_method1(intern!(key.py(), "encode"), ("latin-1",))?;
                let value = value.call_method1(intern!(value.py(), "encode"), ("latin-1",))?;
                table.push(
                    key.cast::<PyBytes>()?.as_bytes(),
                    value.cast::<PyBytes>()?.as_bytes(),
                );
            }
            Ok(Headers::from_table(table))
        } else if let Some(raw) = raw {
            py_assert(scope.is_none(), r#"Cannot set both "raw" and "scope"."#)?;
            Ok(Headers::from_table(table_from_pairs(raw)?))
        } else if let Some(scope) = scope {
            Ok(Headers::from_table(headers_from_scope(scope)?))
        } else {
            Ok(Headers::from_table(HeaderTable::default()))
        }
    }

    /// The raw `(bytes, bytes)` pairs, as a new list.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.raw_list(py)
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.keys_list(py)
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.table.iter().map(|(_, v)| latin1_str(py, v)))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.items_list(py)
    }

    fn getlist<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = key.py();
        let indices: Vec<usize> =
            with_lookup_key(key, |lowered| self.table.positions(lowered).collect())?;
        PyList::new(
            py,
            indices.into_iter().filter_map(|i| self.value_str(py, i)),
        )
    }

    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.first_value(key)? {
            Some(value) => Ok(value.into_any()),
            None => Ok(default.unwrap_or_else(|| key.py().None().into_bound(key.py()))),
        }
    }

    /// A `MutableHeaders` holding a copy of the pairs.
    fn mutablecopy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = PyDict::new(py);
        kwargs.set_item("raw", self.raw_list(py)?)?;
        py.import("ferrosocket.datastructures")?
            .getattr("MutableHeaders")?
            .call((), Some(&kwargs))
    }

    fn __getitem__<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
        self.first_value(key)?
            .ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        with_lookup_key(key, |lowered| self.table.position(lowered).is_some())
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        for value in self.values.iter().filter_map(OnceLock::get) {
            visit.call(value)?;
        }
        Ok(())
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys_list(py)?.try_iter()?.into_any())
    }

    fn __len__(&self) -> usize {
        self.table.len()
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let equal = match other.cast::<Headers>() {
            Ok(theirs) if other.is_exact_instance_of::<Headers>() => {
                self.table.sorted_pairs() == theirs.get().table.sorted_pairs()
            }
            Ok(_) => {
                let theirs = other_raw(other)?;
                self.table.sorted_pairs() == theirs.sorted_pairs()
            }
            Err(_) => false,
        };
        match op {
            CompareOp::Eq => equal.into_py_any(py),
            CompareOp::Ne => (!equal).into_py_any(py),
            _ => Ok(py.NotImplemented()),
        }
    }

    #[classattr]
    const __hash__: Option<Py<PyAny>> = None;

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let this = slf.get();
        let class_name = slf.get_type().name()?;
        let as_dict = PyDict::new(py);
        for item in this.items_list(py)?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            as_dict.set_item(k, v)?;
        }
        if as_dict.len() == this.table.len() {
            Ok(format!("{}({})", class_name, as_dict.repr()?))
        } else {
            Ok(format!(
                "{}(raw={})",
                class_name,
                this.raw_list(py)?.repr()?
            ))
        }
    }
}

/// `Headers(scope=scope)`: reads `scope["headers"]` and, like Starlette, stores it back as a
/// list.
pub fn headers_from_scope(scope: &Bound<'_, PyAny>) -> PyResult<HeaderTable> {
    let py = scope.py();
    let raw = scope.get_item(intern!(py, "headers"))?;
    let list = match raw.cast::<PyList>() {
        Ok(list) if raw.is_exact_instance_of::<PyList>() => list.clone(),
        _ => PyList::new(py, raw.try_iter()?.collect::<PyResult<Vec<_>>>()?)?,
    };
    // Starlette stores a fresh `list(scope["headers"])` back into the scope.
    let copy = PyList::new(py, list.iter())?;
    scope.set_item(intern!(py, "headers"), &copy)?;
    table_from_pairs(copy.as_any())
}
