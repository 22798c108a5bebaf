//! The data-parallel stages of the pipeline, each a plain function over a window of blocks so it
//! can be tested alone: decode → `Decoded`, hash → `Hashed` (every preimage of the window in two
//! keccak batches, and the tx roots), recover → `Recovered` (every seal and transaction signature
//! of the window at once, plus one BLS batch for the randao reveals). The recover stage verifies
//! the signatures whose signer is claimed and whose key is known in one batch (`crypto::batch`,
//! the same answers as recovery) and recovers the rest; see `hints`.
//!
//! Progress shows in types: a stage builds its output from the answers it got, and a batch whose
//! answer is not what was asked for (count) turns the window's blocks into `Item::Undecided`, so a
//! value that was never computed cannot become a verdict.

use super::checked::{CheckedBackend, Undecided};
use super::hints::{Known, SealHint, SealSigners};
use crate::codec::DecodeError;
use crate::codec::block::decode_block;
use crate::codec::header::decode_extra;
use crate::codec::tx::{
    fee_payer_sig_preimage, sender_tx_hash_preimage, sig_preimage, tx_hash_preimage,
};
use crate::consensus::istanbul::{MSG_COMMIT, hash_preimages};
use crate::consensus::txsig::{SigRole, check_tx_sig, claimed_chain_id};
use crate::consensus::{Fault, FaultKind};
use crate::crypto::batch::Claim;
use crate::crypto::bls::{self, BlsError, BlsPublicKey};
use crate::crypto::secp::{RecoverError, RecoverItem, Signature65};
use crate::crypto::{Backend, MessageBatch};
use crate::primitives::{Block, IstanbulExtra, Transaction};
use crate::trie::{DeriveShaImpl, derive_sha};
use alloy_primitives::{Address, B256};
use rayon::prelude::*;
use std::collections::HashMap;

/// A block as it enters the pipeline.
#[derive(Debug, Clone)]
pub enum Input {
    /// RLP bytes of a whole block.
    Rlp(Vec<u8>),
    /// A block already decoded (e.g. from JSON-RPC).
    Block(Box<Block>),
    /// A decoded block with what its source says about its seals' signers (Kaia's consensus
    /// info): claims to check, never trusted; a wrong one costs a recovery, not a verdict.
    Hinted {
        block: Box<Block>,
        seals: Box<SealHint>,
    },
}

/// One block on its way through the stages: the stage's output, or why it stopped.
#[derive(Debug)]
pub enum Item<T> {
    Ready(T),
    /// The bytes are not a block: a fault of the council's at this position.
    Malformed {
        position: u64,
        error: DecodeError,
    },
    /// The node could not finish this block's stage (never a fault).
    Undecided {
        position: u64,
        block: Option<Box<Block>>,
        reason: Undecided,
    },
}

impl<T> Item<T> {
    /// The next stage's item: `f` over a ready one; a malformed or undecided one passes as it is.
    pub fn then<U>(self, f: impl FnOnce(T) -> Item<U>) -> Item<U> {
        match self {
            Item::Ready(t) => f(t),
            Item::Malformed { position, error } => Item::Malformed { position, error },
            Item::Undecided {
                position,
                block,
                reason,
            } => Item::Undecided {
                position,
                block,
                reason,
            },
        }
    }
}

/// What a stage hands on: a window of items.
pub type Window<T> = Vec<Item<T>>;

/// Where a stage's item came from (for `Item::Undecided`).
pub trait Staged {
    fn position(&self) -> u64;
    fn into_block(self) -> Block;
}

fn undecided_all<T: Staged, U>(window: Window<T>, reason: &Undecided) -> Window<U> {
    window
        .into_iter()
        .map(|item| {
            item.then(|t| Item::Undecided {
                position: t.position(),
                block: Some(Box::new(t.into_block())),
                reason: reason.clone(),
            })
        })
        .collect()
}

/// A decoded block.
#[derive(Debug)]
pub struct Decoded {
    pub position: u64,
    pub block: Block,
    /// The source's seal-signer hint, if it gave one.
    pub seal_hint: Option<SealHint>,
}

/// The hashes of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxHashes {
    pub tx_hash: B256,
    pub sender_tx_hash: B256,
    /// The chain id the signatures are checked under (the chain's, or the tx's claim).
    pub chain_id: Option<u64>,
    pub sig_hash: B256,
    pub fee_payer_sig_hash: Option<B256>,
}

/// One transaction after hashing: its signatures in recoverable form, or the rule each broke.
#[derive(Debug, Clone)]
pub struct TxHashed {
    pub hashes: TxHashes,
    /// The sender a Kaia-native transaction names, claimed as its signature's signer.
    from: Option<Address>,
    /// The fee payer a fee-delegated transaction names, claimed likewise.
    fee_payer: Option<Address>,
    senders: Vec<Result<Signature65, Fault>>,
    fee_payers: Vec<Result<Signature65, Fault>>,
}

/// One transaction after recovery: every sender and fee-payer signature's signer, or its fault.
#[derive(Debug, Clone)]
pub struct TxRecovered {
    pub hashes: TxHashes,
    pub senders: Vec<Result<Address, Fault>>,
    pub fee_payers: Vec<Result<Address, Fault>>,
}

/// The tx-root computations of a block.
#[derive(Debug, Clone)]
pub struct TxRootWork {
    /// (impl, root) for the configured impl first, then the others when asked to try them all.
    pub roots: Vec<(DeriveShaImpl, B256)>,
}

/// A block after hashing.
#[derive(Debug)]
pub struct Hashed {
    pub position: u64,
    pub block: Block,
    pub hash: B256,
    pub sig_hash: Option<B256>,
    pub extra: Result<IstanbulExtra, DecodeError>,
    /// `None` when transactions are not checked (headers mode).
    pub txs: Option<Vec<TxHashed>>,
    pub tx_root: Option<TxRootWork>,
    proposer_msg: B256,
    commit_msg: B256,
    seal_hint: Option<SealHint>,
}

/// The seals of a block, recovered.
#[derive(Debug)]
pub struct Seals {
    pub extra: IstanbulExtra,
    pub proposer: Result<Address, String>,
    /// `None` when there were more seals than the recovery bound (none was recovered).
    pub committers: Option<Vec<Result<Address, String>>>,
}

/// A block after recovery: everything the judge needs.
#[derive(Debug)]
pub struct Recovered {
    pub position: u64,
    pub block: Block,
    pub hash: B256,
    pub sig_hash: Option<B256>,
    pub seals: Result<Seals, DecodeError>,
    /// The randao reveal's BLS check, when the proposer's key is known.
    pub reveal: Option<Result<(), BlsError>>,
    pub txs: Option<Vec<TxRecovered>>,
    pub tx_root: Option<TxRootWork>,
}

impl Staged for Decoded {
    fn position(&self) -> u64 {
        self.position
    }
    fn into_block(self) -> Block {
        self.block
    }
}

impl Staged for Recovered {
    fn position(&self) -> u64 {
        self.position
    }
    fn into_block(self) -> Block {
        self.block
    }
}

impl Staged for Hashed {
    fn position(&self) -> u64 {
        self.position
    }
    fn into_block(self) -> Block {
        self.block
    }
}

/// What the hash and recover stages need of the chain context.
#[derive(Debug, Clone, Copy)]
pub struct StageConfig {
    /// The signer chain id; `None` takes each transaction's claimed chain id (inspect).
    pub chain_id: Option<u64>,
    pub check_transactions: bool,
    pub derive_sha: DeriveShaImpl,
    /// Also compute the tx root under the other impls when the configured one does not match.
    pub try_every_derive_sha: bool,
    /// The most committed seals a header may make us recover.
    pub seal_bound: usize,
}

/// Decodes a window of inputs in parallel.
pub fn decode_window(inputs: Vec<(u64, Input)>) -> Window<Decoded> {
    inputs
        .into_par_iter()
        .map(|(position, input)| {
            let (block, seal_hint) = match input {
                Input::Rlp(bytes) => (decode_block(&bytes), None),
                Input::Block(b) => (Ok(*b), None),
                Input::Hinted { block, seals } => (Ok(*block), Some(*seals)),
            };
            match block {
                Ok(block) => Item::Ready(Decoded {
                    position,
                    block,
                    seal_hint,
                }),
                Err(error) => Item::Malformed { position, error },
            }
        })
        .collect()
}

/// Where one transaction's preimages sit in a keccak batch.
#[derive(Debug, Clone, Copy)]
struct TxSlots {
    tx: usize,
    sender_tx: Option<usize>,
    sig: usize,
    fee_payer_sig: Option<usize>,
}

fn push_tx_preimages(batch: &mut MessageBatch, tx: &Transaction, chain_id: u64) -> TxSlots {
    TxSlots {
        tx: batch.push(tx_hash_preimage(tx)),
        sender_tx: sender_tx_hash_preimage(tx).map(|p| batch.push(&p)),
        sig: batch.push(&sig_preimage(tx, chain_id)),
        fee_payer_sig: fee_payer_sig_preimage(tx, chain_id).map(|p| batch.push(&p)),
    }
}

/// `named`: the sender the block's source names for this transaction (`SealHint::senders`),
/// claimed only when the transaction names none itself.
fn tx_hashed(
    tx: &Transaction,
    s: TxSlots,
    hashes: &[B256],
    chain_id: Option<u64>,
    named: Option<Address>,
) -> TxHashed {
    let tx_hash = hashes[s.tx];
    let c = chain_id.unwrap_or(0);
    TxHashed {
        hashes: TxHashes {
            tx_hash,
            sender_tx_hash: s.sender_tx.map_or(tx_hash, |i| hashes[i]),
            chain_id,
            sig_hash: hashes[s.sig],
            fee_payer_sig_hash: s.fee_payer_sig.map(|i| hashes[i]),
        },
        from: tx.from_field().or(named),
        fee_payer: tx.fee_payer,
        senders: tx
            .signatures
            .iter()
            .map(|sig| check_tx_sig(tx, sig, c, SigRole::Sender))
            .collect(),
        fee_payers: if s.fee_payer_sig.is_some() {
            tx.fee_payer_signatures
                .iter()
                .map(|sig| check_tx_sig(tx, sig, c, SigRole::FeePayer))
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn tx_chain_id(cfg: &StageConfig, tx: &Transaction) -> Option<u64> {
    cfg.chain_id.or_else(|| claimed_chain_id(tx))
}

/// Where each hash of a block sits in the keccak batch.
struct BlockSlots {
    block: usize,
    sig: Option<usize>,
    txs: Option<Vec<TxSlots>>,
}

/// The hash stage: block hashes, sigHashes, tx hashes and sig hashes of the window in one keccak
/// batch, the seal messages in a second, and the transaction roots.
pub fn hash_window(
    window: Window<Decoded>,
    cfg: &StageConfig,
    backend: &CheckedBackend<'_>,
) -> Window<Hashed> {
    let mut batch = MessageBatch::new();
    let mut slots = Vec::with_capacity(window.len());
    let mut extras = Vec::with_capacity(window.len());
    for item in &window {
        let Item::Ready(d) = item else {
            slots.push(None);
            extras.push(None);
            continue;
        };
        let block = &d.block;
        let extra = decode_extra(&block.header.extra);
        let (block_pre, sig_pre) = hash_preimages(&block.header, extra.as_ref());
        let bslot = batch.push(&block_pre);
        let sslot = sig_pre.map(|p| batch.push(&p));
        let txs = cfg.check_transactions.then(|| {
            block
                .transactions
                .iter()
                .map(|tx| push_tx_preimages(&mut batch, tx, tx_chain_id(cfg, tx).unwrap_or(0)))
                .collect()
        });
        slots.push(Some(BlockSlots {
            block: bslot,
            sig: sslot,
            txs,
        }));
        extras.push(Some(extra));
    }
    let hashes = match backend.keccak(&batch) {
        Ok(h) => h,
        Err(e) => return undecided_all(window, &e),
    };
    let mut seal_msgs = MessageBatch::new();
    for s in slots.iter().flatten() {
        seal_msgs.push(s.sig.map_or(B256::ZERO, |i| hashes[i]).as_slice());
        let mut commit = [0u8; 33];
        commit[..32].copy_from_slice(hashes[s.block].as_slice());
        commit[32] = MSG_COMMIT;
        seal_msgs.push(&commit);
    }
    let seal_hashes = match backend.keccak(&seal_msgs) {
        Ok(h) => h,
        Err(e) => return undecided_all(window, &e),
    };
    let mut k = 0;
    let mut out: Window<Hashed> = window
        .into_iter()
        .zip(slots.into_iter().zip(extras))
        .map(|(item, slot)| {
            item.then(|d| {
                let (Some(s), Some(extra)) = slot else {
                    return Item::Undecided {
                        position: d.position,
                        block: Some(Box::new(d.block)),
                        reason: Undecided::Internal("a block lost its hash slots".into()),
                    };
                };
                let (proposer_msg, commit_msg) = (seal_hashes[k], seal_hashes[k + 1]);
                k += 2;
                let named = |i: usize| {
                    d.seal_hint
                        .as_ref()
                        .and_then(|h| h.senders.get(i).copied().flatten())
                };
                let txs = s.txs.map(|ts| {
                    d.block
                        .transactions
                        .iter()
                        .zip(ts)
                        .enumerate()
                        .map(|(i, (tx, t))| {
                            tx_hashed(tx, t, &hashes, tx_chain_id(cfg, tx), named(i))
                        })
                        .collect()
                });
                Item::Ready(Hashed {
                    position: d.position,
                    hash: hashes[s.block],
                    sig_hash: s.sig.map(|i| hashes[i]),
                    block: d.block,
                    extra,
                    txs,
                    tx_root: None,
                    proposer_msg,
                    commit_msg,
                    seal_hint: d.seal_hint,
                })
            })
        })
        .collect();

    if cfg.check_transactions {
        let be: &dyn Backend = backend;
        out.par_iter_mut().for_each(|item| {
            let Item::Ready(h) = item else { return };
            let items: Vec<&[u8]> = h.block.transactions.iter().map(|t| &t.raw[..]).collect();
            let mut roots = vec![(cfg.derive_sha, derive_sha(cfg.derive_sha, &items, be))];
            if cfg.try_every_derive_sha && roots[0].1 != h.block.header.tx_root {
                for imp in DeriveShaImpl::ALL {
                    if imp != cfg.derive_sha {
                        roots.push((imp, derive_sha(imp, &items, be)));
                    }
                }
            }
            h.tx_root = Some(TxRootWork { roots });
        });
        // The tx roots went through the `Backend` interface: a mismatch there is kept, not
        // returned, so ask for it now.
        if let Some(e) = backend.take_failure() {
            return undecided_all(out, &e);
        }
    }
    out
}

fn seal_sig(bytes: &[u8]) -> Option<Signature65> {
    bytes.try_into().ok().map(Signature65)
}

/// The recovery answers of a window, taken in the order their items were pushed. The batch was
/// checked to hold one answer per item; `exact` then checks that the walk took exactly that many,
/// and a window whose walk did not is undecided as a whole, so an answer that was never computed
/// (the stand-in `next` returns past the end) cannot reach a verdict.
struct Answers<I> {
    iter: I,
    overrun: bool,
}

impl<I: Iterator<Item = Result<Address, RecoverError>>> Answers<I> {
    fn new(iter: I) -> Self {
        Self {
            iter,
            overrun: false,
        }
    }
    fn next(&mut self) -> Result<Address, RecoverError> {
        self.iter.next().unwrap_or_else(|| {
            self.overrun = true;
            Err(RecoverError::NoPoint)
        })
    }
    fn exact(self) -> Result<(), Undecided> {
        let left = self.iter.count();
        if self.overrun || left > 0 {
            return Err(Undecided::Internal(format!(
                "recovery answers and signatures out of step ({left} left over)"
            )));
        }
        Ok(())
    }
}

/// Pushes a transaction's signatures, and beside each the signer the transaction names.
fn push_tx_items(items: &mut Vec<RecoverItem>, claims: &mut Vec<Claim>, t: &TxHashed) {
    for sig in t.senders.iter().flatten() {
        items.push(RecoverItem {
            hash: t.hashes.sig_hash,
            sig: *sig,
        });
        claims.push(t.from.map_or(Claim::None, Claim::Signer));
    }
    if let Some(h) = t.hashes.fee_payer_sig_hash {
        for sig in t.fee_payers.iter().flatten() {
            items.push(RecoverItem { hash: h, sig: *sig });
            claims.push(t.fee_payer.map_or(Claim::None, Claim::Signer));
        }
    }
}

fn tx_recovered(
    t: TxHashed,
    answers: &mut Answers<impl Iterator<Item = Result<Address, RecoverError>>>,
) -> TxRecovered {
    let senders = t
        .senders
        .into_iter()
        .map(|s| {
            s.and_then(|_| {
                answers.next().map_err(|e| {
                    Fault::new(FaultKind::BadTxSignature, format!("sender signature: {e}"))
                })
            })
        })
        .collect();
    let fee_payers = if t.hashes.fee_payer_sig_hash.is_some() {
        t.fee_payers
            .into_iter()
            .map(|s| {
                s.and_then(|_| {
                    answers.next().map_err(|e| {
                        Fault::new(
                            FaultKind::BadFeePayerSignature,
                            format!("fee payer signature: {e}"),
                        )
                    })
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    TxRecovered {
        hashes: t.hashes,
        senders,
        fee_payers,
    }
}

/// The recover stage: every seal and transaction signature of the window at once — those with a
/// claimed signer whose key `known` holds verified in one batch, the others recovered — then one
/// BLS batch for the randao reveals of the proposers just found. `known` learns the keys and
/// seal signers of the window for the next one.
pub fn recover_window(
    window: Window<Hashed>,
    cfg: &StageConfig,
    bls_keys: &HashMap<Address, BlsPublicKey>,
    randao_active: impl Fn(u64) -> bool,
    backend: &CheckedBackend<'_>,
    known: &mut Known,
) -> Window<Recovered> {
    let mut items = Vec::new();
    let mut claims = Vec::new();
    for item in &window {
        let Item::Ready(h) = item else { continue };
        if let Ok(extra) = &h.extra {
            let hint = known.seals.claims(
                h.block.header.number,
                &extra.validators,
                extra.committed_seals.len(),
                h.seal_hint.as_ref(),
            );
            // A seal nobody named is recovered here, keeping its key, only while some validator's
            // key is still unknown; once all are held the backend recovers it like any other
            // signature, and the seal rules learn its signer from the address alone.
            let unnamed = if extra.validators.iter().all(|v| known.keys.contains(v)) {
                Claim::None
            } else {
                Claim::Learn
            };
            if let Some(sig) = seal_sig(&extra.seal) {
                items.push(RecoverItem {
                    hash: h.proposer_msg,
                    sig,
                });
                claims.push(hint.proposer.map_or(unnamed, Claim::Signer));
            }
            if extra.committed_seals.len() <= seal_bound(cfg, extra) {
                for (j, s) in extra.committed_seals.iter().enumerate() {
                    if let Some(sig) = seal_sig(s) {
                        items.push(RecoverItem {
                            hash: h.commit_msg,
                            sig,
                        });
                        claims.push(
                            hint.committers
                                .get(j)
                                .copied()
                                .flatten()
                                .map_or(unnamed, Claim::Signer),
                        );
                    }
                }
            }
        }
        for t in h.txs.iter().flatten() {
            push_tx_items(&mut items, &mut claims, t);
        }
    }
    // The reveals' signatures and message hashes do not depend on the proposer: they are
    // prepared while the seals that name the proposers are checked, so neither batch waits on
    // the other's stragglers.
    let reveals = if bls_keys.is_empty() {
        Vec::new()
    } else {
        reveals_of(&window, &randao_active)
    };
    let (results, prepared) = rayon::join(
        || {
            known
                .keys
                .verify_or_recover(&items, &claims, |b| backend.recover(b))
        },
        || {
            reveals
                .par_iter()
                .map(|(_, number, sig)| bls::Prepared::new(&bls::randao_msg(*number), sig))
                .collect::<Vec<_>>()
        },
    );
    let reveals: Vec<usize> = reveals.into_iter().map(|(wi, _, _)| wi).collect();
    let results = match results {
        Ok(r) => r,
        Err(e) => return undecided_all(window, &e),
    };
    let mut answers = Answers::new(results.into_iter());
    let mut out: Window<Recovered> = window
        .into_iter()
        .map(|item| item.then(|h| Item::Ready(recovered(h, cfg, &mut answers))))
        .collect();
    if let Err(e) = answers.exact() {
        return undecided_all(out, &e);
    }
    known.seals.learn(&seal_signers(&out));

    check_reveals(&mut out, &reveals, &prepared, bls_keys);
    out
}

/// The randao reveals of a window to check, whatever their proposer: (index in the window,
/// block number, reveal).
fn reveals_of<'w>(
    window: &'w Window<Hashed>,
    randao_active: &impl Fn(u64) -> bool,
) -> Vec<(usize, u64, &'w [u8])> {
    window
        .iter()
        .enumerate()
        .filter_map(|(wi, item)| {
            let Item::Ready(h) = item else { return None };
            let number = h.block.header.number;
            let reveal = h.block.header.random_reveal.as_ref()?;
            randao_active(number).then_some((wi, number, &reveal[..]))
        })
        .collect()
}

/// The seal signers of every block of the window whose seals all have a signer.
fn seal_signers(window: &Window<Recovered>) -> Vec<SealSigners> {
    window
        .iter()
        .filter_map(|item| {
            let Item::Ready(r) = item else { return None };
            let seals = r.seals.as_ref().ok()?;
            let proposer = *seals.proposer.as_ref().ok()?;
            let committers = seals
                .committers
                .as_ref()?
                .iter()
                .map(|c| c.as_ref().ok().copied())
                .collect::<Option<Vec<Address>>>()?;
            Some(SealSigners {
                number: r.block.header.number,
                validators: seals.extra.validators.clone(),
                proposer,
                committers,
            })
        })
        .collect()
}

fn seal_bound(cfg: &StageConfig, extra: &IstanbulExtra) -> usize {
    cfg.seal_bound
        .max(extra.validators.len())
        .min(super::MAX_COUNCIL)
}

fn recovered(
    h: Hashed,
    cfg: &StageConfig,
    answers: &mut Answers<impl Iterator<Item = Result<Address, RecoverError>>>,
) -> Recovered {
    let seals = h.extra.map(|extra| {
        let proposer = match seal_sig(&extra.seal) {
            Some(_) => answers.next().map_err(|e| e.to_string()),
            None => Err(format!(
                "proposer seal is {} bytes, expected 65",
                extra.seal.len()
            )),
        };
        let committers = (extra.committed_seals.len() <= seal_bound(cfg, &extra)).then(|| {
            extra
                .committed_seals
                .iter()
                .map(|s| match seal_sig(s) {
                    Some(_) => answers.next().map_err(|e| e.to_string()),
                    None => Err(format!("committed seal is {} bytes, expected 65", s.len())),
                })
                .collect()
        });
        Seals {
            extra,
            proposer,
            committers,
        }
    });
    let txs = h
        .txs
        .map(|ts| ts.into_iter().map(|t| tx_recovered(t, answers)).collect());
    Recovered {
        position: h.position,
        block: h.block,
        hash: h.hash,
        sig_hash: h.sig_hash,
        seals,
        reveal: None,
        txs,
        tx_root: h.tx_root,
    }
}

/// One BLS batch for the randao reveals of the window's recovered proposers: `reveals` are the
/// window indices of the reveals `reveals_of` found, `prepared` theirs in the same order. A
/// reveal whose proposer did not recover, or has no key, is not checked (the judge says why).
fn check_reveals(
    window: &mut Window<Recovered>,
    reveals: &[usize],
    prepared: &[bls::Prepared],
    bls_keys: &HashMap<Address, BlsPublicKey>,
) {
    let mut owners = Vec::new();
    let mut items = Vec::new();
    for (&wi, p) in reveals.iter().zip(prepared) {
        let Some(Item::Ready(r)) = window.get(wi) else {
            continue;
        };
        let Ok(Seals {
            proposer: Ok(proposer),
            ..
        }) = &r.seals
        else {
            continue;
        };
        let Some(pk) = bls_keys.get(proposer) else {
            continue;
        };
        owners.push(wi);
        items.push((pk, p));
    }
    let results = bls::verify_prepared(&items);
    for (wi, res) in owners.into_iter().zip(results) {
        if let Some(Item::Ready(r)) = window.get_mut(wi) {
            r.reveal = Some(res);
        }
    }
}

/// One transaction through the same hash and recover code as a block's (`ranger inspect tx`):
/// its hashes and every signer, or why the node could not tell.
pub fn recover_transaction(
    tx: &Transaction,
    chain_id: Option<u64>,
    backend: &dyn Backend,
) -> Result<TxRecovered, Undecided> {
    let mut one = recover_transactions(std::slice::from_ref(tx), chain_id, backend)?;
    one.pop()
        .ok_or_else(|| Undecided::Internal("recovering one transaction gave no answer".to_owned()))
}

/// Loose transactions (the offload API) through the same code, in one hash batch and one
/// recovery batch: their hashes and signers in order, or why the node could not tell. Each
/// transaction is signed for `chain_id`, or, when `None`, for the chain id it claims.
pub fn recover_transactions(
    txs: &[Transaction],
    chain_id: Option<u64>,
    backend: &dyn Backend,
) -> Result<Vec<TxRecovered>, Undecided> {
    let backend = CheckedBackend::new(backend);
    let mut batch = MessageBatch::new();
    let prepared: Vec<(Option<u64>, TxSlots)> = txs
        .iter()
        .map(|tx| {
            let c = chain_id.or_else(|| claimed_chain_id(tx));
            (c, push_tx_preimages(&mut batch, tx, c.unwrap_or(0)))
        })
        .collect();
    let hashes = backend.keccak(&batch)?;
    let hashed: Vec<TxHashed> = txs
        .iter()
        .zip(prepared)
        .map(|(tx, (c, slots))| tx_hashed(tx, slots, &hashes, c, None))
        .collect();
    let mut items = Vec::new();
    let mut claims = Vec::new();
    for t in &hashed {
        push_tx_items(&mut items, &mut claims, t);
    }
    let results = backend.recover(&items)?;
    let mut answers = Answers::new(results.into_iter());
    let recovered = hashed
        .into_iter()
        .map(|t| tx_recovered(t, &mut answers))
        .collect();
    answers.exact()?;
    Ok(recovered)
}
