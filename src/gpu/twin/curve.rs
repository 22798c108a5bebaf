//! Jacobian point arithmetic on y² = x³ + 7 and the table of multiples of G, as
//! `shaders/shared/curve.wgsl` does it.
//!
//! A point is (X, Y, Z) with x = X/Z², y = Y/Z³; Z = 0 is the point at infinity. Additions handle
//! every special case (either input at infinity, P + P, P + (−P)) by branching, because a wrong
//! address is never acceptable even for crafted inputs.

use super::f13::{self, F13};
use super::field::{Limbs, ONE, ZERO, fe_add, fe_inv, fe_mul, fe_neg, fe_sqr, fe_sub, is_zero};
use crate::gpu::layout::AffinePoint;
use rayon::prelude::*;

/// A point in Jacobian coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jac {
    pub x: Limbs,
    pub y: Limbs,
    pub z: Limbs,
}

/// The point at infinity.
pub const INFINITY: Jac = Jac {
    x: ONE,
    y: ONE,
    z: ZERO,
};

/// The generator G.
pub const G: AffinePoint = AffinePoint {
    x: [
        0x16F8_1798,
        0x59F2_815B,
        0x2DCE_28D9,
        0x029B_FCDB,
        0xCE87_0B07,
        0x55A0_6295,
        0xF9DC_BBAC,
        0x79BE_667E,
    ],
    y: [
        0xFB10_D4B8,
        0x9C47_D08F,
        0xA685_5419,
        0xFD17_B448,
        0x0E11_08A8,
        0x5DA4_FBFC,
        0x26A3_C465,
        0x483A_DA77,
    ],
};

/// Bits of u1 per window of the G table: 13, read as signed digits in −4095..=4096, so u1·G is
/// 20 table additions and no doubling (8-bit windows took 32). The table is 20·4096 affine
/// points, 5.2 MB.
pub const G_WINDOW_BITS: usize = 13;
/// Windows in the G table: the top one holds bits 247..255 and the last carry, at most 512, so
/// no carry leaves it.
pub const G_WINDOWS: usize = 20;
/// Entries per window: the multiples 1..=4096 (a digit 0 adds nothing, a negative one negates y).
pub const G_ENTRIES: usize = 1 << (G_WINDOW_BITS - 1);

impl Jac {
    /// An affine point with Z = 1.
    pub fn from_affine(x: &Limbs, y: &Limbs) -> Jac {
        Jac {
            x: *x,
            y: *y,
            z: ONE,
        }
    }
    /// True at infinity.
    pub fn is_infinity(&self) -> bool {
        is_zero(&self.z)
    }
    /// −P.
    pub fn neg(&self) -> Jac {
        Jac {
            x: self.x,
            y: fe_neg(&self.y),
            z: self.z,
        }
    }
}

/// 2P (dbl-2009-l; a = 0). Infinity doubles to infinity (Z3 = 2·Y·Z = 0).
pub fn dbl(p: &Jac) -> Jac {
    let a = fe_sqr(&p.x);
    let b = fe_sqr(&p.y);
    let c = fe_sqr(&b);
    let xb = fe_add(&p.x, &b);
    let d0 = fe_sub(&fe_sub(&fe_sqr(&xb), &a), &c);
    let d = fe_add(&d0, &d0);
    let e = fe_add(&fe_add(&a, &a), &a);
    let f = fe_sqr(&e);
    let x3 = fe_sub(&f, &fe_add(&d, &d));
    let c2 = fe_add(&c, &c);
    let c4 = fe_add(&c2, &c2);
    let c8 = fe_add(&c4, &c4);
    let y3 = fe_sub(&fe_mul(&e, &fe_sub(&d, &x3)), &c8);
    let yz = fe_mul(&p.y, &p.z);
    let z3 = fe_add(&yz, &yz);
    Jac {
        x: x3,
        y: y3,
        z: z3,
    }
}

/// P + Q for Jacobian P and Q.
pub fn add(p: &Jac, q: &Jac) -> Jac {
    if p.is_infinity() {
        return *q;
    }
    if q.is_infinity() {
        return *p;
    }
    let z1z1 = fe_sqr(&p.z);
    let z2z2 = fe_sqr(&q.z);
    let u1 = fe_mul(&p.x, &z2z2);
    let u2 = fe_mul(&q.x, &z1z1);
    let s1 = fe_mul(&p.y, &fe_mul(&q.z, &z2z2));
    let s2 = fe_mul(&q.y, &fe_mul(&p.z, &z1z1));
    let h = fe_sub(&u2, &u1);
    let r = fe_sub(&s2, &s1);
    if is_zero(&h) {
        return if is_zero(&r) { dbl(p) } else { INFINITY };
    }
    finish_add(&u1, &s1, &h, &r, &fe_mul(&fe_mul(&p.z, &q.z), &h))
}

/// P + (x, y) for an affine (x, y) (Z2 = 1).
pub fn add_affine(p: &Jac, x: &Limbs, y: &Limbs) -> Jac {
    if p.is_infinity() {
        return Jac::from_affine(x, y);
    }
    let z1z1 = fe_sqr(&p.z);
    let u2 = fe_mul(x, &z1z1);
    let s2 = fe_mul(y, &fe_mul(&p.z, &z1z1));
    let h = fe_sub(&u2, &p.x);
    let r = fe_sub(&s2, &p.y);
    if is_zero(&h) {
        return if is_zero(&r) { dbl(p) } else { INFINITY };
    }
    finish_add(&p.x, &p.y, &h, &r, &fe_mul(&p.z, &h))
}

/// The common tail of both additions: X3 = R² − H³ − 2·U1·H², Y3 = R·(U1·H² − X3) − S1·H³.
fn finish_add(u1: &Limbs, s1: &Limbs, h: &Limbs, r: &Limbs, z3: &Limbs) -> Jac {
    let h2 = fe_sqr(h);
    let h3 = fe_mul(h, &h2);
    let v = fe_mul(u1, &h2);
    let x3 = fe_sub(&fe_sub(&fe_sqr(r), &h3), &fe_add(&v, &v));
    let y3 = fe_sub(&fe_mul(r, &fe_sub(&v, &x3)), &fe_mul(s1, &h3));
    Jac {
        x: x3,
        y: y3,
        z: *z3,
    }
}

/// The field operations the projective formulas need: the reduced 32-bit limbs of `field.rs`
/// (G table, tests) and the radix-2^13 elements of `f13.rs` (what `recover_mul` runs on).
pub trait ProjField: Copy + PartialEq + std::fmt::Debug {
    const ZERO: Self;
    const ONE: Self;
    fn mul(&self, o: &Self) -> Self;
    fn sqr(&self) -> Self;
    fn add(&self, o: &Self) -> Self;
    fn sub(&self, o: &Self) -> Self;
    /// k·self for a small k (at most 21 = 3b).
    fn muls(&self, k: u32) -> Self;
    /// The reduced 32-bit limbs of the value.
    fn reduced(&self) -> Limbs;
}

impl ProjField for Limbs {
    const ZERO: Self = ZERO;
    const ONE: Self = ONE;
    fn mul(&self, o: &Self) -> Self {
        fe_mul(self, o)
    }
    fn sqr(&self) -> Self {
        fe_sqr(self)
    }
    fn add(&self, o: &Self) -> Self {
        fe_add(self, o)
    }
    fn sub(&self, o: &Self) -> Self {
        fe_sub(self, o)
    }
    fn muls(&self, k: u32) -> Self {
        fe_mul(self, &[k, 0, 0, 0, 0, 0, 0, 0])
    }
    fn reduced(&self) -> Limbs {
        *self
    }
}

impl ProjField for F13 {
    const ZERO: Self = f13::ZERO;
    const ONE: Self = f13::ONE;
    fn mul(&self, o: &Self) -> Self {
        f13::mul(self, o)
    }
    fn sqr(&self) -> Self {
        f13::sqr(self)
    }
    fn add(&self, o: &Self) -> Self {
        f13::add(self, o)
    }
    fn sub(&self, o: &Self) -> Self {
        f13::sub(self, o)
    }
    fn muls(&self, k: u32) -> Self {
        f13::muls(self, k)
    }
    fn reduced(&self) -> Limbs {
        f13::to_limbs(self)
    }
}

/// A point in homogeneous projective coordinates (x = X/Z, y = Y/Z), the form `recover_mul`
/// computes in: the complete formulas below have no special cases, so the kernel runs them
/// without branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proj<F = Limbs> {
    pub x: F,
    pub y: F,
    pub z: F,
}

/// The point at infinity in projective coordinates, (0 : 1 : 0).
pub const PROJ_INFINITY: Proj = Proj {
    x: ZERO,
    y: ONE,
    z: ZERO,
};

impl<F: ProjField> Proj<F> {
    /// (0 : 1 : 0).
    pub fn infinity() -> Proj<F> {
        Proj {
            x: F::ZERO,
            y: F::ONE,
            z: F::ZERO,
        }
    }
    /// An affine point with Z = 1.
    pub fn from_affine(x: &F, y: &F) -> Proj<F> {
        Proj {
            x: *x,
            y: *y,
            z: F::ONE,
        }
    }
    /// True at infinity (the formulas keep Z = 0 exactly there).
    pub fn is_infinity(&self) -> bool {
        is_zero(&self.z.reduced())
    }
    /// −P.
    pub fn neg(&self) -> Proj<F> {
        Proj {
            x: self.x,
            y: F::ZERO.sub(&self.y),
            z: self.z,
        }
    }
}

/// P + Q, complete (any P, Q, including P = Q, P = −Q and infinity): Renes–Costello–Batina
/// 2016, algorithm 7 (a = 0), 12 multiplications and 2 by 3b.
pub fn proj_add<F: ProjField>(p: &Proj<F>, q: &Proj<F>) -> Proj<F> {
    let t0 = p.x.mul(&q.x);
    let t1 = p.y.mul(&q.y);
    let t2 = p.z.mul(&q.z);
    let t3 = p.x.add(&p.y).mul(&q.x.add(&q.y)).sub(&t0.add(&t1));
    let t4 = p.y.add(&p.z).mul(&q.y.add(&q.z)).sub(&t1.add(&t2));
    let y3 = p.x.add(&p.z).mul(&q.x.add(&q.z)).sub(&t0.add(&t2));
    add_tail(&t0, &t1, &t2, &t3, &t4, &y3)
}

/// P + (x, y) for an affine (x, y) (never infinity), complete in P: algorithm 8 of the same
/// paper, 11 multiplications and 2 by 3b.
pub fn proj_add_affine<F: ProjField>(p: &Proj<F>, x: &F, y: &F) -> Proj<F> {
    let t0 = p.x.mul(x);
    let t1 = p.y.mul(y);
    let t3 = x.add(y).mul(&p.x.add(&p.y)).sub(&t0.add(&t1));
    let t4 = y.mul(&p.z).add(&p.y);
    let y3 = x.mul(&p.z).add(&p.x);
    add_tail(&t0, &t1, &p.z, &t3, &t4, &y3)
}

/// The shared tail of both additions, from t0 = X1X2, t1 = Y1Y2, t2 = Z1Z2, t3 = X1Y2 + X2Y1,
/// t4 = Y1Z2 + Y2Z1 and y3 = X1Z2 + X2Z1.
fn add_tail<F: ProjField>(t0: &F, t1: &F, t2: &F, t3: &F, t4: &F, y3: &F) -> Proj<F> {
    let t0x3 = t0.muls(3);
    let t2b = t2.muls(21);
    let z3 = t1.add(&t2b);
    let t1m = t1.sub(&t2b);
    let y3b = y3.muls(21);
    Proj {
        x: t3.mul(&t1m).sub(&t4.mul(&y3b)),
        y: t1m.mul(&z3).add(&y3b.mul(&t0x3)),
        z: z3.mul(t4).add(&t0x3.mul(t3)),
    }
}

/// 2P, complete: algorithm 9 of the same paper, 6 multiplications, 2 squarings, 1 by 3b.
pub fn proj_dbl<F: ProjField>(p: &Proj<F>) -> Proj<F> {
    let t0 = p.y.sqr();
    let z8 = t0.muls(8);
    let t1 = p.y.mul(&p.z);
    let t2 = p.z.sqr().muls(21);
    let x3 = t2.mul(&z8);
    let y3 = t0.add(&t2);
    let z3 = t1.mul(&z8);
    let t0 = t0.sub(&t2.muls(3));
    let y3 = x3.add(&t0.mul(&y3));
    let x3 = t0.mul(&p.x.mul(&p.y));
    Proj {
        x: x3.add(&x3),
        y: y3,
        z: z3,
    }
}

/// Affine coordinates of a finite projective point, or None at infinity.
pub fn proj_to_affine<F: ProjField>(p: &Proj<F>) -> Option<(Limbs, Limbs)> {
    if p.is_infinity() {
        return None;
    }
    let zi = fe_inv(&p.z.reduced());
    Some((fe_mul(&p.x.reduced(), &zi), fe_mul(&p.y.reduced(), &zi)))
}

/// Replaces every value by its inverse mod p with one inversion (Montgomery's trick). Zeros are
/// not allowed: callers substitute 1 for them.
pub fn batch_inv(zs: &mut [Limbs]) {
    if zs.is_empty() {
        return;
    }
    let mut prefix = Vec::with_capacity(zs.len());
    let mut acc = ONE;
    for z in zs.iter() {
        acc = fe_mul(&acc, z);
        prefix.push(acc);
    }
    let mut inv = fe_inv(&acc);
    for i in (0..zs.len()).rev() {
        let before = if i == 0 { ONE } else { prefix[i - 1] };
        let zi = fe_mul(&inv, &before);
        inv = fe_mul(&inv, &zs[i]);
        zs[i] = zi;
    }
}

/// Affine coordinates of a finite point, or None at infinity.
pub fn to_affine(p: &Jac) -> Option<(Limbs, Limbs)> {
    if p.is_infinity() {
        return None;
    }
    let zi = fe_inv(&p.z);
    let zi2 = fe_sqr(&zi);
    Some((fe_mul(&p.x, &zi2), fe_mul(&p.y, &fe_mul(&zi2, &zi))))
}

/// The G table: entry `w·4096 + m − 1` is m·2^(13w)·G in affine coordinates, m = 1..=4096.
/// Each window is built with mixed additions and one batch inversion, windows in parallel.
pub fn g_table() -> Vec<AffinePoint> {
    let mut bases = Vec::with_capacity(G_WINDOWS);
    let mut base = Jac::from_affine(&G.x, &G.y);
    for _ in 0..G_WINDOWS {
        bases.push(base);
        for _ in 0..G_WINDOW_BITS {
            base = dbl(&base);
        }
    }
    bases.par_iter().map(g_window).collect::<Vec<_>>().concat()
}

/// The multiples 1..=[`G_ENTRIES`] of a finite point, affine.
fn g_window(base: &Jac) -> Vec<AffinePoint> {
    // 2^(13w)·G is never at infinity, so the multiples below n are finite too.
    let (x, y) = to_affine(base).unwrap_or((ZERO, ZERO));
    let mut jac = Vec::with_capacity(G_ENTRIES);
    let mut acc = Jac::from_affine(&x, &y);
    jac.push(acc);
    for _ in 1..G_ENTRIES {
        acc = add_affine(&acc, &x, &y);
        jac.push(acc);
    }
    let mut zs: Vec<Limbs> = jac.iter().map(|p| p.z).collect();
    batch_inv(&mut zs);
    jac.iter()
        .zip(&zs)
        .map(|(p, zi)| {
            let zi2 = fe_sqr(zi);
            AffinePoint {
                x: fe_mul(&p.x, &zi2),
                y: fe_mul(&p.y, &fe_mul(&zi2, zi)),
            }
        })
        .collect()
}

/// Signed digits of u1 for the G table, low window first: (|d|, d < 0) with u1 = Σ d·2^(13w),
/// d in −4095..=4096 (the kernel computes the same inline).
pub fn g_digits(u1: &Limbs) -> [(u32, bool); G_WINDOWS] {
    let mut carry = 0u32;
    std::array::from_fn(|w| {
        let bit = w * G_WINDOW_BITS;
        let (i, off) = (bit / 32, bit % 32);
        let mut v = u1[i] >> off;
        if off > 32 - G_WINDOW_BITS && i < 7 {
            v |= u1[i + 1] << (32 - off);
        }
        let raw = (v & ((1 << G_WINDOW_BITS) - 1)) + carry;
        let neg = raw > G_ENTRIES as u32;
        carry = u32::from(neg);
        (if neg { (1 << G_WINDOW_BITS) - raw } else { raw }, neg)
    })
}

#[cfg(test)]
mod tests {
    use super::super::field::{
        N, add_mod, from_be_bytes, gte, sc_mul, sub_mod, sub_raw, to_be_bytes,
    };
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use secp256k1::{PublicKey, SecretKey};

    fn lib_mul_g(k: &[u8; 32]) -> (Limbs, Limbs) {
        let sk = SecretKey::from_secret_bytes(*k).unwrap_or_else(|_| panic!("test scalar"));
        let pk = PublicKey::from_secret_key(&sk).serialize_uncompressed();
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&pk[1..33]);
        y.copy_from_slice(&pk[33..]);
        (from_be_bytes(&x), from_be_bytes(&y))
    }

    #[test]
    fn g_table_entries_match_libsecp256k1() {
        let table = g_table();
        assert_eq!(table.len(), G_WINDOWS * G_ENTRIES);
        for (w, m) in [
            (0usize, 1u32),
            (0, 2),
            (0, 4096),
            (1, 1),
            (5, 777),
            (10, 4095),
            (18, 4096),
            (19, 1),
            (19, 511),
        ] {
            // m·2^(13w) as a big-endian scalar.
            let mut k = [0u8; 32];
            let shift = G_WINDOW_BITS * w;
            let wide = u64::from(m) << (shift % 8);
            for (i, byte) in wide.to_le_bytes().iter().enumerate() {
                let j = shift / 8 + i;
                if j < 32 {
                    k[31 - j] |= byte;
                }
            }
            let (x, y) = lib_mul_g(&k);
            let e = table[w * G_ENTRIES + m as usize - 1];
            assert_eq!((e.x, e.y), (x, y), "window {w} multiple {m}");
        }
    }

    #[test]
    fn g_digits_rebuild_u1() {
        let mut rng = StdRng::seed_from_u64(7);
        let n_minus_1 = sub_raw(&N, &ONE).0;
        for i in 0..2_000 {
            let u1: Limbs = match i {
                0 => n_minus_1,
                1 => ZERO,
                2 => [0x1000 << 19, 0, 0, 0, 0, 0, 0, 0],
                _ => {
                    let x: Limbs = rng.random();
                    if gte(&x, &N) { sub_raw(&x, &N).0 } else { x }
                }
            };
            let mut sum = ZERO;
            let mut pow = ONE;
            let mut step = ZERO;
            step[0] = 1 << G_WINDOW_BITS;
            for (m, neg) in g_digits(&u1) {
                assert!(m as usize <= G_ENTRIES);
                let d = sc_mul(&pow, &[m, 0, 0, 0, 0, 0, 0, 0]);
                sum = if neg {
                    sub_mod(&sum, &d, &N)
                } else {
                    add_mod(&sum, &d, &N)
                };
                pow = sc_mul(&pow, &step);
            }
            assert_eq!(sum, u1);
        }
    }

    #[test]
    fn complete_formulas_match_jacobian_and_cover_special_cases() {
        let g = Jac::from_affine(&G.x, &G.y);
        let pg = Proj::from_affine(&G.x, &G.y);
        let mut jp = dbl(&g);
        let mut jq = add(&dbl(&jp), &g);
        let mut pp = proj_dbl(&pg);
        let mut pq = proj_add(&proj_dbl(&pp), &pg);
        for _ in 0..30 {
            assert_eq!(proj_to_affine(&pp), to_affine(&jp));
            assert_eq!(proj_to_affine(&pq), to_affine(&jq));
            assert_eq!(
                proj_to_affine(&proj_add(&pp, &pq)),
                to_affine(&add(&jp, &jq))
            );
            assert_eq!(proj_to_affine(&proj_dbl(&pq)), to_affine(&dbl(&jq)));
            let (ax, ay) = to_affine(&jq).unwrap_or((ONE, ONE));
            assert_eq!(
                proj_to_affine(&proj_add_affine(&pp, &ax, &ay)),
                to_affine(&add(&jp, &jq))
            );
            // P + P, P + (−P), ∞ + P, P + ∞, ∞ + ∞, 2∞, with no branch in the formulas.
            assert_eq!(proj_to_affine(&proj_add(&pp, &pp)), to_affine(&dbl(&jp)));
            assert_eq!(
                proj_to_affine(&proj_add_affine(&proj_add(&pp, &PROJ_INFINITY), &ax, &ay)),
                to_affine(&add(&jp, &jq))
            );
            let (px, py) = to_affine(&jp).unwrap_or((ONE, ONE));
            assert_eq!(
                proj_to_affine(&proj_add_affine(&pp, &px, &py)),
                to_affine(&dbl(&jp))
            );
            assert!(proj_add(&pp, &pp.neg()).is_infinity());
            assert!(proj_add_affine(&pp.neg(), &px, &py).is_infinity());
            assert_eq!(
                proj_to_affine(&proj_add(&PROJ_INFINITY, &pq)),
                proj_to_affine(&pq)
            );
            assert_eq!(
                proj_to_affine(&proj_add_affine(&PROJ_INFINITY, &ax, &ay)),
                Some((ax, ay))
            );
            assert!(proj_add(&PROJ_INFINITY, &PROJ_INFINITY).is_infinity());
            assert!(proj_dbl(&PROJ_INFINITY).is_infinity());
            jp = add(&jp, &jq);
            jq = dbl(&jq);
            pp = proj_add(&pp, &pq);
            pq = proj_dbl(&pq);
        }
    }

    #[test]
    fn special_cases_of_addition() {
        let g = Jac::from_affine(&G.x, &G.y);
        let two_g = dbl(&g);
        assert_eq!(to_affine(&add(&g, &g)), to_affine(&two_g));
        assert_eq!(to_affine(&add_affine(&g, &G.x, &G.y)), to_affine(&two_g));
        assert!(add(&g, &g.neg()).is_infinity());
        assert!(add_affine(&g.neg(), &G.x, &G.y).is_infinity());
        assert_eq!(add(&INFINITY, &g), g);
        assert_eq!(add(&g, &INFINITY), g);
        assert!(dbl(&INFINITY).is_infinity());
        let mut k = [0u8; 32];
        k[31] = 2;
        assert_eq!(to_affine(&two_g), Some(lib_mul_g(&k)));
        // 3G through a non-trivial Z.
        k[31] = 3;
        assert_eq!(to_affine(&add(&two_g, &g)), Some(lib_mul_g(&k)));
        let _ = to_be_bytes(&ONE);
    }
}
