//! Block production, the way a Kaia council makes blocks: a proposer by round-robin over the
//! council (shifted by the round), a committee (all of the council, or `committeesize` of it),
//! committed seals from a quorum of the committee or more, the proposer's randao reveal and the
//! mix-hash chain, optional council votes and epoch governance, and the named fault, if any.
//!
//! Invariant: the producer replays its own transactions with `crate::state` before it writes the
//! header, and refuses to emit a block whose replay disagrees with the fault it was asked for.

use super::keys::DevnetKeys;
use super::rng::DevRng;
use super::workload::{self, Pending, TxShape, Unsigned, Workload};
use super::{DevnetConfig, DevnetError, FaultAt, genesis_header};
use crate::codec::block::encode_block;
use crate::codec::header::encode_extra_parts;
use crate::codec::tx::{seal_raw, sig_preimage};
use crate::consensus::FaultKind;
use crate::consensus::chain::ChainSpec;
use crate::consensus::council::{
    Council, GOV_COMMITTEE_SIZE, VOTE_ADD, VOTE_REMOVE, Vote, encode_governance, encode_vote,
};
use crate::consensus::istanbul::{
    block_hash, committed_seal_message, proposer_seal_message, sig_hash,
};
use crate::consensus::randao::next_mix_hash;
use crate::crypto::bls::randao_msg;
use crate::crypto::secp::{SECP256K1_N, Signature65, recover_address, to_high_s};
use crate::crypto::{Backend, keccak256};
use crate::primitives::{Block, Header, Transaction, TxType};
use crate::state::{StateReplayer, TxParties};
use crate::trie::derive_sha;
use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use std::collections::HashMap;

/// One block in 1/ROUND_CHANGE_ODDS is decided in a later round (1 or 2).
const ROUND_CHANGE_ODDS: u64 = 20;
/// With `--votes`, one block in 1/VOTE_ODDS carries a council vote.
const VOTE_ODDS: u64 = 12;
/// Votes never shrink the council below this many members.
const MIN_COUNCIL: usize = 4;

/// One produced block.
#[derive(Debug, Clone)]
pub struct ProducedBlock {
    pub number: u64,
    /// The block's bytes as they go into the chain file (broken on purpose for malformed-rlp).
    pub bytes: Vec<u8>,
    /// The header as produced (with its fault, if any).
    pub header: Header,
    pub fault: Option<FaultKind>,
    pub transactions: usize,
    /// For `equivocation`: the second block the council signed at this height (RLP), with the
    /// same parent and transactions and a full quorum of its own seals. The chain goes on from
    /// `bytes`.
    pub twin: Option<Vec<u8>>,
}

/// The council simulator's state between blocks.
#[derive(Debug)]
pub struct Producer {
    config: DevnetConfig,
    spec: ChainSpec,
    keys: DevnetKeys,
    state: StateReplayer,
    workload: Workload,
    council: Council,
    /// Consensus choices (rounds, committees, votes): a stream apart from the workload's.
    rng: DevRng,
    genesis: Header,
    parent_hash: B256,
    parent_mix: B256,
    clock: u64,
    next_number: u64,
    faults: HashMap<u64, FaultKind>,
}

/// A block as honest production made it, before its fault and its seals.
struct Draft {
    header: Header,
    txs: Vec<Transaction>,
    round: u8,
    proposer: Address,
    /// The quorum the council requires.
    required: usize,
    /// Who seals, in seal order.
    signers: Vec<Address>,
    parent_time: u64,
    /// The mix hash the header carries (what the next block builds on).
    mix: Option<B256>,
}

/// The fault-specific transactions appended to a block.
struct Injected {
    txs: Vec<Transaction>,
    /// Parties of the injected transactions when replay runs them (state faults: all of them);
    /// empty for signature faults, which the verifier rejects before replay.
    replayed: Vec<TxParties>,
}

impl Producer {
    /// Derives the keys and genesis of `config`.
    pub fn new(config: DevnetConfig, backend: &dyn Backend) -> Result<Self, DevnetError> {
        config.validate()?;
        let keys = DevnetKeys::derive(config.seed, config.accounts, config.validators);
        let spec = config.chain_spec(&keys);
        let state = StateReplayer::from_genesis(&spec)?;
        let genesis = genesis_header(&spec, backend)?;
        let council = Council::new(
            spec.council.iter().map(|m| m.address).collect(),
            spec.committee_size,
            spec.epoch,
        );
        let base_fee = state.base_fee();
        Ok(Self {
            workload: Workload::new(config.seed, config.accounts, config.chain_id, base_fee),
            rng: DevRng::new(config.seed, 0xc0c0),
            parent_hash: block_hash(&genesis),
            parent_mix: B256::ZERO,
            clock: genesis.time,
            next_number: 1,
            faults: config
                .faults
                .iter()
                .map(|FaultAt { kind, block }| (*block, *kind))
                .collect(),
            genesis,
            council,
            state,
            keys,
            spec,
            config,
        })
    }

    /// The genesis this producer writes blocks for.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The genesis header (block 0).
    pub fn genesis(&self) -> &Header {
        &self.genesis
    }

    /// The state after the blocks produced so far.
    pub fn state(&self) -> &StateReplayer {
        &self.state
    }

    /// The council in force for the next block.
    pub fn council(&self) -> &Council {
        &self.council
    }

    /// Produces the next block, `None` after the last one: honest production (`draft`), then the
    /// block's named fault, if any (`tamper`), then the seals.
    pub fn next_block(
        &mut self,
        backend: &dyn Backend,
    ) -> Result<Option<ProducedBlock>, DevnetError> {
        let number = self.next_number;
        if number > self.config.blocks {
            return Ok(None);
        }
        self.next_number += 1;
        let fault = self.faults.get(&number).copied();
        let mut draft = self.draft(number, fault, backend)?;
        if let Some(kind) = fault {
            self.tamper(&mut draft, kind)?;
        }
        let Draft {
            mut header,
            txs,
            round,
            proposer,
            signers,
            mix,
            ..
        } = draft;
        // An equivocating council signs a second header at this height before the first:
        // another timeFoS gives it another hash, and the same committers seal it.
        let twin = match fault {
            Some(FaultKind::Equivocation) => {
                let mut other = header.clone();
                other.time_fos = other.time_fos.wrapping_add(1);
                self.seal(&mut other, round, proposer, &signers, None)?;
                Some(encode_block(&Block {
                    header: other,
                    transactions: txs.clone(),
                }))
            }
            _ => None,
        };
        self.seal(&mut header, round, proposer, &signers, fault)?;
        let block = Block {
            header,
            transactions: txs,
        };
        let mut bytes = encode_block(&block);
        if fault == Some(FaultKind::MalformedRlp) {
            // Cut the last byte: the block's list header promises a byte the frame lacks.
            bytes.pop();
        }
        self.parent_hash = block_hash(&block.header);
        if let Some(m) = mix {
            self.parent_mix = m;
        }
        let h = &block.header;
        self.council
            .apply_block(number, proposer, &h.vote, &h.governance);
        Ok(Some(ProducedBlock {
            number,
            bytes,
            transactions: block.transactions.len(),
            header: block.header,
            fault,
            twin,
        }))
    }

    /// Honest production of block `number`: consensus choices, the workload's transactions (and
    /// a transaction-level fault's own, which must exist before the state replays them), the
    /// replay, and the header with its randao fields, unsealed.
    fn draft(
        &mut self,
        number: u64,
        fault: Option<FaultKind>,
        backend: &dyn Backend,
    ) -> Result<Draft, DevnetError> {
        // Consensus choices: round, proposer, committee, committers.
        let round = if self.rng.chance(1, ROUND_CHANGE_ODDS) {
            self.rng.range(1, 2) as u8
        } else {
            0
        };
        let members = self.council.members().to_vec();
        let proposer = members[((number + u64::from(round)) % members.len() as u64) as usize];
        let committee = self.committee(&members, proposer);
        let required = self.council.required_seals();
        let committers = self.rng.range(required as u64, committee.len() as u64) as usize;
        let mut signers = committee;
        self.shuffle(&mut signers);
        signers.truncate(committers);
        let (vote, governance) = self.votes_and_governance(number, proposer, &members);

        // Transactions: the workload, then the fault's own, replayed by the state rules.
        let mut pending = Pending::default();
        let chosen = self.workload.choose(
            self.config.txs_per_block,
            &self.state,
            &self.keys.addresses,
            &mut pending,
        );
        let nonce_seed = [self.config.seed.to_be_bytes(), number.to_be_bytes()].concat();
        let chain_id = self.config.chain_id;
        let mut txs = workload::sign_all(&chosen, &self.keys.accounts, chain_id, &nonce_seed);
        let mut parties: Vec<TxParties> = chosen
            .iter()
            .map(|u| workload::parties(u, &self.keys.addresses))
            .collect();
        // Injected transactions go last; a state fault's are replayed, a signature fault's are
        // not (the council's rules reject them: a rejected transaction changes nothing).
        let mut replay_len = txs.len();
        if let Some(kind) = fault {
            let inj = self.inject_tx_fault(kind, &mut pending)?;
            let replayed = !inj.replayed.is_empty();
            txs.extend(inj.txs);
            if replayed {
                parties.extend(inj.replayed);
                replay_len = txs.len();
            }
        }
        // The tx root does not depend on the state: hash it while the state replays.
        let imp = self.state.derive_sha_impl();
        let state = &mut self.state;
        let (out, tx_root) = rayon::join(
            || state.execute(&txs[..replay_len], &parties, proposer, backend),
            || {
                let raws: Vec<&[u8]> = txs.iter().map(|t| t.raw.as_ref()).collect();
                derive_sha(imp, &raws, backend)
            },
        );
        let expected: Vec<FaultKind> = match fault {
            Some(
                k @ (FaultKind::NonceGap | FaultKind::NonceReplay | FaultKind::InsufficientBalance),
            ) => vec![k],
            _ => Vec::new(),
        };
        let got: Vec<FaultKind> = out.faults.iter().map(|f| f.kind).collect();
        if got != expected {
            return Err(DevnetError::Internal(format!(
                "block {number}: replay found {got:?}, the producer meant {expected:?}: {:?}",
                out.faults
            )));
        }
        let parent_time = self.clock;
        self.clock += self.spec.block_period + u64::from(round);
        let mut header = Header {
            parent_hash: self.parent_hash,
            rewardbase: proposer,
            state_root: out.state_root,
            tx_root,
            receipts_root: out.receipts_root,
            bloom: Bloom::ZERO,
            block_score: U256::from(1),
            number,
            gas_used: out.gas_used,
            time: self.clock,
            time_fos: 0,
            extra: Bytes::new(),
            governance: Bytes::from(governance),
            vote: Bytes::from(vote),
            base_fee: (self.spec.forks.header_fields(number) >= 15)
                .then_some(self.state.base_fee()),
            random_reveal: None,
            mix_hash: None,
            blob_gas_used: None,
            excess_blob_gas: None,
        };
        let mix = self.reveal(&mut header, number, proposer, number)?;
        Ok(Draft {
            header,
            txs,
            round,
            proposer,
            required,
            signers,
            parent_time,
            mix,
        })
    }

    /// Writes the proposer's randao reveal of `reveal_number` and the mix hash it makes into
    /// `header` (block `number`), when randao is live; returns the mix hash.
    fn reveal(
        &self,
        header: &mut Header,
        number: u64,
        proposer: Address,
        reveal_number: u64,
    ) -> Result<Option<B256>, DevnetError> {
        if !self.spec.forks.is_randao(number) {
            return Ok(None);
        }
        let bls = &self
            .keys
            .validator(&proposer)
            .ok_or_else(|| DevnetError::Internal(format!("no keys for council member {proposer}")))?
            .bls;
        let reveal = bls.sign(&randao_msg(reveal_number));
        let parent_mix = if self.spec.forks.is_randao_fork_block(number) {
            B256::ZERO
        } else {
            self.parent_mix
        };
        let mix = next_mix_hash(&parent_mix, &reveal);
        header.random_reveal = Some(Bytes::copy_from_slice(&reveal));
        header.mix_hash = Some(Bytes::copy_from_slice(mix.as_slice()));
        Ok(Some(mix))
    }

    /// Breaks an honest draft in exactly the way `kind` names (header fields, committers,
    /// randao); everything the broken check depends on is re-derived so that no earlier check
    /// fires. Seal faults are made while sealing, transaction faults while drafting, and
    /// malformed-rlp on the encoded bytes.
    fn tamper(&mut self, d: &mut Draft, kind: FaultKind) -> Result<(), DevnetError> {
        let flip = |h: &mut B256| *h ^= B256::with_last_byte(1);
        let h = &mut d.header;
        match kind {
            FaultKind::BelowQuorum => d.signers.truncate(d.required.saturating_sub(1)),
            FaultKind::NonCouncilSeal | FaultKind::DuplicateSeal => d.signers.truncate(d.required),
            FaultKind::BrokenParentHash => flip(&mut h.parent_hash),
            FaultKind::WrongStateRoot => flip(&mut h.state_root),
            FaultKind::WrongTxRoot => flip(&mut h.tx_root),
            FaultKind::WrongReceiptsRoot => flip(&mut h.receipts_root),
            FaultKind::WrongGasUsed => h.gas_used += 1,
            FaultKind::EarlyTimestamp => h.time = d.parent_time,
            FaultKind::TailFieldBeforeFork => h.blob_gas_used = Some(0),
            // The reveal signs the number the header claims, so only the number is wrong.
            FaultKind::WrongNumber => {
                h.number += 1;
                let (number, claimed) = (h.number - 1, h.number);
                d.mix = self.reveal(&mut d.header, number, d.proposer, claimed)?;
            }
            FaultKind::BadRandomReveal => {
                let number = h.number;
                d.mix = self.reveal(&mut d.header, number, d.proposer, number + 1)?;
            }
            FaultKind::WrongMixHash => {
                if let Some(m) = d.mix.as_mut() {
                    flip(m);
                    h.mix_hash = Some(Bytes::copy_from_slice(m.as_slice()));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The committee of a block: the whole council, or the proposer and `committeesize - 1`
    /// other members drawn at random.
    fn committee(&mut self, members: &[Address], proposer: Address) -> Vec<Address> {
        let size = self
            .council
            .committee_size()
            .map_or(members.len(), |c| (c as usize).min(members.len()));
        if size >= members.len() {
            return members.to_vec();
        }
        let mut others: Vec<Address> = members.iter().copied().filter(|m| *m != proposer).collect();
        self.shuffle(&mut others);
        let mut c = vec![proposer];
        c.extend(others.into_iter().take(size.saturating_sub(1)));
        c
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }

    /// With `--votes`: now and then the proposer votes a genesis member out (never below
    /// `MIN_COUNCIL`) or back in (so every proposer's BLS key stays in the genesis), and epoch
    /// blocks announce the committee size, alternating it between two values.
    fn votes_and_governance(
        &mut self,
        number: u64,
        proposer: Address,
        members: &[Address],
    ) -> (Vec<u8>, Vec<u8>) {
        if !self.config.votes {
            return (Vec::new(), Vec::new());
        }
        let mut governance = Vec::new();
        if number.is_multiple_of(self.spec.epoch) {
            let base = self
                .config
                .committee_size
                .unwrap_or(self.config.validators as u64);
            let size = if (number / self.spec.epoch) % 2 == 1 {
                base.saturating_sub(1).max(1)
            } else {
                base
            };
            let mut g = serde_json::Map::new();
            g.insert(GOV_COMMITTEE_SIZE.into(), size.into());
            governance = encode_governance(&g);
        }
        if !self.rng.chance(1, VOTE_ODDS) {
            return (Vec::new(), governance);
        }
        let out: Vec<Address> = self
            .spec
            .council
            .iter()
            .map(|m| m.address)
            .filter(|a| !members.contains(a))
            .collect();
        let (key, target) = if let Some(a) = out.first() {
            (VOTE_ADD, *a)
        } else if members.len() > MIN_COUNCIL {
            let others: Vec<Address> = members.iter().copied().filter(|m| *m != proposer).collect();
            (
                VOTE_REMOVE,
                others[self.rng.below(others.len() as u64) as usize],
            )
        } else {
            return (Vec::new(), governance);
        };
        let vote = encode_vote(&Vote {
            validator: proposer,
            key: key.into(),
            value: target.to_vec(),
        });
        (vote, governance)
    }

    /// Writes the proposer seal and committed seals into `header.extra`, breaking them as the
    /// fault says.
    fn seal(
        &mut self,
        header: &mut Header,
        round: u8,
        proposer: Address,
        signers: &[Address],
        fault: Option<FaultKind>,
    ) -> Result<(), DevnetError> {
        let mut vanity = [0u8; 32];
        vanity[31] = round;
        header.extra = Bytes::from(encode_extra_parts(&vanity, &[], &[], &[]));
        let sh = sig_hash(header)
            .ok_or_else(|| DevnetError::Internal("own extra does not decode".into()))?;
        let msg = proposer_seal_message(&sh);
        let key = |a: &Address| {
            self.keys
                .validator(a)
                .map(|v| v.key.clone())
                .ok_or_else(|| DevnetError::Internal(format!("no keys for council member {a}")))
        };
        let seal = match fault {
            Some(FaultKind::BadProposerSeal) => unrecoverable(&msg, &mut self.rng),
            Some(FaultKind::ProposerNotInCouncil) => self.keys.outsiders[0].sign(&msg),
            _ => key(&proposer)?.sign(&msg),
        };
        header.extra = Bytes::from(encode_extra_parts(&vanity, &[], &seal.0, &[]));
        let commit = committed_seal_message(&block_hash(header));
        let mut seals: Vec<Bytes> = Vec::with_capacity(signers.len() + 1);
        for s in signers {
            seals.push(Bytes::copy_from_slice(&key(s)?.sign(&commit).0));
        }
        match fault {
            Some(FaultKind::NonCouncilSeal) => {
                seals.push(Bytes::copy_from_slice(
                    &self.keys.outsiders[1].sign(&commit).0,
                ));
            }
            Some(FaultKind::DuplicateSeal) => {
                let first = seals
                    .first()
                    .cloned()
                    .ok_or_else(|| DevnetError::Internal("no seal to duplicate".into()))?;
                seals.push(first);
            }
            _ => {}
        }
        header.extra = Bytes::from(encode_extra_parts(&vanity, &[], &seal.0, &seals));
        Ok(())
    }

    /// An account that no transaction of the block so far touches.
    fn fresh_account(&mut self, pending: &Pending) -> usize {
        let n = self.config.accounts as u64;
        for _ in 0..64 {
            let i = self.workload.rng().below(n) as usize;
            if !pending.touched(i) {
                return i;
            }
        }
        self.workload.rng().below(n) as usize
    }

    /// The transactions a transaction-level fault adds to the block.
    fn inject_tx_fault(
        &mut self,
        kind: FaultKind,
        pending: &mut Pending,
    ) -> Result<Injected, DevnetError> {
        let chain_id = self.config.chain_id;
        let base_fee = self.state.base_fee();
        let addrs = &self.keys.addresses;
        let n = addrs.len();
        let sender = self.fresh_account(pending);
        let recipient = self.workload.other_account(n, sender);
        let other = self.workload.other_account(n, sender);
        let acct = pending.get(sender, &self.keys.addresses, &self.state);
        let addrs = &self.keys.addresses;
        let keys = &self.keys.accounts;
        let shape = |ty: TxType, nonce: u64, value: U256, fee_payer: Option<usize>| TxShape {
            ty,
            from: addrs[sender],
            nonce,
            to: addrs[recipient],
            value,
            fee_payer: fee_payer.map(|i| addrs[i]),
            ratio: 50,
            memo: Vec::new(),
        };
        let value = U256::from(1_000_000u64);
        let plain = build_unsigned_shape(
            &shape(TxType::VALUE_TRANSFER, acct.nonce, value, None),
            chain_id,
            base_fee,
        );
        let parties = TxParties {
            sender: addrs[sender],
            fee_payer: None,
        };
        let valid = |tx: &Transaction| {
            let u = Unsigned {
                tx: tx.clone(),
                sender,
                fee_payer: None,
            };
            workload::sign(&u, keys, chain_id)
        };
        let signature_fault = |tx: Transaction| Injected {
            txs: vec![tx],
            replayed: Vec::new(),
        };
        let state_fault = |txs: Vec<Transaction>| Injected {
            replayed: vec![parties; txs.len()],
            txs,
        };
        Ok(match kind {
            FaultKind::BadTxSignature => {
                let mut tx = valid(&plain);
                let hash = keccak256(&sig_preimage(&tx, chain_id));
                let sig = unrecoverable(&hash, &mut self.rng);
                tx.signatures = vec![workload::tx_sig(&tx, &sig, chain_id)];
                signature_fault(seal_raw(tx))
            }
            FaultKind::HighSSignature => {
                let mut tx = plain.clone();
                let sig = keys[sender].sign(&keccak256(&sig_preimage(&tx, chain_id)));
                tx.signatures = vec![workload::tx_sig(&tx, &to_high_s(&sig), chain_id)];
                signature_fault(seal_raw(tx))
            }
            FaultKind::WrongChainId => {
                let mut tx = plain.clone();
                workload::sign_sender(&mut tx, &keys[sender], chain_id + 1);
                signature_fault(seal_raw(tx))
            }
            FaultKind::FromMismatch => {
                let mut tx = plain.clone();
                workload::sign_sender(&mut tx, &keys[other], chain_id);
                signature_fault(seal_raw(tx))
            }
            FaultKind::BadFeePayerSignature => {
                let payer = self.workload.other_account(n, sender);
                let wrong = if payer == other {
                    self.workload.other_account(n, payer)
                } else {
                    other
                };
                let mut tx = build_unsigned_shape(
                    &shape(TxType::FD_VALUE_TRANSFER, acct.nonce, value, Some(payer)),
                    chain_id,
                    base_fee,
                );
                workload::sign_sender(&mut tx, &keys[sender], chain_id);
                workload::sign_fee_payer(&mut tx, &keys[wrong], chain_id);
                signature_fault(seal_raw(tx))
            }
            FaultKind::NonceGap => {
                let tx = build_unsigned_shape(
                    &shape(TxType::VALUE_TRANSFER, acct.nonce + 1, value, None),
                    chain_id,
                    base_fee,
                );
                state_fault(vec![valid(&tx)])
            }
            FaultKind::NonceReplay => {
                let first = valid(&plain);
                let again = build_unsigned_shape(
                    &shape(
                        TxType::VALUE_TRANSFER,
                        acct.nonce,
                        value + U256::from(1),
                        None,
                    ),
                    chain_id,
                    base_fee,
                );
                state_fault(vec![first, valid(&again)])
            }
            FaultKind::InsufficientBalance => {
                // The whole balance as value leaves nothing for the fee.
                let tx = build_unsigned_shape(
                    &shape(TxType::VALUE_TRANSFER, acct.nonce, acct.balance, None),
                    chain_id,
                    base_fee,
                );
                state_fault(vec![valid(&tx)])
            }
            _ => Injected {
                txs: Vec::new(),
                replayed: Vec::new(),
            },
        })
    }
}

fn build_unsigned_shape(s: &TxShape, chain_id: u64, base_fee: U256) -> Transaction {
    workload::build_unsigned(s, chain_id, base_fee)
}

/// A 65-byte signature over `hash` that recovers no key: its r is in range but is not the
/// x-coordinate of any curve point (about half of all r values are not).
fn unrecoverable(hash: &B256, rng: &mut DevRng) -> Signature65 {
    let s = U256::from(1u64) << 200;
    loop {
        let mut b = [0u8; 32];
        rng.fill(&mut b);
        let r = U256::from_be_bytes(b);
        if r.is_zero() || r >= SECP256K1_N {
            continue;
        }
        let sig = Signature65::from_parts(r, s, 0);
        if recover_address(hash, &sig).is_err()
            && recover_address(hash, &Signature65::from_parts(r, s, 1)).is_err()
        {
            return sig;
        }
    }
}
