//! The byte scans behind `receive_json` / `send_json`'s orjson fast paths (pure Rust, no
//! allocation). They decide when orjson's result may differ from the stdlib `json` module's, so
//! that the call is redone with the stdlib (see `python/ferrosocket/_json.py` for the policy).
//!
//! * [`loads_check`]: on the input of a successful `orjson.loads`, is there a run of 19+ ASCII
//!   digits (an integer orjson may turn into a float), or enough `[`/`{` bytes for a nesting
//!   deeper than orjson's encoder limit (which the caller then measures)?
//! * [`dumps_may_differ`]: on the output of `orjson.dumps`, is there a `null` (perhaps a NaN or
//!   an infinity) or a UUID-shaped string (perhaps a `uuid.UUID`)?
//!
//! Both are conservative: a "yes" only costs the caller a slower, exact path.

/// The shortest integer orjson may not hold exactly is 19 digits long (`-2**63 - 1`).
pub const DIGIT_RUN: usize = 19;

/// `orjson.dumps` raises "Recursion limit reached" for a nesting deeper than this.
pub const ORJSON_MAX_DEPTH: usize = 254;

/// What [`loads_check`] found in the input of a successful `orjson.loads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadsCheck {
    /// orjson's result is the stdlib's.
    Exact,
    /// A run of [`DIGIT_RUN`]+ ASCII digits: parse with the stdlib.
    DigitRun,
    /// More than [`ORJSON_MAX_DEPTH`] opening brackets: the result may be nested too deeply;
    /// the caller measures it (by `orjson.dumps`, which fails beyond [`ORJSON_MAX_DEPTH`]).
    MaybeDeep,
}

/// The checks, in the order (and with the length shortcuts) of the original Python code: input
/// shorter than [`DIGIT_RUN`] is exact; then a digit run; then, as orjson succeeded and so the
/// brackets are balanced, a nesting deeper than [`ORJSON_MAX_DEPTH`] takes more than twice as
/// many bytes and more than [`ORJSON_MAX_DEPTH`] opening brackets (`[` and `{` counted
/// together, inside strings too: a conservative bound).
pub fn loads_check(raw: &[u8]) -> LoadsCheck {
    if raw.len() < DIGIT_RUN {
        return LoadsCheck::Exact;
    }
    if has_digit_run(raw) {
        return LoadsCheck::DigitRun;
    }
    if raw.len() > 2 * ORJSON_MAX_DEPTH && count_open_brackets(raw) > ORJSON_MAX_DEPTH {
        return LoadsCheck::MaybeDeep;
    }
    LoadsCheck::Exact
}

/// True when `bytes` holds a run of at least [`DIGIT_RUN`] consecutive ASCII digits.
///
/// Any such run covers one of the positions `DIGIT_RUN - 1`, `2 * DIGIT_RUN - 1`, ...: only
/// those are probed, and a probe on a digit measures its run both ways. Every byte is read at
/// most twice, and JSON with short numbers is read about once every [`DIGIT_RUN`] bytes.
pub fn has_digit_run(bytes: &[u8]) -> bool {
    let is_digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut probe = DIGIT_RUN - 1;
    while probe < bytes.len() {
        if !is_digit(probe) {
            probe += DIGIT_RUN;
            continue;
        }
        // The byte before the previous probe (or the run it measured) is not a digit, so the
        // backward walk stays within this window.
        let mut start = probe;
        while start > 0 && is_digit(start - 1) {
            start -= 1;
        }
        let mut end = probe + 1;
        while is_digit(end) {
            end += 1;
        }
        if end - start >= DIGIT_RUN {
            return true;
        }
        // `end` is not a digit: a later run starts at `end + 1` or after.
        probe = end + DIGIT_RUN;
    }
    false
}

/// The number of `[` and `{` bytes in `bytes`.
pub fn count_open_brackets(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| usize::from(b == b'[' || b == b'{'))
        .sum()
}

/// True when the `orjson.dumps` output `out` may not be what the stdlib would write: it holds
/// `null` or a UUID-shaped string (see [`has_uuid_tail`]).
pub fn dumps_may_differ(out: &[u8]) -> bool {
    contains_null(out) || (out.contains(&b'-') && has_uuid_tail(out))
}

/// True when `bytes` contains `null`.
pub fn contains_null(bytes: &[u8]) -> bool {
    // Any `null` covers exactly one of the positions 3, 7, 11, ...: only those are probed, and
    // an `n`, `u` or `l` there is checked as each letter of `null` it may be.
    let mut probe = 3;
    while let Some(&b) = bytes.get(probe) {
        let offsets: &[usize] = match b {
            b'n' => &[0],
            b'u' => &[1],
            b'l' => &[2, 3],
            _ => &[],
        };
        for &offset in offsets {
            let start = probe - offset; // probe >= 3 >= offset
            if bytes.get(start..start + 4) == Some(b"null") {
                return true;
            }
        }
        probe += 4;
    }
    false
}

/// True when `bytes` contains `-xxxx-xxxx-xxxx-xxxxxxxxxxxx"` (`x` a lower-case hex digit): the
/// end of a string holding a UUID as orjson writes it. One pass, over the maximal runs of hex
/// digits between the other bytes.
pub fn has_uuid_tail(bytes: &[u8]) -> bool {
    // `dashes`: the length, in dashes (at most 4), of the chain `-HHHH-...-HHHH-` that ends
    // right before the current run of hex digits; `run`: that run's length (capped at 13).
    let mut dashes: u8 = 0;
    let mut run: u8 = 0;
    for &b in bytes {
        if matches!(b, b'0'..=b'9' | b'a'..=b'f') {
            run = (run + 1).min(13);
            continue;
        }
        dashes = match (b, dashes, run) {
            (b'"', 4, 12) => return true,
            // One more `HHHH-`: the chain grows, keeping its last (at most) three dashes.
            (b'-', 1..=4, 4) => dashes.min(3) + 1,
            (b'-', _, _) => 1,
            _ => 0,
        };
        run = 0;
    }
    false
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs() {
        let eighteen = "1".repeat(18);
        let nineteen = "1".repeat(19);
        assert!(!has_digit_run(eighteen.as_bytes()));
        assert!(has_digit_run(nineteen.as_bytes()));
        assert!(has_digit_run(format!("[{nineteen}]").as_bytes()));
        assert!(has_digit_run(format!("[1,2,-{nineteen}5]").as_bytes()));
        assert!(!has_digit_run(
            format!("[{eighteen},{eighteen}.{eighteen}]").as_bytes()
        ));
        assert!(has_digit_run(b"{\"a\":[1,-9223372036854775809]}"));
        assert!(!has_digit_run(b""));
        assert!(!has_digit_run(
            b"1700000000.25 1234 42 ....................."
        ));
        // A run exactly at the start and at the end.
        assert!(has_digit_run(format!("{nineteen} x").as_bytes()));
        assert!(has_digit_run(format!("x {nineteen}").as_bytes()));
        // Non-ASCII digits do not count.
        assert!(!has_digit_run("١".repeat(40).as_bytes()));
    }

    #[test]
    fn loads_checks() {
        assert_eq!(loads_check(b"123456789012345678"), LoadsCheck::Exact);
        assert_eq!(loads_check(b"1234567890123456789"), LoadsCheck::DigitRun);
        let deep = "[".repeat(255) + &"]".repeat(255);
        assert_eq!(loads_check(deep.as_bytes()), LoadsCheck::MaybeDeep);
        let mixed = "{\"a\":".repeat(128) + "[" + &"[".repeat(126) + "]".repeat(127).as_str();
        assert_eq!(count_open_brackets(mixed.as_bytes()), 255);
        assert_eq!(loads_check(mixed.as_bytes()), LoadsCheck::MaybeDeep);
        let shallow = "[".repeat(254) + &"]".repeat(254);
        assert_eq!(loads_check(shallow.as_bytes()), LoadsCheck::Exact);
        // 255 brackets but not more than 508 bytes in all: not possible for balanced JSON.
        assert_eq!(loads_check("[".repeat(255).as_bytes()), LoadsCheck::Exact);
    }

    #[test]
    fn nulls() {
        for yes in [
            "null",
            "[null]",
            "nnull",
            "nunull",
            "nulnull",
            "{\"null\":1}",
            "xxxnull",
        ] {
            assert!(contains_null(yes.as_bytes()), "{yes}");
        }
        for no in [
            "", "nul", "nul l", "Null", "nulL", "unll", "llun", "n u l l", "nnuu",
        ] {
            assert!(!contains_null(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn uuid_tails() {
        let uuid = "\"12345678-1234-5678-1234-567812345678\"";
        assert!(has_uuid_tail(uuid.as_bytes()));
        assert!(has_uuid_tail(b"-0000-0000-0000-000000000000\""));
        assert!(has_uuid_tail(b"[\"x\",\"--0000-0000-0000-000000000000\"]"));
        // A `-HHHH` group more, or fewer: still the last four groups.
        assert!(has_uuid_tail(b"-abcd-abcd-abcd-abcd-0123456789ab\""));
        assert!(!has_uuid_tail(b"-abcd-abcd-0123456789ab\""));
        // Upper case, a short or long group, no closing quote.
        assert!(!has_uuid_tail(b"-ABCD-0000-0000-000000000000\""));
        assert!(!has_uuid_tail(b"-000-0000-0000-000000000000\""));
        assert!(!has_uuid_tail(b"-00000-0000-0000-000000000000\""));
        assert!(!has_uuid_tail(b"-0000-0000-0000-0000000000000\""));
        assert!(!has_uuid_tail(b"-0000-0000-0000-00000000000\""));
        assert!(!has_uuid_tail(b"-0000-0000-0000-000000000000"));
        assert!(!has_uuid_tail(b"0000-0000-0000-000000000000\""));
        assert!(dumps_may_differ(uuid.as_bytes()));
        assert!(dumps_may_differ(b"[NaN,null]"));
        assert!(!dumps_may_differ(b"{\"a\":[1,2.5,\"-1-2\"],\"b\":-3}"));
    }
}
