//! The devnet state rules of DESIGN.md, one function per idea: intrinsic gas per transaction type,
//! who pays how much of the fee, the receipt encoding and the account encoding. The replayer and
//! the devnet's block producer both call these, so a produced block and a replayed one cannot
//! disagree on a rule.

use crate::primitives::{Receipt, Transaction};
use alloy_primitives::{B256, U256, b256};
use alloy_rlp::Encodable;

/// Gas of a plain value transfer (`TxGasValueTransfer`).
pub const GAS_TRANSFER: u64 = 21_000;
/// Extra gas of a fee-delegated type (`TxGasFeeDelegated`).
pub const GAS_FEE_DELEGATED: u64 = 10_000;
/// Extra gas of a fee-delegated-with-ratio type (`TxGasFeeDelegatedWithRatio`).
pub const GAS_FEE_DELEGATED_RATIO: u64 = 15_000;
/// Gas per payload byte (memo, input, data): Kaia's flat `TxDataGas` before Prague.
pub const GAS_PER_PAYLOAD_BYTE: u64 = 100;

/// Root of an empty storage trie: what every devnet account carries as its storage root.
pub const EMPTY_STORAGE_ROOT: B256 =
    b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
/// keccak256 of empty code: every devnet account is an externally owned account.
pub const EMPTY_CODE_HASH: B256 =
    b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// Receipt status of a successful transaction (the only kind a devnet block contains).
pub const STATUS_SUCCESS: u64 = 1;

/// The gas a devnet transaction uses: 21000, +10000 fee-delegated, +15000 with ratio, +100 per
/// payload byte.
pub fn intrinsic_gas(tx: &Transaction) -> u64 {
    let ty = tx.tx_type;
    let delegation = if ty.has_fee_ratio() {
        GAS_FEE_DELEGATED_RATIO
    } else if ty.is_fee_delegated() {
        GAS_FEE_DELEGATED
    } else {
        0
    };
    let payload = (tx.input().len() as u64).saturating_mul(GAS_PER_PAYLOAD_BYTE);
    GAS_TRANSFER
        .saturating_add(delegation)
        .saturating_add(payload)
}

/// How a transaction's fee is shared between its sender and its fee payer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeSplit {
    /// What the sender pays.
    pub sender: U256,
    /// What the fee payer pays (zero for types that are not fee-delegated).
    pub fee_payer: U256,
}

/// Splits `fee` by the type: the sender pays all of it, a fee payer pays all of it, or, with a
/// ratio, the fee payer pays `fee * ratio / 100` (rounded down) and the sender the rest, as Kaia's
/// `FeeRatio` is the fee payer's share in percent.
pub fn fee_split(tx: &Transaction, fee: U256) -> FeeSplit {
    if let Some(ratio) = tx.fee_ratio() {
        let payer = fee * U256::from(ratio.min(100)) / U256::from(100);
        FeeSplit {
            sender: fee - payer,
            fee_payer: payer,
        }
    } else if tx.tx_type.is_fee_delegated() {
        FeeSplit {
            sender: U256::ZERO,
            fee_payer: fee,
        }
    } else {
        FeeSplit {
            sender: fee,
            fee_payer: U256::ZERO,
        }
    }
}

/// The fee of `gas` at the devnet's fixed base fee.
pub fn fee(gas: u64, base_fee: U256) -> U256 {
    U256::from(gas).saturating_mul(base_fee)
}

/// A receipt's RLP: `[status, gasUsed, bloom (256 zero bytes), []]`.
pub fn encode_receipt(r: &Receipt) -> Vec<u8> {
    let mut p = Vec::with_capacity(270);
    r.status.encode(&mut p);
    r.gas_used.encode(&mut p);
    [0u8; 256].as_slice().encode(&mut p);
    p.push(0xc0);
    crate::codec::rlp::wrap_list(&p)
}

/// An account's value in the state trie: `RLP([nonce, balance, emptyRoot, keccak256("")])`.
pub fn encode_account(nonce: u64, balance: U256) -> Vec<u8> {
    let mut p = Vec::with_capacity(110);
    nonce.encode(&mut p);
    balance.encode(&mut p);
    EMPTY_STORAGE_ROOT.encode(&mut p);
    EMPTY_CODE_HASH.encode(&mut p);
    crate::codec::rlp::wrap_list(&p)
}

/// Why a state-trie value is not a devnet account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountDecodeError {
    #[error("bad RLP: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    #[error("bytes after the account's list")]
    TrailingBytes,
    #[error("storage root {0} is not the empty trie's: devnet accounts hold no storage")]
    Storage(B256),
    #[error("code hash {0} is not the empty code's: devnet accounts hold no code")]
    Code(B256),
}

/// The nonce and balance of an account's trie value (`encode_account`'s inverse); only devnet
/// accounts (no storage, no code) decode.
pub fn decode_account(mut bytes: &[u8]) -> Result<(u64, U256), AccountDecodeError> {
    use alloy_rlp::Decodable;
    let mut p = alloy_rlp::Header::decode_bytes(&mut bytes, true)?;
    if !bytes.is_empty() {
        return Err(AccountDecodeError::TrailingBytes);
    }
    let nonce = u64::decode(&mut p)?;
    let balance = U256::decode(&mut p)?;
    let storage = B256::decode(&mut p)?;
    let code = B256::decode(&mut p)?;
    if !p.is_empty() {
        return Err(AccountDecodeError::TrailingBytes);
    }
    if storage != EMPTY_STORAGE_ROOT {
        return Err(AccountDecodeError::Storage(storage));
    }
    if code != EMPTY_CODE_HASH {
        return Err(AccountDecodeError::Code(code));
    }
    Ok((nonce, balance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keccak256;
    use crate::primitives::{KaiaFields, TxBody, TxType};
    use alloy_primitives::Bytes;

    fn kaia(ty: u16, memo: usize, ratio: u8) -> Transaction {
        Transaction {
            tx_type: TxType(ty),
            body: TxBody::Kaia(KaiaFields {
                input: Bytes::from(vec![7u8; memo]),
                fee_ratio: ratio,
                ..Default::default()
            }),
            signatures: Vec::new(),
            fee_payer: None,
            fee_payer_signatures: Vec::new(),
            raw: Bytes::new(),
        }
    }

    #[test]
    fn gas_per_type() {
        assert_eq!(intrinsic_gas(&kaia(0x08, 0, 0)), 21_000);
        assert_eq!(intrinsic_gas(&kaia(0x09, 0, 0)), 31_000);
        assert_eq!(intrinsic_gas(&kaia(0x0a, 0, 30)), 36_000);
        assert_eq!(intrinsic_gas(&kaia(0x10, 5, 0)), 21_500);
        assert_eq!(intrinsic_gas(&kaia(0x11, 5, 0)), 31_500);
        assert_eq!(intrinsic_gas(&kaia(0x12, 5, 30)), 36_500);
    }

    #[test]
    fn ratio_split_loses_nothing() {
        // 30% of 1001 = 300.3: the fee payer pays 300, the sender 701; nothing is lost.
        let s = fee_split(&kaia(0x0a, 0, 30), U256::from(1001));
        assert_eq!(
            s,
            FeeSplit {
                sender: U256::from(701),
                fee_payer: U256::from(300)
            }
        );
        let s = fee_split(&kaia(0x09, 0, 0), U256::from(1001));
        assert_eq!(
            s,
            FeeSplit {
                sender: U256::ZERO,
                fee_payer: U256::from(1001)
            }
        );
        let s = fee_split(&kaia(0x08, 0, 0), U256::from(1001));
        assert_eq!(
            s,
            FeeSplit {
                sender: U256::from(1001),
                fee_payer: U256::ZERO
            }
        );
    }

    #[test]
    fn accounts_round_trip_and_foreign_ones_are_refused() {
        let v = encode_account(7, U256::from(123_456_789u64));
        assert_eq!(decode_account(&v), Ok((7, U256::from(123_456_789u64))));
        let mut long = v.clone();
        long.push(0);
        assert_eq!(
            decode_account(&long),
            Err(AccountDecodeError::TrailingBytes)
        );
        let mut coded = v.clone();
        let last = coded.len() - 1;
        coded[last] ^= 1;
        assert!(matches!(
            decode_account(&coded),
            Err(AccountDecodeError::Code(_))
        ));
        assert!(matches!(
            decode_account(&v[..10]),
            Err(AccountDecodeError::Rlp(_))
        ));
    }

    #[test]
    fn empty_account_constants() {
        assert_eq!(EMPTY_STORAGE_ROOT, keccak256(&[0x80]));
        assert_eq!(EMPTY_CODE_HASH, keccak256(b""));
        let r = encode_receipt(&Receipt {
            status: 1,
            gas_used: 21_000,
        });
        // list header (3) + status (1) + gas (3) + bloom (3 + 256) + empty logs (1)
        assert_eq!(r.len(), 3 + 1 + 3 + 259 + 1);
    }
}
