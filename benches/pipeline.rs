//! Criterion benches of the CPU stages and the pipeline: bare libsecp256k1 recovery and keccak
//! (one thread), the CPU backend's batches (all cores), the randao BLS batch, and the whole
//! pipeline over mainnet-shape headers and over a devnet chain with transactions.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ranger::bench::{BlsInputs, keccak_inputs, mainnet_shape_chain, recover_inputs};
use ranger::crypto::bls;
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

    let msgs = keccak_inputs(8192, 200, 1);
    let mut g = c.benchmark_group("keccak_200b");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("sha3_single_thread", |b| {
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
    }
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
