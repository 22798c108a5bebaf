//! The council's contribution ledger (proof of contribution): rangers commit to a report,
//! then reveal it; the council re-verifies each report against its own chain and credits the
//! earliest commitment whose reveal is valid. `ranger_commitReport(commitment)`,
//! `ranger_submitReport(encoded, salt?)`, `ranger_getContributions()`.
//!
//! Why commit first: a report gossiped between rangers can be copied and re-signed by anyone. A
//! commitment `keccak256(fault_id ‖ reporter ‖ salt)` recorded before the report is published
//! names the reporter without showing the fault, so the first ranger to prove a fault commits
//! before anyone else can know it, and a copier's commitment always comes later. A report
//! submitted without a salt is checked and acknowledged, never credited. A reveal must come within
//! `REVEAL_WINDOW` of its commitment, so an old unrevealed commitment cannot take a credit back
//! long after the fact.
//!
//! The ledger lives in the council's store (`store::ledger`), so it survives restarts.

use crate::serve::kaia::ChainView;
use crate::serve::{NODE_ERROR, invalid_params};
use crate::store::ledger::{Contribution, LedgerError};
use crate::store::{Store, StoreError};
use alloy_primitives::B256;
use anyhow::Result;
use jsonrpsee::RpcModule;
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use ranger::codec::block::decode_block;
use ranger::codec::header::decode_header;
use ranger::consensus::istanbul::block_hash;
use ranger::report::{CheckContext, Evidence, FaultReport, Proven, check};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// JSON-RPC error code of a report the council refuses (forged, false, not about its chain, or
/// a reveal without its commitment).
pub const REPORT_REFUSED: i32 = -32010;
/// Commitments the ledger holds at most.
const MAX_COMMITMENTS: usize = 1_000_000;
/// How long after its commitment a reveal is accepted.
pub const REVEAL_WINDOW: Duration = Duration::from_secs(600);
/// A submitted report's witness over this is held beside it, so the table of held reports (listed
/// whole by `ranger_getReports`) stays small; `ranger_getWitness` serves it.
const HELD_WITNESS_BYTES: usize = crate::reports::DEFAULT_GOSSIP_WITNESS_BYTES;

/// What the ledger methods read.
pub struct Ledger {
    pub store: Arc<Store>,
    pub check: CheckContext,
    pub chain: Arc<dyn ChainView>,
}

fn refused(msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(REPORT_REFUSED, msg.into(), None::<()>)
}

fn store_err(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(NODE_ERROR, format!("council error: {e}"), None::<()>)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn hex_arg(s: &str, what: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map_err(|e| invalid_params(format!("{what} is not hex: {e}")))
}

fn b256_arg(s: &str, what: &str) -> Result<B256, ErrorObjectOwned> {
    let b = hex_arg(s, what)?;
    if b.len() != 32 {
        return Err(invalid_params(format!(
            "{what} is {} bytes, not 32",
            b.len()
        )));
    }
    Ok(B256::from_slice(&b))
}

impl Ledger {
    fn head(&self) -> Result<u64, ErrorObjectOwned> {
        self.chain.head().map(|h| h.unwrap_or(0)).map_err(store_err)
    }

    /// The hash of block `n` of the council's own chain.
    fn own_hash(&self, n: u64) -> Result<Option<B256>, ErrorObjectOwned> {
        let raw = self.chain.block(n).map_err(store_err)?;
        Ok(raw
            .and_then(|r| decode_block(&r).ok())
            .map(|b| block_hash(&b.header)))
    }

    fn commit(&self, commitment: B256) -> Result<Value, ErrorObjectOwned> {
        let head = self.head()?;
        let c = self
            .store
            .record_commitment(&commitment, head, now_ms(), MAX_COMMITMENTS)
            .map_err(|e| match e {
                LedgerError::Full(_) => {
                    ErrorObject::owned(crate::serve::LIMIT_ERROR, e.to_string(), None::<()>)
                }
                LedgerError::Store(e) => store_err(e),
            })?;
        Ok(json!({"commitment": commitment, "commit_block": c.commit_block, "seq": c.seq}))
    }

    /// Checks the report, then that it is about this council's chain.
    fn verify(&self, bytes: &[u8]) -> Result<(FaultReport, Proven), ErrorObjectOwned> {
        let (report, proven) = check(bytes, &self.check).map_err(|e| match e {
            // Not a verdict on the report: the council could not check it (its own failure,
            // or a witness the submitter left detached).
            e if e.is_ours() => store_err(e),
            e => refused(e.to_string()),
        })?;
        let own = self.own_hash(report.block_number)?;
        let ours = match &report.evidence {
            Evidence::Equivocation { second, .. } => {
                let other = decode_header(second).ok().map(|h| block_hash(&h));
                own.is_some() && (own == Some(report.block_hash) || own == other)
            }
            _ => own == Some(report.block_hash),
        };
        if !ours {
            return Err(refused(format!(
                "block {} of this council's chain is {}; the report is about {}",
                report.block_number,
                own.map_or_else(|| "not produced yet".to_owned(), |h| h.to_string()),
                report.block_hash
            )));
        }
        Ok((report, proven))
    }

    fn submit(&self, bytes: &[u8], salt: Option<B256>) -> Result<Value, ErrorObjectOwned> {
        let (report, proven) = self.verify(bytes)?;
        let opened = match salt {
            None => None,
            Some(salt) => {
                let c = ranger::report::commitment(&proven.fault_id, &report.reporter, &salt);
                let rec = self.store.commitment(&c).map_err(store_err)?.ok_or_else(|| {
                    refused(format!(
                        "no commitment {c} is recorded for this fault, reporter and salt: commit first (ranger_commitReport)"
                    ))
                })?;
                if now_ms().saturating_sub(rec.at_ms) > REVEAL_WINDOW.as_millis() as u64 {
                    return Err(refused(format!(
                        "commitment {c} is older than the {}-second reveal window",
                        REVEAL_WINDOW.as_secs()
                    )));
                }
                Some(rec)
            }
        };
        let entry = Contribution {
            fault_id: proven.fault_id,
            block: proven.block,
            kind: proven.kind.as_str().to_owned(),
            reporter: report.reporter,
            commit_block: opened.map(|c| c.commit_block),
            commit_seq: opened.map(|c| c.seq),
            credited: false,
        };
        let all = self.store.contribute(entry).map_err(store_err)?;
        self.store
            .hold(&report, "submitted", HELD_WITNESS_BYTES)
            .map_err(|e: StoreError| store_err(e))?;
        let mine = all.iter().find(|e| e.reporter == report.reporter);
        let credited = mine.is_some_and(|e| e.credited);
        tracing::info!(target: "ranger::council", "report of {} at block {} by {:#x}: valid{}", proven.kind, proven.block, report.reporter,
            if credited { ", credited" } else { "" });
        Ok(json!({
            "fault_id": proven.fault_id,
            "block": proven.block,
            "kind": proven.kind,
            "reporter": report.reporter,
            "commit_block": mine.and_then(|e| e.commit_block),
            "credited": credited,
        }))
    }
}

/// The ledger's methods.
pub fn module(ledger: Ledger) -> Result<RpcModule<Ledger>> {
    let mut m = RpcModule::new(ledger);
    m.register_method("ranger_commitReport", |p, l, _| {
        let (c,): (String,) = p.parse()?;
        l.commit(b256_arg(&c, "the commitment")?)
    })?;
    m.register_blocking_method("ranger_submitReport", |p, l, _| {
        let mut seq = p.sequence();
        let encoded: String = seq.next()?;
        let salt: Option<String> = seq.optional_next()?;
        let bytes = hex_arg(&encoded, "the report")?;
        let salt = salt.map(|s| b256_arg(&s, "the salt")).transpose()?;
        l.submit(&bytes, salt)
    })?;
    crate::serve::register_get_witness(&mut m, |l: &Ledger| &l.store)?;
    m.register_method("ranger_getContributions", |_, l, _| {
        l.store.contributions().map_err(store_err)
    })?;
    Ok(m)
}
