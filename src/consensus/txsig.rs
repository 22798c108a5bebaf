//! Transaction signature rules (KAIA.md §3): which v values a type accepts under a chain id, the
//! r/s ranges, and low-s. A signature that passes becomes a `Signature65` ready for recovery; one
//! that fails becomes a fault that names the rule.

use super::fault::{Fault, FaultKind};
use crate::crypto::secp::{SECP256K1_HALF_N, SECP256K1_N, Signature65};
use crate::primitives::{Transaction, TxBody, TxSig};
use alloy_primitives::U256;

/// Whose signature it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigRole {
    Sender,
    FeePayer,
}

/// The chain id a transaction claims for itself: from v (legacy protected and Kaia types) or from
/// its chainId field (Ethereum-typed). `None` for an unprotected legacy tx or a v below 35.
pub fn claimed_chain_id(tx: &Transaction) -> Option<u64> {
    match &tx.body {
        TxBody::Eth(e) => u64::try_from(e.chain_id).ok(),
        _ => {
            let v = tx.signatures.first()?.v;
            if v < U256::from(35) {
                return None;
            }
            u64::try_from((v - U256::from(35)) / U256::from(2)).ok()
        }
    }
}

/// Checks one signature of `tx` under `chain_id` and returns it in recoverable form.
pub fn check_tx_sig(
    tx: &Transaction,
    sig: &TxSig,
    chain_id: u64,
    role: SigRole,
) -> Result<Signature65, Fault> {
    let (bad, high) = match role {
        SigRole::Sender => (FaultKind::BadTxSignature, FaultKind::HighSSignature),
        SigRole::FeePayer => (
            FaultKind::BadFeePayerSignature,
            FaultKind::BadFeePayerSignature,
        ),
    };
    let who = match role {
        SigRole::Sender => "sender",
        SigRole::FeePayer => "fee payer",
    };
    let recid = recovery_id(tx, sig, chain_id, bad, who)?;
    if sig.r.is_zero() || sig.r >= SECP256K1_N {
        return Err(Fault::new(
            bad,
            format!("{who} signature r is zero or not below n"),
        ));
    }
    if sig.s.is_zero() || sig.s >= SECP256K1_N {
        return Err(Fault::new(
            bad,
            format!("{who} signature s is zero or not below n"),
        ));
    }
    if sig.s > SECP256K1_HALF_N {
        return Err(Fault::new(
            high,
            format!("{who} signature has high s (above n/2), rejected since EIP-2"),
        )
        .expected_got("s <= n/2", format!("{:#x}", sig.s)));
    }
    Ok(Signature65::from_parts(sig.r, sig.s, recid))
}

fn recovery_id(
    tx: &Transaction,
    sig: &TxSig,
    chain_id: u64,
    bad: FaultKind,
    who: &str,
) -> Result<u8, Fault> {
    let v = sig.v;
    let c = U256::from(chain_id);
    let base = U256::from(35) + c * U256::from(2);
    let protected = |v: U256| -> Result<u8, Fault> {
        if v == base || v == base + U256::from(1) {
            return Ok((v - base).to::<u8>());
        }
        if v >= U256::from(35) {
            let got = (v - U256::from(35)) / U256::from(2);
            return Err(Fault::new(
                FaultKind::WrongChainId,
                format!("{who} signature v = {v} is for chain id {got}"),
            )
            .expected_got(chain_id, got));
        }
        Err(Fault::new(
            bad,
            format!("{who} signature v = {v} is not 35/36 + 2*chainId"),
        ))
    };
    match &tx.body {
        TxBody::Legacy(_) => {
            if v == U256::from(27) || v == U256::from(28) {
                Ok((v - U256::from(27)).to::<u8>())
            } else {
                protected(v)
            }
        }
        TxBody::Kaia(_) => protected(v),
        TxBody::Eth(e) => {
            if !e.chain_id.is_zero() && e.chain_id != c {
                return Err(Fault::new(
                    FaultKind::WrongChainId,
                    format!("chainId field is {}", e.chain_id),
                )
                .expected_got(chain_id, e.chain_id));
            }
            if v > U256::from(1) {
                return Err(Fault::new(
                    bad,
                    format!("{who} signature yParity = {v} is not 0 or 1"),
                ));
            }
            Ok(v.to::<u8>())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{KaiaFields, LegacyFields, TxType};
    use alloy_primitives::Bytes;

    fn tx(body: TxBody, ty: TxType, sig: TxSig) -> Transaction {
        Transaction {
            tx_type: ty,
            body,
            signatures: vec![sig],
            fee_payer: None,
            fee_payer_signatures: Vec::new(),
            raw: Bytes::new(),
        }
    }

    fn kind(r: Result<Signature65, Fault>) -> Option<FaultKind> {
        r.err().map(|f| f.kind)
    }

    #[test]
    fn each_rule_has_its_fault() {
        let c = 8217u64;
        let good = TxSig {
            v: U256::from(35 + 2 * c),
            r: U256::from(5),
            s: U256::from(7),
        };
        let kaia = tx(
            TxBody::Kaia(KaiaFields::default()),
            TxType::VALUE_TRANSFER,
            good,
        );
        assert_eq!(kind(check_tx_sig(&kaia, &good, c, SigRole::Sender)), None);
        let zero_r = TxSig {
            r: U256::ZERO,
            ..good
        };
        assert_eq!(
            kind(check_tx_sig(&kaia, &zero_r, c, SigRole::Sender)),
            Some(FaultKind::BadTxSignature)
        );
        let big_s = TxSig {
            s: SECP256K1_N,
            ..good
        };
        assert_eq!(
            kind(check_tx_sig(&kaia, &big_s, c, SigRole::Sender)),
            Some(FaultKind::BadTxSignature)
        );
        let high_s = TxSig {
            s: SECP256K1_HALF_N + U256::from(1),
            ..good
        };
        assert_eq!(
            kind(check_tx_sig(&kaia, &high_s, c, SigRole::Sender)),
            Some(FaultKind::HighSSignature)
        );
        assert_eq!(
            kind(check_tx_sig(&kaia, &high_s, c, SigRole::FeePayer)),
            Some(FaultKind::BadFeePayerSignature)
        );
        let other_chain = TxSig {
            v: U256::from(35 + 2 * 1001),
            ..good
        };
        assert_eq!(
            kind(check_tx_sig(&kaia, &other_chain, c, SigRole::Sender)),
            Some(FaultKind::WrongChainId)
        );
        // v = 27 is legacy-only: for a Kaia type it is not 35/36 + 2·chainId.
        let unprotected = TxSig {
            v: U256::from(27),
            ..good
        };
        assert_eq!(
            kind(check_tx_sig(&kaia, &unprotected, c, SigRole::Sender)),
            Some(FaultKind::BadTxSignature)
        );
        let legacy = tx(
            TxBody::Legacy(LegacyFields::default()),
            TxType::LEGACY,
            unprotected,
        );
        assert_eq!(
            check_tx_sig(&legacy, &unprotected, c, SigRole::Sender)
                .map(|s| s.recid())
                .ok(),
            Some(0)
        );
        let v0 = TxSig {
            v: U256::ZERO,
            ..good
        };
        assert_eq!(
            kind(check_tx_sig(&legacy, &v0, c, SigRole::Sender)),
            Some(FaultKind::BadTxSignature)
        );
    }
}
