//! What a running node knows about itself, shared between the verifying thread (which writes it)
//! and the RPC server, the metrics endpoint and the status line (which read it).

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Instant;

/// Verdict counts since the chain's first block (kept in the store, so they survive restarts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub valid: u64,
    pub invalid: u64,
    pub undecided: u64,
    pub transactions: u64,
}

#[derive(Debug, Default)]
struct Heights {
    verified: Option<u64>,
    source: Option<u64>,
    tally: Tally,
    disk_bytes: u64,
}

/// The node's live status.
#[derive(Debug)]
pub struct Status {
    pub chain_id: u64,
    pub backend: String,
    started: Instant,
    inner: Mutex<Heights>,
}

/// A copy of the status at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub chain_id: u64,
    pub verified_height: Option<u64>,
    pub source_height: Option<u64>,
    pub lag_blocks: u64,
    pub valid: u64,
    pub invalid: u64,
    pub undecided: u64,
    pub transactions: u64,
    pub backend: String,
    pub uptime_s: f64,
    pub disk_bytes: u64,
}

impl Status {
    pub fn new(chain_id: u64, backend: String, verified: Option<u64>, tally: Tally) -> Self {
        Self {
            chain_id,
            backend,
            started: Instant::now(),
            inner: Mutex::new(Heights {
                verified,
                source: verified,
                tally,
                disk_bytes: 0,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Heights) -> T) -> T {
        // A panic elsewhere while holding the lock leaves plain numbers behind: still readable.
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }

    pub fn source_reached(&self, number: u64) {
        self.with(|h| h.source = Some(h.source.map_or(number, |s| s.max(number))));
    }

    pub fn verified(&self, height: u64, tally: Tally, disk_bytes: u64) {
        self.with(|h| {
            h.verified = Some(height);
            h.tally = tally;
            h.disk_bytes = disk_bytes;
        });
    }

    /// The last block verified and stored.
    pub fn verified_height(&self) -> Option<u64> {
        self.with(|h| h.verified)
    }

    pub fn tally(&self) -> Tally {
        self.with(|h| h.tally)
    }

    pub fn snapshot(&self) -> Snapshot {
        self.with(|h| Snapshot {
            chain_id: self.chain_id,
            verified_height: h.verified,
            source_height: h.source,
            lag_blocks: h
                .source
                .unwrap_or(0)
                .saturating_sub(h.verified.unwrap_or(0)),
            valid: h.tally.valid,
            invalid: h.tally.invalid,
            undecided: h.tally.undecided,
            transactions: h.tally.transactions,
            backend: self.backend.clone(),
            uptime_s: self.started.elapsed().as_secs_f64(),
            disk_bytes: h.disk_bytes,
        })
    }
}
