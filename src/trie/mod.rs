//! Roots: DeriveSha for the transactions and receipts roots of a header, and an incremental
//! Ethereum Merkle-Patricia trie for state roots.
//!
//! Invariant: every root here is bit-for-bit the root Kaia computes for the same data, whatever
//! the backend that hashes it; backends only batch the keccak256 work (one call per trie level).

pub mod derive_sha;
pub mod mpt;
mod node;
#[cfg(test)]
mod reference;

pub use derive_sha::{DeriveShaImpl, UnknownDeriveShaImpl, derive_sha};
pub use mpt::{EMPTY_ROOT_HASH, MerklePatriciaTrie};
