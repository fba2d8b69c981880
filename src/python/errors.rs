//! Turning core errors into the Python exceptions Starlette raises.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::state::StateError;

use super::py_objects::disconnected_class;

/// The Python exception for a wrong state transition. `message_type` is the type the message
/// carried (None when it had none): its `repr()` is taken only for the errors that quote it.
pub fn state_error(
    py: Python<'_>,
    err: StateError,
    message_type: Option<&Bound<'_, PyAny>>,
) -> PyErr {
    // As Starlette's f-string: an exception from `__repr__` is the one raised.
    let got = match message_type {
        Some(kind) if err.needs_repr() => match kind.repr() {
            Ok(repr) => repr.to_string(),
            Err(repr_failed) => return repr_failed,
        },
        None if err.needs_repr() => "None".to_owned(),
        _ => String::new(),
    };
    let text = err.message(&got);
    if !err.is_disconnected() {
        return PyRuntimeError::new_err(text);
    }
    match disconnected_class(py) {
        Ok(ty) => PyErr::from_type(ty, text),
        Err(not_registered) => not_registered,
    }
}
