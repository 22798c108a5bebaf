//! Roots: DeriveSha for the transactions and receipts roots of a header, an incremental
//! Ethereum Merkle-Patricia trie for state roots, its Merkle proofs, and a partial trie rebuilt
//! from proofs for stateless replay.
//!
//! Invariant: every root here is bit-for-bit the root Kaia computes for the same data, whatever
//! the backend that hashes it; backends only batch the keccak256 work (one call per trie level).

pub mod derive_sha;
pub mod mpt;
mod node;
pub mod partial;
pub mod proof;
#[cfg(test)]
mod reference;

pub use derive_sha::{
    DeriveShaImpl, UnknownDeriveShaImpl, check_item_proof, derive_sha, item_proof,
};
pub use mpt::{EMPTY_ROOT_HASH, MerklePatriciaTrie};
pub use partial::{PartialError, PartialTrie, Unresolved};
pub use proof::{NodeError, ProofError, verify_proof};
