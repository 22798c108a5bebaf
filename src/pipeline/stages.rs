//! The data-parallel stages of the pipeline, each a plain function over a window of blocks so it
//! can be tested alone: decode, hash (every preimage of the window in two keccak batches) and
//! recover (every seal and transaction signature of the window in one recovery batch, plus one BLS
//! batch for the randao reveals).

use super::PipelineConfig;
use crate::codec::DecodeError;
use crate::codec::block::decode_block;
use crate::codec::header::decode_extra;
use crate::codec::tx::{
    fee_payer_sig_preimage, sender_tx_hash_preimage, sig_preimage, tx_hash_preimage,
};
use crate::consensus::istanbul::{MSG_COMMIT, hash_preimages};
use crate::consensus::txsig::{SigRole, check_tx_sig, claimed_chain_id};
use crate::consensus::{Fault, FaultKind};
use crate::crypto::bls::{self, BlsError, BlsPublicKey, SignatureSet};
use crate::crypto::secp::{RecoverError, RecoverItem, Signature65};
use crate::crypto::{Backend, MessageBatch};
use crate::primitives::{Block, IstanbulExtra};
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
}

/// A signature's recovery result, or the rule it broke before recovery.
pub type Recovered = Result<Address, Fault>;

/// Per-transaction work.
#[derive(Debug, Clone)]
pub struct TxWork {
    pub tx_hash: B256,
    pub sender_tx_hash: B256,
    pub chain_id: Option<u64>,
    /// One per sender signature.
    pub senders: Vec<Recovered>,
    pub fee_payer_signer: Option<Recovered>,
    /// Sig hashes (sender, fee payer), kept for reports.
    pub sig_hash: B256,
    pub fee_payer_sig_hash: Option<B256>,
    pending: Vec<(usize, Option<Signature65>)>,
    pending_fp: Option<Signature65>,
}

/// The tx-root computations of a block.
#[derive(Debug, Clone)]
pub struct TxRootWork {
    /// (impl, root) for the configured impl first, then the others when asked to try them all.
    pub roots: Vec<(DeriveShaImpl, B256)>,
}

/// A block on its way through the stages.
#[derive(Debug)]
pub struct Work {
    pub position: u64,
    pub block: Result<Block, DecodeError>,
    pub hash: B256,
    pub sig_hash: Option<B256>,
    pub extra: Result<IstanbulExtra, DecodeError>,
    pub proposer: Option<Result<Address, String>>,
    /// `None` when the seals were not recovered (more than the recovery bound).
    pub committers: Option<Vec<Result<Address, String>>>,
    pub reveal: Option<Result<(), BlsError>>,
    pub txs: Vec<TxWork>,
    pub tx_root: Option<TxRootWork>,
    proposer_msg: B256,
    commit_msg: B256,
}

impl Work {
    fn new(position: u64, block: Result<Block, DecodeError>) -> Self {
        Work {
            position,
            block,
            hash: B256::ZERO,
            sig_hash: None,
            extra: Err(DecodeError::invalid("extraData", "not decoded")),
            proposer: None,
            committers: None,
            reveal: None,
            txs: Vec::new(),
            tx_root: None,
            proposer_msg: B256::ZERO,
            commit_msg: B256::ZERO,
        }
    }
}

/// Decodes a window of inputs in parallel.
pub fn decode_window(inputs: Vec<(u64, Input)>) -> Vec<Work> {
    inputs
        .into_par_iter()
        .map(|(pos, input)| {
            let block = match input {
                Input::Rlp(bytes) => decode_block(&bytes),
                Input::Block(b) => Ok(*b),
            };
            Work::new(pos, block)
        })
        .collect()
}

/// Where each hash of a window sits in the keccak batch.
struct HashSlots {
    block: usize,
    sig: Option<usize>,
    txs: Vec<TxSlots>,
}

struct TxSlots {
    tx: usize,
    sender_tx: Option<usize>,
    sig: usize,
    fee_payer_sig: Option<usize>,
}

/// The hash stage: block hashes, sigHashes, tx hashes and sig hashes of the window in one keccak
/// batch, the seal messages in a second, and the transaction roots.
pub fn hash_window(window: &mut [Work], cfg: &PipelineConfig, backend: &dyn Backend) {
    let mut batch = MessageBatch::new();
    let mut slots = Vec::with_capacity(window.len());
    for w in window.iter_mut() {
        let Ok(block) = &w.block else {
            slots.push(None);
            continue;
        };
        w.extra = decode_extra(&block.header.extra);
        let (block_pre, sig_pre) = hash_preimages(&block.header, w.extra.as_ref());
        let bslot = batch.push(&block_pre);
        let sslot = sig_pre.map(|p| batch.push(&p));
        let mut txs = Vec::new();
        if cfg.check_transactions {
            for tx in &block.transactions {
                let chain_id = cfg.chain_id.or_else(|| claimed_chain_id(tx)).unwrap_or(0);
                txs.push(TxSlots {
                    tx: batch.push(tx_hash_preimage(tx)),
                    sender_tx: sender_tx_hash_preimage(tx).map(|p| batch.push(&p)),
                    sig: batch.push(&sig_preimage(tx, chain_id)),
                    fee_payer_sig: fee_payer_sig_preimage(tx, chain_id).map(|p| batch.push(&p)),
                });
            }
        }
        slots.push(Some(HashSlots {
            block: bslot,
            sig: sslot,
            txs,
        }));
    }
    let hashes = backend.keccak_batch(&batch);

    let mut seal_msgs = MessageBatch::new();
    for (w, s) in window.iter_mut().zip(&slots) {
        let Some(s) = s else { continue };
        w.hash = hashes[s.block];
        w.sig_hash = s.sig.map(|i| hashes[i]);
        seal_msgs.push(w.sig_hash.unwrap_or_default().as_slice());
        let mut commit = [0u8; 33];
        commit[..32].copy_from_slice(w.hash.as_slice());
        commit[32] = MSG_COMMIT;
        seal_msgs.push(&commit);
        let Ok(block) = &w.block else { continue };
        w.txs = block
            .transactions
            .iter()
            .zip(&s.txs)
            .map(|(tx, ts)| {
                let tx_hash = hashes[ts.tx];
                let chain_id = cfg.chain_id.or_else(|| claimed_chain_id(tx));
                let c = chain_id.unwrap_or(0);
                let pending = tx
                    .signatures
                    .iter()
                    .enumerate()
                    .map(|(i, sig)| (i, check_tx_sig(tx, sig, c, SigRole::Sender)))
                    .collect::<Vec<_>>();
                let senders = pending
                    .iter()
                    .map(|(_, r)| match r {
                        Ok(_) => Err(Fault::new(FaultKind::BadTxSignature, "not recovered")),
                        Err(f) => Err(f.clone()),
                    })
                    .collect();
                let fp = tx
                    .fee_payer_signatures
                    .first()
                    .map(|sig| check_tx_sig(tx, sig, c, SigRole::FeePayer));
                TxWork {
                    tx_hash,
                    sender_tx_hash: ts.sender_tx.map_or(tx_hash, |i| hashes[i]),
                    chain_id,
                    senders,
                    fee_payer_signer: fp.as_ref().map(|r| match r {
                        Ok(_) => Err(Fault::new(FaultKind::BadFeePayerSignature, "not recovered")),
                        Err(f) => Err(f.clone()),
                    }),
                    sig_hash: hashes[ts.sig],
                    fee_payer_sig_hash: ts.fee_payer_sig.map(|i| hashes[i]),
                    pending: pending.into_iter().map(|(i, r)| (i, r.ok())).collect(),
                    pending_fp: fp.and_then(Result::ok),
                }
            })
            .collect();
    }
    let seal_hashes = backend.keccak_batch(&seal_msgs);
    let mut k = 0;
    for (w, s) in window.iter_mut().zip(&slots) {
        if s.is_none() {
            continue;
        }
        w.proposer_msg = seal_hashes[k];
        w.commit_msg = seal_hashes[k + 1];
        k += 2;
    }

    if cfg.check_transactions {
        window.par_iter_mut().for_each(|w| {
            let Ok(block) = &w.block else { return };
            let items: Vec<&[u8]> = block.transactions.iter().map(|t| &t.raw[..]).collect();
            let mut roots = vec![(cfg.derive_sha, derive_sha(cfg.derive_sha, &items, backend))];
            if cfg.try_every_derive_sha && roots[0].1 != block.header.tx_root {
                for imp in [
                    DeriveShaImpl::Orig,
                    DeriveShaImpl::Simple,
                    DeriveShaImpl::Concat,
                ] {
                    if imp != cfg.derive_sha {
                        roots.push((imp, derive_sha(imp, &items, backend)));
                    }
                }
            }
            w.tx_root = Some(TxRootWork { roots });
        });
    }
}

/// What a recovery slot belongs to.
#[derive(Clone, Copy)]
enum Slot {
    Proposer(usize),
    Committed(usize, usize),
    Sender(usize, usize, usize),
    FeePayer(usize, usize),
}

fn seal_sig(bytes: &[u8]) -> Option<Signature65> {
    bytes.try_into().ok().map(Signature65)
}

fn describe(e: RecoverError) -> String {
    e.to_string()
}

/// The recover stage: every seal and transaction signature of the window in one batch, then one
/// BLS batch for the randao reveals of the proposers just recovered.
pub fn recover_window(
    window: &mut [Work],
    cfg: &PipelineConfig,
    bls_keys: &HashMap<Address, BlsPublicKey>,
    backend: &dyn Backend,
) {
    let mut items = Vec::new();
    let mut slots = Vec::new();
    for (wi, w) in window.iter_mut().enumerate() {
        let Ok(extra) = &w.extra else { continue };
        match seal_sig(&extra.seal) {
            Some(sig) => {
                items.push(RecoverItem {
                    hash: w.proposer_msg,
                    sig,
                });
                slots.push(Slot::Proposer(wi));
            }
            None => {
                w.proposer = Some(Err(format!(
                    "proposer seal is {} bytes, expected 65",
                    extra.seal.len()
                )))
            }
        }
        let bound = cfg
            .seal_bound
            .max(extra.validators.len())
            .min(super::MAX_COUNCIL);
        if extra.committed_seals.len() <= bound {
            let mut c = Vec::with_capacity(extra.committed_seals.len());
            for (si, s) in extra.committed_seals.iter().enumerate() {
                match seal_sig(s) {
                    Some(sig) => {
                        items.push(RecoverItem {
                            hash: w.commit_msg,
                            sig,
                        });
                        slots.push(Slot::Committed(wi, si));
                        c.push(Err(String::new()));
                    }
                    None => c.push(Err(format!(
                        "committed seal is {} bytes, expected 65",
                        s.len()
                    ))),
                }
            }
            w.committers = Some(c);
        }
        for (ti, t) in w.txs.iter().enumerate() {
            for (si, sig) in &t.pending {
                if let Some(sig) = sig {
                    items.push(RecoverItem {
                        hash: t.sig_hash,
                        sig: *sig,
                    });
                    slots.push(Slot::Sender(wi, ti, *si));
                }
            }
            if let (Some(sig), Some(h)) = (t.pending_fp, t.fee_payer_sig_hash) {
                items.push(RecoverItem { hash: h, sig });
                slots.push(Slot::FeePayer(wi, ti));
            }
        }
    }
    let results = backend.recover_batch(&items);
    for (slot, res) in slots.into_iter().zip(results) {
        match slot {
            Slot::Proposer(wi) => window[wi].proposer = Some(res.map_err(describe)),
            Slot::Committed(wi, si) => {
                if let Some(c) = window[wi].committers.as_mut() {
                    c[si] = res.map_err(describe);
                }
            }
            Slot::Sender(wi, ti, si) => {
                window[wi].txs[ti].senders[si] = res.map_err(|e| {
                    Fault::new(FaultKind::BadTxSignature, format!("sender signature: {e}"))
                });
            }
            Slot::FeePayer(wi, ti) => {
                window[wi].txs[ti].fee_payer_signer = Some(res.map_err(|e| {
                    Fault::new(
                        FaultKind::BadFeePayerSignature,
                        format!("fee payer signature: {e}"),
                    )
                }));
            }
        }
    }
    for t in window.iter_mut().flat_map(|w| w.txs.iter_mut()) {
        t.pending = Vec::new();
        t.pending_fp = None;
    }

    if bls_keys.is_empty() {
        return;
    }
    let msgs: Vec<[u8; 32]> = window
        .iter()
        .map(|w| {
            w.block
                .as_ref()
                .map_or([0u8; 32], |b| bls::randao_msg(b.header.number))
        })
        .collect();
    let mut sets = Vec::new();
    let mut owners = Vec::new();
    for (wi, w) in window.iter().enumerate() {
        let Ok(b) = &w.block else { continue };
        if !cfg.forks.is_randao(b.header.number) {
            continue;
        }
        let (Some(reveal), Some(Ok(proposer))) = (&b.header.random_reveal, &w.proposer) else {
            continue;
        };
        let Some(pk) = bls_keys.get(proposer) else {
            continue;
        };
        sets.push(SignatureSet {
            pk,
            msg: &msgs[wi],
            sig: reveal,
        });
        owners.push(wi);
    }
    let res = bls::verify_batch(&sets);
    for (wi, r) in owners.into_iter().zip(res) {
        window[wi].reveal = Some(r);
    }
}
