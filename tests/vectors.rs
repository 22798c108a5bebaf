//! Reproduces every public vector in `datasets/vectors/kaia.json` (real Kaia data): transaction
//! sig hashes, tx hashes, sender tx hashes and signers; block hashes, sig hashes, proposers and
//! committers; the randao reveal and mix hash.

use alloy_primitives::{Address, B256};
use ranger::codec::block::decode_block;
use ranger::codec::header::{decode_extra, decode_header};
use ranger::codec::tx::{
    decode_tx, encode_tx, fee_payer_sig_preimage, sender_tx_hash_preimage, sig_preimage,
    tx_hash_preimage,
};
use ranger::consensus::istanbul::{
    block_hash, committed_seal_message, proposer_seal_message, sig_hash,
};
use ranger::consensus::txsig::{SigRole, check_tx_sig};
use ranger::crypto::bls::{self, BlsPublicKey, BlsSecretKey};
use ranger::crypto::keccak256;
use ranger::crypto::secp::{Signature65, recover_address};
use serde_json::Value;

mod common;
use common::{addr, h256, hx, vectors};

#[test]
fn transactions_reproduce_their_hashes_and_signers() {
    let vs = vectors();
    let txs = vs["transactions"]
        .as_array()
        .unwrap_or_else(|| panic!("no transactions"));
    assert!(txs.len() >= 5);
    for v in txs {
        let name = v["name"].as_str().unwrap_or_default();
        let raw = hx(&v["raw"]);
        let chain_id = v["chain_id"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: chain id"));
        let tx = decode_tx(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(encode_tx(&tx), raw, "{name}: re-encoding differs");
        assert_eq!(
            keccak256(tx_hash_preimage(&tx)),
            h256(&v["tx_hash"]),
            "{name}: tx hash"
        );
        if let Some(sr) = v.get("sig_rlp") {
            assert_eq!(sig_preimage(&tx, chain_id), hx(sr), "{name}: sig rlp");
        }
        let sh = keccak256(&sig_preimage(&tx, chain_id));
        assert_eq!(sh, h256(&v["sig_hash"]), "{name}: sig hash");
        if let Some(sth) = v.get("sender_tx_hash") {
            let got = sender_tx_hash_preimage(&tx)
                .map(|p| keccak256(&p))
                .unwrap_or_else(|| keccak256(tx_hash_preimage(&tx)));
            assert_eq!(got, h256(sth), "{name}: sender tx hash");
        }
        let sig = check_tx_sig(&tx, &tx.signatures[0], chain_id, SigRole::Sender)
            .unwrap_or_else(|f| panic!("{name}: {f:?}"));
        assert_eq!(
            recover_address(&sh, &sig),
            Ok(addr(&v["signer"])),
            "{name}: signer"
        );
        if let Some(fph) = v.get("fee_payer_sig_hash") {
            let pre = fee_payer_sig_preimage(&tx, chain_id).unwrap_or_else(|| panic!("{name}"));
            let fsh = keccak256(&pre);
            assert_eq!(fsh, h256(fph), "{name}: fee payer sig hash");
            assert_eq!(tx.fee_payer, Some(addr(&v["fee_payer"])));
            let fsig = check_tx_sig(
                &tx,
                &tx.fee_payer_signatures[0],
                chain_id,
                SigRole::FeePayer,
            )
            .unwrap_or_else(|f| panic!("{name}: {f:?}"));
            assert_eq!(
                recover_address(&fsh, &fsig),
                Ok(addr(&v["fee_payer_signer"]))
            );
        }
        // Under another chain id, the same signature is a wrong-chain-id fault.
        let other = check_tx_sig(&tx, &tx.signatures[0], chain_id + 1, SigRole::Sender);
        if !matches!(tx.body, ranger::primitives::TxBody::Legacy(_)) || tx.signatures[0].v > 28 {
            assert_eq!(
                other.map(|_| ()).map_err(|f| f.kind),
                Err(ranger::consensus::FaultKind::WrongChainId),
                "{name}"
            );
        }
    }
}

#[test]
fn blocks_reproduce_hashes_proposers_and_committers() {
    let vs = vectors();
    for v in vs["blocks"]
        .as_array()
        .unwrap_or_else(|| panic!("no blocks"))
    {
        let name = v["name"].as_str().unwrap_or_default();
        let raw = hx(&v["rlp"]);
        let header = match decode_block(&raw) {
            Ok(b) => {
                if let Some(hs) = v.get("tx_hashes").and_then(Value::as_array) {
                    let got: Vec<B256> = b
                        .transactions
                        .iter()
                        .map(|t| keccak256(tx_hash_preimage(t)))
                        .collect();
                    let want: Vec<B256> = hs.iter().map(h256).collect();
                    assert_eq!(got, want, "{name}: tx hashes");
                }
                b.header
            }
            Err(_) => decode_header(&raw).unwrap_or_else(|e| panic!("{name}: {e}")),
        };
        let bh = block_hash(&header);
        assert_eq!(bh, h256(&v["hash"]), "{name}: block hash");
        let sh = sig_hash(&header).unwrap_or_else(|| panic!("{name}: extra"));
        assert_eq!(sh, h256(&v["sig_hash"]), "{name}: sig hash");
        let extra = decode_extra(&header.extra).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The pipeline's one-decode path gives the same preimages as the standalone functions.
        let (bp, sp) = ranger::consensus::istanbul::hash_preimages(&header, Ok(&extra));
        assert_eq!(keccak256(&bp), bh, "{name}: pipeline block hash");
        assert_eq!(
            sp.map(|p| keccak256(&p)),
            Some(sh),
            "{name}: pipeline sig hash"
        );
        let seal = Signature65(
            extra.seal[..]
                .try_into()
                .unwrap_or_else(|_| panic!("seal len")),
        );
        let proposer = recover_address(&proposer_seal_message(&sh), &seal);
        assert_eq!(proposer, Ok(addr(&v["proposer"])), "{name}: proposer");
        if let Some(cs) = v.get("committers").and_then(Value::as_array) {
            let msg = committed_seal_message(&bh);
            let got: Vec<Address> = extra
                .committed_seals
                .iter()
                .map(|s| {
                    let s = Signature65(s[..].try_into().unwrap_or_else(|_| panic!("len")));
                    recover_address(&msg, &s).unwrap_or_else(|e| panic!("{name}: {e}"))
                })
                .collect();
            let want: Vec<Address> = cs.iter().map(addr).collect();
            assert_eq!(got, want, "{name}: committers");
        }
        if let Some(vals) = v.get("validators").and_then(Value::as_array) {
            let want: Vec<Address> = vals.iter().map(addr).collect();
            assert_eq!(extra.validators, want, "{name}: validators");
        }
    }
}

#[test]
fn randao_reveal_and_mix_hash() {
    let vs = vectors();
    let r = &vs["randao"];
    let sk = BlsSecretKey::from_bytes(&hx(&r["secret_key"])).unwrap_or_else(|| panic!("sk"));
    let pk = BlsPublicKey::from_bytes(&hx(&r["public_key"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sk.public_key().to_bytes().to_vec(), hx(&r["public_key"]));
    let n = r["block_number"]
        .as_u64()
        .unwrap_or_else(|| panic!("number"));
    let msg = bls::randao_msg(n);
    assert_eq!(msg.to_vec(), hx(&r["message"]));
    let reveal = hx(&r["random_reveal"]);
    assert_eq!(
        sk.sign(&msg).to_vec(),
        reveal,
        "BLS signatures are deterministic"
    );
    assert!(bls::verify(&pk, &msg, &reveal).is_ok());
    assert!(bls::verify(&pk, &bls::randao_msg(n + 1), &reveal).is_err());
    let mix = ranger::consensus::randao::next_mix_hash(&h256(&r["parent_mix_hash"]), &reveal);
    assert_eq!(mix, h256(&r["mix_hash"]));
}
