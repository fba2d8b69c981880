//! The items of an exact `dict`, read straight from its entry table where that is proven safe.
//!
//! `send_json`'s walk of its data (`json_exact.rs`) spent most of its time in `PyDict_Next`, a
//! call into the interpreter per item: on a 16 KB page of chat history `dumps_text` took 20.4 µs
//! against `orjson.dumps(...).decode()`'s 14.7, and 16.5 µs with the tables read directly.
//!
//! The layout is CPython's internal one (`Include/internal/pycore_dict.h`), the same from 3.11
//! to 3.14: a dict with a combined table (`ma_values` NULL) keeps its items in `dk_nentries`
//! entries after the keys object's header and its hash index (`1 << dk_log2_index_bytes`
//! bytes), `{key, value}` in a table of `str` keys (`dk_kind` 1, `DICT_KEYS_UNICODE`) and
//! `{hash, key, value}` in a table of any keys (`dk_kind` 0, `DICT_KEYS_GENERAL`); a deleted
//! item's key and value are NULL. A table of any keys may hold only `str` keys: a dict that held
//! another key once, or one made for a known size, as `orjson.loads` makes its objects of nine
//! keys or more (3.11-3.13; the records of a page of history, the echo's data). The header and
//! `ma_values` are read through PyO3's `PyDictObject`, which follows the build. A kind of table
//! is read only once [`prove`] has found, at `_core`'s import, a supported version and dicts of
//! several shapes of that kind giving exactly `PyDict_Next`'s items this way; otherwise, and for
//! split tables (instances' `__dict__`), [`entries`] gives None and callers use `PyDict_Next`.

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString};

/// One item of a table of `str` keys (`PyDictUnicodeEntry`); both NULL once deleted.
#[repr(C)]
pub struct StrKeyEntry {
    pub key: *mut ffi::PyObject,
    pub value: *mut ffi::PyObject,
}

/// One item of a table of any keys (`PyDictKeyEntry`); key and value NULL once deleted.
#[repr(C)]
pub struct AnyKeyEntry {
    hash: ffi::Py_hash_t,
    pub key: *mut ffi::PyObject,
    pub value: *mut ffi::PyObject,
}

/// A combined table's entries, deleted ones included (their value is NULL).
pub enum Entries<'a> {
    /// Every key is an exact `str`.
    StrKeys(&'a [StrKeyEntry]),
    /// Keys of any type (often all `str` still).
    AnyKeys(&'a [AnyKeyEntry]),
}

impl Entries<'_> {
    /// The items not deleted, in order, as `(key, value)` borrowed pointers (for [`prove`]; the
    /// walk of `send_json`'s data reads the entries in its own loops).
    fn live_items(&self) -> Vec<(*mut ffi::PyObject, *mut ffi::PyObject)> {
        match self {
            Entries::StrKeys(entries) => entries
                .iter()
                .filter(|entry| !entry.value.is_null())
                .map(|entry| (entry.key, entry.value))
                .collect(),
            Entries::AnyKeys(entries) => entries
                .iter()
                .filter(|entry| !entry.value.is_null())
                .map(|entry| (entry.key, entry.value))
                .collect(),
        }
    }
}

/// The keys object's header up to its hash index (`PyDictKeysObject`; a free-threaded build's
/// `dk_mutex` sits in the padding before `dk_version`). Mirrored whole, read in part.
#[allow(dead_code)]
#[repr(C)]
struct KeysHeader {
    dk_refcnt: ffi::Py_ssize_t,
    dk_log2_size: u8,
    dk_log2_index_bytes: u8,
    dk_kind: u8,
    dk_version: u32,
    dk_usable: ffi::Py_ssize_t,
    dk_nentries: ffi::Py_ssize_t,
}

/// `DICT_KEYS_GENERAL`.
const ANY_KEYS: u8 = 0;
/// `DICT_KEYS_UNICODE`.
const STR_KEYS: u8 = 1;

/// The versions whose layout this module mirrors.
const SUPPORTED: std::ops::RangeInclusive<(u8, u8)> = (3, 11)..=(3, 14);

/// Set by [`prove`], one per kind of table (a layout change in one leaves the other read);
/// read on every dict of `send_json`'s data.
static STR_KEYS_PROVEN: AtomicBool = AtomicBool::new(false);
static ANY_KEYS_PROVEN: AtomicBool = AtomicBool::new(false);

/// The entries of `dict`'s table when it is a combined one and reading it directly is proven;
/// None otherwise.
///
/// # Safety
/// The GIL is held, `dict` is an exact `dict` and alive, and no Python code runs while the
/// slice is used (the table could be resized or freed).
#[allow(unsafe_code)]
#[inline]
pub unsafe fn entries<'a>(dict: *mut ffi::PyObject) -> Option<Entries<'a>> {
    let (str_keys, any_keys) = (
        STR_KEYS_PROVEN.load(Ordering::Relaxed),
        ANY_KEYS_PROVEN.load(Ordering::Relaxed),
    );
    // Neither proven: the header itself may be laid out otherwise, so it is not read at all.
    if !str_keys && !any_keys {
        return None;
    }
    let table = read_table(dict)?;
    let proven = match table {
        Entries::StrKeys(_) => str_keys,
        Entries::AnyKeys(_) => any_keys,
    };
    proven.then_some(table)
}

/// [`entries`] without the proof.
///
/// # Safety
/// As [`entries`]; the layout must be the one mirrored here.
#[allow(unsafe_code)]
unsafe fn read_table<'a>(dict: *mut ffi::PyObject) -> Option<Entries<'a>> {
    let dict = dict.cast::<ffi::PyDictObject>();
    if !(*dict).ma_values.is_null() {
        return None;
    }
    let keys = (*dict).ma_keys.cast::<KeysHeader>();
    let kind = (*keys).dk_kind;
    if kind != STR_KEYS && kind != ANY_KEYS {
        return None;
    }
    let count = usize::try_from((*keys).dk_nentries).ok()?;
    if count == 0 {
        // Every empty dict shares one table whose hash index is a single byte: its entries
        // would start unaligned, which a slice may not, even an empty one.
        return Some(Entries::StrKeys(&[]));
    }
    let index = keys.cast::<u8>().add(std::mem::size_of::<KeysHeader>());
    let table = index.add(1usize << (*keys).dk_log2_index_bytes);
    Some(if kind == STR_KEYS {
        Entries::StrKeys(std::slice::from_raw_parts(table.cast(), count))
    } else {
        Entries::AnyKeys(std::slice::from_raw_parts(table.cast(), count))
    })
}

/// Turns the direct reading on, per kind of table, when this interpreter's dicts are laid out
/// as mirrored here: a supported version with the GIL (a free-threaded build's dicts can change
/// under a reader without it), and dicts of several shapes (empty, small, large enough for
/// two-byte hash indices, with deleted items, with every item deleted, with a key of another
/// type, an instance's split table) read directly giving exactly `PyDict_Next`'s items, or None
/// where they must. A kind is turned on when every shape read as that kind gave the right items
/// (and at least one did); both stay off if any shape is read where it must not be, or not where
/// it must. Called once, at `_core`'s import; any failure leaves the reading off.
pub fn prove(py: Python<'_>) {
    let (str_keys, any_keys) = layout_is_mirrored(py).unwrap_or((false, false));
    STR_KEYS_PROVEN.store(str_keys, Ordering::Relaxed);
    ANY_KEYS_PROVEN.store(any_keys, Ordering::Relaxed);
}

/// (tables of `str` keys proven, tables of any keys proven).
fn layout_is_mirrored(py: Python<'_>) -> PyResult<(bool, bool)> {
    let version = py.version_info();
    if !SUPPORTED.contains(&(version.major, version.minor)) || gil_disabled(py)? {
        return Ok((false, false));
    }
    let with_str_keys = |size: usize| -> PyResult<Bound<'_, PyDict>> {
        let dict = PyDict::new(py);
        for i in 0..size {
            dict.set_item(PyString::new(py, &format!("key{i}")), i)?;
        }
        Ok(dict)
    };
    let mut shapes = Vec::new();
    for size in [0, 1, 5, 300] {
        shapes.push((with_str_keys(size)?, true));
    }
    let deleted = with_str_keys(40)?;
    for i in (0..40).step_by(3) {
        deleted.del_item(format!("key{i}"))?;
    }
    shapes.push((deleted, true));
    let all_deleted = with_str_keys(6)?;
    for i in 0..6 {
        all_deleted.del_item(format!("key{i}"))?;
    }
    shapes.push((all_deleted, true));
    // Tables of any keys: with an int key among str ones, with it deleted again (str keys
    // only, the table's kind stays), grown past a resize, with deleted items.
    let mixed = with_str_keys(1)?;
    mixed.set_item(PyInt::new(py, 2), 2)?;
    shapes.push((mixed.copy()?, true));
    mixed.del_item(PyInt::new(py, 2))?;
    shapes.push((mixed.copy()?, true));
    for i in 1..300 {
        mixed.set_item(PyString::new(py, &format!("key{i}")), i)?;
    }
    for i in (0..300).step_by(7) {
        mixed.del_item(format!("key{i}"))?;
    }
    shapes.push((mixed, true));
    // An instance's attributes: a split table (values outside the keys object).
    let namespace = PyDict::new(py);
    py.run(
        c"class C:\n    def __init__(self): self.a = 1\nsplit = vars(C())",
        Some(&namespace),
        None,
    )?;
    if let Some(split) = namespace.get_item("split")? {
        shapes.push((split.cast_into::<PyDict>()?, false));
    }

    // (a shape of the kind was read, every one read gave PyDict_Next's items), per kind.
    let (mut str_keys, mut any_keys) = ((false, true), (false, true));
    for (dict, readable) in &shapes {
        // SAFETY: the GIL is held, `dict` is an exact dict kept alive by `shapes`; the version
        // is one whose layout is mirrored. No Python code runs while the slice is read.
        #[allow(unsafe_code)]
        let read = unsafe { read_table(dict.as_ptr()) };
        let kind = match (&read, readable) {
            (None, false) => continue,
            (Some(Entries::StrKeys(_)), true) => &mut str_keys,
            (Some(Entries::AnyKeys(_)), true) => &mut any_keys,
            _ => return Ok((false, false)),
        };
        kind.0 = true;
        kind.1 &= read.is_some_and(|entries| entries.live_items() == items_of(dict));
    }
    Ok((str_keys.0 && str_keys.1, any_keys.0 && any_keys.1))
}

/// Whether this is a free-threaded build (`sysconfig.get_config_var("Py_GIL_DISABLED")`).
fn gil_disabled(py: Python<'_>) -> PyResult<bool> {
    py.import("sysconfig")?
        .call_method1("get_config_var", ("Py_GIL_DISABLED",))?
        .is_truthy()
}

/// Whether [`prove`] turned the direct reading on for both kinds of table
/// (`_core._dict_tables_read_directly()`, for the tests).
#[pyfunction(name = "_dict_tables_read_directly")]
pub fn read_directly() -> bool {
    STR_KEYS_PROVEN.load(Ordering::Relaxed) && ANY_KEYS_PROVEN.load(Ordering::Relaxed)
}

/// `dict`'s items by `PyDict_Next`, as borrowed pointers.
fn items_of(dict: &Bound<'_, PyDict>) -> Vec<(*mut ffi::PyObject, *mut ffi::PyObject)> {
    let mut items = Vec::new();
    let (mut pos, mut key, mut value) = (0, std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: the GIL is held and `dict` is alive; PyDict_Next runs no Python code.
    #[allow(unsafe_code)]
    while unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key, &mut value) } != 0 {
        items.push((key, value));
    }
    items
}
