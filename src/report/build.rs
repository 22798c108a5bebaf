//! Building reports: from a block the pipeline judged invalid, the evidence each proven fault
//! needs (see `Evidence`), signed with the ranger's key. A fault that no self-contained evidence
//! can prove (a block that does not decode, a bloom checked against a source's receipts) gives a
//! `BuildError`, never a report; and the reporter checks every report it builds before anyone
//! sees it, so it never publishes what a checker would refuse.

use super::check::{CheckContext, ReportError};
use super::{Evidence, EvidenceClass, FaultReport, Inclusion, WitnessPart};
use crate::codec::block::decode_block;
use crate::codec::header::encode_header;
use crate::consensus::istanbul::block_hash;
use crate::consensus::{Fault, FaultKind};
use crate::crypto::secp::SigningKey;
use crate::pipeline::{BlockReport, Verdict};
use crate::primitives::{Block, Header, Transaction};
use crate::state::TxParties;
use alloy_primitives::Address;

/// Reports made of one block at most: a block with thousands of bad signatures is proven
/// guilty by its first few, and each report costs the reporter a check and the network a
/// message.
pub const MAX_REPORTS_PER_BLOCK: usize = 8;

/// Why no report is made of a fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("{0} cannot be shown by self-contained evidence")]
    NotReportable(FaultKind),
    #[error("the block does not decode ({0}): there is no header to hold the council to")]
    Undecodable(String),
    #[error("the parent header does not decode: {0}")]
    Parent(String),
    #[error("{kind} names no transaction")]
    NoTransaction { kind: FaultKind },
    #[error("{kind} needs the witness of the parent state, which the pipeline did not capture")]
    NoWitness { kind: FaultKind },
    #[error("the report does not check: {0}")]
    DoesNotCheck(ReportError),
}

/// The evidence for `fault` of the decoded block `b` after `parent` (a header's RLP). `witness` is
/// the encoded witness of the parent state the pipeline captured for a state fault.
pub fn evidence_for(
    fault: &Fault,
    b: &Block,
    parent: &[u8],
    witness: Option<&[u8]>,
    derive_sha: crate::trie::DeriveShaImpl,
    backend: &dyn crate::crypto::Backend,
) -> Result<Evidence, BuildError> {
    let class = EvidenceClass::of(fault.kind).ok_or(BuildError::NotReportable(fault.kind))?;
    let parent = parent.to_vec();
    let header = encode_header(&b.header);
    Ok(match class {
        EvidenceClass::Header => Evidence::Header { parent, header },
        EvidenceClass::Transaction => {
            let index = fault
                .tx_index
                .ok_or(BuildError::NoTransaction { kind: fault.kind })?;
            let tx = b
                .transactions
                .get(index)
                .ok_or(BuildError::NoTransaction { kind: fault.kind })?
                .raw
                .to_vec();
            let items: Vec<&[u8]> = b.transactions.iter().map(|t| t.raw.as_ref()).collect();
            let inclusion =
                match crate::trie::derive_sha::item_proof(derive_sha, &items, index, backend) {
                    Some(p) => Inclusion::Proof(p),
                    None => Inclusion::List(items.iter().map(|t| t.to_vec()).collect()),
                };
            Evidence::Transaction {
                parent,
                header,
                index: index as u64,
                tx,
                inclusion,
            }
        }
        EvidenceClass::Block => {
            let witness = match (fault.kind, witness) {
                (FaultKind::WrongTxRoot, _) => WitnessPart::Carried(Vec::new()),
                (_, Some(w)) => WitnessPart::Carried(w.to_vec()),
                (kind, None) => return Err(BuildError::NoWitness { kind }),
            };
            Evidence::Block {
                parent,
                header,
                transactions: b.transactions.iter().map(|t| t.raw.to_vec()).collect(),
                witness,
            }
        }
        EvidenceClass::Equivocation => return Err(BuildError::NotReportable(fault.kind)),
    })
}

/// A ranger's reporting side: its key, and a checker of its own chain that every report passes
/// before it leaves.
#[derive(Debug)]
pub struct Reporter {
    key: SigningKey,
    check: CheckContext,
}

impl Reporter {
    /// A reporter signing with `key` about the chain `check` holds.
    pub fn new(key: SigningKey, check: CheckContext) -> Self {
        Self { key, check }
    }

    /// The reporter's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The checker reports are held to.
    pub fn checker(&self) -> &CheckContext {
        &self.check
    }

    /// One report per proven fault of an invalid block (`raw` its RLP, `parent` its parent
    /// block's RLP), each checked, for its first `MAX_REPORTS_PER_BLOCK` faults; what cannot be
    /// reported says why. An undecided or valid block gives nothing.
    pub fn reports(
        &self,
        report: &BlockReport,
        raw: &[u8],
        parent: &[u8],
        witness: Option<&[u8]>,
    ) -> Vec<Result<(FaultReport, super::Proven), BuildError>> {
        if report.verdict != Verdict::Invalid {
            return Vec::new();
        }
        let Some(height) = report.block else {
            return vec![Err(BuildError::Undecodable("no height".into()))];
        };
        let parent_header = match header_bytes(parent) {
            Ok(p) => p,
            Err(e) => return vec![Err(e)],
        };
        // Decoded and hashed once for all its faults.
        let block = match decode_block(raw) {
            Ok(b) => b,
            Err(e) => return vec![Err(BuildError::Undecodable(e.to_string()))],
        };
        let hash = block_hash(&block.header);
        let spec = self.check.spec();
        report
            .faults
            .iter()
            .take(MAX_REPORTS_PER_BLOCK)
            .map(|f| {
                let evidence = evidence_for(
                    f,
                    &block,
                    &parent_header,
                    witness,
                    spec.derive_sha,
                    self.check.backend(),
                )?;
                self.sign_checked(height, hash, f.kind, evidence)
            })
            .collect()
    }

    /// A report of two blocks at one height (RLP of each) after `parent` (a block's RLP).
    pub fn equivocation(
        &self,
        parent: &[u8],
        first: &[u8],
        second: &[u8],
    ) -> Result<(FaultReport, super::Proven), BuildError> {
        let p = decode_block(parent).map_err(|e| BuildError::Parent(e.to_string()))?;
        let a = decode_block(first).map_err(|e| BuildError::Undecodable(e.to_string()))?;
        let b = decode_block(second).map_err(|e| BuildError::Undecodable(e.to_string()))?;
        let height = p.header.number.saturating_add(1);
        let evidence = Evidence::Equivocation {
            parent: encode_header(&p.header),
            first: encode_header(&a.header),
            second: encode_header(&b.header),
        };
        self.sign_checked(
            height,
            block_hash(&a.header),
            FaultKind::Equivocation,
            evidence,
        )
    }

    fn sign_checked(
        &self,
        height: u64,
        hash: alloy_primitives::B256,
        kind: FaultKind,
        evidence: Evidence,
    ) -> Result<(FaultReport, super::Proven), BuildError> {
        let r = FaultReport::sign(
            self.check.chain_id(),
            height,
            hash,
            kind,
            evidence,
            &self.key,
        );
        let proven =
            super::check::check_report(&r, &self.check).map_err(BuildError::DoesNotCheck)?;
        Ok((r, proven))
    }
}

/// The state faults of a block, replayed statelessly from `witness` against the parent's state
/// root; the transactions replayed are those the judged block's signatures and rules let through,
/// as in the full replay.
pub(super) fn replay_with_witness(
    ctx: &CheckContext,
    parent: &Header,
    header: &Header,
    txs: &[Transaction],
    judged: &BlockReport,
    witness: &[u8],
) -> Result<Vec<Fault>, ReportError> {
    let witness = crate::state::witness::Witness::from_rlp(witness)
        .map_err(|e| ReportError::Mismatch(format!("the witness does not decode: {e}")))?;
    let mut kept = Vec::with_capacity(txs.len());
    let mut parties = Vec::with_capacity(txs.len());
    for (i, tx) in txs.iter().enumerate() {
        let Some(t) = judged.transactions.get(i) else {
            return Err(ReportError::Undecided(format!(
                "the verifier judged {} of {} transactions",
                judged.transactions.len(),
                txs.len()
            )));
        };
        let Some(sender) = t.sender.filter(|_| t.ok) else {
            continue;
        };
        kept.push(tx.clone());
        parties.push(TxParties {
            sender,
            fee_payer: t.fee_payer,
        });
    }
    crate::state::witness::replay_stateless(
        ctx.spec(),
        parent.state_root,
        header,
        &kept,
        &parties,
        &witness,
        ctx.backend(),
    )
    .map_err(|e| ReportError::Mismatch(format!("the witness does not prove the parent state: {e}")))
}

/// Parent header bytes from a block's (a store keeps blocks, reports carry headers).
pub fn header_bytes(block: &[u8]) -> Result<Vec<u8>, BuildError> {
    decode_block(block)
        .map(|b| encode_header(&b.header))
        .map_err(|e| BuildError::Parent(e.to_string()))
}
