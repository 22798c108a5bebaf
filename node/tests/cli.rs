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

/// `ranger devnet generate` of a small devnet (4 validators, 300 accounts, 10 txs per block)
/// into `out`, with these faults; it must succeed.
fn generate(out: &Path, blocks: u64, faults: &[&str]) {
    let blocks = blocks.to_string();
    let mut args = vec![
        "devnet",
        "generate",
        "--out",
        out.to_str().unwrap_or_default(),
        "--validators",
        "4",
        "--accounts",
        "300",
        "--blocks",
        &blocks,
        "--txs-per-block",
        "10",
    ];
    for f in faults {
        args.extend(["--fault", f]);
    }
    let o = ranger(&args);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn verify_a_lying_devnet_then_a_truncated_file() {
    let dir = tmp("devnet");
    let out = dir.join("net");
    generate(&out, 6, &["duplicate-seal@4"]);
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
    let out_dir = out.to_str().unwrap_or_default();
    let o = ranger(&["verify", out_dir, "--backend", "cpu"]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ends inside the frame"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("block ")).count(),
        5,
        "blocks 1..=5 judged: {out}"
    );
    // The run still ends with its summary: a line, or the summary object.
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("5 blocks, ")
            && last.contains("1 invalid")
            && last.contains("stopped early: "),
        "{out}"
    );
    let o = ranger(&["verify", out_dir, "--backend", "cpu", "--json"]);
    assert_eq!(code(&o), 2);
    let lines = json_lines(&o);
    let s = &lines.last().unwrap_or_else(|| panic!("no output"))["summary"];
    assert_eq!(s["blocks"], 5, "{s}");
    assert_eq!(s["invalid"], 1, "{s}");
    assert_eq!(s["first_invalid"], 4, "{s}");
    assert_eq!(s["complete"], false, "{s}");
    assert!(
        s["stopped"]
            .as_str()
            .unwrap_or_default()
            .contains("ends inside the frame"),
        "{s}"
    );
    let o = ranger(&[
        "verify",
        &dataset("devnet"),
        "--backend",
        "cpu",
        "--json",
        "--quiet",
    ]);
    let lines = json_lines(&o);
    let s = &lines.last().unwrap_or_else(|| panic!("no output"))["summary"];
    assert_eq!(
        (s["complete"].clone(), s["stopped"].clone()),
        (Value::Bool(true), Value::Null)
    );
}

/// `ranger run` flags for a quick embedded run: 20 txs a 1 ms block, the CPU, free ports.
const FAST_RUN: &[&str] = &[
    "--tps",
    "20000",
    "--backend",
    "cpu",
    "--block-period",
    "1",
    "--http",
    "127.0.0.1:0",
    "--metrics",
    "127.0.0.1:0",
];

#[test]
fn run_verifies_a_live_devnet() {
    let run = |extra: &[&str]| {
        let dir = std::env::temp_dir().join(format!(
            "ranger-cli-run-{}-{}",
            std::process::id(),
            extra.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let dir = dir.display().to_string();
        let mut args = vec!["run", "--blocks", "4", "--accounts", "500"];
        args.extend_from_slice(FAST_RUN);
        args.extend_from_slice(&["--datadir", &dir]);
        args.extend_from_slice(extra);
        let o = ranger(&args);
        let _ = std::fs::remove_dir_all(&dir);
        o
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
    let dir = std::env::temp_dir().join(format!("ranger-cli-pipe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args(["run", "--blocks", "200", "--accounts", "300"])
        .args(FAST_RUN)
        .arg("--datadir")
        .arg(&dir)
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
    let _ = std::fs::remove_dir_all(&dir);
}

fn ranger_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ranger"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output()
        .unwrap_or_else(|e| panic!("cannot run ranger: {e}"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn dataset(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../datasets")
        .join(rel)
        .display()
        .to_string()
}

/// A devnet directory whose genesis.json has `field` replaced by a million `entry`s.
fn hostile_devnet(name: &str, field: &str, entry: &str) -> PathBuf {
    let dir = tmp(name);
    let mut v: Value = serde_json::from_slice(
        &std::fs::read(dataset("devnet/genesis.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    if let Some(o) = v.as_object_mut() {
        o.remove(field);
    }
    let text = v.to_string();
    let mut g = String::with_capacity(1_000_000 * (entry.len() + 1) + text.len());
    g.push_str(&text[..text.len() - 1]);
    g.push_str(&format!(",\"{field}\":["));
    for i in 0..1_000_000u32 {
        if i > 0 {
            g.push(',');
        }
        g.push_str(&entry.replace("{i}", &format!("{i:040x}")));
    }
    g.push_str("]}");
    std::fs::write(dir.join("genesis.json"), g).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(dataset("devnet/chain"), dir.join("chain")).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// `ranger verify DIR --backend cpu`: its exit code and stderr.
fn verify_dir(dir: &Path) -> (i32, String) {
    let o = ranger(&[
        "verify",
        dir.to_str().unwrap_or_default(),
        "--backend",
        "cpu",
    ]);
    (code(&o), stderr(&o))
}

/// A devnet directory with the committed chain and this genesis.
fn devnet_with_genesis(name: &str, genesis: &Value) -> PathBuf {
    let dir = tmp(name);
    std::fs::write(dir.join("genesis.json"), genesis.to_string()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(dataset("devnet/chain"), dir.join("chain")).unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[test]
fn a_hostile_genesis_is_refused_with_exit_2() {
    let member = "{\"address\":\"0x{i}\"}";
    for (field, error) in [
        ("council", "council: more than 1024 entries"),
        // A million accounts without balances: refused at the first.
        ("accounts", "missing field `balance`"),
    ] {
        let (code, err) = verify_dir(&hostile_devnet(field, field, member));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(error), "{err}");
    }
    let g: Value = serde_json::from_slice(
        &std::fs::read(dataset("devnet/genesis.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // A BLS key that is not a key.
    let mut v = g.clone();
    v["council"][0]["bls_public_key"] = Value::from(format!("0x{}", "11".repeat(48)));
    let (code, err) = verify_dir(&devnet_with_genesis("blskey", &v));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a BLS key"), "{err}");
    // Defaults taken for missing fields are said on stderr, and the run goes on.
    let mut v = g;
    if let Some(o) = v.as_object_mut() {
        o.remove("legacy_keys_only");
    }
    let (code, err) = verify_dir(&devnet_with_genesis("defaults", &v));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: ") && err.contains("legacy_keys_only missing: false"),
        "{err}"
    );
}

#[test]
fn a_missing_path_is_no_such_file_and_each_cause_is_said_once() {
    let o = ranger(&["verify", "/nonexistent", "--backend", "cpu"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("/nonexistent: no such file or directory"),
        "{err}"
    );
    assert!(!err.contains("--chain"), "{err}");
    let o = ranger(&[
        "verify",
        &dataset("devnet/chain"),
        "--chain",
        "/nonexistent/genesis.json",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

#[test]
fn random_bytes_are_not_a_block() {
    let dir = tmp("random");
    // A seeded xorshift: the same "random" file on every run.
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    for (name, first) in [("low", 0x05u8), ("list", 0xc3)] {
        let mut b = bytes.clone();
        b[0] = first;
        let f = dir.join(name);
        std::fs::write(&f, &b).unwrap_or_else(|e| panic!("{e}"));
        let o = ranger(&["inspect", "block", f.to_str().unwrap_or_default()]);
        assert_eq!(code(&o), 2);
        let err = stderr(&o);
        assert!(err.contains("not a block"), "{err}");
        assert!(!err.contains("1023 trailing"), "{err}");
    }
}

#[test]
fn help_lists_the_values_of_mode_and_backend() {
    let o = ranger(&["verify", "--help"]);
    assert_eq!(code(&o), 0);
    let help = String::from_utf8_lossy(&o.stdout);
    for v in ["headers", "full", "auto", "cpu", "gpu", "hybrid"] {
        assert!(help.contains(&format!("{v}:")), "{v} not listed:\n{help}");
    }
    let o = ranger(&["verify", "x", "--backend", "tpu"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

#[test]
fn a_hashes_only_block_says_its_transactions_were_not_checked() {
    let f = dataset("json/kairos-83863326-hashes.json");
    let o = ranger(&["inspect", "block", &f, "--chain", "kairos", "--json"]);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(j["transactions_checked"], false, "{j}");
    let o = ranger(&["inspect", "block", &f, "--chain", "kairos"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("not checked: the JSON block lists transaction hashes only"),
        "{text}"
    );
    let f = dataset("json/kairos-83863326-klay-full.json");
    let o = ranger(&["inspect", "block", &f, "--chain", "kairos", "--json"]);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(j["transactions_checked"], true, "{j}");
}

#[test]
fn every_command_says_which_backend_it_chose() {
    let dir = dataset("devnet");
    let o = ranger(&["verify", &dir, "--backend", "cpu", "--json", "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("backend: cpu (asked for)"),
        "{}",
        stderr(&o)
    );
    let lines = json_lines(&o);
    assert_eq!(
        lines.last().map(|l| l["summary"]["backend"].clone()),
        Some(Value::from("cpu"))
    );
    // auto, with a corrupt memory of earlier measurements: ignored, and the command runs.
    let cache = tmp("auto-cache");
    std::fs::write(cache.join("backend-auto.json"), "{not json").unwrap_or_else(|e| panic!("{e}"));
    let o = ranger_env(
        &["verify", &dir, "--json", "--quiet"],
        &[("RANGER_CACHE_DIR", &cache)],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.starts_with("backend: "))
        .unwrap_or_else(|| panic!("no backend line: {err}"));
    assert!(line.contains("(auto: "), "{line}");
    let lines = json_lines(&o);
    let chosen = lines.last().map(|l| l["summary"]["backend"].clone());
    assert!(
        line.starts_with(&format!(
            "backend: {}",
            chosen
                .clone()
                .and_then(|c| c.as_str().map(str::to_string))
                .unwrap_or_default()
        )),
        "{line} / {chosen:?}"
    );
}

/// Every key of every object in `v` (the `fields` of `inspect tx`, named as Kaia's JSON-RPC names
/// them, are documented as a group).
fn keys(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, inner) in o {
                out.insert(k.clone());
                if k != "fields" {
                    keys(inner, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

/// Every 0x-hex token of 40 digits or more in `text` is lowercase.
fn assert_one_spelling(text: &str) {
    for (i, _) in text.match_indices("0x") {
        let digits: String = text[i + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        if digits.len() >= 40 {
            assert!(
                !digits.chars().any(|c| c.is_ascii_uppercase()),
                "mixed-case hex 0x{digits} in:\n{text}"
            );
        }
    }
}

#[test]
fn the_readme_documents_every_json_key_and_addresses_have_one_spelling() {
    let dir = tmp("keys");
    let net = dir.join("net");
    generate(
        &net,
        8,
        &[
            "non-council-seal@2",
            "insufficient-balance@4",
            "from-mismatch@6",
            "proposer-not-in-council@8",
        ],
    );
    let v = vectors();
    let raw = v["transactions"][0]["raw"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let block = dir.join("block.hex");
    std::fs::write(&block, v["blocks"][0]["rlp"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let net = net.to_str().unwrap_or_default();
    let block = block.to_str().unwrap_or_default();
    // `run` starts from a new store each time (the directory is removed before each run).
    let run_dir = dir.join("node").display().to_string();
    // Each command as a table and as JSON.
    let commands: [&[&str]; 5] = [
        &["verify", net, "--backend", "cpu"],
        &["bench", "line-rate", "--quick"],
        &["inspect", "block", block, "--chain", "kairos"],
        &["inspect", "tx", &raw],
        &[
            "run",
            "--blocks",
            "3",
            "--tps",
            "5000",
            "--accounts",
            "100",
            "--backend",
            "cpu",
            "--fault",
            "wrong-state-root@2",
            "--block-period",
            "1",
            "--http",
            "127.0.0.1:0",
            "--metrics",
            "127.0.0.1:0",
            "--datadir",
            &run_dir,
        ],
    ];
    let runs = commands.iter().flat_map(|c| {
        [
            c.to_vec(),
            c.iter().copied().chain(["--json"]).collect::<Vec<_>>(),
        ]
    });
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap_or_else(|e| panic!("{e}"));
    let mut all = std::collections::BTreeSet::new();
    let mut faults_seen = 0;
    for args in runs {
        let _ = std::fs::remove_dir_all(&run_dir);
        let o = ranger(&args);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_one_spelling(&out);
        assert_one_spelling(&stderr(&o));
        if args.contains(&"--json") {
            for l in json_lines(&o) {
                faults_seen += l["faults"].as_array().map_or(0, Vec::len);
                keys(&l, &mut all);
            }
        }
    }
    assert!(faults_seen >= 3, "the faults were printed");
    let missing: Vec<_> = all
        .iter()
        .filter(|k| !readme.contains(&format!("`{k}`")) && !readme.contains(&format!("\"{k}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "JSON keys the README does not document: {missing:?}"
    );
}

#[test]
fn bench_line_rate_follows_a_council_process_and_reports_positive_figures() {
    let child = Command::new(env!("CARGO_BIN_EXE_ranger"))
        .args(["bench", "line-rate", "--quick", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run ranger: {e}"));
    let pid = child.id();
    let o = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 1, "one JSON object");
    let l = &lines[0]["line_rate"];
    for k in [
        "tx_per_s",
        "in_memory_tx_per_s",
        "ratio",
        "in_memory_alone_tx_per_s",
        "ratio_to_alone",
        "disk_bytes_per_tx",
        "blocks",
        "blocks_per_s",
    ] {
        let v = l[k]
            .as_f64()
            .unwrap_or_else(|| panic!("no line_rate.{k}: {l}"));
        assert!(v > 0.0, "line_rate.{k} = {v}");
    }
    // The follower may keep up at every poll: zero is a lag, a missing key is not.
    assert!(l["lag_blocks_max"].as_u64().is_some(), "{l}");
    let c = &lines[0]["catch_up"];
    for k in ["blocks", "blocks_per_s", "tx_per_s"] {
        let v = c[k]
            .as_f64()
            .unwrap_or_else(|| panic!("no catch_up.{k}: {c}"));
        assert!(v > 0.0, "catch_up.{k} = {v}");
    }
    // The council's and the followers' datadirs are removed.
    let dir = std::env::temp_dir().join(format!("ranger-bench-line-rate-{pid}"));
    assert!(!dir.exists(), "{} is left behind", dir.display());
}
