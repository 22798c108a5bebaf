//! Property tests of the codecs: encode/decode round trips for every transaction type and every
//! header variant, and mutation tests (flipped, cut and spliced bytes of real vectors and random
//! bytes) that must end in a precise error or a value that re-encodes to the same bytes — never
//! a panic. `cargo fuzz` (see README) runs the same properties with coverage guidance.

use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use proptest::prelude::*;
use ranger::codec::block::{BlockOrHeader, decode_block, decode_block_or_header, encode_block};
use ranger::codec::header::{decode_header, encode_header};
use ranger::codec::tx::{decode_tx, encode_tx, seal_raw};
use ranger::primitives::{
    Block, EthFields, Header, KaiaField, KaiaFields, LegacyFields, Transaction, TxBody, TxSig,
    TxType,
};

fn u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(U256::from_be_bytes)
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn sig() -> impl Strategy<Value = TxSig> {
    (u256(), u256(), u256()).prop_map(|(v, r, s)| TxSig { v, r, s })
}

fn tx_strategy() -> impl Strategy<Value = Transaction> {
    let types: Vec<TxType> = TxType::ALL.to_vec();
    (
        proptest::sample::select(types),
        any::<u64>(),
        u256(),
        any::<u64>(),
        proptest::option::of(any::<[u8; 20]>()),
        u256(),
        any::<[u8; 20]>(),
        bytes(80),
        (any::<bool>(), any::<u8>(), any::<u8>(), bytes(40)),
        proptest::collection::vec(sig(), 1..3),
        (
            any::<[u8; 20]>(),
            proptest::collection::vec(sig(), 0..2),
            u256(),
            proptest::collection::vec(any::<[u8; 32]>(), 0..3),
        ),
    )
        .prop_map(
            |(
                ty,
                nonce,
                price,
                gas,
                to,
                value,
                from,
                input,
                (hr, cf, ratio, key),
                sigs,
                (fp, fps, cap, blobs),
            )| {
                let to = to.map(Address::from);
                let body = if ty == TxType::LEGACY {
                    TxBody::Legacy(LegacyFields {
                        nonce,
                        gas_price: price,
                        gas,
                        to,
                        value,
                        input,
                    })
                } else if ty.is_eth() {
                    let mut e = EthFields {
                        chain_id: U256::from(nonce % 9000),
                        nonce,
                        gas_tip_cap: price,
                        gas_fee_cap: cap,
                        gas,
                        to,
                        value,
                        data: input,
                        ..Default::default()
                    };
                    if ty.0 >= 0x7803 && e.to.is_none() {
                        e.to = Some(Address::ZERO);
                    }
                    if ty == TxType::ETH_ACCESS_LIST {
                        e.gas_fee_cap = U256::ZERO;
                    }
                    if ty == TxType::ETH_BLOB {
                        e.blob_fee_cap = cap;
                        e.blob_hashes = blobs.into_iter().map(B256::from).collect();
                    }
                    TxBody::Eth(Box::new(e))
                } else {
                    let layout = ty.kaia_layout().unwrap_or(&[]);
                    let mut k = KaiaFields {
                        nonce,
                        gas_price: price,
                        gas,
                        from: Address::from(from),
                        ..Default::default()
                    };
                    for f in layout {
                        match f {
                            KaiaField::Value => k.value = value,
                            KaiaField::To => k.to = Some(to.unwrap_or_default()),
                            KaiaField::ToOpt => k.to = to,
                            KaiaField::Input => k.input = input.clone(),
                            KaiaField::HumanReadable => k.human_readable = hr,
                            KaiaField::CodeFormat => k.code_format = cf,
                            KaiaField::FeeRatio => k.fee_ratio = ratio,
                            KaiaField::Key => k.key = key.clone(),
                            _ => {}
                        }
                    }
                    TxBody::Kaia(k)
                };
                let single = !ty.is_kaia();
                let fd = ty.is_fee_delegated();
                seal_raw(Transaction {
                    tx_type: ty,
                    body,
                    signatures: if single { sigs[..1].to_vec() } else { sigs },
                    fee_payer: fd.then(|| Address::from(fp)),
                    fee_payer_signatures: if fd { fps } else { Vec::new() },
                    raw: Bytes::new(),
                })
            },
        )
}

fn header_strategy() -> impl Strategy<Value = Header> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 20]>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u8>(),
        bytes(200),
        0usize..=5,
        (
            u256(),
            bytes(96),
            any::<[u8; 32]>(),
            any::<u64>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(ph, rb, number, gas, time, fos, extra, tail, (fee, reveal, mix, bg, eg))| Header {
                parent_hash: B256::from(ph),
                rewardbase: Address::from(rb),
                state_root: B256::from(ph).wrapping_add_be(1),
                bloom: Bloom::repeat_byte(fos),
                block_score: U256::from(1),
                number,
                gas_used: gas,
                time,
                time_fos: fos,
                extra,
                base_fee: (tail >= 1).then_some(fee),
                random_reveal: (tail >= 2).then_some(reveal),
                mix_hash: (tail >= 3).then(|| Bytes::copy_from_slice(&mix)),
                blob_gas_used: (tail >= 4).then_some(bg),
                excess_blob_gas: (tail >= 5).then_some(eg),
                ..Default::default()
            },
        )
}

trait WrappingAdd {
    fn wrapping_add_be(self, x: u8) -> Self;
}
impl WrappingAdd for B256 {
    fn wrapping_add_be(mut self, x: u8) -> Self {
        self.0[31] = self.0[31].wrapping_add(x);
        self
    }
}

fn check_block_bytes(data: &[u8]) {
    if let Ok(BlockOrHeader::Block(b)) = decode_block_or_header(data) {
        assert_eq!(
            encode_block(&b),
            data,
            "a decoded block re-encodes to its bytes"
        );
    }
}

fn check_tx_bytes(data: &[u8]) {
    if let Ok(tx) = decode_tx(data) {
        assert_eq!(encode_tx(&tx), data, "a decoded tx re-encodes to its bytes");
    }
}

fn vector_blobs() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../datasets/vectors/kaia.json")).unwrap_or_default();
    let get = |k: &str, f: &str| -> Vec<Vec<u8>> {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| hex::decode(x[f].as_str()?).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    (get("blocks", "rlp"), get("transactions", "raw"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_tx_type_round_trips(tx in tx_strategy()) {
        let back = decode_tx(&tx.raw).map_err(|e| TestCaseError::fail(format!("{}: {e}", tx.tx_type)))?;
        prop_assert_eq!(&back, &tx);
    }

    #[test]
    fn every_header_variant_round_trips(h in header_strategy()) {
        let raw = encode_header(&h);
        let back = decode_header(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &h);
        let block = Block { header: h, transactions: Vec::new() };
        let raw = encode_block(&block);
        prop_assert_eq!(decode_block(&raw).ok(), Some(block));
    }

    #[test]
    fn mutated_vectors_never_panic(which in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let (blocks, txs) = vector_blobs();
        for (set, check) in [(&blocks, check_block_bytes as fn(&[u8])), (&txs, check_tx_bytes)] {
            let mut data = set[which.index(set.len())].clone();
            let i = pos.index(data.len());
            if cut { data.truncate(i) } else { data[i] = byte }
            check(&data);
        }
    }

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_block_bytes(&data);
        check_tx_bytes(&data);
        let _ = ranger::codec::header::decode_extra(&data);
    }
}

#[test]
fn precise_errors_for_known_bad_inputs() {
    use ranger::codec::DecodeError;
    // A 0x78 item with no payload.
    assert!(matches!(
        decode_tx(&[0x78, 0x02]),
        Err(DecodeError::Invalid { .. })
    ));
    assert!(matches!(
        decode_tx(&[0x78]),
        Err(DecodeError::Invalid { .. })
    ));
    // Unknown and disabled types.
    assert_eq!(decode_tx(&[0x07, 0xc0]), Err(DecodeError::UnknownTxType(7)));
    assert_eq!(
        decode_tx(&[0x18, 0xc0]),
        Err(DecodeError::DisabledTxType(0x18))
    );
    // A length that overflows the input.
    let e = decode_block(&[0xf9, 0xff, 0xff, 0xc0])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("truncated") || e.contains("ends"), "{e}");
    // Non-canonical: a single byte below 0x80 wrapped as a string.
    let e = decode_tx(&[0xc2, 0x81, 0x05])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("non-canonical"), "{e}");
    // Wrong field count: a legacy tx with an extra item.
    let mut p = vec![0x80; 9];
    p.push(0x80);
    let mut raw = vec![0xc0 + p.len() as u8];
    raw.extend(p);
    assert!(matches!(
        decode_tx(&raw),
        Err(DecodeError::ExtraFields { .. })
    ));
    // A header with 20 fields.
    let h = Header {
        excess_blob_gas: Some(1),
        ..Default::default()
    };
    let mut enc = encode_header(&h);
    enc.push(0x80);
    let len = enc.len() - 3;
    enc[0..3].copy_from_slice(&[0xf9, (len >> 8) as u8, len as u8]);
    assert!(
        matches!(decode_header(&enc), Err(DecodeError::HeaderFieldCount(20))),
        "{:?}",
        decode_header(&enc)
    );
    // Oversized input.
    assert!(matches!(
        decode_tx(&vec![0u8; 200_000]),
        Err(DecodeError::TooLarge { .. })
    ));
}
