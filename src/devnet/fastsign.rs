//! Fast batch ECDSA signing for devnet keys only.
//!
//! libsecp256k1 through the `secp256k1` crate spends two fixed-base multiplications per
//! signature (the nonce point, then a re-randomization of its global context) plus RFC 6979's
//! HMAC chain: about 60 µs. A devnet signs millions of transactions with keys that are public by
//! construction (derived from the seed), so side-channel hardening and nonce secrecy buy nothing
//! here. This signer takes consecutive nonces `k0, k0 + 1, ...` for a batch, so each nonce point
//! is the previous one plus G (one mixed addition), converts all of them to affine with one field
//! inversion, and inverts all nonces with one scalar inversion (Montgomery's trick), using the
//! secp256k1 field and scalar arithmetic of `crate::gpu::twin`.
//!
//! Consecutive nonces reveal the signing key to anyone holding two signatures: NEVER use this
//! for a key that guards anything. Output signatures are ordinary low-s ECDSA signatures that
//! any verifier accepts (the tests recover them with libsecp256k1).

use crate::crypto::keccak256_concat;
use crate::crypto::secp::{SECP256K1_HALF_N, SECP256K1_N, Signature65, SigningKey};
use crate::gpu::twin::curve::{G, Jac, add_affine, batch_inv};
use crate::gpu::twin::field::{
    Limbs, N, ONE, add_mod, fe_mul, fe_sqr, from_be_bytes, gte, is_zero, sc_inv, sc_mul, sub_raw,
    to_be_bytes,
};
use alloy_primitives::{B256, U256};

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
    let k0 = base_nonce(nonce_seed, jobs.len());
    // Nonce points k_i·G: k0·G by libsecp256k1 (one fixed-base multiplication per batch), then
    // one mixed addition per item.
    let Some(start) = SigningKey::from_bytes(to_be_bytes(&k0)) else {
        return jobs.iter().map(|j| j.key.sign(&j.hash)).collect();
    };
    let pk = start.public_key();
    let mut x0 = [0u8; 32];
    let mut y0 = [0u8; 32];
    x0.copy_from_slice(&pk[..32]);
    y0.copy_from_slice(&pk[32..]);
    let mut points = Vec::with_capacity(jobs.len());
    let mut p = Jac::from_affine(&from_be_bytes(&x0), &from_be_bytes(&y0));
    for _ in 0..jobs.len() {
        points.push(p);
        p = add_affine(&p, &G.x, &G.y);
    }
    let mut zs: Vec<Limbs> = points
        .iter()
        .map(|q| if q.is_infinity() { ONE } else { q.z })
        .collect();
    batch_inv(&mut zs);

    // Nonces and their inverses.
    let mut ks: Vec<Limbs> = Vec::with_capacity(jobs.len());
    let mut k = k0;
    for _ in 0..jobs.len() {
        ks.push(k);
        k = add_mod(&k, &ONE, &N);
    }
    let kinv = batch_scalar_inv(&ks);

    jobs.iter()
        .enumerate()
        .map(|(i, job)| {
            let q = &points[i];
            if q.is_infinity() || is_zero(&ks[i]) {
                return job.key.sign(&job.hash);
            }
            let zi2 = fe_sqr(&zs[i]);
            let x = fe_mul(&q.x, &zi2);
            let y = fe_mul(&q.y, &fe_mul(&zi2, &zs[i]));
            // r = x mod n; x ≥ n (probability ~2^-128) would need recovery id 2 or 3.
            if gte(&x, &N) {
                return job.key.sign(&job.hash);
            }
            let r = x;
            let mut recid = (y[0] & 1) as u8;
            let d = from_be_bytes(&job.key.to_bytes());
            let z = reduce_once(&from_be_bytes(&job.hash.0));
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

/// A nonce base in [1, n − len): keccak of the seed, reduced.
fn base_nonce(seed: &[u8], len: usize) -> Limbs {
    let mut ctr = 0u64;
    loop {
        let h = keccak256_concat(&[b"ranger-devnet-nonce", seed, &ctr.to_be_bytes()]);
        let k = U256::from_be_bytes(h.0);
        if !k.is_zero() && k < SECP256K1_N - U256::from(len as u64 + 1) {
            return from_be_bytes(&h.0);
        }
        ctr += 1;
    }
}

/// a mod n for a < 2^256 (one subtraction suffices since 2n > 2^256).
fn reduce_once(a: &Limbs) -> Limbs {
    if gte(a, &N) { sub_raw(a, &N).0 } else { *a }
}

/// Inverses mod n of non-zero scalars, with one inversion.
fn batch_scalar_inv(xs: &[Limbs]) -> Vec<Limbs> {
    let mut prefix = Vec::with_capacity(xs.len());
    let mut acc = ONE;
    for x in xs {
        acc = sc_mul(&acc, x);
        prefix.push(acc);
    }
    let mut inv = sc_inv(&acc);
    let mut out = vec![ONE; xs.len()];
    for i in (0..xs.len()).rev() {
        let before = if i == 0 { ONE } else { prefix[i - 1] };
        out[i] = sc_mul(&inv, &before);
        inv = sc_mul(&inv, &xs[i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keccak256;
    use crate::crypto::secp::recover_address;

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
