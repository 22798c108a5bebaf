//! Seeded inputs for the GPU differential tests and benchmarks: valid signatures, every edge case
//! of recovery, and messages around the keccak block size.
//!
//! The same generator feeds `tests/gpu.rs`, the twin's unit tests and `benches/gpu.rs`, so the
//! inputs a benchmark times are inputs a test has checked.

use crate::crypto::secp::{SECP256K1_N, SigningKey, to_high_s};
use crate::crypto::{MessageBatch, RecoverItem, Signature65, keccak256};
use alloy_primitives::{B256, U256};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// The field prime p.
fn field_p() -> U256 {
    U256::MAX - U256::from(0x1_0000_03D0u64)
}

/// `count` valid signatures from 16 seeded keys over random hashes (a mix of low and high s).
pub fn valid_items(seed: u64, count: usize) -> Vec<RecoverItem> {
    let mut rng = StdRng::seed_from_u64(seed);
    let keys: Vec<SigningKey> = (0..16).map(|i| SigningKey::from_seed(seed, i)).collect();
    (0..count)
        .map(|i| {
            let hash = B256::from(rng.random::<[u8; 32]>());
            let sig = keys[i % keys.len()].sign(&hash);
            let sig = if rng.random_bool(0.25) {
                to_high_s(&sig)
            } else {
                sig
            };
            RecoverItem { hash, sig }
        })
        .collect()
}

/// Every edge case of recovery the kernels must get right, each next to a valid twin.
pub fn edge_items(seed: u64) -> Vec<RecoverItem> {
    let mut rng = StdRng::seed_from_u64(seed);
    let key = SigningKey::from_seed(seed, 99);
    let n = SECP256K1_N;
    let h = B256::from(rng.random::<[u8; 32]>());
    let good = key.sign(&h);
    let (r, s, v) = (good.r(), good.s(), good.recid());
    let item = |hash: B256, r: U256, s: U256, v: u8| RecoverItem {
        hash,
        sig: Signature65::from_parts(r, s, v),
    };
    let mut out = vec![
        RecoverItem { hash: h, sig: good },
        RecoverItem {
            hash: h,
            sig: to_high_s(&good),
        },
        // Range failures, in the order libsecp256k1 checks them.
        item(h, U256::ZERO, s, v),
        item(h, n, s, v),
        item(h, n + U256::from(1), s, v),
        item(h, U256::MAX, s, v),
        item(h, r, U256::ZERO, v),
        item(h, r, n, v),
        item(h, r, U256::MAX, v),
        item(h, U256::ZERO, U256::ZERO, 5),
        // Recovery ids 2 and 3 (even with r < p − n, where x = r + n would be a field element).
        item(h, r, s, 2),
        item(h, r, s, 3),
        item(h, U256::from(5), s, 3),
        item(h, r, s, 27),
        // r in the top range, just below n, and just above p − n.
        item(h, n - U256::from(1), s, 0),
        item(h, n - U256::from(1), s, 1),
        item(h, field_p() - n, s, 0),
        item(h, field_p() - n + U256::from(1), s, 1),
        // s = 1 and s = n − 1.
        item(h, r, U256::from(1), v),
        item(h, r, n - U256::from(1), v),
        // Hash 0 (u1 = 0), hash ≥ n (reduced mod n), hash = n exactly (≡ 0).
        item(B256::ZERO, r, s, v),
        item(B256::from(U256::MAX.to_be_bytes::<32>()), r, s, v),
        item(B256::from(n.to_be_bytes::<32>()), r, s, v),
    ];
    // Small r: some are x-coordinates, some are not (NoPoint).
    for x in 1u64..12 {
        out.push(item(h, U256::from(x), s, (x & 1) as u8));
    }
    // Q at infinity: R = k·G and z = s·k make s·R = z·G.
    for _ in 0..4 {
        let k = SigningKey::from_seed(seed, rng.random_range(1000..2000));
        let pk = k.public_key();
        let rx = U256::from_be_slice(&pk[..32]);
        if rx >= n {
            continue;
        }
        let parity = pk[63] & 1;
        let kk = U256::from_be_slice(&k.to_bytes());
        let sv = U256::from(rng.random::<u64>()) + U256::from(1);
        let z = sv.mul_mod(kk, n);
        out.push(item(B256::from(z.to_be_bytes::<32>()), rx, sv, parity));
        // The same R with the other parity is −R: Q = −2·(s/r)·R ≠ ∞, a valid (foreign) key.
        out.push(item(B256::from(z.to_be_bytes::<32>()), rx, sv, parity ^ 1));
    }
    // Q = u1·G + u2·R where the chain meets P + P or P + (−P) on the way: R = m·G for a known m
    // and u2 = 1/m make u2·R = G, then u1 = 1 adds G to G (2G), and with −R, G to −G (∞).
    for m in [3u64, 0x1234_5678_9ABC] {
        let k = SigningKey::from_bytes(U256::from(m).to_be_bytes::<32>())
            .unwrap_or_else(|| SigningKey::from_seed(seed, m));
        let pk = k.public_key();
        let rx = U256::from_be_slice(&pk[..32]);
        let kk = U256::from_be_slice(&k.to_bytes());
        if rx >= n {
            continue;
        }
        let u2 = kk.pow_mod(n - U256::from(2), n);
        let sv = u2.mul_mod(rx, n);
        // u1 = −z/r = 1: z = −r.
        let z = n - rx;
        for parity in [pk[63] & 1, (pk[63] & 1) ^ 1] {
            out.push(item(B256::from(z.to_be_bytes::<32>()), rx, sv, parity));
        }
    }
    // A hash with the signature of another hash still recovers (to some other address).
    out.push(RecoverItem {
        hash: keccak256(b"other"),
        sig: good,
    });
    out
}

/// Messages of the lengths that matter for keccak (0, a block ± 1, several blocks) and random
/// lengths, packed back to back so that most start unaligned.
pub fn keccak_batch(seed: u64, random_count: usize, max_len: usize) -> MessageBatch {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut batch = MessageBatch::new();
    for len in [
        0usize, 1, 31, 32, 33, 64, 135, 136, 137, 271, 272, 273, 1000,
    ] {
        let msg: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        batch.push(&msg);
    }
    for _ in 0..random_count {
        let len = rng.random_range(0..=max_len);
        let msg: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        batch.push(&msg);
    }
    batch
}

/// `count` 32-byte-ish messages (the size of transaction hashing inputs is larger, but the
/// recovery pipeline hashes 64-byte keys and ~100-byte RLP headers): lengths 32..=200.
pub fn bench_messages(seed: u64, count: usize) -> MessageBatch {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut batch = MessageBatch::with_capacity(count, count * 116);
    for _ in 0..count {
        let len = rng.random_range(32..=200);
        let msg: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        batch.push(&msg);
    }
    batch
}
