//! The `ranger` binary as a user runs it: real processes, real files, exit codes 0 / 1 / 2, and
//! the JSON shapes the README documents.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ranger(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ranger: {e}"))
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ranger-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn vectors() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/vectors/kaia.json");
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn inspect_block_prints_the_documented_json() {
    let v = vectors();
    let dir = tmp("inspect");
    let f = dir.join("block.hex");
    std::fs::write(&f, v["blocks"][0]["rlp"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let o = ranger(&[
        "inspect",
        "block",
        f.to_str().unwrap_or_default(),
        "--chain",
        "kairos",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        j["hash"],
        format!("0x{}", v["blocks"][0]["hash"].as_str().unwrap_or_default())
    );
    assert_eq!(
        j["proposer"],
        format!(
            "0x{}",
            v["blocks"][0]["proposer"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(j["quorum"]["council"], 4);
    assert_eq!(j["quorum"]["required"], 3);
    assert_eq!(j["quorum"]["valid_distinct"], 3);
    assert_eq!(j["verdict"], "valid");
    assert_eq!(j["tx_root"]["impl"], "simple");
    assert_eq!(j["transactions"][0]["type"], "0x08");
    for key in [
        "number",
        "sig_hash",
        "round",
        "committers",
        "validators",
        "faults",
    ] {
        assert!(j.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn inspect_tx_names_the_broken_rule() {
    let v = vectors();
    let raw = v["transactions"][0]["raw"].as_str().unwrap_or_default();
    let o = ranger(&["inspect", "tx", raw, "--json"]);
    assert_eq!(code(&o), 0);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        j["sender"],
        format!(
            "0x{}",
            v["transactions"][0]["signer"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(
        j["sig_hash"],
        format!(
            "0x{}",
            v["transactions"][0]["sig_hash"]
                .as_str()
                .unwrap_or_default()
        )
    );
    // Signed for chain 1: under chain id 2 it is a wrong-chain-id, exit 1.
    let o = ranger(&["inspect", "tx", raw, "--chain-id", "2", "--json"]);
    assert_eq!(code(&o), 1);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        j["errors"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("wrong-chain-id"),
        "{j}"
    );
}

#[test]
fn bad_input_is_a_precise_error_with_exit_2() {
    let dir = tmp("bad");
    let f = dir.join("garbage.hex");
    std::fs::write(&f, "f9ffff00").unwrap_or_else(|e| panic!("{e}"));
    let o = ranger(&["inspect", "block", f.to_str().unwrap_or_default()]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error:") && err.contains("RLP"), "{err}");
    let j = dir.join("trunc.json");
    std::fs::write(&j, "{\"result\": {\"number\": \"0x1\"").unwrap_or_else(|e| panic!("{e}"));
    let o = ranger(&["inspect", "block", j.to_str().unwrap_or_default()]);
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    let o = ranger(&["verify", dir.to_str().unwrap_or_default()]);
    assert_eq!(code(&o), 2, "a directory without genesis.json");
}

#[test]
fn verify_a_lying_devnet_then_a_truncated_file() {
    let dir = tmp("devnet");
    let out = dir.join("net");
    let o = ranger(&[
        "devnet",
        "generate",
        "--out",
        out.to_str().unwrap_or_default(),
        "--validators",
        "4",
        "--accounts",
        "300",
        "--blocks",
        "6",
        "--txs-per-block",
        "10",
        "--fault",
        "duplicate-seal@4",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = ranger(&[
        "verify",
        out.to_str().unwrap_or_default(),
        "--json",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let bad = lines
        .iter()
        .find(|l| l["verdict"] == "invalid")
        .unwrap_or_else(|| panic!("no invalid block"));
    assert_eq!(bad["block"], 4);
    assert_eq!(bad["kind"], "duplicate-seal");
    assert_eq!(
        lines.last().map(|l| l["summary"]["first_invalid"].clone()),
        Some(Value::from(4))
    );

    // Cut the chain file inside its last frame: blocks before it are judged, then exit 2.
    let chain = out.join("chain");
    let bytes = std::fs::read(&chain).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&chain, &bytes[..bytes.len() - 10]).unwrap_or_else(|e| panic!("{e}"));
    let o = ranger(&[
        "verify",
        out.to_str().unwrap_or_default(),
        "--backend",
        "cpu",
    ]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ends inside the frame"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("block ")).count(),
        5,
        "blocks 1..=5 judged: {out}"
    );
}

#[test]
fn run_verifies_a_live_devnet() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--blocks",
            "4",
            "--txs-per-block",
            "20",
            "--accounts",
            "500",
            "--backend",
            "cpu",
        ];
        args.extend_from_slice(extra);
        ranger(&args)
    };
    let o = run(&["--json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let last = String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .map(str::to_string)
        .unwrap_or_default();
    let j: Value = serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(j["summary"]["valid"], 4);
    assert_eq!(j["summary"]["transactions"], 80);
    let o = run(&["--fault", "nonce-gap@2"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("INVALID nonce-gap"));
}

#[test]
fn a_closed_stdout_ends_quietly_not_in_a_panic() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args([
            "run",
            "--blocks",
            "200",
            "--txs-per-block",
            "20",
            "--accounts",
            "300",
            "--backend",
            "cpu",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(first.starts_with("block 1 "), "{first}");
    // The reader is dropped here: like `ranger run | head -1`.
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}
