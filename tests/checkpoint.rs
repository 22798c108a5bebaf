//! A verifier stopped between any two runs and resumed from its checkpoint (kept as JSON, with
//! the replayed accounts, as a node's store keeps them) gives exactly the verdicts of one
//! uninterrupted run, faults and `descends_from_invalid` included; a checkpoint whose accounts
//! do not hash to its state root is refused.

#![allow(clippy::unwrap_used)] // a test fails loudly on any error

use ranger::crypto::CpuBackend;
use ranger::devnet::{DevnetConfig, FaultAt, Producer};
use ranger::pipeline::{BlockReport, Checkpoint, ConfigError, Input, Resume, Verifier};
use ranger::state::Account;
use std::collections::BTreeMap;

fn chain() -> (ranger::consensus::ChainSpec, Vec<Vec<u8>>) {
    let config = DevnetConfig {
        validators: 4,
        accounts: 200,
        blocks: 12,
        txs_per_block: 16,
        seed: 5,
        faults: vec![
            "bad-tx-signature@3".parse().unwrap(),
            "wrong-state-root@6".parse::<FaultAt>().unwrap(),
            "below-quorum@9".parse().unwrap(),
        ],
        ..DevnetConfig::default()
    };
    let mut producer = Producer::new(config, &CpuBackend).unwrap();
    let mut blocks = Vec::new();
    while let Some(b) = producer.next_block(&CpuBackend).unwrap() {
        blocks.push(b.bytes);
    }
    (producer.spec().clone(), blocks)
}

/// What a verdict says, without timings.
fn essence(r: &BlockReport) -> String {
    format!(
        "{} {:?} {:?} {:?} {:?} {:?}",
        r.position,
        r.block,
        r.verdict,
        r.faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
        r.descends_from_invalid,
        r.undecided
    )
}

fn run(v: &mut Verifier, blocks: &[Vec<u8>], out: &mut Vec<String>) {
    v.run(blocks.iter().map(|b| Ok(Input::Rlp(b.clone()))), |r| {
        out.push(essence(&r));
        true
    })
    .unwrap();
}

#[test]
fn resuming_at_every_height_gives_the_verdicts_of_one_run() {
    let (spec, blocks) = chain();
    let mut whole = Vec::new();
    run(
        &mut Verifier::builder(&spec).build().unwrap(),
        &blocks,
        &mut whole,
    );
    assert!(whole.iter().any(|e| e.contains("Invalid")));

    for split in 0..=blocks.len() {
        let mut first = Verifier::builder(&spec).build().unwrap();
        let mut got = Vec::new();
        run(&mut first, &blocks[..split], &mut got);
        // What a store keeps: the checkpoint as JSON, and every account written so far.
        let mut saved: BTreeMap<_, Account> = BTreeMap::new();
        saved.extend(first.take_unsaved_accounts());
        let json = serde_json::to_string(&first.checkpoint()).unwrap();
        drop(first);
        let checkpoint: Checkpoint = serde_json::from_str(&json).unwrap();
        let mut second = Verifier::builder(&spec)
            .resume(Resume {
                checkpoint,
                accounts: saved.into_iter().collect(),
            })
            .build()
            .unwrap();
        run(&mut second, &blocks[split..], &mut got);
        assert_eq!(got, whole, "resumed after {split} blocks");
    }
}

#[test]
fn accounts_saved_in_pieces_add_up_to_the_state() {
    let (spec, blocks) = chain();
    let mut v = Verifier::builder(&spec).build().unwrap();
    let mut saved: BTreeMap<_, Account> = BTreeMap::new();
    for part in blocks.chunks(5) {
        run(&mut v, part, &mut Vec::new());
        saved.extend(v.take_unsaved_accounts());
    }
    assert!(v.take_unsaved_accounts().is_empty());
    let checkpoint = v.checkpoint();
    let resumed = Verifier::builder(&spec)
        .resume(Resume {
            checkpoint: checkpoint.clone(),
            accounts: saved.clone().into_iter().collect(),
        })
        .build();
    assert!(resumed.is_ok());

    // One account's balance changed behind the checkpoint's back.
    let (addr, acct) = saved.iter().next().map(|(a, b)| (*a, *b)).unwrap();
    saved.insert(
        addr,
        Account {
            balance: acct.balance + alloy_primitives::U256::from(1u64),
            ..acct
        },
    );
    let err = Verifier::builder(&spec)
        .resume(Resume {
            checkpoint,
            accounts: saved.into_iter().collect(),
        })
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::ResumeMismatch { .. }), "{err}");
}
