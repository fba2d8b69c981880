//! The URL string Starlette 1.10 builds from an ASGI scope (`URL(scope=...)`).
//!
//! The scope already holds the parts, so nothing is parsed here but the Host header: the path
//! gets `?`, `#` and `\` escaped, a valid Host header wins over `scope["server"]`, default ports
//! are left out, and without any host the URL is relative (a leading `//` escaped).

use std::borrow::Cow;
use std::ops::Range;

use crate::host::parse_host_header;
use crate::query::push_percent_escape;
use crate::urlsplit::{check_netloc_brackets, is_scheme_byte, is_unsafe_url_byte, urlunsplit};

/// `scope["server"]`: the host and the port as Python would format and compare it.
#[derive(Debug, Clone, Copy)]
pub struct Server<'a> {
    pub host: &'a str,
    /// `str(port)`, used when the port is written out (`None` for a unix socket is "None").
    pub port_text: &'a str,
    /// The port as an integer when it is one; only that can equal the default port.
    pub port_value: Option<i64>,
}

/// What goes into the URL, read from the scope by the caller.
#[derive(Debug, Clone, Copy)]
pub struct ScopeParts<'a> {
    /// `scope.get("scheme", "http")`.
    pub scheme: &'a str,
    pub path: &'a str,
    /// `scope.get("query_string", b"").decode()` (strict UTF-8: the caller reports failures).
    pub query: &'a str,
    /// The value of the first header whose raw name is exactly `b"host"`, decoded as latin-1,
    /// when it passes [`is_usable_host_header`] (`None` for an unusable one: Starlette then
    /// ignores it).
    pub host_header: Option<&'a str>,
    pub server: Option<Server<'a>>,
}

/// Why a URL cannot be built: Starlette raises `KeyError(scheme)` when it needs the default
/// port of a scheme it does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeUrlError {
    UnknownScheme(String),
}

/// The port a URL of `scheme` leaves out (Starlette's `{"http": 80, ...}[scheme]`).
pub fn default_port(scheme: &str) -> Option<i64> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// `scope["path"]` with `?`, `#` and `\` percent-escaped so they cannot start a query,
/// fragment or authority.
pub fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        match c {
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            '\\' => out.push_str("%5C"),
            _ => out.push(c),
        }
    }
    out
}

/// True if Starlette uses this Host header value for the netloc.
pub fn is_usable_host_header(header: &str) -> bool {
    parse_host_header(header).is_some_and(|parsed| parsed.is_valid_port())
}

/// The netloc Starlette picks: the (usable) Host header, else the server, else none.
fn netloc<'a>(parts: &ScopeParts<'a>) -> Result<Option<Cow<'a, str>>, ScopeUrlError> {
    if let Some(header) = parts.host_header {
        // The check accepts a host and an optional `:port` that make up the whole header.
        return Ok(Some(Cow::Borrowed(header)));
    }
    let Some(server) = parts.server else {
        return Ok(None);
    };
    let host: Cow<'_, str> = if server.host.contains(':') && !server.host.starts_with('[') {
        Cow::Owned(format!("[{}]", server.host))
    } else {
        Cow::Borrowed(server.host)
    };
    let default = default_port(parts.scheme)
        .ok_or_else(|| ScopeUrlError::UnknownScheme(parts.scheme.to_owned()))?;
    if server.port_value == Some(default) {
        Ok(Some(Cow::Owned(host.into_owned())))
    } else {
        Ok(Some(Cow::Owned(format!("{}:{}", host, server.port_text))))
    }
}

/// `scope["query_string"]` as URL text: UTF-8 as is, and any byte that is not part of valid
/// UTF-8 percent-encoded (Starlette raises `UnicodeDecodeError` there; a URL never should).
pub fn query_text(raw: &[u8]) -> Cow<'_, str> {
    let mut rest = raw;
    let mut out = String::new();
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                if out.is_empty() {
                    return Cow::Borrowed(valid);
                }
                out.push_str(valid);
                return Cow::Owned(out);
            }
            Err(err) => {
                let (valid, after) = rest.split_at(err.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad_len = err.error_len().unwrap_or(after.len());
                let (bad, tail) = after.split_at(bad_len.min(after.len()));
                for &byte in bad {
                    push_percent_escape(&mut out, byte);
                }
                rest = tail;
            }
        }
    }
}

/// Where `urlsplit` of a [`ScopeUrl`]'s text finds each component: byte ranges into the text
/// (the fragment is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitSpans {
    pub scheme: Range<usize>,
    pub netloc: Range<usize>,
    pub path: Range<usize>,
    pub query: Range<usize>,
}

/// A URL built from the scope, and the components `urlsplit` gives for it when they are known
/// without parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeUrl {
    pub text: String,
    /// `Some` only when `urllib.parse.urlsplit(text)` succeeds without the NFKC check and gives
    /// exactly these components; otherwise the caller parses `text`.
    pub spans: Option<SplitSpans>,
}

/// True if `text` holds a `#`, `\t`, `\r` or `\n`; eight bytes at a time (a query is long).
pub fn has_hash_or_unsafe(text: &str) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const HASHES: u64 = u64::from_ne_bytes([b'#'; 8]);
    // `(x - k * ONES) & !x & HIGHS` is non-zero when a byte of `x` is below `k` (k <= 128); it
    // may also flag the byte next to one that is, so a flagged word is checked byte by byte.
    let has_byte_below_14 = |x: u64| x.wrapping_sub(ONES * 14) & !x & HIGHS != 0;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS != 0;
    let bytes = text.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
        if (has_byte_below_14(word) || has_zero(word ^ HASHES))
            && chunk.iter().any(|&b| b == b'#' || is_unsafe_url_byte(b))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b == b'#' || is_unsafe_url_byte(b))
}

/// Starlette's `str(URL(scope=scope))`, with the components when they are known (see
/// [`ScopeUrl::spans`]). The caller has checked the Host header: see [`ScopeParts::host_header`].
pub fn scope_url_usable_host(parts: &ScopeParts<'_>) -> Result<ScopeUrl, ScopeUrlError> {
    // One pass over the path: does it need escaping, does it hold a `\t\r\n`?
    let (mut needs_escape, mut path_unsafe) = (false, false);
    for b in parts.path.bytes() {
        needs_escape |= matches!(b, b'?' | b'#' | b'\\');
        path_unsafe |= is_unsafe_url_byte(b);
    }
    let path: Cow<'_, str> = if needs_escape {
        Cow::Owned(escape_path(parts.path))
    } else {
        Cow::Borrowed(parts.path)
    };
    let Some(netloc) = netloc(parts)? else {
        let path = match path.strip_prefix("//") {
            // Without a host, a leading `//` would be read as an authority.
            Some(rest) => format!("/%2F{rest}"),
            None => path.into_owned(),
        };
        let text = if parts.query.is_empty() {
            path
        } else {
            format!("{}?{}", path, parts.query)
        };
        return Ok(ScopeUrl { text, spans: None });
    };
    let text = urlunsplit(parts.scheme, &netloc, &path, parts.query, "");
    // The text is `scheme://netloc[/]path[?query]`; urlsplit gives back exactly those parts when:
    // the scheme is one urlsplit recognises and keeps as is (lower case), the netloc ends where
    // it should (no `/?#`), passes the bracket check and needs no NFKC check (ASCII), nothing
    // holds a `\t\r\n` (removed by urlsplit) and the query has no `#` (the path has none left).
    let scheme = parts.scheme.as_bytes();
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_lowercase)
        && scheme
            .iter()
            .all(|&b| is_scheme_byte(b) && !b.is_ascii_uppercase());
    let mut brackets = false;
    let netloc_ok = !netloc.is_empty()
        && netloc.bytes().all(|b| {
            brackets |= matches!(b, b'[' | b']');
            b.is_ascii() && !matches!(b, b'/' | b'?' | b'#') && !is_unsafe_url_byte(b)
        })
        && (!brackets || check_netloc_brackets(&netloc).is_ok());
    // Escaping adds no `\t\r\n`.
    let rest_ok = !path_unsafe && !has_hash_or_unsafe(parts.query);
    let spans = (scheme_ok && netloc_ok && rest_ok).then(|| {
        let netloc_start = scheme.len() + 3;
        let path_start = netloc_start + netloc.len();
        let query_len = if parts.query.is_empty() {
            0
        } else {
            parts.query.len() + 1
        };
        let path_end = text.len() - query_len;
        SplitSpans {
            scheme: 0..scheme.len(),
            netloc: netloc_start..path_start,
            path: path_start..path_end,
            query: (text.len() - parts.query.len())..text.len(),
        }
    });
    Ok(ScopeUrl { text, spans })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the bindings do: drop an unusable Host header, then build the URL.
    fn scope_url(parts: &ScopeParts<'_>) -> Result<ScopeUrl, ScopeUrlError> {
        let host_header = parts.host_header.filter(|h| is_usable_host_header(h));
        scope_url_usable_host(&ScopeParts {
            host_header,
            ..*parts
        })
    }

    fn url_from_scope(parts: &ScopeParts<'_>) -> Result<String, ScopeUrlError> {
        scope_url(parts).map(|url| url.text)
    }

    fn parts<'a>(host: Option<&'a str>, server: Option<Server<'a>>) -> ScopeParts<'a> {
        ScopeParts {
            scheme: "ws",
            path: "/a?b#c\\d",
            query: "x=1",
            host_header: host,
            server,
        }
    }

    const SERVER: Server<'static> = Server {
        host: "::1",
        port_text: "80",
        port_value: Some(80),
    };

    #[test]
    fn host_header_wins() {
        let url = url_from_scope(&parts(Some("example.com:8000"), Some(SERVER)));
        assert_eq!(
            url,
            Ok("ws://example.com:8000/a%3Fb%23c%5Cd?x=1".to_owned())
        );
    }

    #[test]
    fn server_fallback_brackets_ipv6_and_drops_default_port() {
        assert_eq!(
            url_from_scope(&parts(Some("bad host"), Some(SERVER))),
            Ok("ws://[::1]/a%3Fb%23c%5Cd?x=1".to_owned())
        );
        let other = Server {
            port_text: "8000",
            port_value: Some(8000),
            ..SERVER
        };
        assert_eq!(
            url_from_scope(&parts(Some("h:99999"), Some(other))),
            Ok("ws://[::1]:8000/a%3Fb%23c%5Cd?x=1".to_owned())
        );
    }

    #[test]
    fn hash_or_unsafe_scan_matches_the_plain_check() {
        for len in 0..20 {
            for pos in 0..len {
                for c in (0u8..128).chain([0xc3, 0xa9]) {
                    let mut bytes = vec![b'a'; len];
                    if let Some(slot) = bytes.get_mut(pos) {
                        *slot = c;
                    }
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let plain = text.bytes().any(|b| b == b'#' || is_unsafe_url_byte(b));
                    assert_eq!(has_hash_or_unsafe(&text), plain, "{text:?}");
                }
            }
        }
        assert!(!has_hash_or_unsafe(
            "room=general&token=\u{e9}\u{7f}abc&x=1"
        ));
        assert!(has_hash_or_unsafe(
            "room=general&token=\u{e9}\u{7f}abc&x=1#"
        ));
    }

    #[test]
    fn spans_are_the_parts() {
        let url = scope_url(&ScopeParts {
            scheme: "wss",
            path: "/ws/a",
            query: "x=1",
            host_header: Some("h:8443"),
            server: None,
        });
        let spans = SplitSpans {
            scheme: 0..3,
            netloc: 6..12,
            path: 12..17,
            query: 18..21,
        };
        assert_eq!(
            url,
            Ok(ScopeUrl {
                text: "wss://h:8443/ws/a?x=1".to_owned(),
                spans: Some(spans)
            })
        );
        // A `#` in the query starts a fragment: parse instead.
        let url = scope_url(&ScopeParts {
            scheme: "wss",
            path: "/ws/a",
            query: "x=1#y",
            host_header: Some("h:8443"),
            server: None,
        });
        assert_eq!(url.map(|u| u.spans), Ok(None));
    }

    #[test]
    fn invalid_utf8_in_the_query_is_percent_encoded() {
        assert_eq!(query_text(b"a=1"), "a=1");
        assert_eq!(query_text(b"a=\xff&b=\xc3\xa9"), "a=%FF&b=\u{e9}");
        assert_eq!(query_text(b"\xe2\x82"), "%E2%82");
    }

    #[test]
    fn relative_without_host() {
        let mut p = parts(None, None);
        p.path = "//evil";
        assert_eq!(url_from_scope(&p), Ok("/%2Fevil?x=1".to_owned()));
    }

    #[test]
    fn unknown_scheme_needs_no_default_port_unless_server_is_used() {
        let mut p = parts(Some("h"), Some(SERVER));
        p.scheme = "gopher";
        assert_eq!(
            url_from_scope(&p),
            Ok("gopher://h/a%3Fb%23c%5Cd?x=1".to_owned())
        );
        p.host_header = None;
        assert_eq!(
            url_from_scope(&p),
            Err(ScopeUrlError::UnknownScheme("gopher".to_owned()))
        );
    }
}
