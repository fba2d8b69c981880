//! Property-based fuzz targets for the pure Rust core (proptest): the query, Host header, IP
//! address, header key, scope URL and urlsplit parsers, the close-reason truncation and the JSON
//! fast-path scans.
//!
//! Every target feeds arbitrary input, biased toward the syntax of its grammar (`%` escapes, `+`,
//! `&`, `=`, `;`, brackets, `:`, `@`, `/`, `?`, `#`, `\`, CR/LF/NUL, non-ASCII and, for byte
//! inputs, invalid UTF-8), and checks that nothing panics and that the documented properties
//! hold, mostly against small independent reference implementations written here.
//!
//! Bounded: `FUZZ_CASES` cases per target (default 256, a few seconds in all for `cargo test`).
//! A longer run: `FUZZ_CASES=100000 cargo test --profile fast --test fuzz_core` (about 50 s).
//! A failure prints the shrunk input; nothing is written to the tree.
// clippy.toml's allow-*-in-tests cover #[test] functions and #[cfg(test)] modules only; this
// crate's helpers (fixture readers, reference implementations, strategies) are outside them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use ferrosocket::{
    decode_latin1, escape_path, is_header_value, is_ipv4_address, is_ipv6_address,
    is_sendable_close_code, is_token, is_usable_host_header, lower_latin1, netloc_hostinfo,
    netloc_hostname, netloc_needs_nfkc_check, parse_host_header, parse_qsl_latin1, parse_qsl_str,
    query_text, scan_loads_input, scope_url_usable_host, truncate_close_reason, urlencode,
    urlsplit, urlunsplit, LoadsScan, ParsedHost, ScopeParts, ScopeUrl, ScopeUrlError, Server,
    SplitUrl, DIGIT_RUN, MAX_CLOSE_REASON_BYTES,
};
use proptest::prelude::*;
use proptest::sample::select;

// --- Configuration --------------------------------------------------------------------------

const DEFAULT_CASES: u32 = 256;

/// `FUZZ_CASES` cases per target, no failure files written into the tree.
fn config() -> ProptestConfig {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// --- Input generators -----------------------------------------------------------------------

/// Syntax pieces of the query, URL and Host grammars (all ASCII, so valid in strings too).
#[rustfmt::skip]
const SYNTAX: &[&str] = &[
    "%", "+", "&", "=", ";", "[", "]", ":", "@", "/", "?", "#", "\\", "\r", "\n", "\0",
    "\t", " ", ".", ",", "'", "!", "$", "*", "(", ")", "~", "-", "_", "v", "V", "%%", "%2", "%25",
    "%2B", "%26", "%3D", "%C3", "%A9", "%c3%a9", "%E2%82", "%F0%9F%A6%80", "%ED%A0%80", "%C0%80",
    "%zz", "%4g", "::", "]:", "[::1]", "[v1.", "//", "://", "ws://", "http:", "0", "00", "65535",
    "65536", "99999", "1.2.3.4", "ffff", "\x7f", "\x1f",
];

/// Characters worth a special look: latin-1 edges, case mappings that leave or enter latin-1
/// (KELVIN SIGN, ANGSTROM SIGN, Ÿ), multi-char lower-casing (İ), sigma, a newer-Unicode letter,
/// line separators, the replacement character, a 4-byte char.
#[rustfmt::skip]
const SPECIAL_CHARS: &[char] = &[
    '\u{80}', '\u{a0}', '\u{b5}', '\u{c0}', '\u{c9}', '\u{d7}', '\u{de}', '\u{df}',
    '\u{e9}', '\u{ff}', '\u{100}', '\u{130}', '\u{131}', '\u{178}', '\u{17f}', '\u{3a3}',
    '\u{1e9e}', '\u{212a}', '\u{212b}', '\u{1c89}', '\u{2028}', '\u{feff}', '\u{fffd}', '\u{1f980}',
    '\u{10ffff}', '\u{661}', '\u{ff10}',
];

const HEX: &[u8] = b"0123456789abcdefABCDEF";

fn ascii_alnum() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::char::range('a', 'z'),
        prop::char::range('A', 'Z'),
        prop::char::range('0', '9'),
    ]
}

/// One valid-UTF-8 piece of text.
fn str_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => select(SYNTAX).prop_map(str::to_owned),
        2 => (select(HEX), select(HEX))
            .prop_map(|(h, l)| format!("%{}{}", char::from(h), char::from(l))),
        4 => prop::collection::vec(ascii_alnum(), 1..4).prop_map(|v| v.into_iter().collect()),
        2 => prop::char::range('\u{80}', '\u{ff}').prop_map(String::from),
        2 => select(SPECIAL_CHARS).prop_map(String::from),
        2 => any::<char>().prop_map(String::from),
        1 => prop::char::range('\0', '\u{7f}').prop_map(String::from),
    ]
}

/// Arbitrary text biased toward the grammars' syntax.
fn fuzz_str() -> impl Strategy<Value = String> {
    prop::collection::vec(str_piece(), 0..24).prop_map(|v| v.concat())
}

/// One piece of bytes: the text pieces, plus lone high bytes (latin-1 chars that are invalid
/// UTF-8), truncated UTF-8 sequences and any byte.
fn byte_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => str_piece().prop_map(String::into_bytes),
        2 => (0x80u8..=0xff).prop_map(|b| vec![b]),
        1 => any::<char>().prop_flat_map(|c| {
            let bytes = c.to_string().into_bytes();
            let n = bytes.len();
            (Just(bytes), 0..=n).prop_map(|(b, k)| b[..k].to_vec())
        }),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ]
}

/// Arbitrary bytes biased toward the grammars' syntax and toward invalid UTF-8.
fn fuzz_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(byte_piece(), 0..24).prop_map(|v| v.concat())
}

/// Characters of Starlette's Host reg-name: `[a-z0-9._~%!$&'()*+,;=-]`, any case.
const REG_NAME_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~%!$&'()*+,;=-";

fn reg_name() -> impl Strategy<Value = String> {
    let chars: Vec<char> = REG_NAME_CHARS.chars().collect();
    prop::collection::vec(select(chars), 1..20).prop_map(|v| v.into_iter().collect())
}

/// A valid IPv6 address text (as Python's `IPv6Address` and Rust's `Ipv6Addr` accept it) and
/// the address it stands for: full or `::`-compressed (any run, even one group), optional
/// IPv4 tail, optional zero padding, either case.
fn ipv6_text() -> impl Strategy<Value = (String, Ipv6Addr)> {
    (
        prop::array::uniform8(prop_oneof![Just(0u16), any::<u16>()]),
        any::<bool>(),
        0usize..=8,
        0usize..=8,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(groups, v4, a, b, compress, upper, pad)| {
            let n = if v4 { 6 } else { 8 };
            let hex: Vec<String> = groups[..n]
                .iter()
                .map(|g| {
                    if pad {
                        format!("{g:04x}")
                    } else {
                        format!("{g:x}")
                    }
                })
                .map(|s| if upper { s.to_ascii_uppercase() } else { s })
                .collect();
            let (lo, hi) = (a.min(b).min(n), a.max(b).min(n));
            let mut text = if compress && hi > lo {
                // `::` replaces groups lo..hi, which must then be zero.
                format!("{}::{}", hex[..lo].join(":"), hex[hi..].join(":"))
            } else {
                hex.join(":")
            };
            let mut addr = groups;
            if compress && hi > lo {
                for g in &mut addr[lo..hi] {
                    *g = 0;
                }
            }
            if v4 {
                let octets = [addr[6] >> 8, addr[6] & 0xff, addr[7] >> 8, addr[7] & 0xff];
                if !text.ends_with("::") {
                    text.push(':');
                }
                text.push_str(&format!(
                    "{}.{}.{}.{}",
                    octets[0], octets[1], octets[2], octets[3]
                ));
            }
            (text, Ipv6Addr::from(addr))
        })
}

/// A host that passes Starlette's Host check: a reg-name, `[IPv6]` or `[vX.tail]`.
fn valid_host() -> impl Strategy<Value = String> {
    let future_tail: Vec<char> = "abcXYZ019._~!$&'()*+,;=:-".chars().collect();
    prop_oneof![
        4 => reg_name(),
        3 => ipv6_text().prop_map(|(t, _)| format!("[{t}]")),
        1 => (
            prop::collection::vec(select(HEX), 1..4),
            prop::collection::vec(select(future_tail), 1..8),
        )
            .prop_map(|(h, t)| {
                let hex: String = h.into_iter().map(char::from).collect();
                let tail: String = t.into_iter().collect();
                format!("[v{hex}.{tail}]")
            }),
    ]
}

/// A port as text: plain, zero-padded, or too large.
fn port_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=65535).prop_map(|p| p.to_string()),
        (0u32..=65535, 1usize..6).prop_map(|(p, z)| format!("{}{p}", "0".repeat(z))),
        (65536u64..=u64::MAX).prop_map(|p| p.to_string()),
        "[0-9]{1,30}",
    ]
}

/// Text in the IPv4/IPv6 alphabet (hex digits, `:`, `.`), shaped like addresses.
fn ip_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::collection::vec(select(HEX), 1..6)
            .prop_map(|v| v.into_iter().map(char::from).collect::<String>()),
        3 => Just(":".to_owned()),
        1 => Just("::".to_owned()),
        2 => Just(".".to_owned()),
        2 => (0u32..300).prop_map(|o| o.to_string()),
        1 => (0u32..300).prop_map(|o| format!("0{o}")),
        1 => any::<[u8; 4]>().prop_map(|o| Ipv4Addr::from(o).to_string()),
        1 => ipv6_text().prop_map(|(t, _)| t),
    ];
    prop_oneof![
        2 => prop::collection::vec(piece, 0..12).prop_map(|v| v.concat()),
        1 => ipv6_counted(),
        1 => ipv4_like(),
    ]
}

/// 0 to 10 hex groups, maybe one or two `::`, maybe an IPv4 tail: near the group-count limits.
fn ipv6_counted() -> impl Strategy<Value = String> {
    (
        prop_oneof![0usize..=10, 6usize..=9].prop_flat_map(|n| {
            prop::collection::vec(
                prop_oneof![
                    4 => "[0-9a-fA-F]{1,4}",
                    1 => Just("0".to_owned()),
                    1 => "[0-9a-fA-F]{5}",
                ],
                n,
            )
        }),
        prop::collection::vec(0usize..=10, 0..=2),
        prop::option::of(ipv4_like()),
    )
        .prop_map(|(groups, gaps, v4)| join_groups(&groups, &gaps, v4.as_deref()))
}

/// The groups joined by `:`, with `::` in front of each group whose index is in `gaps` (and at
/// the end for `groups.len()`), then `v4` as the last piece.
fn join_groups(groups: &[String], gaps: &[usize], v4: Option<&str>) -> String {
    let mut text = String::new();
    for (i, g) in groups.iter().enumerate() {
        if gaps.contains(&i) {
            text.push_str("::");
        } else if i > 0 {
            text.push(':');
        }
        text.push_str(g);
    }
    if gaps.contains(&groups.len()) {
        text.push_str("::");
    }
    if let Some(v4) = v4 {
        if !text.is_empty() && !text.ends_with(':') {
            text.push(':');
        }
        text.push_str(v4);
    }
    text
}

/// Three to five dotted numbers around the octet limits, some with leading zeros.
fn ipv4_like() -> impl Strategy<Value = String> {
    let octet = prop_oneof![
        (0u32..=255).prop_map(|o| o.to_string()),
        (250u32..=260).prop_map(|o| o.to_string()),
        (0u32..=999).prop_map(|o| o.to_string()),
        (0u32..=99).prop_map(|o| format!("0{o}")),
        "[0-9]{1,5}",
    ];
    prop_oneof![3 => Just(4usize), 1 => 3usize..=5]
        .prop_flat_map(move |n| prop::collection::vec(octet.clone(), n))
        .prop_map(|v| v.join("."))
}

// --- Reference implementations --------------------------------------------------------------

/// `%XX` decoding byte by byte (and `+` as space when `plus`), then lossy UTF-8: what CPython's
/// `unquote`/`unquote_plus` give (errors="replace").
fn ref_unquote(bytes: &[u8], plus: bool) -> String {
    let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                out.push(u8::try_from(h * 16 + l).unwrap());
                i += 3;
                continue;
            }
        }
        out.push(if plus && b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `quote_plus(s)`: `A-Za-z0-9_.-~` kept, space as `+`, every other UTF-8 byte as `%XX`.
fn ref_quote_plus(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `parse_qsl(qs, keep_blank_values=True)`.
fn ref_parse_qsl(qs: &str) -> Vec<(String, String)> {
    qs.split('&')
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (name, value) = f.split_once('=').unwrap_or((f, ""));
            (
                ref_unquote(name.as_bytes(), true),
                ref_unquote(value.as_bytes(), true),
            )
        })
        .collect()
}

/// Starlette's `is_valid_port`: `int(port) <= 65535` with arbitrary-size ints.
fn ref_valid_port(port: Option<&str>) -> bool {
    port.is_none_or(|p| {
        let digits = p.trim_start_matches('0');
        digits.is_empty() || (digits.len() <= 5 && digits.parse::<u32>().unwrap() <= 65535)
    })
}

/// `query_text` by `utf8_chunks`: valid runs as is, each invalid byte as `%XX`.
fn ref_query_text(raw: &[u8]) -> String {
    let mut out = String::new();
    for chunk in raw.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Plain `%XX` decoding to bytes (no `+`, no UTF-8 step).
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16));
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                out.push(u8::try_from(h * 16 + l).unwrap());
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// RFC 7230 tchar.
fn ref_is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Schemes for which `urlunsplit` writes `//` even with an empty netloc.
const USES_NETLOC: &[&str] = &[
    "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
    "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
    "git+ssh", "ws", "wss",
];

fn strip_unsafe(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect()
}

/// `unquote(s)`, through `parse_qsl`: the value of `"=" + s` once its `&` and `+` are written
/// `%26` and `%2B` (escapes of the same ASCII bytes, so the decoding around them is unchanged).
fn unquote(s: &str) -> String {
    let field = format!("={}", s.replace('&', "%26").replace('+', "%2B"));
    parse_qsl_str(&field).pop().unwrap().1
}

/// `quote_plus(s)`, through `urlencode`: the key of a pair with an empty value.
fn quote_plus(s: &str) -> String {
    urlencode(&[(s, "")]).strip_suffix('=').unwrap().to_owned()
}

/// Starlette's `ParsedHost.authority`: `host` or `host:port`.
fn authority(parsed: &ParsedHost<'_>) -> String {
    match parsed.port {
        None => parsed.host.to_owned(),
        Some(port) => format!("{}:{}", parsed.host, port),
    }
}

/// The URL the bindings build: an unusable Host header dropped, then the URL from the parts.
fn scope_url(parts: &ScopeParts<'_>) -> Result<ScopeUrl, ScopeUrlError> {
    let host_header = parts.host_header.filter(|h| is_usable_host_header(h));
    scope_url_usable_host(&ScopeParts {
        host_header,
        ..*parts
    })
}

/// Starlette's `str(URL(scope=scope))`.
fn url_from_scope(parts: &ScopeParts<'_>) -> Result<String, ScopeUrlError> {
    scope_url(parts).map(|url| url.text)
}

/// `SplitResult.geturl()`.
fn geturl(split: &SplitUrl) -> String {
    urlunsplit(
        &split.scheme,
        &split.netloc,
        &split.path,
        &split.query,
        &split.fragment,
    )
}

// --- Query string ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// `parse_qsl_latin1(b)` is `parse_qsl_str` of the latin-1 decoding, for any bytes.
    #[test]
    fn query_latin1_equals_str_of_decoded(raw in fuzz_bytes()) {
        prop_assert_eq!(parse_qsl_latin1(&raw), parse_qsl_str(&decode_latin1(&raw)));
    }

    /// `parse_qsl_str` agrees with a naive `split('&')`, `split('=', 1)`, `unquote_plus`.
    #[test]
    fn query_parse_matches_reference(qs in fuzz_str()) {
        prop_assert_eq!(parse_qsl_str(&qs), ref_parse_qsl(&qs));
    }

    /// `unquote` (as `parse_qsl` decodes it) agrees with byte-wise `%XX` decoding then lossy UTF-8
    /// (CPython's result).
    #[test]
    fn unquote_matches_reference(s in fuzz_str()) {
        prop_assert_eq!(unquote(&s), ref_unquote(s.as_bytes(), false));
    }

    /// `quote_plus` writes only unreserved chars, `+` and upper-case `%XX`, and undoes to `s`.
    #[test]
    fn quote_plus_is_safe_and_reversible(s in fuzz_str()) {
        let q = quote_plus(&s);
        let b = q.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            prop_assert!(
                c.is_ascii_alphanumeric() || b"_.-~+%".contains(&c),
                "{:?} at {} in {:?}", char::from(c), i, q
            );
            if c == b'%' {
                let upper_hex = |h: Option<&u8>| {
                    h.is_some_and(|h| h.is_ascii_hexdigit() && !h.is_ascii_lowercase())
                };
                prop_assert!(upper_hex(b.get(i + 1)) && upper_hex(b.get(i + 2)), "{:?}", q);
            }
        }
        prop_assert_eq!(ref_unquote(b, true), s.clone());
        prop_assert_eq!(q, ref_quote_plus(&s));
    }

    /// `urlencode` then `parse_qsl_str` gives back the pairs, in order, blanks included.
    #[test]
    fn urlencode_round_trips(pairs in prop::collection::vec((fuzz_str(), fuzz_str()), 0..6)) {
        let encoded = urlencode(&pairs);
        prop_assert_eq!(parse_qsl_str(&encoded), pairs);
    }
}

// --- Host header ----------------------------------------------------------------------------

fn check_host_header(header: &str) -> Result<(), TestCaseError> {
    let Some(parsed) = parse_host_header(header) else {
        return Ok(());
    };
    // The whole header is consumed: host, then `:port` or nothing.
    prop_assert_eq!(authority(&parsed), header);
    prop_assert!(!parsed.host.is_empty());
    prop_assert!(std::ptr::eq(parsed.host.as_ptr(), header.as_ptr()));
    prop_assert!(header.starts_with(parsed.host));
    if let Some(port) = parsed.port {
        prop_assert!(!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
        prop_assert!(header.ends_with(port));
        prop_assert_eq!(header.len(), parsed.host.len() + 1 + port.len());
    } else {
        prop_assert_eq!(parsed.host, header);
    }
    // The host is a bracketed IP literal or a reg-name.
    if let Some(inner) = parsed
        .host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
    {
        let future = inner.strip_prefix('v').and_then(|f| f.split_once('.'));
        let is_future = future.is_some_and(|(hex, tail)| {
            !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) && !tail.is_empty()
        });
        prop_assert!(
            is_future || inner.parse::<Ipv6Addr>().is_ok(),
            "{:?}",
            inner
        );
    } else {
        prop_assert!(parsed.host.chars().all(|c| REG_NAME_CHARS.contains(c)));
    }
    // It re-parses to itself.
    let rebuilt = authority(&parsed);
    prop_assert_eq!(parse_host_header(&rebuilt), Some(parsed.clone()));
    prop_assert_eq!(parsed.is_valid_port(), ref_valid_port(parsed.port));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any text: a parsed Host is the whole header split into substrings, and re-parses.
    #[test]
    fn host_header_parts_are_the_input(header in fuzz_str()) {
        check_host_header(&header)?;
    }

    /// Any bytes decoded as latin-1 (what the scope URL code passes in).
    #[test]
    fn host_header_latin1_bytes(raw in fuzz_bytes()) {
        check_host_header(&decode_latin1(&raw))?;
    }

    /// Text shaped like hosts: IP-literal pieces, ports, brackets.
    #[test]
    fn host_header_shaped(
        host in prop_oneof![valid_host(), ip_like().prop_map(|t| format!("[{t}]")), fuzz_str()],
        sep in select(vec!["", ":", "::", "]:", ":[", "@"]),
        port in prop_oneof![port_text(), fuzz_str()],
    ) {
        check_host_header(&format!("{host}{sep}{port}"))?;
        check_host_header(&host)?;
    }

    /// A valid host with an optional port round-trips through `host:port`.
    #[test]
    fn host_authority_round_trips(host in valid_host(), port in prop::option::of(port_text())) {
        let authority_text = match &port {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let parsed = parse_host_header(&authority_text);
        prop_assert_eq!(
            parsed.clone(),
            Some(ParsedHost { host: &authority_text[..host.len()], port: port.as_deref() })
        );
        let parsed = parsed.unwrap();
        prop_assert_eq!(authority(&parsed), authority_text.clone());
        prop_assert_eq!(parsed.is_valid_port(), ref_valid_port(port.as_deref()));
    }

    /// `is_ipv6_address` agrees with `std::net::Ipv6Addr` (same rules as Python's
    /// `IPv6Address` on this alphabet: no scope id, 1-4 hex digits, one `::`, IPv4 tail).
    #[test]
    fn ipv6_matches_std(text in ip_like()) {
        prop_assert_eq!(is_ipv6_address(&text), text.parse::<Ipv6Addr>().is_ok(), "{:?}", text);
    }

    /// Generated IPv6 texts are valid and mean the address they were built from.
    #[test]
    fn ipv6_generated_are_valid((text, addr) in ipv6_text()) {
        prop_assert!(is_ipv6_address(&text), "{:?}", text);
        prop_assert_eq!(text.parse::<Ipv6Addr>().ok(), Some(addr));
    }

    /// With a `%zone` (which `std` does not parse): valid when the address is and the zone is
    /// non-empty without another `%`, as `IPv6Address` has it; never with a `/`.
    #[test]
    fn ipv6_zone_ids(
        text in ip_like(),
        zone in prop_oneof![
            select(vec!["", "eth0", "1", "%", "a%b", "/64", "\u{e9}"]).prop_map(str::to_owned),
            fuzz_str(),
        ],
    ) {
        let zoned = format!("{text}%{zone}");
        let zone_ok = !zone.is_empty() && !zone.contains('%') && !zone.contains('/');
        prop_assert_eq!(
            is_ipv6_address(&zoned),
            zone_ok && text.parse::<Ipv6Addr>().is_ok(),
            "{:?}", zoned
        );
        let with_prefix = format!("{text}/64");
        prop_assert!(!is_ipv6_address(&with_prefix), "{:?}", with_prefix);
    }

    /// `is_ipv4_address` agrees with `std::net::Ipv4Addr` (no leading zeros, like Python).
    #[test]
    fn ipv4_matches_std(text in prop_oneof![ip_like(), fuzz_str()]) {
        prop_assert_eq!(is_ipv4_address(&text), text.parse::<Ipv4Addr>().is_ok(), "{:?}", text);
    }
}

/// Every group count (0 to 10), with `::` at every place (or twice, or not at all), with and
/// without an IPv4 tail; every octet value 0-999 (and zero-padded) in each IPv4 position.
#[test]
fn ip_shapes_exhaustive() {
    let check = |text: &str| {
        assert_eq!(
            is_ipv6_address(text),
            text.parse::<Ipv6Addr>().is_ok(),
            "{text:?}"
        );
        assert_eq!(
            is_ipv4_address(text),
            text.parse::<Ipv4Addr>().is_ok(),
            "{text:?}"
        );
    };
    for n in 0..=10usize {
        let groups: Vec<String> = (1..=n).map(|g| format!("{g:x}")).collect();
        let mut gap_sets: Vec<Vec<usize>> = vec![vec![]];
        for a in 0..=n {
            gap_sets.push(vec![a]);
            for b in a + 1..=n {
                gap_sets.push(vec![a, b]);
            }
        }
        for gaps in &gap_sets {
            check(&join_groups(&groups, gaps, None));
            check(&join_groups(&groups, gaps, Some("1.2.3.4")));
        }
    }
    for o in 0..=999u32 {
        for text in [o.to_string(), format!("0{o}"), format!("00{o}")] {
            for pos in 0..4 {
                let mut octets = vec!["1".to_owned(); 4];
                octets[pos] = text.clone();
                let v4 = octets.join(".");
                check(&v4);
                check(&format!("::ffff:{v4}"));
            }
        }
    }
}

// --- Header lookup keys ----------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// `lower_latin1` is `key.lower().encode("latin-1")`, `None` where that cannot encode.
    #[test]
    fn lower_latin1_matches_reference(key in fuzz_str()) {
        let lowered = key.to_lowercase();
        let reference: Option<Vec<u8>> =
            lowered.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
        let got = lower_latin1(&key);
        prop_assert_eq!(&got, &reference);
        if let Some(bytes) = got {
            prop_assert_eq!(decode_latin1(&bytes), lowered);
        }
        if key.is_ascii() {
            prop_assert_eq!(lower_latin1(&key), Some(key.to_ascii_lowercase().into_bytes()));
        }
    }

    /// `decode_latin1` maps each byte to the code point of the same number.
    #[test]
    fn decode_latin1_is_byte_to_code_point(raw in fuzz_bytes()) {
        let text = decode_latin1(&raw);
        let back: Vec<u8> = text.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
        prop_assert_eq!(back, raw);
    }
}

// --- Scope URL ------------------------------------------------------------------------------

fn server() -> impl Strategy<Value = Option<(String, String, Option<i64>)>> {
    let host = prop_oneof![
        reg_name(),
        ipv6_text().prop_map(|(t, _)| t),
        ipv6_text().prop_map(|(t, _)| format!("[{t}]")),
        fuzz_str(),
    ];
    let port = prop_oneof![
        select(vec![80i64, 443, 8000, 0, 65535, -1, i64::MAX])
            .prop_map(|p| (p.to_string(), Some(p))),
        Just(("None".to_owned(), None)),
        any::<i64>().prop_map(|p| (p.to_string(), Some(p))),
    ];
    prop::option::of((host, port).prop_map(|(h, (text, value))| (h, text, value)))
}

/// What a scope gives the URL: any scheme, path and query, a Host header (valid or not, with or
/// without a port) and a server, or none.
#[derive(Debug, Clone)]
struct ScopeInput {
    scheme: String,
    path: String,
    query: String,
    header: Option<String>,
    server: Option<(String, String, Option<i64>)>,
}

impl ScopeInput {
    fn parts(&self) -> ScopeParts<'_> {
        ScopeParts {
            scheme: &self.scheme,
            path: &self.path,
            query: &self.query,
            host_header: self.header.as_deref(),
            server: self.server.as_ref().map(|(host, text, value)| Server {
                host,
                port_text: text,
                port_value: *value,
            }),
        }
    }
}

fn scope_input() -> impl Strategy<Value = ScopeInput> {
    (
        scheme(),
        fuzz_str(),
        fuzz_bytes(),
        prop::option::of(prop_oneof![valid_host(), fuzz_str()]),
        prop::option::of(port_text()),
        server(),
    )
        .prop_map(|(scheme, path, raw_query, host, port, server)| ScopeInput {
            scheme,
            path,
            query: query_text(&raw_query).into_owned(),
            header: host.map(|h| match port {
                Some(p) => format!("{h}:{p}"),
                None => h,
            }),
            server,
        })
}

fn scheme() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec!["ws", "wss", "http", "https"]).prop_map(str::to_owned),
        1 => fuzz_str(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// `query_text` is the input where it is UTF-8, each invalid byte as `%XX`; valid input
    /// comes back borrowed and unchanged; without `%` in the input, decoding gives the bytes.
    #[test]
    fn query_text_properties(raw in fuzz_bytes()) {
        let text = query_text(&raw);
        prop_assert_eq!(text.as_ref(), ref_query_text(&raw));
        if let Ok(valid) = std::str::from_utf8(&raw) {
            prop_assert!(matches!(text, Cow::Borrowed(_)));
            prop_assert_eq!(text.as_ref(), valid);
        }
        if !raw.contains(&b'%') {
            prop_assert_eq!(percent_decode(&text), raw);
        }
    }

    /// `escape_path` leaves no `?`, `#`, `\`, changes nothing else, and is undone by
    /// reversing the three escapes when the path had no `%`.
    #[test]
    fn escape_path_properties(path in fuzz_str()) {
        let escaped = escape_path(&path);
        prop_assert!(!escaped.contains(['?', '#', '\\']));
        if !path.contains('%') {
            prop_assert_eq!(String::from_utf8(percent_decode(&escaped)).unwrap(), path.clone());
        }
        let kept: String = path.chars().filter(|c| !matches!(c, '?' | '#' | '\\')).collect();
        let unescaped_rest = escaped.replace("%3F", "").replace("%23", "").replace("%5C", "");
        if !path.contains('%') {
            prop_assert_eq!(unescaped_rest, kept);
        }
    }

    /// `url_from_scope` never panics on any parts; it fails only for an unknown scheme when the
    /// server (not the Host header) gives the netloc.
    #[test]
    fn url_from_scope_never_panics(input in scope_input()) {
        let ScopeInput { scheme, path, query, header, server } = &input;
        let parts = input.parts();
        let header_used = header
            .as_deref()
            .and_then(parse_host_header)
            .is_some_and(|p| p.is_valid_port());
        match url_from_scope(&parts) {
            Ok(url) => {
                // The escaped path is in it (a leading `//` becomes `/%2F` without a netloc),
                // and the query ends it.
                let escaped = escape_path(path);
                prop_assert!(url.contains(escaped.strip_prefix("//").unwrap_or(&escaped)));
                if !query.is_empty() {
                    let tail = format!("?{query}");
                    prop_assert!(url.ends_with(&tail));
                }
            }
            Err(ScopeUrlError::UnknownScheme(s)) => {
                prop_assert!(!header_used && server.is_some());
                prop_assert!(!matches!(s.as_str(), "ws" | "wss" | "http" | "https"));
                prop_assert_eq!(&s, scheme);
            }
        }
    }

    /// When `scope_url` gives the components without parsing, they are exactly what `urlsplit`
    /// of its text gives (no error, no NFKC check, empty fragment).
    #[test]
    fn scope_url_spans_are_urlsplit(input in scope_input()) {
        let parts = input.parts();
        let Ok(url) = scope_url(&parts) else { return Ok(()) };
        if let Some(spans) = url.spans {
            let split = urlsplit(&url.text);
            prop_assert!(split.is_ok(), "{:?}", url.text);
            let split = split.unwrap();
            prop_assert!(!netloc_needs_nfkc_check(&split.netloc));
            let piece = |r: std::ops::Range<usize>| url.text.get(r).unwrap().to_owned();
            prop_assert_eq!(
                split,
                SplitUrl {
                    scheme: piece(spans.scheme),
                    netloc: piece(spans.netloc),
                    path: piece(spans.path),
                    query: piece(spans.query),
                    fragment: String::new(),
                }
            );
        }
    }

    /// With a valid Host header, `urlsplit` of the URL gives back the scheme, the header as the
    /// netloc, the escaped path and the query.
    #[test]
    fn url_from_scope_splits_back(
        scheme in select(vec!["ws", "wss", "http", "https"]),
        host in valid_host(),
        port in prop::option::of((0u32..=65535).prop_map(|p| p.to_string())),
        path in fuzz_str().prop_map(|p| strip_unsafe(&p)),
        raw_query in fuzz_bytes(),
        server in server(),
    ) {
        let query = strip_unsafe(&query_text(&raw_query)).replace('#', "");
        let header = match &port {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let parts = ScopeParts {
            scheme,
            path: &path,
            query: &query,
            host_header: Some(&header),
            server: server.as_ref().map(|(host, text, value)| Server {
                host,
                port_text: text,
                port_value: *value,
            }),
        };
        let url = url_from_scope(&parts).unwrap();
        let escaped = escape_path(&path);
        let expected_path = if escaped.is_empty() || escaped.starts_with('/') {
            escaped
        } else {
            format!("/{escaped}")
        };
        prop_assert_eq!(
            urlsplit(&url),
            Ok(SplitUrl {
                scheme: scheme.to_owned(),
                netloc: header,
                path: expected_path,
                query,
                fragment: String::new(),
            }),
            "{}", url
        );
    }

    /// Without a usable Host header: the server's host (IPv6 bracketed) and port unless it is
    /// the scheme's default; without a server, a relative URL whose path cannot become an
    /// authority.
    #[test]
    fn url_from_scope_fallbacks(
        scheme in select(vec!["ws", "wss", "http", "https"]),
        bad_header in prop::option::of(select(vec![
            "", "a b", "h:", "h:65536", "[::1", "a@b", "h/x", "[1.2.3.4]",
        ])),
        server in prop::option::of((
            prop_oneof![reg_name(), ipv6_text().prop_map(|(t, _)| t)],
            select(vec![80i64, 443, 8000, 1, 65535]),
        )),
        path in fuzz_str().prop_map(|p| format!("/{}", strip_unsafe(&p))),
        raw_query in fuzz_bytes(),
    ) {
        let query = strip_unsafe(&query_text(&raw_query)).replace('#', "");
        let port_text = server.as_ref().map(|(_, p)| p.to_string());
        let parts = ScopeParts {
            scheme,
            path: &path,
            query: &query,
            host_header: bad_header,
            server: server.as_ref().zip(port_text.as_deref()).map(|((host, port), text)| Server {
                host,
                port_text: text,
                port_value: Some(*port),
            }),
        };
        let url = url_from_scope(&parts).unwrap();
        let split = urlsplit(&url).unwrap();
        prop_assert_eq!(&split.query, &query);
        prop_assert_eq!(&split.fragment, "");
        match &server {
            Some((host, port)) => {
                prop_assert_eq!(&split.scheme, scheme);
                let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
                let default = if matches!(scheme, "ws" | "http") { 80 } else { 443 };
                let netloc = if *port == default { host } else { format!("{host}:{port}") };
                prop_assert_eq!(&split.netloc, &netloc);
                prop_assert_eq!(split.path, escape_path(&path));
            }
            None => {
                prop_assert_eq!(&split.scheme, "");
                prop_assert_eq!(&split.netloc, "");
                let escaped = escape_path(&path);
                let expected = match escaped.strip_prefix("//") {
                    Some(rest) => format!("/%2F{rest}"),
                    None => escaped,
                };
                prop_assert_eq!(split.path, expected);
            }
        }
    }
}

// --- urlsplit / urlunsplit ------------------------------------------------------------------

/// A netloc `urlsplit` takes back unchanged: no `/?#`, no tab/CR/LF, brackets only around a
/// valid IP literal.
fn netloc() -> impl Strategy<Value = String> {
    fn plain() -> impl Strategy<Value = String> {
        fuzz_str().prop_map(|s| {
            s.chars()
                .filter(|c| !matches!(c, '/' | '?' | '#' | '[' | ']' | '\t' | '\r' | '\n'))
                .collect::<String>()
        })
    }
    prop_oneof![
        3 => plain(),
        1 => (plain(), valid_host(), prop::option::of(port_text())).prop_map(|(user, host, port)| {
            let userinfo = if user.is_empty() { String::new() } else { format!("{user}@") };
            match port {
                Some(p) => format!("{userinfo}{host}:{p}"),
                None => format!("{userinfo}{host}"),
            }
        }),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Any text: `urlsplit` never panics, and neither do the accessors of what it returns;
    /// the parts are pieces of the cleaned input.
    #[test]
    fn urlsplit_never_panics(url in fuzz_str()) {
        let Ok(split) = urlsplit(&url) else { return Ok(()) };
        let cleaned = strip_unsafe(url.trim_start_matches(|c: char| c <= ' '));
        for part in [&split.netloc, &split.path, &split.query, &split.fragment] {
            prop_assert!(cleaned.contains(part.as_str()));
        }
        prop_assert!(cleaned.to_ascii_lowercase().starts_with(&split.scheme));
        let (user, password) = split.userinfo();
        let (host, port_text) = netloc_hostinfo(&split.netloc);
        for part in [user, password, Some(host), port_text].into_iter().flatten() {
            prop_assert!(split.netloc.contains(part));
        }
        let _ = (split.username(), split.password(), netloc_hostname(&split.netloc));
        match split.port() {
            Ok(Some(port)) => {
                let text = port_text.unwrap();
                prop_assert_eq!(text.trim_start_matches('0').parse::<u16>().unwrap_or(0), port);
            }
            Ok(None) => prop_assert!(port_text.is_none()),
            Err(_) => prop_assert!(port_text.is_some()),
        }
        // geturl() is urlunsplit of the parts, and splits again without panicking.
        let again = geturl(&split);
        let _ = urlsplit(&again);
    }

    /// Well-formed parts come back from `urlsplit(urlunsplit(parts))`.
    #[test]
    fn urlunsplit_then_urlsplit_round_trips(
        scheme in prop_oneof![
            Just(String::new()),
            select(USES_NETLOC.to_vec()).prop_map(str::to_owned),
            "[a-z][a-z0-9+.-]{0,8}",
        ],
        netloc in prop_oneof![Just(String::new()), netloc()],
        path in fuzz_str(),
        query in fuzz_str(),
        fragment in fuzz_str(),
    ) {
        let clean = |s: &str, drop: &[char]| -> String {
            s.chars().filter(|c| !matches!(c, '\t' | '\r' | '\n') && !drop.contains(c)).collect()
        };
        let mut path = clean(&path, &['?', '#']);
        let query = clean(&query, &['#']);
        let fragment = clean(&fragment, &[]);
        // What makes parts ill-formed for a round trip (each a known urllib quirk):
        if !netloc.is_empty() || USES_NETLOC.contains(&scheme.as_str()) {
            // a netloc is followed by `/` or nothing
            if !path.is_empty() && !path.starts_with('/') {
                path.insert(0, '/');
            }
        }
        if netloc.is_empty() && path.starts_with("//") {
            // `//` would be read as an (empty-netloc) authority
            path = format!("/.{path}");
        }
        if scheme.is_empty() && netloc.is_empty() {
            // a `x:` first segment would be read as a scheme; leading C0/space is stripped
            let first_is_c0 = path.starts_with(|c: char| c <= ' ');
            if !path.starts_with('/') && (path.contains(':') || first_is_c0) {
                path.insert_str(0, "./");
            }
        }
        let url = urlunsplit(&scheme, &netloc, &path, &query, &fragment);
        let expected = SplitUrl { scheme, netloc, path, query, fragment };
        prop_assert_eq!(urlsplit(&url), Ok(expected), "{}", url);
    }
}

// --- Close reasons and other send-side checks -----------------------------------------------

/// The tchars and the bytes next to them: separators, controls, DEL, a high byte.
const TOKENISH: &[u8] = b"!#$%&'*+-.^_`|~aZ09\"(),/:;<=>?@[\\]{} \t\r\n\0\x7f\x80\xff";

/// Small domains, checked exhaustively: every single byte, every close code near the ranges.
#[test]
fn send_side_checks_exhaustive() {
    for b in 0..=255u8 {
        assert_eq!(is_token(&[b]), ref_is_token(&[b]), "{b:#04x}");
        assert_eq!(is_token(&[b'a', b]), ref_is_token(&[b'a', b]), "{b:#04x}");
        assert_eq!(is_header_value(&[b]), !b"\r\n\0".contains(&b), "{b:#04x}");
    }
    let codes = (-10i64..=70_000).chain([i64::MIN, i64::MAX, i64::from(u16::MAX) + 1]);
    for code in codes {
        let sendable = (1000..=1003).contains(&code)
            || (1007..=1014).contains(&code)
            || (3000..=4999).contains(&code);
        assert_eq!(is_sendable_close_code(code), sendable, "{code}");
    }
}

proptest! {
    #![proptest_config(config())]

    /// The longest prefix of at most 123 bytes that ends on a character boundary.
    #[test]
    fn close_reason_truncation(
        reason in prop_oneof![
            fuzz_str(),
            (0usize..130, select(SPECIAL_CHARS.to_vec()), 0usize..70).prop_map(|(n, c, m)| {
                format!("{}{}", "a".repeat(n), c.to_string().repeat(m))
            }),
            prop::collection::vec(any::<char>(), 0..80).prop_map(|v| v.into_iter().collect()),
        ],
    ) {
        let cut = truncate_close_reason(&reason);
        prop_assert!(reason.starts_with(cut));
        prop_assert!(std::ptr::eq(cut.as_ptr(), reason.as_ptr()));
        prop_assert!(cut.len() <= MAX_CLOSE_REASON_BYTES);
        prop_assert!(reason.is_char_boundary(cut.len()));
        if reason.len() <= MAX_CLOSE_REASON_BYTES {
            prop_assert_eq!(cut, reason.as_str());
        } else {
            // Maximal: the next character would not fit.
            let next = reason[cut.len()..].chars().next().unwrap();
            prop_assert!(cut.len() + next.len_utf8() > MAX_CLOSE_REASON_BYTES);
        }
    }

    /// `is_token`, `is_header_value` and `is_sendable_close_code` agree with their definitions.
    #[test]
    fn send_side_checks(
        raw in prop_oneof![
            fuzz_bytes(),
            prop::collection::vec(select(TOKENISH.to_vec()), 0..8),
        ],
        code in prop_oneof![any::<i64>(), 990i64..5010],
    ) {
        prop_assert_eq!(is_token(&raw), ref_is_token(&raw));
        prop_assert_eq!(is_header_value(&raw), !raw.iter().any(|b| b"\r\n\0".contains(b)));
        let sendable = (1000..=1003).contains(&code)
            || (1007..=1014).contains(&code)
            || (3000..=4999).contains(&code);
        prop_assert_eq!(is_sendable_close_code(code), sendable);
    }
}

// --- JSON fast-path scan -------------------------------------------------------------------

/// One piece of JSON-ish bytes: what the scan looks for and near-misses: digit runs of 17 to
/// 21, strings with escaped quotes and backslashes (holding digits and brackets), brackets.
fn json_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => select(b"0123456789-\"\\[{]},:. xe\xc3\xa9".to_vec()).prop_map(|b| vec![b]),
        2 => (17usize..=21, select(b"0123456789".to_vec()))
            .prop_map(|(n, d)| vec![d; n]),
        2 => "\"([a-z0-9\\[{]|\\\\\\\\|\\\\\"){0,30}\"".prop_map(String::into_bytes),
        1 => "\"[0-9]{17,25}\"".prop_map(String::into_bytes),
        1 => (0usize..300, select(b"[{]}".to_vec())).prop_map(|(n, b)| vec![b; n]),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ]
}

fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(json_piece(), 0..40).prop_map(|v| v.concat())
}

/// Texts of several 64-byte blocks: strings (escaped quotes and backslashes among them), numbers
/// and brackets, no stray byte, so that nearly all are compared with the definition.
fn long_json_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => select(b"0123456789-[{]},: ".to_vec()).prop_map(|b| vec![b]),
        2 => (1usize..=25, select(b"0123456789".to_vec())).prop_map(|(n, d)| vec![d; n]),
        3 => "\"([a-z0-9 \\[{\\]}]|\\\\\\\\|\\\\\"|\u{e9}){0,70}\"".prop_map(String::into_bytes),
        1 => (0usize..80, select(b"[{]}".to_vec())).prop_map(|(n, b)| vec![b; n]),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
}

/// For each byte of `raw`, whether it lies inside a string: after an opening `"` (which is
/// outside), up to the next unescaped `"` (inside); a backslash inside escapes the next byte.
fn inside_strings(raw: &[u8]) -> Vec<bool> {
    let (mut in_string, mut escaped) = (false, false);
    raw.iter()
        .map(|&c| {
            let inside = in_string;
            if !in_string {
                in_string = c == b'"';
            } else if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            inside
        })
        .collect()
}

/// Whether `raw` has a backslash outside its strings (never in valid JSON), where the scan
/// need not follow its definition.
fn backslash_outside_strings(raw: &[u8]) -> bool {
    raw.iter()
        .zip(inside_strings(raw))
        .any(|(&c, inside)| !inside && c == b'\\')
}

/// The scan's definition, byte by byte: outside strings, count the nesting and the digits in a
/// row; a `"` opens a string that the next unescaped `"` closes.
fn ref_scan(raw: &[u8]) -> LoadsScan {
    let (mut depth, mut deepest, mut digits) = (0usize, 0usize, 0usize);
    for (&c, inside) in raw.iter().zip(inside_strings(raw)) {
        if inside {
            continue;
        }
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        if digits >= DIGIT_RUN {
            return LoadsScan {
                depth: deepest,
                digit_run: true,
            };
        }
        match c {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    LoadsScan {
        depth: deepest,
        digit_run: false,
    }
}

proptest! {
    #![proptest_config(config())]

    /// The JSON input scan (64 bytes at a time on x86-64) agrees with its byte-by-byte
    /// definition on every text without a backslash outside its strings (the depth only where
    /// no digit run stopped the scan); on any other it returns.
    #[test]
    fn json_scan_matches_reference(raw in prop_oneof![json_bytes(), long_json_bytes(), fuzz_bytes()]) {
        let scan = scan_loads_input(&raw);
        if !backslash_outside_strings(&raw) {
            let reference = ref_scan(&raw);
            prop_assert_eq!(scan.digit_run, reference.digit_run);
            if !reference.digit_run {
                prop_assert_eq!(scan.depth, reference.depth);
            }
        }
    }
}
