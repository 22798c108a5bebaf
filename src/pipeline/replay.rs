//! The replay stage: after a block's signatures, seals and tx root are judged, its transactions
//! are replayed against the devnet state rules (`crate::state`) and the header's gasUsed,
//! receiptsRoot and stateRoot are checked. Runs in block order on the judge's thread; the trie
//! hashing inside goes through the same batch backend as the rest of the pipeline.
//!
//! The replay follows every block it can, on its own merits: a block invalid for its header or
//! seals is still replayed (its transactions are the chain's), and a transaction whose signature
//! or rules failed is left out, as the devnet's rules reject it (a rejected transaction changes
//! nothing). So one lie does not make every later block's state look wrong.

use super::report::BlockReport;
use crate::consensus::{ChainSpec, Fault};
use crate::crypto::Backend;
use crate::primitives::{Block, Transaction};
use crate::state::witness::Witness;
use crate::state::{StateError, StateReplayer, TxParties, touched_accounts};
use alloy_primitives::{Address, B256};
use std::sync::Arc;

/// Replays blocks on top of a genesis state.
#[derive(Debug)]
pub struct Replay {
    state: StateReplayer,
}

impl Replay {
    /// A replayer for `spec`'s genesis state (funded accounts, fixed base fee).
    pub fn new(spec: &ChainSpec) -> Result<Self, StateError> {
        Ok(Self {
            state: StateReplayer::from_genesis(spec)?,
        })
    }

    /// The replay of `spec`'s chain from a saved state holding exactly `accounts`.
    pub fn resume(
        spec: &ChainSpec,
        accounts: impl IntoIterator<Item = (alloy_primitives::Address, crate::state::Account)>,
    ) -> Result<Self, StateError> {
        let mut state = StateReplayer::from_accounts(spec, accounts)?;
        // What was loaded is what the store holds already.
        state.mark_saved();
        Ok(Self { state })
    }

    /// The accounts changed since the last call.
    pub fn take_unsaved(&mut self) -> Vec<(alloy_primitives::Address, crate::state::Account)> {
        self.state.take_unsaved()
    }

    /// The state.
    pub fn state(&self) -> &StateReplayer {
        &self.state
    }

    /// The root of the current state.
    pub fn state_root(&mut self, backend: &dyn Backend) -> B256 {
        self.state.state_root(backend)
    }

    /// Replays `block` (judged in `report`) and returns the state faults it has; when it has
    /// any, also the witness of the state before it (`StateCheck::witness`).
    pub fn check(
        &mut self,
        block: &Block,
        report: &BlockReport,
        backend: &dyn Backend,
    ) -> StateCheck {
        let parties: Vec<Option<TxParties>> = block
            .transactions
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let t = report.transactions.get(i)?;
                if !t.ok {
                    return None;
                }
                Some(TxParties {
                    sender: t.sender?,
                    fee_payer: t.fee_payer,
                })
            })
            .collect();
        let rewardbase = block.header.rewardbase;
        if parties.iter().all(Option::is_some) {
            let p: Vec<TxParties> = parties.into_iter().flatten().collect();
            let faults = self.state.apply_block(block, &p, backend);
            return self.with_witness(faults, &block.transactions, &p, rewardbase, backend);
        }
        let (txs, p): (Vec<_>, Vec<_>) = block
            .transactions
            .iter()
            .zip(parties)
            .filter_map(|(tx, p)| p.map(|p| (tx.clone(), p)))
            .unzip();
        let faults = self.state.apply_txs(&block.header, &txs, &p, backend);
        self.with_witness(faults, &txs, &p, rewardbase, backend)
    }

    /// `faults`, with the witness of the state before the block when there are any (only then:
    /// proving costs two rehashes of the block's paths).
    fn with_witness(
        &mut self,
        faults: Vec<Fault>,
        txs: &[Transaction],
        parties: &[TxParties],
        rewardbase: Address,
        backend: &dyn Backend,
    ) -> StateCheck {
        let witness = (!faults.is_empty()).then(|| {
            let touched = touched_accounts(txs, parties, rewardbase);
            let (root, w) = self.state.witness_before_last_root(&touched, backend);
            (root, Arc::new(w))
        });
        StateCheck { faults, witness }
    }
}

/// What the replay of one block found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCheck {
    /// The state faults, in the order `StateReplayer::apply_txs` gives them.
    pub faults: Vec<Fault>,
    /// With faults: the state root before the block and the witness of every account the
    /// replayed transactions and the rewardbase touch, proven against it.
    pub witness: Option<(B256, Arc<Witness>)>,
}
