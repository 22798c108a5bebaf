//! Unit tests of the devnet state rules and of parallel replay (unsigned transactions: replay
//! trusts the parties the pipeline recovered).

use super::*;
use crate::consensus::chain::{ForkSchedule, GenesisAccount};
use crate::crypto::CpuBackend;
use crate::primitives::{Header, KaiaFields, TxBody, TxType};
use alloy_primitives::Bytes;

const BASE_FEE: u64 = 25;

fn addr(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&n.to_be_bytes());
    b[0] = 0xaa;
    Address::from(b)
}

fn spec(accounts: u64, balance: u64) -> ChainSpec {
    ChainSpec {
        name: "state-test".into(),
        chain_id: 7,
        forks: ForkSchedule::all_from_genesis(),
        block_period: 1,
        epoch: 100,
        committee_size: None,
        committee_size_history: Vec::new(),
        committee_size_known_until: None,
        kind: crate::consensus::chain::ChainKind::Devnet,
        derive_sha: crate::trie::DeriveShaImpl::Orig,
        council: Vec::new(),
        base_fee: Some(U256::from(BASE_FEE)),
        accounts: (0..accounts)
            .map(|i| GenesisAccount {
                address: addr(i),
                balance: U256::from(balance),
            })
            .collect(),
        legacy_keys_only: true,
        council_governance: false,
    }
}

fn tx(
    ty: u16,
    from: Address,
    nonce: u64,
    to: Address,
    value: u64,
    fee_payer: Option<Address>,
    ratio: u8,
) -> (Transaction, TxParties) {
    let t = Transaction {
        tx_type: TxType(ty),
        body: TxBody::Kaia(KaiaFields {
            nonce,
            gas_price: U256::from(BASE_FEE),
            to: Some(to),
            value: U256::from(value),
            from,
            fee_ratio: ratio,
            ..Default::default()
        }),
        signatures: Vec::new(),
        fee_payer,
        fee_payer_signatures: Vec::new(),
        raw: Bytes::new(),
    };
    (
        t,
        TxParties {
            sender: from,
            fee_payer,
        },
    )
}

fn run(s: &mut StateReplayer, txs: &[(Transaction, TxParties)]) -> BlockOutcome {
    let (t, p): (Vec<_>, Vec<_>) = txs.iter().cloned().unzip();
    s.execute(&t, &p, addr(999), &CpuBackend)
}

fn balance(s: &StateReplayer, a: Address) -> U256 {
    s.account(&a).unwrap_or_default().balance
}

#[test]
fn plain_transfer_moves_value_and_fee() {
    let mut s =
        StateReplayer::from_genesis(&spec(3, 1_000_000_000)).unwrap_or_else(|e| panic!("{e}"));
    let supply = s.total_supply();
    let out = run(&mut s, &[tx(0x08, addr(0), 0, addr(1), 500, None, 0)]);
    assert!(out.faults.is_empty());
    assert_eq!(out.gas_used, 21_000);
    assert_eq!(
        balance(&s, addr(0)),
        U256::from(1_000_000_000u64 - 500 - 21_000 * BASE_FEE)
    );
    assert_eq!(balance(&s, addr(1)), U256::from(1_000_000_500u64));
    assert_eq!(balance(&s, addr(999)), U256::from(21_000 * BASE_FEE));
    assert_eq!(s.account(&addr(0)).map(|a| a.nonce), Some(1));
    assert_eq!(s.total_supply(), supply);
}

#[test]
fn nonce_gap_and_replay_are_rejected_and_change_nothing() {
    let mut s =
        StateReplayer::from_genesis(&spec(3, 1_000_000_000)).unwrap_or_else(|e| panic!("{e}"));
    let before = s.state_root(&CpuBackend);
    let out = run(&mut s, &[tx(0x08, addr(0), 1, addr(1), 5, None, 0)]);
    assert_eq!(out.faults.len(), 1);
    assert_eq!(out.faults[0].kind, FaultKind::NonceGap);
    assert_eq!(out.faults[0].tx_index, Some(0));
    assert_eq!(out.faults[0].expected.as_deref(), Some("0"));
    assert_eq!(
        out.state_root, before,
        "a rejected transaction changes nothing"
    );
    assert!(out.receipts.is_empty());

    let out = run(
        &mut s,
        &[
            tx(0x08, addr(0), 0, addr(1), 5, None, 0),
            tx(0x08, addr(0), 0, addr(2), 5, None, 0),
        ],
    );
    assert_eq!(out.faults.len(), 1);
    assert_eq!(out.faults[0].kind, FaultKind::NonceReplay);
    assert_eq!(out.faults[0].tx_index, Some(1));
    assert_eq!(out.gas_used, 21_000);
    assert_eq!(balance(&s, addr(2)), U256::from(1_000_000_000u64));
}

#[test]
fn insufficient_balance_for_sender_and_fee_payer() {
    let mut s = StateReplayer::from_genesis(&spec(3, 1_000_000)).unwrap_or_else(|e| panic!("{e}"));
    // 21000 * 25 = 525000 fee; 500000 value: 1025000 > 1000000.
    let out = run(&mut s, &[tx(0x08, addr(0), 0, addr(1), 500_000, None, 0)]);
    assert_eq!(
        out.faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec![FaultKind::InsufficientBalance]
    );
    // Delegated: the fee payer pays 31000 * 25 = 775000; the sender only the value.
    let out = run(
        &mut s,
        &[tx(0x09, addr(0), 0, addr(1), 900_000, Some(addr(2)), 0)],
    );
    assert!(out.faults.is_empty(), "{:?}", out.faults);
    assert_eq!(balance(&s, addr(0)), U256::from(100_000));
    assert_eq!(balance(&s, addr(2)), U256::from(1_000_000 - 775_000));
    // The fee payer now has 225000 and cannot pay another 775000.
    let out = run(
        &mut s,
        &[tx(0x09, addr(1), 0, addr(0), 1, Some(addr(2)), 0)],
    );
    assert_eq!(out.faults.len(), 1);
    assert_eq!(out.faults[0].kind, FaultKind::InsufficientBalance);
    assert!(
        out.faults[0].detail.contains("fee payer"),
        "{}",
        out.faults[0].detail
    );
    assert_eq!(s.account(&addr(1)).map(|a| a.nonce), Some(0));
}

#[test]
fn ratio_splits_the_fee() {
    let mut s = StateReplayer::from_genesis(&spec(3, 10_000_000)).unwrap_or_else(|e| panic!("{e}"));
    let supply = s.total_supply();
    // 0x0a: 36000 gas, fee 900000; the fee payer pays 30% = 270000, the sender 630000.
    let out = run(
        &mut s,
        &[tx(0x0a, addr(0), 0, addr(1), 100, Some(addr(2)), 30)],
    );
    assert!(out.faults.is_empty(), "{:?}", out.faults);
    assert_eq!(out.gas_used, 36_000);
    assert_eq!(
        balance(&s, addr(0)),
        U256::from(10_000_000u64 - 100 - 630_000)
    );
    assert_eq!(balance(&s, addr(2)), U256::from(10_000_000u64 - 270_000));
    assert_eq!(balance(&s, addr(999)), U256::from(900_000));
    assert_eq!(s.total_supply(), supply);
}

#[test]
fn apply_block_checks_the_header() {
    let g = spec(4, 10_000_000);
    let mut producer = StateReplayer::from_genesis(&g).unwrap_or_else(|e| panic!("{e}"));
    let txs = vec![
        tx(0x08, addr(0), 0, addr(1), 7, None, 0),
        tx(0x09, addr(1), 0, addr(2), 9, Some(addr(3)), 0),
    ];
    let (t, p): (Vec<_>, Vec<_>) = txs.into_iter().unzip();
    let out = producer.execute(&t, &p, addr(999), &CpuBackend);
    let header = Header {
        rewardbase: addr(999),
        gas_used: out.gas_used,
        receipts_root: out.receipts_root,
        state_root: out.state_root,
        ..Default::default()
    };
    let block = Block {
        header: header.clone(),
        transactions: t.clone(),
    };
    let mut v = StateReplayer::from_genesis(&g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.apply_block(&block, &p, &CpuBackend), vec![]);

    for (kind, edit) in [
        (
            FaultKind::WrongGasUsed,
            Box::new(|h: &mut Header| h.gas_used += 1) as Box<dyn Fn(&mut Header)>,
        ),
        (
            FaultKind::WrongReceiptsRoot,
            Box::new(|h: &mut Header| h.receipts_root = B256::repeat_byte(1)),
        ),
        (
            FaultKind::WrongStateRoot,
            Box::new(|h: &mut Header| h.state_root = B256::repeat_byte(2)),
        ),
    ] {
        let mut b = block.clone();
        edit(&mut b.header);
        let mut v = StateReplayer::from_genesis(&g).unwrap_or_else(|e| panic!("{e}"));
        let faults = v.apply_block(&b, &p, &CpuBackend);
        assert_eq!(
            faults.iter().map(|f| f.kind).collect::<Vec<_>>(),
            vec![kind]
        );
        assert!(faults[0].expected.is_some() && faults[0].got.is_some());
    }
}

/// A small xorshift so the test does not depend on a generator crate's stream.
struct Xs(u64);
impl Xs {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn parallel_replay_equals_sequential_on_a_skewed_workload() {
    let g = spec(200, 50_000_000);
    let mut seq = StateReplayer::from_genesis(&g).unwrap_or_else(|e| panic!("{e}"));
    seq.set_mode(ReplayMode::Sequential);
    let mut par = StateReplayer::from_genesis(&g).unwrap_or_else(|e| panic!("{e}"));
    par.set_mode(ReplayMode::Parallel);
    let supply = seq.total_supply();
    let mut rng = Xs(0x9e3779b97f4a7c15);
    let mut nonces = vec![0u64; 200];
    let mut waves_seen = 0usize;
    for block in 0..6 {
        let mut txs = Vec::new();
        for _ in 0..400 {
            // Skewed: half the senders come from the 4 hottest accounts.
            let from = if rng.next().is_multiple_of(2) {
                rng.next() % 4
            } else {
                rng.next() % 200
            };
            let to = rng.next() % 200;
            let ty = [0x08u16, 0x09, 0x0a, 0x10, 0x11, 0x12][(rng.next() % 6) as usize];
            let fp = (ty != 0x08 && ty != 0x10).then(|| addr((from + 1 + rng.next() % 199) % 200));
            // Some transactions are invalid: a gap, a replay, or more value than any balance.
            let roll = rng.next() % 50;
            let nonce = match roll {
                0 => nonces[from as usize] + 1,
                1 if nonces[from as usize] > 0 => nonces[from as usize] - 1,
                _ => nonces[from as usize],
            };
            let value = if roll == 2 {
                10_000_000_000
            } else {
                rng.next() % 1_000_000
            };
            if nonce == nonces[from as usize] && roll != 2 {
                nonces[from as usize] += 1;
            }
            txs.push(tx(
                ty,
                addr(from),
                nonce,
                addr(to),
                value,
                fp,
                1 + (rng.next() % 99) as u8,
            ));
        }
        let touches: Vec<schedule::TouchSet> = txs
            .iter()
            .map(|(t, p)| [Some(p.sender), payer_of(t, p), t.to()])
            .collect();
        waves_seen += schedule::conflict_free_waves(&touches).len();
        // Alternate a rewardbase outside and inside the parties.
        let rb = if block % 2 == 0 { addr(999) } else { addr(1) };
        let (t, p): (Vec<_>, Vec<_>) = txs.into_iter().unzip();
        let a = seq.execute(&t, &p, rb, &CpuBackend);
        let b = par.execute(&t, &p, rb, &CpuBackend);
        assert_eq!(a, b, "block {block}");
        assert!(
            !a.faults.is_empty(),
            "the workload includes invalid transactions"
        );
        assert_eq!(seq.total_supply(), supply);
    }
    assert!(waves_seen > 6, "the skew forces several waves per block");
}

#[test]
fn genesis_rejects_duplicates_and_needs_a_base_fee() {
    let mut g = spec(2, 1);
    g.accounts.push(g.accounts[0].clone());
    assert_eq!(
        StateReplayer::from_genesis(&g).err(),
        Some(StateError::DuplicateAccount(addr(0)))
    );
    let mut g = spec(2, 1);
    g.base_fee = None;
    assert_eq!(
        StateReplayer::from_genesis(&g).err(),
        Some(StateError::MissingBaseFee)
    );
}

/// A block with new recipients (new leaves that split others), fee delegation with and without
/// a ratio, a nonce gap and an unpaid fee: the witness of the state before it replays statelessly
/// to the full replay's faults, roots and all, on both the wave and the in-order paths.
#[test]
fn stateless_replay_matches_the_full_replay() {
    for (mode, rewardbase) in [
        (ReplayMode::Parallel, addr(999)),
        (ReplayMode::Sequential, addr(3)),
    ] {
        let spec = spec(40, 1_000_000_000);
        let mut s = StateReplayer::from_genesis(&spec).unwrap_or_else(|e| panic!("{e}"));
        s.set_mode(mode);
        let parent_root = s.state_root(&CpuBackend);
        let block = [
            tx(0x08, addr(0), 0, addr(5000), 500, None, 0),
            tx(0x09, addr(1), 0, addr(5001), 7, Some(addr(2)), 0),
            tx(0x0a, addr(3), 0, addr(4), 9, Some(addr(5)), 30),
            tx(0x08, addr(6), 3, addr(7), 1, None, 0),
            tx(0x08, addr(8), 0, addr(9), 2_000_000_000, None, 0),
            tx(0x08, addr(0), 1, addr(5002), 1, None, 0),
        ];
        let (txs, parties): (Vec<_>, Vec<_>) = block.iter().cloned().unzip();
        let out = s.execute(&txs, &parties, rewardbase, &CpuBackend);
        assert_eq!(out.faults.len(), 2);
        let header = Header {
            rewardbase,
            gas_used: out.gas_used,
            receipts_root: out.receipts_root,
            state_root: out.state_root,
            ..Header::default()
        };
        let touched = touched_accounts(&txs, &parties, rewardbase);
        let (root, w) = s.witness_before_last_root(&touched, &CpuBackend);
        assert_eq!(root, parent_root);
        assert_eq!(s.state_root(&CpuBackend), out.state_root);
        let stateless = |h: &Header| {
            witness::replay_stateless(&spec, root, h, &txs, &parties, &w, &CpuBackend)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(stateless(&header), out.faults);
        let lying = Header {
            state_root: B256::repeat_byte(1),
            gas_used: 1,
            ..header.clone()
        };
        let expected = header_faults(out.clone(), &lying);
        assert_eq!(expected.len(), 4);
        assert_eq!(stateless(&lying), expected);
    }
}
