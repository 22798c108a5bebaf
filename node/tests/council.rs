//! `ranger council` as a user runs it: a real process on a loopback port, queried over HTTP and
//! WebSocket; its blocks, fetched in Kaia's JSON and converted back, verify with `ranger verify`;
//! restarted on its datadir it continues its chain; bad requests get JSON-RPC errors and the
//! server goes on serving.

// Test helpers outside #[test] functions: a failing unwrap is a failing test (clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{call, council, council_args, post, tmp, wait_head};
use ranger::codec::block::encode_block;
use ranger::codec::chainfile::{ChainReader, ChainWriter};
use ranger::codec::json::parse_block_value;
use ranger::consensus::ChainSpec;
use serde_json::{Value, json};
use std::io::Write;
use std::process::Command;
use std::time::Duration;

fn frames(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let f = std::fs::File::open(dir.join("chain")).unwrap();
    ChainReader::new(std::io::BufReader::new(f))
        .unwrap()
        .map(|f| f.unwrap())
        .collect()
}

fn hash_list(addr: &str, from: u64, count: u64) -> Vec<Value> {
    let r = call(addr, "ranger_getRawBlocks", json!([from, count]));
    r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hash"].clone())
        .collect()
}

fn full_hash(addr: &str, n: u64) -> Value {
    call(addr, "kaia_getBlockByNumber", json!([n, false]))["result"]["hash"].clone()
}

#[test]
fn council_serves_kaia_shapes_and_its_blocks_verify() {
    let dir = tmp("serve");
    let data = dir.join("council");
    let (_c, addr) = council(&data, &["--blocks", "12"]);
    wait_head(&addr, 12);

    assert_eq!(call(&addr, "kaia_chainID", json!([]))["result"], "0x7ea");
    assert_eq!(call(&addr, "klay_chainID", json!([]))["result"], "0x7ea");

    // Full and hashes-only blocks.
    let full = call(&addr, "kaia_getBlockByNumber", json!(["0x3", true]))["result"].clone();
    let hashes = call(&addr, "klay_getBlockByNumber", json!(["0x3", false]))["result"].clone();
    assert_eq!(full["number"], "0x3");
    assert_eq!(full["hash"], hashes["hash"]);
    let txs = full["transactions"].as_array().unwrap();
    assert!(!txs.is_empty());
    assert_eq!(hashes["transactions"][0], txs[0]["hash"]);

    // Consensus info: the proposer and committers recovered from the seals.
    let ci = call(
        &addr,
        "kaia_getBlockWithConsensusInfoByNumber",
        json!(["0x3"]),
    )["result"]
        .clone();
    let council: Vec<Value> = call(&addr, "kaia_getCouncil", json!(["0x3"]))["result"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(council.len(), 4);
    assert!(council.contains(&ci["proposer"]));
    let committers = ci["committers"].as_array().unwrap();
    assert!(committers.len() >= 3 && committers.iter().all(|c| council.contains(c)));
    assert!(ci["sigHash"].as_str().unwrap().starts_with("0x"));
    assert!(ci["round"].is_u64());
    assert_eq!(
        call(&addr, "kaia_getCommittee", json!(["0x3"]))["result"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Receipts, params, BLS infos.
    let receipts = call(&addr, "kaia_getBlockReceipts", json!(["0x3"]))["result"].clone();
    let receipts = receipts.as_array().unwrap();
    assert_eq!(receipts.len(), txs.len());
    assert_eq!(receipts[0]["status"], "0x1");
    assert_eq!(receipts[0]["transactionHash"], txs[0]["hash"]);
    let params = call(&addr, "kaia_getParams", json!(["latest"]))["result"].clone();
    assert_eq!(params["istanbul.committeesize"], 4);
    let bls = call(&addr, "kaia_getBlsInfos", json!(["0x3"]))["result"].clone();
    assert_eq!(bls.as_object().unwrap().len(), 4);

    // The follower's council hints and its first blocks.
    let p = common::Proc::spawn(&[
        "follow",
        "--follow",
        &format!("http://{addr}"),
        "--chain",
        data.join("genesis.json").to_str().unwrap(),
        "--hints",
        "--until",
        "2",
    ]);
    let hints: Value = serde_json::from_str(&p.line(Duration::from_secs(60)).unwrap()).unwrap();
    assert_eq!(hints["council"].as_array().unwrap().len(), 4);
    assert_eq!(hints["bls_keys"], 4);
    assert_eq!(hints["params"]["istanbul.committeesize"], 4);
    let first = loop {
        let v: Value = serde_json::from_str(&p.line(Duration::from_secs(60)).unwrap()).unwrap();
        if v.get("block").is_some() {
            break v;
        }
        assert!(v["head"].is_u64(), "{v}");
    };
    assert_eq!(first["block"], 1);
    assert_eq!(first["hash"], full_hash(&addr, 1));

    // The range method: inclusive, Kaia's limits.
    let range = call(
        &addr,
        "kaia_getBlockWithConsensusInfoByNumberRange",
        json!(["0x1", "0xc"]),
    );
    let range = range["result"].as_object().unwrap().clone();
    assert_eq!(range.len(), 12);
    for bad in [json!(["0x5", "0x1"]), json!(["0x1", "0x40"])] {
        let r = call(&addr, "kaia_getBlockWithConsensusInfoByNumberRange", bad);
        assert_eq!(r["error"]["code"], -32602, "{r}");
    }

    // Raw blocks are the bytes the council kept.
    let raw = call(&addr, "ranger_getRawBlocks", json!([1, 12]))["result"].clone();
    let kept = frames(&data);
    assert!(kept.len() >= 12);
    for (i, b) in raw.as_array().unwrap().iter().enumerate() {
        assert_eq!(
            b["rlp"].as_str().unwrap(),
            format!("0x{}", hex::encode(&kept[i]))
        );
    }

    // The JSON blocks, rebuilt into RLP, verify against the council's genesis.
    let spec = ChainSpec::from_file(&data.join("genesis.json")).unwrap();
    let out = dir.join("fromjson");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(data.join("genesis.json"), out.join("genesis.json")).unwrap();
    let mut w = ChainWriter::new(std::fs::File::create(out.join("chain")).unwrap()).unwrap();
    for n in 1..=12u64 {
        let b = parse_block_value(&range[&format!("{n:#x}")], &spec.forks).unwrap();
        assert_eq!(encode_block(&b.block), kept[n as usize - 1]);
        w.write_frame(&encode_block(&b.block)).unwrap();
    }
    w.finish().unwrap().flush().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args([
            "verify",
            out.to_str().unwrap(),
            "--json",
            "--backend",
            "cpu",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let summary: Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["valid"], 12);
}

#[test]
fn new_heads_arrive_over_websocket() {
    use jsonrpsee::core::client::SubscriptionClientT;
    use jsonrpsee::rpc_params;
    let dir = tmp("ws");
    let (_c, addr) = council(&dir, &["--blocks", "40"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = jsonrpsee::ws_client::WsClientBuilder::default()
            .build(format!("ws://{addr}"))
            .await
            .unwrap();
        let mut sub = client
            .subscribe::<Value, _>(
                "kaia_subscribe",
                rpc_params!["newHeads"],
                "kaia_unsubscribe",
            )
            .await
            .unwrap();
        let mut last = 0u64;
        for _ in 0..3 {
            let head = tokio::time::timeout(Duration::from_secs(60), sub.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let n = u64::from_str_radix(
                head["number"].as_str().unwrap().trim_start_matches("0x"),
                16,
            )
            .unwrap();
            assert!(n > last, "heads go up: {n} after {last}");
            assert!(head["hash"].is_string() && head.get("transactions").is_none());
            last = n;
        }
        let refused = client
            .subscribe::<Value, _>("kaia_subscribe", rpc_params!["logs"], "kaia_unsubscribe")
            .await;
        assert!(refused.is_err());
    });
}

#[test]
fn a_restarted_council_continues_its_chain() {
    let dir = tmp("restart");
    let (mut c, addr) = council(&dir, &["--blocks", "6"]);
    wait_head(&addr, 6);
    let before = hash_list(&addr, 1, 6);
    c.kill();
    // A kill in the middle of a write leaves a torn frame: a length and part of a block.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("chain"))
        .unwrap();
    f.write_all(&[0, 0, 1, 0, 0xf9, 0x01]).unwrap();
    drop(f);

    let (_c, addr) = council(&dir, &["--blocks", "10"]);
    wait_head(&addr, 10);
    let after = hash_list(&addr, 1, 10);
    assert_eq!(after[..6], before[..]);
    assert_eq!(frames(&dir).len(), 10);

    // Another seed on the same datadir is refused.
    let o = Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args(council_args(&dir))
        .args(["--seed", "2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another chain"));
}

#[test]
fn bad_requests_get_json_rpc_errors_and_the_server_keeps_serving() {
    let dir = tmp("errors");
    let (_c, addr) = council(&dir, &["--blocks", "3"]);
    wait_head(&addr, 1);

    let code = |body: &[u8]| -> Value {
        let (_, resp) = post(&addr, body);
        let v: Value = serde_json::from_slice(&resp).unwrap();
        v["error"]["code"].clone()
    };
    assert_eq!(code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\""), -32700);
    assert_eq!(
        code(br#"{"jsonrpc":"2.0","id":1,"method":"kaia_noSuchThing","params":[]}"#),
        -32601
    );
    assert_eq!(
        code(br#"{"jsonrpc":"2.0","id":1,"method":"kaia_getBlockByNumber","params":["soon"]}"#),
        -32602
    );
    assert_eq!(
        code(br#"{"jsonrpc":"2.0","id":1,"method":"ranger_getRawBlocks","params":[1, 100000]}"#),
        -32602
    );
    let one = json!({"jsonrpc": "2.0", "id": 1, "method": "kaia_chainID", "params": []});
    let batch = Value::Array(vec![one.clone(); 1000]);
    let (_, resp) = post(&addr, batch.to_string().as_bytes());
    let v: Value = serde_json::from_slice(&resp).unwrap();
    assert!(v["error"]["code"].is_i64(), "{v}");
    let ok_batch = Value::Array(vec![one.clone(); 10]);
    let (_, resp) = post(&addr, ok_batch.to_string().as_bytes());
    assert_eq!(
        serde_json::from_slice::<Value>(&resp)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        10
    );

    // A body over the council's limit (a 16 MiB fault report as hex fits under it).
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"kaia_chainID","params":["{}"]}}"#,
        "a".repeat(34 << 20)
    );
    let (status, resp) = post(&addr, big.as_bytes());
    assert!(
        status == 413 || String::from_utf8_lossy(&resp).contains("error"),
        "{status}"
    );

    assert_eq!(call(&addr, "kaia_chainID", json!([]))["result"], "0x7ea");
}

#[test]
fn council_refuses_bad_flags() {
    let dir = tmp("flags");
    let dir = dir.to_str().unwrap();
    for (bad, why) in [
        (
            ["--block-period", "0"],
            "--block-period must be at least 1 ms",
        ),
        (["--fault", "nonce-gap@0"], "nonce-gap@0"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_ranger"))
            .args(["council", "--listen", "127.0.0.1:0", "--datadir", dir])
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(why), "{bad:?}");
    }
}

#[test]
fn a_follower_takes_new_heads_over_websocket() {
    let dir = tmp("wsfollow");
    let (_c, addr) = council(&dir, &["--blocks", "40"]);
    wait_head(&addr, 1);
    // Polling once an hour: past the first poll, heads come only from the subscription.
    let p = common::Proc::spawn(&[
        "follow",
        "--follow",
        &format!("http://{addr}"),
        "--chain",
        dir.join("genesis.json").to_str().unwrap(),
        "--poll-ms",
        "3600000",
        "--until",
        "40",
    ]);
    let mut last = 0;
    while last < 40 {
        let line = p.line(Duration::from_secs(60)).expect("blocks keep coming");
        let v: Value = serde_json::from_str(&line).unwrap();
        if let Some(n) = v["block"].as_u64() {
            assert_eq!(n, last + 1);
            last = n;
        }
    }
}
