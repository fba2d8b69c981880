//! The comparison rules `Headers` and `QueryParams` share: `!=` is always `not ==`, and a
//! comparison with Starlette's own class is left to Starlette's `__eq__`, so that both operand
//! orders give one answer (its `isinstance` check rejects ferrosocket's classes, until
//! `ferrosocket.install()` registers them; then it compares the contents, reading `_list`).

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::{IntoPyObjectExt, PyTypeInfo};

use super::py_objects::sys_modules;

/// Whether `obj` is an instance of `starlette.datastructures.<name>`. False when Starlette was
/// never imported: then nothing can be one.
pub fn is_starlette_instance(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    let py = obj.py();
    let Some(modules) = sys_modules(py)? else {
        return Ok(false);
    };
    match modules.get_item(intern!(py, "starlette.datastructures"))? {
        Some(module) => match module.getattr(name) {
            Ok(class) => obj.is_instance(&class),
            Err(_) => Ok(false),
        },
        None => Ok(false),
    }
}

/// The result of a rich comparison of `slf` with `other`. `equal` is `slf == other`: `None`
/// means NotImplemented (the other operand decides). `!=` is `not equal` when `slf`'s type is
/// the Rust class `T` itself; for a subclass it asks the subclass's `__eq__` (which may be
/// overridden), as Python's default `__ne__` does.
pub fn rich_compare<'py, T: PyTypeInfo>(
    slf: &Bound<'py, T>,
    other: &Bound<'py, PyAny>,
    op: CompareOp,
    equal: fn(&Bound<'py, T>, &Bound<'py, PyAny>) -> PyResult<Option<bool>>,
) -> PyResult<Py<PyAny>> {
    let py = slf.py();
    let exact = slf.as_any().is_exact_instance_of::<T>();
    let equal = || equal(slf, other);
    match op {
        CompareOp::Eq => match equal()? {
            Some(equal) => equal.into_py_any(py),
            None => Ok(py.NotImplemented()),
        },
        CompareOp::Ne if exact => match equal()? {
            Some(equal) => (!equal).into_py_any(py),
            None => Ok(py.NotImplemented()),
        },
        CompareOp::Ne => {
            let equal = slf.as_any().call_method1(intern!(py, "__eq__"), (other,))?;
            if equal.is(py.NotImplemented()) {
                return Ok(equal.unbind());
            }
            (!equal.is_truthy()?).into_py_any(py)
        }
        _ => Ok(py.NotImplemented()),
    }
}
