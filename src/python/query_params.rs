//! `QueryParams`: the immutable multidict of a query string, parsed in Rust.

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::PyAssertionError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use crate::query::QueryPairs;

use super::compare::{is_starlette_instance, rich_compare};
use super::py_objects::imported;
use super::tools::{generic_alias, unpack_pair};

/// An immutable multidict: `[]` gives the last value of a key, `getlist` all of them.
// `freelist`: as `Headers`'s (a connection's query parameters live as long as it does); it
// holds only str.
#[pyclass(
    frozen,
    freelist = 256,
    subclass,
    mapping,
    module = "ferrosocket._core"
)]
pub struct QueryParams {
    /// Every pair in order (`multi_items`).
    pairs: QueryPairs,
    /// `{key: last value}` in first-seen key order: Starlette's `_dict`, used for lookups.
    dict: Py<PyDict>,
}

impl QueryParams {
    pub fn from_pairs(py: Python<'_>, pairs: QueryPairs) -> PyResult<Self> {
        let dict = PyDict::new(py);
        for (key, value) in pairs.iter() {
            dict.set_item(key, value)?;
        }
        Ok(QueryParams {
            pairs,
            dict: dict.unbind(),
        })
    }

    /// Parses raw `scope["query_string"]` bytes (latin-1, as Starlette does).
    pub fn from_query_bytes(py: Python<'_>, query: &[u8]) -> PyResult<Self> {
        Self::from_pairs(py, QueryPairs::parse_latin1(query))
    }
}

/// The `(key, value)` objects an `ImmutableMultiDict(value)` would hold, in order.
fn collect_pairs<'py>(
    value: &Bound<'py, PyAny>,
    out: &mut Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
) -> PyResult<()> {
    let py = value.py();
    if !value.is_truthy()? {
        return Ok(());
    }
    let items = if value.hasattr(intern!(py, "multi_items"))? {
        value.call_method0(intern!(py, "multi_items"))?
    } else if value.hasattr(intern!(py, "items"))? {
        value.call_method0(intern!(py, "items"))?
    } else {
        value.clone()
    };
    // `{k: v for k, v in items}`: any two-item iterable is a pair, with Python's errors.
    for item in items.try_iter()? {
        out.push(unpack_pair(&item?)?);
    }
    Ok(())
}

#[pymethods]
impl QueryParams {
    #[new]
    #[pyo3(signature = (*args, **kwargs))]
    fn new(
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        if args.len() >= 2 {
            return Err(PyAssertionError::new_err("Too many arguments."));
        }
        let value = args.get_item(0).ok();
        let no_kwargs = kwargs.is_none_or(|k| k.is_empty());
        // The common forms: a query string, as str or bytes.
        let parsed = match &value {
            Some(v) => match (v.cast::<PyString>(), v.cast::<PyBytes>()) {
                (Ok(text), _) => Some(QueryPairs::parse_str(&text.to_cow()?)),
                (_, Ok(bytes)) => Some(QueryPairs::parse_latin1(bytes.as_bytes())),
                _ => None,
            },
            None => Some(QueryPairs::default()),
        };
        let parsed = match parsed {
            Some(pairs) if no_kwargs => return Self::from_pairs(py, pairs),
            other => other,
        };
        // Everything else as Starlette does it: the pairs as given, a dict of them keyed by the
        // objects as given (so keys equal before `str()`, like 0 and False, merge), then `str()`.
        let mut given: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = Vec::new();
        match (parsed, &value) {
            (Some(pairs), _) => {
                for (k, v) in pairs.iter() {
                    given.push((
                        PyString::new(py, k).into_any(),
                        PyString::new(py, v).into_any(),
                    ));
                }
            }
            (None, Some(value)) => collect_pairs(value, &mut given)?,
            (None, None) => {}
        }
        if let Some(kwargs) = kwargs {
            collect_pairs(kwargs.as_any(), &mut given)?;
        }
        let by_key = PyDict::new(py);
        for (k, v) in &given {
            by_key.set_item(k, v)?;
        }
        let dict = PyDict::new(py);
        for (k, v) in by_key.iter() {
            dict.set_item(k.str()?, v.str()?)?;
        }
        let pairs = given
            .iter()
            .map(|(k, v)| Ok((k.str()?.to_str()?.to_owned(), v.str()?.to_str()?.to_owned())))
            .collect::<PyResult<QueryPairs>>()?;
        Ok(QueryParams {
            pairs,
            dict: dict.unbind(),
        })
    }

    /// `QueryParams[str]`: a `GenericAlias`, as for Starlette's (a `Mapping`).
    #[classmethod]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
    }

    fn getlist<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let values = if let Ok(key) = key.cast::<PyString>() {
            // A key Rust cannot hold (a lone surrogate) equals no pair's key.
            let Ok(key) = key.to_cow() else {
                return Ok(PyList::empty(py));
            };
            self.pairs
                .iter()
                .filter(|(k, _)| *k == key.as_ref())
                .map(|(_, v)| PyString::new(py, v))
                .collect::<Vec<_>>()
        } else {
            // A non-str key can only match through its own `__eq__`, as in Starlette.
            let mut matched = Vec::new();
            for (k, v) in self.pairs.iter() {
                if PyString::new(py, k).as_any().eq(key)? {
                    matched.push(PyString::new(py, v));
                }
            }
            matched
        };
        PyList::new(py, values)
    }

    /// `copy`, `deepcopy` and `pickle`: [`query_params_from_pickle`] with the class, the pairs
    /// and the `{key: value}` table (which keys equal before `str()`, like `0` and `False`, can
    /// make differ from the pairs' own), and the instance state of a Python subclass.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let rebuild = imported(py)?.query_params_from_pickle.bind(py);
        let this = slf.get();
        let table = this.dict.bind(py).items();
        let args = (slf.get_type(), this.multi_items(py)?, table).into_pyobject(py)?;
        let state = slf.call_method0(intern!(py, "__getstate__"))?;
        (rebuild, args, state).into_pyobject(py)
    }

    fn multi_items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.pairs.iter())
    }

    /// Starlette's attribute for the pairs (its `__eq__` reads `other._list`), as a new list.
    #[getter(_list)]
    fn list_attribute<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.multi_items(py)
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict.bind(py).call_method0(intern!(py, "keys"))
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict.bind(py).call_method0(intern!(py, "values"))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict.bind(py).call_method0(intern!(py, "items"))
    }

    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.dict.bind(py).get_item(key)? {
            Some(value) => Ok(value),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.dict.bind(py).as_any().get_item(key)
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.dict.bind(py).contains(key)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.try_iter()?.into_any())
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.dict.bind(py).len()
    }

    fn __str__(&self) -> String {
        self.pairs.urlencode()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let class_name = slf.get_type().name()?;
        let text = PyString::new(slf.py(), &slf.get().pairs.urlencode());
        Ok(format!("{}({})", class_name, text.repr()?))
    }

    fn __richcmp__(slf: &Bound<Self>, other: &Bound<PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        rich_compare(slf, other, op, query_params_equal)
    }

    #[classattr]
    const __hash__: Option<Py<PyAny>> = None;

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.dict)
    }
}

/// Starlette's `ImmutableMultiDict.__eq__`: `isinstance(other, self.__class__)`, then the pairs
/// stably sorted by key. A Starlette `QueryParams` is left to Starlette's `__eq__` (`None`).
fn query_params_equal(
    slf: &Bound<'_, QueryParams>,
    other: &Bound<'_, PyAny>,
) -> PyResult<Option<bool>> {
    if other.is_instance(&slf.get_type())? {
        // Only our class and its subclasses are instances of a subclass of it.
        let equal = match other.cast::<QueryParams>() {
            Ok(theirs) => {
                let by_key = !EQUAL_AS_SORTED_PAIRS.load(Ordering::Relaxed);
                sorted(&slf.get().pairs, by_key) == sorted(&theirs.get().pairs, by_key)
            }
            Err(_) => false,
        };
        return Ok(Some(equal));
    }
    if is_starlette_instance(other, "QueryParams")? {
        return Ok(None);
    }
    Ok(Some(false))
}

/// Starlette before 1.10 compared `sorted(pairs)` (key, then value), so the order of the values
/// of one key did not matter; 1.10 sorts by key only (stable). `ferrosocket.install()` on an
/// older Starlette sets this (`_starlette_profile.py`); the default is 1.10's rule.
static EQUAL_AS_SORTED_PAIRS: AtomicBool = AtomicBool::new(false);

/// Chooses the equality rule of `QueryParams` (see `EQUAL_AS_SORTED_PAIRS`); returns the
/// previous one.
#[pyfunction]
#[pyo3(name = "_query_params_equal_as_sorted_pairs")]
pub fn query_params_equal_as_sorted_pairs(sorted_pairs: bool) -> bool {
    EQUAL_AS_SORTED_PAIRS.swap(sorted_pairs, Ordering::Relaxed)
}

/// The pairs stably sorted by key only (`by_key`: 1.10's rule), or by key then value
/// (`sorted(pairs)`: the rule before 1.10).
fn sorted(pairs: &QueryPairs, by_key: bool) -> Vec<(&str, &str)> {
    let mut sorted: Vec<_> = pairs.iter().collect();
    if by_key {
        sorted.sort_by(|a, b| a.0.cmp(b.0));
    } else {
        sorted.sort();
    }
    sorted
}

/// A `QueryParams` (or subclass) unpickled: `cls.__new__(cls, pairs)`, whose `{key: value}`
/// table is then set to `table`'s `(str, str)` items.
#[pyfunction]
#[pyo3(name = "_query_params_from_pickle")]
pub fn query_params_from_pickle<'py>(
    cls: &Bound<'py, PyType>,
    pairs: &Bound<'py, PyAny>,
    table: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let made = cls.call_method1(intern!(py, "__new__"), (cls, pairs))?;
    let dict = made.cast::<QueryParams>()?.get().dict.bind(py);
    dict.clear();
    for (key, value) in table {
        dict.set_item(key, value)?;
    }
    Ok(made)
}
