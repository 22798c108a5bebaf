//! Fault reports against real devnet chains: for every fault kind the devnet injects that
//! self-contained evidence can show, the pipeline's verdict becomes a signed report that an
//! independent checker (holding only the chain spec) accepts; forged, tampered, re-targeted and
//! true-but-valid reports are refused with the reason; an equivocation is proven from two headers.

use ranger::codec::block::encode_block;
use ranger::consensus::FaultKind;
use ranger::crypto::CpuBackend;
use ranger::crypto::secp::SigningKey;
use ranger::devnet::{DevnetConfig, FaultAt, INJECTABLE, Producer};
use ranger::pipeline::{BlockReport, Input, Verdict, Verifier};
use ranger::primitives::Block;
use ranger::report::{
    CheckContext, Evidence, EvidenceClass, FaultReport, ReportError, Reporter, check,
};
use std::sync::Arc;

const FAULT_AT: u64 = 3;

fn config(faults: Vec<FaultAt>) -> DevnetConfig {
    config_with(faults, false)
}

fn config_with(faults: Vec<FaultAt>, votes: bool) -> DevnetConfig {
    DevnetConfig {
        votes,
        validators: 7,
        accounts: 300,
        blocks: 4,
        txs_per_block: 12,
        seed: 5,
        faults,
        ..DevnetConfig::default()
    }
}

struct Chain {
    ctx: CheckContext,
    /// Block 0 (the genesis block) and every produced block, RLP.
    raw: Vec<Vec<u8>>,
    reports: Vec<BlockReport>,
    twins: Vec<(u64, Vec<u8>)>,
}

fn chain(faults: Vec<FaultAt>) -> Chain {
    chain_of(config(faults))
}

fn chain_of(config: DevnetConfig) -> Chain {
    let mut producer = Producer::new(config, &CpuBackend).unwrap_or_else(|e| panic!("{e}"));
    let spec = producer.spec().clone();
    let genesis = encode_block(&Block {
        header: producer.genesis().clone(),
        transactions: Vec::new(),
    });
    let mut raw = vec![genesis];
    let mut twins = Vec::new();
    while let Some(b) = producer
        .next_block(&CpuBackend)
        .unwrap_or_else(|e| panic!("{e}"))
    {
        if let Some(t) = b.twin {
            twins.push((b.number, t));
        }
        raw.push(b.bytes);
    }
    let mut verifier = Verifier::builder(&spec)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut reports = Vec::new();
    verifier
        .run(raw[1..].iter().cloned().map(|b| Ok(Input::Rlp(b))), |r| {
            reports.push(r);
            true
        })
        .unwrap_or_else(|e| panic!("{e}"));
    Chain {
        ctx: CheckContext::new(spec, Arc::new(CpuBackend)),
        raw,
        reports,
        twins,
    }
}

fn reporter(ctx: &CheckContext, seed: u64) -> Reporter {
    Reporter::new(SigningKey::from_seed(77, seed), ctx.clone())
}

/// The report of `kind` at the fault's block.
fn report_of(c: &Chain, kind: FaultKind) -> Result<FaultReport, String> {
    let r = &c.reports[FAULT_AT as usize - 1];
    assert_eq!(r.verdict, Verdict::Invalid, "{kind}: {:?}", r.faults);
    let rep = reporter(&c.ctx, 1);
    let witness = r.witness.as_ref().map(|w| w.to_rlp());
    let built = rep.reports(
        r,
        &c.raw[FAULT_AT as usize],
        &c.raw[FAULT_AT as usize - 1],
        witness.as_deref(),
    );
    built
        .into_iter()
        .find_map(|b| match b {
            Ok((rep, _)) if rep.kind == kind => Some(Ok(rep)),
            Ok(_) => None,
            Err(e) => Some(Err(e.to_string())),
        })
        .unwrap_or_else(|| Err(format!("no report of {kind}")))
}

#[test]
fn every_reportable_injected_fault_becomes_a_report_a_checker_accepts() {
    let mut failures = Vec::new();
    let mut sizes = Vec::new();
    for &kind in INJECTABLE {
        let c = chain(vec![FaultAt {
            kind,
            block: FAULT_AT,
        }]);
        match (EvidenceClass::of(kind), report_of(&c, kind)) {
            (None, Err(_)) => {}
            (None, Ok(_)) => failures.push(format!("{kind}: reported without evidence")),
            (Some(_), Err(e)) => failures.push(format!("{kind}: {e}")),
            (Some(_), Ok(r)) => {
                let bytes = r.encode();
                match check(&bytes, &c.ctx) {
                    Ok((_, p)) => {
                        assert_eq!(p.kind, kind);
                        assert_eq!(p.block, FAULT_AT);
                        assert_eq!(p.fault_id, r.fault_id());
                        sizes.push((kind, p.evidence_bytes));
                    }
                    Err(e) => failures.push(format!("{kind}: the checker refuses it: {e}")),
                }
            }
        }
    }
    eprintln!("evidence bytes: {sizes:?}");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn header_and_transaction_evidence_fits_the_gossip_bound() {
    for kind in [
        FaultKind::BelowQuorum,
        FaultKind::BadRandomReveal,
        FaultKind::BadTxSignature,
        FaultKind::WrongChainId,
    ] {
        let c = chain(vec![FaultAt {
            kind,
            block: FAULT_AT,
        }]);
        let r = report_of(&c, kind).unwrap();
        assert!(
            r.encode().len() <= 64 * 1024,
            "{kind}: {}",
            r.encode().len()
        );
    }
}

#[test]
fn forged_tampered_and_retargeted_reports_are_refused() {
    let kind = FaultKind::BadTxSignature;
    let c = chain(vec![FaultAt {
        kind,
        block: FAULT_AT,
    }]);
    let good = report_of(&c, kind).unwrap();
    assert!(check(&good.encode(), &c.ctx).is_ok());

    // Signed by another key than the reporter it names.
    let mut forged = good.clone();
    forged.reporter = SigningKey::from_seed(77, 2).address();
    let e = check(&forged.encode(), &c.ctx).unwrap_err();
    assert!(matches!(e, ReportError::NotReporters { .. }), "{e}");

    // Evidence changed after signing.
    let mut tampered = good.clone();
    if let Evidence::Transaction { tx, .. } = &mut tampered.evidence {
        tx[10] ^= 1;
    }
    assert!(matches!(
        check(&tampered.encode(), &c.ctx).unwrap_err(),
        ReportError::NotReporters { .. }
    ));

    // Re-signed with tampered evidence: the inclusion proof fails.
    let key = SigningKey::from_seed(77, 3);
    let t = FaultReport::sign(
        good.chain_id,
        good.block_number,
        good.block_hash,
        good.kind,
        tampered.evidence.clone(),
        &key,
    );
    let e = check(&t.encode(), &c.ctx).unwrap_err();
    assert!(matches!(e, ReportError::Mismatch(_)), "{e}");

    // Another chain id.
    let other = FaultReport::sign(
        good.chain_id + 1,
        good.block_number,
        good.block_hash,
        good.kind,
        good.evidence.clone(),
        &key,
    );
    assert!(matches!(
        check(&other.encode(), &c.ctx).unwrap_err(),
        ReportError::WrongChain { .. }
    ));

    // Another kind than the evidence shows.
    let wrong_kind = FaultReport::sign(
        good.chain_id,
        good.block_number,
        good.block_hash,
        FaultKind::HighSSignature,
        good.evidence.clone(),
        &key,
    );
    assert!(matches!(
        check(&wrong_kind.encode(), &c.ctx).unwrap_err(),
        ReportError::NotProven { .. }
    ));
}

#[test]
fn a_report_on_a_valid_block_is_refused_as_not_proven() {
    let c = chain(Vec::new());
    let key = SigningKey::from_seed(77, 4);
    let n = FAULT_AT as usize;
    let header = ranger::report::header_bytes(&c.raw[n]).unwrap();
    let parent = ranger::report::header_bytes(&c.raw[n - 1]).unwrap();
    let hash = ranger::consensus::istanbul::block_hash(
        &ranger::codec::header::decode_header(&header).unwrap(),
    );
    let r = FaultReport::sign(
        c.ctx.chain_id(),
        FAULT_AT,
        hash,
        FaultKind::BelowQuorum,
        Evidence::Header { parent, header },
        &key,
    );
    let e = check(&r.encode(), &c.ctx).unwrap_err();
    assert!(
        matches!(&e, ReportError::NotProven { why, .. } if why.contains("valid")),
        "{e}"
    );
}

#[test]
fn a_header_no_council_member_signed_is_unattributable() {
    // A block whose proposer seal recovers to an outsider and whose committed seals are cut
    // below quorum would be anyone's forgery: take the below-quorum block and break its
    // proposer seal too, as a forger without keys must.
    let c = chain(vec![FaultAt {
        kind: FaultKind::BelowQuorum,
        block: FAULT_AT,
    }]);
    let good = report_of(&c, FaultKind::BelowQuorum).unwrap();
    let Evidence::Header { parent, header } = &good.evidence else {
        panic!("header evidence")
    };
    let mut h = ranger::codec::header::decode_header(header).unwrap();
    let mut extra = ranger::codec::header::decode_extra(&h.extra).unwrap();
    extra.seal = alloy_primitives::Bytes::from(vec![1u8; 65]);
    h.extra = alloy_primitives::Bytes::from(ranger::codec::header::encode_extra(&extra));
    let forged_header = ranger::codec::header::encode_header(&h);
    let key = SigningKey::from_seed(77, 5);
    let r = FaultReport::sign(
        c.ctx.chain_id(),
        FAULT_AT,
        ranger::consensus::istanbul::block_hash(&h),
        FaultKind::BelowQuorum,
        Evidence::Header {
            parent: parent.clone(),
            header: forged_header,
        },
        &key,
    );
    let e = check(&r.encode(), &c.ctx).unwrap_err();
    assert!(matches!(e, ReportError::Unattributable(_)), "{e}");
}

#[test]
fn an_equivocation_is_proven_by_two_sealed_headers() {
    let c = chain(vec![FaultAt {
        kind: FaultKind::Equivocation,
        block: FAULT_AT,
    }]);
    // The chain itself is valid: the council built on the first block.
    assert!(c.reports.iter().all(|r| r.verdict == Verdict::Valid));
    let (n, twin) = c.twins.first().cloned().unwrap();
    assert_eq!(n, FAULT_AT);
    let rep = reporter(&c.ctx, 1);
    let (r, p) = rep
        .equivocation(&c.raw[n as usize - 1], &c.raw[n as usize], &twin)
        .unwrap();
    assert_eq!(p.kind, FaultKind::Equivocation);
    assert!(check(&r.encode(), &c.ctx).is_ok());
    // The same pair the other way round is the same fault.
    let (r2, _) = reporter(&c.ctx, 2)
        .equivocation(&c.raw[n as usize - 1], &twin, &c.raw[n as usize])
        .unwrap();
    assert_eq!(r2.fault_id(), r.fault_id());
    // One block twice is no equivocation.
    let same = rep.equivocation(&c.raw[n as usize - 1], &twin, &twin);
    assert!(same.is_err());
}

#[test]
fn a_state_report_with_its_witness_detached_is_checked_once_the_named_witness_is_attached() {
    let c = chain(vec![FaultAt {
        kind: FaultKind::WrongStateRoot,
        block: FAULT_AT,
    }]);
    let full = report_of(&c, FaultKind::WrongStateRoot).unwrap_or_else(|e| panic!("{e}"));
    let mut thin = full.clone();
    let witness = thin
        .detach_witness()
        .expect("a state report carries a witness");
    // Without the witness the checker cannot tell: its own lack, never a verdict on the report.
    match check(&thin.encode(), &c.ctx) {
        Err(e @ ReportError::WitnessDetached { .. }) => assert!(e.is_ours(), "{e}"),
        other => panic!("expected a detached witness, got {other:?}"),
    }
    // Another witness of the same length does not attach; the named one does and proves it.
    let mut forged = witness.clone();
    forged[0] ^= 1;
    assert!(thin.clone().attach_witness(forged).is_err());
    thin.attach_witness(witness).unwrap();
    let (_, p) = check(&thin.encode(), &c.ctx).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.kind, FaultKind::WrongStateRoot);
    assert_eq!(p.fault_id, full.fault_id());
    assert_eq!(thin.encode(), full.encode());
}

#[test]
fn on_a_chain_whose_votes_change_the_council_a_report_is_undecided_never_judged_by_the_genesis_council()
 {
    let faults = vec![FaultAt {
        kind: FaultKind::BelowQuorum,
        block: FAULT_AT,
    }];
    let fixed = chain(faults.clone());
    let voting = chain_of(config_with(faults, true));
    assert!(!fixed.ctx.spec().council_governance && voting.ctx.spec().council_governance);
    // A ranger on the voting chain sees the fault (its verifier applies the votes) but makes no
    // report: its own checker cannot know the council at block 3 from the genesis.
    let e = report_of(&voting, FaultKind::BelowQuorum).expect_err("no report");
    assert!(e.contains("governance changes the council"), "{e}");
    // A report checked by such a checker is undecided, never judged by the genesis council.
    let r = report_of(&fixed, FaultKind::BelowQuorum).unwrap_or_else(|e| panic!("{e}"));
    assert!(check(&r.encode(), &fixed.ctx).is_ok());
    let mut spec = fixed.ctx.spec().clone();
    spec.council_governance = true;
    let voting_ctx = CheckContext::new(spec, Arc::new(CpuBackend));
    match check(&r.encode(), &voting_ctx) {
        Err(e @ ReportError::Undecided(_)) => {
            assert!(
                e.to_string().contains("governance changes the council"),
                "{e}"
            );
            assert!(e.is_ours());
        }
        other => panic!("expected undecided, got {other:?}"),
    }
}
