//! `bench_backends`: recoveries/s and hashes/s of each backend over a range of batch sizes, as a
//! serializable report for `ranger bench --backend …` and `benches/gpu.rs`.
//!
//! Opening a backend (device, kernels, calibration) is timed separately as warm-up and never
//! counted in a throughput. Every timed batch is also checked against `CpuBackend`'s answers, so
//! a fast wrong backend shows up as `verified: false`, not as a good number.

use super::backend::GpuBackend;
use super::error::GpuError;
use super::select::open_backend;
use crate::crypto::{Backend, BackendKind, CpuBackend, MessageBatch, RecoverItem};
use std::time::{Duration, Instant};

/// Batch sizes of a full run: powers of 4 from 256 to 65,536.
pub const DEFAULT_SIZES: [usize; 5] = [256, 1_024, 4_096, 16_384, 65_536];

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Batch sizes, each measured for every backend.
    pub sizes: Vec<usize>,
    /// Minimum time spent per (backend, size, operation); at least one batch always runs.
    pub min_time: Duration,
    /// Seed of the generated signatures and messages.
    pub seed: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            sizes: DEFAULT_SIZES.to_vec(),
            min_time: Duration::from_secs(1),
            seed: 1,
        }
    }
}

impl BenchOptions {
    /// A short run: sizes up to 4,096 and 0.3 s per measurement.
    pub fn quick() -> Self {
        Self {
            sizes: vec![256, 1_024, 4_096],
            min_time: Duration::from_millis(300),
            seed: 1,
        }
    }
    /// Drops sizes above `max`.
    pub fn cap(mut self, max: usize) -> Self {
        self.sizes.retain(|&s| s <= max);
        self
    }
}

/// One batch size of one backend.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchPoint {
    pub batch: usize,
    pub recoveries_per_s: f64,
    pub hashes_per_s: f64,
    /// Message bytes hashed per second (messages are 32–200 bytes).
    pub hash_bytes_per_s: f64,
    /// Every timed batch gave exactly `CpuBackend`'s answers.
    pub verified: bool,
}

/// One backend.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackendReport {
    /// The backend's name ("cpu", "gpu", "hybrid"); `auto` reports what it chose.
    pub backend: String,
    /// What was asked for.
    pub requested: String,
    /// Time to open the backend here (calibration, and the device and kernels unless an
    /// earlier backend of this process had opened them).
    pub warmup_ms: f64,
    /// Warm-up of the process's GPU context (device, kernel compilation, first runs), for
    /// backends that use the GPU.
    pub gpu_warmup_ms: Option<f64>,
    /// The adapter, for backends that use the GPU.
    pub adapter: Option<String>,
    pub points: Vec<BenchPoint>,
}

/// The whole report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub backends: Vec<BackendReport>,
}

impl BenchReport {
    /// A plain-text table, one line per (backend, batch size).
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "{:<8} {:>9} {:>14} {:>14} {:>10} {:>9}\n",
            "backend", "batch", "recoveries/s", "hashes/s", "warmup_ms", "verified"
        );
        for b in &self.backends {
            if let (Some(a), Some(w)) = (&b.adapter, b.gpu_warmup_ms) {
                s.push_str(&format!(
                    "# {}: adapter {a}, GPU warm-up {w:.0} ms\n",
                    b.backend
                ));
            }
        }
        for b in &self.backends {
            for p in &b.points {
                s.push_str(&format!(
                    "{:<8} {:>9} {:>14.0} {:>14.0} {:>10.0} {:>9}\n",
                    b.backend,
                    p.batch,
                    p.recoveries_per_s,
                    p.hashes_per_s,
                    b.gpu_warmup_ms.unwrap_or(b.warmup_ms),
                    p.verified
                ));
            }
        }
        s
    }
}

fn kind_name(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Auto => "auto",
        BackendKind::Cpu => "cpu",
        BackendKind::Gpu => "gpu",
        BackendKind::Hybrid => "hybrid",
    }
}

/// Runs `op` until `min_time` has passed (at least once) and returns (items/s, all results equal
/// `expected`).
fn measure<T: PartialEq>(
    items: usize,
    min_time: Duration,
    expected: &[T],
    op: impl Fn() -> Vec<T>,
) -> (f64, bool) {
    let mut runs = 0u32;
    let mut ok = true;
    let start = Instant::now();
    loop {
        let got = op();
        ok &= got.as_slice() == expected;
        runs += 1;
        if start.elapsed() >= min_time {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    (f64::from(runs) * items as f64 / secs, ok)
}

/// Measures every backend of `kinds` at every size of `opts`.
pub fn bench_backends(kinds: &[BackendKind], opts: &BenchOptions) -> Result<BenchReport, GpuError> {
    let mut opened: Vec<(BackendKind, std::sync::Arc<dyn Backend>, Duration)> = Vec::new();
    for &kind in kinds {
        let t = Instant::now();
        let b = open_backend(kind)?;
        opened.push((kind, b, t.elapsed()));
    }
    let mut reports: Vec<BackendReport> = opened
        .iter()
        .map(|(kind, b, warm)| {
            // The GPU context is shared, so this is free once any GPU backend is open.
            let gpu = (b.name() != "cpu")
                .then(GpuBackend::new)
                .and_then(Result::ok);
            BackendReport {
                backend: b.name().to_string(),
                requested: kind_name(*kind).to_string(),
                warmup_ms: warm.as_secs_f64() * 1e3,
                gpu_warmup_ms: gpu.as_ref().map(|g| g.warmup_time().as_secs_f64() * 1e3),
                adapter: gpu.as_ref().map(|g| {
                    let i = g.adapter_info();
                    format!("{} ({:?})", i.name, i.backend)
                }),
                points: Vec::new(),
            }
        })
        .collect();
    for &size in &opts.sizes {
        let items: Vec<RecoverItem> = super::cases::valid_items(opts.seed, size);
        let batch: MessageBatch = super::cases::bench_messages(opts.seed, size);
        let want_rec = CpuBackend.recover_batch(&items);
        let want_hash = CpuBackend.keccak_batch(&batch);
        let bytes_per_msg = batch.total_bytes() as f64 / size.max(1) as f64;
        for ((_, backend, _), report) in opened.iter().zip(reports.iter_mut()) {
            // One untimed run so that buffer growth is not measured.
            let _ = backend.recover_batch(&items[..size.min(64)]);
            let (rec, ok1) = measure(size, opts.min_time, &want_rec, || {
                backend.recover_batch(&items)
            });
            let (hash, ok2) = measure(size, opts.min_time, &want_hash, || {
                backend.keccak_batch(&batch)
            });
            report.points.push(BenchPoint {
                batch: size,
                recoveries_per_s: rec,
                hashes_per_s: hash,
                hash_bytes_per_s: hash * bytes_per_msg,
                verified: ok1 && ok2,
            });
        }
    }
    Ok(BenchReport { backends: reports })
}
