//! Transactions: each by the one transaction judge (`consensus::txjudge`), then the tx root by the
//! chain's DeriveSha impl (or any impl, on chains that change it by governance).

use crate::consensus::txjudge::{TxContext, TxSigners, judge_tx};
use crate::consensus::{Fault, FaultKind};
use crate::pipeline::PipelineConfig;
use crate::pipeline::report::{BlockReport, TxReport, TxRootReport};
use crate::pipeline::stages::{Recovered, TxRecovered};
use crate::primitives::Transaction;

/// The report of one transaction and its faults (placed at `index`).
pub fn tx_report(
    index: usize,
    tx: &Transaction,
    t: &TxRecovered,
    ctx: TxContext<'_>,
) -> (TxReport, Vec<Fault>) {
    let j = judge_tx(
        tx,
        TxSigners {
            senders: &t.senders,
            fee_payers: &t.fee_payers,
        },
        ctx,
    );
    let error = j
        .faults
        .first()
        .map(|f| format!("{}: {}", f.kind, f.detail));
    let report = TxReport {
        index,
        tx_type: tx.tx_type.to_string(),
        hash: t.hashes.tx_hash,
        sender_tx_hash: t.hashes.sender_tx_hash,
        sender: j.sender,
        signers: if j.signers.len() > 1 {
            j.signers
        } else {
            Vec::new()
        },
        fee_payer: tx.fee_payer,
        fee_payer_signer: j.fee_payer_signer,
        ok: j.faults.is_empty(),
        error,
        notes: j.notes,
    };
    (
        report,
        j.faults.into_iter().map(|f| f.at_tx(index)).collect(),
    )
}

pub(super) fn judge(r: &Recovered, cfg: &PipelineConfig, report: &mut BlockReport) {
    let Some(txs) = &r.txs else { return };
    let h = &r.block.header;
    let ctx = TxContext {
        number: h.number,
        forks: cfg.check_fork_fields.then_some(&cfg.forks),
        legacy_keys_only: cfg.legacy_keys_only,
    };
    for (i, (tx, t)) in r.block.transactions.iter().zip(txs).enumerate() {
        let (tr, faults) = tx_report(i, tx, t, ctx);
        report.transactions.push(tr);
        report.faults.extend(faults);
    }
    let Some(tr) = &r.tx_root else { return };
    let Some(&first) = tr.roots.first() else {
        return;
    };
    let matched = tr.roots.iter().find(|(_, root)| *root == h.tx_root);
    let (imp, computed) = matched.copied().unwrap_or(first);
    let ok = matched.is_some() && (cfg.try_every_derive_sha || imp == cfg.derive_sha);
    report.tx_root = Some(TxRootReport {
        header: h.tx_root,
        computed,
        imp: imp.as_str().to_string(),
        ok,
    });
    if !ok {
        report.faults.push(
            Fault::new(
                FaultKind::WrongTxRoot,
                format!(
                    "transactionsRoot does not match the transactions ({})",
                    cfg.derive_sha.as_str()
                ),
            )
            .expected_got(first.1, h.tx_root),
        );
    }
}
