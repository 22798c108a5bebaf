//! Checking a report without trusting its reporter: decode, signature, chain, then the evidence
//! re-verified by the same `Verifier` that judges blocks, from the evidence's parent header.
//!
//! A report holds the council to a header only when the council signed it: the header must carry
//! a quorum of committed seals of the council, or a valid proposer seal of a member (who then
//! answers for it alone); its parent must be the genesis or carry a quorum itself. A header nobody
//! in the council signed proves nothing about the council, whatever is wrong with it, so a report
//! on it is refused as unattributable. The council is the chain spec's (a devnet genesis names it),
//! which is the council at every height only on a chain whose governance cannot change it
//! (`ChainSpec::council_governance` false); elsewhere the checker cannot tell and says so (undecided).
//!
//! Outcomes: `Ok(Proven)` (the fault is real and the council's), a `ReportError` that says the
//! report is false, forged or malformed (gossip rejects it and penalises the sender), or one the
//! checker could not judge (`ReportError::is_ours`): `Undecided` when the checker itself failed
//! (a backend, a spec without a council or with governance), `WitnessDetached` when the report
//! names a witness nobody attached — never a claim about the report.

use super::{DecodeReportError, Evidence, EvidenceClass, FaultReport, Inclusion, WitnessPart};
use crate::codec::header::decode_header;
use crate::codec::tx::decode_tx;
use crate::consensus::chain::ChainSpec;
use crate::consensus::istanbul::block_hash;
use crate::consensus::{Fault, FaultKind};
use crate::crypto::Backend;
use crate::pipeline::{Anchor, BlockReport, Input, Mode, Verdict, Verifier};
use crate::primitives::{Block, Header};
use crate::trie::derive_sha::derive_sha;
use alloy_primitives::{Address, B256};
use std::sync::Arc;

/// What a checker holds: the chain's spec (its council, forks, DeriveSha) and a backend.
#[derive(Debug, Clone)]
pub struct CheckContext {
    spec: ChainSpec,
    backend: Arc<dyn Backend>,
    /// The genesis block's hash, for a parent at height 0.
    genesis: Option<B256>,
}

impl CheckContext {
    /// A checker of reports about `spec`'s chain.
    pub fn new(spec: ChainSpec, backend: Arc<dyn Backend>) -> Self {
        let genesis = crate::devnet::genesis_hash(&spec, &*backend).ok();
        Self {
            spec,
            backend,
            genesis,
        }
    }

    /// The chain id reports must name.
    pub fn chain_id(&self) -> u64 {
        self.spec.chain_id
    }

    /// The backend hashing and recovery run on.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// The spec checked against.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }
}

/// A report whose fault the checker saw for itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Proven {
    pub fault_id: B256,
    pub kind: FaultKind,
    pub block: u64,
    pub block_hash: B256,
    pub reporter: Address,
    /// What the checker's own verification said of the fault.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_index: Option<u64>,
    /// Who answers for the header: the committers of its quorum, or its proposer alone.
    pub signed_by: String,
    pub evidence_bytes: usize,
}

/// Why a report is refused (or, for `Undecided`, could not be checked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Decode(#[from] DecodeReportError),
    #[error("the report is for chain id {got}; this checker holds chain id {expected}")]
    WrongChain { expected: u64, got: u64 },
    #[error("the signature is not the reporter's ({reporter:#x}): {why}")]
    NotReporters { reporter: Address, why: String },
    #[error("the evidence does not match the report: {0}")]
    Mismatch(String),
    #[error("{kind} needs {needs} evidence, the report carries {carries}")]
    WrongEvidence {
        kind: FaultKind,
        needs: &'static str,
        carries: &'static str,
    },
    #[error("no council signature makes this header the council's: {0}")]
    Unattributable(String),
    #[error("the evidence does not prove {kind}: {why}")]
    NotProven { kind: FaultKind, why: String },
    #[error(
        "the report's witness ({len} bytes, keccak256 {hash}) is detached: fetch it from whoever holds the report and attach it"
    )]
    WitnessDetached { hash: B256, len: u64 },
    #[error("could not check the report (the checker's failure, not the report's): {0}")]
    Undecided(String),
}

impl ReportError {
    /// True when the checker, not the report, failed: such a report is neither accepted nor held
    /// against its sender.
    pub fn is_ours(&self) -> bool {
        matches!(
            self,
            ReportError::Undecided(_) | ReportError::WitnessDetached { .. }
        )
    }
}

fn class_name(c: EvidenceClass) -> &'static str {
    match c {
        EvidenceClass::Header => "header",
        EvidenceClass::Transaction => "transaction",
        EvidenceClass::Block => "block",
        EvidenceClass::Equivocation => "equivocation",
    }
}

/// Decodes and checks report bytes.
pub fn check(bytes: &[u8], ctx: &CheckContext) -> Result<(FaultReport, Proven), ReportError> {
    let report = FaultReport::decode(bytes)?;
    let proven = check_report(&report, ctx)?;
    Ok((report, proven))
}

/// Checks a decoded report.
pub fn check_report(r: &FaultReport, ctx: &CheckContext) -> Result<Proven, ReportError> {
    if r.chain_id != ctx.spec.chain_id {
        return Err(ReportError::WrongChain {
            expected: ctx.spec.chain_id,
            got: r.chain_id,
        });
    }
    match r.signer() {
        Ok(a) if a == r.reporter => {}
        Ok(a) => {
            return Err(ReportError::NotReporters {
                reporter: r.reporter,
                why: format!("it recovers to {a:#x}"),
            });
        }
        Err(e) => {
            return Err(ReportError::NotReporters {
                reporter: r.reporter,
                why: e.to_string(),
            });
        }
    }
    if ctx.spec.council.is_empty() {
        return Err(ReportError::Undecided(format!(
            "the chain spec {:?} names no council, so no header can be held to one",
            ctx.spec.name
        )));
    }
    // The checker holds the genesis council; where governance may have changed it before the
    // block, judging the block by it could call a valid block faulty.
    if ctx.spec.council_governance {
        return Err(ReportError::Undecided(format!(
            "on chain {:?} governance changes the council, and this checker knows only its genesis council, not the council at a later height",
            ctx.spec.name
        )));
    }
    let needs = EvidenceClass::of(r.kind).ok_or_else(|| ReportError::NotProven {
        kind: r.kind,
        why: "no self-contained evidence proves this kind".into(),
    })?;
    if needs != r.evidence.class() {
        return Err(ReportError::WrongEvidence {
            kind: r.kind,
            needs: class_name(needs),
            carries: class_name(r.evidence.class()),
        });
    }
    let parent = header_of(r.evidence.parent(), "parent header")?;
    let header = header_of(r.evidence.header(), "header")?;
    let height = parent
        .number
        .checked_add(1)
        .ok_or_else(|| ReportError::Mismatch("the parent's number has no successor".into()))?;
    if r.block_number != height {
        return Err(ReportError::Mismatch(format!(
            "the report names block {}, the evidence's parent makes it block {height}",
            r.block_number
        )));
    }
    let hash = block_hash(&header);
    if hash != r.block_hash {
        return Err(ReportError::Mismatch(format!(
            "the report names block hash {}, the evidence's header hashes to {hash}",
            r.block_hash
        )));
    }
    attribute_parent(&parent, ctx)?;
    let (fault, signed_by) = match &r.evidence {
        Evidence::Header { .. } => {
            let judged = judge(ctx, &parent, header, Vec::new(), Mode::Headers)?;
            let signed_by = attribute(&judged)?;
            (claimed(r.kind, &judged, None)?, signed_by)
        }
        Evidence::Transaction {
            index,
            tx,
            inclusion,
            ..
        } => prove_transaction(ctx, r.kind, &parent, header, *index, tx, inclusion)?,
        Evidence::Block {
            transactions,
            witness,
            ..
        } => match witness {
            WitnessPart::Carried(w) => prove_block(ctx, r.kind, &parent, header, transactions, w)?,
            WitnessPart::Detached { hash, len } => {
                return Err(ReportError::WitnessDetached {
                    hash: *hash,
                    len: *len,
                });
            }
        },
        Evidence::Equivocation { second, .. } => prove_equivocation(ctx, &parent, header, second)?,
    };
    Ok(Proven {
        fault_id: r.fault_id(),
        kind: r.kind,
        block: r.block_number,
        block_hash: r.block_hash,
        reporter: r.reporter,
        detail: fault.detail,
        tx_index: fault.tx_index.map(|i| i as u64),
        signed_by,
        evidence_bytes: r.evidence.encoded_len(),
    })
}

fn header_of(bytes: &[u8], what: &str) -> Result<Header, ReportError> {
    decode_header(bytes)
        .map_err(|e| ReportError::Mismatch(format!("the {what} does not decode: {e}")))
}

/// Judges `header` with `txs` as the block after `parent`, replay off.
fn judge(
    ctx: &CheckContext,
    parent: &Header,
    header: Header,
    transactions: Vec<crate::primitives::Transaction>,
    mode: Mode,
) -> Result<BlockReport, ReportError> {
    judge_after(ctx, Anchor::of(parent), header, transactions, mode)
}

fn judge_after(
    ctx: &CheckContext,
    anchor: Anchor,
    header: Header,
    transactions: Vec<crate::primitives::Transaction>,
    mode: Mode,
) -> Result<BlockReport, ReportError> {
    let mut v = Verifier::builder(&ctx.spec)
        .mode(mode)
        .replay(false)
        .anchor(anchor)
        .backend(ctx.backend.clone())
        .build()
        .map_err(|e| ReportError::Undecided(e.to_string()))?;
    let mut out = None;
    v.run(
        std::iter::once(Ok(Input::Block(Box::new(Block {
            header,
            transactions,
        })))),
        |r| {
            out = Some(r);
            true
        },
    )
    .map_err(|e| ReportError::Undecided(e.to_string()))?;
    let r = out.ok_or_else(|| ReportError::Undecided("the verifier gave no verdict".into()))?;
    if r.verdict == Verdict::Undecided {
        return Err(ReportError::Undecided(
            r.undecided.clone().unwrap_or_else(|| "undecided".into()),
        ));
    }
    Ok(r)
}

/// Seal faults: with any of them, the committed seals do not make a quorum the council owns.
fn is_seal_fault(k: FaultKind) -> bool {
    matches!(
        k,
        FaultKind::BadExtra
            | FaultKind::BadCommittedSeal
            | FaultKind::NonCouncilSeal
            | FaultKind::DuplicateSeal
            | FaultKind::TooManySeals
            | FaultKind::BelowQuorum
    )
}

fn has_quorum(r: &BlockReport) -> bool {
    r.quorum.is_some_and(|q| q.ok) && !r.faults.iter().any(|f| is_seal_fault(f.kind))
}

/// Who answers for a judged header: a quorum of the council, or its proposer.
fn attribute(r: &BlockReport) -> Result<String, ReportError> {
    if has_quorum(r) {
        return Ok(format!(
            "a quorum of the council ({} committers)",
            r.committers.len()
        ));
    }
    let proposer_bad = r.faults.iter().any(|f| {
        matches!(
            f.kind,
            FaultKind::BadExtra | FaultKind::BadProposerSeal | FaultKind::ProposerNotInCouncil
        )
    });
    match r.proposer {
        Some(p) if !proposer_bad => Ok(format!("its proposer {p:#x}, a council member")),
        _ => Err(ReportError::Unattributable(
            "the header has neither a quorum of committed seals nor a council member's proposer seal"
                .into(),
        )),
    }
}

/// The parent must be the genesis or carry a quorum of the council: a checker takes no parent on
/// the reporter's word, or any linkage fault could be made up.
fn attribute_parent(parent: &Header, ctx: &CheckContext) -> Result<(), ReportError> {
    if parent.number == 0 {
        let hash = block_hash(parent);
        return match ctx.genesis {
            Some(g) if g == hash => Ok(()),
            Some(g) => Err(ReportError::Unattributable(format!(
                "the parent claims height 0 with hash {hash}; this chain's genesis is {g}"
            ))),
            None => Err(ReportError::Undecided(
                "the chain spec gives no genesis block to compare the parent with".into(),
            )),
        };
    }
    // Judged alone: an anchor made of the parent's own claims, so that only its seals matter.
    let anchor = Anchor {
        number: parent.number - 1,
        hash: parent.parent_hash,
        time: parent.time.saturating_sub(ctx.spec.block_period),
        mix_hash: None,
    };
    let judged = judge_after(ctx, anchor, parent.clone(), Vec::new(), Mode::Headers)?;
    if has_quorum(&judged) {
        Ok(())
    } else {
        Err(ReportError::Unattributable(format!(
            "the parent header (block {}) carries no quorum of the council's committed seals",
            parent.number
        )))
    }
}

/// The fault of `kind` the checker's verdict names (at `tx` when given).
fn claimed(kind: FaultKind, r: &BlockReport, tx: Option<usize>) -> Result<Fault, ReportError> {
    r.faults
        .iter()
        .find(|f| f.kind == kind && (tx.is_none() || f.tx_index == tx))
        .cloned()
        .ok_or_else(|| ReportError::NotProven {
            kind,
            why: if r.faults.is_empty() {
                "the evidence verifies as valid".into()
            } else {
                format!(
                    "the checker finds {} instead",
                    r.faults
                        .iter()
                        .map(|f| f.kind.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        })
}

fn prove_transaction(
    ctx: &CheckContext,
    kind: FaultKind,
    parent: &Header,
    header: Header,
    index: u64,
    tx: &[u8],
    inclusion: &Inclusion,
) -> Result<(Fault, String), ReportError> {
    let i = usize::try_from(index)
        .map_err(|_| ReportError::Mismatch(format!("transaction index {index}")))?;
    match inclusion {
        Inclusion::List(all) => {
            if all.get(i).map(Vec::as_slice) != Some(tx) {
                return Err(ReportError::Mismatch(format!(
                    "the block's list has no such transaction at index {index}"
                )));
            }
            let items: Vec<&[u8]> = all.iter().map(Vec::as_slice).collect();
            let root = derive_sha(ctx.spec.derive_sha, &items, &*ctx.backend);
            if root != header.tx_root {
                return Err(ReportError::Mismatch(format!(
                    "the transactions hash to {root}, the header's transactionsRoot is {}",
                    header.tx_root
                )));
            }
        }
        Inclusion::Proof(nodes) => {
            crate::trie::derive_sha::check_item_proof(
                ctx.spec.derive_sha,
                header.tx_root,
                i,
                tx,
                nodes,
            )
            .map_err(|e| {
                ReportError::Mismatch(format!(
                    "transaction {index} is not proven under transactionsRoot {}: {e}",
                    header.tx_root
                ))
            })?;
        }
    }
    let decoded = match decode_tx(tx) {
        Ok(t) => t,
        Err(e) if kind == FaultKind::MalformedTx => {
            let signed_by = attribute(&judge(ctx, parent, header, Vec::new(), Mode::Headers)?)?;
            let fault =
                Fault::new(kind, format!("transaction {index} does not decode: {e}")).at_tx(i);
            return Ok((fault, signed_by));
        }
        Err(e) => {
            return Err(ReportError::NotProven {
                kind,
                why: format!("the transaction does not decode ({e}), a different fault"),
            });
        }
    };
    // The transaction is judged alone as the block's only one: its rules do not depend on the
    // others (the tx root, which does, was checked above).
    let judged = judge(ctx, parent, header, vec![decoded], Mode::Full)?;
    let signed_by = attribute(&judged)?;
    let fault = claimed(kind, &judged, Some(0))?;
    Ok((fault.at_tx(i), signed_by))
}

fn prove_block(
    ctx: &CheckContext,
    kind: FaultKind,
    parent: &Header,
    header: Header,
    transactions: &[Vec<u8>],
    witness: &[u8],
) -> Result<(Fault, String), ReportError> {
    let mut txs = Vec::with_capacity(transactions.len());
    for (i, t) in transactions.iter().enumerate() {
        txs.push(decode_tx(t).map_err(|e| {
            ReportError::Mismatch(format!(
                "transaction {i} of the evidence does not decode: {e}"
            ))
        })?);
    }
    let judged = judge(ctx, parent, header.clone(), txs.clone(), Mode::Full)?;
    let signed_by = attribute(&judged)?;
    if kind == FaultKind::WrongTxRoot {
        return Ok((claimed(kind, &judged, None)?, signed_by));
    }
    // Everything else is about the state: the transactions must be the block's.
    if let Some(f) = judged
        .faults
        .iter()
        .find(|f| f.kind == FaultKind::WrongTxRoot)
    {
        return Err(ReportError::Mismatch(format!(
            "the transactions are not the block's: {}",
            f.detail
        )));
    }
    let faults = super::build::replay_with_witness(ctx, parent, &header, &txs, &judged, witness)?;
    let fault =
        faults
            .into_iter()
            .find(|f| f.kind == kind)
            .ok_or_else(|| ReportError::NotProven {
                kind,
                why: "the stateless replay of the block from the witness finds no such fault"
                    .into(),
            })?;
    Ok((fault, signed_by))
}

fn prove_equivocation(
    ctx: &CheckContext,
    parent: &Header,
    first: Header,
    second: &[u8],
) -> Result<(Fault, String), ReportError> {
    let second = header_of(second, "second header")?;
    let (a, b) = (block_hash(&first), block_hash(&second));
    if a == b {
        return Err(ReportError::NotProven {
            kind: FaultKind::Equivocation,
            why: "the two headers are the same block".into(),
        });
    }
    let mut committers = Vec::new();
    for (which, h) in [("first", first), ("second", second)] {
        let judged = judge(ctx, parent, h, Vec::new(), Mode::Headers)?;
        if !has_quorum(&judged) {
            return Err(ReportError::NotProven {
                kind: FaultKind::Equivocation,
                why: format!(
                    "the {which} header has no quorum of the council's committed seals after the parent"
                ),
            });
        }
        committers.push(judged.committers);
    }
    let both: Vec<Address> = committers[0]
        .iter()
        .filter(|a| committers[1].contains(a))
        .copied()
        .collect();
    let fault = Fault::new(
        FaultKind::Equivocation,
        format!(
            "two blocks at height {}: {a} and {b}, each with a quorum; {} members sealed both",
            parent.number + 1,
            both.len()
        ),
    );
    Ok((fault, format!("{} members who sealed both", both.len())))
}
