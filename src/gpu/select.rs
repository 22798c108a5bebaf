//! `open_backend`: turns `--backend auto|cpu|gpu|hybrid` into a backend.
//!
//! `auto` opens the GPU when there is one, measures CPU and GPU recovery on the same small batch
//! once, and keeps the faster (so a software rasterizer such as lavapipe or llvmpipe loses to the
//! CPU). Without a usable adapter it logs why and uses the CPU.

use super::backend::GpuBackend;
use super::error::GpuError;
use super::hybrid::HybridBackend;
use crate::crypto::{Backend, BackendKind, CpuBackend};
use std::sync::Arc;
use std::time::Instant;

/// Recoveries in `auto`'s comparison: long enough to dwarf dispatch overhead on a real GPU, short
/// enough (~0.1 s on lavapipe) not to delay start-up.
const AUTO_PROBE_ITEMS: usize = 1_024;

/// Opens the backend `kind` names.
pub fn open_backend(kind: BackendKind) -> Result<Arc<dyn Backend>, GpuError> {
    Ok(match kind {
        BackendKind::Cpu => Arc::new(CpuBackend),
        BackendKind::Gpu => Arc::new(GpuBackend::new()?),
        BackendKind::Hybrid => Arc::new(HybridBackend::new()?),
        BackendKind::Auto => auto(),
    })
}

fn auto() -> Arc<dyn Backend> {
    let gpu = match GpuBackend::new() {
        Ok(g) => g,
        Err(e) => {
            tracing::info!(target: "ranger::gpu", reason = %e, "backend auto: no usable GPU, using the CPU");
            return Arc::new(CpuBackend);
        }
    };
    let items = super::cases::valid_items(0xA070, AUTO_PROBE_ITEMS);
    let time = |b: &dyn Backend| {
        let t = Instant::now();
        let _ = b.recover_batch(&items);
        t.elapsed()
    };
    // CPU twice, keeping the better run: its first run also starts rayon's threads.
    let cpu = time(&CpuBackend).min(time(&CpuBackend));
    let g = time(&gpu);
    let per_s = |d: std::time::Duration| AUTO_PROBE_ITEMS as f64 / d.as_secs_f64().max(1e-9);
    let pick_gpu = g < cpu && !gpu.has_failed();
    tracing::info!(
        target: "ranger::gpu",
        adapter = %gpu.adapter_info().name,
        cpu_recoveries_per_s = per_s(cpu) as u64,
        gpu_recoveries_per_s = per_s(g) as u64,
        chosen = if pick_gpu { "gpu" } else { "cpu" },
        "backend auto: measured CPU and GPU"
    );
    if pick_gpu {
        Arc::new(gpu)
    } else {
        Arc::new(CpuBackend)
    }
}
