//! The PyO3 bindings: the `ferrosocket._core` extension module. Thin wrappers over the pure
//! core in the crate root; one class per file.

mod compare;
mod connection;
mod errors;
mod headers;
pub mod json;
mod json_exact;
mod outgoing;
mod pending_send;
mod query_params;
mod registry;
mod tools;
mod url;

use pyo3::prelude::*;

// Needs the GIL: a free-threaded CPython turns it back on at import, until the thread
// safety of the classes is proven (README: free-threaded Python).
#[pymodule(gil_used = true)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<headers::Headers>()?;
    m.add_class::<query_params::QueryParams>()?;
    m.add_class::<url::UrlParts>()?;
    m.add_class::<connection::Connection>()?;
    m.add_class::<pending_send::PendingSend>()?;
    m.add_function(wrap_pyfunction!(query_params::query_params_from_pickle, m)?)?;
    m.add_function(wrap_pyfunction!(
        query_params::query_params_equal_as_sorted_pairs,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(url::url_new, m)?)?;
    m.add_function(wrap_pyfunction!(url::url_fragment, m)?)?;
    m.add_function(wrap_pyfunction!(url::url_username, m)?)?;
    m.add_function(wrap_pyfunction!(url::url_password, m)?)?;
    m.add_function(wrap_pyfunction!(url::url_hostname, m)?)?;
    m.add_function(wrap_pyfunction!(registry::_register, m)?)?;
    m.add_function(wrap_pyfunction!(json::py_loads_text, m)?)?;
    m.add_function(wrap_pyfunction!(json::py_loads_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(json::py_dumps_text, m)?)?;
    m.add_function(wrap_pyfunction!(json::py_dumps_bytes, m)?)?;
    // `Address` is Starlette's NamedTuple; a PyO3 class cannot subclass tuple, so the module
    // makes the same namedtuple here and the Rust side builds instances of it.
    let namedtuple = py.import("collections")?.getattr("namedtuple")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("module", "ferrosocket._core")?;
    let address = namedtuple.call(("Address", ("host", "port")), Some(&kwargs))?;
    m.add("Address", address)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
