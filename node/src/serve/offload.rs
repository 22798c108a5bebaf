//! The offload API for consensus nodes: the node's backend and batches, on demand.
//! `ranger_recoverSenders([rawTx, …], chainId?)` gives per item its hash, sender, fee payer and
//! the rules it breaks, or a precise error for that item alone; `ranger_verifyBlock(rlpHex,
//! chain?)` gives the verdict of one block (judged on its own: its Extra's validators as the
//! council) with its faults. Both run on blocking threads, never on the RPC's own.
//!
//! Limits, each a JSON-RPC error: `MAX_TXS` per call, `MAX_TX_BYTES` per transaction,
//! `MAX_BLOCK_BYTES` per block (and the server's request-size bound above them).

use super::{LIMIT_ERROR, NODE_ERROR, NodeView, invalid_params};
use jsonrpsee::RpcModule;
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use ranger::codec::tx::decode_standalone_tx;
use ranger::consensus::ChainSpec;
use ranger::consensus::txjudge::TxContext;
use ranger::pipeline::judge::tx_report;
use ranger::pipeline::stages::recover_transactions;
use ranger::pipeline::{Input, Verifier};
use serde_json::{Value, json};
use std::borrow::Cow;

/// Transactions in one `ranger_recoverSenders` call: a window's worth (the pipeline batches
/// about 3,000 signatures per window).
pub const MAX_TXS: usize = 4096;
/// One raw transaction: 128 KiB, go-ethereum's transaction-pool bound (4 × its 32 KiB slot).
pub const MAX_TX_BYTES: usize = 128 * 1024;
/// One block: 8 MiB holds any block within Kaia's gas limit.
pub const MAX_BLOCK_BYTES: usize = 8 << 20;

fn limit(msg: String) -> ErrorObjectOwned {
    ErrorObject::owned(LIMIT_ERROR, msg, None::<()>)
}

fn hex_bytes(s: &str, what: &str, max: usize) -> Result<Vec<u8>, String> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    if h.len() / 2 > max {
        return Err(format!("{what} is over {max} bytes"));
    }
    hex::decode(h).map_err(|e| format!("{what} is not hex: {e}"))
}

/// Registers the offload methods on `m`.
pub fn register(m: &mut RpcModule<NodeView>) -> anyhow::Result<()> {
    m.register_blocking_method("ranger_recoverSenders", |params, ctx, _| {
        let mut seq = params.sequence();
        let raws: Vec<String> = seq.next()?;
        let chain_id: Option<u64> = seq.optional_next()?;
        if raws.len() > MAX_TXS {
            return Err(limit(format!(
                "{} transactions in one call; at most {MAX_TXS}",
                raws.len()
            )));
        }
        recover_senders(&raws, chain_id, &ctx)
    })?;
    m.register_blocking_method("ranger_verifyBlock", |params, ctx, _| {
        let mut seq = params.sequence();
        let rlp: String = seq.next()?;
        let chain: Option<Value> = seq.optional_next()?;
        let raw = hex_bytes(&rlp, "the block", MAX_BLOCK_BYTES).map_err(|m| {
            if m.contains("over") {
                limit(m)
            } else {
                invalid_params(m)
            }
        })?;
        let spec = chain_of(chain.as_ref(), &ctx)?;
        let mut verifier = Verifier::for_lone_block(Some(&*spec), true, ctx.backend.clone());
        let mut report = None;
        verifier
            .run(std::iter::once(Ok(Input::Rlp(raw))), |r| {
                report = Some(r);
                false
            })
            .map_err(|e| ErrorObject::owned(NODE_ERROR, e.to_string(), None::<()>))?;
        let report = report.ok_or_else(|| {
            ErrorObject::owned(NODE_ERROR, "the block got no verdict", None::<()>)
        })?;
        serde_json::to_value(&report)
            .map_err(|e| ErrorObject::owned(NODE_ERROR, e.to_string(), None::<()>))
    })?;
    Ok(())
}

/// The chain a `ranger_verifyBlock` call names: the node's own (default), `mainnet`, `kairos`,
/// or a genesis object. Never a path: a caller does not make the node read its files.
fn chain_of<'a>(
    chain: Option<&Value>,
    ctx: &'a NodeView,
) -> Result<Cow<'a, ChainSpec>, ErrorObjectOwned> {
    match chain {
        // The node's own spec is borrowed: a devnet's carries every genesis account.
        None | Some(Value::Null) => Ok(Cow::Borrowed(&*ctx.spec)),
        Some(Value::String(s)) if s == "mainnet" => Ok(Cow::Owned(ChainSpec::mainnet())),
        Some(Value::String(s)) if s == "kairos" => Ok(Cow::Owned(ChainSpec::kairos())),
        Some(Value::String(s)) => Err(invalid_params(format!(
            "unknown chain {s:?}: mainnet, kairos, or a genesis object"
        ))),
        Some(v @ Value::Object(_)) => {
            ranger::consensus::chain::LoadedSpec::from_json(v.to_string().as_bytes())
                .map(|l| Cow::Owned(l.spec))
                .map_err(|e| invalid_params(format!("the genesis object is not valid: {e}")))
        }
        Some(_) => Err(invalid_params(
            "chain must be mainnet, kairos or a genesis object",
        )),
    }
}

fn recover_senders(
    raws: &[String],
    chain_id: Option<u64>,
    ctx: &NodeView,
) -> Result<Vec<Value>, ErrorObjectOwned> {
    // Each item: the index of its transaction among those that decode, or why it does not.
    let mut txs = Vec::with_capacity(raws.len());
    let items: Vec<Result<usize, String>> = raws
        .iter()
        .map(|r| {
            let bytes = hex_bytes(r, "the transaction", MAX_TX_BYTES)?;
            let (tx, _) =
                decode_standalone_tx(&bytes).map_err(|e| format!("not a transaction: {e}"))?;
            txs.push(tx);
            Ok(txs.len() - 1)
        })
        .collect();
    // A backend that cannot answer is the node's failure, for the whole call.
    let recovered = recover_transactions(&txs, chain_id, &*ctx.backend)
        .map_err(|e| ErrorObject::owned(NODE_ERROR, format!("undecided: {e}"), None::<()>))?;
    let ctx = TxContext {
        number: 0,
        forks: None,
        legacy_keys_only: false,
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Err(e) => json!({"index": i, "error": e}),
            Ok(k) => {
                let (report, faults) = tx_report(i, &txs[*k], &recovered[*k], ctx);
                json!({"index": i, "hash": report.hash, "sender": report.sender,
                    "signers": report.signers, "fee_payer": report.fee_payer,
                    "fee_payer_signer": report.fee_payer_signer, "ok": faults.is_empty(),
                    "errors": faults.iter().map(|f| format!("{}: {}", f.kind, f.detail)).collect::<Vec<_>>()})
            }
        })
        .collect())
}
