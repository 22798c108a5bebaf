//! `HybridBackend`: every batch is split between the CPU and the GPU in proportion to their
//! measured throughput, and both halves run at the same time.
//!
//! Throughputs start from a calibration run of each backend alone and are re-measured on every
//! split batch (exponential moving average), so the split follows load and batch shape. Answers
//! are the concatenation of the two halves' answers, each of which equals `CpuBackend`'s.

use super::backend::GpuBackend;
use super::error::GpuError;
use crate::crypto::{Backend, CpuBackend, MessageBatch, RecoverError, RecoverItem};
use alloy_primitives::{Address, B256};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Below this many items a side is not worth a thread: the whole batch goes to the faster side.
const MIN_SPLIT: usize = 64;
/// Weight of the newest measurement in the moving average.
const EWMA: f64 = 0.3;
/// Recoveries per backend in the calibration run.
const CALIBRATION_RECOVERIES: usize = 256;
/// Messages per backend in the calibration run.
const CALIBRATION_MESSAGES: usize = 2_048;

/// Items per second of each side for one kind of work.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Throughput {
    pub cpu: f64,
    pub gpu: f64,
}

impl Throughput {
    /// The GPU's share of a batch, in [0, 1].
    pub fn gpu_share(&self) -> f64 {
        let total = self.cpu + self.gpu;
        if total > 0.0 && total.is_finite() {
            self.gpu / total
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Rates {
    recover: Throughput,
    keccak: Throughput,
}

/// The hybrid backend.
#[derive(Debug)]
pub struct HybridBackend {
    gpu: Arc<GpuBackend>,
    rates: Mutex<Rates>,
}

fn rate(items: usize, started: Instant) -> f64 {
    items as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

impl HybridBackend {
    /// Opens the GPU and calibrates.
    pub fn new() -> Result<HybridBackend, GpuError> {
        Ok(Self::with_gpu(Arc::new(GpuBackend::new()?)))
    }

    /// A hybrid over an already opened GPU backend; calibrates both sides.
    pub fn with_gpu(gpu: Arc<GpuBackend>) -> HybridBackend {
        let items = super::cases::valid_items(0xCA11, CALIBRATION_RECOVERIES);
        let batch = super::cases::bench_messages(0xCA11, CALIBRATION_MESSAGES);
        let measure_rec = |b: &dyn Backend| {
            let t = Instant::now();
            let _ = b.recover_batch(&items);
            rate(items.len(), t)
        };
        let measure_hash = |b: &dyn Backend| {
            let t = Instant::now();
            let _ = b.keccak_batch(&batch);
            rate(batch.len(), t)
        };
        let recover = Throughput {
            cpu: measure_rec(&CpuBackend),
            gpu: measure_rec(gpu.as_ref()),
        };
        let keccak = Throughput {
            cpu: measure_hash(&CpuBackend),
            gpu: measure_hash(gpu.as_ref()),
        };
        tracing::info!(
            target: "ranger::gpu::hybrid",
            recover_cpu = recover.cpu, recover_gpu = recover.gpu,
            keccak_cpu = keccak.cpu, keccak_gpu = keccak.gpu,
            "hybrid backend calibrated (items/s)"
        );
        HybridBackend {
            gpu,
            rates: Mutex::new(Rates { recover, keccak }),
        }
    }

    /// Overrides the throughput estimates (they are re-measured from the next batch on).
    pub fn set_throughput(&self, recover: Throughput, keccak: Throughput) {
        *self.lock() = Rates { recover, keccak };
    }

    /// Current throughput estimates for recovery.
    pub fn recover_throughput(&self) -> Throughput {
        self.lock().recover
    }

    /// Current throughput estimates for hashing.
    pub fn keccak_throughput(&self) -> Throughput {
        self.lock().keccak
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Rates> {
        self.rates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Items of an `n`-item batch that go to the GPU.
    fn gpu_items(n: usize, t: Throughput) -> usize {
        let k = (n as f64 * t.gpu_share()).round() as usize;
        let k = k.min(n);
        if n < 2 * MIN_SPLIT {
            return if t.gpu > t.cpu { n } else { 0 };
        }
        if k < MIN_SPLIT {
            0
        } else if n - k < MIN_SPLIT {
            n
        } else {
            k
        }
    }

    /// Runs items `[0, k)` on the GPU and `[k, n)` on the CPU at once, and updates the rates.
    fn split_run<O: Send>(
        &self,
        n: usize,
        select: fn(&mut Rates) -> &mut Throughput,
        gpu_part: impl FnOnce(std::ops::Range<usize>) -> Vec<O> + Send,
        cpu_part: impl FnOnce(std::ops::Range<usize>) -> Vec<O>,
    ) -> Vec<O> {
        let k = if self.gpu.has_failed() {
            0
        } else {
            Self::gpu_items(n, *select(&mut self.lock()))
        };
        let (mut g, g_rate, c, c_rate) = std::thread::scope(|s| {
            let handle = s.spawn(move || {
                if k == 0 {
                    return (Vec::new(), None);
                }
                let t = Instant::now();
                let v = gpu_part(0..k);
                (v, Some(rate(k, t)))
            });
            let t = Instant::now();
            let c = if k < n { cpu_part(k..n) } else { Vec::new() };
            let c_rate = (k < n).then(|| rate(n - k, t));
            let (g, g_rate) = match handle.join() {
                Ok(x) => x,
                Err(p) => std::panic::resume_unwind(p),
            };
            (g, g_rate, c, c_rate)
        });
        {
            let mut rates = self.lock();
            let t = select(&mut rates);
            if let Some(r) = g_rate {
                t.gpu = EWMA * r + (1.0 - EWMA) * t.gpu;
            }
            if let Some(r) = c_rate {
                t.cpu = EWMA * r + (1.0 - EWMA) * t.cpu;
            }
            if self.gpu.has_failed() {
                t.gpu = 0.0;
            }
        }
        g.extend(c);
        g
    }
}

impl Backend for HybridBackend {
    fn name(&self) -> &str {
        "hybrid"
    }

    fn keccak_batch(&self, batch: &MessageBatch) -> Vec<B256> {
        self.split_run(
            batch.len(),
            |r| &mut r.keccak,
            |range| self.gpu.keccak_batch(&batch.slice(range)),
            |range| CpuBackend.keccak_batch(&batch.slice(range)),
        )
    }

    fn recover_batch(&self, items: &[RecoverItem]) -> Vec<Result<Address, RecoverError>> {
        self.split_run(
            items.len(),
            |r| &mut r.recover,
            |range| self.gpu.recover_batch(&items[range]),
            |range| CpuBackend.recover_batch(&items[range]),
        )
    }

    fn gpu_share(&self) -> Option<(f64, f64)> {
        let r = self.lock();
        Some((r.recover.gpu_share(), r.keccak.gpu_share()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sizes_follow_the_rates_and_respect_the_minimum() {
        let even = Throughput {
            cpu: 100.0,
            gpu: 100.0,
        };
        assert_eq!(HybridBackend::gpu_items(1000, even), 500);
        let gpu_fast = Throughput {
            cpu: 100.0,
            gpu: 300.0,
        };
        assert_eq!(HybridBackend::gpu_items(1000, gpu_fast), 750);
        // A side that would get fewer than MIN_SPLIT items gets none.
        let gpu_slow = Throughput {
            cpu: 1000.0,
            gpu: 10.0,
        };
        assert_eq!(HybridBackend::gpu_items(1000, gpu_slow), 0);
        let cpu_slow = Throughput {
            cpu: 10.0,
            gpu: 1000.0,
        };
        assert_eq!(HybridBackend::gpu_items(1000, cpu_slow), 1000);
        // Small batches go whole to the faster side.
        assert_eq!(HybridBackend::gpu_items(50, gpu_fast), 50);
        assert_eq!(HybridBackend::gpu_items(50, even), 0);
        assert_eq!(HybridBackend::gpu_items(0, gpu_fast), 0);
        // No measurement at all: everything stays on the CPU.
        assert_eq!(
            HybridBackend::gpu_items(1000, Throughput { cpu: 0.0, gpu: 0.0 }),
            0
        );
    }
}
