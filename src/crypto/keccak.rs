//! keccak256 (the pre-standard Keccak that Kaia and Ethereum use), through the `sha3` crate.

use alloy_primitives::B256;
use sha3::{Digest, Keccak256};

/// keccak256 of one message.
pub fn keccak256(data: &[u8]) -> B256 {
    B256::from_slice(&Keccak256::digest(data))
}

/// keccak256 of the concatenation of several parts, without building the concatenation.
pub fn keccak256_concat(parts: &[&[u8]]) -> B256 {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    B256::from_slice(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_string_hash() {
        assert_eq!(
            hex::encode(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(keccak256_concat(&[b"ab", b"", b"c"]), keccak256(b"abc"));
    }
}
