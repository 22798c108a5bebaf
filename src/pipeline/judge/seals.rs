//! Seals and quorum: the Istanbul extra, the proposer seal against the council, the committed
//! seals (bound, signers in the council, distinct) and the quorum the council requires. Where the
//! committee size is unknown, the block stays undecided; a size a source hinted (`council_hints`)
//! is named in the reason (what the seals would meet under it), and decides nothing: a source
//! can claim any size, down to one that makes a single seal enough.

use crate::consensus::chain::ParamAt;
use crate::consensus::council::{Council, QuorumCheck, SealsNeeded};
use crate::consensus::{Fault, FaultKind};
use crate::pipeline::PipelineConfig;
use crate::pipeline::report::{BlockReport, Quorum};
use crate::pipeline::stages::{Recovered, Seals};
use alloy_primitives::Address;

/// What a source's committee size hint says of an undecided quorum, where the built-in history
/// does not know the size at this block and the hint is at most an epoch old: the words added to
/// the undecided reason. Only words: the hint is the source's claim, not the chain's.
fn hinted_quorum(
    council: &Council,
    r: &Recovered,
    valid: usize,
    cfg: &PipelineConfig,
) -> Option<String> {
    let (hint, source) = cfg.committee_size_hint.as_ref()?;
    let number = r.block.header.number;
    let fresh = number > hint.at && number - hint.at <= cfg.epoch.max(1);
    if !fresh || !matches!(council.committee_size_at(number), ParamAt::Unknown { .. }) {
        return None;
    }
    let enough =
        crate::consensus::istanbul::required_seals(council.members().len(), Some(hint.size));
    let meets = if valid >= enough {
        "would meet"
    } else {
        "would not meet"
    };
    Some(format!(
        "; under committee size {} that {source} gave for block {} (kaia_getParams, a hint, not trusted) they {meets} 2F+1 = {enough}",
        hint.size, hint.at
    ))
}

/// Judges the seals of `r`; returns the proposer when its seal recovered.
pub(super) fn judge(
    council: &mut Option<Council>,
    r: &Recovered,
    cfg: &PipelineConfig,
    report: &mut BlockReport,
) -> Option<Address> {
    let faults = &mut report.faults;
    let seals = match &r.seals {
        Err(e) => {
            faults.push(Fault::new(FaultKind::BadExtra, e.to_string()));
            return None;
        }
        Ok(s) => s,
    };
    let Seals {
        extra,
        proposer,
        committers,
    } = seals;
    report.round = Some(extra.round());
    report.validators = extra.validators.clone();
    let council = council.get_or_insert_with(|| super::new_council(extra.validators.clone(), cfg));
    let proposer = match proposer {
        Ok(p) => {
            report.proposer = Some(*p);
            if !council.contains(p) {
                faults.push(Fault::new(
                    FaultKind::ProposerNotInCouncil,
                    format!("proposer {p:#x} is not a council member"),
                ));
            }
            Some(*p)
        }
        Err(e) => {
            faults.push(Fault::new(FaultKind::BadProposerSeal, e.clone()));
            None
        }
    };
    let needed = council.seals_needed_at(r.block.header.number);
    let n = extra.committed_seals.len();
    let mut valid = Vec::new();
    match committers {
        Some(cs) if n <= council.members().len() => {
            for (i, c) in cs.iter().enumerate() {
                match c {
                    Err(e) => faults.push(Fault::new(
                        FaultKind::BadCommittedSeal,
                        format!("committed seal {i}: {e}"),
                    )),
                    Ok(a) => {
                        report.committers.push(*a);
                        if !council.contains(a) {
                            faults.push(Fault::new(
                                FaultKind::NonCouncilSeal,
                                format!("committed seal {i} is by {a:#x}, not a council member"),
                            ));
                        } else if valid.contains(a) {
                            faults.push(Fault::new(
                                FaultKind::DuplicateSeal,
                                format!("committed seal {i} repeats signer {a:#x}"),
                            ));
                        } else {
                            valid.push(*a);
                        }
                    }
                }
            }
        }
        _ => faults.push(
            Fault::new(
                FaultKind::TooManySeals,
                "more committed seals than council members",
            )
            .expected_got(format!("<= {}", council.members().len()), n),
        ),
    }
    let (required, ok) = match needed.check(valid.len()) {
        QuorumCheck::Met => (needed.fewest_possible(), true),
        QuorumCheck::Below { required } => {
            faults.push(
                Fault::new(
                    FaultKind::BelowQuorum,
                    "too few valid distinct committed seals",
                )
                .expected_got(format!(">= {required}"), valid.len()),
            );
            (required, false)
        }
        // A rule that depends on what ranger does not know is the node's to withhold, never
        // the council's fault.
        QuorumCheck::Undecided { reason } => {
            let hinted = hinted_quorum(council, r, valid.len(), cfg).unwrap_or_default();
            report.undecided.get_or_insert(format!(
                "quorum: {} valid distinct seals, and {reason}{hinted}",
                valid.len()
            ));
            (needed.fewest_possible(), false)
        }
    };
    let required = match &needed {
        SealsNeeded::Exactly(n) => *n,
        SealsNeeded::Between { enough, .. } => *enough,
    }
    .max(required);
    report.quorum = Some(Quorum {
        council: council.members().len(),
        required,
        valid_distinct: valid.len(),
        ok,
    });
    proposer
}
