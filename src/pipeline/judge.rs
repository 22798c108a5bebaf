//! The sequential stage: walks blocks in order and judges each against its parent and the
//! council in force — linkage, fork fields, proposer, committed seals and quorum, randao, every
//! transaction's signature rules, the tx root — then lets the block change the council.
//!
//! Faults are collected in check order, so the first one is the one a verdict names.

use super::PipelineConfig;
use super::report::{BlockReport, Quorum, TxReport, TxRootReport, Verdict};
use super::stages::Work;
use crate::codec::DecodeError;
use crate::consensus::council::Council;
use crate::consensus::randao::next_mix_hash;
use crate::consensus::{Fault, FaultKind};
use crate::primitives::Block;
use alloy_primitives::B256;

/// What the judge remembers of the previous block.
#[derive(Debug, Clone)]
struct Parent {
    number: u64,
    hash: Option<B256>,
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
        let council = (!cfg.council.is_empty())
            .then(|| Council::new(cfg.council.clone(), cfg.committee_size.clone(), cfg.epoch));
        let parent = cfg.anchor.map(|a| Parent {
            number: a.number,
            hash: Some(a.hash),
            time: a.time,
            mix_hash: a.mix_hash,
        });
        Self { council, parent }
    }

    /// Judges one block (the next in chain order).
    pub fn judge(&mut self, w: Work, cfg: &PipelineConfig) -> (BlockReport, Option<Block>) {
        let mut faults = Vec::new();
        let mut report = BlockReport {
            position: w.position,
            block: self.parent.as_ref().map(|p| p.number.wrapping_add(1)),
            number: None,
            hash: None,
            sig_hash: w.sig_hash,
            round: None,
            proposer: None,
            committers: Vec::new(),
            validators: Vec::new(),
            quorum: None,
            transactions: Vec::new(),
            tx_root: None,
            verdict: Verdict::Valid,
            faults: Vec::new(),
        };
        let block = match w.block {
            Ok(b) => b,
            Err(e) => {
                let kind = match e {
                    DecodeError::Tx { .. } => FaultKind::MalformedTx,
                    _ => FaultKind::MalformedRlp,
                };
                report.faults.push(Fault::new(kind, e.to_string()));
                report.verdict = Verdict::Invalid;
                // The chain cannot be followed through an undecodable block: the next block's
                // linkage is judged against nothing rather than against a guess.
                self.parent = None;
                return (report, None);
            }
        };
        let h = &block.header;
        report.number = Some(h.number);
        report.block = report.block.or(Some(h.number));
        report.hash = Some(w.hash);

        // 1. Linkage and header fields.
        if let Some(p) = &self.parent {
            if let Some(ph) = p.hash
                && h.parent_hash != ph
            {
                faults.push(
                    Fault::new(
                        FaultKind::BrokenParentHash,
                        "parentHash is not the previous block's hash",
                    )
                    .expected_got(ph, h.parent_hash),
                );
            }
            if h.number != p.number.wrapping_add(1) {
                faults.push(
                    Fault::new(
                        FaultKind::WrongNumber,
                        "number does not follow the previous block",
                    )
                    .expected_got(p.number.wrapping_add(1), h.number),
                );
            }
            let earliest = p.time.saturating_add(cfg.block_period);
            if h.time < earliest {
                faults.push(
                    Fault::new(
                        FaultKind::EarlyTimestamp,
                        format!("timestamp is before parent time + {}s", cfg.block_period),
                    )
                    .expected_got(format!(">= {earliest}"), h.time),
                );
            }
        }
        let want = cfg.forks.header_fields(h.number);
        let have = h.field_count();
        if !cfg.check_fork_fields {
            // No fork schedule given (inspect without --chain): any tail is taken as it is.
        } else if have > want {
            faults.push(
                Fault::new(
                    FaultKind::TailFieldBeforeFork,
                    format!(
                        "header has {have} fields; at block {} it must have {want}",
                        h.number
                    ),
                )
                .expected_got(want, have),
            );
        } else if have < want {
            faults.push(
                Fault::new(
                    FaultKind::MissingTailField,
                    format!(
                        "header has {have} fields; at block {} it must have {want}",
                        h.number
                    ),
                )
                .expected_got(want, have),
            );
        }

        // 2. Seals and quorum.
        let mut proposer = None;
        match &w.extra {
            Err(e) => faults.push(Fault::new(FaultKind::BadExtra, e.to_string())),
            Ok(extra) => {
                report.round = Some(extra.round());
                report.validators = extra.validators.clone();
                let council = self.council.get_or_insert_with(|| {
                    Council::new(
                        extra.validators.clone(),
                        cfg.committee_size.clone(),
                        cfg.epoch,
                    )
                });
                match &w.proposer {
                    Some(Ok(p)) => {
                        proposer = Some(*p);
                        report.proposer = Some(*p);
                        if !council.contains(p) {
                            faults.push(Fault::new(
                                FaultKind::ProposerNotInCouncil,
                                format!("proposer {p:#x} is not a council member"),
                            ));
                        }
                    }
                    Some(Err(e)) => faults.push(Fault::new(FaultKind::BadProposerSeal, e.clone())),
                    None => faults.push(Fault::new(FaultKind::BadProposerSeal, "no proposer seal")),
                }
                let required = council.seals_needed_at(h.number).fewest_possible();
                let n = extra.committed_seals.len();
                let mut valid = Vec::new();
                if n > council.members().len() || w.committers.is_none() {
                    faults.push(
                        Fault::new(
                            FaultKind::TooManySeals,
                            "more committed seals than council members",
                        )
                        .expected_got(format!("<= {}", council.members().len()), n),
                    );
                } else if let Some(cs) = &w.committers {
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
                                        format!(
                                            "committed seal {i} is by {a:#x}, not a council member"
                                        ),
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
                let ok = valid.len() >= required;
                if !ok {
                    faults.push(
                        Fault::new(
                            FaultKind::BelowQuorum,
                            "too few valid distinct committed seals",
                        )
                        .expected_got(format!(">= {required}"), valid.len()),
                    );
                }
                report.quorum = Some(Quorum {
                    council: council.members().len(),
                    required,
                    valid_distinct: valid.len(),
                    ok,
                });
            }
        }

        // 3. Randao.
        let mut mix = None;
        if cfg.forks.is_randao(h.number)
            && let Some(reveal) = &h.random_reveal
        {
            match &w.reveal {
                Some(Err(e)) => faults.push(Fault::new(
                    FaultKind::BadRandomReveal,
                    format!("randao reveal does not verify under the proposer's BLS key: {e}"),
                )),
                Some(Ok(())) => {}
                None if cfg.has_bls_keys => {
                    if let Some(p) = proposer {
                        faults.push(Fault::new(
                            FaultKind::UnknownProposerBlsKey,
                            format!("no registered BLS key for proposer {p:#x}"),
                        ));
                    }
                }
                None => {}
            }
            let parent_mix = if cfg.forks.is_randao_fork_block(h.number) {
                Some(B256::ZERO)
            } else {
                self.parent.as_ref().and_then(|p| p.mix_hash)
            };
            if let Some(pm) = parent_mix {
                let expected = next_mix_hash(&pm, reveal);
                let got: &[u8] = h.mix_hash.as_ref().map_or(&[][..], |b| &b[..]);
                if got != expected.as_slice() {
                    faults.push(
                        Fault::new(
                            FaultKind::WrongMixHash,
                            "mixHash is not parentMix XOR keccak(reveal)",
                        )
                        .expected_got(expected, alloy_primitives::hex::encode_prefixed(got)),
                    );
                }
            }
            mix = h
                .mix_hash
                .as_ref()
                .and_then(|m| B256::try_from(&m[..]).ok());
        }

        // 4. Transactions.
        if cfg.check_transactions {
            self.judge_transactions(&block, &w.txs, cfg, &mut report, &mut faults);
            if let Some(tr) = &w.tx_root {
                let matched = tr.roots.iter().find(|(_, r)| *r == h.tx_root);
                let (imp, computed) = matched.copied().unwrap_or(tr.roots[0]);
                let ok = matched.is_some() && (cfg.try_every_derive_sha || imp == cfg.derive_sha);
                report.tx_root = Some(TxRootReport {
                    header: h.tx_root,
                    computed,
                    imp: imp.as_str().to_string(),
                    ok,
                });
                if !ok {
                    faults.push(
                        Fault::new(
                            FaultKind::WrongTxRoot,
                            format!(
                                "transactionsRoot does not match the transactions ({})",
                                cfg.derive_sha.as_str()
                            ),
                        )
                        .expected_got(tr.roots[0].1, h.tx_root),
                    );
                }
            }
        }

        // The block changes the council for its successors only when its proposer is known.
        if let (Some(c), Some(p)) = (self.council.as_mut(), proposer) {
            c.apply_block(h.number, p, &h.vote, &h.governance);
        }
        self.parent = Some(Parent {
            number: h.number,
            hash: Some(w.hash),
            time: h.time,
            mix_hash: mix,
        });
        report.verdict = if faults.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        report.faults = faults;
        (report, Some(block))
    }

    fn judge_transactions(
        &self,
        block: &Block,
        works: &[super::stages::TxWork],
        cfg: &PipelineConfig,
        report: &mut BlockReport,
        faults: &mut Vec<Fault>,
    ) {
        let number = block.header.number;
        for (i, (tx, t)) in block.transactions.iter().zip(works).enumerate() {
            let mut tx_faults: Vec<Fault> = Vec::new();
            let mut notes = Vec::new();
            if cfg.check_fork_fields
                && tx.tx_type.is_eth()
                && !cfg.forks.eth_type_active(tx.tx_type.eth_byte(), number)
            {
                tx_faults.push(Fault::new(
                    FaultKind::TxTypeBeforeFork,
                    format!("type {} is not accepted at block {number}", tx.tx_type),
                ));
            }
            if let Some(reason) = crate::consensus::txrules::field_rule_violation(tx) {
                tx_faults.push(Fault::new(FaultKind::MalformedTx, reason));
            }
            notes.extend(crate::consensus::txrules::pool_rule_note(tx));
            if tx.signatures.is_empty() {
                tx_faults.push(Fault::new(FaultKind::BadTxSignature, "no sender signature"));
            }
            if cfg.legacy_keys_only && tx.signatures.len() > 1 {
                tx_faults.push(Fault::new(
                    FaultKind::BadTxSignature,
                    format!(
                        "{} sender signatures; a legacy account key takes exactly one",
                        tx.signatures.len()
                    ),
                ));
            }
            let mut signers = Vec::new();
            for s in &t.senders {
                match s {
                    Ok(a) => signers.push(*a),
                    Err(f) => tx_faults.push(f.clone()),
                }
            }
            let sender = signers.first().copied();
            if let (Some(from), Some(signer)) = (tx.from_field(), sender)
                && from != signer
            {
                if cfg.legacy_keys_only {
                    tx_faults.push(
                        Fault::new(
                            FaultKind::FromMismatch,
                            "from is not the address that signed",
                        )
                        .expected_got(format!("{from:#x}"), format!("{signer:#x}")),
                    );
                } else {
                    notes.push(format!(
                        "from {from:#x} differs from signer {signer:#x}: valid only if {from:#x} has a decoupled or multisig account key (needs chain state)"
                    ));
                }
            }
            let mut fee_payer_signer = None;
            if tx.tx_type.is_fee_delegated() {
                match &t.fee_payer_signer {
                    None => tx_faults.push(Fault::new(
                        FaultKind::BadFeePayerSignature,
                        "no fee-payer signature",
                    )),
                    Some(Err(f)) => tx_faults.push(f.clone()),
                    Some(Ok(a)) => {
                        fee_payer_signer = Some(*a);
                        if Some(*a) != tx.fee_payer {
                            if cfg.legacy_keys_only {
                                tx_faults.push(
                                    Fault::new(
                                        FaultKind::BadFeePayerSignature,
                                        "fee-payer signature is not the fee payer's",
                                    )
                                    .expected_got(
                                        format!("{:#x}", tx.fee_payer.unwrap_or_default()),
                                        format!("{a:#x}"),
                                    ),
                                );
                            } else {
                                notes.push(format!(
                                    "fee payer signed by {a:#x}, not {:#x}: valid only with a decoupled fee-payer key (needs chain state)",
                                    tx.fee_payer.unwrap_or_default()
                                ));
                            }
                        }
                    }
                }
            }
            let error = tx_faults
                .first()
                .map(|f| format!("{}: {}", f.kind, f.detail));
            report.transactions.push(TxReport {
                index: i,
                tx_type: tx.tx_type.to_string(),
                hash: t.tx_hash,
                sender_tx_hash: t.sender_tx_hash,
                sender,
                signers: if signers.len() > 1 {
                    signers
                } else {
                    Vec::new()
                },
                fee_payer: tx.fee_payer,
                fee_payer_signer,
                ok: tx_faults.is_empty(),
                error,
                notes,
            });
            faults.extend(tx_faults.into_iter().map(|f| f.at_tx(i)));
        }
    }
}
