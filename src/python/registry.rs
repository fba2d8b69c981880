//! Python objects the Rust side needs but that are defined in Python: the `URL` str subclass,
//! the `WebSocketState` members and the two exception classes.
//!
//! The package registers them at import (`ferrosocket/websockets.py`). They can be registered
//! again later: the Starlette switch (`ferrosocket.install()`) swaps in classes that Starlette
//! user code also recognises.

use std::sync::RwLock;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

struct Registered {
    url_class: Py<PyType>,
    states: Py<PyTuple>,
    disconnect: Py<PyType>,
    disconnected: Py<PyType>,
    unexpected: Py<PyType>,
}

static REGISTERED: RwLock<Option<Registered>> = RwLock::new(None);

fn not_registered() -> PyErr {
    PyRuntimeError::new_err(
        "ferrosocket._core is used without the ferrosocket package: import ferrosocket first",
    )
}

/// Runs `f` on the registered objects.
fn with_registered<'py, R>(
    py: Python<'py>,
    f: impl FnOnce(&Registered) -> PyResult<Bound<'py, R>>,
) -> PyResult<Bound<'py, R>> {
    let _ = py;
    let guard = REGISTERED.read().map_err(|_| not_registered())?;
    guard.as_ref().ok_or_else(not_registered).and_then(f)
}

/// The `ferrosocket.URL` class.
pub fn url_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    with_registered(py, |r| Ok(r.url_class.bind(py).clone()))
}

/// The `WebSocketState` member whose value is `value`.
pub fn state_member(py: Python<'_>, value: u8) -> PyResult<Bound<'_, PyAny>> {
    with_registered(py, |r| r.states.bind(py).get_item(usize::from(value)))
}

/// The `WebSocketDisconnect` class in use.
pub fn disconnect_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    with_registered(py, |r| Ok(r.disconnect.bind(py).clone()))
}

/// The `WebSocketDisconnected` class in use.
pub fn disconnected_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    with_registered(py, |r| Ok(r.disconnected.bind(py).clone()))
}

/// The `UnexpectedMessageType` class (a `KeyError`).
pub fn unexpected_message_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    with_registered(py, |r| Ok(r.unexpected.bind(py).clone()))
}

/// Registers (or replaces) the Python-defined objects. `states` are the `WebSocketState`
/// members in value order.
#[pyfunction]
pub fn _register(
    url_class: Bound<'_, PyType>,
    states: Bound<'_, PyTuple>,
    disconnect: Bound<'_, PyType>,
    disconnected: Bound<'_, PyType>,
    unexpected: Bound<'_, PyType>,
) -> PyResult<()> {
    if states.len() != 4 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "four WebSocketState members are required",
        ));
    }
    let registered = Registered {
        url_class: url_class.unbind(),
        states: states.unbind(),
        disconnect: disconnect.unbind(),
        disconnected: disconnected.unbind(),
        unexpected: unexpected.unbind(),
    };
    // The objects replaced are dropped after the lock is released: a decref can run Python code.
    let replaced = REGISTERED
        .write()
        .map_err(|_| not_registered())?
        .replace(registered);
    drop(replaced);
    Ok(())
}
