//! The GLV split of a scalar and its width-5 NAF, as `shaders/recover_prepare.wgsl` (the split)
//! and `shaders/shared/glv.wgsl` (signed halves, NAF) compute them.
//!
//! secp256k1 has an endomorphism φ(x, y) = (β·x, y) = λ·(x, y). Any scalar k splits as
//! k ≡ k1 + k2·λ (mod n) with |k1|, |k2| < 2^128 (the lattice basis below), so k·P =
//! k1·P + k2·φ(P) takes half as many doublings. The split is the rounding one:
//! c1 = round(k·g1 / 2^384), c2 = round(k·g2 / 2^384), k2 = c1·(−b1) + c2·(−b2), k1 = k − k2·λ.

use super::field::{Limbs, N, N_C, N_C_LEN, add_raw, gte, mul_wide, neg_mod, reduce_wide, sub_mod};

/// λ, a cube root of 1 modulo n with λ·(x, y) = (β·x, y).
pub const LAMBDA: Limbs = [
    0x1B23_BD72,
    0xDF02_967C,
    0x2081_6678,
    0x122E_22EA,
    0x8812_645A,
    0xA526_1C02,
    0xC05C_30E0,
    0x5363_AD4C,
];
/// β, a cube root of 1 modulo p.
pub const BETA: Limbs = [
    0x7195_01EE,
    0xC139_6C28,
    0x12F5_8995,
    0x9CF0_4975,
    0xAC34_34E9,
    0x6E64_479E,
    0x657C_0710,
    0x7AE9_6A2B,
];
/// −b1 = 0xE4437ED6010E88286F547FA90ABFE4C3 (basis vector (a1, b1), a1 + b1·λ ≡ 0).
pub const MINUS_B1: Limbs = [
    0x0ABF_E4C3,
    0x6F54_7FA9,
    0x010E_8828,
    0xE443_7ED6,
    0,
    0,
    0,
    0,
];
/// −b2 mod n, with b2 = a1 = 0x3086D221A7D46BCDE86C90E49284EB15.
pub const MINUS_B2: Limbs = [
    0x3DB1_562C,
    0xD765_CDA8,
    0x0774_346D,
    0x8A28_0AC5,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
];
/// g1 = round(2^384 · b2 / n).
pub const G1: Limbs = [
    0x45DB_B031,
    0xE893_209A,
    0x71E8_CA7F,
    0x3DAA_8A14,
    0x9284_EB15,
    0xE86C_90E4,
    0xA7D4_6BCD,
    0x3086_D221,
];
/// g2 = round(2^384 · (−b1) / n).
pub const G2: Limbs = [
    0x8AC4_7F71,
    0x1571_B4AE,
    0x9DF5_06C6,
    0x2212_08AC,
    0x0ABF_E4C4,
    0x6F54_7FA9,
    0x010E_8828,
    0xE443_7ED6,
];

/// Signed 4-bit digits per half-scalar: 32 windows of a 128-bit magnitude plus the final carry.
pub const DIGITS: usize = 33;

/// round(k·g / 2^384) for 256-bit k and g.
fn mul_shift_384(k: &Limbs, g: &Limbs) -> Limbs {
    let t = mul_wide(k, g);
    let mut r = [0u32; 8];
    r[..4].copy_from_slice(&t[12..]);
    // Round half up on bit 383.
    let round = t[11] >> 31;
    add_raw(&r, &[round, 0, 0, 0, 0, 0, 0, 0]).0
}

/// One half of a split: |k_i| as 128 bits and whether k_i is negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Half {
    pub mag: [u32; 4],
    pub neg: bool,
}

/// n/2 rounded down: values above it are taken as negative.
const HALF_N: Limbs = [
    0x681B_20A0,
    0xDFE9_2F46,
    0x57A4_501D,
    0x5D57_6E73,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0x7FFF_FFFF,
];

fn signed_half(k: &Limbs) -> Half {
    let neg = !gte(&HALF_N, k);
    let m = if neg { neg_mod(k, &N) } else { *k };
    Half {
        mag: [m[0], m[1], m[2], m[3]],
        neg,
    }
}

/// Splits a reduced scalar k into (k1, k2) with k ≡ k1 + k2·λ (mod n).
pub fn split(k: &Limbs) -> (Half, Half) {
    let c1 = mul_shift_384(k, &G1);
    let c2 = mul_shift_384(k, &G2);
    let nmul = |a: &Limbs, b: &Limbs| reduce_wide(&mul_wide(a, b), &N, &N_C, N_C_LEN);
    let t1 = nmul(&c1, &MINUS_B1);
    let t2 = nmul(&c2, &MINUS_B2);
    let k2 = super::field::add_mod(&t1, &t2, &N);
    let k1 = sub_mod(k, &nmul(&k2, &LAMBDA), &N);
    (signed_half(&k1), signed_half(&k2))
}

/// The signed 4-bit digits of a 128-bit magnitude: Σ dᵢ·16^i = mag with dᵢ in −8..=7 (the top
/// one 0 or 1). Every window has a digit, so the kernel's chain is the same for every input:
/// 4 doublings and one table addition (or a skipped one for 0) per window and half.
pub fn signed_digits(mag: &[u32; 4]) -> [i32; DIGITS] {
    let mut out = [0i32; DIGITS];
    let mut carry = 0u32;
    for (i, d) in out.iter_mut().enumerate().take(DIGITS - 1) {
        let v = ((mag[i / 8] >> ((i % 8) * 4)) & 15) + carry;
        carry = u32::from(v >= 8);
        *d = v as i32 - 16 * carry as i32;
    }
    out[DIGITS - 1] = carry as i32;
    out
}

#[cfg(test)]
mod tests {
    use super::super::field::{ONE, P, fe_mul, from_be_bytes, sc_mul, to_be_bytes};
    use super::*;
    use alloy_primitives::{U256, U512};
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn u(a: &Limbs) -> U256 {
        U256::from_be_bytes(to_be_bytes(a))
    }

    #[test]
    fn constants_are_what_they_claim() {
        let n = u(&N);
        // λ³ ≡ 1 (mod n), β³ ≡ 1 (mod p), both non-trivial.
        assert_eq!(sc_mul(&sc_mul(&LAMBDA, &LAMBDA), &LAMBDA), ONE);
        assert_eq!(fe_mul(&fe_mul(&BETA, &BETA), &BETA), ONE);
        assert_ne!(LAMBDA, ONE);
        assert_ne!(BETA, ONE);
        assert!(u(&BETA) < u(&P));
        // a1 + b1·λ ≡ 0 and a2 + b2·λ ≡ 0 with a2 = a1 − b1 and b2 = a1 (so −b2 = n − a1).
        let a1 = U256::from_str_radix("3086D221A7D46BCDE86C90E49284EB15", 16).unwrap_or_default();
        assert_eq!(u(&MINUS_B2), n - a1);
        let a1l = from_be_bytes(&a1.to_be_bytes::<32>());
        assert_eq!(sc_mul(&MINUS_B1, &LAMBDA), a1l);
        let a2 = a1 + u(&MINUS_B1);
        let a2l = from_be_bytes(&a2.to_be_bytes::<32>());
        assert_eq!(sc_mul(&MINUS_B2, &LAMBDA), a2l);
        // g1, g2 are the rounded quotients.
        let round = |num: U512| (num + U512::from(n) / U512::from(2u8)) / U512::from(n);
        let g1 = round(U512::from(a1) << 384);
        let g2 = round(U512::from(u(&MINUS_B1)) << 384);
        assert_eq!(g1, U512::from(u(&G1)));
        assert_eq!(g2, U512::from(u(&G2)));
    }

    #[test]
    fn split_recombines_and_halves_are_short() {
        let mut rng = StdRng::seed_from_u64(4);
        let edge = [
            [0u32; 8],
            ONE,
            super::super::field::sub_raw(&N, &ONE).0,
            HALF_N,
            LAMBDA,
        ];
        for i in 0..20_000 {
            let k = if i < edge.len() {
                edge[i]
            } else {
                let x: Limbs = rng.random();
                if gte(&x, &N) {
                    super::super::field::sub_raw(&x, &N).0
                } else {
                    x
                }
            };
            let (h1, h2) = split(&k);
            let back = |h: &Half| {
                let m = [h.mag[0], h.mag[1], h.mag[2], h.mag[3], 0, 0, 0, 0];
                if h.neg { neg_mod(&m, &N) } else { m }
            };
            let k1 = back(&h1);
            let k2 = back(&h2);
            let sum = super::super::field::add_mod(&k1, &sc_mul(&k2, &LAMBDA), &N);
            assert_eq!(sum, k, "split of {k:?}");
            // The magnitudes fit in 128 bits by construction of `Half`; check they are exact.
            let full = |h: &Half| {
                let m = [h.mag[0], h.mag[1], h.mag[2], h.mag[3], 0, 0, 0, 0];
                if h.neg { neg_mod(&m, &N) } else { m }
            };
            assert_eq!(full(&h1), k1);
            let r1 = split(&k).0;
            let m1 = [r1.mag[0], r1.mag[1], r1.mag[2], r1.mag[3], 0, 0, 0, 0];
            let back1 = if r1.neg { neg_mod(&m1, &N) } else { m1 };
            assert_eq!(back1, k1);
        }
    }

    #[test]
    fn signed_digits_are_in_range_and_sum_back() {
        let mut rng = StdRng::seed_from_u64(5);
        for i in 0..5_000 {
            let mag: [u32; 4] = match i {
                0 => [u32::MAX; 4],
                1 => [0; 4],
                2 => [0x8888_8888; 4],
                _ => rng.random(),
            };
            let digits = signed_digits(&mag);
            let mut acc = alloy_primitives::I256::ZERO;
            for &d in digits.iter().rev() {
                assert!((-8..=7).contains(&d));
                acc = acc * alloy_primitives::I256::from_raw(U256::from(16u8))
                    + alloy_primitives::I256::try_from(d).unwrap_or_default();
            }
            assert!((0..=1).contains(&digits[DIGITS - 1]));
            let mut m = [0u32; 8];
            m[..4].copy_from_slice(&mag);
            assert_eq!(acc.into_raw(), u(&m));
        }
    }
}
