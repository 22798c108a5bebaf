//! Fidelity to Kaia on real data: an Ethereum-typed transaction given in Ethereum's EIP-2718 form
//! or in Kaia's 0x78 form is the same transaction (same hash, sig hash and sender). Vectors:
//! `datasets/vectors/kaia.json` (0x7801 and 0x7802, the examples of kaiachain/kaia-docs
//! `docs/build/transactions/ethereum.md`, chain id 2) and `datasets/vectors/kairos-0x7804-setcode.hex`
//! (the 0x7804 example of the same page: Kairos transaction
//! 0x383aafe58842af80cc63747b78181439cc8b1786b70fedfd86d966b1ea728da1 in block 0xb35bcdd, from
//! 0x698f9bd1a4fc200f8d0c7997810e02a77ca6d5ce, chain id 1001).

use alloy_primitives::{address, b256};
use ranger::codec::tx::{TxForm, decode_standalone_tx, sig_preimage, tx_hash_preimage};
use ranger::consensus::txsig::{SigRole, check_tx_sig, claimed_chain_id};
use ranger::crypto::keccak256;
use ranger::crypto::secp::recover_address;

mod common;
use common::{addr, h256, hx, vectors};

/// Hash, sig hash and sender of a standalone raw transaction, as `inspect tx` computes them.
fn identity(
    raw: &[u8],
) -> (
    TxForm,
    alloy_primitives::B256,
    alloy_primitives::B256,
    alloy_primitives::Address,
) {
    let (tx, form) = decode_standalone_tx(raw).unwrap_or_else(|e| panic!("decode: {e}"));
    let chain_id = claimed_chain_id(&tx).unwrap_or_else(|| panic!("no chain id"));
    let sh = keccak256(&sig_preimage(&tx, chain_id));
    let sig = check_tx_sig(&tx, &tx.signatures[0], chain_id, SigRole::Sender)
        .unwrap_or_else(|f| panic!("{f:?}"));
    (
        form,
        keccak256(tx_hash_preimage(&tx)),
        sh,
        recover_address(&sh, &sig).unwrap_or_else(|e| panic!("recover: {e:?}")),
    )
}

#[test]
fn ethereum_and_kaia_forms_give_the_same_transaction() {
    let vs = vectors();
    let mut cases: Vec<(
        Vec<u8>,
        alloy_primitives::B256,
        Option<alloy_primitives::B256>,
        alloy_primitives::Address,
    )> = vs["transactions"]
        .as_array()
        .unwrap_or_else(|| panic!("no transactions"))
        .iter()
        .filter(|v| v["raw"].as_str().is_some_and(|r| r.starts_with("78")))
        .map(|v| {
            (
                hx(&v["raw"]),
                h256(&v["tx_hash"]),
                Some(h256(&v["sig_hash"])),
                addr(&v["signer"]),
            )
        })
        .collect();
    assert_eq!(cases.len(), 2, "0x7801 and 0x7802");
    let setcode = hex::decode(include_str!("../datasets/vectors/kairos-0x7804-setcode.hex").trim())
        .unwrap_or_else(|e| panic!("{e}"));
    cases.push((
        setcode,
        b256!("383aafe58842af80cc63747b78181439cc8b1786b70fedfd86d966b1ea728da1"),
        None,
        address!("698f9bd1a4fc200f8d0c7997810e02a77ca6d5ce"),
    ));
    for (kaia_form, hash, sig_hash, sender) in cases {
        assert_eq!(kaia_form[0], 0x78);
        let eth_form = &kaia_form[1..];
        let k = identity(&kaia_form);
        let e = identity(eth_form);
        assert_eq!(k.0, TxForm::Kaia);
        assert_eq!(e.0, TxForm::Ethereum);
        assert_eq!((k.1, k.2, k.3), (e.1, e.2, e.3), "type {:#x}", eth_form[0]);
        assert_eq!(k.1, hash, "the published tx hash, type {:#x}", eth_form[0]);
        assert_eq!(
            k.1,
            keccak256(eth_form),
            "Kaia's hash is keccak of Ethereum's form"
        );
        if let Some(sh) = sig_hash {
            assert_eq!(k.2, sh);
        }
        assert_eq!(k.3, sender);
        // The decoded transaction keeps Kaia's form, as a block holds it.
        let (tx, _) = decode_standalone_tx(eth_form).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&tx.raw[..], &kaia_form[..]);
    }
}

#[test]
fn forms_of_other_transactions_and_unknown_ethereum_types() {
    let vs = vectors();
    for v in vs["transactions"]
        .as_array()
        .unwrap_or_else(|| panic!("no transactions"))
    {
        let raw = hx(&v["raw"]);
        let (_, form) = decode_standalone_tx(&raw).unwrap_or_else(|e| panic!("{e}"));
        let want = match raw[0] {
            0x78 => TxForm::Kaia,
            b if b >= 0xc0 => TxForm::Legacy,
            _ => TxForm::Kaia,
        };
        assert_eq!(form, want, "{}", v["name"]);
    }
    // Ethereum type 5 does not exist in Kaia: named as the 0x78 type Kaia would look for.
    let err = decode_standalone_tx(&[0x05, 0xc0])
        .err()
        .unwrap_or_else(|| panic!("type 5 decoded"));
    assert!(err.to_string().contains("7805"), "{err}");
    assert!(decode_standalone_tx(&[]).is_err());
    assert!(decode_standalone_tx(&[0x02]).is_err());
}
