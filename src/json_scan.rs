//! The byte scan behind `receive_json`'s orjson fast path (pure Rust, no allocation): what in
//! a JSON text decides whether `orjson.loads` gives `json.loads`'s value (see
//! `python/ferrosocket/_json.py` for the policy).
//!
//! [`scan_loads_input`] reads the text once, skipping over strings (escapes honoured), and
//! reports the nesting depth of its arrays and objects (orjson stops at [`ORJSON_LOADS_MAX_DEPTH`];
//! `json.loads` at the interpreter's recursion limit, which the caller checks) and whether a
//! run of [`DIGIT_RUN`]+ digits stands outside the strings (a number orjson may not hold
//! exactly: it turns integers beyond 64 bits into floats). On a text that is not valid JSON the
//! result means nothing, and needs not: orjson rejects such a text and `json.loads` decides.
//!
//! On x86-64 the scan runs 64 bytes at a time with SSE2 (`sse2`); elsewhere byte by byte, eight
//! bytes at a time through strings (below). Both give the same result on every text without a
//! backslash outside its strings (every JSON text): tests/fuzz_core.rs checks them against the
//! definition.

#[cfg(target_arch = "x86_64")]
mod sse2;

/// The shortest integer orjson may not hold exactly is 19 digits long (`-2**63 - 1`).
pub const DIGIT_RUN: usize = 19;

/// `orjson.loads` parses arrays and objects nested this deep, and fails beyond.
pub const ORJSON_LOADS_MAX_DEPTH: usize = 1024;

/// What [`scan_loads_input`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadsScan {
    /// The deepest nesting of `[`/`{` outside strings (0 for a scalar).
    pub depth: usize,
    /// A run of at least [`DIGIT_RUN`] ASCII digits outside strings (the scan stops there,
    /// so `depth` then means nothing).
    pub digit_run: bool,
}

/// Reads `raw` once: see the module docs.
pub fn scan_loads_input(raw: &[u8]) -> LoadsScan {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2, all `sse2::scan` needs, is part of x86-64 itself: every CPU that runs
        // this build has it (the compiler assumes it too).
        #[allow(unsafe_code)]
        unsafe {
            sse2::scan(raw)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    scan_bytes(raw)
}

/// The scan byte by byte, eight bytes at a time through strings: where there is no SSE2.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scan_bytes(raw: &[u8]) -> LoadsScan {
    let (mut depth, mut deepest, mut digits) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        i += 1;
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits >= DIGIT_RUN {
                    return LoadsScan {
                        depth: deepest,
                        digit_run: true,
                    };
                }
                continue;
            }
            b'"' => i = string_end(raw, i),
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        digits = 0;
    }
    LoadsScan {
        depth: deepest,
        digit_run: false,
    }
}

/// The index just past the `"` that closes the string whose contents start at `start` (or
/// `raw.len()` if it never closes). A backslash escapes the byte after it.
fn string_end(raw: &[u8], start: usize) -> usize {
    let mut i = start;
    loop {
        i = quote_or_backslash(raw, i);
        match raw.get(i) {
            Some(b'"') => return i + 1,
            Some(_) => i += 2, // a backslash and the byte it escapes
            None => return raw.len(),
        }
    }
}

/// The index of the first `"` or `\` in `raw` at or after `start`, or `raw.len()`. Eight bytes
/// at a time: strings are most of a JSON text.
fn quote_or_backslash(raw: &[u8], start: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    // The high bit of every zero byte of `x` is set in the result (and maybe of bytes after
    // the first zero byte, which the caller does not look at).
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = start;
    while let Some(chunk) = raw.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let found = zero_bytes(word ^ QUOTES) | zero_bytes(word ^ BACKSLASHES);
        if found != 0 {
            // Little-endian load: the lowest set bit is the first such byte.
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = raw.get(i) {
        if b == b'"' || b == b'\\' {
            return i;
        }
        i += 1;
    }
    raw.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> (usize, bool) {
        let s = scan_loads_input(text.as_bytes());
        (s.depth, s.digit_run)
    }

    #[test]
    fn depth_outside_strings() {
        assert_eq!(scan("1"), (0, false));
        assert_eq!(scan("[]"), (1, false));
        assert_eq!(scan("[[],[[]]]"), (3, false));
        assert_eq!(scan(r#"{"a":[{"b":1}]}"#), (3, false));
        // Brackets inside strings do not count, escaped quotes do not end a string.
        assert_eq!(scan(r#"["[[[[{{{{"]"#), (1, false));
        assert_eq!(scan(r#"["\"[[[[", "\\", [[]]]"#), (3, false));
        assert_eq!(scan(r#"["\\\"[[", []]"#), (2, false));
        assert_eq!(scan(&("[".repeat(300) + &"]".repeat(300))), (300, false));
        // Unterminated strings and unbalanced brackets (invalid JSON): no panic.
        assert_eq!(scan(r#"["abc"#), (1, false));
        assert_eq!(scan(r#"["ab\"#), (1, false));
        assert_eq!(scan("]]][["), (2, false));
    }

    #[test]
    fn digit_runs_outside_strings() {
        let eighteen = "1".repeat(18);
        let nineteen = "1".repeat(19);
        assert_eq!(scan(&eighteen), (0, false));
        assert!(scan(&nineteen).1);
        assert!(scan(&format!("[1,-{nineteen}]")).1);
        assert!(scan(&format!("[0.{nineteen}]")).1);
        assert!(!scan(&format!("[{eighteen},{eighteen}.{eighteen}]")).1);
        // Inside a string: not a number.
        assert!(!scan(&format!(r#"["{nineteen}", "a{nineteen}\"{nineteen}"]"#)).1);
        assert!(scan(&format!(r#"["\\", {nineteen}]"#)).1);
        // Non-ASCII digits do not count.
        assert!(!scan(&"١".repeat(40)).1);
    }

    /// Texts across block boundaries (64 bytes): strings, escapes, digit runs and brackets
    /// anywhere, the same result as the byte-by-byte scan.
    #[test]
    fn blocks_agree_with_bytes() {
        let pieces = [
            "\"abc\"",
            "\"a\\\"b\"",
            "\"\\\\\"",
            "[",
            "]",
            "{",
            "}",
            ",",
            ":",
            "123456789",
            "0",
            "\"[{\"",
            "null",
            "\"é🚀\"",
            " ",
            "\"\\u00e9\"",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..4000 {
            let mut text = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let count = (seed % 90) as usize;
            let mut s = seed;
            for _ in 0..count {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let piece = pieces
                    .get((s >> 33) as usize % pieces.len())
                    .copied()
                    .unwrap_or("");
                text.push_str(piece);
            }
            let fast = scan_loads_input(text.as_bytes());
            let bytes = scan_bytes(text.as_bytes());
            assert_eq!(fast.digit_run, bytes.digit_run, "{text}");
            if !bytes.digit_run {
                assert_eq!(fast.depth, bytes.depth, "{text}");
            }
        }
    }

    #[test]
    fn skips_strings_of_every_length() {
        for len in 0..40 {
            for tail in ["", "\\\"", "\\\\"] {
                let body = "x".repeat(len) + tail;
                let text = format!(r#"["{body}",[[{}]]]"#, "7".repeat(19));
                assert!(scan(&text).1, "{text}");
                let text = format!(r#"["{body}",[[{}]]]"#, "7".repeat(18));
                assert_eq!(scan(&text), (3, false), "{text}");
                let text = format!(r#"["{body}[[[{}"]"#, "7".repeat(19));
                assert_eq!(scan(&text), (1, false), "{text}");
            }
        }
    }
}
