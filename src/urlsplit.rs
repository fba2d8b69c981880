//! Pure-Rust port of CPython 3.11.7 `urllib.parse.urlsplit` / `urlunsplit` and the netloc
//! accessors of `SplitResult` (`username`, `password`, `hostname`, `port`).
//!
//! Starlette's `URL` is built on these, so the port mirrors the stdlib bit for bit, quirks
//! included, instead of following RFC 3986 or WHATWG. The one piece left to the caller is
//! `_checknetloc` (NFKC normalisation): see [`netloc_needs_nfkc_check`].

use std::borrow::Cow;
use std::fmt;

use crate::ip::{is_ipv4_address, is_ipv6_address, is_ipvfuture};
use crate::port::{parse_port, PortError};
use crate::py_str::{py_lower, py_repr_str};

/// The five components `urlsplit` returns, like Python's `SplitResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitUrl {
    pub scheme: String,
    pub netloc: String,
    pub path: String,
    pub query: String,
    pub fragment: String,
}

/// A `ValueError` raised by `urlsplit` or `SplitResult.port`; [`UrlError::message`] is its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Netloc with a `[` but no `]`, or the reverse.
    InvalidIpv6Url,
    /// Bracketed host starting with `v` that is not `v<hex>+.<something>`.
    InvalidIpvFuture,
    /// Bracketed host that is a valid IPv4 address.
    BracketedIpv4,
    /// Bracketed host that is neither IPv4 nor IPv6; holds the host text.
    NotAnIpAddress(String),
    /// Port text that is not all ASCII digits; holds the port text.
    PortNotInteger(String),
    /// Port number above 65535.
    PortOutOfRange,
}

impl UrlError {
    /// The exact message of the `ValueError` Python raises.
    pub fn message(&self) -> String {
        match self {
            Self::InvalidIpv6Url => "Invalid IPv6 URL".to_owned(),
            Self::InvalidIpvFuture => "IPvFuture address is invalid".to_owned(),
            Self::BracketedIpv4 => "An IPv4 address cannot be in brackets".to_owned(),
            Self::NotAnIpAddress(host) => format!(
                "{} does not appear to be an IPv4 or IPv6 address",
                py_repr_str(host)
            ),
            Self::PortNotInteger(port) => format!(
                "Port could not be cast to integer value as {}",
                py_repr_str(port)
            ),
            Self::PortOutOfRange => "Port out of range 0-65535".to_owned(),
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for UrlError {}

/// Schemes for which `urlunsplit` adds `//` even when the netloc is empty (`uses_netloc`).
const USES_NETLOC: [&str; 25] = [
    "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
    "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
    "git+ssh", "ws", "wss",
];

/// `url.lstrip(_WHATWG_C0_CONTROL_OR_SPACE)` strips U+0000..=U+0020.
fn is_c0_control_or_space(c: char) -> bool {
    c <= ' '
}

/// `_UNSAFE_URL_BYTES_TO_REMOVE` (`\t`, `\r`, `\n`): removed anywhere in the URL.
pub fn is_unsafe_url_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\r' | b'\n')
}

/// Membership in `scheme_chars`.
pub fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// `urllib.parse.urlsplit(url)` with the default `scheme=""` and `allow_fragments=True`.
///
/// Returns the components as Python computes them *before* `_checknetloc`; when
/// [`netloc_needs_nfkc_check`] is true for the netloc, the caller must still run that check.
pub fn urlsplit(url: &str) -> Result<SplitUrl, UrlError> {
    let url = url.trim_start_matches(is_c0_control_or_space);
    let url: Cow<'_, str> = if url.bytes().any(is_unsafe_url_byte) {
        let is_unsafe = |c: char| u8::try_from(c).is_ok_and(is_unsafe_url_byte);
        Cow::Owned(url.chars().filter(|&c| !is_unsafe(c)).collect())
    } else {
        Cow::Borrowed(url)
    };
    let mut rest: &str = &url;

    let mut scheme = String::new();
    if let Some((head, tail)) = rest.split_once(':') {
        // `i > 0 and url[0].isascii() and url[0].isalpha()` plus every char in scheme_chars.
        let starts_alpha = head.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
        if starts_alpha && head.bytes().all(is_scheme_byte) {
            scheme = head.to_ascii_lowercase();
            rest = tail;
        }
    }

    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (host_part, tail) = after.split_at_checked(end).unwrap_or((after, ""));
        netloc = host_part;
        rest = tail;
        check_netloc_brackets(netloc)?;
    }

    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Ok(SplitUrl {
        scheme,
        netloc: netloc.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        fragment: fragment.to_owned(),
    })
}

/// True iff Python's `_checknetloc` would NFKC-normalise this netloc (it is non-empty and not
/// ASCII). The normalisation tables stay in Python: the caller runs the real check (which may
/// raise "netloc '...' contains invalid characters under NFKC normalization") only after
/// [`urlsplit`] succeeded, matching the order in which Python raises.
pub fn netloc_needs_nfkc_check(netloc: &str) -> bool {
    !netloc.is_ascii()
}

/// The bracket validation urlsplit applies to a netloc that follows `//`.
pub fn check_netloc_brackets(netloc: &str) -> Result<(), UrlError> {
    let open = netloc.contains('[');
    let close = netloc.contains(']');
    if open != close {
        return Err(UrlError::InvalidIpv6Url);
    }
    if open {
        // netloc.partition('[')[2].partition(']')[0]
        let after_open = netloc.split_once('[').map_or("", |(_, after)| after);
        let host = after_open
            .split_once(']')
            .map_or(after_open, |(host, _)| host);
        check_bracketed_host(host)?;
    }
    Ok(())
}

/// `_check_bracketed_host`: IPvFuture by regex, otherwise `ipaddress.ip_address` must give IPv6.
fn check_bracketed_host(host: &str) -> Result<(), UrlError> {
    if host.starts_with('v') {
        // `re.match(r"\Av[a-fA-F0-9]+\..+\Z", host)`: `.` matches anything but a newline.
        if is_ipvfuture(host, |c| c != '\n') {
            Ok(())
        } else {
            Err(UrlError::InvalidIpvFuture)
        }
    } else if is_ipv4_address(host) {
        Err(UrlError::BracketedIpv4)
    } else if is_ipv6_address(host) {
        Ok(())
    } else {
        Err(UrlError::NotAnIpAddress(host.to_owned()))
    }
}

/// `_userinfo` of a netloc: (username, password) from the text before the last `@`.
pub fn netloc_userinfo(netloc: &str) -> (Option<&str>, Option<&str>) {
    match netloc.rsplit_once('@') {
        Some((info, _)) => match info.split_once(':') {
            Some((user, password)) => (Some(user), Some(password)),
            None => (Some(info), None),
        },
        None => (None, None),
    }
}

/// `_hostinfo` of a netloc: (hostname before lower-casing, port text or `None` when empty).
pub fn netloc_hostinfo(netloc: &str) -> (&str, Option<&str>) {
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, host)| host);
    let (hostname, port) = match hostinfo.split_once('[') {
        Some((_, bracketed)) => match bracketed.split_once(']') {
            Some((host, after)) => (host, after.split_once(':').map_or("", |(_, p)| p)),
            None => (bracketed, ""),
        },
        None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
    };
    (hostname, (!port.is_empty()).then_some(port))
}

/// `SplitResult.hostname` for a netloc: lower-cased, except an IPv6 zone id after `%`.
pub fn netloc_hostname(netloc: &str) -> Option<String> {
    let (host, _) = netloc_hostinfo(netloc);
    if host.is_empty() {
        return None;
    }
    Some(match host.split_once('%') {
        Some((addr, zone)) => {
            let mut out = py_lower(addr);
            out.push('%');
            out.push_str(zone);
            out
        }
        None => py_lower(host),
    })
}

/// `SplitResult.port` for a netloc, with its two `ValueError`s.
pub fn netloc_port(netloc: &str) -> Result<Option<u16>, UrlError> {
    let Some(port) = netloc_hostinfo(netloc).1 else {
        return Ok(None);
    };
    match parse_port(port) {
        Ok(number) => Ok(Some(number)),
        Err(PortError::NotDigits) => Err(UrlError::PortNotInteger(port.to_owned())),
        Err(PortError::OutOfRange) => Err(UrlError::PortOutOfRange),
    }
}

impl SplitUrl {
    /// `_userinfo`: (username, password) from the text before the last `@`.
    pub fn userinfo(&self) -> (Option<&str>, Option<&str>) {
        netloc_userinfo(&self.netloc)
    }

    /// `SplitResult.username`.
    pub fn username(&self) -> Option<&str> {
        self.userinfo().0
    }

    /// `SplitResult.password`.
    pub fn password(&self) -> Option<&str> {
        self.userinfo().1
    }

    /// `SplitResult.port`, with its two `ValueError`s.
    pub fn port(&self) -> Result<Option<u16>, UrlError> {
        netloc_port(&self.netloc)
    }
}

/// `urllib.parse.urlunsplit((scheme, netloc, path, query, fragment))`.
pub fn urlunsplit(scheme: &str, netloc: &str, path: &str, query: &str, fragment: &str) -> String {
    let mut out = String::with_capacity(
        scheme.len() + netloc.len() + path.len() + query.len() + fragment.len() + 6,
    );
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push(':');
    }
    let add_authority = !netloc.is_empty()
        || (!scheme.is_empty() && USES_NETLOC.contains(&scheme) && !path.starts_with("//"));
    if add_authority {
        out.push_str("//");
        out.push_str(netloc);
        if !path.is_empty() && !path.starts_with('/') {
            out.push('/');
        }
    }
    out.push_str(path);
    if !query.is_empty() {
        out.push('?');
        out.push_str(query);
    }
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The five parts, or the error message.
    fn split(url: &str) -> Result<[String; 5], String> {
        urlsplit(url)
            .map(|s| [s.scheme, s.netloc, s.path, s.query, s.fragment])
            .map_err(|e| e.message())
    }

    #[test]
    fn splits_like_python() {
        let cases = [
            // Leading C0 controls and spaces stripped, tab/CR/LF removed anywhere.
            (" \x00\tw\ts://h\r/p\n?q #f ", ["ws", "h", "/p", "q ", "f "]),
            // Scheme rules: lower-cased; starts with an ASCII letter; scheme chars only.
            ("HTTP://H/", ["http", "H", "/", "", ""]),
            ("1ws://h/", ["", "", "1ws://h/", "", ""]),
            ("w s://h/", ["", "", "w s://h/", "", ""]),
            ("a+b-c.d:x", ["a+b-c.d", "", "x", "", ""]),
            ("://h", ["", "", "://h", "", ""]),
            ("\u{e9}s://h", ["", "", "\u{e9}s://h", "", ""]),
            // Brackets only matter in the netloc.
            ("ws://h/[", ["ws", "h", "/[", "", ""]),
            ("ws://[v1.x]/", ["ws", "[v1.x]", "/", "", ""]),
        ];
        for (url, want) in cases {
            assert_eq!(split(url), Ok(want.map(String::from)), "{url:?}");
        }
    }

    #[test]
    fn bracket_errors() {
        let cases = [
            ("ws://[::1/", "Invalid IPv6 URL"),
            ("ws://::1]/", "Invalid IPv6 URL"),
            ("ws://[1.2.3.4]/", "An IPv4 address cannot be in brackets"),
            ("ws://[vz.x]/", "IPvFuture address is invalid"),
            ("ws://[v1.]/", "IPvFuture address is invalid"),
            (
                "ws://[V1.x]/",
                "'V1.x' does not appear to be an IPv4 or IPv6 address",
            ),
            (
                "ws://a]b[c/",
                "'c' does not appear to be an IPv4 or IPv6 address",
            ),
        ];
        for (url, message) in cases {
            assert_eq!(split(url), Err(message.to_owned()), "{url:?}");
        }
    }

    #[test]
    fn userinfo_and_hostinfo_partitions() {
        assert_eq!(netloc_userinfo("a@b:c@d:e"), (Some("a@b"), Some("c")));
        let hostinfo = [
            ("a@b:c@d:e", ("d", Some("e"))),
            ("[x:y]:z:w", ("x:y", Some("z:w"))),
            ("[x", ("x", None)),
            ("h:", ("h", None)),
        ];
        for (netloc, want) in hostinfo {
            assert_eq!(netloc_hostinfo(netloc), want, "{netloc:?}");
        }
        assert_eq!(netloc_hostname(""), None);
        assert_eq!(
            netloc_hostname("[FE80::A%TeSt]").as_deref(),
            Some("fe80::a%TeSt")
        );
    }

    #[test]
    fn port_rules() {
        for (netloc, want) in [
            ("h:0000000080", Some(80)),
            ("h:65535", Some(65535)),
            ("h:", None),
        ] {
            assert_eq!(netloc_port(netloc), Ok(want), "{netloc:?}");
        }
        let errors = [
            ("h:65536", "Port out of range 0-65535"),
            ("h:99999999999999999999", "Port out of range 0-65535"),
            ("h:-1", "Port could not be cast to integer value as '-1'"),
            (
                "h:\u{968}",
                "Port could not be cast to integer value as '\u{968}'",
            ),
        ];
        for (netloc, message) in errors {
            assert_eq!(
                netloc_port(netloc).map_err(|e| e.message()),
                Err(message.to_owned())
            );
        }
    }

    #[test]
    fn unsplit_rules() {
        assert_eq!(urlunsplit("ws", "", "p", "", ""), "ws:///p");
        assert_eq!(urlunsplit("ws", "", "//p", "", ""), "ws://p");
        assert_eq!(urlunsplit("mailto", "", "p", "q", "f"), "mailto:p?q#f");
        assert_eq!(urlunsplit("", "h", "p", "", ""), "//h/p");
        assert_eq!(urlunsplit("", "", "", "", ""), "");
    }

    #[test]
    fn nfkc_flag() {
        assert!(!netloc_needs_nfkc_check(""));
        assert!(!netloc_needs_nfkc_check("h:1"));
        assert!(netloc_needs_nfkc_check("\u{2100}"));
    }
}
