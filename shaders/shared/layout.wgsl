// shared/layout.wgsl: the structs the host writes and reads; each has a #[repr(C)] twin in
// src/gpu/layout.rs of the same name, with a size test. All fields are u32, so no padding.

// Per-dispatch parameters (twin: layout::Params).
struct Params {
    count: u32,
    // Always 0. Loop bounds are written `opaque(n)` = n + zero so that the driver cannot fully
    // unroll them: the driver inlines every call, and unrolled 256-bit arithmetic at every call
    // site makes kernels that take minutes to compile on lavapipe.
    zero: u32,
    pad1: u32,
    pad2: u32,
}

// One recovery job: raw big-endian bytes read as little-endian words (twin: layout::RecoverInput).
struct RecoverInput {
    hash: array<u32, 8>,
    r: array<u32, 8>,
    s: array<u32, 8>,
    recid: u32,
}

// recover_prepare -> recover_mul (twin: layout::PrepSlot).
struct PrepSlot {
    code: u32,
    neg1: u32,
    neg2: u32,
    pad: u32,
    u1: array<u32, 8>,
    k1: array<u32, 4>,
    k2: array<u32, 4>,
    rx: array<u32, 8>,
    ry: array<u32, 8>,
}

// recover_mul -> recover_finish: Q in projective coordinates, x = X/Z, y = Y/Z (twin:
// layout::ProjSlot).
struct ProjSlot {
    code: u32,
    x: array<u32, 8>,
    y: array<u32, 8>,
    z: array<u32, 8>,
}

// One recovery result (twin: layout::OutSlot).
struct OutSlot {
    code: u32,
    addr: array<u32, 5>,
}

// An entry of the G table (twin: layout::AffinePoint).
struct AffinePoint {
    x: array<u32, 8>,
    y: array<u32, 8>,
}

// n, hidden from the compiler's constant folding (see Params.zero).
fn opaque(n: u32) -> u32 {
    return n + params.zero;
}

// Invocations per workgroup for every kernel.
const WG_SIZE: u32 = 64u;

// The flat invocation index of a (possibly 2-D) dispatch.
fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG_SIZE;
}

// Byte swap: raw big-endian words to limb order.
fn bswap(x: u32) -> u32 {
    return (x << 24u) | ((x << 8u) & 0x00FF0000u) | ((x >> 8u) & 0x0000FF00u) | (x >> 24u);
}

// Limbs of a raw big-endian 32-byte value (twin: recover::limbs_from_raw).
fn limbs_from_raw(w: array<u32, 8>) -> array<u32, 8> {
    var l: array<u32, 8>;
    for (var i = 0u; i < 8u; i++) {
        l[i] = bswap(w[7u - i]);
    }
    return l;
}
