//! Istanbul BFT header rules: block hash, sigHash, the messages the proposer seal and committed
//! seals sign, the quorum size, and sealing (for the devnet, tests and benchmarks).

use crate::codec::header::{
    decode_extra, encode_extra_parts, encode_header, encode_header_with_extra,
};
use crate::crypto::{keccak256, keccak256_concat, secp::SigningKey};
use crate::primitives::{Header, IstanbulExtra};
use alloy_primitives::{B256, Bytes};

/// Istanbul's commit message code, appended to the block hash in committed seals.
pub const MSG_COMMIT: u8 = 0x02;

/// The header's Extra rewritten for hashing: round byte zeroed, committed seals dropped, the
/// proposer seal kept (block hash) or emptied (sigHash). `None` when Extra does not decode.
fn filtered_extra(h: &Header, keep_seal: bool) -> Option<Vec<u8>> {
    let e = decode_extra(&h.extra).ok()?;
    Some(filtered_extra_of(&e, keep_seal))
}

fn filtered_extra_of(e: &IstanbulExtra, keep_seal: bool) -> Vec<u8> {
    let mut vanity = e.vanity;
    vanity[31] = 0;
    let seal: &[u8] = if keep_seal { &e.seal } else { &[] };
    encode_extra_parts(&vanity, &e.validators, seal, &[])
}

/// The preimage of the block hash.
pub fn block_hash_preimage(h: &Header) -> Vec<u8> {
    match filtered_extra(h, true) {
        Some(x) => encode_header_with_extra(h, &x),
        None => encode_header(h),
    }
}

/// The block-hash and sigHash preimages of a header whose Extra the caller already decoded
/// (`extra` is `decode_extra(&h.extra)`), so the pipeline decodes each Extra once, not three times.
pub fn hash_preimages(
    h: &Header,
    extra: Result<&IstanbulExtra, &crate::codec::DecodeError>,
) -> (Vec<u8>, Option<Vec<u8>>) {
    match extra {
        Ok(e) => (
            encode_header_with_extra(h, &filtered_extra_of(e, true)),
            Some(encode_header_with_extra(h, &filtered_extra_of(e, false))),
        ),
        Err(_) => (encode_header(h), None),
    }
}

/// The preimage of the sigHash (what the proposer's seal covers, hashed once more). `None` when
/// Extra does not decode: such a header has no valid seal.
pub fn sig_hash_preimage(h: &Header) -> Option<Vec<u8>> {
    filtered_extra(h, false).map(|x| encode_header_with_extra(h, &x))
}

/// The block hash.
pub fn block_hash(h: &Header) -> B256 {
    keccak256(&block_hash_preimage(h))
}

/// The sigHash.
pub fn sig_hash(h: &Header) -> Option<B256> {
    sig_hash_preimage(h).map(|p| keccak256(&p))
}

/// The hash the proposer seal signs: keccak256(sigHash).
pub fn proposer_seal_message(sig_hash: &B256) -> B256 {
    keccak256(sig_hash.as_slice())
}

/// The hash a committed seal signs: keccak256(blockHash || 0x02).
pub fn committed_seal_message(block_hash: &B256) -> B256 {
    keccak256_concat(&[block_hash.as_slice(), &[MSG_COMMIT]])
}

/// F, the number of faulty members tolerated: `ceil(min(council, committee) / 3) - 1`.
pub fn max_faulty(council: usize, committee_size: Option<u64>) -> usize {
    let n = match committee_size {
        Some(c) => council.min(usize::try_from(c).unwrap_or(usize::MAX)),
        None => council,
    };
    n.div_ceil(3).saturating_sub(1)
}

/// Valid distinct seals a block needs: 2F + 1.
pub fn required_seals(council: usize, committee_size: Option<u64>) -> usize {
    2 * max_faulty(council, committee_size) + 1
}

/// Seals a header in place: writes the proposer seal over its sigHash, then committed seals
/// from `committers` over its block hash. `header.extra` must hold the vanity and validators
/// (seals are replaced). `round` goes into vanity byte 31.
pub fn seal_header(
    header: &mut Header,
    validators: &[alloy_primitives::Address],
    round: u8,
    proposer: &SigningKey,
    committers: &[&SigningKey],
) {
    let mut vanity = [0u8; 32];
    vanity[31] = round;
    header.extra = Bytes::from(encode_extra_parts(&vanity, validators, &[], &[]));
    let sh = sig_hash(header).unwrap_or_default();
    let seal = proposer.sign(&proposer_seal_message(&sh));
    header.extra = Bytes::from(encode_extra_parts(&vanity, validators, &seal.0, &[]));
    let bh = block_hash(header);
    let msg = committed_seal_message(&bh);
    let committed: Vec<Bytes> = committers
        .iter()
        .map(|k| Bytes::copy_from_slice(&k.sign(&msg).0))
        .collect();
    header.extra = Bytes::from(encode_extra_parts(&vanity, validators, &seal.0, &committed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_sizes() {
        assert_eq!(required_seals(4, None), 3);
        assert_eq!(required_seals(1, None), 1);
        assert_eq!(required_seals(7, None), 5);
        assert_eq!(required_seals(40, Some(22)), 15);
        assert_eq!(required_seals(100, Some(50)), 33);
    }
}
