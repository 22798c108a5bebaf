//! Randao (KIP-113/114): the reveal is the proposer's BLS signature of the block number; the mix
//! hash chains as `parentMix XOR keccak256(reveal)`, from zero at the fork block.

use crate::crypto::keccak256;
use alloy_primitives::B256;

/// The expected mix hash of a block from its parent's mix hash and its own reveal.
pub fn next_mix_hash(parent_mix: &B256, reveal: &[u8]) -> B256 {
    *parent_mix ^ keccak256(reveal)
}
