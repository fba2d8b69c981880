//! Python objects the Rust side needs but that are defined in the Python package: the `URL`
//! str subclass, the `WebSocketState` enum members and the `Address` namedtuple. The package
//! registers them once at import (`ferrosocket/__init__.py`).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

static URL_CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static STATE_MEMBERS: PyOnceLock<Py<PyTuple>> = PyOnceLock::new();

fn not_registered() -> PyErr {
    PyRuntimeError::new_err(
        "ferrosocket._core is used without the ferrosocket package: import ferrosocket first",
    )
}

/// The `ferrosocket.URL` class.
pub fn url_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    URL_CLASS
        .get(py)
        .map(|c| c.bind(py))
        .ok_or_else(not_registered)
}

/// The `WebSocketState` member whose value is `value`.
pub fn state_member(py: Python<'_>, value: u8) -> PyResult<Bound<'_, PyAny>> {
    let members = STATE_MEMBERS.get(py).ok_or_else(not_registered)?;
    members.bind(py).get_item(usize::from(value))
}

/// Registers the Python-defined classes. `states` are the `WebSocketState` members in value
/// order. Called once by the package; a second call with the same objects is a no-op.
#[pyfunction]
pub fn _register(
    py: Python<'_>,
    url_class: Bound<'_, PyType>,
    states: Bound<'_, PyTuple>,
) -> PyResult<()> {
    // A later call (a re-imported package) replaces nothing: the first registration stands.
    let _ = URL_CLASS.set(py, url_class.unbind());
    let _ = STATE_MEMBERS.set(py, states.unbind());
    Ok(())
}
