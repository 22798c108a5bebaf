//! Encoding, signing and fault ids of reports (the checks against real chains are in
//! `tests/reports.rs`).

use super::*;
use proptest::prelude::*;

fn sample(key: &SigningKey) -> FaultReport {
    FaultReport::sign(
        2026,
        7,
        B256::repeat_byte(7),
        FaultKind::BelowQuorum,
        Evidence::Header {
            parent: vec![0xc0],
            header: vec![0xc1, 0x80],
        },
        key,
    )
}

#[test]
fn a_report_round_trips_and_names_its_signer() {
    let key = SigningKey::from_seed(1, 1);
    let r = sample(&key);
    let bytes = r.encode();
    let back = FaultReport::decode(&bytes).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.signer().unwrap(), key.address());
    for e in [
        Evidence::Transaction {
            parent: vec![1],
            header: vec![2],
            index: 3,
            tx: vec![4, 5],
            inclusion: Inclusion::Proof(vec![vec![6], vec![7, 8]]),
        },
        Evidence::Transaction {
            parent: vec![1],
            header: vec![2],
            index: 0,
            tx: vec![],
            inclusion: Inclusion::List(vec![]),
        },
        Evidence::Block {
            parent: vec![1],
            header: vec![2],
            transactions: vec![vec![3], vec![4; 100]],
            witness: WitnessPart::Carried(vec![5; 70]),
        },
        Evidence::Block {
            parent: vec![1],
            header: vec![2],
            transactions: vec![vec![3]],
            witness: WitnessPart::Detached {
                hash: B256::repeat_byte(9),
                len: 12,
            },
        },
        Evidence::Equivocation {
            parent: vec![1],
            first: vec![2],
            second: vec![3],
        },
    ] {
        let r = FaultReport::sign(9, 1, B256::ZERO, FaultKind::NonceGap, e, &key);
        assert_eq!(FaultReport::decode(&r.encode()).unwrap(), r);
    }
}

fn block_report(key: &SigningKey, witness: Vec<u8>) -> FaultReport {
    FaultReport::sign(
        9,
        4,
        B256::repeat_byte(4),
        FaultKind::WrongStateRoot,
        Evidence::Block {
            parent: vec![1],
            header: vec![2],
            transactions: vec![vec![3; 40]],
            witness: WitnessPart::Carried(witness),
        },
        key,
    )
}

#[test]
fn a_witness_detaches_and_attaches_under_one_signature_and_one_fault_id() {
    let key = SigningKey::from_seed(1, 1);
    let full = block_report(&key, vec![7; 3000]);
    let mut thin = full.clone();
    let witness = thin.detach_witness().expect("a witness to detach");
    assert_eq!(witness, vec![7; 3000]);
    assert_eq!(thin.missing_witness(), Some((keccak256(&witness), 3000)));
    assert!(thin.encode().len() < full.encode().len() - 2900);
    // One signature, one id, either form; the detached form decodes as itself.
    assert_eq!(thin.signer().unwrap(), key.address());
    assert_eq!(thin.signing_hash(), full.signing_hash());
    assert_eq!(thin.fault_id(), full.fault_id());
    assert_eq!(FaultReport::decode(&thin.encode()).unwrap(), thin);
    assert_eq!(thin.detach_witness(), None, "nothing left to detach");

    // Only the named bytes attach.
    let mut wrong = thin.clone();
    assert!(matches!(
        wrong.attach_witness(vec![7; 2999]),
        Err(AttachError::NotTheNamedWitness { .. })
    ));
    let mut other = witness.clone();
    other[100] ^= 1;
    assert!(matches!(
        wrong.attach_witness(other),
        Err(AttachError::NotTheNamedWitness { .. })
    ));
    assert_eq!(wrong, thin, "a refused attach leaves the report as it was");
    let mut back = thin.clone();
    back.attach_witness(witness).unwrap();
    assert_eq!(back, full);
    assert_eq!(back.encode(), full.encode());
    assert_eq!(
        full.clone().attach_witness(vec![1]),
        Err(AttachError::NothingDetached)
    );

    // Another witness is another signed statement: a swapped hash breaks the signature.
    let mut swapped = thin.clone();
    if let Evidence::Block { witness, .. } = &mut swapped.evidence {
        *witness = WitnessPart::Detached {
            hash: B256::repeat_byte(1),
            len: 3000,
        };
    }
    assert_ne!(swapped.signer().ok(), Some(key.address()));
    // An empty witness (wrong-tx-root) stays carried, and has no detached form.
    assert_eq!(block_report(&key, Vec::new()).detach_witness(), None);
    let mut empty = thin.clone();
    if let Evidence::Block { witness, .. } = &mut empty.evidence {
        *witness = WitnessPart::Detached {
            hash: keccak256(&[]),
            len: 0,
        };
    }
    assert!(FaultReport::decode(&empty.encode()).is_err());
}

#[test]
fn a_witness_that_would_take_the_report_over_the_bound_does_not_attach() {
    let key = SigningKey::from_seed(1, 1);
    let big = vec![3u8; MAX_REPORT_BYTES];
    let mut thin = block_report(&key, big.clone());
    thin.detach_witness();
    let before = thin.clone();
    assert!(matches!(
        thin.attach_witness(big),
        Err(AttachError::Oversized { .. })
    ));
    assert_eq!(thin, before);
}

#[test]
fn a_detached_witness_over_the_bound_is_refused() {
    let key = SigningKey::from_seed(1, 1);
    let mut r = block_report(&key, vec![7; 10]);
    r.evidence = Evidence::Block {
        parent: vec![1],
        header: vec![2],
        transactions: vec![],
        witness: WitnessPart::Detached {
            hash: B256::ZERO,
            len: MAX_REPORT_BYTES as u64 + 1,
        },
    };
    assert!(matches!(
        FaultReport::decode(&r.encode()),
        Err(DecodeReportError::Malformed(m)) if m.contains("witness length")
    ));
}

#[test]
fn a_changed_byte_breaks_the_signature_or_the_decoding() {
    let key = SigningKey::from_seed(1, 1);
    let bytes = sample(&key).encode();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(r) = FaultReport::decode(&b) {
            assert_ne!(r.signer().ok(), Some(key.address()), "byte {i}");
        }
    }
}

#[test]
fn the_fault_id_does_not_depend_on_the_reporter() {
    let a = sample(&SigningKey::from_seed(1, 1));
    let b = sample(&SigningKey::from_seed(1, 2));
    assert_ne!(a.reporter, b.reporter);
    assert_eq!(a.fault_id(), b.fault_id());
    let mut other = a.clone();
    other.block_number += 1;
    assert_ne!(other.fault_id(), a.fault_id());
}

#[test]
fn oversized_and_trailing_bytes_are_refused() {
    let key = SigningKey::from_seed(1, 1);
    let mut bytes = sample(&key).encode();
    bytes.push(0);
    assert!(matches!(
        FaultReport::decode(&bytes),
        Err(DecodeReportError::Malformed(_))
    ));
    let big = vec![0u8; MAX_REPORT_BYTES + 1];
    assert!(matches!(
        FaultReport::decode(&big),
        Err(DecodeReportError::Oversized { .. })
    ));
}

proptest! {
    #[test]
    fn decoding_random_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = FaultReport::decode(&bytes);
    }

    #[test]
    fn decoding_mutated_reports_never_panics(i in 0usize..400, v in any::<u8>(), cut in 0usize..400, thin in any::<bool>()) {
        let mut r = block_report(&SigningKey::from_seed(1, 1), vec![5; 90]);
        if thin {
            r.detach_witness();
        }
        let mut b = r.encode();
        let n = b.len();
        b[i % n] = v;
        b.truncate(n - cut % n);
        let _ = FaultReport::decode(&b);
    }
}
