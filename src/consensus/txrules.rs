//! The per-type field rules of one transaction that Kaia enforces when it applies a block and
//! that need no chain state: what `Transaction.Validate` (kaiachain/kaia `blockchain/types/
//! transaction.go`, called from `BlockChain.ApplyTransaction` in `blockchain/blockchain.go`)
//! checks through each type's `TxInternalData.Validate` before it looks at any account.
//!
//! Invariant: a rule here makes a block invalid only when Kaia's block processing rejects the same
//! transaction for the same reason at every height ranger may be asked about. Rules that only
//! Kaia's transaction pool applies (a proposer may still put such a transaction in a block) are
//! notes, never faults (`pool_rule_note`).
//!
//! Sources (kaiachain/kaia @ `c26bba73`, v2.2.1, 2026-02-11, and klaytn/klaytn @ `98dfb24b`, the
//! first public commit, 2019-06-26, the eve of Cypress' launch); every rule below has the same body
//! in both, so none of them depends on a fork:
//!
//! | rule | types | Kaia error | source |
//! |---|---|---|---|
//! | recipient must be nil | 0x28, 0x29, 0x2a | `ErrInvalidContractAddress` | `tx_internal_data_{,fee_delegated_}smart_contract_deploy{,_with_ratio}.go` `Validate` |
//! | created address `keccak(rlp([from, nonce]))[12..]` not a precompile | 0x28, 0x29, 0x2a | `ErrPrecompiledContractAddress` | same |
//! | humanReadable must be false | 0x28, 0x29, 0x2a | `ErrHumanReadableNotSupported` | same |
//! | codeFormat must be EVM (0) | 0x28, 0x29, 0x2a | `ErrInvalidCodeFormat` | same; `params/protocol_params.go` `CodeFormat.Validate` (`< CodeFormatLast` = 1) |
//! | recipient not a precompile | legacy (when set), 0x08–0x0a, 0x10–0x12, 0x7801/0x7802 (when set), 0x7803, 0x7804 | `ErrPrecompiledContractAddress` | each type's `Validate` |
//! | AccountCreation is disabled | 0x18 | `errUndefinedTxType` | `tx_internal_data_account_creation.go` `Validate`; `NewTxInternalData` has the case commented out |
//!
//! "Precompile" is `common.IsPrecompiledContractAddress` (`common/types.go`): any address in
//! `0x…0001 ..= 0x…03ff`. It takes the fork rules as an argument but ignores them, in both sources.
//!
//! What changed over time is only the documentation: the docs' 0x28 example (kaiachain/kaia-docs
//! `docs/build/transactions/basic.md`, "RLP Encoding (Example)") still shows a deploy with a
//! recipient and `humanReadable: true`, signed for chain id 1; such a deploy was never valid on
//! Cypress or Baobab, and since every Kaia node re-applies the whole history with these checks, no
//! block of either chain holds one.
//!
//! Not here, because they need chain state: `ErrAccountAlreadyExists`, `ErrNotProgramAccount`,
//! account-key rules, EIP-7702 delegation (`validate7702`).

use crate::crypto::keccak256;
use crate::primitives::{Transaction, TxBody, TxType};
use alloy_primitives::Address;
use alloy_rlp::Encodable;

/// The highest precompiled-contract address (`lastPrecompiledContractAddressHex` in kaiachain/kaia
/// `common/types.go`): `0x00000000000000000000000000000000000003FF`.
const LAST_PRECOMPILE: u16 = 0x03ff;

/// True for an address Kaia reserves for precompiled contracts: `0x…0001 ..= 0x…03ff` (the zero
/// address is not one).
pub fn is_precompile(a: &Address) -> bool {
    let b = a.as_slice();
    if b[..18].iter().any(|&x| x != 0) {
        return false;
    }
    let low = u16::from_be_bytes([b[18], b[19]]);
    low != 0 && low <= LAST_PRECOMPILE
}

/// The address a deploy by `from` with `nonce` creates (`crypto.CreateAddress`):
/// `keccak256(rlp([from, nonce]))[12..]`.
pub fn create_address(from: &Address, nonce: u64) -> Address {
    let mut payload = Vec::with_capacity(30);
    from.encode(&mut payload);
    nonce.encode(&mut payload);
    let list = crate::codec::rlp::wrap_list(&payload);
    Address::from_slice(&keccak256(&list)[12..])
}

/// True for the deploy types 0x28, 0x29, 0x2a.
fn is_deploy(t: TxType) -> bool {
    matches!(t.0, 0x28..=0x2a)
}

/// The first rule of the table above that `tx` breaks, as a message naming Kaia's error;
/// `None` when it breaks none. The rules are the same at every height (see the module notes).
pub fn field_rule_violation(tx: &Transaction) -> Option<String> {
    let t = tx.tx_type;
    if t == TxType::ACCOUNT_CREATION {
        return Some(
            "account creation (0x18) is disabled: Kaia's Validate returns errUndefinedTxType"
                .into(),
        );
    }
    match &tx.body {
        TxBody::Kaia(k) if is_deploy(t) => {
            // The order of Kaia's `Validate`: recipient, created address, humanReadable, codeFormat.
            if let Some(to) = k.to {
                return Some(format!(
                    "a contract deploy must have a nil recipient, this one names {to:#x} \
                     (Kaia: ErrInvalidContractAddress)"
                ));
            }
            let created = create_address(&k.from, k.nonce);
            if is_precompile(&created) {
                return Some(format!(
                    "the deploy would create {created:#x}, a precompiled-contract address \
                     (Kaia: ErrPrecompiledContractAddress)"
                ));
            }
            if k.human_readable {
                return Some(
                    "humanReadable must be false (Kaia: ErrHumanReadableNotSupported)".into(),
                );
            }
            if k.code_format != 0 {
                return Some(format!(
                    "codeFormat {} is not EVM (0) (Kaia: ErrInvalidCodeFormat)",
                    k.code_format
                ));
            }
            None
        }
        TxBody::Kaia(k) if recipient_must_not_be_precompile(t) => precompile_recipient(k.to),
        TxBody::Legacy(l) => precompile_recipient(l.to),
        TxBody::Eth(e) => precompile_recipient(e.to),
        TxBody::Kaia(_) => None,
    }
}

/// Kaia types whose `Validate` refuses a precompiled recipient: value transfers with or without
/// memo, fee-delegated or not.
fn recipient_must_not_be_precompile(t: TxType) -> bool {
    matches!(t.0, 0x08..=0x0a | 0x10..=0x12)
}

fn precompile_recipient(to: Option<Address>) -> Option<String> {
    let to = to?;
    is_precompile(&to).then(|| {
        format!(
            "the recipient {to:#x} is a precompiled-contract address (Kaia: ErrPrecompiledContractAddress)"
        )
    })
}

/// A rule that Kaia's transaction pool applies but block processing does not: such a transaction
/// can still be in a valid block, so this is a note for the reader, never a fault.
///
/// The fee ratio must be 1..=99 (`FeeRatio.IsValid`, `blockchain/types/tx_internal_data.go`), but
/// only `TxPool.validateTx` (`blockchain/tx_pool.go`) checks it; `ErrFeeRatioOutOfRange` has a
/// receipt status (0x0e, `blockchain/types/receipt.go`) and no caller on the block path.
pub fn pool_rule_note(tx: &Transaction) -> Option<String> {
    let ratio = tx.fee_ratio()?;
    (!(1..=99).contains(&ratio)).then(|| {
        format!(
            "feeRatio {ratio} is outside 1..=99: Kaia's transaction pool refuses it \
             (ErrFeeRatioOutOfRange), block processing does not"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::tx::decode_tx;
    use alloy_primitives::{address, hex};

    /// kaiachain/kaia-docs `docs/build/transactions/basic.md`, TxTypeSmartContractDeploy,
    /// "RLP Encoding (Example)": a 0x28 signed for chain id 1 by the docs' test key
    /// (from 0xa94f5374…0bF0B), with recipient 0x7b65B75d…EE1d0, humanReadable true, codeFormat 0;
    /// the docs list its TxHash as e983f38b…4c58b. The input is the docs' 510-byte contract.
    fn docs_deploy_with_recipient() -> Vec<u8> {
        hex::decode(DOCS_DEPLOY_WITH_RECIPIENT.trim()).unwrap()
    }

    const DOCS_DEPLOY_WITH_RECIPIENT: &str =
        include_str!("../../datasets/vectors/docs-0x28-with-recipient.hex");

    /// caver-js `test/packages/caver.transaction/smartContractDeploy.js` line 81 (caver-java
    /// `SmartContractDeployTest.java` has the same bytes): a 0x28 with a nil recipient
    /// (`…80 80 94 d91aec35…` = to nil, value 0, from), humanReadable false, codeFormat 0, signed
    /// for chain id 2019 (v = 0x0fe9).
    const CAVER_DEPLOY: &str = include_str!("../../datasets/vectors/caver-0x28-nil-recipient.hex");

    #[test]
    fn the_docs_deploy_with_a_recipient_decodes_and_is_refused_as_kaia_refuses_it() {
        let tx = decode_tx(&docs_deploy_with_recipient()).unwrap();
        assert_eq!(tx.tx_type.0, 0x28);
        assert_eq!(
            keccak256(&tx.raw),
            alloy_primitives::b256!(
                "e983f38b814891990f3ca57028c2230dc7e907eb313c827e7c99fadcc9b4c58b"
            ),
            "the docs' TxHash"
        );
        assert_eq!(
            tx.to(),
            Some(address!("7b65b75d204abed71587c9e519a89277766ee1d0"))
        );
        let why = field_rule_violation(&tx).unwrap();
        assert!(why.contains("ErrInvalidContractAddress"), "{why}");
    }

    #[test]
    fn a_real_deploy_with_a_nil_recipient_breaks_no_rule() {
        let tx = decode_tx(&hex::decode(CAVER_DEPLOY.trim()).unwrap()).unwrap();
        assert_eq!(tx.tx_type.0, 0x28);
        assert_eq!(tx.to(), None);
        assert_eq!(
            keccak256(&tx.raw),
            alloy_primitives::b256!(
                "523417d946221c4d12b58519580edca43662577df7e107f5ff92f115d4b3d210"
            ),
            "caver-js' transactionHash"
        );
        assert_eq!(field_rule_violation(&tx), None);
        assert_eq!(pool_rule_note(&tx), None);
    }

    fn deploy_like(t: u16, edit: impl FnOnce(&mut crate::primitives::KaiaFields)) -> Transaction {
        let mut tx = decode_tx(&hex::decode(CAVER_DEPLOY.trim()).unwrap()).unwrap();
        tx.tx_type = TxType(t);
        if let TxBody::Kaia(k) = &mut tx.body {
            if t == 0x2a {
                k.fee_ratio = 30;
            }
            edit(k);
        }
        tx
    }

    #[test]
    fn each_deploy_rule_names_its_kaia_error_for_every_deploy_type() {
        for t in [0x28, 0x29, 0x2a] {
            assert_eq!(
                field_rule_violation(&deploy_like(t, |_| {})),
                None,
                "{t:#x}"
            );
            let to = deploy_like(t, |k| k.to = Some(Address::repeat_byte(7)));
            assert!(
                field_rule_violation(&to)
                    .unwrap()
                    .contains("ErrInvalidContractAddress")
            );
            let hr = deploy_like(t, |k| k.human_readable = true);
            assert!(
                field_rule_violation(&hr)
                    .unwrap()
                    .contains("ErrHumanReadableNotSupported")
            );
            let cf = deploy_like(t, |k| k.code_format = 1);
            assert!(
                field_rule_violation(&cf)
                    .unwrap()
                    .contains("ErrInvalidCodeFormat")
            );
            // Kaia checks the recipient first: a deploy that breaks every rule is named by it.
            let all = deploy_like(t, |k| {
                k.to = Some(Address::repeat_byte(7));
                k.human_readable = true;
                k.code_format = 3;
            });
            assert!(
                field_rule_violation(&all)
                    .unwrap()
                    .contains("ErrInvalidContractAddress")
            );
        }
    }

    #[test]
    fn create_address_matches_ethereum() {
        // The contracts created by 0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0 at nonces 0 and 1,
        // from Ethereum StackExchange question 760 ("How is the address of an Ethereum contract
        // computed?"), the vector many clients' CREATE tests reuse. Kaia's `crypto.CreateAddress`
        // is go-ethereum's.
        let s = address!("6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0");
        assert_eq!(
            create_address(&s, 0),
            address!("cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d")
        );
        assert_eq!(
            create_address(&s, 1),
            address!("343c43a37d37dff08ae8c4a11544c718abb4fcf8")
        );
    }

    #[test]
    fn precompile_range_is_one_to_0x3ff() {
        let at = |low: u16| {
            let mut b = [0u8; 20];
            b[18..].copy_from_slice(&low.to_be_bytes());
            Address::from(b)
        };
        assert!(!is_precompile(&Address::ZERO));
        assert!(is_precompile(&at(1)));
        assert!(is_precompile(&at(0x0a)));
        assert!(is_precompile(&at(0x3ff)));
        assert!(!is_precompile(&at(0x400)));
        let mut high = [0u8; 20];
        high[0] = 1;
        high[19] = 1;
        assert!(!is_precompile(&Address::from(high)));
    }

    #[test]
    fn transfers_to_a_precompile_are_refused_and_ratio_is_only_a_pool_rule() {
        let mut b = [0u8; 20];
        b[19] = 1;
        let ecrecover = Address::from(b);
        let mut tx = deploy_like(0x28, |_| {});
        tx.tx_type = TxType(0x08);
        if let TxBody::Kaia(k) = &mut tx.body {
            k.to = Some(ecrecover);
        }
        assert!(
            field_rule_violation(&tx)
                .unwrap()
                .contains("ErrPrecompiledContractAddress")
        );
        // A smart-contract execution may call anything: its Validate has no such check.
        tx.tx_type = TxType(0x30);
        assert_eq!(field_rule_violation(&tx), None);

        let mut r = deploy_like(0x2a, |k| k.fee_ratio = 0);
        assert_eq!(
            field_rule_violation(&r),
            None,
            "a pool rule is not a block fault"
        );
        assert!(
            pool_rule_note(&r)
                .unwrap()
                .contains("ErrFeeRatioOutOfRange")
        );
        if let TxBody::Kaia(k) = &mut r.body {
            k.fee_ratio = 99;
        }
        assert_eq!(pool_rule_note(&r), None);
    }
}
