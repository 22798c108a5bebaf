//! The node's reporting side: every fault the node proves becomes a signed report (the
//! library's `report`), held in the store, committed to and revealed to a council
//! (`--report-to`), and gossiped to other rangers (`--p2p-listen`, `--peer`); reports other rangers
//! gossip are checked here before they are held and relayed.
//!
//! Two halves: `Reporting` runs on the verifying thread after each window is committed (so a
//! report is never about a block the store does not hold), builds and checks reports and holds
//! them; `publish` runs on the async side and takes them to the council and the network.
//! Nothing is lost between them: a report is held (durably) before it is handed on, and a node
//! that restarts hands every report of its own on again (the council and the network both take
//! a repeat as a no-op).
//!
//! A node failure never becomes a report: only `Invalid` verdicts' proven faults are reported,
//! and each report is checked by the node's own checker before it leaves.

use crate::p2p::{self, Multiaddr, P2p, P2pConfig, Validation};
use crate::serve::metrics::Metrics;
use crate::store::Store;
use alloy_primitives::B256;
use anyhow::{Context, Result};
use clap::Args;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use ranger::crypto::secp::SigningKey;
use ranger::pipeline::{BlockReport, Verdict};
use ranger::report::{CheckContext, FaultReport, Proven, ReportError, Reporter, check_report};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;

/// Bytes of one gossiped report at most. Header and transaction evidence is a few KiB; block
/// evidence carries the block's transactions, and the witness of every account they touch
/// unless it is detached (`--gossip-witness-max`): so only a block of tens of thousands of
/// transactions comes near this. A larger report is held and served by `ranger_getReports` and
/// taken by a council, but not gossiped.
pub const MAX_GOSSIP_BYTES: usize = 8 << 20;
/// A witness larger than this travels beside its gossiped report, not in it (`ranger bench
/// reports` measures ~150 KB for 100 transactions over 10,000 accounts; `cargo test --release -p
/// ranger --test witness witness_sizes -- --nocapture` ~1.2 MB for 1,000 over 100,000). Gossip
/// sends every message to each mesh peer whether it needs it or not; a detached witness is
/// fetched once per ranger, by hash, from the neighbour that relayed the report.
pub const DEFAULT_GOSSIP_WITNESS_BYTES: usize = 1 << 20;
/// Reports one neighbour may gossip to us per minute before the rest are ignored.
const GOSSIP_RATE: u32 = 120;
/// Attempts at each council call before giving up on it (the report stays held).
const COUNCIL_ATTEMPTS: u32 = 4;

/// How the node reports.
#[derive(Debug, Clone, Args)]
pub struct ReportFlags {
    /// The secp256k1 key that signs this ranger's fault reports, as hex (created with mode 0600
    /// on first run; default DATADIR/reporter.key).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Gossip fault reports with other rangers, listening on this libp2p address (e.g.
    /// /ip4/127.0.0.1/tcp/0; port 0 picks a free one, printed as `p2p: ADDR` on stderr).
    #[arg(long, value_name = "MULTIADDR")]
    pub p2p_listen: Option<Multiaddr>,
    /// A ranger to gossip with, as its `p2p:` address (repeatable; needs --p2p-listen).
    #[arg(long = "peer", value_name = "MULTIADDR", requires = "p2p_listen")]
    pub peers: Vec<Multiaddr>,
    /// A council to credit this ranger's reports: its JSON-RPC URL (`ranger council`). Each
    /// report is committed to first, then revealed.
    #[arg(long, value_name = "URL")]
    pub report_to: Option<String>,
    /// A state witness larger than this many bytes is detached from its report: the report is
    /// gossiped naming the witness by hash, and the witness is served to the rangers that ask
    /// (and by `ranger_getWitness`).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_GOSSIP_WITNESS_BYTES)]
    pub gossip_witness_max: usize,
}

/// The ranger's key from `path`, or a new one written there (0600) when the file does not exist.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim().trim_start_matches("0x"))
                .with_context(|| format!("{}: the key is not hex", path.display()))?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                anyhow::anyhow!("{}: the key is {} bytes, not 32", path.display(), b.len())
            })?;
            warn_if_readable(path);
            SigningKey::from_bytes(bytes)
                .with_context(|| format!("{}: not a valid secp256k1 secret key", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = loop {
                if let Some(k) = SigningKey::from_bytes(rand::random()) {
                    break k;
                }
            };
            write_private(path, &format!("0x{}\n", hex::encode(key.to_bytes())))?;
            tracing::info!(target: "ranger::reports", "created the reporter key {} ({:#x})", path.display(), key.address());
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the key {}", path.display())),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the key {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot create the key {}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(target: "ranger::reports", "{} is readable by others (mode {:o}); chmod 600 it", path.display(), m.permissions().mode() & 0o777);
    }
}

#[cfg(not(unix))]
fn warn_if_readable(_: &Path) {}

/// The libp2p identity of a ranger: an ed25519 key derived from its reporter key, so that one
/// file names the ranger on both sides.
pub fn p2p_identity(key: &SigningKey) -> Result<libp2p::identity::Keypair> {
    let seed = ranger::crypto::keccak256_concat(&[b"ranger p2p identity", &key.to_bytes()]);
    libp2p::identity::Keypair::ed25519_from_bytes(seed.0)
        .map_err(|e| anyhow::anyhow!("cannot derive the p2p identity: {e}"))
}

/// The gossip topic of a chain.
pub fn topic(chain_id: u64) -> String {
    format!("ranger/reports/{chain_id}")
}

/// Two versions of one block: its number, the first and the second (RLP).
type Versions = (u64, Vec<u8>, Vec<u8>);

/// The verifying thread's half: builds, checks and holds reports, then hands them on.
#[derive(Debug)]
pub struct Reporting {
    reporter: Reporter,
    /// Block 0 (a devnet's genesis block), the parent of block 1.
    genesis: Option<Vec<u8>>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    out: mpsc::UnboundedSender<Vec<u8>>,
    /// Two versions of a block whose parent is not stored yet (the conflict came in before the
    /// window holding the parent was committed).
    pending: Mutex<Vec<Versions>>,
    /// Witnesses over this are held beside their reports (`--gossip-witness-max`).
    witness_max: usize,
}

impl Reporting {
    /// A reporting half; `out` takes each new report of this node to `publish`.
    pub fn new(
        reporter: Reporter,
        genesis: Option<Vec<u8>>,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        out: mpsc::UnboundedSender<Vec<u8>>,
        witness_max: usize,
    ) -> Self {
        Self {
            reporter,
            genesis,
            store,
            metrics,
            out,
            pending: Mutex::new(Vec::new()),
            witness_max,
        }
    }

    fn parent(&self, number: u64) -> Option<Vec<u8>> {
        match number.checked_sub(1)? {
            0 => self.genesis.clone(),
            n => self.store.block(n).ok().flatten(),
        }
    }

    /// Reports the proven faults of a committed block.
    pub fn judged(&self, number: u64, raw: &[u8], r: &BlockReport) {
        if r.verdict != Verdict::Invalid {
            return;
        }
        let Some(parent) = self.parent(number) else {
            tracing::warn!(target: "ranger::reports", number, "the parent block is not held: no report");
            return;
        };
        let witness = r.witness.as_ref().map(|w| w.to_rlp());
        for built in self.reporter.reports(r, raw, &parent, witness.as_deref()) {
            match built {
                Ok((report, proven)) => self.keep(&report, &proven),
                Err(e) => {
                    tracing::info!(target: "ranger::reports", number, "not reported: {e}");
                    self.metrics.report("own", "not_reportable");
                }
            }
        }
    }

    /// Two versions of block `number` from the sources: an equivocation when the council sealed
    /// both.
    pub fn conflict(&self, number: u64, first: Vec<u8>, second: Vec<u8>) {
        if self.parent(number).is_none() {
            self.lock_pending().push((number, first, second));
            return;
        }
        self.equivocation(number, &first, &second);
    }

    /// Goes back to conflicts whose parent is now stored (after each commit).
    pub fn after_commit(&self) {
        let ready: Vec<_> = {
            let mut p = self.lock_pending();
            let all = std::mem::take(&mut *p);
            let (ready, wait): (Vec<_>, Vec<_>) = all
                .into_iter()
                .partition(|(n, ..)| self.parent(*n).is_some());
            *p = wait;
            ready
        };
        for (n, a, b) in ready {
            self.equivocation(n, &a, &b);
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Versions>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn equivocation(&self, number: u64, first: &[u8], second: &[u8]) {
        let Some(parent) = self.parent(number) else {
            return;
        };
        match self.reporter.equivocation(&parent, first, second) {
            Ok((report, proven)) => self.keep(&report, &proven),
            // A source that makes up a block it cannot seal is the source's lie, not the
            // council's: logged, never reported.
            Err(e) => {
                tracing::warn!(target: "ranger::reports", number, "two versions of the block, no equivocation proven: {e}");
            }
        }
    }

    fn keep(&self, report: &FaultReport, proven: &Proven) {
        match self.store.hold(report, "own", self.witness_max) {
            Ok((held, true)) => {
                tracing::warn!(target: "ranger::reports", "reported {} at block {} (fault {}, {} evidence bytes{})", proven.kind, proven.block, proven.fault_id, proven.evidence_bytes,
                    if held.witness.is_some() { ", the witness detached" } else { "" });
                self.metrics.report("own", "held");
                // The publisher ends only when the node stops; a report held then is handed on
                // at the next start.
                let _ = self.out.send(held.encoded);
            }
            Ok((_, false)) => {}
            Err(e) => {
                tracing::error!(target: "ranger::reports", "cannot hold the report of {} at block {}: {e}", proven.kind, proven.block);
            }
        }
    }

    /// Every report of this node's own that the store holds (handed on again at start).
    pub fn own_held(&self) -> Vec<Vec<u8>> {
        self.store
            .held_reports(0, u64::MAX)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.origin == "own")
            .map(|r| r.encoded)
            .collect()
    }
}

/// The gossip validator: a fault already held is ignored, a report that checks is accepted, a
/// forged, false or malformed one rejected (its sender is penalised); a report the checker could
/// not judge (its own failure) is ignored. A report whose witness is detached is checked as far
/// as it goes without it, then its witness is fetched from the neighbour that relayed it and
/// held before the report is accepted, so that this node can serve it to the next.
pub fn validator(store: Arc<Store>, check: CheckContext) -> p2p::Validator {
    let verdict = |e: ReportError| {
        if e.is_ours() {
            Validation::Ignore(e.to_string())
        } else {
            Validation::Reject(e.to_string())
        }
    };
    Arc::new(move |bytes: &[u8], fetcher: &p2p::Fetcher| {
        let mut report = match FaultReport::decode(bytes) {
            Ok(r) => r,
            Err(e) => return Validation::Reject(e.to_string()),
        };
        if let Ok(Some(_)) = store.held_report(&report.fault_id()) {
            return Validation::Ignore("a report of this fault is held already".into());
        }
        let hash = match check_report(&report, &check) {
            Ok(_) => return Validation::Accept,
            Err(ReportError::WitnessDetached { hash, .. }) => hash,
            Err(e) => return verdict(e),
        };
        let (witness, held) = match store.witness(&hash) {
            Ok(Some(w)) => (w, true),
            _ => match fetcher.fetch(hash.0) {
                Ok(w) => (w, false),
                Err(e) => {
                    return Validation::Ignore(format!(
                        "the detached witness {hash} could not be fetched from {:?}: {e:#}",
                        fetcher.peers()
                    ));
                }
            },
        };
        // The bytes hash as named (the transport checks); a length other than the signed one
        // means the report names a witness that cannot exist.
        if let Err(e) = report.attach_witness(witness) {
            return Validation::Reject(e.to_string());
        }
        if let Err(e) = check_report(&report, &check) {
            return verdict(e);
        }
        // Held before the verdict, so this node can serve it to whoever it relays the report to.
        match report.detach_witness() {
            Some(w) if !held => match store.hold_witness(&w) {
                Ok(_) => Validation::Accept,
                Err(e) => Validation::Ignore(format!("cannot hold the witness: {e}")),
            },
            _ => Validation::Accept,
        }
    })
}

/// Starts gossip when the flags ask for it.
pub async fn start_p2p(
    flags: &ReportFlags,
    key: &SigningKey,
    chain_id: u64,
    store: Arc<Store>,
    check: CheckContext,
) -> Result<Option<P2p>> {
    let Some(listen) = flags.p2p_listen.clone() else {
        return Ok(None);
    };
    let mut cfg = P2pConfig::new(listen, topic(chain_id), p2p_identity(key)?);
    cfg.peers = flags.peers.clone();
    cfg.max_message_bytes = MAX_GOSSIP_BYTES;
    cfg.rate = (GOSSIP_RATE, Duration::from_secs(60));
    cfg.max_blob_bytes = ranger::report::MAX_REPORT_BYTES;
    let witnesses = store.clone();
    cfg.blobs = Some(p2p::BlobSource(Arc::new(move |hash: &[u8; 32]| {
        witnesses.witness(&B256::from(*hash)).ok().flatten()
    })));
    let p = p2p::start(cfg, validator(store, check)).await?;
    Ok(Some(p))
}

/// The async half: each of this node's reports is committed to the council, gossiped, then
/// revealed to the council; reports other rangers gossip (checked by the validator) are held.
/// Runs until `own` closes.
pub async fn publish(
    mut own: mpsc::UnboundedReceiver<Vec<u8>>,
    mut p2p: Option<P2p>,
    council: Option<String>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    witness_max: usize,
) {
    let mut stats_tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let accepted = async {
            match p2p.as_mut() {
                Some(p) => p.accepted().recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = own.recv() => {
                let Some(bytes) = r else { return };
                let Ok(report) = FaultReport::decode(&bytes) else { continue };
                let salt = B256::from(rand::random::<[u8; 32]>());
                let committed = match &council {
                    Some(url) => commit(url, &report, &salt).await.map_err(|e| {
                        tracing::warn!(target: "ranger::reports", "{url}: commitment of fault {} failed: {e:#}", report.fault_id());
                        metrics.submission("failed");
                    }).is_ok(),
                    None => false,
                };
                if let Some(p) = &p2p {
                    if bytes.len() > MAX_GOSSIP_BYTES {
                        tracing::warn!(target: "ranger::reports", "the report of fault {} is {} bytes, over the gossip bound: held and served by ranger_getReports only", report.fault_id(), bytes.len());
                    } else if let Err(e) = p.publish(bytes.clone()).await {
                        tracing::warn!(target: "ranger::reports", "gossip of fault {}: {e:#}", report.fault_id());
                    }
                }
                if let (Some(url), true) = (council.clone(), committed) {
                    let metrics = metrics.clone();
                    // The council checks the whole evidence: a detached witness goes with it.
                    let full = match store.attached(report.clone()) {
                        Ok(r) => r.encode(),
                        Err(e) => {
                            tracing::error!(target: "ranger::reports", "fault {}: {e}", report.fault_id());
                            continue;
                        }
                    };
                    tokio::spawn(async move {
                        match reveal(&url, &full, &salt).await {
                            Ok(credited) => metrics.submission(if credited { "credited" } else { "acknowledged" }),
                            Err(e) => {
                                tracing::warn!(target: "ranger::reports", "{url}: the report of fault {} was not taken: {e:#}", report.fault_id());
                                metrics.submission("refused");
                            }
                        }
                    });
                }
            }
            Some(m) = accepted => {
                let Ok(report) = FaultReport::decode(&m.data) else { continue };
                match store.hold(&report, "relayed", witness_max) {
                    Ok((held, true)) => {
                        tracing::info!(target: "ranger::reports", "holding {} at block {} by {:#x} (relayed by {})", held.kind, held.block, held.reporter, m.from);
                        metrics.report("relayed", "held");
                    }
                    Ok((_, false)) => {}
                    Err(e) => tracing::error!(target: "ranger::reports", "cannot hold a relayed report: {e}"),
                }
            }
            _ = stats_tick.tick() => {
                if let Some(p) = &p2p {
                    metrics.gossip(&p.stats());
                }
            }
        }
    }
}

/// `ranger_commitReport` with retries.
async fn commit(url: &str, report: &FaultReport, salt: &B256) -> Result<()> {
    let c = ranger::report::commitment(&report.fault_id(), &report.reporter, salt);
    call(url, "ranger_commitReport", rpc_params![c]).await?;
    Ok(())
}

/// `ranger_submitReport` with its salt; whether the council credited it.
async fn reveal(url: &str, bytes: &[u8], salt: &B256) -> Result<bool> {
    let hexed = format!("0x{}", hex::encode(bytes));
    let v = call(url, "ranger_submitReport", rpc_params![hexed, salt]).await?;
    Ok(v.get("credited").and_then(serde_json::Value::as_bool) == Some(true))
}

async fn call(
    url: &str,
    method: &str,
    params: jsonrpsee::core::params::ArrayParams,
) -> Result<serde_json::Value> {
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .max_request_size(ranger::report::MAX_REPORT_BYTES as u32 * 3)
        .build(url)
        .with_context(|| format!("{url} is not a usable URL"))?;
    let mut pause = Duration::from_millis(250);
    let mut last = None;
    for _ in 0..COUNCIL_ATTEMPTS {
        match client
            .request::<serde_json::Value, _>(method, params.clone())
            .await
        {
            Ok(v) => return Ok(v),
            // A refusal is the council's answer: asking again changes nothing.
            Err(jsonrpsee::core::ClientError::Call(e)) => {
                anyhow::bail!("{method}: {} (code {})", e.message(), e.code())
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    Err(anyhow::anyhow!(
        "{method}: {}",
        last.map_or_else(|| "no attempt".to_owned(), |e| e.to_string())
    ))
}
