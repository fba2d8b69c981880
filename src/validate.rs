//! Checks on what the app sends, run before any I/O (so a bad message never reaches a server,
//! where servers disagree on what to do with it, and the connection state stays unchanged).

/// Close codes an app may send (RFC 6455 §7.4): 1000–1003, 1007–1014, and 3000–4999.
/// 1004–1006 and 1015 are reserved, never sent on the wire.
pub fn is_sendable_close_code(code: i64) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The longest close reason a close frame carries: 125 payload bytes minus the 2-byte code.
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// `reason` cut to at most [`MAX_CLOSE_REASON_BYTES`] UTF-8 bytes, at a character boundary.
pub fn truncate_close_reason(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON_BYTES {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or_default()
}

/// An RFC 7230 `token` (header names, subprotocols): one or more `tchar`.
pub fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// A header value a server can put on the wire: no CR, LF or NUL (which would split or
/// truncate the header block).
pub fn is_header_value(bytes: &[u8]) -> bool {
    !bytes.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// HTTP status codes a denial response may use.
pub fn is_denial_status(status: i64) -> bool {
    (100..=599).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes() {
        for ok in [1000, 1003, 1007, 1014, 3000, 4999] {
            assert!(is_sendable_close_code(ok), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, -1] {
            assert!(!is_sendable_close_code(bad), "{bad}");
        }
    }

    #[test]
    fn reasons_are_cut_at_character_boundaries() {
        assert_eq!(truncate_close_reason("bye"), "bye");
        let long = "a".repeat(200);
        assert_eq!(truncate_close_reason(&long).len(), 123);
        // 'é' is 2 bytes: 61 of them are 122 bytes, the 62nd would end at byte 124.
        let accents = "é".repeat(100);
        assert_eq!(truncate_close_reason(&accents), "é".repeat(61));
        let emoji = format!("{}{}", "a".repeat(121), "🦀");
        assert_eq!(truncate_close_reason(&emoji), "a".repeat(121));
    }

    #[test]
    fn tokens_and_values() {
        let tokens: [(&[u8], bool); 6] = [
            (b"chat.v2", true),
            (b"x-custom-header", true),
            (b"", false),
            (b"a b", false),
            (b"chat\r\nx", false),
            (b"a:b", false),
        ];
        for (bytes, want) in tokens {
            assert_eq!(is_token(bytes), want, "{bytes:?}");
        }
        let values: [(&[u8], bool); 3] = [
            (b"a value; with=stuff", true),
            (b"a\r\nSet-Cookie: x", false),
            (b"nul\0", false),
        ];
        for (bytes, want) in values {
            assert_eq!(is_header_value(bytes), want, "{bytes:?}");
        }
    }

    #[test]
    fn statuses() {
        assert!(is_denial_status(100) && is_denial_status(599));
        assert!(!is_denial_status(99) && !is_denial_status(600));
    }
}
