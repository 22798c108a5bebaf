//! Header codec (14 fields plus up to 5 tail fields) and the Istanbul extra-data codec.

use super::DecodeError;
use super::rlp::{ListReader, put_bytes, wrap_list};
use crate::primitives::{Header, IstanbulExtra};
use alloy_primitives::{Address, Bloom, Bytes};
use alloy_rlp::Encodable;

/// Length of the Istanbul vanity prefix of `Extra`.
pub const VANITY_LEN: usize = 32;

/// Decodes a header from a list reader positioned on its fields.
pub fn read_header(mut r: ListReader<'_>) -> Result<Header, DecodeError> {
    let mut h = Header {
        parent_hash: r.b256("parentHash")?,
        rewardbase: r.address("rewardbase")?,
        state_root: r.b256("stateRoot")?,
        tx_root: r.b256("transactionsRoot")?,
        receipts_root: r.b256("receiptsRoot")?,
        bloom: Bloom::from(r.fixed::<256>("logsBloom")?),
        block_score: r.u256("blockScore")?,
        number: r.u64("number")?,
        gas_used: r.u64("gasUsed")?,
        time: r.u64("timestamp")?,
        time_fos: r.u8("timestampFoS")?,
        extra: Bytes::copy_from_slice(r.bytes("extraData")?),
        governance: Bytes::copy_from_slice(r.bytes("governanceData")?),
        vote: Bytes::copy_from_slice(r.bytes("voteData")?),
        ..Default::default()
    };
    if !r.is_empty() {
        h.base_fee = Some(r.u256("baseFeePerGas")?);
    }
    if !r.is_empty() {
        h.random_reveal = Some(Bytes::copy_from_slice(r.bytes("randomReveal")?));
    }
    if !r.is_empty() {
        h.mix_hash = Some(Bytes::copy_from_slice(r.bytes("mixHash")?));
    }
    if !r.is_empty() {
        h.blob_gas_used = Some(r.u64("blobGasUsed")?);
    }
    if !r.is_empty() {
        h.excess_blob_gas = Some(r.u64("excessBlobGas")?);
    }
    if !r.is_empty() {
        let mut extra = 0;
        let mut rest = r.remaining();
        while !rest.is_empty() {
            super::rlp::next_item(&mut rest, "header")?;
            extra += 1;
        }
        return Err(DecodeError::HeaderFieldCount(19 + extra));
    }
    // A tail field after a missing one cannot be expressed positionally: the checks above
    // fill them in order, so `Some` fields always form a prefix of the tail.
    Ok(h)
}

/// Decodes a header that makes up all of `raw`.
pub fn decode_header(raw: &[u8]) -> Result<Header, DecodeError> {
    read_header(ListReader::from_bytes(raw, "header")?)
}

/// Encodes a header, with `extra` in place of `h.extra`.
pub fn encode_header_with_extra(h: &Header, extra: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(600 + extra.len());
    h.parent_hash.encode(&mut p);
    h.rewardbase.encode(&mut p);
    h.state_root.encode(&mut p);
    h.tx_root.encode(&mut p);
    h.receipts_root.encode(&mut p);
    put_bytes(h.bloom.as_slice(), &mut p);
    h.block_score.encode(&mut p);
    h.number.encode(&mut p);
    h.gas_used.encode(&mut p);
    h.time.encode(&mut p);
    h.time_fos.encode(&mut p);
    put_bytes(extra, &mut p);
    put_bytes(&h.governance, &mut p);
    put_bytes(&h.vote, &mut p);
    // The tail is positional: encode up to the last present field, zero-filling earlier gaps
    // (a decoded header never has gaps; a hand-built one gets Kaia's own behaviour).
    let last = [
        h.excess_blob_gas.is_some(),
        h.blob_gas_used.is_some(),
        h.mix_hash.is_some(),
        h.random_reveal.is_some(),
        h.base_fee.is_some(),
    ]
    .iter()
    .position(|&b| b)
    .map(|i| 5 - i)
    .unwrap_or(0);
    if last >= 1 {
        h.base_fee.unwrap_or_default().encode(&mut p);
    }
    if last >= 2 {
        put_bytes(
            h.random_reveal.as_deref().map_or(&[][..], |b| &b[..]),
            &mut p,
        );
    }
    if last >= 3 {
        put_bytes(h.mix_hash.as_deref().map_or(&[][..], |b| &b[..]), &mut p);
    }
    if last >= 4 {
        h.blob_gas_used.unwrap_or_default().encode(&mut p);
    }
    if last >= 5 {
        h.excess_blob_gas.unwrap_or_default().encode(&mut p);
    }
    wrap_list(&p)
}

/// Encodes a header as it is.
pub fn encode_header(h: &Header) -> Vec<u8> {
    encode_header_with_extra(h, &h.extra)
}

/// Decodes the Istanbul extra-data.
pub fn decode_extra(extra: &[u8]) -> Result<IstanbulExtra, DecodeError> {
    if extra.len() < VANITY_LEN {
        return Err(DecodeError::Length {
            field: "extraData.vanity",
            expected: VANITY_LEN,
            got: extra.len(),
        });
    }
    let mut vanity = [0u8; VANITY_LEN];
    vanity.copy_from_slice(&extra[..VANITY_LEN]);
    let mut r = ListReader::from_bytes(&extra[VANITY_LEN..], "extraData.istanbul")?;
    let mut vl = r.list("extraData.validators")?;
    let mut validators = Vec::new();
    while !vl.is_empty() {
        validators.push(vl.address("extraData.validator")?);
    }
    let seal = Bytes::copy_from_slice(r.bytes("extraData.seal")?);
    let mut cl = r.list("extraData.committedSeals")?;
    let mut committed_seals = Vec::new();
    while !cl.is_empty() {
        committed_seals.push(Bytes::copy_from_slice(cl.bytes("extraData.committedSeal")?));
    }
    r.finish()?;
    Ok(IstanbulExtra {
        vanity,
        validators,
        seal,
        committed_seals,
    })
}

/// Encodes Istanbul extra-data.
pub fn encode_extra(e: &IstanbulExtra) -> Vec<u8> {
    encode_extra_parts(&e.vanity, &e.validators, &e.seal, &e.committed_seals)
}

/// Encodes Istanbul extra-data from its parts.
pub fn encode_extra_parts(
    vanity: &[u8; 32],
    validators: &[Address],
    seal: &[u8],
    committed: &[Bytes],
) -> Vec<u8> {
    let mut p = Vec::with_capacity(validators.len() * 21 + 70 + committed.len() * 67);
    alloy_rlp::encode_list::<_, Address>(validators, &mut p);
    put_bytes(seal, &mut p);
    let mut cs = Vec::with_capacity(committed.len() * 67);
    for c in committed {
        put_bytes(c, &mut cs);
    }
    p.extend_from_slice(&wrap_list(&cs));
    let mut out = vanity.to_vec();
    out.extend_from_slice(&wrap_list(&p));
    out
}
