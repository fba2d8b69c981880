//! Driving a Python awaitable from Rust, one step at a time: what `await` does in a coroutine
//! frame, for the Rust coroutines of the message path (`message_coroutine.rs`).
//!
//! The one `unsafe` block of the crate lives here: `PyIter_Send` (the C API behind `await`'s
//! `SEND`), which PyO3 only offers on `PyIterator` while a coroutine is not an iterator.

#![allow(unsafe_code)]

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

/// What one step of an awaited object gave.
pub enum Sent<'py> {
    /// It suspended, handing this to the event loop (a future, or trio's trap).
    Yielded(Bound<'py, PyAny>),
    /// It finished with this value.
    Returned(Bound<'py, PyAny>),
}

/// Resumes the coroutine `coro` with `value` (None to start it or after a yield).
pub fn send<'py>(coro: &Bound<'py, PyAny>, value: &Bound<'py, PyAny>) -> PyResult<Sent<'py>> {
    let py = coro.py();
    let mut result: *mut ffi::PyObject = std::ptr::null_mut();
    // SAFETY: both pointers are live references borrowed for the call (the `Bound`s keep them
    // alive); `PyIter_Send` accepts any object (its `am_send` slot, `tp_iternext`, or a `send`
    // method) and, holding the GIL (`py`), writes a new reference to `result` on
    // `PYGEN_NEXT`/`PYGEN_RETURN`, or sets an exception and writes NULL on `PYGEN_ERROR`.
    let status = unsafe { ffi::PyIter_Send(coro.as_ptr(), value.as_ptr(), &mut result) };
    match status {
        ffi::PySendResult::PYGEN_ERROR => Err(PyErr::fetch(py)),
        // SAFETY: a non-error status gives a new, non-NULL reference (checked by from_owned_ptr_or_err).
        ffi::PySendResult::PYGEN_RETURN => {
            unsafe { Bound::from_owned_ptr_or_err(py, result) }.map(Sent::Returned)
        }
        ffi::PySendResult::PYGEN_NEXT => {
            unsafe { Bound::from_owned_ptr_or_err(py, result) }.map(Sent::Yielded)
        }
    }
}

/// Throws into the coroutine `coro` (`coro.throw(*args)`): a yield, a return (its
/// `StopIteration` unwrapped), or the exception that came out.
pub fn throw<'py>(coro: &Bound<'py, PyAny>, args: &Bound<'py, PyTuple>) -> PyResult<Sent<'py>> {
    let py = coro.py();
    match coro.call_method1(pyo3::intern!(py, "throw"), args) {
        Ok(yielded) => Ok(Sent::Yielded(yielded)),
        Err(err) if err.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => {
            let value = err.value(py).getattr(pyo3::intern!(py, "value"))?;
            Ok(Sent::Returned(value))
        }
        Err(err) => Err(err),
    }
}

static COROUTINE_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static AWAIT_ANY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The coroutine to drive for `await awaitable`. A native coroutine (what an `async def`
/// receive/send returns) is driven directly; anything else (a future, an object with
/// `__await__`, a non-awaitable) goes through `ferrosocket._awaiting.await_any`, a one-line
/// `async def` that awaits it, so CPython's own rules and error messages apply.
pub fn awaitable_coroutine<'py>(awaitable: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = awaitable.py();
    let coroutine_type = COROUTINE_TYPE.import(py, "types", "CoroutineType")?;
    if awaitable.get_type().is(coroutine_type) {
        return Ok(awaitable);
    }
    AWAIT_ANY
        .import(py, "ferrosocket._awaiting", "await_any")?
        .call1((awaitable,))
}

/// Signals a coroutine's return of `value` from `__next__` as CPython's own coroutines do:
/// `StopIteration` set with the bare value, the exception object only created if somebody
/// looks at it (`await` takes the value without ever creating it). The caller then returns
/// NULL, i.e. `Ok(None)` from `__next__`. Tuples and exceptions need a real instance (as
/// `_PyGen_SetStopIterationValue` knows): those are returned as the error to raise instead.
pub fn set_return_value(value: Bound<'_, PyAny>) -> PyResult<()> {
    let py = value.py();
    if value.is_instance_of::<PyTuple>()
        || value.is_instance_of::<pyo3::exceptions::PyBaseException>()
    {
        let exc = py
            .get_type::<pyo3::exceptions::PyStopIteration>()
            .call1((value,))?;
        return Err(PyErr::from_value(exc));
    }
    // SAFETY: holding the GIL; `PyExc_StopIteration` is a live type object and `value` a live
    // reference (PyErr_SetObject takes its own references).
    unsafe { ffi::PyErr_SetObject(ffi::PyExc_StopIteration, value.as_ptr()) };
    Ok(())
}
