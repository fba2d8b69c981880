//! Pure-Rust port of the CPython 3.11.7 `urllib.parse` query helpers Starlette's `QueryParams`
//! uses: `parse_qsl(..., keep_blank_values=True)` (with its `unquote_plus`) and `urlencode`
//! (with its `quote_plus`).
//!
//! Percent-decoding works on bytes and decodes UTF-8 once per component. That equals Python's
//! per-ASCII-run decoding: a literal non-ASCII char is complete UTF-8 starting with a lead byte,
//! so it ends a dangling escaped sequence exactly like the end of a run, and
//! `String::from_utf8_lossy` substitutes maximal subparts with one U+FFFD each, as Python's
//! `errors="replace"` does.

use std::ops::Range;

/// The pairs `parse_qsl(..., keep_blank_values=True)` gives, decoded into one buffer: no
/// allocation per name or value (a browser's query holds a dozen pairs).
#[derive(Debug, Clone, Default)]
pub struct QueryPairs {
    /// The names and values: decoded one after another, or (a query with nothing to decode)
    /// the query itself, separators included.
    text: String,
    /// Each pair's name and value: byte ranges into `text`.
    spans: Vec<(Range<usize>, Range<usize>)>,
}

/// Equal when the pairs are, however `text` holds them.
impl PartialEq for QueryPairs {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for QueryPairs {}

impl QueryPairs {
    /// `parse_qsl(qs.decode("latin-1"), keep_blank_values=True)`, without building the
    /// decoded str.
    pub fn parse_latin1(qs: &[u8]) -> Self {
        Self::parse(qs, true)
    }

    /// `parse_qsl(qs, keep_blank_values=True)`.
    pub fn parse_str(qs: &str) -> Self {
        Self::parse(qs.as_bytes(), false)
    }

    /// Shared splitter: `&` and `=` are ASCII, so splitting bytes matches splitting the str.
    fn parse(qs: &[u8], latin1: bool) -> Self {
        if !qs.iter().any(|&b| is_escape(b, latin1)) {
            if let Ok(plain) = std::str::from_utf8(qs) {
                return Self::of_plain(plain);
            }
        }
        let mut pairs = QueryPairs {
            text: String::with_capacity(qs.len()),
            spans: Vec::new(),
        };
        let mut scratch = Vec::new();
        for field in qs.split(|&b| b == b'&').filter(|field| !field.is_empty()) {
            let mut halves = field.splitn(2, |&b| b == b'=');
            let name = halves.next().unwrap_or_default();
            let value = halves.next().unwrap_or_default();
            let name_start = pairs.text.len();
            unquote_plus_into(name, latin1, &mut pairs.text, &mut scratch);
            let value_start = pairs.text.len();
            unquote_plus_into(value, latin1, &mut pairs.text, &mut scratch);
            pairs
                .spans
                .push((name_start..value_start, value_start..pairs.text.len()));
        }
        pairs
    }

    /// The pairs of a query with nothing to decode (the common one): spans of the query itself,
    /// one allocation for the text and one for the spans.
    fn of_plain(qs: &str) -> Self {
        let bytes = qs.as_bytes();
        let position = |from: usize, to: usize, byte: u8| {
            bytes
                .get(from..to)
                .and_then(|field| field.iter().position(|&b| b == byte))
                .map_or(to, |at| from + at)
        };
        let fields: usize = bytes.iter().map(|&b| usize::from(b == b'&')).sum::<usize>() + 1;
        let mut spans = Vec::with_capacity(fields);
        let mut start = 0;
        while start <= bytes.len() {
            let end = position(start, bytes.len(), b'&');
            if end > start {
                let name_end = position(start, end, b'=');
                spans.push((start..name_end, (name_end + 1).min(end)..end));
            }
            start = end + 1;
        }
        QueryPairs {
            text: qs.to_owned(),
            spans,
        }
    }

    /// Appends a pair.
    pub fn push(&mut self, name: &str, value: &str) {
        let name_start = self.text.len();
        self.text.push_str(name);
        let value_start = self.text.len();
        self.text.push_str(value);
        self.spans
            .push((name_start..value_start, value_start..self.text.len()));
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        let piece = |range: &Range<usize>| self.text.get(range.clone()).unwrap_or_default();
        self.spans
            .iter()
            .map(move |(name, value)| (piece(name), piece(value)))
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The pairs as owned strings.
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    /// `urllib.parse.urlencode` of the pairs.
    pub fn urlencode(&self) -> String {
        urlencode_iter(self.iter())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for QueryPairs {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut all = QueryPairs::default();
        for (name, value) in pairs {
            all.push(name.as_ref(), value.as_ref());
        }
        all
    }
}

/// `parse_qsl(qs.decode("latin-1"), keep_blank_values=True)`, without building the decoded str.
pub fn parse_qsl_latin1(qs: &[u8]) -> Vec<(String, String)> {
    QueryPairs::parse_latin1(qs).to_vec()
}

/// `parse_qsl(qs, keep_blank_values=True)`.
pub fn parse_qsl_str(qs: &str) -> Vec<(String, String)> {
    QueryPairs::parse_str(qs).to_vec()
}

/// Whether byte `b` of a query is decoded into something else: `%`, `+`, and in latin-1 input
/// (bytes read as the chars of their code points) a byte that is not ASCII.
fn is_escape(b: u8, latin1: bool) -> bool {
    b == b'%' || b == b'+' || (latin1 && b >= 0x80)
}

/// `unquote_plus` (encoding="utf-8", errors="replace") of one component, appended to `out` in a
/// single pass (`scratch` holds the percent-decoded bytes). `latin1`: every byte is the char
/// with that code point (input was `bytes.decode("latin-1")`); otherwise `src` is valid UTF-8.
fn unquote_plus_into(src: &[u8], latin1: bool, out: &mut String, scratch: &mut Vec<u8>) {
    let special = |b: u8| is_escape(b, latin1);
    if !src.iter().any(|&b| special(b)) {
        // ASCII for latin-1 input (no byte >= 0x80), otherwise a slice of a &str: borrowed.
        out.push_str(&String::from_utf8_lossy(src));
        return;
    }
    scratch.clear();
    let mut rest = src;
    loop {
        let run_len = rest.iter().position(|&b| special(b)).unwrap_or(rest.len());
        let (run, tail) = rest.split_at_checked(run_len).unwrap_or((rest, &[]));
        scratch.extend_from_slice(run);
        rest = match tail {
            [b'%', hi, lo, more @ ..] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                scratch.push(hex_value(*hi) << 4 | hex_value(*lo));
                more
            }
            [b'+', more @ ..] => {
                scratch.push(b' ');
                more
            }
            [b, more @ ..] if latin1 && *b >= 0x80 => {
                // U+0080..=U+00FF as UTF-8.
                scratch.push(0xC0 | (b >> 6));
                scratch.push(0x80 | (b & 0x3F));
                more
            }
            [b, more @ ..] => {
                // A '%' not followed by two hex digits stays literal.
                scratch.push(*b);
                more
            }
            [] => break,
        };
    }
    out.push_str(&String::from_utf8_lossy(scratch));
}

/// [`unquote_plus_into`] a new string.
#[cfg(test)]
fn unquote_plus(src: &[u8], latin1: bool) -> String {
    let mut out = String::new();
    unquote_plus_into(src, latin1, &mut out, &mut Vec::new());
    out
}

/// Value of an ASCII hex digit (callers check `is_ascii_hexdigit` first).
fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// `urllib.parse.quote_plus(s)` (safe="", UTF-8) appended to `out`: unreserved bytes kept,
/// space to `+`, everything else `%XX` with upper-case hex.
fn quote_plus(s: &str, out: &mut String) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            push_percent_escape(out, b);
        }
    }
}

/// Appends `%XX` for `byte`, upper-case hex as urllib writes it.
pub fn push_percent_escape(out: &mut String, byte: u8) {
    out.push('%');
    out.push(hex_digit_upper(byte >> 4));
    out.push(hex_digit_upper(byte & 0x0F));
}

fn hex_digit_upper(nibble: u8) -> char {
    char::from(if nibble < 10 {
        b'0' + nibble
    } else {
        b'A' + nibble - 10
    })
}

/// `urllib.parse.urlencode(pairs)` for a list of (str, str) pairs.
pub fn urlencode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    urlencode_iter(
        pairs
            .iter()
            .map(|(key, value)| (key.as_ref(), value.as_ref())),
    )
}

fn urlencode_iter<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
        }
        quote_plus(key, &mut out);
        out.push('=');
        quote_plus(value, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn parse_qsl_keeps_blanks_and_skips_empty_fields() {
        assert_eq!(
            parse_qsl_str("a=1&&b&=c&d=e=f&"),
            pairs(&[("a", "1"), ("b", ""), ("", "c"), ("d", "e=f")])
        );
        assert_eq!(parse_qsl_str(""), pairs(&[]));
        assert_eq!(parse_qsl_str("a;b=c"), pairs(&[("a;b", "c")]));
    }

    #[test]
    fn pairs_share_one_buffer_and_keep_their_order() {
        let parsed = QueryPairs::parse_latin1(b"a=1&b=%C3%A9&a=&=x&c+d=e%zz&\xe9=f");
        let want = [
            ("a", "1"),
            ("b", "\u{e9}"),
            ("a", ""),
            ("", "x"),
            ("c d", "e%zz"),
            ("\u{e9}", "f"),
        ];
        assert_eq!(parsed.iter().collect::<Vec<_>>(), want);
        assert_eq!(parsed.len(), 6);
        assert_eq!(want.into_iter().collect::<QueryPairs>(), parsed);
        assert_eq!(parsed.urlencode(), urlencode(&parsed.to_vec()));
        assert!(QueryPairs::parse_str("&&").is_empty());
    }

    /// A query with nothing to decode is split in place; the pairs are those `parse_qsl` gives.
    #[test]
    fn queries_without_escapes_are_split_in_place() {
        for qs in [
            "",
            "&",
            "a",
            "a=",
            "=",
            "=b",
            "a=1&&b==2&",
            "&a&b=c=d&",
            "k=v&k=w&é=ü",
        ] {
            let want: Vec<(String, String)> = qs
                .split('&')
                .filter(|field| !field.is_empty())
                .map(|field| {
                    let (name, value) = field.split_once('=').unwrap_or((field, ""));
                    (name.to_owned(), value.to_owned())
                })
                .collect();
            assert_eq!(parse_qsl_str(qs), want, "{qs:?}");
            if qs.is_ascii() {
                assert_eq!(parse_qsl_latin1(qs.as_bytes()), want, "{qs:?}");
            }
        }
        let plain = QueryPairs::parse_latin1(b"a=1&b=2");
        assert_eq!(plain, [("a", "1"), ("b", "2")].into_iter().collect());
    }

    #[test]
    fn plus_is_replaced_before_unquoting() {
        assert_eq!(parse_qsl_str("a+b=%2B+"), pairs(&[("a b", "+ ")]));
    }

    /// Python's `unquote_plus` of each input (none holds a `+`, so `unquote`'s too).
    #[test]
    fn unquoting_matches_python() {
        let cases = [
            // Invalid escapes stay literal.
            ("%", "%".to_owned()),
            ("%4", "%4".to_owned()),
            ("%%41", "%A".to_owned()),
            ("%zz%4g", "%zz%4g".to_owned()),
            ("%\u{e9}", "%\u{e9}".to_owned()),
            // Invalid UTF-8: one U+FFFD per maximal subpart, as errors="replace" gives.
            ("%C3%A9", "\u{e9}".to_owned()),
            ("%C3", "\u{fffd}".to_owned()),
            ("%E2%82", "\u{fffd}".to_owned()),
            ("%ED%A0%80", "\u{fffd}".repeat(3)),
            ("%C0%80", "\u{fffd}".repeat(2)),
            ("%F4%90%80%80", "\u{fffd}".repeat(4)),
            // A literal non-ASCII char splits escaped sequences (Python decodes ASCII runs).
            ("%C3\u{e9}%A9", "\u{fffd}\u{e9}\u{fffd}".to_owned()),
            ("%F0%9F\u{e9}", "\u{fffd}\u{e9}".to_owned()),
        ];
        for (text, want) in cases {
            assert_eq!(unquote_plus(text.as_bytes(), false), want, "{text:?}");
        }
    }

    #[test]
    fn latin1_bytes_are_code_points() {
        assert_eq!(
            parse_qsl_latin1(b"\xe9=\xff&%C3\xa9=%C3%A9"),
            pairs(&[("\u{e9}", "\u{ff}"), ("\u{fffd}\u{a9}", "\u{e9}")])
        );
        assert_eq!(parse_qsl_latin1(b"a=b"), pairs(&[("a", "b")]));
    }

    #[test]
    fn quoting() {
        let cases = [
            ("", ""),
            ("a b+c~._-/", "a+b%2Bc~._-%2F"),
            ("\u{e9}", "%C3%A9"),
        ];
        for (text, want) in cases {
            let mut out = String::new();
            quote_plus(text, &mut out);
            assert_eq!(out, want, "{text:?}");
        }
        assert_eq!(
            urlencode(&[("a b", "&="), ("k", "")]),
            "a+b=%26%3D&k=".to_owned()
        );
        assert_eq!(urlencode::<&str, &str>(&[]), "");
    }
}
