//! keccak256 (the pre-standard Keccak that Kaia and Ethereum use), through `alloy-primitives`
//! with its `asm-keccak` feature: the CRYPTOGAMS assembly permutation of the `keccak-asm` crate,
//! faster on the 2-core machine than the `sha3` crate's portable one it replaced (`ranger
//! bench`'s keccak figures before and after are in the README), where keccak is about a seventh
//! of a full verification.

use alloy_primitives::{B256, Keccak256};

/// keccak256 of one message.
pub fn keccak256(data: &[u8]) -> B256 {
    alloy_primitives::keccak256(data)
}

/// keccak256 of the concatenation of several parts, without building the concatenation.
pub fn keccak256_concat(parts: &[&[u8]]) -> B256 {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
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
