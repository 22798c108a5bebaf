//! Prometheus metrics of a running node (prometheus-client), served as text on
//! `GET /metrics` of their own address (`--metrics`): blocks and transactions verified, verdicts
//! by kind, source and verified heights (lag = source − verified), time per verified window,
//! per pipeline stage and per store commit, window sizes, backend batches (items and seconds by
//! operation, and a hybrid backend's GPU share), requests, failures and null entries per source,
//! conflicts seen, disk bytes, what became of the receipts a source gave for blocks ranger
//! cannot replay, and what the checks of a source's council hints found.

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use ranger::crypto::{Backend, MessageBatch, RecoverError, RecoverItem};
use ranger::pipeline::Stage;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// The labels of one verdict count: the verdict and, for an invalid block, its first fault.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    pub verdict: String,
    pub kind: String,
}

/// The label of a per-stage histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    pub stage: &'static str,
}

/// The label of a per-operation backend metric: `keccak` or `recover`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    pub op: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// 0.1 ms .. ~3.3 s
fn short_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// 1 .. 65,536 items
fn batch_items() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 17))
}

/// The labels of one receipts count: `matched` (they hash to the header's receiptsRoot and were
/// checked), `mismatched` (they do not: the block is undecided), `unavailable` (the source gave
/// none: not checked) or `malformed`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReceiptsLabels {
    pub outcome: String,
}

/// The labels of one council-hint count: `hint` is `bls_key` (outcome `accepted`: its proof of
/// possession verified, or `refused`) or `council` (outcome `consistent`, `lied`: it lacks a
/// recovered seal signer, or `disagrees`: not the block's validators).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HintLabels {
    pub hint: String,
    pub outcome: String,
}

/// The labels of a report count: `origin` is `own` or `relayed`; `outcome` is `held` or, for
/// own faults, `not_reportable` (no self-contained evidence shows it).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReportLabels {
    pub origin: &'static str,
    pub outcome: &'static str,
}

/// The label of an outcome count (council submissions, gossip messages).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

/// A count as a gauge's value (saturating).
fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Every metric the node exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub blocks: Counter,
    pub transactions: Counter,
    pub verdicts: Family<VerdictLabels, Counter>,
    pub verified_height: Gauge,
    pub source_height: Gauge,
    pub window_seconds: Histogram,
    pub commit_seconds: Histogram,
    pub window_blocks: Histogram,
    pub conflicts: Counter,
    pub disk_bytes: Gauge,
    pub stage_seconds: Histograms<StageLabels>,
    pub batch_items: Histograms<OpLabels>,
    pub batch_seconds: Histograms<OpLabels>,
    pub gpu_share: Family<OpLabels, Gauge<f64, AtomicU64>>,
    pub source: crate::source::SourceCounters,
    pub receipts: Family<ReceiptsLabels, Counter>,
    pub hints: Family<HintLabels, Counter>,
    pub reports: Family<ReportLabels, Counter>,
    pub submissions: Family<OutcomeLabels, Counter>,
    pub gossip_messages: Family<OutcomeLabels, Gauge>,
    pub gossip_peers: Gauge,
    pub gossip_graylisted: Gauge,
}

impl Metrics {
    pub fn new(backend: &str) -> Self {
        let mut registry = Registry::with_prefix("ranger");
        let blocks = Counter::default();
        let transactions = Counter::default();
        let verdicts = Family::<VerdictLabels, Counter>::default();
        let verified_height = Gauge::default();
        let source_height = Gauge::default();
        // 1 ms .. ~33 s
        let window_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        // 0.5 ms .. ~16 s
        let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let window_blocks = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        let conflicts = Counter::default();
        let disk_bytes = Gauge::default();
        let receipts = Family::<ReceiptsLabels, Counter>::default();
        let hints = Family::<HintLabels, Counter>::default();
        let reports = Family::<ReportLabels, Counter>::default();
        let submissions = Family::<OutcomeLabels, Counter>::default();
        let gossip_messages = Family::<OutcomeLabels, Gauge>::default();
        let gossip_peers = Gauge::default();
        let gossip_graylisted = Gauge::default();
        let info = Family::<Vec<(String, String)>, Gauge>::default();
        let stage_seconds = Histograms::<StageLabels>::new_with_constructor(short_seconds);
        let batch_items = Histograms::<OpLabels>::new_with_constructor(batch_items);
        let batch_seconds = Histograms::<OpLabels>::new_with_constructor(short_seconds);
        let gpu_share = Family::<OpLabels, Gauge<f64, AtomicU64>>::default();
        let source = crate::source::SourceCounters::default();
        info.get_or_create(&vec![("backend".to_owned(), backend.to_owned())])
            .set(1);
        let r = &mut registry;
        r.register(
            "blocks_verified",
            "Blocks verified (any verdict)",
            blocks.clone(),
        );
        r.register(
            "transactions_verified",
            "Transactions in verified blocks",
            transactions.clone(),
        );
        r.register(
            "verdicts",
            "Verdicts by verdict and first fault kind",
            verdicts.clone(),
        );
        r.register(
            "verified_height",
            "Last block verified and stored",
            verified_height.clone(),
        );
        r.register(
            "source_height",
            "Highest block the source announced",
            source_height.clone(),
        );
        r.register(
            "window_seconds",
            "Time to verify one window of blocks",
            window_seconds.clone(),
        );
        r.register(
            "commit_seconds",
            "Time of one store commit (one window)",
            commit_seconds.clone(),
        );
        r.register(
            "window_blocks",
            "Blocks per verified window",
            window_blocks.clone(),
        );
        r.register(
            "source_conflicts",
            "Blocks a source gave differently for one number (kept as evidence)",
            conflicts.clone(),
        );
        r.register(
            "disk_bytes",
            "Size of the node's database file",
            disk_bytes.clone(),
        );
        r.register(
            "source_receipts",
            "Blocks whose receipts a source was asked for, by outcome",
            receipts.clone(),
        );
        r.register(
            "source_hints",
            "A source's council hints, by hint and outcome of their check",
            hints.clone(),
        );
        r.register("backend", "The batch backend verifying blocks", info);
        r.register(
            "reports",
            "Fault reports by origin (own, relayed) and outcome",
            reports.clone(),
        );
        r.register(
            "report_submissions",
            "This node's reports revealed to a council, by outcome (credited, acknowledged, refused, failed)",
            submissions.clone(),
        );
        r.register(
            "gossip_messages",
            "Gossiped report messages since start, by outcome (received, accepted, ignored, rejected, rate_limited, oversized, published)",
            gossip_messages.clone(),
        );
        r.register(
            "gossip_peers",
            "Rangers connected for gossip",
            gossip_peers.clone(),
        );
        r.register(
            "gossip_graylisted",
            "Gossip peers graylisted for invalid messages",
            gossip_graylisted.clone(),
        );
        r.register(
            "stage_seconds",
            "Time one pipeline stage spent on one verified window (the stages overlap)",
            stage_seconds.clone(),
        );
        r.register(
            "batch_items",
            "Items per backend batch, by operation",
            batch_items.clone(),
        );
        r.register(
            "batch_seconds",
            "Time of one backend batch, by operation",
            batch_seconds.clone(),
        );
        r.register(
            "backend_gpu_share",
            "Share of each batch a hybrid backend sends to the GPU, by operation",
            gpu_share.clone(),
        );
        r.register(
            "source_requests",
            "Requests to each source",
            source.requests.clone(),
        );
        r.register(
            "source_failures",
            "Failed requests to each source (each retried after a pause, or the source dropped)",
            source.failures.clone(),
        );
        r.register(
            "source_null_entries",
            "Blocks a source answered as null in a range (asked again)",
            source.null_entries.clone(),
        );
        Self {
            registry,
            blocks,
            transactions,
            verdicts,
            verified_height,
            source_height,
            window_seconds,
            commit_seconds,
            window_blocks,
            conflicts,
            disk_bytes,
            stage_seconds,
            batch_items,
            batch_seconds,
            gpu_share,
            source,
            receipts,
            hints,
            reports,
            submissions,
            gossip_messages,
            gossip_peers,
            gossip_graylisted,
        }
    }

    /// Counts one report.
    pub fn report(&self, origin: &'static str, outcome: &'static str) {
        self.reports
            .get_or_create(&ReportLabels { origin, outcome })
            .inc();
    }

    /// Counts one council submission.
    pub fn submission(&self, outcome: &'static str) {
        self.submissions
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Mirrors the gossip layer's counters.
    pub fn gossip(&self, s: &crate::p2p::P2pStats) {
        for (outcome, n) in [
            ("received", s.received),
            ("accepted", s.accepted),
            ("ignored", s.ignored),
            ("rejected", s.rejected),
            ("rate_limited", s.rate_limited),
            ("oversized", s.oversized),
            ("published", s.published),
        ] {
            self.gossip_messages
                .get_or_create(&OutcomeLabels { outcome })
                .set(gauge(n));
        }
        self.gossip_peers.set(gauge(s.connected_peers as u64));
        self.gossip_graylisted.set(gauge(
            s.peers.values().filter(|p| p.graylisted).count() as u64
        ));
    }

    /// Records the time each pipeline stage spent on one window.
    pub fn stages(&self, times: &[(Stage, Duration)]) {
        for (stage, d) in times {
            self.stage_seconds
                .get_or_create(&StageLabels {
                    stage: stage.as_str(),
                })
                .observe(d.as_secs_f64());
        }
    }

    fn batch(&self, op: &'static str, items: usize, d: Duration) {
        let l = OpLabels { op };
        self.batch_items.get_or_create(&l).observe(items as f64);
        self.batch_seconds
            .get_or_create(&l)
            .observe(d.as_secs_f64());
    }

    /// Counts `n` hints of kind `hint` with `outcome`.
    pub fn hint(&self, hint: &str, outcome: &str, n: u64) {
        self.hints
            .get_or_create(&HintLabels {
                hint: hint.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(n);
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // A persistent error (out of file descriptors) would otherwise spin a core.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(&req, &metrics)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(req: &Request<hyper::body::Incoming>, metrics: &Metrics) -> Response<Full<Bytes>> {
    let (status, body, ctype) =
        if req.method() == hyper::Method::GET && req.uri().path() == "/metrics" {
            (
                StatusCode::OK,
                metrics.encode(),
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )
        } else {
            (
                StatusCode::NOT_FOUND,
                "not found: metrics are at GET /metrics\n".to_owned(),
                "text/plain",
            )
        };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(ctype) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// Binds `addr` (port 0 picks a free one) and returns the listener with its address.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr}"))?;
    let local = l.local_addr()?;
    Ok((l, local))
}

/// A backend whose every batch is recorded in the metrics (items and seconds, by operation),
/// and whose GPU share, if it splits batches, is exported after each batch.
#[derive(Debug)]
pub struct Observed {
    inner: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
}

impl Observed {
    pub fn new(inner: Arc<dyn Backend>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn share(&self) {
        if let Some((recover, keccak)) = self.inner.gpu_share() {
            let m = &self.metrics.gpu_share;
            m.get_or_create(&OpLabels { op: "recover" }).set(recover);
            m.get_or_create(&OpLabels { op: "keccak" }).set(keccak);
        }
    }
}

impl Backend for Observed {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn keccak_batch(&self, batch: &MessageBatch) -> Vec<alloy_primitives::B256> {
        let t = Instant::now();
        let out = self.inner.keccak_batch(batch);
        self.metrics.batch("keccak", batch.len(), t.elapsed());
        self.share();
        out
    }

    fn recover_batch(
        &self,
        items: &[RecoverItem],
    ) -> Vec<Result<alloy_primitives::Address, RecoverError>> {
        let t = Instant::now();
        let out = self.inner.recover_batch(items);
        self.metrics.batch("recover", items.len(), t.elapsed());
        self.share();
        out
    }

    fn gpu_share(&self) -> Option<(f64, f64)> {
        self.inner.gpu_share()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ranger::crypto::CpuBackend;

    #[test]
    fn batches_stages_and_sources_are_exported() {
        let m = Arc::new(Metrics::new("cpu"));
        let b = Observed::new(Arc::new(CpuBackend), m.clone());
        let mut batch = MessageBatch::new();
        batch.push(b"a");
        batch.push(b"bc");
        assert_eq!(b.keccak_batch(&batch).len(), 2);
        m.stages(&[(Stage::Hash, Duration::from_millis(2))]);
        let peer = m.source.of("http://127.0.0.1:1");
        peer.requests.inc();
        peer.requests.inc();
        peer.failures.inc();
        let text = m.encode();
        for line in [
            "ranger_batch_items_count{op=\"keccak\"} 1",
            "ranger_batch_items_sum{op=\"keccak\"} 2.0",
            "ranger_stage_seconds_count{stage=\"hash\"} 1",
            "ranger_source_requests_total{source=\"http://127.0.0.1:1\"} 2",
            "ranger_source_failures_total{source=\"http://127.0.0.1:1\"} 1",
        ] {
            assert!(text.contains(line), "no {line} in:\n{text}");
        }
        // The CPU backend does not split batches: no GPU share is exported.
        assert!(!text.contains("ranger_backend_gpu_share{"), "{text}");
    }
}
