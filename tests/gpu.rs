//! Differential tests of the GPU and hybrid backends against `CpuBackend` (libsecp256k1,
//! keccak-asm) and the kernels' CPU twin, on seeded random inputs and every edge case.
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

/// Says that a test skipped. `eprintln!` output is captured for passing tests, so this writes to
/// the process's stderr directly: a skip is visible in every run, not only with --nocapture.
fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {why}");
}

/// The shared GPU backend, or None (after saying why) when this machine has no adapter.
fn gpu() -> Option<Arc<GpuBackend>> {
    static GPU: OnceLock<Result<Arc<GpuBackend>, GpuError>> = OnceLock::new();
    match GPU.get_or_init(|| GpuBackend::new().map(Arc::new)) {
        Ok(g) => Some(g.clone()),
        Err(e @ GpuError::NoAdapter { .. }) => {
            assert!(
                !require_gpu(),
                "RANGER_REQUIRE_GPU=1 but there is no GPU adapter: {e}"
            );
            skip(&format!(
                "no GPU adapter; set RANGER_REQUIRE_GPU=1 to fail instead: {e}"
            ));
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
    let got = gpu
        .try_recover_batch(&items)
        .unwrap_or_else(|e| panic!("GPU failed: {e}"));
    let twin = twin::recover_batch(&items, &twin::curve::g_table());
    let want = CpuBackend.recover_batch(&items);
    for (i, ((g, t), w)) in got.iter().zip(&twin).zip(&want).enumerate() {
        assert_eq!(t, w, "twin item {i}: {:?}", items[i]);
        assert_eq!(g, w, "gpu item {i}: {:?}", items[i]);
    }
    for code in 1..=4 {
        assert!(
            want.iter().any(|r| r.err().map(|e| e.code()) == Some(code)),
            "no case with code {code}"
        );
    }
}

#[test]
fn gpu_keccak_matches_cpu_and_twin() {
    let Some(gpu) = gpu() else { return };
    let batch = cases::keccak_batch(13, 300, 1100);
    let got = gpu
        .try_keccak_batch(&batch)
        .unwrap_or_else(|e| panic!("GPU failed: {e}"));
    assert_eq!(got, CpuBackend.keccak_batch(&batch));
    assert_eq!(got, twin::keccak_batch(&batch));
}

#[test]
fn gpu_backend_reports_adapter_and_warmup() {
    let Some(gpu) = gpu() else { return };
    let info = gpu.adapter_info();
    assert!(!info.name.is_empty());
    assert!(gpu.warmup_time() > std::time::Duration::ZERO);
    eprintln!(
        "adapter {} ({:?}), warm-up {:?}",
        info.name,
        info.backend,
        gpu.warmup_time()
    );
}

#[test]
fn batches_larger_than_a_dispatch_are_split() {
    let Some(gpu) = gpu() else { return };
    // A private backend: the dispatch caps must not leak into the other tests.
    let small = match GpuBackend::new() {
        Ok(g) => g,
        Err(e) => panic!("second GPU backend failed: {e}"),
    };
    small.set_dispatch_limits(40, 50);
    let mut items = cases::valid_items(14, 100);
    items.extend(cases::edge_items(15));
    assert_same_recoveries(&small, &items);
    let batch = cases::keccak_batch(16, 120, 400);
    assert_eq!(small.keccak_batch(&batch), CpuBackend.keccak_batch(&batch));
    drop(gpu);
}

#[test]
fn empty_batches() {
    let Some(gpu) = gpu() else { return };
    assert!(gpu.recover_batch(&[]).is_empty());
    assert!(gpu.keccak_batch(&MessageBatch::new()).is_empty());
    let mut one_empty = MessageBatch::new();
    one_empty.push(&[]);
    assert_eq!(
        gpu.keccak_batch(&one_empty),
        CpuBackend.keccak_batch(&one_empty)
    );
}

#[test]
fn hybrid_splits_and_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let hybrid = HybridBackend::with_gpu(gpu);
    assert_eq!(hybrid.name(), "hybrid");
    // Equal estimates: both sides get half of the batch.
    let even = ranger::gpu::Throughput {
        cpu: 1000.0,
        gpu: 1000.0,
    };
    hybrid.set_throughput(even, even);
    let mut items = cases::edge_items(17);
    items.extend(cases::valid_items(18, 200));
    assert_same_recoveries(&hybrid, &items);
    // Both sides ran, so both estimates were re-measured.
    let after = hybrid.recover_throughput();
    assert_ne!(after.cpu, even.cpu);
    assert_ne!(after.gpu, even.gpu);
    hybrid.set_throughput(even, even);
    let batch = cases::keccak_batch(19, 300, 300);
    assert_eq!(hybrid.keccak_batch(&batch), CpuBackend.keccak_batch(&batch));
    assert_ne!(hybrid.keccak_throughput(), even);
}

#[test]
fn open_backend_gives_each_kind() {
    let cpu = open_backend(BackendKind::Cpu).unwrap_or_else(|e| panic!("cpu: {e}"));
    assert_eq!(cpu.name(), "cpu");
    let items = cases::valid_items(20, 20);
    // auto works with or without an adapter, and whatever it picks is correct.
    let auto = open_backend(BackendKind::Auto).unwrap_or_else(|e| panic!("auto: {e}"));
    assert!(["cpu", "gpu"].contains(&auto.name()));
    assert_same_recoveries(auto.as_ref(), &items);
    match open_backend(BackendKind::Gpu) {
        Ok(g) => {
            assert_eq!(g.name(), "gpu");
            assert_same_recoveries(g.as_ref(), &items);
        }
        Err(e @ GpuError::NoAdapter { .. }) => {
            assert!(!require_gpu(), "RANGER_REQUIRE_GPU=1 but: {e}");
            assert!(matches!(
                open_backend(BackendKind::Hybrid),
                Err(GpuError::NoAdapter { .. })
            ));
            skip(&format!("gpu/hybrid kinds (no GPU adapter): {e}"));
        }
        Err(e) => panic!("gpu: {e}"),
    }
}
