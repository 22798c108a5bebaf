//! Cryptography: keccak256, secp256k1 recovery and BLS12-381 (randao), each with a single-item and
//! a batch API. Batches are what the pipeline feeds; the single-item calls are their reference.
//! `batch` verifies signatures against known keys with the same answers as recovery, on the
//! curve arithmetic of `curve`.

pub mod backend;
pub mod batch;
pub mod bls;
pub mod curve;
pub mod keccak;
pub mod secp;

pub use backend::{Backend, BackendKind, CpuBackend, MessageBatch};
pub use keccak::{keccak256, keccak256_concat};
pub use secp::{RecoverError, RecoverItem, Signature65};
