//! Fault reports between real processes on loopback: a `ranger council` that breaks its chain in
//! named ways (an equivocation among them) and rangers gossiping in a line, each a process of its
//! own on ports the OS picked. Every ranger ends up holding a valid report of every fault, the
//! council credits exactly one reporter per fault, a re-signed copy is not credited, and forged,
//! false, foreign, oversized and flooding reports are neither held nor relayed, their sender
//! penalised, while honest reports still get through.

// Test helpers outside #[test] functions: a failing unwrap is a failing test (clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Proc, call, tmp};
use ranger::crypto::secp::SigningKey;
use ranger::report::{Evidence, FaultReport};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ranger");
const WAIT: Duration = Duration::from_secs(120);

fn council(dir: &Path, faults: &[&str], blocks: u64, period_ms: u64) -> (Proc, String) {
    let mut args = vec![
        "council".to_owned(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--datadir".into(),
        dir.to_string_lossy().into_owned(),
        "--tps".into(),
        "20".into(),
        "--block-period".into(),
        period_ms.to_string(),
        "--accounts".into(),
        "50".into(),
        "--validators".into(),
        "4".into(),
        "--blocks".into(),
        blocks.to_string(),
    ];
    for f in faults {
        args.push("--fault".into());
        args.push((*f).to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = Proc::spawn(&args);
    let addr = p
        .line(Duration::from_secs(60))
        .expect("the council's address");
    (p, format!("http://{addr}"))
}

/// A ranger process and its addresses.
struct Ranger {
    _proc: Proc,
    rpc: String,
    metrics: String,
    p2p: String,
}

/// A ranger following `url` (from block `from`), gossiping on a free port with `peers`,
/// reporting to `report_to`, with `extra` flags.
fn ranger(
    dir: &Path,
    url: &str,
    from: u64,
    peers: &[&str],
    report_to: Option<&str>,
    extra: &[&str],
) -> Ranger {
    let genesis = dir.parent().unwrap().join("council").join("genesis.json");
    let mut args = vec![
        "run".to_owned(),
        "--backend".into(),
        "cpu".into(),
        "--http".into(),
        "127.0.0.1:0".into(),
        "--metrics".into(),
        "127.0.0.1:0".into(),
        "--follow".into(),
        url.into(),
        "--chain".into(),
        genesis.to_string_lossy().into_owned(),
        "--from".into(),
        from.to_string(),
        "--datadir".into(),
        dir.to_string_lossy().into_owned(),
        "--p2p-listen".into(),
        "/ip4/127.0.0.1/tcp/0".into(),
    ];
    for p in peers {
        args.push("--peer".into());
        args.push((*p).to_owned());
    }
    if let Some(c) = report_to {
        args.push("--report-to".into());
        args.push(c.to_owned());
    }
    args.extend(extra.iter().map(|e| (*e).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = Proc::spawn(&args);
    let rpc = p.err_line("rpc: http://", WAIT).expect("rpc address");
    let metrics = p
        .err_line("metrics: http://", WAIT)
        .expect("metrics address");
    let metrics = metrics.trim_end_matches("/metrics").to_owned();
    let p2p = p.err_line("p2p: ", WAIT).expect("p2p address");
    Ranger {
        _proc: p,
        rpc,
        metrics,
        p2p,
    }
}

fn rpc_addr(url: &str) -> &str {
    url.trim_start_matches("http://")
}

fn reports(rpc: &str) -> Vec<Value> {
    call(rpc, "ranger_getReports", json!([]))["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn kinds(rpc: &str) -> BTreeSet<String> {
    reports(rpc)
        .iter()
        .filter_map(|r| r["kind"].as_str().map(str::to_owned))
        .collect()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `ranger report check FILE FLAG PATH [MORE…]` (`--chain GENESIS` or `--datadir DIR`): exit
/// code and stdout.
fn report_check(file: &Path, flag: &str, path: &Path, more: &[&Path]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["report", "check"])
        .arg(file)
        .arg(flag)
        .arg(path)
        .args(more)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Checks a held report (a `ranger_getReports` entry) offline against `genesis`, its detached
/// witness (if any) fetched from `rpc` by `ranger_getWitness`.
fn check_held(held: &Value, rpc: &str, genesis: &Path, dir: &Path) -> (i32, String) {
    let bytes_hex = held["encoded"].as_str().unwrap();
    let f = dir.join(format!("report-{}.hex", &bytes_hex[2..18]));
    std::fs::write(&f, bytes_hex).unwrap();
    let Some(hash) = held["witness"].as_str() else {
        return report_check(&f, "--chain", genesis, &[]);
    };
    let w = dir.join(format!("witness-{}.hex", &hash[2..18]));
    let witness = call(rpc, "ranger_getWitness", json!([hash]))["result"].clone();
    std::fs::write(&w, witness.as_str().expect("the witness is held")).unwrap();
    report_check(&f, "--chain", genesis, &[Path::new("--witness"), &w])
}

/// A held report with its detached witness attached again from `rpc`.
fn attached(held: &Value, rpc: &str) -> FaultReport {
    let hex_of = |v: &Value| hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap();
    let mut r = FaultReport::decode(&hex_of(&held["encoded"])).unwrap();
    if let Some(hash) = held["witness"].as_str() {
        r.attach_witness(hex_of(
            &call(rpc, "ranger_getWitness", json!([hash]))["result"],
        ))
        .unwrap();
    }
    r
}

#[test]
fn three_rangers_in_a_line_hold_every_report_and_the_council_credits_one_reporter_each() {
    let dir = tmp("reports-line");
    let faults = [
        "bad-tx-signature@3",
        "wrong-state-root@5",
        "equivocation@7",
        "below-quorum@9",
        "wrong-chain-id@11",
        "nonce-gap@13",
        "wrong-gas-used@15",
    ];
    let want: BTreeSet<String> = faults
        .iter()
        .map(|f| f.split('@').next().unwrap().to_owned())
        .collect();
    let (_council, url) = council(&dir.join("council"), &faults, 20, 300);
    // Every witness is detached from its gossiped report here (the other test keeps them in):
    // each ranger fetches it from the neighbour that relayed the report.
    let detach = ["--gossip-witness-max", "0"];
    let r1 = ranger(&dir.join("r1"), &url, 1, &[], Some(&url), &detach);
    let r2 = ranger(&dir.join("r2"), &url, 1, &[&r1.p2p], Some(&url), &detach);
    // r3 verifies nothing itself (its first block never comes): whatever it holds was relayed
    // to it by r2, checked by it, and only then held.
    let r3 = ranger(&dir.join("r3"), &url, 1000, &[&r2.p2p], None, &detach);
    let (rpc1, rpc2, rpc3) = (&r1.rpc, &r2.rpc, &r3.rpc);

    for (name, rpc) in [("r1", rpc1), ("r2", rpc2), ("r3", rpc3)] {
        wait_until(&format!("{name} to hold every fault"), || {
            kinds(rpc).is_superset(&want)
        });
    }
    let held3 = reports(rpc3);
    assert!(held3.iter().all(|r| r["origin"] == "relayed"), "{held3:?}");

    // The state faults' witnesses reached r3 detached: fetched by r2 from r1, by r3 from r2.
    let detached: BTreeSet<&str> = held3
        .iter()
        .filter(|r| r["witness"].is_string())
        .filter_map(|r| r["kind"].as_str())
        .collect();
    for kind in ["wrong-state-root", "nonce-gap", "wrong-gas-used"] {
        assert!(detached.contains(kind), "{kind} not detached: {held3:?}");
    }
    // Each report checks offline, with nothing but the genesis (and a detached witness, from
    // r3's ranger_getWitness).
    let genesis = dir.join("council").join("genesis.json");
    for r in &held3 {
        let (code, text) = check_held(r, rpc3, &genesis, &dir);
        assert_eq!(code, 0, "{}: {text}", r["kind"]);
        assert!(text.starts_with("VALID"), "{text}");
    }
    // Without its witness a detached report cannot be checked: exit 2, never a verdict.
    let thin = held3.iter().find(|r| r["witness"].is_string()).unwrap();
    let f = dir.join("thin.hex");
    std::fs::write(&f, thin["encoded"].as_str().unwrap()).unwrap();
    let (code, text) = report_check(&f, "--chain", &genesis, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("detached"), "{text}");

    // The council credits exactly one reporter per fault.
    let council_rpc = rpc_addr(&url).to_owned();
    let credited = || -> BTreeMap<String, Vec<Value>> {
        let mut by_fault: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for c in call(&council_rpc, "ranger_getContributions", json!([]))["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            by_fault
                .entry(c["fault_id"].as_str().unwrap().to_owned())
                .or_default()
                .push(c);
        }
        by_fault
    };
    wait_until("the council to credit every fault", || {
        let c = credited();
        let kinds: BTreeSet<String> = c
            .values()
            .filter(|v| v.iter().any(|e| e["credited"] == true))
            .map(|v| v[0]["kind"].as_str().unwrap().to_owned())
            .collect();
        kinds.is_superset(&want)
    });
    for (fault, entries) in credited() {
        let n = entries.iter().filter(|e| e["credited"] == true).count();
        assert_eq!(n, 1, "fault {fault}: {entries:?}");
    }

    // A copy of r1's report re-signed by another key, committed and revealed after r1's
    // commitment: valid, acknowledged, not credited.
    let original = reports(rpc1)
        .into_iter()
        .find(|r| r["kind"] == "wrong-state-root")
        .unwrap();
    let r = attached(&original, rpc1);
    let bytes = r.encode();
    let thief = SigningKey::from_seed(4242, 1);
    let copy = FaultReport::sign(
        r.chain_id,
        r.block_number,
        r.block_hash,
        r.kind,
        r.evidence.clone(),
        &thief,
    );
    assert_eq!(copy.fault_id(), r.fault_id());
    let salt = alloy_primitives::B256::repeat_byte(7);
    let c = ranger::report::commitment(&copy.fault_id(), &thief.address(), &salt);
    let committed = call(&council_rpc, "ranger_commitReport", json!([c]));
    assert!(committed["result"]["seq"].is_u64(), "{committed}");
    let revealed = call(
        &council_rpc,
        "ranger_submitReport",
        json!([format!("0x{}", hex::encode(copy.encode())), salt]),
    );
    assert_eq!(revealed["result"]["credited"], false, "{revealed}");
    let entries = &credited()[&format!("{}", r.fault_id())];
    assert_eq!(entries.iter().filter(|e| e["credited"] == true).count(), 1);
    assert!(
        entries.iter().any(|e| e["reporter"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&thief.address().to_string())
            && e["credited"] == false),
        "{entries:?}"
    );
    // False and foreign reports are refused by the council, whoever commits to them.
    let valid_block = valid_block_report(&council_rpc, r.chain_id, &thief);
    let foreign = FaultReport::sign(
        r.chain_id + 1,
        r.block_number,
        r.block_hash,
        r.kind,
        r.evidence.clone(),
        &thief,
    );
    for (what, bad) in [("valid evidence", valid_block), ("another chain", foreign)] {
        let answer = call(
            &council_rpc,
            "ranger_submitReport",
            json!([format!("0x{}", hex::encode(bad.encode()))]),
        );
        assert_eq!(answer["error"]["code"], -32010, "{what}: {answer}");
    }

    // The CLI: a held report checks against a ranger's datadir and shows its kind; a changed
    // byte is refused with exit 1.
    let f = write_report(&dir, "held.hex", &bytes);
    let (code, text) = report_check(&f, "--datadir", &dir.join("r1"), &[]);
    assert_eq!(code, 0, "{text}");
    let out = Command::new(BIN)
        .args(["report", "show", "--json"])
        .arg(&f)
        .output()
        .unwrap();
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["kind"], "wrong-state-root");
    assert_eq!(shown["evidence"]["class"], "block");
    assert_eq!(shown["signature_is_reporters"], true);
    let mut changed = bytes.clone();
    let n = changed.len();
    changed[n / 2] ^= 1;
    std::fs::write(&f, format!("0x{}", hex::encode(&changed))).unwrap();
    let (code, text) = report_check(&f, "--datadir", &dir.join("r1"), &[]);
    assert_eq!(code, 1, "{text}");

    // A reveal without its commitment is refused.
    let other_salt = alloy_primitives::B256::repeat_byte(8);
    let refused = call(
        &council_rpc,
        "ranger_submitReport",
        json!([format!("0x{}", hex::encode(copy.encode())), other_salt]),
    );
    assert_eq!(refused["error"]["code"], -32010, "{refused}");
}

/// A report that block 2, as the council at `council` serves it with its parent, is below
/// quorum: evidence that verifies as valid.
fn valid_block_report(council: &str, chain_id: u64, key: &SigningKey) -> FaultReport {
    let raw = call(council, "ranger_getRawBlocks", json!([1, 2]))["result"].clone();
    let header = |i: usize| {
        let rlp = hex::decode(raw[i]["rlp"].as_str().unwrap().trim_start_matches("0x")).unwrap();
        ranger::report::header_bytes(&rlp).unwrap()
    };
    let (h1, h2) = (header(0), header(1));
    let hash2 = ranger::consensus::istanbul::block_hash(
        &ranger::codec::header::decode_header(&h2).unwrap(),
    );
    FaultReport::sign(
        chain_id,
        2,
        hash2,
        ranger::consensus::FaultKind::BelowQuorum,
        Evidence::Header {
            parent: h1,
            header: h2,
        },
        key,
    )
}

/// Writes `r` as a hex report file.
fn write_report(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, format!("0x{}", hex::encode(bytes))).unwrap();
    f
}

fn metric(addr: &str, name: &str) -> f64 {
    common::get(addr, "/metrics")
        .lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

#[test]
fn forged_and_flooding_reports_are_neither_held_nor_relayed_and_honest_ones_arrive() {
    let dir = tmp("reports-forged");
    // The honest fault comes late, after the flood.
    let (_council, url) = council(
        &dir.join("council"),
        &["below-quorum@3", "wrong-state-root@40"],
        44,
        400,
    );
    let r1 = ranger(&dir.join("r1"), &url, 1, &[], None, &[]);
    let r2 = ranger(&dir.join("r2"), &url, 1000, &[&r1.p2p], None, &[]);
    let (rpc1, rpc2, p2p1, metrics1) = (&r1.rpc, &r2.rpc, &r1.p2p, &r1.metrics);
    wait_until("r1's report of below-quorum", || {
        kinds(rpc1).contains("below-quorum")
    });
    let good = reports(rpc1)
        .into_iter()
        .find(|r| r["kind"] == "below-quorum")
        .unwrap();
    let good = FaultReport::decode(
        &hex::decode(good["encoded"].as_str().unwrap().trim_start_matches("0x")).unwrap(),
    )
    .unwrap();
    let key = SigningKey::from_seed(9, 9);
    let sign = |chain_id: u64, kind, evidence: Evidence| {
        FaultReport::sign(
            chain_id,
            good.block_number,
            good.block_hash,
            kind,
            evidence,
            &key,
        )
    };
    use ranger::consensus::FaultKind as K;
    let mut forged = Vec::new();
    // Signed by another key than the reporter it names.
    let mut other_signer = sign(good.chain_id, K::NonCouncilSeal, good.evidence.clone());
    other_signer.reporter = SigningKey::from_seed(9, 10).address();
    forged.push(("another signer", other_signer.encode()));
    // Evidence that verifies as valid: blocks 1 and 2, as the council serves them, said to be
    // below quorum.
    let valid = valid_block_report(rpc_addr(&url), good.chain_id, &key);
    forged.push(("valid evidence", valid.encode()));
    // The claimed fault is not the one the evidence shows.
    forged.push((
        "another fault",
        sign(good.chain_id, K::DuplicateSeal, good.evidence.clone()).encode(),
    ));
    // Another chain.
    forged.push((
        "another chain",
        sign(good.chain_id + 1, K::BelowQuorum, good.evidence.clone()).encode(),
    ));
    // Tampered evidence: a header byte changed (its seals no longer match it).
    if let Evidence::Header { parent, header } = &good.evidence {
        let mut h = header.clone();
        let n = h.len();
        h[n - 70] ^= 1;
        let t = Evidence::Header {
            parent: parent.clone(),
            header: h,
        };
        forged.push((
            "tampered evidence",
            sign(good.chain_id, K::BadRandomReveal, t).encode(),
        ));
    }
    let files: Vec<_> = forged
        .iter()
        .enumerate()
        .map(|(i, (_, b))| write_report(&dir, &format!("forged-{i}.hex"), b))
        .collect();
    // Published by a peer that stays connected, so its penalty can be seen.
    let mut forger = std::process::Command::new(BIN)
        .args([
            "report",
            "publish",
            "--chain-id",
            &good.chain_id.to_string(),
            "--peer",
            p2p1,
            "--linger",
            "120",
        ])
        .args(&files)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        "r1 to reject every forged report and graylist their sender",
        || {
            metric(metrics1, "ranger_gossip_messages{outcome=\"rejected\"}") >= forged.len() as f64
                && metric(metrics1, "ranger_gossip_graylisted") >= 1.0
        },
    );
    let _ = forger.kill();
    let _ = forger.wait();
    // An oversized message (over r1's bound) from a publisher that allows it: dropped before
    // r1 validates it (were it let through, it would not decode and count as received and
    // rejected).
    let seen = |outcome: &str| {
        metric(
            metrics1,
            &format!("ranger_gossip_messages{{outcome=\"{outcome}\"}}"),
        )
    };
    let (received, rejected) = (seen("received"), seen("rejected"));
    let big = write_report(&dir, "big.hex", &vec![0xc0; 9 << 20]);
    let published = Command::new(BIN)
        .args([
            "report",
            "publish",
            "--chain-id",
            &good.chain_id.to_string(),
            "--peer",
            p2p1,
            "--max-message-bytes",
            "16777216",
            "--wait",
            "10",
        ])
        .arg(&big)
        .output()
        .unwrap();
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    // The publisher stays two seconds after sending; r1's counters are mirrored every second.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!((seen("received"), seen("rejected")), (received, rejected));
    // A flood: 300 distinct messages from one peer (copies of the held report, re-signed by
    // 300 keys: each would cost r1 a check were it not for the bound).
    let flood: Vec<_> = (0..300u64)
        .map(|i| {
            let k = SigningKey::from_seed(31, i);
            let r = FaultReport::sign(
                good.chain_id,
                good.block_number,
                good.block_hash,
                good.kind,
                good.evidence.clone(),
                &k,
            );
            write_report(&dir, &format!("flood-{i}.hex"), &r.encode())
        })
        .collect();
    let _ = Command::new(BIN)
        .args([
            "report",
            "publish",
            "--chain-id",
            &good.chain_id.to_string(),
            "--peer",
            p2p1,
            "--wait",
            "20",
        ])
        .args(&flood)
        .output()
        .unwrap();

    wait_until("r1 to bound the flood", || {
        metric(metrics1, "ranger_gossip_messages{outcome=\"rate_limited\"}") > 0.0
    });
    // The honest report of the late fault reaches r2 through r1, after the flood.
    wait_until("r2 to hold the late honest report", || {
        kinds(rpc2).contains("wrong-state-root")
    });
    let held: BTreeSet<String> = reports(rpc1)
        .iter()
        .chain(reports(rpc2).iter())
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect();
    for bad in ["non-council-seal", "duplicate-seal", "bad-random-reveal"] {
        assert!(!held.contains(bad), "{bad} was held: {held:?}");
    }
}
