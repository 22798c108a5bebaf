//! ranger: a verification engine for Kaia-style Istanbul BFT council chains.
//!
//! The library decodes blocks (`codec`), hashes and recovers their signatures in batches
//! (`crypto`), checks the council's claims (`consensus`), recomputes roots (`trie`) and runs it all
//! as a staged pipeline (`pipeline`) that yields one verdict per block, in order.

pub mod crypto;
pub mod trie;
pub mod codec;
pub mod consensus;
pub mod primitives;
pub mod gpu;
pub mod pipeline;
pub mod bench;
pub mod state;
pub mod devnet;
