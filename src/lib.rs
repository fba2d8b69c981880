//! ferrosocket's Rust core.
//!
//! The modules at this level are pure Rust (no PyO3): parsing, the multidict tables and the
//! connection state machine. They build and test with plain `cargo test`. The PyO3 bindings live
//! in [`python`], compiled only with the `python` feature (maturin turns it on).

pub mod headers;
pub mod host;
pub mod query;
pub mod scope_url;
pub mod state;
pub mod urlsplit;
pub mod validate;

#[cfg(feature = "python")]
mod python;
