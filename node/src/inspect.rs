//! `ranger inspect block|tx`: decode one block (RLP hex/binary, bare header, or Kaia JSON-RPC)
//! or one raw transaction, check everything that can be checked without chain state, and print
//! it as a table or as one JSON object.

use crate::input::{Sniffed, read_source, sniff, tx_bytes};
use crate::output;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use ranger::codec::block::{BlockOrHeader, decode_block_or_header};
use ranger::codec::tx::{
    decode_standalone_tx, fee_payer_sig_preimage, sender_tx_hash_preimage, sig_preimage,
    tx_hash_preimage,
};
use ranger::consensus::ChainSpec;
use ranger::consensus::txsig::{SigRole, check_tx_sig, claimed_chain_id};
use ranger::crypto::{CpuBackend, keccak256, secp::recover_address};
use ranger::pipeline::{BlockReport, Input, Pipeline, PipelineConfig, Verdict};
use ranger::primitives::{Block, TxBody};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// A block: RLP (hex or binary; whole block or bare header) or Kaia JSON-RPC; `-` for stdin.
    Block(BlockArgs),
    /// A raw transaction (hex on the command line, or a file / `-`).
    Tx(TxArgs),
}

#[derive(Debug, Args)]
pub struct BlockArgs {
    /// The block file, or `-` for stdin.
    file: String,
    /// Fork schedule and chain id: mainnet, kairos, or a genesis JSON file.
    #[arg(long)]
    chain: Option<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TxArgs {
    /// Raw transaction as hex, or a file holding it (hex or binary), or `-`.
    raw: String,
    /// The signer's chain id (default: the one the transaction claims).
    #[arg(long)]
    chain_id: Option<u64>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: InspectCommand) -> Result<u8> {
    match cmd {
        InspectCommand::Block(a) => inspect_block(a),
        InspectCommand::Tx(a) => inspect_tx(a),
    }
}

fn inspect_block(a: BlockArgs) -> Result<u8> {
    let spec = a.chain.as_deref().map(ChainSpec::load).transpose()?;
    let mut cfg = PipelineConfig::inspect(spec.as_ref());
    let (block, claims) = match sniff(read_source(&a.file)?)? {
        Sniffed::Json(text) => {
            let forks = spec.as_ref().map(|s| s.forks.clone()).unwrap_or_default();
            let jb = ranger::codec::json::parse_block_json(&text, &forks)?;
            if !jb.has_transactions {
                cfg.check_transactions = false;
            }
            (jb.block, Some(jb.claims))
        }
        Sniffed::Binary(bytes) => match decode_block_or_header(&bytes) {
            Ok(BlockOrHeader::Block(b)) => (b, None),
            Ok(BlockOrHeader::Header(header)) => {
                cfg.check_transactions = false;
                (
                    Block {
                        header,
                        transactions: Vec::new(),
                    },
                    None,
                )
            }
            Err(e) => bail!("not a Kaia block or header: {e}"),
        },
    };
    let mut pipeline = Pipeline::new(cfg, Default::default(), Arc::new(CpuBackend));
    let mut report = None;
    pipeline.run(
        std::iter::once(Ok(Input::Block(Box::new(block)))),
        None,
        |r| {
            report = Some(r);
            false
        },
    )?;
    let Some(report) = report else {
        bail!("the pipeline produced no report")
    };
    let claim_mismatches = claims
        .map(|c| output::claim_mismatches(&report, &c))
        .unwrap_or_default();
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("claims".into(), json!(claim_mismatches));
        }
        out!("{v}");
    } else {
        output::print_block(&report, &claim_mismatches);
    }
    Ok(exit_code(&report, &claim_mismatches))
}

fn exit_code(r: &BlockReport, claims: &[String]) -> u8 {
    if r.verdict == Verdict::Invalid || !claims.is_empty() {
        1
    } else {
        0
    }
}

fn inspect_tx(a: TxArgs) -> Result<u8> {
    let raw = tx_bytes(&a.raw)?;
    let (tx, form) = decode_standalone_tx(&raw)?;
    let chain_id = a.chain_id.or_else(|| claimed_chain_id(&tx));
    let c = chain_id.unwrap_or(0);
    let sig_hash = keccak256(&sig_preimage(&tx, c));
    let fp_hash = fee_payer_sig_preimage(&tx, c).map(|p| keccak256(&p));
    let tx_hash = keccak256(tx_hash_preimage(&tx));
    let sender_tx_hash = sender_tx_hash_preimage(&tx).map_or(tx_hash, |p| keccak256(&p));
    let mut failures = Vec::new();
    let mut senders = Vec::new();
    for (i, s) in tx.signatures.iter().enumerate() {
        match check_tx_sig(&tx, s, c, SigRole::Sender) {
            Ok(sig) => match recover_address(&sig_hash, &sig) {
                Ok(a) => senders.push(a),
                Err(e) => failures.push(format!("bad-tx-signature: sender signature {i}: {e}")),
            },
            Err(f) => failures.push(format!("{}: sender signature {i}: {}", f.kind, f.detail)),
        }
    }
    if tx.signatures.is_empty() {
        failures.push("bad-tx-signature: no sender signature".into());
    }
    let mut fee_payer_signers = Vec::new();
    if let Some(h) = fp_hash {
        if tx.fee_payer_signatures.is_empty() {
            failures.push("bad-fee-payer-signature: no fee-payer signature".into());
        }
        for (i, s) in tx.fee_payer_signatures.iter().enumerate() {
            match check_tx_sig(&tx, s, c, SigRole::FeePayer) {
                Ok(sig) => match recover_address(&h, &sig) {
                    Ok(a) => fee_payer_signers.push(a),
                    Err(e) => failures.push(format!("bad-fee-payer-signature: signature {i}: {e}")),
                },
                Err(f) => {
                    failures.push(format!("{}: fee-payer signature {i}: {}", f.kind, f.detail))
                }
            }
        }
    }
    if let Some(reason) = ranger::consensus::txrules::field_rule_violation(&tx) {
        failures.push(format!("malformed-tx: {reason}"));
    }
    let mut notes: Vec<String> = ranger::consensus::txrules::pool_rule_note(&tx)
        .into_iter()
        .collect();
    if let (Some(from), Some(s)) = (tx.from_field(), senders.first())
        && from != *s
    {
        notes.push(format!(
            "from {from:#x} is not the signer {s:#x}: valid only if {from:#x} has a decoupled or multisig key (needs chain state)"
        ));
    }
    if let (Some(fp), Some(s)) = (tx.fee_payer, fee_payer_signers.first())
        && fp != *s
    {
        notes.push(format!(
            "fee payer {fp:#x} is not the fee-payer signer {s:#x}: valid only with a decoupled key (needs chain state)"
        ));
    }
    let fields = match &tx.body {
        TxBody::Legacy(l) => {
            json!({"nonce": l.nonce, "gasPrice": l.gas_price.to_string(), "gas": l.gas,
            "to": l.to, "value": l.value.to_string(), "input": l.input})
        }
        TxBody::Kaia(k) => {
            json!({"nonce": k.nonce, "gasPrice": k.gas_price.to_string(), "gas": k.gas,
            "to": k.to, "value": k.value.to_string(), "from": k.from, "input": k.input,
            "feeRatio": tx.fee_ratio(), "key": k.key, "humanReadable": k.human_readable, "codeFormat": k.code_format})
        }
        TxBody::Eth(e) => json!({"chainId": e.chain_id.to_string(), "nonce": e.nonce,
            "gasTipCap": e.gas_tip_cap.to_string(), "gasFeeCap": e.gas_fee_cap.to_string(), "gas": e.gas,
            "to": e.to, "value": e.value.to_string(), "data": e.data, "accessList": e.access_list}),
    };
    let out = json!({
        "type": tx.tx_type.to_string(),
        "type_name": tx.tx_type.name(),
        "form": form.as_str(),
        "chain_id": chain_id,
        "fields": fields,
        "sig_hash": sig_hash,
        "fee_payer_sig_hash": fp_hash,
        "hash": tx_hash,
        "sender_tx_hash": sender_tx_hash,
        "senders": senders,
        "sender": senders.first(),
        "fee_payer": tx.fee_payer,
        "fee_payer_signer": fee_payer_signers.first(),
        "ok": failures.is_empty(),
        "errors": failures,
        "notes": notes,
    });
    if a.json {
        out!("{out}");
    } else {
        output::print_kv(&out);
    }
    Ok(if failures.is_empty() { 0 } else { 1 })
}
