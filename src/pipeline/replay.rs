//! The replay stage: after a block's signatures, seals and tx root are judged, its transactions
//! are replayed against the devnet state rules (`crate::state`) and the header's gasUsed,
//! receiptsRoot and stateRoot are checked. Runs in block order on the judge's thread; the trie
//! hashing inside goes through the same batch backend as the rest of the pipeline.

use super::{BlockHook, BlockReport};
use crate::consensus::{ChainSpec, Fault};
use crate::crypto::Backend;
use crate::primitives::Block;
use crate::state::{StateError, StateReplayer, TxParties};
use std::sync::Arc;

/// Replays blocks on top of a genesis state.
#[derive(Debug)]
pub struct ReplayHook {
    state: StateReplayer,
    backend: Arc<dyn Backend>,
}

impl ReplayHook {
    /// A replayer for `spec`'s genesis, or `None` for a chain whose state ranger does not hold
    /// (a spec without the devnet's fixed base fee and funded accounts, such as mainnet).
    pub fn for_spec(
        spec: &ChainSpec,
        backend: Arc<dyn Backend>,
    ) -> Result<Option<Self>, StateError> {
        if spec.base_fee.is_none() {
            return Ok(None);
        }
        let mut state = StateReplayer::from_genesis(spec)?;
        // Hash the genesis state once now, so the first block pays only for what it touches.
        state.state_root(&*backend);
        Ok(Some(Self { state, backend }))
    }

    /// The state.
    pub fn state(&self) -> &StateReplayer {
        &self.state
    }

    /// The root of the current state.
    pub fn state_root(&mut self) -> alloy_primitives::B256 {
        self.state.state_root(&*self.backend)
    }
}

impl BlockHook for ReplayHook {
    fn check(&mut self, block: &Block, report: &BlockReport) -> Vec<Fault> {
        // A block already found invalid is not replayed: its parties are not all known, and its
        // state effects are not the chain's. Later blocks are then judged against the state
        // before it, so their roots will not match either — the first verdict is the one that
        // counts.
        if !report.faults.is_empty() {
            return Vec::new();
        }
        let parties: Option<Vec<TxParties>> = report
            .transactions
            .iter()
            .map(|t| {
                t.sender.map(|sender| TxParties {
                    sender,
                    fee_payer: t.fee_payer,
                })
            })
            .collect();
        match parties {
            Some(p) if p.len() == block.transactions.len() => {
                self.state.apply_block(block, &p, &*self.backend)
            }
            _ => Vec::new(),
        }
    }
}
