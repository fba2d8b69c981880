//! The `Cookie` header as Starlette reads it (`starlette.requests.cookie_parser`, adapted there
//! from Django): browsers' behaviour rather than RFC 6265. Split on `;`; a chunk without `=` is
//! a value with an empty name; both sides stripped of what Python's `str.strip()` strips; a
//! chunk with neither name nor value is skipped; values unquoted by `http.cookies._unquote`.
//! A later pair with the same name replaces the value and keeps the first one's place (a
//! `dict`), which the caller's dict does by itself: the pairs come back in header order.

use std::borrow::Cow;

/// `f(name, value)` for each pair of one `Cookie` header, in order, duplicates included; stops
/// at `f`'s first error. What a connection runs: no list is built.
pub fn for_each_cookie<'h, E>(
    header: &'h str,
    mut f: impl FnMut(&'h str, Cow<'h, str>) -> Result<(), E>,
) -> Result<(), E> {
    for chunk in header.split(';') {
        let (name, value) = chunk.split_once('=').unwrap_or(("", chunk));
        let (name, value) = (py_strip(name), py_strip(value));
        if !name.is_empty() || !value.is_empty() {
            f(name, unquote(value))?;
        }
    }
    Ok(())
}

/// Python's `str.isspace()`: Unicode's White_Space (Rust's `char::is_whitespace`) plus the
/// four information separators U+001C..U+001F, which Python counts as whitespace too.
fn py_is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` without arguments. Byte by byte while the ends are ASCII (a cookie
/// header nearly always is: less code for a new connection to fetch); characters otherwise.
fn py_strip(s: &str) -> &str {
    let bytes = s.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_ascii_py_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_ascii_py_space(b))
        .map_or(start, |last| last + 1);
    // Char boundaries: the bytes cut off are ASCII. Never `None`, so never "" by mistake.
    let stripped = s.get(start..end).unwrap_or_default();
    match (stripped.as_bytes().first(), stripped.as_bytes().last()) {
        (Some(first), Some(last)) if !first.is_ascii() || !last.is_ascii() => {
            py_strip_chars(stripped)
        }
        _ => stripped,
    }
}

/// The ASCII characters `str.isspace()` is true for: `\t\n\x0b\x0c\r`, `\x1c`..`\x1f` and space.
fn is_ascii_py_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | 0x1c..=b' ')
}

/// `str.strip()` when an end is not ASCII (U+0085, U+00A0 and others are whitespace too).
#[cold]
#[inline(never)]
fn py_strip_chars(s: &str) -> &str {
    s.trim_matches(py_is_space)
}

/// `http.cookies._unquote`: a value wrapped in double quotes loses them, and inside, `\ooo`
/// (three octal digits, the first 0-3) becomes that character and a backslash before any other
/// character but a newline becomes that character. Anything else is returned as it is.
fn unquote(value: &str) -> Cow<'_, str> {
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return Cow::Borrowed(value);
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        let (before, escape) = rest.split_at(at);
        out.push_str(before);
        let after = &escape[1..];
        if let Some(code) = octal_escape(after) {
            out.push(code);
            rest = &after[3..];
        } else {
            match after.chars().next() {
                Some(c) if c != '\n' => {
                    out.push(c);
                    rest = &after[c.len_utf8()..];
                }
                // A backslash at the end or before a newline stays, and so does what follows.
                _ => {
                    out.push('\\');
                    rest = after;
                }
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character of `[0-3][0-7][0-7]` at the start of `s`, if there.
fn octal_escape(s: &str) -> Option<char> {
    let digits = s.as_bytes().get(..3)?;
    let [a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7'] = digits else {
        return None;
    };
    let code = (u32::from(a - b'0') << 6) | (u32::from(b - b'0') << 3) | u32::from(c - b'0');
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(header: &str) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let _ = for_each_cookie(header, |name, value| {
            pairs.push((name.to_owned(), value.into_owned()));
            Ok::<(), std::convert::Infallible>(())
        });
        pairs
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn browser_headers() {
        assert_eq!(
            parsed("_ga=GA1.1.5.1700000000; theme=dark; session=s5.x; lang=fr"),
            pairs(&[
                ("_ga", "GA1.1.5.1700000000"),
                ("theme", "dark"),
                ("session", "s5.x"),
                ("lang", "fr")
            ])
        );
        // Starlette's own cases (tests/test_requests.py::test_cookies_edge_cases).
        assert_eq!(
            parsed("keebler=E=mc2; L=c"),
            pairs(&[("keebler", "E=mc2"), ("L", "c")])
        );
        assert_eq!(
            parsed("key:term=value:term"),
            pairs(&[("key:term", "value:term")])
        );
        assert_eq!(parsed("a=b; ; c=d"), pairs(&[("a", "b"), ("c", "d")]));
        assert_eq!(parsed("abc"), pairs(&[("", "abc")]));
        assert_eq!(parsed("=b"), pairs(&[("", "b")]));
        assert_eq!(parsed(""), pairs(&[]));
        assert_eq!(parsed("a=\"\""), pairs(&[("a", "")]));
    }

    #[test]
    fn strip_is_pythons() {
        assert_eq!(
            parsed("\u{1c}a\u{a0}=\u{85}b\u{2003}"),
            pairs(&[("a", "b")])
        );
        // U+200B is not whitespace.
        assert_eq!(parsed("a=\u{200b}b"), pairs(&[("a", "\u{200b}b")]));
        // ASCII and other whitespace mixed at an end, on either side of the non-ASCII.
        assert_eq!(
            parsed(" \u{a0}\t a \u{3000}=\x0b\u{85} b\x1f\u{2028}\r"),
            pairs(&[("a", "b")])
        );
        assert_eq!(parsed("\x1c\x1d\x1e\x1f\x0c=\t\n"), pairs(&[]));
        // Neither is ESC nor DEL.
        assert_eq!(parsed("\x1b=\x7f"), pairs(&[("\x1b", "\x7f")]));
    }

    #[test]
    fn unquote_is_http_cookies() {
        assert_eq!(unquote("\"a\\\"b\""), "a\"b");
        assert_eq!(unquote("\"\\101\\0123\""), "A\n3");
        assert_eq!(unquote("\"\\400\""), "400"); // first digit beyond 3: a plain escape
        assert_eq!(unquote("\"a\\\""), "a\\"); // a backslash at the end stays
        assert_eq!(unquote("\"\\\n\""), "\\\n"); // so does one before a newline
        assert_eq!(unquote("\"\\\\101\""), "\\101");
        assert_eq!(unquote("\"\\é\""), "é");
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("\"a"), "\"a");
        assert_eq!(unquote("a\\\"b"), "a\\\"b"); // not quoted: as it is
    }
}
