//! The rules of one transaction, in one place: the pipeline's judge, `ranger inspect tx` and the
//! JSON input path all call `judge_tx` with what the hash and recover stages found, so they cannot
//! disagree about a transaction.
//!
//! What is judged here needs no chain state: the type against the fork schedule, Kaia's per-type
//! field rules, the signature rules (already applied by `check_tx_sig` before recovery; their
//! faults arrive as `Err`), every sender and every fee-payer signature, and `from` / `feePayer`
//! against the signers. Where only chain state could tell (a decoupled or multisig account key),
//! the judgement is a note, never a fault — unless the chain says every key is legacy.

use super::chain::ForkSchedule;
use super::fault::{Fault, FaultKind};
use super::txrules::{field_rule_violation, pool_rule_note};
use crate::primitives::Transaction;
use alloy_primitives::Address;

/// The context a transaction is judged in.
#[derive(Debug, Clone, Copy)]
pub struct TxContext<'a> {
    /// The block's number (the fork schedule is asked at this height).
    pub number: u64,
    /// The fork schedule; `None` when no chain was named (inspect without `--chain`): types and
    /// field rules that depend on forks are then taken as they are.
    pub forks: Option<&'a ForkSchedule>,
    /// Every account has a legacy key (a devnet): `from` and the fee payer must be the signers.
    pub legacy_keys_only: bool,
}

/// What the recover stage found for one transaction's signatures: one entry per sender signature
/// and one per fee-payer signature, each the signer or the fault that stopped it.
#[derive(Debug, Clone, Copy)]
pub struct TxSigners<'a> {
    pub senders: &'a [Result<Address, Fault>],
    pub fee_payers: &'a [Result<Address, Fault>],
}

/// The judgement of one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxJudgement {
    /// In check order; the first is the one a verdict names. Not yet placed at a tx index.
    pub faults: Vec<Fault>,
    /// Things that need chain state to decide.
    pub notes: Vec<String>,
    /// The first sender signature's signer.
    pub sender: Option<Address>,
    /// Every sender signature's signer (multisig has several).
    pub signers: Vec<Address>,
    /// The first fee-payer signature's signer.
    pub fee_payer_signer: Option<Address>,
}

impl TxJudgement {
    /// A signature by another key than the account it names: a fault where every key is legacy,
    /// else a note (a decoupled or multisig key, which only chain state can tell).
    fn not_the_named_signer(&mut self, ctx: TxContext<'_>, fault: Fault, note: String) {
        if ctx.legacy_keys_only {
            self.faults.push(fault);
        } else {
            self.notes.push(note);
        }
    }
}

/// Judges one transaction.
pub fn judge_tx(tx: &Transaction, sigs: TxSigners<'_>, ctx: TxContext<'_>) -> TxJudgement {
    let mut j = TxJudgement::default();
    if let Some(forks) = ctx.forks
        && tx.tx_type.is_eth()
        && !forks.eth_type_active(tx.tx_type.eth_byte(), ctx.number)
    {
        j.faults.push(Fault::new(
            FaultKind::TxTypeBeforeFork,
            format!(
                "type {} is not accepted at block {}",
                tx.tx_type, ctx.number
            ),
        ));
    }
    if let Some(reason) = field_rule_violation(tx) {
        j.faults.push(Fault::new(FaultKind::MalformedTx, reason));
    }
    j.notes.extend(pool_rule_note(tx));
    if tx.signatures.is_empty() {
        j.faults
            .push(Fault::new(FaultKind::BadTxSignature, "no sender signature"));
    }
    if ctx.legacy_keys_only && tx.signatures.len() > 1 {
        j.faults.push(Fault::new(
            FaultKind::BadTxSignature,
            format!(
                "{} sender signatures; a legacy account key takes exactly one",
                tx.signatures.len()
            ),
        ));
    }
    for s in sigs.senders {
        match s {
            Ok(a) => j.signers.push(*a),
            Err(f) => j.faults.push(f.clone()),
        }
    }
    j.sender = j.signers.first().copied();
    if let (Some(from), Some(signer)) = (tx.from_field(), j.sender)
        && from != signer
    {
        j.not_the_named_signer(
            ctx,
            Fault::new(
                FaultKind::FromMismatch,
                "from is not the address that signed",
            )
            .expected_got(format!("{from:#x}"), format!("{signer:#x}")),
            format!(
                "from {from:#x} differs from signer {signer:#x}: valid only if {from:#x} has a decoupled or multisig account key (needs chain state)"
            ),
        );
    }
    if tx.tx_type.is_fee_delegated() {
        if sigs.fee_payers.is_empty() {
            j.faults.push(Fault::new(
                FaultKind::BadFeePayerSignature,
                "no fee-payer signature",
            ));
        }
        if ctx.legacy_keys_only && sigs.fee_payers.len() > 1 {
            j.faults.push(Fault::new(
                FaultKind::BadFeePayerSignature,
                format!(
                    "{} fee-payer signatures; a legacy account key takes exactly one",
                    sigs.fee_payers.len()
                ),
            ));
        }
        let payer = tx.fee_payer.unwrap_or_default();
        for s in sigs.fee_payers {
            match s {
                Err(f) => j.faults.push(f.clone()),
                Ok(a) => {
                    j.fee_payer_signer.get_or_insert(*a);
                    if *a == payer {
                        continue;
                    }
                    j.not_the_named_signer(
                        ctx,
                        Fault::new(
                            FaultKind::BadFeePayerSignature,
                            "fee-payer signature is not the fee payer's",
                        )
                        .expected_got(format!("{payer:#x}"), format!("{a:#x}")),
                        format!(
                            "fee payer signed by {a:#x}, not {payer:#x}: valid only with a decoupled or multisig fee-payer key (needs chain state)"
                        ),
                    );
                }
            }
        }
    }
    j
}
