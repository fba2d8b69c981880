//! Turning core errors into the Python exceptions Starlette raises.
//!
//! The exception classes themselves are defined in Python (`ferrosocket._exceptions`) so they
//! behave exactly like Starlette's (keyword arguments, `__init__` signature); Rust looks them up
//! once and raises them.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::state::StateError;

static WEBSOCKET_DISCONNECTED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static WEBSOCKET_DISCONNECT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `ferrosocket.WebSocketDisconnected` (a `RuntimeError`).
pub fn websocket_disconnected(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    WEBSOCKET_DISCONNECTED.import(py, "ferrosocket._exceptions", "WebSocketDisconnected")
}

/// `ferrosocket.WebSocketDisconnect`.
pub fn websocket_disconnect(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    WEBSOCKET_DISCONNECT.import(py, "ferrosocket._exceptions", "WebSocketDisconnect")
}

/// The Python exception for a wrong state transition.
pub fn state_error(py: Python<'_>, err: StateError) -> PyErr {
    match err {
        StateError::Unexpected(message) => PyRuntimeError::new_err(message),
        StateError::Disconnected(message) => match websocket_disconnected(py) {
            Ok(ty) => PyErr::from_type(ty.clone(), message),
            Err(import_error) => import_error,
        },
    }
}
