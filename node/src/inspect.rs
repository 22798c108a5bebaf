//! `ranger inspect block|tx`: decode one block (RLP hex/binary, bare header, or Kaia JSON-RPC)
//! or one raw transaction, check everything that can be checked without chain state, and print
//! it as a table or as one JSON object.

use crate::input::{Sniffed, chain_spec, read_source, sniff, tx_bytes};
use crate::output;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use ranger::codec::DecodeError;
use ranger::codec::block::{BlockOrHeader, decode_block_or_header};
use ranger::codec::tx::decode_standalone_tx;
use ranger::consensus::txjudge::TxContext;
use ranger::crypto::CpuBackend;
use ranger::pipeline::judge::tx_report;
use ranger::pipeline::stages::recover_transaction;
use ranger::pipeline::{BlockReport, Input, Verdict, Verifier};
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
    let spec = a.chain.as_deref().map(chain_spec).transpose()?;
    // Why the transactions were not checked, when they were not.
    let mut unchecked = None;
    let (block, claims) = match sniff(read_source(&a.file)?)? {
        Sniffed::Json(text) => {
            let forks = spec.as_ref().map(|s| s.forks.clone()).unwrap_or_default();
            let jb = ranger::codec::json::parse_block_json(&text, &forks)?;
            if !jb.has_transactions {
                unchecked = Some("the JSON block lists transaction hashes only");
            }
            (jb.block, Some(jb.claims))
        }
        Sniffed::Binary(bytes) => match decode_block_or_header(&bytes) {
            Ok(BlockOrHeader::Block(b)) => (b, None),
            Ok(BlockOrHeader::Header(header)) => {
                unchecked = Some("the input is a bare header");
                (
                    Block {
                        header,
                        transactions: Vec::new(),
                    },
                    None,
                )
            }
            Err(e) => bail!("{}", not_a_block(&bytes, &e)),
        },
    };
    let mut verifier =
        Verifier::for_lone_block(spec.as_ref(), unchecked.is_none(), Arc::new(CpuBackend));
    let mut report = None;
    verifier.run(std::iter::once(Ok(Input::Block(Box::new(block)))), |r| {
        report = Some(r);
        false
    })?;
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
            o.insert("transactions_checked".into(), json!(unchecked.is_none()));
            if let Some(why) = unchecked {
                o.insert("transactions_unchecked_because".into(), json!(why));
            }
        }
        out!("{v}");
    } else {
        output::print_block(&report, &claim_mismatches, unchecked);
    }
    Ok(exit_code(&report, &claim_mismatches))
}

/// Why bytes that did not decode are not a block, in the words a user needs: random bytes (whose
/// first byte is not an RLP list) are "not a block", not "1023 trailing bytes".
fn not_a_block(bytes: &[u8], e: &DecodeError) -> String {
    match (bytes.first(), e) {
        (Some(&b), _) if b < 0xc0 => format!(
            "not a block: a Kaia block or header is one RLP list, and this input starts with \
             byte {b:#04x}, which is not a list"
        ),
        (_, DecodeError::TrailingBytes { count, .. }) => {
            format!("not a block: the input is one RLP list followed by {count} more byte(s)")
        }
        _ => format!("not a block: {e}"),
    }
}

fn exit_code(r: &BlockReport, claims: &[String]) -> u8 {
    match r.verdict {
        Verdict::Invalid => 1,
        _ if !claims.is_empty() => 1,
        Verdict::Undecided => 2,
        Verdict::Valid => 0,
    }
}

fn inspect_tx(a: TxArgs) -> Result<u8> {
    let raw = tx_bytes(&a.raw)?;
    let (tx, form) = decode_standalone_tx(&raw)?;
    // One transaction through the same hash, recover and judge code as a block's.
    let t = recover_transaction(&tx, a.chain_id, &CpuBackend)?;
    let ctx = TxContext {
        number: 0,
        forks: None,
        legacy_keys_only: false,
    };
    let (report, faults) = tx_report(0, &tx, &t, ctx);
    let failures: Vec<String> = faults
        .iter()
        .map(|f| format!("{}: {}", f.kind, f.detail))
        .collect();
    let senders: Vec<_> = t.senders.iter().flatten().collect();
    let notes = report.notes;
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
        "chain_id": t.hashes.chain_id,
        "fields": fields,
        "sig_hash": t.hashes.sig_hash,
        "fee_payer_sig_hash": t.hashes.fee_payer_sig_hash,
        "hash": t.hashes.tx_hash,
        "sender_tx_hash": t.hashes.sender_tx_hash,
        "senders": senders,
        "sender": report.sender,
        "fee_payer": tx.fee_payer,
        "fee_payer_signer": report.fee_payer_signer,
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
