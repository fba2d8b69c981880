//! Python 3.11's `str` behaviour where `urllib.parse` shows it: `str.lower()` (the hostname),
//! `repr()` (error messages) and `str.isprintable()` (inside `repr()`), exact for Unicode 14.0,
//! the version CPython 3.11 follows.

use std::fmt::Write as _;

mod nonprintable;

use nonprintable::NONPRINTABLE_BOUNDS;

/// Upper-case letters Rust's newer Unicode tables lower-case but Python 3.11 (Unicode 14.0)
/// leaves alone: found by diffing every code point under Rust 1.95 (Unicode 17). The parity
/// test walks all code points, so a toolchain with newer tables fails loudly.
fn lower_is_newer_than_py311(c: char) -> bool {
    matches!(
        c,
        '\u{1C89}'
            | '\u{A7CB}'
            | '\u{A7CC}'
            | '\u{A7CE}'
            | '\u{A7D2}'
            | '\u{A7D4}'
            | '\u{A7DA}'
            | '\u{A7DC}'
            | '\u{10D50}'..='\u{10D65}'
            | '\u{16EA0}'..='\u{16EB8}'
    )
}

/// Python 3.11 `str.lower()`.
///
/// `str::to_lowercase` implements the same full mappings and final-sigma rule. Characters
/// unassigned in Unicode 14 are kept as-is and, as in Python, split the final-sigma context.
/// Remaining approximation: Rust decides "cased"/"case-ignorable" for the final-sigma rule with
/// its own tables, so a `Σ` next to another character assigned after Unicode 14 may differ.
pub fn py_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    if !s.contains(lower_is_newer_than_py311) {
        return s.to_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(lower_is_newer_than_py311) {
        let (head, tail) = rest.split_at_checked(pos).unwrap_or((rest, ""));
        out.push_str(&head.to_lowercase());
        let mut chars = tail.chars();
        if let Some(kept) = chars.next() {
            out.push(kept);
        }
        rest = chars.as_str();
    }
    out.push_str(&rest.to_lowercase());
    out
}

/// Python's `repr()` of a `str`, as used in the `ValueError` messages.
pub fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        let code = u32::from(c);
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            _ if c < ' ' || c == '\x7f' => {
                let _ = write!(out, "\\x{code:02x}");
            }
            _ if c.is_ascii() || py_is_printable(c) => out.push(c),
            _ if code <= 0xff => {
                let _ = write!(out, "\\x{code:02x}");
            }
            _ if code <= 0xffff => {
                let _ = write!(out, "\\u{code:04x}");
            }
            _ => {
                let _ = write!(out, "\\U{code:08x}");
            }
        }
    }
    out.push(quote);
    out
}

/// Python 3.11 `str.isprintable()` for one non-ASCII char: false for categories Cc, Cf, Cs,
/// Co, Cn, Zl, Zp and Zs. Exact for Unicode 14.0 via [`NONPRINTABLE_BOUNDS`].
fn py_is_printable(c: char) -> bool {
    let code = u32::from(c);
    // An odd number of bounds at or below `code` means it sits inside a non-printable range.
    NONPRINTABLE_BOUNDS.partition_point(|&b| b <= code) % 2 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(input, what Python 3.11 gives)` pairs, checked with `f`.
    fn check(f: fn(&str) -> String, cases: &[(&str, &str)]) {
        for (input, want) in cases {
            assert_eq!(f(input), *want, "{input:?}");
        }
    }

    #[test]
    fn repr_matches_python() {
        check(
            py_repr_str,
            &[
                ("a'b", "\"a'b\""),
                ("a'\"b", "'a\\'\"b'"),
                ("\\\t\n\r\x00\x7f", "'\\\\\\t\\n\\r\\x00\\x7f'"),
                ("\u{a0}\u{ad}\u{e9}", "'\\xa0\\xad\u{e9}'"),
                ("\u{2028}\u{378}", "'\\u2028\\u0378'"),
                ("\u{e0001}\u{1f600}", "'\\U000e0001\u{1f600}'"),
            ],
        );
    }

    #[test]
    fn lower_matches_python() {
        check(
            py_lower,
            &[
                ("\u{391}\u{3a3}", "\u{3b1}\u{3c2}"),
                ("\u{3a3}", "\u{3c3}"),
                ("\u{130}", "i\u{307}"),
                ("\u{391}\u{3a3}\u{a7cb}", "\u{3b1}\u{3c2}\u{a7cb}"),
                ("\u{a7cb}\u{3a3}X", "\u{a7cb}\u{3c3}x"),
            ],
        );
    }
}
