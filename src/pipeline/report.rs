//! What the pipeline says about a block: the verdict, its faults, and the evidence a user or a
//! fault report needs (hashes, proposer, committers, quorum, per-transaction results, tx root).

use crate::consensus::Fault;
use crate::state::witness::Witness;
use alloy_primitives::{Address, B256};
use serde::Serialize;
use std::sync::Arc;

/// What the node says about a block. `Invalid` is a claim about the council, proven by the
/// faults; `Undecided` is the node admitting it could not tell (a backend, a source, a parameter
/// it does not know), and is never reported as the council's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Invalid,
    Undecided,
}

impl Verdict {
    /// The lower-case name, as JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Undecided => "undecided",
        }
    }
}

/// The quorum check of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quorum {
    pub council: usize,
    pub required: usize,
    pub valid_distinct: usize,
    pub ok: bool,
}

/// One transaction's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxReport {
    pub index: usize,
    #[serde(rename = "type")]
    pub tx_type: String,
    pub hash: B256,
    pub sender_tx_hash: B256,
    /// The recovered sender (first signature's signer).
    pub sender: Option<Address>,
    /// Every recovered sender signature's signer (multisig has several).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<Address>,
    /// The fee payer named by the transaction.
    pub fee_payer: Option<Address>,
    /// Who signed as fee payer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_payer_signer: Option<Address>,
    pub ok: bool,
    pub error: Option<String>,
    /// Things that cannot be judged without chain state (e.g. decoupled account keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The transactions-root check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxRootReport {
    pub header: B256,
    pub computed: B256,
    #[serde(rename = "impl")]
    pub imp: String,
    pub ok: bool,
}

/// The receipts check of a block ranger cannot replay (a live chain's), made with receipts a
/// source gave whose root is the header's `receiptsRoot`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptsReport {
    /// The header's receiptsRoot, which the receipts hash to.
    pub root: B256,
    /// The DeriveSha impl they hash to it under.
    #[serde(rename = "impl")]
    pub imp: String,
    /// The sum of their gas (`None` past 2^64 - 1).
    pub gas_used: Option<u64>,
    /// gasUsed and logsBloom agree with them.
    pub ok: bool,
}

/// Everything the pipeline found about one block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockReport {
    /// Position in the input (0-based).
    pub position: u64,
    /// The block's height in the chain: its parent's number + 1 when the parent is known (so a
    /// block that lies about its number, or does not decode, is still placed), else its number.
    pub block: Option<u64>,
    /// The number the header claims.
    pub number: Option<u64>,
    pub hash: Option<B256>,
    pub sig_hash: Option<B256>,
    pub round: Option<u8>,
    pub proposer: Option<Address>,
    pub committers: Vec<Address>,
    pub validators: Vec<Address>,
    pub quorum: Option<Quorum>,
    pub transactions: Vec<TxReport>,
    pub tx_root: Option<TxRootReport>,
    /// The receipts check, when a source gave receipts that match the header's root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipts: Option<ReceiptsReport>,
    pub verdict: Verdict,
    pub faults: Vec<Fault>,
    /// Why the node could not decide (with verdict `undecided`; also kept beside proven faults
    /// when a block is invalid but a part of it could not be checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undecided: Option<String>,
    /// The height of the nearest invalid block this one descends from: its own verdict is on its
    /// own merits, and this says its ancestry is not the council's honest chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descends_from_invalid: Option<u64>,
    /// What was not checked, or rests on a source's word (e.g. receipts a source did not give).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// For a block the replay found state faults in: the witness of every account it touches,
    /// proven against the state before it (`witness_root`, the parent's state root as replayed).
    /// With the header and the replayed transactions, a checker without the state replays the
    /// block (`state::witness::replay_stateless`). Evidence for a fault report, not JSON.
    #[serde(skip)]
    pub witness: Option<Arc<Witness>>,
    /// The state root `witness` proves against.
    #[serde(skip)]
    pub witness_root: Option<B256>,
}

impl BlockReport {
    /// An empty report of the block at `position`, placed at `block` when known.
    pub fn new(position: u64, block: Option<u64>) -> Self {
        Self {
            position,
            block,
            number: None,
            hash: None,
            sig_hash: None,
            round: None,
            proposer: None,
            committers: Vec::new(),
            validators: Vec::new(),
            quorum: None,
            transactions: Vec::new(),
            tx_root: None,
            receipts: None,
            verdict: Verdict::Valid,
            faults: Vec::new(),
            undecided: None,
            descends_from_invalid: None,
            notes: Vec::new(),
            witness: None,
            witness_root: None,
        }
    }

    /// Sets the verdict from what was found: any proven fault makes the block invalid; otherwise
    /// a part that could not be checked makes it undecided.
    pub fn settle(&mut self) {
        self.verdict = if !self.faults.is_empty() {
            Verdict::Invalid
        } else if self.undecided.is_some() {
            Verdict::Undecided
        } else {
            Verdict::Valid
        };
    }

    /// The first fault: the one a verdict names.
    pub fn first_fault(&self) -> Option<&Fault> {
        self.faults.first()
    }
}
