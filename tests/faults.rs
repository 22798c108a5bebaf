//! The fault catalog end to end: for every kind the devnet can inject, a generated chain with
//! that fault at one block is verified by the full pipeline (with state replay), which must name
//! exactly that kind, at that block, as the chain's first fault — and find nothing wrong with the
//! same chain generated without the fault.

use ranger::consensus::FaultKind;
use ranger::crypto::CpuBackend;
use ranger::devnet::{DevnetConfig, FaultAt, INJECTABLE, Producer};
use ranger::pipeline::{BlockReport, Input, Verdict, Verifier};

const FAULT_AT: u64 = 3;

fn config(faults: Vec<FaultAt>) -> DevnetConfig {
    DevnetConfig {
        validators: 7,
        accounts: 400,
        blocks: 5,
        txs_per_block: 24,
        seed: 11,
        faults,
        ..DevnetConfig::default()
    }
}

fn produce_and_verify(config: DevnetConfig) -> Vec<BlockReport> {
    let mut producer = Producer::new(config, &CpuBackend).unwrap_or_else(|e| panic!("{e}"));
    // The verifier rebuilds block 0 from the spec alone, as `ranger verify` does.
    let mut verifier = Verifier::builder(producer.spec())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut blocks = Vec::new();
    while let Some(b) = producer
        .next_block(&CpuBackend)
        .unwrap_or_else(|e| panic!("{e}"))
    {
        blocks.push(b.bytes);
    }
    let mut reports = Vec::new();
    verifier
        .run(blocks.into_iter().map(|b| Ok(Input::Rlp(b))), |r| {
            reports.push(r);
            true
        })
        .unwrap_or_else(|e| panic!("{e}"));
    reports
}

#[test]
fn a_valid_devnet_chain_has_no_fault() {
    let reports = produce_and_verify(config(Vec::new()));
    assert_eq!(reports.len(), 5);
    for r in &reports {
        assert_eq!(
            r.verdict,
            Verdict::Valid,
            "block {:?}: {:?}",
            r.block,
            r.faults
        );
        assert_eq!(r.transactions.len(), 24);
    }
}

#[test]
fn every_injectable_fault_is_named_at_its_block() {
    assert!(
        INJECTABLE.len() >= 24,
        "the catalog lists at least the 24 kinds of the issue"
    );
    let mut failures = Vec::new();
    for &kind in INJECTABLE {
        let reports = produce_and_verify(config(vec![FaultAt {
            kind,
            block: FAULT_AT,
        }]));
        let first = reports.iter().find(|r| r.verdict == Verdict::Invalid);
        match first {
            Some(r) if r.block == Some(FAULT_AT) && r.faults[0].kind == kind => {}
            Some(r) => failures.push(format!(
                "{kind}: first invalid block {:?} with {:?}",
                r.block,
                r.faults.iter().map(|f| f.kind).collect::<Vec<_>>()
            )),
            None => failures.push(format!("{kind}: no invalid block")),
        }
        for r in &reports[..FAULT_AT as usize - 1] {
            assert_eq!(
                r.verdict,
                Verdict::Valid,
                "{kind}: block {:?} before the fault",
                r.block
            );
        }
        // Later blocks are judged on their own merits: no inherited fault, and they say whose
        // descendants they are. After a block that does not decode, the state is unknown.
        for r in &reports[FAULT_AT as usize..] {
            let want = if kind == FaultKind::MalformedRlp {
                Verdict::Undecided
            } else {
                Verdict::Valid
            };
            if r.verdict != want || r.descends_from_invalid != Some(FAULT_AT) {
                failures.push(format!(
                    "{kind}: block {:?} after the fault is {:?} (descends from {:?}): {:?} {:?}",
                    r.block, r.verdict, r.descends_from_invalid, r.faults, r.undecided
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Faults of different classes in one chain: each is found at its own block with its own kind,
/// and every other block is valid on its own merits.
#[test]
fn several_faults_in_one_chain_are_each_named() {
    let cases: &[&[(FaultKind, u64)]] = &[
        &[(FaultKind::BelowQuorum, 2), (FaultKind::WrongStateRoot, 4)],
        &[
            (FaultKind::DuplicateSeal, 1),
            (FaultKind::BadTxSignature, 3),
        ],
        &[
            (FaultKind::BadTxSignature, 1),
            (FaultKind::NonceGap, 3),
            (FaultKind::WrongTxRoot, 5),
        ],
        &[
            (FaultKind::WrongNumber, 2),
            (FaultKind::InsufficientBalance, 3),
            (FaultKind::BadRandomReveal, 5),
        ],
        &[
            (FaultKind::FromMismatch, 2),
            (FaultKind::WrongGasUsed, 4),
            (FaultKind::EarlyTimestamp, 5),
        ],
    ];
    for faults in cases {
        let mut c = config(
            faults
                .iter()
                .map(|&(kind, block)| FaultAt { kind, block })
                .collect(),
        );
        c.blocks = 6;
        let reports = produce_and_verify(c);
        assert_eq!(reports.len(), 6);
        let mut last_invalid = None;
        for r in &reports {
            let height = r.block.unwrap_or_else(|| panic!("every block is placed"));
            assert_eq!(
                r.descends_from_invalid, last_invalid,
                "{faults:?} block {height}"
            );
            match faults.iter().find(|(_, b)| *b == height) {
                Some((kind, _)) => {
                    assert_eq!(r.verdict, Verdict::Invalid, "{faults:?} block {height}");
                    assert_eq!(
                        r.faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
                        vec![*kind],
                        "{faults:?} block {height}: exactly its own fault"
                    );
                    last_invalid = Some(height);
                }
                None => assert_eq!(
                    r.verdict,
                    Verdict::Valid,
                    "{faults:?} block {height}: {:?}",
                    r.faults
                ),
            }
        }
    }
}
