//! `PendingSend`: a message checked by `Connection._begin_send`, on its way to the server.
//!
//! The Python side only reads `.message` (what to hand the server's `send`) and gives the object
//! back to `_commit` or `_send_failed`; what the send does to the state stays in Rust.

use pyo3::prelude::*;

use crate::state::State;

// `freelist`: one per send that moves the state (accept, close), as `Headers`'s. The message it
// holds (the app's, or a normalised copy) is not visited by the cyclic GC either way (no
// `__traverse__`): nothing the app can reach refers back to this record.
#[pyclass(frozen, freelist = 256, module = "ferrosocket._core")]
pub struct PendingSend {
    /// The message to hand the server: the app's own, or a normalised copy.
    #[pyo3(get)]
    pub message: Py<PyAny>,
    /// The application state once the server's send returned (None: unchanged).
    pub commit_to: Option<State>,
    /// An `OSError` from the server's send means the peer is gone.
    pub oserror_is_disconnect: bool,
}

#[pymethods]
impl PendingSend {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<PendingSend {} -> {:?}>",
            self.message.bind(py).repr()?,
            self.commit_to
        ))
    }
}
