//! Codecs: RLP <-> the types of `crate::primitives` (headers, Istanbul extra, every Kaia and
//! Ethereum-typed transaction, blocks), Kaia JSON-RPC blocks, and the chain file format. Raw bytes
//! are kept wherever they are hashed, so a hash is always over what the council published.

pub mod block;
pub mod chainfile;
pub mod header;
pub mod hexfmt;
pub mod json;
pub mod rlp;
pub mod rpc;
pub mod tx;

/// Why bytes did not decode. Each variant names the field and the rule that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{field}: malformed RLP ({reason})")]
    Rlp { field: &'static str, reason: String },
    #[error("{field}: expected {expected} bytes, got {got}")]
    Length {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: field {field} is missing (the list ended early)")]
    MissingField {
        what: &'static str,
        field: &'static str,
    },
    #[error("{what}: {extra} unexpected item(s) after its {expected} fields")]
    ExtraFields {
        what: &'static str,
        expected: usize,
        extra: usize,
    },
    #[error("{what}: {count} trailing byte(s) after the value")]
    TrailingBytes { what: &'static str, count: usize },
    #[error("unknown or unsupported transaction type 0x{0:x}")]
    UnknownTxType(u16),
    #[error("transaction type 0x{0:x} is disabled in Kaia and cannot be decoded")]
    DisabledTxType(u16),
    #[error("header has {0} fields; a Kaia header has 14 to 19")]
    HeaderFieldCount(usize),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("transaction {index}: {source}")]
    Tx {
        index: usize,
        source: Box<DecodeError>,
    },
    #[error("input is {len} bytes, over the limit of {max}")]
    TooLarge { len: usize, max: usize },
    /// A JSON document whose value at `path` (serde's path, `transactions[0].signatures[0].V`;
    /// empty for the document itself) is missing or does not fit.
    #[error("{}{reason}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Json { path: String, reason: String },
}

impl DecodeError {
    pub(crate) fn rlp(field: &'static str, e: alloy_rlp::Error) -> Self {
        let reason = match e {
            alloy_rlp::Error::Overflow => "integer overflows its type".to_string(),
            alloy_rlp::Error::LeadingZero => {
                "integer or length has a leading zero byte (non-canonical)".into()
            }
            alloy_rlp::Error::InputTooShort => {
                "input ends before the item does (truncated, or a length that overflows the input)"
                    .into()
            }
            alloy_rlp::Error::NonCanonicalSingleByte => {
                "single byte below 0x80 encoded as a string (non-canonical)".into()
            }
            alloy_rlp::Error::NonCanonicalSize => {
                "long-form length used for a payload under 56 bytes (non-canonical)".into()
            }
            alloy_rlp::Error::UnexpectedLength => "unexpected length".into(),
            alloy_rlp::Error::UnexpectedString => "expected a list, found a string".into(),
            alloy_rlp::Error::UnexpectedList => "expected a string, found a list".into(),
            other => other.to_string(),
        };
        Self::Rlp { field, reason }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// Reads at most `max` bytes of `r`: `Ok(None)` when there is more (input over its bound is
/// refused before it is parsed, never read whole).
pub fn read_bounded(r: impl std::io::Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    r.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= max).then_some(buf))
}
