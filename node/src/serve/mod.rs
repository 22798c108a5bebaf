//! The node's JSON-RPC server (jsonrpsee, HTTP and WebSocket on one port); `kaia` serves Kaia's
//! methods for any kept chain (the council's). This file: what the node has
//! verified, from its store. `ranger_status`, `ranger_getVerdict(number)`,
//! `ranger_getVerdicts(from, to)`, `kaia_blockNumber` (the verified head),
//! `kaia_getBlockByNumber(number, full)` (verified blocks in Kaia's JSON shape) and, over
//! WebSocket, `ranger_subscribeVerdicts` (one `ranger_verdict` notification per block), and
//! `ranger_getReports(from?, to?)` (the fault reports the node holds: `fault_id`, `block`, `kind`,
//! `reporter`, `origin`, `encoded`, the canonical signed bytes, and `witness`, the hash of a
//! detached witness) and `ranger_getWitness(hash)` (that witness).
//!
//! Limits (each answered with a JSON-RPC error): request bodies of at most `MAX_REQUEST_BYTES`,
//! batches of at most `MAX_BATCH`, verdict ranges of at most `MAX_VERDICTS`.

pub mod kaia;
pub mod metrics;
pub mod offload;

use crate::node::status::Status;
use crate::store::{Store, VerdictRecord};
use anyhow::{Context, Result};
use jsonrpsee::server::{BatchRequestConfig, RpcModule, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use ranger::codec::rpc::BlockId;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A request body larger than this is refused by a ranger: 16 MiB holds the largest offload call
/// (4,096 transactions, or one block of `offload::MAX_BLOCK_BYTES` as hex).
pub const MAX_REQUEST_BYTES: u32 = 16 << 20;
/// A council takes larger requests: the largest fault report (`ranger_submitReport`,
/// `MAX_REPORT_BYTES` as hex) and room for the call around it.
pub const MAX_COUNCIL_REQUEST_BYTES: u32 = 2 * ranger::report::MAX_REPORT_BYTES as u32 + (1 << 20);
/// A response larger than this is refused: 64 MiB holds the largest devnet block as JSON.
const MAX_RESPONSE_BYTES: u32 = 64 << 20;
/// Calls in one batch.
const MAX_BATCH: u32 = 64;
/// Verdicts in one `ranger_getVerdicts` answer.
pub const MAX_VERDICTS: u64 = 1024;
/// Open connections.
const MAX_CONNECTIONS: u32 = 256;

/// JSON-RPC error code for a valid request the server will not answer (too large, out of range).
pub(crate) const LIMIT_ERROR: i32 = -32005;
/// JSON-RPC error code for a failure of the node itself (its store).
pub(crate) const NODE_ERROR: i32 = -32000;

/// What the methods read.
#[derive(Debug, Clone)]
pub struct NodeView {
    pub spec: Arc<ranger::consensus::ChainSpec>,
    pub backend: Arc<dyn ranger::crypto::Backend>,
    pub store: Arc<Store>,
    pub status: Arc<Status>,
    pub verdicts: broadcast::Sender<VerdictRecord>,
}

fn node_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(NODE_ERROR, format!("node error: {e}"), None::<()>)
}

pub(crate) fn invalid_params(msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(
        jsonrpsee::types::error::INVALID_PARAMS_CODE,
        msg.into(),
        None::<()>,
    )
}

/// The block a Kaia block parameter names on a node whose verified head is `head` (nothing
/// before the first block is stored).
fn resolve(id: BlockId, head: Option<u64>) -> Option<u64> {
    head.map(|h| id.resolve(h))
}

/// The node's RPC methods.
pub fn ranger_module(ctx: NodeView) -> Result<RpcModule<NodeView>> {
    let mut m = RpcModule::new(ctx);
    m.register_method("ranger_status", |_, ctx, _| {
        serde_json::to_value(ctx.status.snapshot()).map_err(node_error)
    })?;
    m.register_method("ranger_getVerdict", |params, ctx, _| {
        let (n,): (BlockId,) = params.parse()?;
        match resolve(n, ctx.status.verified_height()) {
            Some(n) => ctx.store.verdict(n).map_err(node_error),
            None => Ok(None),
        }
    })?;
    m.register_method("ranger_getVerdicts", |params, ctx, _| {
        let (from, to): (BlockId, BlockId) = params.parse()?;
        let head = ctx.status.verified_height();
        let (Some(from), Some(to)) = (resolve(from, head), resolve(to, head)) else {
            return Ok(Vec::new());
        };
        if to < from {
            return Err(invalid_params(format!("range {from}..={to} is empty")));
        }
        if to - from >= MAX_VERDICTS {
            return Err(ErrorObject::owned(
                LIMIT_ERROR,
                format!(
                    "at most {MAX_VERDICTS} verdicts per call; ask for {from}..={} and go on",
                    from + MAX_VERDICTS - 1
                ),
                None::<()>,
            ));
        }
        ctx.store.verdicts(from, to).map_err(node_error)
    })?;
    // Kaia's names, and the same under `klay_` as Kaia's own nodes still answer them.
    for (block_number_method, get_block_method) in [
        ("kaia_blockNumber", "kaia_getBlockByNumber"),
        ("klay_blockNumber", "klay_getBlockByNumber"),
    ] {
        m.register_method(block_number_method, |_, ctx, _| {
            let head = ctx.status.verified_height();
            Ok::<_, ErrorObjectOwned>(format!("0x{:x}", head.unwrap_or(0)))
        })?;
        m.register_method(get_block_method, |params, ctx, _| {
            let mut seq = params.sequence();
            let n: BlockId = seq.next()?;
            let full: Option<bool> = seq.optional_next()?;
            let head = ctx.status.verified_height();
            let Some(n) = resolve(n, head) else {
                return Ok(Value::Null);
            };
            let Some(raw) = ctx.store.block(n).map_err(node_error)? else {
                return Ok(Value::Null);
            };
            let block = match ranger::codec::block::decode_block(&raw) {
                Ok(b) => b,
                // A block the node stored as the source gave it, but that does not decode
                // (its verdict says malformed): nothing to show in Kaia's shape.
                Err(e) => {
                    return Err(ErrorObject::owned(
                        NODE_ERROR,
                        format!("block {n} is stored but does not decode: {e}"),
                        None::<()>,
                    ));
                }
            };
            Ok(Value::Object(kaia::block_json(
                &block,
                full.unwrap_or(true),
            )))
        })?;
    }
    m.register_subscription(
        "ranger_subscribeVerdicts",
        "ranger_verdict",
        "ranger_unsubscribeVerdicts",
        |_, pending, ctx, _| async move {
            let mut rx = ctx.verdicts.subscribe();
            let sink = pending.accept().await?;
            loop {
                tokio::select! {
                    _ = sink.closed() => return Ok(()),
                    r = rx.recv() => match r {
                        Ok(v) => {
                            let msg = serde_json::value::to_raw_value(&v)?;
                            if sink.send(msg).await.is_err() {
                                return Ok(());
                            }
                        }
                        // A subscriber too slow for the chain misses verdicts; it can ask
                        // ranger_getVerdicts for them.
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return Ok(()),
                    }
                }
            }
        },
    )?;
    register_get_witness(&mut m, |c: &NodeView| &c.store)?;
    m.register_method("ranger_getReports", |params, ctx, _| {
        let mut seq = params.sequence();
        let from: Option<u64> = seq.optional_next()?;
        let to: Option<u64> = seq.optional_next()?;
        ctx.store
            .held_reports(from.unwrap_or(0), to.unwrap_or(u64::MAX))
            .map_err(node_error)
    })?;
    offload::register(&mut m)?;
    Ok(m)
}

/// `ranger_getWitness(hash)`: the detached state witness held under its keccak256, as hex, or
/// null when none is held (a held report with a `witness` names it).
pub fn register_get_witness<C: Send + Sync + 'static>(
    m: &mut RpcModule<C>,
    store: fn(&C) -> &Store,
) -> Result<()> {
    m.register_blocking_method("ranger_getWitness", move |params, ctx, _| {
        let (hash,): (String,) = params.parse()?;
        let hash: alloy_primitives::B256 = hash
            .parse()
            .map_err(|e| invalid_params(format!("the witness hash {hash:?}: {e}")))?;
        store(&ctx)
            .witness(&hash)
            .map(|w| w.map(|w| format!("0x{}", hex::encode(w))))
            .map_err(node_error)
    })?;
    Ok(())
}

/// Starts the server on `addr` (port 0 picks a free one) with `module`, refusing request bodies
/// over `max_request_bytes`.
pub async fn start<C: Send + Sync + 'static>(
    addr: SocketAddr,
    module: RpcModule<C>,
    max_request_bytes: u32,
) -> Result<(ServerHandle, SocketAddr)> {
    let config = ServerConfig::builder()
        .max_request_body_size(max_request_bytes)
        .max_response_body_size(MAX_RESPONSE_BYTES)
        .max_connections(MAX_CONNECTIONS)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH))
        .build();
    let server = Server::builder()
        .set_config(config)
        .build(addr)
        .await
        .with_context(|| format!("cannot listen for JSON-RPC on {addr}"))?;
    let local = server.local_addr()?;
    Ok((server.start(module), local))
}
