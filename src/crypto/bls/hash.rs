//! Hashing randao messages to G2 with the cofactor clearing deferred: RFC 9380's
//! `hash_to_curve` for the suite BLS12381G2_XMD:SHA-256_SSWU_RO_ stops before its last step
//! (`hash_to_e2`), and the clearing (`clear_cofactor`) is applied once to a proposer group's
//! weighted sum instead of once per message.
//!
//! Why it is the same check: RFC 9380's `clear_cofactor` for G2 (Appendix G.3, Budroni–Pintore)
//! is built from additions, multiplications by the curve parameter and the endomorphism ψ, so it
//! is a group homomorphism of E2. Hence clear(Σ a_i·P_i) = Σ a_i·clear(P_i) = Σ a_i·H(m_i)
//! exactly, for any points P_i of E2 and any scalars, not only with high probability; the batch
//! equation is unchanged. The clearing costs about a fifth of a hash to G2 and a window of
//! mainnet-shape headers holds about 8 reveals per proposer, which is where the saving is.
//!
//! Steps (RFC 9380, sections 5.2, 5.3, 6.6.2, 6.6.3 and Appendix E.3): expand_message_xmd to 256
//! bytes, two Fp2 elements u0, u1, each mapped by the simplified SWU map to the 3-isogenous curve
//! E2': y² = x³ + 240·I·x + 1012·(1 + I) with Z = −(2 + I), then by the 3-isogeny to E2, and the
//! two points added. The isogeny's constants are RFC 9380's (Appendix E.3); the ψ constants are
//! computed from their definitions. `tests` checks every step against blst's own hash to G2.
//!
//! This code handles public data only (block numbers and reveals), so it is not constant-time.

use super::raw::{self, Fp2};
use blst::blst_p2;
use std::sync::OnceLock;

/// The base field's modulus p, big-endian.
const P: &str = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";

/// |x| for the BLS parameter x = −0xd201000000010000 of BLS12-381.
const X_ABS: u64 = 0xd201_0000_0001_0000;

/// The 3-isogeny's coefficients (RFC 9380, Appendix E.3), each as (c0, c1) in hex: x_num's k_(1,0..3),
/// x_den's k_(2,0..1), y_num's k_(3,0..3), y_den's k_(4,0..2).
const K1: [(&str, &str); 4] = [
    (
        "5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97d6",
        "5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97d6",
    ),
    (
        "0",
        "11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71a",
    ),
    (
        "11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71e",
        "8ab05f8bdd54cde190937e76bc3e447cc27c3d6fbd7063fcd104635a790520c0a395554e5c6aaaa9354ffffffffe38d",
    ),
    (
        "171d6541fa38ccfaed6dea691f5fb614cb14b4e7f4e810aa22d6108f142b85757098e38d0f671c7188e2aaaaaaaa5ed1",
        "0",
    ),
];
const K2: [(&str, &str); 2] = [
    (
        "0",
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa63",
    ),
    (
        "c",
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa9f",
    ),
];
const K3: [(&str, &str); 4] = [
    (
        "1530477c7ab4113b59a4c18b076d11930f7da5d4a07f649bf54439d87d27e500fc8c25ebf8c92f6812cfc71c71c6d706",
        "1530477c7ab4113b59a4c18b076d11930f7da5d4a07f649bf54439d87d27e500fc8c25ebf8c92f6812cfc71c71c6d706",
    ),
    (
        "0",
        "5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97be",
    ),
    (
        "11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71c",
        "8ab05f8bdd54cde190937e76bc3e447cc27c3d6fbd7063fcd104635a790520c0a395554e5c6aaaa9354ffffffffe38f",
    ),
    (
        "124c9ad43b6cf79bfbf7043de3811ad0761b0f37a1e26286b0e977c69aa274524e79097a56dc4bd9e1b371c71c718b10",
        "0",
    ),
];
const K4: [(&str, &str); 3] = [
    (
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa8fb",
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa8fb",
    ),
    (
        "0",
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa9d3",
    ),
    (
        "12",
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa99",
    ),
];

/// The constants, as field elements.
#[derive(Debug)]
struct Consts {
    one: Fp2,
    /// E2's A' and B', and SWU's Z.
    a: Fp2,
    b: Fp2,
    z: Fp2,
    /// −B'/A', and B'/(Z·A') for SWU's exceptional case.
    minus_b_over_a: Fp2,
    b_over_za: Fp2,
    k1: [Fp2; 4],
    k2: [Fp2; 2],
    k3: [Fp2; 4],
    k4: [Fp2; 3],
    /// ψ(x, y) = (psi_x·x̄, psi_y·ȳ): 1/(1 + I)^((p−1)/3) and 1/(1 + I)^((p−1)/2).
    psi_x: Fp2,
    psi_y: Fp2,
}

/// A hex integer (at most 48 bytes) as big-endian bytes; constants only, checked by the tests.
fn be48(hex: &str) -> [u8; 48] {
    let mut out = [0u8; 48];
    let digits: Vec<u8> = hex
        .bytes()
        .rev()
        .map(|c| match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0,
        })
        .collect();
    for (i, d) in digits.iter().enumerate().take(96) {
        out[47 - i / 2] |= d << (4 * (i % 2));
    }
    out
}

fn fp2(c: (&str, &str)) -> Fp2 {
    Fp2::from_be(&be48(c.0), &be48(c.1))
}

fn small(c0: u64, c1: u64) -> Fp2 {
    Fp2::from_be(&c0.to_be_bytes(), &c1.to_be_bytes())
}

/// A big-endian integer divided by a small one (the remainder dropped).
fn div_small(n: &[u8; 48], d: u32) -> [u8; 48] {
    let mut out = [0u8; 48];
    let mut rem = 0u32;
    for (o, &b) in out.iter_mut().zip(n) {
        let cur = (rem << 8) | u32::from(b);
        *o = (cur / d) as u8;
        rem = cur % d;
    }
    out
}

/// base^e for a big-endian exponent.
fn pow(base: Fp2, e: &[u8]) -> Fp2 {
    let mut acc = small(1, 0);
    for byte in e {
        for bit in (0..8).rev() {
            acc = acc.sqr();
            if byte >> bit & 1 == 1 {
                acc = acc.mul(base);
            }
        }
    }
    acc
}

fn consts() -> &'static Consts {
    static C: OnceLock<Consts> = OnceLock::new();
    C.get_or_init(|| {
        let a = small(0, 240);
        let b = small(1012, 1012);
        let z = small(2, 1).neg();
        let mut p_minus_1 = be48(P);
        p_minus_1[47] -= 1; // p ends in 0xab
        let one_plus_i = small(1, 1);
        Consts {
            one: small(1, 0),
            a,
            b,
            z,
            minus_b_over_a: b.mul(a.inv()).neg(),
            b_over_za: b.mul(z.mul(a).inv()),
            k1: K1.map(fp2),
            k2: K2.map(fp2),
            k3: K3.map(fp2),
            k4: K4.map(fp2),
            psi_x: pow(one_plus_i, &div_small(&p_minus_1, 3)).inv(),
            psi_y: pow(one_plus_i, &div_small(&p_minus_1, 2)).inv(),
        }
    })
}

/// RFC 9380's sgn0 for Fp2 (m = 2): the parity of c0, or of c1 when c0 is zero.
fn sgn0(a: Fp2) -> bool {
    let [c0, c1] = a.to_be();
    let c0_zero = c0.iter().all(|&b| b == 0);
    (c0[47] & 1 == 1) || (c0_zero && c1[47] & 1 == 1)
}

fn is_zero(a: Fp2) -> bool {
    a == Fp2::default()
}

/// The simplified SWU map to E2' and the 3-isogeny to E2 (RFC 9380, 6.6.2 and 6.6.3), as a
/// Jacobian point. `None` only if a square root the map guarantees was not found: a bug of
/// ours, which the caller treats as a failed batch (each item is then checked alone).
fn map_to_e2(u: Fp2) -> Option<blst_p2> {
    let c = consts();
    let t = c.z.mul(u.sqr());
    let tv = t.sqr().add(t);
    let x1 = if is_zero(tv) {
        c.b_over_za
    } else {
        c.minus_b_over_a.mul(tv.add(c.one)).mul(tv.inv())
    };
    let g = |x: Fp2| x.sqr().add(c.a).mul(x).add(c.b);
    let gx1 = g(x1);
    let (x, mut y) = if gx1.is_square() {
        (x1, gx1.sqrt()?)
    } else {
        let x2 = t.mul(x1);
        (x2, g(x2).sqrt()?)
    };
    if sgn0(u) != sgn0(y) {
        y = y.neg();
    }
    // The isogeny's rational functions by Horner's rule, then Jacobian coordinates without an
    // inversion: Z = x_den·y_den, X = x_num·x_den·y_den², Y = y·y_num·x_den³·y_den². A zero
    // denominator gives Z = 0, the point at infinity, as the RFC requires.
    let horner = |k: &[Fp2], lead: Fp2| k.iter().rev().fold(lead, |acc, &ki| acc.mul(x).add(ki));
    let x_num = horner(&c.k1[..3], c.k1[3]);
    let x_den = horner(&c.k2, c.one);
    let y_num = horner(&c.k3[..3], c.k3[3]);
    let y_den = horner(&c.k4, c.one);
    let y_den2 = y_den.sqr();
    let x_den2 = x_den.sqr();
    Some(raw::p2(
        x_num.mul(x_den).mul(y_den2),
        y.mul(y_num).mul(x_den2.mul(x_den)).mul(y_den2),
        x_den.mul(y_den),
    ))
}

/// H(msg) before clearing the cofactor: a point of E2 whose `clear_cofactor` is blst's (and
/// RFC 9380's) hash of `msg` to G2 under `dst`. `None` as in `map_to_e2`.
pub(super) fn hash_to_e2(msg: &[u8], dst: &[u8]) -> Option<blst_p2> {
    let mut uniform = [0u8; 256];
    raw::expand_message_xmd(&mut uniform, msg, dst);
    let u0 = Fp2::from_be(&uniform[..64], &uniform[64..128]);
    let u1 = Fp2::from_be(&uniform[128..192], &uniform[192..]);
    Some(raw::p2_add(&map_to_e2(u0)?, &map_to_e2(u1)?))
}

/// ψ in Jacobian coordinates: (psi_x·X̄, psi_y·Ȳ, Z̄).
fn psi(p: &blst_p2) -> blst_p2 {
    let c = consts();
    raw::p2(
        c.psi_x.mul(Fp2(p.x).conj()),
        c.psi_y.mul(Fp2(p.y).conj()),
        Fp2(p.z).conj(),
    )
}

/// c·p for the BLS parameter c = −|x|.
fn times_x(p: &blst_p2) -> blst_p2 {
    raw::p2_neg(&raw::p2_mul_u64(p, X_ABS))
}

/// RFC 9380's clear_cofactor for G2 (Appendix G.3): h_eff·P computed with ψ.
pub(super) fn clear_cofactor(p: &blst_p2) -> blst_p2 {
    let t1 = times_x(p);
    let t2 = psi(p);
    let t3 = psi(&psi(&raw::p2_double(p)));
    let t3 = raw::p2_add(&t3, &raw::p2_neg(&t2));
    let t2 = times_x(&raw::p2_add(&t1, &t2));
    let t3 = raw::p2_add(&t3, &t2);
    let t3 = raw::p2_add(&t3, &raw::p2_neg(&t1));
    raw::p2_add(&t3, &raw::p2_neg(p))
}

#[cfg(test)]
mod tests {
    use super::super::{DST_POP, DST_SIG};
    use super::*;
    use blst::{blst_p2_affine, p2_affines};

    fn affine(p: &blst_p2) -> blst_p2_affine {
        p2_affines::from(std::slice::from_ref(p)).as_slice()[0]
    }

    #[test]
    fn the_deferred_hash_cleared_is_blsts_hash_to_g2() {
        // Randao messages of many heights, both ciphersuites, odd lengths and the empty message.
        let mut msgs: Vec<Vec<u8>> = (0..300u64)
            .map(|n| super::super::randao_msg(n * 7919).to_vec())
            .collect();
        msgs.extend((0..40usize).map(|n| vec![n as u8; n * 3]));
        for (i, m) in msgs.iter().enumerate() {
            let dst = if i % 5 == 0 { DST_POP } else { DST_SIG };
            let raw_point = hash_to_e2(m, dst).unwrap_or_else(|| panic!("message {i}"));
            // Almost never in G2 before clearing (the cofactor is about 2^636).
            assert!(!raw::p2_in_g2(&raw_point), "message {i}");
            let cleared = clear_cofactor(&raw_point);
            assert!(raw::p2_in_g2(&cleared), "message {i}");
            assert_eq!(
                affine(&cleared),
                affine(&raw::hash_to_g2(m, dst)),
                "message {i}"
            );
        }
    }

    #[test]
    fn clearing_a_weighted_sum_is_the_weighted_sum_of_the_hashes() {
        // What the grouped batch relies on, with blst's multi-scalar sum over uncleared points
        // (one point, a few, and past Pippenger's threshold).
        for n in [1usize, 3, 9, 40] {
            let msgs: Vec<[u8; 32]> = (0..n as u64).map(super::super::randao_msg).collect();
            let raw_points: Vec<blst_p2> =
                msgs.iter().filter_map(|m| hash_to_e2(m, DST_SIG)).collect();
            assert_eq!(raw_points.len(), n);
            let scalars = super::super::random_scalars(n);
            let raw_aff = p2_affines::from(&raw_points);
            let deferred = clear_cofactor(&raw::msm(
                raw_aff.as_slice(),
                &scalars,
                super::super::RAND_BITS,
            ));
            let hashed: Vec<blst_p2> = msgs.iter().map(|m| raw::hash_to_g2(m, DST_SIG)).collect();
            let hashed_aff = p2_affines::from(&hashed);
            let direct = raw::msm(hashed_aff.as_slice(), &scalars, super::super::RAND_BITS);
            assert_eq!(affine(&deferred), affine(&direct), "{n} points");
        }
    }

    #[test]
    fn sgn0_follows_the_rfc() {
        assert!(!sgn0(small(0, 0)));
        assert!(sgn0(small(1, 0)));
        assert!(sgn0(small(0, 1)));
        assert!(!sgn0(small(2, 1)));
        // −1 is p − 1, even.
        assert!(!sgn0(small(1, 0).neg()));
    }
}
