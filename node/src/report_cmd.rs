//! `ranger report`: fault reports as files. `check` re-verifies one offline against a chain
//! spec and prints the verdict (exit 0 proven, 1 refused, 2 could not check); `show` prints one
//! readably; `publish` hands report files to rangers over gossip, unchecked (the rangers check
//! them: an operator's way to pass on a report, and a test's way to send a forged one).
//!
//! A report file holds the canonical bytes, as raw bytes or hex (`0x…`), or one entry of
//! `ranger_getReports` (a JSON object with `encoded`). A report whose state witness is detached
//! names it by hash; `--witness FILE` (raw or hex, e.g. what `ranger_getWitness` returns) gives
//! it to `check`, and to `publish`, which serves it to the rangers that ask.

use crate::p2p::{self, Multiaddr, P2pConfig, Validation};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ranger::codec::header::decode_header;
use ranger::consensus::istanbul::block_hash;
use ranger::crypto::CpuBackend;
use ranger::report::{
    CheckContext, Evidence, FaultReport, Inclusion, ReportError, WitnessPart, check_report,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Re-verify a report offline: exit 0 when its fault is proven, 1 when the report is refused
    /// (forged, false, malformed), 2 when it cannot be checked.
    Check(CheckArgs),
    /// Print a report readably (without checking it).
    Show(ShowArgs),
    /// Publish report files to rangers over gossip, as they are (the rangers check them).
    Publish(PublishArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The report file.
    file: PathBuf,
    /// The chain: mainnet, kairos or a genesis JSON file (a council's DATADIR/genesis.json).
    #[arg(long, conflicts_with = "datadir")]
    chain: Option<String>,
    /// A ranger's or a council's data directory: the chain its node follows.
    #[arg(long)]
    datadir: Option<PathBuf>,
    /// The state witness the report names but does not carry (raw or hex).
    #[arg(long, value_name = "FILE")]
    witness: Option<PathBuf>,
    /// Print the verdict as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The report file.
    file: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Report files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A ranger to hand them to, as its `p2p:` address (repeatable).
    #[arg(long = "peer", required = true)]
    peers: Vec<Multiaddr>,
    /// The chain id whose topic they go to.
    #[arg(long)]
    chain_id: u64,
    /// Seconds to wait for a ranger to take them before giving up.
    #[arg(long, default_value_t = 30)]
    wait: u64,
    /// Seconds to stay connected after the last report went out (gossip is sent as the swarm
    /// runs, and a `--witness` is served only while it does: give rangers time to fetch it).
    #[arg(long, default_value_t = 2)]
    linger: u64,
    /// The largest message this publisher sends (rangers refuse more than 8 MiB).
    #[arg(long, default_value_t = crate::reports::MAX_GOSSIP_BYTES)]
    max_message_bytes: usize,
    /// A detached state witness to serve to the rangers that ask for it (raw or hex; repeatable).
    #[arg(long = "witness", value_name = "FILE")]
    witnesses: Vec<PathBuf>,
}

pub fn run(c: ReportCommand) -> Result<u8> {
    match c {
        ReportCommand::Check(a) => check_cmd(a),
        ReportCommand::Show(a) => show(a),
        ReportCommand::Publish(a) => publish(a),
    }
}

/// `text` as hex (`0x…`, quoted or not) when it is hex, else `None`.
fn hex_text(text: &str, path: &Path) -> Option<Result<Vec<u8>>> {
    let t = text.trim().trim_matches('"');
    let h = t.strip_prefix("0x").unwrap_or(t);
    (!h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex::decode(h).with_context(|| format!("{}: odd-length hex", path.display())))
}

/// The bytes in a witness file: raw, or hex as `ranger_getWitness` returns it.
fn read_witness_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| hex_text(t, path))
    {
        Some(decoded) => decoded,
        None => Ok(bytes),
    }
}

/// The canonical bytes in a report file.
pub fn read_report_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(bytes);
    };
    let t = text.trim();
    if t.starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(t).with_context(|| format!("{}: not JSON", path.display()))?;
        let enc = v
            .get("encoded")
            .and_then(serde_json::Value::as_str)
            .with_context(|| format!("{}: no \"encoded\" field", path.display()))?;
        return hex::decode(enc.trim_start_matches("0x"))
            .with_context(|| format!("{}: \"encoded\" is not hex", path.display()));
    }
    match hex_text(t, path) {
        Some(decoded) => decoded,
        None => Ok(bytes),
    }
}

fn spec_of(chain: Option<&str>, datadir: Option<&Path>) -> Result<ranger::consensus::ChainSpec> {
    if let Some(c) = chain {
        return crate::input::chain_spec(c).with_context(|| format!("--chain {c}"));
    }
    let Some(dir) = datadir else {
        bail!("name the chain: --chain (mainnet, kairos or a genesis JSON file) or --datadir DIR");
    };
    for name in [crate::run_cmd::CHAIN_FILE, "genesis.json"] {
        let p = dir.join(name);
        if p.exists() {
            return crate::input::chain_spec(&p.to_string_lossy())
                .with_context(|| format!("--datadir {}", dir.display()));
        }
    }
    bail!(
        "{} holds neither {} (a ranger's) nor genesis.json (a council's)",
        dir.display(),
        crate::run_cmd::CHAIN_FILE
    )
}

fn check_cmd(a: CheckArgs) -> Result<u8> {
    let bytes = read_report_file(&a.file)?;
    let witness = a.witness.as_deref().map(read_witness_file).transpose()?;
    let spec = spec_of(a.chain.as_deref(), a.datadir.as_deref())?;
    let ctx = CheckContext::new(spec, Arc::new(CpuBackend));
    let checked = match FaultReport::decode(&bytes) {
        Err(e) => Err(ReportError::from(e)),
        Ok(mut report) => {
            if let (Some(w), Some(path)) = (witness, &a.witness) {
                report
                    .attach_witness(w)
                    .with_context(|| format!("--witness {}", path.display()))?;
            }
            check_report(&report, &ctx)
        }
    };
    match checked {
        Ok(p) => {
            if a.json {
                out!("{}", json!({"valid": true, "report": p}));
            } else {
                out!(
                    "VALID {} at block {} ({}) reported by {:#x}: {}",
                    p.kind,
                    p.block,
                    p.block_hash,
                    p.reporter,
                    p.detail
                );
                out!(
                    "fault id {}; signed by {}; {} evidence bytes",
                    p.fault_id,
                    p.signed_by,
                    p.evidence_bytes
                );
            }
            Ok(0)
        }
        Err(e) => {
            let code = if e.is_ours() { 2 } else { 1 };
            let what = if e.is_ours() { "UNDECIDED" } else { "REFUSED" };
            if a.json {
                out!(
                    "{}",
                    json!({"valid": false, "verdict": what.to_lowercase(), "reason": e.to_string()})
                );
            } else {
                out!("{what}: {e}");
            }
            Ok(code)
        }
    }
}

fn header_summary(bytes: &[u8]) -> serde_json::Value {
    match decode_header(bytes) {
        Ok(h) => json!({"number": h.number, "hash": block_hash(&h), "bytes": bytes.len()}),
        Err(e) => json!({"error": e.to_string(), "bytes": bytes.len()}),
    }
}

fn show(a: ShowArgs) -> Result<u8> {
    let bytes = read_report_file(&a.file)?;
    let r = FaultReport::decode(&bytes)?;
    let evidence = match &r.evidence {
        Evidence::Header { parent, header } => json!({"class": "header",
            "parent": header_summary(parent), "header": header_summary(header)}),
        Evidence::Transaction {
            parent,
            header,
            index,
            tx,
            inclusion,
        } => json!({"class": "transaction",
        "parent": header_summary(parent), "header": header_summary(header),
        "index": index, "tx_bytes": tx.len(), "tx_keccak": ranger::crypto::keccak256(tx),
        "inclusion": match inclusion {
            Inclusion::Proof(p) => json!({"proof_nodes": p.len()}),
            Inclusion::List(l) => json!({"transactions": l.len()}),
        }}),
        Evidence::Block {
            parent,
            header,
            transactions,
            witness,
        } => json!({"class": "block",
        "parent": header_summary(parent), "header": header_summary(header),
        "transactions": transactions.len(),
        "witness": match witness {
            WitnessPart::Carried(w) => json!({"bytes": w.len()}),
            WitnessPart::Detached { hash, len } => json!({"bytes": len, "detached": hash}),
        }}),
        Evidence::Equivocation {
            parent,
            first,
            second,
        } => json!({"class": "equivocation", "parent": header_summary(parent),
            "first": header_summary(first), "second": header_summary(second)}),
    };
    let signer = r.signer().map_err(|e| e.to_string());
    let v = json!({
        "fault_id": r.fault_id(),
        "chain_id": r.chain_id,
        "block": r.block_number,
        "block_hash": r.block_hash,
        "kind": r.kind,
        "about": r.kind.about(),
        "reporter": r.reporter,
        "signature_is_reporters": signer.as_ref().is_ok_and(|s| *s == r.reporter),
        "evidence": evidence,
        "bytes": bytes.len(),
    });
    if a.json {
        out!("{v}");
    } else {
        out!(
            "{} at block {} ({}) on chain {}",
            r.kind,
            r.block_number,
            r.block_hash,
            r.chain_id
        );
        out!("  {}", r.kind.about());
        out!(
            "  reporter {:#x} (signature {})",
            r.reporter,
            match signer {
                Ok(s) if s == r.reporter => "is the reporter's".to_owned(),
                Ok(s) => format!("recovers to {s:#x}, NOT the reporter"),
                Err(e) => format!("does not recover: {e}"),
            }
        );
        out!("  fault id {}", r.fault_id());
        out!(
            "  evidence {} ({} bytes in all)",
            v["evidence"],
            bytes.len()
        );
        out!("  check it: ranger report check FILE --chain GENESIS");
    }
    Ok(0)
}

fn publish(a: PublishArgs) -> Result<u8> {
    let mut messages = Vec::new();
    for f in &a.files {
        messages.push(read_report_file(f)?);
    }
    let mut witnesses = std::collections::HashMap::new();
    for w in &a.witnesses {
        let bytes = read_witness_file(w)?;
        witnesses.insert(ranger::crypto::keccak256(&bytes).0, bytes);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listen: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse()?;
        let mut cfg = P2pConfig::new(
            listen,
            crate::reports::topic(a.chain_id),
            libp2p::identity::Keypair::generate_ed25519(),
        );
        cfg.peers = a.peers.clone();
        cfg.max_message_bytes = a.max_message_bytes;
        cfg.max_blob_bytes = ranger::report::MAX_REPORT_BYTES;
        cfg.blobs = Some(p2p::BlobSource(Arc::new(move |hash: &[u8; 32]| {
            witnesses.get(hash).cloned()
        })));
        // A publisher takes nothing from the network.
        let p = p2p::start(
            cfg,
            Arc::new(|_: &[u8], _: &p2p::Fetcher| {
                Validation::Ignore("a publisher takes no messages".into())
            }),
        )
        .await?;
        for m in messages {
            p.publish(m).await?;
        }
        let deadline = Instant::now() + Duration::from_secs(a.wait);
        loop {
            let s = p.stats();
            if s.queued == 0 && s.published >= a.files.len() as u64 {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{} of {} reports published in {} s (no ranger subscribed?)",
                    s.published,
                    a.files.len(),
                    a.wait
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("published {} report(s)", a.files.len());
        tokio::time::sleep(Duration::from_secs(a.linger)).await;
        anyhow::Ok(0)
    })
}
