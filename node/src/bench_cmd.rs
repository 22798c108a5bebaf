//! `ranger bench`: prints the machine's limits and the pipeline's throughput against them.

use anyhow::Result;
use clap::{Args, Subcommand};
use ranger::bench;
use ranger::crypto::BackendKind;
use ranger::devnet::{DevnetConfig, generate_to_dir};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;

/// Peak RSS of `ranger verify` over a chain and over one ten times longer: the median of
/// [`MEMORY_ROUNDS`] runs each (the allocator's timing moves one run's peak by a few percent), with
/// every run's peak listed.
#[derive(Debug, Serialize)]
struct MemoryFigure {
    short_blocks: u64,
    short_kib: u64,
    short_runs_kib: Vec<u64>,
    long_blocks: u64,
    long_kib: u64,
    long_runs_kib: Vec<u64>,
    growth_percent: f64,
}

/// Verifier runs per chain for the memory figure.
const MEMORY_ROUNDS: usize = 3;

/// Generates two chains (n and 10n blocks) and verifies each in child `ranger verify`
/// processes, reading the peak RSS from their JSON summaries.
fn memory_figure(quick: bool) -> Result<MemoryFigure> {
    // Both chains are longer than the pipeline is deep (five windows of 512 KiB: one per stage
    // and the one being gathered; a 1,000-tx devnet block is ~170 KiB), so what differs is only
    // the chain length.
    let (blocks, txs) = if quick { (60, 250) } else { (20, 1000) };
    let dir = std::env::temp_dir().join(format!("ranger-bench-mem-{}", std::process::id()));
    let exe = std::env::current_exe()?;
    let mut peaks = Vec::new();
    for n in [blocks, blocks * 10] {
        let out = dir.join(format!("chain-{n}"));
        let config = DevnetConfig {
            accounts: 20_000,
            blocks: n,
            txs_per_block: txs,
            ..DevnetConfig::default()
        };
        generate_to_dir(&config, &out, &ranger::crypto::CpuBackend)?;
        let mut runs = Vec::with_capacity(MEMORY_ROUNDS);
        for _ in 0..MEMORY_ROUNDS {
            runs.push(verify_peak_kib(&exe, &out, n)?);
        }
        peaks.push(runs);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let median = |runs: &[u64]| {
        let mut v = runs.to_vec();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let (short, long) = (median(&peaks[0]), median(&peaks[1]));
    Ok(MemoryFigure {
        short_blocks: blocks,
        short_kib: short,
        short_runs_kib: peaks[0].clone(),
        long_blocks: blocks * 10,
        long_kib: long,
        long_runs_kib: peaks[1].clone(),
        growth_percent: (long as f64 / short as f64 - 1.0) * 100.0,
    })
}

/// Peak RSS (KiB) of one child `ranger verify` over the chain in `dir`, which must verify.
fn verify_peak_kib(exe: &std::path::Path, dir: &std::path::Path, blocks: u64) -> Result<u64> {
    let o = std::process::Command::new(exe)
        .args([
            "verify",
            &dir.display().to_string(),
            "--json",
            "--quiet",
            "--backend",
            "cpu",
        ])
        .output()?;
    let last = String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .map(str::to_string)
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&last).map_err(|e| {
        anyhow::anyhow!(
            "`ranger verify` over {} ({}) printed no JSON summary ({e}): {}",
            dir.display(),
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        )
    })?;
    if v["summary"]["invalid"].as_u64() != Some(0) {
        anyhow::bail!("the generated chain of {blocks} blocks did not verify: {last}");
    }
    v["summary"]["peak_rss_kib"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("verify reported no peak RSS (not Linux?): {last}"))
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    /// Shorter runs and smaller inputs (for a quick look; figures are noisier).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Skip the peak-memory runs (two generated chains verified in child processes).
    #[arg(long)]
    no_memory: bool,
    /// Backend the pipeline figures use.
    #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
    backend: BackendKind,
}

/// Benchmarks of their own (without one, `ranger bench` measures the machine and the pipeline).
#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// A council process producing as fast as it can over loopback and a node process following
    /// it with full verification and storage: sustained tx/s, lag, disk per tx, catch-up.
    LineRate(crate::line_rate::LineRateArgs),
    /// A council process breaking its chain in six named ways and three ranger processes
    /// gossiping in a line: time from a faulty block to reports held by all and credited.
    Reports(crate::bench_reports::ReportsArgs),
}

pub fn run(a: BenchArgs) -> Result<u8> {
    match a.command {
        Some(BenchCommand::LineRate(l)) => return crate::line_rate::run(l),
        Some(BenchCommand::Reports(r)) => return crate::bench_reports::run(r),
        None => {}
    }
    let (n, min) = if a.quick {
        (2048, Duration::from_millis(400))
    } else {
        (8192, Duration::from_secs(2))
    };
    let backend = crate::backend::open(a.backend)?.backend;
    let cores = bench::cores();
    let items = bench::recover_inputs(n, 1);
    let recover = bench::recover_figure(&*backend, &items, cores, min);
    let batch_verify = bench::batch_verify_figures(&bench::BATCH_VERIFY_SIZES, cores, min);
    let msgs = bench::keccak_inputs(n * 4, 200, 1);
    let keccak = bench::keccak_figure(&*backend, &msgs, cores, min);
    let headers = bench::mainnet_shape_headers_per_s(
        &backend,
        if a.quick { 256 } else { 1024 },
        min,
        recover.limit_per_s,
    )?;
    // 30 blocks: long enough that filling and draining the pipeline (one window of recovery
    // before the first replay, one window of replay after the last recovery) weigh little, as
    // on a ranger that follows a live council.
    let e2e_config = DevnetConfig {
        accounts: 100_000,
        blocks: if a.quick { 3 } else { 30 },
        txs_per_block: 2000,
        validators: 7,
        ..DevnetConfig::default()
    };
    let e2e = bench::end_to_end(&backend, &e2e_config, cores)?;
    let memory = if a.no_memory {
        None
    } else {
        Some(memory_figure(a.quick)?)
    };
    // Per-backend sweep over batch sizes (256 to 65,536), with shader warm-up reported apart.
    let opts = if a.quick {
        ranger::gpu::BenchOptions::quick()
    } else {
        ranger::gpu::BenchOptions::default()
    };
    let sweep = ranger::gpu::bench_backends(&[a.backend], &opts)?;
    let out = json!({
        "cores": cores,
        "backends": sweep,
        "backend": backend.name(),
        "recover": recover,
        "keccak": keccak,
        "batch_verify": batch_verify,
        "headers": headers,
        "end_to_end": e2e,
        "memory": memory,
    });
    if a.json {
        out!("{out}");
    } else {
        out!("cores {cores}, backend {}", backend.name());
        out!("{}", sweep.to_table().trim_end());
        for (name, f) in [("recover", recover), ("keccak", keccak)] {
            out!(
                "{name:<8} limit {:>12.0}/s (single thread {:>10.0}/s x {cores})  pipeline {:>12.0}/s  ratio {:.3}",
                f.limit_per_s,
                f.single_thread_per_s,
                f.pipeline_per_s,
                f.ratio
            );
        }
        for b in &batch_verify {
            out!(
                "batch    {:>6} signatures: batch verify {:>10.0}/s  bare recovery limit {:>10.0}/s  ratio {:.2} (one thread each: {})",
                b.batch,
                b.batch_verify_per_s,
                b.bare_recover_per_s,
                b.ratio,
                b.single_thread_ratio
                    .map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}"))
            );
        }
        out!(
            "headers  {:>12.0} mainnet-shape headers/s (22 committed seals + BLS reveal); crypto ceiling {:.0}/s (23 recoveries at the limit + 1 BLS reveal at {:.0}/s)",
            headers.mainnet_shape_per_s,
            headers.crypto_ceiling_per_s,
            headers.bls_per_s
        );
        out!(
            "         seal signers known for {:.1}% of seals; BLS reveals grouped by proposer {:.0}/s (31 proposers per 64 blocks)",
            headers.seal_hit_rate * 100.0,
            headers.bls_grouped_per_s
        );
        out!(
            "full     {:>12.0} tx/s end to end ({} blocks x {} txs, {} accounts; signatures + roots + replay)  ratio to recover limit {:.3}",
            e2e.tx_per_s,
            e2e.blocks,
            e2e_config.txs_per_block,
            e2e.accounts,
            e2e.ratio_to_recover_limit
        );
        out!(
            "         warm key cache: {:.1}% of claimed signers known; cold (empty cache) {:.0} tx/s, ratio {:.3}, {:.1}% known",
            e2e.key_hit_rate * 100.0,
            e2e.cold_tx_per_s,
            e2e.cold_ratio_to_recover_limit,
            e2e.cold_key_hit_rate * 100.0
        );
        out!(
            "         {:>12.0} signatures/s in that run ({:.2} per tx)  ratio to recover limit {:.3}",
            e2e.signatures as f64 * e2e.tx_per_s / e2e.transactions.max(1) as f64,
            e2e.signatures as f64 / e2e.transactions.max(1) as f64,
            e2e.signature_ratio_to_recover_limit
        );
        out!(
            "         {:>12.0} tx/s ceiling for this mix if hashing, tries and replay were free (ratio {:.3})",
            e2e.recover_ceiling_tx_per_s,
            e2e.recover_ceiling_ratio
        );
        if let Some(m) = &memory {
            out!(
                "memory   peak RSS {} KiB verifying {} blocks, {} KiB verifying {} blocks ({:+.1}%; median of {MEMORY_ROUNDS} runs: {:?} and {:?} KiB)",
                m.short_kib,
                m.short_blocks,
                m.long_kib,
                m.long_blocks,
                m.growth_percent,
                m.short_runs_kib,
                m.long_runs_kib
            );
        }
    }
    Ok(0)
}
