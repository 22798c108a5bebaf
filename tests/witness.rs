//! State witnesses end to end: the witness the pipeline keeps for a block with state faults,
//! with the block's header and transactions and the parent's state root, replays statelessly to
//! exactly the faults the full replay found; a valid block's witness replays to no fault; a
//! witness missing a node or with an altered one is refused with the precise error; decoding
//! random bytes never panics. Also prints witness sizes (the issue bounds gossip at 64 KiB).

#![allow(clippy::unwrap_used)] // a test fails loudly on any error

use proptest::prelude::*;
use ranger::codec::block::decode_block;
use ranger::consensus::{ChainSpec, FaultKind};
use ranger::crypto::CpuBackend;
use ranger::devnet::{DevnetConfig, FaultAt, Producer};
use ranger::pipeline::{BlockReport, Input, Verdict, Verifier};
use ranger::primitives::{Block, Transaction};
use ranger::state::witness::{Witness, WitnessError, replay_stateless};
use ranger::state::{StateReplayer, TxParties, touched_accounts};
use ranger::trie::PartialError;

const FAULT_AT: u64 = 3;

fn config(txs_per_block: usize, faults: Vec<FaultAt>) -> DevnetConfig {
    DevnetConfig {
        validators: 4,
        accounts: 400,
        blocks: 4,
        txs_per_block,
        seed: 5,
        faults,
        ..DevnetConfig::default()
    }
}

/// A produced chain, its decoded blocks (index = height - 1) and the pipeline's reports.
struct Chain {
    spec: ChainSpec,
    blocks: Vec<Block>,
    reports: Vec<BlockReport>,
}

fn chain(config: DevnetConfig) -> Chain {
    let mut producer = Producer::new(config, &CpuBackend).unwrap();
    let spec = producer.spec().clone();
    let mut verifier = Verifier::builder(&spec).build().unwrap();
    let mut raw = Vec::new();
    while let Some(b) = producer.next_block(&CpuBackend).unwrap() {
        raw.push(b.bytes);
    }
    let blocks = raw.iter().map(|b| decode_block(b).unwrap()).collect();
    let mut reports = Vec::new();
    verifier
        .run(raw.into_iter().map(|b| Ok(Input::Rlp(b))), |r| {
            reports.push(r);
            true
        })
        .unwrap();
    Chain {
        spec,
        blocks,
        reports,
    }
}

/// The transactions the replay applied (those whose signatures and rules held) and their
/// parties, as the pipeline's replay takes them from the report.
fn applied(block: &Block, report: &BlockReport) -> (Vec<Transaction>, Vec<TxParties>) {
    block
        .transactions
        .iter()
        .zip(&report.transactions)
        .filter(|(_, t)| t.ok)
        .map(|(tx, t)| {
            let p = TxParties {
                sender: t.sender.unwrap(),
                fee_payer: t.fee_payer,
            };
            (tx.clone(), p)
        })
        .unzip()
}

fn report_at(c: &Chain, height: u64) -> &BlockReport {
    c.reports.iter().find(|r| r.block == Some(height)).unwrap()
}

fn block_at(c: &Chain, height: u64) -> &Block {
    c.blocks.iter().find(|b| b.header.number == height).unwrap()
}

#[test]
fn the_pipelines_witness_replays_to_the_same_faults() {
    for kind in [
        FaultKind::WrongStateRoot,
        FaultKind::NonceGap,
        FaultKind::NonceReplay,
        FaultKind::InsufficientBalance,
        FaultKind::WrongGasUsed,
        FaultKind::WrongReceiptsRoot,
    ] {
        let c = chain(config(
            24,
            vec![FaultAt {
                kind,
                block: FAULT_AT,
            }],
        ));
        let report = report_at(&c, FAULT_AT);
        assert_eq!(report.verdict, Verdict::Invalid, "{kind}");
        assert_eq!(report.faults[0].kind, kind);
        let witness = report.witness.as_ref().unwrap();
        let root = report.witness_root.unwrap();
        // The state before the block is the parent's, which the (valid) parent header names.
        assert_eq!(root, block_at(&c, FAULT_AT - 1).header.state_root, "{kind}");
        let block = block_at(&c, FAULT_AT);
        let (txs, parties) = applied(block, report);
        let faults = replay_stateless(
            &c.spec,
            root,
            &block.header,
            &txs,
            &parties,
            witness,
            &CpuBackend,
        )
        .unwrap();
        assert_eq!(faults, report.faults, "{kind}");
        // The witness survives its encoding.
        assert_eq!(&Witness::from_rlp(&witness.to_rlp()).unwrap(), &**witness);
        // Only faulty blocks carry one.
        for r in c.reports.iter().filter(|r| r.verdict == Verdict::Valid) {
            assert!(r.witness.is_none() && r.witness_root.is_none());
        }
    }
}

/// The witness of `height` built by a full replay of `c` up to it, with the parent's root.
fn witness_by_full_replay(
    c: &Chain,
    height: u64,
) -> (ChainSpec, Witness, ranger::primitives::Header) {
    let mut state = StateReplayer::from_genesis(&c.spec).unwrap();
    let mut last = None;
    for h in 1..=height {
        let (block, report) = (block_at(c, h), report_at(c, h));
        let (txs, parties) = applied(block, report);
        assert!(
            state
                .apply_txs(&block.header, &txs, &parties, &CpuBackend)
                .is_empty()
        );
        last = Some((txs, parties, block.header.clone()));
    }
    let (txs, parties, header) = last.unwrap();
    let touched = touched_accounts(&txs, &parties, header.rewardbase);
    let (root, w) = state.witness_before_last_root(&touched, &CpuBackend);
    assert_eq!(root, block_at(c, height - 1).header.state_root);
    // Proving put the trie back as the block left it.
    assert_eq!(state.state_root(&CpuBackend), header.state_root);
    (c.spec.clone(), w, header)
}

#[test]
fn a_valid_blocks_witness_replays_without_fault_and_a_broken_one_is_refused() {
    let c = chain(config(24, Vec::new()));
    let height = 3;
    let (spec, w, header) = witness_by_full_replay(&c, height);
    let block = block_at(&c, height);
    let (txs, parties) = applied(block, report_at(&c, height));
    let parent_root = block_at(&c, height - 1).header.state_root;
    let replay =
        |w: &Witness| replay_stateless(&spec, parent_root, &header, &txs, &parties, w, &CpuBackend);
    assert_eq!(replay(&w), Ok(Vec::new()));

    // Without a leaf (an account's own node), the replay cannot read that account.
    let leaf = w
        .nodes
        .iter()
        .position(|n| {
            // A leaf of the state trie: a 2-item list whose path's flag nibble is 2 or 3.
            let mut b = n.as_slice();
            let Ok(mut p) = alloy_rlp::Header::decode_bytes(&mut b, true) else {
                return false;
            };
            let (Ok(path), Ok(_value)) = (
                alloy_rlp::Header::decode_bytes(&mut p, false),
                alloy_rlp::Header::decode_bytes(&mut p, false),
            ) else {
                return false;
            };
            p.is_empty() && path.first().is_some_and(|f| f >> 4 >= 2)
        })
        .unwrap();
    let mut dropped = w.clone();
    dropped.nodes.remove(leaf);
    assert!(
        matches!(replay(&dropped), Err(WitnessError::Incomplete { .. })),
        "{:?}",
        replay(&dropped)
    );

    // An altered byte in any node makes that node hash to what no parent names.
    for i in [0, w.nodes.len() / 2, w.nodes.len() - 1] {
        let mut flipped = w.clone();
        let last = flipped.nodes[i].len() - 1;
        flipped.nodes[i][last] ^= 0x01;
        assert!(
            matches!(
                replay(&flipped),
                Err(WitnessError::Trie(PartialError::Stray { .. }))
            ),
            "node {i}: {:?}",
            replay(&flipped)
        );
    }

    // Against another root, the witness's nodes all hang from nothing.
    let other = block_at(&c, height).header.state_root;
    assert!(matches!(
        replay_stateless(&spec, other, &header, &txs, &parties, &w, &CpuBackend),
        Err(WitnessError::Trie(PartialError::Stray { .. }))
    ));
}

/// The witness size of one devnet block of `txs` transactions over 100,000 accounts (the
/// devnet's default population): the figure the fault-report evidence budget (64 KiB) is set
/// against.
#[test]
fn witness_sizes() {
    for txs in [100, 1000] {
        let c = chain(DevnetConfig {
            accounts: 100_000,
            blocks: 2,
            ..config(txs, Vec::new())
        });
        let (_, w, _) = witness_by_full_replay(&c, 2);
        println!(
            "witness of a {txs}-transaction block over 100000 accounts: {} nodes, {} bytes",
            w.nodes.len(),
            w.size()
        );
        assert_eq!(w.size(), w.to_rlp().len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Hostile bytes: decoding returns a witness or an error, never panics; what decodes
    /// re-encodes to the same bytes (the encoding is canonical).
    #[test]
    fn decoding_random_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(w) = Witness::from_rlp(&bytes) {
            prop_assert_eq!(w.to_rlp(), bytes);
        }
    }

    /// Random lists of byte strings, framed as a witness: same rule, and a stateless replay of
    /// them against any root errs or answers without panicking.
    #[test]
    fn random_nodes_never_panic(nodes in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..8)) {
        let mut w = Witness { nodes };
        w.nodes.sort();
        w.nodes.dedup();
        let enc = w.to_rlp();
        prop_assert_eq!(Witness::from_rlp(&enc).unwrap(), w.clone());
        let _ = ranger::trie::PartialTrie::from_nodes(ranger::crypto::keccak256(&enc), &w.nodes, &CpuBackend);
    }
}
