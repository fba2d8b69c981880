//! IP addresses and IP literals as CPython 3.11.7 accepts them: `ipaddress.IPv4Address`,
//! `ipaddress.IPv6Address` and the IPvFuture form of a bracketed host. Both Starlette's Host
//! header check ([`crate::host`]) and `urlsplit`'s bracket check ([`crate::urlsplit`]) use them.

/// `ipaddress.IPv4Address(s)` succeeds: four dotted decimal octets of ASCII digits, each at most
/// 255 and without leading zeros.
pub fn is_ipv4_address(s: &str) -> bool {
    let mut count = 0usize;
    for octet in s.split('.') {
        count += 1;
        if count > 4 || !is_ipv4_octet(octet) {
            return false;
        }
    }
    count == 4
}

/// `IPv4Address._parse_octet`.
fn is_ipv4_octet(octet: &str) -> bool {
    !octet.is_empty()
        && octet.len() <= 3
        && octet.bytes().all(|b| b.is_ascii_digit())
        && (octet == "0" || !octet.starts_with('0'))
        && octet.parse::<u16>().is_ok_and(|v| v <= 255)
}

/// `IPv6Address._parse_hextet`: one to four ASCII hex digits.
fn is_ipv6_hextet(part: &str) -> bool {
    (1..=4).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `ipaddress.IPv6Address(s)` succeeds: eight hextets, or fewer around one `::`, the last two
/// possibly written as an IPv4 address, then an optional `%zone`.
pub fn is_ipv6_address(s: &str) -> bool {
    const HEXTETS: usize = 8;
    if s.contains('/') {
        return false;
    }
    // `_split_scope_id`: at most one '%', followed by a non-empty zone.
    let addr = match s.split_once('%') {
        Some((addr, zone)) => {
            if zone.is_empty() || zone.contains('%') {
                return false;
            }
            addr
        }
        None => s,
    };
    let mut parts: Vec<&str> = addr.split(':').collect();
    if parts.len() < 3 {
        return false;
    }
    if parts.last().is_some_and(|p| p.contains('.')) {
        if !parts.pop().is_some_and(is_ipv4_address) {
            return false;
        }
        // The IPv4 suffix becomes two (always valid) hextets.
        parts.extend(["0", "0"]);
    }
    if parts.len() > HEXTETS + 1 {
        return false;
    }
    let len = parts.len();
    let first_empty = parts.first().is_some_and(|p| p.is_empty());
    let last_empty = parts.last().is_some_and(|p| p.is_empty());

    // Disregarding the endpoints, find the single '::'.
    let mut skip = None;
    for (i, part) in parts.iter().enumerate().take(len - 1).skip(1) {
        if part.is_empty() {
            if skip.is_some() {
                return false;
            }
            skip = Some(i);
        }
    }
    // How many hextets stand before and after the '::'.
    let (hi, lo) = match skip {
        Some(skip) => {
            let mut hi = skip;
            let mut lo = len - skip - 1;
            if first_empty {
                hi -= 1;
                if hi != 0 {
                    return false;
                }
            }
            if last_empty {
                lo -= 1;
                if lo != 0 {
                    return false;
                }
            }
            if hi + lo >= HEXTETS {
                return false;
            }
            (hi, lo)
        }
        None => {
            if len != HEXTETS || first_empty || last_empty {
                return false;
            }
            (len, 0)
        }
    };
    parts
        .iter()
        .take(hi)
        .chain(parts.iter().skip(len - lo))
        .all(|p| is_ipv6_hextet(p))
}

/// An IPvFuture literal: `v`, one or more hex digits, `.`, then one or more characters that
/// `is_tail_char` accepts (the two regular expressions that check it differ only there).
pub fn is_ipvfuture(s: &str, is_tail_char: impl Fn(char) -> bool) -> bool {
    let Some((hex, tail)) = s.strip_prefix('v').and_then(|rest| rest.split_once('.')) else {
        return false;
    };
    !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && !tail.is_empty()
        && tail.chars().all(is_tail_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_rules() {
        for ok in [
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1::8",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "fe80::1%eth0",
            "FE80::AbCd",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
        ] {
            assert!(is_ipv6_address(ok), "{ok}");
        }
        for bad in [
            "",
            ":",
            "::1%",
            "::1%a%b",
            "::1/64",
            "1::2::3",
            ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:",
            "1:2:3:4:5:6:7::8",
            "12345::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::1.2.3.04",
            "::1.2.3.4:5",
            "1:2:3:4::5:6:7:8",
            "\u{661}::1",
        ] {
            assert!(!is_ipv6_address(bad), "{bad}");
        }
    }

    #[test]
    fn ipv4_rules() {
        for ok in ["0.0.0.0", "255.255.255.255", "10.0.0.1"] {
            assert!(is_ipv4_address(ok), "{ok}");
        }
        for bad in [
            "",
            "256.0.0.1",
            "01.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.\u{661}",
            "1.2.3.4/32",
        ] {
            assert!(!is_ipv4_address(bad), "{bad}");
        }
    }

    #[test]
    fn ipvfuture_rules() {
        let any = |c: char| c != '\n';
        assert!(is_ipvfuture("v1.x", any));
        assert!(is_ipvfuture("vAf.x:y", any));
        for bad in ["v1.", "v.x", "vz.x", "V1.x", "1.x", "v1x", "v1.a\nb"] {
            assert!(!is_ipvfuture(bad, any), "{bad:?}");
        }
        assert!(!is_ipvfuture("v1.a/b", |c| c.is_ascii_alphanumeric()));
    }
}
