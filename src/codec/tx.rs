//! Transaction codec: raw bytes <-> `Transaction`, and the preimages of every hash a verifier
//! needs (tx hash, sender tx hash, sender and fee-payer sig hashes), per KAIA.md §1–§2.
//!
//! Decoding is strict (canonical RLP, exact field counts), so `encode(decode(raw)) == raw` and the
//! preimages, which are re-encoded from the typed fields, are exactly what the signer hashed.

use super::DecodeError;
use super::rlp::{Item, ListReader, put_bytes, wrap_list};
use crate::primitives::{
    EthFields, KaiaField, KaiaFields, LegacyFields, Transaction, TxBody, TxSig, TxType,
};
use alloy_primitives::{Address, Bytes, U256};
use alloy_rlp::Encodable;

/// Raw transactions larger than this are rejected before decoding. Kaia's pool limit is 128 KiB
/// (`MaxTxDataSize`); anything above it cannot be in a valid block.
pub const MAX_TX_BYTES: usize = 128 * 1024;

/// The Ethereum-typed envelope byte.
pub const ETH_ENVELOPE: u8 = 0x78;

/// Decodes one raw transaction (legacy, Kaia-native or 0x78-enveloped).
pub fn decode_tx(raw: &[u8]) -> Result<Transaction, DecodeError> {
    if raw.len() > MAX_TX_BYTES {
        return Err(DecodeError::TooLarge {
            len: raw.len(),
            max: MAX_TX_BYTES,
        });
    }
    let Some(&first) = raw.first() else {
        return Err(DecodeError::rlp(
            "transaction",
            alloy_rlp::Error::InputTooShort,
        ));
    };
    let tx = if first >= 0xc0 {
        decode_legacy(raw)?
    } else if first == ETH_ENVELOPE {
        let Some(&eb) = raw.get(1) else {
            return Err(DecodeError::invalid(
                "transaction",
                "0x78 envelope with no Ethereum type byte",
            ));
        };
        if !(1..=4).contains(&eb) {
            return Err(DecodeError::UnknownTxType(0x7800 | eb as u16));
        }
        if raw.len() == 2 {
            return Err(DecodeError::invalid(
                "transaction",
                "0x78 envelope with no payload",
            ));
        }
        decode_eth(TxType(0x7800 | eb as u16), raw)?
    } else {
        let ty = TxType(first as u16);
        if ty == TxType::ACCOUNT_CREATION {
            return Err(DecodeError::DisabledTxType(first as u16));
        }
        if !ty.is_kaia() {
            return Err(DecodeError::UnknownTxType(first as u16));
        }
        decode_kaia(ty, raw)?
    };
    Ok(tx)
}

/// How a standalone raw transaction was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxForm {
    /// Kaia's own form: a Kaia type byte, or `0x78 || ethType || RLP(...)` for Ethereum types.
    Kaia,
    /// Ethereum's EIP-2718 form `ethType || RLP(...)`, as wallets and `eth_getRawTransaction` give
    /// an Ethereum-typed transaction.
    Ethereum,
    /// A legacy transaction: a bare RLP list, the same bytes in both forms.
    Legacy,
}

impl TxForm {
    /// The name used in output: `kaia`, `ethereum` or `legacy`.
    pub fn as_str(self) -> &'static str {
        match self {
            TxForm::Kaia => "kaia",
            TxForm::Ethereum => "ethereum",
            TxForm::Legacy => "legacy",
        }
    }
}

/// First bytes read as Ethereum's typed form. Kaia's `eth_sendRawTransaction` (kaiachain/kaia
/// `api/api_eth.go`, `EthAPI.SendRawTransaction`) reads every first byte in `0x01..0x7f` that
/// way, because that endpoint only takes Ethereum transactions; a standalone decoder must also
/// take Kaia's own types, which start at 0x08 (ValueTransfer), so it keeps `0x01..=0x07`.
const ETH_FORM_TYPES: std::ops::RangeInclusive<u8> = 0x01..=0x07;

/// Decodes one standalone raw transaction written in either form: Kaia's (`decode_tx`) or
/// Ethereum's EIP-2718 typed form, which is read as Kaia reads it, with the 0x78 envelope in front.
///
/// Both forms give the same `Transaction` (its `raw` is Kaia's form, as in a block), hence the
/// same hashes: Kaia's tx hash and sig hash of an Ethereum-typed transaction are keccak over
/// `ethType || RLP(...)` without the envelope (`EthTxHash`, `prefixedRlpHash` in
/// `blockchain/types/tx_internal_data_ethereum_*.go`), i.e. Ethereum's own hashes.
///
/// A first byte in `ETH_FORM_TYPES` is Ethereum's form; a type Kaia does not know there
/// (0x05..=0x07) is `UnknownTxType(0x7805..)`, named as Kaia would name it.
pub fn decode_standalone_tx(raw: &[u8]) -> Result<(Transaction, TxForm), DecodeError> {
    match raw.first() {
        Some(b) if ETH_FORM_TYPES.contains(b) => {
            if raw.len() > MAX_TX_BYTES {
                return Err(DecodeError::TooLarge {
                    len: raw.len(),
                    max: MAX_TX_BYTES,
                });
            }
            let mut enveloped = Vec::with_capacity(raw.len() + 1);
            enveloped.push(ETH_ENVELOPE);
            enveloped.extend_from_slice(raw);
            Ok((decode_tx(&enveloped)?, TxForm::Ethereum))
        }
        Some(&b) if b >= 0xc0 => Ok((decode_tx(raw)?, TxForm::Legacy)),
        _ => Ok((decode_tx(raw)?, TxForm::Kaia)),
    }
}

/// Splits the next transaction off a block's transaction list, where a Kaia tx is two items
/// (type byte, list) and an Ethereum-typed one three (0x78, type byte, list). Returns its raw bytes.
pub fn next_tx_in_block<'a>(list: &mut ListReader<'a>) -> Result<&'a [u8], DecodeError> {
    let start = list.remaining();
    let first = list.item("transaction")?;
    let used = if first.is_list {
        first.raw.len()
    } else if first.raw == [ETH_ENVELOPE] {
        let ty = list.item("transaction.eth_type")?;
        let body = list.item("transaction.payload")?;
        expect_list(body, "transaction.payload")?;
        first.raw.len() + ty.raw.len() + body.raw.len()
    } else {
        let body = list.item("transaction.payload")?;
        expect_list(body, "transaction.payload")?;
        first.raw.len() + body.raw.len()
    };
    Ok(&start[..used])
}

fn expect_list(it: Item<'_>, field: &'static str) -> Result<(), DecodeError> {
    if it.is_list {
        Ok(())
    } else {
        Err(DecodeError::rlp(field, alloy_rlp::Error::UnexpectedString))
    }
}

fn read_sig(r: &mut ListReader<'_>) -> Result<TxSig, DecodeError> {
    Ok(TxSig {
        v: r.u256("signature.v")?,
        r: r.u256("signature.r")?,
        s: r.u256("signature.s")?,
    })
}

fn read_sig_list(r: &mut ListReader<'_>, field: &'static str) -> Result<Vec<TxSig>, DecodeError> {
    let mut l = r.list(field)?;
    let mut out = Vec::new();
    while !l.is_empty() {
        let mut s = l.list("signature")?;
        out.push(read_sig(&mut s)?);
        s.finish()?;
    }
    Ok(out)
}

fn decode_legacy(raw: &[u8]) -> Result<Transaction, DecodeError> {
    let mut r = ListReader::from_bytes(raw, "legacy transaction")?;
    let body = LegacyFields {
        nonce: r.u64("nonce")?,
        gas_price: r.u256("gasPrice")?,
        gas: r.u64("gas")?,
        to: r.opt_address("to")?,
        value: r.u256("value")?,
        input: Bytes::copy_from_slice(r.bytes("input")?),
    };
    let sig = read_sig(&mut r)?;
    r.finish()?;
    Ok(Transaction {
        tx_type: TxType::LEGACY,
        body: TxBody::Legacy(body),
        signatures: vec![sig],
        fee_payer: None,
        fee_payer_signatures: Vec::new(),
        raw: Bytes::copy_from_slice(raw),
    })
}

fn read_kaia_fields(
    layout: &[KaiaField],
    r: &mut ListReader<'_>,
) -> Result<KaiaFields, DecodeError> {
    let mut k = KaiaFields::default();
    for f in layout {
        match f {
            KaiaField::Nonce => k.nonce = r.u64("nonce")?,
            KaiaField::GasPrice => k.gas_price = r.u256("gasPrice")?,
            KaiaField::Gas => k.gas = r.u64("gas")?,
            KaiaField::To => k.to = Some(r.address("to")?),
            KaiaField::ToOpt => k.to = r.opt_address("to")?,
            KaiaField::Value => k.value = r.u256("value")?,
            KaiaField::From => k.from = r.address("from")?,
            KaiaField::Input => k.input = Bytes::copy_from_slice(r.bytes("input")?),
            KaiaField::HumanReadable => k.human_readable = r.bool("humanReadable")?,
            KaiaField::CodeFormat => k.code_format = r.u8("codeFormat")?,
            KaiaField::FeeRatio => k.fee_ratio = r.u8("feeRatio")?,
            KaiaField::Key => k.key = Bytes::copy_from_slice(r.bytes("key")?),
        }
    }
    Ok(k)
}

fn decode_kaia(ty: TxType, raw: &[u8]) -> Result<Transaction, DecodeError> {
    let layout = ty.kaia_layout().ok_or(DecodeError::UnknownTxType(ty.0))?;
    let mut r = ListReader::from_bytes(&raw[1..], "kaia transaction")?;
    let body = read_kaia_fields(layout, &mut r)?;
    let signatures = read_sig_list(&mut r, "txSignatures")?;
    let (fee_payer, fee_payer_signatures) = if ty.is_fee_delegated() {
        (
            Some(r.address("feePayer")?),
            read_sig_list(&mut r, "feePayerSignatures")?,
        )
    } else {
        (None, Vec::new())
    };
    r.finish()?;
    Ok(Transaction {
        tx_type: ty,
        body: TxBody::Kaia(body),
        signatures,
        fee_payer,
        fee_payer_signatures,
        raw: Bytes::copy_from_slice(raw),
    })
}

/// Checks an access list item: `[[address, [storageKey...]]...]`.
fn check_access_list(it: Item<'_>) -> Result<(), DecodeError> {
    let mut l = ListReader::new(it, "accessList")?;
    while !l.is_empty() {
        let mut entry = l.list("accessList.entry")?;
        entry.address("accessList.address")?;
        let mut keys = entry.list("accessList.storageKeys")?;
        while !keys.is_empty() {
            keys.b256("accessList.storageKey")?;
        }
        entry.finish()?;
    }
    Ok(())
}

/// Checks an authorization list item: `[[chainId, address, nonce, yParity, r, s]...]`.
fn check_authorizations(it: Item<'_>) -> Result<(), DecodeError> {
    let mut l = ListReader::new(it, "authorizationList")?;
    while !l.is_empty() {
        let mut a = l.list("authorization")?;
        a.u256("authorization.chainId")?;
        a.address("authorization.address")?;
        a.u64("authorization.nonce")?;
        a.u8("authorization.yParity")?;
        a.u256("authorization.r")?;
        a.u256("authorization.s")?;
        a.finish()?;
    }
    Ok(())
}

fn decode_eth(ty: TxType, raw: &[u8]) -> Result<Transaction, DecodeError> {
    let mut r = ListReader::from_bytes(&raw[2..], "ethereum transaction")?;
    let mut e = EthFields {
        chain_id: r.u256("chainId")?,
        nonce: r.u64("nonce")?,
        ..Default::default()
    };
    if ty == TxType::ETH_ACCESS_LIST {
        e.gas_tip_cap = r.u256("gasPrice")?;
    } else {
        e.gas_tip_cap = r.u256("gasTipCap")?;
        e.gas_fee_cap = r.u256("gasFeeCap")?;
    }
    e.gas = r.u64("gas")?;
    e.to = if ty.0 <= 0x7802 {
        r.opt_address("to")?
    } else {
        Some(r.address("to")?)
    };
    e.value = r.u256("value")?;
    e.data = Bytes::copy_from_slice(r.bytes("data")?);
    let al = r.item("accessList")?;
    check_access_list(al)?;
    // An empty list is kept as empty bytes: one representation per value.
    e.access_list = if al.payload.is_empty() {
        Bytes::new()
    } else {
        Bytes::copy_from_slice(al.raw)
    };
    if ty == TxType::ETH_BLOB {
        e.blob_fee_cap = r.u256("blobFeeCap")?;
        let mut hl = r.list("blobHashes")?;
        while !hl.is_empty() {
            e.blob_hashes.push(hl.b256("blobHash")?);
        }
    }
    if ty == TxType::ETH_SET_CODE {
        let au = r.item("authorizationList")?;
        check_authorizations(au)?;
        e.authorizations = if au.payload.is_empty() {
            Bytes::new()
        } else {
            Bytes::copy_from_slice(au.raw)
        };
    }
    let sig = read_sig(&mut r)?;
    r.finish()?;
    Ok(Transaction {
        tx_type: ty,
        body: TxBody::Eth(Box::new(e)),
        signatures: vec![sig],
        fee_payer: None,
        fee_payer_signatures: Vec::new(),
        raw: Bytes::copy_from_slice(raw),
    })
}

// ---------------------------------------------------------------------------------------------
// Encoding

fn put_opt_address(a: &Option<Address>, out: &mut Vec<u8>) {
    match a {
        Some(a) => a.encode(out),
        None => out.push(0x80),
    }
}

fn put_sig(s: &TxSig, out: &mut Vec<u8>) {
    let mut p = Vec::with_capacity(70);
    s.v.encode(&mut p);
    s.r.encode(&mut p);
    s.s.encode(&mut p);
    out.extend_from_slice(&wrap_list(&p));
}

fn put_sig_list(sigs: &[TxSig], out: &mut Vec<u8>) {
    let mut p = Vec::with_capacity(sigs.len() * 72);
    for s in sigs {
        put_sig(s, &mut p);
    }
    out.extend_from_slice(&wrap_list(&p));
}

/// The encoded signed fields F of a Kaia-native transaction, items concatenated (no list header).
fn kaia_fields_payload(layout: &[KaiaField], k: &KaiaFields) -> Vec<u8> {
    let mut p = Vec::with_capacity(128 + k.input.len() + k.key.len());
    for f in layout {
        match f {
            KaiaField::Nonce => k.nonce.encode(&mut p),
            KaiaField::GasPrice => k.gas_price.encode(&mut p),
            KaiaField::Gas => k.gas.encode(&mut p),
            KaiaField::To | KaiaField::ToOpt => put_opt_address(&k.to, &mut p),
            KaiaField::Value => k.value.encode(&mut p),
            KaiaField::From => k.from.encode(&mut p),
            KaiaField::Input => put_bytes(&k.input, &mut p),
            KaiaField::HumanReadable => (k.human_readable as u8).encode(&mut p),
            KaiaField::CodeFormat => k.code_format.encode(&mut p),
            KaiaField::FeeRatio => k.fee_ratio.encode(&mut p),
            KaiaField::Key => put_bytes(&k.key, &mut p),
        }
    }
    p
}

fn legacy_fields_payload(l: &LegacyFields) -> Vec<u8> {
    let mut p = Vec::with_capacity(64 + l.input.len());
    l.nonce.encode(&mut p);
    l.gas_price.encode(&mut p);
    l.gas.encode(&mut p);
    put_opt_address(&l.to, &mut p);
    l.value.encode(&mut p);
    put_bytes(&l.input, &mut p);
    p
}

fn eth_fields_payload(ty: TxType, e: &EthFields) -> Vec<u8> {
    let mut p = Vec::with_capacity(128 + e.data.len() + e.access_list.len());
    e.chain_id.encode(&mut p);
    e.nonce.encode(&mut p);
    e.gas_tip_cap.encode(&mut p);
    if ty != TxType::ETH_ACCESS_LIST {
        e.gas_fee_cap.encode(&mut p);
    }
    e.gas.encode(&mut p);
    put_opt_address(&e.to, &mut p);
    e.value.encode(&mut p);
    put_bytes(&e.data, &mut p);
    p.extend_from_slice(if e.access_list.is_empty() {
        &[0xc0]
    } else {
        &e.access_list
    });
    if ty == TxType::ETH_BLOB {
        e.blob_fee_cap.encode(&mut p);
        e.blob_hashes.encode(&mut p);
    }
    if ty == TxType::ETH_SET_CODE {
        p.extend_from_slice(if e.authorizations.is_empty() {
            &[0xc0]
        } else {
            &e.authorizations
        });
    }
    p
}

fn sig_fields(s: &TxSig, out: &mut Vec<u8>) {
    s.v.encode(out);
    s.r.encode(out);
    s.s.encode(out);
}

/// Encodes a transaction to its raw form from its typed fields (ignores `tx.raw`).
pub fn encode_tx(tx: &Transaction) -> Vec<u8> {
    let first_sig = tx.signatures.first().copied().unwrap_or_default();
    match &tx.body {
        TxBody::Legacy(l) => {
            let mut p = legacy_fields_payload(l);
            sig_fields(&first_sig, &mut p);
            wrap_list(&p)
        }
        TxBody::Kaia(k) => {
            let layout = tx.tx_type.kaia_layout().unwrap_or(&[]);
            let mut p = kaia_fields_payload(layout, k);
            put_sig_list(&tx.signatures, &mut p);
            if tx.tx_type.is_fee_delegated() {
                tx.fee_payer.unwrap_or_default().encode(&mut p);
                put_sig_list(&tx.fee_payer_signatures, &mut p);
            }
            let mut out = vec![tx.tx_type.0 as u8];
            out.extend_from_slice(&wrap_list(&p));
            out
        }
        TxBody::Eth(e) => {
            let mut p = eth_fields_payload(tx.tx_type, e);
            sig_fields(&first_sig, &mut p);
            let mut out = vec![ETH_ENVELOPE, tx.tx_type.eth_byte()];
            out.extend_from_slice(&wrap_list(&p));
            out
        }
    }
}

/// Sets `tx.raw` from the typed fields; returns the transaction.
pub fn seal_raw(mut tx: Transaction) -> Transaction {
    tx.raw = Bytes::from(encode_tx(&tx));
    tx
}

/// `rlp([type, F...])` of a Kaia-native transaction: what both sig hashes wrap.
fn kaia_inner(tx: &Transaction, k: &KaiaFields) -> Vec<u8> {
    let layout = tx.tx_type.kaia_layout().unwrap_or(&[]);
    let mut p = Vec::new();
    (tx.tx_type.0 as u64).encode(&mut p);
    p.extend_from_slice(&kaia_fields_payload(layout, k));
    wrap_list(&p)
}

/// The preimage of the sender sig hash under `chain_id` (the signer's chain id; for Ethereum
/// types the tx's own chainId is used unless it is zero).
///
/// Legacy with an unprotected v (27/28) uses the Frontier form, six fields and no chain id.
pub fn sig_preimage(tx: &Transaction, chain_id: u64) -> Vec<u8> {
    match &tx.body {
        TxBody::Legacy(l) => {
            let mut p = legacy_fields_payload(l);
            let unprotected = tx
                .signatures
                .first()
                .is_some_and(|s| s.v == 27 || s.v == 28);
            if !unprotected {
                chain_id.encode(&mut p);
                0u8.encode(&mut p);
                0u8.encode(&mut p);
            }
            wrap_list(&p)
        }
        TxBody::Kaia(k) => {
            let inner = kaia_inner(tx, k);
            let mut p = Vec::with_capacity(inner.len() + 16);
            put_bytes(&inner, &mut p);
            chain_id.encode(&mut p);
            0u8.encode(&mut p);
            0u8.encode(&mut p);
            wrap_list(&p)
        }
        TxBody::Eth(e) => {
            let mut e2;
            let e = if e.chain_id.is_zero() {
                e2 = e.clone();
                e2.chain_id = U256::from(chain_id);
                &e2
            } else {
                e
            };
            let mut out = vec![tx.tx_type.eth_byte()];
            out.extend_from_slice(&wrap_list(&eth_fields_payload(tx.tx_type, e)));
            out
        }
    }
}

/// The preimage of the fee-payer sig hash, for fee-delegated types.
pub fn fee_payer_sig_preimage(tx: &Transaction, chain_id: u64) -> Option<Vec<u8>> {
    let (TxBody::Kaia(k), Some(fp)) = (&tx.body, tx.fee_payer) else {
        return None;
    };
    let inner = kaia_inner(tx, k);
    let mut p = Vec::with_capacity(inner.len() + 40);
    put_bytes(&inner, &mut p);
    fp.encode(&mut p);
    chain_id.encode(&mut p);
    0u8.encode(&mut p);
    0u8.encode(&mut p);
    Some(wrap_list(&p))
}

/// The preimage of the tx hash: the raw bytes, without the 0x78 envelope for Ethereum types.
pub fn tx_hash_preimage(tx: &Transaction) -> &[u8] {
    if tx.tx_type.is_eth() {
        &tx.raw[1..]
    } else {
        &tx.raw
    }
}

/// The preimage of the sender tx hash: `type || rlp([F..., txSignatures])` for fee-delegated
/// types; for others the sender tx hash is the tx hash (`None` here).
pub fn sender_tx_hash_preimage(tx: &Transaction) -> Option<Vec<u8>> {
    let TxBody::Kaia(k) = &tx.body else {
        return None;
    };
    if !tx.tx_type.is_fee_delegated() {
        return None;
    }
    let layout = tx.tx_type.kaia_layout().unwrap_or(&[]);
    let mut p = kaia_fields_payload(layout, k);
    put_sig_list(&tx.signatures, &mut p);
    let mut out = vec![tx.tx_type.0 as u8];
    out.extend_from_slice(&wrap_list(&p));
    Some(out)
}
