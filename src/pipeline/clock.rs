//! Time spent in each pipeline stage, summed over the windows verified since it was last read:
//! what a node exports as stage latencies. The stages run on their own threads, so each adds
//! its own time to an atomic counter; reading takes and resets all of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A stage of the pipeline, as `StageClock` times it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Bytes to typed blocks.
    Decode,
    /// Header, transaction and signature-message hashes, and the transaction roots.
    Hash,
    /// Transaction senders, fee payers, seals and randao reveals.
    Recover,
    /// Council, quorum, transaction rules and the verdict.
    Judge,
    /// The state transition, receipts and state roots.
    Replay,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Decode,
        Stage::Hash,
        Stage::Recover,
        Stage::Judge,
        Stage::Replay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Hash => "hash",
            Stage::Recover => "recover",
            Stage::Judge => "judge",
            Stage::Replay => "replay",
        }
    }
}

/// Nanoseconds per stage since the last `take`.
#[derive(Debug, Default)]
pub struct StageClock {
    nanos: [AtomicU64; 5],
}

impl StageClock {
    pub fn add(&self, stage: Stage, d: Duration) {
        let n = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos[stage as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// The time of every stage since the last call, in `Stage::ALL` order; resets the clock.
    pub fn take(&self) -> [(Stage, Duration); 5] {
        Stage::ALL.map(|s| {
            let n = self.nanos[s as usize].swap(0, Ordering::Relaxed);
            (s, Duration::from_nanos(n))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_what_was_added_and_resets() {
        let c = StageClock::default();
        c.add(Stage::Hash, Duration::from_millis(3));
        c.add(Stage::Hash, Duration::from_millis(4));
        c.add(Stage::Replay, Duration::from_micros(5));
        let t = c.take();
        assert_eq!(t[1], (Stage::Hash, Duration::from_millis(7)));
        assert_eq!(t[4], (Stage::Replay, Duration::from_micros(5)));
        assert_eq!(t[0].1, Duration::ZERO);
        assert!(c.take().iter().all(|(_, d)| d.is_zero()));
    }
}
