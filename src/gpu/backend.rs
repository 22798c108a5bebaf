//! `GpuBackend`: the `Backend` trait over the wgpu context, with batches split into dispatches of
//! bounded size and answers decoded exactly as `CpuBackend` gives them.
//!
//! The trait's methods cannot return an error, and a wrong answer is never acceptable: if the GPU
//! fails mid-batch (device lost, readback failure), the batch is redone on the CPU, a warning is
//! logged, and the backend stays on the CPU from then on. `try_keccak_batch` and
//! `try_recover_batch` expose the error to callers that want it.

use super::context::{
    Context, KECCAK_DISPATCH_BYTES, KECCAK_DISPATCH_LIMIT, RECOVER_DISPATCH_LIMIT,
};
use super::error::GpuError;
use super::layout::RecoverInput;
use super::twin::{decode_out, input_slot, keccak::pack_words};
use crate::crypto::{Backend, CpuBackend, MessageBatch, RecoverError, RecoverItem};
use alloy_primitives::{Address, B256};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Items in the warm-up dispatches: enough to run every branch-free path of each kernel once.
const WARMUP_ITEMS: usize = 16;

/// The process-wide GPU context with its warm-up time: opened once, shared by every
/// `GpuBackend` (and so by `HybridBackend` and `auto`), because compiling the kernels is the
/// expensive part of start-up (tens of seconds on lavapipe).
#[derive(Debug)]
struct Shared {
    ctx: Context,
    warmup: Duration,
}

static SHARED: Mutex<Option<Arc<Shared>>> = Mutex::new(None);

/// The GPU backend.
#[derive(Debug)]
pub struct GpuBackend {
    shared: Arc<Shared>,
    failed: AtomicBool,
    recover_limit: AtomicUsize,
    keccak_limit: AtomicUsize,
}

impl GpuBackend {
    /// Opens the GPU (honouring `WGPU_BACKEND` and `WGPU_ADAPTER_NAME`), compiles the kernels and
    /// runs each once, so that the first real batch pays no compilation. The context is opened
    /// once per process; later calls share it.
    pub fn new() -> Result<GpuBackend, GpuError> {
        let mut slot = SHARED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let shared = match slot.as_ref() {
            Some(s) => s.clone(),
            None => {
                let start = Instant::now();
                let ctx = Context::new()?;
                let probe = GpuBackend::over(Arc::new(Shared {
                    ctx,
                    warmup: Duration::ZERO,
                }));
                probe.warmup()?;
                let Shared { ctx, .. } = Arc::try_unwrap(probe.shared)
                    .map_err(|_| GpuError::Device("GPU context shared during warm-up".into()))?;
                let s = Arc::new(Shared {
                    ctx,
                    warmup: start.elapsed(),
                });
                tracing::info!(
                    target: "ranger::gpu",
                    adapter = %s.ctx.adapter_info().name,
                    backend = ?s.ctx.adapter_info().backend,
                    warmup_ms = s.warmup.as_millis() as u64,
                    init_ms = s.ctx.init_time().as_millis() as u64,
                    "GPU backend ready"
                );
                *slot = Some(s.clone());
                s
            }
        };
        Ok(GpuBackend::over(shared))
    }

    fn over(shared: Arc<Shared>) -> GpuBackend {
        GpuBackend {
            shared,
            failed: AtomicBool::new(false),
            recover_limit: AtomicUsize::new(RECOVER_DISPATCH_LIMIT),
            keccak_limit: AtomicUsize::new(KECCAK_DISPATCH_LIMIT),
        }
    }

    /// Runs every kernel on a few inputs and checks the answers against the CPU.
    pub fn warmup(&self) -> Result<(), GpuError> {
        let items = super::cases::valid_items(0x5eed, WARMUP_ITEMS);
        let got = self.try_recover_batch(&items)?;
        let mut batch = MessageBatch::new();
        for i in 0..WARMUP_ITEMS {
            batch.push(&vec![i as u8; i * 20]);
        }
        let hashes = self.try_keccak_batch(&batch)?;
        if got != CpuBackend.recover_batch(&items) || hashes != CpuBackend.keccak_batch(&batch) {
            return Err(GpuError::Device(format!(
                "the adapter {} computes wrong results (a driver bug: Debian's Mesa 22 lavapipe is \
                 known to; run .ci/install-mesa for Mesa 25)",
                self.shared.ctx.adapter_info().name
            )));
        }
        Ok(())
    }

    /// Time from the first `new()` to ready: device, pipelines (or pipeline cache), G table,
    /// first runs of every kernel.
    pub fn warmup_time(&self) -> Duration {
        self.shared.warmup
    }

    /// The adapter in use.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        self.shared.ctx.adapter_info()
    }

    /// The pipeline cache file, when the backend supports one (Vulkan).
    pub fn pipeline_cache_path(&self) -> Option<&std::path::PathBuf> {
        self.shared.ctx.pipeline_cache_path()
    }

    /// Caps the items per dispatch (at most the built-in limits; at least 1). Larger batches are
    /// split into several dispatches, as they always are past the built-in limits; tests use
    /// small caps to exercise the split on small batches.
    pub fn set_dispatch_limits(&self, recover: usize, keccak: usize) {
        self.recover_limit
            .store(recover.clamp(1, RECOVER_DISPATCH_LIMIT), Ordering::Relaxed);
        self.keccak_limit
            .store(keccak.clamp(1, KECCAK_DISPATCH_LIMIT), Ordering::Relaxed);
    }

    /// keccak256 of every message, or the GPU's error.
    pub fn try_keccak_batch(&self, batch: &MessageBatch) -> Result<Vec<B256>, GpuError> {
        let mut out = Vec::with_capacity(batch.len());
        let offsets = batch.offsets();
        let mut start = 0;
        while start < batch.len() {
            // Grow the chunk while it stays under both limits (always at least one message).
            let mut end = (start + self.keccak_limit.load(Ordering::Relaxed)).min(batch.len());
            let base = offsets[start] as usize;
            if offsets[end] as usize - base > KECCAK_DISPATCH_BYTES {
                let limit = (base + KECCAK_DISPATCH_BYTES) as u32;
                end = offsets[start + 1..=end].partition_point(|&o| o <= limit) + start;
                end = end.max(start + 1);
            }
            let sub = batch.slice(start..end);
            let words = pack_words(sub.data());
            let digests = self.shared.ctx.keccak(&words, sub.offsets())?;
            out.extend(digests.chunks_exact(8).map(|w| {
                let mut b = [0u8; 32];
                for (i, x) in w.iter().enumerate() {
                    b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
                }
                B256::from(b)
            }));
            start = end;
        }
        Ok(out)
    }

    /// The signer of every item, or the GPU's error.
    pub fn try_recover_batch(
        &self,
        items: &[RecoverItem],
    ) -> Result<Vec<Result<Address, RecoverError>>, GpuError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(self.recover_limit.load(Ordering::Relaxed).max(1)) {
            let inputs: Vec<RecoverInput> = chunk.iter().map(input_slot).collect();
            let slots = self.shared.ctx.recover(&inputs)?;
            if slots.len() != chunk.len() {
                return Err(GpuError::Readback(format!(
                    "got {} results for {} items",
                    slots.len(),
                    chunk.len()
                )));
            }
            out.extend(chunk.iter().zip(&slots).map(|(i, s)| decode_out(i, s)));
        }
        Ok(out)
    }

    /// Wall time of each recovery pass (prepare, mul, finish) over `items` (at most one
    /// dispatch), each submitted alone: where a batch's time goes.
    pub fn recover_pass_times(&self, items: &[RecoverItem]) -> Result<[Duration; 3], GpuError> {
        let inputs: Vec<RecoverInput> = items
            .iter()
            .take(RECOVER_DISPATCH_LIMIT)
            .map(input_slot)
            .collect();
        Ok(self.shared.ctx.recover_profiled(&inputs)?.1)
    }

    /// Whether an earlier GPU failure moved this backend to the CPU.
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    fn give_up(&self, e: &GpuError) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            tracing::warn!(target: "ranger::gpu", error = %e, "GPU failed; this backend now runs on the CPU");
        }
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> &str {
        "gpu"
    }

    fn keccak_batch(&self, batch: &MessageBatch) -> Vec<B256> {
        if !self.has_failed() {
            match self.try_keccak_batch(batch) {
                Ok(v) => return v,
                Err(e) => self.give_up(&e),
            }
        }
        CpuBackend.keccak_batch(batch)
    }

    fn recover_batch(&self, items: &[RecoverItem]) -> Vec<Result<Address, RecoverError>> {
        if !self.has_failed() {
            match self.try_recover_batch(items) {
                Ok(v) => return v,
                Err(e) => self.give_up(&e),
            }
        }
        CpuBackend.recover_batch(items)
    }
}
