//! `ranger bench`: measures the machine's limit and the pipeline on the same inputs, in one run,
//! so the ratios hold up on a shared, noisy machine.
//!
//! The limit of a job is its bare single-thread rate (libsecp256k1 recovery, `crypto::keccak256`) times
//! the number of cores; the pipeline figure runs the same inputs through the configured backend in
//! the pipeline's batch sizes.

use crate::crypto::secp::{RecoverItem, SigningKey, recover_address};
use crate::crypto::{Backend, MessageBatch, keccak256};
use serde::Serialize;
use std::time::{Duration, Instant};

/// One job's figures.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Figure {
    pub limit_per_s: f64,
    pub pipeline_per_s: f64,
    pub ratio: f64,
    /// Single-thread bare rate the limit is built from.
    pub single_thread_per_s: f64,
}

impl Figure {
    fn new(single: f64, cores: usize, pipeline: f64) -> Self {
        let limit = single * cores as f64;
        Figure {
            limit_per_s: limit,
            pipeline_per_s: pipeline,
            ratio: pipeline / limit,
            single_thread_per_s: single,
        }
    }
}

/// Runs `f` (which processes `per_call` items) until `min` has passed; returns items per second.
pub fn rate(min: Duration, per_call: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm caches and lazy initialisation outside the clock
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < min {
        f();
        calls += 1;
    }
    (calls as f64 * per_call as f64) / start.elapsed().as_secs_f64()
}

/// Rounds of a paired measurement: the bare rate and the pipeline's rate are measured in turn,
/// this many times each, and each side keeps its best round. Another process that takes the cores
/// for a moment then slows one round, not one side of the ratio.
pub const PAIRED_ROUNDS: u32 = 5;

/// Measures `a` and `b` (items per second, `per_call` items per call) in alternating rounds that
/// share `min` between them; returns the best round of each.
pub fn paired_rates(
    min: Duration,
    per_call: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64) {
    let round = min / PAIRED_ROUNDS;
    let (mut best_a, mut best_b) = (0f64, 0f64);
    for _ in 0..PAIRED_ROUNDS {
        best_a = best_a.max(rate(round, per_call, &mut a));
        best_b = best_b.max(rate(round, per_call, &mut b));
    }
    (best_a, best_b)
}

/// Seeded recovery inputs: `n` distinct signers over distinct hashes.
pub fn recover_inputs(n: usize, seed: u64) -> Vec<RecoverItem> {
    use rayon::prelude::*;
    (0..n as u64)
        .into_par_iter()
        .map(|i| {
            let key = SigningKey::from_seed(seed, i % 1024);
            let hash = keccak256(&[seed.to_be_bytes(), i.to_be_bytes()].concat());
            RecoverItem {
                hash,
                sig: key.sign(&hash),
            }
        })
        .collect()
}

/// Seeded keccak inputs: `n` messages of `len` bytes (transaction-sized by default).
pub fn keccak_inputs(n: usize, len: usize, seed: u64) -> MessageBatch {
    let mut b = MessageBatch::with_capacity(n, n * len);
    let mut m = vec![0u8; len];
    for i in 0..n {
        for (j, x) in m.iter_mut().enumerate() {
            *x = (seed as usize ^ i.wrapping_mul(31) ^ j) as u8;
        }
        b.push(&m);
    }
    b
}

/// Recovery: bare single-thread libsecp256k1 × cores vs the backend's batch recovery.
pub fn recover_figure(
    backend: &dyn Backend,
    items: &[RecoverItem],
    cores: usize,
    min: Duration,
) -> Figure {
    let (single, pipeline) = paired_rates(
        min,
        items.len(),
        || {
            for it in items {
                std::hint::black_box(recover_address(&it.hash, &it.sig).ok());
            }
        },
        || {
            std::hint::black_box(backend.recover_batch(items));
        },
    );
    Figure::new(single, cores, pipeline)
}

/// Batch verification against known keys next to bare libsecp256k1 recovery, at one batch size.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BatchVerifyFigure {
    /// Single-thread libsecp256k1 recoveries per second × cores: the recovery limit.
    pub bare_recover_per_s: f64,
    /// Signatures per second through `crypto::batch::verify_claims` on all cores.
    pub batch_verify_per_s: f64,
    pub ratio: f64,
    pub batch: usize,
    /// `verify_claims` in a one-thread pool over single-thread libsecp256k1 recovery: the same
    /// measure on both sides. `ratio` extrapolates the bare side (single thread × cores) but
    /// measures the batch on all cores, so on a shared machine, where two threads do not get two
    /// cores, it understates the batch; this one does not depend on how many cores are free.
    /// `None` when a one-thread pool could not be built.
    pub single_thread_ratio: Option<f64>,
}

/// Batch sizes of the `batch_verify` figure (the ratio at 4,096 is the headline).
pub const BATCH_VERIFY_SIZES: [usize; 3] = [256, 4096, 65_536];

/// Items the bare-recovery side of the batch figure recovers per call: its per-item rate does not
/// depend on the batch, and a call over 65,536 items would take seconds.
const BARE_SLICE: usize = 2048;

/// `batch_verify` figures at each size in `sizes`, over signatures of 1,024 signers whose keys
/// are known; the bare rate and the batch rate are measured in alternating rounds, best of each.
pub fn batch_verify_figures(
    sizes: &[usize],
    cores: usize,
    min: Duration,
) -> Vec<BatchVerifyFigure> {
    use crate::crypto::batch::{PublicKey, verify_claims};
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let items = recover_inputs(largest.max(BARE_SLICE), 11);
    let keys: Vec<PublicKey> = (0..1024u64)
        .filter_map(|i| PublicKey::from_xy(&SigningKey::from_seed(11, i).public_key()))
        .collect();
    let claims: Vec<&PublicKey> = (0..items.len()).map(|i| &keys[i % keys.len()]).collect();
    let round = min / PAIRED_ROUNDS;
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
    sizes
        .iter()
        .map(|&batch| {
            let (mut bare, mut fast, mut fast_single) = (0f64, 0f64, 0f64);
            let slice = &items[..BARE_SLICE];
            for _ in 0..PAIRED_ROUNDS {
                bare = bare.max(rate(round, slice.len(), || {
                    for it in slice {
                        std::hint::black_box(recover_address(&it.hash, &it.sig).ok());
                    }
                }));
                fast = fast.max(rate(round, batch, || {
                    let ok = verify_claims(&items[..batch], &claims[..batch]);
                    debug_assert!(ok.iter().all(|&v| v));
                    std::hint::black_box(ok);
                }));
                if let Some(pool) = &one_thread {
                    fast_single = fast_single.max(pool.install(|| {
                        rate(round, batch, || {
                            std::hint::black_box(verify_claims(&items[..batch], &claims[..batch]));
                        })
                    }));
                }
            }
            let limit = bare * cores as f64;
            BatchVerifyFigure {
                bare_recover_per_s: limit,
                batch_verify_per_s: fast,
                ratio: fast / limit,
                batch,
                single_thread_ratio: one_thread.as_ref().map(|_| fast_single / bare),
            }
        })
        .collect()
}

/// Keccak: bare single-thread `crypto::keccak256` × cores vs the backend's batch keccak.
pub fn keccak_figure(
    backend: &dyn Backend,
    batch: &MessageBatch,
    cores: usize,
    min: Duration,
) -> Figure {
    let (single, pipeline) = paired_rates(
        min,
        batch.len(),
        || {
            for i in 0..batch.len() {
                std::hint::black_box(keccak256(batch.get(i)));
            }
        },
        || {
            std::hint::black_box(backend.keccak_batch(batch));
        },
    );
    Figure::new(single, cores, pipeline)
}

/// Cores the pipeline may use (rayon's pool size).
pub fn cores() -> usize {
    rayon::current_num_threads()
}

/// The header figure.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HeadersFigure {
    pub mainnet_shape_per_s: f64,
    pub headers: usize,
    pub seals_per_header: usize,
    /// Randao reveals verified per second one pairing each (blst's batch check, 64 per batch,
    /// all cores): the cost the crypto ceiling counts.
    pub bls_per_s: f64,
    /// Randao reveals verified per second by the batch grouped by proposer, on 64 reveals of the
    /// shape's 31 rotating proposers (what a window of mainnet-shape headers holds).
    pub bls_grouped_per_s: f64,
    /// Seal signers claimed by the learnt rule whose keys were known, over all seal signatures
    /// (timed rounds).
    pub seal_hit_rate: f64,
    /// The most headers per second the bare crypto allows on this machine: each header needs
    /// 23 recoveries (at the recovery limit) and one BLS reveal (at `bls_per_s`).
    pub crypto_ceiling_per_s: f64,
}

/// Seeded randao reveals: `n` proposers' public keys, the messages of blocks `0..n`, and each
/// proposer's reveal of its block.
#[derive(Debug)]
pub struct BlsInputs {
    pub pks: Vec<crate::crypto::bls::BlsPublicKey>,
    pub msgs: Vec<[u8; 32]>,
    pub sigs: Vec<[u8; 96]>,
}

impl BlsInputs {
    /// `n` seeded proposers and their reveals.
    pub fn new(n: u8) -> Self {
        Self::rotating(usize::from(n), n)
    }

    /// The reveals of blocks `0..blocks`, block i proposed by proposer `i % proposers`.
    pub fn rotating(blocks: usize, proposers: u8) -> Self {
        use crate::crypto::bls::{BlsSecretKey, randao_msg};
        let keys: Vec<BlsSecretKey> = (0..proposers.max(1))
            .map(|i| BlsSecretKey::from_seed(&[i; 32]))
            .collect();
        let who = |i: usize| &keys[i % keys.len()];
        let pks = (0..blocks).map(|i| who(i).public_key()).collect();
        let msgs: Vec<[u8; 32]> = (0..blocks as u64).map(randao_msg).collect();
        let sigs = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| who(i).sign(m))
            .collect();
        BlsInputs { pks, msgs, sigs }
    }

    /// One signature set per reveal, for `verify_batch`.
    pub fn sets(&self) -> Vec<crate::crypto::bls::SignatureSet<'_>> {
        (0..self.pks.len())
            .map(|i| crate::crypto::bls::SignatureSet {
                pk: &self.pks[i],
                msg: &self.msgs[i],
                sig: &self.sigs[i],
            })
            .collect()
    }
}

/// Randao reveals of 64 distinct proposers verified per second, one pairing each.
pub fn bls_rate(min: Duration) -> f64 {
    let inputs = BlsInputs::new(64);
    let sets = inputs.sets();
    rate(min, sets.len(), || {
        std::hint::black_box(crate::crypto::bls::verify_batch_ungrouped(&sets));
    })
}

/// Randao reveals verified per second by the grouped batch: 64 blocks of `proposers` rotating
/// proposers.
pub fn bls_grouped_rate(min: Duration, proposers: u8) -> f64 {
    let inputs = BlsInputs::rotating(64, proposers);
    let sets = inputs.sets();
    rate(min, sets.len(), || {
        std::hint::black_box(crate::crypto::bls::verify_batch(&sets));
    })
}

/// Why the headers figure could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum HeadersError {
    #[error("pipeline context: {0}")]
    Config(#[from] crate::pipeline::ConfigError),
    #[error("{0} generated mainnet-shape headers did not verify: the figure would be meaningless")]
    Invalid(u64),
    #[error("pipeline: {0}")]
    Pipeline(#[from] crate::pipeline::PipelineError),
}

/// Validators of the mainnet-shape council: with 31 members, 2F+1 = 21, and each header carries
/// 22 committed seals, like today's mainnet headers.
const SHAPE_COUNCIL: usize = 31;
const SHAPE_SEALS: usize = 22;

/// A chain of `n` mainnet-shape headers (Randao active: 17 fields, BLS reveal, mix hash), each
/// with a proposer seal and 22 committed seals, and the spec that verifies it.
pub fn mainnet_shape_chain(n: usize, seed: u64) -> (crate::consensus::ChainSpec, Vec<Vec<u8>>) {
    use crate::codec::block::encode_block;
    use crate::consensus::chain::{ChainSpec, CouncilMember, ForkSchedule};
    use crate::consensus::istanbul::{block_hash, seal_header};
    use crate::consensus::randao::next_mix_hash;
    use crate::crypto::bls::{BlsSecretKey, randao_msg};
    use crate::primitives::{Block, Header};
    use alloy_primitives::{B256, Bytes, U256};

    let keys: Vec<SigningKey> = (0..SHAPE_COUNCIL as u64)
        .map(|i| SigningKey::from_seed(seed, i))
        .collect();
    let bls: Vec<BlsSecretKey> = (0..SHAPE_COUNCIL as u64)
        .map(|i| {
            BlsSecretKey::from_seed(&keccak256(&[seed.to_be_bytes(), i.to_be_bytes()].concat()).0)
        })
        .collect();
    let validators: Vec<_> = keys.iter().map(|k| k.address()).collect();
    let spec = ChainSpec {
        name: "mainnet-shape".into(),
        chain_id: 8217,
        forks: ForkSchedule::all_from_genesis(),
        block_period: 1,
        epoch: 604_800,
        committee_size: Some(50),
        committee_size_history: Vec::new(),
        committee_size_known_until: None,
        kind: crate::consensus::chain::ChainKind::Live,
        derive_sha: crate::trie::DeriveShaImpl::Orig,
        council: keys
            .iter()
            .zip(&bls)
            .map(|(k, b)| CouncilMember {
                address: k.address(),
                bls_public_key: Some(Bytes::copy_from_slice(&b.public_key().to_bytes())),
                bls_pop: Some(Bytes::copy_from_slice(&b.pop())),
            })
            .collect(),
        base_fee: None,
        accounts: Vec::new(),
        legacy_keys_only: true,
        council_governance: false,
    };
    let mut parent = B256::ZERO;
    let mut mix = B256::ZERO;
    let mut out = Vec::with_capacity(n);
    for number in 0..n as u64 {
        let p = (number as usize) % SHAPE_COUNCIL;
        let reveal = bls[p].sign(&randao_msg(number));
        mix = next_mix_hash(if number == 0 { &B256::ZERO } else { &mix }, &reveal);
        let mut h = Header {
            parent_hash: parent,
            rewardbase: validators[p],
            tx_root: crate::trie::EMPTY_ROOT_HASH,
            receipts_root: crate::trie::EMPTY_ROOT_HASH,
            block_score: U256::from(1),
            number,
            time: 1_700_000_000 + number,
            base_fee: Some(U256::from(25_000_000_000u64)),
            random_reveal: Some(Bytes::copy_from_slice(&reveal)),
            mix_hash: Some(Bytes::copy_from_slice(mix.as_slice())),
            ..Default::default()
        };
        let committers: Vec<&SigningKey> = (0..SHAPE_SEALS)
            .map(|j| &keys[(p + j) % SHAPE_COUNCIL])
            .collect();
        seal_header(&mut h, &validators, 0, &keys[p], &committers);
        parent = block_hash(&h);
        out.push(encode_block(&Block {
            header: h,
            transactions: Vec::new(),
        }));
    }
    (spec, out)
}

/// Mainnet-shape headers verified per second by the pipeline in headers mode on `backend`.
pub fn mainnet_shape_headers_per_s(
    backend: &std::sync::Arc<dyn Backend>,
    n: usize,
    min: Duration,
    recover_limit: f64,
) -> Result<HeadersFigure, HeadersError> {
    use crate::pipeline::{Input, Mode, Verifier};
    let (spec, blocks) = mainnet_shape_chain(n, 7);
    // A figure over blocks that did not verify would measure the wrong work: count them.
    let mut invalid = 0u64;
    // Built once (each proof of possession checked once), started afresh for every round.
    let mut built = Verifier::builder(&spec)
        .mode(Mode::Headers)
        .backend(backend.clone())
        .build()?;
    // One untimed pass: the node has seen this council's keys and seal order before.
    built.run(blocks.iter().map(|b| Ok(Input::Rlp(b.clone()))), |_| true)?;
    let warm = built.key_stats();
    let mut seal_stats = warm;
    let per_s = rate(min, n, || {
        let mut v = built.fresh();
        let inputs = blocks.iter().map(|b| Ok(Input::Rlp(b.clone())));
        let verdicts = v.run(inputs, |_| true);
        invalid += verdicts.map_or(n as u64, |s| s.invalid + s.undecided);
        seal_stats = v.key_stats();
    });
    if invalid > 0 {
        return Err(HeadersError::Invalid(invalid));
    }
    let bls_per_s = bls_rate(min);
    let bls_grouped_per_s = bls_grouped_rate(min, SHAPE_COUNCIL as u8);
    let per_header = (SHAPE_SEALS + 1) as f64 / recover_limit + 1.0 / bls_per_s;
    let hits = seal_stats.since(&warm).hits;
    Ok(HeadersFigure {
        mainnet_shape_per_s: per_s,
        headers: n,
        seals_per_header: SHAPE_SEALS,
        bls_per_s,
        bls_grouped_per_s,
        seal_hit_rate: hits as f64 / (n * (SHAPE_SEALS + 1)).max(1) as f64,
        crypto_ceiling_per_s: 1.0 / per_header,
    })
}

/// Rounds of the end-to-end run; the figure is the fastest.
pub const END_TO_END_ROUNDS: u32 = 3;

/// The end-to-end figure: full verification (signatures, roots, state replay) of a devnet chain,
/// by a warm node (key cache filled) and a cold one.
#[derive(Debug, Clone, Serialize)]
pub struct EndToEndFigure {
    pub accounts: usize,
    pub blocks: u64,
    pub transactions: u64,
    pub tx_per_s: f64,
    /// The bare recovery limit the ratios use (single-thread libsecp256k1 × cores), the best of
    /// rounds measured between the end-to-end rounds, so that both sides of a ratio see the same
    /// machine (a shared machine's speed drifts by tens of percent within a minute).
    pub recover_limit_per_s: f64,
    /// Transactions per second over that limit (warm key cache).
    pub ratio_to_recover_limit: f64,
    /// Claimed signers whose key the cache held, over all claims (warm rounds).
    pub key_hit_rate: f64,
    /// The same chain verified with an empty key cache.
    pub cold_tx_per_s: f64,
    pub cold_ratio_to_recover_limit: f64,
    pub cold_key_hit_rate: f64,
    /// Signatures recovered (senders and fee payers): fee-delegated transactions carry two.
    pub signatures: u64,
    /// Signatures per second over the bare recovery limit: the share of the machine's recovery
    /// limit that end-to-end verification reaches.
    pub signature_ratio_to_recover_limit: f64,
    /// The most transactions per second the bare recovery allows for this chain's mix, with
    /// hashing, tries and replay free: the recovery limit over the signatures per transaction.
    pub recover_ceiling_tx_per_s: f64,
    /// That ceiling over the recovery limit (1 / signatures per transaction): no end-to-end ratio
    /// can exceed it on this mix.
    pub recover_ceiling_ratio: f64,
    /// The process's CPU time over the fastest warm round's wall time × cores: how busy the
    /// pipeline kept the cores (1 − this is their idle share; `None` without /proc).
    pub cpu_busy: Option<f64>,
    /// Seconds each stage's thread spent in the fastest warm round (wall time inside the stage,
    /// waits on its parallel work included): the stage near the round's length is the one that
    /// bounds it.
    pub stage_seconds: std::collections::BTreeMap<&'static str, f64>,
}

/// Why an end-to-end run could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum EndToEndError {
    #[error("devnet generation failed: {0}")]
    Devnet(#[from] crate::devnet::DevnetError),
    #[error("pipeline context: {0}")]
    Config(#[from] crate::pipeline::ConfigError),
    #[error("state: {0}")]
    State(#[from] crate::state::StateError),
    #[error("pipeline: {0}")]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error("the generated chain did not verify: {0}")]
    Invalid(String),
}

/// One round of the bare recovery limit beside the end-to-end rounds: as long as one round of
/// the paired figures at the default duration.
const E2E_BARE_ROUND: Duration = Duration::from_millis(400);

/// One timed end-to-end round.
#[derive(Debug)]
struct Round {
    secs: f64,
    summary: crate::pipeline::Summary,
    signatures: u64,
    stats: crate::crypto::batch::CacheStats,
    /// This process's CPU time over the round (`None` without /proc).
    cpu_ms: Option<u64>,
    /// The time each pipeline stage's thread spent on the round's windows.
    stages: [(crate::pipeline::Stage, Duration); 5],
}

/// The best of `END_TO_END_ROUNDS` timed full verifications of `blocks`, each by a fresh verifier
/// (a fresh genesis state for the replay) that starts with `keys` (a cold node: empty), with
/// `between` run before each (a round of the bare limit, untimed here).
fn timed_rounds(
    spec: &crate::consensus::ChainSpec,
    blocks: &[Vec<u8>],
    backend: &std::sync::Arc<dyn Backend>,
    keys: &crate::crypto::batch::KeyCache,
    between: &mut dyn FnMut(),
) -> Result<Round, EndToEndError> {
    use crate::pipeline::{Input, Verdict, Verifier};
    let mut best: Option<Round> = None;
    for _ in 0..END_TO_END_ROUNDS {
        between();
        let mut verifier = Verifier::builder(spec)
            .backend(backend.clone())
            .key_cache(keys.clone())
            .build()?;
        let mut bad = None;
        let mut signatures = 0u64;
        // The chain's bytes are copied for this round before the clock starts.
        let inputs: Vec<Vec<u8>> = blocks.to_vec();
        verifier.take_stage_times();
        let cpu_before = process_cpu_ms();
        let start = Instant::now();
        let summary = verifier.run(inputs.into_iter().map(|b| Ok(Input::Rlp(b))), |r| {
            if r.verdict != Verdict::Valid && bad.is_none() {
                bad = Some(format!("block {:?}: {:?}", r.block, r.faults.first()));
            }
            signatures += r
                .transactions
                .iter()
                .map(|t| t.signers.len().max(1) as u64 + u64::from(t.fee_payer_signer.is_some()))
                .sum::<u64>();
            true
        })?;
        let secs = start.elapsed().as_secs_f64();
        let cpu_ms = process_cpu_ms()
            .zip(cpu_before)
            .map(|(a, b)| a.saturating_sub(b));
        if let Some(b) = bad {
            return Err(EndToEndError::Invalid(b));
        }
        let round = Round {
            secs,
            summary,
            signatures,
            stats: verifier.key_stats().since(&keys.stats()),
            cpu_ms,
            stages: verifier.take_stage_times(),
        };
        if best.as_ref().is_none_or(|b| secs < b.secs) {
            best = Some(round);
        }
    }
    best.ok_or_else(|| EndToEndError::Invalid("no round ran".into()))
}

/// Generates `config`'s chain in memory, then times its full verification on `backend`: warm
/// (the key cache filled by an untimed verification of the same chain, as a node that has seen
/// these accounts before) and cold (an empty cache). Before each timed round, one round of bare
/// single-thread recovery: the limit the ratios use is the best of those rounds × `cores`.
pub fn end_to_end(
    backend: &std::sync::Arc<dyn Backend>,
    config: &crate::devnet::DevnetConfig,
    cores: usize,
) -> Result<EndToEndFigure, EndToEndError> {
    use crate::crypto::batch::KeyCache;
    use crate::pipeline::{Input, Verifier};
    let (spec, blocks) = crate::devnet::generate_in_memory(config, &**backend)?;
    let bare_items = recover_inputs(BARE_SLICE, 13);
    let mut bare = 0f64;
    let mut bare_round = || {
        bare = bare.max(rate(E2E_BARE_ROUND, bare_items.len(), || {
            for it in &bare_items {
                std::hint::black_box(recover_address(&it.hash, &it.sig).ok());
            }
        }));
    };
    let cold = timed_rounds(
        &spec,
        &blocks,
        backend,
        &KeyCache::default(),
        &mut bare_round,
    )?;
    let mut primer = Verifier::builder(&spec).backend(backend.clone()).build()?;
    primer.run(blocks.iter().map(|b| Ok(Input::Rlp(b.clone()))), |_| true)?;
    let warm = timed_rounds(&spec, &blocks, backend, primer.key_cache(), &mut bare_round)?;
    let (secs, summary, signatures, stats) = (warm.secs, warm.summary, warm.signatures, warm.stats);
    let cores = cores.max(1);
    let recover_limit = bare * cores as f64;
    let tx_per_s = summary.transactions as f64 / secs;
    let cold_tx_per_s = summary.transactions as f64 / cold.secs;
    let sigs_per_tx = signatures as f64 / summary.transactions.max(1) as f64;
    Ok(EndToEndFigure {
        accounts: config.accounts,
        blocks: summary.blocks,
        transactions: summary.transactions,
        tx_per_s,
        recover_limit_per_s: recover_limit,
        ratio_to_recover_limit: tx_per_s / recover_limit,
        key_hit_rate: stats.hit_rate(),
        cold_tx_per_s,
        cold_ratio_to_recover_limit: cold_tx_per_s / recover_limit,
        cold_key_hit_rate: cold.stats.hit_rate(),
        signatures,
        signature_ratio_to_recover_limit: signatures as f64 / secs / recover_limit,
        recover_ceiling_tx_per_s: recover_limit / sigs_per_tx.max(1.0),
        recover_ceiling_ratio: 1.0 / sigs_per_tx.max(1.0),
        cpu_busy: warm
            .cpu_ms
            .map(|ms| ms as f64 / 1000.0 / (secs * cores as f64)),
        stage_seconds: warm
            .stages
            .iter()
            .map(|(stage, d)| (stage.as_str(), d.as_secs_f64()))
            .collect(),
    })
}

/// User + system CPU time of this process (every thread included) from /proc, in ms; `None`
/// where there is no /proc.
pub fn process_cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with ')'): utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // Linux reports in USER_HZ, 100 per second on every mainstream configuration.
    Some(ticks * 10)
}

/// This process's peak resident set size in KiB (Linux `VmHWM`), when the OS reports it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
