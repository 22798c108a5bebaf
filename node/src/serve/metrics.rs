//! Prometheus metrics of a running node (prometheus-client), served as text on
//! `GET /metrics` of their own address (`--metrics`): blocks and transactions verified, verdicts
//! by kind, source and verified heights (lag = source − verified), time per verified window and
//! per store commit, window sizes, conflicts seen, disk bytes, and what became of the receipts a
//! source gave for blocks ranger cannot replay, and what the checks of a source's council hints
//! found.

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
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The labels of one verdict count: the verdict and, for an invalid block, its first fault.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    pub verdict: String,
    pub kind: String,
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
    pub receipts: Family<ReceiptsLabels, Counter>,
    pub hints: Family<HintLabels, Counter>,
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
        let info = Family::<Vec<(String, String)>, Gauge>::default();
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
            receipts,
            hints,
        }
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
