//! The Host header check Starlette 1.10 applies before trusting a Host header for the URL
//! (`starlette._utils.parse_host_header` and `ParsedHost`), without a regex engine.
//!
//! Accepted: a reg-name of `[a-z0-9._~%!$&'()*+,;=-]+` (any case), or a bracketed IP literal
//! (`[IPv6]`, which must also parse as `ipaddress.IPv6Address`, or `[vX.…]` IPvFuture), then an
//! optional `:digits` port. Anything else is `None`, and the URL falls back to `scope["server"]`.

use crate::ip::{is_ipv6_address, is_ipvfuture};
use crate::port::parse_port;

/// A Host header that passed the check: the host keeps its brackets and case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedHost<'a> {
    pub host: &'a str,
    pub port: Option<&'a str>,
}

impl ParsedHost<'_> {
    /// Starlette's `is_valid_port`: no port, or one of at most 65535.
    pub fn is_valid_port(&self) -> bool {
        self.port_number().is_some()
    }

    /// The port as a number (`Some(None)`: no port), or `None` when it is not a valid one.
    pub fn port_number(&self) -> Option<Option<u16>> {
        match self.port {
            None => Some(None),
            Some(digits) => parse_port(digits).ok().map(Some),
        }
    }
}

fn is_reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'-'
        )
}

fn is_future_tail_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._~!$&'()*+,;=:-".contains(c)
}

/// Parses a Host header value (already decoded as latin-1) as Starlette does.
pub fn parse_host_header(header: &str) -> Option<ParsedHost<'_>> {
    let (host, rest) = if let Some(inner_and_rest) = header.strip_prefix('[') {
        let close = inner_and_rest.find(']')?;
        let inner = inner_and_rest.get(..close)?;
        if !is_ip_literal(inner) {
            return None;
        }
        header.split_at(close + 2)
    } else {
        let end = header
            .bytes()
            // A byte that is not ASCII is not in the set, so `end` is on a char boundary.
            .position(|b| !is_reg_name_byte(b))
            .unwrap_or(header.len());
        if end == 0 {
            return None;
        }
        header.split_at(end)
    };
    let port = match rest.strip_prefix(':') {
        None if rest.is_empty() => None,
        None => return None,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits)
        }
        Some(_) => return None,
    };
    Some(ParsedHost { host, port })
}

/// The inside of `[...]`: the regex's IPv6 alternative (then `IPv6Address` must accept it) or
/// its IPvFuture alternative (`v` in lower case only, hex digits, a dot, then a tail).
fn is_ip_literal(inner: &str) -> bool {
    is_ipvfuture(inner, is_future_tail_char) || (is_ipv6_shape(inner) && is_ipv6_address(inner))
}

/// The regex's `[a-f0-9]*:[a-f0-9.:]+` (case-insensitive).
fn is_ipv6_shape(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let (head, tail) = s.split_at(colon);
    let tail = tail.get(1..).unwrap_or_default();
    head.bytes().all(|b| b.is_ascii_hexdigit())
        && !tail.is_empty()
        && tail
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(h: &str) -> Option<(String, Option<String>)> {
        parse_host_header(h).map(|p| (p.host.to_owned(), p.port.map(str::to_owned)))
    }

    #[test]
    fn reg_names_and_ports() {
        assert_eq!(
            parsed("Example.COM:8000"),
            Some(("Example.COM".into(), Some("8000".into())))
        );
        assert_eq!(parsed("example.com"), Some(("example.com".into(), None)));
        assert_eq!(parsed("example.com:"), None);
        assert_eq!(parsed("a/b"), None);
        assert_eq!(parsed(""), None);
        assert_eq!(parsed("a@b"), None);
        assert_eq!(parsed("h\u{e9}"), None);
    }

    #[test]
    fn ip_literals() {
        let cases = [
            ("[::1]:80", true),
            ("[v1.fe]", true),
            ("[1:2:3:4:5:6:7:8]", true),
            ("[::ffff:1.2.3.4]", true),
            ("[::1", false),
            ("[::1]x", false),
            ("[V1.fe]", false),
            ("[1:2:3:4:5:6:7:8:9]", false),
            ("[::ffff:1.2.3.04]", false),
            ("[:1]", false),
            ("[1::2::3]", false),
            ("[12345::]", false),
            // `IPv6Address` takes a zone id, the regex before it does not.
            ("[::1%eth0]", false),
        ];
        for (header, accepted) in cases {
            assert_eq!(parsed(header).is_some(), accepted, "{header}");
        }
    }

    #[test]
    fn port_range() {
        let ok = |h: &str| parse_host_header(h).is_some_and(|p| p.is_valid_port());
        assert!(ok("a:65535"));
        assert!(!ok("a:65536"));
        assert!(ok("a:0000000080"));
        assert!(ok("a:0"));
        assert!(!ok("a:999999"));
    }
}
