//! DeriveSha: the transactions root and receipts root of a Kaia header, by any of the three
//! implementations a chain's governance can select (`blockchain/types/derivesha/` in kaiachain/kaia).
//!
//! Invariant: `derive_sha` depends only on the implementation and the items' bytes, never on the
//! backend; the backend only decides where the many keccak256s run.
//!
//! What Kaia's code does (kaiachain/kaia `blockchain/types/derivesha/{orig,simple,concat,mux}.go`):
//! - Orig fills a stack trie with key `rlp(uint64(i))` and value `GetRlp(i)`, inserting the indices
//!   in key order (1..=0x7f, then 0, then 0x80..); the root does not depend on insertion order, so a
//!   plain Merkle-Patricia trie gives the same root.
//! - Simple hashes every item, then while more than one hash remains: appends a copy of the last
//!   one if the count is odd and replaces each pair by `keccak(left || right)`. One item: the root
//!   is `keccak(item)`. No item: `keccak("")`.
//! - Concat is `keccak(item_0 || item_1 || ...)`; no item gives `keccak("")`.
//! - An unknown governance value makes Kaia log an error and fall back to the default impl; here
//!   the conversion fails and the caller decides.

use super::mpt::MerklePatriciaTrie;
use crate::crypto::{Backend, MessageBatch, keccak256, keccak256_concat};
use alloy_primitives::B256;
use alloy_rlp::Encodable;
use std::fmt;
use std::str::FromStr;

/// Which DeriveSha a block uses (governance parameter `deriveshaimpl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeriveShaImpl {
    /// Ethereum Merkle-Patricia trie keyed by RLP(index). Mainnet today.
    #[default]
    Orig = 0,
    /// Binary keccak Merkle tree over the items' hashes.
    Simple = 1,
    /// keccak256 of the concatenated items.
    Concat = 2,
}

/// A DeriveSha implementation name or number that Kaia does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownDeriveShaImpl {
    #[error("unknown DeriveSha implementation {0:?}: expected orig, simple or concat")]
    Name(String),
    #[error("unknown DeriveSha implementation {0}: expected 0 (orig), 1 (simple) or 2 (concat)")]
    Value(u64),
}

impl DeriveShaImpl {
    /// Every implementation, in governance-value order.
    pub const ALL: [Self; 3] = [Self::Orig, Self::Simple, Self::Concat];

    /// The lower-case name used in configs and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orig => "orig",
            Self::Simple => "simple",
            Self::Concat => "concat",
        }
    }
}

impl fmt::Display for DeriveShaImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeriveShaImpl {
    type Err = UnknownDeriveShaImpl;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| UnknownDeriveShaImpl::Name(s.to_owned()))
    }
}

impl TryFrom<u64> for DeriveShaImpl {
    type Error = UnknownDeriveShaImpl;
    fn try_from(v: u64) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|i| *i as u64 == v)
            .ok_or(UnknownDeriveShaImpl::Value(v))
    }
}

/// The root of `items` (raw transactions, or receipt RLPs) under `imp`.
///
/// Items are expected to be non-empty, as transactions and receipts are; under Orig an empty item
/// is an absent key, as in go-ethereum's trie.
pub fn derive_sha(imp: DeriveShaImpl, items: &[&[u8]], backend: &dyn Backend) -> B256 {
    match imp {
        DeriveShaImpl::Orig => orig(items, backend),
        DeriveShaImpl::Simple => simple(items, backend),
        // One message, hashed as a stream: nothing for a batch backend to spread.
        DeriveShaImpl::Concat => keccak256_concat(items),
    }
}

/// Ethereum's ordered trie: key RLP(index), value the item. The trie hashes its nodes level by
/// level in batches.
fn orig(items: &[&[u8]], backend: &dyn Backend) -> B256 {
    let mut trie = MerklePatriciaTrie::new();
    let mut key = Vec::with_capacity(9);
    for (i, item) in items.iter().enumerate() {
        key.clear();
        (i as u64).encode(&mut key);
        trie.insert(&key, item.to_vec());
    }
    trie.root_hash(backend)
}

/// Kaia's binary Merkle tree: one batch for the item hashes, then one batch per level.
fn simple(items: &[&[u8]], backend: &dyn Backend) -> B256 {
    if items.is_empty() {
        return keccak256(b"");
    }
    let mut batch = MessageBatch::with_capacity(items.len(), items.iter().map(|i| i.len()).sum());
    for item in items {
        batch.push(item);
    }
    let mut level = backend.keccak_batch(&batch);
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            if let Some(&last) = level.last() {
                level.push(last);
            }
        }
        let mut pairs = MessageBatch::with_capacity(level.len() / 2, level.len() * 32);
        let mut msg = [0u8; 64];
        for pair in level.chunks_exact(2) {
            msg[..32].copy_from_slice(pair[0].as_slice());
            msg[32..].copy_from_slice(pair[1].as_slice());
            pairs.push(&msg);
        }
        level = backend.keccak_batch(&pairs);
    }
    level.first().copied().unwrap_or_else(|| keccak256(b""))
}
