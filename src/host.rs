//! The Host header check Starlette 1.10 applies before trusting a Host header for the URL
//! (`starlette._utils.parse_host_header` and `ParsedHost`), without a regex engine.
//!
//! Accepted: a reg-name of `[a-z0-9._~%!$&'()*+,;=-]+` (any case), or a bracketed IP literal
//! (`[IPv6]`, which must also parse as `ipaddress.IPv6Address`, or `[vX.…]` IPvFuture), then an
//! optional `:digits` port. Anything else is `None`, and the URL falls back to `scope["server"]`.

/// A Host header that passed the check: the host keeps its brackets and case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedHost<'a> {
    pub host: &'a str,
    pub port: Option<&'a str>,
}

impl ParsedHost<'_> {
    /// `host` or `host:port`, as Starlette puts it in the netloc.
    pub fn authority(&self) -> String {
        match self.port {
            None => self.host.to_owned(),
            Some(port) => format!("{}:{}", self.host, port),
        }
    }

    /// Starlette's `is_valid_port`: at most five digits after leading zeros, and <= 65535.
    pub fn is_valid_port(&self) -> bool {
        let Some(port) = self.port else { return true };
        let digits = port.trim_start_matches('0');
        if digits.len() > 5 {
            return false;
        }
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            // What `parse_host_header` gives: at most five digits, no need for `parse`.
            return digits
                .bytes()
                .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
                <= 65535;
        }
        digits
            .parse::<u32>()
            .map_or(digits.is_empty(), |p| p <= 65535)
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
    if let Some(future) = inner.strip_prefix('v') {
        if let Some((hex, tail)) = future.split_once('.') {
            if !hex.is_empty()
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
                && !tail.is_empty()
                && tail.chars().all(is_future_tail_char)
            {
                return true;
            }
        }
    }
    is_ipv6_shape(inner) && is_ipv6_address(inner)
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

/// `ipaddress.IPv6Address(s)` succeeds (no scope id: the shape check has no `%`).
pub fn is_ipv6_address(s: &str) -> bool {
    const HEXTETS: usize = 8;
    if s.is_empty() {
        return false;
    }
    let mut parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 3 {
        return false;
    }
    // An IPv4 suffix stands for two hextets.
    let mut ipv4_tail = false;
    if parts.last().is_some_and(|p| p.contains('.')) {
        let Some(v4) = parts.pop() else { return false };
        if !is_ipv4_address(v4) {
            return false;
        }
        ipv4_tail = true;
    }
    let count = parts.len() + if ipv4_tail { 2 } else { 0 };
    if count > HEXTETS + 1 {
        return false;
    }
    // Rebuild the list of hextet strings the way CPython sees it ("0" stands for the v4 halves).
    let mut hextets: Vec<&str> = parts;
    if ipv4_tail {
        hextets.push("0");
        hextets.push("0");
    }
    let n = hextets.len();
    let mut skip_index = None;
    for i in 1..n.saturating_sub(1) {
        if hextets.get(i).is_some_and(|p| p.is_empty()) {
            if skip_index.is_some() {
                return false;
            }
            skip_index = Some(i);
        }
    }
    let first_empty = hextets.first().is_some_and(|p| p.is_empty());
    let last_empty = hextets.last().is_some_and(|p| p.is_empty());
    let (hi, lo) = if let Some(skip) = skip_index {
        let mut hi = skip;
        let mut lo = n - skip - 1;
        if first_empty {
            hi -= 1;
            if hi != 0 {
                return false;
            }
        }
        if last_empty {
            lo = lo.saturating_sub(1);
            if lo != 0 {
                return false;
            }
        }
        if HEXTETS < hi + lo + 1 {
            return false;
        }
        (hi, lo)
    } else {
        if n != HEXTETS || first_empty || last_empty {
            return false;
        }
        (n, 0)
    };
    let parsed_ok =
        |p: &&str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_hexdigit());
    hextets.iter().take(hi).all(parsed_ok) && hextets.iter().skip(n - lo).all(parsed_ok)
}

/// `ipaddress.IPv4Address(s)` succeeds: four decimal octets, no leading zeros, each <= 255.
pub fn is_ipv4_address(s: &str) -> bool {
    let octets: Vec<&str> = s.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && !(o.len() > 1 && o.starts_with('0'))
                && o.parse::<u16>().is_ok_and(|v| v <= 255)
        })
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
        assert!(parsed("[::1]:80").is_some());
        assert!(parsed("[::1").is_none());
        assert!(parsed("[::1]x").is_none());
        assert!(parsed("[v1.fe]").is_some());
        assert!(parsed("[V1.fe]").is_none());
        assert!(parsed("[1:2:3:4:5:6:7:8]").is_some());
        assert!(parsed("[1:2:3:4:5:6:7:8:9]").is_none());
        assert!(parsed("[::ffff:1.2.3.4]").is_some());
        assert!(parsed("[::ffff:1.2.3.04]").is_none());
        assert!(parsed("[:1]").is_none());
        assert!(parsed("[1::2::3]").is_none());
        assert!(parsed("[12345::]").is_none());
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

    #[test]
    fn ipv6_rules() {
        assert!(is_ipv6_address("::"));
        assert!(is_ipv6_address("1::"));
        assert!(is_ipv6_address("::1:2:3:4:5:6:7"));
        assert!(!is_ipv6_address("1:2:3:4:5:6:7::8"));
        assert!(is_ipv6_address("1:2:3:4:5:6::"));
        assert!(is_ipv6_address("1:2:3:4:5:6:1.2.3.4"));
        assert!(!is_ipv6_address("1:2:3:4:5:6:7:1.2.3.4"));
    }
}
