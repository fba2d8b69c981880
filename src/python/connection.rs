//! `Connection`: the Rust base class of `ferrosocket.WebSocket`.
//!
//! It holds the scope, the two connection states, the lazily built views of the scope (`url`,
//! `headers`, `query_params`) and the peer's close code. The async methods live in the Python
//! subclass; around each awaited `receive()`/`send()` they call the checks here, which validate
//! the message, decide the state transition and raise Starlette's exceptions.
//!
//! Where ferrosocket is stricter than Starlette (docs/differences.md): outgoing messages are
//! validated before any I/O; a state move that depends on a send (accept, close, a denial
//! response) is committed only after the server's send returned, so a cancelled or failed
//! close can be retried; sends after the peer disconnected raise `WebSocketDisconnect` at once;
//! one task at a time may wait in `receive()`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::{PyAssertionError, PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyDict, PyInt, PyString, PyTuple};
use pyo3::{intern, PyTraverseError, PyVisit};

use crate::state::{self, ReceivePhase, SendStep, State};

use super::errors::state_error;
use super::headers::Headers;
use super::json;
use super::outgoing;
use super::query_params::QueryParams;
use super::registry::{disconnect_class, state_member, unexpected_message_class};
use super::url::{scope_get, url_for_scope};

/// The code a disconnect without a `code` key is read as: "no status received" (RFC 6455).
const NO_STATUS_CODE: i64 = 1005;
/// The code for a connection lost without a close frame.
const ABNORMAL_CLOSURE: i64 = 1006;

/// `WebSocketDisconnect(code=1006)`, built as Starlette builds it (a keyword argument: its
/// `args` stay empty).
fn abnormal_closure<'py>(cls: &Bound<'py, pyo3::types::PyType>) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(cls.py());
    kwargs.set_item(intern!(cls.py(), "code"), ABNORMAL_CLOSURE)?;
    cls.call((), Some(&kwargs))
}

/// What a send step tells the Python side, as bit flags in an int (cheap to return):
/// bit 0: an `OSError` from the server's send means the peer is gone; bits 1-3: the application
/// state to commit after the send returned, plus one (0: no change).
const STEP_OSERROR_IS_DISCONNECT: u8 = 1;

fn step_flags(commit: Option<State>, oserror_is_disconnect: bool) -> u8 {
    let commit_bits = commit.map_or(0, |s| (s.value() + 1) << 1);
    commit_bits | (u8::from(oserror_is_disconnect) * STEP_OSERROR_IS_DISCONNECT)
}

/// The Python objects a connection holds. Behind a mutex so the garbage collector can clear
/// them (`__clear__`); never held while Python code runs.
#[derive(Default)]
struct Refs {
    scope: Option<Py<PyAny>>,
    url: Option<Py<PyAny>>,
    headers: Option<Py<Headers>>,
    query_params: Option<Py<QueryParams>>,
    /// The peer's close code and reason (as the message had it: None when missing), once a
    /// disconnect was received.
    close: Option<(Py<PyAny>, Py<PyAny>)>,
}

#[pyclass(frozen, subclass, module = "ferrosocket._core")]
pub struct Connection {
    client_state: AtomicU8,
    application_state: AtomicU8,
    /// A task is waiting in `receive()`.
    receiving: AtomicBool,
    refs: Mutex<Refs>,
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

/// `message.get(key)` for dicts and other mappings.
fn get<'py>(
    message: &Bound<'py, PyAny>,
    key: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    match message.cast::<PyDict>() {
        Ok(dict) => dict.get_item(key),
        Err(_) => {
            let value = message.call_method1(intern!(message.py(), "get"), (key,))?;
            Ok(if value.is_none() { None } else { Some(value) })
        }
    }
}

/// `message["type"]` as text (None when it is not a str), and the object itself. `in_set`:
/// Starlette tests this type with `in {...}` here (not `!=`), where an unhashable type raises
/// `TypeError`.
fn message_type<'py>(
    message: &Bound<'py, PyAny>,
    in_set: bool,
) -> PyResult<(Option<PyBackedStr>, Bound<'py, PyAny>)> {
    let py = message.py();
    let kind = match get(message, intern!(py, "type"))? {
        Some(kind) => kind,
        None => return Err(PyKeyError::new_err("type")),
    };
    if in_set {
        kind.hash()?;
    }
    let text = match kind.cast::<PyString>() {
        // Borrowed, not copied: the str's UTF-8 form (cached by CPython for ASCII).
        Ok(s) => Some(PyBackedStr::try_from(s.clone())?),
        Err(_) => None,
    };
    Ok((text, kind))
}

/// `{"type": "websocket.send", key: payload}`: the message of `send_text`/`send_bytes`/`send_json`.
fn send_message<'py>(
    key: &Bound<'py, PyString>,
    payload: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let py = key.py();
    let message = PyDict::new(py);
    message.set_item(intern!(py, "type"), intern!(py, "websocket.send"))?;
    message.set_item(key, payload)?;
    Ok(message)
}

fn lock(refs: &Mutex<Refs>) -> MutexGuard<'_, Refs> {
    // A poisoned lock only means a panic elsewhere; the data is still consistent.
    refs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn phase_from_code(phase: u8) -> ReceivePhase {
    if phase == 0 {
        ReceivePhase::Connect
    } else {
        ReceivePhase::Stream
    }
}

impl Connection {
    fn scope<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        lock(&self.refs)
            .scope
            .as_ref()
            .map(|s| s.bind(py).clone())
            .ok_or_else(|| PyRuntimeError::new_err("the connection was cleared"))
    }

    /// `WebSocketDisconnect(code, reason)` of the peer's disconnect (1006 if none was seen).
    fn peer_gone(&self, py: Python<'_>) -> PyErr {
        let close = lock(&self.refs)
            .close
            .as_ref()
            .map(|(code, reason)| (code.clone_ref(py), reason.clone_ref(py)));
        let build = || -> PyResult<PyErr> {
            let cls = disconnect_class(py)?;
            let exc = match close {
                Some((code, reason)) => cls.call1((code, reason))?,
                None => abnormal_closure(&cls)?,
            };
            Ok(PyErr::from_value(exc))
        };
        build().unwrap_or_else(|err| err)
    }

    /// After a `receive()` returned `message`: the type must fit the phase; the client state
    /// moves; a disconnect is recorded. Returns whether it was a disconnect.
    fn finish_receive(&self, message: &Bound<'_, PyAny>, phase: ReceivePhase) -> PyResult<bool> {
        let py = message.py();
        self.receiving.store(false, Ordering::Release);
        let (text, kind) = message_type(message, phase == ReceivePhase::Stream)?;
        let moved = match state::after_receive(phase, text.as_deref(), "") {
            Ok(moved) => moved,
            Err(_) => {
                let repr = kind.repr()?.to_string();
                return Err(
                    state::after_receive(phase, text.as_deref(), &repr).map_or_else(
                        |e| state_error(py, e),
                        |_| PyRuntimeError::new_err("unreachable"),
                    ),
                );
            }
        };
        let disconnected = moved == Some(State::Disconnected);
        if disconnected {
            let code = match get(message, intern!(py, "code"))? {
                Some(code) => code,
                None => PyInt::new(py, NO_STATUS_CODE).into_any(),
            };
            // Kept as the message had it: Starlette builds `WebSocketDisconnect(code, reason)`
            // from `message.get("reason")`, and its args show it.
            let reason =
                get(message, intern!(py, "reason"))?.unwrap_or_else(|| py.None().into_bound(py));
            // Swap under the lock, drop the old value (if any) after it: a decref can run Python.
            let old = lock(&self.refs)
                .close
                .replace((code.unbind(), reason.unbind()));
            drop(old);
        }
        if let Some(to) = moved {
            store(&self.client_state, to);
        }
        Ok(disconnected)
    }

    /// `receive_text`/`receive_bytes`: the payload under `key`, `WebSocketDisconnect` for a
    /// disconnect, and a clear error when the message holds the other kind of payload.
    fn take_payload<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        phase: u8,
        text: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = message.py();
        if self.finish_receive(message, phase_from_code(phase))? {
            return Err(self.peer_gone(py));
        }
        if phase_from_code(phase) == ReceivePhase::Connect {
            // Starlette would look up the payload of the connect message: a KeyError.
            let key = if text { "text" } else { "bytes" };
            return Err(PyKeyError::new_err(key));
        }
        let (key, other) = if text {
            (intern!(py, "text"), intern!(py, "bytes"))
        } else {
            (intern!(py, "bytes"), intern!(py, "text"))
        };
        match get(message, key)? {
            Some(value) if !value.is_none() => {
                let ok = if text {
                    value.is_instance_of::<PyString>()
                } else {
                    value.is_instance_of::<PyBytes>()
                        || value.is_instance_of::<pyo3::types::PyByteArray>()
                        || value.is_instance_of::<pyo3::types::PyMemoryView>()
                };
                if ok {
                    Ok(value)
                } else {
                    let wanted = if text { "str" } else { "bytes" };
                    Err(PyTypeError::new_err(format!(
                        "the server sent a {:?} payload of type {}, not {wanted}",
                        key.to_cow()?,
                        value.get_type().name()?
                    )))
                }
            }
            _ => {
                let has_other = get(message, other)?.is_some_and(|v| !v.is_none());
                let text_msg = match (text, has_other) {
                    (true, true) => {
                        "receive_text() got a binary message: use receive_bytes() or receive()"
                    }
                    (false, true) => {
                        "receive_bytes() got a text message: use receive_text() or receive()"
                    }
                    (_, false) => {
                        "the server sent a websocket.receive message with neither text nor bytes"
                    }
                };
                let cls = unexpected_message_class(py)?;
                Err(PyErr::from_value(cls.call1((text_msg,))?))
            }
        }
    }

    /// The state step for a send of `message`, validating the payload. Returns the message to
    /// send (a normalised copy where needed) and the step flags, or `None` when the message is a
    /// close after the peer already disconnected (nothing to send).
    fn prepare<'py>(
        &self,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Option<(Bound<'py, PyAny>, u8)>> {
        let py = message.py();
        let current = load(&self.application_state);
        if current == State::Disconnected {
            // As Starlette: the state is checked before the message is read.
            return Err(state_error(
                py,
                state::StateError::Disconnected(state::SEND_AFTER_CLOSE),
            ));
        }
        let (text, kind) = message_type(message, current != State::Response)?;
        let step = match state::send_step(current, text.as_deref(), "") {
            Ok(step) => step,
            Err(_) => {
                let repr = kind.repr()?.to_string();
                return Err(
                    state::send_step(current, text.as_deref(), &repr).map_or_else(
                        |e| state_error(py, e),
                        |_| PyRuntimeError::new_err("unreachable"),
                    ),
                );
            }
        };
        let peer_gone = load(&self.client_state) == State::Disconnected;
        match text.as_deref() {
            Some("websocket.send") => {
                let payload = check_send_payload(message)?;
                if peer_gone {
                    return Err(self.peer_gone(py));
                }
                let out = payload.unwrap_or_else(|| message.clone());
                Ok(Some((out, step_flags(None, true))))
            }
            Some("websocket.close") => {
                let out = check_close(message)?;
                let oserror = matches!(
                    step,
                    SendStep::Move {
                        oserror_is_disconnect: true,
                        ..
                    }
                );
                if peer_gone && current == State::Connected {
                    // The peer is gone: a close frame cannot go out. The app side is done.
                    store(&self.application_state, State::Disconnected);
                    return Ok(None);
                }
                Ok(Some((out, step_flags(Some(State::Disconnected), oserror))))
            }
            Some("websocket.accept") => {
                let out = check_accept(&self.scope(py)?, message)?;
                Ok(Some((out, step_flags(Some(State::Connected), true))))
            }
            Some("websocket.http.response.start") => {
                let out = check_denial_start(message)?;
                Ok(Some((out, step_flags(Some(State::Response), false))))
            }
            Some("websocket.http.response.body") => {
                let (out, more) = check_denial_body(message)?;
                let commit = if more {
                    None
                } else {
                    Some(State::Disconnected)
                };
                Ok(Some((out, step_flags(commit, false))))
            }
            _ => Err(PyRuntimeError::new_err("unreachable message type")),
        }
    }
}

/// `websocket.send`: exactly one payload, `text` a str or `bytes` bytes-like. Returns a copy
/// when the payload had to become `bytes`.
fn check_send_payload<'py>(message: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = message.py();
    let text = get(message, intern!(py, "text"))?.filter(|v| !v.is_none());
    let bytes = get(message, intern!(py, "bytes"))?.filter(|v| !v.is_none());
    match (text, bytes) {
        (Some(text), None) => {
            outgoing::text_payload(&text, "a websocket.send message's 'text'")?;
            Ok(None)
        }
        (None, Some(bytes)) => {
            let payload = outgoing::bytes_payload(&bytes, "a websocket.send message's 'bytes'")?;
            if payload.is(&bytes) {
                return Ok(None);
            }
            let copy = PyDict::new(py);
            copy.set_item(intern!(py, "type"), intern!(py, "websocket.send"))?;
            copy.set_item(intern!(py, "bytes"), payload)?;
            Ok(Some(copy.into_any()))
        }
        _ => Err(PyValueError::new_err(
            "a websocket.send message must carry exactly one payload: 'text' (str) or 'bytes' (bytes-like)",
        )),
    }
}

/// `websocket.close`: a sendable code (default 1000) and a str reason of at most 123 bytes.
fn check_close<'py>(message: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = message.py();
    let code = get(message, intern!(py, "code"))?;
    if let Some(code) = &code {
        outgoing::close_code(code)?;
    }
    let reason = get(message, intern!(py, "reason"))?;
    let checked = outgoing::close_reason(py, reason.as_ref())?;
    if code.is_some() && reason.as_ref().is_some_and(|r| r.is(&checked)) {
        return Ok(message.clone());
    }
    let copy = PyDict::new(py);
    copy.set_item(intern!(py, "type"), intern!(py, "websocket.close"))?;
    copy.set_item(
        intern!(py, "code"),
        code.unwrap_or_else(|| PyInt::new(py, 1000).into_any()),
    )?;
    copy.set_item(intern!(py, "reason"), checked)?;
    Ok(copy.into_any())
}

/// `websocket.accept`: an offered subprotocol and checked headers, sent as a fresh list.
fn check_accept<'py>(
    scope: &Bound<'py, PyAny>,
    message: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = message.py();
    let subprotocol = get(message, intern!(py, "subprotocol"))?;
    if let Some(sub) = &subprotocol {
        outgoing::subprotocol(scope, sub)?;
    }
    let headers = get(message, intern!(py, "headers"))?;
    let headers = outgoing::header_list(py, headers.as_ref(), true)?;
    let copy = PyDict::new(py);
    copy.set_item(intern!(py, "type"), intern!(py, "websocket.accept"))?;
    copy.set_item(intern!(py, "subprotocol"), subprotocol)?;
    copy.set_item(intern!(py, "headers"), headers)?;
    Ok(copy.into_any())
}

/// `websocket.http.response.start`: a status in 100-599 and checked headers.
fn check_denial_start<'py>(message: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = message.py();
    let status = get(message, intern!(py, "status"))?
        .ok_or_else(|| PyValueError::new_err("a denial response needs a 'status'"))?;
    outgoing::denial_status(&status)?;
    let headers = get(message, intern!(py, "headers"))?;
    let headers = outgoing::header_list(py, headers.as_ref(), false)?;
    let copy = PyDict::new(py);
    if let Ok(dict) = message.cast::<PyDict>() {
        copy.update(dict.as_mapping())?;
    }
    copy.set_item(
        intern!(py, "type"),
        intern!(py, "websocket.http.response.start"),
    )?;
    copy.set_item(intern!(py, "status"), status)?;
    copy.set_item(intern!(py, "headers"), headers)?;
    Ok(copy.into_any())
}

/// `websocket.http.response.body`: always with a bytes `body` (b"" when missing). Returns the
/// message to send and whether more body follows.
fn check_denial_body<'py>(message: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, bool)> {
    let py = message.py();
    let more = match get(message, intern!(py, "more_body"))? {
        Some(value) => value.is_truthy()?,
        None => false,
    };
    let body = get(message, intern!(py, "body"))?.filter(|b| !b.is_none());
    let body = match body {
        Some(body) => {
            let checked = outgoing::bytes_payload(&body, "a denial response body")?;
            if checked.is(&body) {
                return Ok((message.clone(), more));
            }
            checked
        }
        None => PyBytes::new(py, b"").into_any(),
    };
    let copy = PyDict::new(py);
    copy.set_item(
        intern!(py, "type"),
        intern!(py, "websocket.http.response.body"),
    )?;
    copy.set_item(intern!(py, "body"), body)?;
    copy.set_item(intern!(py, "more_body"), more)?;
    Ok((copy.into_any(), more))
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
        if !kind.eq(intern!(py, "websocket"))? {
            return Err(PyAssertionError::new_err(()));
        }
        Ok(Connection {
            client_state: AtomicU8::new(State::Connecting.value()),
            application_state: AtomicU8::new(State::Connecting.value()),
            receiving: AtomicBool::new(false),
            refs: Mutex::new(Refs {
                scope: Some(scope.unbind()),
                ..Refs::default()
            }),
        })
    }

    /// The ASGI scope, held by reference.
    #[getter(scope)]
    fn get_scope<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.scope(py)
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.scope(py)?.get_item(key)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.scope(py)?.try_iter()?.into_any())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.scope(py)?.len()
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

    /// The peer's close code, once a disconnect was received (1005 if it had none), else None.
    #[getter]
    fn close_code<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        lock(&self.refs)
            .close
            .as_ref()
            .map(|(code, _)| code.bind(py).clone())
    }

    /// The peer's close reason (`""` when it sent none), once a disconnect was received, else
    /// None.
    #[getter]
    fn close_reason<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let reason = lock(&self.refs)
            .close
            .as_ref()
            .map(|(_, reason)| reason.bind(py).clone());
        match reason {
            Some(reason) if reason.is_truthy()? => Ok(Some(reason)),
            Some(_) => Ok(Some(PyString::intern(py, "").into_any())),
            None => Ok(None),
        }
    }

    /// The URL, a `str` subclass with the parsed components.
    #[getter]
    fn url<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(url) = &lock(&self.refs).url {
            return Ok(url.bind(py).clone());
        }
        let url = url_for_scope(&self.scope(py)?)?;
        Ok(lock(&self.refs)
            .url
            .get_or_insert_with(|| url.unbind())
            .bind(py)
            .clone())
    }

    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, Headers>> {
        if let Some(headers) = &lock(&self.refs).headers {
            return Ok(headers.bind(py).clone());
        }
        let headers = Py::new(py, Headers::from_scope(&self.scope(py)?)?)?;
        Ok(lock(&self.refs)
            .headers
            .get_or_insert(headers)
            .bind(py)
            .clone())
    }

    #[getter]
    fn query_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, QueryParams>> {
        if let Some(params) = &lock(&self.refs).query_params {
            return Ok(params.bind(py).clone());
        }
        let raw = self.scope(py)?.get_item(intern!(py, "query_string"))?;
        let params = match raw.cast::<PyBytes>() {
            Ok(bytes) => Py::new(py, QueryParams::from_query_bytes(py, bytes.as_bytes())?)?,
            // Not bytes: hand it to the constructor, as Starlette does.
            Err(_) => py
                .get_type::<QueryParams>()
                .call1((raw,))?
                .cast_into::<QueryParams>()?
                .unbind(),
        };
        Ok(lock(&self.refs)
            .query_params
            .get_or_insert(params)
            .bind(py)
            .clone())
    }

    /// `scope.get("path_params", {})`.
    #[getter]
    fn path_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(
            match scope_get(&self.scope(py)?, intern!(py, "path_params"))? {
                Some(params) => params,
                None => PyDict::new(py).into_any(),
            },
        )
    }

    #[getter]
    fn app<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.scope(py)?.get_item(intern!(py, "app"))
    }

    // --- Checks around the awaited I/O, called by the Python subclass. ---

    /// Before awaiting `receive()`: the phase (0: expecting connect, 1: streaming), or
    /// `WebSocketDisconnected` once a disconnect was received, or `RuntimeError` when another
    /// task is already waiting in `receive()`.
    fn _receive_phase(&self, py: Python<'_>) -> PyResult<u8> {
        let phase =
            state::receive_phase(load(&self.client_state)).map_err(|e| state_error(py, e))?;
        if self
            .receiving
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(PyRuntimeError::new_err(
                "another task is already waiting in receive() on this WebSocket: receive from one task only",
            ));
        }
        Ok(match phase {
            ReceivePhase::Connect => 0,
            ReceivePhase::Stream => 1,
        })
    }

    /// Before `receive_text`/`receive_bytes`/`receive_json`: the app must have accepted; then as
    /// `_receive_phase`.
    fn _receive_data_phase(&self, py: Python<'_>) -> PyResult<u8> {
        state::check_app_connected(load(&self.application_state))
            .map_err(|e| state_error(py, e))?;
        self._receive_phase(py)
    }

    /// The awaited `receive()` raised or was cancelled: nothing was received.
    fn _receive_aborted(&self) {
        self.receiving.store(false, Ordering::Release);
    }

    /// After `receive()` returned: validate the message type and move the client state.
    fn _after_receive(&self, message: &Bound<'_, PyAny>, phase: u8) -> PyResult<()> {
        self.finish_receive(message, phase_from_code(phase))
            .map(|_| ())
    }

    /// After `receive()` in `receive_text`: as `_after_receive`, then the text (or
    /// `WebSocketDisconnect`).
    fn _take_text<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        phase: u8,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.take_payload(message, phase, true)
    }

    /// As `_take_text`, for `bytes`.
    fn _take_bytes<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        phase: u8,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.take_payload(message, phase, false)
    }

    /// Before awaiting `send(message)`: validate the message and check the state. Returns
    /// `(message_to_send, step)` or None when there is nothing to send (a close after the peer
    /// left). `step`: bit 0, an OSError means the peer is gone; `step >> 1`, the state to
    /// commit after the send, plus one.
    fn _prepare_send<'py>(
        &self,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        match self.prepare(message)? {
            None => Ok(None),
            Some((out, step)) => Ok(Some(PyTuple::new(
                message.py(),
                [out, PyInt::new(message.py(), step).into_any()],
            )?)),
        }
    }

    /// `send_text(data)`: the message to send (state and payload checked).
    fn _text_message<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let py = data.py();
        outgoing::text_payload(data, "send_text()")?;
        self.check_can_send_data(py)?;
        send_message(intern!(py, "text"), data)
    }

    /// `send_bytes(data)`: the message to send (state and payload checked).
    fn _bytes_message<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let py = data.py();
        let payload = outgoing::bytes_payload(data, "send_bytes()")?;
        self.check_can_send_data(py)?;
        send_message(intern!(py, "bytes"), &payload)
    }

    /// `send_json(data, mode)`: the message to send, `data` encoded as `json.dumps` would
    /// (`text`: the truth of `mode == "text"`), then checked as `send_text`/`send_bytes` check.
    fn _json_message<'py>(
        &self,
        data: &Bound<'py, PyAny>,
        text: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let py = data.py();
        let (key, payload) = if text.is_truthy()? {
            (intern!(py, "text"), json::dumps_text_frame(data)?)
        } else {
            (intern!(py, "bytes"), json::dumps_bytes(data)?)
        };
        self.check_can_send_data(py)?;
        send_message(key, &payload)
    }

    /// After the awaited send returned: commit the state the step named.
    fn _commit(&self, step: u8) {
        let commit = step >> 1;
        if commit != 0 {
            if let Some(state) = State::from_value(commit - 1) {
                store(&self.application_state, state);
            }
        }
    }

    /// The server's send raised `OSError`: the application side is over. Returns the
    /// `WebSocketDisconnect(1006)` to raise.
    fn _app_disconnected<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        store(&self.application_state, State::Disconnected);
        abnormal_closure(&disconnect_class(py)?)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never block in the collector: a lock held elsewhere only hides references for
        // this round (the objects then look reachable, which is safe).
        let Ok(refs) = self.refs.try_lock() else {
            return Ok(());
        };
        visit.call(&refs.scope)?;
        visit.call(&refs.url)?;
        visit.call(&refs.headers)?;
        visit.call(&refs.query_params)?;
        if let Some((code, reason)) = &refs.close {
            visit.call(code)?;
            visit.call(reason)?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        let taken = std::mem::take(&mut *lock(&self.refs));
        drop(taken);
    }
}

impl Connection {
    /// `send_text`/`send_bytes` need an accepted connection whose peer has not left.
    fn check_can_send_data(&self, py: Python<'_>) -> PyResult<()> {
        match load(&self.application_state) {
            State::Connected if load(&self.client_state) == State::Disconnected => {
                Err(self.peer_gone(py))
            }
            State::Connected => Ok(()),
            current => {
                let err = state::send_step(current, Some("websocket.send"), "'websocket.send'")
                    .err()
                    .map(|e| state_error(py, e));
                Err(err.unwrap_or_else(|| PyRuntimeError::new_err("cannot send")))
            }
        }
    }
}
