//! The GPU backend (wgpu compute) and the hybrid backend, behind `crate::crypto::Backend`.
//!
//! Kernels live in `shaders/` and are validated at build time; [`twin`] is their CPU twin, the
//! reference the tests hold them to. Every backend returns exactly what `CpuBackend` returns.

pub mod cases;
pub mod layout;
pub mod twin;
