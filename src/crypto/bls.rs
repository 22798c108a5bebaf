//! BLS12-381 for randao (KIP-113/114): min-pubkey variant through `blst::min_pk`, public keys in G1
//! (48 bytes), signatures in G2 (96 bytes). Batches use random scalars; when a batch fails, each
//! item is verified alone so the verdict names exactly which one is bad.
//!
//! A batch is grouped by public key: with random a_i, the items verify together when
//! Π_k e(pk_k, Σ_{i signed by k} a_i·H(m_i)) = e(g1, Σ_i a_i·σ_i), since for one key
//! Π_{i} e(pk, H(m_i))^{a_i} = e(pk, Σ a_i·H(m_i)). A window of randao reveals then costs one
//! Miller loop per distinct proposer plus one for the signature side, instead of one per block,
//! and one final exponentiation. What does not need the key — decoding and subgroup-checking
//! each signature, hashing each message to G2 — is done first (`Prepared`), so the recover stage
//! runs it beside the seal checks that name the proposers. The groups' weighted sums and the
//! Miller loops are spread over the cores (one pairing context per core, merged before the final
//! exponentiation). Hashing to G2 ends by clearing the cofactor, a homomorphism, so each message
//! is hashed to E2 only and the clearing is applied once to its group's sum (`hash`). Every
//! signature is still subgroup-checked on its own, and every reveal still enters the equation
//! with its own message. A false item passes with probability at most 2^-64
//! per batch (the scalars' width), as with blst's own batch check.

use alloy_primitives::B256;
use blst::{
    BLST_ERROR, Pairing, blst_fp12, blst_p1_affine, blst_p2, blst_p2_affine, min_pk, p2_affines,
};
use rand::RngCore;
use rayon::prelude::*;

mod hash;

/// Ciphersuite of randao reveals.
pub const DST_SIG: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Ciphersuite of proofs of possession.
pub const DST_POP: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Random scalar width for batch verification: 64 bits bound a forger's chance at 2^-64.
const RAND_BITS: usize = 64;

/// Why a BLS check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    #[error("public key does not decode to a valid G1 point ({0:?})")]
    BadPublicKey(BLST_ERROR),
    #[error("signature does not decode to a valid G2 point ({0:?})")]
    BadSignature(BLST_ERROR),
    #[error("signature does not verify")]
    VerifyFailed,
}

/// A validated BLS public key.
#[derive(Clone, Debug)]
pub struct BlsPublicKey(min_pk::PublicKey);

impl BlsPublicKey {
    /// Decodes and group-checks a 48-byte compressed key.
    pub fn from_bytes(b: &[u8]) -> Result<Self, BlsError> {
        let pk = min_pk::PublicKey::key_validate(b).map_err(BlsError::BadPublicKey)?;
        Ok(Self(pk))
    }
    /// The compressed form.
    pub fn to_bytes(&self) -> [u8; 48] {
        self.0.compress()
    }
}

/// A BLS secret key (devnet councils, tests, benchmarks).
#[derive(Clone)]
pub struct BlsSecretKey(min_pk::SecretKey);

impl std::fmt::Debug for BlsSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlsSecretKey(..)")
    }
}

impl BlsSecretKey {
    /// From 32 big-endian bytes (must be a valid scalar).
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        min_pk::SecretKey::from_bytes(b).ok().map(Self)
    }
    /// Derived deterministically from 32 bytes of key material (IKM).
    pub fn from_seed(ikm: &[u8; 32]) -> Self {
        // key_gen fails only for IKM shorter than 32 bytes.
        match min_pk::SecretKey::key_gen(ikm, &[]) {
            Ok(k) => Self(k),
            Err(e) => unreachable!("key_gen with 32 bytes of IKM cannot fail: {e:?}"),
        }
    }
    /// The public key.
    pub fn public_key(&self) -> BlsPublicKey {
        BlsPublicKey(self.0.sk_to_pk())
    }
    /// Signs `msg` under the randao ciphersuite.
    pub fn sign(&self, msg: &[u8]) -> [u8; 96] {
        self.0.sign(msg, DST_SIG, &[]).compress()
    }
    /// The proof of possession: the key's own compressed public key signed under the PoP suite.
    pub fn pop(&self) -> [u8; 96] {
        self.0
            .sign(&self.public_key().to_bytes(), DST_POP, &[])
            .compress()
    }
}

/// The randao message for block `number`: the number as a 32-byte big-endian integer.
pub fn randao_msg(number: u64) -> [u8; 32] {
    B256::left_padding_from(&number.to_be_bytes()).0
}

fn decode_sig(sig: &[u8]) -> Result<min_pk::Signature, BlsError> {
    min_pk::Signature::sig_validate(sig, true).map_err(BlsError::BadSignature)
}

fn verify_one(pk: &BlsPublicKey, msg: &[u8], sig: &[u8], dst: &[u8]) -> Result<(), BlsError> {
    let s = decode_sig(sig)?;
    match s.verify(false, msg, dst, &[], &pk.0, false) {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        _ => Err(BlsError::VerifyFailed),
    }
}

/// Verifies a signature under the randao ciphersuite.
pub fn verify(pk: &BlsPublicKey, msg: &[u8], sig: &[u8]) -> Result<(), BlsError> {
    verify_one(pk, msg, sig, DST_SIG)
}

/// Verifies a key's proof of possession.
pub fn verify_pop(pk: &BlsPublicKey, pop: &[u8]) -> Result<(), BlsError> {
    verify_one(pk, &pk.to_bytes(), pop, DST_POP)
}

/// One signature check of a batch: borrowed data only.
#[derive(Debug, Clone, Copy)]
pub struct SignatureSet<'a> {
    pub pk: &'a BlsPublicKey,
    pub msg: &'a [u8],
    pub sig: &'a [u8],
}

/// blst's raw functions the grouped batch needs, and nothing else: the one place the crate allows
/// `unsafe` (the workspace denies `unsafe_code`). blst's safe API hashes to G2 only inside its
/// own sign and verify calls, and its multi-point sums run on blst's own thread pool, whose
/// hand-over costs more than the work for the few points of one proposer's group (a sum of two
/// took about as long as hashing them). Grouping signatures by key needs the hashed points and
/// small weighted sums computed on the caller's (rayon's) thread.
///
/// Each call below passes pointers from live references or locals of the exact blst type, with
/// lengths taken from the slices themselves; blst keeps none of them past the call.
///
/// Hashing with the cofactor left in (`hash`) also needs blst's Fp2 arithmetic and a few point
/// operations that its safe API does not offer; they are wrapped here as small safe functions
/// over values (`Fp2`, `blst_p2`), each call with its own SAFETY note.
#[allow(unsafe_code)]
mod raw {
    use blst::{blst_fp, blst_fp2, blst_p2, blst_p2_affine};

    /// An element c0 + c1·I of Fp2 = Fp[I]/(I² + 1), in blst's Montgomery form (always reduced
    /// below p by blst, so equal elements have equal limbs).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(super) struct Fp2(pub(super) blst_fp2);

    impl Fp2 {
        /// c0 + c1·I from big-endian integers of any length, reduced mod p (how hash_to_field
        /// reads its 64-byte strings, and how constants are written).
        pub(super) fn from_be(c0: &[u8], c1: &[u8]) -> Fp2 {
            let mut out = blst_fp2::default();
            for (fp, bytes) in out.fp.iter_mut().zip([c0, c1]) {
                // SAFETY: reads `bytes.len()` bytes at `bytes`, writes one `blst_fp`.
                unsafe { blst::blst_fp_from_be_bytes(fp, bytes.as_ptr(), bytes.len()) };
            }
            Fp2(out)
        }

        /// The two coordinates as canonical big-endian integers.
        pub(super) fn to_be(self) -> [[u8; 48]; 2] {
            let mut out = [[0u8; 48]; 2];
            for (bytes, fp) in out.iter_mut().zip(&self.0.fp) {
                // SAFETY: reads one `blst_fp`, writes 48 bytes into a 48-byte array.
                unsafe { blst::blst_bendian_from_fp(bytes.as_mut_ptr(), fp) };
            }
            out
        }

        pub(super) fn add(self, b: Fp2) -> Fp2 {
            let mut out = blst_fp2::default();
            // SAFETY: reads the `blst_fp2` operands, writes one `blst_fp2`.
            unsafe { blst::blst_fp2_add(&mut out, &self.0, &b.0) };
            Fp2(out)
        }

        pub(super) fn mul(self, b: Fp2) -> Fp2 {
            let mut out = blst_fp2::default();
            // SAFETY: as for `add`.
            unsafe { blst::blst_fp2_mul(&mut out, &self.0, &b.0) };
            Fp2(out)
        }

        pub(super) fn sqr(self) -> Fp2 {
            let mut out = blst_fp2::default();
            // SAFETY: as for `add`.
            unsafe { blst::blst_fp2_sqr(&mut out, &self.0) };
            Fp2(out)
        }

        pub(super) fn neg(self) -> Fp2 {
            let mut out = blst_fp2::default();
            // SAFETY: as for `add`.
            unsafe { blst::blst_fp2_cneg(&mut out, &self.0, true) };
            Fp2(out)
        }

        /// 1/a (zero for zero).
        pub(super) fn inv(self) -> Fp2 {
            let mut out = blst_fp2::default();
            // SAFETY: as for `add`.
            unsafe { blst::blst_fp2_inverse(&mut out, &self.0) };
            Fp2(out)
        }

        /// A square root, when there is one.
        pub(super) fn sqrt(self) -> Option<Fp2> {
            let mut out = blst_fp2::default();
            // SAFETY: reads one `blst_fp2`, writes one; the flag says whether it is a root.
            let ok = unsafe { blst::blst_fp2_sqrt(&mut out, &self.0) };
            ok.then_some(Fp2(out))
        }

        pub(super) fn is_square(self) -> bool {
            // SAFETY: reads one `blst_fp2`.
            unsafe { blst::blst_fp2_is_square(&self.0) }
        }

        /// The Frobenius map: c0 − c1·I.
        pub(super) fn conj(self) -> Fp2 {
            let mut out = self.0;
            let c1: blst_fp = self.0.fp[1];
            // SAFETY: reads one `blst_fp`, writes one.
            unsafe { blst::blst_fp_cneg(&mut out.fp[1], &c1, true) };
            Fp2(out)
        }
    }

    /// The Jacobian point (x, y, z) of blst's representation (x/z², y/z³; infinity at z = 0).
    pub(super) fn p2(x: Fp2, y: Fp2, z: Fp2) -> blst_p2 {
        blst_p2 {
            x: x.0,
            y: y.0,
            z: z.0,
        }
    }

    /// a + b on E2 (doubling when they are equal).
    pub(super) fn p2_add(a: &blst_p2, b: &blst_p2) -> blst_p2 {
        let mut out = blst_p2::default();
        // SAFETY: reads two `blst_p2`, writes one.
        unsafe { blst::blst_p2_add_or_double(&mut out, a, b) };
        out
    }

    /// −a.
    pub(super) fn p2_neg(a: &blst_p2) -> blst_p2 {
        let mut out = *a;
        // SAFETY: negates one `blst_p2` in place.
        unsafe { blst::blst_p2_cneg(&mut out, true) };
        out
    }

    /// 2·a.
    pub(super) fn p2_double(a: &blst_p2) -> blst_p2 {
        let mut out = blst_p2::default();
        // SAFETY: reads one `blst_p2`, writes one.
        unsafe { blst::blst_p2_double(&mut out, a) };
        out
    }

    /// s·a for a 64-bit s, by plain windows: valid for any point of E2, in G2 or not (blst's
    /// checked multiplication assumes G2 for its endomorphism).
    pub(super) fn p2_mul_u64(a: &blst_p2, s: u64) -> blst_p2 {
        let mut out = blst_p2::default();
        let le = s.to_le_bytes();
        // SAFETY: reads one `blst_p2` and 64 bits (8 bytes) of scalar, writes one `blst_p2`.
        unsafe { blst::blst_p2_unchecked_mult(&mut out, a, le.as_ptr(), 64) };
        out
    }

    /// Whether a point is in G2 (for tests of the cofactor clearing).
    #[cfg(test)]
    pub(super) fn p2_in_g2(a: &blst_p2) -> bool {
        // SAFETY: reads one `blst_p2`.
        unsafe { blst::blst_p2_in_g2(a) }
    }

    /// RFC 9380's expand_message_xmd with SHA-256: `out.len()` uniform bytes from `msg`, `dst`.
    pub(super) fn expand_message_xmd(out: &mut [u8], msg: &[u8], dst: &[u8]) {
        // SAFETY: writes `out.len()` bytes at `out`, reads `msg.len()` at `msg` and `dst.len()`
        // at `dst`.
        unsafe {
            blst::blst_expand_message_xmd(
                out.as_mut_ptr(),
                out.len(),
                msg.as_ptr(),
                msg.len(),
                dst.as_ptr(),
                dst.len(),
            )
        };
    }

    /// H(msg) in G2 under `dst` (hash-to-curve, RFC 9380), as a projective point: the reference
    /// the cofactor-deferred hash is tested against.
    #[cfg(test)]
    pub(super) fn hash_to_g2(msg: &[u8], dst: &[u8]) -> blst_p2 {
        let mut out = blst_p2::default();
        // SAFETY: `blst_hash_to_g2` reads `msg.len()` bytes at `msg`, `dst.len()` at `dst` and
        // zero bytes of `aug` (null is allowed for an empty one), and writes one `blst_p2`.
        unsafe {
            blst::blst_hash_to_g2(
                &mut out,
                msg.as_ptr(),
                msg.len(),
                dst.as_ptr(),
                dst.len(),
                std::ptr::null(),
                0,
            );
        }
        out
    }

    /// Σ s_i·P_i, each scalar little-endian in `bits` bits (`bits / 8` bytes per point, in
    /// `scalars`), on the calling thread: blst's multi-scalar multiplication, which shares the
    /// doublings between the points (a small group's sum costs one scalar multiplication's
    /// doublings, not one per point). The point at infinity (blst's all-zero `blst_p2`) when
    /// empty. Scalars that do not cover every point, or a width that is not whole bytes, leave
    /// the sum at infinity: the callers pass exactly `bits / 8` bytes per point, so that is a bug
    /// of ours, and a wrong sum makes the batch fail, which then checks every item alone (never
    /// a different answer).
    pub(super) fn msm(points: &[blst_p2_affine], scalars: &[u8], bits: usize) -> blst_p2 {
        let mut out = blst_p2::default();
        let width = bits / 8;
        if points.is_empty() || !bits.is_multiple_of(8) || scalars.len() != points.len() * width {
            return out;
        }
        // blst reads a null-terminated list of pointers as one contiguous array from the first.
        let p: [*const blst_p2_affine; 2] = [points.as_ptr(), std::ptr::null()];
        let s: [*const u8; 2] = [scalars.as_ptr(), std::ptr::null()];
        // SAFETY: `blst_p2s_mult_pippenger_scratch_sizeof` reads nothing. The scratch holds
        // the bytes it asks for (rounded up to whole `u64` limbs). `blst_p2s_mult_pippenger`
        // reads `points.len()` affine points from `points`, `width` bytes per point from
        // `scalars` (checked above), uses the scratch, and writes one `blst_p2`.
        unsafe {
            let bytes = blst::blst_p2s_mult_pippenger_scratch_sizeof(points.len());
            let mut scratch = vec![0u64; bytes.div_ceil(8)];
            blst::blst_p2s_mult_pippenger(
                &mut out,
                p.as_ptr(),
                points.len(),
                s.as_ptr(),
                bits,
                scratch.as_mut_ptr(),
            );
        }
        out
    }
}

/// Little-endian scalar bytes, `RAND_BITS / 8` per item, never zero.
fn random_scalars(n: usize) -> Vec<u8> {
    let width = RAND_BITS / 8;
    let mut b = vec![0u8; n * width];
    rand::rng().fill_bytes(&mut b);
    // A zero scalar would drop the item from the check.
    for c in b.chunks_exact_mut(width) {
        c[0] |= 1;
    }
    b
}

/// A randao reveal made ready for the grouped batch before its signer is known: the signature
/// decoded and subgroup-checked, and H(msg) with its cofactor not yet cleared (`hash`). Neither
/// needs the key, so the recover stage prepares a window's reveals while the seals that name the
/// proposers are still being verified.
#[derive(Debug, Clone)]
pub struct Prepared {
    msg: Vec<u8>,
    sig: Vec<u8>,
    decoded: Result<min_pk::Signature, BlsError>,
    /// `None` only on a bug of ours in the map (the batch then checks each item alone).
    hash: Option<blst_p2>,
}

impl Prepared {
    /// Decodes and subgroup-checks `sig`, and hashes `msg` to E2 (randao ciphersuite), leaving
    /// the cofactor to be cleared once per proposer group.
    pub fn new(msg: &[u8], sig: &[u8]) -> Self {
        Self {
            msg: msg.to_vec(),
            sig: sig.to_vec(),
            decoded: decode_sig(sig),
            hash: hash::hash_to_e2(msg, DST_SIG),
        }
    }
}

/// The grouped batch equation over prepared reveals whose signatures all decoded.
fn grouped_holds(items: &[(&BlsPublicKey, &Prepared)], sigs: &[min_pk::Signature]) -> bool {
    let width = RAND_BITS / 8;
    let scalars = random_scalars(items.len());
    let scalar = |i: usize| &scalars[i * width..(i + 1) * width];
    // Groups by key, in first-seen order.
    let mut groups: Vec<(&BlsPublicKey, Vec<usize>)> = Vec::new();
    for (i, (pk, _)) in items.iter().enumerate() {
        match groups.iter_mut().find(|(g, _)| g.0 == pk.0) {
            Some((_, idx)) => idx.push(i),
            None => groups.push((pk, vec![i])),
        }
    }
    // The hashes in affine form (one batched inversion), each group's Σ a_i·H(m_i) in parallel,
    // then the Miller loops in one pairing context per core, merged before the final
    // exponentiation; the signature side's Σ a_i·σ_i beside them.
    let Some(hashes) = items
        .iter()
        .map(|(_, p)| p.hash)
        .collect::<Option<Vec<blst_p2>>>()
    else {
        return false; // each item is then checked alone
    };
    let hashes = p2_affines::from(&hashes);
    let hashes = hashes.as_slice();
    let (contexts, sig_sum) = rayon::join(
        || {
            let sums: Vec<blst_p2> = groups
                .par_iter()
                .map(|(_, idx)| {
                    let points: Vec<blst_p2_affine> = idx.iter().map(|&i| hashes[i]).collect();
                    let weights: Vec<u8> = idx.iter().flat_map(|&i| scalar(i)).copied().collect();
                    // Σ a_i·H(m_i) = clear(Σ a_i·H'(m_i)): one clearing per group (`hash`).
                    hash::clear_cofactor(&raw::msm(&points, &weights, RAND_BITS))
                })
                .collect();
            let sums = p2_affines::from(&sums);
            let pairs: Vec<(blst_p1_affine, &blst_p2_affine)> = groups
                .iter()
                .zip(sums.as_slice())
                .map(|((pk, _), h)| (pk.0.into(), h))
                .collect();
            let chunk = pairs.len().div_ceil(rayon::current_num_threads()).max(1);
            pairs
                .par_chunks(chunk)
                .map(|c| {
                    let mut ctx = Pairing::new(true, DST_SIG);
                    for (pk, h) in c {
                        ctx.raw_aggregate(h, pk);
                    }
                    ctx.commit();
                    ctx
                })
                .collect::<Vec<_>>()
        },
        || {
            let sig_aff: Vec<blst_p2_affine> = sigs.iter().map(|s| (*s).into()).collect();
            raw::msm(&sig_aff, &scalars, RAND_BITS)
        },
    );
    let mut contexts = contexts.into_iter();
    let Some(mut ctx) = contexts.next() else {
        return false;
    };
    for c in contexts {
        if ctx.merge(&c) != BLST_ERROR::BLST_SUCCESS {
            return false; // each item is then checked alone: slower, never a different answer
        }
    }
    let mut gt = blst_fp12::default();
    Pairing::aggregated(&mut gt, &p2_affine(&sig_sum));
    ctx.finalverify(Some(&gt))
}

/// One affine point from a projective one (blst's batch conversion, safe API).
fn p2_affine(p: &blst_p2) -> blst_p2_affine {
    p2_affines::from(std::slice::from_ref(p)).as_slice()[0]
}

/// Verifies prepared reveals, each under the key beside it, at once: grouped by key, with random
/// scalars; on failure, returns for each item its own result (verified alone from its message
/// and signature), so the caller names exactly the bad ones. Output is in input order.
pub fn verify_prepared(items: &[(&BlsPublicKey, &Prepared)]) -> Vec<Result<(), BlsError>> {
    if items.is_empty() {
        return Vec::new();
    }
    let sigs: Result<Vec<min_pk::Signature>, BlsError> =
        items.iter().map(|(_, p)| p.decoded).collect();
    if let Ok(sigs) = sigs
        && grouped_holds(items, &sigs)
    {
        return vec![Ok(()); items.len()];
    }
    items
        .par_iter()
        .map(|(pk, p)| verify(pk, &p.msg, &p.sig))
        .collect()
}

/// Verifies many randao signatures at once, grouped by key, with random scalars; on failure,
/// returns for each item its own result, so the caller names exactly the bad ones. Output is in
/// input order.
pub fn verify_batch(sets: &[SignatureSet<'_>]) -> Vec<Result<(), BlsError>> {
    // Decoding checks each signature's subgroup, about half as costly as a hash to G2: both in
    // parallel.
    let prepared: Vec<Prepared> = sets
        .par_iter()
        .map(|s| Prepared::new(s.msg, s.sig))
        .collect();
    let items: Vec<(&BlsPublicKey, &Prepared)> = sets.iter().map(|s| s.pk).zip(&prepared).collect();
    verify_prepared(&items)
}

/// The same batch through blst's own per-item check (one Miller loop per item), kept as the
/// benchmark's reference for the grouped check.
pub fn verify_batch_ungrouped(sets: &[SignatureSet<'_>]) -> Vec<Result<(), BlsError>> {
    if sets.is_empty() {
        return Vec::new();
    }
    let sigs: Result<Vec<min_pk::Signature>, BlsError> =
        sets.iter().map(|s| decode_sig(s.sig)).collect();
    if let Ok(sigs) = sigs {
        let width = RAND_BITS / 8;
        let bytes = random_scalars(sets.len());
        let rands: Vec<blst::blst_scalar> = bytes
            .chunks_exact(width)
            .map(|c| {
                let mut b = [0u8; 32];
                b[..width].copy_from_slice(c);
                blst::blst_scalar { b }
            })
            .collect();
        let msgs: Vec<&[u8]> = sets.iter().map(|s| s.msg).collect();
        let pks: Vec<&min_pk::PublicKey> = sets.iter().map(|s| &s.pk.0).collect();
        let sig_refs: Vec<&min_pk::Signature> = sigs.iter().collect();
        let res = min_pk::Signature::verify_multiple_aggregate_signatures(
            &msgs, DST_SIG, &pks, false, &sig_refs, false, &rands, RAND_BITS,
        );
        if res == BLST_ERROR::BLST_SUCCESS {
            return vec![Ok(()); sets.len()];
        }
    }
    sets.iter().map(|s| verify(s.pk, s.msg, s.sig)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_names_the_bad_item() {
        let keys: Vec<BlsSecretKey> = (0..5u8)
            .map(|i| BlsSecretKey::from_seed(&[i; 32]))
            .collect();
        let pks: Vec<BlsPublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let msgs: Vec<[u8; 32]> = (0..5).map(randao_msg).collect();
        let mut sigs: Vec<[u8; 96]> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let sets = |sigs: &Vec<[u8; 96]>| -> Vec<Result<(), BlsError>> {
            let s: Vec<SignatureSet<'_>> = (0..5)
                .map(|i| SignatureSet {
                    pk: &pks[i],
                    msg: &msgs[i],
                    sig: &sigs[i],
                })
                .collect();
            verify_batch(&s)
        };
        assert!(sets(&sigs).iter().all(|r| r.is_ok()));
        sigs[3] = keys[3].sign(&randao_msg(99));
        let res = sets(&sigs);
        assert_eq!(res.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!(res[3], Err(BlsError::VerifyFailed));
        for k in &keys {
            assert!(verify_pop(&k.public_key(), &k.pop()).is_ok());
        }
        assert!(verify_pop(&pks[0], &keys[1].pop()).is_err());
    }

    #[test]
    fn grouped_batch_matches_single_checks() {
        // Three proposers, each with several blocks: the grouped check and the ungrouped one
        // agree with verifying alone, with and without a bad reveal inside a group.
        let keys: Vec<BlsSecretKey> = (0..3u8)
            .map(|i| BlsSecretKey::from_seed(&[i + 40; 32]))
            .collect();
        let pks: Vec<BlsPublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let msgs: Vec<[u8; 32]> = (0..10).map(randao_msg).collect();
        let mut sigs: Vec<[u8; 96]> = (0..10).map(|i| keys[i % 3].sign(&msgs[i])).collect();
        let run = |sigs: &Vec<[u8; 96]>, grouped: bool| {
            let s: Vec<SignatureSet<'_>> = (0..10)
                .map(|i| SignatureSet {
                    pk: &pks[i % 3],
                    msg: &msgs[i],
                    sig: &sigs[i],
                })
                .collect();
            if grouped {
                verify_batch(&s)
            } else {
                verify_batch_ungrouped(&s)
            }
        };
        assert!(run(&sigs, true).iter().all(|r| r.is_ok()));
        assert!(run(&sigs, false).iter().all(|r| r.is_ok()));
        // Block 4's reveal signed by its proposer over block 5's number: the group of key 1
        // fails, and only block 4 is named.
        sigs[4] = keys[1].sign(&msgs[5]);
        for grouped in [true, false] {
            let res = run(&sigs, grouped);
            let bad: Vec<usize> = (0..10).filter(|&i| res[i].is_err()).collect();
            assert_eq!(bad, vec![4]);
        }
        // Two reveals of one key swapped: each is a valid signature, of the wrong message.
        let mut swapped = sigs.clone();
        swapped[4] = keys[1].sign(&msgs[4]);
        swapped.swap(1, 7);
        let res = run(&swapped, true);
        let bad: Vec<usize> = (0..10).filter(|&i| res[i].is_err()).collect();
        assert_eq!(bad, vec![1, 7]);
    }

    #[test]
    fn msm_matches_blst_multi_point() {
        use blst::MultiPoint;
        // One point (blst's single multiplication), small groups (shared doublings), a group
        // past blst's table limit and one past 32 points (Pippenger's buckets).
        for n in [1usize, 2, 5, 11, 40] {
            let points: Vec<blst_p2> = (0..n)
                .map(|i| raw::hash_to_g2(&(i as u64).to_be_bytes(), DST_SIG))
                .collect();
            let affine = p2_affines::from(&points);
            let scalars = random_scalars(n);
            let ours = p2_affine(&raw::msm(affine.as_slice(), &scalars, RAND_BITS));
            let theirs = p2_affine(&affine.as_slice().mult(&scalars, RAND_BITS));
            assert_eq!(ours, theirs, "{n} points");
            // Scalars that do not cover the points: the point at infinity, never a partial sum.
            let short = p2_affine(&raw::msm(affine.as_slice(), &scalars[1..], RAND_BITS));
            assert_eq!(short, blst_p2_affine::default(), "{n} points");
        }
        // Empty: the point at infinity, which blst's conversion maps to the all-zero affine point.
        assert_eq!(
            p2_affine(&raw::msm(&[], &[], RAND_BITS)),
            blst_p2_affine::default()
        );
    }

    #[test]
    fn prepared_batch_names_an_undecodable_reveal() {
        let keys: Vec<BlsSecretKey> = (0..4u8)
            .map(|i| BlsSecretKey::from_seed(&[i + 80; 32]))
            .collect();
        let pks: Vec<BlsPublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let msgs: Vec<[u8; 32]> = (0..8).map(randao_msg).collect();
        let mut sigs: Vec<[u8; 96]> = (0..8).map(|i| keys[i % 4].sign(&msgs[i])).collect();
        sigs[6] = [0x5a; 96];
        let prepared: Vec<Prepared> = (0..8).map(|i| Prepared::new(&msgs[i], &sigs[i])).collect();
        let items: Vec<(&BlsPublicKey, &Prepared)> =
            (0..8).map(|i| (&pks[i % 4], &prepared[i])).collect();
        let res = verify_prepared(&items);
        for (i, r) in res.iter().enumerate() {
            if i == 6 {
                assert!(matches!(r, Err(BlsError::BadSignature(_))), "{r:?}");
            } else {
                assert_eq!(*r, Ok(()), "item {i}");
            }
        }
        assert!(verify_prepared(&[]).is_empty());
    }
}
