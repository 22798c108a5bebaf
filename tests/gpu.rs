//! Differential tests of the GPU and hybrid backends against `CpuBackend` (libsecp256k1, sha3)
//! and the kernels' CPU twin, on seeded random inputs and every edge case.
//!
//! Without an adapter these tests print why and skip; with `RANGER_REQUIRE_GPU=1` they fail
//! instead, so CI on a machine with lavapipe cannot pass by skipping. Dispatch limits are capped
//! so that batch splitting is exercised on small batches and the suite stays quick on lavapipe.

use ranger::crypto::{Backend, BackendKind, CpuBackend, MessageBatch};
use ranger::gpu::{GpuBackend, GpuError, HybridBackend, cases, open_backend, twin};
use std::sync::{Arc, OnceLock};

fn require_gpu() -> bool {
    std::env::var("RANGER_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

/// The shared GPU backend, or None (after saying why) when this machine has no adapter.
fn gpu() -> Option<Arc<GpuBackend>> {
    static GPU: OnceLock<Result<Arc<GpuBackend>, GpuError>> = OnceLock::new();
    match GPU.get_or_init(|| GpuBackend::new().map(Arc::new)) {
        Ok(g) => Some(g.clone()),
        Err(e @ GpuError::NoAdapter { .. }) => {
            assert!(!require_gpu(), "RANGER_REQUIRE_GPU=1 but there is no GPU adapter: {e}");
            eprintln!("SKIPPED (no GPU adapter; set RANGER_REQUIRE_GPU=1 to fail instead): {e}");
            None
        }
        Err(e) => panic!("a GPU adapter exists but the GPU backend failed: {e}"),
    }
}

fn assert_same_recoveries(backend: &dyn Backend, items: &[ranger::crypto::RecoverItem]) {
    let want = CpuBackend.recover_batch(items);
    let got = backend.recover_batch(items);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{} item {i}: {:?}", backend.name(), items[i]);
    }
}

#[test]
fn gpu_recovery_matches_cpu_and_twin() {
    let Some(gpu) = gpu() else { return };
    let mut items = cases::edge_items(11);
    items.extend(cases::valid_items(12, 256));
    let got = gpu.try_recover_batch(&items).unwrap_or_else(|e| panic!("GPU failed: {e}"));
    let twin = twin::recover_batch(&items, &twin::curve::g_table());
    let want = CpuBackend.recover_batch(&items);
    for (i, ((g, t), w)) in got.iter().zip(&twin).zip(&want).enumerate() {
        assert_eq!(t, w, "twin item {i}: {:?}", items[i]);
        assert_eq!(g, w, "gpu item {i}: {:?}", items[i]);
    }
    for code in 1..=4 {
        assert!(want.iter().any(|r| r.err().map(|e| e.code()) == Some(code)), "no case with code {code}");
    }
}

#[test]
fn gpu_keccak_matches_cpu_and_twin() {
    let Some(gpu) = gpu() else { return };
    let batch = cases::keccak_batch(13, 300, 1100);
    let got = gpu.try_keccak_batch(&batch).unwrap_or_else(|e| panic!("GPU failed: {e}"));
    assert_eq!(got, CpuBackend.keccak_batch(&batch));
    assert_eq!(got, twin::keccak_batch(&batch));
}

#[test]
fn gpu_backend_reports_adapter_and_warmup() {
    let Some(gpu) = gpu() else { return };
    let info = gpu.adapter_info();
    assert!(!info.name.is_empty());
    assert!(gpu.warmup_time() > std::time::Duration::ZERO);
    eprintln!("adapter {} ({:?}), warm-up {:?}", info.name, info.backend, gpu.warmup_time());
}
