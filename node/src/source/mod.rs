//! Where a node's blocks come from: the embedded devnet council (`embedded`), Kaia JSON-RPC
//! endpoints or `ranger council`s (`rpc`), and what every
//! source delivers to the verifier, in block order, over one bounded channel.

pub mod embedded;
pub mod rpc;

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
