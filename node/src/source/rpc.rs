//! The JSON-RPC follower: one tokio task that follows one or more Kaia endpoints (a Kaia node or
//! a `ranger council`) and delivers their blocks in order on a bounded channel.
//!
//! - Catch-up: a window of concurrent requests, each for up to 51 blocks by
//!   `kaia_getBlockWithConsensusInfoByNumberRange` (falling back to `klay_` on nodes that only
//!   know that prefix), or by `ranger_getRawBlocks` when the peer is a ranger council. Requests
//!   go to the usable peers in turn; out-of-order answers wait until the gap before them fills.
//! - New heads: by each peer's WebSocket `kaia_subscribe("newHeads")` where it has one.
//! - The tip: every `poll` it asks each peer for its head, and for the last delivered block and
//!   one earlier recent block again (cycling through the last 64); a different block under that
//!   number is a [`SourceEvent::Conflict`], never an overwrite.
//! - The envelope is checked before anything is delivered: the chain id (`kaia_chainID`, once per
//!   peer), the number asked for, and the header hash the source claims against the one the
//!   header hashes to. A peer that answers garbage, truncated or oversized JSON, too slowly, a
//!   wrong number or hash, is failing: the blocks are asked again (from the next peer), the peer
//!   backs off exponentially with jitter, and the failure is logged and counted. A peer on another
//!   chain is dropped. None of that reaches the pipeline as a block.
//! - A `null` range entry (Kaia's answer for a block it could not build) is asked again; a failed
//!   range is asked again in halves, so an answer too large for a limit gets through.
//! - With `receipts` (a live chain, which ranger cannot replay), each block with transactions
//!   comes with `kaia_getBlockReceipts` (one call per block; an empty block's receipts are the
//!   empty list without asking). A source that answers the call with an error (it lacks the
//!   method, or does not keep receipts) gives the block as "receipts unavailable" and, for a
//!   missing method, is not asked again; receipts of another block hash are a failing answer.

use super::{PeerCounters, SourceCounters, SourceEvent};
use alloy_primitives::B256;
use anyhow::{Result, bail};
use jsonrpsee::core::ClientError;
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use ranger::codec::block::{decode_block, encode_block};
use ranger::codec::json::parse_block_value;
use ranger::codec::rpc::{BlsInfos, Params as KaiaParams, RANGE_MAX_BLOCKS, RawBlock, range_key};
use ranger::consensus::chain::ForkSchedule;
use ranger::consensus::istanbul::block_hash;
use ranger::crypto::keccak256;
use ranger::pipeline::receipts::ReceiptData;
use ranger::pipeline::{Input, SealHint, SourceReceipts};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// JSON-RPC "method not found".
const METHOD_NOT_FOUND: i32 = -32601;

/// How to follow.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// Endpoints (http:// or https://).
    pub urls: Vec<String>,
    /// The chain id every peer must answer.
    pub chain_id: u64,
    /// Decides which header tail fields a JSON block carries at its height.
    pub forks: ForkSchedule,
    /// The first block to deliver.
    pub from: u64,
    /// Requests in flight at once.
    pub window: usize,
    /// Blocks per range request (at most 51, Kaia's limit).
    pub range: u64,
    /// Blocks per `ranger_getRawBlocks` request.
    pub raw_range: u64,
    /// A request that has not answered by then has failed.
    pub timeout: Duration,
    /// A response larger than this has failed (bounds the memory one answer can take).
    pub max_response_bytes: u32,
    /// How often to ask for new heads at the tip.
    pub poll: Duration,
    /// First and largest pause of a failing peer.
    pub backoff: (Duration, Duration),
    /// Where requests, failures and null entries are counted, per source.
    pub counters: SourceCounters,
    /// Fetch each block's receipts (`kaia_getBlockReceipts`) to go with it.
    pub receipts: bool,
}

impl FollowConfig {
    /// Defaults that suit a local council and a public endpoint alike.
    pub fn new(urls: Vec<String>, chain_id: u64, forks: ForkSchedule, from: u64) -> Self {
        Self {
            urls,
            chain_id,
            forks,
            from,
            window: 4,
            range: RANGE_MAX_BLOCKS,
            raw_range: 256,
            timeout: Duration::from_secs(10),
            max_response_bytes: 128 * 1024 * 1024,
            poll: Duration::from_millis(250),
            backoff: (Duration::from_millis(100), Duration::from_secs(10)),
            counters: SourceCounters::default(),
            receipts: false,
        }
    }
}

/// The API a peer speaks, learned at its first use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// `ranger_getRawBlocks` answers.
    Raw,
    /// Kaia's methods under `kaia_`.
    Kaia,
    /// Only the older `klay_` prefix answers.
    Klay,
}

impl Dialect {
    fn prefix(self) -> &'static str {
        match self {
            Self::Klay => "klay",
            _ => "kaia",
        }
    }
}

#[derive(Debug)]
struct Peer {
    url: String,
    client: HttpClient,
    /// `None` until the chain id has been checked.
    dialect: Option<Dialect>,
    dropped: bool,
    failures_in_a_row: u32,
    usable_at: Instant,
    stats: PeerCounters,
    /// The peer answered `getBlockReceipts` with "method not found": not asked again.
    no_receipts: Arc<AtomicBool>,
}

/// One checked block.
#[derive(Debug, Clone)]
struct Fetched {
    /// The header's hash (keccak of the bytes for raw bytes that are not a block).
    hash: B256,
    /// RLP of the block as the source gave it (or re-encoded from JSON).
    rlp: Vec<u8>,
    /// The block rebuilt from JSON, with the seal signers its consensus info names (hints the
    /// pipeline checks); raw blocks go to the pipeline as bytes.
    block: Option<Input>,
    /// Its receipts, when they were asked for.
    receipts: Option<SourceReceipts>,
}

impl Fetched {
    /// What the pipeline takes: the decoded block, moved out (what stays is what `recent`
    /// needs, the hash and the RLP), or the bytes.
    fn take_input(&mut self) -> Input {
        self.block
            .take()
            .unwrap_or_else(|| Input::Rlp(self.rlp.clone()))
    }
}

/// Why a peer's answer was not used. Every one is the peer's failure, not the block's.
#[derive(Debug, thiserror::Error)]
enum PeerError {
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("answered for chain id {got}, expected {expected}")]
    WrongChain { got: u64, expected: u64 },
    #[error("{0}")]
    Bad(String),
}

/// The receiving end of the channel is gone: the follower's normal end.
#[derive(Debug, thiserror::Error)]
#[error("the pipeline stopped reading")]
struct ReceiverGone;

fn bad(msg: impl Into<String>) -> PeerError {
    PeerError::Bad(msg.into())
}

fn is_method_not_found(e: &PeerError) -> bool {
    matches!(e, PeerError::Client(ClientError::Call(c)) if c.code() == METHOD_NOT_FOUND)
}

async fn call<T: DeserializeOwned>(
    client: &HttpClient,
    method: &str,
    params: ArrayParams,
) -> Result<T, PeerError> {
    Ok(client.request::<T, _>(method, params).await?)
}

fn quantity(v: &Value, what: &str) -> Result<u64, PeerError> {
    ranger::codec::rpc::quantity_of(v).ok_or_else(|| bad(format!("{what} {v} is not a quantity")))
}

/// Checks the chain id and learns the dialect of a peer.
async fn handshake(client: &HttpClient, chain_id: u64) -> Result<Dialect, PeerError> {
    let (id, dialect) = match call::<Value>(client, "kaia_chainID", rpc_params![]).await {
        Ok(v) => (v, Dialect::Kaia),
        Err(e) if is_method_not_found(&e) => (
            call::<Value>(client, "klay_chainID", rpc_params![]).await?,
            Dialect::Klay,
        ),
        Err(e) => return Err(e),
    };
    let got = quantity(&id, "chain id")?;
    if got != chain_id {
        return Err(PeerError::WrongChain {
            got,
            expected: chain_id,
        });
    }
    if dialect == Dialect::Kaia {
        match call::<Value>(client, "ranger_getRawBlocks", rpc_params![1u64, 1u64]).await {
            Ok(_) => return Ok(Dialect::Raw),
            // Unknown or refused (public gateways answer codes other than -32601): plain Kaia.
            // A council with no block yet answers an empty list, so it is `Ok` above.
            Err(PeerError::Client(ClientError::Call(_))) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(dialect)
}

async fn head_of(client: &HttpClient, dialect: Dialect) -> Result<u64, PeerError> {
    let v: Value = call(
        client,
        &format!("{}_blockNumber", dialect.prefix()),
        rpc_params![],
    )
    .await?;
    quantity(&v, "block number")
}

/// Checks one JSON block object: the number asked for and the hash it claims.
fn check_json(n: u64, v: &Value, forks: &ForkSchedule) -> Result<Fetched, PeerError> {
    let parsed = parse_block_value(v, forks).map_err(|e| bad(format!("block {n}: {e}")))?;
    if !parsed.has_transactions {
        return Err(bad(format!("block {n} came without its transactions")));
    }
    let got = parsed.block.header.number;
    if got != n {
        return Err(bad(format!("asked for block {n}, got block {got}")));
    }
    let hash = block_hash(&parsed.block.header);
    match parsed.claims.hash {
        Some(claimed) if claimed == hash => {}
        Some(claimed) => {
            return Err(bad(format!(
                "block {n} claims hash {claimed} but its header hashes to {hash}"
            )));
        }
        None => return Err(bad(format!("block {n} has no hash"))),
    }
    let rlp = encode_block(&parsed.block);
    let block = Box::new(parsed.block);
    // The `from` of every transaction is passed as a claim too: legacy and Ethereum-typed
    // transactions name no sender, so without it their signatures are recovered, not verified.
    let senders = parsed.claims.senders;
    let input = match parsed.claims.consensus.committers {
        None if senders.iter().all(Option::is_none) => Input::Block(block),
        committers => Input::Hinted {
            block,
            seals: Box::new(SealHint {
                proposer: parsed.claims.consensus.proposer,
                committers: committers.unwrap_or_default(),
                senders,
            }),
        },
    };
    Ok(Fetched {
        hash,
        rlp,
        block: Some(input),
        receipts: None,
    })
}

/// Checks one raw block: the number asked for, and the hash its header hashes to against the
/// claimed one.
fn check_raw(n: u64, raw: &RawBlock) -> Result<Fetched, PeerError> {
    if raw.number.to::<u64>() != n {
        return Err(bad(format!(
            "asked for block {n}, got block {}",
            raw.number
        )));
    }
    let block = match decode_block(&raw.rlp) {
        Ok(b) => b,
        // Bytes that are not a block, and a server that says so (no hash): a council may
        // publish such a block (the pipeline names the fault), so it goes on as bytes.
        Err(_) if raw.hash.is_none() => {
            return Ok(Fetched {
                hash: keccak256(&raw.rlp),
                rlp: raw.rlp.to_vec(),
                block: None,
                receipts: None,
            });
        }
        Err(e) => return Err(bad(format!("block {n}: {e}"))),
    };
    if block.header.number != n {
        return Err(bad(format!(
            "block {n}'s header says number {}",
            block.header.number
        )));
    }
    let hash = block_hash(&block.header);
    if raw.hash != Some(hash) {
        return Err(bad(format!(
            "block {n} claims hash {:?} but its header hashes to {hash}",
            raw.hash
        )));
    }
    Ok(Fetched {
        hash,
        rlp: raw.rlp.to_vec(),
        block: None,
        receipts: None,
    })
}

/// The receipts of block `n` (hash `hash`, `txs` transactions) as the peer gives them. An
/// answer that is a JSON-RPC error leaves them unavailable; receipts of another block are a
/// failing answer (the block may have changed between the two calls: both are asked again).
async fn fetch_receipts(
    client: &HttpClient,
    dialect: Dialect,
    n: u64,
    hash: B256,
    txs: usize,
    missing: &AtomicBool,
) -> Result<SourceReceipts, PeerError> {
    if txs == 0 {
        return Ok(SourceReceipts::Given(Vec::new()));
    }
    let method = format!("{}_getBlockReceipts", dialect.prefix());
    if missing.load(Ordering::Relaxed) {
        return Ok(SourceReceipts::Unavailable(format!(
            "it does not know {method}"
        )));
    }
    // By hash, which every Kaia and Klaytn node takes (older ones take nothing else), then by
    // number for a server that takes only numbers.
    let mut answer = call::<Vec<Value>>(client, &method, rpc_params![hash]).await;
    if let Err(PeerError::Client(ClientError::Call(c))) = &answer
        && c.code() != METHOD_NOT_FOUND
    {
        answer = call(client, &method, rpc_params![format!("{n:#x}")]).await;
    }
    let answer = match answer {
        Ok(v) => v,
        Err(PeerError::Client(ClientError::Call(c))) => {
            if c.code() == METHOD_NOT_FOUND {
                missing.store(true, Ordering::Relaxed);
            }
            return Ok(SourceReceipts::Unavailable(format!(
                "{method}: {}",
                c.message()
            )));
        }
        Err(e) => return Err(e),
    };
    let mut out = Vec::with_capacity(answer.len());
    for (i, v) in answer.into_iter().enumerate() {
        let r: ranger::codec::rpc::Receipt = match serde_json::from_value(v) {
            Ok(r) => r,
            Err(e) => return Ok(SourceReceipts::Malformed(format!("receipt {i}: {e}"))),
        };
        if r.block_hash != hash {
            return Err(bad(format!(
                "block {n}: receipt {i} is of block {}, not {hash}",
                r.block_hash
            )));
        }
        match ReceiptData::from_rpc(&r) {
            Ok(d) => out.push(d),
            Err(e) => return Ok(SourceReceipts::Malformed(e)),
        }
    }
    Ok(SourceReceipts::Given(out))
}

/// Adds its receipts to each block of `blocks` (one call per block with transactions, in turn,
/// which public endpoints that throttle bear better than a burst).
async fn add_receipts(
    client: &HttpClient,
    dialect: Dialect,
    blocks: &mut [(u64, Option<Fetched>)],
    missing: &AtomicBool,
) -> Result<(), PeerError> {
    for (n, f) in blocks.iter_mut() {
        let Some(f) = f else { continue };
        let txs = match &f.block {
            Some(Input::Block(b) | Input::Hinted { block: b, .. }) => b.transactions.len(),
            _ => match decode_block(&f.rlp) {
                Ok(b) => b.transactions.len(),
                // Bytes that are not a block: the pipeline names the fault; no receipts.
                Err(_) => continue,
            },
        };
        f.receipts = Some(fetch_receipts(client, dialect, *n, f.hash, txs, missing).await?);
    }
    Ok(())
}

/// Blocks `start..=end` from one peer; `None` for a block the peer did not give (null entry,
/// or past the end of a raw answer).
async fn fetch_range(
    client: HttpClient,
    dialect: Dialect,
    forks: ForkSchedule,
    start: u64,
    end: u64,
    receipts: Option<Arc<AtomicBool>>,
) -> Result<Vec<(u64, Option<Fetched>)>, PeerError> {
    let mut blocks = fetch_blocks(&client, dialect, forks, start, end).await?;
    if let Some(missing) = receipts {
        add_receipts(&client, dialect, &mut blocks, &missing).await?;
    }
    Ok(blocks)
}

/// The blocks of `fetch_range`, without receipts.
async fn fetch_blocks(
    client: &HttpClient,
    dialect: Dialect,
    forks: ForkSchedule,
    start: u64,
    end: u64,
) -> Result<Vec<(u64, Option<Fetched>)>, PeerError> {
    if dialect == Dialect::Raw {
        let raws: Vec<RawBlock> = call(
            client,
            "ranger_getRawBlocks",
            rpc_params![start, end - start + 1],
        )
        .await?;
        if raws.len() as u64 > end - start + 1 {
            return Err(bad(format!(
                "asked for {} blocks, got {}",
                end - start + 1,
                raws.len()
            )));
        }
        let mut out = Vec::new();
        for (i, n) in (start..=end).enumerate() {
            out.push((n, raws.get(i).map(|r| check_raw(n, r)).transpose()?));
        }
        return Ok(out);
    }
    let method = format!(
        "{}_getBlockWithConsensusInfoByNumberRange",
        dialect.prefix()
    );
    let map: BTreeMap<String, Value> = call(
        client,
        &method,
        rpc_params![format!("{start:#x}"), format!("{end:#x}")],
    )
    .await?;
    (start..=end)
        .map(|n| match map.get(&range_key(n)) {
            None | Some(Value::Null) => Ok((n, None)),
            Some(v) => check_json(n, v, &forks).map(|f| (n, Some(f))),
        })
        .collect()
}

/// A finished request: which peer, what was asked, what came back.
type Answer = (
    usize,
    u64,
    u64,
    Result<Vec<(u64, Option<Fetched>)>, PeerError>,
);

/// Blocks delivered lately, for conflict checks at the tip.
const RECENT: usize = 64;

struct Follower {
    config: FollowConfig,
    peers: Vec<Peer>,
    out: mpsc::Sender<SourceEvent>,
    next_deliver: u64,
    next_request: u64,
    /// Ranges to ask again (failed or null), before new ones.
    retry: VecDeque<(u64, u64)>,
    ready: BTreeMap<u64, (Fetched, String)>,
    recent: VecDeque<(u64, Fetched, String)>,
    reported: HashSet<(u64, B256)>,
    head: u64,
    turn: usize,
    /// Which earlier recent block the next poll asks for again (cycling through `recent`).
    recheck: usize,
}

impl Follower {
    fn fail(&mut self, i: usize, what: &str, e: &PeerError) {
        let (base, max) = self.config.backoff;
        let p = &mut self.peers[i];
        p.stats.failures.inc();
        if let PeerError::WrongChain { .. } = e {
            p.dropped = true;
            tracing::error!(target: "ranger::source::rpc", "{}: {e}; dropping this source", p.url);
            return;
        }
        p.failures_in_a_row = p.failures_in_a_row.saturating_add(1);
        let exp = base
            .saturating_mul(1u32 << p.failures_in_a_row.min(16))
            .min(max);
        // Jitter in [1/2, 1) of the pause, so that peers failing together do not retry together.
        let pause = exp.mul_f64(0.5 + rand::random::<f64>() / 2.0);
        p.usable_at = Instant::now() + pause;
        tracing::warn!(target: "ranger::source::rpc", "{}: {what}: {e} (failure {}, retrying in {pause:?})", p.url, p.stats.failures.get());
    }

    fn succeed(&mut self, i: usize) {
        self.peers[i].failures_in_a_row = 0;
    }

    /// The next usable peer in turn, checking its chain id first if that was never done.
    async fn pick(&mut self) -> Option<usize> {
        let now = Instant::now();
        for k in 0..self.peers.len() {
            let i = (self.turn + k) % self.peers.len();
            if self.peers[i].dropped || self.peers[i].usable_at > now {
                continue;
            }
            if self.peers[i].dialect.is_none() {
                let r = handshake(&self.peers[i].client, self.config.chain_id).await;
                match r {
                    Ok(d) => {
                        tracing::info!(target: "ranger::source::rpc", "{}: chain id {}, {d:?}", self.peers[i].url, self.config.chain_id);
                        self.peers[i].dialect = Some(d);
                    }
                    Err(e) => {
                        self.fail(i, "handshake", &e);
                        continue;
                    }
                }
            }
            self.turn = i + 1;
            return Some(i);
        }
        None
    }

    async fn send(&self, e: SourceEvent) -> Result<()> {
        self.out.send(e).await.map_err(|_| ReceiverGone.into())
    }

    /// Delivers the ready blocks that continue the chain.
    async fn deliver(&mut self) -> Result<()> {
        while let Some((mut f, source)) = self.ready.remove(&self.next_deliver) {
            let number = self.next_deliver;
            self.send(SourceEvent::Block {
                number,
                input: f.take_input(),
                source: source.clone(),
                receipts: f.receipts.take(),
            })
            .await?;
            self.recent.push_back((number, f, source));
            if self.recent.len() > RECENT {
                self.recent.pop_front();
            }
            self.next_deliver += 1;
        }
        Ok(())
    }

    /// Compares a block seen again (or from another peer) with the delivered one.
    async fn compare(&mut self, n: u64, seen: Fetched, source: &str) -> Result<()> {
        let Some((_, first, first_source)) = self.recent.iter().find(|(k, _, _)| *k == n) else {
            return Ok(());
        };
        if first.hash == seen.hash || !self.reported.insert((n, seen.hash)) {
            return Ok(());
        }
        tracing::error!(target: "ranger::source::rpc", "block {n}: {source} has {} where {first_source} gave {}", seen.hash, first.hash);
        let e = SourceEvent::Conflict {
            number: n,
            first: first.rlp.clone(),
            second: seen.rlp,
            sources: (first_source.clone(), source.to_string()),
        };
        self.send(e).await
    }

    /// At the tip: every peer's head, and its copy of the last delivered block and of one
    /// earlier recent block (a different one each poll): a council that changes a block after
    /// building on it shows it only to a later question.
    async fn poll_tip(&mut self) -> Result<()> {
        let last = self
            .next_deliver
            .checked_sub(1)
            .filter(|n| *n >= self.config.from);
        let earlier = last.and_then(|l| {
            let older: Vec<u64> = self
                .recent
                .iter()
                .map(|(n, _, _)| *n)
                .filter(|n| *n < l)
                .collect();
            if older.is_empty() {
                return None;
            }
            self.recheck = (self.recheck + 1) % older.len();
            // Newest first: the block most likely to have changed is the one just built on.
            Some(older[older.len() - 1 - self.recheck])
        });
        for i in 0..self.peers.len() {
            if self.peers[i].dropped || self.peers[i].usable_at > Instant::now() {
                continue;
            }
            let Some(dialect) = self.peers[i].dialect else {
                continue;
            };
            let client = self.peers[i].client.clone();
            self.peers[i].stats.requests.inc();
            match head_of(&client, dialect).await {
                Ok(h) => {
                    self.succeed(i);
                    if h > self.head {
                        self.head = h;
                        self.send(SourceEvent::Head { number: h }).await?;
                    }
                }
                Err(e) => {
                    self.fail(i, "head", &e);
                    continue;
                }
            }
            for n in last.into_iter().chain(earlier) {
                // Only the block is compared: no receipts.
                let r = fetch_range(
                    client.clone(),
                    dialect,
                    self.config.forks.clone(),
                    n,
                    n,
                    None,
                )
                .await;
                match r {
                    Ok(mut v) => {
                        if let Some((_, Some(f))) = v.pop() {
                            let url = self.peers[i].url.clone();
                            self.compare(n, f, &url).await?;
                        }
                    }
                    Err(e) => {
                        self.fail(i, &format!("block {n}"), &e);
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The next range to ask for, if any.
    fn next_range(&mut self, size: u64) -> Option<(u64, u64)> {
        if let Some(r) = self.retry.pop_front() {
            return Some(r);
        }
        if self.next_request > self.head {
            return None;
        }
        let start = self.next_request;
        let end = self.head.min(start.saturating_add(size - 1));
        self.next_request = end + 1;
        Some((start, end))
    }

    async fn run(mut self) -> Result<()> {
        let mut tasks: JoinSet<Answer> = JoinSet::new();
        // Dropped (and so stopped) when the follower stops.
        let mut watchers = JoinSet::new();
        let (heads_tx, mut heads) = mpsc::channel(64);
        for (i, p) in self.peers.iter().enumerate() {
            watchers.spawn(watch_heads(
                i,
                p.url.clone(),
                self.config.clone(),
                heads_tx.clone(),
            ));
        }
        drop(heads_tx);
        let mut tick = tokio::time::interval(self.config.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if self.peers.iter().all(|p| p.dropped) {
                bail!("every source was dropped (wrong chain id)");
            }
            // Fill the window.
            // Ask ahead of the next block to deliver by at most `ahead` blocks: a block that
            // keeps failing holds back new requests rather than letting answers pile up.
            let ahead = self.config.window as u64 * self.config.raw_range.max(self.config.range);
            while tasks.len() < self.config.window
                && (!self.retry.is_empty()
                    || (self.next_request <= self.head
                        && self.next_request - self.next_deliver < ahead))
            {
                let Some(i) = self.pick().await else {
                    break;
                };
                let Some(dialect) = self.peers[i].dialect else {
                    break;
                };
                let size = match dialect {
                    Dialect::Raw => self.config.raw_range,
                    _ => self.config.range,
                };
                let Some((start, end)) = self.next_range(size) else {
                    break;
                };
                self.peers[i].stats.requests.inc();
                let client = self.peers[i].client.clone();
                let forks = self.config.forks.clone();
                let receipts = self
                    .config
                    .receipts
                    .then(|| self.peers[i].no_receipts.clone());
                tasks.spawn(async move {
                    (
                        i,
                        start,
                        end,
                        fetch_range(client, dialect, forks, start, end, receipts).await,
                    )
                });
            }
            tokio::select! {
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    let (i, start, end, r) = done?;
                    let url = self.peers[i].url.clone();
                    match r {
                        Ok(blocks) => {
                            // What is missing (null entries, or a short raw answer) is asked
                            // again as one range, never block by block.
                            let mut missing = None;
                            let mut got_any = false;
                            for (n, f) in blocks {
                                match f {
                                    Some(f) => {
                                        got_any = true;
                                        if n >= self.next_deliver {
                                            self.ready.insert(n, (f, url.clone()));
                                        }
                                    }
                                    None => {
                                        self.peers[i].stats.null_entries.inc();
                                        missing.get_or_insert(n);
                                    }
                                }
                            }
                            if let Some(m) = missing {
                                self.retry.push_back((m, end));
                            }
                            if got_any || missing.is_none() {
                                self.succeed(i);
                            } else {
                                // Nothing but nulls: the peer is behind or lying; back off.
                                self.fail(i, &format!("blocks {start}..={end}"), &bad("null entries only".to_owned()));
                            }
                            self.deliver().await?;
                        }
                        Err(e) => {
                            self.fail(i, &format!("blocks {start}..={end}"), &e);
                            // Asked again in halves: an answer too large for a limit (the
                            // server's or ours) fits once the range is small enough.
                            if end > start {
                                let mid = start + (end - start) / 2;
                                self.retry.push_back((start, mid));
                                self.retry.push_back((mid + 1, end));
                            } else {
                                self.retry.push_back((start, end));
                            }
                        }
                    }
                }
                Some((i, n)) = heads.recv() => {
                    // Only from a peer whose chain id was checked and that is still in use.
                    if !self.peers[i].dropped && self.peers[i].dialect.is_some() && n > self.head {
                        self.head = n;
                        self.send(SourceEvent::Head { number: n }).await?;
                    }
                }
                _ = tick.tick() => {
                    if self.peers.iter().any(|p| p.dialect.is_none() && !p.dropped) {
                        // Learn the chain id of peers not used yet.
                        let _ = self.pick().await;
                    }
                    if self.next_request > self.head && self.retry.is_empty() {
                        self.poll_tip().await?;
                    }
                }
            }
        }
    }
}

/// New heads from `url`'s WebSocket subscription (`kaia_subscribe("newHeads")` on the same host
/// and port, as `ranger council` serves it), sent as `(i, number)`. Where the subscription
/// cannot be made or ends, the follower goes on polling at its `poll` interval.
async fn watch_heads(i: usize, url: String, config: FollowConfig, out: mpsc::Sender<(usize, u64)>) {
    let ws = match url.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => return,
    };
    let client = match WsClientBuilder::default()
        .request_timeout(config.timeout)
        .max_response_size(config.max_response_bytes)
        .build(&ws)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(target: "ranger::source::rpc", "{ws}: no WebSocket ({e}); polling for heads");
            return;
        }
    };
    let sub = client
        .subscribe::<Value, _>(
            "kaia_subscribe",
            rpc_params!["newHeads"],
            "kaia_unsubscribe",
        )
        .await;
    let mut sub = match sub {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(target: "ranger::source::rpc", "{ws}: no newHeads subscription ({e}); polling for heads");
            return;
        }
    };
    while let Some(Ok(head)) = sub.next().await {
        let Some(n) = head.get("number").and_then(|v| quantity(v, "head").ok()) else {
            continue;
        };
        if out.send((i, n)).await.is_err() {
            return;
        }
    }
    tracing::info!(target: "ranger::source::rpc", "{ws}: the newHeads subscription ended; polling for heads");
}

/// Follows `config.urls` from `config.from`, sending events to `out` until the receiver is
/// dropped (`Ok`) or every source is dropped (`Err`).
pub async fn follow(config: FollowConfig, out: mpsc::Sender<SourceEvent>) -> Result<()> {
    if config.urls.is_empty() {
        bail!("no source to follow");
    }
    if config.range == 0 || config.range > RANGE_MAX_BLOCKS || config.raw_range == 0 {
        bail!("a range request takes 1..={RANGE_MAX_BLOCKS} blocks");
    }
    let mut peers = Vec::new();
    for url in &config.urls {
        let client = HttpClientBuilder::default()
            .request_timeout(config.timeout)
            .max_response_size(config.max_response_bytes)
            .build(url)
            .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
        peers.push(Peer {
            url: url.clone(),
            client,
            dialect: None,
            dropped: false,
            failures_in_a_row: 0,
            usable_at: Instant::now(),
            stats: config.counters.of(url),
            no_receipts: Arc::new(AtomicBool::new(false)),
        });
    }
    let f = Follower {
        next_deliver: config.from,
        next_request: config.from,
        head: 0,
        config,
        peers,
        out,
        retry: VecDeque::new(),
        ready: BTreeMap::new(),
        recent: VecDeque::new(),
        reported: HashSet::new(),
        turn: 0,
        recheck: 0,
    };
    match f.run().await {
        Err(e) if e.is::<ReceiverGone>() => Ok(()),
        r => r,
    }
}

/// What the node at `url` says of the council at block `number`: `kaia_getCouncil`,
/// `kaia_getParams`, `kaia_getBlsInfos` (each under `klay_` where `kaia_` is unknown), each
/// answer or why there is none. These are hints, to be checked against the seals and reveals
/// (`ranger::pipeline::council_hints`).
#[derive(Debug)]
pub struct HintAnswers {
    pub council: Result<Vec<alloy_primitives::Address>, String>,
    pub params: Result<KaiaParams, String>,
    pub bls: Result<BlsInfos, String>,
}

/// Asks `url` for the council hints of block `number`, once it has answered chain id
/// `chain_id` (a source on another chain gives none).
pub async fn council_hints(
    url: &str,
    chain_id: u64,
    number: u64,
    timeout: Duration,
) -> Result<HintAnswers> {
    let client = HttpClientBuilder::default()
        .request_timeout(timeout)
        .build(url)?;
    let prefix = handshake(&client, chain_id).await?.prefix();
    async fn ask<T: DeserializeOwned>(
        client: &HttpClient,
        method: String,
        n: u64,
    ) -> Result<T, String> {
        call(client, &method, rpc_params![format!("{n:#x}")])
            .await
            .map_err(|e| format!("{method}: {e}"))
    }
    Ok(HintAnswers {
        council: ask(&client, format!("{prefix}_getCouncil"), number).await,
        params: ask(&client, format!("{prefix}_getParams"), number).await,
        bls: ask(&client, format!("{prefix}_getBlsInfos"), number).await,
    })
}
