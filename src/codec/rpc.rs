//! Kaia's JSON-RPC shapes beyond the block object itself, as serde types: the JSON-RPC response
//! envelope, block parameters (`"latest"`, `"0x1f"`, `31`), the consensus info that
//! `kaia_getBlockWithConsensusInfoByNumber` adds to a block, receipts, `kaia_getParams`,
//! `kaia_getBlsInfos`, and ranger's own raw-block form. The RPC server (node/src/serve) prints
//! these and the RPC follower (node/src/source) reads them; the block object stays in
//! `codec::json`, which rebuilds it field by field so that nothing the JSON claims is hashed.
//!
//! Quantities and bytes use alloy-primitives' serde (`U64` as `"0x…"`, `Bytes`, `B256`), so the
//! hex forms are the same as Kaia's `hexutil` ones. Key names follow kaiachain/kaia v2.2.1
//! (`api/api_kaia_blockchain.go`: `getConsensusInfo`, `RpcOutputReceipt`;
//! `governance/api.go`: `GetParams`; `kaiax/randao/impl/api.go`: `GetBlsInfos`).

use super::DecodeError;
use super::header::decode_extra;
use crate::consensus::chain::ChainSpec;
use crate::consensus::istanbul::{
    block_hash, committed_seal_message, proposer_seal_message, sig_hash,
};
use crate::crypto::secp::{Signature65, recover_address};
use crate::primitives::Header;
use alloy_primitives::{Address, B256, Bloom, Bytes, U64};
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

/// A `0x`-prefixed hex quantity that fits a u64.
pub fn parse_quantity(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x")?;
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// The key of a block in a range result: `"0x<n>"`, as Kaia prints it.
pub fn range_key(number: u64) -> String {
    format!("{:#x}", number)
}

/// What `kaia_getBlockWithConsensusInfoByNumber` adds to a block object. Kaia computes
/// `committee` and `proposer` from its validator set and `committers` from the seals; they are
/// claims for a follower, which recovers the signers itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusInfo {
    /// The committee of the block's round; `null` when it cannot be computed.
    pub committee: Option<Vec<Address>>,
    pub committers: Vec<Address>,
    pub sig_hash: B256,
    pub proposer: Address,
    /// The proposer of round 0; `null` when it cannot be computed.
    pub origin_proposer: Option<Address>,
    /// A JSON number in Kaia's output.
    pub round: u8,
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
            committers,
            sig_hash,
            proposer,
            origin_proposer,
            round: extra.round(),
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

/// What a node says about the council of a chain: hints for a verifier, to be checked against
/// the seals and reveals, never trusted as inputs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CouncilHints {
    /// `kaia_getCouncil`.
    pub council: Vec<Address>,
    /// `kaia_getParams`.
    pub params: Params,
    /// `kaia_getBlsInfos`.
    pub bls: BlsInfos,
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut a = ours.committers.clone();
        let mut b = claimed.committers.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn range_keys_are_hex() {
        assert_eq!(range_key(83863326), "0x4ffa71e");
        assert_eq!(parse_quantity(&range_key(0)), Some(0));
    }
}
