//! The GPU backend (wgpu compute) and the hybrid backend, behind `crate::crypto::Backend`.
//!
//! Kernels live in `shaders/` and are validated at build time; [`twin`] is their CPU twin, the
//! reference the tests hold them to. Every backend returns exactly what `CpuBackend` returns.

mod backend;
pub mod bench;
pub mod cases;
mod context;
mod error;
mod hybrid;
pub mod layout;
mod select;
mod shaders;
pub mod twin;

pub use backend::GpuBackend;
pub use bench::{BenchOptions, BenchReport, bench_backends};
pub use context::{KECCAK_DISPATCH_LIMIT, RECOVER_DISPATCH_LIMIT, cache_dir};
pub use error::GpuError;
pub use hybrid::{HybridBackend, Throughput};
pub use select::open_backend;
