//! The URL string Starlette 1.10 builds from an ASGI scope (`URL(scope=...)`).
//!
//! The scope already holds the parts, so nothing is parsed here but the Host header: the path
//! gets `?`, `#` and `\` escaped, a valid Host header wins over `scope["server"]`, default ports
//! are left out, and without any host the URL is relative (a leading `//` escaped).

use crate::host::parse_host_header;
use crate::urlsplit::urlunsplit;

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
    /// The value of the first header whose raw name is exactly `b"host"`, decoded as latin-1.
    pub host_header: Option<&'a str>,
    pub server: Option<Server<'a>>,
}

/// Why a URL cannot be built: Starlette raises `KeyError(scheme)` when it needs the default
/// port of a scheme it does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeUrlError {
    UnknownScheme(String),
}

fn default_port(scheme: &str) -> Option<i64> {
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

/// The netloc Starlette picks: the Host header if it is valid, else the server, else none.
pub fn netloc(parts: &ScopeParts<'_>) -> Result<Option<String>, ScopeUrlError> {
    if let Some(parsed) = parts.host_header.and_then(parse_host_header) {
        if parsed.is_valid_port() {
            return Ok(Some(parsed.authority()));
        }
    }
    let Some(server) = parts.server else {
        return Ok(None);
    };
    let host = if server.host.contains(':') && !server.host.starts_with('[') {
        format!("[{}]", server.host)
    } else {
        server.host.to_owned()
    };
    let default = default_port(parts.scheme)
        .ok_or_else(|| ScopeUrlError::UnknownScheme(parts.scheme.to_owned()))?;
    if server.port_value == Some(default) {
        Ok(Some(host))
    } else {
        Ok(Some(format!("{}:{}", host, server.port_text)))
    }
}

/// `scope["query_string"]` as URL text: UTF-8 as is, and any byte that is not part of valid
/// UTF-8 percent-encoded (Starlette raises `UnicodeDecodeError` there; a URL never should).
pub fn query_text(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    let mut rest = raw;
    let mut out = String::new();
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                if out.is_empty() {
                    return std::borrow::Cow::Borrowed(valid);
                }
                out.push_str(valid);
                return std::borrow::Cow::Owned(out);
            }
            Err(err) => {
                let (valid, after) = rest.split_at(err.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad_len = err.error_len().unwrap_or(after.len());
                let (bad, tail) = after.split_at(bad_len.min(after.len()));
                for byte in bad {
                    out.push_str(&format!("%{byte:02X}"));
                }
                rest = tail;
            }
        }
    }
}

/// The full URL string, equal to Starlette's `str(URL(scope=scope))`.
pub fn url_from_scope(parts: &ScopeParts<'_>) -> Result<String, ScopeUrlError> {
    let path = escape_path(parts.path);
    match netloc(parts)? {
        Some(netloc) => Ok(urlunsplit(parts.scheme, &netloc, &path, parts.query, "")),
        None => {
            let path = match path.strip_prefix("//") {
                // Without a host, a leading `//` would be read as an authority.
                Some(rest) => format!("/%2F{rest}"),
                None => path,
            };
            if parts.query.is_empty() {
                Ok(path)
            } else {
                Ok(format!("{}?{}", path, parts.query))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
