//! Devnet state and its replay: accounts (nonce, balance), the state transition of a block under
//! the devnet rules of DESIGN.md (`rules`), and the account trie whose root is the header's
//! stateRoot.
//!
//! Invariants:
//! - The state after `apply_block` / `execute` is the state the block's *valid* transactions
//!   produce, in block order; a rejected transaction changes nothing (no nonce, no fee).
//! - Parallel replay (conflict-free waves, `schedule`) gives bit-for-bit the result of sequential
//!   replay: the same faults, receipts, gas and root.
//! - The trie is updated only for accounts changed since the last root, and hashed in batches
//!   through the `Backend`.
//! - The transaction rules live in `run_txs` alone: the full replay (`execute`) and the stateless
//!   one from a witness (`witness::replay_stateless`) differ only in the trie they write to.

pub mod rules;
pub mod schedule;
pub mod witness;

use crate::consensus::{ChainSpec, Fault, FaultKind};
use crate::crypto::{Backend, MessageBatch};
use crate::primitives::{Block, Header, Receipt, Transaction};
use crate::trie::{DeriveShaImpl, MerklePatriciaTrie, derive_sha};
use alloy_primitives::{Address, B256, U256};
use rayon::prelude::*;
use std::collections::HashMap;

/// Blocks with fewer transactions than this replay sequentially in `ReplayMode::Auto`: below it,
/// scheduling and rayon's fork-join (a few µs) cost more than the ~1 µs per transaction they save.
const PARALLEL_MIN_TXS: usize = 256;

/// Waves smaller than this run on the calling thread: a transition costs well under a
/// microsecond, so a fork-join (a few µs) pays off only for a wide wave. Skewed workloads make many
/// narrow waves (a hot sender's transactions each start a new one).
const WAVE_PARALLEL_MIN: usize = 64;

/// Parties of one transaction, as recovered and checked by the pipeline (signatures already
/// valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxParties {
    pub sender: Address,
    pub fee_payer: Option<Address>,
}

/// One account of the devnet state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    pub nonce: u64,
    pub balance: U256,
}

/// Why a state could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error(
        "the chain spec has no base_fee: devnet state replay needs the fixed base fee of its genesis"
    )]
    MissingBaseFee,
    #[error("genesis funds account {0} twice: each account may appear once")]
    DuplicateAccount(Address),
}

/// How `execute` schedules a block's transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplayMode {
    /// Parallel for blocks of at least `PARALLEL_MIN_TXS` transactions.
    #[default]
    Auto,
    Sequential,
    /// Always in conflict-free waves, every wave on the thread pool (tests use it to compare
    /// with sequential).
    Parallel,
}

/// What replaying a block's transactions gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Rejected transactions, in block order.
    pub faults: Vec<Fault>,
    /// Sum of the gas of the applied transactions.
    pub gas_used: u64,
    /// One receipt per applied transaction, in block order.
    pub receipts: Vec<Receipt>,
    pub receipts_root: B256,
    pub state_root: B256,
}

#[derive(Debug)]
struct Slot {
    address: Address,
    account: Account,
    /// keccak256(address), computed in batches when the account first reaches the trie.
    key: Option<B256>,
    /// Changed since the last state root.
    dirty: bool,
    /// Changed since the last `take_unsaved` (what a node must write to its store).
    unsaved: bool,
}

/// The devnet state with its account trie.
#[derive(Debug)]
pub struct StateReplayer {
    index: HashMap<Address, usize>,
    slots: Vec<Slot>,
    dirty: Vec<usize>,
    unsaved: Vec<usize>,
    trie: MerklePatriciaTrie,
    base_fee: U256,
    derive_sha: DeriveShaImpl,
    mode: ReplayMode,
    /// The trie keys the last `state_root` wrote, each with the value it replaced (`None`: the
    /// account was new). Kept rather than dropped, so the state before the last block can be
    /// proven when that block is faulty (`witness_before_last_root`).
    undo: Vec<(B256, Option<Vec<u8>>)>,
}

/// A transaction's outcome before write-back: the new values of the accounts it touches, or why
/// it was rejected.
type TxResult = Result<(u64, U256, Vec<(Address, Account)>), Fault>;

impl StateReplayer {
    /// The state of a genesis: its funded accounts, nonce 0.
    pub fn from_genesis(spec: &ChainSpec) -> Result<Self, StateError> {
        Self::from_accounts(
            spec,
            spec.accounts.iter().map(|a| {
                (
                    a.address,
                    Account {
                        nonce: 0,
                        balance: a.balance,
                    },
                )
            }),
        )
    }

    /// A state of `spec`'s chain holding exactly `accounts` (a node resuming from its store;
    /// the caller checks the root against the one it saved). Every account counts as unsaved.
    pub fn from_accounts(
        spec: &ChainSpec,
        accounts: impl IntoIterator<Item = (Address, Account)>,
    ) -> Result<Self, StateError> {
        let base_fee = spec.base_fee.ok_or(StateError::MissingBaseFee)?;
        let accounts = accounts.into_iter();
        let n = accounts.size_hint().0;
        let mut s = Self {
            index: HashMap::with_capacity(n),
            slots: Vec::with_capacity(n),
            dirty: Vec::with_capacity(n),
            unsaved: Vec::with_capacity(n),
            trie: MerklePatriciaTrie::new(),
            base_fee,
            derive_sha: spec.derive_sha,
            mode: ReplayMode::Auto,
            undo: Vec::new(),
        };
        for (address, account) in accounts {
            if s.index.contains_key(&address) {
                return Err(StateError::DuplicateAccount(address));
            }
            s.write(address, account);
        }
        Ok(s)
    }

    /// The accounts changed since the last call (all of them on the first call), each once;
    /// a node writes them to its store beside the checkpoint.
    pub fn take_unsaved(&mut self) -> Vec<(Address, Account)> {
        let unsaved = std::mem::take(&mut self.unsaved);
        unsaved
            .into_iter()
            .map(|i| {
                let slot = &mut self.slots[i];
                slot.unsaved = false;
                (slot.address, slot.account)
            })
            .collect()
    }

    /// Counts every account as saved, without listing them (a state loaded from a store).
    pub fn mark_saved(&mut self) {
        for i in self.unsaved.drain(..) {
            self.slots[i].unsaved = false;
        }
    }

    /// Chooses how blocks are scheduled.
    pub fn set_mode(&mut self, mode: ReplayMode) {
        self.mode = mode;
    }

    /// The fixed base fee.
    pub fn base_fee(&self) -> U256 {
        self.base_fee
    }

    /// The DeriveSha impl used for receipts roots.
    pub fn derive_sha_impl(&self) -> DeriveShaImpl {
        self.derive_sha
    }

    /// An account, if it exists.
    pub fn account(&self, address: &Address) -> Option<Account> {
        self.index.get(address).map(|&i| self.slots[i].account)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when no account exists.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Sum of all balances (constant along a devnet chain: nothing is minted or burned).
    pub fn total_supply(&self) -> U256 {
        self.slots
            .iter()
            .fold(U256::ZERO, |acc, s| acc.saturating_add(s.account.balance))
    }

    /// The state root: writes the accounts changed since the last call into the trie (their keys
    /// hashed in one batch), then rehashes the trie level by level.
    pub fn state_root(&mut self, backend: &dyn Backend) -> B256 {
        let dirty = std::mem::take(&mut self.dirty);
        let need_key: Vec<usize> = dirty
            .iter()
            .copied()
            .filter(|&i| self.slots[i].key.is_none())
            .collect();
        if !need_key.is_empty() {
            let mut batch = MessageBatch::with_capacity(need_key.len(), need_key.len() * 20);
            for &i in &need_key {
                batch.push(self.slots[i].address.as_slice());
            }
            for (&i, h) in need_key.iter().zip(backend.keccak_batch(&batch)) {
                self.slots[i].key = Some(h);
            }
        }
        self.undo.clear();
        for i in dirty {
            let slot = &mut self.slots[i];
            slot.dirty = false;
            let key = slot
                .key
                .unwrap_or_else(|| crate::crypto::keccak256(slot.address.as_slice()));
            let old = self.trie.insert(
                key.as_slice(),
                rules::encode_account(slot.account.nonce, slot.account.balance),
            );
            self.undo.push((key, old));
        }
        self.trie.root_hash(backend)
    }

    /// The root of the state before the last `state_root` call (for a replayer, the state
    /// before the last block) and the witness of `addresses` in it: the trie is put back as it
    /// was, the accounts proven, and the block's writes redone. Costs two rehashes of the changed
    /// paths, so a replay calls it only for a faulty block.
    pub fn witness_before_last_root(
        &mut self,
        addresses: &[Address],
        backend: &dyn Backend,
    ) -> (B256, witness::Witness) {
        let undo = std::mem::take(&mut self.undo);
        let mut redo = Vec::with_capacity(undo.len());
        for (key, old) in &undo {
            let new = match old {
                Some(v) => self.trie.insert(key.as_slice(), v.clone()),
                None => self.trie.remove(key.as_slice()),
            };
            redo.push((*key, new));
        }
        let root = self.trie.root_hash(backend);
        let witness = witness::Witness::from_proofs(addresses.iter().map(|a| {
            self.trie
                .prove(crate::crypto::keccak256(a.as_slice()).as_slice(), backend)
        }));
        for (key, new) in redo {
            match new {
                Some(v) => self.trie.insert(key.as_slice(), v),
                None => self.trie.remove(key.as_slice()),
            };
        }
        self.undo = undo;
        self.trie.root_hash(backend);
        (root, witness)
    }

    /// Replays `block`; returns the faults found (empty = valid), each with `tx_index` where it
    /// applies and expected/got evidence. Kinds: NonceGap, NonceReplay, InsufficientBalance (per
    /// transaction, in block order), then WrongGasUsed, WrongReceiptsRoot, WrongStateRoot (the
    /// header against the replay). The state afterwards is the state the block's valid
    /// transactions produce.
    ///
    /// `parties` holds one entry per transaction; a shorter slice leaves the transactions beyond
    /// it unreplayed (their absence then shows in gasUsed and the roots).
    pub fn apply_block(
        &mut self,
        block: &Block,
        parties: &[TxParties],
        backend: &dyn Backend,
    ) -> Vec<Fault> {
        self.apply_txs(&block.header, &block.transactions, parties, backend)
    }

    /// `apply_block` for the transactions of `h` that the block may apply (a verifier leaves out
    /// those whose signatures or rules already failed: the devnet's rules reject them, and a
    /// rejected transaction changes nothing). One `TxParties` per transaction.
    pub fn apply_txs(
        &mut self,
        h: &Header,
        txs: &[Transaction],
        parties: &[TxParties],
        backend: &dyn Backend,
    ) -> Vec<Fault> {
        debug_assert_eq!(txs.len(), parties.len(), "one TxParties per transaction");
        let out = self.execute(txs, parties, h.rewardbase, backend);
        header_faults(out, h)
    }

    /// Runs `txs` against the state, fees to `rewardbase`, and computes what the header of their
    /// block must say. The devnet producer builds headers from this; `apply_block` checks them.
    pub fn execute(
        &mut self,
        txs: &[Transaction],
        parties: &[TxParties],
        rewardbase: Address,
        backend: &dyn Backend,
    ) -> BlockOutcome {
        let (faults, gas_used, receipts) = self.run_txs(txs, parties, rewardbase);
        // The receipts trie and the state trie are independent: build them side by side, so the
        // state trie's sequential inserts overlap the receipts' hashing.
        let imp = self.derive_sha;
        let (receipts_root, state_root) = rayon::join(
            || receipts_root(imp, &receipts, backend),
            || self.state_root(backend),
        );
        BlockOutcome {
            faults,
            gas_used,
            receipts,
            receipts_root,
            state_root,
        }
    }
}

/// The faults of header `h` against what its block's replay gave: the transactions' faults,
/// then gasUsed, receiptsRoot and stateRoot where they differ.
pub(crate) fn header_faults(out: BlockOutcome, h: &Header) -> Vec<Fault> {
    let mut faults = out.faults;
    if out.gas_used != h.gas_used {
        faults.push(
            Fault::new(
                FaultKind::WrongGasUsed,
                "gasUsed differs from the sum of the replayed transactions' gas",
            )
            .expected_got(out.gas_used, h.gas_used),
        );
    }
    if out.receipts_root != h.receipts_root {
        faults.push(
            Fault::new(
                FaultKind::WrongReceiptsRoot,
                "receiptsRoot differs from the root of the replayed receipts",
            )
            .expected_got(out.receipts_root, h.receipts_root),
        );
    }
    if out.state_root != h.state_root {
        faults.push(
            Fault::new(
                FaultKind::WrongStateRoot,
                "stateRoot differs from the root of the replayed state",
            )
            .expected_got(out.state_root, h.state_root),
        );
    }
    faults
}

/// The root of the receipts `receipts` under `imp`.
fn receipts_root(imp: DeriveShaImpl, receipts: &[Receipt], backend: &dyn Backend) -> B256 {
    let encoded: Vec<Vec<u8>> = receipts.iter().map(rules::encode_receipt).collect();
    let items: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
    derive_sha(imp, &items, backend)
}

/// The accounts a transaction reads or writes: its sender, its fee payer, its recipient.
fn touches(tx: &Transaction, p: &TxParties) -> schedule::TouchSet {
    [Some(p.sender), payer_of(tx, p), tx.to()]
}

/// Every account the replay of `txs` reads or writes (the rewardbase included), each once, in
/// ascending order: what a witness of the block must prove.
pub fn touched_accounts(
    txs: &[Transaction],
    parties: &[TxParties],
    rewardbase: Address,
) -> Vec<Address> {
    let mut out: Vec<Address> = txs
        .iter()
        .zip(parties)
        .flat_map(|(tx, p)| touches(tx, p))
        .flatten()
        .chain([rewardbase])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl StateReplayer {
    /// The transactions' rules: each one's fault, or its gas and fee written into the accounts
    /// (fees to `rewardbase`). The accounts changed are marked for the next root; no root is
    /// computed here, so a full replay and a stateless one (`witness`) share every rule.
    pub(crate) fn run_txs(
        &mut self,
        txs: &[Transaction],
        parties: &[TxParties],
        rewardbase: Address,
    ) -> (Vec<Fault>, u64, Vec<Receipt>) {
        let n = txs.len().min(parties.len());
        let touches: Vec<schedule::TouchSet> =
            (0..n).map(|i| touches(&txs[i], &parties[i])).collect();
        let rewardbase_is_party = touches.iter().flatten().flatten().any(|a| *a == rewardbase);
        let parallel = match self.mode {
            ReplayMode::Sequential => false,
            ReplayMode::Parallel => true,
            ReplayMode::Auto => n >= PARALLEL_MIN_TXS,
        };
        // Fees reach the rewardbase after every transaction; when the rewardbase also sends or
        // receives in this block, its balance between transactions matters and the block replays
        // in order.
        let results = if parallel && !rewardbase_is_party {
            self.run_waves(&txs[..n], &parties[..n], &touches)
        } else {
            self.run_sequential(&txs[..n], &parties[..n], rewardbase)
        };

        let mut faults = Vec::new();
        let mut receipts = Vec::with_capacity(n);
        let mut gas_used = 0u64;
        let mut fees = U256::ZERO;
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok((gas, fee)) => {
                    gas_used = gas_used.saturating_add(gas);
                    fees = fees.saturating_add(fee);
                    receipts.push(Receipt {
                        status: rules::STATUS_SUCCESS,
                        gas_used: gas,
                    });
                }
                Err(f) => faults.push(f.at_tx(i)),
            }
        }
        if parallel && !rewardbase_is_party && !receipts.is_empty() {
            let mut rb = self.account(&rewardbase).unwrap_or_default();
            rb.balance = rb.balance.saturating_add(fees);
            self.write(rewardbase, rb);
        }
        (faults, gas_used, receipts)
    }

    fn run_sequential(
        &mut self,
        txs: &[Transaction],
        parties: &[TxParties],
        rewardbase: Address,
    ) -> Vec<Result<(u64, U256), Fault>> {
        let mut out = Vec::with_capacity(txs.len());
        for (tx, p) in txs.iter().zip(parties) {
            match self.transition(tx, p) {
                Ok((gas, fee, writes)) => {
                    for (a, acct) in writes {
                        self.write(a, acct);
                    }
                    let mut rb = self.account(&rewardbase).unwrap_or_default();
                    rb.balance = rb.balance.saturating_add(fee);
                    self.write(rewardbase, rb);
                    out.push(Ok((gas, fee)));
                }
                Err(f) => out.push(Err(f)),
            }
        }
        out
    }

    fn run_waves(
        &mut self,
        txs: &[Transaction],
        parties: &[TxParties],
        touches: &[schedule::TouchSet],
    ) -> Vec<Result<(u64, U256), Fault>> {
        let mut out: Vec<Option<Result<(u64, U256), Fault>>> = vec![None; txs.len()];
        for wave in schedule::conflict_free_waves(touches) {
            let this: &Self = self;
            let run = |&i: &usize| (i, this.transition(&txs[i], &parties[i]));
            let results: Vec<(usize, TxResult)> =
                if wave.len() >= WAVE_PARALLEL_MIN || this.mode == ReplayMode::Parallel {
                    wave.par_iter().map(run).collect()
                } else {
                    wave.iter().map(run).collect()
                };
            for (i, r) in results {
                out[i] = Some(match r {
                    Ok((gas, fee, writes)) => {
                        for (a, acct) in writes {
                            self.write(a, acct);
                        }
                        Ok((gas, fee))
                    }
                    Err(f) => Err(f),
                });
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| unreachable!("every transaction is in exactly one wave")))
            .collect()
    }

    /// One transaction against the current state, without writing: the gas, the fee and the new
    /// values of the accounts it touches, or the fault that rejects it.
    fn transition(&self, tx: &Transaction, p: &TxParties) -> TxResult {
        let mut local: Vec<(Address, Account)> = Vec::with_capacity(3);
        let get = |a: Address, local: &mut Vec<(Address, Account)>| -> usize {
            if let Some(i) = local.iter().position(|(x, _)| *x == a) {
                return i;
            }
            local.push((a, self.account(&a).unwrap_or_default()));
            local.len() - 1
        };
        let s = get(p.sender, &mut local);
        let sender = local[s].1;
        let nonce = tx.nonce();
        if nonce > sender.nonce {
            return Err(Fault::new(
                FaultKind::NonceGap,
                format!(
                    "nonce {nonce} of {:#x} skips ahead of its next nonce {}",
                    p.sender, sender.nonce
                ),
            )
            .expected_got(sender.nonce, nonce));
        }
        if nonce < sender.nonce {
            return Err(Fault::new(
                FaultKind::NonceReplay,
                format!(
                    "nonce {nonce} of {:#x} was already used (next nonce {})",
                    p.sender, sender.nonce
                ),
            )
            .expected_got(sender.nonce, nonce));
        }
        let gas = rules::intrinsic_gas(tx);
        let fee = rules::fee(gas, self.base_fee);
        let split = rules::fee_split(tx, fee);
        let value = tx.value();
        let to = tx.to();
        // A transaction without a recipient moves no value (devnet blocks only hold transfers).
        let moved = if to.is_some() { value } else { U256::ZERO };
        let payer = payer_of(tx, p);

        let sender_owes = moved.saturating_add(split.sender);
        let payer_owes = split.fee_payer;
        match payer {
            Some(fp) if fp != p.sender => {
                if sender.balance < sender_owes {
                    return Err(insufficient(
                        "sender",
                        p.sender,
                        sender_owes,
                        sender.balance,
                    ));
                }
                let f = get(fp, &mut local);
                if local[f].1.balance < payer_owes {
                    return Err(insufficient(
                        "fee payer",
                        fp,
                        payer_owes,
                        local[f].1.balance,
                    ));
                }
                local[f].1.balance -= payer_owes;
            }
            _ => {
                let total = sender_owes.saturating_add(payer_owes);
                if sender.balance < total {
                    return Err(insufficient("sender", p.sender, total, sender.balance));
                }
                local[s].1.balance -= payer_owes;
            }
        }
        local[s].1.balance -= sender_owes;
        local[s].1.nonce += 1;
        if let Some(to) = to {
            let r = get(to, &mut local);
            local[r].1.balance = local[r].1.balance.saturating_add(moved);
        }
        Ok((gas, fee, local))
    }

    /// Sets an account and marks it for the next root.
    fn write(&mut self, address: Address, account: Account) {
        let i = match self.index.get(&address) {
            Some(&i) => i,
            None => {
                self.slots.push(Slot {
                    address,
                    account,
                    key: None,
                    dirty: false,
                    unsaved: false,
                });
                self.index.insert(address, self.slots.len() - 1);
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[i];
        slot.account = account;
        if !slot.dirty {
            slot.dirty = true;
            self.dirty.push(i);
        }
        if !slot.unsaved {
            slot.unsaved = true;
            self.unsaved.push(i);
        }
    }
}

/// The account that pays (part of) the fee: the recovered fee payer of a fee-delegated type.
fn payer_of(tx: &Transaction, p: &TxParties) -> Option<Address> {
    if tx.tx_type.is_fee_delegated() {
        p.fee_payer.or(tx.fee_payer)
    } else {
        None
    }
}

fn insufficient(who: &str, a: Address, need: U256, have: U256) -> Fault {
    Fault::new(
        FaultKind::InsufficientBalance,
        format!("{who} {a:#x} cannot pay: needs {need}, has {have}"),
    )
    .expected_got(format!(">= {need}"), have)
}

#[cfg(test)]
mod tests;
