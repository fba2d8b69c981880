//! [`scan`]: the scan 64 bytes at a time with SSE2, which every x86-64 CPU has. Each block's
//! bytes of interest become bit masks (bit `i` for byte `i`); the bytes a backslash escapes are
//! found from the backslashes (rare: one at a time), the strings from the unescaped quotes by a
//! prefix XOR, and only the brackets and digits outside them are looked at.
//!
//! It assumes backslashes only stand inside strings, as in every JSON text: on a text with one
//! outside a string (never valid JSON) its result may differ from the byte-by-byte definition,
//! which does not matter (orjson rejects the text, `json.loads` decides).

use std::arch::x86_64::{
    __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_movemask_epi8, _mm_or_si128,
    _mm_set1_epi8, _mm_set_epi64x,
};

use super::{LoadsScan, DIGIT_RUN};

const BLOCK: usize = 64;

/// Bit `i` set: byte `i` of the block is one of these.
#[derive(Default)]
struct Classes {
    quote: u64,
    backslash: u64,
    /// `[` or `{`
    open: u64,
    /// `]` or `}`
    close: u64,
    digit: u64,
}

/// What carries from one block to the next.
#[derive(Default)]
struct Carry {
    /// The block ended inside a string.
    in_string: bool,
    /// The block ended with a backslash that escapes the next block's first byte.
    escape: bool,
    depth: usize,
    deepest: usize,
    /// Digits (outside strings) in a row at the end of the block.
    digits: usize,
}

/// The scan of `raw` (see the parent module).
///
/// # Safety
/// SSE2 is there: every x86-64 CPU. (The SIMD functions here are `unsafe fn`s, not safe ones
/// with `#[target_feature]`, which need Rust 1.86, nor calls of intrinsics made safe in 1.87:
/// the sdist builds with Cargo.toml's `rust-version`.)
#[allow(unsafe_code)]
#[target_feature(enable = "sse2")]
pub unsafe fn scan(raw: &[u8]) -> LoadsScan {
    let mut carry = Carry::default();
    let mut blocks = raw.chunks_exact(BLOCK);
    for block in blocks.by_ref() {
        if let Some(found) = step(&mut carry, classify(block)) {
            return found;
        }
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // The last bytes, padded with zero bytes (which are none of the classes).
        let mut last = [0u8; BLOCK];
        if let Some(head) = last.get_mut(..rest.len()) {
            head.copy_from_slice(rest);
        }
        if let Some(found) = step(&mut carry, classify(&last)) {
            return found;
        }
    }
    LoadsScan {
        depth: carry.deepest,
        digit_run: false,
    }
}

/// The classes of a 64-byte block, 16 bytes at a time.
///
/// # Safety
/// As [`scan`].
#[allow(unsafe_code)]
#[target_feature(enable = "sse2")]
unsafe fn classify(block: &[u8]) -> Classes {
    let mut classes = Classes::default();
    for (lane, bytes) in block.chunks_exact(16).enumerate() {
        let v = load(bytes);
        // `[`/`{` and `]`/`}` differ by 0x20 only: one comparison each after setting that bit.
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        // Signed comparisons: bytes from 0x80 are negative, so never digits.
        let digit = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(b'0' as i8 - 1)),
            _mm_cmpgt_epi8(_mm_set1_epi8(b'9' as i8 + 1), v),
        );
        let shift = 16 * lane;
        classes.quote |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))) << shift;
        classes.backslash |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))) << shift;
        classes.open |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8))) << shift;
        classes.close |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8))) << shift;
        classes.digit |= bits(digit) << shift;
    }
    classes
}

/// Sixteen bytes as a vector (two plain loads: no pointer).
///
/// # Safety
/// As [`scan`].
#[allow(unsafe_code)]
#[target_feature(enable = "sse2")]
unsafe fn load(bytes: &[u8]) -> __m128i {
    let word = |at: usize| {
        let mut word = [0u8; 8];
        if let Some(src) = bytes.get(at..at + 8) {
            word.copy_from_slice(src);
        }
        i64::from_le_bytes(word)
    };
    _mm_set_epi64x(word(8), word(0))
}

/// The top bit of each byte of a comparison's result, as 16 bits.
///
/// # Safety
/// As [`scan`].
#[allow(unsafe_code)]
#[target_feature(enable = "sse2")]
unsafe fn bits(mask: __m128i) -> u64 {
    u64::from(_mm_movemask_epi8(mask) as u16)
}

/// One block's classes into the carry; `Some` once a digit run is found.
fn step(carry: &mut Carry, classes: Classes) -> Option<LoadsScan> {
    let escaped = escaped_bytes(classes.backslash, &mut carry.escape);
    let quotes = classes.quote & !escaped;
    // Bit i: an odd number of unescaped quotes up to byte i, so byte i is inside a string (an
    // opening quote counts as inside, a closing one as outside: neither is a bracket or digit).
    let inside = prefix_xor(quotes) ^ if carry.in_string { u64::MAX } else { 0 };
    carry.in_string = inside >> 63 == 1;
    let outside = !inside;

    let digits = classes.digit & outside;
    if digits != 0 || carry.digits != 0 {
        let leading = (!digits).trailing_zeros() as usize;
        if carry.digits + leading >= DIGIT_RUN || has_run_of_19(digits) {
            return Some(LoadsScan {
                depth: carry.deepest,
                digit_run: true,
            });
        }
        carry.digits = if digits == u64::MAX {
            carry.digits + BLOCK
        } else {
            (!digits).leading_zeros() as usize
        };
    }

    let opens = classes.open & outside;
    let mut brackets = opens | (classes.close & outside);
    while brackets != 0 {
        let bracket = brackets & brackets.wrapping_neg();
        if opens & bracket != 0 {
            carry.depth += 1;
            carry.deepest = carry.deepest.max(carry.depth);
        } else {
            carry.depth = carry.depth.saturating_sub(1);
        }
        brackets &= brackets - 1;
    }
    None
}

/// The bytes a backslash escapes: each unescaped backslash escapes the byte after it (a
/// backslash it escapes escapes nothing). `escape_first` says the block's first byte is escaped
/// and is set for the next block.
fn escaped_bytes(backslashes: u64, escape_first: &mut bool) -> u64 {
    let mut escaped = u64::from(*escape_first);
    let mut left = backslashes & !escaped;
    *escape_first = false;
    while left != 0 {
        let at = left.trailing_zeros();
        if at == 63 {
            *escape_first = true;
        } else {
            let next = 1u64 << (at + 1);
            escaped |= next;
            left &= !next;
        }
        left &= left - 1;
    }
    escaped
}

/// Bit i: the XOR of bits 0..=i.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Whether `bits` holds 19 set bits in a row ([`DIGIT_RUN`]).
fn has_run_of_19(bits: u64) -> bool {
    const _: () = assert!(DIGIT_RUN == 19);
    let runs_2 = bits & (bits >> 1);
    let runs_4 = runs_2 & (runs_2 >> 2);
    let runs_8 = runs_4 & (runs_4 >> 4);
    let runs_16 = runs_8 & (runs_8 >> 8);
    runs_16 & (runs_16 >> 3) != 0
}
