//! `ranger bench`: prints the machine's limits and the pipeline's throughput against them.

use anyhow::Result;
use clap::Args;
use ranger::bench;
use ranger::crypto::BackendKind;
use serde_json::json;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Shorter runs and smaller inputs (for a quick look; figures are noisier).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Backend the pipeline figures use.
    #[arg(long, default_value = "cpu")]
    backend: BackendKind,
}

pub fn run(a: BenchArgs) -> Result<u8> {
    let (n, min) = if a.quick { (2048, Duration::from_millis(400)) } else { (8192, Duration::from_secs(2)) };
    let backend = ranger::gpu::open_backend(a.backend)?;
    let cores = bench::cores();
    let items = bench::recover_inputs(n, 1);
    let recover = bench::recover_figure(&*backend, &items, cores, min);
    let msgs = bench::keccak_inputs(n * 4, 200, 1);
    let keccak = bench::keccak_figure(&*backend, &msgs, cores, min);
    let headers = bench::mainnet_shape_headers_per_s(&backend, if a.quick { 256 } else { 1024 }, min)?;
    let out = json!({
        "cores": cores,
        "backend": backend.name(),
        "recover": recover,
        "keccak": keccak,
        "headers": headers,
    });
    if a.json {
        println!("{out}");
    } else {
        println!("cores {cores}, backend {}", backend.name());
        for (name, f) in [("recover", recover), ("keccak", keccak)] {
            println!(
                "{name:<8} limit {:>12.0}/s (single thread {:>10.0}/s x {cores})  pipeline {:>12.0}/s  ratio {:.3}",
                f.limit_per_s, f.single_thread_per_s, f.pipeline_per_s, f.ratio
            );
        }
        println!("headers  {:>12.0} mainnet-shape headers/s (22 committed seals + BLS reveal)", headers.mainnet_shape_per_s);
    }
    Ok(0)
}
