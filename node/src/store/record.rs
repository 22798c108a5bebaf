//! The verdict of one block as the node keeps and serves it: `{"block", "hash", "verdict",
//! "kind"?, "detail"?, "reason"?, …}` — the first fault's kind and detail for an invalid block,
//! the reason for an undecided one, and every fault with its evidence.

use alloy_primitives::B256;
use ranger::pipeline::BlockReport;
use serde::{Deserialize, Serialize};

/// One block's verdict, as stored and as `ranger_getVerdict` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub block: u64,
    pub hash: Option<B256>,
    /// `valid`, `invalid` or `undecided`.
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descends_from_invalid: Option<u64>,
    pub transactions: usize,
    /// Every fault, with its evidence (`kind`, `detail`, `tx_index`, `expected`, `got`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<serde_json::Value>,
    /// What the verdict did not check, or rests on (e.g. "receipts not checked: …").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl VerdictRecord {
    /// The record of `report`, for the block the source delivered as `number`.
    pub fn of(number: u64, report: &BlockReport) -> Self {
        let first = report.first_fault();
        Self {
            block: number,
            hash: report.hash,
            verdict: report.verdict.as_str().to_owned(),
            kind: first.map(|f| f.kind.as_str().to_owned()),
            detail: first.map(|f| f.detail.clone()),
            reason: report.undecided.clone(),
            descends_from_invalid: report.descends_from_invalid,
            transactions: report.transactions.len(),
            faults: report
                .faults
                .iter()
                .filter_map(|f| serde_json::to_value(f).ok())
                .collect(),
            notes: report.notes.clone(),
        }
    }
}
