//! Fuzzes raw transaction decoding, re-encoding and every hash preimage. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ranger::codec::tx::{
    decode_tx, encode_tx, fee_payer_sig_preimage, sender_tx_hash_preimage, sig_preimage,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = decode_tx(data) {
        assert_eq!(encode_tx(&tx), data);
        let _ = sig_preimage(&tx, 8217);
        let _ = fee_payer_sig_preimage(&tx, 8217);
        let _ = sender_tx_hash_preimage(&tx);
    }
});
