//! Batch verification of ECDSA signatures against known public keys, with the same answer as
//! recovery: what `secp::recover_address` would return for each item, at a fraction of the cost
//! when the signers' keys are already known.
//!
//! **Equivalence.** For an item (z, r, s, v) that passes the range checks (v ∈ {0, 1},
//! r, s ∈ [1, n−1]), recovery takes R = the curve point with x = r and y parity v, and returns
//! Q = r⁻¹(s·R − z·G) (or fails when R does not exist or Q = O). For a key K (a finite point),
//! with u1 = z/s and u2 = r/s mod n:
//!
//! ```text
//! R = u1·G + u2·K  ⇔  s·R = z·G + r·K  ⇔  K = r⁻¹(s·R − z·G) = Q
//! ```
//!
//! so "recovery returns K's address" holds exactly when R exists and R − u1·G − u2·K = O. Items
//! that fail a range check or whose R does not exist are never verified: they go to recovery,
//! which names the failure.
//!
//! **The batch equation.** For items i with claimed keys K_k and weights a_i drawn fresh from the
//! operating system's RNG for every check (128 bits, never zero):
//!
//! ```text
//! Σ a_i·R_i − (Σ a_i·u1_i)·G − Σ_k (Σ_{i claims K_k} a_i·u2_i)·K_k = O
//! ```
//!
//! is one multi-scalar multiplication (`curve::msm_split`): the R_i carry 128-bit weights, and G
//! and the distinct keys carry full scalars, each split by the curve's endomorphism into two
//! halves of about 128 bits, so the whole sum runs over 128-bit digits. If every item holds,
//! the sum is O. **Soundness:** if some term T_j = R_j − u1_j·G − u2_j·K_j is not O, then for
//! any fixed values of the other weights at most one residue of a_j mod n (the group has prime
//! order n) makes the sum O; a_j is uniform on 2^128 values (zero replaced by one), so a false
//! batch passes with probability at most 2^-127, per check, whatever the items (the weights are
//! drawn after the items are fixed). A sum that could not be computed (`None`: a point off the
//! curve, a bug of ours) is a failed check, so its items are recovered.
//!
//! **Finding the bad items.** When the equation fails, the batch is halved and each half checked
//! with fresh weights, down to a few items, which are checked alone (R = u1·G + u2·K, no weights).
//! A claim that does not hold is answered "not verified": the caller recovers that item, so the
//! verdict names the same fault, index and signer as recovery would. The bisection spends at most
//! `BISECT_BUDGET` item-checks per item; when many claims are false, what it has not reached is
//! recovered too, so wrong claims cost at most a few recoveries' worth each, never a wrong answer.

use super::curve::{
    Affine, AffinePoint, ProjectivePoint, Scalar, batch_invert, msm_split, scalar_canonical,
    scalar_reduce,
};
use super::secp::{RecoverError, RecoverItem, check_ranges, pubkey_to_address, recover_pubkey};
use alloy_primitives::Address;
use rand::TryRngCore;
use rayon::prelude::*;
use std::collections::HashMap;

/// Items a bisection checks one by one: below this, a weighted batch saves nothing.
const LEAF: usize = 4;
/// The most item-checks a bisection may spend, per item of the batch: one bad item costs about
/// three, two about four, so 8 still names each of a handful of false claims in a window (a
/// multisig sender's extra signatures under one cached key; with 4 the third exhausted it); past
/// this (many false claims, e.g. a seal rule that stopped holding) the items left
/// unchecked are answered "not verified" and recovered, which bounds the cost of wrong claims.
const BISECT_BUDGET: usize = 8;

/// A secp256k1 public key ready for the batch equation, with its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// The point in the bucket sums' form, made once per key (never the identity).
    affine: Affine,
    address: Address,
}

impl PublicKey {
    /// From uncompressed coordinates x || y; `None` when not on the curve.
    pub fn from_xy(xy: &[u8; 64]) -> Option<Self> {
        Some(Self {
            affine: Affine::from_xy(xy)?,
            address: pubkey_to_address(xy),
        })
    }
    /// Uncompressed coordinates x || y (`from_xy`'s inverse), e.g. to keep the key on disk.
    pub fn xy(&self) -> [u8; 64] {
        // A key is made only by `from_xy`, which never gives the point at infinity (and all
        // zeros, were it ever written, would not parse back as a key).
        self.affine.xy().unwrap_or([0; 64])
    }
    /// From a finite point; `None` at infinity.
    pub fn from_point(point: AffinePoint) -> Option<Self> {
        super::curve::point_to_xy(&point).and_then(|xy| Self::from_xy(&xy))
    }
    /// The account address of this key.
    pub fn address(&self) -> Address {
        self.address
    }
}

/// One item made ready for the equation.
#[derive(Clone, Copy)]
struct Prepared {
    r_point: Affine,
    u1: Scalar,
    u2: Scalar,
    key: Affine,
    key_id: Address,
}

/// Range checks, R and s (not yet inverted) for one item; `None` when it cannot be verified.
fn prepare(item: &RecoverItem) -> Option<(Affine, Scalar, Scalar, Scalar)> {
    check_ranges(&item.sig).ok()?;
    let r_bytes: [u8; 32] = item.sig.0[..32].try_into().ok()?;
    let s_bytes: [u8; 32] = item.sig.0[32..64].try_into().ok()?;
    let r_point = Affine::decompress(&r_bytes, item.sig.recid() & 1 == 1)?;
    let r = scalar_canonical(&r_bytes)?;
    let s = scalar_canonical(&s_bytes)?;
    Some((r_point, r, s, scalar_reduce(&item.hash.0)))
}

/// Fresh weights from the operating system's RNG, 128 bits each, never zero; `None` when the OS
/// RNG fails (then nothing is verified and every item is recovered: a failure of ours).
pub fn fresh_weights(n: usize) -> Option<Vec<u128>> {
    let mut bytes = vec![0u8; n * 16];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).ok()?;
    Some(
        bytes
            .chunks_exact(16)
            .map(|c| {
                let mut b = [0u8; 16];
                b.copy_from_slice(c);
                u128::from_le_bytes(b).max(1)
            })
            .collect(),
    )
}

/// The batch equation over `items` with the given weights (one per item).
fn equation_holds(items: &[&Prepared], weights: &[u128]) -> bool {
    let mut g_scalar = Scalar::ZERO;
    let mut key_index: HashMap<Address, usize> = HashMap::new();
    let mut key_points: Vec<Affine> = vec![Affine::generator()];
    let mut key_scalars: Vec<Scalar> = vec![Scalar::ZERO];
    for (p, &a) in items.iter().zip(weights) {
        let a = Scalar::from(a);
        g_scalar -= a * p.u1;
        let k = *key_index.entry(p.key_id).or_insert_with(|| {
            key_points.push(p.key);
            key_scalars.push(Scalar::ZERO);
            key_points.len() - 1
        });
        key_scalars[k] -= a * p.u2;
    }
    key_scalars[0] = g_scalar;
    let r_points: Vec<Affine> = items.iter().map(|p| p.r_point).collect();
    msm_split(&r_points, weights, &key_points, &key_scalars) == Some(ProjectivePoint::IDENTITY)
}

/// One item alone: R = u1·G + u2·K.
fn holds_alone(p: &Prepared) -> bool {
    // Both points came from checked coordinates, so the conversions succeed; were one to fail,
    // the item is left unverified (recovered), never accepted.
    let (Some(r), Some(key)) = (p.r_point.point(), p.key.point()) else {
        return false;
    };
    let sum = ProjectivePoint::GENERATOR * p.u1 + ProjectivePoint::from(key) * p.u2;
    sum == ProjectivePoint::from(r)
}

/// Marks in `out` (indexed like `all`) the items of `idx` whose claim holds, spending at most
/// `budget` item-checks (what is left unchecked stays unmarked).
fn find(all: &[Prepared], idx: &[usize], out: &mut [bool], budget: &mut usize) {
    if *budget < idx.len() {
        return;
    }
    *budget -= idx.len();
    if idx.len() <= LEAF {
        for &i in idx {
            out[i] = holds_alone(&all[i]);
        }
        return;
    }
    let items: Vec<&Prepared> = idx.iter().map(|&i| &all[i]).collect();
    let Some(weights) = fresh_weights(items.len()) else {
        return;
    };
    if equation_holds(&items, &weights) {
        for &i in idx {
            out[i] = true;
        }
        return;
    }
    let (a, b) = idx.split_at(idx.len() / 2);
    find(all, a, out, budget);
    find(all, b, out, budget);
}

/// For each item, whether recovery would return exactly `keys[i]`'s address. `false` means "not
/// verified": recover that item to learn its signer or its error. Items and keys pair up by
/// position; extra entries of the longer slice are ignored (answered for the items only).
pub fn verify_claims(items: &[RecoverItem], keys: &[&PublicKey]) -> Vec<bool> {
    let mut out = vec![false; items.len()];
    let prepared: Vec<Option<(Affine, Scalar, Scalar, Scalar)>> =
        items.par_iter().with_min_len(64).map(prepare).collect();
    // u1 = z/s and u2 = r/s with one inversion for the whole batch.
    let slots: Vec<usize> = (0..items.len().min(keys.len()))
        .filter(|&i| prepared[i].is_some())
        .collect();
    let mut s_inv: Vec<Scalar> = slots
        .iter()
        .filter_map(|&i| prepared[i].map(|(_, _, s, _)| s))
        .collect();
    if !batch_invert(&mut s_inv) {
        return out; // unreachable after the range checks (s ≠ 0); recovering is always right
    }
    let all: Vec<Prepared> = slots
        .iter()
        .zip(&s_inv)
        .filter_map(|(&i, si)| {
            let (r_point, r, _, z) = prepared[i]?;
            Some(Prepared {
                r_point,
                u1: z * si,
                u2: r * si,
                key: keys[i].affine,
                key_id: keys[i].address,
            })
        })
        .collect();
    let mut found = vec![false; all.len()];
    let idx: Vec<usize> = (0..all.len()).collect();
    let mut budget = BISECT_BUDGET * all.len() + LEAF;
    find(&all, &idx, &mut found, &mut budget);
    for (&i, ok) in slots.iter().zip(found) {
        out[i] = ok;
    }
    out
}

/// The batch equation with weights the caller chooses, for tests that show why the weights must
/// be fresh (a batch built to cancel under known weights passes here, and fails `verify_claims`).
/// `None` when an item cannot be verified at all (a range check, or no point R).
pub fn equation_with_weights(
    items: &[RecoverItem],
    keys: &[&PublicKey],
    weights: &[u128],
) -> Option<bool> {
    let mut all = Vec::with_capacity(items.len());
    for (item, key) in items.iter().zip(keys) {
        let (r_point, r, s, z) = prepare(item)?;
        let si = Option::<Scalar>::from(s.invert())?;
        all.push(Prepared {
            r_point,
            u1: z * si,
            u2: r * si,
            key: key.affine,
            key_id: key.address,
        });
    }
    let refs: Vec<&Prepared> = all.iter().collect();
    Some(equation_holds(&refs, weights))
}

/// The recovery batch behind a `KeyCache` answered a different number of items than it was
/// given: the node's failure, for the caller to report as undecided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the recovery batch returned {got} answers for {expected} signatures")]
pub struct ShortAnswer {
    pub got: usize,
    pub expected: usize,
}

/// What is claimed about one signature's signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nothing: recover it through the caller's backend.
    None,
    /// No signer named, but its signer is likely to sign again (a seal of the council): recover
    /// it here and keep its key.
    Learn,
    /// This address's key signed it (a transaction's `from`, a predicted seal signer).
    Signer(Address),
}

/// Counts of a `KeyCache`'s use, for logs and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Signatures that came with a claimed signer.
    pub claims: u64,
    /// Claims whose key was in the cache (checked in a batch).
    pub hits: u64,
    /// Hits the batch confirmed.
    pub verified: u64,
}

impl CacheStats {
    /// The counts since `earlier` (a snapshot of the same cache).
    pub fn since(&self, earlier: &CacheStats) -> CacheStats {
        CacheStats {
            claims: self.claims.saturating_sub(earlier.claims),
            hits: self.hits.saturating_sub(earlier.hits),
            verified: self.verified.saturating_sub(earlier.verified),
        }
    }
    /// Hits over claims (0 when there were none).
    pub fn hit_rate(&self) -> f64 {
        if self.claims == 0 {
            0.0
        } else {
            self.hits as f64 / self.claims as f64
        }
    }
}

/// Public keys by address, bounded: two generations of at most `capacity / 2` entries each; a
/// lookup moves an entry into the current generation, and when the current one is full the older
/// one is dropped. Filled from recoveries (every recovered key, under its own address and under
/// the address that was claimed for it); it holds only keys, never verdicts, so a stale or wrong
/// entry costs a recovery, never a wrong answer.
#[derive(Debug, Clone)]
pub struct KeyCache {
    current: HashMap<Address, PublicKey>,
    older: HashMap<Address, PublicKey>,
    capacity: usize,
    stats: CacheStats,
    /// Addresses given a key since the last `take_unsaved`, while `keep_unsaved` is on (a node
    /// writes them to its store; a cache nobody saves keeps no such list).
    unsaved: Option<Vec<Address>>,
}

/// Keys a `KeyCache` holds by default: 917,504 (7 × 2^17), two generations of 458,752, each just
/// within the 7/8 load of a 2^19-slot table, so neither table doubles to 2^20 slots (half of
/// them empty) as it would at 2^19 keys. A slot is a key and its address (136 bytes) and one
/// control byte, so the two full tables take 2 × 2^19 × 137 bytes, 137 MiB
/// (`default_key_cache_fits_its_tables` checks the entry size and the table bound).
pub const DEFAULT_KEY_CACHE: usize = 7 << 17;

impl Default for KeyCache {
    fn default() -> Self {
        Self::new(DEFAULT_KEY_CACHE)
    }
}

impl KeyCache {
    /// An empty cache of at most `capacity` keys (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self {
            current: HashMap::new(),
            older: HashMap::new(),
            capacity: capacity.max(2),
            stats: CacheStats::default(),
            unsaved: None,
        }
    }

    /// From now on, lists the addresses given a key (new, or another key than before) for
    /// `take_unsaved`.
    pub fn keep_unsaved(mut self) -> Self {
        self.unsaved = Some(Vec::new());
        self
    }

    /// The keys given since the last call (those still held), when `keep_unsaved` is on; a key
    /// moved back from the older generation may come again (saving it twice is harmless).
    pub fn take_unsaved(&mut self) -> Vec<(Address, PublicKey)> {
        let Some(unsaved) = self.unsaved.as_mut() else {
            return Vec::new();
        };
        let addresses = std::mem::take(unsaved);
        addresses
            .into_iter()
            .filter_map(|a| {
                let key = self.current.get(&a).or_else(|| self.older.get(&a))?;
                Some((a, *key))
            })
            .collect()
    }

    /// The most keys it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.current.len() + self.older.len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts since the cache was made.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The key held for `address`.
    pub fn get(&mut self, address: &Address) -> Option<PublicKey> {
        if let Some(k) = self.current.get(address) {
            return Some(*k);
        }
        let k = self.older.remove(address)?;
        self.insert(*address, k);
        Some(k)
    }

    /// Every key held with the address it is held under, the most recently used generation
    /// first (to keep the cache across runs: `KeyCache::new` and `insert` take them back).
    pub fn entries(&self) -> impl Iterator<Item = (&Address, &PublicKey)> {
        self.current.iter().chain(&self.older)
    }

    /// Whether a key is held for `address` (without refreshing it, unlike `get`).
    pub fn contains(&self, address: &Address) -> bool {
        self.current.contains_key(address) || self.older.contains_key(address)
    }

    /// Holds `key` for `address`.
    pub fn insert(&mut self, address: Address, key: PublicKey) {
        if self.current.len() >= self.capacity / 2 && !self.current.contains_key(&address) {
            self.older = std::mem::take(&mut self.current);
        }
        let before = self.current.insert(address, key);
        if let Some(unsaved) = self.unsaved.as_mut()
            && before != Some(key)
        {
            unsaved.push(address);
        }
    }

    /// The signer of every item, exactly as `recover_address` answers it. Items with a claimed
    /// signer whose key is held are verified in one batch; claimed items that are not verified,
    /// and `Claim::Learn` items, are recovered here with libsecp256k1 (their keys fill the
    /// cache); items without a claim (`Claim::None`, or past the end of `claims`) go to `recover`
    /// (the caller's backend) in one batch, and its error is returned as it is.
    pub fn verify_or_recover<E: From<ShortAnswer>>(
        &mut self,
        items: &[RecoverItem],
        claims: &[Claim],
        recover: impl FnOnce(&[RecoverItem]) -> Result<Vec<Result<Address, RecoverError>>, E>,
    ) -> Result<Vec<Result<Address, RecoverError>>, E> {
        let claim = |i: usize| match claims.get(i) {
            Some(Claim::Signer(a)) => Some(*a),
            _ => None,
        };
        let mut keyed = Vec::new();
        let mut keys = Vec::new();
        let mut unclaimed = Vec::new();
        let mut to_recover_here = Vec::new();
        for i in 0..items.len() {
            match claims.get(i).copied().unwrap_or(Claim::None) {
                Claim::None => unclaimed.push(i),
                Claim::Learn => to_recover_here.push(i),
                Claim::Signer(a) => {
                    self.stats.claims += 1;
                    match self.get(&a) {
                        Some(k) => {
                            self.stats.hits += 1;
                            keyed.push(i);
                            keys.push(k);
                        }
                        None => to_recover_here.push(i),
                    }
                }
            }
        }
        let mut out: Vec<Option<Result<Address, RecoverError>>> = vec![None; items.len()];
        let keyed_items: Vec<RecoverItem> = keyed.iter().map(|&i| items[i]).collect();
        let key_refs: Vec<&PublicKey> = keys.iter().collect();
        let ok = verify_claims(&keyed_items, &key_refs);
        for ((&i, k), ok) in keyed.iter().zip(&keys).zip(ok) {
            if ok {
                self.stats.verified += 1;
                out[i] = Some(Ok(k.address));
            } else {
                to_recover_here.push(i);
            }
        }
        let recovered: Vec<Result<[u8; 64], RecoverError>> = to_recover_here
            .par_iter()
            .map(|&i| recover_pubkey(&items[i].hash, &items[i].sig))
            .collect();
        for (&i, r) in to_recover_here.iter().zip(recovered) {
            out[i] = Some(r.map(|xy| match PublicKey::from_xy(&xy) {
                // The key hashes its address once; the cache and the answer share it.
                Some(k) => {
                    let address = k.address();
                    self.insert(address, k);
                    if let Some(c) = claim(i).filter(|c| *c != address) {
                        self.insert(c, k);
                    }
                    address
                }
                None => pubkey_to_address(&xy),
            }));
        }
        if !unclaimed.is_empty() {
            let batch: Vec<RecoverItem> = unclaimed.iter().map(|&i| items[i]).collect();
            let answers = recover(&batch)?;
            if answers.len() != batch.len() {
                return Err(ShortAnswer {
                    got: answers.len(),
                    expected: batch.len(),
                }
                .into());
            }
            for (&i, a) in unclaimed.iter().zip(answers) {
                out[i] = Some(a);
            }
        }
        // Every slot is filled above; one that is not would be a bug of ours, never a signature
        // error, so it is reported as a short answer too.
        let expected = out.len();
        let filled: Vec<_> = out.into_iter().flatten().collect();
        if filled.len() != expected {
            return Err(ShortAnswer {
                got: filled.len(),
                expected,
            }
            .into());
        }
        Ok(filled)
    }
}
