//! `Connection`: the Rust base class of `ferrosocket.WebSocket`.
//!
//! It holds the scope, the two connection states, the lazily built views of the scope (`url`,
//! `headers`, `query_params`, `cookies`) and the peer's close code. The async methods live in the Python
//! subclass; each is: a check here (`_begin_*`, or `_text_message` and the like), the awaited
//! ASGI callable in Python, then a commit here (`_finish_receive*`, `_commit`, `_send_failed`).
//!
//! Where ferrosocket is stricter than Starlette (docs/differences.md): outgoing messages are
//! validated before any I/O; a state move that depends on a send (accept, close, a denial
//! response) is committed only after the server's send returned, so a cancelled or failed
//! close can be retried, while later sends are already checked against the state it moves to
//! (as Starlette checks them); sends after the peer disconnected raise `WebSocketDisconnect` at
//! once; one task at a time may wait in `receive()`.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::{PyAssertionError, PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyDict, PyInt, PyString, PyTuple};
use pyo3::{intern, PyTraverseError, PyVisit};

use crate::state::{self, Incoming, Outgoing, ReceivePhase, State, StateError};

use super::address::address_of;
use super::cookies::cookies_of_headers;
use super::errors::state_error;
use super::headers::Headers;
use super::json;
use super::outgoing::{self, CloseGoes};
use super::pending_send::PendingSend;
use super::py_objects::{disconnect_class, imported, state_member, unexpected_message_class};
use super::query_params::QueryParams;
use super::tools::{get_item, get_or, is_bytes_like, type_name};
use super::url::url_for_scope;

/// The code a disconnect without a `code` key is read as: "no status received" (RFC 6455).
const NO_STATUS_CODE: i64 = 1005;
/// The code for a connection lost without a close frame.
const ABNORMAL_CLOSURE: i64 = 1006;

/// `WebSocketDisconnect(code=1006)`, built as Starlette builds it (a keyword argument: its
/// `args` stay empty).
fn abnormal_closure(py: Python<'_>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "code"), ABNORMAL_CLOSURE)?;
        Ok(PyErr::from_value(
            disconnect_class(py)?.call((), Some(&kwargs))?,
        ))
    };
    build().unwrap_or_else(|err| err)
}

/// A `State` in an atomic (the pyclass is frozen and shared).
struct StateCell(AtomicU8);

impl StateCell {
    fn new(state: State) -> Self {
        StateCell(AtomicU8::new(state.value()))
    }

    fn get(&self) -> State {
        // Only `State` values are ever stored.
        State::from_value(self.0.load(Ordering::Acquire)).unwrap_or(State::Disconnected)
    }

    fn set(&self, state: State) {
        self.0.store(state.value(), Ordering::Release);
    }

    /// The state as the registered `WebSocketState` member (the attribute's value in Python).
    fn member<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        state_member(py, self.get().value())
    }

    /// Sets the state from a `WebSocketState` member (an assignment to the attribute).
    fn assign(&self, member: &Bound<'_, PyAny>) -> PyResult<()> {
        self.set(state_from_object(member)?);
        Ok(())
    }
}

/// An `Option<State>` in an atomic.
struct MaybeStateCell(AtomicU8);

const NO_STATE: u8 = u8::MAX;

impl MaybeStateCell {
    fn get(&self) -> Option<State> {
        State::from_value(self.0.load(Ordering::Acquire))
    }

    fn set(&self, state: State) {
        self.0.store(state.value(), Ordering::Release);
    }

    /// Empties the cell if it still holds `state` (a later move keeps its own).
    fn clear_if(&self, state: State) {
        let _ =
            self.0
                .compare_exchange(state.value(), NO_STATE, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// The receive in progress, and what it expects: one task at a time may wait in `receive()`.
struct ReceiveSlot(AtomicU8);

const IDLE: u8 = 0;
const EXPECTING_CONNECT: u8 = 1;
const STREAMING: u8 = 2;

impl ReceiveSlot {
    /// Claims the slot for a receive in `phase`; false when another task holds it.
    fn claim(&self, phase: ReceivePhase) -> bool {
        let code = match phase {
            ReceivePhase::Connect => EXPECTING_CONNECT,
            ReceivePhase::Stream => STREAMING,
        };
        self.0
            .compare_exchange(IDLE, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Frees the slot; returns the phase it was claimed for.
    fn release(&self) -> Option<ReceivePhase> {
        match self.0.swap(IDLE, Ordering::AcqRel) {
            EXPECTING_CONNECT => Some(ReceivePhase::Connect),
            STREAMING => Some(ReceivePhase::Stream),
            _ => None,
        }
    }
}

/// The Python objects a connection holds. Behind a mutex so the garbage collector can clear
/// them (`__clear__`); never held while Python code runs.
#[derive(Default)]
struct Refs {
    scope: Option<Py<PyAny>>,
    url: Option<Py<PyAny>>,
    headers: Option<Py<Headers>>,
    query_params: Option<Py<QueryParams>>,
    cookies: Option<Py<PyDict>>,
    /// The peer's close code and reason (as the message had it: None when missing), once a
    /// disconnect was received.
    close: Option<(Py<PyAny>, Py<PyAny>)>,
}

fn lock(refs: &Mutex<Refs>) -> MutexGuard<'_, Refs> {
    // A poisoned lock only means a panic elsewhere; the data is still consistent.
    refs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Which payload a receive method takes, and which method it is (for its error messages).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Payload {
    /// `receive_text()`
    Text,
    /// `receive_bytes()`
    Bytes,
    /// `receive_json()` (`mode="text"`)
    JsonText,
    /// `receive_json(mode="binary")`
    JsonBytes,
}

impl Payload {
    fn is_text(self) -> bool {
        matches!(self, Payload::Text | Payload::JsonText)
    }

    /// The error for a message that holds the other kind of payload.
    fn wrong_frame(self) -> &'static str {
        match self {
            Payload::Text => {
                "receive_text() got a binary message: use receive_bytes() or receive()"
            }
            Payload::Bytes => "receive_bytes() got a text message: use receive_text() or receive()",
            Payload::JsonText => {
                r#"receive_json() got a binary message: use receive_json(mode="binary") or receive()"#
            }
            Payload::JsonBytes => {
                r#"receive_json(mode="binary") got a text message: use receive_json() or receive()"#
            }
        }
    }
}

/// A message's `type`, matched once: the object (for error messages) and its text, borrowed.
struct MessageType<'py> {
    object: Bound<'py, PyAny>,
    text: Option<PyBackedStr>,
}

impl<'py> MessageType<'py> {
    /// `message["type"]`. `hashed`: Starlette tests this type with `in {...}` here (not `==`),
    /// where an unhashable type raises `TypeError`.
    fn of(message: &Bound<'py, PyAny>, hashed: bool) -> PyResult<Self> {
        let object = get_item(message, intern!(message.py(), "type"))?
            .ok_or_else(|| PyKeyError::new_err("type"))?;
        // An exact str always hashes (its hash is cached): only other types can raise here.
        if hashed && !object.is_exact_instance_of::<PyString>() {
            object.hash()?;
        }
        let text = match object.cast::<PyString>() {
            // Borrowed, not copied: the str's UTF-8 form (cached by CPython for ASCII).
            Ok(s) => Some(PyBackedStr::try_from(s.clone())?),
            Err(_) => None,
        };
        Ok(MessageType { object, text })
    }

    fn error(&self, err: StateError) -> PyErr {
        state_error(self.object.py(), err, Some(&self.object))
    }
}

#[pyclass(frozen, subclass, module = "ferrosocket._core")]
pub struct Connection {
    client_state: StateCell,
    application_state: StateCell,
    /// The application state that a move already handed to the server (accept, close, a denial
    /// response) commits once its send returns. Later sends are checked against it, as
    /// Starlette checks them against its state, which moves before the send.
    moving_to: MaybeStateCell,
    receiving: ReceiveSlot,
    refs: Mutex<Refs>,
}

impl Connection {
    fn scope<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        lock(&self.refs)
            .scope
            .as_ref()
            .map(|s| s.bind(py).clone())
            .ok_or_else(|| PyRuntimeError::new_err("the connection was cleared"))
    }

    /// Stores `value` in the slot `field` picks unless another value got there first (built by a
    /// finalizer or another thread meanwhile); returns the one kept. The loser is dropped after
    /// the lock is released: a decref can run Python code, which may read this connection.
    fn keep_first<'py, T>(
        &self,
        py: Python<'py>,
        field: impl FnOnce(&mut Refs) -> &mut Option<Py<T>>,
        value: Py<T>,
    ) -> Bound<'py, T> {
        let (kept, loser) = {
            let mut refs = lock(&self.refs);
            let slot = field(&mut refs);
            match slot {
                Some(first) => (first.clone_ref(py), Some(value)),
                None => (slot.insert(value).clone_ref(py), None),
            }
        };
        drop(loser);
        kept.into_bound(py)
    }

    /// The application state sends are checked against: the committed one, or the one a move
    /// on its way to the server will commit.
    fn app_state_for_sends(&self) -> State {
        self.moving_to
            .get()
            .unwrap_or_else(|| self.application_state.get())
    }

    /// `WebSocketDisconnect(code, reason)` of the peer's disconnect (1006 if none was seen).
    fn peer_gone(&self, py: Python<'_>) -> PyErr {
        let close = lock(&self.refs)
            .close
            .as_ref()
            .map(|(code, reason)| (code.clone_ref(py), reason.clone_ref(py)));
        let Some((code, reason)) = close else {
            return abnormal_closure(py);
        };
        match disconnect_class(py).and_then(|cls| cls.call1((code, reason))) {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        }
    }

    /// After a `receive()` returned `message`: the type must fit the phase; the client state
    /// moves; a disconnect is recorded.
    fn finish_receive(&self, message: &Bound<'_, PyAny>) -> PyResult<Incoming> {
        let py = message.py();
        let phase = self
            .receiving
            .release()
            .ok_or_else(|| PyRuntimeError::new_err("no receive() is in progress"))?;
        let kind = MessageType::of(message, phase == ReceivePhase::Stream)?;
        let incoming = state::after_receive(phase, Incoming::from_type(kind.text.as_deref()))
            .map_err(|e| kind.error(e))?;
        if incoming == Incoming::Disconnect {
            let code = get_or(
                message,
                intern!(py, "code"),
                PyInt::new(py, NO_STATUS_CODE).into_any(),
            )?;
            // Kept as the message had it: Starlette builds `WebSocketDisconnect(code, reason)`
            // from `message.get("reason")`, and its args show it.
            let reason = get_or(message, intern!(py, "reason"), py.None().into_bound(py))?;
            // Swap under the lock, drop the old value (if any) after it: a decref can run Python.
            let old = lock(&self.refs)
                .close
                .replace((code.unbind(), reason.unbind()));
            drop(old);
        }
        if let Some(to) = incoming.client_state() {
            self.client_state.set(to);
        }
        Ok(incoming)
    }

    /// `receive_text`/`receive_bytes`: the payload, `WebSocketDisconnect` for a disconnect, and a
    /// clear error when the message holds the other kind of payload.
    fn take_payload<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        payload: Payload,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = message.py();
        let (key, other, wanted) = if payload.is_text() {
            (intern!(py, "text"), intern!(py, "bytes"), "str")
        } else {
            (intern!(py, "bytes"), intern!(py, "text"), "bytes")
        };
        match self.finish_receive(message)? {
            Incoming::Disconnect => return Err(self.peer_gone(py)),
            // Starlette would look up the payload of the connect message: a KeyError.
            Incoming::Connect => return Err(PyKeyError::new_err(key.clone().unbind())),
            Incoming::Receive => {}
        }
        match get_item(message, key)?.filter(|v| !v.is_none()) {
            Some(value) => {
                let ok = if payload.is_text() {
                    value.is_instance_of::<PyString>()
                } else {
                    is_bytes_like(&value)
                };
                if ok {
                    Ok(value)
                } else {
                    Err(PyTypeError::new_err(format!(
                        "the server sent a {:?} payload of type {}, not {wanted}",
                        key.to_cow()?,
                        type_name(&value)
                    )))
                }
            }
            None => {
                let has_other = get_item(message, other)?.is_some_and(|v| !v.is_none());
                let text = if has_other {
                    payload.wrong_frame()
                } else {
                    "the server sent a websocket.receive message with neither text nor bytes"
                };
                let cls = unexpected_message_class(py)?;
                Err(PyErr::from_value(cls.call1((text,))?))
            }
        }
    }

    /// `send_text`/`send_bytes`/`send_json` need an accepted connection whose peer has not left
    /// and that is not closing.
    fn check_can_send_data(&self, py: Python<'_>) -> PyResult<()> {
        match state::plan_send(self.app_state_for_sends(), Some(Outgoing::Send)) {
            Ok(_) if self.client_state.get() == State::Disconnected => Err(self.peer_gone(py)),
            Ok(_) => Ok(()),
            Err(err) => Err(state_error(
                py,
                err,
                Some(intern!(py, "websocket.send").as_any()),
            )),
        }
    }

    /// The checks of `send(message)`: state, message type, then the message itself. None when
    /// there is nothing to send (a close after the peer left). `made_by_accept`: the message is
    /// `_prepare_accept`'s, already made from the scope (an accept is then not made again).
    fn begin_send<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        made_by_accept: bool,
    ) -> PyResult<Option<PendingSend>> {
        let py = message.py();
        let current = self.app_state_for_sends();
        if current == State::Disconnected {
            // As Starlette: the state is checked before the message is read.
            return Err(state_error(py, StateError::SendAfterClose, None));
        }
        let kind = MessageType::of(message, current != State::Response)?;
        let plan = state::plan_send(current, Outgoing::from_type(kind.text.as_deref()))
            .map_err(|e| kind.error(e))?;
        let peer_gone = self.client_state.get() == State::Disconnected;
        let mut more_body = false;
        let out = match plan.kind {
            Outgoing::Send => {
                let out = outgoing::send_message(message)?;
                if peer_gone {
                    return Err(self.peer_gone(py));
                }
                out
            }
            Outgoing::Close => {
                let goes = match current {
                    State::Connecting => CloseGoes::BeforeAccept,
                    _ => CloseGoes::OnTheWire,
                };
                let out = outgoing::close_message(message, goes)?;
                if peer_gone && current == State::Connected {
                    // The peer is gone: a close frame cannot go out. The app side is done.
                    self.application_state.set(State::Disconnected);
                    return Ok(None);
                }
                out
            }
            Outgoing::Accept if made_by_accept => message.clone(),
            Outgoing::Accept => {
                let subprotocol = get_item(message, intern!(py, "subprotocol"))?;
                let headers = get_item(message, intern!(py, "headers"))?;
                let scope = self.scope(py)?;
                outgoing::accept_message(&scope, subprotocol.as_ref(), headers.as_ref())?
            }
            Outgoing::ResponseStart => outgoing::denial_start_message(message)?,
            Outgoing::ResponseBody => {
                let (out, more) = outgoing::denial_body_message(message)?;
                more_body = more;
                out
            }
        };
        let commit_to = plan.commit.target(more_body);
        if let Some(to) = commit_to {
            self.moving_to.set(to);
        }
        Ok(Some(PendingSend {
            message: out.unbind(),
            commit_to,
            oserror_is_disconnect: plan.oserror_is_disconnect,
        }))
    }
}

#[pymethods]
impl Connection {
    /// Takes the scope from `WebSocket(scope, receive, send)`'s arguments, whatever else they
    /// hold: the arguments are the class's `__init__`'s to check (Starlette's signature and
    /// errors, or a subclass's own).
    #[new]
    #[pyo3(signature = (*args, **kwargs))]
    fn new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let py = args.py();
        let scope = match args.get_item(0) {
            Ok(scope) => Some(scope),
            Err(_) => match kwargs {
                Some(kwargs) => kwargs.get_item(intern!(py, "scope"))?,
                None => None,
            },
        };
        if let Some(scope) = &scope {
            let kind = scope.get_item(intern!(py, "type"))?;
            if !kind.eq(intern!(py, "websocket"))? {
                return Err(PyAssertionError::new_err(()));
            }
        }
        Ok(Connection {
            client_state: StateCell::new(State::Connecting),
            application_state: StateCell::new(State::Connecting),
            moving_to: MaybeStateCell(AtomicU8::new(NO_STATE)),
            receiving: ReceiveSlot(AtomicU8::new(IDLE)),
            refs: Mutex::new(Refs {
                scope: scope.map(Bound::unbind),
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

    // `client_state` and `application_state`: plain attributes in Starlette, so writable.
    #[getter]
    fn get_client_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.client_state.member(py)
    }
    #[getter]
    fn get_application_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.application_state.member(py)
    }
    #[setter]
    fn set_client_state(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.client_state.assign(value)
    }
    #[setter]
    fn set_application_state(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.application_state.assign(value)
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

    /// `Address(*scope.get("client"))`, or None when the scope has none, as Starlette's `client`.
    #[getter]
    fn client<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let scope = self.scope(py)?;
        let key = intern!(py, "client");
        let host_port = match scope.cast_exact::<PyDict>() {
            Ok(dict) => dict.get_item(key)?,
            // Starlette's one-argument `scope.get("client")`, an override's too.
            Err(_) => Some(scope.call_method1(intern!(py, "get"), (key,))?),
        };
        match host_port {
            Some(host_port) if !host_port.is_none() => Ok(Some(address_of(
                imported(py)?.address.bind(py),
                &host_port,
            )?)),
            _ => Ok(None),
        }
    }

    /// The URL, a `str` subclass with the parsed components.
    #[getter]
    fn url<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(url) = &lock(&self.refs).url {
            return Ok(url.bind(py).clone());
        }
        // Built with the lock released (building runs Python code); the first one stored wins.
        let url = url_for_scope(&self.scope(py)?)?.unbind();
        Ok(self.keep_first(py, |refs| &mut refs.url, url))
    }

    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, Headers>> {
        if let Some(headers) = &lock(&self.refs).headers {
            return Ok(headers.bind(py).clone());
        }
        let headers = Py::new(py, Headers::from_scope(&self.scope(py)?)?)?;
        Ok(self.keep_first(py, |refs| &mut refs.headers, headers))
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
        Ok(self.keep_first(py, |refs| &mut refs.query_params, params))
    }

    /// `{name: value}` of every Cookie header, a later one's pairs over an earlier's (Starlette
    /// 0.49 on; install()'s classes of older releases read the first header only). Made once.
    #[getter]
    fn cookies<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if let Some(cookies) = &lock(&self.refs).cookies {
            return Ok(cookies.bind(py).clone());
        }
        let headers = self.headers(py)?;
        let cookies = cookies_of_headers(py, headers.get())?.unbind();
        Ok(self.keep_first(py, |refs| &mut refs.cookies, cookies))
    }

    /// `scope.get("path_params", {})`.
    #[getter]
    fn path_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        get_or(
            &self.scope(py)?,
            intern!(py, "path_params"),
            PyDict::new(py).into_any(),
        )
    }

    #[getter]
    fn app<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.scope(py)?.get_item(intern!(py, "app"))
    }

    // --- The receive protocol: `_begin_receive*`, await `receive()`, `_finish_receive*`. ---

    /// Before awaiting `receive()`: `WebSocketDisconnected` once a disconnect was received, or
    /// `RuntimeError` when another task is already waiting in `receive()`.
    fn _begin_receive(&self, py: Python<'_>) -> PyResult<()> {
        let phase =
            state::receive_phase(self.client_state.get()).map_err(|e| state_error(py, e, None))?;
        if self.receiving.claim(phase) {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err(
                "another task is already waiting in receive() on this WebSocket: receive from one task only",
            ))
        }
    }

    /// Before `receive_text`/`receive_bytes`/`receive_json`: the app must have accepted (and not
    /// begun to close); then as `_begin_receive`.
    fn _begin_receive_data(&self, py: Python<'_>) -> PyResult<()> {
        state::check_app_connected(self.app_state_for_sends())
            .map_err(|e| state_error(py, e, None))?;
        self._begin_receive(py)
    }

    /// The awaited `receive()` raised or was cancelled: nothing was received.
    fn _abort_receive(&self) {
        self.receiving.release();
    }

    /// After `receive()` returned: the message type checked, the client state moved. Returns the
    /// message.
    fn _finish_receive<'py>(&self, message: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.finish_receive(message)?;
        Ok(message.clone())
    }

    /// As `_finish_receive`, then the text (or `WebSocketDisconnect`).
    fn _finish_receive_text<'py>(
        &self,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.take_payload(message, Payload::Text)
    }

    /// As `_finish_receive`, then the bytes (or `WebSocketDisconnect`).
    fn _finish_receive_bytes<'py>(
        &self,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.take_payload(message, Payload::Bytes)
    }

    /// `receive_json`'s end: as `_finish_receive_text` (`text`: the truth of `mode == "text"`)
    /// or `_finish_receive_bytes`, then the payload decoded as `json.loads` decodes it.
    fn _finish_receive_json<'py>(
        &self,
        message: &Bound<'py, PyAny>,
        text: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        if text {
            json::loads_text(&self.take_payload(message, Payload::JsonText)?)
        } else {
            json::loads_bytes(&self.take_payload(message, Payload::JsonBytes)?)
        }
    }

    // --- The send protocol: `_begin_send`, await `send()`, `_commit` or `_send_failed`. ---

    /// Before awaiting `send(message)`: the state and the message checked. Returns the message on
    /// its way, or None when there is nothing to send (a close after the peer left).
    fn _begin_send(&self, message: &Bound<'_, PyAny>) -> PyResult<Option<PendingSend>> {
        self.begin_send(message, false)
    }

    /// After the server's send returned: the state moves as the message said.
    fn _commit(&self, sent: &Bound<'_, PendingSend>) {
        if let Some(to) = sent.get().commit_to {
            self.application_state.set(to);
            self.moving_to.clear_if(to);
        }
    }

    /// The server's send raised `exc` (or was cancelled): the state stays. Returns the
    /// `WebSocketDisconnect(1006)` to raise instead for an `OSError` that means the peer is gone
    /// (the app side is then over), else None and the caller re-raises `exc`. Returned, not
    /// raised: raised in Python's `except` block, it keeps `exc` as its `__context__`.
    fn _send_failed(
        &self,
        sent: &Bound<'_, PendingSend>,
        exc: &Bound<'_, PyAny>,
    ) -> Option<Py<PyAny>> {
        let sent = sent.get();
        if let Some(to) = sent.commit_to {
            self.moving_to.clear_if(to);
        }
        if sent.oserror_is_disconnect && exc.is_instance_of::<pyo3::exceptions::PyOSError>() {
            let py = exc.py();
            return Some(self._lost_in_send(py).into_value(py).into_any());
        }
        None
    }

    /// The server's send of a data message raised `OSError`: the peer is gone. Returns the
    /// `WebSocketDisconnect(1006)` to raise; the application state becomes DISCONNECTED.
    fn _lost_in_send(&self, py: Python<'_>) -> PyErr {
        self.application_state.set(State::Disconnected);
        abnormal_closure(py)
    }

    /// `accept(subprotocol, headers)`'s message, checked before any I/O, and whether the client's
    /// 'connect' message is still to be received first (one call: on a new connection every
    /// distinct call into compiled code costs microseconds of cache misses). `claim_receive`:
    /// when 'connect' is to be received, also `_begin_receive` (accept's own path, below).
    #[pyo3(signature = (subprotocol, headers, claim_receive = false))]
    fn _prepare_accept<'py>(
        &self,
        subprotocol: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        claim_receive: bool,
    ) -> PyResult<(Bound<'py, PyAny>, bool)> {
        let py = subprotocol.py();
        let scope = self.scope(py)?;
        // Starlette sends `headers or []`: any empty value is no headers.
        let headers = if headers.is_none() || headers.is_truthy()? {
            Some(headers)
        } else {
            None
        };
        let message = outgoing::accept_message(&scope, Some(subprotocol), headers)?;
        let connect_first = self.client_state.get() == State::Connecting;
        if connect_first && claim_receive {
            self._begin_receive(py)?;
        }
        Ok((message, connect_first))
    }

    /// `accept()`'s own path, taken when `receive` and `send` are WebSocket's: `_finish_receive`
    /// of the 'connect' message `received` (None: it came before), then `_begin_send` of the
    /// accept `message` made by `_prepare_accept`, in one call (and the message not made twice).
    #[pyo3(signature = (message, received = None))]
    fn _begin_accept(
        &self,
        message: &Bound<'_, PyAny>,
        received: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PendingSend> {
        if let Some(received) = received {
            self.finish_receive(received)?;
        }
        self.begin_send(message, true)?
            .ok_or_else(|| PyRuntimeError::new_err("an accept message has nothing to send"))
    }

    /// `send_denial_response(response)`'s checks before any I/O (see `outgoing::denial_response`).
    fn _check_denial_response(&self, response: &Bound<'_, PyAny>) -> PyResult<()> {
        outgoing::denial_response(response)
    }

    /// `send_text(data)`: the message to send (state and payload checked).
    fn _text_message<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let py = data.py();
        outgoing::text_payload(data, "send_text()")?;
        self.check_can_send_data(py)?;
        outgoing::data_message(intern!(py, "text"), data)
    }

    /// `send_bytes(data)`: the message to send (state and payload checked).
    fn _bytes_message<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let py = data.py();
        let payload = outgoing::bytes_payload(data, "send_bytes()")?;
        self.check_can_send_data(py)?;
        outgoing::data_message(intern!(py, "bytes"), &payload)
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
        outgoing::data_message(key, &payload)
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
        visit.call(&refs.cookies)?;
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

/// The numeric value of a `WebSocketState` member (ours, or any enum with the same values).
fn state_from_object(value: &Bound<'_, PyAny>) -> PyResult<State> {
    let number: u8 = value
        .getattr(intern!(value.py(), "value"))
        .and_then(|v| v.extract())
        .map_err(|_| PyTypeError::new_err("a WebSocketState member is required"))?;
    State::from_value(number)
        .ok_or_else(|| PyValueError::new_err(format!("{number} is not a valid WebSocketState")))
}
