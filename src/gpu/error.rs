//! Errors of the GPU backend. Each says what failed and what the user can do about it.

/// Why the GPU backend could not be created or could not finish a batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GpuError {
    /// No adapter at all: no driver, or a `WGPU_BACKEND` that excludes every driver present.
    #[error(
        "no GPU adapter found (backends tried: {backends}); install a Vulkan driver (on Debian: \
         `bash .ci/install-mesa` for Mesa's lavapipe), check WGPU_BACKEND, or run with --backend cpu"
    )]
    NoAdapter { backends: String },
    /// `WGPU_ADAPTER_NAME` is set but names no adapter.
    #[error("WGPU_ADAPTER_NAME={wanted:?} matches no adapter; available: {available}")]
    AdapterNotFound { wanted: String, available: String },
    /// The adapter refused to create a device.
    #[error("the GPU adapter {adapter} refused to open a device: {reason}")]
    RequestDevice { adapter: String, reason: String },
    /// The device was lost (driver reset, out of memory, GPU removed).
    #[error("the GPU device was lost ({0}); restart the node or use --backend cpu")]
    DeviceLost(String),
    /// wgpu reported an error on a submitted operation (a bug in ranger or the driver).
    #[error("GPU operation failed: {0}")]
    Device(String),
    /// Reading results back from the GPU failed.
    #[error("could not read GPU results back: {0}")]
    Readback(String),
}
