//! Kaia JSON-RPC blocks <-> typed blocks (`ranger::codec::json`): real blocks from
//! `datasets/vectors/kaia.json` round-trip through `block_to_json` / `parse_block_json` with the
//! same hashes; the fixtures in `datasets/json/` (formatted like `kaia_getBlockByNumber`,
//! `klay_getBlockByNumber` and `kaia_getBlockWithConsensusInfoByNumber` output) parse to the
//! real block; every transaction type survives fields -> raw -> JSON -> raw; malformed input
//! gives an error that names the field, and hostile values in any leaf or cut and flipped text never
//! make the parser panic.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::Encodable;
use ranger::codec::DecodeError;
use ranger::codec::block::decode_block;
use ranger::codec::header::decode_header;
use ranger::codec::json::{block_to_json, parse_block_json, parse_tx_value, tx_to_json};
use ranger::codec::rlp::wrap_list;
use ranger::codec::rpc::quantity;
use ranger::codec::tx::{decode_tx, encode_tx, sig_preimage, tx_hash_preimage};
use ranger::consensus::chain::{ChainSpec, ForkSchedule};
use ranger::consensus::istanbul::block_hash;
use ranger::crypto::keccak256;
use ranger::crypto::secp::SigningKey;
use ranger::primitives::{
    Block, EthFields, KaiaField, KaiaFields, LegacyFields, Transaction, TxBody, TxSig, TxType,
};
use serde_json::{Value, json};

mod common;
use common::{addr, h256, hx, vectors};

fn kairos_block() -> (Block, Value) {
    let vs = vectors();
    let v = vs["blocks"][0].clone();
    let block = decode_block(&hx(&v["rlp"])).unwrap_or_else(|e| panic!("kairos block: {e}"));
    (block, v)
}

fn kairos_forks() -> ForkSchedule {
    ChainSpec::kairos().forks
}

fn parse(v: &Value, forks: &ForkSchedule) -> Result<ranger::codec::json::JsonBlock, DecodeError> {
    let text = serde_json::to_vec(v).unwrap_or_else(|e| panic!("serialize: {e}"));
    parse_block_json(&text, forks)
}

/// The key an error names: its field, or the last key of its JSON path (`committee[0]` names
/// `committee`).
fn field_of(e: &DecodeError) -> &str {
    match e {
        DecodeError::Invalid { field, .. } | DecodeError::Length { field, .. } => field,
        DecodeError::Json { path, .. } => {
            let last = path.rsplit('.').next().unwrap_or_default();
            last.split('[').next().unwrap_or_default()
        }
        other => panic!("expected an error naming a field, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Real blocks

#[test]
fn kairos_block_round_trips_with_its_hash_and_tx_hashes() {
    let (block, v) = kairos_block();
    let want_hash = h256(&v["hash"]);
    let want_txs: Vec<Option<B256>> = v["tx_hashes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| Some(h256(h)))
        .collect();
    let js = block_to_json(&block);
    assert_eq!(js["hash"], json!(format!("{want_hash:#x}")));
    let got = parse(&js, &kairos_forks()).unwrap_or_else(|e| panic!("parse: {e}"));
    assert!(got.has_transactions);
    assert_eq!(got.block, block);
    assert_eq!(block_hash(&got.block.header), want_hash);
    assert_eq!(got.claims.hash, Some(want_hash));
    assert_eq!(got.claims.tx_hashes, want_txs);
    let recomputed: Vec<Option<B256>> = got
        .block
        .transactions
        .iter()
        .map(|t| Some(keccak256(tx_hash_preimage(t))))
        .collect();
    assert_eq!(recomputed, want_txs);
    assert_eq!(got.claims.senders, vec![block.transactions[0].from_field()]);
    // The Kairos block is pre-Magma: a schedule with Magma from genesis wants a base fee.
    let e = parse(&js, &ForkSchedule::all_from_genesis()).err();
    assert_eq!(e.as_ref().map(field_of), Some("baseFeePerGas"), "{e:?}");
}

#[test]
fn post_randao_header_round_trips() {
    let vs = vectors();
    let v = &vs["blocks"][1];
    let raw = hx(&v["rlp"]);
    let block = match decode_block(&raw) {
        Ok(b) => b,
        Err(_) => Block {
            header: decode_header(&raw).unwrap_or_else(|e| panic!("header: {e}")),
            transactions: Vec::new(),
        },
    };
    assert!(block.header.mix_hash.is_some() && block.header.base_fee.is_some());
    let forks = ForkSchedule {
        magma: Some(0),
        randao: Some(0),
        ..Default::default()
    };
    assert_eq!(forks.header_fields(block.header.number), 17);
    let js = block_to_json(&block);
    assert!(js.get("randomReveal").is_some() && js.get("mixHash").is_some());
    let got = parse(&js, &forks).unwrap_or_else(|e| panic!("parse: {e}"));
    assert_eq!(got.block, block);
    assert_eq!(block_hash(&got.block.header), h256(&v["hash"]));
    // Without randao in the schedule the reveal and mix hash are not header fields: the hash
    // changes, which is why the schedule, not the JSON, decides.
    let pre = ForkSchedule {
        magma: Some(0),
        ..Default::default()
    };
    let got_pre = parse(&js, &pre).unwrap_or_else(|e| panic!("parse: {e}"));
    assert_eq!(got_pre.block.header.mix_hash, None);
    assert_ne!(block_hash(&got_pre.block.header), h256(&v["hash"]));
    // A missing reveal under a randao schedule is named.
    let mut cut = js.clone();
    if let Some(o) = cut.as_object_mut() {
        o.remove("randomReveal");
    }
    let e = parse(&cut, &forks).err();
    assert_eq!(e.as_ref().map(field_of), Some("randomReveal"), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Fixtures in datasets/json

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/datasets/json/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn fixture_klay_full_pre_magma_with_base_fee_printed() {
    let (block, v) = kairos_block();
    let got = parse_block_json(&fixture("kairos-83863326-klay-full.json"), &kairos_forks())
        .unwrap_or_else(|e| panic!("parse: {e}"));
    // baseFeePerGas is printed but the block is pre-Magma: it is ignored, not hashed.
    assert_eq!(got.block.header.base_fee, None);
    assert_eq!(got.block, block);
    assert_eq!(block_hash(&got.block.header), h256(&v["hash"]));
    assert_eq!(got.claims.hash, Some(h256(&v["hash"])));
    assert!(got.has_transactions);
    assert_eq!(got.claims.tx_hashes, vec![Some(h256(&v["tx_hashes"][0]))]);
    assert_eq!(
        got.claims.sender_tx_hashes,
        vec![Some(h256(&v["tx_hashes"][0]))]
    );
}

#[test]
fn fixture_hashes_only() {
    let (block, v) = kairos_block();
    let got = parse_block_json(&fixture("kairos-83863326-hashes.json"), &kairos_forks())
        .unwrap_or_else(|e| panic!("parse: {e}"));
    assert!(!got.has_transactions);
    assert!(got.block.transactions.is_empty());
    assert_eq!(got.block.header, block.header);
    assert_eq!(got.claims.tx_hashes, vec![Some(h256(&v["tx_hashes"][0]))]);
    assert_eq!(got.claims.senders, vec![None]);
}

#[test]
fn fixture_consensus_info_hints() {
    let (block, v) = kairos_block();
    let got = parse_block_json(&fixture("kairos-83863326-consensus.json"), &kairos_forks())
        .unwrap_or_else(|e| panic!("parse: {e}"));
    assert_eq!(got.block, block);
    let c = &got.claims.consensus;
    assert_eq!(c.proposer, Some(addr(&v["proposer"])));
    let committers: Vec<Address> = v["committers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(addr)
        .collect();
    assert_eq!(c.committers.as_ref(), Some(&committers));
    let validators: Vec<Address> = v["validators"]
        .as_array()
        .into_iter()
        .flatten()
        .map(addr)
        .collect();
    assert_eq!(c.committee.as_ref(), Some(&validators));
    assert_eq!(c.sig_hash, Some(h256(&v["sig_hash"])));
    assert_eq!(c.round, Some(block.header.extra[31]));
}

#[test]
fn fixture_rpc_error_and_null_result() {
    let e = parse_block_json(&fixture("rpc-error.json"), &kairos_forks()).err();
    match &e {
        Some(DecodeError::Invalid {
            field: "error",
            reason,
        }) => {
            assert!(
                reason.contains("-32000") && reason.contains("does not exist"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    let e = parse_block_json(&fixture("null-result.json"), &kairos_forks()).err();
    assert_eq!(e.as_ref().map(field_of), Some("result"), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Every transaction type

const CHAIN_ID: u64 = 1001;

fn a(n: u8) -> Address {
    Address::repeat_byte(n)
}

fn access_list() -> Bytes {
    let mut entry = Vec::new();
    a(0xaa).encode(&mut entry);
    let mut keys = Vec::new();
    B256::repeat_byte(1).encode(&mut keys);
    B256::repeat_byte(2).encode(&mut keys);
    entry.extend_from_slice(&wrap_list(&keys));
    Bytes::from(wrap_list(&wrap_list(&entry)))
}

fn authorizations() -> Bytes {
    let mut t = Vec::new();
    U256::from(CHAIN_ID).encode(&mut t);
    a(0xbb).encode(&mut t);
    3u64.encode(&mut t);
    1u8.encode(&mut t);
    U256::from(0x1234u64).encode(&mut t);
    U256::from(0x5678u64).encode(&mut t);
    Bytes::from(wrap_list(&wrap_list(&t)))
}

fn kaia_sig(i: u64) -> TxSig {
    TxSig {
        v: U256::from(35 + 2 * CHAIN_ID + (i % 2)),
        r: U256::from(0x1111 + i),
        s: U256::from(0x2222 + i),
    }
}

/// A transaction of type `t` with every field of its layout set to a non-default value where the
/// type allows one; legacy and Ethereum-typed ones are really signed by `key`.
fn sample_tx(t: TxType, key: &SigningKey) -> Transaction {
    let mut tx = Transaction {
        tx_type: t,
        body: TxBody::Legacy(LegacyFields::default()),
        signatures: Vec::new(),
        fee_payer: None,
        fee_payer_signatures: Vec::new(),
        raw: Bytes::new(),
    };
    if let Some(layout) = t.kaia_layout() {
        let mut k = KaiaFields::default();
        for f in layout {
            match f {
                KaiaField::Nonce => k.nonce = 1234,
                KaiaField::GasPrice => k.gas_price = U256::from(25_000_000_000u64),
                KaiaField::Gas => k.gas = 300_000,
                KaiaField::To => k.to = Some(a(0x11)),
                KaiaField::ToOpt => k.to = None,
                KaiaField::Value => k.value = U256::from(10u64).pow(U256::from(20u64)),
                KaiaField::From => k.from = a(0x22),
                KaiaField::Input => k.input = Bytes::from(vec![0x60, 0x80, 0x00, 0x40]),
                KaiaField::HumanReadable => k.human_readable = false,
                KaiaField::CodeFormat => k.code_format = 0,
                KaiaField::FeeRatio => k.fee_ratio = 30,
                KaiaField::Key => {
                    let mut key = vec![0x02, 0xa1, 0x03];
                    key.extend_from_slice(&[0x5a; 32]);
                    k.key = Bytes::from(key);
                }
            }
        }
        tx.body = TxBody::Kaia(k);
        // Two sender signatures on every other type: a multisig account.
        tx.signatures = (0..1 + u64::from(t.0.is_multiple_of(2)))
            .map(kaia_sig)
            .collect();
        if t.is_fee_delegated() {
            tx.fee_payer = Some(a(0x33));
            tx.fee_payer_signatures = vec![kaia_sig(7)];
        }
        return tx;
    }
    if t == TxType::LEGACY {
        tx.body = TxBody::Legacy(LegacyFields {
            nonce: 9,
            gas_price: U256::from(25_000_000_000u64),
            gas: 21_000,
            to: Some(a(0x44)),
            value: U256::from(5u64),
            input: Bytes::from(vec![1, 2, 3]),
        });
    } else {
        tx.body = TxBody::Eth(Box::new(EthFields {
            chain_id: U256::from(CHAIN_ID),
            nonce: 10,
            gas_tip_cap: U256::from(1_000_000_000u64),
            gas_fee_cap: if t == TxType::ETH_ACCESS_LIST {
                U256::ZERO
            } else {
                U256::from(50_000_000_000u64)
            },
            gas: 100_000,
            to: Some(a(0x55)),
            value: U256::from(7u64),
            data: Bytes::from(vec![0xde, 0xad]),
            access_list: access_list(),
            blob_fee_cap: if t == TxType::ETH_BLOB {
                U256::from(3u64)
            } else {
                U256::ZERO
            },
            blob_hashes: if t == TxType::ETH_BLOB {
                vec![B256::repeat_byte(0x01), B256::repeat_byte(0x02)]
            } else {
                Vec::new()
            },
            authorizations: if t == TxType::ETH_SET_CODE {
                authorizations()
            } else {
                Bytes::new()
            },
        }));
    }
    tx.signatures = vec![TxSig::default()];
    let sig = key.sign(&keccak256(&sig_preimage(&tx, CHAIN_ID)));
    let v = if t == TxType::LEGACY {
        U256::from(35 + 2 * CHAIN_ID + u64::from(sig.recid()))
    } else {
        U256::from(sig.recid())
    };
    tx.signatures = vec![TxSig {
        v,
        r: sig.r(),
        s: sig.s(),
    }];
    tx
}

#[test]
fn every_tx_type_survives_fields_raw_json_raw() {
    let key = SigningKey::from_seed(0x150, 1);
    for t in TxType::ALL
        .into_iter()
        .filter(|t| *t != TxType::ACCOUNT_CREATION)
    {
        let mut tx = sample_tx(t, &key);
        tx.raw = Bytes::from(encode_tx(&tx));
        let decoded =
            decode_tx(&tx.raw).unwrap_or_else(|e| panic!("{t}: sample does not decode: {e}"));
        assert_eq!(decoded, tx, "{t}: sample is not canonical");
        let js = tx_to_json(&tx);
        // Through text, as a node would serve it.
        let text = serde_json::to_string(&js).unwrap_or_else(|e| panic!("{e}"));
        let back: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let got = parse_tx_value(&back).unwrap_or_else(|e| panic!("{t}: {e}\n{text}"));
        assert_eq!(got.tx.raw, tx.raw, "{t}: raw differs\n{text}");
        assert_eq!(got.tx, tx, "{t}");
        assert_eq!(got.hash, Some(keccak256(tx_hash_preimage(&tx))), "{t}");
        let want_sender = match &tx.body {
            TxBody::Kaia(k) => k.from,
            _ => key.address(),
        };
        assert_eq!(got.sender, Some(want_sender), "{t}: from");
        assert_eq!(got.fee_payer, tx.fee_payer, "{t}: feePayer");
    }
}

#[test]
fn empty_lists_read_from_json_equal_the_decoded_transaction() {
    // An empty access list has one representation in a decoded
    // transaction; JSON must give the same value as the RLP path, not only the same bytes.
    let key = SigningKey::from_seed(0x150, 2);
    for t in [
        TxType::ETH_ACCESS_LIST,
        TxType::ETH_DYNAMIC_FEE,
        TxType::ETH_SET_CODE,
    ] {
        let mut tx = sample_tx(t, &key);
        if let TxBody::Eth(e) = &mut tx.body {
            e.access_list = Bytes::from(vec![0xc0]);
        }
        let raw = encode_tx(&tx);
        let decoded = decode_tx(&raw).unwrap_or_else(|e| panic!("{t}: {e}"));
        let got = parse_tx_value(&tx_to_json(&decoded)).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(got.tx, decoded, "{t}");
    }
}

#[test]
fn public_vector_transactions_survive_json() {
    let vs = vectors();
    for v in vs["transactions"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or_default();
        let raw = hx(&v["raw"]);
        let tx = decode_tx(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = parse_tx_value(&tx_to_json(&tx)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.tx.raw.as_ref(), raw.as_slice(), "{name}");
        assert_eq!(got.hash, Some(h256(&v["tx_hash"])), "{name}");
        if v["sender_tx_hash"].is_string() {
            assert_eq!(
                got.sender_tx_hash,
                Some(h256(&v["sender_tx_hash"])),
                "{name}"
            );
        }
        assert_eq!(got.sender, Some(addr(&v["signer"])), "{name}: from");
    }
}

/// Which keys each type prints, as Kaia's `MakeRPCOutput` does: a type without a recipient has
/// no `to`, a contract creation prints `"to": null`, a signature that does not recover prints
/// `"from": null`; `typeInt` is a JSON number, the other numbers hex quantities.
#[test]
fn printed_keys_follow_the_type() {
    let key = SigningKey::from_seed(0x150, 4);
    let update = tx_to_json(&sample_tx(TxType(0x20), &key));
    for absent in ["to", "value", "input", "feePayer", "chainId", "accessList"] {
        assert!(
            update.get(absent).is_none(),
            "account update prints {absent}"
        );
    }
    assert!(update["key"].is_string() && update["typeInt"] == json!(0x20));
    assert_eq!(update["nonce"], json!("0x4d2"));
    let deploy = tx_to_json(&sample_tx(TxType(0x28), &key));
    assert_eq!(deploy.get("to"), Some(&Value::Null));
    assert_eq!(deploy["codeFormat"], json!("0x0"));
    assert_eq!(deploy["humanReadable"], json!(false));
    let mut legacy = sample_tx(TxType::LEGACY, &key);
    if let TxBody::Legacy(l) = &mut legacy.body {
        l.to = None;
    }
    // Neither 27/28 nor EIP-155 (35 and up): no recovery id.
    legacy.signatures[0].v = U256::from(30u64);
    let js = tx_to_json(&legacy);
    assert_eq!(js.get("to"), Some(&Value::Null));
    assert_eq!(js.get("from"), Some(&Value::Null));
    let blob = tx_to_json(&sample_tx(TxType::ETH_BLOB, &key));
    assert_eq!(
        blob["accessList"][0]["storageKeys"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        blob["blobVersionedHashes"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(blob.get("gasPrice").is_none() && blob["maxFeePerGas"].is_string());
    let (block, _) = kairos_block();
    let js = block_to_json(&block);
    assert!(js.get("baseFeePerGas").is_none() && js["size"].is_string());
    assert_eq!(js["transactions"][0]["transactionIndex"], json!("0x0"));
    assert_eq!(js["transactions"][0]["blockHash"], js["hash"]);
}

#[test]
fn raw_form_is_preferred_and_names_are_accepted() {
    let key = SigningKey::from_seed(0x150, 2);
    let mut tx = sample_tx(TxType::ETH_DYNAMIC_FEE, &key);
    tx.raw = Bytes::from(encode_tx(&tx));
    // Fields wrong, raw right: the raw wins.
    let js = json!({ "raw": format!("0x{}", hex::encode(&tx.raw)), "nonce": "0xffff" });
    let got = parse_tx_value(&js).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.tx, tx);
    // `type` by Go name instead of typeInt, Ethereum-style v/r/s and `data` instead of `input`.
    let mut js = tx_to_json(&tx);
    let o = js.as_object_mut().unwrap_or_else(|| panic!("object"));
    o.remove("typeInt");
    o.insert("type".into(), json!("TxTypeEthereumDynamicFee"));
    let sig = o.remove("signatures").unwrap_or_default();
    o.insert("v".into(), sig[0]["V"].clone());
    o.insert("r".into(), sig[0]["R"].clone());
    o.insert("s".into(), sig[0]["S"].clone());
    let input = o.remove("input").unwrap_or_default();
    o.insert("data".into(), input);
    let got = parse_tx_value(&js).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.tx.raw, tx.raw);
    // Ethereum-namespace hex type.
    if let Some(o) = js.as_object_mut() {
        o.insert("type".into(), json!("0x2"));
    }
    let got = parse_tx_value(&js).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.tx.raw, tx.raw);
}

// ---------------------------------------------------------------------------------------------
// Malformed input

fn kairos_json() -> Value {
    let (block, _) = kairos_block();
    block_to_json(&block)
}

fn with(mut v: Value, path: &[&str], new: Option<Value>) -> Value {
    let mut cur = &mut v;
    for (i, p) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let next = match p.parse::<usize>() {
            Ok(n) => cur.get_mut(n),
            Err(_) => {
                if last {
                    if let Some(o) = cur.as_object_mut() {
                        match new {
                            Some(n) => o.insert((*p).to_string(), n),
                            None => o.remove(*p),
                        };
                    }
                    return v;
                }
                cur.get_mut(*p)
            }
        };
        cur = next.unwrap_or_else(|| panic!("no {p}"));
    }
    v
}

#[test]
fn malformed_inputs_name_the_field() {
    let forks = kairos_forks();
    let text = serde_json::to_vec(&kairos_json()).unwrap_or_default();
    let e = parse_block_json(&text[..text.len() / 2], &forks).err();
    assert_eq!(e.as_ref().map(field_of), Some("json"), "{e:?}");
    let e = parse_block_json(b"[1,2]", &forks).err();
    assert_eq!(e.as_ref().map(field_of), Some("json"), "{e:?}");

    let cases: Vec<(Vec<&str>, Option<Value>, &str)> = vec![
        (vec!["parentHash"], None, "parentHash"),
        (vec!["reward"], None, "reward"),
        (vec!["blockScore"], None, "blockScore"),
        (vec!["extraData"], Some(json!("0xabc")), "extraData"),
        (vec!["extraData"], Some(json!(17)), "extraData"),
        (
            vec!["gasUsed"],
            Some(json!("0x1ffffffffffffffff")),
            "gasUsed",
        ),
        (vec!["number"], Some(json!({"n": 1})), "number"),
        (vec!["timestamp"], Some(json!("0xzz")), "timestamp"),
        (vec!["timestampFoS"], Some(json!("0x100")), "timestampFoS"),
        (vec!["stateRoot"], Some(json!("0x1234")), "stateRoot"),
        (vec!["logsBloom"], Some(json!("0x00")), "logsBloom"),
        (vec!["transactions"], Some(json!("0x00")), "transactions"),
        (vec!["transactions", "0", "nonce"], None, "nonce"),
        (vec!["transactions", "0", "to"], Some(json!("0x12")), "to"),
        (vec!["transactions", "0", "from"], Some(json!(null)), "from"),
        (
            vec!["transactions", "0", "value"],
            Some(json!(format!("0x1{}", "0".repeat(64)))),
            "value",
        ),
        (
            vec!["transactions", "0", "signatures"],
            Some(json!([])),
            "signatures",
        ),
        (vec!["transactions", "0", "signatures", "0", "R"], None, "R"),
        (
            vec!["transactions", "0", "signatures", "0", "V"],
            Some(json!(true)),
            "V",
        ),
        (
            vec!["transactions", "0", "typeInt"],
            Some(json!(0x99)),
            "typeInt",
        ),
        (
            vec!["transactions", "0", "hash"],
            Some(json!("0x01")),
            "hash",
        ),
        (vec!["committee"], Some(json!(["0x00"])), "committee"),
    ];
    for (path, new, field) in cases {
        let v = with(kairos_json(), &path, new.clone());
        let e = parse(&v, &forks).err();
        let got = match &e {
            Some(other) => field_of(other),
            None => panic!("{path:?} = {new:?} was accepted"),
        };
        assert_eq!(got, field, "{path:?} = {new:?}: {e:?}");
        if path.len() > 1 {
            let msg = e.map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.starts_with("transactions[0]."), "{path:?}: {msg}");
        }
    }

    // The disabled account-creation type.
    let v = with(
        kairos_json(),
        &["transactions", "0", "typeInt"],
        Some(json!(0x18)),
    );
    let e = parse(&v, &forks).err();
    assert!(
        e.as_ref()
            .is_some_and(|e| e.to_string().contains("disabled")),
        "{e:?}"
    );
    // Mixed hashes and objects.
    let mut v = kairos_json();
    if let Some(list) = v["transactions"].as_array_mut() {
        list.push(json!(format!("{:#x}", B256::ZERO)));
    }
    assert!(parse(&v, &forks).is_err());
}

/// Shapes the typed reader meets that the field table above does not: `null` where an object
/// is expected, numbers too large for any quantity, an empty `0x`, keys a type needs, and
/// duplicate keys. Each is refused with the path of the value at fault, or (duplicates) read
/// the way Kaia's own decoder (Go's encoding/json) reads them: the last one counts.
#[test]
fn hostile_shapes_name_their_path() {
    let forks = kairos_forks();
    let cases: Vec<(Vec<&str>, Option<Value>, &str)> = vec![
        (vec!["transactions"], Some(json!([null])), "transactions[0]"),
        (vec!["transactions"], Some(json!([7])), "transactions[0]"),
        (
            vec!["transactions", "0", "signatures"],
            Some(json!([null])),
            "transactions[0].signatures[0]",
        ),
        (vec!["gasUsed"], Some(json!(1e300)), "gasUsed"),
        // u64::MAX + 1: serde_json reads it as a float, which is no quantity.
        (
            vec!["number"],
            Some(serde_json::from_str("18446744073709551616").unwrap()),
            "number",
        ),
        (vec!["timestamp"], Some(json!(-1)), "timestamp"),
        (
            vec!["blockScore"],
            Some(json!("9".repeat(79))),
            "blockScore",
        ),
        (
            vec!["transactions", "0", "nonce"],
            Some(json!("0x")),
            "transactions[0].nonce",
        ),
        (
            vec!["transactions", "0", "typeInt"],
            Some(json!(0x10000)),
            "transactions[0].typeInt",
        ),
        (
            vec!["transactions", "0", "raw"],
            Some(json!("0x0102")),
            "transactions[0].raw",
        ),
        (vec!["committers"], Some(json!({})), "committers"),
        (vec!["round"], Some(json!("0x100")), "round"),
    ];
    for (path, new, want) in cases {
        let v = with(kairos_json(), &path, new.clone());
        match parse(&v, &forks) {
            Err(DecodeError::Json { path: got, reason }) => {
                assert_eq!(got, want, "{path:?} = {new:?}: {reason}")
            }
            other => panic!("{path:?} = {new:?}: {other:?}"),
        }
    }
    // A block document that is `null`, or a string.
    for doc in ["null", "\"0x00\""] {
        let e = parse_block_json(doc.as_bytes(), &forks).err();
        assert_eq!(e.as_ref().map(field_of), Some("json"), "{doc}: {e:?}");
    }
    // An Ethereum type Kaia does not take, and a fee-delegated type without its payer.
    let mut v = with(
        kairos_json(),
        &["transactions", "0", "typeInt"],
        Some(json!(null)),
    );
    v = with(v, &["transactions", "0", "type"], Some(json!("0x5")));
    let e = parse(&v, &forks).err();
    assert!(
        e.as_ref().is_some_and(|e| e
            .to_string()
            .starts_with("transactions[0].type: Ethereum type 0x5")),
        "{e:?}"
    );
    let key = SigningKey::from_seed(0x150, 3);
    let tx = sample_tx(TxType::FD_VALUE_TRANSFER, &key);
    let mut js = tx_to_json(&tx);
    if let Some(o) = js.as_object_mut() {
        o.remove("feePayer");
    }
    let e = parse_tx_value(&js).err();
    assert_eq!(e.as_ref().map(field_of), Some("feePayer"), "{e:?}");
    // Duplicate keys: the last one counts, as in Go's encoding/json that Kaia's nodes use.
    let (block, _) = kairos_block();
    let text = serde_json::to_string(&kairos_json()).unwrap();
    let dup = text.replacen('{', "{\"gasUsed\":\"0x1\",", 1);
    let got = parse_block_json(dup.as_bytes(), &forks).unwrap();
    assert_eq!(got.block, block);
}

#[test]
fn tolerated_variants() {
    let forks = kairos_forks();
    let (block, _) = kairos_block();
    // Klaytn's lowercase `blockscore`, decimal number and JSON-number gasUsed.
    let mut v = kairos_json();
    if let Some(o) = v.as_object_mut() {
        let score = o.remove("blockScore").unwrap_or_default();
        o.insert("blockscore".into(), score);
        o.insert("number".into(), json!(block.header.number.to_string()));
        o.insert("gasUsed".into(), json!(block.header.gas_used));
    }
    let got = parse(&v, &forks).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.block, block);
    // A missing voteData is an empty vote (this block has one, so only the vote differs).
    assert!(!block.header.vote.is_empty());
    if let Some(o) = v.as_object_mut() {
        o.remove("voteData");
    }
    let got = parse(&v, &forks).unwrap_or_else(|e| panic!("{e}"));
    let mut want = block.header.clone();
    want.vote = Bytes::new();
    assert_eq!(got.block.header, want);
}

// ---------------------------------------------------------------------------------------------
// Hostile JSON: every leaf of the real fixtures replaced by hostile values, and raw text cut or
// flipped anywhere. Parsing never panics; a block that parses survives block_to_json -> parse.

/// Every path from the root to a leaf (a string, number, bool or null) of `v`.
fn leaf_paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            prefix.push(k.clone());
            leaf_paths(x, prefix, out);
            prefix.pop();
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| {
            prefix.push(i.to_string());
            leaf_paths(x, prefix, out);
            prefix.pop();
        }),
        _ => out.push(prefix.clone()),
    }
}

fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(1e300),
        json!(u64::MAX),
        json!(""),
        json!("0x"),
        json!("0x-1"),
        json!(format!("0x{}", "f".repeat(65))),
        json!(format!("0x{}", "0".repeat(4096))),
        json!("0xzz"),
        json!([]),
        json!({}),
        json!([[[[null]]]]),
    ]
}

fn fixture_values() -> Vec<Value> {
    let mut out = vec![kairos_json()];
    for name in [
        "kairos-83863326-consensus.json",
        "kairos-83863326-hashes.json",
        "kairos-83863326-klay-full.json",
    ] {
        let v: Value = serde_json::from_slice(&fixture(name))
            .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        out.push(v);
    }
    out
}

fn set_path(v: &mut Value, path: &[String], new: Value) {
    let mut cur = v;
    for p in path {
        cur = match cur {
            Value::Object(m) => m.get_mut(p).unwrap_or_else(|| panic!("no key {p}")),
            Value::Array(a) => {
                let i: usize = p.parse().unwrap_or_else(|e| panic!("index {p}: {e}"));
                &mut a[i]
            }
            _ => panic!("{p} under a leaf"),
        };
    }
    *cur = new;
}

/// Parses `text`; when it parses, the block must come back the same through JSON.
fn check_json_text(text: &[u8], forks: &ForkSchedule) -> Result<(), String> {
    let Ok(parsed) = parse_block_json(text, forks) else {
        return Ok(());
    };
    if !parsed.has_transactions {
        return Ok(());
    }
    let again = parse(&block_to_json(&parsed.block), forks)
        .map_err(|e| format!("a parsed block does not parse back from its own JSON: {e}"))?;
    if again.block != parsed.block {
        return Err("a parsed block changes through block_to_json -> parse".into());
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

    /// Every form of a quantity (hex, hex padded with zeros, decimal, a JSON integer) reads as
    /// the same number, one more hex digit than 256 bits is refused, and arbitrary text never
    /// panics the reader.
    #[test]
    fn quantities_read_every_form(
        limbs in proptest::prelude::any::<[u64; 4]>(),
        junk in ".{0,80}",
    ) {
        let x = U256::from_limbs(limbs);
        for form in [format!("{x:#x}"), format!("0x{x:064x}"), format!("0X{x:X}"), x.to_string()] {
            let got = quantity::deserialize::<_, U256>(&json!(form)).ok();
            proptest::prop_assert_eq!(got, Some(x), "{}", form);
        }
        let too_long = format!("0x1{x:064x}");
        proptest::prop_assert!(quantity::deserialize::<_, U256>(&json!(too_long)).is_err());
        match u64::try_from(x) {
            Ok(n) => proptest::prop_assert_eq!(quantity::deserialize::<_, u64>(&json!(n)).ok(), Some(n)),
            Err(_) => proptest::prop_assert!(quantity::deserialize::<_, u64>(&json!(too_long.replacen("0x1", "0x", 1))).is_err()),
        }
        let _ = quantity::deserialize::<_, U256>(&json!(junk));
    }

    #[test]
    fn hostile_json_leaves_never_panic(
        which in proptest::prelude::any::<proptest::sample::Index>(),
        leaf in proptest::prelude::any::<proptest::sample::Index>(),
        value in proptest::prelude::any::<proptest::sample::Index>(),
    ) {
        let forks = kairos_forks();
        let fixtures = fixture_values();
        let mut v = fixtures[which.index(fixtures.len())].clone();
        let mut paths = Vec::new();
        leaf_paths(&v, &mut Vec::new(), &mut paths);
        let path = &paths[leaf.index(paths.len())];
        let hostile = hostile_values();
        set_path(&mut v, path, hostile[value.index(hostile.len())].clone());
        let text = serde_json::to_vec(&v).unwrap_or_default();
        check_json_text(&text, &forks).map_err(proptest::test_runner::TestCaseError::fail)?;
    }

    #[test]
    fn cut_or_flipped_json_never_panics(
        which in proptest::prelude::any::<proptest::sample::Index>(),
        pos in proptest::prelude::any::<proptest::sample::Index>(),
        byte in proptest::prelude::any::<u8>(),
        cut in proptest::prelude::any::<bool>(),
    ) {
        let forks = kairos_forks();
        let fixtures = fixture_values();
        let mut text = serde_json::to_vec(&fixtures[which.index(fixtures.len())]).unwrap_or_default();
        let i = pos.index(text.len());
        if cut { text.truncate(i) } else { text[i] = byte }
        check_json_text(&text, &forks).map_err(proptest::test_runner::TestCaseError::fail)?;
    }
}
