//! The node's own failures, kept apart from the council's faults: `Undecided` says why a block
//! could not be judged, and `CheckedBackend` checks after every batch that what came back is what
//! was asked for (reth's `GotExpected`), so a backend that returns short or long answers makes a
//! window undecided instead of turning a missing answer into `bad-tx-signature`.

use crate::crypto::batch::ShortAnswer;
use crate::crypto::secp::{RecoverError, RecoverItem};
use crate::crypto::{Backend, CpuBackend, MessageBatch};
use alloy_primitives::{Address, B256};
use std::sync::Mutex;

/// Why the node could not decide a block. Never a claim about the council.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undecided {
    /// A batch came back with the wrong number of answers.
    #[error("the {backend} backend's {op} batch returned {got} answers for {expected} inputs")]
    ShortBatch {
        backend: String,
        op: &'static str,
        got: usize,
        expected: usize,
    },
    /// A rule depends on a parameter ranger does not know at this height.
    #[error("unknown parameter: {0}")]
    UnknownParameter(String),
    /// The state this block builds on is not known (an earlier block could not be replayed).
    #[error("state unknown: {0}")]
    StateUnknown(String),
    /// A bug of ranger's own, caught by a check (reported, never turned into a fault).
    #[error("internal error of ranger: {0}")]
    Internal(String),
    /// The source could not deliver the block.
    #[error("source: {0}")]
    Source(String),
}

impl From<ShortAnswer> for Undecided {
    fn from(e: ShortAnswer) -> Self {
        Undecided::ShortBatch {
            backend: "batch-verify".into(),
            op: "recover",
            got: e.got,
            expected: e.expected,
        }
    }
}

/// A backend seen through a check of every answer's length. The typed calls (`keccak`,
/// `recover`) return the mismatch; code that takes a `&dyn Backend` (tx roots, tries) gets the
/// CPU's answer after a mismatch, so it never indexes past a short answer, and the mismatch is
/// kept for `take_failure`, which makes the window undecided.
#[derive(Debug)]
pub struct CheckedBackend<'a> {
    inner: &'a dyn Backend,
    failure: Mutex<Option<Undecided>>,
}

impl<'a> CheckedBackend<'a> {
    /// Checks `inner`.
    pub fn new(inner: &'a dyn Backend) -> Self {
        Self {
            inner,
            failure: Mutex::new(None),
        }
    }

    fn check(&self, op: &'static str, got: usize, expected: usize) -> Result<(), Undecided> {
        if got == expected {
            return Ok(());
        }
        let e = Undecided::ShortBatch {
            backend: self.inner.name().to_string(),
            op,
            got,
            expected,
        };
        tracing::warn!(target: "ranger::pipeline", error = %e, "backend answer does not match its batch");
        Err(e)
    }

    fn remember(&self, e: Undecided) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(e);
        }
    }

    /// keccak256 of every message, or why the answer cannot be used.
    pub fn keccak(&self, batch: &MessageBatch) -> Result<Vec<B256>, Undecided> {
        let out = self.inner.keccak_batch(batch);
        self.check("keccak", out.len(), batch.len())?;
        Ok(out)
    }

    /// The signer of every item, or why the answer cannot be used.
    pub fn recover(
        &self,
        items: &[RecoverItem],
    ) -> Result<Vec<Result<Address, RecoverError>>, Undecided> {
        let out = self.inner.recover_batch(items);
        self.check("recover", out.len(), items.len())?;
        Ok(out)
    }

    /// The first mismatch seen through the `Backend` interface since the last call.
    pub fn take_failure(&self) -> Option<Undecided> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }
}

impl Backend for CheckedBackend<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn keccak_batch(&self, batch: &MessageBatch) -> Vec<B256> {
        self.keccak(batch).unwrap_or_else(|e| {
            self.remember(e);
            CpuBackend.keccak_batch(batch)
        })
    }

    fn recover_batch(&self, items: &[RecoverItem]) -> Vec<Result<Address, RecoverError>> {
        self.recover(items).unwrap_or_else(|e| {
            self.remember(e);
            CpuBackend.recover_batch(items)
        })
    }

    fn gpu_share(&self) -> Option<(f64, f64)> {
        self.inner.gpu_share()
    }
}
