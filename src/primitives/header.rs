//! The Kaia block header (14 fields plus the fork-dependent tail) and the Istanbul extra-data.

use alloy_primitives::{Address, B256, Bloom, Bytes, U256};

/// A Kaia block header, field for field as it is RLP-encoded.
///
/// The tail fields are `Some` exactly when the encoding carries them; whether they *should* be
/// there at this height is a consensus check (`consensus::header`), not a decoding one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    pub parent_hash: B256,
    pub rewardbase: Address,
    pub state_root: B256,
    pub tx_root: B256,
    pub receipts_root: B256,
    pub bloom: Bloom,
    pub block_score: U256,
    pub number: u64,
    pub gas_used: u64,
    pub time: u64,
    pub time_fos: u8,
    pub extra: Bytes,
    pub governance: Bytes,
    pub vote: Bytes,
    /// Magma and later.
    pub base_fee: Option<U256>,
    /// Randao and later: BLS signature of the block number by the proposer (96 bytes).
    pub random_reveal: Option<Bytes>,
    /// Randao and later.
    pub mix_hash: Option<Bytes>,
    /// Osaka and later.
    pub blob_gas_used: Option<u64>,
    /// Osaka and later.
    pub excess_blob_gas: Option<u64>,
}

impl Header {
    /// Fields of the header's RLP list: the 14 every header has, plus each tail field it carries.
    pub fn field_count(&self) -> usize {
        14 + [
            self.base_fee.is_some(),
            self.random_reveal.is_some(),
            self.mix_hash.is_some(),
            self.blob_gas_used.is_some(),
            self.excess_blob_gas.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }
}

/// The Istanbul part of `Header::extra`: `vanity (32 bytes, byte 31 = round) || RLP([validators,
/// seal, committed seals])`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IstanbulExtra {
    pub vanity: [u8; 32],
    pub validators: Vec<Address>,
    pub seal: Bytes,
    pub committed_seals: Vec<Bytes>,
}

impl IstanbulExtra {
    /// The consensus round, kept in the last vanity byte.
    pub fn round(&self) -> u8 {
        self.vanity[31]
    }
}
