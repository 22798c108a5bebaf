//! Hostile and incomplete context files: every list is bounded while it is read, every field has
//! one JSON shape, BLS keys must be keys, a devnet's load-bearing fields are required by name,
//! and every default that is taken is named in the loader's notes.

// Helpers of a test file may unwrap as the tests do (clippy.toml allows it in `#[test]`s only).
#![allow(clippy::unwrap_used)]

use ranger::consensus::ChainSpec;
use ranger::consensus::chain::{LoadedSpec, MAX_COUNCIL, MAX_HISTORY};
use serde_json::{Value, json};
use std::fmt::Write;

/// The committed devnet genesis, as JSON to mutate.
fn devnet() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/devnet/genesis.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn load(v: &Value) -> Result<LoadedSpec, String> {
    LoadedSpec::from_json(&serde_json::to_vec(v).unwrap()).map_err(|e| e.to_string())
}

fn refused(v: &Value) -> String {
    match load(v) {
        Ok(l) => panic!("accepted: {:?}", l.notes),
        Err(e) => e,
    }
}

/// A genesis whose `field` is `n` copies of `entry`, written straight into the text (a million
/// entries of a `Value` would cost more than the check under test).
fn with_huge_list(field: &str, entry: impl Fn(usize) -> String, n: usize) -> Vec<u8> {
    let mut v = devnet();
    v.as_object_mut().unwrap().remove(field);
    let text = serde_json::to_string(&v).unwrap();
    let mut out = String::with_capacity(n * 64 + text.len());
    out.push_str(&text[..text.len() - 1]);
    write!(out, ",\"{field}\":[").unwrap();
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&entry(i));
    }
    out.push_str("]}");
    out.into_bytes()
}

#[test]
fn the_committed_devnet_genesis_loads_with_no_defaults_taken() {
    let l = load(&devnet()).unwrap();
    assert!(l.notes.is_empty(), "{:?}", l.notes);
    assert_eq!(l.spec.council.len(), 4);
    // What ranger writes, ranger reads back the same, without notes.
    let again = LoadedSpec::from_json(&serde_json::to_vec(&l.spec).unwrap()).unwrap();
    assert_eq!(again.spec, l.spec);
    assert!(again.notes.is_empty(), "{:?}", again.notes);
    // The built-in specs round-trip too.
    for spec in [ChainSpec::mainnet(), ChainSpec::kairos()] {
        let back: ChainSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(back, spec);
    }
}

#[test]
fn a_million_council_members_are_refused_at_the_bound() {
    let text = with_huge_list(
        "council",
        |i| format!("{{\"address\":\"0x{i:040x}\"}}"),
        1_000_000,
    );
    let e = LoadedSpec::from_json(&text).unwrap_err().to_string();
    assert!(
        e.contains("council: more than 1024 entries"),
        "refused at the bound, not for something else: {e}"
    );
    // One over the bound is refused the same way; the bound itself is accepted by the reader
    // (and then judged as a council: here, members without BLS material are fine).
    let text = with_huge_list(
        "council",
        |i| format!("{{\"address\":\"0x{:040x}\"}}", i + 1),
        MAX_COUNCIL + 1,
    );
    let e = LoadedSpec::from_json(&text).unwrap_err().to_string();
    assert!(e.contains("council: more than 1024"), "{e}");
    let text = with_huge_list(
        "council",
        |i| format!("{{\"address\":\"0x{:040x}\"}}", i + 1),
        MAX_COUNCIL,
    );
    assert_eq!(
        LoadedSpec::from_json(&text).unwrap().spec.council.len(),
        MAX_COUNCIL
    );
}

#[test]
fn a_million_accounts_without_balances_are_refused_at_the_first() {
    let text = with_huge_list(
        "accounts",
        |i| format!("{{\"address\":\"0x{i:040x}\"}}"),
        1_000_000,
    );
    let e = LoadedSpec::from_json(&text).unwrap_err().to_string();
    assert!(e.contains("missing field `balance`"), "{e}");
    assert!(e.contains("line 1 column"), "the place is named: {e}");
}

#[test]
fn a_committee_size_history_is_bounded() {
    let mut v = devnet();
    let h: Vec<Value> = (0..=MAX_HISTORY as u64).map(|i| json!([i, 7])).collect();
    v["committee_size_history"] = json!(h);
    let e = refused(&v);
    assert!(e.contains("committee_size_history: more than 4096"), "{e}");
}

/// The devnet genesis changed by `mutate` is refused with an error holding every `wanted`.
fn refused_with(mutate: impl Fn(&mut Value), wanted: &[&str]) {
    let mut v = devnet();
    mutate(&mut v);
    let e = refused(&v);
    assert!(wanted.iter().all(|w| e.contains(w)), "{wanted:?}: {e}");
}

#[test]
fn bls_keys_must_be_keys() {
    let key =
        |i: usize, v: Value| move |g: &mut Value| g["council"][i]["bls_public_key"] = v.clone();
    // 48 bytes that are not a compressed G1 point.
    refused_with(
        key(2, json!(format!("0x{}", "11".repeat(48)))),
        &["council[2]", "bls_public_key is not a BLS key"],
    );
    refused_with(
        key(0, json!("0x1234")),
        &["council[0]", "bls_public_key is 2 bytes"],
    );
    // The identity (infinity) is not a key either: blst's key_validate refuses it.
    refused_with(
        key(1, json!(format!("0xc0{}", "00".repeat(47)))),
        &["council[1]", "not a BLS key"],
    );
    refused_with(
        |g| {
            g["council"][3].as_object_mut().unwrap().remove("bls_pop");
        },
        &["council[3]", "without bls_pop"],
    );
    refused_with(
        |g| g["council"][3]["bls_pop"] = json!("0x00"),
        &["council[3]", "bls_pop is 1 bytes"],
    );
}

#[test]
fn every_member_and_account_is_listed_once() {
    let mut v = devnet();
    let first = v["council"][0].clone();
    v["council"].as_array_mut().unwrap().push(first);
    let e = refused(&v);
    assert!(
        e.contains("council[4]") && e.contains("listed twice"),
        "{e}"
    );
    let mut v = devnet();
    let first = v["accounts"][0].clone();
    v["accounts"].as_array_mut().unwrap().push(first);
    let e = refused(&v);
    assert!(
        e.contains("accounts[32]") && e.contains("listed twice"),
        "{e}"
    );
}

#[test]
fn a_devnet_genesis_must_name_what_its_verdicts_depend_on() {
    for (field, why) in [
        ("base_fee", "charges it"),
        ("derive_sha", "tx root"),
        ("council", "block 0"),
        ("accounts", "state replay"),
    ] {
        let mut v = devnet();
        v.as_object_mut().unwrap().remove(field);
        let e = refused(&v);
        assert!(
            e.contains(&format!("{field} is missing")) && e.contains(why),
            "{field}: {e}"
        );
    }
    for field in ["name", "kind", "chain_id", "forks"] {
        let mut v = devnet();
        v.as_object_mut().unwrap().remove(field);
        let e = refused(&v);
        assert!(e.contains(&format!("missing field `{field}`")), "{e}");
    }
    let mut v = devnet();
    v["council"] = json!([]);
    assert!(refused(&v).contains("council is empty"));
}

#[test]
fn defaults_taken_for_missing_fields_are_named() {
    let mut v = devnet();
    for field in [
        "epoch",
        "block_period",
        "committee_size",
        "legacy_keys_only",
        "council_governance",
    ] {
        v.as_object_mut().unwrap().remove(field);
    }
    v["forks"].as_object_mut().unwrap().remove("osaka");
    let l = load(&v).unwrap();
    let notes = l.notes.join("\n");
    for field in [
        "epoch missing: 604800",
        "block_period missing: 1",
        "committee_size missing",
        "legacy_keys_only missing: false",
        "council_governance missing: true",
        "forks.osaka missing: never active",
    ] {
        assert!(notes.contains(field), "{field} not named in:\n{notes}");
    }
    assert_eq!(l.notes.len(), 6, "{notes}");
    assert!(l.spec.council_governance);
    assert_eq!(l.spec.epoch, 604_800);
    assert_eq!(l.spec.forks.osaka, None);
    // A live context without a council or a DeriveSha impl: both defaults named.
    let l = load(
        &json!({"name": "ctx", "kind": "live", "chain_id": 8217, "forks":
        {"eth_tx_type": null, "magma": null, "randao": null, "prague": null, "osaka": null,
         "kore": null}, "block_period": 1, "epoch": 604800, "committee_size": 22,
        "legacy_keys_only": false, "council_governance": true}),
    )
    .unwrap();
    let notes = l.notes.join("\n");
    assert!(notes.contains("council missing"), "{notes}");
    assert!(notes.contains("derive_sha missing: orig"), "{notes}");
    assert_eq!(l.notes.len(), 2, "{notes}");
}

#[test]
fn malformed_shapes_and_unknown_keys_are_refused() {
    let mut v = devnet();
    v["forks"] = json!([1, 2]);
    let e = refused(&v);
    assert!(e.contains("expected a JSON object"), "{e}");
    let mut v = devnet();
    v["council"][0] = json!(["0x9fce5e2281de74cba017fff3bb0f3ba155c63446"]);
    assert!(refused(&v).contains("expected a JSON object"));
    let mut v = devnet();
    v["forks"]["shanghai"] = json!(3);
    assert!(refused(&v).contains("unknown field `shanghai`"));
    let mut v = devnet();
    v["epoch_length"] = json!(30);
    assert!(refused(&v).contains("unknown field `epoch_length`"));
    let mut v = devnet();
    v["accounts"][0]["nonce"] = json!(1);
    assert!(refused(&v).contains("unknown field `nonce`"));
    let mut v = devnet();
    v["epoch"] = json!("thirty");
    assert!(refused(&v).contains("invalid type"));
    let mut v = devnet();
    v["epoch"] = json!(0);
    assert!(refused(&v).contains("epoch is 0"));
    let mut v = devnet();
    v["committee_size"] = json!(0);
    assert!(refused(&v).contains("committee_size is 0"));
    let e = LoadedSpec::from_json(b"[\"x\", \"devnet\", 1]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("one JSON object"), "{e}");
}
