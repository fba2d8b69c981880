//! Benchmarks of ferrosocket's pure Rust core (no Python): `cargo bench`.
//!
//! The inputs are what a browser sends when it opens a WebSocket: an upgrade request with 13
//! headers (a cookie among them) and a query string of 6 parameters with `%` and `+` escapes.
//! These numbers are the Rust floor under the Python-facing operations that benches/report.py
//! measures: what is left above them there is PyO3 conversion and Python-level dispatch.
//!
//! Run one group: `cargo bench --bench core -- headers`.

use divan::{black_box, Bencher};
use ferrosocket::{
    is_usable_host_header, lower_latin1, parse_host_header, scan_loads_input,
    scope_url_usable_host, urlsplit, LoadsScan, QueryPairs, ScopeParts, Server,
};

fn main() {
    divan::main();
}

/// A Chrome upgrade request, as `scope["headers"]` holds it (names already lower-case).
const UPGRADE_HEADERS: [(&[u8], &[u8]); 13] = [
    (b"host", b"chat.example.com:8443"),
    (b"connection", b"Upgrade"),
    (b"pragma", b"no-cache"),
    (b"cache-control", b"no-cache"),
    (
        b"user-agent",
        b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
          Chrome/131.0.0.0 Safari/537.36",
    ),
    (b"upgrade", b"websocket"),
    (b"origin", b"https://chat.example.com"),
    (b"sec-websocket-version", b"13"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"accept-language", b"en-GB,en;q=0.9,fr;q=0.8"),
    (
        b"cookie",
        b"sessionid=8f14e45fceea167a5a36dedd4bea2543; csrftoken=Xk2pQ9vLmN4rT7wZ; theme=dark; \
          _ga=GA1.1.123456789.1700000000",
    ),
    (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    (
        b"sec-websocket-extensions",
        b"permessage-deflate; client_max_window_bits",
    ),
];

/// Six parameters, with percent escapes, `+` for space, UTF-8 and a repeated key.
const QUERY: &[u8] =
    b"room=general&token=eyJhbGciOiJIUzI1NiJ9.abc%2Bdef%2F&tag=a&tag=b%20c&name=J%C3%BCrgen+M&since=1700000000";

const PATH: &str = "/ws/rooms/general";

/// The value of the first header named exactly `b"host"`: the scan the bindings run over
/// `scope["headers"]`.
fn host_header() -> Option<&'static str> {
    UPGRADE_HEADERS
        .iter()
        .find(|(name, _)| *name == b"host")
        .and_then(|(_, value)| std::str::from_utf8(value).ok())
}

/// `str(URL(scope=scope))` as the bindings build it: the Host header checked, then the URL.
fn url_from_scope(host_header: Option<&str>, query: &str) -> Option<String> {
    let checked = host_header.filter(|h| is_usable_host_header(h));
    scope_url_usable_host(&parts(checked, query))
        .ok()
        .map(|url| url.text)
}

fn parts<'a>(host_header: Option<&'a str>, query: &'a str) -> ScopeParts<'a> {
    ScopeParts {
        scheme: "wss",
        path: PATH,
        query,
        host_header,
        server: Some(Server {
            host: "10.0.0.5",
            port_text: "8443",
            port_value: Some(8443),
        }),
    }
}

mod headers {
    use super::*;

    /// `lower_latin1` of a mixed-case ASCII key: the Rust part of every header lookup (the scan
    /// of the scope's pairs that follows works on Python objects).
    #[divan::bench]
    fn lower_key() -> Option<Vec<u8>> {
        lower_latin1(black_box("Sec-WebSocket-Version"))
    }
}

mod query {
    use super::*;

    /// `parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)`, 6 pairs.
    #[divan::bench]
    fn parse_6_params() -> QueryPairs {
        QueryPairs::parse_latin1(black_box(QUERY))
    }

    /// A query string with no escapes at all (the fast path: split in place).
    #[divan::bench]
    fn parse_plain() -> QueryPairs {
        QueryPairs::parse_latin1(black_box(b"a=1&b=2&c=3&d=4&e=5&f=6"))
    }

    /// The gateway benchmark's handshake query (benches/gateway/workloads.py), no escapes.
    #[divan::bench]
    fn parse_plain_browser() -> QueryPairs {
        QueryPairs::parse_latin1(black_box(
            b"room=room-30&user=user-1000&client=web&v=2.4.0&nonce=1000-k3J9x2Qa",
        ))
    }
}

mod url {
    use super::*;

    /// A valid Host header: what the URL's netloc comes from.
    #[divan::bench]
    fn parse_host() -> bool {
        parse_host_header(black_box("chat.example.com:8443")).is_some()
    }

    /// `str(URL(scope=scope))` with a Host header.
    #[divan::bench]
    fn from_scope_host_header(bencher: Bencher) {
        let query = std::str::from_utf8(QUERY).unwrap_or_default();
        bencher.bench_local(|| url_from_scope(black_box(Some("chat.example.com:8443")), query));
    }

    /// `str(URL(scope=scope))` falling back to `scope["server"]` (no Host header).
    #[divan::bench]
    fn from_scope_server(bencher: Bencher) {
        let query = std::str::from_utf8(QUERY).unwrap_or_default();
        bencher.bench_local(|| url_from_scope(black_box(None), query));
    }

    /// `urlsplit` of the URL built from the scope (how the URL's components are found).
    #[divan::bench]
    fn urlsplit_scope_url(bencher: Bencher) {
        let query = std::str::from_utf8(QUERY).unwrap_or_default();
        let url = url_from_scope(Some("chat.example.com:8443"), query).unwrap_or_default();
        bencher.bench_local(|| urlsplit(black_box(&url)).ok());
    }

    /// `urlsplit` then the port accessor: the Rust floor of `.path`, `.port`, `.scheme`, `.query`.
    #[divan::bench]
    fn urlsplit_and_port(bencher: Bencher) {
        let query = std::str::from_utf8(QUERY).unwrap_or_default();
        let url = url_from_scope(Some("chat.example.com:8443"), query).unwrap_or_default();
        bencher.bench_local(|| {
            urlsplit(black_box(&url))
                .ok()
                .and_then(|split| split.port().ok().flatten())
        });
    }
}

/// The chat message of the Python benchmarks (`JSON_MESSAGE` in benches/test_bench_python.py),
/// as orjson writes it.
const JSON_TEXT: &[u8] = "{\"type\":\"message\",\"room\":\"general\",\"id\":1234,\"user\":\
    {\"id\":42,\"name\":\"Jürgen\"},\"text\":\"hello, world\",\"ts\":1700000000.25,\
    \"tags\":[\"a\",\"b\"],\"edited\":false}"
    .as_bytes();

mod json {
    use super::*;

    /// `receive_json`'s scan of its input, before `orjson.loads`.
    #[divan::bench]
    fn scan_loads_input_message() -> LoadsScan {
        scan_loads_input(black_box(JSON_TEXT))
    }

    /// The worst case of the scan: 4 KiB of 18-digit numbers (no string to skip).
    #[divan::bench]
    fn scan_loads_input_digits_4k(bencher: Bencher) {
        let text = format!("[{}0]", "123456789012345678,".repeat(215));
        bencher.bench_local(|| scan_loads_input(black_box(text.as_bytes())));
    }

    /// 16 KiB of records, mostly strings.
    #[divan::bench]
    fn scan_loads_input_records_16k(bencher: Bencher) {
        let record =
            "{\"id\":\"3f2b8c9e-7a41-4d6b-9e0f-1c2d3e4f5a6b\",\"text\":\"Message: \\\"ça\\\" \
            marche — déployé\",\"reply_to\":null,\"ts\":1700000000.25,\"tags\":[\"release\"]},";
        let text = format!("[{}{{}}]", record.repeat(16384 / record.len()));
        bencher.bench_local(|| scan_loads_input(black_box(text.as_bytes())));
    }
}

/// Everything the handshake does in Rust: the Host header found and checked, the URL string
/// with its components (no `urlsplit`: the parts are known), the query parsed.
#[divan::bench]
fn handshake_core() -> usize {
    let query = std::str::from_utf8(black_box(QUERY)).unwrap_or_default();
    let url_len = url_from_scope(host_header(), query).map_or(0, |url| url.len());
    let params = QueryPairs::parse_latin1(QUERY);
    url_len + params.len()
}
