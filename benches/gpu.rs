//! Benchmarks of batch keccak and batch recovery per backend (cpu, gpu, hybrid) at a few batch
//! sizes: first the `bench_backends` report (recoveries/s, hashes/s, warm-up, verified), then
//! criterion's own measurements.
//!
//! `RANGER_BENCH_SIZES=256,4096` picks the sizes (default 256,1024,4096); without a GPU adapter
//! only the CPU is measured; `RANGER_BENCH_PASSES_ONLY=1` stops after the per-pass times of the
//! recovery kernels. Run: `cargo bench --bench gpu`.

use criterion::{BenchmarkId, Criterion, Throughput};
use ranger::crypto::{Backend, BackendKind, CpuBackend};
use ranger::gpu::{BenchOptions, GpuBackend, HybridBackend, bench_backends, cases};
use std::sync::Arc;
use std::time::Duration;

fn sizes() -> Vec<usize> {
    std::env::var("RANGER_BENCH_SIZES")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec![256, 1_024, 4_096])
}

fn main() {
    let sizes = sizes();
    let gpu = match GpuBackend::new() {
        Ok(g) => Some(Arc::new(g)),
        Err(e) => {
            eprintln!("no GPU backend, measuring the CPU only: {e}");
            None
        }
    };
    if let Some(g) = &gpu {
        for &size in &sizes {
            let items = cases::valid_items(1, size);
            let cpu_before = ranger::bench::process_cpu_ms();
            match g.recover_pass_times(&items) {
                Ok(t) => println!(
                    "gpu recover passes at {size}: prepare {:.1} ms, mul {:.1} ms, finish {:.1} ms \
                     (process CPU time {} ms, steadier than wall time on a loaded machine)",
                    t[0].as_secs_f64() * 1e3,
                    t[1].as_secs_f64() * 1e3,
                    t[2].as_secs_f64() * 1e3,
                    ranger::bench::process_cpu_ms()
                        .zip(cpu_before)
                        .map_or("n/a".to_string(), |(a, b)| (a - b).to_string())
                ),
                Err(e) => eprintln!("pass times: {e}"),
            }
        }
    }
    if std::env::var_os("RANGER_BENCH_PASSES_ONLY").is_some() {
        return;
    }
    let mut kinds = vec![BackendKind::Cpu];
    if gpu.is_some() {
        kinds.extend([BackendKind::Gpu, BackendKind::Hybrid]);
    }
    let opts = BenchOptions {
        sizes: sizes.clone(),
        min_time: Duration::from_secs(2),
        seed: 1,
    };
    match bench_backends(&kinds, &opts) {
        Ok(report) => {
            println!("{}", report.to_table());
            match serde_json::to_string(&report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("report not serializable: {e}"),
            }
        }
        Err(e) => eprintln!("bench_backends failed: {e}"),
    }

    let mut backends: Vec<Arc<dyn Backend>> = vec![Arc::new(CpuBackend)];
    if let Some(g) = &gpu {
        backends.push(g.clone());
        backends.push(Arc::new(HybridBackend::with_gpu(g.clone())));
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    for &size in &sizes {
        let items = cases::valid_items(1, size);
        let batch = cases::bench_messages(1, size);
        let mut rec = c.benchmark_group("recover");
        rec.throughput(Throughput::Elements(size as u64));
        for b in &backends {
            rec.bench_with_input(BenchmarkId::new(b.name(), size), &items, |bench, items| {
                bench.iter(|| b.recover_batch(items));
            });
        }
        rec.finish();
        let mut hash = c.benchmark_group("keccak");
        hash.throughput(Throughput::Elements(size as u64));
        for b in &backends {
            hash.bench_with_input(BenchmarkId::new(b.name(), size), &batch, |bench, batch| {
                bench.iter(|| b.keccak_batch(batch));
            });
        }
        hash.finish();
    }
    c.final_summary();
}
