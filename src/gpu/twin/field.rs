//! 256-bit arithmetic modulo p and modulo n, limb for limb as `shaders/shared/field.wgsl` does it.
//!
//! A value is eight little-endian 32-bit limbs, always fully reduced (below its modulus). WGSL has
//! no 64-bit integers and no mul-high, so every 32×32 → 64 product is built from four 16×16 products
//! ([`mul32`]); this twin does the same so that a test of it is a test of the kernel's arithmetic.
//! Both moduli are 2^256 − c with a short c (p: c = 2^32 + 977; n: c < 2^129), so a 512-bit product
//! t = hi·2^256 + lo reduces by folding: t ≡ lo + hi·c, repeated until it fits, then one subtraction.

/// Eight little-endian 32-bit limbs.
pub type Limbs = [u32; 8];

/// The field prime p = 2^256 − 2^32 − 977.
pub const P: Limbs = [
    0xFFFF_FC2F,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
];
/// 2^256 − p = 2^32 + 977, as five limbs (the fold constant of [`reduce_wide`]).
pub const P_C: [u32; 5] = [977, 1, 0, 0, 0];
/// Limbs of `P_C` that are not zero.
pub const P_C_LEN: usize = 2;

/// The group order n.
pub const N: Limbs = [
    0xD036_4141,
    0xBFD2_5E8C,
    0xAF48_A03B,
    0xBAAE_DCE6,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
];
/// 2^256 − n (129 bits).
pub const N_C: [u32; 5] = [0x2FC9_BEBF, 0x402D_A173, 0x50B7_5FC4, 0x4551_2319, 1];
/// Limbs of `N_C` that are not zero.
pub const N_C_LEN: usize = 5;

/// p − 2: the exponent of a Fermat inversion modulo p.
pub const P_MINUS_2: Limbs = [
    0xFFFF_FC2D,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
];
/// (p + 1) / 4: since p ≡ 3 (mod 4), a^((p+1)/4) is a square root of a when one exists.
pub const P_SQRT_EXP: Limbs = [
    0xBFFF_FF0C,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0x3FFF_FFFF,
];
/// n − 2: the exponent of a Fermat inversion modulo n.
pub const N_MINUS_2: Limbs = [
    0xD036_413F,
    0xBFD2_5E8C,
    0xAF48_A03B,
    0xBAAE_DCE6,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFF,
];

/// Zero.
pub const ZERO: Limbs = [0; 8];
/// One.
pub const ONE: Limbs = [1, 0, 0, 0, 0, 0, 0, 0];

/// The full 64-bit product of two 32-bit words as (low, high), from 16-bit halves.
pub fn mul32(a: u32, b: u32) -> (u32, u32) {
    let (a0, a1) = (a & 0xFFFF, a >> 16);
    let (b0, b1) = (b & 0xFFFF, b >> 16);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Each term is below 2^16 + 2·(2^16 − 1), so `mid` cannot overflow.
    let mid = (p00 >> 16) + (p01 & 0xFFFF) + (p10 & 0xFFFF);
    let lo = (p00 & 0xFFFF) | (mid << 16);
    let hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16);
    (lo, hi)
}

/// a + b + carry_in as (sum, carry_out), with carry_in ≤ 1.
#[inline]
pub fn adc(a: u32, b: u32, c: u32) -> (u32, u32) {
    let s = a.wrapping_add(b);
    let c1 = u32::from(s < a);
    let t = s.wrapping_add(c);
    let c2 = u32::from(t < s);
    (t, c1 + c2)
}

/// a − b − borrow_in as (difference, borrow_out), with borrow_in ≤ 1.
#[inline]
pub fn sbb(a: u32, b: u32, borrow: u32) -> (u32, u32) {
    let d = a.wrapping_sub(b);
    let b1 = u32::from(a < b);
    let e = d.wrapping_sub(borrow);
    let b2 = u32::from(d < borrow);
    (e, b1 + b2)
}

/// t + a·b + c as (low, high): never overflows 64 bits for 32-bit inputs.
#[inline]
fn mac(t: u32, a: u32, b: u32, c: u32) -> (u32, u32) {
    let (lo, hi) = mul32(a, b);
    let s1 = t.wrapping_add(lo);
    let c1 = u32::from(s1 < t);
    let s2 = s1.wrapping_add(c);
    let c2 = u32::from(s2 < s1);
    (s2, hi + c1 + c2)
}

/// The 512-bit product a·b (operand scanning).
pub fn mul_wide(a: &Limbs, b: &Limbs) -> [u32; 16] {
    let mut t = [0u32; 16];
    for i in 0..8 {
        let mut carry = 0;
        for j in 0..8 {
            let (lo, hi) = mac(t[i + j], a[i], b[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        t[i + 8] = carry;
    }
    t
}

/// a² with each off-diagonal product computed once and doubled, plus the limbs' squares: 36
/// word products instead of 64 (the kernels' `sqr_wide`).
pub fn sqr_wide(a: &Limbs) -> [u32; 16] {
    let mut t = [0u32; 16];
    for i in 0..7 {
        let mut carry = 0;
        for j in i + 1..8 {
            let (lo, hi) = mac(t[i + j], a[i], a[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        t[i + 8] = carry;
    }
    for k in (1..16).rev() {
        t[k] = (t[k] << 1) | (t[k - 1] >> 31);
    }
    t[0] <<= 1;
    let mut cy = 0;
    for i in 0..8 {
        let (lo, hi) = mul32(a[i], a[i]);
        let (s, c) = adc(t[2 * i], lo, cy);
        t[2 * i] = s;
        let (s2, c2) = adc(t[2 * i + 1], hi, c);
        t[2 * i + 1] = s2;
        cy = c2;
    }
    t
}

/// lo + hi·c for a 256-bit `lo`, an `hlen`-limb `hi` and a `clen`-limb `c`, as 14 limbs.
fn fold(lo: &Limbs, hi: &[u32; 8], hlen: usize, c: &[u32; 5], clen: usize) -> [u32; 14] {
    let mut r = [0u32; 14];
    r[..8].copy_from_slice(lo);
    for i in 0..hlen {
        let mut carry = 0;
        for j in 0..clen {
            let (l, h) = mac(r[i + j], hi[i], c[j], carry);
            r[i + j] = l;
            carry = h;
        }
        // Propagate the row's carry; the total stays below 2^(32·14), so it dies out.
        let mut k = i + clen;
        while carry != 0 && k < 14 {
            let (s, c2) = adc(r[k], carry, 0);
            r[k] = s;
            carry = c2;
            k += 1;
        }
    }
    r
}

/// a ≥ m for 256-bit values.
pub fn gte(a: &Limbs, m: &Limbs) -> bool {
    for i in (0..8).rev() {
        if a[i] != m[i] {
            return a[i] > m[i];
        }
    }
    true
}

/// a − m (wrapping), with the borrow.
pub fn sub_raw(a: &Limbs, m: &Limbs) -> (Limbs, u32) {
    let mut r = [0u32; 8];
    let mut b = 0;
    for i in 0..8 {
        let (d, b2) = sbb(a[i], m[i], b);
        r[i] = d;
        b = b2;
    }
    (r, b)
}

/// a + m (wrapping), with the carry.
pub fn add_raw(a: &Limbs, m: &Limbs) -> (Limbs, u32) {
    let mut r = [0u32; 8];
    let mut c = 0;
    for i in 0..8 {
        let (s, c2) = adc(a[i], m[i], c);
        r[i] = s;
        c = c2;
    }
    (r, c)
}

/// t mod m for a 512-bit t and m = 2^256 − c.
pub fn reduce_wide(t: &[u32; 16], m: &Limbs, c: &[u32; 5], clen: usize) -> Limbs {
    let mut lo: Limbs = [0; 8];
    let mut hi: [u32; 8] = [0; 8];
    lo.copy_from_slice(&t[..8]);
    hi.copy_from_slice(&t[8..]);
    let mut hlen = 8;
    // Each fold shrinks the part above 2^256 by 256 − bits(c) bits; three folds bring any
    // 512-bit value under 2^256 + 2^(bits(c) + 2), after which the top limbs are zero.
    for _ in 0..3 {
        let r = fold(&lo, &hi, hlen, c, clen);
        lo.copy_from_slice(&r[..8]);
        hi = [0; 8];
        hi[..6].copy_from_slice(&r[8..]);
        hlen = 6;
    }
    // Now lo < 2^256 and hi is 0 (the third fold leaves at most a bit that the loop would have
    // folded); one more fold for safety is cheap and makes the bound obvious.
    if hi.iter().any(|&x| x != 0) {
        let r = fold(&lo, &hi, hlen, c, clen);
        lo.copy_from_slice(&r[..8]);
    }
    if gte(&lo, m) {
        lo = sub_raw(&lo, m).0;
    }
    lo
}

/// (a + b) mod m for reduced a, b.
pub fn add_mod(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
    let (s, c) = add_raw(a, b);
    if c != 0 || gte(&s, m) {
        sub_raw(&s, m).0
    } else {
        s
    }
}

/// (a − b) mod m for reduced a, b.
pub fn sub_mod(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
    let (d, borrow) = sub_raw(a, b);
    if borrow != 0 { add_raw(&d, m).0 } else { d }
}

/// (−a) mod m for a reduced a.
pub fn neg_mod(a: &Limbs, m: &Limbs) -> Limbs {
    sub_mod(&ZERO, a, m)
}

/// True when a is zero.
pub fn is_zero(a: &Limbs) -> bool {
    a.iter().all(|&x| x == 0)
}

/// a·b mod p.
pub fn fe_mul(a: &Limbs, b: &Limbs) -> Limbs {
    reduce_wide(&mul_wide(a, b), &P, &P_C, P_C_LEN)
}

/// a² mod p.
pub fn fe_sqr(a: &Limbs) -> Limbs {
    reduce_wide(&sqr_wide(a), &P, &P_C, P_C_LEN)
}

/// a + b mod p.
pub fn fe_add(a: &Limbs, b: &Limbs) -> Limbs {
    add_mod(a, b, &P)
}

/// a − b mod p.
pub fn fe_sub(a: &Limbs, b: &Limbs) -> Limbs {
    sub_mod(a, b, &P)
}

/// −a mod p.
pub fn fe_neg(a: &Limbs) -> Limbs {
    neg_mod(a, &P)
}

/// a·b mod n.
pub fn sc_mul(a: &Limbs, b: &Limbs) -> Limbs {
    reduce_wide(&mul_wide(a, b), &N, &N_C, N_C_LEN)
}

/// a^e mod m with a 4-bit fixed window (256 squarings, 64 multiplications): the shape of the
/// kernel's exponentiation, shared by inversion and square root.
pub fn pow_mod(a: &Limbs, e: &Limbs, m: &Limbs, c: &[u32; 5], clen: usize) -> Limbs {
    let mul = |x: &Limbs, y: &Limbs| reduce_wide(&mul_wide(x, y), m, c, clen);
    let sqr = |x: &Limbs| reduce_wide(&sqr_wide(x), m, c, clen);
    let mut table = [ONE; 16];
    table[1] = *a;
    for i in 2..16 {
        table[i] = mul(&table[i - 1], a);
    }
    let mut r = ONE;
    for i in (0..64).rev() {
        for _ in 0..4 {
            r = sqr(&r);
        }
        let nib = (e[i / 8] >> ((i % 8) * 4)) & 0xF;
        if nib != 0 {
            r = mul(&r, &table[nib as usize]);
        }
    }
    r
}

/// a^−1 mod p (0 for a = 0).
pub fn fe_inv(a: &Limbs) -> Limbs {
    pow_mod(a, &P_MINUS_2, &P, &P_C, P_C_LEN)
}

/// A square root of a mod p, or None when a is not a square.
pub fn fe_sqrt(a: &Limbs) -> Option<Limbs> {
    let r = pow_mod(a, &P_SQRT_EXP, &P, &P_C, P_C_LEN);
    (fe_sqr(&r) == *a).then_some(r)
}

/// a^−1 mod n (0 for a = 0).
pub fn sc_inv(a: &Limbs) -> Limbs {
    pow_mod(a, &N_MINUS_2, &N, &N_C, N_C_LEN)
}

/// Limbs of a 32-byte big-endian integer (no reduction).
pub fn from_be_bytes(b: &[u8; 32]) -> Limbs {
    let mut r = [0u32; 8];
    for (i, limb) in r.iter_mut().enumerate() {
        let o = 28 - 4 * i;
        *limb = u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    }
    r
}

/// The 32-byte big-endian encoding of a value.
pub fn to_be_bytes(a: &Limbs) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, limb) in a.iter().enumerate() {
        let o = 28 - 4 * i;
        b[o..o + 4].copy_from_slice(&limb.to_be_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, U512};
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn to_u256(a: &Limbs) -> U256 {
        U256::from_be_bytes(to_be_bytes(a))
    }
    fn from_u256(x: U256) -> Limbs {
        from_be_bytes(&x.to_be_bytes::<32>())
    }
    fn modulus(m: &Limbs) -> U512 {
        U512::from(to_u256(m))
    }
    fn reference_mul(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
        let prod = U512::from(to_u256(a)) * U512::from(to_u256(b));
        from_u256(U256::from(prod % modulus(m)))
    }
    /// Random values biased towards the edges: small, near 2^256, near the modulus.
    fn sample(rng: &mut StdRng, m: &Limbs) -> Limbs {
        let x: Limbs = rng.random();
        let v = match rng.random_range(0..6) {
            0 => [rng.random_range(0..4), 0, 0, 0, 0, 0, 0, 0],
            1 => sub_raw(m, &[rng.random_range(1..4), 0, 0, 0, 0, 0, 0, 0]).0,
            2 => [
                u32::MAX,
                u32::MAX,
                x[2],
                x[3],
                u32::MAX,
                u32::MAX,
                u32::MAX,
                u32::MAX,
            ],
            _ => x,
        };
        if gte(&v, m) { sub_raw(&v, m).0 } else { v }
    }

    #[test]
    fn mul32_is_the_64_bit_product() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100_000 {
            let (a, b): (u32, u32) = (rng.random(), rng.random());
            let w = u64::from(a) * u64::from(b);
            assert_eq!(mul32(a, b), (w as u32, (w >> 32) as u32));
        }
        let w = u64::from(u32::MAX) * u64::from(u32::MAX);
        assert_eq!(mul32(u32::MAX, u32::MAX), (w as u32, (w >> 32) as u32));
    }

    #[test]
    fn mod_mul_add_sub_match_big_integers() {
        let mut rng = StdRng::seed_from_u64(2);
        for (m, c, clen) in [(P, P_C, P_C_LEN), (N, N_C, N_C_LEN)] {
            for _ in 0..20_000 {
                let a = sample(&mut rng, &m);
                let b = sample(&mut rng, &m);
                assert_eq!(
                    reduce_wide(&mul_wide(&a, &b), &m, &c, clen),
                    reference_mul(&a, &b, &m)
                );
                let sum = (U512::from(to_u256(&a)) + U512::from(to_u256(&b))) % modulus(&m);
                assert_eq!(add_mod(&a, &b, &m), from_u256(U256::from(sum)));
                let diff =
                    (U512::from(to_u256(&a)) + modulus(&m) - U512::from(to_u256(&b))) % modulus(&m);
                assert_eq!(sub_mod(&a, &b, &m), from_u256(U256::from(diff)));
            }
        }
    }

    #[test]
    fn squaring_is_the_product_with_itself() {
        let mut rng = StdRng::seed_from_u64(21);
        for i in 0..20_000 {
            let a: Limbs = if i == 0 {
                [u32::MAX; 8]
            } else {
                sample(&mut rng, &P)
            };
            assert_eq!(sqr_wide(&a), mul_wide(&a, &a));
        }
    }

    #[test]
    fn reduction_of_the_largest_product() {
        let max = [u32::MAX; 8];
        let t = mul_wide(&max, &max);
        for (m, c, clen) in [(P, P_C, P_C_LEN), (N, N_C, N_C_LEN)] {
            let prod = U512::from(U256::MAX) * U512::from(U256::MAX);
            let want = from_u256(U256::from(prod % modulus(&m)));
            assert_eq!(reduce_wide(&t, &m, &c, clen), want);
        }
    }

    #[test]
    fn inverses_and_square_roots() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..200 {
            let a = sample(&mut rng, &P);
            if is_zero(&a) {
                continue;
            }
            assert_eq!(fe_mul(&a, &fe_inv(&a)), ONE);
            let sq = fe_sqr(&a);
            let r = fe_sqrt(&sq).unwrap_or(ZERO);
            assert!(r == a || r == fe_neg(&a));
            let s = sample(&mut rng, &N);
            if !is_zero(&s) {
                assert_eq!(sc_mul(&s, &sc_inv(&s)), ONE);
            }
        }
        // −1 is not a square modulo p (p ≡ 3 mod 4).
        assert_eq!(fe_sqrt(&fe_neg(&ONE)), None);
    }

    #[test]
    fn exponent_constants_match_their_definitions() {
        let p = to_u256(&P);
        let n = to_u256(&N);
        assert_eq!(p, U256::MAX - U256::from(0x1_0000_03D0u64));
        assert_eq!(to_u256(&P_MINUS_2), p - U256::from(2));
        assert_eq!(to_u256(&P_SQRT_EXP), (p + U256::from(1)) / U256::from(4));
        assert_eq!(n, crate::crypto::secp::SECP256K1_N);
        assert_eq!(to_u256(&N_MINUS_2), n - U256::from(2));
        let nc = U512::from(1u8) << 256;
        let nc = nc - U512::from(n);
        let mut c = [0u32; 8];
        c[..5].copy_from_slice(&N_C);
        assert_eq!(U512::from(to_u256(&c)), nc);
    }
}
