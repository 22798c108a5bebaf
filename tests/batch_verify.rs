//! Batch verification against libsecp256k1 recovery: over 100,000 seeded signatures, with one bad
//! item of every class the issue names at varying positions, each found and named exactly (the
//! batch answers "verified" exactly where recovery returns the claimed key's address), plus a
//! batch of one, an empty batch, the freshness of the weights and the key cache.

use alloy_primitives::{Address, B256, U256};
use ranger::crypto::batch::{
    Claim, DEFAULT_KEY_CACHE, KeyCache, PublicKey, ShortAnswer, equation_with_weights,
    fresh_weights, verify_claims,
};
use ranger::crypto::curve::{
    ProjectivePoint, Scalar, decompress, point_from_xy, point_x_parity, scalar_reduce,
};
use ranger::crypto::keccak256;
use ranger::crypto::secp::{
    RecoverError, RecoverItem, SECP256K1_N, Signature65, SigningKey, recover_address, to_high_s,
};
use ranger::devnet::fastsign::{SignJob, sign_batch};
use rayon::prelude::*;

const SIGNERS: u64 = 1024;
const BATCH: usize = 4096;
const BATCHES: usize = 25; // 102,400 signatures

fn council() -> (Vec<SigningKey>, Vec<PublicKey>) {
    let keys: Vec<SigningKey> = (0..SIGNERS).map(|i| SigningKey::from_seed(77, i)).collect();
    let pks = keys
        .iter()
        .map(|k| PublicKey::from_xy(&k.public_key()).unwrap_or_else(|| panic!("key off the curve")))
        .collect();
    (keys, pks)
}

/// The bad-item classes of the issue, and a batch with none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bad {
    None,
    WrongR,
    WrongS,
    FlippedParity,
    WrongKey,
    HighSTwin,
    RAboveN,
    ZeroHash,
    OtherMember,
}

const CLASSES: [Bad; 9] = [
    Bad::None,
    Bad::WrongR,
    Bad::WrongS,
    Bad::FlippedParity,
    Bad::WrongKey,
    Bad::HighSTwin,
    Bad::RAboveN,
    Bad::ZeroHash,
    Bad::OtherMember,
];

/// A point R with x ≥ n (x = n + t for the smallest such t on the curve) and the key that an
/// ECDSA signature (r = t, s, z) with that R verifies under: Q = r⁻¹(s·R − z·G).
fn r_above_n(s: u64, z: &B256) -> (Signature65, PublicKey) {
    let mut t = 1u64;
    loop {
        let x = SECP256K1_N + U256::from(t);
        if let Some(r_point) = decompress(&x.to_be_bytes::<32>(), false) {
            let (_, odd) = point_x_parity(&r_point);
            assert!(!odd);
            let r = Scalar::from(t);
            let q = (ProjectivePoint::from(r_point) * Scalar::from(s)
                - ProjectivePoint::GENERATOR * scalar_reduce(&z.0))
                * Option::<Scalar>::from(r.invert()).unwrap_or_else(|| panic!("r = 0"));
            let key =
                PublicKey::from_point(q.to_affine()).unwrap_or_else(|| panic!("Q at infinity"));
            return (
                Signature65::from_parts(U256::from(t), U256::from(s), 0),
                key,
            );
        }
        t += 1;
    }
}

/// Builds one batch: items, the claimed key of each, the index of the bad item.
fn batch(
    b: usize,
    class: Bad,
    sigs: &[(RecoverItem, usize)],
    keys: &[SigningKey],
    pks: &[PublicKey],
) -> (Vec<RecoverItem>, Vec<PublicKey>, usize) {
    let mut items: Vec<RecoverItem> = sigs.iter().map(|(it, _)| *it).collect();
    let mut claims: Vec<PublicKey> = sigs.iter().map(|(_, k)| pks[*k]).collect();
    // Position classes: first, last, middle, and a seeded one.
    let at = match b % 4 {
        0 => 0,
        1 => items.len() - 1,
        2 => items.len() / 2,
        _ => (b * 7919) % items.len(),
    };
    let signer = sigs[at].1;
    let it = &mut items[at];
    match class {
        Bad::None => {}
        Bad::WrongR => {
            it.sig = Signature65::from_parts(it.sig.r() + U256::from(1), it.sig.s(), it.sig.recid())
        }
        Bad::WrongS => {
            it.sig = Signature65::from_parts(it.sig.r(), it.sig.s() + U256::from(1), it.sig.recid())
        }
        Bad::FlippedParity => it.sig.0[64] ^= 1,
        Bad::WrongKey => {
            claims[at] = PublicKey::from_xy(&SigningKey::from_seed(999, b as u64).public_key())
                .unwrap_or_else(|| panic!("key off the curve"))
        }
        Bad::HighSTwin => it.sig = to_high_s(&it.sig),
        Bad::RAboveN => {
            let (sig, key) = r_above_n(0x1234_5678 + b as u64, &it.hash);
            it.sig = sig;
            claims[at] = key;
        }
        Bad::ZeroHash => {
            // Signed over z = 0 by its signer (valid), and a neighbour whose hash is replaced by
            // zero (not valid): the first verifies, the second is the bad item.
            let zero = B256::ZERO;
            let next = (at + 1) % items.len();
            items[next].hash = zero;
            let it = &mut items[at];
            it.hash = zero;
            it.sig = keys[signer].sign(&zero);
            return (items, claims, next);
        }
        Bad::OtherMember => claims[at] = pks[(signer + 1) % pks.len()],
    }
    (items, claims, at)
}

#[test]
fn differential_against_recovery_on_100k_signatures() {
    let (keys, pks) = council();
    let total = BATCH * BATCHES;
    let hashes: Vec<B256> = (0..total as u64)
        .map(|i| keccak256(&i.to_be_bytes()))
        .collect();
    let owner = |i: usize| (i * 31 + i / 7) % SIGNERS as usize;
    let jobs: Vec<SignJob<'_>> = (0..total)
        .map(|i| SignJob {
            hash: hashes[i],
            key: &keys[owner(i)],
        })
        .collect();
    let sigs: Vec<(RecoverItem, usize)> = sign_batch(&jobs, b"batch-verify-test")
        .into_iter()
        .enumerate()
        .map(|(i, sig)| {
            (
                RecoverItem {
                    hash: hashes[i],
                    sig,
                },
                owner(i),
            )
        })
        .collect();
    for b in 0..BATCHES {
        let class = CLASSES[b % CLASSES.len()];
        let (items, claims, bad) = batch(b, class, &sigs[b * BATCH..(b + 1) * BATCH], &keys, &pks);
        let refs: Vec<&PublicKey> = claims.iter().collect();
        let got = verify_claims(&items, &refs);
        let recovered: Vec<Result<Address, RecoverError>> = items
            .par_iter()
            .map(|it| recover_address(&it.hash, &it.sig))
            .collect();
        let expected: Vec<bool> = recovered
            .iter()
            .zip(&claims)
            .map(|(r, k)| *r == Ok(k.address()))
            .collect();
        let wrong: Vec<usize> = (0..items.len())
            .filter(|&i| got[i] != expected[i])
            .collect();
        assert!(
            wrong.is_empty(),
            "batch {b} ({class:?}): verdicts differ at {wrong:?}"
        );
        let rejected: Vec<usize> = (0..items.len()).filter(|&i| !got[i]).collect();
        match class {
            Bad::None | Bad::HighSTwin => assert!(rejected.is_empty(), "{class:?}: {rejected:?}"),
            _ => assert_eq!(rejected, vec![bad], "batch {b} ({class:?})"),
        }
        // Through the cache, every answer is recovery's, including the bad item's error/signer.
        if b % 3 == 0 {
            let mut cache = KeyCache::new(4096);
            for (k, pk) in keys.iter().zip(&pks) {
                cache.insert(k.address(), *pk);
            }
            let claimed: Vec<Claim> = claims.iter().map(|k| Claim::Signer(k.address())).collect();
            let answers = cache
                .verify_or_recover(&items, &claimed, |_| -> Result<_, ShortAnswer> {
                    unreachable!("every item is claimed")
                })
                .unwrap();
            assert_eq!(
                answers, recovered,
                "batch {b} ({class:?}) through the cache"
            );
        }
    }
}

#[test]
fn r_above_n_is_never_taken_for_its_key() {
    // With recovery id 2 (x = r + n) Kaia rejects the signature; with 0 or 1 it recovers the
    // point at x = r, another key. Either way the claimed key is not verified.
    let z = keccak256(b"above n");
    let (sig, key) = r_above_n(77, &z);
    let item = RecoverItem { hash: z, sig };
    assert_eq!(verify_claims(&[item], &[&key]), vec![false]);
    assert_ne!(recover_address(&z, &sig), Ok(key.address()));
    let mut v2 = sig;
    v2.0[64] = 2;
    assert_eq!(
        recover_address(&z, &v2),
        Err(RecoverError::BadRecoveryId(2))
    );
    assert_eq!(
        verify_claims(&[RecoverItem { hash: z, sig: v2 }], &[&key]),
        vec![false]
    );
}

#[test]
fn every_claim_wrong_is_answered_and_bounded() {
    // Every item claims its neighbour's key (a seal rule that stopped holding): none verifies,
    // and the bisection's budget stops it early rather than checking each item alone.
    let keys: Vec<SigningKey> = (0..300).map(|i| SigningKey::from_seed(12, i)).collect();
    let pks: Vec<PublicKey> = keys
        .iter()
        .map(|k| PublicKey::from_xy(&k.public_key()).unwrap_or_else(|| panic!("off the curve")))
        .collect();
    let items: Vec<RecoverItem> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let h = keccak256(&(i as u64).to_be_bytes());
            RecoverItem {
                hash: h,
                sig: k.sign(&h),
            }
        })
        .collect();
    let wrong: Vec<&PublicKey> = (0..300).map(|i| &pks[(i + 1) % 300]).collect();
    assert!(verify_claims(&items, &wrong).iter().all(|&v| !v));
    let right: Vec<&PublicKey> = pks.iter().collect();
    assert!(verify_claims(&items, &right).iter().all(|&v| v));
}

#[test]
fn a_few_wrong_claims_are_each_named_and_nothing_else() {
    // Four false claims in a window of 4,096: the bisection names exactly those four (and so
    // recovers only them), it does not run out and leave good items unverified.
    let keys: Vec<SigningKey> = (0..64).map(|i| SigningKey::from_seed(13, i)).collect();
    let pks: Vec<PublicKey> = keys
        .iter()
        .map(|k| PublicKey::from_xy(&k.public_key()).unwrap_or_else(|| panic!("off the curve")))
        .collect();
    let items: Vec<RecoverItem> = (0..4096u64)
        .map(|i| {
            let h = keccak256(&i.to_be_bytes());
            RecoverItem {
                hash: h,
                sig: keys[(i % 64) as usize].sign(&h),
            }
        })
        .collect();
    let bad = [5usize, 1500, 3000, 3500];
    let claims: Vec<&PublicKey> = (0..4096)
        .map(|i| &pks[(i + usize::from(bad.contains(&i))) % 64])
        .collect();
    let rejected: Vec<usize> = verify_claims(&items, &claims)
        .iter()
        .enumerate()
        .filter(|(_, v)| !**v)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(rejected, bad);
}

#[test]
fn batch_of_one_and_empty_batch() {
    assert!(verify_claims(&[], &[]).is_empty());
    let k = SigningKey::from_seed(1, 1);
    let pk = PublicKey::from_xy(&k.public_key()).unwrap();
    let h = keccak256(b"one");
    let good = RecoverItem {
        hash: h,
        sig: k.sign(&h),
    };
    assert_eq!(verify_claims(&[good], &[&pk]), vec![true]);
    let mut bad = good;
    bad.hash = keccak256(b"two");
    assert_eq!(verify_claims(&[bad], &[&pk]), vec![false]);
    // Out-of-range signatures are never verified: recovery names them.
    let zero_r = RecoverItem {
        hash: h,
        sig: Signature65::from_parts(U256::ZERO, good.sig.s(), 0),
    };
    assert_eq!(verify_claims(&[zero_r], &[&pk]), vec![false]);
    let mut cache = KeyCache::new(8);
    let empty: Result<Vec<_>, ShortAnswer> = cache.verify_or_recover(&[], &[], |_| Ok(Vec::new()));
    assert_eq!(empty, Ok(Vec::new()));
}

#[test]
fn weights_are_fresh_and_a_cancelling_batch_is_caught() {
    let a = fresh_weights(8).unwrap();
    let b = fresh_weights(8).unwrap();
    assert_ne!(
        a, b,
        "two draws of 1,024 bits agree: the weights are seeded"
    );
    assert!(a.iter().chain(&b).all(|&w| w != 0));

    // Two valid signatures whose claimed keys are both wrong, by offsets D and E chosen so that
    // a1·u2_1·D + a2·u2_2·E = O for the weights a1, a2 an attacker would know.
    let (k1, k2) = (SigningKey::from_seed(5, 1), SigningKey::from_seed(5, 2));
    let (h1, h2) = (keccak256(b"c1"), keccak256(b"c2"));
    let (s1, s2) = (k1.sign(&h1), k2.sign(&h2));
    let (w1, w2) = (3u128, 5u128);
    let u2 = |s: &Signature65| {
        let r = scalar_reduce(&s.r().to_be_bytes::<32>());
        let si =
            Option::<Scalar>::from(scalar_reduce(&s.s().to_be_bytes::<32>()).invert()).unwrap();
        r * si
    };
    let d = ProjectivePoint::GENERATOR * Scalar::from(424242u64);
    let coef = Scalar::from(w1)
        * u2(&s1)
        * Option::<Scalar>::from((Scalar::from(w2) * u2(&s2)).invert()).unwrap();
    let e = -(d * coef);
    let shift = |k: &SigningKey, by: ProjectivePoint| -> PublicKey {
        let p = point_from_xy(&k.public_key()).unwrap();
        PublicKey::from_point((ProjectivePoint::from(p) + by).to_affine()).unwrap()
    };
    let (c1, c2) = (shift(&k1, d), shift(&k2, e));
    let items = [
        RecoverItem { hash: h1, sig: s1 },
        RecoverItem { hash: h2, sig: s2 },
    ];
    assert_eq!(
        equation_with_weights(&items, &[&c1, &c2], &[w1, w2]),
        Some(true)
    );
    assert_eq!(
        equation_with_weights(&items, &[&c1, &c2], &[w1, w2 + 1]),
        Some(false)
    );
    // Padded past the bisection's leaf size, so the weighted equation is what decides.
    let pk = |k: &SigningKey| PublicKey::from_xy(&k.public_key()).unwrap();
    let mut all = items.to_vec();
    let mut claims = vec![c1, c2];
    for i in 0..10u64 {
        let k = SigningKey::from_seed(6, i);
        let h = keccak256(&i.to_be_bytes());
        all.push(RecoverItem {
            hash: h,
            sig: k.sign(&h),
        });
        claims.push(pk(&k));
    }
    let refs: Vec<&PublicKey> = claims.iter().collect();
    let got = verify_claims(&all, &refs);
    assert_eq!(&got[..2], &[false, false]);
    assert!(got[2..].iter().all(|&v| v));
    assert_eq!(recover_address(&h1, &s1), Ok(k1.address()));
}

#[test]
fn key_cache_verifies_known_signers_and_stays_bounded() {
    let keys: Vec<SigningKey> = (0..40).map(|i| SigningKey::from_seed(8, i)).collect();
    let items: Vec<RecoverItem> = (0..200u64)
        .map(|i| {
            let h = keccak256(&i.to_be_bytes());
            RecoverItem {
                hash: h,
                sig: keys[(i % 40) as usize].sign(&h),
            }
        })
        .collect();
    // Every third item names no signer; one names the wrong one.
    let mut claims: Vec<Claim> = (0..200)
        .map(|i| {
            if i % 3 == 0 {
                Claim::None
            } else {
                Claim::Signer(keys[i % 40].address())
            }
        })
        .collect();
    claims[7] = Claim::Signer(keys[8].address());
    let expected: Vec<_> = items
        .iter()
        .map(|it| recover_address(&it.hash, &it.sig))
        .collect();
    let mut cache = KeyCache::new(1000);
    let backend = |b: &[RecoverItem]| -> Result<Vec<_>, ShortAnswer> {
        Ok(b.iter()
            .map(|it| recover_address(&it.hash, &it.sig))
            .collect())
    };
    assert_eq!(
        cache.verify_or_recover(&items, &claims, backend).unwrap(),
        expected
    );
    let cold = cache.stats();
    assert!(cold.hits < cold.claims);
    assert_eq!(
        cache.verify_or_recover(&items, &claims, backend).unwrap(),
        expected
    );
    let warm = cache.stats();
    assert_eq!(
        warm.claims - cold.claims,
        warm.hits - cold.hits,
        "every claim hits when warm"
    );
    // The wrong claim is recovered, never verified.
    assert_eq!(warm.verified - cold.verified, warm.hits - cold.hits - 1);
    // A short answer from the backend is an error, never a signature verdict.
    let short = cache.verify_or_recover(&items, &claims, |_| Ok(Vec::new()));
    assert_eq!(
        short,
        Err(ShortAnswer {
            got: 0,
            expected: 67
        })
    );

    let mut small = KeyCache::new(10);
    for k in &keys {
        small.insert(k.address(), PublicKey::from_xy(&k.public_key()).unwrap());
    }
    assert!(small.len() <= 10);
    assert!(small.get(&keys[39].address()).is_some());
    assert!(small.get(&keys[0].address()).is_none());
}

/// The block `raw` with its seals edited by `edit`, which gets the decoded extra and the hash
/// committed seals sign.
fn edit_seals(
    raw: &[u8],
    edit: impl FnOnce(&mut ranger::primitives::IstanbulExtra, &B256),
) -> Vec<u8> {
    use ranger::codec::block::{decode_block, encode_block};
    use ranger::codec::header::{decode_extra, encode_extra_parts};
    let mut b = decode_block(raw).unwrap_or_else(|e| panic!("{e}"));
    let mut extra = decode_extra(&b.header.extra).unwrap_or_else(|e| panic!("{e}"));
    let msg = ranger::consensus::istanbul::committed_seal_message(
        &ranger::consensus::istanbul::block_hash(&b.header),
    );
    edit(&mut extra, &msg);
    b.header.extra = encode_extra_parts(
        &extra.vanity,
        &extra.validators,
        &extra.seal,
        &extra.committed_seals,
    )
    .into();
    encode_block(&b)
}

/// Verifies `blocks` in one run (seal predictions and keys learnt from the first windows are in
/// use for the later ones) and each corrupted block alone on a cold verifier (every seal
/// recovered, as before batch verification): the reports must agree.
#[test]
fn pipeline_with_seal_hints_judges_like_recovery() {
    use ranger::bench::mainnet_shape_chain;
    use ranger::consensus::FaultKind;
    use ranger::pipeline::{BlockReport, Input, Mode, Verdict, Verifier};

    let (spec, mut blocks) = mainnet_shape_chain(200, 7);
    let outsider = SigningKey::from_seed(4242, 0);
    let member = |i: u64| SigningKey::from_seed(7, i);
    // (block, how its committed seals are broken, the fault expected)
    let cases: [(usize, &str, Option<FaultKind>); 5] = [
        (150, "swap", None),
        (151, "outsider", Some(FaultKind::NonCouncilSeal)),
        (152, "duplicate", Some(FaultKind::DuplicateSeal)),
        (153, "garbage", None),
        (190, "other-member", None),
    ];
    for (at, how, _) in &cases {
        blocks[*at] = edit_seals(&blocks[*at], |extra, msg| {
            let seals = &mut extra.committed_seals;
            match *how {
                "swap" => seals.swap(2, 9),
                "outsider" => seals[4] = outsider.sign(msg).0.to_vec().into(),
                "duplicate" => seals[6] = seals[5].clone(),
                "garbage" => seals[3] = vec![0x5a; 65].into(),
                // Seal 0 by a council member that is not in this block's committers.
                _ => {
                    let p = *at as u64 % 31;
                    seals[0] = member((p + 25) % 31).sign(msg).0.to_vec().into();
                }
            }
        });
    }
    let verifier = Verifier::builder(&spec)
        .mode(Mode::Headers)
        .build()
        .unwrap();
    let mut all: Vec<BlockReport> = Vec::new();
    let mut v = verifier.fresh();
    v.run(blocks.iter().map(|b| Ok(Input::Rlp(b.clone()))), |r| {
        all.push(r);
        true
    })
    .unwrap();
    // Window 0 (blocks 0-63) learns the keys, window 1 the rotation; windows 2 and 3 (blocks
    // 128-199) are verified against predicted signers.
    assert!(
        v.key_stats().verified > 60 * 23,
        "seal hints were not used: {:?}",
        v.key_stats()
    );
    for (at, how, kind) in cases {
        let mut alone = Vec::new();
        let mut cold = Verifier::builder(&spec)
            .mode(Mode::Headers)
            .build()
            .unwrap();
        cold.run(std::iter::once(Ok(Input::Rlp(blocks[at].clone()))), |r| {
            alone.push(r);
            true
        })
        .unwrap();
        let (a, b) = (&all[at], &alone[0]);
        let kinds = |r: &BlockReport| r.faults.iter().map(|f| f.kind).collect::<Vec<_>>();
        assert_eq!(a.proposer, b.proposer, "{how}");
        assert_eq!(a.committers, b.committers, "{how}");
        assert_eq!(kinds(a), kinds(b), "{how}");
        if let Some(k) = kind {
            assert!(kinds(a).contains(&k), "{how}: {:?}", a.faults);
            assert_eq!(a.verdict, Verdict::Invalid, "{how}");
        }
    }
    // Every block that was not broken is valid.
    let broken: Vec<usize> = cases.iter().map(|c| c.0).collect();
    for (i, r) in all.iter().enumerate() {
        if !broken.contains(&i) {
            assert_eq!(r.verdict, Verdict::Valid, "block {i}: {:?}", r.faults);
        }
    }
}

/// The seal-signer hints a source gives (Kaia's consensus-info `proposer` and `committers`) are
/// claims: right ones are used, wrong ones (shifted by one validator, a stale proposer, a list
/// that is too long or too short) cost recoveries and change no verdict, on valid blocks and on
/// blocks with a bad seal alike.
#[test]
fn source_seal_hints_never_change_a_verdict() {
    use ranger::bench::mainnet_shape_chain;
    use ranger::codec::block::decode_block;
    use ranger::consensus::FaultKind;
    use ranger::pipeline::{BlockReport, Input, Mode, SealHint, Verdict, Verifier};
    use ranger::primitives::Block;

    let (spec, mut blocks) = mainnet_shape_chain(90, 7);
    let member = |i: u64| SigningKey::from_seed(7, i);
    let validators: Vec<Address> = (0..31).map(|i| member(i).address()).collect();
    let outsider = SigningKey::from_seed(4242, 1);
    // Block 70: committed seal 4 by an outsider; block 75: committed seal 2 is garbage; block 80:
    // the proposer seal signed over the wrong message (which changes the block hash, so its
    // committed seals no longer hold either).
    for (at, how) in [(70usize, "outsider"), (75, "garbage"), (80, "proposer")] {
        blocks[at] = edit_seals(&blocks[at], |extra, msg| match how {
            "outsider" => extra.committed_seals[4] = outsider.sign(msg).0.to_vec().into(),
            "garbage" => extra.committed_seals[2] = vec![0x5a; 65].into(),
            _ => extra.seal = member(at as u64 % 31).sign(msg).0.to_vec().into(),
        });
    }
    let decoded: Vec<Block> = blocks.iter().map(|b| decode_block(b).unwrap()).collect();
    // The signers `mainnet_shape_chain` seals with: proposer n % 31, committers from there on.
    let truth = |n: usize| SealHint {
        proposer: Some(validators[n % 31]),
        committers: (0..22).map(|j| validators[(n + j) % 31]).collect(),
        senders: Vec::new(),
    };
    let wrong = |n: usize| {
        let mut h = truth(n + 1);
        if n.is_multiple_of(3) {
            h.committers.truncate(7);
        } else if n % 3 == 1 {
            h.committers.extend_from_slice(&validators[..5]);
            h.proposer = None;
        }
        h
    };
    let run = |hint: &(dyn Fn(usize) -> Option<SealHint> + Sync)| {
        let mut v = Verifier::builder(&spec)
            .mode(Mode::Headers)
            .build()
            .unwrap();
        let mut out: Vec<BlockReport> = Vec::new();
        let inputs = decoded.iter().enumerate().map(|(n, b)| {
            let block = Box::new(b.clone());
            Ok(match hint(n) {
                Some(seals) => Input::Hinted {
                    block,
                    seals: Box::new(seals),
                },
                None => Input::Block(block),
            })
        });
        v.run(inputs, |r| {
            out.push(r);
            true
        })
        .unwrap();
        (out, v.key_stats())
    };
    let (plain, _) = run(&|_| None);
    let (right, right_stats) = run(&|n| Some(truth(n)));
    let (bad, bad_stats) = run(&|n| Some(wrong(n)));
    // Right hints name every seal from the first block on; the first window (64 blocks) is
    // recovered, learning the keys, and the 26 blocks after it are verified, all but the 25 bad
    // seals (a proposer seal is part of the block hash, so every committed seal of block 80 is
    // bad too).
    assert_eq!(right_stats.claims, 90 * 23);
    assert!(
        right_stats.verified >= 26 * 23 - 25,
        "right hints were not used: {right_stats:?}"
    );
    assert!(
        bad_stats.verified < right_stats.verified,
        "{bad_stats:?} {right_stats:?}"
    );
    let view = |r: &BlockReport| {
        (
            r.verdict,
            r.proposer,
            r.committers.clone(),
            r.faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
        )
    };
    for n in 0..90 {
        assert_eq!(view(&right[n]), view(&plain[n]), "block {n}, right hints");
        assert_eq!(view(&bad[n]), view(&plain[n]), "block {n}, wrong hints");
        // Block 81's parent hash no longer matches block 80's.
        let expect_valid = ![70, 75, 80, 81].contains(&n);
        assert_eq!(
            plain[n].verdict == Verdict::Valid,
            expect_valid,
            "block {n}: {:?}",
            plain[n].faults
        );
    }
    assert!(
        plain[70]
            .faults
            .iter()
            .any(|f| f.kind == FaultKind::NonCouncilSeal)
    );
}

#[test]
fn a_sources_transaction_senders_are_verified_and_wrong_ones_change_no_verdict() {
    use ranger::codec::block::decode_block;
    use ranger::crypto::CpuBackend;
    use ranger::devnet::{DevnetConfig, generate_in_memory};
    use ranger::pipeline::hints::SealHint;
    use ranger::pipeline::{BlockReport, Input, Verdict, Verifier};
    use ranger::primitives::Block;

    let config = DevnetConfig {
        accounts: 300,
        blocks: 6,
        txs_per_block: 300,
        seed: 23,
        ..DevnetConfig::default()
    };
    let (spec, raw) = generate_in_memory(&config, &CpuBackend).unwrap();
    let blocks: Vec<Block> = raw.iter().map(|b| decode_block(b).unwrap()).collect();
    // A node that has seen these accounts: keys cached by a first pass.
    let mut primer = Verifier::builder(&spec).build().unwrap();
    let mut truth: Vec<BlockReport> = Vec::new();
    primer
        .run(raw.iter().map(|b| Ok(Input::Rlp(b.clone()))), |r| {
            truth.push(r);
            true
        })
        .unwrap();
    // The senders a JSON-RPC block would give: every transaction's signer; and a lying source's,
    // each transaction given the next one's sender.
    let right = |n: usize| -> Vec<Option<Address>> {
        truth[n].transactions.iter().map(|t| t.sender).collect()
    };
    let wrong = |n: usize| -> Vec<Option<Address>> {
        let mut s = right(n);
        s.rotate_left(1);
        s
    };
    let run = |senders: &(dyn Fn(usize) -> Vec<Option<Address>> + Sync)| {
        let mut v = Verifier::builder(&spec)
            .key_cache(primer.key_cache().clone())
            .build()
            .unwrap();
        let before = v.key_stats();
        let mut out: Vec<BlockReport> = Vec::new();
        let inputs = blocks.iter().enumerate().map(|(n, b)| {
            Ok(Input::Hinted {
                block: Box::new(b.clone()),
                seals: Box::new(SealHint {
                    senders: senders(n),
                    ..SealHint::default()
                }),
            })
        });
        v.run(inputs, |r| {
            out.push(r);
            true
        })
        .unwrap();
        (out, v.key_stats().since(&before))
    };
    let (plain, plain_stats) = run(&|_| Vec::new());
    let (named, named_stats) = run(&right);
    let (lied, lied_stats) = run(&wrong);
    // Transactions that name no sender themselves (legacy and Ethereum-typed).
    let unnamed: u64 = blocks
        .iter()
        .flat_map(|b| &b.transactions)
        .filter(|t| t.from_field().is_none())
        .map(|t| t.signatures.len() as u64)
        .sum();
    assert!(unnamed > 100, "the devnet mix has too few: {unnamed}");
    assert_eq!(named_stats.claims, plain_stats.claims + unnamed);
    // Every named sender whose key the cache held is verified, not recovered. (Keys of accounts
    // that sent only unnamed transactions before were never cached: their first claim here is
    // recovered, which caches the key.)
    assert_eq!(named_stats.verified, named_stats.hits, "{named_stats:?}");
    assert!(
        named_stats.verified >= plain_stats.verified + unnamed * 9 / 10,
        "{named_stats:?} {plain_stats:?}"
    );
    // A wrong sender is checked, fails and is recovered: nothing more verified than without.
    assert_eq!(lied_stats.claims, plain_stats.claims + unnamed);
    assert!(
        lied_stats.verified <= plain_stats.verified + unnamed / 50,
        "{lied_stats:?} {plain_stats:?}"
    );
    let view = |r: &BlockReport| {
        (
            r.verdict,
            r.faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
            r.transactions
                .iter()
                .map(|t| (t.sender, t.signers.clone(), t.fee_payer_signer))
                .collect::<Vec<_>>(),
        )
    };
    for n in 0..blocks.len() {
        assert_eq!(truth[n].verdict, Verdict::Valid, "block {n}");
        assert_eq!(view(&plain[n]), view(&truth[n]), "block {n}, no senders");
        assert_eq!(view(&named[n]), view(&truth[n]), "block {n}, right senders");
        assert_eq!(view(&lied[n]), view(&truth[n]), "block {n}, wrong senders");
    }
}

/// The default key cache's memory figure holds: a key with its address takes 136 bytes, and a
/// full generation stays within the 7/8 load of a 2^19-slot table, so no table doubles.
#[test]
fn default_key_cache_fits_its_tables() {
    // k256's field elements carry magnitude checks in debug builds (48 bytes instead of 40).
    let entry = if cfg!(debug_assertions) { 152 } else { 136 };
    assert_eq!(std::mem::size_of::<(Address, PublicKey)>(), entry);
    let generation = DEFAULT_KEY_CACHE / 2;
    assert!(
        generation <= (1 << 19) / 8 * 7,
        "{generation} keys double a 2^19-slot table"
    );
    // The same bound as hashbrown reports it: a table made for one generation holds it without
    // growing past 2^19 slots.
    let table: std::collections::HashMap<Address, PublicKey> =
        std::collections::HashMap::with_capacity(generation);
    assert!(table.capacity() >= generation && table.capacity() < 1 << 19);
}
