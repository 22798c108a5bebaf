//! Trie benchmarks: state-root maintenance at devnet scale, DeriveSha over a block's items, and
//! proofs: proving a block's touched keys, checking one proof, and a stateless block over a
//! partial trie rebuilt from the proofs.
//!
//! Invariant: every iteration measures the same work: the trie is built (100,000 accounts, 32-byte
//! keys, 70-byte values) and hashed once outside the timing, and each timed block applies 6,000
//! seeded random updates to existing keys, then computes the root, as replay does per block.

use alloy_primitives::B256;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng, rngs::StdRng};
use ranger::crypto::{CpuBackend, keccak256};
use ranger::state::witness::Witness;
use ranger::trie::{DeriveShaImpl, MerklePatriciaTrie, PartialTrie, derive_sha, verify_proof};
use std::hint::black_box;

/// Accounts in the state trie: the devnet's funded-account scale.
const ACCOUNTS: usize = 100_000;
/// Keys touched per block: senders, receivers and fee payers of a full devnet block.
const UPDATES_PER_BLOCK: usize = 6_000;
/// Bytes of an account value: RLP([nonce, balance, emptyRoot, keccak("")]) is about 70.
const VALUE_BYTES: usize = 70;

fn seed() -> u64 {
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    eprintln!("SEED={seed}");
    seed
}

fn value(rng: &mut StdRng) -> Vec<u8> {
    (0..VALUE_BYTES).map(|_| rng.random()).collect()
}

/// The state-sized trie every timed block starts from: its keys, and the trie hashed once.
fn state_of(rng: &mut StdRng) -> (Vec<[u8; 32]>, MerklePatriciaTrie, B256) {
    let keys: Vec<[u8; 32]> = (0..ACCOUNTS as u64)
        .map(|i| keccak256(&i.to_be_bytes()).0)
        .collect();
    let mut trie = MerklePatriciaTrie::new();
    for k in &keys {
        trie.insert(k, value(rng));
    }
    let root = trie.root_hash(&CpuBackend);
    (keys, trie, root)
}

fn state_trie(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(seed());
    let (keys, mut trie, root) = state_of(&mut rng);
    black_box(root);
    let backend = CpuBackend;

    let mut group = c.benchmark_group("trie");
    group.sample_size(20);
    group.throughput(Throughput::Elements(UPDATES_PER_BLOCK as u64));
    group.bench_function("block_6000_updates_of_100k", |b| {
        b.iter_batched(
            || {
                (0..UPDATES_PER_BLOCK)
                    .map(|_| (keys[rng.random_range(0..keys.len())], value(&mut rng)))
                    .collect::<Vec<_>>()
            },
            |updates| {
                for (k, v) in updates {
                    trie.insert(&k, v);
                }
                trie.root_hash(&backend)
            },
            BatchSize::LargeInput,
        )
    });

    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    group.sample_size(10);
    group.bench_function("build_and_hash_100k", |b| {
        b.iter(|| {
            let mut t = MerklePatriciaTrie::new();
            for (i, k) in keys.iter().enumerate() {
                t.insert(k, (i as u64).to_be_bytes().repeat(9));
            }
            t.root_hash(&backend)
        })
    });
    group.finish();
}

fn derive_sha_block(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(seed());
    // A full block's raw transactions: ~2,000 transfers of ~110 bytes.
    let txs: Vec<Vec<u8>> = (0..2_000)
        .map(|_| (0..110).map(|_| rng.random()).collect())
        .collect();
    let items: Vec<&[u8]> = txs.iter().map(Vec::as_slice).collect();
    let mut group = c.benchmark_group("derive_sha");
    group.throughput(Throughput::Elements(items.len() as u64));
    for imp in DeriveShaImpl::ALL {
        group.bench_function(format!("{imp}_2000_txs"), |b| {
            b.iter(|| derive_sha(imp, black_box(&items), &CpuBackend))
        });
    }
    group.finish();
}

/// Keys a 1,000-transaction devnet block touches: sender, recipient, sometimes a fee payer.
const TOUCHED_PER_BLOCK: usize = 3_000;

fn proofs(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(seed());
    let (keys, mut trie, root) = state_of(&mut rng);
    let backend = CpuBackend;
    let touched: Vec<[u8; 32]> = (0..TOUCHED_PER_BLOCK)
        .map(|_| keys[rng.random_range(0..keys.len())])
        .collect();

    let mut group = c.benchmark_group("proofs");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TOUCHED_PER_BLOCK as u64));
    group.bench_function("prove_3000_of_100k", |b| {
        b.iter(|| Witness::from_proofs(touched.iter().map(|k| trie.prove(k, &backend))))
    });
    let nodes = Witness::from_proofs(touched.iter().map(|k| trie.prove(k, &backend))).nodes;
    let one = trie.prove(&touched[0], &backend);
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_one_proof", |b| {
        b.iter(|| verify_proof(root, black_box(&touched[0]), &one))
    });
    group.throughput(Throughput::Elements(TOUCHED_PER_BLOCK as u64));
    group.bench_function("stateless_3000_updates", |b| {
        b.iter_batched(
            || {
                (0..TOUCHED_PER_BLOCK)
                    .map(|_| value(&mut rng))
                    .collect::<Vec<_>>()
            },
            |values| {
                let mut partial = PartialTrie::from_nodes(root, &nodes, &backend)
                    .unwrap_or_else(|e| panic!("the trie's own proofs: {e}"));
                for (k, v) in touched.iter().zip(values) {
                    if let Err(e) = partial.insert(k, v) {
                        panic!("a proven key: {e}");
                    }
                }
                partial.root_hash(&backend)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, state_trie, derive_sha_block, proofs);
criterion_main!(benches);
