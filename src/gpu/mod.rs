//! The GPU backend (wgpu compute) and the hybrid backend, behind `crate::crypto::Backend`.
//!
//! Kernels live in `shaders/` and are validated with naga at build time; [`twin`] is their CPU
//! twin, the reference the tests hold them to. Every backend returns exactly what `CpuBackend`
//! returns, including the failure variant.
//!
//! Recovery is three passes over pooled device buffers: `recover_prepare` (range checks, R from r
//! and the parity with the square root by an addition chain over a radix-2^13 field, u1 = −z/r
//! and u2 = s/r mod n with one inversion per 8 items, GLV split of u2), `recover_mul` (k1·R +
//! k2·φ(R) by Strauss–Shamir over signed 4-bit digits, then u1·G from a table of signed 13-bit
//! windows of G, in projective coordinates with complete formulas over the radix-2^13 field
//! (`twin::f13`: a product is 225 plain multiply-adds by two levels of Karatsuba) and no branch on
//! data, so lavapipe's SIMD lanes never diverge) and `recover_finish` (one inversion per 8 points
//! by Montgomery's trick, keccak of x‖y). Only the raw inputs go up and addresses or failure codes
//! come back. The mod-n work of `recover_prepare` and all of `recover_finish` run through a small
//! "field machine" (`shaders/shared/vm.wgsl`): drivers inline every call, and one call site of
//! the (generated, unrolled) 256-bit multiplication keeps lavapipe's compile time to seconds.
//!
//! Environment: `WGPU_BACKEND` (e.g. `vulkan`, `gl`) and `WGPU_ADAPTER_NAME` pick the adapter;
//! `RANGER_CACHE_DIR` (default `~/.cache/ranger`) holds the Vulkan pipeline cache (and the
//! binary keeps `auto`'s remembered measurements beside it, `backend-auto.json`);
//! `RANGER_REQUIRE_GPU=1` makes the GPU tests fail instead of skipping without an adapter.

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
pub use select::{Chosen, Measured, adapter_key, choose_backend, open_backend};
