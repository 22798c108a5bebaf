//! secp256k1 field and group arithmetic for ranger's own algorithms (batch verification, the
//! devnet's batch signer): `k256`'s constant-time field, scalar and point types, plus what k256
//! lacks — decompression from raw bytes with a precise failure, Montgomery batch inversion of
//! scalars, and a multi-scalar multiplication by Pippenger's bucket method.
//!
//! libsecp256k1 stays the reference for single recoveries and signatures (`super::secp`); this
//! module is the one other implementation of the curve outside the GPU kernels. The choice of
//! `k256` over arkworks' `ark-secp256k1` is in the README (measured, and already a dependency of
//! `alloy`, so it adds no new code to the build).

use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::point::{AffineCoordinates, DecompressPoint};
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use k256::elliptic_curve::subtle::Choice;
pub use k256::{AffinePoint, FieldElement, ProjectivePoint, Scalar};
use k256::{EncodedPoint, FieldBytes, U256 as KU256};
use rayon::prelude::*;

/// A 32-byte big-endian integer reduced mod n (how ECDSA takes a message hash).
pub fn scalar_reduce(be: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<KU256>>::reduce_bytes(&FieldBytes::from(*be))
}

/// A 32-byte big-endian integer as a scalar, when it is below n.
pub fn scalar_canonical(be: &[u8; 32]) -> Option<Scalar> {
    use k256::elliptic_curve::PrimeField;
    Option::from(Scalar::from_repr(FieldBytes::from(*be)))
}

/// A scalar as 32 big-endian bytes.
pub fn scalar_to_be(s: &Scalar) -> [u8; 32] {
    s.to_bytes().into()
}

/// The curve point with x-coordinate `x` (big-endian, below p) and the given y parity, when one
/// exists.
pub fn decompress(x: &[u8; 32], y_odd: bool) -> Option<AffinePoint> {
    Option::from(AffinePoint::decompress(
        &FieldBytes::from(*x),
        Choice::from(u8::from(y_odd)),
    ))
}

/// A point from its uncompressed coordinates x || y, when they are on the curve.
pub fn point_from_xy(xy: &[u8; 64]) -> Option<AffinePoint> {
    let mut x = [0u8; 32];
    let mut y = [0u8; 32];
    x.copy_from_slice(&xy[..32]);
    y.copy_from_slice(&xy[32..]);
    let ep =
        EncodedPoint::from_affine_coordinates(&FieldBytes::from(x), &FieldBytes::from(y), false);
    Option::from(AffinePoint::from_encoded_point(&ep))
}

/// A finite point's coordinates x || y (`None` at infinity).
pub fn point_to_xy(p: &AffinePoint) -> Option<[u8; 64]> {
    let ep = p.to_encoded_point(false);
    let (x, y) = (ep.x()?, ep.y()?);
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(x);
    out[32..].copy_from_slice(y);
    Some(out)
}

/// A point's x-coordinate (big-endian) and y parity.
pub fn point_x_parity(p: &AffinePoint) -> ([u8; 32], bool) {
    (p.x().into(), bool::from(p.y_is_odd()))
}

/// Replaces every scalar by its inverse with one inversion (Montgomery's trick). Returns false,
/// changing nothing, when one of them is zero.
pub fn batch_invert(xs: &mut [Scalar]) -> bool {
    let mut prefix = Vec::with_capacity(xs.len());
    let mut acc = Scalar::ONE;
    for x in xs.iter() {
        prefix.push(acc);
        acc *= x;
    }
    let Some(mut inv) = Option::<Scalar>::from(acc.invert()) else {
        return false;
    };
    for (x, before) in xs.iter_mut().zip(prefix).rev() {
        let xi = inv * before;
        inv *= *x;
        *x = xi;
    }
    true
}

/// A scalar as four 64-bit limbs, least significant first (the layout `msm` reads digits from).
pub fn scalar_limbs(s: &Scalar) -> [u64; 4] {
    let be = scalar_to_be(s);
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let o = 24 - 8 * i;
        let mut w = [0u8; 8];
        w.copy_from_slice(&be[o..o + 8]);
        *limb = u64::from_be_bytes(w);
    }
    out
}

/// Bits `[at, at + width)` of a little-endian limb integer (width ≤ 32).
fn bits_at(s: &[u64; 4], at: usize, width: usize) -> u32 {
    let (limb, off) = (at / 64, at % 64);
    if limb >= 4 {
        return 0;
    }
    let mut v = s[limb] >> off;
    if off + width > 64 && limb + 1 < 4 {
        v |= s[limb + 1] << (64 - off);
    }
    (v & ((1u64 << width) - 1)) as u32
}

/// The window width that minimises the bucket method's additions for `n` points of `bits`-bit
/// scalars: each window costs one addition per point plus about 2^w to sum its 2^(w−1) buckets.
fn window_bits(n: usize, bits: usize) -> usize {
    (2..=16)
        .min_by_key(|&w| (bits / w + 1) * (n + (2usize << (w - 1))))
        .unwrap_or(4)
}

/// Σ scalars[i]·points[i] by Pippenger's bucket method with signed digits: every scalar (given
/// as limbs, at most `bits` bits) is cut into windows of w bits with digits in [−2^(w−1),
/// 2^(w−1)], each window sorts the points into 2^(w−1) buckets by digit (negating for negative
/// digits) and sums the buckets with a running sum; the windows run in parallel and are joined by
/// w doublings each. About (bits/w)·(n + 2^w) additions instead of n full multiplications.
///
/// Variable-time in the scalars: it is only fed public data and the verifier's own weights.
pub fn msm(points: &[AffinePoint], scalars: &[[u64; 4]], bits: usize) -> ProjectivePoint {
    let n = points.len().min(scalars.len());
    if n == 0 {
        return ProjectivePoint::IDENTITY;
    }
    let bits = bits.min(256);
    let w = window_bits(n, bits);
    let windows = bits / w + 1;
    let half = 1i64 << (w - 1);
    // Signed digits, window-major so each window's task reads one run of memory.
    let mut digits = vec![0i32; windows * n];
    for (i, s) in scalars[..n].iter().enumerate() {
        let mut carry = 0i64;
        for j in 0..windows {
            let mut d = i64::from(bits_at(s, j * w, w)) + carry;
            carry = 0;
            if d > half {
                d -= 1 << w;
                carry = 1;
            }
            digits[j * n + i] = d as i32;
        }
    }
    let sums: Vec<ProjectivePoint> = (0..windows)
        .into_par_iter()
        .map(|j| {
            let mut buckets = vec![ProjectivePoint::IDENTITY; half as usize];
            for (p, &d) in points[..n].iter().zip(&digits[j * n..(j + 1) * n]) {
                if d > 0 {
                    buckets[(d - 1) as usize] += p;
                } else if d < 0 {
                    buckets[(-d - 1) as usize] -= p;
                }
            }
            let mut running = ProjectivePoint::IDENTITY;
            let mut total = ProjectivePoint::IDENTITY;
            for b in buckets.iter().rev() {
                running += b;
                total += running;
            }
            total
        })
        .collect();
    let mut acc = ProjectivePoint::IDENTITY;
    for s in sums.iter().rev() {
        for _ in 0..w {
            acc = acc.double();
        }
        acc += s;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(points: &[AffinePoint], scalars: &[Scalar]) -> ProjectivePoint {
        points
            .iter()
            .zip(scalars)
            .fold(ProjectivePoint::IDENTITY, |acc, (p, s)| {
                acc + ProjectivePoint::from(*p) * s
            })
    }

    #[test]
    fn msm_matches_naive_sums() {
        let g = ProjectivePoint::GENERATOR;
        for n in [0usize, 1, 2, 7, 33, 300] {
            let points: Vec<AffinePoint> = (0..n)
                .map(|i| (g * Scalar::from(i as u64 * 7 + 3)).to_affine())
                .collect();
            let scalars: Vec<Scalar> = (0..n)
                .map(|i| {
                    scalar_reduce(&crate::crypto::keccak256(&(i as u64).to_be_bytes()).0)
                        * Scalar::from(if i % 3 == 0 { u64::MAX } else { 1 })
                        - Scalar::from(i as u64)
                })
                .collect();
            let limbs: Vec<[u64; 4]> = scalars.iter().map(scalar_limbs).collect();
            assert_eq!(
                msm(&points, &limbs, 256),
                naive(&points, &scalars),
                "n = {n}"
            );
            // Short scalars use fewer windows.
            let short: Vec<Scalar> = (0..n)
                .map(|i| Scalar::from(u128::MAX - i as u128))
                .collect();
            let sl: Vec<[u64; 4]> = short.iter().map(scalar_limbs).collect();
            assert_eq!(msm(&points, &sl, 128), naive(&points, &short));
        }
        // n − 1 as a scalar (every digit at its extreme) and the identity among the points.
        let m1 = -Scalar::ONE;
        let pts = [AffinePoint::GENERATOR, AffinePoint::IDENTITY];
        let sc = [scalar_limbs(&m1), scalar_limbs(&m1)];
        assert_eq!(msm(&pts, &sc, 256), -ProjectivePoint::GENERATOR);
    }

    #[test]
    fn batch_inversion_and_encodings() {
        let mut xs: Vec<Scalar> = (1..50u64).map(Scalar::from).collect();
        let orig = xs.clone();
        assert!(batch_invert(&mut xs));
        for (a, b) in xs.iter().zip(&orig) {
            assert_eq!(*a * b, Scalar::ONE);
        }
        let mut with_zero = vec![Scalar::ONE, Scalar::ZERO];
        assert!(!batch_invert(&mut with_zero));
        assert_eq!(with_zero[0], Scalar::ONE);

        let p = (ProjectivePoint::GENERATOR * Scalar::from(12345u64)).to_affine();
        let xy = point_to_xy(&p).unwrap();
        assert_eq!(point_from_xy(&xy), Some(p));
        let (x, odd) = point_x_parity(&p);
        assert_eq!(decompress(&x, odd), Some(p));
        assert_eq!(decompress(&x, !odd), Some(-p));
        let mut bad = xy;
        bad[63] ^= 1;
        assert_eq!(point_from_xy(&bad), None);
        assert_eq!(point_to_xy(&AffinePoint::IDENTITY), None);
        assert_eq!(scalar_canonical(&[0xff; 32]), None);
        assert_eq!(
            scalar_reduce(&scalar_to_be(&Scalar::from(9u64))),
            Scalar::from(9u64)
        );
    }
}
