//! Header names and values as Starlette's `Headers` reads them: a lookup lower-cases only the
//! key being looked up (`key.lower().encode("latin-1")`) and compares it byte for byte with the
//! names as the server sent them; names and values come back decoded as latin-1.

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
    fn latin1_round_trip() {
        assert_eq!(decode_latin1(&[0x41, 0xe9, 0xff]), "A\u{e9}\u{ff}");
    }
}
