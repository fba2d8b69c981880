//! ferrosocket's Rust core.
//!
//! The modules at this level are pure Rust (no PyO3): the ports of Starlette's and urllib's
//! parsing, the checks on what the app sends, the connection state machine and the JSON
//! fast-path scans. They build and test with plain `cargo test`. The PyO3 bindings live in
//! `python`, compiled only with the `python` feature (maturin turns it on); they reach the
//! modules by their paths (`crate::state::...`).
//!
//! Every module is private. The `pub use` list below is the core's whole API: what the bindings
//! call (which must stay exported, or a build without the `python` feature reports it as dead
//! code), and the few pieces that only `benches/core.rs` and `tests/*.rs` reach.

mod cookies;
mod headers;
mod host;
mod ip;
mod json_scan;
mod lazy;
mod port;
mod py_str;
mod query;
mod scope_url;
mod state;
mod urlsplit;
mod validate;

#[cfg(feature = "python")]
mod python;

// The bindings' API.
pub use cookies::for_each_cookie;
pub use headers::{decode_latin1, lower_latin1};
pub use json_scan::{scan_loads_input, LoadsScan, DIGIT_RUN, ORJSON_LOADS_MAX_DEPTH};
pub use query::{parse_qsl_latin1, parse_qsl_str, urlencode, QueryPairs};
pub use scope_url::{
    default_port, is_usable_host_header, query_text, scope_url_usable_host, ScopeParts, ScopeUrl,
    ScopeUrlError, Server, SplitSpans,
};
pub use state::{
    after_receive, check_app_connected, plan_send, receive_phase, Commit, Expected, Incoming,
    Outgoing, ReceivePhase, SendPlan, State, StateError,
};
pub use urlsplit::{
    netloc_hostinfo, netloc_hostname, netloc_needs_nfkc_check, netloc_port, netloc_userinfo,
    urlsplit, SplitUrl, UrlError,
};
pub use validate::{
    is_denial_status, is_header_value, is_sendable_close_code, is_token, truncate_close_reason,
};

pub use lazy::get_or_build;

// Reached only by the benchmarks and the tests: the pieces the functions above are built from.
pub use host::{parse_host_header, ParsedHost};
pub use ip::{is_ipv4_address, is_ipv6_address};
pub use py_str::py_repr_str;
pub use scope_url::escape_path;
pub use urlsplit::urlunsplit;
pub use validate::MAX_CLOSE_REASON_BYTES;
