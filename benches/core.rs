//! Benchmarks of ferrosocket's pure Rust core (no Python): `cargo bench`.
//!
//! The inputs are what a browser sends when it opens a WebSocket: an upgrade request with 13
//! headers (a cookie among them) and a query string of 6 parameters with `%` and `+` escapes.
//! These numbers are the Rust floor under the Python-facing operations that benches/report.py
//! measures: what is left above them there is PyO3 conversion and Python-level dispatch.
//!
//! Run one group: `cargo bench --bench core -- headers`.

use divan::{black_box, Bencher};
use ferrosocket::headers::{lower_latin1, HeaderTable};
use ferrosocket::host::parse_host_header;
use ferrosocket::json_scan::{scan_loads_input, LoadsScan};
use ferrosocket::query::parse_qsl_latin1;
use ferrosocket::scope_url::{url_from_scope, ScopeParts, Server};
use ferrosocket::urlsplit::urlsplit;

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

fn table() -> HeaderTable {
    let bytes = UPGRADE_HEADERS.iter().map(|(n, v)| n.len() + v.len()).sum();
    let mut table = HeaderTable::with_capacity(UPGRADE_HEADERS.len(), bytes);
    for (name, value) in UPGRADE_HEADERS {
        table.push(name, value);
    }
    table
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

    /// Copying the 13 raw pairs into a table: what `Headers(scope=...)` costs in Rust.
    #[divan::bench]
    fn build_table() -> HeaderTable {
        table()
    }

    /// `lower_latin1` of a mixed-case ASCII key: the first step of every lookup.
    #[divan::bench]
    fn lower_key() -> Option<Vec<u8>> {
        lower_latin1(black_box("Sec-WebSocket-Version"))
    }

    /// The Rust part of `headers["Sec-WebSocket-Version"]` (8th of 13 headers).
    #[divan::bench]
    fn position_hit(bencher: Bencher) {
        let table = table();
        bencher.bench_local(|| table.position(black_box(b"sec-websocket-version")));
    }

    /// The Rust part of `headers.get("x-missing")`: a scan of all 13 names.
    #[divan::bench]
    fn position_miss(bencher: Bencher) {
        let table = table();
        bencher.bench_local(|| table.position(black_box(b"x-missing")));
    }

    /// Lower the key, then find it: the whole of a lookup in Rust.
    #[divan::bench]
    fn lower_and_position(bencher: Bencher) {
        let table = table();
        bencher.bench_local(|| {
            lower_latin1(black_box("Sec-WebSocket-Version")).and_then(|key| table.position(&key))
        });
    }

    /// `getlist("cookie")`'s scan.
    #[divan::bench]
    fn positions_cookie(bencher: Bencher) {
        let table = table();
        bencher.bench_local(|| table.positions(black_box(b"cookie")).count());
    }

    /// Build the table, then one lookup: the Rust floor of "headers from scope + 1 lookup".
    #[divan::bench]
    fn build_and_lookup() -> Option<usize> {
        let table = table();
        lower_latin1(black_box("Sec-WebSocket-Version")).and_then(|key| table.position(&key))
    }
}

mod query {
    use super::*;

    /// `parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)`, 6 pairs.
    #[divan::bench]
    fn parse_6_params() -> Vec<(String, String)> {
        parse_qsl_latin1(black_box(QUERY))
    }

    /// A query string with no escapes at all (the fast path: no decoding buffer).
    #[divan::bench]
    fn parse_plain() -> Vec<(String, String)> {
        parse_qsl_latin1(black_box(b"a=1&b=2&c=3&d=4&e=5&f=6"))
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
        bencher.bench_local(|| {
            url_from_scope(black_box(&parts(Some("chat.example.com:8443"), query))).ok()
        });
    }

    /// `str(URL(scope=scope))` falling back to `scope["server"]` (no Host header).
    #[divan::bench]
    fn from_scope_server(bencher: Bencher) {
        let query = std::str::from_utf8(QUERY).unwrap_or_default();
        bencher.bench_local(|| url_from_scope(black_box(&parts(None, query))).ok());
    }

    /// `urlsplit` of the URL built from the scope (how the URL's components are found).
    #[divan::bench]
    fn urlsplit_scope_url(bencher: Bencher) {
        let query = std::str::from_utf8(QUERY).unwrap_or_default();
        let url = url_from_scope(&parts(Some("chat.example.com:8443"), query)).unwrap_or_default();
        bencher.bench_local(|| urlsplit(black_box(&url)).ok());
    }

    /// `urlsplit` then the port accessor: the Rust floor of `.path`, `.port`, `.scheme`, `.query`.
    #[divan::bench]
    fn urlsplit_and_port(bencher: Bencher) {
        let query = std::str::from_utf8(QUERY).unwrap_or_default();
        let url = url_from_scope(&parts(Some("chat.example.com:8443"), query)).unwrap_or_default();
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

/// Everything the handshake does in Rust: headers table, URL string and its split, the query.
#[divan::bench]
fn handshake_core() -> usize {
    let table = table();
    let host = table
        .position(b"host")
        .and_then(|i| table.get(i))
        .and_then(|(_, v)| std::str::from_utf8(v).ok());
    let query = std::str::from_utf8(black_box(QUERY)).unwrap_or_default();
    let url = url_from_scope(&parts(host, query)).unwrap_or_default();
    let split_len = urlsplit(&url).map(|s| s.path.len()).unwrap_or_default();
    let params = parse_qsl_latin1(QUERY);
    table.len() + split_len + params.len()
}
