//! secp256k1 field and group arithmetic for ranger's own algorithms (batch verification, the
//! devnet's batch signer): `k256`'s constant-time field, scalar and point types, plus what k256
//! lacks — decompression from raw bytes with a precise failure (its square root taken by
//! libsecp256k1, measured faster), Montgomery batch inversion of scalars, and a multi-scalar
//! multiplication by Pippenger's bucket method whose buckets are summed in affine coordinates
//! with one field inversion per round of additions.
//!
//! libsecp256k1 stays the reference for single recoveries and signatures (`super::secp`); this
//! module is the one other implementation of the curve outside the GPU kernels. The choice of
//! `k256` over arkworks' `ark-secp256k1` is in the README (measured, and already a dependency of
//! `alloy`, so it adds no new code to the build).

use alloy_primitives::hex;
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
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
/// exists, in k256's type (`Affine::decompress` is the same point in the bucket sums' form).
pub fn decompress(x: &[u8; 32], y_odd: bool) -> Option<AffinePoint> {
    Affine::decompress(x, y_odd)?.point()
}

/// A point from its uncompressed coordinates x || y, when they are on the curve.
pub fn point_from_xy(xy: &[u8; 64]) -> Option<AffinePoint> {
    Affine::from_xy(xy)?.point()
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
    invert_all(xs, &mut Vec::with_capacity(xs.len()))
}

/// Montgomery's trick in any field: every element replaced by its inverse with one inversion and
/// three multiplications each, `prefix` as scratch. False, changing nothing, when one is zero.
fn invert_all<F: k256::elliptic_curve::Field>(xs: &mut [F], prefix: &mut Vec<F>) -> bool {
    prefix.clear();
    let mut acc = F::ONE;
    for x in xs.iter() {
        prefix.push(acc);
        acc *= x;
    }
    let Some(mut inv) = Option::<F>::from(acc.invert()) else {
        return false;
    };
    for (x, before) in xs.iter_mut().zip(prefix.iter()).rev() {
        let xi = inv * before;
        inv *= &*x;
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

/// A point in affine coordinates (each of magnitude 1, not always fully normalised), or infinity:
/// the form the batch equation's points take from decompression (or a key's coordinates)
/// straight into the bucket sums, with no trip through k256's point type (which keeps its
/// coordinates private).
#[derive(Clone, Copy, Debug)]
pub struct Affine {
    x: FieldElement,
    y: FieldElement,
    infinity: bool,
}

/// The same point, whatever the coordinates' representations.
impl PartialEq for Affine {
    fn eq(&self, other: &Self) -> bool {
        match (self.infinity, other.infinity) {
            (true, true) => true,
            (false, false) => {
                self.x.normalize() == other.x.normalize()
                    && self.y.normalize() == other.y.normalize()
            }
            _ => false,
        }
    }
}

impl Eq for Affine {}

impl Affine {
    const INFINITY: Affine = Affine {
        x: FieldElement::ZERO,
        y: FieldElement::ZERO,
        infinity: true,
    };

    /// From uncompressed coordinates x || y (big-endian), when both are below p and the point is
    /// on the curve (y² = x³ + 7).
    pub fn from_xy(xy: &[u8; 64]) -> Option<Affine> {
        let p = Affine::below_p(xy)?;
        let rhs = (p.x.square() * p.x + FieldElement::from(7u64)).normalize();
        (p.y.square().normalize() == rhs).then_some(p)
    }

    /// The coordinates x || y when both are below p, not checked to be on the curve (for
    /// libsecp256k1's output, which is).
    fn below_p(xy: &[u8; 64]) -> Option<Affine> {
        let coordinate = |at: usize| -> Option<FieldElement> {
            let mut c = [0u8; 32];
            c.copy_from_slice(&xy[at..at + 32]);
            Option::from(FieldElement::from_bytes(&FieldBytes::from(c)))
        };
        Some(Affine {
            x: coordinate(0)?,
            y: coordinate(32)?,
            infinity: false,
        })
    }

    /// The generator G, made once.
    pub fn generator() -> Affine {
        static G: std::sync::OnceLock<Affine> = std::sync::OnceLock::new();
        *G.get_or_init(|| Affine::of(&AffinePoint::GENERATOR))
    }

    /// The point with x-coordinate `x` (big-endian, below p) and the given y parity, when one
    /// exists.
    ///
    /// The square root goes through libsecp256k1 (parsing the compressed encoding): it is the one
    /// costly step of a batch-verified item, and libsecp256k1's field arithmetic took it at about
    /// 1.5× the rate of k256's `decompress` on the 2-core machine (115–123k/s against 66–85k/s,
    /// one thread, 4,096 x-coordinates of real signatures).
    pub fn decompress(x: &[u8; 32], y_odd: bool) -> Option<Affine> {
        let mut compressed = [0u8; 33];
        compressed[0] = if y_odd { 0x03 } else { 0x02 };
        compressed[1..].copy_from_slice(x);
        let key = secp256k1::PublicKey::from_slice(&compressed).ok()?;
        let full = key.serialize_uncompressed();
        let mut xy = [0u8; 64];
        xy.copy_from_slice(&full[1..]);
        // libsecp256k1 parsed the point, so it is on the curve: no second check here.
        Affine::below_p(&xy)
    }

    /// From k256's type (the identity is the point at infinity).
    pub fn of(p: &AffinePoint) -> Affine {
        let ep = p.to_encoded_point(false);
        let coordinate = |c: Option<&FieldBytes>| Option::from(FieldElement::from_bytes(c?));
        match (coordinate(ep.x()), coordinate(ep.y())) {
            (Some(x), Some(y)) => Affine {
                x,
                y,
                infinity: false,
            },
            _ => Affine::INFINITY,
        }
    }

    fn neg(&self) -> Affine {
        Affine {
            y: self.y.negate(1).normalize_weak(),
            ..*self
        }
    }

    /// Uncompressed coordinates x || y, big-endian (`None` at infinity): `from_xy`'s inverse.
    pub fn xy(&self) -> Option<[u8; 64]> {
        if self.infinity {
            return None;
        }
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.x.to_bytes());
        out[32..].copy_from_slice(&self.y.to_bytes());
        Some(out)
    }

    /// Back to k256's type (`None` only if the coordinates left the curve: a bug of ours).
    pub fn point(&self) -> Option<AffinePoint> {
        if self.infinity {
            return Some(AffinePoint::IDENTITY);
        }
        let ep =
            EncodedPoint::from_affine_coordinates(&self.x.to_bytes(), &self.y.to_bytes(), false);
        Option::from(AffinePoint::from_encoded_point(&ep))
    }

    /// λ·self, computed as (β·x, y).
    pub fn endomorphism(&self) -> Affine {
        if self.infinity {
            return *self;
        }
        Affine {
            x: (self.x * endo().beta).normalize(),
            ..*self
        }
    }
}

/// How one pair of a round is added.
#[derive(Clone, Copy)]
enum Step {
    /// Distinct x: the chord, over (x_q − x_p).
    Chord,
    /// The same point: the tangent, over 2·y_p.
    Tangent,
    /// p + (−p), or an infinity on one side: no inversion.
    Infinity,
    Left,
    Right,
}

/// What a pair needs: its step and the denominator to invert (one when none). Coordinates have
/// magnitude 1 (weakly normalised), so equal x-coordinates are told by their difference
/// normalising to zero.
fn classify(p: &Affine, q: &Affine) -> (Step, FieldElement) {
    if p.infinity {
        return (Step::Right, FieldElement::ONE);
    }
    if q.infinity {
        return (Step::Left, FieldElement::ONE);
    }
    let dx = q.x + p.x.negate(1);
    if bool::from(dx.normalizes_to_zero()) {
        if bool::from((q.y + p.y.negate(1)).normalizes_to_zero()) {
            // y ≠ 0 on secp256k1 (the group has odd order), so 2y is invertible.
            return (Step::Tangent, p.y.double());
        }
        return (Step::Infinity, FieldElement::ONE);
    }
    (Step::Chord, dx)
}

/// p + q given the inverse of the denominator `classify` chose. The sum's coordinates are weakly
/// normalised (magnitude 1): `point` normalises fully when a bucket leaves the affine rounds.
fn apply(step: Step, p: &Affine, q: &Affine, inv: &FieldElement) -> Affine {
    let lambda = match step {
        Step::Chord => (q.y + p.y.negate(1)) * inv,
        Step::Tangent => p.x.square().mul_single(3) * inv,
        Step::Infinity => return Affine::INFINITY,
        Step::Left => return *p,
        Step::Right => return *q,
    };
    // Magnitudes: λ² is 1 and (x_p + x_q) is 2, negated 3; (x_p − x_3) is 3; y_p negated 2.
    let x = (lambda.square() + (p.x + q.x).negate(2)).normalize_weak();
    let y = ((lambda * (p.x + x.negate(1))) + p.y.negate(1)).normalize_weak();
    Affine {
        x,
        y,
        infinity: false,
    }
}

/// One window of the bucket method with affine buckets: the points are sorted by bucket, and
/// every round adds neighbours within each bucket's run with one field inversion for the whole
/// round, so a bucket of k points is summed in ⌈log2 k⌉ rounds at about 6 field multiplications
/// per addition (k256's complete mixed addition takes about 11). The bucket sums are then
/// combined by the usual running sum. `None` if a bucket left the curve (a bug of ours: the
/// caller falls back to projective buckets).
fn window_affine(points: &[Affine], digits: &[i32], half: usize) -> Option<ProjectivePoint> {
    let mut lens = vec![0usize; half];
    for &d in digits {
        if d != 0 {
            lens[d.unsigned_abs() as usize - 1] += 1;
        }
    }
    let mut starts = Vec::with_capacity(half);
    let mut total = 0;
    for &l in &lens {
        starts.push(total);
        total += l;
    }
    let mut pts = vec![Affine::INFINITY; total];
    let mut fill = starts.clone();
    for (p, &d) in points.iter().zip(digits) {
        if d == 0 {
            continue;
        }
        let b = d.unsigned_abs() as usize - 1;
        pts[fill[b]] = if d > 0 { *p } else { p.neg() };
        fill[b] += 1;
    }
    let mut steps = Vec::new();
    let mut dens = Vec::new();
    let mut prefix = Vec::new();
    loop {
        steps.clear();
        dens.clear();
        for (&s, &l) in starts.iter().zip(&lens) {
            for k in 0..l / 2 {
                let (step, den) = classify(&pts[s + 2 * k], &pts[s + 2 * k + 1]);
                steps.push(step);
                dens.push(den);
            }
        }
        if steps.is_empty() {
            break;
        }
        if !invert_all(&mut dens, &mut prefix) {
            return None;
        }
        let mut i = 0;
        for (&s, l) in starts.iter().zip(lens.iter_mut()) {
            // In place: pair k reads slots 2k and 2k + 1 and writes slot k ≤ 2k, which no later
            // pair reads.
            for k in 0..*l / 2 {
                let (p, q) = (pts[s + 2 * k], pts[s + 2 * k + 1]);
                pts[s + k] = apply(steps[i], &p, &q, &dens[i]);
                i += 1;
            }
            if *l % 2 == 1 {
                pts[s + *l / 2] = pts[s + *l - 1];
            }
            *l = l.div_ceil(2);
        }
    }
    let mut running = ProjectivePoint::IDENTITY;
    let mut sum = ProjectivePoint::IDENTITY;
    for (&s, &l) in starts.iter().zip(&lens).rev() {
        if l > 0 {
            running += pts[s].point()?;
        }
        sum += running;
    }
    Some(sum)
}

/// One window with projective buckets (k256's complete mixed addition): for small inputs, where
/// a round's inversion would cost more than it saves, and as the fallback of `window_affine`.
fn window_projective(points: &[AffinePoint], digits: &[i32], half: usize) -> ProjectivePoint {
    let mut buckets = vec![ProjectivePoint::IDENTITY; half];
    for (p, &d) in points.iter().zip(digits) {
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
}

/// Points from which `msm` sums buckets in affine coordinates: each round of pairwise additions
/// costs one field inversion (about 270 multiplications), which pays off only when a window
/// holds many more points than buckets.
const AFFINE_MIN_POINTS: usize = 512;

/// The window width that minimises the bucket method's cost for `n` points of `bits`-bit
/// scalars: each window costs one addition per point plus about 2^w to sum its 2^(w−1) buckets
/// (twice that, relative to a point's addition, when the points are added in affine rounds,
/// which makes a point's addition about half as costly).
fn window_bits(n: usize, bits: usize, affine: bool) -> usize {
    let bucket_weight = if affine { 2 } else { 1 };
    (2..=16)
        .min_by_key(|&w| (bits / w + 1) * (n + bucket_weight * (2usize << (w - 1))))
        .unwrap_or(4)
}

/// Σ scalars[i]·points[i] by Pippenger's bucket method with signed digits: every scalar (given
/// as limbs, at most `bits` bits) is cut into windows of w bits with digits in [−2^(w−1),
/// 2^(w−1)], each window sorts the points into 2^(w−1) buckets by digit (negating for negative
/// digits) and sums the buckets with a running sum; the windows run in parallel and are joined by
/// w doublings each. About (bits/w)·(n + 2^w) additions instead of n full multiplications; from
/// `AFFINE_MIN_POINTS` points the buckets are filled by batched affine additions
/// (`window_affine`).
///
/// Variable-time in the scalars: it is only fed public data and the verifier's own weights.
/// `None` only if a point's coordinates left the curve (a bug of ours), so that such a sum is
/// never taken for a result.
pub fn msm(points: &[Affine], scalars: &[[u64; 4]], bits: usize) -> Option<ProjectivePoint> {
    let n = points.len().min(scalars.len());
    if n == 0 {
        return Some(ProjectivePoint::IDENTITY);
    }
    let points = &points[..n];
    let bits = bits.min(256);
    let affine = n >= AFFINE_MIN_POINTS;
    // k256's points for the projective buckets: below the affine threshold, or once a window
    // has fallen back (a bug of ours, see `window_affine`).
    let projective = std::sync::OnceLock::new();
    let projective = || -> Option<&Vec<AffinePoint>> {
        projective
            .get_or_init(|| points.iter().map(Affine::point).collect::<Option<Vec<_>>>())
            .as_ref()
    };
    let w = window_bits(n, bits, affine);
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
    let sums: Option<Vec<ProjectivePoint>> = (0..windows)
        .into_par_iter()
        .map(|j| {
            let d = &digits[j * n..(j + 1) * n];
            affine
                .then(|| window_affine(points, d, half as usize))
                .flatten()
                .or_else(|| Some(window_projective(projective()?, d, half as usize)))
        })
        .collect();
    let mut acc = ProjectivePoint::IDENTITY;
    for s in sums?.iter().rev() {
        for _ in 0..w {
            acc = acc.double();
        }
        acc += s;
    }
    Some(acc)
}

/// λ, a cube root of unity mod n, and β, one mod p: λ·(x, y) = (β·x, y) for every point (the
/// curve's efficient endomorphism, Gallant–Lambert–Vanstone 2001; values as in SEC 2's and
/// libsecp256k1's literature).
const LAMBDA: [u8; 32] = hex!("5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72");
const BETA: [u8; 32] = hex!("7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee");
/// The short lattice basis of the split, (a1, b1) and (a2, b2) with a_i + b_i·λ ≡ 0: −b1 and
/// −b2 mod n, and g_i = round(2^384 · b_(3−i) / n) (signs folded in), so that
/// c_i = round(k · g_i / 2^384) rounds k's coordinates in that basis (Guide to Elliptic Curve
/// Cryptography, algorithm 3.74).
const MINUS_B1: [u8; 32] = hex!("00000000000000000000000000000000e4437ed6010e88286f547fa90abfe4c3");
const MINUS_B2: [u8; 32] = hex!("fffffffffffffffffffffffffffffffe8a280ac50774346dd765cda83db1562c");
const G1: [u8; 32] = hex!("3086d221a7d46bcde86c90e49284eb153daa8a1471e8ca7fe893209a45dbb031");
const G2: [u8; 32] = hex!("e4437ed6010e88286f547fa90abfe4c4221208ac9df506c61571b4ae8ac47f71");

/// The constants above as field and scalar values, made once.
struct Endo {
    lambda: Scalar,
    beta: FieldElement,
    minus_b1: Scalar,
    minus_b2: Scalar,
    g1: [u64; 4],
    g2: [u64; 4],
}

fn endo() -> &'static Endo {
    static ENDO: std::sync::OnceLock<Endo> = std::sync::OnceLock::new();
    ENDO.get_or_init(|| Endo {
        lambda: scalar_reduce(&LAMBDA),
        // β < p, so the conversion succeeds (the tests check λ·P = (β·x, y)).
        beta: Option::from(FieldElement::from_bytes(&FieldBytes::from(BETA)))
            .unwrap_or(FieldElement::ZERO),
        minus_b1: scalar_reduce(&MINUS_B1),
        minus_b2: scalar_reduce(&MINUS_B2),
        g1: scalar_limbs(&scalar_reduce(&G1)),
        g2: scalar_limbs(&scalar_reduce(&G2)),
    })
}

/// round(a · b / 2^384) for 256-bit a and b (the result is below 2^129, so a scalar).
fn mul_shift_384(a: &[u64; 4], b: &[u64; 4]) -> Scalar {
    let mut w = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let t = u128::from(a[i]) * u128::from(b[j]) + u128::from(w[i + j]) + carry;
            w[i + j] = t as u64;
            carry = t >> 64;
        }
        w[i + 4] = carry as u64;
    }
    let q = ((u128::from(w[7]) << 64) | u128::from(w[6])) + u128::from(w[5] >> 63);
    Scalar::from(q)
}

/// A scalar as a sign and a magnitude: (true, −s) when s is above n/2.
fn signed(s: Scalar) -> Signed {
    use k256::elliptic_curve::scalar::IsHigh;
    if bool::from(s.is_high()) {
        (true, scalar_limbs(&-s))
    } else {
        (false, scalar_limbs(&s))
    }
}

/// A scalar's sign (true: negative) and magnitude, as limbs.
pub type Signed = (bool, [u64; 4]);

/// k = k1 + k2·λ (mod n) with k1 and k2 of about 128 bits each, as (negative, magnitude).
pub fn glv_split(k: &Scalar) -> [Signed; 2] {
    let e = endo();
    let limbs = scalar_limbs(k);
    let c1 = mul_shift_384(&limbs, &e.g1) * e.minus_b1;
    let c2 = mul_shift_384(&limbs, &e.g2) * e.minus_b2;
    let k2 = c1 + c2;
    let k1 = *k - k2 * e.lambda;
    [signed(k1), signed(k2)]
}

/// Bits of the longest magnitude.
fn max_bits(limbs: &[[u64; 4]]) -> usize {
    limbs
        .iter()
        .map(|l| {
            (0..4)
                .rev()
                .find(|&i| l[i] != 0)
                .map_or(0, |i| 64 * i + 64 - l[i].leading_zeros() as usize)
        })
        .max()
        .unwrap_or(0)
}

/// Σ short[i]·short_points[i] + Σ scalars[j]·points[j], where the short scalars have at most 128
/// bits and the others are full-width: each full scalar is split by the endomorphism
/// (k·P = k1·P + k2·λP, both halves of about 128 bits, a negative half negating its point), so
/// the whole sum is one bucket-method sum over 128-bit digits instead of a 128-bit sum beside a
/// 256-bit one. `None` as for `msm`.
pub fn msm_split(
    short_points: &[Affine],
    short: &[u128],
    points: &[Affine],
    scalars: &[Scalar],
) -> Option<ProjectivePoint> {
    let n = short_points.len().min(short.len());
    let m = points.len().min(scalars.len());
    let mut all_points = Vec::with_capacity(n + 2 * m);
    let mut all_limbs = Vec::with_capacity(n + 2 * m);
    all_points.extend_from_slice(&short_points[..n]);
    all_limbs.extend(
        short[..n]
            .iter()
            .map(|&a| [a as u64, (a >> 64) as u64, 0, 0]),
    );
    let halves: Vec<[Signed; 2]> = scalars[..m]
        .par_iter()
        .with_min_len(64)
        .map(glv_split)
        .collect();
    for (p, [(neg1, k1), (neg2, k2)]) in points[..m].iter().zip(halves) {
        let lp = p.endomorphism();
        all_points.push(if neg1 { p.neg() } else { *p });
        all_limbs.push(k1);
        all_points.push(if neg2 { lp.neg() } else { lp });
        all_limbs.push(k2);
    }
    let bits = max_bits(&all_limbs);
    msm(&all_points, &all_limbs, bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// k256's points in the bucket sums' form.
    fn ours(points: &[AffinePoint]) -> Vec<Affine> {
        points.iter().map(Affine::of).collect()
    }

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
        // Sizes on both sides of AFFINE_MIN_POINTS.
        for n in [0usize, 1, 2, 7, 33, 300, 600, 1100] {
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
                msm(&ours(&points), &limbs, 256),
                Some(naive(&points, &scalars)),
                "n = {n}"
            );
            // Short scalars use fewer windows.
            let short: Vec<Scalar> = (0..n)
                .map(|i| Scalar::from(u128::MAX - i as u128))
                .collect();
            let sl: Vec<[u64; 4]> = short.iter().map(scalar_limbs).collect();
            assert_eq!(msm(&ours(&points), &sl, 128), Some(naive(&points, &short)));
        }
        // n − 1 as a scalar (every digit at its extreme) and the identity among the points.
        let m1 = -Scalar::ONE;
        let pts = [AffinePoint::GENERATOR, AffinePoint::IDENTITY];
        let sc = [scalar_limbs(&m1), scalar_limbs(&m1)];
        assert_eq!(
            msm(&ours(&pts), &sc, 256),
            Some(-ProjectivePoint::GENERATOR)
        );
    }

    #[test]
    fn the_endomorphism_is_lambda_and_the_split_recombines_into_short_halves() {
        let g = ProjectivePoint::GENERATOR;
        let e = endo();
        // λ³ = 1, λ ≠ 1, and (β·x, y) = λ·P on points other than G.
        assert_eq!(e.lambda * e.lambda * e.lambda, Scalar::ONE);
        assert_ne!(e.lambda, Scalar::ONE);
        for i in [1u64, 2, 7, 1 << 40] {
            let p = (g * Scalar::from(i)).to_affine();
            let lp = Affine::of(&p)
                .endomorphism()
                .point()
                .unwrap_or(AffinePoint::IDENTITY);
            assert_eq!(
                ProjectivePoint::from(lp),
                ProjectivePoint::from(p) * e.lambda
            );
        }
        let identity = Affine::of(&AffinePoint::IDENTITY);
        assert_eq!(identity.endomorphism(), identity);
        assert_eq!(identity.point(), Some(AffinePoint::IDENTITY));
        let from = |(neg, l): Signed| {
            let mut be = [0u8; 32];
            for (i, limb) in l.iter().enumerate() {
                be[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
            }
            let s = scalar_canonical(&be).unwrap_or(Scalar::ZERO);
            if neg { -s } else { s }
        };
        // Hashes, the edges of the range, and the lattice's own points.
        let mut ks: Vec<Scalar> = (0..2000u64)
            .map(|i| scalar_reduce(&crate::crypto::keccak256(&i.to_be_bytes()).0))
            .collect();
        ks.extend([
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            e.lambda,
            -e.lambda,
            Scalar::from(u128::MAX),
            -Scalar::from(u128::MAX),
            e.minus_b1,
            e.minus_b2,
        ]);
        for k in ks {
            let [h1, h2] = glv_split(&k);
            assert!(max_bits(&[h1.1, h2.1]) <= 128, "{k:?}");
            assert_eq!(from(h1) + from(h2) * e.lambda, k);
        }
    }

    #[test]
    fn msm_split_matches_naive_sums() {
        let g = ProjectivePoint::GENERATOR;
        // Sizes on both sides of AFFINE_MIN_POINTS, with and without short terms.
        for (n, m) in [
            (0usize, 0usize),
            (0, 3),
            (5, 0),
            (40, 9),
            (300, 300),
            (700, 20),
        ] {
            let pts = |k: usize, salt: u64| -> Vec<AffinePoint> {
                (0..k)
                    .map(|i| (g * Scalar::from(i as u64 * 13 + salt)).to_affine())
                    .collect()
            };
            let (short_points, points) = (pts(n, 5), pts(m, 11));
            let short: Vec<u128> = (0..n).map(|i| u128::MAX - 977 * i as u128).collect();
            let scalars: Vec<Scalar> = (0..m)
                .map(|i| -scalar_reduce(&crate::crypto::keccak256(&(i as u64).to_le_bytes()).0))
                .collect();
            let short_scalars: Vec<Scalar> = short.iter().map(|&a| Scalar::from(a)).collect();
            assert_eq!(
                msm_split(&ours(&short_points), &short, &ours(&points), &scalars),
                Some(naive(&short_points, &short_scalars) + naive(&points, &scalars)),
                "n = {n}, m = {m}"
            );
        }
    }

    #[test]
    fn affine_buckets_handle_equal_opposite_and_infinite_points() {
        // Many copies of a few points (tangent steps), each point beside its negation (sums to
        // infinity inside a bucket), and the identity among them, with scalars that put many
        // points into the same buckets.
        let g = ProjectivePoint::GENERATOR;
        let base: Vec<AffinePoint> = (1..=5u64)
            .map(|i| (g * Scalar::from(i)).to_affine())
            .collect();
        let mut points = Vec::new();
        let mut scalars = Vec::new();
        for i in 0..1200usize {
            let p = base[i % base.len()];
            points.push(match i % 7 {
                0 => AffinePoint::IDENTITY,
                3 => -p,
                _ => p,
            });
            scalars.push(Scalar::from((i % 4) as u64 + 1) + Scalar::from(1u64 << 40));
        }
        let limbs: Vec<[u64; 4]> = scalars.iter().map(scalar_limbs).collect();
        assert_eq!(
            msm(&ours(&points), &limbs, 64),
            Some(naive(&points, &scalars))
        );
        // Equal scalars on P and −P in one bucket cancel to infinity.
        let p = base[2];
        let pts: Vec<AffinePoint> = (0..1000).map(|i| if i % 2 == 0 { p } else { -p }).collect();
        let one = vec![scalar_limbs(&Scalar::from(3u64)); 1000];
        assert_eq!(msm(&ours(&pts), &one, 8), Some(ProjectivePoint::IDENTITY));
    }

    #[test]
    fn a_point_off_the_curve_gives_no_sum() {
        // Only a bug of ours could make one (every constructor checks or keeps the curve), but
        // were it to happen, the sum is refused rather than computed without the point.
        let off = Affine {
            x: FieldElement::ONE,
            y: FieldElement::ONE,
            infinity: false,
        };
        let g = Affine::generator();
        let one = scalar_limbs(&Scalar::ONE);
        assert_eq!(msm(&[g, off], &[one, one], 8), None);
        let many: Vec<Affine> = (0..AFFINE_MIN_POINTS + 1)
            .map(|i| if i == 7 { off } else { g })
            .collect();
        assert_eq!(msm(&many, &vec![one; many.len()], 8), None);
        assert_eq!(msm_split(&[off], &[1], &[g], &[Scalar::ONE]), None);
        assert_eq!(msm(&[g], &[one], 8), Some(ProjectivePoint::GENERATOR));
    }

    #[test]
    fn a_weakly_normalised_coordinate_at_or_over_p_is_the_same_point() {
        // x = 1 is on the curve (8 is a square mod p). 1 + 4p (ZERO.negate(1) is 4p) weakly
        // normalised is p + 1: the same x in the one non-canonical form the bucket sums' weak
        // normalisation can leave.
        let mut one = [0u8; 32];
        one[31] = 1;
        let p = Affine::decompress(&one, false).unwrap();
        let over = Affine {
            x: (FieldElement::ONE + FieldElement::ZERO.negate(1)).normalize_weak(),
            ..p
        };
        assert_eq!(over, p);
        assert_eq!(over.point(), p.point());
        assert_eq!(over.xy(), p.xy());
        assert!(matches!(classify(&over, &p).0, Step::Tangent));
        assert!(matches!(classify(&p, &over).0, Step::Tangent));
        assert!(matches!(classify(&over, &p.neg()).0, Step::Infinity));
        let (step, denominator) = classify(&over, &p);
        let inv = Option::<FieldElement>::from(denominator.invert()).unwrap();
        let doubled = ProjectivePoint::from(p.point().unwrap()).double();
        assert_eq!(
            apply(step, &over, &p, &inv).point(),
            Some(doubled.to_affine())
        );
        assert_eq!(
            ProjectivePoint::from(over.endomorphism().point().unwrap()),
            ProjectivePoint::from(p.point().unwrap()) * endo().lambda
        );
        // In the bucket sums, beside its canonical twin and both negations.
        let points: Vec<Affine> = (0..1200)
            .map(|i| match i % 4 {
                0 => over,
                1 => p,
                2 => over.neg(),
                _ => p.neg(),
            })
            .collect();
        let scalars: Vec<Scalar> = (0..1200u64).map(|i| Scalar::from(i % 5 + 1)).collect();
        let limbs: Vec<[u64; 4]> = scalars.iter().map(scalar_limbs).collect();
        let expected = scalars
            .iter()
            .enumerate()
            .fold(ProjectivePoint::IDENTITY, |acc, (i, s)| {
                let q = ProjectivePoint::from(p.point().unwrap()) * s;
                if i % 4 < 2 { acc + q } else { acc - q }
            });
        assert_eq!(msm(&points, &limbs, 8), Some(expected));
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
        // A coordinate at or above p is no coordinate, even where it would reduce onto the curve.
        let mut over = xy;
        over[..32].fill(0xff);
        assert_eq!(Affine::from_xy(&over), None);
        assert_eq!(Affine::from_xy(&xy), Some(Affine::of(&p)));
        assert_eq!(point_to_xy(&AffinePoint::IDENTITY), None);
        assert_eq!(scalar_canonical(&[0xff; 32]), None);
        assert_eq!(
            scalar_reduce(&scalar_to_be(&Scalar::from(9u64))),
            Scalar::from(9u64)
        );
    }
}
