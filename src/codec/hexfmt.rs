//! Hex input and output as users see it: `0x`-prefixed lowercase on output; on input, with or
//! without `0x`, surrounding whitespace ignored.

use super::DecodeError;

/// Decodes hex text, with or without a `0x` prefix.
pub fn decode_hex(text: &str) -> Result<Vec<u8>, DecodeError> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    hex::decode(t).map_err(|e| DecodeError::invalid("hex", e.to_string()))
}

/// Encodes bytes as `0x`-prefixed lowercase hex.
pub fn to_hex(b: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(b.as_ref()))
}

/// True when `b` looks like hex text rather than binary.
pub fn is_hex_text(b: &[u8]) -> bool {
    let t = b.trim_ascii();
    let t = t.strip_prefix(b"0x").unwrap_or(t);
    !t.is_empty() && t.iter().all(|c| c.is_ascii_hexdigit())
}
