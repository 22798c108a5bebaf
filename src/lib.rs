//! ranger: a verification engine for Kaia-style Istanbul BFT council chains.
//!
//! The library decodes blocks (`codec`), hashes and recovers their signatures in batches
//! (`crypto`, on the CPU or the GPU: `gpu`), checks the council's claims (`consensus`), recomputes
//! roots (`trie`), replays the devnet's state transition (`state`) and runs it all as a staged
//! pipeline (`pipeline`) that yields one verdict per block, in order. `devnet` is the council
//! simulator that gives it a chain to watch; `bench` measures it against the machine's limits.

pub mod bench;
pub mod codec;
pub mod consensus;
pub mod crypto;
pub mod devnet;
pub mod gpu;
pub mod pipeline;
pub mod primitives;
pub mod report;
pub mod state;
pub mod trie;
