//! The sequential stage: walks blocks in order and judges each against its parent and the council
//! in force, one concern per module — `linkage` (parent hash, number, time, fork fields), `seals`
//! (proposer, committed seals, quorum), `randao` (reveal, mix hash), `txs` (every transaction by
//! `consensus::txjudge`, and the tx root) — then lets the block change the council.
//!
//! Faults are collected in check order, so the first one is the one a verdict names. The judge's
//! state follows the chain as it is, not as it claims to be: a block's height is its parent's + 1
//! whatever number it claims, so one lie does not make the next block look wrong.

mod linkage;
mod randao;
mod seals;
mod txs;

pub use txs::tx_report;

use super::PipelineConfig;
use super::report::BlockReport;
use super::stages::{Item, Recovered};
use crate::codec::DecodeError;
use crate::consensus::council::Council;
use crate::consensus::{Fault, FaultKind};
use crate::primitives::Block;
use alloy_primitives::B256;

/// The council `members` under `cfg`: on a chain whose staking state ranger does not hold, the
/// members stand in for the qualified validators, so a quorum it cannot pin down is undecided.
fn new_council(members: Vec<alloy_primitives::Address>, cfg: &PipelineConfig) -> Council {
    let c = Council::new(members, cfg.committee_size.clone(), cfg.epoch)
        .governed(cfg.council_governance);
    if cfg.qualified_unknown {
        c.council_as_stand_in()
    } else {
        c
    }
}

/// What the judge remembers of the previous block.
#[derive(Debug, Clone)]
struct Parent {
    /// Its height in the chain (not the number it claims).
    height: u64,
    hash: B256,
    time: u64,
    mix_hash: Option<B256>,
}

/// The judge's state along the chain.
#[derive(Debug)]
pub struct Judge {
    council: Option<Council>,
    parent: Option<Parent>,
}

impl Judge {
    /// A judge whose council comes from `cfg` (or from the first block's Extra when `cfg` has none).
    pub fn new(cfg: &PipelineConfig) -> Self {
        let council = (!cfg.council.is_empty()).then(|| new_council(cfg.council.clone(), cfg));
        let parent = cfg.anchor.map(|a| Parent {
            height: a.number,
            hash: a.hash,
            time: a.time,
            mix_hash: a.mix_hash,
        });
        Self { council, parent }
    }

    /// A judge that goes on from a checkpoint: `tip` is the last block judged, `council` the
    /// council in force after it.
    pub fn resume(tip: Option<super::Anchor>, council: Option<Council>) -> Self {
        let parent = tip.map(|a| Parent {
            height: a.number,
            hash: a.hash,
            time: a.time,
            mix_hash: a.mix_hash,
        });
        Self { council, parent }
    }

    /// The last block judged (its height in the chain, hash, time and mix hash).
    pub fn tip(&self) -> Option<super::Anchor> {
        self.parent.as_ref().map(|p| super::Anchor {
            number: p.height,
            hash: p.hash,
            time: p.time,
            mix_hash: p.mix_hash,
        })
    }

    /// The council in force for the next block, once known.
    pub fn council(&self) -> Option<&Council> {
        self.council.as_ref()
    }

    /// Judges one block (the next in chain order). Returns the report and, when the block
    /// decoded, the block for the replay.
    pub fn judge(
        &mut self,
        item: Item<Recovered>,
        cfg: &PipelineConfig,
    ) -> (BlockReport, Option<Block>) {
        let height = self.parent.as_ref().map(|p| p.height.wrapping_add(1));
        let r = match item {
            Item::Ready(r) => r,
            Item::Malformed { position, error } => {
                let kind = match error {
                    DecodeError::Tx { .. } => FaultKind::MalformedTx,
                    _ => FaultKind::MalformedRlp,
                };
                let mut report = BlockReport::new(position, height);
                report.faults.push(Fault::new(kind, error.to_string()));
                report.settle();
                // The chain cannot be followed through an undecodable block: the next block's
                // linkage is judged against nothing rather than against a guess.
                self.parent = None;
                return (report, None);
            }
            Item::Undecided {
                position,
                block,
                reason,
            } => {
                let mut report = BlockReport::new(position, height);
                report.number = block.as_ref().map(|b| b.header.number);
                report.block = report.block.or(report.number);
                report.undecided = Some(reason.to_string());
                report.settle();
                // Its hash was not computed: the next block's linkage cannot be checked.
                self.parent = None;
                return (report, block.map(|b| *b));
            }
        };
        let h = &r.block.header;
        let mut report = BlockReport::new(r.position, height.or(Some(h.number)));
        report.number = Some(h.number);
        report.hash = Some(r.hash);
        report.sig_hash = r.sig_hash;
        let height = report.block.unwrap_or(h.number);

        linkage::judge(self.parent.as_ref(), h, height, cfg, &mut report.faults);
        let proposer = seals::judge(&mut self.council, &r, cfg, &mut report);
        let mix = randao::judge(self.parent.as_ref(), &r, proposer, cfg, &mut report);
        txs::judge(&r, cfg, &mut report);

        // The block changes the council for its successors only when its proposer is known.
        if let (Some(c), Some(p)) = (self.council.as_mut(), proposer) {
            c.apply_block(h.number, p, &h.vote, &h.governance);
        }
        self.parent = Some(Parent {
            height,
            hash: r.hash,
            time: h.time,
            mix_hash: mix,
        });
        report.settle();
        (report, Some(r.block))
    }
}
