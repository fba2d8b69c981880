//! `MessageCoroutine`: what `receive_text()`, `receive_bytes()`, `receive_json()`,
//! `send_text()`, `send_bytes()` and `send_json()` return: a coroutine written in Rust.
//!
//! Why: these are the per-message calls, and a Python `async def` around the server's
//! `receive()`/`send()` costs a frame and a coroutine object per call on top of the checks.
//! This object does what that `async def` did, without either: on its first step it checks the
//! state (through `Connection`), calls the server's callable and drives the coroutine it
//! returns, passing every yield (a future, a trio trap) through to the event loop and every
//! `send`/`throw`/`close` from the loop down to it; when that returns, it validates the message
//! and finishes with the payload (`StopIteration(value)`, as a coroutine does).
//!
//! It implements the whole coroutine protocol (`__await__`, `send`, `throw`, `close`, and
//! `__next__` for `await`'s fast path) and is registered as a `collections.abc.Coroutine`, so
//! `asyncio.create_task`, `asyncio.wait_for`, trio's `start_soon` and anyio accept it like an
//! `async def`'s coroutine. Nothing runs until it is first resumed, as with `async def`.

use pyo3::exceptions::{PyBaseException, PyOSError, PyRuntimeError, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFrozenSet, PyString, PyTuple};
use pyo3::{intern, PyTraverseError, PyVisit};

use super::connection::Connection;
use super::drive::{self, Sent};

const BAD_MODE: &str = r#"The "mode" argument should be "text" or "binary"."#;

/// The `mode` argument of `receive_json`/`send_json`, as passed.
pub enum Mode {
    Text,
    Binary,
    /// Anything but the exact strings: checked on the first step as Starlette checks it
    /// (`mode not in {"text", "binary"}`, then `mode == "text"`).
    Other(Py<PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Mode {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(text) = obj.cast_exact::<PyString>() {
            match text.to_str() {
                Ok("text") => return Ok(Mode::Text),
                Ok("binary") => return Ok(Mode::Binary),
                _ => {}
            }
        }
        Ok(Mode::Other(obj.to_owned().unbind()))
    }
}

static MODES: PyOnceLock<Py<PyFrozenSet>> = PyOnceLock::new();

impl Mode {
    /// True for binary. Raises Starlette's `RuntimeError` for any other mode.
    fn is_binary(&self, py: Python<'_>) -> PyResult<bool> {
        match self {
            Mode::Text => Ok(false),
            Mode::Binary => Ok(true),
            Mode::Other(mode) => {
                let modes = MODES.get_or_try_init(py, || {
                    PyFrozenSet::new(py, ["text", "binary"]).map(Bound::unbind)
                })?;
                let mode = mode.bind(py);
                if !modes.bind(py).contains(mode)? {
                    return Err(PyRuntimeError::new_err(BAD_MODE));
                }
                Ok(!mode.eq(intern!(py, "text"))?)
            }
        }
    }
}

/// The call a coroutine stands for.
pub enum Call {
    ReceiveText,
    ReceiveBytes,
    ReceiveJson(Mode),
    SendText(Py<PyAny>),
    SendBytes(Py<PyAny>),
    SendJson(Py<PyAny>, Mode),
}

/// What to make of a received message.
#[derive(Clone, Copy)]
enum Take {
    Text,
    Bytes,
    JsonText,
    JsonBytes,
}

enum Stage {
    Created(Call),
    /// Awaiting the server's `receive()`; `phase` as `Connection::begin_receive` gave it.
    Receiving {
        coro: Py<PyAny>,
        phase: u8,
        take: Take,
    },
    /// Awaiting the server's `send()`.
    Sending { coro: Py<PyAny> },
    Finished,
}

/// How the event loop resumed the coroutine.
enum Resume<'py> {
    Send(Bound<'py, PyAny>),
    Throw(Bound<'py, PyTuple>),
}

#[pyclass(module = "ferrosocket._core")]
pub struct MessageCoroutine {
    connection: Py<Connection>,
    name: &'static str,
    stage: Stage,
}

static JSON: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// `ferrosocket._json.<name>(arg)`: the orjson fast paths with stdlib-exact fallbacks.
fn json_call<'py>(py: Python<'py>, name: &str, arg: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let module = JSON.get_or_try_init(py, || py.import("ferrosocket._json").map(Bound::unbind))?;
    module.bind(py).getattr(name)?.call1((arg,))
}

/// The exception a `throw(*args)` into a coroutine that never started raises.
fn thrown(args: &Bound<'_, PyTuple>) -> PyErr {
    let py = args.py();
    let build = || -> PyResult<PyErr> {
        let kind = args.get_item(0)?;
        if kind.is_instance_of::<PyBaseException>() {
            return Ok(PyErr::from_value(kind));
        }
        let value = args.get_item(1).ok().filter(|v| !v.is_none());
        let exc = match value {
            Some(v) if v.is_instance(&kind)? => v,
            Some(v) if v.is_instance_of::<PyTuple>() => kind.call1(v.cast_into::<PyTuple>()?)?,
            Some(v) => kind.call1((v,))?,
            None => kind.call0()?,
        };
        if !exc.is_instance_of::<PyBaseException>() {
            return Err(PyTypeError::new_err(
                "exceptions must be classes or instances deriving from BaseException",
            ));
        }
        Ok(PyErr::from_value(exc))
    };
    let _ = py;
    build().unwrap_or_else(|err| err)
}

/// `StopIteration(value)` as CPython raises it for a coroutine's return: the value itself as
/// the exception argument, wrapped in an instance when it is a tuple or an exception.
fn stop_iteration(value: Bound<'_, PyAny>) -> PyErr {
    if value.is_instance_of::<PyTuple>() || value.is_instance_of::<PyBaseException>() {
        match value.py().get_type::<PyStopIteration>().call1((value,)) {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        }
    } else {
        PyStopIteration::new_err(value.unbind())
    }
}

impl MessageCoroutine {
    pub fn new(connection: &Bound<'_, Connection>, call: Call) -> Self {
        let name = match &call {
            Call::ReceiveText => "receive_text",
            Call::ReceiveBytes => "receive_bytes",
            Call::ReceiveJson(_) => "receive_json",
            Call::SendText(_) => "send_text",
            Call::SendBytes(_) => "send_bytes",
            Call::SendJson(..) => "send_json",
        };
        MessageCoroutine {
            connection: connection.clone().unbind(),
            name,
            stage: Stage::Created(call),
        }
    }

    /// One step: what `coro.send(value)` / `coro.throw(...)` do for an `async def`.
    /// `Ok(Sent::Returned(v))` means the coroutine finished with `v`.
    fn resume<'py>(&mut self, py: Python<'py>, how: Resume<'py>) -> PyResult<Sent<'py>> {
        match std::mem::replace(&mut self.stage, Stage::Finished) {
            Stage::Finished => match how {
                Resume::Send(_) => Err(PyRuntimeError::new_err(
                    "cannot reuse already awaited coroutine",
                )),
                Resume::Throw(args) => Err(thrown(&args)),
            },
            Stage::Created(call) => match how {
                Resume::Throw(args) => Err(thrown(&args)),
                Resume::Send(value) if !value.is_none() => Err(PyTypeError::new_err(
                    "can't send non-None value to a just-started coroutine",
                )),
                Resume::Send(value) => self.start(py, call, &value),
            },
            Stage::Receiving { coro, phase, take } => {
                let step = match how {
                    Resume::Send(value) => drive::send(coro.bind(py), &value),
                    Resume::Throw(args) => drive::throw(coro.bind(py), &args),
                };
                self.after_receive_step(py, step, coro, phase, take)
            }
            Stage::Sending { coro } => {
                let step = match how {
                    Resume::Send(value) => drive::send(coro.bind(py), &value),
                    Resume::Throw(args) => drive::throw(coro.bind(py), &args),
                };
                self.after_send_step(py, step, coro)
            }
        }
    }

    fn start<'py>(
        &mut self,
        py: Python<'py>,
        call: Call,
        none: &Bound<'py, PyAny>,
    ) -> PyResult<Sent<'py>> {
        let connection = self.connection.get();
        let take = match &call {
            Call::ReceiveText => Some(Take::Text),
            Call::ReceiveBytes => Some(Take::Bytes),
            Call::ReceiveJson(mode) => Some(if mode.is_binary(py)? {
                Take::JsonBytes
            } else {
                Take::JsonText
            }),
            _ => None,
        };
        if let Some(take) = take {
            let phase = connection.begin_receive_data(py)?;
            let started = connection
                .receive_callable(py)
                .and_then(|receive| receive.call0())
                .and_then(drive::awaitable_coroutine);
            let coro = match started {
                Ok(coro) => coro,
                Err(err) => {
                    connection.receive_aborted();
                    return Err(err);
                }
            };
            let step = drive::send(&coro, none);
            return self.after_receive_step(py, step, coro.unbind(), phase, take);
        }
        let message = match call {
            Call::SendText(data) => connection.text_message(data.bind(py))?.into_any(),
            Call::SendBytes(data) => connection.bytes_message(data.bind(py))?.into_any(),
            Call::SendJson(data, mode) => {
                let data = data.bind(py);
                let binary = mode.is_binary(py)?;
                let message = PyDict::new(py);
                message.set_item(intern!(py, "type"), intern!(py, "websocket.send"))?;
                if binary {
                    message.set_item(intern!(py, "bytes"), json_call(py, "dumps_bytes", data)?)?;
                } else {
                    message.set_item(intern!(py, "text"), json_call(py, "dumps_text", data)?)?;
                }
                // As `self.send(message)`: the state checks of any send.
                match connection.prepare(message.as_any())? {
                    Some((out, _)) => out,
                    None => return Ok(Sent::Returned(py.None().into_bound(py))),
                }
            }
            _ => return Err(PyRuntimeError::new_err("unreachable call")),
        };
        let coro = connection
            .send_callable(py)?
            .call1((message,))
            .and_then(drive::awaitable_coroutine)?;
        let step = drive::send(&coro, none);
        self.after_send_step(py, step, coro.unbind())
    }

    fn after_receive_step<'py>(
        &mut self,
        py: Python<'py>,
        step: PyResult<Sent<'py>>,
        coro: Py<PyAny>,
        phase: u8,
        take: Take,
    ) -> PyResult<Sent<'py>> {
        let connection = self.connection.get();
        match step {
            Ok(Sent::Yielded(value)) => {
                self.stage = Stage::Receiving { coro, phase, take };
                Ok(Sent::Yielded(value))
            }
            Ok(Sent::Returned(message)) => {
                drop(coro);
                let value = match take {
                    Take::Text => connection.take_payload(&message, phase, true)?,
                    Take::Bytes => connection.take_payload(&message, phase, false)?,
                    Take::JsonText => {
                        let text = connection.take_payload(&message, phase, true)?;
                        json_call(py, "loads_text", &text)?
                    }
                    Take::JsonBytes => {
                        let data = connection.take_payload(&message, phase, false)?;
                        json_call(py, "loads_bytes", &data)?
                    }
                };
                Ok(Sent::Returned(value))
            }
            Err(err) => {
                connection.receive_aborted();
                Err(err)
            }
        }
    }

    fn after_send_step<'py>(
        &mut self,
        py: Python<'py>,
        step: PyResult<Sent<'py>>,
        coro: Py<PyAny>,
    ) -> PyResult<Sent<'py>> {
        match step {
            Ok(Sent::Yielded(value)) => {
                self.stage = Stage::Sending { coro };
                Ok(Sent::Yielded(value))
            }
            Ok(Sent::Returned(_)) => Ok(Sent::Returned(py.None().into_bound(py))),
            Err(err) if err.is_instance_of::<PyOSError>(py) => {
                // As Starlette: `raise WebSocketDisconnect(1006)` inside `except OSError`.
                let disconnect = self.connection.get().app_disconnected(py)?;
                disconnect.setattr(intern!(py, "__context__"), err.value(py))?;
                Err(PyErr::from_value(disconnect))
            }
            Err(err) => Err(err),
        }
    }
}

#[pymethods]
impl MessageCoroutine {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// `await`'s fast path: `send(None)`. A return is signalled as CPython's coroutines signal
    /// it, without creating the `StopIteration` (`Ok(None)` returns NULL, with the exception
    /// `drive::set_return_value` set, or none for a `None` return).
    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.resume(py, Resume::Send(py.None().into_bound(py)))? {
            Sent::Yielded(value) => Ok(Some(value)),
            Sent::Returned(value) if value.is_none() => Ok(None),
            Sent::Returned(value) => drive::set_return_value(value).map(|()| None),
        }
    }

    fn send<'py>(&mut self, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match self.resume(value.py(), Resume::Send(value))? {
            Sent::Yielded(value) => Ok(value),
            Sent::Returned(value) => Err(stop_iteration(value)),
        }
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(&mut self, args: Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        if args.is_empty() || args.len() > 3 {
            return Err(PyTypeError::new_err(format!(
                "throw expected at least 1 argument and at most 3, got {}",
                args.len()
            )));
        }
        match self.resume(args.py(), Resume::Throw(args))? {
            Sent::Yielded(value) => Ok(value),
            Sent::Returned(value) => Err(stop_iteration(value)),
        }
    }

    /// Stops the coroutine where it is: the server's coroutine is closed, and a receive that was
    /// waiting leaves no trace (the next one may start).
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        match std::mem::replace(&mut self.stage, Stage::Finished) {
            Stage::Receiving { coro, .. } => {
                let closed = coro.bind(py).call_method0(intern!(py, "close"));
                self.connection.get().receive_aborted();
                closed.map(drop)
            }
            Stage::Sending { coro } => coro.bind(py).call_method0(intern!(py, "close")).map(drop),
            Stage::Created(_) | Stage::Finished => Ok(()),
        }
    }

    #[getter]
    fn __name__(&self) -> &'static str {
        self.name
    }

    #[getter]
    fn __qualname__(&self) -> String {
        format!("WebSocket.{}", self.name)
    }

    fn __repr__(&self) -> String {
        format!("<ferrosocket coroutine WebSocket.{}>", self.name)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.connection)?;
        match &self.stage {
            Stage::Created(
                Call::SendText(data) | Call::SendBytes(data) | Call::SendJson(data, _),
            ) => visit.call(data),
            Stage::Receiving { coro, .. } | Stage::Sending { coro } => visit.call(coro),
            _ => Ok(()),
        }
    }

    fn __clear__(&mut self) {
        self.abandon();
    }
}

impl MessageCoroutine {
    /// Forgets the stage; a receive in flight leaves no trace.
    fn abandon(&mut self) {
        if let Stage::Receiving { .. } = std::mem::replace(&mut self.stage, Stage::Finished) {
            self.connection.get().receive_aborted();
        }
    }
}

impl Drop for MessageCoroutine {
    /// Dropped while waiting in `receive()`, as when a suspended `async def` is collected:
    /// nothing was received.
    fn drop(&mut self) {
        self.abandon();
    }
}
