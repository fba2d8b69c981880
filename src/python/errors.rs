//! Turning core errors into the Python exceptions Starlette raises.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::state::StateError;

use super::registry::disconnected_class;

/// The Python exception for a wrong state transition.
pub fn state_error(py: Python<'_>, err: StateError) -> PyErr {
    match err {
        StateError::Unexpected(message) => PyRuntimeError::new_err(message),
        StateError::Disconnected(message) => match disconnected_class(py) {
            Ok(ty) => PyErr::from_type(ty, message),
            Err(not_registered) => not_registered,
        },
    }
}
