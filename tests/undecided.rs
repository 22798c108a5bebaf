//! "Undecided" is the node admitting it could not tell; it is never turned into a fault. A
//! backend that returns fewer (or more) answers than it was asked for makes the blocks of that
//! window undecided — never `bad-tx-signature` or any other fault — and the blocks before and
//! after it are judged as usual.

use alloy_primitives::{Address, B256};
use ranger::crypto::secp::{RecoverError, RecoverItem};
use ranger::crypto::{Backend, CpuBackend, MessageBatch};
use ranger::devnet::{DevnetConfig, generate_in_memory};
use ranger::pipeline::{BlockReport, Input, Verdict, Verifier};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How a broken backend breaks its answers.
#[derive(Debug, Clone, Copy)]
enum Breakage {
    /// Drops the last answer of the n-th recovery batch.
    ShortRecover(usize),
    /// Adds an answer to the n-th recovery batch.
    LongRecover(usize),
    /// Drops the last answer of the n-th keccak batch.
    ShortKeccak(usize),
}

#[derive(Debug)]
struct BrokenBackend {
    breakage: Breakage,
    /// Breaks nothing until armed (after the verifier is built).
    armed: AtomicBool,
    recover_calls: AtomicUsize,
    keccak_calls: AtomicUsize,
}

impl BrokenBackend {
    fn new(breakage: Breakage) -> Self {
        Self {
            breakage,
            armed: AtomicBool::new(false),
            recover_calls: AtomicUsize::new(0),
            keccak_calls: AtomicUsize::new(0),
        }
    }
}

impl Backend for BrokenBackend {
    fn name(&self) -> &str {
        "broken"
    }
    fn keccak_batch(&self, batch: &MessageBatch) -> Vec<B256> {
        let mut out = CpuBackend.keccak_batch(batch);
        if !self.armed.load(Ordering::SeqCst) {
            return out;
        }
        let call = self.keccak_calls.fetch_add(1, Ordering::SeqCst);
        if let Breakage::ShortKeccak(n) = self.breakage
            && n == call
        {
            out.pop();
        }
        out
    }
    fn recover_batch(&self, items: &[RecoverItem]) -> Vec<Result<Address, RecoverError>> {
        let mut out = CpuBackend.recover_batch(items);
        if !self.armed.load(Ordering::SeqCst) {
            return out;
        }
        let call = self.recover_calls.fetch_add(1, Ordering::SeqCst);
        match self.breakage {
            Breakage::ShortRecover(n) if n == call => {
                out.pop();
            }
            Breakage::LongRecover(n) if n == call => out.push(Ok(Address::ZERO)),
            _ => {}
        }
        out
    }
}

fn verify_on(breakage: Option<Breakage>) -> Vec<BlockReport> {
    let config = DevnetConfig {
        validators: 4,
        accounts: 200,
        blocks: 6,
        txs_per_block: 12,
        seed: 21,
        ..DevnetConfig::default()
    };
    let (spec, blocks) = generate_in_memory(&config, &CpuBackend).unwrap_or_else(|e| panic!("{e}"));
    let broken = breakage.map(|b| Arc::new(BrokenBackend::new(b)));
    let backend: Arc<dyn Backend> = match &broken {
        Some(b) => b.clone(),
        None => Arc::new(CpuBackend),
    };
    let mut v = Verifier::builder(&spec)
        .backend(backend)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(b) = &broken {
        b.armed.store(true, Ordering::SeqCst);
    }
    let mut out = Vec::new();
    // One block per window, so a broken batch hits exactly one block.
    for b in blocks {
        v.run(std::iter::once(Ok(Input::Rlp(b))), |r| {
            out.push(r);
            true
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }
    out
}

#[test]
fn a_correct_backend_gives_valid_blocks() {
    let reports = verify_on(None);
    assert!(
        reports.iter().all(|r| r.verdict == Verdict::Valid),
        "{reports:#?}"
    );
}

#[test]
fn short_or_long_answers_make_blocks_undecided_never_invalid() {
    for breakage in [
        Breakage::ShortRecover(2),
        Breakage::LongRecover(2),
        Breakage::ShortKeccak(0),
        Breakage::ShortKeccak(5),
    ] {
        let reports = verify_on(Some(breakage));
        assert_eq!(reports.len(), 6, "{breakage:?}");
        let undecided: Vec<_> = reports
            .iter()
            .filter(|r| r.verdict == Verdict::Undecided)
            .collect();
        assert!(!undecided.is_empty(), "{breakage:?}: no block undecided");
        for r in &reports {
            assert_ne!(
                r.verdict,
                Verdict::Invalid,
                "{breakage:?}: block {:?} blamed on the council: {:?}",
                r.block,
                r.faults
            );
            assert!(r.faults.is_empty(), "{breakage:?}: {:?}", r.faults);
        }
        let why = undecided[0].undecided.as_deref().unwrap_or_default();
        assert!(
            why.contains("answers for") && why.contains("broken"),
            "{breakage:?}: the reason names the backend and the counts: {why}"
        );
    }
}
