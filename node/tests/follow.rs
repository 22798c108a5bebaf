//! `ranger follow` (the JSON-RPC source alone) against test servers on loopback: a hostile one
//! (garbage, truncated and oversized JSON, answers that never finish, `null` entries, wrong
//! hashes and numbers, another chain id, a block that changes under its number), and one that
//! replays a real Kairos block recorded in datasets/json through the older `klay_` prefix, with
//! its receipts (`ranger run --follow` checks them against the header: matching, lying, absent).
//! The follower must deliver exactly the honest blocks, in order, report the conflict, and
//! recover when the source does.

// Test helpers outside #[test] functions: a failing unwrap is a failing test (clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Proc;
use ranger::codec::json::block_to_json;
use ranger::consensus::istanbul::block_hash;
use ranger::crypto::CpuBackend;
use ranger::devnet::{DevnetConfig, generate_in_memory};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does with the next range request.
#[derive(Debug, Clone, Copy)]
enum Misbehave {
    Garbage,
    Truncated,
    Oversized,
    Hang,
    Nulls,
    WrongHash,
    WrongNumber,
}

struct State {
    chain_id: u64,
    blocks: BTreeMap<u64, Value>,
    plan: VecDeque<Misbehave>,
    /// Answer only `klay_` methods, as older Kaia nodes do.
    klay_only: bool,
    range_calls: u64,
    /// Refuse ranges of more blocks than this, as a server with a response limit does.
    max_range: Option<u64>,
    /// `getBlockReceipts` answers, by block; a block not here gets "method not found".
    receipts: BTreeMap<u64, Value>,
    /// Answers to `getCouncil`, `getParams`, `getBlsInfos` (any block), by method name.
    hints: BTreeMap<&'static str, Value>,
}

type Shared = Arc<Mutex<State>>;

fn serve(state: Shared) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let st = state.clone();
            std::thread::spawn(move || handle(s, st));
        }
    });
    format!("http://{addr}")
}

fn read_request(s: &mut TcpStream) -> Option<Value> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())?;
            while buf.len() < p + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return serde_json::from_slice(&buf[p + 4..p + 4 + len]).ok();
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn respond(s: &mut TcpStream, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

fn handle(mut s: TcpStream, st: Shared) {
    let Some(req) = read_request(&mut s) else {
        return;
    };
    let id = req["id"].clone();
    let method = req["method"].as_str().unwrap_or_default().to_string();
    let params = req["params"].clone();
    let ok = |r: Value| json!({"jsonrpc": "2.0", "id": id, "result": r}).to_string();
    let not_found = json!({"jsonrpc": "2.0", "id": id,
        "error": {"code": -32601, "message": format!("the method {method} does not exist")}})
    .to_string();
    let (prefix, name) = method.split_once('_').unwrap_or(("", ""));
    let mut g = st.lock().unwrap();
    if prefix == "ranger" || (g.klay_only && prefix == "kaia") {
        drop(g);
        return respond(&mut s, not_found.as_bytes());
    }
    let head = g.blocks.keys().last().copied().unwrap_or(0);
    let body = match name {
        "chainID" => ok(json!(format!("{:#x}", g.chain_id))),
        "blockNumber" => ok(json!(format!("{head:#x}"))),
        "getCouncil" | "getParams" | "getBlsInfos" => match g.hints.get(name) {
            Some(v) => ok(v.clone()),
            None => not_found,
        },
        "getBlockReceipts" => {
            // By hash, as Kaia and older Klaytn nodes take it.
            let hash = &params[0];
            let n = g
                .blocks
                .iter()
                .find(|(_, b)| b["hash"] == *hash)
                .map(|(n, _)| *n);
            match n.and_then(|n| g.receipts.get(&n)) {
                Some(r) => ok(r.clone()),
                None => not_found,
            }
        }
        "getBlockWithConsensusInfoByNumberRange" => {
            let q = |v: &Value| {
                u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
            };
            let (start, end) = (q(&params[0]), q(&params[1]));
            g.range_calls += 1;
            if g.max_range.is_some_and(|m| end + 1 - start > m) {
                let e = json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32000, "message": "response too large"}});
                drop(g);
                return respond(&mut s, e.to_string().as_bytes());
            }
            let mode = g.plan.pop_front();
            let mut m = Map::new();
            for n in start..=end.min(head) {
                let mut b = g.blocks[&n].clone();
                match mode {
                    Some(Misbehave::Nulls) => b = Value::Null,
                    Some(Misbehave::WrongHash) => {
                        b["hash"] = json!(format!("0x{}", "ab".repeat(32)))
                    }
                    Some(Misbehave::WrongNumber) => {
                        b = g
                            .blocks
                            .get(&(n + 1))
                            .or(g.blocks.get(&(n - 1)))
                            .unwrap()
                            .clone()
                    }
                    _ => {}
                }
                m.insert(format!("{n:#x}"), b);
            }
            let full = ok(Value::Object(m));
            match mode {
                Some(Misbehave::Garbage) => "<html>502 bad gateway</html>".to_string(),
                Some(Misbehave::Truncated) => full[..full.len() / 2].to_string(),
                Some(Misbehave::Oversized) => {
                    let mut v: Value = serde_json::from_str(&full).unwrap();
                    v["padding"] = json!("x".repeat(300_000));
                    v.to_string()
                }
                Some(Misbehave::Hang) => {
                    drop(g);
                    std::thread::sleep(Duration::from_secs(60));
                    return;
                }
                _ => full,
            }
        }
        _ => not_found,
    };
    drop(g);
    respond(&mut s, body.as_bytes());
}

fn devnet(seed: u64) -> (ranger::consensus::ChainSpec, Vec<ranger::primitives::Block>) {
    let config = DevnetConfig {
        validators: 4,
        accounts: 20,
        blocks: 10,
        txs_per_block: 3,
        seed,
        ..DevnetConfig::default()
    };
    let (spec, raw) = generate_in_memory(&config, &CpuBackend).unwrap();
    let blocks = raw
        .iter()
        .map(|r| ranger::codec::block::decode_block(r).unwrap())
        .collect();
    (spec, blocks)
}

fn state(chain_id: u64, blocks: &[ranger::primitives::Block], plan: &[Misbehave]) -> Shared {
    Arc::new(Mutex::new(State {
        chain_id,
        blocks: blocks
            .iter()
            .map(|b| (b.header.number, block_to_json(b)))
            .collect(),
        plan: plan.iter().copied().collect(),
        klay_only: false,
        range_calls: 0,
        max_range: None,
        receipts: BTreeMap::new(),
        hints: BTreeMap::new(),
    }))
}

fn events(p: &Proc, until: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Some(line) = p.line(Duration::from_secs(60)) {
        let v: Value = serde_json::from_str(&line).unwrap();
        let done = until(&v);
        seen.push(v);
        if done {
            return seen;
        }
    }
    panic!("the follower went quiet after {seen:?}");
}

#[test]
fn a_hostile_source_delivers_only_checked_blocks_and_a_conflict() {
    let dir = common::tmp("hostile");
    let (spec, honest) = devnet(1);
    let (_, other) = devnet(2);
    let genesis = dir.join("genesis.json");
    std::fs::write(&genesis, serde_json::to_vec(&spec).unwrap()).unwrap();
    use Misbehave::*;
    let st = state(
        spec.chain_id,
        &honest[..8],
        &[
            Garbage,
            Truncated,
            Oversized,
            Hang,
            Nulls,
            WrongHash,
            WrongNumber,
        ],
    );
    let url = serve(st.clone());
    // A second source on another chain: dropped, never used.
    let liar = serve(state(spec.chain_id + 1, &other, &[]));
    let p = Proc::spawn(&[
        "follow",
        "--follow",
        &liar,
        "--follow",
        &url,
        "--chain",
        genesis.to_str().unwrap(),
        "--timeout-ms",
        "500",
        "--poll-ms",
        "50",
        "--window",
        "1",
        "--max-response-bytes",
        "200000",
    ]);
    let seen = events(&p, |v| v["block"] == 8);
    let blocks: Vec<&Value> = seen.iter().filter(|v| v.get("block").is_some()).collect();
    assert_eq!(blocks.len(), 8, "{seen:?}");
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(b["block"], i as u64 + 1);
        assert_eq!(b["hash"], format!("{}", block_hash(&honest[i].header)));
        assert_eq!(b["source"], url.as_str());
        assert_eq!(b["txs"], honest[i].transactions.len());
    }
    assert!(
        st.lock().unwrap().plan.is_empty(),
        "every misbehaviour was tried"
    );

    // The block at the tip changes under its number: a conflict, with both hashes.
    st.lock()
        .unwrap()
        .blocks
        .insert(8, block_to_json(&other[7]));
    let seen = events(&p, |v| v.get("conflict").is_some());
    let c = seen.last().unwrap();
    assert_eq!(c["conflict"], 8);
    assert_eq!(c["first"], format!("{}", block_hash(&honest[7].header)));
    assert_eq!(c["second"], format!("{}", block_hash(&other[7].header)));
    assert!(
        seen.iter().all(|v| v.get("block").is_none()),
        "nothing is overwritten"
    );

    // The source recovers and the chain goes on: block 9 arrives.
    let mut next = other[7].clone();
    next.header.number = 9;
    next.header.parent_hash = block_hash(&honest[7].header);
    st.lock()
        .unwrap()
        .blocks
        .insert(8, block_to_json(&honest[7]));
    st.lock().unwrap().blocks.insert(9, block_to_json(&next));
    let seen = events(&p, |v| v.get("block").is_some());
    assert_eq!(seen.last().unwrap()["block"], 9);
}

#[test]
fn only_a_source_on_another_chain_is_an_error() {
    let (spec, blocks) = devnet(1);
    let dir = common::tmp("wrongchain");
    let genesis = dir.join("genesis.json");
    std::fs::write(&genesis, serde_json::to_vec(&spec).unwrap()).unwrap();
    let liar = serve(state(spec.chain_id + 1, &blocks, &[]));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args([
            "follow",
            "--follow",
            &liar,
            "--chain",
            genesis.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .all(|l| !l.contains("\"block\""))
    );
}

#[test]
fn follows_a_recorded_kairos_block_through_klay() {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../datasets/json/kairos-83863326-consensus.json"
    ))
    .unwrap();
    let recorded: Value = serde_json::from_slice(&text).unwrap();
    let block = recorded["result"].clone();
    let st = Arc::new(Mutex::new(State {
        chain_id: 1001,
        blocks: BTreeMap::from([(83_863_326, block.clone())]),
        plan: VecDeque::new(),
        klay_only: true,
        range_calls: 0,
        max_range: None,
        receipts: BTreeMap::new(),
        hints: BTreeMap::new(),
    }));
    let url = serve(st.clone());
    let p = Proc::spawn(&[
        "follow", "--follow", &url, "--chain", "kairos", "--from", "83863326", "--until",
        "83863326",
    ]);
    let seen = events(&p, |v| v.get("block").is_some());
    let b = seen.last().unwrap();
    assert_eq!(b["block"], 83_863_326);
    assert_eq!(b["hash"], block["hash"]);
    assert_eq!(b["txs"], 1);
    assert!(st.lock().unwrap().range_calls >= 1);
}

#[test]
fn a_range_too_large_for_the_server_is_asked_in_halves() {
    let (spec, blocks) = devnet(1);
    let dir = common::tmp("halves");
    let genesis = dir.join("genesis.json");
    std::fs::write(&genesis, serde_json::to_vec(&spec).unwrap()).unwrap();
    let st = state(spec.chain_id, &blocks, &[]);
    st.lock().unwrap().max_range = Some(3);
    let url = serve(st);
    let p = Proc::spawn(&[
        "follow",
        "--follow",
        &url,
        "--chain",
        genesis.to_str().unwrap(),
        "--until",
        "10",
        "--poll-ms",
        "50",
    ]);
    let seen = events(&p, |v| v["block"] == 10);
    let numbers: Vec<u64> = seen.iter().filter_map(|v| v["block"].as_u64()).collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
}

/// `ranger run --follow` over the recorded Kairos block, its receipts served as `receipts`
/// (`None`: the server lacks the method); returns the block's verdict line.
fn run_kairos_block(name: &str, receipts: Option<Value>) -> Value {
    run_kairos_block_with(name, receipts, BTreeMap::new()).0
}

/// `run_kairos_block` with council hints served: the verdict line and the node's stderr.
fn run_kairos_block_with(
    name: &str,
    receipts: Option<Value>,
    hints: BTreeMap<&'static str, Value>,
) -> (Value, String) {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../datasets/json/kairos-83863326-consensus.json"
    ))
    .unwrap();
    let recorded: Value = serde_json::from_slice(&text).unwrap();
    let st = Arc::new(Mutex::new(State {
        chain_id: 1001,
        blocks: BTreeMap::from([(83_863_326, recorded["result"].clone())]),
        plan: VecDeque::new(),
        klay_only: true,
        range_calls: 0,
        max_range: None,
        receipts: receipts
            .map(|r| BTreeMap::from([(83_863_326, r)]))
            .unwrap_or_default(),
        hints,
    }));
    let url = serve(st);
    let dir = common::tmp(name);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args([
            "run",
            "--follow",
            &url,
            "--chain",
            "kairos",
            "--from",
            "83863326",
            "--blocks",
            "83863326",
            "--json",
            "--backend",
            "cpu",
            "--http",
            "127.0.0.1:0",
            "--metrics",
            "127.0.0.1:0",
            "--datadir",
            dir.join("data").to_str().unwrap(),
        ])
        .env("RANGER_LOG", "info")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let verdict = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["block"] == 83_863_326)
        .unwrap_or_else(|| panic!("no verdict: {stdout} {stderr}"));
    (verdict, stderr)
}

fn kairos_receipts() -> Value {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../datasets/json/kairos-83863326-receipts.json"
    ))
    .unwrap();
    serde_json::from_slice::<Value>(&text).unwrap()["result"].clone()
}

#[test]
fn checks_a_live_blocks_receipts_and_never_blames_the_council_for_the_source() {
    // Receipts that hash to the header's receiptsRoot: checked, nothing to note.
    let matched = run_kairos_block("receipts-ok", Some(kairos_receipts()));
    assert_eq!(matched["verdict"], "valid", "{matched}");
    assert!(matched.get("notes").is_none(), "{matched}");

    // A source that lies about the gas: its receipts no longer hash to the root. Undecided,
    // naming the source's receipts, never invalid.
    let mut lie = kairos_receipts();
    lie[0]["gasUsed"] = json!("0x5209");
    let lied = run_kairos_block("receipts-lie", Some(lie));
    assert_eq!(lied["verdict"], "undecided", "{lied}");
    assert!(
        lied["reason"]
            .as_str()
            .unwrap()
            .contains("the source's receipts do not match the header's receiptsRoot"),
        "{lied}"
    );

    // A source without the method: the block is judged as before, and says what it did not
    // check.
    let none = run_kairos_block("receipts-none", None);
    assert_eq!(none["verdict"], "valid", "{none}");
    let notes = none["notes"].as_array().unwrap();
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .starts_with("receipts not checked: the source gave none (klay_getBlockReceipts"),
        "{none}"
    );
}

#[test]
fn council_hints_are_checked_against_the_seals_and_a_lie_is_the_sources() {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../datasets/json/kairos-83863326-consensus.json"
    ))
    .unwrap();
    let block: Value = serde_json::from_slice::<Value>(&text).unwrap()["result"].clone();
    let committee = block["committee"].clone();
    let hints = |council: Value| {
        BTreeMap::from([
            ("getCouncil", council),
            ("getParams", json!({"istanbul.committeesize": 4})),
            ("getBlsInfos", json!({})),
        ])
    };
    let (honest, err) = run_kairos_block_with(
        "hints-ok",
        Some(kairos_receipts()),
        hints(committee.clone()),
    );
    assert_eq!(honest["verdict"], "valid", "{honest}");
    assert!(
        err.contains(
            "at block 83863325: council of 4 members, committee size 4, 0 BLS keys (0 refused)"
        ),
        "{err}"
    );
    assert!(err.contains("agrees with block 83863326's seals"), "{err}");

    // A council without the block's proposer: the source lied, the verdict is the same.
    let proposer = block["proposer"].as_str().unwrap();
    let without: Vec<Value> = committee
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a.as_str() != Some(proposer))
        .cloned()
        .collect();
    let (lied, err) =
        run_kairos_block_with("hints-lie", Some(kairos_receipts()), hints(json!(without)));
    assert_eq!(lied, honest);
    assert!(err.contains("lied about the council"), "{err}");
    assert!(err.contains(proposer), "{err}");
}
