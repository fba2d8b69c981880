//! The port check Starlette's Host header validation (`ParsedHost.is_valid_port`) and urllib's
//! `SplitResult.port` share: ASCII digits read as Python's `int()` reads them (leading zeros
//! allowed, no size limit), then at most 65535.

/// Why a port text is not a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortError {
    /// Something other than ASCII digits.
    NotDigits,
    /// A number above 65535.
    OutOfRange,
}

/// The port `text` stands for. The empty text reads as 0 (Starlette's `int(port or "0")`;
/// urllib never passes an empty port).
pub fn parse_port(text: &str) -> Result<u16, PortError> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortError::NotDigits);
    }
    // Python's int() has no size limit: drop leading zeros, then more than five digits is out
    // of range (and five fit a u32).
    let digits = text.trim_start_matches('0');
    if digits.len() > 5 {
        return Err(PortError::OutOfRange);
    }
    let value = digits
        .bytes()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    u16::try_from(value).map_err(|_| PortError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        let cases = [
            ("0", Ok(0)),
            ("", Ok(0)),
            ("80", Ok(80)),
            ("0000000080", Ok(80)),
            ("65535", Ok(65535)),
            ("65536", Err(PortError::OutOfRange)),
            ("999999", Err(PortError::OutOfRange)),
            ("99999999999999999999", Err(PortError::OutOfRange)),
            ("-1", Err(PortError::NotDigits)),
            ("+1", Err(PortError::NotDigits)),
            ("\u{968}", Err(PortError::NotDigits)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_port(text), want, "{text:?}");
        }
    }
}
