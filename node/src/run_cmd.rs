//! `ranger run`: the node. By default a devnet council produces blocks in this process at its
//! pace (`--tps`, `--block-period`) and a ranger follows it: verifies every block (full mode,
//! replay included), keeps blocks and verdicts in its store (`--datadir`), serves them over
//! JSON-RPC (`--http`) and exports metrics (`--metrics`), until Ctrl-C (or `--blocks`), which
//! commits and exits cleanly. Restarted on the same datadir, it goes on where it stopped.

use crate::council_flags::CouncilFlags;
use crate::node::status::{Status, Tally};
use crate::node::{Outputs, verify_loop};
use crate::serve::metrics::{self, Metrics};
use crate::source::rpc::{FollowConfig, follow};
use crate::source::{SourceEvent, embedded};
use crate::store::{ChainId, Store, VerdictRecord};
use anyhow::{Context, Result};
use clap::Args;
use ranger::consensus::istanbul::block_hash;
use ranger::crypto::{BackendKind, CpuBackend};
use ranger::devnet::Producer;
use ranger::pipeline::{Anchor, Verifier};
use ranger::report::{CheckContext, Reporter};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The chain spec a node follows, written into its datadir (for `ranger report check --datadir`).
pub const CHAIN_FILE: &str = "chain.json";

/// Events in flight between a source and the verifier: enough for two full windows, so the
/// source keeps fetching while a window is verified, and memory stays bounded when it cannot.
const SOURCE_CHANNEL: usize = 128;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Where the node keeps its chain, verdicts and checkpoint (created if missing; a node
    /// restarted on it goes on where it stopped).
    #[arg(long, default_value = "ranger-data")]
    datadir: PathBuf,
    /// JSON-RPC (HTTP and WebSocket) address; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8551")]
    http: SocketAddr,
    /// Prometheus metrics address (GET /metrics); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:9551")]
    metrics: SocketAddr,
    /// Stop after this block (default: run until Ctrl-C).
    #[arg(long)]
    blocks: Option<u64>,
    /// The embedded council (ignored with --follow).
    #[command(flatten)]
    council: CouncilFlags,
    /// Where the verifying ranger's batch hashing and signature recovery run.
    #[arg(long, value_enum, default_value_t = BackendKind::Auto)]
    backend: BackendKind,
    /// One JSON verdict per line on stdout (the shape `ranger_getVerdict` returns), then a
    /// summary object.
    #[arg(long)]
    json: bool,
    /// Follow a Kaia JSON-RPC endpoint (a Kaia node or a `ranger council`) instead of the
    /// embedded council; repeat for several sources. Needs --chain.
    #[arg(long = "follow", value_name = "URL")]
    follow: Vec<String>,
    /// The chain followed: mainnet, kairos or a genesis JSON file (a council's
    /// DATADIR/genesis.json).
    #[arg(long, requires = "follow")]
    chain: Option<String>,
    /// The first block to follow on a fresh store (a live chain's first block is taken as it is;
    /// a devnet's must extend its genesis).
    #[arg(long, requires = "follow", default_value_t = 1)]
    from: u64,
    /// Fault reports: the key that signs them, gossip with other rangers, the council that
    /// credits them.
    #[command(flatten)]
    reports: crate::reports::ReportFlags,
}

/// Where the node's blocks come from.
enum Source {
    Embedded(Box<Producer>),
    Follow(Vec<String>),
}

/// The chain a run follows: its spec, the block the first one extends (when known) and the
/// store's identity for it.
struct Followed {
    spec: ranger::consensus::ChainSpec,
    anchor: Option<Anchor>,
    id: ChainId,
    source: Source,
}

fn followed(a: &RunArgs) -> Result<Followed> {
    if a.follow.is_empty() {
        let config = a.council.devnet()?;
        let producer = Producer::new(config, &CpuBackend)?;
        let genesis = producer.genesis().clone();
        return Ok(Followed {
            spec: producer.spec().clone(),
            anchor: Some(Anchor::of(&genesis)),
            id: ChainId {
                chain_id: producer.spec().chain_id,
                genesis: block_hash(&genesis),
            },
            source: Source::Embedded(Box::new(producer)),
        });
    }
    let name = a
        .chain
        .as_deref()
        .context("--follow needs --chain (mainnet, kairos or a genesis JSON file)")?;
    let spec = crate::input::chain_spec(name).with_context(|| format!("--chain {name}"))?;
    // A devnet's genesis is rebuilt from its spec; a live chain's store is known by its chain
    // id (its genesis is not part of a built-in spec).
    let (anchor, genesis) = if spec.kind == ranger::consensus::chain::ChainKind::Devnet {
        let g = ranger::devnet::genesis_header(&spec, &CpuBackend)?;
        (Some(Anchor::of(&g)), block_hash(&g))
    } else {
        (None, alloy_primitives::B256::ZERO)
    };
    Ok(Followed {
        id: ChainId {
            chain_id: spec.chain_id,
            genesis,
        },
        spec,
        anchor,
        source: Source::Follow(a.follow.clone()),
    })
}

pub fn run(a: RunArgs) -> Result<u8> {
    let Followed {
        spec,
        anchor,
        id,
        source,
    } = followed(&a)?;
    let store = Arc::new(Store::open(&a.datadir, id)?);
    let resumed = store.resume()?;
    let mut spec_json = serde_json::to_vec_pretty(&spec)?;
    spec_json.push(b'\n');
    let chain_file = a.datadir.join(CHAIN_FILE);
    std::fs::write(&chain_file, spec_json)
        .with_context(|| format!("cannot write {}", chain_file.display()))?;
    let key_path = a
        .reports
        .key
        .clone()
        .unwrap_or_else(|| a.datadir.join("reporter.key"));
    let key = crate::reports::load_or_create_key(&key_path)?;
    let opened = crate::backend::open(a.backend)?;
    let metrics = Arc::new(Metrics::new(&opened.name));
    // Every batch, of the pipeline and of the offload API, is seen by the metrics.
    let backend: Arc<dyn ranger::crypto::Backend> =
        Arc::new(metrics::Observed::new(opened.backend, metrics.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("ranger-io")
        .build()
        .context("cannot start the async runtime")?;
    let mut builder = Verifier::builder(&spec).backend(backend.clone());
    if let Some(anchor) = anchor {
        builder = builder.anchor(anchor);
    }
    let (head, tally) = match &resumed {
        Some(r) => {
            builder = builder.resume(r.resume.clone());
            (r.head, r.tally)
        }
        None => (a.from.saturating_sub(1), Tally::default()),
    };
    // A live chain's council context comes from its blocks; what a source says of it is a hint
    // to check (keys, council, committee size of the block before the first one verified).
    let mut hint_counts = Vec::new();
    if let Source::Follow(urls) = &source
        && spec.kind == ranger::consensus::chain::ChainKind::Live
        && let Some((hints, counts)) = source_hints(&runtime, urls, spec.chain_id, head)
    {
        builder = builder.source_hints(hints);
        hint_counts = counts;
    }
    // The signer keys the last run had learnt (only hints: each is checked like any claim).
    let (keys, skipped) = store.keys(ranger::crypto::batch::DEFAULT_KEY_CACHE)?;
    if skipped > 0 {
        tracing::warn!(target: "ranger::node", skipped, "stored signer keys that do not parse as keys were skipped");
    }
    let kept_keys = keys.len();
    builder = builder.key_cache(keys.keep_unsaved());
    let mut verifier = builder.build().with_context(|| {
        format!(
            "cannot go on from the checkpoint in {}",
            store.path().display()
        )
    })?;
    let status = Arc::new(Status::new(
        spec.chain_id,
        opened.name.clone(),
        resumed.as_ref().map(|r| r.head),
        tally,
    ));
    for (hint, outcome, n) in hint_counts {
        metrics.hint(hint, outcome, n);
    }
    let (verdicts, _) = tokio::sync::broadcast::channel::<VerdictRecord>(1024);

    let ctx = crate::serve::NodeView {
        spec: Arc::new(spec.clone()),
        backend: backend.clone(),
        store: store.clone(),
        status: status.clone(),
        verdicts: verdicts.clone(),
    };
    // Reports are checked on the CPU, apart from the pipeline's batches and their metrics.
    let check = CheckContext::new(spec.clone(), Arc::new(CpuBackend));
    let (own_reports, own_rx) = tokio::sync::mpsc::unbounded_channel();
    let reporting = if spec.council.is_empty() {
        tracing::info!(target: "ranger::node", "the chain spec names no council: faults are verdicts, not reports");
        None
    } else {
        let genesis = (spec.kind == ranger::consensus::chain::ChainKind::Devnet)
            .then(|| ranger::devnet::genesis_header(&spec, &CpuBackend))
            .transpose()?
            .map(|header| {
                ranger::codec::block::encode_block(&ranger::primitives::Block {
                    header,
                    transactions: Vec::new(),
                })
            });
        Some(crate::reports::Reporting::new(
            Reporter::new(key.clone(), check.clone()),
            genesis,
            store.clone(),
            metrics.clone(),
            own_reports.clone(),
            a.reports.gossip_witness_max,
        ))
    };
    for bytes in reporting.iter().flat_map(|r| r.own_held()) {
        let _ = own_reports.send(bytes);
    }
    drop(own_reports);
    let p2p = runtime.block_on(crate::reports::start_p2p(
        &a.reports,
        &key,
        spec.chain_id,
        store.clone(),
        check,
    ))?;
    let p2p_addrs: Vec<String> = p2p
        .iter()
        .flat_map(|p| {
            let id = p.peer_id();
            p.listen_addrs()
                .into_iter()
                .map(move |m| format!("{m}/p2p/{id}"))
        })
        .collect();
    let publisher = runtime.spawn(crate::reports::publish(
        own_rx,
        p2p,
        a.reports.report_to.clone(),
        store.clone(),
        metrics.clone(),
        a.reports.gossip_witness_max,
    ));
    let (rpc, rpc_addr, metrics_addr) = runtime.block_on(async {
        let (rpc, rpc_addr) = crate::serve::start(
            a.http,
            crate::serve::ranger_module(ctx)?,
            crate::serve::MAX_REQUEST_BYTES,
        )
        .await?;
        let (listener, metrics_addr) = metrics::bind(a.metrics).await?;
        tokio::spawn(metrics::serve(listener, metrics.clone()));
        anyhow::Ok((rpc, rpc_addr, metrics_addr))
    })?;

    let stop = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<SourceEvent>(SOURCE_CHANNEL);
    let (council, follower) = match source {
        Source::Embedded(producer) => {
            let pace = embedded::Pace {
                block_period: a.council.period(),
                last_block: a.blocks,
            };
            (
                Some(embedded::spawn(*producer, head, pace, tx, stop.clone())?),
                None,
            )
        }
        Source::Follow(urls) => {
            let mut config = FollowConfig::new(urls, spec.chain_id, spec.forks.clone(), head + 1);
            config.counters = metrics.source.clone();
            // Blocks ranger cannot replay (a live chain's) are checked against the receipts the
            // source gives; a replayed chain's receipts are ranger's own.
            config.receipts = !verifier.replays();
            (None, Some(runtime.spawn(follow(config, tx))))
        }
    };
    // Ctrl-C: the source stops, which closes the channel; the verifier commits what it holds.
    let on_signal = stop.clone();
    let abort = follower.as_ref().map(|f| f.abort_handle());
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.store(true, Ordering::Relaxed);
            if let Some(f) = abort {
                f.abort();
            }
        }
    });

    // Machine-readable first lines: tests and scripts take the addresses from here.
    let from = if a.follow.is_empty() {
        "the embedded council".to_owned()
    } else {
        a.follow.join(", ")
    };
    eprintln!(
        "ranger: chain id {} ({}, {} validators) from {from}; store {} ({}); verifying on the {} backend",
        spec.chain_id,
        spec.name,
        spec.council.len(),
        a.datadir.display(),
        match &resumed {
            Some(r) => format!("going on after block {}", r.head),
            None => "new".to_owned(),
        },
        opened.name
    );
    eprintln!("keys: {kept_keys} signer keys from the store");
    eprintln!("rpc: http://{rpc_addr}");
    eprintln!("metrics: http://{metrics_addr}/metrics");
    eprintln!("reporter: {:#x}", key.address());
    for p in &p2p_addrs {
        eprintln!("p2p: {p}");
    }

    let mut line = StatusLine::new(a.json, tally);
    let outputs = Outputs {
        store: &store,
        status: &status,
        metrics: &metrics,
        verdicts: &verdicts,
        reporting: reporting.as_ref(),
    };
    let result = verify_loop(&mut verifier, head + 1, a.blocks, &mut rx, &outputs, |v| {
        line.verdict(v, &status)
    });
    crate::node::save_keys(&store, &mut verifier);
    // Whatever ended the loop, stop the source and the servers before reporting.
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    // A follow source waiting for a head that never comes (a council that stopped producing
    // after --blocks was reached) would never see the closed channel: it is aborted, which is
    // a clean stop; one that already ended keeps its result.
    if let Some(f) = &follower {
        f.abort();
    }
    let produced = match (council, follower) {
        (Some(c), _) => c
            .join()
            .map_err(|_| anyhow::anyhow!("the embedded council's thread panicked"))?,
        (None, Some(f)) => match runtime.block_on(f) {
            Ok(r) => r,
            // Aborted by Ctrl-C: a clean stop.
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(anyhow::anyhow!("the follow source failed: {e}")),
        },
        (None, None) => Ok(()),
    };
    // The publisher ends when the reporting half is gone: give it a moment to hand on what the
    // last window found (anything it cannot finish is held and handed on at the next start).
    drop(reporting);
    let _ =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(5), publisher).await });
    let _ = rpc.stop();
    runtime.shutdown_timeout(Duration::from_secs(2));
    result?;
    produced?;
    Ok(line.finish(&status, verifier.key_stats()))
}

/// What to count of a source's hints: `(hint, outcome, n)`.
type HintCounts = Vec<(&'static str, &'static str, u64)>;

/// Asks the sources on chain `chain_id` in turn for the council hints of block `at` (the first
/// that answers any of them gives them), keeps the BLS keys whose proof of possession verifies and says what it got
/// on stderr. `None` when no source gives any.
fn source_hints(
    runtime: &tokio::runtime::Runtime,
    urls: &[String],
    chain_id: u64,
    at: u64,
) -> Option<(ranger::pipeline::council_hints::SourceHints, HintCounts)> {
    use ranger::pipeline::council_hints::{CommitteeSizeHint, SourceHints, check_bls_infos};
    for url in urls {
        let answers = match runtime.block_on(crate::source::rpc::council_hints(
            url,
            chain_id,
            at,
            Duration::from_secs(10),
        )) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(target: "ranger::node", "{url}: no council hints: {e}");
                continue;
            }
        };
        let missing: Vec<String> = [
            answers.council.as_ref().err(),
            answers.params.as_ref().err(),
            answers.bls.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        if missing.len() == 3 {
            tracing::warn!(target: "ranger::node", "{url}: no council hints: {}", missing.join("; "));
            continue;
        }
        let checked = answers
            .bls
            .as_ref()
            .map(check_bls_infos)
            .unwrap_or_default();
        for (addr, why) in &checked.refused {
            tracing::warn!(target: "ranger::node", "{url}: BLS key hinted for {addr:#x} refused: {why}");
        }
        let council = answers.council.unwrap_or_default();
        let committee_size = answers
            .params
            .ok()
            .and_then(|p| p.committee_size)
            .filter(|s| *s > 0)
            .map(|size| CommitteeSizeHint { at, size });
        eprintln!(
            "hints: {url} at block {at}: council of {} members, committee size {}, {} BLS keys ({} refused){} — checked against the blocks, never trusted",
            council.len(),
            committee_size.map_or_else(|| "none".to_owned(), |c| c.size.to_string()),
            checked.keys.len(),
            checked.refused.len(),
            if missing.is_empty() {
                String::new()
            } else {
                format!("; missing: {}", missing.join("; "))
            }
        );
        let counts = vec![
            ("bls_key", "accepted", checked.keys.len() as u64),
            ("bls_key", "refused", checked.refused.len() as u64),
        ];
        let hints = SourceHints {
            source: url.clone(),
            block: at,
            bls_keys: checked.keys,
            council,
            committee_size,
        };
        return Some((hints, counts));
    }
    None
}

/// One verdict as `ranger verify` prints a block: `block N HASH valid (T txs)`, `… INVALID
/// kind: detail`, `… UNDECIDED: reason`, with the invalid block it descends from.
fn verdict_line(v: &VerdictRecord) -> String {
    let hash = v.hash.map_or_else(|| "-".to_owned(), |h| h.to_string());
    let ancestry = v
        .descends_from_invalid
        .map(|n| format!(" (descends from invalid block {n})"))
        .unwrap_or_default();
    let what = match (&v.kind, &v.reason) {
        (Some(kind), _) => format!("INVALID {kind}: {}", v.detail.as_deref().unwrap_or("")),
        (None, Some(reason)) => format!("UNDECIDED: {reason}"),
        (None, None) => format!("valid ({} txs)", v.transactions),
    };
    let notes: String = v.notes.iter().map(|n| format!(" [{n}]")).collect();
    format!("block {} {hash} {what}{ancestry}{notes}", v.block)
}

/// What the terminal shows: a status line redrawn in place on a terminal (height, lag, rates,
/// backend, counts) with a line of its own for each invalid or undecided block; one plain line
/// per block otherwise; one JSON verdict per line with `--json`.
struct StatusLine {
    json: bool,
    terminal: bool,
    started: Instant,
    at_start: Tally,
    blocks: u64,
}

impl StatusLine {
    fn new(json: bool, at_start: Tally) -> Self {
        Self {
            json,
            terminal: std::io::stdout().is_terminal(),
            started: Instant::now(),
            at_start,
            blocks: 0,
        }
    }

    fn verdict(&mut self, v: &VerdictRecord, status: &Status) {
        self.blocks += 1;
        if self.json {
            out!("{}", serde_json::to_string(v).unwrap_or_default());
            return;
        }
        let line = verdict_line(v);
        if !self.terminal {
            out!("{line}");
            return;
        }
        let s = status.snapshot();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let txs = s.transactions - self.at_start.transactions;
        let mut o = std::io::stdout().lock();
        // Clear the status line, print the block's own line when it needs attention, redraw.
        let _ = write!(o, "\r\x1b[2K");
        if v.verdict != "valid" {
            let _ = writeln!(o, "{line}");
        }
        let _ = write!(
            o,
            "height {} | lag {} | {:.1} blocks/s | {:.0} tx/s | {} | {} valid, {} invalid, {} undecided",
            s.verified_height.unwrap_or(0),
            s.lag_blocks,
            self.blocks as f64 / secs,
            txs as f64 / secs,
            s.backend,
            s.valid,
            s.invalid,
            s.undecided
        );
        let _ = o.flush();
    }

    /// Prints the summary of this run and returns the exit code: 1 if a block this run verified
    /// is invalid, else 2 if one is undecided, else 0.
    fn finish(&self, status: &Status, keys: ranger::crypto::batch::CacheStats) -> u8 {
        let s = status.snapshot();
        let now = Tally {
            valid: s.valid,
            invalid: s.invalid,
            undecided: s.undecided,
            transactions: s.transactions,
        };
        let run = Tally {
            valid: now.valid - self.at_start.valid,
            invalid: now.invalid - self.at_start.invalid,
            undecided: now.undecided - self.at_start.undecided,
            transactions: now.transactions - self.at_start.transactions,
        };
        let secs = self.started.elapsed().as_secs_f64();
        if self.terminal && !self.json {
            out!("");
        }
        let summary = serde_json::json!({"summary": {
            "blocks": self.blocks, "valid": run.valid, "invalid": run.invalid,
            "undecided": run.undecided, "transactions": run.transactions, "seconds": secs,
            "verified_height": s.verified_height, "disk_bytes": s.disk_bytes,
            "backend": s.backend, "key_claims": keys.claims, "key_hits": keys.hits}});
        if self.json {
            out!("{summary}");
        } else {
            out!(
                "{} blocks, {} transactions this run: {} valid, {} invalid, {} undecided ({secs:.1}s); verified height {}, store {} bytes; signer keys known for {} of {} claimed signers",
                self.blocks,
                run.transactions,
                run.valid,
                run.invalid,
                run.undecided,
                s.verified_height.unwrap_or(0),
                s.disk_bytes,
                keys.hits,
                keys.claims
            );
        }
        if run.invalid > 0 {
            1
        } else if run.undecided > 0 {
            2
        } else {
            0
        }
    }
}
