//! The pipeline end to end on generated chains: a valid mainnet-shape chain verifies, and each
//! way of breaking a header or a transaction gets exactly its named fault, in block order.

use alloy_primitives::{Address, B256, Bytes, U256};
use ranger::bench::mainnet_shape_chain;
use ranger::codec::block::{decode_block, encode_block};
use ranger::codec::header::{decode_extra, encode_extra_parts};
use ranger::codec::tx::{seal_raw, sig_preimage};
use ranger::consensus::istanbul::{block_hash, seal_header};
use ranger::consensus::{ChainSpec, FaultKind};
use ranger::crypto::secp::{SigningKey, to_high_s};
use ranger::crypto::{CpuBackend, keccak256};
use ranger::pipeline::{BlockReport, Input, Mode, Verdict, Verifier};
use ranger::primitives::{Block, KaiaFields, Transaction, TxBody, TxSig, TxType};
use ranger::trie::{DeriveShaImpl, derive_sha};
use std::sync::Arc;

const SEED: u64 = 3;
const COUNCIL: usize = 31;

fn verify(spec: &ChainSpec, mode: Mode, blocks: &[Vec<u8>]) -> Vec<BlockReport> {
    let mut v = Verifier::builder(spec)
        .mode(mode)
        .backend(Arc::new(CpuBackend))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    v.run(blocks.iter().map(|b| Ok(Input::Rlp(b.clone()))), |r| {
        out.push(r);
        true
    })
    .unwrap_or_else(|e| panic!("{e}"));
    out
}

fn keys() -> Vec<SigningKey> {
    (0..COUNCIL as u64)
        .map(|i| SigningKey::from_seed(SEED, i))
        .collect()
}

/// Re-seals block `i` after `edit`, then re-links and re-seals every later block, so only the
/// edited property is wrong.
fn edit_block(blocks: &mut [Vec<u8>], i: usize, edit: impl FnOnce(&mut Block, &[SigningKey])) {
    let keys = keys();
    let validators: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let mut b = decode_block(&blocks[i]).unwrap_or_else(|e| panic!("{e}"));
    edit(&mut b, &keys);
    let mut parent = block_hash(&b.header);
    blocks[i] = encode_block(&b);
    for later in blocks.iter_mut().skip(i + 1) {
        let mut b = decode_block(later).unwrap_or_else(|e| panic!("{e}"));
        b.header.parent_hash = parent;
        let p = (b.header.number as usize) % COUNCIL;
        let committers: Vec<&SigningKey> = (0..22).map(|j| &keys[(p + j) % COUNCIL]).collect();
        seal_header(&mut b.header, &validators, 0, &keys[p], &committers);
        parent = block_hash(&b.header);
        *later = encode_block(&b);
    }
}

fn reseal(b: &mut Block, keys: &[SigningKey], committers: &[usize]) {
    let validators: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let p = (b.header.number as usize) % COUNCIL;
    let c: Vec<&SigningKey> = committers.iter().map(|&j| &keys[j]).collect();
    seal_header(&mut b.header, &validators, 0, &keys[p], &c);
}

fn first_invalid(reports: &[BlockReport]) -> Option<(u64, FaultKind)> {
    reports
        .iter()
        .find(|r| r.verdict == Verdict::Invalid)
        .map(|r| (r.block.unwrap_or(r.position), r.faults[0].kind))
}

#[test]
fn valid_mainnet_shape_chain_verifies() {
    let (spec, blocks) = mainnet_shape_chain(12, SEED);
    let reports = verify(&spec, Mode::Full, &blocks);
    assert_eq!(reports.len(), 12);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.verdict, Verdict::Valid, "block {i}: {:?}", r.faults);
        assert_eq!(r.number, Some(i as u64), "verdicts come out in block order");
        assert_eq!(r.committers.len(), 22);
        let q = r.quorum.unwrap_or_else(|| panic!("quorum"));
        assert_eq!((q.council, q.required, q.valid_distinct), (31, 21, 22));
    }
}

#[test]
fn every_header_fault_is_named_at_its_block() {
    type Edit = Box<dyn Fn(&mut Block, &[SigningKey])>;
    let p = |b: &Block| (b.header.number as usize) % COUNCIL;
    let cases: Vec<(FaultKind, Edit)> = vec![
        (
            FaultKind::BelowQuorum,
            Box::new(move |b, k| {
                let s = p(b);
                reseal(
                    b,
                    k,
                    &(0..20).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
                )
            }),
        ),
        (
            FaultKind::DuplicateSeal,
            Box::new(move |b, k| {
                let s = p(b);
                let mut c: Vec<usize> = (0..22).map(|j| (s + j) % COUNCIL).collect();
                c.push(c[0]);
                reseal(b, k, &c)
            }),
        ),
        (
            FaultKind::NonCouncilSeal,
            Box::new(|b, k| {
                let outsider = SigningKey::from_seed(99, 0);
                let validators: Vec<Address> = k.iter().map(|k| k.address()).collect();
                let s = (b.header.number as usize) % COUNCIL;
                let mut c: Vec<&SigningKey> = (0..22).map(|j| &k[(s + j) % COUNCIL]).collect();
                c.push(&outsider);
                seal_header(&mut b.header, &validators, 0, &k[s], &c);
            }),
        ),
        (
            FaultKind::ProposerNotInCouncil,
            Box::new(|b, k| {
                let outsider = SigningKey::from_seed(99, 1);
                let validators: Vec<Address> = k.iter().map(|k| k.address()).collect();
                let c: Vec<&SigningKey> = k.iter().take(22).collect();
                seal_header(&mut b.header, &validators, 0, &outsider, &c);
            }),
        ),
        (
            FaultKind::BadProposerSeal,
            Box::new(|b, _| {
                let e = decode_extra(&b.header.extra).unwrap_or_else(|e| panic!("{e}"));
                let mut seal = e.seal.to_vec();
                seal.pop();
                b.header.extra = Bytes::from(encode_extra_parts(
                    &e.vanity,
                    &e.validators,
                    &seal,
                    &e.committed_seals,
                ));
            }),
        ),
        (
            FaultKind::TooManySeals,
            Box::new(move |b, k| {
                let s = p(b);
                reseal(
                    b,
                    k,
                    &(0..COUNCIL + 1)
                        .map(|j| (s + j) % COUNCIL)
                        .collect::<Vec<_>>(),
                )
            }),
        ),
        (
            FaultKind::BrokenParentHash,
            Box::new(move |b, k| {
                b.header.parent_hash = B256::repeat_byte(9);
                let s = p(b);
                reseal(
                    b,
                    k,
                    &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
                )
            }),
        ),
        (
            FaultKind::EarlyTimestamp,
            Box::new(move |b, k| {
                b.header.time -= 1;
                let s = p(b);
                reseal(
                    b,
                    k,
                    &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
                )
            }),
        ),
        (
            FaultKind::TailFieldBeforeFork,
            Box::new(move |b, k| {
                b.header.blob_gas_used = Some(0);
                let s = p(b);
                reseal(
                    b,
                    k,
                    &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
                )
            }),
        ),
        (
            FaultKind::BadRandomReveal,
            Box::new(move |b, k| {
                let other = ranger::crypto::bls::BlsSecretKey::from_seed(&[1; 32]);
                b.header.random_reveal = Some(Bytes::copy_from_slice(
                    &other.sign(&ranger::crypto::bls::randao_msg(b.header.number)),
                ));
                let s = p(b);
                reseal(
                    b,
                    k,
                    &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
                )
            }),
        ),
        (
            FaultKind::WrongMixHash,
            Box::new(move |b, k| {
                b.header.mix_hash = Some(Bytes::copy_from_slice(&[7u8; 32]));
                let s = p(b);
                reseal(
                    b,
                    k,
                    &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
                )
            }),
        ),
    ];
    for (kind, edit) in cases {
        let (spec, mut blocks) = mainnet_shape_chain(8, SEED);
        edit_block(&mut blocks, 5, |b, k| edit(b, k));
        let reports = verify(&spec, Mode::Headers, &blocks);
        let got = first_invalid(&reports);
        // A replaced reveal also breaks the mix hash; the judge checks the reveal first.
        assert_eq!(got, Some((5, kind)), "{kind}: {:?}", reports[5].faults);
        assert!(
            reports[..5].iter().all(|r| r.verdict == Verdict::Valid),
            "{kind}"
        );
    }
}

#[test]
fn wrong_number_and_malformed_block_are_named() {
    let (spec, mut blocks) = mainnet_shape_chain(6, SEED);
    edit_block(&mut blocks, 3, |b, k| {
        b.header.number = 7;
        let s = 3;
        reseal(
            b,
            k,
            &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
        );
    });
    let r = verify(&spec, Mode::Headers, &blocks);
    assert_eq!(
        first_invalid(&r),
        Some((3, FaultKind::WrongNumber)),
        "placed at its height"
    );
    assert_eq!(r[3].number, Some(7), "the claimed number is kept");

    let (spec, mut blocks) = mainnet_shape_chain(4, SEED);
    let cut = blocks[2].len() - 3;
    blocks[2].truncate(cut);
    let r = verify(&spec, Mode::Headers, &blocks);
    assert_eq!(r[2].verdict, Verdict::Invalid);
    assert_eq!(r[2].faults[0].kind, FaultKind::MalformedRlp);
    assert_eq!(
        r[2].block,
        Some(2),
        "an undecodable block is placed by its parent"
    );
    assert!(
        r[2].faults[0].detail.contains("truncated") || r[2].faults[0].detail.contains("ends"),
        "{}",
        r[2].faults[0].detail
    );
}

/// A warm verifier checks headers in windows of 256 (one Miller loop per proposer per window), a
/// cold one in 64-block windows until it has learnt the council's keys and seal rule: either way
/// a bad randao reveal is named at exactly its block, at the first, a middle and the last block
/// of a large window, twice in a row across a window boundary, and in the cold windows. Each bad
/// reveal is its own proposer's valid signature of another block's number (so it falls in the
/// same proposer group as a good one), with the mix hashes, parent links and seals made right
/// around it.
#[test]
fn bad_reveals_are_named_in_warm_and_cold_windows() {
    use ranger::consensus::randao::next_mix_hash;
    let n = 700;
    let (spec, valid) = mainnet_shape_chain(n, SEED);
    let bad = [0usize, 5, 63, 130, 255, 256, 511, 600, 699];
    let keys = keys();
    let validators: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let decoded: Vec<Block> = valid
        .iter()
        .map(|b| decode_block(b).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let mut blocks = Vec::with_capacity(n);
    let (mut parent, mut mix) = (B256::ZERO, B256::ZERO);
    for (i, b) in decoded.iter().enumerate() {
        let mut b = b.clone();
        if bad.contains(&i) {
            // Block i ± 31 has the same proposer (31 rotating members).
            let other = if i + COUNCIL < n {
                i + COUNCIL
            } else {
                i - COUNCIL
            };
            b.header.random_reveal = decoded[other].header.random_reveal.clone();
        }
        let reveal = b.header.random_reveal.clone().unwrap_or_default();
        mix = next_mix_hash(&mix, &reveal);
        b.header.mix_hash = Some(Bytes::copy_from_slice(mix.as_slice()));
        b.header.parent_hash = parent;
        let p = i % COUNCIL;
        let committers: Vec<&SigningKey> = (0..22).map(|j| &keys[(p + j) % COUNCIL]).collect();
        seal_header(&mut b.header, &validators, 0, &keys[p], &committers);
        parent = block_hash(&b.header);
        blocks.push(encode_block(&b));
    }
    let built = Verifier::builder(&spec)
        .mode(Mode::Headers)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let run = |v: &mut Verifier, blocks: &[Vec<u8>]| {
        let mut out = Vec::new();
        let summary = v
            .run(blocks.iter().map(|b| Ok(Input::Rlp(b.clone()))), |r| {
                out.push(r);
                true
            })
            .unwrap_or_else(|e| panic!("{e}"));
        (out, summary)
    };
    // Warm: the valid chain teaches a verifier the keys and the seal rule first.
    let mut teacher = built.fresh();
    let (_, taught) = run(&mut teacher, &valid);
    assert_eq!(taught.valid, n as u64);
    let (warm, warm_summary) = run(&mut teacher.fresh(), &blocks);
    let (cold, cold_summary) = run(&mut built.fresh(), &blocks);
    // 0-255, 256-511, 512-699.
    assert_eq!(warm_summary.windows, 3, "{warm_summary:?}");
    // At least the first two windows are 64 blocks (the verifier learns the keys, then the rule);
    // the decode stage runs a few windows ahead, so when it switches depends on timing, but it
    // does switch.
    assert!(
        cold_summary.windows > 3 && cold_summary.windows < n.div_ceil(64) as u64,
        "{cold_summary:?}"
    );
    for (name, reports) in [("warm", &warm), ("cold", &cold)] {
        assert_eq!(reports.len(), n, "{name}");
        for (i, r) in reports.iter().enumerate() {
            assert_eq!(r.block, Some(i as u64), "{name}");
            if bad.contains(&i) {
                assert_eq!(r.verdict, Verdict::Invalid, "{name} block {i}");
                assert_eq!(
                    r.faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
                    vec![FaultKind::BadRandomReveal],
                    "{name} block {i}"
                );
            } else {
                assert_eq!(
                    r.verdict,
                    Verdict::Valid,
                    "{name} block {i}: {:?}",
                    r.faults
                );
            }
        }
    }
}

/// A signed 0x08 transfer from `key` under `chain_id`.
fn transfer(key: &SigningKey, nonce: u64, chain_id: u64) -> Transaction {
    let body = KaiaFields {
        nonce,
        gas_price: U256::from(25_000_000_000u64),
        gas: 21_000,
        to: Some(Address::repeat_byte(0x42)),
        value: U256::from(1),
        from: key.address(),
        ..Default::default()
    };
    let mut tx = Transaction {
        tx_type: TxType::VALUE_TRANSFER,
        body: TxBody::Kaia(body),
        signatures: Vec::new(),
        fee_payer: None,
        fee_payer_signatures: Vec::new(),
        raw: Bytes::new(),
    };
    let sig = key.sign(&keccak256(&sig_preimage(&tx, chain_id)));
    tx.signatures = vec![TxSig {
        v: U256::from(35 + 2 * chain_id + sig.recid() as u64),
        r: sig.r(),
        s: sig.s(),
    }];
    seal_raw(tx)
}

fn with_txs(b: &mut Block, k: &[SigningKey], txs: Vec<Transaction>) {
    let raws: Vec<&[u8]> = txs.iter().map(|t| &t.raw[..]).collect();
    b.header.tx_root = derive_sha(DeriveShaImpl::Orig, &raws, &CpuBackend);
    b.transactions = txs;
    let s = (b.header.number as usize) % COUNCIL;
    reseal(
        b,
        k,
        &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
    );
}

#[test]
fn transaction_faults_are_named_with_their_index() {
    let user = SigningKey::from_seed(5, 5);
    let chain_id = 8217;
    type Break = Box<dyn Fn(Transaction) -> Transaction>;
    let cases: Vec<(FaultKind, Break)> = vec![
        (
            FaultKind::HighSSignature,
            Box::new(|mut t: Transaction| {
                let s = &t.signatures[0];
                let sig = ranger::crypto::secp::Signature65::from_parts(s.r, s.s, 0);
                let high = to_high_s(&sig);
                t.signatures[0].s = high.s();
                seal_raw(t)
            }),
        ),
        (
            FaultKind::WrongChainId,
            Box::new(move |t: Transaction| transfer(&SigningKey::from_seed(5, 5), t.nonce(), 1001)),
        ),
        (
            FaultKind::FromMismatch,
            Box::new(|mut t: Transaction| {
                if let TxBody::Kaia(k) = &mut t.body {
                    k.from = Address::repeat_byte(1);
                }
                seal_raw(t)
            }),
        ),
    ];
    for (kind, brk) in cases {
        let (spec, mut blocks) = mainnet_shape_chain(4, SEED);
        let txs = vec![
            transfer(&user, 0, chain_id),
            brk(transfer(&user, 1, chain_id)),
            transfer(&user, 2, chain_id),
        ];
        edit_block(&mut blocks, 2, |b, k| with_txs(b, k, txs));
        let r = verify(&spec, Mode::Full, &blocks);
        assert_eq!(
            first_invalid(&r),
            Some((2, kind)),
            "{kind}: {:?}",
            r[2].faults
        );
        assert_eq!(r[2].faults[0].tx_index, Some(1), "{kind}");
        // Headers mode does not look at transactions.
        let r = verify(&spec, Mode::Headers, &blocks);
        assert!(
            r.iter().all(|r| r.verdict == Verdict::Valid),
            "{kind} in headers mode"
        );
    }
    // A correct block with transactions is valid; a wrong tx root is named.
    let (spec, mut blocks) = mainnet_shape_chain(4, SEED);
    edit_block(&mut blocks, 2, |b, k| {
        with_txs(b, k, vec![transfer(&user, 0, chain_id)])
    });
    let r = verify(&spec, Mode::Full, &blocks);
    assert!(
        r.iter().all(|r| r.verdict == Verdict::Valid),
        "{:?}",
        r[2].faults
    );
    assert_eq!(r[2].transactions[0].sender, Some(user.address()));
    edit_block(&mut blocks, 2, |b, k| {
        b.header.tx_root = B256::repeat_byte(3);
        let s = (b.header.number as usize) % COUNCIL;
        reseal(
            b,
            k,
            &(0..22).map(|j| (s + j) % COUNCIL).collect::<Vec<_>>(),
        );
    });
    let r = verify(&spec, Mode::Full, &blocks);
    assert_eq!(first_invalid(&r), Some((2, FaultKind::WrongTxRoot)));
}
