//! `ranger run`: the main job on its embedded default — a local devnet council producing blocks
//! and a ranger verifying each one as it arrives (signatures, seals, quorum, randao, tx root and
//! state replay), printing one verdict per block and the throughput at the end.

use crate::verify::print_verdict;
use anyhow::Result;
use clap::Args;
use ranger::crypto::{BackendKind, CpuBackend};
use ranger::devnet::{DevnetConfig, FaultAt, Producer};
use ranger::pipeline::{Anchor, Input, Verifier};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Council members of the devnet.
    #[arg(long, default_value_t = 7)]
    validators: usize,
    /// Funded accounts.
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    /// Blocks to produce and verify.
    #[arg(long, default_value_t = 30)]
    blocks: u64,
    /// Transactions per block.
    #[arg(long, default_value_t = 500)]
    txs_per_block: usize,
    /// Seed of the devnet's keys and workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Make the council lie: break block BLOCK in the way KIND names (see `ranger devnet faults`).
    #[arg(long = "fault", value_name = "KIND@BLOCK")]
    faults: Vec<FaultAt>,
    /// Where the verifying ranger's batch hashing and signature recovery run.
    #[arg(long, value_enum, default_value_t = BackendKind::Auto)]
    backend: BackendKind,
    /// One JSON object per block, then a summary object.
    #[arg(long)]
    json: bool,
}

pub fn run(a: RunArgs) -> Result<u8> {
    let config = DevnetConfig {
        validators: a.validators,
        accounts: a.accounts,
        blocks: a.blocks,
        txs_per_block: a.txs_per_block,
        seed: a.seed,
        faults: a.faults.clone(),
        ..DevnetConfig::default()
    };
    config.validate()?;
    let mut producer = Producer::new(config, &CpuBackend)?;
    let spec = producer.spec().clone();
    let opened = crate::backend::open(a.backend)?;
    let mut verifier = Verifier::builder(&spec)
        .backend(opened.backend)
        .anchor(Anchor::of(producer.genesis()))
        .build()?;
    if !a.json {
        eprintln!(
            "devnet: chain id {}, {} validators, {} accounts; ranger verifying on the {} backend",
            spec.chain_id,
            spec.council.len(),
            spec.accounts.len(),
            opened.name
        );
    }
    let inputs = std::iter::from_fn(move || match producer.next_block(&CpuBackend) {
        Ok(Some(b)) => Some(Ok(Input::Rlp(b.bytes))),
        Ok(None) => None,
        Err(e) => Some(Err(format!("devnet producer failed: {e}"))),
    });
    let start = Instant::now();
    let json = a.json;
    let summary = verifier.run(inputs, |r| {
        print_verdict(&r, json, false);
        true
    })?;
    let secs = start.elapsed().as_secs_f64();
    let line = serde_json::json!({"summary": {"blocks": summary.blocks, "valid": summary.valid,
        "invalid": summary.invalid, "undecided": summary.undecided,
        "descends_from_invalid": summary.descends_from_invalid,
        "transactions": summary.transactions, "seconds": secs, "backend": opened.name}});
    if json {
        out!("{line}");
    } else {
        out!(
            "{} blocks, {} transactions: {} valid, {} invalid, {} undecided ({:.1}s for production and verification together)",
            summary.blocks,
            summary.transactions,
            summary.valid,
            summary.invalid,
            summary.undecided,
            secs
        );
    }
    Ok(summary.exit_code())
}
