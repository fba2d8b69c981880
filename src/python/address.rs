//! `Address`, the `(host, port)` namedtuple of `websocket.client`, and the one way it is made
//! from a scope's `client` value: as Starlette's `Address(*host_port)`.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

use super::tools::{is_iterable, type_name};

/// A new `Address` class: Starlette's is a NamedTuple and a PyO3 class cannot subclass tuple,
/// so the module makes the same namedtuple.
pub fn new_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("module", "ferrosocket._core")?;
    let class: Bound<'_, PyType> = py
        .import("collections")?
        .getattr("namedtuple")?
        .call(("Address", ("host", "port")), Some(&kwargs))?
        .cast_into()?;
    // Starlette's is a `typing.NamedTuple` (`host: str`, `port: int`, postponed annotations):
    // `typing.get_type_hints(Address)` reads these.
    let annotations = PyDict::new(py);
    annotations.set_item("host", "str")?;
    annotations.set_item("port", "int")?;
    class.setattr("__annotations__", annotations)?;
    Ok(class)
}

/// `cls(*host_port)`. A tuple or list of two items (what servers put in the scope) becomes an
/// instance through `tuple`'s own constructor, which is what the namedtuple's `__new__` calls,
/// without running its Python code (on a new connection, a cold Python function costs a
/// microsecond). Anything else is called as `cls(*host_port)` calls it, with its errors.
pub fn address_of<'py>(
    cls: &Bound<'py, PyType>,
    host_port: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let pair = if let Ok(tuple) = host_port.cast_exact::<PyTuple>() {
        tuple.clone()
    } else if let Ok(list) = host_port.cast_exact::<PyList>() {
        list.to_tuple()
    } else {
        return cls.call1(star_args(cls, host_port)?);
    };
    if pair.len() != 2 {
        return cls.call1(pair); // the namedtuple's own error for the wrong number of fields
    }
    let args = PyTuple::new(py, [pair])?;
    // SAFETY: the GIL is held; `cls` is a tuple subclass (a namedtuple), whose instances tuple's
    // `tp_new` makes from `(iterable,)`; it returns a new reference or NULL with an exception set.
    #[allow(unsafe_code)]
    unsafe {
        let new = ffi::PyTuple_Type
            .tp_new
            .ok_or_else(|| PyTypeError::new_err("tuple has no tp_new"))?;
        Bound::from_owned_ptr_or_err(
            py,
            new(cls.as_type_ptr(), args.as_ptr(), std::ptr::null_mut()),
        )
    }
}

/// The arguments `f(*obj)` passes: `tuple(obj)`, after the interpreter's own check and message
/// for an `obj` that is not iterable.
fn star_args<'py>(
    f: &Bound<'py, PyType>,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = f.py();
    if !is_iterable(obj) {
        let module = f.getattr(intern!(py, "__module__"))?;
        let qualname = f.getattr(intern!(py, "__qualname__"))?;
        let name = if module.eq(intern!(py, "builtins"))? {
            format!("{qualname}()")
        } else {
            format!("{module}.{qualname}()")
        };
        return Err(PyTypeError::new_err(format!(
            "{name} argument after * must be an iterable, not {}",
            type_name(obj)
        )));
    }
    // SAFETY: the GIL is held; a new reference or NULL with an exception set.
    #[allow(unsafe_code)]
    unsafe {
        Ok(
            Bound::from_owned_ptr_or_err(py, ffi::PySequence_Tuple(obj.as_ptr()))?
                .cast_into_unchecked(),
        )
    }
}
