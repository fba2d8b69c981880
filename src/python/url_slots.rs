//! Making a `URL` instance and filling its component slots without a lookup per slot.
//!
//! A new URL is a `str` subclass instance whose six slots (`scheme`, `netloc`, `path`, `query`,
//! `port`, `_parts`) Rust fills before anyone sees it. Going through `str.__new__` and
//! `object.__setattr__` costs a method-wrapper call and a type lookup per slot; for the
//! registered `URL` class itself (not a subclass, whose layout or descriptors could differ) the
//! slots' offsets are read once from its member descriptors, and `str`'s `tp_new` is called
//! directly.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};
use pyo3::IntoPyObjectExt;

/// A component slot of `URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSlot {
    Scheme,
    Netloc,
    Path,
    Query,
    Port,
    Parts,
}

impl UrlSlot {
    /// In declaration order: `UrlLayout::offset` reads its array in this order.
    const ALL: [UrlSlot; 6] = [
        UrlSlot::Scheme,
        UrlSlot::Netloc,
        UrlSlot::Path,
        UrlSlot::Query,
        UrlSlot::Port,
        UrlSlot::Parts,
    ];

    fn name(self) -> &'static str {
        match self {
            UrlSlot::Scheme => "scheme",
            UrlSlot::Netloc => "netloc",
            UrlSlot::Path => "path",
            UrlSlot::Query => "query",
            UrlSlot::Port => "port",
            UrlSlot::Parts => "_parts",
        }
    }
}

/// Where the registered `URL` class keeps each slot in its instances (byte offsets).
#[derive(Debug, Clone, Copy)]
pub struct UrlLayout {
    /// The class the offsets are for, compared by identity (it is kept alive by the registry
    /// that holds this layout).
    class: *mut ffi::PyTypeObject,
    offsets: [ffi::Py_ssize_t; 6],
}

// SAFETY: `class` is only compared as an address, never dereferenced through this struct.
#[allow(unsafe_code)]
unsafe impl Send for UrlLayout {}
#[allow(unsafe_code)]
unsafe impl Sync for UrlLayout {}

impl UrlLayout {
    /// Reads the offsets from the member descriptors `cls` defines for its `__slots__`; a
    /// `TypeError` if one is missing or not a writable object slot of `cls` itself.
    pub fn of(cls: &Bound<'_, PyType>) -> PyResult<Self> {
        let mut offsets = [0; 6];
        for (offset, slot) in offsets.iter_mut().zip(UrlSlot::ALL) {
            *offset = member_offset(cls, slot.name())?;
        }
        Ok(UrlLayout {
            class: cls.as_type_ptr(),
            offsets,
        })
    }

    /// Whether `cls` is the class these offsets are for.
    pub fn is_for(&self, cls: &Bound<'_, PyType>) -> bool {
        std::ptr::eq(self.class, cls.as_type_ptr())
    }

    fn offset(&self, slot: UrlSlot) -> ffi::Py_ssize_t {
        let [scheme, netloc, path, query, port, parts] = self.offsets;
        match slot {
            UrlSlot::Scheme => scheme,
            UrlSlot::Netloc => netloc,
            UrlSlot::Path => path,
            UrlSlot::Query => query,
            UrlSlot::Port => port,
            UrlSlot::Parts => parts,
        }
    }
}

/// The offset of the object slot `name` that `cls` defines (a `member_descriptor` in its own
/// `__dict__`, type `Py_T_OBJECT_EX`, writable).
#[allow(unsafe_code)]
fn member_offset(cls: &Bound<'_, PyType>, name: &str) -> PyResult<ffi::Py_ssize_t> {
    let not_a_slot = || PyTypeError::new_err(format!("URL class without a `{name}` slot"));
    let descriptor = cls
        .getattr("__dict__")?
        .get_item(name)
        .map_err(|_| not_a_slot())?;
    // SAFETY: the GIL is held; `descriptor` is alive. The type check comes before the cast: a
    // member descriptor is a `PyMemberDescrObject`, whose `d_member` points into its class's
    // static member table (alive as long as the class).
    unsafe {
        if ffi::Py_TYPE(descriptor.as_ptr()) != &raw mut ffi::PyMemberDescr_Type {
            return Err(not_a_slot());
        }
        let member_descriptor = descriptor.as_ptr().cast::<ffi::PyMemberDescrObject>();
        if (*member_descriptor).d_common.d_type != cls.as_type_ptr() {
            return Err(not_a_slot());
        }
        let member = &*(*member_descriptor).d_member;
        if member.type_code != ffi::Py_T_OBJECT_EX || member.flags & ffi::Py_READONLY != 0 {
            return Err(not_a_slot());
        }
        Ok(member.offset)
    }
}

/// A URL being made: the new instance, its slots still empty, filled by [`NewUrl::set`].
pub struct NewUrl<'py> {
    url: Bound<'py, PyAny>,
    /// The layout of the URL's class, when it is the registered class (the slots are then
    /// stored at their offsets).
    layout: Option<UrlLayout>,
}

impl<'py> NewUrl<'py> {
    /// A new instance of `cls` (a `str` subclass) holding `text`: `str.__new__(cls, text)`
    /// (`str_new`), or for the class of `layout`, the `tp_new` that method wraps.
    pub fn new(
        cls: &Bound<'py, PyType>,
        text: &str,
        layout: UrlLayout,
        str_new: &Bound<'py, PyAny>,
    ) -> PyResult<Self> {
        let py = cls.py();
        if !layout.is_for(cls) {
            let url = str_new.call1((cls, text))?;
            return Ok(NewUrl { url, layout: None });
        }
        let args = PyTuple::new(py, [PyString::new(py, text)])?;
        // SAFETY: the GIL is held. `cls` is the registered URL class, a Python subclass of
        // `str` (its member descriptors were checked when its layout was read), so `str`'s
        // `tp_new` is the one `str.__new__(cls, text)` calls after its checks; it returns a new
        // reference or NULL with an exception set.
        #[allow(unsafe_code)]
        let url = unsafe {
            let new = ffi::PyUnicode_Type
                .tp_new
                .ok_or_else(|| PyTypeError::new_err("str has no tp_new"))?;
            Bound::from_owned_ptr_or_err(
                py,
                new(cls.as_type_ptr(), args.as_ptr(), std::ptr::null_mut()),
            )?
        };
        Ok(NewUrl {
            url,
            layout: Some(layout),
        })
    }

    /// Stores `value` in `slot`, past `URL.__setattr__` (which refuses every write from Python:
    /// the components are read-only, as Starlette's properties are).
    pub fn set(&self, slot: UrlSlot, value: impl IntoPyObjectExt<'py>) -> PyResult<()> {
        let py = self.url.py();
        let value = value.into_bound_py_any(py)?;
        #[allow(unsafe_code)]
        if let Some(layout) = &self.layout {
            // SAFETY: the GIL is held; the URL is an instance of exactly the class whose member
            // descriptors gave the offset of this object slot. The slot takes our reference;
            // the one it held (none: the URL is new) is released after the store.
            unsafe {
                let field = self
                    .url
                    .as_ptr()
                    .cast::<u8>()
                    .offset(layout.offset(slot))
                    .cast::<*mut ffi::PyObject>();
                let old = std::ptr::replace(field, value.into_ptr());
                ffi::Py_XDECREF(old);
            }
            return Ok(());
        }
        // Subclasses only (rare): the name interned at each call.
        let name = PyString::intern(py, slot.name());
        // SAFETY: holding the GIL; the three pointers are live references held by the
        // `Bound`s for the whole call. PyObject_GenericSetAttr is the public C API behind
        // `object.__setattr__`: it finds the slot's member descriptor on the type and stores
        // the value (taking its own reference), or sets an exception and returns -1.
        #[allow(unsafe_code)]
        let status = unsafe {
            ffi::PyObject_GenericSetAttr(self.url.as_ptr(), name.as_ptr(), value.as_ptr())
        };
        if status < 0 {
            Err(PyErr::fetch(py))
        } else {
            Ok(())
        }
    }

    /// The URL, once its slots are set.
    pub fn into_url(self) -> Bound<'py, PyAny> {
        self.url
    }
}
