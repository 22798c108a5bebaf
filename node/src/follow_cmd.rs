//! `ranger follow`: the JSON-RPC source alone. Follows one or more Kaia endpoints (or `ranger
//! council`s) and prints, one JSON object a line, each block it delivers (in order, checked
//! against the envelope: chain id, number, claimed hash), each new head, and each conflict (two
//! blocks under one number). Nothing is verified here: `ranger run --follow` verifies.

use crate::source::SourceEvent;
use crate::source::rpc::{FollowConfig, council_hints, follow};
use anyhow::{Context, Result};
use clap::Args;
use ranger::codec::block::decode_block;
use ranger::consensus::ChainSpec;
use ranger::consensus::istanbul::block_hash;
use ranger::crypto::keccak256;
use ranger::pipeline::Input;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Debug, Args)]
pub struct FollowArgs {
    /// An endpoint to follow (repeat for several).
    #[arg(long = "follow", value_name = "URL", required = true)]
    urls: Vec<String>,
    /// The chain: mainnet, kairos or a genesis JSON file (a council's DATADIR/genesis.json).
    #[arg(long)]
    chain: String,
    /// First block to deliver.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Exit after delivering this block.
    #[arg(long)]
    until: Option<u64>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    window: usize,
    /// Milliseconds before a request counts as failed.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Milliseconds between head polls at the tip.
    #[arg(long, default_value_t = 250)]
    poll_ms: u64,
    /// First print what the first endpoint says of the council at --from (kaia_getCouncil,
    /// kaia_getParams, kaia_getBlsInfos): hints, which a verifier checks against the seals.
    #[arg(long)]
    hints: bool,
    /// Largest response accepted, in bytes.
    #[arg(long, default_value_t = 128 * 1024 * 1024)]
    max_response_bytes: u32,
}

fn hash_of(rlp: &[u8]) -> String {
    let h = decode_block(rlp)
        .map(|b| block_hash(&b.header))
        .unwrap_or_else(|_| keccak256(rlp));
    format!("{h}")
}

pub fn run(a: FollowArgs) -> Result<u8> {
    let spec = ChainSpec::load(&a.chain).with_context(|| format!("--chain {}", a.chain))?;
    let mut config = FollowConfig::new(a.urls, spec.chain_id, spec.forks.clone(), a.from);
    config.window = a.window.max(1);
    config.timeout = Duration::from_millis(a.timeout_ms);
    config.poll = Duration::from_millis(a.poll_ms.max(1));
    config.max_response_bytes = a.max_response_bytes;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if a.hints {
        let url = config.urls.first().context("no --follow URL")?;
        let h = runtime.block_on(council_hints(url, spec.chain_id, a.from, config.timeout))?;
        // Each answer, or the error in its place.
        let or_error = |r: Result<Value, String>| r.unwrap_or_else(|e| json!({ "error": e }));
        out!(
            "{}",
            json!({
                "council": or_error(h.council.map(|c| json!(c))),
                "params": or_error(h.params.map(|p| json!(p))),
                "bls_keys": or_error(h.bls.map(|b| json!(b.len()))),
            })
        );
    }
    let (tx, mut rx) = mpsc::channel(crate::source::CHANNEL_CAPACITY);
    let task = runtime.spawn(follow(config, tx));
    // The pipeline side of the channel: a plain thread reading with blocking_recv.
    let until = a.until;
    let printer = std::thread::spawn(move || {
        while let Some(e) = rx.blocking_recv() {
            match e {
                SourceEvent::Block {
                    number,
                    input,
                    source,
                    ..
                } => {
                    let (hash, txs) = match &input {
                        Input::Block(b) | Input::Hinted { block: b, .. } => (
                            format!("{}", block_hash(&b.header)),
                            Some(b.transactions.len()),
                        ),
                        Input::Rlp(r) => (
                            hash_of(r),
                            decode_block(r).ok().map(|b| b.transactions.len()),
                        ),
                    };
                    out!(
                        "{}",
                        json!({"block": number, "hash": hash, "txs": txs, "source": source})
                    );
                    if until == Some(number) {
                        return true;
                    }
                }
                SourceEvent::Head { number } => out!("{}", json!({ "head": number })),
                SourceEvent::Conflict {
                    number,
                    first,
                    second,
                    sources,
                } => out!(
                    "{}",
                    json!({"conflict": number, "first": hash_of(&first), "second": hash_of(&second),
                        "sources": [sources.0, sources.1]})
                ),
            }
        }
        false
    });
    let reached = runtime.block_on(async {
        let reached = tokio::task::spawn_blocking(move || printer.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the printing thread panicked"))?;
        if reached {
            return Ok::<_, anyhow::Error>(true);
        }
        // The channel closed before --until: the source ended, and says why.
        task.await??;
        Ok(false)
    })?;
    Ok(if reached { 0 } else { 2 })
}
