//! The CPU twin of every GPU kernel: the same algorithms on the same limb layout, in plain Rust.
//!
//! The kernels in `shaders/` are transliterations of these functions (same names, same slot
//! structs), so a difference between a kernel and its twin is a kernel bug, and a difference
//! between the twin and libsecp256k1 is an algorithm bug. Tests compare all three.

pub mod curve;
pub mod f13;
pub mod field;
pub mod glv;
pub mod keccak;
pub mod recover;

use crate::crypto::{MessageBatch, RecoverError, RecoverItem};
use crate::gpu::layout::{AffinePoint, OutSlot, RecoverInput};
use alloy_primitives::{Address, B256};

/// The raw input slot of a recovery item.
pub fn input_slot(item: &RecoverItem) -> RecoverInput {
    let word = |b: &[u8]| {
        let mut w = [0u32; 8];
        for (k, x) in w.iter_mut().enumerate() {
            *x = u32::from_le_bytes([b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]]);
        }
        w
    };
    RecoverInput {
        hash: word(&item.hash.0),
        r: word(&item.sig.0[..32]),
        s: word(&item.sig.0[32..64]),
        recid: u32::from(item.sig.0[64]),
    }
}

/// The answer an output slot stands for, given its item (for the recovery id of code 1).
pub fn decode_out(item: &RecoverItem, out: &OutSlot) -> Result<Address, RecoverError> {
    match out.code {
        0 => {
            let mut a = [0u8; 20];
            for (k, w) in out.addr.iter().enumerate() {
                a[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
            }
            Ok(Address::from(a))
        }
        1 => Err(RecoverError::BadRecoveryId(item.sig.0[64])),
        2 => Err(RecoverError::ROutOfRange),
        3 => Err(RecoverError::SOutOfRange),
        // 4, and (defensively) any code the kernel should never write.
        _ => Err(RecoverError::NoPoint),
    }
}

/// Batch recovery through the twin.
pub fn recover_batch(
    items: &[RecoverItem],
    g_table: &[AffinePoint],
) -> Vec<Result<Address, RecoverError>> {
    let inputs: Vec<RecoverInput> = items.iter().map(input_slot).collect();
    let outs = recover::recover_all(&inputs, g_table);
    items
        .iter()
        .zip(&outs)
        .map(|(i, o)| decode_out(i, o))
        .collect()
}

/// Batch keccak through the twin, reading the batch exactly as the kernel does.
pub fn keccak_batch(batch: &MessageBatch) -> Vec<B256> {
    let words = keccak::pack_words(batch.data());
    let offs = batch.offsets();
    (0..batch.len())
        .map(|i| {
            let w = keccak::keccak_words(&words, offs[i], offs[i + 1] - offs[i]);
            B256::from(keccak::words_to_bytes(&w))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Backend, CpuBackend};
    use crate::gpu::cases;

    #[test]
    fn twin_recovery_matches_libsecp256k1() {
        let table = curve::g_table();
        let mut items = cases::edge_items(7);
        items.extend(cases::valid_items(8, 300));
        let want = CpuBackend.recover_batch(&items);
        let got = recover_batch(&items, &table);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "item {i}: {:?}", items[i]);
        }
        // The edge set really exercises every failure code.
        for code in 1..=4 {
            assert!(
                want.iter()
                    .any(|r| r.err().map(RecoverError::code) == Some(code)),
                "code {code}"
            );
        }
    }

    #[test]
    fn twin_keccak_matches_keccak256() {
        let batch = cases::keccak_batch(9, 200, 700);
        assert_eq!(keccak_batch(&batch), CpuBackend.keccak_batch(&batch));
    }
}
