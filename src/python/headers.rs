//! `Headers`: the immutable, case-insensitive multidict over the scope's raw header list.

use pyo3::exceptions::{PyKeyError, PyTypeError, PyUnicodeEncodeError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use crate::headers::{decode_latin1, lower_latin1};
use crate::lazy::get_or_build;

use super::compare::{is_starlette_instance, rich_compare};
use super::py_objects::{imported, mutable_headers_class};
use super::tools::generic_alias;

/// An immutable, case-insensitive multidict of the raw `(bytes, bytes)` header pairs.
// `freelist`: a connection's headers are freed with it and kept for the next connection's. A
// reused object is no allocation the cyclic GC counts toward its next collection, and is not
// tracked (a Python subclass's instances are made as usual). No cycle can run through it: it
// holds bytes, and a cache of str.
#[pyclass(
    frozen,
    freelist = 256,
    subclass,
    mapping,
    module = "ferrosocket._core"
)]
pub struct Headers {
    /// The pairs: a tuple of exact `(bytes, bytes)` tuples, checked when built. Every part is
    /// immutable, so the tuples of a scope are kept as they are (no copy of the bytes) and
    /// lookups read them in place.
    pairs: Py<PyTuple>,
    /// Exact `str` key -> value `str` (`None`: no such header), filled by lookups, so that a
    /// repeated lookup is one dict probe. At most [`CACHE_LIMIT`] keys. Made by
    /// [`get_or_build`]: making the dict can run a finalizer that reads these headers.
    cache: OnceLock<Py<PyDict>>,
    /// Set by the first lookup: the cache is made by the second, so that headers read once
    /// (`Headers(scope=scope)["host"]`) do not pay for a dict.
    looked_up: AtomicBool,
}

/// Bound on the lookup cache: real code looks up a handful of names; a caller trying endless
/// keys gets correct (uncached) answers without growing the object.
const CACHE_LIMIT: usize = 32;

/// An exact `(bytes, bytes)` tuple: immutable all the way down, kept as it is.
fn is_exact_pair(pair: &Bound<'_, PyAny>) -> bool {
    match pair.cast_exact::<PyTuple>() {
        Ok(tuple) => match tuple.as_slice() {
            [name, value] => {
                name.is_exact_instance_of::<PyBytes>() && value.is_exact_instance_of::<PyBytes>()
            }
            _ => false,
        },
        Err(_) => false,
    }
}

/// The pairs of any iterable of 2-item sequences of bytes-like objects, as a tuple of exact
/// `(bytes, bytes)` tuples: the given ones when they already are (the ASGI shape), new ones
/// otherwise. `TypeError` naming the first bad pair.
pub fn checked_pairs<'py>(pairs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let py = pairs.py();
    // The ASGI shape: a list (or tuple) of exact (bytes, bytes) tuples, taken in one copy. The
    // check runs on the immutable tuple, so nothing can change after it.
    let taken = if let Ok(list) = pairs.cast_exact::<PyList>() {
        Some(list.to_tuple())
    } else if let Ok(tuple) = pairs.cast_exact::<PyTuple>() {
        Some(tuple.clone())
    } else {
        None
    };
    if let Some(tuple) = &taken {
        if tuple.as_slice().iter().all(is_exact_pair) {
            return Ok(tuple.clone());
        }
    }
    let items = match &taken {
        Some(tuple) => tuple.try_iter()?,
        None => pairs.try_iter()?,
    };
    let mut out: Vec<Bound<'py, PyAny>> = Vec::with_capacity(pairs.len().unwrap_or(0));
    for pair in items {
        let pair = pair?;
        if is_exact_pair(&pair) {
            out.push(pair);
        } else {
            out.push(normalized_pair(&pair)?.into_any());
        }
    }
    PyTuple::new(py, out)
}

/// A new `(bytes, bytes)` tuple for a pair that is not one already.
fn normalized_pair<'py>(pair: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let py = pair.py();
    let (name, value) = if let Ok(tuple) = pair.cast::<PyTuple>() {
        if tuple.len() != 2 {
            return Err(bad_pair(pair));
        }
        (tuple.get_item(0)?, tuple.get_item(1)?)
    } else {
        // Any 2-item iterable, as Starlette's `for key, value in headers` accepts.
        let items: Vec<Bound<'_, PyAny>> = pair
            .try_iter()
            .and_then(|it| it.collect::<PyResult<_>>())
            .map_err(|_| bad_pair(pair))?;
        match <[Bound<'_, PyAny>; 2]>::try_from(items) {
            Ok([name, value]) => (name, value),
            Err(_) => return Err(bad_pair(pair)),
        }
    };
    let name = with_bytes(&name, |n| PyBytes::new(py, n)).map_err(|_| bad_pair(pair))?;
    let value = with_bytes(&value, |v| PyBytes::new(py, v)).map_err(|_| bad_pair(pair))?;
    PyTuple::new(py, [name, value])
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
            // A lone surrogate fails here (UTF-8): Python's latin-1 encode gives its error.
            let Ok(text) = text.to_cow() else {
                return Err(encode_error(key));
            };
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

/// The `(name, value)` byte slices of checked pairs (see [`checked_pairs`]), in order.
fn pair_slices<'a>(pairs: &'a Bound<'_, PyTuple>) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
    pairs.as_slice().iter().filter_map(pair_bytes)
}

/// The bytes of one checked pair (`None` only for what [`checked_pairs`] never stores).
fn pair_bytes<'a>(pair: &'a Bound<'_, PyAny>) -> Option<(&'a [u8], &'a [u8])> {
    match pair.cast_exact::<PyTuple>().ok()?.as_slice() {
        [name, value] => Some((
            name.cast_exact::<PyBytes>().ok()?.as_bytes(),
            value.cast_exact::<PyBytes>().ok()?.as_bytes(),
        )),
        _ => None,
    }
}

/// The value of the first checked pair named `lowered`; values of other pairs are not read.
fn first_match<'a>(pairs: &'a Bound<'_, PyTuple>, lowered: &[u8]) -> Option<&'a [u8]> {
    pairs.as_slice().iter().find_map(|pair| {
        let [name, value] = pair.cast_exact::<PyTuple>().ok()?.as_slice() else {
            return None;
        };
        if name.cast_exact::<PyBytes>().ok()?.as_bytes() != lowered {
            return None;
        }
        Some(value.cast_exact::<PyBytes>().ok()?.as_bytes())
    })
}

impl Headers {
    fn from_pairs(pairs: Bound<'_, PyTuple>) -> Self {
        Headers {
            pairs: pairs.unbind(),
            cache: OnceLock::new(),
            looked_up: AtomicBool::new(false),
        }
    }

    /// `Headers(scope=scope)`, as `websocket.headers` builds it.
    pub fn from_scope(scope: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self::from_pairs(headers_from_scope(scope)?))
    }

    /// The raw pairs as a new list of `(bytes, bytes)` tuples.
    /// The values of the pairs named `lowered` (a name as the server sent it), as bytes, in order.
    pub fn for_each_value(
        &self,
        py: Python<'_>,
        lowered: &[u8],
        mut f: impl FnMut(&[u8]) -> PyResult<()>,
    ) -> PyResult<()> {
        let pairs = self.pairs.bind(py);
        pair_slices(pairs)
            .filter(|(name, _)| *name == lowered)
            .try_for_each(|(_, value)| f(value))
    }

    pub fn raw_list<'py>(&self, py: Python<'py>) -> Bound<'py, PyList> {
        self.pairs.bind(py).to_list()
    }

    fn items_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let pairs = self.pairs.bind(py);
        let items = pair_slices(pairs).map(|(n, v)| (latin1_str(py, n), latin1_str(py, v)));
        PyList::new(py, items)
    }

    fn keys_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let pairs = self.pairs.bind(py);
        PyList::new(py, pair_slices(pairs).map(|(n, _)| latin1_str(py, n)))
    }

    /// The cached answer for `key` (a value `str`, or `None` for no such header).
    fn cached<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.cache.get() {
            Some(cache) if key.is_exact_instance_of::<PyString>() => {
                cache.bind(key.py()).get_item(key)
            }
            _ => Ok(None),
        }
    }

    /// Caches an answer for an exact `str` key (the only keys whose lookup depends on nothing
    /// but their text), while the cache has room, from the second lookup on.
    fn remember(&self, key: &Bound<'_, PyAny>, answer: &Bound<'_, PyAny>) -> PyResult<()> {
        if !key.is_exact_instance_of::<PyString>() {
            return Ok(());
        }
        if !self.looked_up.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let py = key.py();
        let cache = get_or_build(&self.cache, || Ok::<_, PyErr>(PyDict::new(py).unbind()))?;
        let cache = cache.bind(py);
        if cache.len() < CACHE_LIMIT {
            cache.set_item(key, answer)?;
        }
        Ok(())
    }

    /// The value of the first header named `key` (Starlette's `[]`), decoded, or `None`.
    fn first_value<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(answer) = self.cached(key)? {
            return Ok(answer);
        }
        let py = key.py();
        let pairs = self.pairs.bind(py);
        let found = with_lookup_key(key, |lowered| first_match(pairs, lowered))?;
        let answer = match found {
            Some(value) => latin1_str(py, value).into_any(),
            None => py.None().into_bound(py),
        };
        self.remember(key, &answer)?;
        Ok(answer)
    }
}

/// Starlette's `Headers.__eq__`: another `Headers` (ours or a subclass) with the same pairs in
/// any order. A Starlette `Headers` is left to Starlette's `__eq__` (`None`); anything else is
/// unequal.
fn headers_equal(slf: &Bound<'_, Headers>, other: &Bound<'_, PyAny>) -> PyResult<Option<bool>> {
    let py = slf.py();
    match other.cast::<Headers>() {
        Ok(theirs)
            if slf.is_exact_instance_of::<Headers>() && other.is_exact_instance_of::<Headers>() =>
        {
            let ours = sorted_pairs(slf.get().pairs.bind(py));
            Ok(Some(ours == sorted_pairs(theirs.get().pairs.bind(py))))
        }
        // A subclass (`MutableHeaders` keeps its own list): `sorted(a._list) == sorted(b._list)`.
        Ok(_) => Ok(Some(sorted_list(slf.as_any())?.eq(sorted_list(other)?)?)),
        Err(_) if is_starlette_instance(other, "Headers")? => Ok(None),
        Err(_) => Ok(Some(false)),
    }
}

/// `sorted(headers._list)`.
fn sorted_list<'py>(headers: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let py = headers.py();
    let list = match headers.cast_exact::<Headers>() {
        Ok(ours) => ours.get().raw_list(py),
        Err(_) => {
            let items = headers.getattr(intern!(py, "_list"))?;
            PyList::new(py, items.try_iter()?.collect::<PyResult<Vec<_>>>()?)?
        }
    };
    list.sort()?;
    Ok(list)
}

/// The pairs sorted as Python sorts a list of `(bytes, bytes)` tuples: the basis of `==`.
fn sorted_pairs<'a>(pairs: &'a Bound<'_, PyTuple>) -> Vec<(&'a [u8], &'a [u8])> {
    let mut sorted: Vec<_> = pair_slices(pairs).collect();
    sorted.sort();
    sorted
}

#[pymethods]
impl Headers {
    #[new]
    #[pyo3(signature = (headers = None, raw = None, scope = None))]
    fn new(
        py: Python<'_>,
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
            let mut pairs = Vec::new();
            for item in headers.call_method0(intern!(py, "items"))?.try_iter()? {
                let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
                let key = key
                    .call_method0(intern!(py, "lower"))?
                    .call_method1(intern!(py, "encode"), ("latin-1",))?;
                let value = value.call_method1(intern!(py, "encode"), ("latin-1",))?;
                // `str.encode` gives exact bytes; anything else is copied into them.
                let key = PyBytes::new(py, key.cast::<PyBytes>()?.as_bytes());
                let value = PyBytes::new(py, value.cast::<PyBytes>()?.as_bytes());
                pairs.push(PyTuple::new(py, [key, value])?);
            }
            Ok(Headers::from_pairs(PyTuple::new(py, pairs)?))
        } else if let Some(raw) = raw {
            py_assert(scope.is_none(), r#"Cannot set both "raw" and "scope"."#)?;
            Ok(Headers::from_pairs(checked_pairs(raw)?))
        } else if let Some(scope) = scope {
            Headers::from_scope(scope)
        } else {
            Ok(Headers::from_pairs(PyTuple::empty(py)))
        }
    }

    /// The raw `(bytes, bytes)` pairs, as a new list.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyList> {
        self.raw_list(py)
    }

    /// Starlette's attribute for the pairs (its `__eq__` reads `other._list`), as a new list.
    #[getter(_list)]
    fn list_attribute<'py>(&self, py: Python<'py>) -> Bound<'py, PyList> {
        self.raw_list(py)
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.keys_list(py)
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let pairs = self.pairs.bind(py);
        PyList::new(py, pair_slices(pairs).map(|(_, v)| latin1_str(py, v)))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.items_list(py)
    }

    /// `Headers[str]`: a `GenericAlias`, as for Starlette's (a `Mapping`).
    #[classmethod]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
    }

    fn getlist<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = key.py();
        let pairs = self.pairs.bind(py);
        let values: Vec<Bound<'py, PyString>> = with_lookup_key(key, |lowered| {
            pair_slices(pairs)
                .filter(|(n, _)| *n == lowered)
                .map(|(_, v)| latin1_str(py, v))
                .collect()
        })?;
        PyList::new(py, values)
    }

    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let answer = self.first_value(key)?;
        match default {
            Some(default) if answer.is_none() => Ok(default),
            _ => Ok(answer),
        }
    }

    /// `copy`, `deepcopy` and `pickle`: the class made again from the pairs, without calling
    /// `__init__` (`copyreg.__newobj__`), and the instance state of a Python subclass.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let newobj = imported(py)?.copyreg_newobj.bind(py);
        let args = (slf.get_type(), py.None(), slf.get().raw_list(py)).into_pyobject(py)?;
        let state = slf.call_method0(intern!(py, "__getstate__"))?;
        (newobj, args, state).into_pyobject(py)
    }

    /// A `MutableHeaders` holding a copy of the pairs.
    fn mutablecopy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = PyDict::new(py);
        kwargs.set_item("raw", self.raw_list(py))?;
        mutable_headers_class(py)?.call((), Some(&kwargs))
    }

    fn __getitem__<'py>(&self, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let answer = self.first_value(key)?;
        if answer.is_none() {
            return Err(PyKeyError::new_err(key.clone().unbind()));
        }
        Ok(answer)
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(!self.first_value(key)?.is_none())
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.pairs)?;
        if let Some(cache) = self.cache.get() {
            visit.call(cache)?;
        }
        Ok(())
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys_list(py)?.try_iter()?.into_any())
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.pairs.bind(py).len()
    }

    fn __richcmp__(slf: &Bound<Self>, other: &Bound<PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        rich_compare(slf, other, op, headers_equal)
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
        if as_dict.len() == this.pairs.bind(py).len() {
            Ok(format!("{}({})", class_name, as_dict.repr()?))
        } else {
            Ok(format!("{}(raw={})", class_name, this.raw_list(py).repr()?))
        }
    }
}

/// `Headers(scope=scope)`: reads `scope["headers"]` and, like Starlette, stores it back as a
/// new list; the pairs are checked (and kept) at once.
fn headers_from_scope<'py>(scope: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let py = scope.py();
    let raw = scope.get_item(intern!(py, "headers"))?;
    // Starlette stores a fresh `list(scope["headers"])` back into the scope.
    let copy = match raw.cast_exact::<PyList>() {
        Ok(list) => list.get_slice(0, list.len()),
        Err(_) => PyList::new(py, raw.try_iter()?.collect::<PyResult<Vec<_>>>()?)?,
    };
    scope.set_item(intern!(py, "headers"), &copy)?;
    checked_pairs(copy.as_any())
}
