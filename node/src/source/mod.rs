//! Where a node's blocks come from: the embedded devnet council (`embedded`), and what every
//! source delivers to the verifier, in block order, over one bounded channel.

pub mod embedded;

use ranger::pipeline::Input;

/// What a source tells the node.
#[derive(Debug)]
pub enum SourceEvent {
    /// The block at `number`, as the source gave it; blocks come in order from a start number.
    Block {
        number: u64,
        input: Input,
        source: String,
    },
    /// The source's chain reached `number`.
    Head { number: u64 },
    /// Two different blocks for one number (a source that changed its answer, or two sources
    /// that disagree): both are kept as evidence, neither overwrites the other.
    #[allow(dead_code)] // made by the JSON-RPC follow source
    Conflict {
        number: u64,
        first: Vec<u8>,
        second: Vec<u8>,
        sources: (String, String),
    },
}
