//! The header table behind `Headers`: an immutable list of raw `(name, value)` byte pairs.
//!
//! Starlette's semantics, kept exactly: a lookup lower-cases only the key being looked up and
//! compares it byte for byte with the names *as the server sent them* (a raw `b"Host"` never
//! matches), `[]` gives the first value, and order and duplicates are preserved.
//! All bytes live in one buffer so building a table costs two allocations, not two per header.

use std::ops::Range;

/// One header: byte ranges into [`HeaderTable::buf`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: Range<usize>,
    value: Range<usize>,
}

/// An ordered list of raw header pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderTable {
    buf: Vec<u8>,
    entries: Vec<Entry>,
}

impl HeaderTable {
    /// An empty table with room for `headers` pairs totalling about `bytes` bytes.
    pub fn with_capacity(headers: usize, bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
            entries: Vec::with_capacity(headers),
        }
    }

    /// Appends one raw pair, kept exactly as given.
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(name);
        let mid = self.buf.len();
        self.buf.extend_from_slice(value);
        self.entries.push(Entry {
            name: start..mid,
            value: mid..self.buf.len(),
        });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `(name, value)` pairs in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        self.entries
            .iter()
            .map(move |e| (self.slice(&e.name), self.slice(&e.value)))
    }

    /// The pair at `index`.
    pub fn get(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.entries
            .get(index)
            .map(|e| (self.slice(&e.name), self.slice(&e.value)))
    }

    /// Index of the first header whose raw name equals `lowered` (already lower-cased).
    pub fn position(&self, lowered: &[u8]) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| self.slice(&e.name) == lowered)
    }

    /// Indices of every header whose raw name equals `lowered`, in order.
    pub fn positions<'a>(&'a self, lowered: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| self.slice(&e.name) == lowered)
            .map(|(i, _)| i)
    }

    /// The pairs sorted as Python sorts a list of `(bytes, bytes)` tuples: the basis of `==`.
    pub fn sorted_pairs(&self) -> Vec<(&[u8], &[u8])> {
        let mut pairs: Vec<_> = self.iter().collect();
        pairs.sort();
        pairs
    }

    fn slice(&self, range: &Range<usize>) -> &[u8] {
        self.buf.get(range.clone()).unwrap_or_default()
    }
}

/// Lower-cases a lookup key the way Starlette does before encoding it: `key.lower()` then
/// latin-1. Returns `None` when the lowered key has a character beyond U+00FF, which latin-1
/// cannot encode (Starlette raises `UnicodeEncodeError` there).
pub fn lower_latin1(key: &str) -> Option<Vec<u8>> {
    if key.is_ascii() {
        return Some(key.bytes().map(|b| b.to_ascii_lowercase()).collect());
    }
    key.to_lowercase()
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// Decodes latin-1 bytes: every byte is the code point of the same number.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&[u8], &[u8])]) -> HeaderTable {
        let mut t = HeaderTable::default();
        for (n, v) in pairs {
            t.push(n, v);
        }
        t
    }

    #[test]
    fn first_match_and_all_matches() {
        let t = table(&[(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]);
        assert_eq!(t.position(b"a"), Some(0));
        assert_eq!(t.positions(b"a").collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(t.position(b"c"), None);
        assert_eq!(t.get(2), Some((&b"a"[..], &b"3"[..])));
    }

    #[test]
    fn raw_names_are_not_lowered() {
        let t = table(&[(b"Host", b"example.com")]);
        assert_eq!(t.position(b"host"), None);
    }

    #[test]
    fn lowering_matches_python() {
        assert_eq!(
            lower_latin1("Sec-WebSocket-Key"),
            Some(b"sec-websocket-key".to_vec())
        );
        assert_eq!(lower_latin1("\u{c9}"), Some(vec![0xe9]));
        assert_eq!(lower_latin1("\u{3a3}"), None);
        // 'K' KELVIN SIGN lowers to ASCII 'k', as in Python.
        assert_eq!(lower_latin1("\u{212a}"), Some(b"k".to_vec()));
    }

    #[test]
    fn sorting_is_by_name_then_value() {
        let t = table(&[(b"b", b"1"), (b"a", b"2"), (b"a", b"1")]);
        let sorted: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"a", b"2"), (b"b", b"1")];
        assert_eq!(t.sorted_pairs(), sorted);
    }

    #[test]
    fn latin1_round_trip() {
        assert_eq!(decode_latin1(&[0x41, 0xe9, 0xff]), "A\u{e9}\u{ff}");
    }
}
