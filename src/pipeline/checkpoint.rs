//! Where a verifier stands along its chain, as a node keeps it beside the blocks it verified: the
//! last block judged, the council in force after it, the most recent invalid block, why the
//! state cannot be followed (once it cannot) and the root of the replayed state. With the
//! replayed accounts (`Verifier::take_unsaved_accounts`), a checkpoint is all a verifier needs to
//! go on after a restart, and going on gives the verdicts an uninterrupted run gives.
//!
//! Invariant: a checkpoint is taken between runs, never inside one, so it describes a state in
//! which every input handed to the verifier so far has been judged and replayed.

use super::Anchor;
use crate::consensus::council::Council;
use crate::state::Account;
use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

/// A verifier's position along its chain (serde: a node stores it as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Inputs judged so far (the next input's position).
    pub position: u64,
    /// The last block judged: the block the next input must extend.
    pub tip: Option<Anchor>,
    /// The council in force for the next block, once known.
    pub council: Option<Council>,
    /// The height of the most recent invalid block.
    pub last_invalid: Option<u64>,
    /// Why the state replay cannot go on, once it cannot.
    pub state_lost: Option<String>,
    /// The root of the replayed state, when the verifier replays.
    pub state_root: Option<B256>,
}

/// What a builder needs to resume: the checkpoint and the replayed accounts saved with it.
#[derive(Debug, Clone)]
pub struct Resume {
    pub checkpoint: Checkpoint,
    /// Every account of the replayed state (empty when the verifier does not replay).
    pub accounts: Vec<(Address, Account)>,
}
