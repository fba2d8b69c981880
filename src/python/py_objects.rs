//! Every Python object the Rust side calls or makes instances of, held in one place.
//!
//! Two sets, each filled once and read through the accessors below:
//! - [`Imported`]: from the stdlib, orjson and this extension module itself, looked up when
//!   `_core` is initialised ([`init`]).
//! - [`Registered`]: defined by the `ferrosocket` package in Python, which imports `_core`
//!   first and so hands them over itself: `_register` from `ferrosocket.websockets` (the URL
//!   class, the `WebSocketState` members and the exceptions; again from `ferrosocket.install()`,
//!   which swaps in classes Starlette code also recognises) and `_register_datastructures` from
//!   `ferrosocket.datastructures` (the helpers the Rust URL and Headers call back).
//!
//! No Python code runs while a lock here is held: values are built first, then stored, and
//! replaced ones are dropped (a decref can run a finalizer) after the lock is released.

use std::sync::{OnceLock, RwLock};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyModule, PyString, PyTuple, PyType};

use super::address;
use super::url_slots::UrlLayout;

/// orjson's functions and exceptions.
pub struct Orjson {
    pub loads: Py<PyAny>,
    pub dumps: Py<PyAny>,
    pub decode_error: Py<PyType>,
    pub encode_error: Py<PyType>,
}

/// Objects looked up once, when `_core` is initialised.
pub struct Imported {
    pub orjson: Orjson,
    /// The stdlib `json` module: its `loads`/`dumps` are looked up at each (rare) use, as
    /// Starlette's `json.loads(...)` does, so a patched function is the one called.
    pub json: Py<PyModule>,
    /// `sys`: `sys.modules` is read at each use (it can be replaced).
    pub sys: Py<PyModule>,
    /// `str.__new__`, to make `URL` (a `str` subclass) instances without running `__init__`.
    pub str_new: Py<PyAny>,
    /// `copyreg.__newobj__`, what `__reduce__` returns to make an instance without `__init__`.
    pub copyreg_newobj: Py<PyAny>,
    /// `urllib.parse._checknetloc`: the NFKC check urlsplit makes on non-ASCII netlocs.
    pub checknetloc: Py<PyAny>,
    /// `_core._query_params_from_pickle`, the module's own function object (pickle finds it by
    /// its qualified name).
    pub query_params_from_pickle: Py<PyAny>,
    /// `_core.Address`, the class of `websocket.client` (made here: [`address::new_class`]).
    pub address: Py<PyType>,
    /// `types.GenericAlias`, what `Headers[str]` and the like give (see `tools::generic_alias`).
    pub generic_alias: Py<PyAny>,
    /// `urllib.parse.urlunsplit`, for the URL texts whose rules differ between Python versions.
    pub urlunsplit: Py<PyAny>,
}

static IMPORTED: OnceLock<Imported> = OnceLock::new();

/// Looks up the [`Imported`] objects (`module` is `_core`, its functions already added) and
/// adds the `Address` class to the module.
pub fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let address = address::new_class(py)?;
    module.add("Address", &address)?;
    let orjson = py.import("orjson")?;
    let imported = Imported {
        orjson: Orjson {
            loads: orjson.getattr("loads")?.unbind(),
            dumps: orjson.getattr("dumps")?.unbind(),
            decode_error: orjson.getattr("JSONDecodeError")?.cast_into()?.unbind(),
            encode_error: orjson.getattr("JSONEncodeError")?.cast_into()?.unbind(),
        },
        json: py.import("json")?.unbind(),
        sys: py.import("sys")?.unbind(),
        str_new: py.get_type::<PyString>().getattr("__new__")?.unbind(),
        copyreg_newobj: py.import("copyreg")?.getattr("__newobj__")?.unbind(),
        checknetloc: py.import("urllib.parse")?.getattr("_checknetloc")?.unbind(),
        query_params_from_pickle: module.getattr("_query_params_from_pickle")?.unbind(),
        address: address.unbind(),
        generic_alias: py.import("types")?.getattr("GenericAlias")?.unbind(),
        urlunsplit: py.import("urllib.parse")?.getattr("urlunsplit")?.unbind(),
    };
    // A second initialisation (another interpreter) keeps the first set; this one is dropped
    // here, outside the cell.
    let _ = IMPORTED.set(imported);
    Ok(())
}

/// The [`Imported`] objects.
pub fn imported(py: Python<'_>) -> PyResult<&'static Imported> {
    let _ = py;
    IMPORTED
        .get()
        .ok_or_else(|| PyRuntimeError::new_err("ferrosocket._core is not initialised"))
}

/// `sys.modules`, or None if it is not a dict (then no module can be found in it).
pub fn sys_modules(py: Python<'_>) -> PyResult<Option<Bound<'_, PyDict>>> {
    let modules = imported(py)?.sys.bind(py).getattr(intern!(py, "modules"))?;
    Ok(modules.cast_into::<PyDict>().ok())
}

/// Objects the package defines in Python and registers.
pub struct Registered {
    url_class: Py<PyType>,
    url_layout: UrlLayout,
    states: Py<PyTuple>,
    disconnect: Py<PyType>,
    disconnected: Py<PyType>,
    unexpected: Py<PyType>,
}

/// The helpers of `ferrosocket.datastructures` that Rust calls back.
pub struct DatastructureHelpers {
    mutable_headers: Py<PyType>,
    url_class_with_errors: Py<PyAny>,
    url_text_from_components: Py<PyAny>,
}

static REGISTERED: RwLock<Option<Registered>> = RwLock::new(None);
static DATASTRUCTURES: RwLock<Option<DatastructureHelpers>> = RwLock::new(None);

fn not_registered() -> PyErr {
    PyRuntimeError::new_err(
        "ferrosocket._core is used without the ferrosocket package: import ferrosocket first",
    )
}

/// `f` of the value in `slot`: a borrowed reference, made an owned one before the lock is left.
fn read<'py, T, R>(
    slot: &RwLock<Option<T>>,
    f: impl FnOnce(&T) -> PyResult<Bound<'py, R>>,
) -> PyResult<Bound<'py, R>> {
    let guard = slot.read().map_err(|_| not_registered())?;
    guard.as_ref().ok_or_else(not_registered).and_then(f)
}

/// Stores `value` in `slot`; the value replaced is dropped after the lock is released.
fn replace<T>(slot: &RwLock<Option<T>>, value: T) -> PyResult<()> {
    let replaced = slot.write().map_err(|_| not_registered())?.replace(value);
    drop(replaced);
    Ok(())
}

/// The `ferrosocket.URL` class.
pub fn url_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    read(&REGISTERED, |r| Ok(r.url_class.bind(py).clone()))
}

/// Where the `ferrosocket.URL` class keeps its component slots.
pub fn url_layout(py: Python<'_>) -> PyResult<UrlLayout> {
    let _ = py;
    let guard = REGISTERED.read().map_err(|_| not_registered())?;
    guard
        .as_ref()
        .map(|r| r.url_layout)
        .ok_or_else(not_registered)
}

/// The `WebSocketState` member whose value is `value`.
pub fn state_member(py: Python<'_>, value: u8) -> PyResult<Bound<'_, PyAny>> {
    read(&REGISTERED, |r| {
        r.states.bind(py).get_item(usize::from(value))
    })
}

/// The `WebSocketDisconnect` class in use.
pub fn disconnect_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    read(&REGISTERED, |r| Ok(r.disconnect.bind(py).clone()))
}

/// The `WebSocketDisconnected` class in use.
pub fn disconnected_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    read(&REGISTERED, |r| Ok(r.disconnected.bind(py).clone()))
}

/// The `UnexpectedMessageType` class (a `KeyError`).
pub fn unexpected_message_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    read(&REGISTERED, |r| Ok(r.unexpected.bind(py).clone()))
}

/// `ferrosocket.datastructures.MutableHeaders`.
pub fn mutable_headers_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    read(&DATASTRUCTURES, |d| Ok(d.mutable_headers.bind(py).clone()))
}

/// `ferrosocket.datastructures._url_class_with_errors`.
pub fn url_class_with_errors(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    read(&DATASTRUCTURES, |d| {
        Ok(d.url_class_with_errors.bind(py).clone())
    })
}

/// `ferrosocket.datastructures._url_text_from_components`.
pub fn url_text_from_components(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    read(&DATASTRUCTURES, |d| {
        Ok(d.url_text_from_components.bind(py).clone())
    })
}

/// Registers (or replaces) the objects connections use. `states` are the `WebSocketState`
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
        return Err(PyValueError::new_err(
            "four WebSocketState members are required",
        ));
    }
    let url_layout = UrlLayout::of(&url_class)?;
    replace(
        &REGISTERED,
        Registered {
            url_layout,
            url_class: url_class.unbind(),
            states: states.unbind(),
            disconnect: disconnect.unbind(),
            disconnected: disconnected.unbind(),
            unexpected: unexpected.unbind(),
        },
    )
}

/// Registers (or replaces) the helpers of `ferrosocket.datastructures`.
#[pyfunction]
pub fn _register_datastructures(
    mutable_headers: Bound<'_, PyType>,
    url_class_with_errors: Bound<'_, PyAny>,
    url_text_from_components: Bound<'_, PyAny>,
) -> PyResult<()> {
    replace(
        &DATASTRUCTURES,
        DatastructureHelpers {
            mutable_headers: mutable_headers.unbind(),
            url_class_with_errors: url_class_with_errors.unbind(),
            url_text_from_components: url_text_from_components.unbind(),
        },
    )
}
