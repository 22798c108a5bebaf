//! The node's verifying side: reads what a source delivers (one bounded channel from the async
//! side), gathers it into windows, verifies each window with one `Verifier` (full mode, replay
//! included) and commits it to the store in one transaction — raw blocks, verdicts, the accounts
//! the window changed and the checkpoint — before anyone hears of its verdicts (RPC, metrics,
//! subscribers, the terminal). So a verdict that was ever served survives any crash, and a
//! restarted node goes on from exactly the blocks it stored.

pub mod status;

use crate::serve::metrics::{Metrics, ReceiptsLabels, VerdictLabels};
use crate::source::SourceEvent;
use crate::store::{ConflictEvidence, Store, StoredBlock, VerdictRecord};
use anyhow::{Result, bail};
use ranger::pipeline::{Input, SourceReceipts, Verdict, Verifier};
use status::Status;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

/// Blocks that close a window: one store commit per window, and at most this many verdicts
/// wait for it (during catch-up; at the tip a window is whatever has arrived, often one block).
const WINDOW_BLOCKS: usize = 64;
/// Block bytes that close a window. Each window starts the pipeline's stages afresh and ends
/// with a commit, so a catch-up pays that per window: 32 MiB windows (about a hundred devnet
/// blocks of 2,000 txs, so the 64-block bound closes them first) followed a stored council at
/// 29,000–29,700 tx/s where 8 MiB windows made 24,200–27,500 (200 blocks, one machine, one
/// session), for about 40 MB more peak memory.
const WINDOW_BYTES: usize = 32 << 20;

/// How often the signer keys the verifier learnt are added to the store while it runs (and once
/// more when it stops): a node killed in between restarts with the keys of the last save, and
/// recovers the first transaction of any sender it met since.
const KEYS_SAVE_EVERY: Duration = Duration::from_secs(60);

/// Adds the signer keys the verifier learnt since the last save to the store; when the table
/// has grown past twice the cache's bound (keys the cache has since dropped), rewrites it with
/// what the cache holds. A failure is logged, not raised: the keys are a cache, and the blocks
/// and verdicts were committed without them.
pub fn save_keys(store: &Store, verifier: &mut Verifier) {
    let started = Instant::now();
    let fresh = verifier.take_unsaved_keys();
    let saved = store.add_keys(&fresh).and_then(|held| {
        if held > 2 * verifier.key_cache().capacity() as u64 {
            store.replace_keys(verifier.key_cache())
        } else {
            Ok(held)
        }
    });
    match saved {
        Ok(held) => {
            tracing::debug!(target: "ranger::node", added = fresh.len(), held, ms = started.elapsed().as_millis() as u64, "signer keys saved")
        }
        Err(e) => {
            tracing::warn!(target: "ranger::node", "cannot save the signer keys (the next start recovers them again): {e}")
        }
    }
}

/// Where the verifying side reports to.
#[derive(Debug)]
pub struct Outputs<'a> {
    pub store: &'a Store,
    pub status: &'a Status,
    pub metrics: &'a Metrics,
    pub verdicts: &'a broadcast::Sender<VerdictRecord>,
    /// Turns proven faults into reports (after their window is committed).
    pub reporting: Option<&'a crate::reports::Reporting>,
}

/// One block of a window before its verdict.
struct Pending {
    number: u64,
    raw: Vec<u8>,
    input: Input,
    receipts: Option<SourceReceipts>,
}

/// Verifies what `events` delivers until the source closes the channel (or block `last` is
/// stored), starting with block `next`. `on_verdict` sees each verdict after its window is
/// committed.
pub fn verify_loop(
    verifier: &mut Verifier,
    mut next: u64,
    last: Option<u64>,
    events: &mut mpsc::Receiver<SourceEvent>,
    out: &Outputs<'_>,
    mut on_verdict: impl FnMut(&VerdictRecord),
) -> Result<()> {
    let mut tally = out.status.tally();
    let mut keys_saved = Instant::now();
    let done = |next: u64| last.is_some_and(|l| next > l);
    while !done(next) {
        let Some(first) = events.blocking_recv() else {
            break;
        };
        let mut window = Vec::new();
        let mut bytes = 0;
        let mut event = Some(first);
        while let Some(e) = event.take() {
            if let Some(p) = admit(e, &mut next, out)? {
                bytes += p.raw.len();
                window.push(p);
            }
            if window.len() < WINDOW_BLOCKS && bytes < WINDOW_BYTES && !done(next) {
                event = events.try_recv().ok();
            }
        }
        if window.is_empty() {
            continue;
        }
        let started = Instant::now();
        let numbers: Vec<u64> = window.iter().map(|p| p.number).collect();
        let mut raws = Vec::with_capacity(window.len());
        // What the source said about each block's receipts, for the metrics.
        let mut given = Vec::with_capacity(window.len());
        let inputs: Vec<(Input, Option<SourceReceipts>)> = window
            .into_iter()
            .map(|p| {
                raws.push(p.raw);
                given.push(p.receipts.as_ref().map(receipts_outcome));
                (p.input, p.receipts)
            })
            .collect();
        let mut reports = Vec::with_capacity(inputs.len());
        verifier.run_with_receipts(inputs.into_iter().map(Ok), |r| {
            reports.push(r);
            true
        })?;
        for c in verifier.take_hint_checks() {
            use ranger::pipeline::council_hints::CouncilHintCheck as C;
            let outcome = match &c.outcome {
                C::Consistent => {
                    tracing::info!(target: "ranger::node", "the council {} hinted agrees with block {}'s seals and validators", c.source, c.block);
                    "consistent"
                }
                C::Lied(why) => {
                    tracing::warn!(target: "ranger::node", "{} lied about the council: {why}; hint dropped (the source's fault, not the council's)", c.source);
                    "lied"
                }
                C::Disagrees(why) => {
                    tracing::warn!(target: "ranger::node", "the council {} hinted disagrees with the chain: {why}; hint dropped", c.source);
                    "disagrees"
                }
            };
            out.metrics.hint("council", outcome, 1);
        }
        if reports.len() != numbers.len() {
            bail!(
                "the verifier judged {} of the {} blocks it was given (a bug: the node stops rather than store a window with holes)",
                reports.len(),
                numbers.len()
            );
        }
        out.metrics
            .window_seconds
            .observe(started.elapsed().as_secs_f64());
        out.metrics.window_blocks.observe(numbers.len() as f64);
        out.metrics.stages(&verifier.take_stage_times());
        let mut stored = Vec::with_capacity(numbers.len());
        for ((number, raw), report) in numbers.iter().zip(raws).zip(&reports) {
            match report.verdict {
                Verdict::Valid => tally.valid += 1,
                Verdict::Invalid => tally.invalid += 1,
                Verdict::Undecided => tally.undecided += 1,
            }
            tally.transactions += report.transactions.len() as u64;
            stored.push(StoredBlock {
                number: *number,
                raw,
                verdict: VerdictRecord::of(*number, report),
            });
        }
        let accounts = verifier.take_unsaved_accounts();
        let checkpoint = verifier.checkpoint();
        let commit_started = Instant::now();
        out.store
            .commit_window(&stored, &accounts, &checkpoint, tally)?;
        out.metrics
            .commit_seconds
            .observe(commit_started.elapsed().as_secs_f64());
        if keys_saved.elapsed() >= KEYS_SAVE_EVERY {
            save_keys(out.store, verifier);
            keys_saved = Instant::now();
        }
        if let Some(rep) = out.reporting {
            for (b, report) in stored.iter().zip(&reports) {
                rep.judged(b.number, &b.raw, report);
            }
            rep.after_commit();
        }
        let head = numbers.last().copied().unwrap_or(next - 1);
        let disk = out.store.disk_bytes();
        out.status.verified(head, tally, disk);
        out.metrics.verified_height.set(gauge(head));
        out.metrics.disk_bytes.set(gauge(disk));
        for (report, outcome) in reports.iter().zip(&given) {
            let Some(outcome) = outcome else { continue };
            let outcome = match (outcome, &report.receipts) {
                (_, Some(_)) => "matched",
                (&"given", None) => "mismatched",
                (o, None) => o,
            };
            out.metrics
                .receipts
                .get_or_create(&ReceiptsLabels {
                    outcome: outcome.to_owned(),
                })
                .inc();
        }
        for b in &stored {
            out.metrics.blocks.inc();
            out.metrics
                .transactions
                .inc_by(b.verdict.transactions as u64);
            out.metrics
                .verdicts
                .get_or_create(&VerdictLabels {
                    verdict: b.verdict.verdict.clone(),
                    kind: b.verdict.kind.clone().unwrap_or_default(),
                })
                .inc();
            // Nobody listening is fine: subscribers come and go.
            let _ = out.verdicts.send(b.verdict.clone());
            on_verdict(&b.verdict);
        }
    }
    Ok(())
}

/// What a source's receipts were, before the check: `given`, `unavailable` or `malformed`.
fn receipts_outcome(r: &SourceReceipts) -> &'static str {
    match r {
        SourceReceipts::Given(_) => "given",
        SourceReceipts::Unavailable(_) => "unavailable",
        SourceReceipts::Malformed(_) => "malformed",
    }
}

/// A count as a gauge's value: a height a source claims may be any u64 (it saturates rather
/// than turn negative).
fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Takes one event: the block to verify next, or what the event says about the source.
fn admit(e: SourceEvent, next: &mut u64, out: &Outputs<'_>) -> Result<Option<Pending>> {
    match e {
        SourceEvent::Head { number } => {
            out.status.source_reached(number);
            out.metrics.source_height.set(gauge(number));
            Ok(None)
        }
        SourceEvent::Conflict {
            number,
            first,
            second,
            sources,
        } => {
            out.metrics.conflicts.inc();
            if let Some(rep) = out.reporting {
                rep.conflict(number, first.clone(), second.clone());
            }
            for (raw, source) in [(first, sources.0), (second, sources.1)] {
                out.store
                    .record_conflict(number, ConflictEvidence { source, raw })?;
            }
            tracing::warn!(target: "ranger::node", number, "sources gave two different blocks; both kept as evidence");
            Ok(None)
        }
        SourceEvent::Block {
            number,
            input,
            source,
            receipts,
        } => {
            let raw = match &input {
                Input::Rlp(b) => b.clone(),
                Input::Block(b) | Input::Hinted { block: b, .. } => {
                    ranger::codec::block::encode_block(b)
                }
            };
            if number == *next {
                *next += 1;
                out.status.source_reached(number);
                return Ok(Some(Pending {
                    number,
                    raw,
                    input,
                    receipts,
                }));
            }
            if number < *next {
                // Already stored: a different block under the same number is evidence, never
                // an overwrite.
                if let Some(stored) = out.store.block(number)?.filter(|stored| *stored != raw) {
                    out.metrics.conflicts.inc();
                    if let Some(rep) = out.reporting {
                        rep.conflict(number, stored, raw.clone());
                    }
                    out.store
                        .record_conflict(number, ConflictEvidence { source, raw })?;
                    tracing::warn!(target: "ranger::node", number, "a source changed a block it gave before; kept as evidence");
                }
                return Ok(None);
            }
            tracing::warn!(
                target: "ranger::node",
                number,
                expected = *next,
                "{source} skipped ahead; the block is dropped until the blocks before it arrive"
            );
            Ok(None)
        }
    }
}
