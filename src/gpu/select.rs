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

/// Recoveries in `auto`'s first comparison: ~0.1 s on lavapipe, so a software adapter that is
/// clearly slower is rejected quickly.
const AUTO_PROBE_SMALL: usize = 256;
/// Recoveries in the second comparison, run only when the small one was close: large enough that
/// a real GPU's dispatch overhead does not hide its throughput.
const AUTO_PROBE_LARGE: usize = 4_096;
/// "Clearly slower": the GPU took this many times the CPU's time on the small probe.
const AUTO_CLEARLY_SLOWER: f64 = 4.0;

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
    let time = |b: &dyn Backend, items: &[crate::crypto::RecoverItem]| {
        let t = Instant::now();
        let _ = b.recover_batch(items);
        t.elapsed().as_secs_f64().max(1e-9)
    };
    let mut probe = AUTO_PROBE_SMALL;
    let items = super::cases::valid_items(0xA070, probe);
    // CPU twice, keeping the better run: its first run also starts rayon's threads.
    let mut cpu = time(&CpuBackend, &items).min(time(&CpuBackend, &items));
    let mut g = time(&gpu, &items);
    if g < AUTO_CLEARLY_SLOWER * cpu {
        probe = AUTO_PROBE_LARGE;
        let items = super::cases::valid_items(0xA071, probe);
        cpu = time(&CpuBackend, &items);
        g = time(&gpu, &items);
    }
    let pick_gpu = g < cpu && !gpu.has_failed();
    tracing::info!(
        target: "ranger::gpu",
        adapter = %gpu.adapter_info().name,
        probe,
        cpu_recoveries_per_s = (probe as f64 / cpu) as u64,
        gpu_recoveries_per_s = (probe as f64 / g) as u64,
        chosen = if pick_gpu { "gpu" } else { "cpu" },
        "backend auto: measured CPU and GPU"
    );
    if pick_gpu {
        Arc::new(gpu)
    } else {
        Arc::new(CpuBackend)
    }
}
