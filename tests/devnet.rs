//! The devnet end to end, checked with the library's own codec, consensus and state functions:
//! same seed → same bytes; generated chains decode, link, carry a quorum of council seals, valid
//! randao reveals and mix hashes, valid transaction signatures, and replay to their headers'
//! roots; each injected fault breaks exactly the check it names; parallel replay equals
//! sequential replay on the skewed workload; the committed small devnet is what `generate` makes.

use alloy_primitives::{Address, B256};
use ranger::codec::block::decode_block;
use ranger::codec::chainfile::ChainReader;
use ranger::codec::header::decode_extra;
use ranger::codec::tx::{fee_payer_sig_preimage, sig_preimage};
use ranger::consensus::FaultKind;
use ranger::consensus::chain::ChainSpec;
use ranger::consensus::council::Council;
use ranger::consensus::istanbul::{
    block_hash, committed_seal_message, proposer_seal_message, sig_hash,
};
use ranger::consensus::randao::next_mix_hash;
use ranger::consensus::txsig::{SigRole, check_tx_sig};
use ranger::crypto::bls::{BlsPublicKey, randao_msg, verify};
use ranger::crypto::secp::{Signature65, recover_address};
use ranger::crypto::{CpuBackend, keccak256};
use ranger::devnet::{DevnetConfig, FaultAt, INJECTABLE, generate_in_memory, genesis_header};
use ranger::primitives::{Block, Header, TxBody};
use ranger::state::{ReplayMode, StateReplayer, TxParties};
use ranger::trie::derive_sha;
use std::collections::HashSet;

fn small(seed: u64) -> DevnetConfig {
    DevnetConfig {
        validators: 4,
        accounts: 40,
        blocks: 3,
        txs_per_block: 8,
        seed,
        ..Default::default()
    }
}

fn generate(c: &DevnetConfig) -> (ChainSpec, Vec<Vec<u8>>) {
    generate_in_memory(c, &CpuBackend).unwrap_or_else(|e| panic!("generate: {e}"))
}

/// A reference verifier for the tests: every check of the pipeline's order (decode → header
/// linkage and fields → seals and quorum → randao → transaction signatures → tx root → replay),
/// built only from library functions, collecting every fault kind of a block rather than the
/// first.
struct Checker {
    spec: ChainSpec,
    council: Council,
    state: StateReplayer,
    parent: Header,
    parent_mix: B256,
}

impl Checker {
    fn new(spec: &ChainSpec, mode: ReplayMode) -> Self {
        let mut state = StateReplayer::from_genesis(spec).unwrap_or_else(|e| panic!("{e}"));
        state.set_mode(mode);
        Self {
            council: Council::new(
                spec.council.iter().map(|m| m.address).collect(),
                spec.committee_size,
                spec.epoch,
            ),
            parent: genesis_header(spec, &CpuBackend).unwrap_or_else(|e| panic!("{e}")),
            parent_mix: B256::ZERO,
            state,
            spec: spec.clone(),
        }
    }

    /// The fault kinds of one block (empty = valid); state moves on only for a valid block.
    fn check(&mut self, bytes: &[u8]) -> Vec<FaultKind> {
        let Ok(block) = decode_block(bytes) else {
            return vec![FaultKind::MalformedRlp];
        };
        let h = &block.header;
        let mut faults = Vec::new();
        if h.parent_hash != block_hash(&self.parent) {
            faults.push(FaultKind::BrokenParentHash);
        }
        if h.number != self.parent.number + 1 {
            faults.push(FaultKind::WrongNumber);
        }
        if h.time < self.parent.time + self.spec.block_period {
            faults.push(FaultKind::EarlyTimestamp);
        }
        let present = h.field_count();
        let wanted = self.spec.forks.header_fields(h.number);
        if present > wanted {
            faults.push(FaultKind::TailFieldBeforeFork);
        } else if present < wanted {
            faults.push(FaultKind::MissingTailField);
        }

        // Seals.
        let extra = decode_extra(&h.extra).unwrap_or_else(|e| panic!("extra: {e}"));
        let sh = sig_hash(h).unwrap_or_else(|| panic!("sigHash"));
        let proposer = seal_signer(&proposer_seal_message(&sh), &extra.seal);
        match proposer {
            None => faults.push(FaultKind::BadProposerSeal),
            Some(p) if !self.council.contains(&p) => faults.push(FaultKind::ProposerNotInCouncil),
            Some(_) => {}
        }
        let commit = committed_seal_message(&block_hash(h));
        let mut signers = HashSet::new();
        if extra.committed_seals.len() > self.council.members().len() {
            faults.push(FaultKind::TooManySeals);
        }
        for s in &extra.committed_seals {
            match seal_signer(&commit, s) {
                None => faults.push(FaultKind::BadCommittedSeal),
                Some(a) if !self.council.contains(&a) => faults.push(FaultKind::NonCouncilSeal),
                Some(a) => {
                    if !signers.insert(a) {
                        faults.push(FaultKind::DuplicateSeal);
                    }
                }
            }
        }
        if signers.len() < self.council.required_seals() {
            faults.push(FaultKind::BelowQuorum);
        }

        // Randao.
        let mut mix = self.parent_mix;
        if self.spec.forks.is_randao(h.number)
            && let (Some(reveal), Some(m), Some(p)) = (&h.random_reveal, &h.mix_hash, proposer)
        {
            let member = self.spec.council.iter().find(|c| c.address == p);
            if let Some(pk) = member.and_then(|c| c.bls_public_key.as_ref()) {
                let pk = BlsPublicKey::from_bytes(pk).unwrap_or_else(|e| panic!("{e:?}"));
                if verify(&pk, &randao_msg(h.number), reveal).is_err() {
                    faults.push(FaultKind::BadRandomReveal);
                }
            }
            let parent_mix = if self.spec.forks.is_randao_fork_block(h.number) {
                B256::ZERO
            } else {
                self.parent_mix
            };
            mix = next_mix_hash(&parent_mix, reveal);
            if m.as_ref() != mix.as_slice() {
                faults.push(FaultKind::WrongMixHash);
            }
        }

        // Transaction signatures.
        let mut parties = Vec::new();
        let mut sigs_ok = true;
        for tx in &block.transactions {
            match tx_parties(&self.spec, tx) {
                Ok(p) => parties.push(p),
                Err(k) => {
                    faults.push(k);
                    sigs_ok = false;
                }
            }
        }
        let raws: Vec<&[u8]> = block.transactions.iter().map(|t| t.raw.as_ref()).collect();
        let imp = self.spec.derive_sha;
        if derive_sha(imp, &raws, &CpuBackend) != h.tx_root {
            faults.push(FaultKind::WrongTxRoot);
        }
        if faults.is_empty() && sigs_ok {
            let before = self.state.total_supply();
            faults.extend(
                self.state
                    .apply_block(&block, &parties, &CpuBackend)
                    .iter()
                    .map(|f| f.kind),
            );
            assert_eq!(
                self.state.total_supply(),
                before,
                "total supply changed at block {}",
                h.number
            );
        }
        if faults.is_empty() {
            self.accept(&block, proposer.unwrap_or_default(), mix);
        }
        faults
    }

    fn accept(&mut self, block: &Block, proposer: Address, mix: B256) {
        let h = &block.header;
        self.council
            .apply_block(h.number, proposer, &h.vote, &h.governance);
        self.parent_mix = mix;
        self.parent = h.clone();
    }
}

fn seal_signer(msg: &B256, seal: &[u8]) -> Option<Address> {
    let bytes: [u8; 65] = seal.try_into().ok()?;
    recover_address(msg, &Signature65(bytes)).ok()
}

fn tx_parties(
    spec: &ChainSpec,
    tx: &ranger::primitives::Transaction,
) -> Result<TxParties, FaultKind> {
    let sig = tx.signatures.first().ok_or(FaultKind::BadTxSignature)?;
    let s65 = check_tx_sig(tx, sig, spec.chain_id, SigRole::Sender).map_err(|f| f.kind)?;
    let sender = recover_address(&keccak256(&sig_preimage(tx, spec.chain_id)), &s65)
        .map_err(|_| FaultKind::BadTxSignature)?;
    if let TxBody::Kaia(k) = &tx.body
        && k.from != sender
    {
        return Err(FaultKind::FromMismatch);
    }
    let mut fee_payer = None;
    if let Some(pre) = fee_payer_sig_preimage(tx, spec.chain_id) {
        let fs = tx
            .fee_payer_signatures
            .first()
            .ok_or(FaultKind::BadFeePayerSignature)?;
        let f65 = check_tx_sig(tx, fs, spec.chain_id, SigRole::FeePayer).map_err(|f| f.kind)?;
        let fp =
            recover_address(&keccak256(&pre), &f65).map_err(|_| FaultKind::BadFeePayerSignature)?;
        if Some(fp) != tx.fee_payer {
            return Err(FaultKind::BadFeePayerSignature);
        }
        fee_payer = Some(fp);
    }
    Ok(TxParties { sender, fee_payer })
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (spec_a, a) = generate(&small(11));
    let (spec_b, b) = generate(&small(11));
    assert_eq!(spec_a, spec_b);
    assert_eq!(a, b);
    let (_, c) = generate(&small(12));
    assert_ne!(a, c);
}

#[test]
fn bytes_do_not_depend_on_the_thread_count() {
    // Enough signatures for several signing chunks and key chunks.
    let config = DevnetConfig {
        accounts: 5000,
        blocks: 2,
        txs_per_block: 300,
        ..small(13)
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .install(|| generate(&config));
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .install(|| generate(&config));
    assert_eq!(one, three);
}

#[test]
fn generated_chain_verifies_block_by_block() {
    let config = DevnetConfig {
        validators: 7,
        blocks: 5,
        txs_per_block: 30,
        committee_size: Some(4),
        ..small(3)
    };
    let (spec, blocks) = generate(&config);
    let mut checker = Checker::new(&spec, ReplayMode::Auto);
    let mut types = HashSet::new();
    let mut seal_counts = HashSet::new();
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(checker.check(b), vec![], "block {}", i + 1);
        let block = decode_block(b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(block.header.number, i as u64 + 1);
        assert!(!block.transactions.is_empty());
        types.extend(block.transactions.iter().map(|t| t.tx_type));
        seal_counts.insert(
            decode_extra(&block.header.extra)
                .map(|e| e.committed_seals.len())
                .unwrap_or(0),
        );
    }
    assert!(types.len() >= 6, "a mix of types: {types:?}");
    // Committee of 4 out of 7: F = 1, so 3 or 4 seals, never more than the committee.
    assert!(
        seal_counts.iter().all(|&n| (3..=4).contains(&n)),
        "2F+1 = 3 up to the committee of 4: {seal_counts:?}"
    );
}

#[test]
fn every_fault_kind_breaks_exactly_its_check() {
    for &kind in INJECTABLE {
        let config = DevnetConfig {
            faults: vec![FaultAt { kind, block: 2 }],
            ..small(5)
        };
        let (spec, blocks) = generate(&config);
        let mut checker = Checker::new(&spec, ReplayMode::Auto);
        assert_eq!(
            checker.check(&blocks[0]),
            vec![],
            "{kind}: block 1 is valid"
        );
        assert_eq!(
            checker.check(&blocks[1]),
            vec![kind],
            "{kind}: block 2 breaks only its check"
        );
    }
}

#[test]
fn votes_change_the_council_and_the_chain_still_verifies() {
    let config = DevnetConfig {
        blocks: 75,
        txs_per_block: 2,
        votes: true,
        validators: 6,
        ..small(8)
    };
    let (spec, blocks) = generate(&config);
    let mut checker = Checker::new(&spec, ReplayMode::Auto);
    let mut sizes = HashSet::new();
    let mut governance_blocks = 0;
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(checker.check(b), vec![], "block {}", i + 1);
        sizes.insert(checker.council.members().len());
        let block = decode_block(b).unwrap_or_else(|e| panic!("{e}"));
        if block.header.governance.len() > 1 {
            governance_blocks += 1;
        }
    }
    assert!(sizes.len() > 1, "votes changed the council size: {sizes:?}");
    assert_eq!(
        governance_blocks, 2,
        "epochs 30 and 60 carry governance data"
    );
}

#[test]
fn parallel_replay_equals_sequential_on_the_devnet_workload() {
    // 30 accounts and 400 transactions per block: hot senders repeat many times per block.
    let config = DevnetConfig {
        accounts: 30,
        blocks: 3,
        txs_per_block: 400,
        ..small(21)
    };
    let (spec, blocks) = generate(&config);
    let mut seq = Checker::new(&spec, ReplayMode::Sequential);
    let mut par = Checker::new(&spec, ReplayMode::Parallel);
    for b in &blocks {
        assert_eq!(seq.check(b), vec![]);
        assert_eq!(par.check(b), vec![]);
        assert_eq!(
            seq.state.state_root(&CpuBackend),
            par.state.state_root(&CpuBackend)
        );
    }
}

#[test]
fn committed_small_devnet_is_what_generate_makes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/devnet");
    let spec = ChainSpec::from_file(&dir.join("genesis.json")).unwrap_or_else(|e| panic!("{e}"));
    let file = std::fs::read(dir.join("chain")).unwrap_or_else(|e| panic!("{e}"));
    let frames: Vec<Vec<u8>> = ChainReader::new(&file[..])
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|f| f.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    // The parameters datasets/README.md documents.
    let config = DevnetConfig {
        validators: 4,
        accounts: 32,
        blocks: 4,
        txs_per_block: 10,
        seed: 1,
        ..Default::default()
    };
    let (want_spec, want) = generate(&config);
    assert_eq!(spec, want_spec);
    assert_eq!(frames, want);
    let mut checker = Checker::new(&spec, ReplayMode::Auto);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(checker.check(f), vec![], "block {}", i + 1);
    }
}
