//! Where a node's blocks come from: the embedded devnet council (`embedded`), Kaia JSON-RPC
//! endpoints or `ranger council`s (`rpc`), and what every
//! source delivers to the verifier, in block order, over one bounded channel.

pub mod embedded;
pub mod rpc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use ranger::pipeline::{Input, SourceReceipts};

/// Events in a source's channel: enough for a few catch-up windows; more would only hold memory
/// while the pipeline is the bottleneck.
pub const CHANNEL_CAPACITY: usize = 256;

/// What a source tells the node.
#[derive(Debug)]
pub enum SourceEvent {
    /// The block at `number`, as the source gave it; blocks come in order from a start number.
    Block {
        number: u64,
        input: Input,
        source: String,
        /// The block's receipts as the source gave them, when they were asked for (a live
        /// chain, which ranger cannot replay).
        receipts: Option<SourceReceipts>,
    },
    /// The source's chain reached `number`.
    Head { number: u64 },
    /// Two different blocks for one number (a source that changed its answer, or two sources
    /// that disagree): both are kept as evidence, neither overwrites the other.
    Conflict {
        number: u64,
        first: Vec<u8>,
        second: Vec<u8>,
        sources: (String, String),
    },
}

/// The label of a per-source count: the source's URL.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

/// What a follower counts per source: requests, failures (each followed by a retry after a
/// pause, or by dropping the source) and `null` entries in range answers. The node's metrics
/// export these same families.
#[derive(Debug, Clone, Default)]
pub struct SourceCounters {
    pub requests: Family<SourceLabels, Counter>,
    pub failures: Family<SourceLabels, Counter>,
    pub null_entries: Family<SourceLabels, Counter>,
}

/// One source's counters, taken out of the families once.
#[derive(Debug, Clone, Default)]
pub struct PeerCounters {
    pub requests: Counter,
    pub failures: Counter,
    pub null_entries: Counter,
}

impl SourceCounters {
    pub fn of(&self, url: &str) -> PeerCounters {
        let l = SourceLabels {
            source: url.to_owned(),
        };
        PeerCounters {
            requests: self.requests.get_or_create(&l).clone(),
            failures: self.failures.get_or_create(&l).clone(),
            null_entries: self.null_entries.get_or_create(&l).clone(),
        }
    }
}
