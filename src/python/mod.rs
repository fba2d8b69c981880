//! The PyO3 bindings: the `ferrosocket._core` extension module. Thin wrappers over the pure
//! core in the crate root; one class per file.

mod address;
mod compare;
mod connection;
mod cookies;
mod dict_entries;
mod errors;
mod headers;
pub mod json;
mod json_exact;
mod outgoing;
mod pending_send;
mod py_objects;
mod query_params;
mod tools;
mod url;
mod url_slots;

use pyo3::prelude::*;

// Needs the GIL: a free-threaded CPython turns it back on at import, until the thread
// safety of the classes is proven (README: free-threaded Python).
#[pymodule(gil_used = true)]
mod _core {
    #[pymodule_export]
    use super::{
        connection::Connection,
        cookies::cookie_parser,
        dict_entries::read_directly,
        headers::Headers,
        json::{py_dumps_bytes, py_dumps_text, py_loads_bytes, py_loads_text},
        pending_send::PendingSend,
        py_objects::{_register, _register_datastructures},
        query_params::{query_params_equal_as_sorted_pairs, query_params_from_pickle, QueryParams},
        url::{url_fragment, url_hostname, url_new, url_password, url_username, UrlParts},
    };
    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        super::dict_entries::prove(m.py());
        super::py_objects::init(m)
    }
}
