//! Kaia JSON-RPC blocks (`kaia_getBlockByNumber`, `klay_getBlockByNumber`,
//! `kaia_getBlockWithConsensusInfoByNumber`) <-> typed blocks.
//!
//! Invariant: nothing the JSON *claims* about itself (block `hash`, tx `hash`, `senderTxHash`, the
//! sender of a legacy or Ethereum-typed tx) is used to build what gets hashed. Headers are rebuilt
//! field by field, with the fork schedule deciding which tail fields belong to the header, and each
//! transaction is re-encoded from its signed fields (or decoded from its `raw` form when the object
//! carries one). The claims are returned beside the block, for a verifier to compare with what it
//! computes itself.
//!
//! Key names and value formats follow kaiachain/kaia: `api/api_kaia_blockchain.go`
//! (`RPCMarshalHeader`, `newRPCTransaction`), each `blockchain/types/tx_internal_data_*.go`
//! `MakeRPCOutput` (e.g. `tx_internal_data_fee_delegated_smart_contract_deploy_with_ratio.go`:
//! `feeRatio` and `codeFormat` as `hexutil.Uint`, `humanReadable` a JSON bool, `typeInt` a JSON
//! number; `tx_internal_data_fee_delegated_account_update.go`: `key` as `hexutil.Bytes` of the
//! serialized AccountKey; `tx_internal_data_ethereum_set_code.go`: Ethereum-typed txs print their
//! signature as `signatures: [{V,R,S}]`), and `gen_authorization.go` (`chainId`, `address`,
//! `nonce`, `yParity`, `r`, `s`).

use super::DecodeError;
use super::block::{MAX_BLOCK_BYTES, encode_block};
use super::hexfmt::to_hex;
use super::rlp::{ListReader, wrap_list};
use super::tx::{
    decode_tx, encode_tx, seal_raw, sender_tx_hash_preimage, sig_preimage, tx_hash_preimage,
};
use crate::consensus::chain::ForkSchedule;
use crate::consensus::istanbul::block_hash;
use crate::crypto::keccak256;
use crate::crypto::secp::{Signature65, recover_address};
use crate::primitives::{
    Block, EthFields, Header, KaiaField, KaiaFields, LegacyFields, Transaction, TxBody, TxSig,
    TxType,
};
use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use alloy_rlp::Encodable;
use serde_json::{Map, Value, json};

/// JSON texts larger than this are rejected before parsing: the largest block (`MAX_BLOCK_BYTES`)
/// doubles in hex, and the per-field keys and claims stay well under another 2x.
pub const MAX_JSON_BYTES: usize = 4 * MAX_BLOCK_BYTES;

/// A block as a JSON-RPC node printed it, rebuilt into typed form, with what the JSON claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonBlock {
    /// The header, and the transactions when the JSON had full transaction objects.
    pub block: Block,
    /// False when the JSON listed only transaction hashes (or no `transactions` key at all):
    /// `block.transactions` is then empty and `claims.tx_hashes` holds the listed hashes. An empty
    /// `transactions` array counts as full (an empty block looks the same either way).
    pub has_transactions: bool,
    pub claims: JsonClaims,
}

/// What the JSON says about values a verifier computes itself. One entry per listed transaction
/// in each per-transaction vector; `None` where the JSON did not print the value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonClaims {
    /// The block's `hash`.
    pub hash: Option<B256>,
    /// Each transaction's `hash` (or the listed hash, for a hashes-only block).
    pub tx_hashes: Vec<Option<B256>>,
    /// Each transaction's `from` (for Kaia types also a signed field; for legacy and
    /// Ethereum-typed ones only a claim).
    pub senders: Vec<Option<Address>>,
    /// Each transaction's `senderTxHash`.
    pub sender_tx_hashes: Vec<Option<B256>>,
    /// Each transaction's `feePayer` (a signed field for fee-delegated types).
    pub fee_payers: Vec<Option<Address>>,
    /// ConsensusInfo: the committee of the block's round.
    pub committee: Option<Vec<Address>>,
    /// ConsensusInfo: the signers of the committed seals.
    pub committers: Option<Vec<Address>>,
    /// ConsensusInfo: the proposer.
    pub proposer: Option<Address>,
    /// ConsensusInfo: the proposer of round 0, when the block was proposed in a later round.
    pub origin_proposer: Option<Address>,
    /// ConsensusInfo: the sigHash.
    pub sig_hash: Option<B256>,
    /// ConsensusInfo: the consensus round.
    pub round: Option<u64>,
}

/// One transaction object, rebuilt, with its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonTx {
    pub tx: Transaction,
    pub hash: Option<B256>,
    pub sender: Option<Address>,
    pub sender_tx_hash: Option<B256>,
    pub fee_payer: Option<Address>,
}

// ---------------------------------------------------------------------------------------------
// Scalar parsing

type Obj = Map<String, Value>;

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn bad(field: &'static str, reason: impl Into<String>) -> DecodeError {
    DecodeError::invalid(field, reason)
}

fn missing(field: &'static str) -> DecodeError {
    bad(field, "required key is missing")
}

/// The value of `key`, treating JSON `null` as absent.
fn get<'a>(o: &'a Obj, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn req<'a>(o: &'a Obj, key: &'static str) -> Result<&'a Value, DecodeError> {
    get(o, key).ok_or_else(|| missing(key))
}

/// The first present key among `keys`; errors name the first key.
fn req_any<'a>(
    o: &'a Obj,
    keys: &[&'static str],
) -> Result<(&'static str, &'a Value), DecodeError> {
    for k in keys {
        if let Some(v) = get(o, k) {
            return Ok((k, v));
        }
    }
    let name = keys.first().copied().unwrap_or("field");
    Err(bad(
        name,
        format!(
            "required key is missing (also looked for {})",
            keys.join(", ")
        ),
    ))
}

fn str_of<'a>(v: &'a Value, field: &'static str) -> Result<&'a str, DecodeError> {
    v.as_str().ok_or_else(|| {
        bad(
            field,
            format!("expected a hex string, found {}", type_name(v)),
        )
    })
}

/// Hex digits after a mandatory `0x`.
fn hex_digits<'a>(s: &'a str, field: &'static str) -> Result<&'a str, DecodeError> {
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(|| bad(field, format!("hex string {s:?} lacks the 0x prefix")))
}

fn bytes_of(v: &Value, field: &'static str) -> Result<Vec<u8>, DecodeError> {
    let s = str_of(v, field)?;
    let d = hex_digits(s, field)?;
    if d.len() % 2 != 0 {
        return Err(bad(
            field,
            format!("odd number of hex digits ({})", d.len()),
        ));
    }
    hex::decode(d).map_err(|e| bad(field, format!("invalid hex: {e}")))
}

fn fixed_of<const N: usize>(v: &Value, field: &'static str) -> Result<[u8; N], DecodeError> {
    let b = bytes_of(v, field)?;
    let got = b.len();
    b.try_into().map_err(|_| DecodeError::Length {
        field,
        expected: N,
        got,
    })
}

fn address_of(v: &Value, field: &'static str) -> Result<Address, DecodeError> {
    fixed_of::<20>(v, field).map(Address::from)
}

fn b256_of(v: &Value, field: &'static str) -> Result<B256, DecodeError> {
    fixed_of::<32>(v, field).map(B256::from)
}

/// A quantity: a `0x` hex string (Kaia's `hexutil`), a decimal string, or a JSON integer.
fn u256_of(v: &Value, field: &'static str) -> Result<U256, DecodeError> {
    match v {
        Value::Number(n) => n.as_u64().map(U256::from).ok_or_else(|| {
            bad(
                field,
                format!("number {n} is not a non-negative integer that fits 64 bits"),
            )
        }),
        Value::String(s) => {
            let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(h) => (h, 16),
                None => (s.as_str(), 10),
            };
            if digits.is_empty() {
                return Err(bad(field, format!("empty quantity {s:?}")));
            }
            let max = if radix == 16 { 64 } else { 78 };
            if digits.len() > max {
                return Err(bad(field, format!("quantity {s:?} exceeds 256 bits")));
            }
            if !digits.chars().all(|c| c.is_digit(radix)) {
                return Err(bad(
                    field,
                    format!("{s:?} is not a hex or decimal quantity"),
                ));
            }
            U256::from_str_radix(digits, radix as u64)
                .map_err(|_| bad(field, format!("quantity {s:?} exceeds 256 bits")))
        }
        other => Err(bad(
            field,
            format!("expected a quantity, found {}", type_name(other)),
        )),
    }
}

fn u64_of(v: &Value, field: &'static str) -> Result<u64, DecodeError> {
    let x = u256_of(v, field)?;
    u64::try_from(x).map_err(|_| bad(field, format!("{x:#x} exceeds 64 bits")))
}

fn u8_of(v: &Value, field: &'static str) -> Result<u8, DecodeError> {
    let x = u64_of(v, field)?;
    u8::try_from(x).map_err(|_| bad(field, format!("{x:#x} exceeds 8 bits")))
}

fn bool_of(v: &Value, field: &'static str) -> Result<bool, DecodeError> {
    v.as_bool()
        .ok_or_else(|| bad(field, format!("expected a bool, found {}", type_name(v))))
}

fn array_of<'a>(v: &'a Value, field: &'static str) -> Result<&'a Vec<Value>, DecodeError> {
    v.as_array()
        .ok_or_else(|| bad(field, format!("expected an array, found {}", type_name(v))))
}

fn object_of<'a>(v: &'a Value, field: &'static str) -> Result<&'a Obj, DecodeError> {
    v.as_object()
        .ok_or_else(|| bad(field, format!("expected an object, found {}", type_name(v))))
}

fn opt<T>(
    o: &Obj,
    key: &'static str,
    f: impl Fn(&Value, &'static str) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    get(o, key).map(|v| f(v, key)).transpose()
}

/// Prefixes an error's reason with where it happened, keeping its field name.
fn within(e: DecodeError, place: &str) -> DecodeError {
    match e {
        DecodeError::Invalid { field, reason } => DecodeError::Invalid {
            field,
            reason: format!("{place}: {reason}"),
        },
        DecodeError::Length {
            field,
            expected,
            got,
        } => DecodeError::Invalid {
            field,
            reason: format!("{place}: expected {expected} bytes, got {got}"),
        },
        other => DecodeError::Invalid {
            field: "transactions",
            reason: format!("{place}: {other}"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Blocks

/// Parses a block printed by a Kaia node: a bare block object or a JSON-RPC envelope around one.
///
/// `forks` decides which optional tail fields belong to the header at its height: a tail key the
/// schedule does not expect (e.g. `baseFeePerGas` printed by old nodes on pre-Magma blocks) is
/// ignored, a tail key it expects must be present.
pub fn parse_block_json(text: &[u8], forks: &ForkSchedule) -> Result<JsonBlock, DecodeError> {
    if text.len() > MAX_JSON_BYTES {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            max: MAX_JSON_BYTES,
        });
    }
    let root: Value =
        serde_json::from_slice(text).map_err(|e| bad("json", format!("not valid JSON: {e}")))?;
    parse_block_value(&root, forks)
}

/// Like [`parse_block_json`], from an already parsed JSON value.
pub fn parse_block_value(root: &Value, forks: &ForkSchedule) -> Result<JsonBlock, DecodeError> {
    let top = object_of(root, "json")?;
    let is_envelope =
        top.contains_key("jsonrpc") || top.contains_key("result") || top.contains_key("error");
    let obj = if is_envelope {
        if let Some(err) = get(top, "error") {
            return Err(rpc_error(err));
        }
        match get(top, "result") {
            Some(r) => object_of(r, "result")?,
            None => {
                return Err(bad(
                    "result",
                    "the RPC response has no result (block not found)",
                ));
            }
        }
    } else {
        top
    };
    parse_block_object(obj, forks)
}

fn rpc_error(err: &Value) -> DecodeError {
    let reason = match err.as_object() {
        Some(o) => {
            let code = o
                .get("code")
                .map(|c| c.to_string())
                .unwrap_or_else(|| "?".into());
            let msg = o
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            format!("the node answered with RPC error {code}: {msg}")
        }
        None => format!("the node answered with RPC error {err}"),
    };
    bad("error", reason)
}

fn parse_header(o: &Obj, forks: &ForkSchedule) -> Result<Header, DecodeError> {
    let number = u64_of(req(o, "number")?, "number")?;
    let (score_key, score) = req_any(o, &["blockScore", "blockscore"])?;
    let mut h = Header {
        parent_hash: b256_of(req(o, "parentHash")?, "parentHash")?,
        rewardbase: address_of(req(o, "reward")?, "reward")?,
        state_root: b256_of(req(o, "stateRoot")?, "stateRoot")?,
        tx_root: b256_of(req(o, "transactionsRoot")?, "transactionsRoot")?,
        receipts_root: b256_of(req(o, "receiptsRoot")?, "receiptsRoot")?,
        bloom: Bloom::from(fixed_of::<256>(req(o, "logsBloom")?, "logsBloom")?),
        block_score: u256_of(score, score_key)?,
        number,
        gas_used: u64_of(req(o, "gasUsed")?, "gasUsed")?,
        time: u64_of(req(o, "timestamp")?, "timestamp")?,
        time_fos: u8_of(req(o, "timestampFoS")?, "timestampFoS")?,
        extra: Bytes::from(bytes_of(req(o, "extraData")?, "extraData")?),
        governance: Bytes::from(bytes_of(req(o, "governanceData")?, "governanceData")?),
        vote: Bytes::from(opt(o, "voteData", bytes_of)?.unwrap_or_default()),
        ..Default::default()
    };
    let n = forks.header_fields(number);
    if n >= 15 {
        h.base_fee = Some(u256_of(req(o, "baseFeePerGas")?, "baseFeePerGas")?);
    }
    if n >= 17 {
        h.random_reveal = Some(Bytes::from(bytes_of(
            req(o, "randomReveal")?,
            "randomReveal",
        )?));
        h.mix_hash = Some(Bytes::from(bytes_of(req(o, "mixHash")?, "mixHash")?));
    }
    if n >= 19 {
        h.blob_gas_used = Some(u64_of(req(o, "blobGasUsed")?, "blobGasUsed")?);
        h.excess_blob_gas = Some(u64_of(req(o, "excessBlobGas")?, "excessBlobGas")?);
    }
    Ok(h)
}

fn address_list(v: &Value, field: &'static str) -> Result<Vec<Address>, DecodeError> {
    array_of(v, field)?
        .iter()
        .map(|a| address_of(a, field))
        .collect()
}

fn parse_block_object(o: &Obj, forks: &ForkSchedule) -> Result<JsonBlock, DecodeError> {
    let header = parse_header(o, forks)?;
    let mut claims = JsonClaims {
        hash: opt(o, "hash", b256_of)?,
        committee: opt(o, "committee", address_list)?,
        committers: opt(o, "committers", address_list)?,
        proposer: opt(o, "proposer", address_of)?,
        origin_proposer: opt(o, "originProposer", address_of)?,
        sig_hash: opt(o, "sigHash", b256_of)?,
        round: opt(o, "round", u64_of)?,
        ..Default::default()
    };
    let mut transactions = Vec::new();
    let mut has_transactions = false;
    if let Some(v) = get(o, "transactions") {
        let list = array_of(v, "transactions")?;
        let all_hashes = !list.is_empty() && list.iter().all(Value::is_string);
        has_transactions = !all_hashes;
        for (i, item) in list.iter().enumerate() {
            let place = format!("transaction {i}");
            if all_hashes {
                let h = b256_of(item, "transactions").map_err(|e| within(e, &place))?;
                claims.tx_hashes.push(Some(h));
                claims.senders.push(None);
                claims.sender_tx_hashes.push(None);
                claims.fee_payers.push(None);
                continue;
            }
            let jt = parse_tx_value(item).map_err(|e| within(e, &place))?;
            claims.tx_hashes.push(jt.hash);
            claims.senders.push(jt.sender);
            claims.sender_tx_hashes.push(jt.sender_tx_hash);
            claims.fee_payers.push(jt.fee_payer);
            transactions.push(jt.tx);
        }
    }
    Ok(JsonBlock {
        block: Block {
            header,
            transactions,
        },
        has_transactions,
        claims,
    })
}

// ---------------------------------------------------------------------------------------------
// Transactions

/// The Go name Kaia prints in `type` (`TxType.String()`).
pub fn kaia_type_name(t: TxType) -> String {
    match t.0 {
        0 => "TxTypeLegacyTransaction".to_string(),
        _ => format!("TxType{}", t.name()),
    }
}

fn type_from_name(s: &str) -> Option<TxType> {
    if s == "TxTypeLegacyTransaction" {
        return Some(TxType::LEGACY);
    }
    let name = s.strip_prefix("TxType")?;
    TxType::ALL
        .iter()
        .copied()
        .find(|t| t.0 != 0 && t.name() == name)
}

/// The transaction type: `typeInt` (a number, as Kaia prints it), else `type` (a Go name such as
/// `TxTypeValueTransfer`, or an Ethereum-style hex type `0x2`).
fn tx_type_of(o: &Obj) -> Result<TxType, DecodeError> {
    if let Some(v) = get(o, "typeInt") {
        let n = u64_of(v, "typeInt")?;
        return u16::try_from(n)
            .map(TxType)
            .map_err(|_| bad("typeInt", format!("{n} is not a transaction type")));
    }
    let v = req(o, "type").map_err(|_| bad("typeInt", "neither typeInt nor type is present"))?;
    let s = str_of(v, "type")?;
    if let Some(t) = type_from_name(s) {
        return Ok(t);
    }
    if s.starts_with("0x") {
        // Ethereum namespace: 0 legacy, 1..4 the enveloped types.
        return match u64_of(v, "type")? {
            0 => Ok(TxType::LEGACY),
            n @ 1..=4 => Ok(TxType(0x7800 | n as u16)),
            n => Err(bad(
                "type",
                format!("Ethereum type {n:#x} is not accepted by Kaia"),
            )),
        };
    }
    Err(bad("type", format!("unknown transaction type name {s:?}")))
}

fn sig_of(v: &Value, field: &'static str) -> Result<TxSig, DecodeError> {
    let o = object_of(v, field)?;
    let (vk, vv) = req_any(o, &["V", "v"])?;
    let (rk, rv) = req_any(o, &["R", "r"])?;
    let (sk, sv) = req_any(o, &["S", "s"])?;
    Ok(TxSig {
        v: u256_of(vv, vk)?,
        r: u256_of(rv, rk)?,
        s: u256_of(sv, sk)?,
    })
}

fn sig_list(o: &Obj, key: &'static str) -> Result<Vec<TxSig>, DecodeError> {
    array_of(req(o, key)?, key)?
        .iter()
        .map(|s| sig_of(s, key))
        .collect()
}

/// The single signature of a legacy or Ethereum-typed tx: `signatures[0]` (Kaia) or top-level
/// `v`/`r`/`s` (Ethereum style; `yParity` when `v` is absent).
fn single_sig(o: &Obj) -> Result<TxSig, DecodeError> {
    if let Some(v) = get(o, "signatures") {
        let list = array_of(v, "signatures")?;
        return match list.as_slice() {
            [one] => sig_of(one, "signatures"),
            _ => Err(bad(
                "signatures",
                format!("expected exactly 1 signature, got {}", list.len()),
            )),
        };
    }
    let (vk, vv) = req_any(o, &["v", "yParity"])?;
    Ok(TxSig {
        v: u256_of(vv, vk)?,
        r: u256_of(req(o, "r")?, "r")?,
        s: u256_of(req(o, "s")?, "s")?,
    })
}

fn input_of(o: &Obj) -> Result<Bytes, DecodeError> {
    let (k, v) = req_any(o, &["input", "data"])?;
    bytes_of(v, k).map(Bytes::from)
}

/// `codeFormat`: `hexutil.Uint` ("0x0") in Kaia's output; the name "EVM" is accepted too.
fn code_format_of(v: &Value, field: &'static str) -> Result<u8, DecodeError> {
    match v.as_str() {
        Some("EVM") | Some("CodeFormatEVM") => Ok(0),
        _ => u8_of(v, field),
    }
}

fn kaia_fields(layout: &[KaiaField], o: &Obj) -> Result<KaiaFields, DecodeError> {
    let mut k = KaiaFields::default();
    for f in layout {
        match f {
            KaiaField::Nonce => k.nonce = u64_of(req(o, "nonce")?, "nonce")?,
            KaiaField::GasPrice => k.gas_price = u256_of(req(o, "gasPrice")?, "gasPrice")?,
            KaiaField::Gas => k.gas = u64_of(req(o, "gas")?, "gas")?,
            KaiaField::To => k.to = Some(address_of(req(o, "to")?, "to")?),
            KaiaField::ToOpt => k.to = opt(o, "to", address_of)?,
            KaiaField::Value => k.value = u256_of(req(o, "value")?, "value")?,
            KaiaField::From => k.from = address_of(req(o, "from")?, "from")?,
            KaiaField::Input => {
                let (key, v) = req_any(o, &["input", "data", "anchoredData"])?;
                k.input = Bytes::from(bytes_of(v, key)?);
            }
            KaiaField::HumanReadable => {
                k.human_readable = bool_of(req(o, "humanReadable")?, "humanReadable")?
            }
            KaiaField::CodeFormat => {
                k.code_format = code_format_of(req(o, "codeFormat")?, "codeFormat")?
            }
            KaiaField::FeeRatio => k.fee_ratio = u8_of(req(o, "feeRatio")?, "feeRatio")?,
            KaiaField::Key => k.key = Bytes::from(bytes_of(req(o, "key")?, "key")?),
        }
    }
    Ok(k)
}

/// RLP of `[[address, [storageKey...]]...]` from `accessList`.
fn access_list_rlp(v: Option<&Value>) -> Result<Vec<u8>, DecodeError> {
    let mut p = Vec::new();
    if let Some(v) = v {
        for e in array_of(v, "accessList")? {
            let e = object_of(e, "accessList")?;
            let mut entry = Vec::new();
            address_of(req(e, "address")?, "accessList.address")?.encode(&mut entry);
            let mut keys = Vec::new();
            if let Some(ks) = get(e, "storageKeys") {
                for k in array_of(ks, "accessList.storageKeys")? {
                    b256_of(k, "accessList.storageKeys")?.encode(&mut keys);
                }
            }
            entry.extend_from_slice(&wrap_list(&keys));
            p.extend_from_slice(&wrap_list(&entry));
        }
    }
    Ok(wrap_list(&p))
}

/// RLP of `[[chainId, address, nonce, yParity, r, s]...]` from `authorizationList`.
fn authorizations_rlp(v: Option<&Value>) -> Result<Vec<u8>, DecodeError> {
    let mut p = Vec::new();
    if let Some(v) = v {
        for a in array_of(v, "authorizationList")? {
            let a = object_of(a, "authorizationList")?;
            let mut t = Vec::new();
            u256_of(req(a, "chainId")?, "authorizationList.chainId")?.encode(&mut t);
            address_of(req(a, "address")?, "authorizationList.address")?.encode(&mut t);
            u64_of(req(a, "nonce")?, "authorizationList.nonce")?.encode(&mut t);
            let (yk, yv) = req_any(a, &["yParity", "v"])?;
            u8_of(yv, yk)?.encode(&mut t);
            u256_of(req(a, "r")?, "authorizationList.r")?.encode(&mut t);
            u256_of(req(a, "s")?, "authorizationList.s")?.encode(&mut t);
            p.extend_from_slice(&wrap_list(&t));
        }
    }
    Ok(wrap_list(&p))
}

fn eth_fields(ty: TxType, o: &Obj) -> Result<EthFields, DecodeError> {
    let mut e = EthFields {
        chain_id: u256_of(req(o, "chainId")?, "chainId")?,
        nonce: u64_of(req(o, "nonce")?, "nonce")?,
        ..Default::default()
    };
    if ty == TxType::ETH_ACCESS_LIST {
        e.gas_tip_cap = u256_of(req(o, "gasPrice")?, "gasPrice")?;
    } else {
        e.gas_tip_cap = u256_of(req(o, "maxPriorityFeePerGas")?, "maxPriorityFeePerGas")?;
        e.gas_fee_cap = u256_of(req(o, "maxFeePerGas")?, "maxFeePerGas")?;
    }
    e.gas = u64_of(req(o, "gas")?, "gas")?;
    e.to = if ty.0 <= 0x7802 {
        opt(o, "to", address_of)?
    } else {
        Some(address_of(req(o, "to")?, "to")?)
    };
    e.value = u256_of(req(o, "value")?, "value")?;
    e.data = input_of(o)?;
    // Kept as the RLP item, exactly as `decode_tx` keeps it (an empty list is `0xc0`).
    e.access_list = Bytes::from(access_list_rlp(get(o, "accessList"))?);
    if ty == TxType::ETH_BLOB {
        e.blob_fee_cap = u256_of(req(o, "maxFeePerBlobGas")?, "maxFeePerBlobGas")?;
        for h in array_of(req(o, "blobVersionedHashes")?, "blobVersionedHashes")? {
            e.blob_hashes.push(b256_of(h, "blobVersionedHashes")?);
        }
    }
    if ty == TxType::ETH_SET_CODE {
        e.authorizations = Bytes::from(authorizations_rlp(get(o, "authorizationList"))?);
    }
    Ok(e)
}

/// Rebuilds one transaction object (as in a full block or `kaia_getTransactionByHash`).
///
/// A `raw` (or `rawTransaction`) hex field, when present, is decoded instead of the fields.
pub fn parse_tx_value(v: &Value) -> Result<JsonTx, DecodeError> {
    let o = object_of(v, "transactions")?;
    let hash = opt(o, "hash", b256_of)?;
    let sender = opt(o, "from", address_of)?;
    let sender_tx_hash = opt(o, "senderTxHash", b256_of)?;
    let fee_payer = opt(o, "feePayer", address_of)?;
    let raw = match get(o, "raw") {
        Some(r) => Some(bytes_of(r, "raw")?),
        None => opt(o, "rawTransaction", bytes_of)?,
    };
    if let Some(raw) = raw {
        let tx = decode_tx(&raw).map_err(|e| bad("raw", e.to_string()))?;
        return Ok(JsonTx {
            tx,
            hash,
            sender,
            sender_tx_hash,
            fee_payer,
        });
    }
    let ty = tx_type_of(o)?;
    let tx = if ty == TxType::LEGACY {
        let body = LegacyFields {
            nonce: u64_of(req(o, "nonce")?, "nonce")?,
            gas_price: u256_of(req(o, "gasPrice")?, "gasPrice")?,
            gas: u64_of(req(o, "gas")?, "gas")?,
            to: opt(o, "to", address_of)?,
            value: u256_of(req(o, "value")?, "value")?,
            input: input_of(o)?,
        };
        Transaction {
            tx_type: ty,
            body: TxBody::Legacy(body),
            signatures: vec![single_sig(o)?],
            fee_payer: None,
            fee_payer_signatures: Vec::new(),
            raw: Bytes::new(),
        }
    } else if ty.is_eth() {
        Transaction {
            tx_type: ty,
            body: TxBody::Eth(Box::new(eth_fields(ty, o)?)),
            signatures: vec![single_sig(o)?],
            fee_payer: None,
            fee_payer_signatures: Vec::new(),
            raw: Bytes::new(),
        }
    } else if ty == TxType::ACCOUNT_CREATION {
        return Err(DecodeError::DisabledTxType(ty.0));
    } else if let Some(layout) = ty.kaia_layout() {
        let body = kaia_fields(layout, o)?;
        let signatures = sig_list(o, "signatures")?;
        if signatures.is_empty() {
            return Err(bad(
                "signatures",
                "a Kaia transaction needs at least one signature",
            ));
        }
        let (fp, fp_sigs) = if ty.is_fee_delegated() {
            (
                Some(address_of(req(o, "feePayer")?, "feePayer")?),
                sig_list(o, "feePayerSignatures")?,
            )
        } else {
            (None, Vec::new())
        };
        Transaction {
            tx_type: ty,
            body: TxBody::Kaia(body),
            signatures,
            fee_payer: fp,
            fee_payer_signatures: fp_sigs,
            raw: Bytes::new(),
        }
    } else {
        return Err(bad(
            "typeInt",
            format!("unknown or unsupported transaction type {:#x}", ty.0),
        ));
    };
    let tx = seal_raw(tx);
    // The rebuilt bytes must decode under the strict codec (e.g. a Kaia tx the decoder would
    // refuse must not slip in through JSON).
    decode_tx(&tx.raw).map_err(|e| bad("transactions", format!("rebuilt raw form: {e}")))?;
    Ok(JsonTx {
        tx,
        hash,
        sender,
        sender_tx_hash,
        fee_payer,
    })
}

// ---------------------------------------------------------------------------------------------
// Output

/// A quantity as `hexutil` prints it: `0x`-prefixed lowercase hex without leading zeros.
fn q(x: impl std::fmt::LowerHex) -> Value {
    Value::String(format!("{x:#x}"))
}

fn sig_json(s: &TxSig) -> Value {
    json!({ "V": q(s.v), "R": q(s.r), "S": q(s.s) })
}

fn sigs_json(sigs: &[TxSig]) -> Value {
    Value::Array(sigs.iter().map(sig_json).collect())
}

/// The recovered sender of a legacy or Ethereum-typed tx (chain id from v or the chainId
/// field), or `None` when the signature does not recover.
fn recovered_sender(tx: &Transaction) -> Option<Address> {
    let sig = tx.signatures.first()?;
    let (chain_id, recid) = match &tx.body {
        TxBody::Kaia(k) => return Some(k.from),
        TxBody::Eth(e) => (u64::try_from(e.chain_id).ok()?, u8::try_from(sig.v).ok()?),
        TxBody::Legacy(_) => {
            let v = u64::try_from(sig.v).ok()?;
            match v {
                27 | 28 => (0, (v - 27) as u8),
                35.. => ((v - 35) / 2, ((v - 35) % 2) as u8),
                _ => return None,
            }
        }
    };
    if recid > 1 {
        return None;
    }
    let hash = keccak256(&sig_preimage(tx, chain_id));
    recover_address(&hash, &Signature65::from_parts(sig.r, sig.s, recid)).ok()
}

fn decode_access_list(raw: &[u8]) -> Value {
    let mut out = Vec::new();
    let Ok(mut l) = ListReader::from_bytes(raw, "accessList") else {
        return Value::Array(out);
    };
    while !l.is_empty() {
        let Ok(mut e) = l.list("accessList.entry") else {
            break;
        };
        let Ok(a) = e.address("accessList.address") else {
            break;
        };
        let mut keys = Vec::new();
        if let Ok(mut ks) = e.list("accessList.storageKeys") {
            while let Ok(k) = ks.b256("accessList.storageKey") {
                keys.push(Value::String(to_hex(k)));
            }
        }
        out.push(json!({ "address": to_hex(a), "storageKeys": keys }));
    }
    Value::Array(out)
}

fn decode_authorizations(raw: &[u8]) -> Value {
    let mut out = Vec::new();
    let Ok(mut l) = ListReader::from_bytes(raw, "authorizationList") else {
        return Value::Array(out);
    };
    while !l.is_empty() {
        let Ok(mut a) = l.list("authorization") else {
            break;
        };
        let parts = (|| {
            Ok::<_, DecodeError>(json!({
                "chainId": q(a.u256("chainId")?),
                "address": to_hex(a.address("address")?),
                "nonce": q(a.u64("nonce")?),
                "yParity": q(a.u8("yParity")?),
                "r": q(a.u256("r")?),
                "s": q(a.u256("s")?),
            }))
        })();
        match parts {
            Ok(v) => out.push(v),
            Err(_) => break,
        }
    }
    Value::Array(out)
}

fn opt_addr_json(a: &Option<Address>) -> Value {
    a.map(|a| Value::String(to_hex(a))).unwrap_or(Value::Null)
}

/// One transaction in the shape of Kaia's `newRPCTransaction` (without the block context), with
/// `hash`, `senderTxHash` and `from` computed from the transaction itself.
pub fn tx_to_json(tx: &Transaction) -> Value {
    let raw_owned;
    let tx_ref = if tx.raw.is_empty() {
        raw_owned = seal_raw(tx.clone());
        &raw_owned
    } else {
        tx
    };
    let hash = keccak256(tx_hash_preimage(tx_ref));
    let sender_tx_hash = sender_tx_hash_preimage(tx_ref)
        .map(|p| keccak256(&p))
        .unwrap_or(hash);
    let mut m = Map::new();
    m.insert("typeInt".into(), Value::from(tx.tx_type.0));
    m.insert("type".into(), Value::String(kaia_type_name(tx.tx_type)));
    m.insert("hash".into(), Value::String(to_hex(hash)));
    m.insert("senderTxHash".into(), Value::String(to_hex(sender_tx_hash)));
    m.insert("from".into(), opt_addr_json(&recovered_sender(tx_ref)));
    m.insert("nonce".into(), q(tx.nonce()));
    m.insert("gas".into(), q(tx.gas()));
    m.insert("value".into(), q(tx.value()));
    m.insert("input".into(), Value::String(to_hex(tx.input())));
    m.insert("signatures".into(), sigs_json(&tx.signatures));
    match &tx.body {
        TxBody::Legacy(l) => {
            m.insert("gasPrice".into(), q(l.gas_price));
            m.insert("to".into(), opt_addr_json(&l.to));
        }
        TxBody::Kaia(k) => {
            m.insert("gasPrice".into(), q(k.gas_price));
            let layout = tx.tx_type.kaia_layout().unwrap_or(&[]);
            let has = |f: KaiaField| layout.contains(&f);
            if has(KaiaField::To) || has(KaiaField::ToOpt) {
                m.insert("to".into(), opt_addr_json(&k.to));
            }
            if !has(KaiaField::Input) {
                m.remove("input");
            }
            if has(KaiaField::HumanReadable) {
                m.insert("humanReadable".into(), Value::Bool(k.human_readable));
            }
            if has(KaiaField::CodeFormat) {
                m.insert("codeFormat".into(), q(k.code_format));
            }
            if has(KaiaField::FeeRatio) {
                m.insert("feeRatio".into(), q(k.fee_ratio));
            }
            if has(KaiaField::Key) {
                m.insert("key".into(), Value::String(to_hex(&k.key)));
            }
            if !has(KaiaField::Value) {
                m.remove("value");
            }
            if tx.tx_type.is_fee_delegated() {
                m.insert("feePayer".into(), opt_addr_json(&tx.fee_payer));
                m.insert(
                    "feePayerSignatures".into(),
                    sigs_json(&tx.fee_payer_signatures),
                );
            }
        }
        TxBody::Eth(e) => {
            m.insert("chainId".into(), q(e.chain_id));
            if tx.tx_type == TxType::ETH_ACCESS_LIST {
                m.insert("gasPrice".into(), q(e.gas_tip_cap));
            } else {
                m.insert("maxPriorityFeePerGas".into(), q(e.gas_tip_cap));
                m.insert("maxFeePerGas".into(), q(e.gas_fee_cap));
            }
            m.insert("to".into(), opt_addr_json(&e.to));
            let al: &[u8] = if e.access_list.is_empty() {
                &[0xc0]
            } else {
                &e.access_list
            };
            m.insert("accessList".into(), decode_access_list(al));
            if tx.tx_type == TxType::ETH_BLOB {
                m.insert("maxFeePerBlobGas".into(), q(e.blob_fee_cap));
                let hs = e
                    .blob_hashes
                    .iter()
                    .map(|h| Value::String(to_hex(h)))
                    .collect();
                m.insert("blobVersionedHashes".into(), Value::Array(hs));
            }
            if tx.tx_type == TxType::ETH_SET_CODE {
                let au: &[u8] = if e.authorizations.is_empty() {
                    &[0xc0]
                } else {
                    &e.authorizations
                };
                m.insert("authorizationList".into(), decode_authorizations(au));
            }
        }
    }
    Value::Object(m)
}

/// A block in the shape Kaia's `kaia_getBlockByNumber(number, true)` prints, with `hash`, tx
/// hashes and senders computed here. The header key is `blockScore` (Kaia); the tail keys appear
/// exactly when the header carries the field.
pub fn block_to_json(block: &Block) -> Value {
    let h = &block.header;
    let bh = block_hash(h);
    let mut m = Map::new();
    m.insert("hash".into(), Value::String(to_hex(bh)));
    m.insert("number".into(), q(h.number));
    m.insert("parentHash".into(), Value::String(to_hex(h.parent_hash)));
    m.insert("reward".into(), Value::String(to_hex(h.rewardbase)));
    m.insert("stateRoot".into(), Value::String(to_hex(h.state_root)));
    m.insert("transactionsRoot".into(), Value::String(to_hex(h.tx_root)));
    m.insert(
        "receiptsRoot".into(),
        Value::String(to_hex(h.receipts_root)),
    );
    m.insert("logsBloom".into(), Value::String(to_hex(h.bloom)));
    m.insert("blockScore".into(), q(h.block_score));
    m.insert("gasUsed".into(), q(h.gas_used));
    m.insert("timestamp".into(), q(h.time));
    m.insert("timestampFoS".into(), q(h.time_fos));
    m.insert("extraData".into(), Value::String(to_hex(&h.extra)));
    m.insert(
        "governanceData".into(),
        Value::String(to_hex(&h.governance)),
    );
    m.insert("voteData".into(), Value::String(to_hex(&h.vote)));
    if let Some(b) = h.base_fee {
        m.insert("baseFeePerGas".into(), q(b));
    }
    if let Some(r) = &h.random_reveal {
        m.insert("randomReveal".into(), Value::String(to_hex(r)));
    }
    if let Some(x) = &h.mix_hash {
        m.insert("mixHash".into(), Value::String(to_hex(x)));
    }
    if let Some(x) = h.blob_gas_used {
        m.insert("blobGasUsed".into(), q(x));
    }
    if let Some(x) = h.excess_blob_gas {
        m.insert("excessBlobGas".into(), q(x));
    }
    m.insert("size".into(), q(encode_block(block).len() as u64));
    let txs = block
        .transactions
        .iter()
        .enumerate()
        .map(|(i, tx)| {
            let mut t = tx_to_json(tx);
            if let Value::Object(o) = &mut t {
                o.insert("blockHash".into(), Value::String(to_hex(bh)));
                o.insert("blockNumber".into(), q(h.number));
                o.insert("transactionIndex".into(), q(i as u64));
            }
            t
        })
        .collect();
    m.insert("transactions".into(), Value::Array(txs));
    Value::Object(m)
}

/// The raw bytes a transaction object stands for, as the strict codec would produce them; for
/// callers that only need the bytes (e.g. to recompute a transactions root).
pub fn tx_raw_from_json(v: &Value) -> Result<Vec<u8>, DecodeError> {
    parse_tx_value(v).map(|t| encode_tx(&t.tx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_accept_hex_decimal_and_numbers_and_reject_overflow() {
        assert_eq!(u64_of(&json!("0x1a"), "f"), Ok(26));
        assert_eq!(u64_of(&json!("26"), "f"), Ok(26));
        assert_eq!(u64_of(&json!(26), "f"), Ok(26));
        assert!(u64_of(&json!("0x10000000000000000"), "f").is_err());
        assert!(u64_of(&json!(-1), "f").is_err());
        assert!(u64_of(&json!(1.5), "f").is_err());
        assert!(u64_of(&json!("0x"), "f").is_err());
        assert!(u256_of(&json!(format!("0x1{}", "0".repeat(64))), "f").is_err());
        assert!(u8_of(&json!("0x100"), "feeRatio").is_err());
    }

    #[test]
    fn bytes_reject_odd_length_and_missing_prefix() {
        assert_eq!(bytes_of(&json!("0x"), "input"), Ok(vec![]));
        let e = bytes_of(&json!("0xabc"), "input");
        assert!(
            matches!(e, Err(DecodeError::Invalid { field: "input", .. })),
            "{e:?}"
        );
        assert!(bytes_of(&json!("abcd"), "input").is_err());
        assert!(matches!(
            address_of(&json!("0x00"), "to"),
            Err(DecodeError::Length {
                field: "to",
                expected: 20,
                got: 1
            })
        ));
    }

    #[test]
    fn type_names_round_trip() {
        for t in TxType::ALL {
            assert_eq!(type_from_name(&kaia_type_name(t)), Some(t), "{t}");
        }
        assert_eq!(
            type_from_name("TxTypeEthereumDynamicFee"),
            Some(TxType::ETH_DYNAMIC_FEE)
        );
        assert_eq!(type_from_name("TxTypeNope"), None);
    }
}
