//! Block 0 of a chain whose genesis ranger holds in full (`ChainKind::Devnet`): rebuilt from the
//! spec as a Kaia node derives its genesis block from genesis.json, so the first block of a chain
//! file must extend it. The state root comes from the caller (the replayer that built the genesis
//! state), so this module needs no state of its own.

use super::chain::ChainSpec;
use crate::codec::header::encode_extra_parts;
use crate::crypto::Backend;
use crate::primitives::Header;
use crate::trie::derive_sha;
use alloy_primitives::{B256, Bytes, U256};

/// The genesis block's time: 2026-01-01T00:00:00Z.
pub const GENESIS_TIME: u64 = 1_767_225_600;

/// The genesis block's header: number 0, the council in its Istanbul extra, `state_root`, empty
/// transaction and receipt roots under the spec's DeriveSha impl, the randao fields when the fork
/// is live at 0. Block 1's parent hash is its hash.
pub fn genesis_header(spec: &ChainSpec, state_root: B256, backend: &dyn Backend) -> Header {
    let empty = derive_sha(spec.derive_sha, &[], backend);
    let council: Vec<_> = spec.council.iter().map(|m| m.address).collect();
    let randao = spec.forks.is_randao(0);
    Header {
        state_root,
        tx_root: empty,
        receipts_root: empty,
        block_score: U256::from(1),
        number: 0,
        time: GENESIS_TIME,
        extra: Bytes::from(encode_extra_parts(&[0u8; 32], &council, &[], &[])),
        base_fee: (spec.forks.header_fields(0) >= 15).then_some(spec.base_fee.unwrap_or_default()),
        random_reveal: randao.then(Bytes::new),
        mix_hash: randao.then(|| Bytes::copy_from_slice(B256::ZERO.as_slice())),
        ..Default::default()
    }
}
