// shared/keccak.wgsl: Keccak-f[1600] on 32-bit half-lanes (lane j = (s[2j], s[2j+1])).
// Twin: src/gpu/twin/keccak.rs.

const RC_LO: array<u32, 24> = array<u32, 24>(
    0x00000001u, 0x00008082u, 0x0000808Au, 0x80008000u, 0x0000808Bu, 0x80000001u,
    0x80008081u, 0x00008009u, 0x0000008Au, 0x00000088u, 0x80008009u, 0x8000000Au,
    0x8000808Bu, 0x0000008Bu, 0x00008089u, 0x00008003u, 0x00008002u, 0x00000080u,
    0x0000800Au, 0x8000000Au, 0x80008081u, 0x00008080u, 0x80000001u, 0x80008008u);
const RC_HI: array<u32, 24> = array<u32, 24>(
    0x00000000u, 0x00000000u, 0x80000000u, 0x80000000u, 0x00000000u, 0x00000000u,
    0x80000000u, 0x80000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u,
    0x00000000u, 0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u,
    0x00000000u, 0x80000000u, 0x80000000u, 0x80000000u, 0x00000000u, 0x80000000u);
// Rotation offset of lane x + 5y.
const ROT: array<u32, 25> = array<u32, 25>(
    0u, 1u, 62u, 28u, 27u, 36u, 44u, 6u, 55u, 20u, 3u, 10u, 43u, 25u, 39u,
    41u, 45u, 15u, 21u, 8u, 18u, 2u, 61u, 56u, 14u);
// Rate of Keccak-256 in 32-bit words (136 bytes).
const RATE_WORDS: u32 = 34u;

// Rotates the lane (lo, hi) left by n bits.
fn rotl64(lo: u32, hi: u32, n: u32) -> vec2<u32> {
    if (n == 0u) {
        return vec2<u32>(lo, hi);
    }
    if (n < 32u) {
        return vec2<u32>((lo << n) | (hi >> (32u - n)), (hi << n) | (lo >> (32u - n)));
    }
    if (n == 32u) {
        return vec2<u32>(hi, lo);
    }
    let m = n - 32u;
    return vec2<u32>((hi << m) | (lo >> (32u - m)), (lo << m) | (hi >> (32u - m)));
}

fn keccak_f(s: ptr<function, array<u32, 50>>) {
    for (var round = 0u; round < opaque(24u); round++) {
        // theta
        var c: array<u32, 10>;
        for (var x = 0u; x < 5u; x++) {
            for (var h = 0u; h < 2u; h++) {
                c[2u * x + h] = (*s)[2u * x + h] ^ (*s)[2u * (x + 5u) + h]
                    ^ (*s)[2u * (x + 10u) + h] ^ (*s)[2u * (x + 15u) + h]
                    ^ (*s)[2u * (x + 20u) + h];
            }
        }
        for (var x = 0u; x < 5u; x++) {
            let x1 = (x + 1u) % 5u;
            let x4 = (x + 4u) % 5u;
            let r = rotl64(c[2u * x1], c[2u * x1 + 1u], 1u);
            let dl = c[2u * x4] ^ r.x;
            let dh = c[2u * x4 + 1u] ^ r.y;
            for (var y = 0u; y < 5u; y++) {
                (*s)[2u * (x + 5u * y)] ^= dl;
                (*s)[2u * (x + 5u * y) + 1u] ^= dh;
            }
        }
        // rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
        var b: array<u32, 50>;
        for (var x = 0u; x < 5u; x++) {
            for (var y = 0u; y < 5u; y++) {
                let src = x + 5u * y;
                let dst = y + 5u * ((2u * x + 3u * y) % 5u);
                let r = rotl64((*s)[2u * src], (*s)[2u * src + 1u], ROT[src]);
                b[2u * dst] = r.x;
                b[2u * dst + 1u] = r.y;
            }
        }
        // chi
        for (var y = 0u; y < 5u; y++) {
            for (var x = 0u; x < 5u; x++) {
                let i = x + 5u * y;
                let i1 = (x + 1u) % 5u + 5u * y;
                let i2 = (x + 2u) % 5u + 5u * y;
                for (var h = 0u; h < 2u; h++) {
                    (*s)[2u * i + h] = b[2u * i + h] ^ (~b[2u * i1 + h] & b[2u * i2 + h]);
                }
            }
        }
        // iota
        (*s)[0] ^= RC_LO[round];
        (*s)[1] ^= RC_HI[round];
    }
}
