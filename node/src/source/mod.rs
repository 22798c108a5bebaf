//! Where blocks come from, as the pipeline sees them: a bounded channel of [`SourceEvent`]s that
//! an async source fills and the pipeline's thread drains with `blocking_recv`. Blocks arrive
//! strictly in order from the source's start number, each checked against what the source was
//! asked for (number, chain id, the hash it claims), so a lying or broken source shows up as a
//! stalled or retried source, never as a block the ranger must judge.
//!
//! Sources: `rpc` follows Kaia JSON-RPC endpoints (a Kaia node, or a `ranger council`).

pub mod rpc;

use ranger::pipeline::Input;

/// Events in the channel ahead of the pipeline. Enough for a few catch-up windows; more would
/// only hold memory while the pipeline is the bottleneck.
pub const CHANNEL_CAPACITY: usize = 256;

/// What a source delivers.
#[derive(Debug)]
pub enum SourceEvent {
    /// The next block, in order: `number` is one more than the previous block's.
    Block {
        number: u64,
        input: Input,
        /// The URL (or name) of the source it came from.
        source: String,
    },
    /// The highest block the sources know of (for lag).
    Head { number: u64 },
    /// Two different blocks under one number: one delivered before (`first`, from
    /// `sources.0`) and one seen later or from another source (`second`, from `sources.1`).
    /// Both are RLP; neither replaces the other.
    Conflict {
        number: u64,
        first: Vec<u8>,
        second: Vec<u8>,
        sources: (String, String),
    },
}
