//! Criterion benches of the CPU stages and the pipeline: bare libsecp256k1 recovery and keccak
//! (one thread), the CPU backend's batches (all cores), batch verification against known keys
//! (all cores), the randao BLS batch (grouped by proposer and not), and the whole pipeline over
//! mainnet-shape headers and over a devnet chain with transactions.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ranger::bench::{BlsInputs, keccak_inputs, mainnet_shape_chain, recover_inputs};
use ranger::crypto::batch::{PublicKey, verify_claims};
use ranger::crypto::bls;
use ranger::crypto::secp::SigningKey;
use ranger::crypto::secp::recover_address;
use ranger::crypto::{Backend, CpuBackend, keccak256};
use ranger::pipeline::{Input, Mode, Verifier};
use std::hint::black_box;
use std::sync::Arc;

fn crypto(c: &mut Criterion) {
    let items = recover_inputs(1024, 1);
    let mut g = c.benchmark_group("recover");
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("libsecp256k1_single_thread", |b| {
        b.iter(|| {
            for it in &items {
                black_box(recover_address(&it.hash, &it.sig).ok());
            }
        })
    });
    g.bench_function("cpu_backend_batch", |b| {
        b.iter(|| black_box(CpuBackend.recover_batch(&items)))
    });
    g.finish();

    // The same signers as `recover_inputs` (seed 1, key i % 1024), with their keys known.
    let keys: Vec<PublicKey> = (0..1024u64)
        .filter_map(|i| PublicKey::from_xy(&SigningKey::from_seed(1, i).public_key()))
        .collect();
    let many = recover_inputs(4096, 1);
    let claims: Vec<&PublicKey> = (0..many.len()).map(|i| &keys[i % 1024]).collect();
    let mut g = c.benchmark_group("batch_verify");
    for n in [256usize, 4096] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("known_keys", n), &n, |b, &n| {
            b.iter(|| black_box(verify_claims(&many[..n], &claims[..n])))
        });
    }
    g.finish();

    let msgs = keccak_inputs(8192, 200, 1);
    let mut g = c.benchmark_group("keccak_200b");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("keccak256_single_thread", |b| {
        b.iter(|| {
            for i in 0..msgs.len() {
                black_box(keccak256(msgs.get(i)));
            }
        })
    });
    g.bench_function("cpu_backend_batch", |b| {
        b.iter(|| black_box(CpuBackend.keccak_batch(&msgs)))
    });
    g.finish();

    let inputs = BlsInputs::new(64);
    let sets = inputs.sets();
    let mut g = c.benchmark_group("bls_randao");
    for n in [1usize, 64] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("verify_batch", n), &n, |b, &n| {
            b.iter(|| black_box(bls::verify_batch(&sets[..n])))
        });
        g.bench_with_input(BenchmarkId::new("ungrouped", n), &n, |b, &n| {
            b.iter(|| black_box(bls::verify_batch_ungrouped(&sets[..n])))
        });
    }
    // A window of mainnet-shape headers: 64 blocks of 31 rotating proposers.
    let rotating = BlsInputs::rotating(64, 31);
    let rsets = rotating.sets();
    g.throughput(Throughput::Elements(64));
    g.bench_function("grouped_64_blocks_31_proposers", |b| {
        b.iter(|| black_box(bls::verify_batch(&rsets)))
    });
    g.bench_function("ungrouped_64_blocks_31_proposers", |b| {
        b.iter(|| black_box(bls::verify_batch_ungrouped(&rsets)))
    });
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let n = 256;
    let (spec, blocks) = mainnet_shape_chain(n, 7);
    let backend: Arc<dyn Backend> = Arc::new(CpuBackend);
    let verifier = Verifier::builder(&spec)
        .mode(Mode::Headers)
        .backend(backend)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("mainnet_shape_headers", |b| {
        b.iter(|| {
            let mut v = verifier.fresh();
            let inputs = blocks.iter().map(|b| Ok(Input::Rlp(b.clone())));
            v.run(inputs, |r| {
                black_box(r);
                true
            })
        })
    });
    g.finish();
}

criterion_group!(benches, crypto, pipeline);
criterion_main!(benches);
