//! Just enough secp256k1 arithmetic for the devnet's batch signer: integers mod p and mod n on
//! four 64-bit limbs (little-endian), and Jacobian + affine point addition.
//!
//! Variable-time and unhardened on purpose: it only ever touches devnet keys, which are public.
//! Correctness is checked end to end by the signer's tests (libsecp256k1 recovers every
//! signature to its key).

/// A 256-bit integer, least significant limb first.
pub type U = [u64; 4];

/// The field prime p = 2^256 − 2^32 − 977.
pub const P: U = [0xFFFF_FFFE_FFFF_FC2F, u64::MAX, u64::MAX, u64::MAX];
/// 2^256 − p.
const P_C: &[u64] = &[0x1_0000_03D1];
/// The group order n.
pub const N: U = [
    0xBFD2_5E8C_D036_4141,
    0xBAAE_DCE6_AF48_A03B,
    0xFFFF_FFFF_FFFF_FFFE,
    u64::MAX,
];
/// 2^256 − n.
const N_C: &[u64] = &[0x402D_A173_2FC9_BEBF, 0x4551_2319_50B7_5FC4, 1];
/// 1.
pub const ONE: U = [1, 0, 0, 0];
/// The generator's affine coordinates.
pub const GX: U = [
    0x59F2_815B_16F8_1798,
    0x029B_FCDB_2DCE_28D9,
    0x55A0_6295_CE87_0B07,
    0x79BE_667E_F9DC_BBAC,
];
pub const GY: U = [
    0x9C47_D08F_FB10_D4B8,
    0xFD17_B448_A685_5419,
    0x5DA4_FBFC_0E11_08A8,
    0x483A_DA77_26A3_C465,
];

/// Big-endian bytes to limbs.
pub fn from_be(b: &[u8; 32]) -> U {
    let mut r = [0u64; 4];
    for (i, limb) in r.iter_mut().enumerate() {
        let o = 24 - 8 * i;
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[o..o + 8]);
        *limb = u64::from_be_bytes(w);
    }
    r
}

/// Limbs to big-endian bytes.
pub fn to_be(a: &U) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, limb) in a.iter().enumerate() {
        let o = 24 - 8 * i;
        b[o..o + 8].copy_from_slice(&limb.to_be_bytes());
    }
    b
}

/// a ≥ b.
pub fn gte(a: &U, b: &U) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// True for zero.
pub fn is_zero(a: &U) -> bool {
    a.iter().all(|&x| x == 0)
}

/// a − b, with the borrow out.
fn sub_raw(a: &U, b: &U) -> (U, bool) {
    let mut r = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        r[i] = d;
        borrow = b1 || b2;
    }
    (r, borrow)
}

/// a + b, with the carry out.
fn add_raw(a: &U, b: &U) -> (U, bool) {
    let mut r = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s, c1) = a[i].overflowing_add(b[i]);
        let (s, c2) = s.overflowing_add(u64::from(carry));
        r[i] = s;
        carry = c1 || c2;
    }
    (r, carry)
}

/// (a + b) mod m for reduced a, b.
pub fn add_mod(a: &U, b: &U, m: &U) -> U {
    let (s, carry) = add_raw(a, b);
    if carry || gte(&s, m) {
        sub_raw(&s, m).0
    } else {
        s
    }
}

/// (a − b) mod m for reduced a, b.
pub fn sub_mod(a: &U, b: &U, m: &U) -> U {
    let (d, borrow) = sub_raw(a, b);
    if borrow { add_raw(&d, m).0 } else { d }
}

/// t mod m for a 512-bit t, where m = 2^256 − c: folds the high half down as hi·c until it is
/// gone, then subtracts m while the value is at least m.
fn reduce(mut t: [u64; 8], c: &[u64], m: &U) -> U {
    while t[4..].iter().any(|&x| x != 0) {
        let mut r = [0u64; 8];
        r[..4].copy_from_slice(&t[..4]);
        for i in 0..4 {
            let hi = t[4 + i];
            if hi == 0 {
                continue;
            }
            let mut carry: u128 = 0;
            let mut k = i;
            for &cj in c {
                let v = u128::from(r[k]) + u128::from(hi) * u128::from(cj) + carry;
                r[k] = v as u64;
                carry = v >> 64;
                k += 1;
            }
            while carry != 0 && k < 8 {
                let v = u128::from(r[k]) + carry;
                r[k] = v as u64;
                carry = v >> 64;
                k += 1;
            }
        }
        t = r;
    }
    let mut a = [t[0], t[1], t[2], t[3]];
    while gte(&a, m) {
        a = sub_raw(&a, m).0;
    }
    a
}

fn mul_wide(a: &U, b: &U) -> [u64; 8] {
    let mut t = [0u64; 8];
    for i in 0..4 {
        let mut carry: u128 = 0;
        for j in 0..4 {
            let v = u128::from(t[i + j]) + u128::from(a[i]) * u128::from(b[j]) + carry;
            t[i + j] = v as u64;
            carry = v >> 64;
        }
        t[i + 4] = carry as u64;
    }
    t
}

/// a·b mod p.
pub fn fe_mul(a: &U, b: &U) -> U {
    reduce(mul_wide(a, b), P_C, &P)
}

/// a² mod p.
pub fn fe_sqr(a: &U) -> U {
    fe_mul(a, a)
}

/// a·b mod n.
pub fn sc_mul(a: &U, b: &U) -> U {
    reduce(mul_wide(a, b), N_C, &N)
}

/// a mod n for any 256-bit a.
pub fn sc_reduce(a: &U) -> U {
    reduce([a[0], a[1], a[2], a[3], 0, 0, 0, 0], N_C, &N)
}

/// a^(m−2) mod m: the inverse of a non-zero a mod a prime m (square and multiply).
fn inv(a: &U, m: &U, mul: fn(&U, &U) -> U) -> U {
    let e = sub_raw(m, &[2, 0, 0, 0]).0;
    let mut r = ONE;
    for i in (0..256).rev() {
        r = mul(&r, &r);
        if (e[i / 64] >> (i % 64)) & 1 == 1 {
            r = mul(&r, a);
        }
    }
    r
}

/// a⁻¹ mod p.
pub fn fe_inv(a: &U) -> U {
    inv(a, &P, fe_mul)
}

/// a⁻¹ mod n.
pub fn sc_inv(a: &U) -> U {
    inv(a, &N, sc_mul)
}

/// Replaces every non-zero value by its inverse with one inversion (Montgomery's trick);
/// `mul`/`invert` pick the modulus.
pub fn batch_inv(xs: &mut [U], mul: fn(&U, &U) -> U, invert: fn(&U) -> U) {
    let mut prefix = Vec::with_capacity(xs.len());
    let mut acc = ONE;
    for x in xs.iter() {
        acc = mul(&acc, x);
        prefix.push(acc);
    }
    let mut inv = invert(&acc);
    for i in (0..xs.len()).rev() {
        let before = if i == 0 { ONE } else { prefix[i - 1] };
        let xi = mul(&inv, &before);
        inv = mul(&inv, &xs[i]);
        xs[i] = xi;
    }
}

/// A point in Jacobian coordinates (x = X/Z², y = Y/Z³).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jac {
    pub x: U,
    pub y: U,
    pub z: U,
}

/// P + (x2, y2) for a finite P and an affine (x2, y2); `None` when P = ±(x2, y2) (doubling or
/// infinity), which the signer treats as a degenerate batch.
pub fn add_affine(p: &Jac, x2: &U, y2: &U) -> Option<Jac> {
    let z1z1 = fe_sqr(&p.z);
    let u2 = fe_mul(x2, &z1z1);
    let s2 = fe_mul(y2, &fe_mul(&p.z, &z1z1));
    let h = sub_mod(&u2, &p.x, &P);
    let r = sub_mod(&s2, &p.y, &P);
    if is_zero(&h) {
        return None;
    }
    let h2 = fe_sqr(&h);
    let h3 = fe_mul(&h, &h2);
    let v = fe_mul(&p.x, &h2);
    let x3 = sub_mod(&sub_mod(&fe_sqr(&r), &h3, &P), &add_mod(&v, &v, &P), &P);
    let y3 = sub_mod(&fe_mul(&r, &sub_mod(&v, &x3, &P)), &fe_mul(&p.y, &h3), &P);
    Some(Jac {
        x: x3,
        y: y3,
        z: fe_mul(&p.z, &h),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    fn u(a: &U) -> U256 {
        U256::from_be_bytes(to_be(a))
    }

    #[test]
    fn field_and_scalar_match_big_integer_arithmetic() {
        let pu = u(&P);
        let nu = u(&N);
        let mut x: U = [
            0x1234_5678_9abc_def0,
            0xdead_beef,
            u64::MAX - 5,
            0x7fff_ffff_ffff_ffff,
        ];
        let mut y: U = [3, 0, 0, u64::MAX - 1];
        for _ in 0..50 {
            let xm = sc_reduce(&x);
            let ym = sc_reduce(&y);
            assert_eq!(u(&fe_mul(&x, &y)), u(&x).mul_mod(u(&y), pu));
            assert_eq!(u(&sc_mul(&xm, &ym)), u(&xm).mul_mod(u(&ym), nu));
            assert_eq!(u(&sc_mul(&sc_inv(&xm), &xm)), U256::from(1));
            assert_eq!(u(&fe_mul(&fe_inv(&x), &x)), U256::from(1));
            let next = fe_mul(&x, &y);
            y = add_mod(&x, &next, &P);
            x = next;
        }
        assert_eq!(from_be(&to_be(&GX)), GX);
    }
}
