//! `Connection`: the Rust base class of `ferrosocket.WebSocket`.
//!
//! It holds the scope, the two connection states and the lazily built, cached views of the
//! scope (`url`, `headers`, `query_params`). The async methods live in the Python subclass and
//! call the small checks here around each awaited `receive()`/`send()`.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use pyo3::exceptions::{PyAssertionError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use pyo3::{intern, PyTraverseError, PyVisit};

use crate::state::{self, ReceivePhase, SendStep, State};

use super::errors::state_error;
use super::headers::{headers_from_scope, Headers};
use super::query_params::QueryParams;
use super::registry::{disconnect_class, state_member};
use super::url::{make_url, scope_get, url_string_from_scope};

#[pyclass(frozen, subclass, module = "ferrosocket._core")]
pub struct Connection {
    scope: Py<PyAny>,
    client_state: AtomicU8,
    application_state: AtomicU8,
    url: OnceLock<Py<PyAny>>,
    headers: OnceLock<Py<Headers>>,
    query_params: OnceLock<Py<QueryParams>>,
}

fn load(cell: &AtomicU8) -> State {
    // Only `State` values are ever stored.
    State::from_value(cell.load(Ordering::Acquire)).unwrap_or(State::Disconnected)
}

fn store(cell: &AtomicU8, state: State) {
    cell.store(state.value(), Ordering::Release);
}

/// The numeric value of a `WebSocketState` member (ours, or any enum with the same values).
fn state_from_object(value: &Bound<'_, PyAny>) -> PyResult<State> {
    let number: u8 = value
        .getattr(intern!(value.py(), "value"))
        .and_then(|v| v.extract())
        .map_err(|_| PyTypeError::new_err("a WebSocketState member is required"))?;
    State::from_value(number)
        .ok_or_else(|| PyValueError::new_err(format!("{number} is not a valid WebSocketState")))
}

/// `message["type"]` and its repr (only computed for error messages).
fn message_type<'py>(message: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = message.py();
    match message.cast::<PyDict>() {
        Ok(dict) => match dict.get_item(intern!(py, "type"))? {
            Some(value) => Ok(value),
            None => Err(pyo3::exceptions::PyKeyError::new_err("type")),
        },
        Err(_) => message.get_item(intern!(py, "type")),
    }
}

fn type_text(value: &Bound<'_, PyAny>) -> PyResult<(Option<String>, String)> {
    // Starlette checks `message_type in {...}`: an unhashable type raises TypeError there.
    value.hash()?;
    let text = value
        .cast::<PyString>()
        .ok()
        .map(|s| s.to_cow().map(|c| c.into_owned()))
        .transpose()?;
    Ok((text, String::new()))
}

fn repr_of(value: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(value.repr()?.to_string())
}

/// The cached value, built on first use. Built while attached to Python, so two threads can
/// race only through Python code run by `build`; the first stored value wins.
fn cached<T>(cell: &OnceLock<T>, build: impl FnOnce() -> PyResult<T>) -> PyResult<&T> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = build()?;
    let _ = cell.set(value);
    cell.get()
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("cache was not filled"))
}

fn phase_code(phase: ReceivePhase) -> u8 {
    match phase {
        ReceivePhase::Connect => 0,
        ReceivePhase::Stream => 1,
    }
}

impl Connection {
    fn scope<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.scope.bind(py)
    }

    /// The checks after a `receive()` returned `message`: the type must fit the phase, and the
    /// client state moves.
    fn finish_receive(
        &self,
        message: &Bound<'_, PyAny>,
        phase: ReceivePhase,
    ) -> PyResult<Option<String>> {
        let py = message.py();
        let kind = message_type(message)?;
        let (text, _) = type_text(&kind)?;
        let moved = state::after_receive(phase, text.as_deref(), "").or_else(|_| {
            state::after_receive(phase, text.as_deref(), &repr_of(&kind)?)
                .map_err(|e| state_error(py, e))
        })?;
        if let Some(to) = moved {
            store(&self.client_state, to);
        }
        Ok(text)
    }

    /// `receive_text`/`receive_bytes`: the message's payload under `key`, or
    /// `WebSocketDisconnect` for a disconnect.
    fn take_payload<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        phase: u8,
        key: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let phase = if phase == 0 {
            ReceivePhase::Connect
        } else {
            ReceivePhase::Stream
        };
        let kind = self.finish_receive(message, phase)?;
        if kind.as_deref() == Some("websocket.disconnect") {
            return Err(disconnect_error(message));
        }
        message.get_item(key)
    }
}

/// `WebSocketDisconnect(message["code"], message.get("reason"))`.
fn disconnect_error(message: &Bound<'_, PyAny>) -> PyErr {
    let py = message.py();
    let build = || -> PyResult<PyErr> {
        let code = message.get_item(intern!(py, "code"))?;
        let reason = match message.cast::<PyDict>() {
            Ok(dict) => dict.get_item(intern!(py, "reason"))?,
            Err(_) => {
                let r = message.call_method1(intern!(py, "get"), (intern!(py, "reason"),))?;
                if r.is_none() {
                    None
                } else {
                    Some(r)
                }
            }
        };
        let exc = disconnect_class(py)?.call1((code, reason))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|err| err)
}

#[pymethods]
impl Connection {
    #[new]
    #[pyo3(signature = (scope, receive = None, send = None))]
    fn new(
        scope: Bound<'_, PyAny>,
        receive: Option<Bound<'_, PyAny>>,
        send: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let _ = (receive, send); // Held by the Python subclass.
        let py = scope.py();
        let kind = scope.get_item(intern!(py, "type"))?;
        let is_websocket = kind.eq(intern!(py, "websocket"))?;
        if !is_websocket {
            return Err(PyAssertionError::new_err(()));
        }
        Ok(Connection {
            scope: scope.unbind(),
            client_state: AtomicU8::new(State::Connecting.value()),
            application_state: AtomicU8::new(State::Connecting.value()),
            url: OnceLock::new(),
            headers: OnceLock::new(),
            query_params: OnceLock::new(),
        })
    }

    /// The ASGI scope, held by reference.
    #[getter(scope)]
    fn get_scope<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        self.scope(py).clone()
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.scope(py).get_item(key)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.scope(py).try_iter()?.into_any())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.scope(py).len()
    }

    #[getter]
    fn get_client_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        state_member(py, load(&self.client_state).value())
    }

    #[setter]
    fn set_client_state(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        store(&self.client_state, state_from_object(value)?);
        Ok(())
    }

    #[getter]
    fn get_application_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        state_member(py, load(&self.application_state).value())
    }

    #[setter]
    fn set_application_state(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        store(&self.application_state, state_from_object(value)?);
        Ok(())
    }

    /// The URL, a `str` subclass with the parsed components.
    #[getter]
    fn url<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let url = cached(&self.url, || {
            let text = url_string_from_scope(self.scope(py))?;
            make_url(py, &text).map(Bound::unbind)
        })?;
        Ok(url.bind(py).clone())
    }

    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, Headers>> {
        let headers = cached(&self.headers, || {
            let table = headers_from_scope(self.scope(py))?;
            Py::new(py, Headers::from_table(table))
        })?;
        Ok(headers.bind(py).clone())
    }

    #[getter]
    fn query_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, QueryParams>> {
        let params = cached(&self.query_params, || {
            let scope = self.scope(py);
            let raw = scope.get_item(intern!(py, "query_string"))?;
            let params = match raw.cast::<PyBytes>() {
                Ok(bytes) => QueryParams::from_query_bytes(py, bytes.as_bytes())?,
                Err(_) => {
                    // Not bytes: hand it to the constructor, as Starlette does.
                    let cls = py.get_type::<QueryParams>();
                    return cls
                        .call1((raw,))?
                        .cast_into::<QueryParams>()
                        .map(Bound::unbind)
                        .map_err(PyErr::from);
                }
            };
            Py::new(py, params)
        })?;
        Ok(params.bind(py).clone())
    }

    /// `scope.get("path_params", {})`.
    #[getter]
    fn path_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(
            match scope_get(self.scope(py), intern!(py, "path_params"))? {
                Some(params) => params,
                None => PyDict::new(py).into_any(),
            },
        )
    }

    #[getter]
    fn app<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.scope(py).get_item(intern!(py, "app"))
    }

    // --- Checks around the awaited I/O, called by the Python subclass. ---

    /// Before awaiting `receive()`: the phase (0: expecting connect, 1: streaming), or
    /// `WebSocketDisconnected` once a disconnect was received.
    fn _receive_phase(&self, py: Python<'_>) -> PyResult<u8> {
        state::receive_phase(load(&self.client_state))
            .map(phase_code)
            .map_err(|e| state_error(py, e))
    }

    /// Before `receive_text`/`receive_bytes`/`receive_json`: the app must have accepted; then as
    /// `_receive_phase`.
    fn _receive_data_phase(&self, py: Python<'_>) -> PyResult<u8> {
        state::check_app_connected(load(&self.application_state))
            .map_err(|e| state_error(py, e))?;
        self._receive_phase(py)
    }

    /// After `receive()` returned: validate the message type and move the client state.
    fn _after_receive(&self, message: &Bound<'_, PyAny>, phase: u8) -> PyResult<()> {
        let phase = if phase == 0 {
            ReceivePhase::Connect
        } else {
            ReceivePhase::Stream
        };
        self.finish_receive(message, phase).map(|_| ())
    }

    /// After `receive()` in `receive_text`: as `_after_receive`, then the text (or
    /// `WebSocketDisconnect`).
    fn _take_text<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        phase: u8,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.take_payload(message, phase, intern!(message.py(), "text"))
    }

    /// As `_take_text`, for `bytes`.
    fn _take_bytes<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        phase: u8,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.take_payload(message, phase, intern!(message.py(), "bytes"))
    }

    /// Before awaiting `send(message)`: validate and move the application state. Returns
    /// whether an `OSError` from the server means the peer is gone (`WebSocketDisconnect(1006)`).
    fn _send_step(&self, message: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = message.py();
        let kind = message_type(message)?;
        let (text, _) = type_text(&kind)?;
        let current = load(&self.application_state);
        let step = state::send_step(current, text.as_deref(), "").or_else(|_| {
            state::send_step(current, text.as_deref(), &repr_of(&kind)?)
                .map_err(|e| state_error(py, e))
        })?;
        match step {
            SendStep::Move {
                to,
                oserror_is_disconnect,
            } => {
                store(&self.application_state, to);
                Ok(oserror_is_disconnect)
            }
            SendStep::ResponseBody => {
                let more_body = match message.cast::<PyDict>() {
                    Ok(dict) => dict.get_item(intern!(py, "more_body"))?,
                    Err(_) => Some(
                        message
                            .call_method1(intern!(py, "get"), (intern!(py, "more_body"), false))?,
                    ),
                };
                let more = match more_body {
                    Some(value) => value.is_truthy()?,
                    None => false,
                };
                if !more {
                    store(&self.application_state, State::Disconnected);
                }
                Ok(false)
            }
        }
    }

    /// The server's send raised `OSError`: the application side is over.
    fn _app_disconnected(&self) {
        store(&self.application_state, State::Disconnected);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.scope)?;
        if let Some(url) = self.url.get() {
            visit.call(url)?;
        }
        if let Some(headers) = self.headers.get() {
            visit.call(headers)?;
        }
        if let Some(params) = self.query_params.get() {
            visit.call(params)?;
        }
        Ok(())
    }
}
