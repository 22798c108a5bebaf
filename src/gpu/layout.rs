//! Rust twins of the structs the kernels read and write (`shaders/shared/layout.wgsl`).
//!
//! Each is `#[repr(C)]` + `bytemuck::Pod` with only `u32` fields, so its byte image is what WGSL
//! sees (WGSL arrays of `u32` have stride 4 and these structs have no padding); the size tests pin
//! that down. Big-endian inputs (hash, r, s) travel as their raw bytes: word k is bytes 4k..4k+4
//! read little-endian, and the kernel byte-swaps them into limbs.

use bytemuck::{Pod, Zeroable};

/// One recovery job. Twin of `RecoverInput` in `shaders/shared/layout.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Pod, Zeroable)]
pub struct RecoverInput {
    /// The 32-byte message hash, raw.
    pub hash: [u32; 8],
    /// r, raw big-endian bytes.
    pub r: [u32; 8],
    /// s, raw big-endian bytes.
    pub s: [u32; 8],
    /// The recovery id byte.
    pub recid: u32,
}

/// What `recover_prepare` hands to `recover_mul`. Twin of `PrepSlot` in
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Pod, Zeroable)]
pub struct PrepSlot {
    /// 0, or the failure code (`RecoverError::code`).
    pub code: u32,
    /// 1 when the first GLV half of u2 is negative.
    pub neg1: u32,
    /// 1 when the second GLV half of u2 is negative.
    pub neg2: u32,
    pub pad: u32,
    /// u1 = −z/r mod n, limbs.
    pub u1: [u32; 8],
    /// |k1|, 128 bits.
    pub k1: [u32; 4],
    /// |k2|, 128 bits.
    pub k2: [u32; 4],
    /// R's affine x (= r), limbs.
    pub rx: [u32; 8],
    /// R's affine y with the parity of the recovery id, limbs.
    pub ry: [u32; 8],
}

/// What `recover_mul` hands to `recover_finish`: Q in projective coordinates (x = X/Z, y = Y/Z).
/// Twin of `ProjSlot` in `shaders/shared/layout.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Pod, Zeroable)]
pub struct ProjSlot {
    /// 0, or the failure code.
    pub code: u32,
    pub x: [u32; 8],
    pub y: [u32; 8],
    pub z: [u32; 8],
}

/// One recovery result. Twin of `OutSlot` in `shaders/shared/layout.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Pod, Zeroable)]
pub struct OutSlot {
    /// 0 on success, else `RecoverError::code`.
    pub code: u32,
    /// The 20 address bytes as little-endian words.
    pub addr: [u32; 5],
}

/// Per-dispatch parameters (a uniform). Twin of `Params` in `shaders/shared/layout.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Pod, Zeroable)]
pub struct Params {
    /// Number of items (messages or signatures) in the dispatch.
    pub count: u32,
    /// Always 0: the kernels add it to loop bounds to keep the driver from unrolling them.
    pub zero: u32,
    pub pad: [u32; 2],
}

/// An affine point of the G table: x then y, limbs. Twin of `AffinePoint` in
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Pod, Zeroable)]
pub struct AffinePoint {
    pub x: [u32; 8],
    pub y: [u32; 8],
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn sizes_match_the_wgsl_structs() {
        // 25, 36, 25, 6, 4 and 16 u32 fields respectively, no padding.
        assert_eq!(size_of::<RecoverInput>(), 100);
        assert_eq!(size_of::<PrepSlot>(), 144);
        assert_eq!(size_of::<ProjSlot>(), 100);
        assert_eq!(size_of::<OutSlot>(), 24);
        assert_eq!(size_of::<Params>(), 16);
        assert_eq!(size_of::<AffinePoint>(), 64);
    }
}
