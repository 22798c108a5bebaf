//! The three recovery passes, as `shaders/recover_prepare.wgsl`, `shaders/recover_mul.wgsl` and
//! `shaders/recover_finish.wgsl` run them, slot for slot.
//!
//! prepare: range checks, R from (r, parity) with the square root by an addition chain in
//! radix 2^13 (`f13::sqrt_chain`), one inversion of r mod n per chunk of [`PREP_CHUNK`] items,
//! u1 = −z/r and u2 = s/r mod n, GLV split of u2.
//! mul: Q = k1·R + k2·φ(R) (Strauss–Shamir over signed 4-bit digits, one shared chain of
//! doublings) + u1·G (20 additions from the G table, signed 13-bit digits), in projective
//! coordinates with complete formulas. finish: affine Q by one inversion per chunk of
//! [`FINISH_CHUNK`] items (Montgomery's trick), keccak of x‖y, the last 20 bytes.

use super::curve::{G_ENTRIES, Proj, batch_inv, g_digits, proj_add, proj_add_affine, proj_dbl};
use super::f13::{self, F13};
use super::field::{
    Limbs, N, ONE, P, fe_add, fe_mul, fe_neg, fe_sqr, gte, is_zero, neg_mod, sc_inv, sc_mul,
    sub_raw,
};
use super::glv::{BETA, DIGITS, signed_digits, split};
use super::keccak::keccak_f;
use crate::gpu::layout::{AffinePoint, OutSlot, PrepSlot, ProjSlot, RecoverInput};

/// Items per invocation of `recover_finish`: one field inversion serves this many points, at the
/// price of 3 multiplications each (an inversion costs ~330).
pub const FINISH_CHUNK: usize = 8;

/// Failure codes, equal to `RecoverError::code`.
pub const CODE_BAD_RECID: u32 = 1;
pub const CODE_R_RANGE: u32 = 2;
pub const CODE_S_RANGE: u32 = 3;
pub const CODE_NO_POINT: u32 = 4;

/// Limbs of a raw big-endian 32-byte value given as little-endian words.
pub fn limbs_from_raw(w: &[u32; 8]) -> Limbs {
    let mut l = [0u32; 8];
    for i in 0..8 {
        l[i] = w[7 - i].swap_bytes();
    }
    l
}

/// b = 7 of the curve.
const SEVEN: Limbs = [7, 0, 0, 0, 0, 0, 0, 0];

/// Items per invocation of `recover_prepare`: one inversion mod n serves all their 1/r.
pub const PREP_CHUNK: usize = 8;

/// The `recover_prepare` pass for one item (a chunk of one).
pub fn prepare(input: &RecoverInput) -> PrepSlot {
    prepare_chunk(std::slice::from_ref(input))[0]
}

/// The `recover_prepare` pass for one chunk of at most [`PREP_CHUNK`] items: per item the range
/// checks and R; then one batch inversion of the chunk's r mod n (failed items count as 1); then
/// per item u1, u2 and the GLV split.
pub fn prepare_chunk(inputs: &[RecoverInput]) -> Vec<PrepSlot> {
    let mut out: Vec<PrepSlot> = inputs.iter().map(prepare_front).collect();
    let mut rs: Vec<Limbs> = out
        .iter()
        .map(|p| if p.code == 0 { p.rx } else { ONE })
        .collect();
    batch_inv_n(&mut rs);
    for ((slot, input), rinv) in out.iter_mut().zip(inputs).zip(&rs) {
        if slot.code != 0 {
            continue;
        }
        let s = limbs_from_raw(&input.s);
        let mut z = limbs_from_raw(&input.hash);
        if gte(&z, &N) {
            z = sub_raw(&z, &N).0;
        }
        let u1 = sc_mul(&neg_mod(&z, &N), rinv);
        let u2 = sc_mul(&s, rinv);
        let (k1, k2) = split(&u2);
        slot.neg1 = u32::from(k1.neg);
        slot.neg2 = u32::from(k2.neg);
        slot.u1 = u1;
        slot.k1 = k1.mag;
        slot.k2 = k2.mag;
    }
    out
}

/// Range checks and R = (r, y) for one item: a slot with code, rx and ry only.
fn prepare_front(input: &RecoverInput) -> PrepSlot {
    let mut out = PrepSlot::default();
    if input.recid > 1 {
        out.code = CODE_BAD_RECID;
        return out;
    }
    let r = limbs_from_raw(&input.r);
    let s = limbs_from_raw(&input.s);
    if is_zero(&r) || gte(&r, &N) {
        out.code = CODE_R_RANGE;
        return out;
    }
    if is_zero(&s) || gte(&s, &N) {
        out.code = CODE_S_RANGE;
        return out;
    }
    // y² = r³ + 7 with y's parity from the recovery id (r < n < p), over the radix-2^13 field
    // like the kernel.
    let rf = f13::from_limbs(&r);
    let rhs = f13::add(&f13::mul(&f13::sqr(&rf), &rf), &f13::from_limbs(&SEVEN));
    let yf = f13::sqrt_chain(&rhs);
    if f13::to_limbs(&f13::sqr(&yf)) != f13::to_limbs(&rhs) {
        out.code = CODE_NO_POINT;
        return out;
    }
    let mut y = f13::to_limbs(&yf);
    if (y[0] & 1) != input.recid {
        y = fe_neg(&y);
    }
    out.rx = r;
    out.ry = y;
    out
}

/// Replaces every value by its inverse mod n with one inversion (no zeros allowed).
fn batch_inv_n(xs: &mut [Limbs]) {
    let mut prefix = Vec::with_capacity(xs.len());
    let mut acc = ONE;
    for x in xs.iter() {
        acc = sc_mul(&acc, x);
        prefix.push(acc);
    }
    let mut inv = sc_inv(&acc);
    for i in (0..xs.len()).rev() {
        let before = if i == 0 { ONE } else { prefix[i - 1] };
        let xi = sc_mul(&inv, &before);
        inv = sc_mul(&inv, &xs[i]);
        xs[i] = xi;
    }
}

/// Multiples 1·P … 8·P in the tables of `multiply`.
pub const TABLE_LEN: usize = 8;

/// acc + d·T₁ for a signed digit d, where `table[j]` = (j + 1)·T₁ (acc itself for d = 0).
fn add_digit(acc: &Proj<F13>, table: &[Proj<F13>; TABLE_LEN], d: i32) -> Proj<F13> {
    if d == 0 {
        return *acc;
    }
    let t = table[d.unsigned_abs() as usize - 1];
    let t = if d < 0 { t.neg() } else { t };
    proj_add(acc, &t)
}

/// The `recover_mul` pass for one item, over the radix-2^13 field like the kernel.
pub fn multiply(prep: &PrepSlot, g_table: &[AffinePoint]) -> ProjSlot {
    let mut out = ProjSlot {
        code: prep.code,
        ..ProjSlot::default()
    };
    if prep.code != 0 {
        return out;
    }
    // R signed by k1, and its multiples 1..8 by mixed additions; φ of them signed by k2.
    let rx = f13::from_limbs(&prep.rx);
    let mut ry = f13::from_limbs(&prep.ry);
    if prep.neg1 != 0 {
        ry = f13::sub(&f13::ZERO, &ry);
    }
    let mut t1 = [Proj::from_affine(&rx, &ry); TABLE_LEN];
    for i in 1..TABLE_LEN {
        t1[i] = proj_add_affine(&t1[i - 1], &rx, &ry);
    }
    let flip = prep.neg1 != prep.neg2;
    let beta = f13::from_limbs(&BETA);
    let mut t2 = t1;
    for p in t2.iter_mut() {
        p.x = f13::mul(&p.x, &beta);
        if flip {
            p.y = f13::sub(&f13::ZERO, &p.y);
        }
    }
    let d1 = signed_digits(&prep.k1);
    let d2 = signed_digits(&prep.k2);
    let mut acc = Proj::<F13>::infinity();
    for w in (0..DIGITS).rev() {
        if w != DIGITS - 1 {
            for _ in 0..4 {
                acc = proj_dbl(&acc);
            }
        }
        acc = add_digit(&acc, &t1, d1[w]);
        acc = add_digit(&acc, &t2, d2[w]);
    }
    for (w, (m, neg)) in g_digits(&prep.u1).into_iter().enumerate() {
        if m != 0 {
            let e = &g_table[w * G_ENTRIES + m as usize - 1];
            let mut y = f13::from_limbs(&e.y);
            if neg {
                y = f13::sub(&f13::ZERO, &y);
            }
            acc = proj_add_affine(&acc, &f13::from_limbs(&e.x), &y);
        }
    }
    let z = f13::to_limbs(&acc.z);
    if is_zero(&z) {
        out.code = CODE_NO_POINT;
        return out;
    }
    out.x = f13::to_limbs(&acc.x);
    out.y = f13::to_limbs(&acc.y);
    out.z = z;
    out
}

/// The `recover_finish` pass for one chunk of at most [`FINISH_CHUNK`] items.
pub fn finish(chunk: &[ProjSlot]) -> Vec<OutSlot> {
    let mut zs: Vec<Limbs> = chunk
        .iter()
        .map(|j| if j.code == 0 { j.z } else { ONE })
        .collect();
    batch_inv(&mut zs);
    chunk
        .iter()
        .zip(&zs)
        .map(|(j, zi)| {
            if j.code != 0 {
                return OutSlot {
                    code: j.code,
                    addr: [0; 5],
                };
            }
            let x = fe_mul(&j.x, zi);
            let y = fe_mul(&j.y, zi);
            OutSlot {
                code: 0,
                addr: address_words(&x, &y),
            }
        })
        .collect()
}

/// keccak256(x‖y) (big-endian coordinates), bytes 12..32 as 5 little-endian words.
pub fn address_words(x: &Limbs, y: &Limbs) -> [u32; 5] {
    let mut s = [0u32; 50];
    for k in 0..8 {
        s[k] = x[7 - k].swap_bytes();
        s[8 + k] = y[7 - k].swap_bytes();
    }
    s[16] ^= 1;
    s[33] ^= 0x8000_0000;
    keccak_f(&mut s);
    [s[3], s[4], s[5], s[6], s[7]]
}

/// All three passes over a batch.
pub fn recover_all(inputs: &[RecoverInput], g_table: &[AffinePoint]) -> Vec<OutSlot> {
    let jac: Vec<ProjSlot> = inputs
        .iter()
        .map(|i| multiply(&prepare(i), g_table))
        .collect();
    jac.chunks(FINISH_CHUNK).flat_map(finish).collect()
}

/// Checks P is on the curve (a test helper for the passes' intermediate values).
pub fn on_curve(x: &Limbs, y: &Limbs) -> bool {
    let rhs = fe_add(&fe_mul(&fe_sqr(x), x), &[7, 0, 0, 0, 0, 0, 0, 0]);
    fe_sqr(y) == rhs && !gte(x, &P)
}
