//! Kaia JSON-RPC blocks (`kaia_getBlockByNumber`, `klay_getBlockByNumber`,
//! `kaia_getBlockWithConsensusInfoByNumber`) <-> typed blocks. The JSON shapes are the serde
//! types of `codec::rpc` ([`RpcBlock`], [`RpcTx`], [`ConsensusInfo`]); this module turns them
//! into ranger's `Block` and `Transaction`, deciding which keys a block needs at its height and
//! which a transaction needs for its type, and fills them from a typed block to print it in
//! Kaia's shape (which keys each transaction type prints, with hashes and senders computed here).
//!
//! Invariant: nothing the JSON *claims* about itself (block `hash`, tx `hash`, `senderTxHash`, the
//! sender of a legacy or Ethereum-typed tx, the consensus info) is used to build what gets hashed.
//! Headers are rebuilt field by field, with the fork schedule deciding which tail fields belong to
//! the header, and each transaction is re-encoded from its signed fields (or decoded from its
//! `raw` form when the object carries one). The claims are returned beside the block, for a
//! verifier to compare with what it computes itself.
//!
//! Errors name the JSON path of the value at fault (`transactions[0].signatures[0].V: …`), both
//! where a value does not fit its type and where a key this block or transaction type needs is
//! missing. Key names and value formats follow kaiachain/kaia: `api/api_kaia_blockchain.go`
//! (`RPCMarshalHeader`, `newRPCTransaction`), each `blockchain/types/tx_internal_data_*.go`
//! `MakeRPCOutput` (e.g. `tx_internal_data_fee_delegated_smart_contract_deploy_with_ratio.go`:
//! `feeRatio` and `codeFormat` as `hexutil.Uint`, `humanReadable` a JSON bool, `typeInt` a JSON
//! number; `tx_internal_data_fee_delegated_account_update.go`: `key` as `hexutil.Bytes` of the
//! serialized AccountKey; `tx_internal_data_ethereum_set_code.go`: Ethereum-typed txs print their
//! signature as `signatures: [{V,R,S}]`), and `gen_authorization.go` (`chainId`, `address`,
//! `nonce`, `yParity`, `r`, `s`).

use super::DecodeError;
use super::block::{MAX_BLOCK_BYTES, encode_block};
use super::rlp::{ListReader, wrap_list};
use super::rpc::{
    self, AccessListItem, ConsensusInfo, RpcAuthorization, RpcBlock, RpcSig, RpcTx, TxEntry,
};
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
use alloy_primitives::{Address, B256, Bytes};
use alloy_rlp::Encodable;
use serde_json::Value;

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
    /// What `kaia_getBlockWithConsensusInfoByNumber` adds: the committee, committers,
    /// proposer, sigHash and round it claims.
    pub consensus: ConsensusInfo,
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
// Blocks

/// `key` is required here but absent (or `null`).
fn missing(key: &str) -> DecodeError {
    DecodeError::Json {
        path: key.to_string(),
        reason: "required key is missing".into(),
    }
}

fn need<T>(v: Option<T>, key: &str) -> Result<T, DecodeError> {
    v.ok_or_else(|| missing(key))
}

/// `e`, which happened in transaction `i` of a block, with the transaction's place in its path.
fn in_tx(e: DecodeError, i: usize) -> DecodeError {
    let place = format!("transactions[{i}]");
    match e {
        DecodeError::Json { path, reason } => DecodeError::Json {
            path: rpc::join_path(&place, &path),
            reason,
        },
        other => DecodeError::Json {
            path: place,
            reason: other.to_string(),
        },
    }
}

/// Parses a block printed by a Kaia node: a bare block object or a JSON-RPC envelope around one.
///
/// `forks` decides which optional tail fields belong to the header at its height: a tail key the
/// schedule does not expect (e.g. `baseFeePerGas` printed by old nodes on pre-Magma blocks) is
/// not hashed, a tail key it expects must be present.
pub fn parse_block_json(text: &[u8], forks: &ForkSchedule) -> Result<JsonBlock, DecodeError> {
    if text.len() > MAX_JSON_BYTES {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            max: MAX_JSON_BYTES,
        });
    }
    let root: Value = serde_json::from_slice(text)
        .map_err(|e| DecodeError::invalid("json", format!("not valid JSON: {e}")))?;
    parse_block_value(&root, forks)
}

/// Like [`parse_block_json`], from an already parsed JSON value.
pub fn parse_block_value(root: &Value, forks: &ForkSchedule) -> Result<JsonBlock, DecodeError> {
    let obj = rpc::response_object(root)?;
    let block: RpcBlock = rpc::from_value(obj)?;
    let consensus: ConsensusInfo = rpc::from_value(obj)?;
    let header = header_from_rpc(&block, forks)?;
    let mut claims = JsonClaims {
        hash: block.hash,
        consensus,
        ..Default::default()
    };
    let list = block.transactions.as_deref().unwrap_or_default();
    let hashes: Vec<B256> = list
        .iter()
        .filter_map(|t| match t {
            TxEntry::Hash(h) => Some(*h),
            TxEntry::Object(_) => None,
        })
        .collect();
    let has_transactions = block.transactions.is_some() && hashes.is_empty();
    if !hashes.is_empty() {
        if hashes.len() != list.len() {
            return Err(DecodeError::Json {
                path: "transactions".into(),
                reason: "mixes transaction hashes and transaction objects".into(),
            });
        }
        claims.tx_hashes = hashes.into_iter().map(Some).collect();
        claims.senders = vec![None; list.len()];
        claims.sender_tx_hashes = vec![None; list.len()];
        claims.fee_payers = vec![None; list.len()];
    }
    let mut transactions = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let TxEntry::Object(t) = entry else { continue };
        let jt = tx_from_rpc(t).map_err(|e| in_tx(e, i))?;
        claims.tx_hashes.push(jt.hash);
        claims.senders.push(jt.sender);
        claims.sender_tx_hashes.push(jt.sender_tx_hash);
        claims.fee_payers.push(jt.fee_payer);
        transactions.push(jt.tx);
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

fn header_from_rpc(b: &RpcBlock, forks: &ForkSchedule) -> Result<Header, DecodeError> {
    let mut h = Header {
        parent_hash: b.parent_hash,
        rewardbase: b.reward,
        state_root: b.state_root,
        tx_root: b.transactions_root,
        receipts_root: b.receipts_root,
        bloom: b.logs_bloom,
        block_score: b.block_score,
        number: b.number,
        gas_used: b.gas_used,
        time: b.timestamp,
        time_fos: b.timestamp_fos,
        extra: b.extra_data.clone(),
        governance: b.governance_data.clone(),
        vote: b.vote_data.clone().unwrap_or_default(),
        ..Default::default()
    };
    let n = forks.header_fields(b.number);
    if n >= 15 {
        h.base_fee = Some(need(b.base_fee_per_gas, "baseFeePerGas")?);
    }
    if n >= 17 {
        h.random_reveal = Some(need(b.random_reveal.clone(), "randomReveal")?);
        h.mix_hash = Some(need(b.mix_hash.clone(), "mixHash")?);
    }
    if n >= 19 {
        h.blob_gas_used = Some(need(b.blob_gas_used, "blobGasUsed")?);
        h.excess_blob_gas = Some(need(b.excess_blob_gas, "excessBlobGas")?);
    }
    Ok(h)
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
fn tx_type_of(t: &RpcTx) -> Result<TxType, DecodeError> {
    if let Some(n) = t.type_int {
        return Ok(TxType(n));
    }
    let s = t.type_name.as_deref().ok_or_else(|| DecodeError::Json {
        path: "typeInt".into(),
        reason: "neither typeInt nor type is present".into(),
    })?;
    let bad = |reason: String| DecodeError::Json {
        path: "type".into(),
        reason,
    };
    if let Some(t) = type_from_name(s) {
        return Ok(t);
    }
    // Ethereum namespace: 0 legacy, 1..4 the enveloped types.
    match rpc::parse_quantity(s) {
        Some(0) => Ok(TxType::LEGACY),
        Some(n @ 1..=4) => Ok(TxType(0x7800 | n as u16)),
        Some(n) => Err(bad(format!("Ethereum type {n:#x} is not accepted by Kaia"))),
        None => Err(bad(format!("unknown transaction type name {s:?}"))),
    }
}

fn sigs(list: &[RpcSig]) -> Vec<TxSig> {
    list.iter().copied().map(TxSig::from).collect()
}

/// The single signature of a legacy or Ethereum-typed tx: `signatures[0]` (Kaia) or top-level
/// `v`/`r`/`s` (Ethereum style; `yParity` when `v` is absent).
fn single_sig(t: &RpcTx) -> Result<TxSig, DecodeError> {
    if let Some(list) = &t.signatures {
        return match sigs(list).as_slice() {
            [one] => Ok(*one),
            _ => Err(DecodeError::Json {
                path: "signatures".into(),
                reason: format!("expected exactly 1 signature, got {}", list.len()),
            }),
        };
    }
    Ok(TxSig {
        v: need(t.v.or(t.y_parity), "v")?,
        r: need(t.r, "r")?,
        s: need(t.s, "s")?,
    })
}

/// `input`, or `data` as Ethereum tools print it.
fn input_of(t: &RpcTx) -> Result<Bytes, DecodeError> {
    need(t.input.clone().or_else(|| t.data.clone()), "input")
}

fn kaia_fields(layout: &[KaiaField], t: &RpcTx) -> Result<KaiaFields, DecodeError> {
    let mut k = KaiaFields::default();
    for f in layout {
        match f {
            KaiaField::Nonce => k.nonce = need(t.nonce, "nonce")?,
            KaiaField::GasPrice => k.gas_price = need(t.gas_price, "gasPrice")?,
            KaiaField::Gas => k.gas = need(t.gas, "gas")?,
            KaiaField::To => k.to = Some(need(t.to.flatten(), "to")?),
            KaiaField::ToOpt => k.to = t.to.flatten(),
            KaiaField::Value => k.value = need(t.value, "value")?,
            KaiaField::From => k.from = need(t.from, "from")?,
            KaiaField::Input => {
                k.input = input_of(t).or_else(|e| t.anchored_data.clone().ok_or(e))?
            }
            KaiaField::HumanReadable => k.human_readable = need(t.human_readable, "humanReadable")?,
            KaiaField::CodeFormat => k.code_format = need(t.code_format, "codeFormat")?,
            KaiaField::FeeRatio => k.fee_ratio = need(t.fee_ratio, "feeRatio")?,
            KaiaField::Key => k.key = need(t.key.clone(), "key")?,
        }
    }
    Ok(k)
}

/// RLP of `[[address, [storageKey...]]...]` (an empty list is `0xc0`), for the raw form; the
/// decoded transaction keeps it as `decode_tx` does.
fn access_list_rlp(list: &[AccessListItem]) -> Bytes {
    let mut p = Vec::new();
    for e in list {
        let mut entry = Vec::new();
        e.address.encode(&mut entry);
        let mut keys = Vec::new();
        e.storage_keys.iter().for_each(|k| k.encode(&mut keys));
        entry.extend_from_slice(&wrap_list(&keys));
        p.extend_from_slice(&wrap_list(&entry));
    }
    Bytes::from(wrap_list(&p))
}

/// RLP of `[[chainId, address, nonce, yParity, r, s]...]`.
fn authorizations_rlp(list: &[RpcAuthorization]) -> Bytes {
    let mut p = Vec::new();
    for a in list {
        let mut t = Vec::new();
        a.chain_id.encode(&mut t);
        a.address.encode(&mut t);
        a.nonce.encode(&mut t);
        a.y_parity.encode(&mut t);
        a.r.encode(&mut t);
        a.s.encode(&mut t);
        p.extend_from_slice(&wrap_list(&t));
    }
    Bytes::from(wrap_list(&p))
}

fn eth_fields(ty: TxType, t: &RpcTx) -> Result<EthFields, DecodeError> {
    let mut e = EthFields {
        chain_id: need(t.chain_id, "chainId")?,
        nonce: need(t.nonce, "nonce")?,
        gas: need(t.gas, "gas")?,
        // Contract creation is possible up to the dynamic-fee type, not from blob txs on.
        to: if ty.0 <= 0x7802 {
            t.to.flatten()
        } else {
            Some(need(t.to.flatten(), "to")?)
        },
        value: need(t.value, "value")?,
        data: input_of(t)?,
        access_list: access_list_rlp(t.access_list.as_deref().unwrap_or_default()),
        ..Default::default()
    };
    if ty == TxType::ETH_ACCESS_LIST {
        e.gas_tip_cap = need(t.gas_price, "gasPrice")?;
    } else {
        e.gas_tip_cap = need(t.max_priority_fee_per_gas, "maxPriorityFeePerGas")?;
        e.gas_fee_cap = need(t.max_fee_per_gas, "maxFeePerGas")?;
    }
    if ty == TxType::ETH_BLOB {
        e.blob_fee_cap = need(t.max_fee_per_blob_gas, "maxFeePerBlobGas")?;
        e.blob_hashes = need(t.blob_versioned_hashes.clone(), "blobVersionedHashes")?;
    }
    if ty == TxType::ETH_SET_CODE {
        e.authorizations = authorizations_rlp(t.authorization_list.as_deref().unwrap_or_default());
    }
    Ok(e)
}

/// Rebuilds one transaction object (as in a full block or `kaia_getTransactionByHash`).
///
/// A `raw` (or `rawTransaction`) hex field, when present, is decoded instead of the fields.
pub fn parse_tx_value(v: &Value) -> Result<JsonTx, DecodeError> {
    tx_from_rpc(&rpc::from_value(v)?)
}

fn tx_from_rpc(t: &RpcTx) -> Result<JsonTx, DecodeError> {
    let claims = |tx| JsonTx {
        tx,
        hash: t.hash,
        sender: t.from,
        sender_tx_hash: t.sender_tx_hash,
        fee_payer: t.fee_payer,
    };
    if let Some(raw) = &t.raw {
        let tx = decode_tx(raw).map_err(|e| DecodeError::Json {
            path: "raw".into(),
            reason: e.to_string(),
        })?;
        return Ok(claims(tx));
    }
    let ty = tx_type_of(t)?;
    let (body, signatures, fee_payer, fee_payer_signatures) = if ty == TxType::LEGACY {
        let body = LegacyFields {
            nonce: need(t.nonce, "nonce")?,
            gas_price: need(t.gas_price, "gasPrice")?,
            gas: need(t.gas, "gas")?,
            to: t.to.flatten(),
            value: need(t.value, "value")?,
            input: input_of(t)?,
        };
        (TxBody::Legacy(body), vec![single_sig(t)?], None, Vec::new())
    } else if ty.is_eth() {
        let body = TxBody::Eth(Box::new(eth_fields(ty, t)?));
        (body, vec![single_sig(t)?], None, Vec::new())
    } else if ty == TxType::ACCOUNT_CREATION {
        return Err(DecodeError::DisabledTxType(ty.0));
    } else if let Some(layout) = ty.kaia_layout() {
        let body = TxBody::Kaia(kaia_fields(layout, t)?);
        let signatures = sigs(need(t.signatures.as_deref(), "signatures")?);
        if signatures.is_empty() {
            return Err(DecodeError::Json {
                path: "signatures".into(),
                reason: "a Kaia transaction needs at least one signature".into(),
            });
        }
        if ty.is_fee_delegated() {
            let payer_sigs = need(t.fee_payer_signatures.as_deref(), "feePayerSignatures")?;
            let payer = need(t.fee_payer, "feePayer")?;
            (body, signatures, Some(payer), sigs(payer_sigs))
        } else {
            (body, signatures, None, Vec::new())
        }
    } else {
        return Err(DecodeError::Json {
            path: "typeInt".into(),
            reason: format!("unknown or unsupported transaction type {:#x}", ty.0),
        });
    };
    let sealed = seal_raw(Transaction {
        tx_type: ty,
        body,
        signatures,
        fee_payer,
        fee_payer_signatures,
        raw: Bytes::new(),
    });
    // The rebuilt bytes must decode under the strict codec (e.g. a Kaia tx the decoder would
    // refuse must not slip in through JSON), and what they decode to is the transaction: one
    // representation per value, the same as the RLP path gives (an empty access list included).
    let tx = decode_tx(&sealed.raw).map_err(|e| DecodeError::Json {
        path: String::new(),
        reason: format!("the rebuilt raw form does not decode: {e}"),
    })?;
    Ok(claims(tx))
}

// ---------------------------------------------------------------------------------------------
// Output

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

/// An access list kept as its RLP item, as Kaia prints it; a malformed tail is left out.
fn decode_access_list(raw: &[u8]) -> Vec<AccessListItem> {
    let mut out = Vec::new();
    let Ok(mut l) = ListReader::from_bytes(raw, "accessList") else {
        return out;
    };
    while !l.is_empty() {
        let Ok(mut e) = l.list("accessList.entry") else {
            break;
        };
        let Ok(address) = e.address("accessList.address") else {
            break;
        };
        let mut storage_keys = Vec::new();
        if let Ok(mut ks) = e.list("accessList.storageKeys") {
            while let Ok(k) = ks.b256("accessList.storageKey") {
                storage_keys.push(k);
            }
        }
        out.push(AccessListItem {
            address,
            storage_keys,
        });
    }
    out
}

/// An authorization list kept as its RLP item, as Kaia prints it; a malformed tail is left out.
fn decode_authorizations(raw: &[u8]) -> Vec<RpcAuthorization> {
    let mut out = Vec::new();
    let Ok(mut l) = ListReader::from_bytes(raw, "authorizationList") else {
        return out;
    };
    while !l.is_empty() {
        let Ok(mut a) = l.list("authorization") else {
            break;
        };
        let parts = (|| {
            Ok::<_, DecodeError>(RpcAuthorization {
                chain_id: a.u256("chainId")?,
                address: a.address("address")?,
                nonce: a.u64("nonce")?,
                y_parity: a.u8("yParity")?,
                r: a.u256("r")?,
                s: a.u256("s")?,
            })
        })();
        match parts {
            Ok(v) => out.push(v),
            Err(_) => break,
        }
    }
    out
}

fn rpc_sigs(list: &[TxSig]) -> Vec<RpcSig> {
    list.iter().copied().map(RpcSig::from).collect()
}

/// One transaction in the shape of Kaia's `newRPCTransaction` (without the block context), with
/// `hash`, `senderTxHash` and `from` computed from the transaction itself.
pub fn tx_to_json(tx: &Transaction) -> Value {
    serde_json::to_value(tx_to_rpc(tx)).unwrap_or_default()
}

fn tx_to_rpc(tx: &Transaction) -> RpcTx {
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
    let mut t = RpcTx {
        type_int: Some(tx.tx_type.0),
        type_name: Some(kaia_type_name(tx.tx_type)),
        hash: Some(hash),
        sender_tx_hash: Some(sender_tx_hash),
        from: recovered_sender(tx_ref),
        nonce: Some(tx.nonce()),
        gas: Some(tx.gas()),
        value: Some(tx.value()),
        input: Some(tx.input().clone()),
        signatures: Some(rpc_sigs(&tx.signatures)),
        ..Default::default()
    };
    match &tx.body {
        TxBody::Legacy(l) => {
            t.gas_price = Some(l.gas_price);
            t.to = Some(l.to);
        }
        TxBody::Kaia(k) => {
            // Each type prints the keys of its own fields (`MakeRPCOutput`).
            let layout = tx.tx_type.kaia_layout().unwrap_or(&[]);
            let has = |f: KaiaField| layout.contains(&f);
            t.gas_price = Some(k.gas_price);
            t.to = (has(KaiaField::To) || has(KaiaField::ToOpt)).then_some(k.to);
            t.input = t.input.filter(|_| has(KaiaField::Input));
            t.value = t.value.filter(|_| has(KaiaField::Value));
            t.human_readable = has(KaiaField::HumanReadable).then_some(k.human_readable);
            t.code_format = has(KaiaField::CodeFormat).then_some(k.code_format);
            t.fee_ratio = has(KaiaField::FeeRatio).then_some(k.fee_ratio);
            t.key = has(KaiaField::Key).then(|| k.key.clone());
            if tx.tx_type.is_fee_delegated() {
                t.fee_payer = tx.fee_payer;
                t.fee_payer_signatures = Some(rpc_sigs(&tx.fee_payer_signatures));
            }
        }
        TxBody::Eth(e) => {
            t.chain_id = Some(e.chain_id);
            if tx.tx_type == TxType::ETH_ACCESS_LIST {
                t.gas_price = Some(e.gas_tip_cap);
            } else {
                t.max_priority_fee_per_gas = Some(e.gas_tip_cap);
                t.max_fee_per_gas = Some(e.gas_fee_cap);
            }
            t.to = Some(e.to);
            t.access_list = Some(decode_access_list(&e.access_list));
            if tx.tx_type == TxType::ETH_BLOB {
                t.max_fee_per_blob_gas = Some(e.blob_fee_cap);
                t.blob_versioned_hashes = Some(e.blob_hashes.clone());
            }
            if tx.tx_type == TxType::ETH_SET_CODE {
                t.authorization_list = Some(decode_authorizations(&e.authorizations));
            }
        }
    }
    t
}

/// A block in the shape Kaia's `kaia_getBlockByNumber(number, true)` prints, with `hash`, tx
/// hashes and senders computed here. The header key is `blockScore` (Kaia); the tail keys appear
/// exactly when the header carries the field.
pub fn block_to_json(block: &Block) -> Value {
    let h = &block.header;
    let bh = block_hash(h);
    let transactions = block
        .transactions
        .iter()
        .enumerate()
        .map(|(i, tx)| {
            let mut t = tx_to_rpc(tx);
            t.block_hash = Some(bh);
            t.block_number = Some(h.number);
            t.transaction_index = Some(i as u64);
            TxEntry::Object(Box::new(t))
        })
        .collect();
    let b = RpcBlock {
        hash: Some(bh),
        number: h.number,
        parent_hash: h.parent_hash,
        reward: h.rewardbase,
        state_root: h.state_root,
        transactions_root: h.tx_root,
        receipts_root: h.receipts_root,
        logs_bloom: h.bloom,
        block_score: h.block_score,
        gas_used: h.gas_used,
        timestamp: h.time,
        timestamp_fos: h.time_fos,
        extra_data: h.extra.clone(),
        governance_data: h.governance.clone(),
        vote_data: Some(h.vote.clone()),
        base_fee_per_gas: h.base_fee,
        random_reveal: h.random_reveal.clone(),
        mix_hash: h.mix_hash.clone(),
        blob_gas_used: h.blob_gas_used,
        excess_blob_gas: h.excess_blob_gas,
        size: Some(encode_block(block).len() as u64),
        transactions: Some(transactions),
    };
    serde_json::to_value(b).unwrap_or_default()
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
