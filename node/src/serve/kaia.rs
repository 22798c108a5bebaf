//! Kaia's JSON-RPC for a kept chain: the methods a Kaia endpoint answers that a follower needs
//! (`kaia_chainID`, `kaia_blockNumber`, `kaia_getBlockByNumber`, the consensus-info methods and
//! their range form, receipts, council, committee, params, BLS infos), the same under `klay_`,
//! `kaia_subscribe("newHeads")` over WebSocket, and `ranger_getRawBlocks` for fast catch-up.
//!
//! The chain comes from a [`ChainView`]: the council's produced chain or a ranger's store. Every
//! method is computed from the kept RLP: a block's hash, sigHash, proposer and committers are
//! recomputed here, never stored claims. Shapes and errors follow kaiachain/kaia v2.2.1
//! (`api/api_kaia_blockchain.go`), including the range method's limits and its `null` for a
//! block that cannot be built. `module` returns an `RpcModule` that a bigger server can merge;
//! `start` serves one with the limits below on one port, HTTP and WebSocket.

use alloy_primitives::{Address, U64};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use ranger::codec::block::decode_block;
use ranger::codec::json::{block_to_json, tx_to_json};
use ranger::codec::rpc::{
    BlockId, BlsInfo, BlsInfos, ConsensusInfo, Params as KaiaParams, RANGE_MAX_BLOCKS, RawBlock,
    Receipt, range_key,
};
use ranger::consensus::ChainSpec;
use ranger::consensus::istanbul::block_hash;
use ranger::primitives::{Block, Header};
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Blocks `ranger_getRawBlocks` returns at most per call.
pub const MAX_RAW_BLOCKS: u64 = 512;
/// RLP bytes `ranger_getRawBlocks` returns at most per call (the first block always goes, so a
/// follower can make progress past any single block): 16 MiB is 32 MiB of hex.
pub const MAX_RAW_BYTES: usize = 16 * 1024 * 1024;

/// JSON-RPC error code Kaia (go-ethereum) uses for a failed call.
const CALL_FAILED: i32 = -32000;
/// Invalid params.
const INVALID_PARAMS: i32 = -32602;

/// Why the view could not answer (a disk or a lock, never the chain's fault).
#[derive(Debug, thiserror::Error)]
#[error("the chain is not readable: {0}")]
pub struct ViewError(pub String);

/// A kept chain, as the server reads it. Blocks are RLP as the council published them; block 0
/// is the genesis, given by `genesis`.
pub trait ChainView: Send + Sync + 'static {
    /// The chain's context: chain id, council, committee size, forks.
    fn spec(&self) -> &ChainSpec;
    /// The genesis header (block 0).
    fn genesis(&self) -> &Header;
    /// The highest kept block; `None` while only the genesis exists.
    fn head(&self) -> Result<Option<u64>, ViewError>;
    /// The RLP of block `n` (n >= 1), `None` when it is not kept.
    fn block(&self, n: u64) -> Result<Option<Vec<u8>>, ViewError>;
    /// Block `n` for a request that asks for it alone (one block of a range, or by number). An
    /// honest chain gives `block(n)`; an equivocating devnet council gives its second block of
    /// that height to such late requests (see `council`).
    fn block_alone(&self, n: u64) -> Result<Option<Vec<u8>>, ViewError> {
        self.block(n)
    }
    /// Block numbers as they are kept, for `newHeads`.
    fn subscribe_heads(&self) -> broadcast::Receiver<u64>;
    /// The status and gas used of each transaction of block `n`, when the view knows them.
    fn receipts(&self, n: u64, block: &Block) -> Result<Option<Vec<(u64, u64)>>, ViewError>;
    /// The council in force at block `n`. The default is the genesis council, which is the
    /// council of a chain without votes (a devnet council's).
    fn council(&self, _n: u64) -> Result<Vec<Address>, ViewError> {
        Ok(self.spec().council.iter().map(|m| m.address).collect())
    }
}

type Shared = Arc<dyn ChainView>;

fn call_failed(msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(CALL_FAILED, msg.into(), None::<()>)
}

fn invalid_params(msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(INVALID_PARAMS, msg.into(), None::<()>)
}

fn view_err(e: ViewError) -> ErrorObjectOwned {
    call_failed(e.to_string())
}

fn head_of(v: &dyn ChainView) -> Result<u64, ErrorObjectOwned> {
    Ok(v.head().map_err(view_err)?.unwrap_or(0))
}

/// The header or block at `n`; `Err` for a block not kept or bytes that are not a block.
fn block_at(v: &dyn ChainView, n: u64) -> Result<Block, ErrorObjectOwned> {
    if n == 0 {
        return Ok(Block {
            header: v.genesis().clone(),
            transactions: Vec::new(),
        });
    }
    let raw = v
        .block(n)
        .map_err(view_err)?
        .ok_or_else(|| call_failed(format!("the block does not exist (block number: {n})")))?;
    decode_block(&raw).map_err(|e| call_failed(format!("block {n} does not decode: {e}")))
}

/// Kaia's block object; with `full == false` the transactions are their hashes.
pub(crate) fn block_json(block: &Block, full: bool) -> Map<String, Value> {
    let Value::Object(mut m) = block_to_json(block) else {
        return Map::new();
    };
    if !full && let Some(Value::Array(txs)) = m.get_mut("transactions") {
        for t in txs.iter_mut() {
            let hash = t.get("hash").cloned().unwrap_or(Value::Null);
            *t = hash;
        }
    }
    m
}

/// The committee of block `n` when it can be computed: the whole council when the committee
/// size does not bound it. A smaller committee depends on the proposer policy's draw, which this
/// server does not reproduce, so it answers `None` (Kaia's `null`).
fn committee(v: &dyn ChainView, n: u64) -> Result<Option<Vec<Address>>, ViewError> {
    let council = v.council(n)?;
    Ok(match v.spec().committee_size {
        Some(size) if size < council.len() as u64 => None,
        _ => Some(council),
    })
}

fn with_consensus(v: &dyn ChainView, block: &Block) -> Result<Value, ErrorObjectOwned> {
    let n = block.header.number;
    let mut m = block_json(block, true);
    let committee = committee(v, n).map_err(view_err)?;
    let info = ConsensusInfo::from_header(&block.header, committee, None)
        .map_err(|e| call_failed(format!("block {n}: consensus info: {e}")))?;
    // Kaia's originProposer is the round-0 proposer; for a round-0 block that is the proposer.
    let info = ConsensusInfo {
        origin_proposer: info.proposer.filter(|_| info.round == Some(0)),
        ..info
    };
    info.merge_into(&mut m);
    Ok(Value::Object(m))
}

fn one<T: serde::de::DeserializeOwned>(p: Params<'_>) -> Result<T, ErrorObjectOwned> {
    let mut seq = p.sequence();
    seq.next::<T>()
}

fn block_id_or_latest(p: Params<'_>) -> Result<BlockId, ErrorObjectOwned> {
    let mut seq = p.sequence();
    Ok(seq.optional_next::<BlockId>()?.unwrap_or(BlockId::Latest))
}

fn get_block(v: &dyn ChainView, p: Params<'_>) -> Result<Value, ErrorObjectOwned> {
    let mut seq = p.sequence();
    let id: BlockId = seq.next()?;
    let full: bool = seq.optional_next()?.unwrap_or(false);
    let n = id.resolve(head_of(v)?);
    let block = match v.block_alone(n).map_err(view_err)? {
        Some(raw) if n > 0 => decode_block(&raw)
            .map_err(|e| call_failed(format!("block {n} does not decode: {e}")))?,
        _ => block_at(v, n)?,
    };
    Ok(Value::Object(block_json(&block, full)))
}

fn get_consensus(v: &dyn ChainView, p: Params<'_>) -> Result<Value, ErrorObjectOwned> {
    let n = one::<BlockId>(p)?.resolve(head_of(v)?);
    with_consensus(v, &block_at(v, n)?)
}

fn get_range(v: &dyn ChainView, p: Params<'_>) -> Result<Value, ErrorObjectOwned> {
    let mut seq = p.sequence();
    let head = head_of(v)?;
    let start = seq.next::<BlockId>()?.resolve(head);
    let end = seq.next::<BlockId>()?.resolve(head);
    if start > end {
        return Err(invalid_params(format!(
            "start block number {start} is greater than end block number {end}"
        )));
    }
    if end > head {
        return Err(invalid_params(format!(
            "end block number {end} is greater than the latest block number {head}"
        )));
    }
    if end - start >= RANGE_MAX_BLOCKS {
        return Err(invalid_params(format!(
            "the range {start}..={end} has more than {RANGE_MAX_BLOCKS} blocks"
        )));
    }
    let mut out = Map::new();
    for n in start..=end {
        // A block that cannot be built is `null`, as Kaia answers; a view that fails is an error.
        let block = if n == 0 {
            Some(block_at(v, 0)?)
        } else if start == end {
            v.block_alone(n)
                .map_err(view_err)?
                .and_then(|raw| decode_block(&raw).ok())
        } else {
            v.block(n)
                .map_err(view_err)?
                .and_then(|raw| decode_block(&raw).ok())
        };
        let entry = block
            .and_then(|b| with_consensus(v, &b).ok())
            .unwrap_or(Value::Null);
        out.insert(range_key(n), entry);
    }
    Ok(Value::Object(out))
}

fn get_receipts(v: &dyn ChainView, p: Params<'_>) -> Result<Vec<Receipt>, ErrorObjectOwned> {
    let n = one::<BlockId>(p)?.resolve(head_of(v)?);
    let block = block_at(v, n)?;
    let fields = v
        .receipts(n, &block)
        .map_err(view_err)?
        .ok_or_else(|| call_failed(format!("the receipts of block {n} are not kept")))?;
    if fields.len() != block.transactions.len() {
        return Err(call_failed(format!(
            "block {n} has {} transactions but {} receipts",
            block.transactions.len(),
            fields.len()
        )));
    }
    let bh = block_hash(&block.header);
    block
        .transactions
        .iter()
        .zip(fields)
        .enumerate()
        .map(|(i, (tx, (status, gas)))| {
            let Value::Object(mut t) = tx_to_json(tx) else {
                return Err(call_failed("transaction does not print as an object"));
            };
            let hash = t
                .remove("hash")
                .and_then(|h| serde_json::from_value(h).ok())
                .ok_or_else(|| call_failed("transaction has no hash"))?;
            Ok(Receipt {
                block_hash: bh,
                block_number: U64::from(n),
                transaction_hash: hash,
                transaction_index: U64::from(i as u64),
                status: U64::from(status),
                gas_used: U64::from(gas),
                logs: Vec::new(),
                logs_bloom: Default::default(),
                contract_address: None,
                tx: t,
            })
        })
        .collect()
}

fn bls_infos(v: &dyn ChainView) -> BlsInfos {
    v.spec()
        .council
        .iter()
        .filter_map(|m| {
            Some((
                m.address,
                BlsInfo {
                    public_key: m.bls_public_key.clone()?,
                    pop: m.bls_pop.clone()?,
                    verify_err: None,
                },
            ))
        })
        .collect()
}

fn raw_blocks(v: &dyn ChainView, p: Params<'_>) -> Result<Vec<RawBlock>, ErrorObjectOwned> {
    let mut seq = p.sequence();
    let from = seq.next::<BlockId>()?.resolve(head_of(v)?);
    let count: u64 = seq.next::<BlockId>()?.resolve(0);
    if from == 0 {
        return Err(invalid_params(
            "block 0 is the genesis: raw blocks start at 1",
        ));
    }
    if count == 0 || count > MAX_RAW_BLOCKS {
        return Err(invalid_params(format!(
            "count {count} is outside 1..={MAX_RAW_BLOCKS}"
        )));
    }
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for n in from..from.saturating_add(count) {
        let raw = if count == 1 {
            v.block_alone(n)
        } else {
            v.block(n)
        };
        let Some(raw) = raw.map_err(view_err)? else {
            break;
        };
        if !out.is_empty() && bytes + raw.len() > MAX_RAW_BYTES {
            break;
        }
        bytes += raw.len();
        let hash = decode_block(&raw).ok().map(|b| block_hash(&b.header));
        out.push(RawBlock {
            number: U64::from(n),
            hash,
            rlp: raw.into(),
        });
    }
    Ok(out)
}

/// `kaia_*` and `klay_*` methods over `view`, plus `ranger_getRawBlocks`.
pub fn module(
    view: Arc<dyn ChainView>,
) -> Result<RpcModule<Shared>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::new(view);
    m.register_method("kaia_chainID", |_, v, _| {
        Ok::<_, ErrorObjectOwned>(U64::from(v.spec().chain_id))
    })?;
    m.register_method("kaia_blockNumber", |_, v, _| {
        head_of(v.as_ref()).map(U64::from)
    })?;
    m.register_blocking_method("kaia_getBlockByNumber", |p, v, _| get_block(&**v, p))?;
    m.register_blocking_method("kaia_getBlockWithConsensusInfoByNumber", |p, v, _| {
        get_consensus(&**v, p)
    })?;
    m.register_blocking_method("kaia_getBlockWithConsensusInfoByNumberRange", |p, v, _| {
        get_range(&**v, p)
    })?;
    m.register_blocking_method("kaia_getBlockReceipts", |p, v, _| get_receipts(&**v, p))?;
    m.register_method("kaia_getCouncil", |p, v, _| {
        let n = block_id_or_latest(p)?.resolve(head_of(v.as_ref())?);
        v.council(n).map_err(view_err)
    })?;
    m.register_method("kaia_getCommittee", |p, v, _| {
        let n = block_id_or_latest(p)?.resolve(head_of(v.as_ref())?);
        committee(v.as_ref(), n).map_err(view_err)?.ok_or_else(|| {
            call_failed(format!(
                "the committee of block {n} depends on the proposer policy's draw, which this server does not compute"
            ))
        })
    })?;
    m.register_method("kaia_getParams", |p, v, _| {
        block_id_or_latest(p)?;
        Ok::<_, ErrorObjectOwned>(KaiaParams::of_spec(v.spec()))
    })?;
    m.register_method("kaia_getBlsInfos", |p, v, _| {
        block_id_or_latest(p)?;
        Ok::<_, ErrorObjectOwned>(bls_infos(v.as_ref()))
    })?;
    for name in [
        "chainID",
        "blockNumber",
        "getBlockByNumber",
        "getBlockWithConsensusInfoByNumber",
        "getBlockWithConsensusInfoByNumberRange",
        "getBlockReceipts",
        "getCouncil",
        "getCommittee",
        "getParams",
        "getBlsInfos",
    ] {
        let kaia: &'static str = Box::leak(format!("kaia_{name}").into_boxed_str());
        let klay: &'static str = Box::leak(format!("klay_{name}").into_boxed_str());
        m.register_alias(klay, kaia)?;
    }
    for prefix in ["kaia", "klay"] {
        let sub: &'static str = Box::leak(format!("{prefix}_subscribe").into_boxed_str());
        let notif: &'static str = Box::leak(format!("{prefix}_subscription").into_boxed_str());
        let unsub: &'static str = Box::leak(format!("{prefix}_unsubscribe").into_boxed_str());
        m.register_subscription(sub, notif, unsub, new_heads)?;
    }
    m.register_blocking_method("ranger_getRawBlocks", |p, v, _| raw_blocks(&**v, p))?;
    Ok(m)
}

/// `kaia_subscribe("newHeads")`: one header object per kept block. A subscriber that falls
/// behind the broadcast buffer skips to the newest head rather than holding the producer back.
async fn new_heads(
    p: Params<'static>,
    pending: PendingSubscriptionSink,
    v: Arc<Shared>,
    _: jsonrpsee::Extensions,
) -> jsonrpsee::core::SubscriptionResult {
    let kind: String = match one(p) {
        Ok(k) => k,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    if kind != "newHeads" {
        pending
            .reject(invalid_params(format!(
                "subscription {kind:?} is not served (only newHeads)"
            )))
            .await;
        return Ok(());
    }
    let mut heads = v.subscribe_heads();
    let sink = pending.accept().await?;
    loop {
        let n = match heads.recv().await {
            Ok(n) => n,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return Ok(()),
        };
        let view = v.clone();
        let header = tokio::task::spawn_blocking(move || block_at(&**view, n))
            .await?
            .map_err(|e| e.message().to_string())?;
        let mut m = block_json(
            &Block {
                header: header.header,
                transactions: Vec::new(),
            },
            false,
        );
        m.remove("transactions");
        m.remove("size");
        let msg = SubscriptionMessage::from(serde_json::value::to_raw_value(&Value::Object(m))?);
        if sink.send(msg).await.is_err() {
            return Ok(());
        }
    }
}
