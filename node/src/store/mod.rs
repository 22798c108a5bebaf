//! The node's own copy of the chain: an embedded, crash-safe database (redb) holding the raw
//! blocks (LZ4-compressed RLP), one verdict per block, the replayed accounts and the verifier's
//! checkpoint, plus evidence of blocks a source changed under the same number, the fault reports
//! the node holds and, on a council, the contribution ledger (`ledger`).
//!
//! Invariants:
//! - Everything a window of verification produced is written in one write transaction with
//!   two-phase commit: after a crash (kill -9 included) the store holds either all of a window or
//!   none of it, and the checkpoint always describes exactly the blocks and accounts stored.
//! - A store belongs to one chain (chain id and genesis hash, written at creation); opening it for
//!   another is refused.

pub mod ledger;
pub mod record;

use crate::node::status::Tally;
use alloy_primitives::{Address, B256, U256};
use ranger::crypto::batch::{KeyCache, PublicKey};
use ranger::pipeline::{Checkpoint, Resume};
use ranger::state::Account;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};

pub use record::VerdictRecord;

/// Identity and checkpoint, by name.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Block number → LZ4-compressed RLP of the block as the source gave it.
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Block number → the verdict (JSON, the shape `ranger_getVerdict` serves).
const VERDICTS: TableDefinition<u64, &[u8]> = TableDefinition::new("verdicts");
/// Address → nonce (8 bytes, big-endian) ‖ balance (32 bytes, big-endian): the replayed state.
const ACCOUNTS: TableDefinition<&[u8; 20], &[u8; 40]> = TableDefinition::new("accounts");
/// Block number → JSON list of the other blocks sources gave for that number (evidence).
const CONFLICTS: TableDefinition<u64, &[u8]> = TableDefinition::new("conflicts");
/// Address → the signer key the verifier held for it (x ‖ y, 64 bytes): its key cache, kept so
/// that a restarted node verifies known senders against their keys from its first window
/// instead of recovering each one's first transaction again. Only ever a hint: a key that does
/// not parse is skipped, and a wrong one costs a recovery, never a verdict.
const KEYS: TableDefinition<&[u8; 20], &[u8; 64]> = TableDefinition::new("keys");

const META_CHAIN: &str = "chain";
const META_CHECKPOINT: &str = "checkpoint";

/// The file inside a datadir.
const FILE: &str = "ranger.redb";

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {message}")]
    Db { path: PathBuf, message: String },
    #[error(
        "the data directory {path} belongs to another chain (chain id {stored_id}, genesis {stored_genesis}); this node follows chain id {id}, genesis {genesis}: use another --datadir"
    )]
    OtherChain {
        path: PathBuf,
        stored_id: u64,
        stored_genesis: B256,
        id: u64,
        genesis: B256,
    },
    #[error("database {path}: stored {what} does not decode ({message}); the store is damaged")]
    Damaged {
        path: PathBuf,
        what: String,
        message: String,
    },
}

/// Which chain a store belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainId {
    pub chain_id: u64,
    pub genesis: B256,
}

/// What a store says about where verification stands.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SavedCheckpoint {
    /// The number of the last block stored (its verdict included).
    head: u64,
    verifier: Checkpoint,
    /// Verdict counts up to `head`.
    tally: Tally,
}

/// One block of a window, as it goes into the store.
#[derive(Debug, Clone)]
pub struct StoredBlock {
    pub number: u64,
    /// The block as the source gave it (RLP).
    pub raw: Vec<u8>,
    pub verdict: VerdictRecord,
}

/// Where a resumed node goes on from.
#[derive(Debug, Clone)]
pub struct Resumed {
    /// The last block stored.
    pub head: u64,
    pub resume: Resume,
    pub tally: Tally,
}

/// The database's page cache. redb's default (1 GiB) lets a node that runs for hours grow
/// toward it as the chain grows; the node reads back little (a window of blocks written once,
/// verdicts and heads served by RPC), so a small cache costs it nothing measurable.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Versions of one block kept as conflict evidence.
pub const MAX_CONFLICTS_PER_BLOCK: usize = 8;

/// The node's database.
#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the store in `datadir` for the chain `id`.
    pub fn open(datadir: &Path, id: ChainId) -> Result<Self, StoreError> {
        std::fs::create_dir_all(datadir).map_err(|source| StoreError::Dir {
            path: datadir.to_owned(),
            source,
        })?;
        let path = datadir.join(FILE);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| StoreError::Db {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let store = Self { db, path };
        // Every table exists from the start, so readers never meet a missing one.
        store.write(|tx| {
            tx.open_table(META)?;
            tx.open_table(BLOCKS)?;
            tx.open_table(VERDICTS)?;
            tx.open_table(ACCOUNTS)?;
            tx.open_table(CONFLICTS)?;
            tx.open_table(KEYS)?;
            tx.open_table(ledger::REPORTS)?;
            tx.open_table(ledger::WITNESSES)?;
            tx.open_table(ledger::COMMITMENTS)?;
            tx.open_table(ledger::CONTRIBUTIONS)?;
            Ok(())
        })?;
        match store.meta::<ChainId>(META_CHAIN)? {
            Some(stored) if stored != id => Err(StoreError::OtherChain {
                path: store.path.clone(),
                stored_id: stored.chain_id,
                stored_genesis: stored.genesis,
                id: id.chain_id,
                genesis: id.genesis,
            }),
            Some(_) => Ok(store),
            None => {
                store.write(|tx| {
                    let mut meta = tx.open_table(META)?;
                    meta.insert(META_CHAIN, json(&id)?.as_slice())?;
                    Ok(())
                })?;
                Ok(store)
            }
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes the database takes on disk.
    pub fn disk_bytes(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    /// Writes a window in one transaction: its blocks and verdicts, the accounts the window
    /// changed and the verifier's checkpoint after it.
    pub fn commit_window(
        &self,
        blocks: &[StoredBlock],
        accounts: &[(Address, Account)],
        checkpoint: &Checkpoint,
        tally: Tally,
    ) -> Result<(), StoreError> {
        let Some(head) = blocks.last().map(|b| b.number) else {
            return Ok(());
        };
        let saved = SavedCheckpoint {
            head,
            verifier: checkpoint.clone(),
            tally,
        };
        self.write(|tx| {
            {
                let mut t = tx.open_table(BLOCKS)?;
                for b in blocks {
                    t.insert(b.number, lz4_flex::compress_prepend_size(&b.raw).as_slice())?;
                }
            }
            {
                let mut t = tx.open_table(VERDICTS)?;
                for b in blocks {
                    t.insert(b.number, json(&b.verdict)?.as_slice())?;
                }
            }
            {
                let mut t = tx.open_table(ACCOUNTS)?;
                for (address, account) in accounts {
                    t.insert(&address.0.0, &encode_account(account))?;
                }
            }
            let mut meta = tx.open_table(META)?;
            meta.insert(META_CHECKPOINT, json(&saved)?.as_slice())?;
            Ok(())
        })
    }

    /// Adds (or replaces) signer keys by address, in one transaction; returns how many the store
    /// then holds.
    pub fn add_keys(&self, keys: &[(Address, PublicKey)]) -> Result<u64, StoreError> {
        self.put_keys(false, keys.iter().map(|(a, k)| (a, k)))
    }

    /// Replaces the kept signer keys by what `keys` holds, in one transaction: how a node keeps
    /// the table near its cache's bound. Returns how many.
    pub fn replace_keys(&self, keys: &KeyCache) -> Result<u64, StoreError> {
        self.put_keys(true, keys.entries())
    }

    /// Writes `keys` (after emptying the table, if `replace`); returns how many it then holds.
    fn put_keys<'k>(
        &self,
        replace: bool,
        keys: impl Iterator<Item = (&'k Address, &'k PublicKey)>,
    ) -> Result<u64, StoreError> {
        let mut held = 0;
        self.write(|tx| {
            if replace {
                tx.delete_table(KEYS)?;
            }
            let mut t = tx.open_table(KEYS)?;
            for (address, key) in keys {
                t.insert(&address.0.0, &key.xy())?;
            }
            held = t.len()?;
            Ok(())
        })?;
        Ok(held)
    }

    /// The kept signer keys in a cache of `capacity` keys, and how many entries did not parse as
    /// a key (skipped: the cache is a hint, and its keys are checked like any claim).
    pub fn keys(&self, capacity: usize) -> Result<(KeyCache, usize), StoreError> {
        self.read(|tx| {
            let t = tx.open_table(KEYS)?;
            let mut cache = KeyCache::new(capacity);
            let mut skipped = 0;
            for entry in t.iter()? {
                let (k, v) = entry?;
                match PublicKey::from_xy(v.value()) {
                    Some(key) => cache.insert(Address::from(*k.value()), key),
                    None => skipped += 1,
                }
            }
            Ok((cache, skipped))
        })
    }

    /// Keeps `other` as evidence that a source gave another block for `number`.
    pub fn record_conflict(&self, number: u64, other: ConflictEvidence) -> Result<(), StoreError> {
        let mut all = self.conflicts(number)?;
        if all.iter().any(|c| c.raw == other.raw) {
            return Ok(());
        }
        // A source that makes up a new block for one number again and again is bounded: the
        // first few versions are evidence enough, and each write rewrites the list.
        if all.len() >= MAX_CONFLICTS_PER_BLOCK {
            tracing::warn!(target: "ranger::store", number, "more versions of one block than are kept as evidence; this one is dropped");
            return Ok(());
        }
        all.push(other);
        self.write(|tx| {
            tx.open_table(CONFLICTS)?
                .insert(number, json(&all)?.as_slice())?;
            Ok(())
        })
    }

    /// The evidence kept for `number`.
    pub fn conflicts(&self, number: u64) -> Result<Vec<ConflictEvidence>, StoreError> {
        self.read_one(CONFLICTS, number, "conflict evidence")
            .map(Option::unwrap_or_default)
    }

    /// Where verification stands, when anything was stored.
    pub fn resume(&self) -> Result<Option<Resumed>, StoreError> {
        let Some(saved) = self.meta::<SavedCheckpoint>(META_CHECKPOINT)? else {
            return Ok(None);
        };
        let accounts = self.read(|tx| {
            let t = tx.open_table(ACCOUNTS)?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                out.push((Address::from(*k.value()), decode_account(v.value())));
            }
            Ok(out)
        })?;
        Ok(Some(Resumed {
            head: saved.head,
            tally: saved.tally,
            resume: Resume {
                checkpoint: saved.verifier,
                accounts,
            },
        }))
    }

    /// The block stored at `number` (RLP), if any.
    pub fn block(&self, number: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let compressed = self.read(|tx| {
            let t = tx.open_table(BLOCKS)?;
            Ok(t.get(number)?.map(|v| v.value().to_vec()))
        })?;
        compressed
            .map(|c| {
                lz4_flex::decompress_size_prepended(&c).map_err(|e| StoreError::Damaged {
                    path: self.path.clone(),
                    what: format!("block {number}"),
                    message: e.to_string(),
                })
            })
            .transpose()
    }

    /// The verdict stored for `number`, if any.
    pub fn verdict(&self, number: u64) -> Result<Option<VerdictRecord>, StoreError> {
        self.read_one(VERDICTS, number, "verdict")
    }

    /// The verdicts of `from..=to` that are stored, in order.
    pub fn verdicts(&self, from: u64, to: u64) -> Result<Vec<VerdictRecord>, StoreError> {
        let raw = self.read(|tx| {
            let t = tx.open_table(VERDICTS)?;
            let mut out = Vec::new();
            for entry in t.range(from..=to)? {
                let (_, v) = entry?;
                out.push(v.value().to_vec());
            }
            Ok(out)
        })?;
        raw.iter()
            .map(|b| self.decode(b, "verdict"))
            .collect::<Result<_, _>>()
    }

    fn read_one<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &[u8]>,
        key: u64,
        what: &str,
    ) -> Result<Option<T>, StoreError> {
        let raw = self.read(|tx| {
            let t = tx.open_table(table)?;
            Ok(t.get(key)?.map(|v| v.value().to_vec()))
        })?;
        raw.map(|b| self.decode(&b, what)).transpose()
    }

    fn meta<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let raw = self.read(|tx| {
            let t = tx.open_table(META)?;
            Ok(t.get(key)?.map(|v| v.value().to_vec()))
        })?;
        raw.map(|b| self.decode(&b, key)).transpose()
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        b: &[u8],
        what: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_slice(b).map_err(|e| StoreError::Damaged {
            path: self.path.clone(),
            what: what.to_owned(),
            message: e.to_string(),
        })
    }

    /// Runs `f` in one write transaction (two-phase commit: a torn write can never be taken for
    /// a committed one) and commits it.
    fn write(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StoreError> {
        let db_err = |e: redb::Error| StoreError::Db {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let mut tx = self.db.begin_write().map_err(|e| db_err(e.into()))?;
        tx.set_two_phase_commit(true);
        f(&tx).map_err(db_err)?;
        tx.commit().map_err(|e| db_err(e.into()))
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        let db_err = |e: redb::Error| StoreError::Db {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let tx = self.db.begin_read().map_err(|e| db_err(e.into()))?;
        f(&tx).map_err(db_err)
    }
}

/// Another block a source gave for a number already stored (kept, never overwriting).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConflictEvidence {
    /// Who gave it.
    pub source: String,
    /// Its RLP.
    #[serde(with = "hex_bytes")]
    pub raw: Vec<u8>,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(b)))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        hex::decode(s.trim_start_matches("0x")).map_err(serde::de::Error::custom)
    }
}

/// A record as stored (JSON). Plain data structs do not fail to serialize; if one ever did, the
/// write transaction fails rather than store an empty record.
fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, redb::Error> {
    serde_json::to_vec(v).map_err(|e| redb::Error::Io(std::io::Error::other(e)))
}

fn encode_account(a: &Account) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&a.nonce.to_be_bytes());
    out[8..].copy_from_slice(&a.balance.to_be_bytes::<32>());
    out
}

fn decode_account(b: &[u8; 40]) -> Account {
    let mut nonce = [0u8; 8];
    nonce.copy_from_slice(&b[..8]);
    Account {
        nonce: u64::from_be_bytes(nonce),
        balance: U256::from_be_slice(&b[8..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_round_trip() {
        let a = Account {
            nonce: 7,
            balance: U256::from(123_456_789u64) << 100,
        };
        assert_eq!(decode_account(&encode_account(&a)), a);
    }

    #[test]
    fn conflict_evidence_is_kept_once_per_version_and_bounded() {
        let dir =
            std::env::temp_dir().join(format!("ranger-store-conflicts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = ChainId {
            chain_id: 1,
            genesis: alloy_primitives::B256::ZERO,
        };
        let store = Store::open(&dir, id).unwrap();
        let version = |i: u8| ConflictEvidence {
            source: "http://liar".into(),
            raw: vec![0xc1, i],
        };
        store.record_conflict(5, version(0)).unwrap();
        store.record_conflict(5, version(0)).unwrap();
        assert_eq!(store.conflicts(5).unwrap().len(), 1, "the same bytes once");
        for i in 1..20 {
            store.record_conflict(5, version(i)).unwrap();
        }
        let kept = store.conflicts(5).unwrap();
        assert_eq!(kept.len(), MAX_CONFLICTS_PER_BLOCK);
        assert_eq!(
            kept[MAX_CONFLICTS_PER_BLOCK - 1].raw,
            [0xc1, 7],
            "the first versions stay"
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn signer_keys_are_kept_replaced_and_a_damaged_one_skipped() {
        let dir = std::env::temp_dir().join(format!("ranger-store-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = ChainId {
            chain_id: 1,
            genesis: alloy_primitives::B256::ZERO,
        };
        let store = Store::open(&dir, id).unwrap();
        let key = |seed: u64| {
            let signer = ranger::crypto::secp::SigningKey::from_seed(9, seed);
            PublicKey::from_xy(&signer.public_key()).unwrap()
        };
        let mut cache = KeyCache::new(16);
        for seed in 0..5 {
            cache.insert(key(seed).address(), key(seed));
        }
        // A key held under an address that is not its own (a claim it was learnt for) stays so.
        let claimed = Address::repeat_byte(0x77);
        cache.insert(claimed, key(9));
        assert_eq!(store.replace_keys(&cache).unwrap(), 6);
        drop(store);
        let store = Store::open(&dir, id).unwrap();
        let (mut back, skipped) = store.keys(16).unwrap();
        assert_eq!((back.len(), skipped), (6, 0));
        for seed in 0..5 {
            assert_eq!(back.get(&key(seed).address()), Some(key(seed)));
        }
        assert_eq!(back.get(&claimed), Some(key(9)));

        // Keys learnt later are added; a replacement leaves only what the cache holds; an entry
        // that is not a point is skipped on loading.
        let mut learning = KeyCache::new(16).keep_unsaved();
        learning.insert(key(1).address(), key(1));
        learning.insert(key(7).address(), key(7));
        learning.insert(key(7).address(), key(7));
        let fresh = learning.take_unsaved();
        assert_eq!(fresh.len(), 2, "the same key again is nothing new");
        assert_eq!(store.add_keys(&fresh).unwrap(), 7);
        assert!(learning.take_unsaved().is_empty());
        let mut fewer = KeyCache::new(16);
        fewer.insert(key(1).address(), key(1));
        assert_eq!(store.replace_keys(&fewer).unwrap(), 1);
        store
            .write(|tx| {
                tx.open_table(KEYS)?.insert(&[0x11; 20], &[0x22; 64])?;
                Ok(())
            })
            .unwrap();
        let (back, skipped) = store.keys(16).unwrap();
        assert_eq!((back.len(), skipped), (1, 1));
        assert!(back.contains(&key(1).address()));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
