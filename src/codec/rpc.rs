//! Kaia's JSON-RPC shapes as serde types, the one home for them: the block and transaction
//! objects (`kaia_getBlockByNumber`, `kaia_getTransactionByHash`), block parameters (`"latest"`,
//! `"0x1f"`, `31`), the consensus info that `kaia_getBlockWithConsensusInfoByNumber` adds to a
//! block, receipts, `kaia_getParams`, `kaia_getBlsInfos`, and ranger's own raw-block form. The RPC
//! server (node/src/serve) prints these (the block and transaction objects through
//! `codec::json`, which fills them from a typed block); the RPC follower (node/src/source) and the
//! JSON input path (`codec::json`, which turns a block object into a typed block) read them.
//!
//! These types hold what the JSON says, nothing more: which keys a block needs at its height and
//! which a transaction needs for its type is decided in `codec::json`, so every such key is an
//! `Option` here (keys every block has are required). Bytes and fixed-size values use
//! alloy-primitives' serde (`Bytes`, `B256`, `Address`, `Bloom`: hex as Kaia's `hexutil` prints
//! it, where alloy also takes it without `0x` or as an array of byte values; a wrong length or a
//! bad digit is refused); quantities use [`quantity`], which takes what Kaia prints (`0x` hex) and
//! what other tools do (decimal strings, JSON integers) but not an empty `0x`, as `hexutil`
//! refuses it. Key names follow kaiachain/kaia v2.2.1
//! (`api/api_kaia_blockchain.go`: `RPCMarshalHeader`, `newRPCTransaction`, `getConsensusInfo`,
//! `RpcOutputReceipt`; `blockchain/types/tx_internal_data_*.go`: `MakeRPCOutput`;
//! `governance/api.go`: `GetParams`; `kaiax/randao/impl/api.go`: `GetBlsInfos`).

use super::DecodeError;
use super::header::decode_extra;
use crate::consensus::chain::ChainSpec;
use crate::consensus::istanbul::{
    block_hash, committed_seal_message, proposer_seal_message, sig_hash,
};
use crate::crypto::secp::{Signature65, recover_address};
use crate::primitives::{Header, TxSig};
use alloy_primitives::{Address, B256, Bloom, Bytes, U64, U256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `kaia_getBlockWithConsensusInfoByNumberRange` returns at most this many blocks (Kaia refuses
/// `end - start > 50`).
pub const RANGE_MAX_BLOCKS: u64 = 51;

/// A block parameter as Kaia takes it: a number (hex quantity or JSON number) or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    Number(u64),
    Latest,
    Earliest,
    Pending,
}

impl BlockId {
    /// The number this parameter names on a chain whose head is `head`.
    pub fn resolve(self, head: u64) -> u64 {
        match self {
            Self::Number(n) => n,
            Self::Latest | Self::Pending => head,
            Self::Earliest => 0,
        }
    }
}

impl Serialize for BlockId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => U64::from(*n).serialize(s),
            Self::Latest => s.serialize_str("latest"),
            Self::Earliest => s.serialize_str("earliest"),
            Self::Pending => s.serialize_str("pending"),
        }
    }
}

impl<'de> Deserialize<'de> for BlockId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Self::Number(n)),
            Raw::Text(t) => match t.as_str() {
                "latest" => Ok(Self::Latest),
                "earliest" => Ok(Self::Earliest),
                "pending" => Ok(Self::Pending),
                hex => parse_quantity(hex).map(Self::Number).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "block {hex:?} is neither a hex quantity (0x…) nor latest/earliest/pending"
                    ))
                }),
            },
        }
    }
}

/// A `0x`-prefixed hex quantity that fits a u64 (the only form Kaia takes for a block number
/// given as a string).
pub fn parse_quantity(s: &str) -> Option<u64> {
    s.strip_prefix("0x")?;
    u64::try_from(u256_from_str(s).ok()?).ok()
}

/// The key of a block in a range result: `"0x<n>"`, as Kaia prints it.
pub fn range_key(number: u64) -> String {
    format!("{:#x}", number)
}

// ---------------------------------------------------------------------------------------------
// Reading: quantities, errors with their path, the response envelope

/// A quantity: `0x` hex as Kaia's `hexutil` prints it, a decimal string, or a JSON integer; at
/// most 256 bits, and never empty (`"0x"` is refused, as `hexutil` refuses it).
fn u256_from_str(s: &str) -> Result<U256, String> {
    let (digits, radix, max) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => (h, 16, 64),
        None => (s, 10, 78),
    };
    if digits.is_empty() {
        return Err(format!("empty quantity {s:?}"));
    }
    if digits.len() > max {
        return Err(format!("quantity {s:?} exceeds 256 bits"));
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!("{s:?} is not a hex or decimal quantity"));
    }
    U256::from_str_radix(digits, radix as u64)
        .map_err(|_| format!("quantity {s:?} exceeds 256 bits"))
}

/// A quantity of type `T` (`u8`, `u16`, `u64`, `U256`), as `u256_from_str` reads it.
struct Quantity<T>(T);

impl<'de, T: TryFrom<U256>> Deserialize<'de> for Quantity<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = U256;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quantity (0x hex, a decimal string or a non-negative integer)")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<U256, E> {
                Ok(U256::from(n))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<U256, E> {
                u256_from_str(s).map_err(E::custom)
            }
        }
        let x = d.deserialize_any(V)?;
        let bits = 8 * std::mem::size_of::<T>();
        T::try_from(x)
            .map(Self)
            .map_err(|_| serde::de::Error::custom(format!("{x:#x} exceeds {bits} bits")))
    }
}

/// serde `with` for a quantity: read as [`Quantity`] reads it (`0x` hex but never an empty `0x`,
/// a decimal string or a JSON integer, refused when it does not fit `T`), printed as `hexutil`
/// prints it (`0x`, lowercase, no leading zeros).
pub mod quantity {
    use super::{Quantity, U256};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: TryFrom<U256>>(d: D) -> Result<T, D::Error> {
        Quantity::deserialize(d).map(|q| q.0)
    }

    pub fn serialize<S: Serializer, T: std::fmt::LowerHex>(x: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{x:#x}"))
    }
}

/// A JSON value read as a `u64` quantity, in every form [`quantity`] takes.
pub fn quantity_of(v: &Value) -> Option<u64> {
    quantity::deserialize::<_, u64>(v).ok()
}

/// serde `with` for an optional [`quantity`]: `null` or an absent key (with `#[serde(default)]`)
/// is `None`.
pub mod opt_quantity {
    use super::{Quantity, U256};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: TryFrom<U256>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Option::<Quantity<T>>::deserialize(d).map(|o| o.map(|q| q.0))
    }

    pub fn serialize<S: Serializer, T: std::fmt::LowerHex>(
        x: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => super::quantity::serialize(x, s),
            None => s.serialize_none(),
        }
    }
}

/// `codeFormat`: `hexutil.Uint` (`"0x0"`) in Kaia's output; the name `EVM` is taken too.
fn code_format<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None => Ok(None),
        Some(Value::String(s)) if s == "EVM" || s == "CodeFormatEVM" => Ok(Some(0)),
        Some(v) => quantity::deserialize(&v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// A shape read from a JSON value; an error names the path of the value that does not fit
/// (`transactions[0].signatures[0].V`), and a missing key is named by its own path, not by the
/// path of the object that lacks it.
pub fn from_value<'a, T: Deserialize<'a>>(v: &'a Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let reason = e.into_inner().to_string();
        // serde's message for a missing key: "missing field `NAME`".
        match reason
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            Some(key) => DecodeError::Json {
                path: join_path(&path, key),
                reason: "required key is missing".into(),
            },
            None => DecodeError::Json { path, reason },
        }
    })
}

/// `parent.key`, or `key` at the root.
pub fn join_path(parent: &str, key: &str) -> String {
    match (parent.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (_, true) => parent.to_string(),
        _ => format!("{parent}.{key}"),
    }
}

/// The object a JSON-RPC response carries, or the document itself when it is not a response (a
/// bare block object as a file may hold it). An error answer, or a `null` result (Kaia's answer
/// for a block it does not have), is an error naming `error` or `result`.
pub fn response_object(root: &Value) -> Result<&Value, DecodeError> {
    let Some(top) = root.as_object() else {
        return Err(DecodeError::invalid("json", "expected an object"));
    };
    if !["jsonrpc", "result", "error"]
        .iter()
        .any(|k| top.contains_key(*k))
    {
        return Ok(root);
    }
    if let Some(err) = top.get("error").filter(|e| !e.is_null()) {
        let code = err.get("code").map(|c| c.to_string());
        let msg = err.get("message").and_then(Value::as_str);
        let reason = match (code, msg) {
            (Some(c), m) => {
                format!(
                    "the node answered with RPC error {c}: {}",
                    m.unwrap_or("(no message)")
                )
            }
            _ => format!("the node answered with RPC error {err}"),
        };
        return Err(DecodeError::invalid("error", reason));
    }
    match top.get("result") {
        Some(r) if r.is_object() => Ok(r),
        Some(r) if !r.is_null() => Err(DecodeError::invalid("result", "expected an object")),
        _ => Err(DecodeError::invalid(
            "result",
            "the RPC response has no result (block not found)",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// The block and transaction objects

/// `skip_serializing_if` for the keys a block or transaction does not print: Kaia leaves a key
/// out rather than print `null` where a type has no such field.
fn none<T>(x: &Option<T>) -> bool {
    x.is_none()
}

/// A block object as `RPCMarshalHeader`/`RPCMarshalBlock` print it (`kaia_getBlockByNumber`, or
/// `klay_`'s, whose score key is `blockscore`). The tail keys (`baseFeePerGas` …) belong to the
/// header only from their fork on, which the fork schedule decides, not their presence (a tail
/// key printed before its fork is not hashed, but must still be well-formed). `size` is printed,
/// never read; `totalBlockScore` and keys of other namespaces are not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcBlock {
    #[serde(skip_serializing_if = "none")]
    pub hash: Option<B256>,
    #[serde(with = "quantity")]
    pub number: u64,
    pub parent_hash: B256,
    pub reward: Address,
    pub state_root: B256,
    pub transactions_root: B256,
    pub receipts_root: B256,
    pub logs_bloom: Bloom,
    #[serde(alias = "blockscore", with = "quantity")]
    pub block_score: U256,
    #[serde(with = "quantity")]
    pub gas_used: u64,
    #[serde(with = "quantity")]
    pub timestamp: u64,
    #[serde(rename = "timestampFoS", with = "quantity")]
    pub timestamp_fos: u8,
    pub extra_data: Bytes,
    pub governance_data: Bytes,
    /// Absent (or `null`) on nodes that print no vote: an empty vote.
    #[serde(skip_serializing_if = "none")]
    pub vote_data: Option<Bytes>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub base_fee_per_gas: Option<U256>,
    #[serde(skip_serializing_if = "none")]
    pub random_reveal: Option<Bytes>,
    #[serde(skip_serializing_if = "none")]
    pub mix_hash: Option<Bytes>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub blob_gas_used: Option<u64>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub excess_blob_gas: Option<u64>,
    /// The block's RLP size.
    #[serde(skip_deserializing, serialize_with = "opt_quantity::serialize")]
    #[serde(skip_serializing_if = "none")]
    pub size: Option<u64>,
    /// Absent from some header-only outputs.
    #[serde(skip_serializing_if = "none")]
    pub transactions: Option<Vec<TxEntry>>,
}

/// One entry of a block's `transactions`: its hash (`kaia_getBlockByNumber(n, false)`) or the
/// whole object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxEntry {
    Hash(B256),
    Object(Box<RpcTx>),
}

impl Serialize for TxEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Hash(h) => h.serialize(s),
            Self::Object(t) => t.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for TxEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // By hand rather than `untagged`, so that an error inside an object keeps its message
        // and its path instead of becoming "did not match any variant".
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TxEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a transaction hash or a transaction object")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<TxEntry, E> {
                B256::deserialize(serde::de::value::StrDeserializer::<E>::new(s)).map(TxEntry::Hash)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<TxEntry, A::Error> {
                RpcTx::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(|t| TxEntry::Object(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A transaction object as `newRPCTransaction` and each type's `MakeRPCOutput` print it: the keys
/// of every type, each read where present; which ones a type needs is decided by `codec::json`.
/// Also read: Ethereum-style objects (`type` as `0x2`, top-level `v`/`r`/`s` or `yParity`, `data`
/// for `input`) and a `raw`/`rawTransaction` form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcTx {
    /// A JSON number in Kaia's output.
    #[serde(
        default,
        deserialize_with = "opt_quantity::deserialize",
        skip_serializing_if = "none"
    )]
    pub type_int: Option<u16>,
    /// A Go name (`TxTypeValueTransfer`), or an Ethereum type as hex (`0x2`).
    #[serde(rename = "type", skip_serializing_if = "none")]
    pub type_name: Option<String>,
    /// Claims: the hashes and the sender (a signed field for Kaia types only). `from` is printed
    /// `null` when the signature does not recover.
    #[serde(skip_serializing_if = "none")]
    pub hash: Option<B256>,
    pub from: Option<Address>,
    #[serde(skip_serializing_if = "none")]
    pub sender_tx_hash: Option<B256>,
    #[serde(skip_serializing_if = "none")]
    pub fee_payer: Option<Address>,
    #[serde(alias = "rawTransaction", skip_serializing_if = "none")]
    pub raw: Option<Bytes>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub nonce: Option<u64>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub gas_price: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub gas: Option<u64>,
    /// `Some(None)` prints `null` (a contract creation); `None` leaves the key out (a type
    /// without a recipient). Read, `null` and an absent key are both `None`.
    #[serde(default, skip_serializing_if = "none")]
    pub to: Option<Option<Address>>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub value: Option<U256>,
    #[serde(skip_serializing_if = "none")]
    pub input: Option<Bytes>,
    #[serde(skip_serializing_if = "none")]
    pub data: Option<Bytes>,
    /// `TxTypeChainDataAnchoring`'s input.
    #[serde(skip_serializing_if = "none")]
    pub anchored_data: Option<Bytes>,
    #[serde(skip_serializing_if = "none")]
    pub human_readable: Option<bool>,
    #[serde(
        default,
        deserialize_with = "code_format",
        serialize_with = "opt_quantity::serialize",
        skip_serializing_if = "none"
    )]
    pub code_format: Option<u8>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub fee_ratio: Option<u8>,
    /// The serialized AccountKey of an account update.
    #[serde(skip_serializing_if = "none")]
    pub key: Option<Bytes>,
    #[serde(skip_serializing_if = "none")]
    pub signatures: Option<Vec<RpcSig>>,
    #[serde(skip_serializing_if = "none")]
    pub fee_payer_signatures: Option<Vec<RpcSig>>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub v: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub y_parity: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub r: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub s: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub chain_id: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub max_priority_fee_per_gas: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub max_fee_per_gas: Option<U256>,
    #[serde(default, with = "opt_quantity", skip_serializing_if = "none")]
    pub max_fee_per_blob_gas: Option<U256>,
    #[serde(skip_serializing_if = "none")]
    pub access_list: Option<Vec<AccessListItem>>,
    #[serde(skip_serializing_if = "none")]
    pub blob_versioned_hashes: Option<Vec<B256>>,
    #[serde(skip_serializing_if = "none")]
    pub authorization_list: Option<Vec<RpcAuthorization>>,
    /// The block context a transaction in a block is printed with; never read.
    #[serde(skip_deserializing, skip_serializing_if = "none")]
    pub block_hash: Option<B256>,
    #[serde(skip_deserializing, serialize_with = "opt_quantity::serialize")]
    #[serde(skip_serializing_if = "none")]
    pub block_number: Option<u64>,
    #[serde(skip_deserializing, serialize_with = "opt_quantity::serialize")]
    #[serde(skip_serializing_if = "none")]
    pub transaction_index: Option<u64>,
}

/// One signature: `{V, R, S}` as Kaia prints it (`v`, `r`, `s` taken too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcSig {
    #[serde(rename = "V", alias = "v", with = "quantity")]
    pub v: U256,
    #[serde(rename = "R", alias = "r", with = "quantity")]
    pub r: U256,
    #[serde(rename = "S", alias = "s", with = "quantity")]
    pub s: U256,
}

impl From<RpcSig> for TxSig {
    fn from(s: RpcSig) -> Self {
        Self {
            v: s.v,
            r: s.r,
            s: s.s,
        }
    }
}

impl From<TxSig> for RpcSig {
    fn from(s: TxSig) -> Self {
        Self {
            v: s.v,
            r: s.r,
            s: s.s,
        }
    }
}

/// One entry of an EIP-2930 access list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessListItem {
    pub address: Address,
    #[serde(default)]
    pub storage_keys: Vec<B256>,
}

/// One EIP-7702 authorization (`gen_authorization.go`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcAuthorization {
    #[serde(with = "quantity")]
    pub chain_id: U256,
    pub address: Address,
    #[serde(with = "quantity")]
    pub nonce: u64,
    #[serde(alias = "v", with = "quantity")]
    pub y_parity: u8,
    #[serde(with = "quantity")]
    pub r: U256,
    #[serde(with = "quantity")]
    pub s: U256,
}

/// What `kaia_getBlockWithConsensusInfoByNumber` adds to a block object. Kaia computes
/// `committee` and `proposer` from its validator set and `committers` from the seals; they are
/// claims for a follower, which recovers the signers itself. Read from a block object, a key it
/// lacks is `None`; printed, `None` is `null` (Kaia's answer where it cannot compute a value).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusInfo {
    /// The committee of the block's round.
    pub committee: Option<Vec<Address>>,
    /// The signers of the committed seals.
    pub committers: Option<Vec<Address>>,
    pub sig_hash: Option<B256>,
    pub proposer: Option<Address>,
    /// The proposer of round 0.
    pub origin_proposer: Option<Address>,
    /// A JSON number in Kaia's output.
    #[serde(default, deserialize_with = "opt_quantity::deserialize")]
    pub round: Option<u8>,
}

impl ConsensusInfo {
    /// The consensus info a header proves by itself: the proposer and committers recovered from
    /// its seals, its sigHash and round. `committee` and `origin_proposer` need the validator set
    /// and the proposer policy, so the caller supplies them when it knows them.
    pub fn from_header(
        header: &Header,
        committee: Option<Vec<Address>>,
        origin_proposer: Option<Address>,
    ) -> Result<Self, DecodeError> {
        let extra = decode_extra(&header.extra)?;
        let sig_hash = sig_hash(header)
            .ok_or_else(|| DecodeError::invalid("extraData", "Istanbul extra does not decode"))?;
        let seal = |bytes: &Bytes, field: &'static str| -> Result<Signature65, DecodeError> {
            let raw: [u8; 65] = bytes.as_ref().try_into().map_err(|_| DecodeError::Length {
                field,
                expected: 65,
                got: bytes.len(),
            })?;
            Ok(Signature65(raw))
        };
        let proposer = recover_address(
            &proposer_seal_message(&sig_hash),
            &seal(&extra.seal, "seal")?,
        )
        .map_err(|e| DecodeError::invalid("seal", format!("does not recover: {e}")))?;
        let commit = committed_seal_message(&block_hash(header));
        let committers = extra
            .committed_seals
            .iter()
            .map(|s| {
                recover_address(&commit, &seal(s, "committedSeal")?).map_err(|e| {
                    DecodeError::invalid("committedSeal", format!("does not recover: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            committee,
            committers: Some(committers),
            sig_hash: Some(sig_hash),
            proposer: Some(proposer),
            origin_proposer,
            round: Some(extra.round()),
        })
    }

    /// `block` (a block object) with these keys added, the shape Kaia prints.
    pub fn merge_into(&self, block: &mut Map<String, Value>) {
        if let Ok(Value::Object(m)) = serde_json::to_value(self) {
            block.extend(m);
        }
    }
}

/// One block as `ranger_getRawBlocks` serves it: its RLP, with the number and hash the server
/// claims (`hash` is `null` for bytes that do not decode as a block).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawBlock {
    pub number: U64,
    pub hash: Option<B256>,
    pub rlp: Bytes,
}

/// A receipt as `kaia_getBlockReceipts` prints it (Kaia merges the transaction's fields into
/// it; `tx` holds them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub block_hash: B256,
    pub block_number: U64,
    pub transaction_hash: B256,
    pub transaction_index: U64,
    /// 1 success, 0 failure.
    pub status: U64,
    /// Gas used by this transaction alone (Kaia's receipts are not cumulative).
    pub gas_used: U64,
    pub logs: Vec<Value>,
    pub logs_bloom: Bloom,
    pub contract_address: Option<Address>,
    #[serde(flatten)]
    pub tx: Map<String, Value>,
}

/// One entry of `kaia_getBlsInfos`: a council member's BLS key and proof of possession.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlsInfo {
    pub public_key: Bytes,
    pub pop: Bytes,
    /// Why the registry entry failed its checks; `null` when it passed.
    #[serde(default)]
    pub verify_err: Option<String>,
}

/// `kaia_getBlsInfos`: the registry keyed by council member.
pub type BlsInfos = BTreeMap<Address, BlsInfo>;

/// Proposer policies as `istanbul.policy` numbers them.
pub const POLICY_ROUND_ROBIN: u64 = 0;

/// The governance parameters a verifier needs from `kaia_getParams` (a flat map; other keys are
/// kept in `other`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Params {
    #[serde(rename = "istanbul.committeesize", default)]
    pub committee_size: Option<u64>,
    #[serde(rename = "istanbul.epoch", default)]
    pub epoch: Option<u64>,
    #[serde(rename = "istanbul.policy", default)]
    pub policy: Option<u64>,
    #[serde(rename = "governance.deriveshaimpl", default)]
    pub derive_sha_impl: Option<u64>,
    #[serde(rename = "kip71.lowerboundbasefee", default)]
    pub lower_bound_base_fee: Option<u64>,
    #[serde(rename = "kip71.upperboundbasefee", default)]
    pub upper_bound_base_fee: Option<u64>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl Params {
    /// The parameters a chain spec fixes (a devnet's, or the last known state of a live chain):
    /// the committee size (the whole council when unbounded), epoch, round-robin policy,
    /// DeriveSha and the base fee bounds.
    pub fn of_spec(spec: &ChainSpec) -> Self {
        let base_fee = spec.base_fee.map(|b| b.saturating_to::<u64>());
        Self {
            committee_size: Some(spec.committee_size.unwrap_or(spec.council.len() as u64)),
            epoch: Some(spec.epoch),
            policy: Some(POLICY_ROUND_ROBIN),
            derive_sha_impl: Some(spec.derive_sha as u64),
            lower_bound_base_fee: base_fee,
            upper_bound_base_fee: base_fee,
            other: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_ids_parse_like_kaia() {
        let p = |s: &str| serde_json::from_str::<BlockId>(s);
        assert_eq!(p("\"latest\"").unwrap(), BlockId::Latest);
        assert_eq!(p("\"0x1f\"").unwrap(), BlockId::Number(31));
        assert_eq!(p("31").unwrap(), BlockId::Number(31));
        assert!(p("\"1f\"").is_err());
        assert!(p("\"0x\"").is_err());
        assert!(p("\"0x10000000000000000\"").is_err());
        assert!(p("-1").is_err());
        assert_eq!(
            serde_json::to_string(&BlockId::Number(31)).unwrap(),
            "\"0x1f\""
        );
    }

    #[test]
    fn consensus_info_of_a_real_block_matches_the_nodes_claims() {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/datasets/json/kairos-83863326-consensus.json"
        ))
        .unwrap();
        let root: Value = serde_json::from_slice(&text).unwrap();
        let claimed: ConsensusInfo = serde_json::from_value(root["result"].clone()).unwrap();
        let spec = ChainSpec::kairos();
        let block = super::super::json::parse_block_value(&root, &spec.forks).unwrap();
        let ours = ConsensusInfo::from_header(
            &block.block.header,
            claimed.committee.clone(),
            claimed.origin_proposer,
        )
        .unwrap();
        assert_eq!(ours.sig_hash, claimed.sig_hash);
        assert_eq!(ours.proposer, claimed.proposer);
        assert_eq!(ours.round, claimed.round);
        let mut a = ours.committers.clone().unwrap();
        let mut b = claimed.committers.clone().unwrap();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn quantities_accept_hex_decimal_and_numbers_and_reject_overflow() {
        let u64_of = |v: Value| quantity::deserialize::<_, u64>(&v);
        assert_eq!(u64_of(json!("0x1a")).ok(), Some(26));
        assert_eq!(u64_of(json!("26")).ok(), Some(26));
        assert_eq!(u64_of(json!(26)).ok(), Some(26));
        assert!(u64_of(json!("0x10000000000000000")).is_err());
        assert!(u64_of(json!(-1)).is_err());
        assert!(u64_of(json!(1.5)).is_err());
        assert!(u64_of(json!(1e300)).is_err());
        assert!(u64_of(json!("0x")).is_err());
        assert!(u64_of(json!("")).is_err());
        assert!(u64_of(json!("0x1g")).is_err());
        assert!(u64_of(json!(null)).is_err());
        assert!(
            quantity::deserialize::<_, U256>(&json!(format!("0x1{}", "0".repeat(64)))).is_err()
        );
        assert!(quantity::deserialize::<_, U256>(&json!("9".repeat(79))).is_err());
        assert_eq!(
            quantity::deserialize::<_, U256>(&json!(format!("0x{}", "f".repeat(64)))).ok(),
            Some(U256::MAX)
        );
        let e = quantity::deserialize::<_, u8>(&json!("0x100"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("exceeds 8 bits"), "{e}");
        assert_eq!(
            opt_quantity::deserialize::<_, u64>(&json!(null)).ok(),
            Some(None)
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Leaf {
        input: Bytes,
        to: Option<Address>,
        #[serde(default, deserialize_with = "opt_quantity::deserialize")]
        nonce: Option<u64>,
    }

    #[test]
    fn errors_name_the_path_of_the_value() {
        let path = |v: Value| match from_value::<Vec<Leaf>>(&v) {
            Err(e @ DecodeError::Json { .. }) => e.to_string(),
            other => panic!("{other:?}"),
        };
        assert!(path(json!([{"input": "0xabc"}])).starts_with("[0].input: "));
        assert!(path(json!([{"input": "0x", "to": "0x00"}])).starts_with("[0].to: "));
        assert!(path(json!([{"input": "0x", "nonce": "0x"}])).starts_with("[0].nonce: "));
        assert_eq!(path(json!([{}])), "[0].input: required key is missing");
        assert!(
            path(json!(null)).starts_with("invalid type: null"),
            "{}",
            path(json!(null))
        );
        let ok = from_value::<Vec<Leaf>>(&json!([{"input": "0x", "to": null}])).unwrap();
        assert!(ok[0].input.is_empty() && ok[0].to.is_none() && ok[0].nonce.is_none());
    }

    #[test]
    fn responses_give_their_result_or_name_the_error() {
        let block = json!({"number": "0x1"});
        assert_eq!(response_object(&block).unwrap(), &block);
        let wrapped = json!({"jsonrpc": "2.0", "id": 1, "result": block});
        assert_eq!(response_object(&wrapped).unwrap(), &block);
        let field = |v: Value| match response_object(&v) {
            Err(DecodeError::Invalid { field, reason }) => format!("{field}: {reason}"),
            other => panic!("{other:?}"),
        };
        assert!(field(json!({"jsonrpc": "2.0", "result": null})).starts_with("result: "));
        assert!(field(json!({"result": [1]})).starts_with("result: "));
        let e = field(json!({"jsonrpc": "2.0", "error": {"code": -32000, "message": "gone"}}));
        assert!(e.contains("-32000") && e.contains("gone"), "{e}");
        assert!(field(json!({"error": "down"})).contains("down"));
        assert!(field(json!([1, 2])).starts_with("json: "));
    }

    #[test]
    fn range_keys_are_hex() {
        assert_eq!(range_key(83863326), "0x4ffa71e");
        assert_eq!(parse_quantity(&range_key(0)), Some(0));
    }
}
