//! `ranger bench reports`: how fast a fault becomes a report every ranger holds and the council
//! credits. A `ranger council` process breaks its chain in one named way per kind (an
//! equivocation among them); two rangers follow it, report to it and gossip with a third that
//! only relays (r1–r2–r3 in a line, each its own process on loopback). Measured from outside,
//! polling every `POLL`: from the moment the council's head reaches the faulty block, the time
//! to the first ranger holding its own report (`detect_ms`), to all three holding one
//! (`all_rangers_ms`), and to the council's credit (`credited_ms`); and each kind's evidence size
//! (a detached witness counted). `--gossip-witness-max 0` makes every witness travel detached,
//! fetched hop by hop, to time that path.

use crate::line_rate::{Proc, TempDir, client, spawn_council};
use anyhow::{Context, Result, bail};
use clap::Args;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use ranger::report::FaultReport;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct ReportsArgs {
    /// Transactions per second the council offers (1 s blocks).
    #[arg(long, default_value_t = 100)]
    tps: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// The rangers' `--gossip-witness-max`: witnesses over this many bytes are gossiped detached.
    #[arg(long, default_value_t = crate::reports::DEFAULT_GOSSIP_WITNESS_BYTES)]
    gossip_witness_max: usize,
}

/// The faults made, one per kind, a few blocks apart.
const FAULTS: &[(&str, u64)] = &[
    ("below-quorum", 4),
    ("bad-tx-signature", 6),
    ("wrong-chain-id", 8),
    ("wrong-state-root", 10),
    ("nonce-gap", 12),
    ("equivocation", 14),
];
/// Blocks the council produces (the last faults need blocks after them to be seen).
const BLOCKS: u64 = 20;
/// How often the processes are asked.
const POLL: Duration = Duration::from_millis(20);
/// Longest the run may take.
const LIMIT: Duration = Duration::from_secs(300);

/// One process's stderr lines, read on a thread.
fn stderr_lines(child: &mut std::process::Child) -> Result<std::sync::mpsc::Receiver<String>> {
    let err = child.stderr.take().context("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

fn wait_line(rx: &std::sync::mpsc::Receiver<String>, prefix: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let line = rx
            .recv_timeout(left)
            .with_context(|| format!("no `{prefix}` line"))?;
        if let Some(rest) = line.strip_prefix(prefix) {
            return Ok(rest.to_owned());
        }
    }
    bail!("no `{prefix}` line in time")
}

struct Ranger {
    _proc: Proc,
    rpc: HttpClient,
    p2p: String,
}

fn ranger(
    exe: &Path,
    dir: &Path,
    url: &str,
    from: u64,
    peer: Option<&str>,
    report: bool,
    witness_max: usize,
) -> Result<Ranger> {
    let mut cmd = Command::new(exe);
    cmd.args(["run", "--backend", "cpu", "--follow", url, "--chain"])
        .arg(dir.join("council").join("genesis.json"))
        .args(["--from", &from.to_string(), "--datadir"])
        .arg(dir.join(format!("r{from}-{}", peer.is_some())))
        .args(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
        .args(["--p2p-listen", "/ip4/127.0.0.1/tcp/0"])
        .args(["--gossip-witness-max", &witness_max.to_string()]);
    if let Some(p) = peer {
        cmd.args(["--peer", p]);
    }
    if report {
        cmd.args(["--report-to", url]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start `ranger run`")?;
    let lines = stderr_lines(&mut child)?;
    let proc = Proc(child);
    let rpc = wait_line(&lines, "rpc: ")?;
    let p2p = wait_line(&lines, "p2p: ")?;
    // The rest of its log is drained so it never blocks on a full pipe.
    std::thread::spawn(move || while lines.recv().is_ok() {});
    Ok(Ranger {
        _proc: proc,
        rpc: client(&rpc)?,
        p2p,
    })
}

async fn ask(c: &HttpClient, method: &str) -> Value {
    c.request::<Value, _>(method, rpc_params![])
        .await
        .unwrap_or(Value::Null)
}

/// The evidence's size with its witness carried: a detached one is fetched from the ranger.
async fn evidence_len(c: &HttpClient, bytes: &[u8]) -> Option<usize> {
    let mut r = FaultReport::decode(bytes).ok()?;
    if let Some((hash, _)) = r.missing_witness() {
        let w: Value = c
            .request("ranger_getWitness", rpc_params![hash])
            .await
            .ok()?;
        r.attach_witness(hex::decode(w.as_str()?.trim_start_matches("0x")).ok()?)
            .ok()?;
    }
    Some(r.evidence.encoded_len())
}

fn kinds_held(v: &Value) -> BTreeMap<String, Vec<u8>> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let kind = r["kind"].as_str()?.to_owned();
            let bytes = hex::decode(r["encoded"].as_str()?.trim_start_matches("0x")).ok()?;
            Some((kind, bytes))
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn run(a: ReportsArgs) -> Result<u8> {
    let exe = std::env::current_exe()?;
    let dir =
        TempDir(std::env::temp_dir().join(format!("ranger-bench-reports-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0)?;
    let mut flags: Vec<String> = ["--block-period", "1000", "--accounts", "10000"]
        .map(String::from)
        .to_vec();
    flags.extend(["--tps".to_owned(), a.tps.to_string()]);
    flags.extend(["--blocks".to_owned(), BLOCKS.to_string()]);
    for (kind, at) in FAULTS {
        flags.extend(["--fault".to_owned(), format!("{kind}@{at}")]);
    }
    let (_council, addr) = spawn_council(&exe, &dir.0.join("council"), &flags)?;
    let url = format!("http://{addr}");
    let council_rpc = client(&url)?;
    let w = a.gossip_witness_max;
    let r1 = ranger(&exe, &dir.0, &url, 1, None, true, w)?;
    let r2 = ranger(&exe, &dir.0, &url, 1, Some(&r1.p2p), true, w)?;
    // r3 verifies nothing itself: it holds what r2 relays.
    let r3 = ranger(&exe, &dir.0, &url, 1_000_000, Some(&r2.p2p), false, w)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut produced: BTreeMap<u64, Instant> = BTreeMap::new();
    let mut detect: BTreeMap<&str, f64> = BTreeMap::new();
    let mut everywhere: BTreeMap<&str, f64> = BTreeMap::new();
    let mut credited: BTreeMap<&str, f64> = BTreeMap::new();
    let mut evidence: BTreeMap<&str, usize> = BTreeMap::new();
    while credited.len() < FAULTS.len() || everywhere.len() < FAULTS.len() {
        if started.elapsed() > LIMIT {
            bail!(
                "after {} s: detected {:?}, held by all {:?}, credited {:?}",
                LIMIT.as_secs(),
                detect.keys(),
                everywhere.keys(),
                credited.keys()
            );
        }
        let (head, held, contributions) = runtime.block_on(async {
            let head = ask(&council_rpc, "kaia_blockNumber").await;
            let held = [
                ask(&r1.rpc, "ranger_getReports").await,
                ask(&r2.rpc, "ranger_getReports").await,
                ask(&r3.rpc, "ranger_getReports").await,
            ];
            let c = ask(&council_rpc, "ranger_getContributions").await;
            (head, held, c)
        });
        let now = Instant::now();
        if let Some(h) = head
            .as_str()
            .and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
        {
            for n in 1..=h {
                produced.entry(n).or_insert(now);
            }
        }
        let held: Vec<BTreeMap<String, Vec<u8>>> = held.iter().map(kinds_held).collect();
        for (kind, at) in FAULTS {
            let Some(t0) = produced.get(at) else { continue };
            let ms = now.duration_since(*t0).as_secs_f64() * 1e3;
            let own = held[..2].iter().any(|h| h.contains_key(*kind));
            if own && !detect.contains_key(kind) {
                detect.insert(kind, ms);
            }
            if held.iter().all(|h| h.contains_key(*kind)) && !everywhere.contains_key(kind) {
                everywhere.insert(kind, ms);
                if let Some(bytes) = held[0].get(*kind)
                    && let Some(n) = runtime.block_on(evidence_len(&r1.rpc, bytes))
                {
                    evidence.insert(kind, n);
                }
            }
            let is_credited =
                contributions.as_array().into_iter().flatten().any(|c| {
                    c["kind"].as_str() == Some(kind) && c["credited"].as_bool() == Some(true)
                });
            if is_credited && !credited.contains_key(kind) {
                credited.insert(kind, ms);
            }
        }
        std::thread::sleep(POLL);
    }
    let per_kind: BTreeMap<&str, Value> = FAULTS
        .iter()
        .map(|(k, at)| {
            (
                *k,
                json!({"block": at, "detect_ms": detect.get(k), "all_rangers_ms": everywhere.get(k),
                    "credited_ms": credited.get(k), "evidence_bytes": evidence.get(k)}),
            )
        })
        .collect();
    let out = json!({"reports": {
        "detect_ms": median(detect.values().copied().collect()),
        "all_rangers_ms": median(everywhere.values().copied().collect()),
        "credited_ms": median(credited.values().copied().collect()),
        "evidence_bytes": evidence,
        "per_kind": per_kind,
        "tps": a.tps,
        "block_period_ms": 1000,
        "poll_ms": POLL.as_millis() as u64,
        "gossip_witness_max": a.gossip_witness_max,
    }});
    if a.json {
        out!("{out}");
    } else {
        out!(
            "reports: median over {} kinds, from the faulty block's production (1 s blocks, {} tx/s, polled every {} ms): detected {:.0} ms, held by all three rangers {:.0} ms, credited {:.0} ms",
            FAULTS.len(),
            a.tps,
            POLL.as_millis(),
            out["reports"]["detect_ms"].as_f64().unwrap_or(f64::NAN),
            out["reports"]["all_rangers_ms"]
                .as_f64()
                .unwrap_or(f64::NAN),
            out["reports"]["credited_ms"].as_f64().unwrap_or(f64::NAN)
        );
        for (k, v) in &per_kind {
            out!("  {k:<18} {v}");
        }
    }
    Ok(0)
}
