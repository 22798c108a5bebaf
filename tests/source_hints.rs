//! A source's council hints in the verifier (`pipeline::council_hints`): a devnet chain judged as
//! a live chain would be (no BLS keys, no council, no committee size in the spec), with hints
//! that are right and hints that lie. A hint may let ranger check more, or explain an undecided
//! quorum; a lying hint makes a block undecided or is dropped, never makes it invalid or valid.

// Test helpers outside #[test] functions: a failing unwrap is a failing test (clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::Address;
use ranger::crypto::CpuBackend;
use ranger::crypto::bls::BlsPublicKey;
use ranger::devnet::{DevnetConfig, generate_in_memory};
use ranger::pipeline::council_hints::{CommitteeSizeHint, CouncilHintCheck, SourceHints};
use ranger::pipeline::{BlockReport, Input, Verdict, Verifier};
use std::collections::HashMap;

fn chain(
    validators: usize,
    committee: Option<u64>,
) -> (ranger::consensus::ChainSpec, Vec<Vec<u8>>) {
    let config = DevnetConfig {
        validators,
        accounts: 10,
        blocks: 6,
        txs_per_block: 2,
        seed: 7,
        committee_size: committee,
        ..DevnetConfig::default()
    };
    generate_in_memory(&config, &CpuBackend).unwrap()
}

/// `spec` as a live chain's built-in spec: no genesis to anchor to, no BLS keys, and no
/// committee size after genesis.
fn as_live(spec: &ranger::consensus::ChainSpec) -> ranger::consensus::ChainSpec {
    let mut live = spec.clone();
    live.kind = ranger::consensus::chain::ChainKind::Live;
    // A devnet's Extra lists no validators: the members stay, their keys go.
    for m in &mut live.council {
        m.bls_public_key = None;
        m.bls_pop = None;
    }
    live.committee_size = None;
    live.committee_size_history = vec![(0, spec.committee_size.unwrap_or(0).max(1))];
    live.committee_size_known_until = Some(0);
    live
}

fn keys(spec: &ranger::consensus::ChainSpec) -> HashMap<Address, BlsPublicKey> {
    spec.council
        .iter()
        .map(|m| {
            let pk = BlsPublicKey::from_bytes(m.bls_public_key.as_ref().unwrap()).unwrap();
            (m.address, pk)
        })
        .collect()
}

fn judge(v: &mut Verifier, blocks: &[Vec<u8>]) -> Vec<BlockReport> {
    let mut out = Vec::new();
    v.run(blocks.iter().map(|b| Ok(Input::Rlp(b.clone()))), |r| {
        out.push(r);
        true
    })
    .unwrap();
    out
}

fn verifier(live: &ranger::consensus::ChainSpec, hints: Option<SourceHints>) -> Verifier {
    let mut b = Verifier::builder(live).replay(false);
    if let Some(h) = hints {
        b = b.source_hints(h);
    }
    b.build().unwrap()
}

#[test]
fn hinted_bls_keys_check_reveals_and_a_lying_key_is_undecided_never_invalid() {
    let (spec, blocks) = chain(4, None);
    let live = as_live(&spec);
    let right = SourceHints {
        source: "http://source".into(),
        bls_keys: keys(&spec),
        ..SourceHints::default()
    };
    let reports = judge(&mut verifier(&live, Some(right.clone())), &blocks);
    assert!(
        reports.iter().all(|r| r.verdict == Verdict::Valid),
        "{reports:?}"
    );

    // The source gives each member another member's key: every reveal fails under it.
    let mut lying = right;
    let members: Vec<Address> = spec.council.iter().map(|m| m.address).collect();
    let ks = keys(&spec);
    lying.bls_keys = members
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, ks[&members[(i + 1) % members.len()]].clone()))
        .collect();
    let reports = judge(&mut verifier(&live, Some(lying)), &blocks);
    for r in &reports {
        assert_eq!(r.verdict, Verdict::Undecided, "{r:?}");
        assert!(r.faults.is_empty());
        let why = r.undecided.as_deref().unwrap();
        assert!(
            why.contains("does not verify under the BLS key http://source hinted"),
            "{why}"
        );
    }

    // The same wrong keys in the spec itself are the chain's own: a proven fault.
    let mut own = spec.clone();
    let (a, b) = (own.council[0].clone(), own.council[1].clone());
    own.council[0].bls_public_key = b.bls_public_key;
    own.council[0].bls_pop = b.bls_pop;
    own.council[1].bls_public_key = a.bls_public_key;
    own.council[1].bls_pop = a.bls_pop;
    let reports = judge(
        &mut Verifier::builder(&own).replay(false).build().unwrap(),
        &blocks,
    );
    assert!(reports.iter().any(|r| r.verdict == Verdict::Invalid));
}

#[test]
fn a_council_hint_is_checked_once_against_the_seals() {
    let (spec, blocks) = chain(4, None);
    let live = as_live(&spec);
    let members: Vec<Address> = spec.council.iter().map(|m| m.address).collect();
    let hint = |council: Vec<Address>| SourceHints {
        source: "http://source".into(),
        council,
        ..SourceHints::default()
    };
    let mut v = verifier(&live, Some(hint(members.clone())));
    let reports = judge(&mut v, &blocks);
    let checks = v.take_hint_checks();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].outcome, CouncilHintCheck::Consistent);
    assert_eq!(checks[0].block, 1);

    // A council without the first block's proposer: the source lied; the verdicts are the same.
    let proposer = reports[0].proposer.unwrap();
    let without: Vec<Address> = members.iter().copied().filter(|a| *a != proposer).collect();
    let mut v = verifier(&live, Some(hint(without)));
    let lied = judge(&mut v, &blocks);
    let checks = v.take_hint_checks();
    assert!(
        matches!(checks[0].outcome, CouncilHintCheck::Lied(_)),
        "{checks:?}"
    );
    let verdicts = |rs: &[BlockReport]| rs.iter().map(|r| r.verdict).collect::<Vec<_>>();
    assert_eq!(verdicts(&lied), verdicts(&reports));
    assert!(v.take_hint_checks().is_empty(), "checked once");
}

#[test]
fn a_hinted_committee_size_is_named_in_the_reason_and_decides_nothing() {
    // Seven members, a committee of four: blocks carry three seals, which meet 2F+1 of the
    // committee but not of the whole council.
    let (spec, blocks) = chain(7, Some(4));
    let live = as_live(&spec);
    let unhinted = judge(&mut verifier(&live, None), &blocks);
    assert!(
        unhinted.iter().any(|r| r.verdict == Verdict::Undecided),
        "{unhinted:?}"
    );
    let hint = |size| SourceHints {
        source: "http://source".into(),
        committee_size: Some(CommitteeSizeHint { at: 0, size }),
        ..SourceHints::default()
    };
    let verdicts = |rs: &[BlockReport]| rs.iter().map(|r| r.verdict).collect::<Vec<_>>();
    // The right size, a size of one (any single seal would do) and one too large: the verdicts
    // are those without a hint; the reason of an undecided quorum says what the hint would give.
    for (size, words) in [(4, "would meet"), (1, "would meet"), (7, "would not meet")] {
        let hinted = judge(&mut verifier(&live, Some(hint(size))), &blocks);
        assert_eq!(verdicts(&hinted), verdicts(&unhinted), "size {size}");
        for (h, u) in hinted.iter().zip(&unhinted) {
            if u.verdict == Verdict::Undecided {
                let why = h.undecided.as_deref().unwrap();
                assert!(
                    why.contains(&format!(
                        "under committee size {size} that http://source gave for block 0"
                    )) && why.contains(words),
                    "size {size}: {why}"
                );
            }
        }
    }
}
