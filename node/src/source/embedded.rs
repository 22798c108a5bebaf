//! The embedded council: a devnet council producing blocks in this process, paced to its block
//! period, for a ranger that follows it (`ranger run` with no source named).
//!
//! A restarted node goes on where its store stopped: the council is deterministic in its seed,
//! so it produces again, without pacing and without sending, the blocks the node already holds
//! (the cost of a restart grows with the chain: the README gives the production rate and the
//! `ranger devnet generate` command that measures it).

use super::SourceEvent;
use anyhow::{Context, Result};
use ranger::crypto::CpuBackend;
use ranger::devnet::Producer;
use ranger::pipeline::Input;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Sender;

/// The council's pace.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Wall-clock time between blocks; zero = as fast as it can.
    pub block_period: Duration,
    /// Stop after this block (tests, benchmarks); `None` = until stopped.
    pub last_block: Option<u64>,
}

/// Starts the council on its own thread: it skips (produces silently) blocks `1..=resume_after`
/// and then sends every later block to `events` at its pace, until `stop` is set, the receiver
/// is gone or `pace.last_block` is sent. The thread's result says why production stopped early.
pub fn spawn(
    producer: Producer,
    resume_after: u64,
    pace: Pace,
    events: Sender<SourceEvent>,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<Result<()>>> {
    std::thread::Builder::new()
        .name("embedded-council".into())
        .spawn(move || produce(producer, resume_after, pace, events, stop))
        .context("cannot start the embedded council's thread")
}

fn produce(
    mut producer: Producer,
    resume_after: u64,
    pace: Pace,
    events: Sender<SourceEvent>,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let mut next_due = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let block = producer
            .next_block(&CpuBackend)
            .context("the embedded council failed to produce a block")?;
        let Some(block) = block else {
            return Ok(());
        };
        let number = block.number;
        if number <= resume_after {
            continue;
        }
        let now = Instant::now();
        if next_due > now {
            std::thread::sleep(next_due - now);
        }
        next_due = next_due.max(now) + pace.block_period;
        let sent = events
            .blocking_send(SourceEvent::Head { number })
            .and_then(|()| {
                events.blocking_send(SourceEvent::Block {
                    number,
                    input: Input::Rlp(block.bytes),
                    source: "embedded council".into(),
                    // The devnet is replayed: its receipts are ranger's own.
                    receipts: None,
                })
            });
        if sent.is_err() || pace.last_block == Some(number) {
            return Ok(());
        }
    }
}
