//! The kernels' WGSL, as assembled and validated by `build.rs` (shared code prepended), embedded
//! at compile time: the host compiles exactly the source that naga validated.

/// keccak256 of many messages (entry point `keccak256`).
pub const KECCAK256: &str = include_str!(concat!(env!("OUT_DIR"), "/shaders/keccak256.wgsl"));
/// Recovery pass 1 (entry point `recover_prepare`).
pub const RECOVER_PREPARE: &str =
    include_str!(concat!(env!("OUT_DIR"), "/shaders/recover_prepare.wgsl"));
/// Recovery pass 2 (entry point `recover_mul`).
pub const RECOVER_MUL: &str = include_str!(concat!(env!("OUT_DIR"), "/shaders/recover_mul.wgsl"));
/// Recovery pass 3 (entry point `recover_finish`).
pub const RECOVER_FINISH: &str =
    include_str!(concat!(env!("OUT_DIR"), "/shaders/recover_finish.wgsl"));
