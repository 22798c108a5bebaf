//! The fault catalog end to end: for every kind the devnet can inject, a generated chain with
//! that fault at one block is verified by the full pipeline (with state replay), which must name
//! exactly that kind, at that block, as the chain's first fault — and find nothing wrong with the
//! same chain generated without the fault.

use ranger::crypto::{Backend, CpuBackend};
use ranger::devnet::{DevnetConfig, FaultAt, INJECTABLE, Producer};
use ranger::pipeline::replay::ReplayHook;
use ranger::pipeline::{
    Anchor, BlockHook, BlockReport, Input, Mode, Pipeline, PipelineConfig, Verdict,
};
use std::sync::Arc;

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
    let backend: Arc<dyn Backend> = Arc::new(CpuBackend);
    let mut producer = Producer::new(config, &CpuBackend).unwrap_or_else(|e| panic!("{e}"));
    let spec = producer.spec().clone();
    let (mut cfg, keys) =
        PipelineConfig::from_spec(&spec, Mode::Full).unwrap_or_else(|e| panic!("{e}"));
    cfg.anchor = Some(Anchor::of(producer.genesis()));
    let mut replay = ReplayHook::for_spec(&spec, backend.clone())
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("a devnet genesis has state"));
    let mut blocks = Vec::new();
    while let Some(b) = producer
        .next_block(&CpuBackend)
        .unwrap_or_else(|e| panic!("{e}"))
    {
        blocks.push(b.bytes);
    }
    let mut pipeline = Pipeline::new(cfg, keys, backend);
    let mut reports = Vec::new();
    pipeline
        .run(
            blocks.into_iter().map(|b| Ok(Input::Rlp(b))),
            Some(&mut replay as &mut dyn BlockHook),
            |r| {
                reports.push(r);
                true
            },
        )
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
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
