//! ferrosocket's Rust core.
//!
//! The modules at this level are pure Rust (no PyO3): parsing, the multidict tables, the
//! connection state machine and the JSON fast-path scans. They build and test with plain
//! `cargo test`. The PyO3 bindings live in [`python`], compiled only with the `python` feature
//! (maturin turns it on).

pub mod headers;
pub mod host;
pub mod json_scan;
pub mod lazy;
pub mod query;
pub mod scope_url;
pub mod state;
pub mod urlsplit;
pub mod validate;

#[cfg(feature = "python")]
mod python;
