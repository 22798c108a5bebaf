//! Fast batch ECDSA signing for devnet keys only.
//!
//! libsecp256k1 through the `secp256k1` crate spends two fixed-base multiplications per
//! signature (the nonce point, then a re-randomization of its global context) plus RFC 6979's
//! HMAC chain: about 60 µs. A devnet signs millions of transactions with keys that are public by
//! construction (derived from the seed), so side-channel hardening and nonce secrecy buy nothing
//! here. This signer takes consecutive nonces `k0, k0 + 1, ...` for a batch, so each nonce point
//! is the previous one plus G (one mixed addition), converts all of them to affine with one field
//! inversion, and inverts all nonces with one scalar inversion (Montgomery's trick), on the
//! secp256k1 arithmetic of `crate::crypto::curve` (k256): outside libsecp256k1 and the GPU
//! kernels, ranger has one implementation of the curve.
//!
//! Consecutive nonces reveal the signing key to anyone holding two signatures: NEVER use this
//! for a key that guards anything. Output signatures are ordinary low-s ECDSA signatures that
//! any verifier accepts (the tests recover them with libsecp256k1).

use crate::crypto::curve::{
    AffinePoint, ProjectivePoint, Scalar, batch_invert, point_to_xy, point_x_parity,
    scalar_canonical, scalar_reduce, scalar_to_be,
};
use crate::crypto::keccak256_concat;
use crate::crypto::secp::{
    SECP256K1_HALF_N, SECP256K1_N, Signature65, SigningKey, pubkey_to_address,
};
use alloy_primitives::{B256, U256};
use k256::elliptic_curve::group::Curve;
use rayon::prelude::*;

/// One signature to make: the 32-byte hash and the key.
#[derive(Debug, Clone, Copy)]
pub struct SignJob<'a> {
    pub hash: B256,
    pub key: &'a SigningKey,
}

/// Signs `jobs` with nonces `k0 + i`, where k0 is derived from `nonce_seed`. Deterministic: the
/// same jobs and seed give the same signatures. Items whose nonce point would be degenerate
/// (probability ~2^-128) are signed by libsecp256k1 instead.
pub fn sign_batch(jobs: &[SignJob<'_>], nonce_seed: &[u8]) -> Vec<Signature65> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let k0 = base_scalar(b"ranger-devnet-nonce", nonce_seed, jobs.len());
    let points = consecutive_points(&k0, jobs.len());

    // Nonces and their inverses (k0 + i is never zero: k0 < n − len − 1).
    let ks: Vec<Scalar> = (0..jobs.len() as u64)
        .map(|i| k0 + Scalar::from(i))
        .collect();
    let mut kinv = ks;
    if !batch_invert(&mut kinv) {
        return jobs.iter().map(|j| j.key.sign(&j.hash)).collect();
    }

    jobs.iter()
        .enumerate()
        .map(|(i, job)| {
            if points[i] == AffinePoint::IDENTITY {
                return job.key.sign(&job.hash);
            }
            let (x, y_odd) = point_x_parity(&points[i]);
            // r = x mod n; x ≥ n (probability ~2^-128) would need recovery id 2 or 3.
            let (Some(r), Some(d)) = (scalar_canonical(&x), scalar_canonical(&job.key.to_bytes()))
            else {
                return job.key.sign(&job.hash);
            };
            let mut recid = u8::from(y_odd);
            let z = scalar_reduce(&job.hash.0);
            let s = kinv[i] * (z + r * d);
            if bool::from(s.is_zero()) || bool::from(r.is_zero()) {
                return job.key.sign(&job.hash);
            }
            let mut s = U256::from_be_bytes(scalar_to_be(&s));
            if s > SECP256K1_HALF_N {
                s = SECP256K1_N - s;
                recid ^= 1;
            }
            Signature65::from_parts(U256::from_be_bytes(x), s, recid)
        })
        .collect()
}

/// The affine points `k·G, (k+1)·G, ..., (k+len−1)·G`: the first by a fixed-base
/// multiplication, each next one by one mixed addition, all made affine with one field inversion.
/// An entry is the identity where the run passes the point at infinity.
pub fn consecutive_points(k: &Scalar, len: usize) -> Vec<AffinePoint> {
    let mut proj = Vec::with_capacity(len);
    let mut p = ProjectivePoint::GENERATOR * k;
    for _ in 0..len {
        proj.push(p);
        p += AffinePoint::GENERATOR;
    }
    let mut out = vec![AffinePoint::IDENTITY; len];
    ProjectivePoint::batch_normalize(&proj, &mut out);
    out
}

/// Devnet account keys `base, base + 1, ...` with their addresses, `base` derived from `seed`.
/// Consecutive secrets make each public key one point addition away from the previous one, so a
/// hundred thousand accounts take a fraction of a second instead of seconds. Keys derived this
/// way are as public as the seed.
pub fn consecutive_keys(seed: u64, count: usize) -> Vec<(SigningKey, alloy_primitives::Address)> {
    /// Keys per rayon task (one fixed-base multiplication and one inversion each).
    const CHUNK: usize = 4096;
    let base = base_scalar(b"ranger-devnet-accounts", &seed.to_be_bytes(), count);
    let chunks: Vec<usize> = (0..count.div_ceil(CHUNK)).collect();
    chunks
        .par_iter()
        .flat_map_iter(|&c| {
            let len = CHUNK.min(count - c * CHUNK);
            let mut k = base + Scalar::from((c * CHUNK) as u64);
            let points = consecutive_points(&k, len);
            let mut out = Vec::with_capacity(len);
            for p in &points {
                let secret = scalar_to_be(&k);
                k += Scalar::ONE;
                let Some(key) = SigningKey::from_bytes(secret) else {
                    continue;
                };
                let address = match point_to_xy(p) {
                    Some(xy) => pubkey_to_address(&xy),
                    None => key.address(),
                };
                out.push((key, address));
            }
            out
        })
        .collect()
}

/// A scalar base in [1, n − len − 1): keccak of the domain and seed, reduced by rejection.
fn base_scalar(domain: &[u8], seed: &[u8], len: usize) -> Scalar {
    let mut ctr = 0u64;
    loop {
        let h = keccak256_concat(&[domain, seed, &ctr.to_be_bytes()]);
        let k = U256::from_be_bytes(h.0);
        if !k.is_zero()
            && k < SECP256K1_N - U256::from(len as u64 + 1)
            && let Some(s) = scalar_canonical(&h.0)
        {
            return s;
        }
        ctr += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keccak256;
    use crate::crypto::secp::recover_address;

    #[test]
    fn consecutive_keys_have_their_addresses() {
        let keys = consecutive_keys(3, 5000);
        assert_eq!(keys.len(), 5000);
        for (k, a) in keys.iter().step_by(97).chain(keys.last()) {
            assert_eq!(k.address(), *a);
        }
        let set: std::collections::HashSet<_> = keys.iter().map(|(_, a)| *a).collect();
        assert_eq!(set.len(), 5000);
    }

    #[test]
    fn batch_signatures_recover_to_their_keys() {
        let keys: Vec<SigningKey> = (0..40).map(|i| SigningKey::from_seed(5, i)).collect();
        let jobs: Vec<SignJob<'_>> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| SignJob {
                hash: keccak256(&(i as u64).to_be_bytes()),
                key: k,
            })
            .collect();
        let sigs = sign_batch(&jobs, b"test");
        assert_eq!(sigs, sign_batch(&jobs, b"test"), "deterministic");
        for (j, s) in jobs.iter().zip(&sigs) {
            assert!(s.is_low_s());
            assert_eq!(recover_address(&j.hash, s), Ok(j.key.address()));
        }
        // A hash above n still signs correctly.
        let big = B256::repeat_byte(0xff);
        let s = sign_batch(
            &[SignJob {
                hash: big,
                key: &keys[0],
            }],
            b"x",
        );
        assert_eq!(recover_address(&big, &s[0]), Ok(keys[0].address()));
    }
}
