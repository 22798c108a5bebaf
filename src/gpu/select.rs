//! `choose_backend`: turns `--backend auto|cpu|gpu|hybrid` into a backend and one line saying
//! why.
//!
//! `auto` first reads the adapter's device type, which costs no device and no shader compile. An
//! adapter whose device type is a CPU (llvmpipe, lavapipe, WARP) emulates a GPU on the same cores
//! and is never faster than the CPU backend, so `auto` takes the CPU there without measuring.
//! Only with a real GPU does it open the device and measure CPU and GPU recovery on the same
//! batch; the caller may remember that answer per adapter (`remembered`, and
//! [`Chosen::measured`] to store) so that the measurement runs once per machine, not per command.
//! Without a usable adapter it says why and uses the CPU.

use super::backend::GpuBackend;
use super::error::GpuError;
use super::hybrid::HybridBackend;
use crate::crypto::{Backend, BackendKind, CpuBackend};
use std::sync::Arc;
use std::time::Instant;

/// Recoveries in `auto`'s first comparison: small, so a GPU that is clearly slower is rejected
/// quickly.
const AUTO_PROBE_SMALL: usize = 256;
/// Recoveries in the second comparison, run only when the small one was close: large enough that
/// a real GPU's dispatch overhead does not hide its throughput.
const AUTO_PROBE_LARGE: usize = 4_096;
/// "Clearly slower": the GPU took this many times the CPU's time on the small probe.
const AUTO_CLEARLY_SLOWER: f64 = 4.0;

/// A backend and why it was chosen (for the user: "auto: … is a CPU device, not measured").
#[derive(Debug)]
pub struct Chosen {
    pub backend: Arc<dyn Backend>,
    pub why: String,
    /// What `auto` measured this time, for the caller to remember; `None` when nothing was
    /// measured.
    pub measured: Option<Measured>,
}

/// One measurement of `auto`: the adapter it was made on and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The adapter and the ranger version, as [`adapter_key`] spells them.
    pub adapter: String,
    pub gpu_faster: bool,
    pub cpu_recoveries_per_s: u64,
    pub gpu_recoveries_per_s: u64,
}

/// The key an `auto` measurement is remembered under: adapter name, PCI ids, driver, graphics
/// API and the ranger version (new kernels or a new driver measure again).
pub fn adapter_key(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} [{:04x}:{:04x}] {} {} ({:?}), ranger {}",
        info.name,
        info.vendor,
        info.device,
        info.driver,
        info.driver_info,
        info.backend,
        env!("CARGO_PKG_VERSION")
    )
}

/// Opens the backend `kind` names (`auto` without memory: it measures whenever it finds a real
/// GPU).
pub fn open_backend(kind: BackendKind) -> Result<Arc<dyn Backend>, GpuError> {
    choose_backend(kind, &|_| None).map(|c| c.backend)
}

/// Opens the backend `kind` names. For `auto`, `remembered(key)` gives an earlier measurement's
/// answer for the adapter of that [`adapter_key`] (`Some(true)`: the GPU was faster).
pub fn choose_backend(
    kind: BackendKind,
    remembered: &dyn Fn(&str) -> Option<bool>,
) -> Result<Chosen, GpuError> {
    let asked = |backend: Arc<dyn Backend>| Chosen {
        backend,
        why: "asked for".into(),
        measured: None,
    };
    Ok(match kind {
        BackendKind::Cpu => asked(Arc::new(CpuBackend)),
        BackendKind::Gpu => asked(Arc::new(GpuBackend::new()?)),
        BackendKind::Hybrid => asked(Arc::new(HybridBackend::new()?)),
        BackendKind::Auto => auto(remembered),
    })
}

fn cpu(why: String) -> Chosen {
    Chosen {
        backend: Arc::new(CpuBackend),
        why,
        measured: None,
    }
}

fn auto(remembered: &dyn Fn(&str) -> Option<bool>) -> Chosen {
    let info = match super::context::adapter() {
        Ok(a) => a.get_info(),
        Err(GpuError::NoAdapter { .. }) => return cpu("auto: no GPU adapter".into()),
        Err(e) => return cpu(format!("auto: no usable GPU adapter ({e})")),
    };
    if info.device_type == wgpu::DeviceType::Cpu {
        return cpu(format!(
            "auto: the adapter {} ({:?}) is a CPU device, never faster than the CPU backend; \
             not measured",
            info.name, info.backend
        ));
    }
    let key = adapter_key(&info);
    let open = |why: String| match GpuBackend::new() {
        Ok(g) => Ok(g),
        Err(e) => Err(cpu(format!("{why}, but it did not open ({e})"))),
    };
    match remembered(&key) {
        Some(false) => {
            return cpu(format!(
                "auto: the CPU was faster than {} when measured (remembered)",
                info.name
            ));
        }
        Some(true) => {
            return match open(format!("auto: {} was faster when measured", info.name)) {
                Ok(g) => Chosen {
                    backend: Arc::new(g),
                    why: format!(
                        "auto: {} was faster than the CPU when measured (remembered)",
                        info.name
                    ),
                    measured: None,
                },
                Err(c) => c,
            };
        }
        None => {}
    }
    let gpu = match open(format!("auto: found {}", info.name)) {
        Ok(g) => g,
        Err(c) => return c,
    };
    let m = measure(&gpu, key);
    let why = format!(
        "auto: measured on {}: CPU {} recoveries/s, GPU {}/s",
        info.name, m.cpu_recoveries_per_s, m.gpu_recoveries_per_s
    );
    let backend: Arc<dyn Backend> = if m.gpu_faster {
        Arc::new(gpu)
    } else {
        Arc::new(CpuBackend)
    };
    Chosen {
        backend,
        why,
        measured: Some(m),
    }
}

/// Times CPU and GPU recovery on the same batch (a larger one when the small one was close).
fn measure(gpu: &GpuBackend, adapter: String) -> Measured {
    let time = |b: &dyn Backend, items: &[crate::crypto::RecoverItem]| {
        let t = Instant::now();
        let _ = b.recover_batch(items);
        t.elapsed().as_secs_f64().max(1e-9)
    };
    let mut probe = AUTO_PROBE_SMALL;
    let items = super::cases::valid_items(0xA070, probe);
    // CPU twice, keeping the better run: its first run also starts rayon's threads.
    let mut cpu = time(&CpuBackend, &items).min(time(&CpuBackend, &items));
    let mut g = time(gpu, &items);
    if g < AUTO_CLEARLY_SLOWER * cpu {
        probe = AUTO_PROBE_LARGE;
        let items = super::cases::valid_items(0xA071, probe);
        cpu = time(&CpuBackend, &items);
        g = time(gpu, &items);
    }
    let m = Measured {
        adapter,
        gpu_faster: g < cpu && !gpu.has_failed(),
        cpu_recoveries_per_s: (probe as f64 / cpu) as u64,
        gpu_recoveries_per_s: (probe as f64 / g) as u64,
    };
    tracing::info!(target: "ranger::gpu", adapter = %m.adapter, probe,
        cpu = m.cpu_recoveries_per_s, gpu = m.gpu_recoveries_per_s, "backend auto: measured");
    m
}
