//! The batch interface that the hash and recover stages run on, and its CPU implementation.
//!
//! Every implementation (CPU here, GPU and hybrid in `crate::gpu`) returns, for each input in
//! order, exactly what the single-item functions in `keccak` and `secp` return: backends differ in
//! speed, never in answers.

use super::secp::{RecoverError, RecoverItem, recover_address};
use alloy_primitives::{Address, B256};
use rayon::prelude::*;
use std::fmt::Debug;

/// Messages packed into one buffer with an offsets table: message i is
/// `data[offsets[i]..offsets[i + 1]]`. This is the layout the GPU kernel reads, so a batch built
/// once goes to any backend without repacking.
#[derive(Debug, Clone)]
pub struct MessageBatch {
    data: Vec<u8>,
    offsets: Vec<u32>,
}

impl Default for MessageBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self {
            data: Vec::new(),
            offsets: vec![0],
        }
    }
    /// An empty batch with room for `messages` messages of `bytes` bytes in all.
    pub fn with_capacity(messages: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(messages + 1);
        offsets.push(0);
        Self {
            data: Vec::with_capacity(bytes),
            offsets,
        }
    }
    /// Appends a message and returns its index.
    ///
    /// Panics only if the batch would pass 4 GiB, which the pipeline's window sizes rule out.
    pub fn push(&mut self, msg: &[u8]) -> usize {
        self.data.extend_from_slice(msg);
        let end = u32::try_from(self.data.len())
            .unwrap_or_else(|_| panic!("message batch over 4 GiB: the caller must split batches"));
        self.offsets.push(end);
        self.offsets.len() - 2
    }
    /// Number of messages.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }
    /// True when the batch holds no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Message `i`.
    pub fn get(&self, i: usize) -> &[u8] {
        &self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
    /// The packed bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// The offsets table (`len() + 1` entries).
    pub fn offsets(&self) -> &[u32] {
        &self.offsets
    }
    /// Total payload bytes.
    pub fn total_bytes(&self) -> usize {
        self.data.len()
    }
    /// Messages `range` as a new batch (used by the hybrid split).
    pub fn slice(&self, range: std::ops::Range<usize>) -> MessageBatch {
        let start = self.offsets[range.start];
        let end = self.offsets[range.end];
        MessageBatch {
            data: self.data[start as usize..end as usize].to_vec(),
            offsets: self.offsets[range.start..=range.end]
                .iter()
                .map(|o| o - start)
                .collect(),
        }
    }
}

/// What `--backend` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum BackendKind {
    /// The CPU on an adapter that is a CPU device (or none); on a real GPU, the faster of the
    /// two, measured once and remembered
    #[default]
    Auto,
    /// Every core, through libsecp256k1 and keccak-asm
    Cpu,
    /// wgpu compute shaders
    Gpu,
    /// Each batch split between CPU and GPU by their measured throughput
    Hybrid,
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            "hybrid" => Ok(Self::Hybrid),
            other => Err(format!(
                "unknown backend {other:?}: expected auto, cpu, gpu or hybrid"
            )),
        }
    }
}

/// Batch keccak and batch recovery. Outputs are in input order.
pub trait Backend: Send + Sync + Debug {
    /// A short name for logs and benchmark output ("cpu", "gpu", "hybrid").
    fn name(&self) -> &str;
    /// keccak256 of every message of the batch.
    fn keccak_batch(&self, batch: &MessageBatch) -> Vec<B256>;
    /// The signer address of every item, or why it does not recover.
    fn recover_batch(&self, items: &[RecoverItem]) -> Vec<Result<Address, RecoverError>>;
    /// For a backend that splits batches between the CPU and a GPU (hybrid): the share of a
    /// recovery batch and of a keccak batch it now sends to the GPU, each in [0, 1]. `None` for
    /// a backend that runs every batch in one place.
    fn gpu_share(&self) -> Option<(f64, f64)> {
        None
    }
}

/// Messages hashed per rayon task: large enough that task overhead (~1 µs) is noise next to
/// ~64 × 0.3 µs of hashing, small enough that two cores share a 2,000-message batch evenly.
const KECCAK_TASK: usize = 64;
/// Recoveries per rayon task: one recovery costs ~25 µs, so 16 per task amortise scheduling.
const RECOVER_TASK: usize = 16;

/// The CPU backend: rayon over libsecp256k1 and `keccak-asm` (through `alloy-primitives`).
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    fn name(&self) -> &str {
        "cpu"
    }

    fn keccak_batch(&self, batch: &MessageBatch) -> Vec<B256> {
        let mut out = vec![B256::ZERO; batch.len()];
        out.par_chunks_mut(KECCAK_TASK)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (j, o) in chunk.iter_mut().enumerate() {
                    *o = super::keccak256(batch.get(c * KECCAK_TASK + j));
                }
            });
        out
    }

    fn recover_batch(&self, items: &[RecoverItem]) -> Vec<Result<Address, RecoverError>> {
        items
            .par_iter()
            .with_min_len(RECOVER_TASK)
            .map(|it| recover_address(&it.hash, &it.sig))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{keccak256, secp::SigningKey};

    #[test]
    fn cpu_batches_match_single_calls() {
        let mut batch = MessageBatch::new();
        let msgs: Vec<Vec<u8>> = (0..300).map(|i| vec![i as u8; i * 3]).collect();
        for m in &msgs {
            batch.push(m);
        }
        let got = CpuBackend.keccak_batch(&batch);
        for (m, h) in msgs.iter().zip(&got) {
            assert_eq!(keccak256(m), *h);
        }
        let sub = batch.slice(10..20);
        assert_eq!(CpuBackend.keccak_batch(&sub), got[10..20].to_vec());

        let items: Vec<RecoverItem> = (0..40)
            .map(|i| {
                let k = SigningKey::from_seed(9, i);
                let hash = keccak256(&i.to_be_bytes());
                RecoverItem {
                    hash,
                    sig: k.sign(&hash),
                }
            })
            .collect();
        let rec = CpuBackend.recover_batch(&items);
        for (i, r) in rec.iter().enumerate() {
            assert_eq!(*r, Ok(SigningKey::from_seed(9, i as u64).address()));
        }
    }
}
