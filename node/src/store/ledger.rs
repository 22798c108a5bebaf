//! Reports and contributions in the store: the fault reports a ranger holds (its own and those
//! relayed to it, one per fault id), and on a council the contribution ledger — the commitments
//! rangers made and who is credited for each fault.
//!
//! Invariant: the crediting decision for a fault is made inside one write transaction, from
//! everything recorded for that fault, so two reveals arriving at once cannot both be credited.

use super::{Store, StoreError, hex_bytes, json};
use alloy_primitives::{Address, B256};
use ranger::report::{Evidence, FaultReport, WitnessPart};
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

/// Fault id → a held report (JSON).
pub(super) const REPORTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("reports");
/// keccak256 of a witness → the witness, for reports held with their witness detached.
pub(super) const WITNESSES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("witnesses");
/// Commitment → when it was recorded (JSON).
pub(super) const COMMITMENTS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("commitments");
/// Fault id → every valid submission of it (JSON list).
pub(super) const CONTRIBUTIONS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("contributions");

const META_COMMIT_SEQ: &str = "commit_seq";

/// Reports one `reports` call lists at most.
pub const MAX_LISTED: usize = 1024;

/// A report a node holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeldReport {
    pub fault_id: B256,
    pub block: u64,
    pub kind: String,
    pub reporter: Address,
    /// `own` (this node proved it) or `relayed` (a peer's, checked here).
    pub origin: String,
    /// The canonical signed bytes, the witness detached when it was too large to gossip.
    #[serde(with = "hex_bytes")]
    pub encoded: Vec<u8>,
    /// The keccak256 of the detached witness (`ranger_getWitness` serves it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<B256>,
}

impl HeldReport {
    /// What a node holds of `report` (encoded as it is), marked as `origin`'s.
    pub fn of(report: &FaultReport, origin: &str) -> Self {
        Self {
            fault_id: report.fault_id(),
            block: report.block_number,
            kind: report.kind.as_str().to_owned(),
            reporter: report.reporter,
            origin: origin.to_owned(),
            encoded: report.encode(),
            witness: report.missing_witness().map(|(hash, _)| hash),
        }
    }
}

/// A commitment as the council recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Commitment {
    /// Order of arrival among all commitments (the tie-break within one block).
    pub seq: u64,
    /// The council's head when it was recorded.
    pub commit_block: u64,
    /// Unix time in milliseconds when it was recorded.
    pub at_ms: u64,
}

/// One valid submission of a fault to the council.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contribution {
    pub fault_id: B256,
    pub block: u64,
    pub kind: String,
    pub reporter: Address,
    /// The commitment the reveal opened (none for a report submitted without one).
    pub commit_block: Option<u64>,
    pub commit_seq: Option<u64>,
    pub credited: bool,
}

/// Why the ledger refused.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the ledger holds {0} commitments, its bound; try again when older ones expire")]
    Full(usize),
}

impl Store {
    /// Holds `r` unless a report of its fault is held already; true when it is new.
    pub fn hold_report(&self, r: &HeldReport) -> Result<bool, StoreError> {
        let mut new = false;
        self.write(|tx| {
            let mut t = tx.open_table(REPORTS)?;
            if t.get(&r.fault_id.0)?.is_none() {
                t.insert(&r.fault_id.0, json(r)?.as_slice())?;
                new = true;
            }
            Ok(())
        })?;
        Ok(new)
    }

    /// Holds `report` as `origin`'s unless its fault is held already (true when new), with a
    /// witness over `max_carried` bytes detached from it and held beside it; returns the form held.
    pub fn hold(
        &self,
        report: &FaultReport,
        origin: &str,
        max_carried: usize,
    ) -> Result<(HeldReport, bool), StoreError> {
        let large = matches!(&report.evidence,
            Evidence::Block { witness: WitnessPart::Carried(w), .. } if w.len() > max_carried);
        // Only a report whose witness leaves it is copied.
        let held = match large.then(|| report.clone()) {
            Some(mut thin) => {
                if let Some(w) = thin.detach_witness() {
                    self.hold_witness(&w)?;
                }
                HeldReport::of(&thin, origin)
            }
            None => HeldReport::of(report, origin),
        };
        let new = self.hold_report(&held)?;
        Ok((held, new))
    }

    /// `report` with its detached witness attached again from the store (as it is when nothing
    /// is detached); an error when the store lacks the witness.
    pub fn attached(&self, mut report: FaultReport) -> Result<FaultReport, StoreError> {
        if let Some((hash, _)) = report.missing_witness() {
            let damaged = |message: String| StoreError::Damaged {
                path: self.path.clone(),
                what: format!("witness {hash}"),
                message,
            };
            let w = self
                .witness(&hash)?
                .ok_or_else(|| damaged("a held report names it and it is not held".into()))?;
            report
                .attach_witness(w)
                .map_err(|e| damaged(e.to_string()))?;
        }
        Ok(report)
    }

    /// Holds a witness under its keccak256 (before the report that names it, so a report held
    /// is never without its witness).
    pub fn hold_witness(&self, witness: &[u8]) -> Result<B256, StoreError> {
        let hash = ranger::crypto::keccak256(witness);
        self.write(|tx| {
            tx.open_table(WITNESSES)?.insert(&hash.0, witness)?;
            Ok(())
        })?;
        Ok(hash)
    }

    /// The witness held under `hash`.
    pub fn witness(&self, hash: &B256) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|tx| {
            let t = tx.open_table(WITNESSES)?;
            Ok(t.get(&hash.0)?.map(|v| v.value().to_vec()))
        })
    }

    /// The report held for `fault_id`.
    pub fn held_report(&self, fault_id: &B256) -> Result<Option<HeldReport>, StoreError> {
        let raw = self.read(|tx| {
            let t = tx.open_table(REPORTS)?;
            Ok(t.get(&fault_id.0)?.map(|v| v.value().to_vec()))
        })?;
        raw.map(|b| self.decode(&b, "held report")).transpose()
    }

    /// Every value of `table` (a ledger table, keyed by hash).
    fn values(&self, table: TableDefinition<&[u8; 32], &[u8]>) -> Result<Vec<Vec<u8>>, StoreError> {
        self.read(|tx| {
            let t = tx.open_table(table)?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                let (_, v) = entry?;
                out.push(v.value().to_vec());
            }
            Ok(out)
        })
    }

    /// Held reports of blocks `from..=to`, in block order, at most `MAX_LISTED`.
    pub fn held_reports(&self, from: u64, to: u64) -> Result<Vec<HeldReport>, StoreError> {
        let raw = self.values(REPORTS)?;
        let mut all: Vec<HeldReport> = raw
            .iter()
            .map(|b| self.decode(b, "held report"))
            .collect::<Result<_, _>>()?;
        all.retain(|r| (from..=to).contains(&r.block));
        all.sort_by_key(|r| (r.block, r.kind.clone(), r.fault_id));
        all.truncate(MAX_LISTED);
        Ok(all)
    }

    /// Records `commitment` at the council's head `head` (once: recording it again gives the
    /// first record), unless `max` commitments are held.
    pub fn record_commitment(
        &self,
        commitment: &B256,
        head: u64,
        at_ms: u64,
        max: usize,
    ) -> Result<Commitment, LedgerError> {
        let mut out = None;
        self.write(|tx| {
            let mut t = tx.open_table(COMMITMENTS)?;
            if let Some(v) = t.get(&commitment.0)? {
                // Recorded before: the first record stands (a damaged one is an error, never
                // overwritten).
                out = Some(serde_json::from_slice(v.value()).map_err(|e| {
                    redb::Error::Io(std::io::Error::other(format!(
                        "stored commitment does not decode: {e}"
                    )))
                })?);
                return Ok(());
            }
            if t.len()? as usize >= max {
                return Ok(());
            }
            let mut meta = tx.open_table(super::META)?;
            let seq = match meta.get(META_COMMIT_SEQ)? {
                Some(v) => serde_json::from_slice::<u64>(v.value()).map_err(|e| {
                    redb::Error::Io(std::io::Error::other(format!(
                        "stored commitment counter does not decode: {e}"
                    )))
                })?,
                None => 0,
            };
            meta.insert(META_COMMIT_SEQ, json(&(seq + 1))?.as_slice())?;
            let c = Commitment {
                seq,
                commit_block: head,
                at_ms,
            };
            t.insert(&commitment.0, json(&c)?.as_slice())?;
            out = Some(c);
            Ok(())
        })?;
        // Nothing recorded only when the ledger is full.
        out.ok_or(LedgerError::Full(max))
    }

    /// The record of `commitment`, if it was made.
    pub fn commitment(&self, commitment: &B256) -> Result<Option<Commitment>, StoreError> {
        let raw = self.read(|tx| {
            let t = tx.open_table(COMMITMENTS)?;
            Ok(t.get(&commitment.0)?.map(|v| v.value().to_vec()))
        })?;
        raw.map(|b| self.decode(&b, "commitment")).transpose()
    }

    /// Records a valid submission and decides, from every submission of its fault, who is
    /// credited: the earliest commitment (by order of arrival) whose reveal is valid. A reporter
    /// submitting again keeps its first entry, unless the new one opens a commitment and the
    /// first did not. Returns the fault's submissions after the decision.
    pub fn contribute(&self, c: Contribution) -> Result<Vec<Contribution>, StoreError> {
        let mut out = Vec::new();
        self.write(|tx| {
            let mut t = tx.open_table(CONTRIBUTIONS)?;
            let mut all: Vec<Contribution> = match t.get(&c.fault_id.0)? {
                Some(v) => serde_json::from_slice(v.value())
                    .map_err(|e| redb::Error::Io(std::io::Error::other(e)))?,
                None => Vec::new(),
            };
            match all.iter_mut().find(|e| e.reporter == c.reporter) {
                Some(e) if e.commit_seq.is_none() && c.commit_seq.is_some() => *e = c.clone(),
                Some(_) => {}
                None => all.push(c.clone()),
            }
            let first = all.iter().filter_map(|e| e.commit_seq).min();
            for e in &mut all {
                e.credited = e.commit_seq.is_some() && e.commit_seq == first;
            }
            t.insert(&c.fault_id.0, json(&all)?.as_slice())?;
            out = all;
            Ok(())
        })?;
        Ok(out)
    }

    /// Every submission recorded, by block, at most `MAX_LISTED`.
    pub fn contributions(&self) -> Result<Vec<Contribution>, StoreError> {
        let raw = self.values(CONTRIBUTIONS)?;
        let mut all = Vec::new();
        for b in &raw {
            all.extend(self.decode::<Vec<Contribution>>(b, "contributions")?);
        }
        all.sort_by_key(|c| (c.block, c.kind.clone(), c.commit_seq.unwrap_or(u64::MAX)));
        all.truncate(MAX_LISTED);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ChainId;

    fn store(name: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ranger-ledger-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Store::open(
            &dir,
            ChainId {
                chain_id: 1,
                genesis: B256::ZERO,
            },
        )
        .unwrap();
        (s, dir)
    }

    fn entry(reporter: u8, seq: Option<u64>) -> Contribution {
        Contribution {
            fault_id: B256::repeat_byte(9),
            block: 3,
            kind: "below-quorum".into(),
            reporter: Address::repeat_byte(reporter),
            commit_block: seq,
            commit_seq: seq,
            credited: false,
        }
    }

    #[test]
    fn the_earliest_commitment_is_credited_whatever_the_order_of_reveals() {
        let (s, dir) = store("credit");
        // A reveal without commitment is acknowledged, never credited.
        let all = s.contribute(entry(1, None)).unwrap();
        assert!(!all[0].credited);
        // The later commitment reveals first and is credited for now...
        let all = s.contribute(entry(2, Some(5))).unwrap();
        assert!(
            all.iter()
                .find(|e| e.reporter == Address::repeat_byte(2))
                .unwrap()
                .credited
        );
        // ...until the earlier one reveals.
        let all = s.contribute(entry(3, Some(4))).unwrap();
        let credited: Vec<_> = all.iter().filter(|e| e.credited).collect();
        assert_eq!(credited.len(), 1);
        assert_eq!(credited[0].reporter, Address::repeat_byte(3));
        // The same reporter again changes nothing.
        assert_eq!(s.contribute(entry(3, Some(4))).unwrap(), all);
        assert_eq!(s.contributions().unwrap().len(), 3);
        drop(s);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn commitments_are_recorded_once_in_order_and_bounded() {
        let (s, dir) = store("commit");
        let a = s
            .record_commitment(&B256::repeat_byte(1), 10, 0, 2)
            .unwrap();
        let b = s
            .record_commitment(&B256::repeat_byte(2), 10, 0, 2)
            .unwrap();
        assert!(a.seq < b.seq);
        assert_eq!(
            s.record_commitment(&B256::repeat_byte(1), 99, 0, 2)
                .unwrap(),
            a
        );
        assert!(matches!(
            s.record_commitment(&B256::repeat_byte(3), 10, 0, 2),
            Err(LedgerError::Full(2))
        ));
        assert_eq!(s.commitment(&B256::repeat_byte(2)).unwrap(), Some(b));
        drop(s);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_fault_is_held_once() {
        let (s, dir) = store("held");
        let r = HeldReport {
            fault_id: B256::repeat_byte(1),
            block: 4,
            kind: "wrong-state-root".into(),
            reporter: Address::repeat_byte(1),
            origin: "own".into(),
            encoded: vec![1, 2, 3],
            witness: None,
        };
        assert!(s.hold_report(&r).unwrap());
        let mut other = r.clone();
        other.reporter = Address::repeat_byte(2);
        assert!(!s.hold_report(&other).unwrap());
        assert_eq!(s.held_reports(0, 10).unwrap(), vec![r]);
        assert!(s.held_reports(5, 10).unwrap().is_empty());
        drop(s);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_large_witness_is_held_beside_its_report_and_attached_again() {
        use ranger::consensus::FaultKind;
        use ranger::crypto::secp::SigningKey;
        let (s, dir) = store("witness");
        let report = |w: Vec<u8>, block| {
            FaultReport::sign(
                9,
                block,
                B256::repeat_byte(block as u8),
                FaultKind::WrongStateRoot,
                Evidence::Block {
                    parent: vec![1],
                    header: vec![2],
                    transactions: vec![vec![3]],
                    witness: WitnessPart::Carried(w),
                },
                &SigningKey::from_seed(1, 1),
            )
        };
        let big = report(vec![5; 2000], 1);
        let (held, new) = s.hold(&big, "own", 1000).unwrap();
        assert!(new);
        let hash = held.witness.expect("detached");
        assert!(held.encoded.len() < 1000);
        assert_eq!(s.witness(&hash).unwrap(), Some(vec![5; 2000]));
        let thin = FaultReport::decode(&held.encoded).unwrap();
        assert_eq!(thin.missing_witness(), Some((hash, 2000)));
        assert_eq!(s.attached(thin).unwrap(), big);
        assert_eq!(s.held_report(&big.fault_id()).unwrap(), Some(held));

        // At or under the bound the witness stays in the report.
        let small = report(vec![6; 1000], 2);
        let (held, _) = s.hold(&small, "own", 1000).unwrap();
        assert_eq!(held.witness, None);
        assert_eq!(held.encoded, small.encode());

        // A held report whose witness is gone is reported as damage, not sent without it.
        let mut orphan = report(vec![7; 3000], 3);
        orphan.detach_witness();
        assert!(matches!(
            s.attached(orphan),
            Err(StoreError::Damaged { .. })
        ));
        drop(s);
        let _ = std::fs::remove_dir_all(dir);
    }
}
