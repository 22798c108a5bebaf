//! Fuzzes block decoding and everything a decoded block goes through in `inspect`: hashing, the
//! Istanbul extra, and re-encoding. Any panic is a bug; errors are expected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ranger::codec::block::{BlockOrHeader, decode_block_or_header, encode_block};
use ranger::consensus::istanbul::{block_hash, sig_hash};

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = decode_block_or_header(data) {
        let header = match &decoded {
            BlockOrHeader::Block(b) => {
                // Strict decoding means re-encoding reproduces the input exactly.
                assert_eq!(encode_block(b), data);
                &b.header
            }
            BlockOrHeader::Header(h) => h,
        };
        let _ = block_hash(header);
        let _ = sig_hash(header);
    }
});
