//! Fast batch ECDSA signing for devnet keys only.
//!
//! libsecp256k1 through the `secp256k1` crate spends two fixed-base multiplications per
//! signature (the nonce point, then a re-randomization of its global context) plus RFC 6979's
//! HMAC chain: about 60 µs. A devnet signs millions of transactions with keys that are public by
//! construction (derived from the seed), so side-channel hardening and nonce secrecy buy nothing
//! here. This signer takes consecutive nonces `k0, k0 + 1, ...` for a batch, so each nonce point
//! is the previous one plus G (one mixed addition), converts all of them to affine with one field
//! inversion, and inverts all nonces with one scalar inversion (Montgomery's trick), using the
//! secp256k1 field and scalar arithmetic of `super::arith` (64-bit limbs).
//!
//! Consecutive nonces reveal the signing key to anyone holding two signatures: NEVER use this
//! for a key that guards anything. Output signatures are ordinary low-s ECDSA signatures that
//! any verifier accepts (the tests recover them with libsecp256k1).

use super::arith::{
    GX, GY, Jac, N, ONE, U as Limbs, add_affine, add_mod, batch_inv, fe_inv, fe_mul, fe_sqr,
    from_be as from_be_bytes, gte, is_zero, sc_inv, sc_mul, sc_reduce, to_be as to_be_bytes,
};
use crate::crypto::keccak256_concat;
use crate::crypto::secp::{
    SECP256K1_HALF_N, SECP256K1_N, Signature65, SigningKey, pubkey_to_address,
};
use alloy_primitives::{B256, U256};
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
    let Some(points) = consecutive_points(&k0, jobs.len()) else {
        return jobs.iter().map(|j| j.key.sign(&j.hash)).collect();
    };

    // Nonces and their inverses.
    let mut ks: Vec<Limbs> = Vec::with_capacity(jobs.len());
    let mut k = k0;
    for _ in 0..jobs.len() {
        ks.push(k);
        k = add_mod(&k, &ONE, &N);
    }
    let mut kinv = ks.clone();
    batch_inv(&mut kinv, sc_mul, sc_inv);

    jobs.iter()
        .enumerate()
        .map(|(i, job)| {
            let Some((x, y)) = points[i] else {
                return job.key.sign(&job.hash);
            };
            if is_zero(&ks[i]) {
                return job.key.sign(&job.hash);
            }
            // r = x mod n; x ≥ n (probability ~2^-128) would need recovery id 2 or 3.
            if gte(&x, &N) {
                return job.key.sign(&job.hash);
            }
            let r = x;
            let mut recid = (y[0] & 1) as u8;
            let d = from_be_bytes(&job.key.to_bytes());
            let z = sc_reduce(&from_be_bytes(&job.hash.0));
            let s = sc_mul(&kinv[i], &add_mod(&z, &sc_mul(&r, &d), &N));
            if is_zero(&s) || is_zero(&r) {
                return job.key.sign(&job.hash);
            }
            let mut s = U256::from_be_bytes(to_be_bytes(&s));
            if s > SECP256K1_HALF_N {
                s = SECP256K1_N - s;
                recid ^= 1;
            }
            Signature65::from_parts(U256::from_be_bytes(to_be_bytes(&r)), s, recid)
        })
        .collect()
}

/// The affine points `k·G, (k+1)·G, ..., (k+len−1)·G`: the first by libsecp256k1, each next one
/// by one mixed addition, all made affine with one field inversion. `None` when `k` is not a
/// valid secret (zero or not below n); an entry is `None` at the point at infinity.
pub fn consecutive_points(k: &Limbs, len: usize) -> Option<Vec<Option<(Limbs, Limbs)>>> {
    let start = SigningKey::from_bytes(to_be_bytes(k))?;
    let pk = start.public_key();
    let mut x0 = [0u8; 32];
    let mut y0 = [0u8; 32];
    x0.copy_from_slice(&pk[..32]);
    y0.copy_from_slice(&pk[32..]);
    let mut points: Vec<Option<Jac>> = Vec::with_capacity(len);
    let mut p = Some(Jac {
        x: from_be_bytes(&x0),
        y: from_be_bytes(&y0),
        z: ONE,
    });
    for _ in 0..len {
        points.push(p);
        // A degenerate step (k·G = ±G) ends the run: the remaining items fall back.
        p = p.and_then(|q| add_affine(&q, &GX, &GY));
    }
    let mut zs: Vec<Limbs> = points.iter().map(|q| q.map_or(ONE, |q| q.z)).collect();
    batch_inv(&mut zs, fe_mul, fe_inv);
    Some(
        points
            .iter()
            .zip(&zs)
            .map(|(q, zi)| {
                let q = q.as_ref()?;
                let zi2 = fe_sqr(zi);
                Some((fe_mul(&q.x, &zi2), fe_mul(&q.y, &fe_mul(&zi2, zi))))
            })
            .collect(),
    )
}

/// Devnet account keys `base, base + 1, ...` with their addresses, `base` derived from `seed`.
/// Consecutive secrets make each public key one point addition away from the previous one, so a
/// hundred thousand accounts take a fraction of a second instead of seconds. Keys derived this
/// way are as public as the seed.
pub fn consecutive_keys(seed: u64, count: usize) -> Vec<(SigningKey, alloy_primitives::Address)> {
    /// Keys per rayon task (one libsecp256k1 multiplication and one inversion each).
    const CHUNK: usize = 4096;
    let base = base_scalar(b"ranger-devnet-accounts", &seed.to_be_bytes(), count);
    let chunks: Vec<usize> = (0..count.div_ceil(CHUNK)).collect();
    chunks
        .par_iter()
        .flat_map_iter(|&c| {
            let len = CHUNK.min(count - c * CHUNK);
            let offset = from_be_bytes(&U256::from(c * CHUNK).to_be_bytes::<32>());
            let mut k = add_mod(&base, &offset, &N);
            let points = consecutive_points(&k, len).unwrap_or_default();
            let mut out = Vec::with_capacity(len);
            for i in 0..len {
                let secret = to_be_bytes(&k);
                k = add_mod(&k, &ONE, &N);
                let Some(key) = SigningKey::from_bytes(secret) else {
                    continue;
                };
                let address = match points.get(i).copied().flatten() {
                    Some((x, y)) => {
                        let mut pk = [0u8; 64];
                        pk[..32].copy_from_slice(&to_be_bytes(&x));
                        pk[32..].copy_from_slice(&to_be_bytes(&y));
                        pubkey_to_address(&pk)
                    }
                    None => key.address(),
                };
                out.push((key, address));
            }
            out
        })
        .collect()
}

/// A scalar base in [1, n − len − 1): keccak of the domain and seed, reduced by rejection.
fn base_scalar(domain: &[u8], seed: &[u8], len: usize) -> Limbs {
    let mut ctr = 0u64;
    loop {
        let h = keccak256_concat(&[domain, seed, &ctr.to_be_bytes()]);
        let k = U256::from_be_bytes(h.0);
        if !k.is_zero() && k < SECP256K1_N - U256::from(len as u64 + 1) {
            return from_be_bytes(&h.0);
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
