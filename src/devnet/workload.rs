//! The devnet's transaction workload: a seeded mix of value transfers of the eight devnet types,
//! senders drawn Zipf-like (a few hot accounts, a long cold tail), every transaction valid under
//! the devnet rules (next nonce, payers that can pay), signed in parallel.
//!
//! Invariant: choosing is sequential and seeded, signing is deterministic (RFC 6979), so a seed
//! gives the same transactions whatever the thread count.

use super::fastsign::{SignJob, sign_batch};
use super::rng::{DevRng, Zipf};
use crate::codec::tx::{fee_payer_sig_preimage, seal_raw, sig_preimage};
use crate::crypto::keccak256;
use crate::crypto::secp::{Signature65, SigningKey};
use crate::primitives::{EthFields, KaiaFields, LegacyFields, Transaction, TxBody, TxSig, TxType};
use crate::state::{Account, StateReplayer, TxParties, rules};
use alloy_primitives::{Address, Bytes, U256};
use rayon::prelude::*;
use std::collections::HashMap;

/// The type mix, in percent: every devnet type, the Kaia-native ones most.
const TYPE_MIX: &[(TxType, u64)] = &[
    (TxType::LEGACY, 15),
    (TxType::VALUE_TRANSFER, 20),
    (TxType::FD_VALUE_TRANSFER, 12),
    (TxType::FD_VALUE_TRANSFER_RATIO, 10),
    (TxType::VALUE_TRANSFER_MEMO, 9),
    (TxType::FD_VALUE_TRANSFER_MEMO, 8),
    (TxType::FD_VALUE_TRANSFER_MEMO_RATIO, 8),
    (TxType::ETH_DYNAMIC_FEE, 18),
];

/// Largest value of one transfer, in kei (0.001 KAIA): small next to every funded balance.
const MAX_VALUE: u64 = 1_000_000_000_000_000;
/// Longest memo, in bytes.
const MAX_MEMO: u64 = 48;

/// A transaction chosen but not yet signed.
#[derive(Debug, Clone)]
pub struct Unsigned {
    pub tx: Transaction,
    pub sender: usize,
    pub fee_payer: Option<usize>,
}

/// Everything needed to describe a transaction before signing.
#[derive(Debug, Clone)]
pub struct TxShape {
    pub ty: TxType,
    pub from: Address,
    pub nonce: u64,
    pub to: Address,
    pub value: U256,
    pub fee_payer: Option<Address>,
    pub ratio: u8,
    pub memo: Vec<u8>,
}

/// Builds the unsigned transaction of a shape: gas is exactly the devnet's intrinsic gas, the
/// price the base fee.
pub fn build_unsigned(s: &TxShape, chain_id: u64, base_fee: U256) -> Transaction {
    let body = if s.ty == TxType::LEGACY {
        TxBody::Legacy(LegacyFields {
            nonce: s.nonce,
            gas_price: base_fee,
            gas: 0,
            to: Some(s.to),
            value: s.value,
            input: Bytes::from(s.memo.clone()),
        })
    } else if s.ty.is_eth() {
        TxBody::Eth(Box::new(EthFields {
            chain_id: U256::from(chain_id),
            nonce: s.nonce,
            gas_tip_cap: U256::ZERO,
            gas_fee_cap: base_fee,
            to: Some(s.to),
            value: s.value,
            data: Bytes::from(s.memo.clone()),
            ..Default::default()
        }))
    } else {
        TxBody::Kaia(KaiaFields {
            nonce: s.nonce,
            gas_price: base_fee,
            to: Some(s.to),
            value: s.value,
            from: s.from,
            input: Bytes::from(s.memo.clone()),
            fee_ratio: if s.ty.has_fee_ratio() { s.ratio } else { 0 },
            ..Default::default()
        })
    };
    let mut tx = Transaction {
        tx_type: s.ty,
        body,
        signatures: Vec::new(),
        fee_payer: if s.ty.is_fee_delegated() {
            s.fee_payer
        } else {
            None
        },
        fee_payer_signatures: Vec::new(),
        raw: Bytes::new(),
    };
    let gas = rules::intrinsic_gas(&tx);
    match &mut tx.body {
        TxBody::Legacy(l) => l.gas = gas,
        TxBody::Kaia(k) => k.gas = gas,
        TxBody::Eth(e) => e.gas = gas,
    }
    tx
}

/// The `[v, r, s]` of a signature under `chain_id`: Ethereum-typed carry the bare recovery id,
/// the others `recid + 35 + 2 * chainId`.
pub fn tx_sig(tx: &Transaction, sig: &Signature65, chain_id: u64) -> TxSig {
    let recid = U256::from(sig.recid());
    let v = if tx.tx_type.is_eth() {
        recid
    } else {
        recid + U256::from(35) + U256::from(2 * chain_id)
    };
    TxSig {
        v,
        r: sig.r(),
        s: sig.s(),
    }
}

/// Signs as the sender under `chain_id` (sets the single sender signature).
pub fn sign_sender(tx: &mut Transaction, key: &SigningKey, chain_id: u64) {
    let sig = key.sign(&keccak256(&sig_preimage(tx, chain_id)));
    tx.signatures = vec![tx_sig(tx, &sig, chain_id)];
}

/// Signs as the fee payer under `chain_id` (a no-op for types that are not fee-delegated).
pub fn sign_fee_payer(tx: &mut Transaction, key: &SigningKey, chain_id: u64) {
    if let Some(pre) = fee_payer_sig_preimage(tx, chain_id) {
        let sig = key.sign(&keccak256(&pre));
        tx.fee_payer_signatures = vec![tx_sig(tx, &sig, chain_id)];
    }
}

/// Signs a chosen transaction with the keys of its sender and fee payer, and seals its raw bytes.
pub fn sign(u: &Unsigned, keys: &[SigningKey], chain_id: u64) -> Transaction {
    let mut tx = u.tx.clone();
    sign_sender(&mut tx, &keys[u.sender], chain_id);
    if let Some(fp) = u.fee_payer {
        sign_fee_payer(&mut tx, &keys[fp], chain_id);
    }
    seal_raw(tx)
}

/// Signatures per fast-signing batch: one fixed-base multiplication and two inversions per
/// batch are amortised over this many items, and 2,000 transactions still split across cores.
const SIGN_CHUNK: usize = 128;

/// Signs a batch in parallel, in order, with the devnet's fast signer (`fastsign`): nonces are
/// derived from `nonce_seed` and the chunk index, so the result does not depend on threads.
pub fn sign_all(
    batch: &[Unsigned],
    keys: &[SigningKey],
    chain_id: u64,
    nonce_seed: &[u8],
) -> Vec<Transaction> {
    // Every signature of the batch: the sender's, then the fee payer's where there is one.
    let hashes: Vec<(SignJob<'_>, Option<SignJob<'_>>)> = batch
        .par_iter()
        .map(|u| {
            let sender = SignJob {
                hash: keccak256(&sig_preimage(&u.tx, chain_id)),
                key: &keys[u.sender],
            };
            let payer = u
                .fee_payer
                .zip(fee_payer_sig_preimage(&u.tx, chain_id))
                .map(|(fp, pre)| SignJob {
                    hash: keccak256(&pre),
                    key: &keys[fp],
                });
            (sender, payer)
        })
        .collect();
    let mut jobs: Vec<SignJob<'_>> = Vec::with_capacity(batch.len() * 2);
    // Where each transaction's signatures start in `jobs`.
    let mut first = Vec::with_capacity(batch.len());
    for (sender, payer) in &hashes {
        first.push(jobs.len());
        jobs.push(*sender);
        jobs.extend(payer.iter().copied());
    }
    let sigs: Vec<Signature65> = jobs
        .par_chunks(SIGN_CHUNK)
        .enumerate()
        .flat_map_iter(|(c, chunk)| {
            let seed = [nonce_seed, &(c as u64).to_be_bytes()].concat();
            sign_batch(chunk, &seed)
        })
        .collect();
    batch
        .par_iter()
        .zip(&hashes)
        .zip(&first)
        .map(|((u, (_, payer)), &at)| {
            let mut tx = u.tx.clone();
            tx.signatures = vec![tx_sig(&tx, &sigs[at], chain_id)];
            if payer.is_some() {
                tx.fee_payer_signatures = vec![tx_sig(&tx, &sigs[at + 1], chain_id)];
            }
            seal_raw(tx)
        })
        .collect()
}

/// The parties of a chosen transaction.
pub fn parties(u: &Unsigned, addresses: &[Address]) -> TxParties {
    TxParties {
        sender: addresses[u.sender],
        fee_payer: u.fee_payer.map(|i| addresses[i]),
    }
}

/// Accounts as they will be once the transactions chosen so far in a block have run.
#[derive(Debug, Default)]
pub struct Pending {
    accounts: HashMap<usize, Account>,
}

impl Pending {
    /// The pending account `i`.
    pub fn get(&mut self, i: usize, addresses: &[Address], state: &StateReplayer) -> Account {
        *self
            .accounts
            .entry(i)
            .or_insert_with(|| state.account(&addresses[i]).unwrap_or_default())
    }
    /// True when account `i` takes part in a transaction chosen so far.
    pub fn touched(&self, i: usize) -> bool {
        self.accounts.contains_key(&i)
    }
    fn set(&mut self, i: usize, a: Account) {
        self.accounts.insert(i, a);
    }
}

/// The seeded chooser of transactions.
#[derive(Debug)]
pub struct Workload {
    rng: DevRng,
    zipf: Zipf,
    chain_id: u64,
    base_fee: U256,
}

impl Workload {
    /// A workload over `accounts` accounts.
    pub fn new(seed: u64, accounts: usize, chain_id: u64, base_fee: U256) -> Self {
        Self {
            rng: DevRng::new(seed, 0x7778),
            zipf: Zipf::new(accounts),
            chain_id,
            base_fee,
        }
    }

    /// The random source (fault injection draws from it too, after the block's choices).
    pub fn rng(&mut self) -> &mut DevRng {
        &mut self.rng
    }

    /// A uniform account other than `not`.
    pub fn other_account(&mut self, n: usize, not: usize) -> usize {
        if n < 2 {
            return not;
        }
        let j = self.rng.below(n as u64 - 1) as usize;
        if j >= not { j + 1 } else { j }
    }

    fn pick_type(&mut self) -> TxType {
        let total: u64 = TYPE_MIX.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.below(total);
        for (ty, w) in TYPE_MIX {
            if x < *w {
                return *ty;
            }
            x -= w;
        }
        TxType::VALUE_TRANSFER
    }

    /// Chooses up to `count` valid transactions for the next block against `state`, recording
    /// their effects in `pending`.
    pub fn choose(
        &mut self,
        count: usize,
        state: &StateReplayer,
        addresses: &[Address],
        pending: &mut Pending,
    ) -> Vec<Unsigned> {
        let n = addresses.len();
        let mut out = Vec::with_capacity(count);
        // A draw whose payer cannot pay is dropped and drawn again, a bounded number of times.
        let mut attempts = count.saturating_mul(4);
        while out.len() < count && attempts > 0 && n >= 2 {
            attempts -= 1;
            let ty = self.pick_type();
            let sender = self.zipf.sample(&mut self.rng);
            let recipient = self.other_account(n, sender);
            let fee_payer = ty.is_fee_delegated().then(|| self.other_account(n, sender));
            let memo_len = if ty.0 >= 0x10 && ty.0 <= 0x12 {
                self.rng.range(1, MAX_MEMO)
            } else {
                0
            };
            let mut memo = vec![0u8; memo_len as usize];
            self.rng.fill(&mut memo);
            let value = U256::from(self.rng.range(1, MAX_VALUE));
            let ratio = self.rng.range(1, 99) as u8;
            let s = pending.get(sender, addresses, state);
            let shape = TxShape {
                ty,
                from: addresses[sender],
                nonce: s.nonce,
                to: addresses[recipient],
                value,
                fee_payer: fee_payer.map(|i| addresses[i]),
                ratio,
                memo,
            };
            let tx = build_unsigned(&shape, self.chain_id, self.base_fee);
            if !self.record(&tx, sender, recipient, fee_payer, addresses, state, pending) {
                continue;
            }
            out.push(Unsigned {
                tx,
                sender,
                fee_payer,
            });
        }
        out
    }

    /// Applies a chosen transaction to `pending` if its payers can pay; false (and nothing
    /// changed) otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        tx: &Transaction,
        sender: usize,
        recipient: usize,
        fee_payer: Option<usize>,
        addresses: &[Address],
        state: &StateReplayer,
        pending: &mut Pending,
    ) -> bool {
        let split = rules::fee_split(tx, rules::fee(rules::intrinsic_gas(tx), self.base_fee));
        let mut s = pending.get(sender, addresses, state);
        let owes = tx.value().saturating_add(split.sender);
        if s.balance < owes {
            return false;
        }
        if let Some(fp) = fee_payer {
            let p = pending.get(fp, addresses, state);
            if p.balance < split.fee_payer {
                return false;
            }
            pending.set(
                fp,
                Account {
                    balance: p.balance - split.fee_payer,
                    ..p
                },
            );
            s = pending.get(sender, addresses, state);
        }
        s.balance -= owes;
        s.nonce += 1;
        pending.set(sender, s);
        let r = pending.get(recipient, addresses, state);
        pending.set(
            recipient,
            Account {
                balance: r.balance.saturating_add(tx.value()),
                ..r
            },
        );
        true
    }
}
