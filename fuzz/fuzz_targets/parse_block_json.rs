//! Fuzzes the JSON-RPC block parser with any text, as `inspect block` gets it from a file or a
//! node. Any panic is a bug; errors are expected. A block that parses with full transactions
//! comes back the same through `block_to_json` and a second parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ranger::codec::json::{block_to_json, parse_block_json};
use ranger::consensus::chain::ChainSpec;

fuzz_target!(|data: &[u8]| {
    let forks = ChainSpec::kairos().forks;
    if let Ok(parsed) = parse_block_json(data, &forks) {
        if parsed.has_transactions {
            let text = serde_json::to_vec(&block_to_json(&parsed.block)).expect("JSON encodes");
            let again = parse_block_json(&text, &forks).expect("a parsed block parses again");
            assert_eq!(again.block, parsed.block);
        }
    }
});
