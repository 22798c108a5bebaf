//! `ranger run` as a real process on loopback (ports picked free by the node, read from its
//! first lines): it serves its status, verdicts and blocks over JSON-RPC and its metrics over
//! HTTP, answers bad requests with JSON-RPC errors and keeps serving, exits cleanly on Ctrl-C and
//! goes on after a restart (with the signer keys it had learnt); killed with SIGKILL ten times at
//! random moments, it loses nothing, and its stored verdicts equal `ranger verify` over the same
//! chain; following a council that has stopped producing, it still ends at `--blocks`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on any error

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ranger");

/// The embedded devnet of these tests: small blocks, so the node runs far ahead of the clock.
const DEVNET: &[&str] = &["--accounts", "300", "--validators", "4", "--seed", "9"];

/// 40 transactions per block at any block period (a block carries tps × period).
fn pace(period_ms: u64) -> [String; 4] {
    [
        "--block-period".into(),
        period_ms.to_string(),
        "--tps".into(),
        (40_000 / period_ms).to_string(),
    ]
}
const FAULTS: &[&str] = &[
    "--fault",
    "bad-tx-signature@4",
    "--fault",
    "wrong-state-root@9",
    "--fault",
    "below-quorum@15",
];

/// A running node and what it printed.
struct Node {
    child: Child,
    rpc: String,
    metrics: String,
    stdout: Arc<Mutex<String>>,
}

fn drain(r: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            let mut s = into.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
}

fn start(datadir: &Path, extra: &[String]) -> Node {
    let mut child = Command::new(BIN)
        .args(["run", "--backend", "cpu", "--http", "127.0.0.1:0"])
        .args(["--metrics", "127.0.0.1:0", "--datadir"])
        .arg(datadir)
        .args(DEVNET)
        .args(FAULTS)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let (mut rpc, mut metrics) = (None, None);
    let mut seen = String::new();
    while rpc.is_none() || metrics.is_none() {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            panic!("the node ended before it listened: {seen}");
        }
        seen.push_str(&line);
        if let Some(a) = line.trim().strip_prefix("rpc: ") {
            rpc = Some(a.to_owned());
        }
        if let Some(a) = line.trim().strip_prefix("metrics: ") {
            metrics = Some(a.to_owned());
        }
    }
    drain(err.into_inner(), Arc::new(Mutex::new(seen)));
    let stdout = Arc::new(Mutex::new(String::new()));
    drain(child.stdout.take().unwrap(), stdout.clone());
    Node {
        child,
        rpc: rpc.unwrap(),
        metrics: metrics.unwrap(),
        stdout,
    }
}

/// One HTTP request; returns the status line's code and the body.
fn http(url: &str, method: &str, body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    // A server that refuses a body by its length answers and closes before it is all sent.
    let _ = s.write_all(body.as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let out = String::from_utf8_lossy(&raw).into_owned();
    let code = out
        .split(' ')
        .nth(1)
        .unwrap_or_else(|| panic!("no HTTP answer from {url}"))
        .parse()
        .unwrap();
    let body = out.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (code, body.to_owned())
}

fn call(node: &Node, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (_, text) = http(&node.rpc, "POST", &body.to_string());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method}: {e}: {text:?}"))
}

fn result(node: &Node, method: &str, params: Value) -> Value {
    let v = call(node, method, params);
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

fn wait_for_height(node: &Node, height: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = result(node, "ranger_status", json!([]));
        if s["verified_height"].as_u64().unwrap_or(0) >= height {
            return s;
        }
        assert!(Instant::now() < deadline, "stuck at {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn interrupt(node: &mut Node) -> i32 {
    let ok = Command::new("kill")
        .args(["-INT", &node.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    node.child.wait().unwrap().code().unwrap_or(-1)
}

#[test]
fn a_node_serves_what_it_verified_and_goes_on_after_a_restart() {
    let dir = tempdir("serve");
    let mut node = start(&dir, &pace(20));
    let status = wait_for_height(&node, 16);
    for key in [
        "chain_id",
        "verified_height",
        "source_height",
        "lag_blocks",
        "valid",
        "invalid",
        "undecided",
        "backend",
        "uptime_s",
    ] {
        assert!(
            status.get(key).is_some(),
            "ranger_status lacks {key}: {status}"
        );
    }
    assert_eq!(status["backend"], "cpu");
    assert!(status["invalid"].as_u64().unwrap() >= 3, "{status}");

    let v = result(&node, "ranger_getVerdict", json!([9]));
    assert_eq!(v["block"], 9);
    assert_eq!(v["verdict"], "invalid");
    assert_eq!(v["kind"], "wrong-state-root");
    let vs = result(&node, "ranger_getVerdicts", json!([1, 16]));
    let vs = vs.as_array().unwrap();
    assert_eq!(vs.len(), 16);
    let kinds: Vec<(u64, &str)> = vs
        .iter()
        .filter(|v| v["verdict"] == "invalid")
        .map(|v| (v["block"].as_u64().unwrap(), v["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            (4, "bad-tx-signature"),
            (9, "wrong-state-root"),
            (15, "below-quorum")
        ]
    );
    assert_eq!(vs[9]["descends_from_invalid"], 9);

    let head = result(&node, "kaia_blockNumber", json!([]));
    assert!(
        u64::from_str_radix(head.as_str().unwrap().trim_start_matches("0x"), 16).unwrap() >= 16
    );
    let block = result(&node, "kaia_getBlockByNumber", json!(["0x5", true]));
    assert_eq!(block["number"], "0x5");
    assert_eq!(block["hash"], vs[4]["hash"]);
    assert_eq!(block["transactions"].as_array().unwrap().len(), 40);
    let hashes = result(&node, "klay_getBlockByNumber", json!([5, false]));
    assert!(hashes["transactions"][0].is_string(), "{hashes}");
    assert_eq!(
        result(&node, "kaia_getBlockByNumber", json!(["0xffffff", true])),
        Value::Null
    );

    // Bad requests get JSON-RPC errors, and the node keeps serving.
    let (_, garbage) = http(&node.rpc, "POST", "{\"jsonrpc\":\"2.0\",\"id\":1,");
    assert!(garbage.contains("-32700"), "{garbage}");
    assert_eq!(
        call(&node, "ranger_nope", json!([]))["error"]["code"],
        -32601
    );
    assert_eq!(
        call(&node, "ranger_getVerdict", json!(["x"]))["error"]["code"],
        -32602
    );
    assert_eq!(
        call(&node, "ranger_getVerdicts", json!([1, 100_000]))["error"]["code"],
        -32005
    );
    let batch: Vec<Value> = (0..65)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "ranger_status", "params": []}))
        .collect();
    let (_, too_many) = http(&node.rpc, "POST", &Value::from(batch).to_string());
    assert!(too_many.contains("error"), "{too_many}");
    let huge = format!("[\"{}\"]", "0".repeat(17 << 20));
    let (code, _) = http(&node.rpc, "POST", &huge);
    assert_eq!(code, 413, "an oversized body is refused");
    wait_for_height(&node, status["verified_height"].as_u64().unwrap() + 1);

    // The offload API: per-item answers and errors, one block's verdict, limits.
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/vectors/kaia.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let tx = &vectors["transactions"][0];
    let answers = result(
        &node,
        "ranger_recoverSenders",
        json!([[tx["raw"], "0x1234", "zz"]]),
    );
    let hex0x = |v: &Value| format!("0x{}", v.as_str().unwrap().trim_start_matches("0x"));
    assert_eq!(answers[0]["sender"], hex0x(&tx["signer"]), "{answers}");
    assert_eq!(answers[0]["hash"], hex0x(&tx["tx_hash"]), "{answers}");
    assert_eq!(answers[0]["ok"], true, "{answers}");
    assert!(
        answers[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("not a transaction"),
        "{answers}"
    );
    assert!(
        answers[2]["error"].as_str().unwrap().contains("not hex"),
        "{answers}"
    );
    let too_many: Vec<&str> = vec!["0x00"; 4097];
    assert_eq!(
        call(&node, "ranger_recoverSenders", json!([too_many]))["error"]["code"],
        -32005
    );
    let b = &vectors["blocks"][0];
    let verdict = result(&node, "ranger_verifyBlock", json!([b["rlp"], "kairos"]));
    assert_eq!(verdict["verdict"], "valid", "{verdict}");
    assert_eq!(verdict["hash"], hex0x(&b["hash"]));
    let mut forged = b["rlp"].as_str().unwrap().to_owned();
    let last = forged.len() - 3;
    forged.replace_range(
        last..last + 1,
        if &forged[last..last + 1] == "0" {
            "1"
        } else {
            "0"
        },
    );
    let verdict = result(&node, "ranger_verifyBlock", json!([forged, "kairos"]));
    assert_eq!(verdict["verdict"], "invalid", "{verdict}");
    assert_eq!(
        call(&node, "ranger_verifyBlock", json!(["0x00", "nowhere"]))["error"]["code"],
        -32602
    );

    let (code, text) = http(&node.metrics, "GET", "");
    assert_eq!(code, 200);
    for m in [
        "ranger_blocks_verified_total",
        "ranger_verdicts_total{verdict=\"invalid\",kind=\"wrong-state-root\"} 1",
        "ranger_verified_height",
        "ranger_window_seconds_bucket",
        "ranger_commit_seconds_count",
        "ranger_disk_bytes",
        "ranger_stage_seconds_count{stage=\"recover\"}",
        "ranger_stage_seconds_count{stage=\"replay\"}",
        "ranger_batch_items_count{op=\"recover\"}",
        "ranger_batch_seconds_count{op=\"keccak\"}",
    ] {
        assert!(text.contains(m), "metrics lack {m}:\n{text}");
    }

    // Ctrl-C: the node commits and exits with its run's verdict code (1: it saw invalid blocks).
    assert_eq!(interrupt(&mut node), 1);
    let out = node.stdout.lock().unwrap().clone();
    assert!(out.contains("this run:"), "{out}");
    let stopped_at = result_of_store(&dir);

    let mut args = pace(1).to_vec();
    args.extend(["--blocks".to_owned(), (stopped_at + 3).to_string()]);
    let again = start(&dir, &args);
    let mut again = again;
    let code = again.child.wait().unwrap().code();
    let out = again.stdout.lock().unwrap().clone();
    assert_eq!(code, Some(0), "{out}");
    let first = out.lines().next().unwrap_or("");
    assert!(
        first.starts_with(&format!("block {} ", stopped_at + 1)),
        "goes on after {stopped_at}: {out}"
    );
    assert_eq!(out.lines().filter(|l| l.starts_with("block ")).count(), 3);
    // The signer keys the first run learnt came back from the store: the restarted run checked
    // most claimed signers against them instead of recovering each sender's first transaction.
    let summary = out.lines().find(|l| l.contains("this run:")).unwrap();
    let counts: Vec<u64> = summary
        .rsplit("signer keys known for ")
        .next()
        .unwrap()
        .split(' ')
        .filter_map(|w| w.parse().ok())
        .collect();
    let [hits, claims] = counts[..] else {
        panic!("no key counts in {summary}")
    };
    assert!(claims > 0 && 2 * hits > claims, "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The head a stopped node left in its store, read by starting it idle.
fn result_of_store(dir: &Path) -> u64 {
    let mut n = start(dir, &pace(40_000));
    let h = result(&n, "ranger_status", json!([]))["verified_height"]
        .as_u64()
        .unwrap();
    n.child.kill().unwrap();
    n.child.wait().unwrap();
    h
}

#[test]
fn killed_ten_times_a_node_loses_nothing_and_judges_as_one_run() {
    let dir = tempdir("kill9");
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("SEED={seed}");
    let mut x = seed | 1;
    let mut heights = Vec::new();
    for _ in 0..10 {
        let mut node = start(&dir, &pace(1));
        // xorshift: a reproducible moment between 50 and 650 ms after the node listens.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::thread::sleep(Duration::from_millis(50 + x % 600));
        node.child.kill().unwrap();
        node.child.wait().unwrap();
        heights.push(node.stdout.lock().unwrap().lines().count());
    }
    let node = start(&dir, &pace(40_000));
    let height = result(&node, "ranger_status", json!([]))["verified_height"]
        .as_u64()
        .unwrap();
    assert!(
        height >= 16,
        "ten runs verified only {height} blocks ({heights:?})"
    );
    let stored = result(&node, "ranger_getVerdicts", json!([1, height]));
    let stored = stored.as_array().unwrap();
    assert_eq!(
        stored.len() as u64,
        height,
        "every block up to the head is kept"
    );

    // The same chain, generated and verified in one run.
    let chain = dir.join("reference");
    let mut gen_args = vec![
        "devnet".to_owned(),
        "generate".into(),
        "--out".into(),
        chain.display().to_string(),
        "--blocks".into(),
        height.to_string(),
        "--txs-per-block".into(),
        "40".into(),
    ];
    for pair in DEVNET.chunks(2) {
        gen_args.extend(pair.iter().map(|s| (*s).to_owned()));
    }
    for pair in FAULTS.chunks(2) {
        let block: u64 = pair[1].split('@').nth(1).unwrap().parse().unwrap();
        if block <= height {
            gen_args.extend(pair.iter().map(|s| (*s).to_owned()));
        }
    }
    let g = Command::new(BIN).args(&gen_args).output().unwrap();
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let v = Command::new(BIN)
        .args(["verify", "--backend", "cpu", "--json"])
        .arg(&chain)
        .output()
        .unwrap();
    let text = String::from_utf8(v.stdout).unwrap();
    let reference: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("summary").is_none())
        .collect();
    assert_eq!(reference.len() as u64, height);
    for (s, r) in stored.iter().zip(&reference) {
        let first_kind = r["faults"].get(0).map(|f| f["kind"].clone());
        assert_eq!(s["block"], r["block"], "{s} vs {r}");
        assert_eq!(s["hash"], r["hash"], "{s} vs {r}");
        assert_eq!(s["verdict"], r["verdict"], "{s} vs {r}");
        assert_eq!(s.get("kind").cloned(), first_kind, "{s} vs {r}");
        assert_eq!(
            s.get("descends_from_invalid").cloned(),
            r.get("descends_from_invalid").cloned(),
            "{s} vs {r}"
        );
    }
    eprintln!("{height} blocks over ten kills, every verdict as in one run");
    let mut node = node;
    node.child.kill().unwrap();
    node.child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory under the system temp dir, named by test and pid.
/// Starts `ranger council` on a free port with the test devnet and `extra` flags; returns it and
/// the URL it printed first.
fn start_council(dir: &Path, extra: &[String]) -> (Child, String) {
    let mut council = Command::new(BIN)
        .args(["council", "--listen", "127.0.0.1:0", "--datadir"])
        .arg(dir)
        .args(DEVNET)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut addr = String::new();
    BufReader::new(council.stdout.take().unwrap())
        .read_line(&mut addr)
        .unwrap();
    (council, format!("http://{}", addr.trim()))
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ranger-node-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_node_follows_a_council_process_and_judges_as_verify_does() {
    let dir = tempdir("follow");
    let council_dir = dir.join("council");
    let faults: Vec<String> = FAULTS.iter().map(|f| f.to_string()).collect();
    let (mut council, url) = start_council(&council_dir, &[&faults[..], &pace(5)].concat());
    let genesis = council_dir.join("genesis.json");
    let run = Command::new(BIN)
        .args([
            "run",
            "--backend",
            "cpu",
            "--http",
            "127.0.0.1:0",
            "--metrics",
        ])
        .args([
            "127.0.0.1:0",
            "--blocks",
            "24",
            "--json",
            "--follow",
            &url,
            "--chain",
        ])
        .arg(&genesis)
        .arg("--datadir")
        .arg(dir.join("node"))
        .output()
        .unwrap();
    council.kill().unwrap();
    council.wait().unwrap();
    let text = String::from_utf8(run.stdout).unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let followed: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("summary").is_none())
        .collect();
    assert_eq!(followed.len(), 24, "{text}");

    let v = Command::new(BIN)
        .args(["verify", "--backend", "cpu", "--json"])
        .arg(&council_dir)
        .output()
        .unwrap();
    let reference: Vec<Value> = String::from_utf8(v.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("summary").is_none())
        .collect();
    assert!(reference.len() >= 24);
    for (s, r) in followed.iter().zip(&reference) {
        assert_eq!(s["block"], r["block"], "{s} vs {r}");
        assert_eq!(s["hash"], r["hash"], "{s} vs {r}");
        assert_eq!(s["verdict"], r["verdict"], "{s} vs {r}");
        assert_eq!(s.get("kind"), r.get("kind"), "{s} vs {r}");
    }
    let invalid: Vec<u64> = followed
        .iter()
        .filter(|v| v["verdict"] == "invalid")
        .map(|v| v["block"].as_u64().unwrap())
        .collect();
    assert_eq!(invalid, [4, 9, 15]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_node_following_a_council_that_stopped_producing_ends_at_its_blocks() {
    let dir = tempdir("stopped-council");
    let council_dir = dir.join("council");
    // The council produces 6 blocks and then only serves: no new head ever comes.
    let extra = [&pace(1)[..], &["--blocks".to_string(), "6".to_string()]].concat();
    let (mut council, url) = start_council(&council_dir, &extra);
    let mut run = Command::new(BIN)
        .args(["run", "--backend", "cpu", "--json", "--blocks", "6"])
        .args(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
        .args(["--follow", &url, "--chain"])
        .arg(council_dir.join("genesis.json"))
        .arg("--datadir")
        .arg(dir.join("node"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Generous: a hang (the follow source waiting for a head) is what this test catches.
    let started = Instant::now();
    let status = loop {
        if let Some(s) = run.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(120) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = run.kill();
    let _ = run.wait();
    council.kill().unwrap();
    council.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "the node did not end after its 6 blocks"
    );
}
