//! The devnet's keys, all derived from the seed: funded accounts (secp256k1, consecutive secrets
//! so that their public keys come in one batch, `fastsign::consecutive_keys`), council members
//! (secp256k1 for seals, BLS for randao) and outsiders (keys that belong to no council, for the
//! faults that need a foreign signer). Derivation is parallel and order-preserving.

use crate::consensus::chain::CouncilMember;
use crate::crypto::bls::BlsSecretKey;
use crate::crypto::keccak256_concat;
use crate::crypto::secp::SigningKey;
use alloy_primitives::{Address, Bytes};
use rayon::prelude::*;

/// Key indices of council members (`SigningKey::from_seed`).
const VALIDATOR_INDEX_BASE: u64 = 1 << 40;
/// Key indices of outsiders start here.
const OUTSIDER_INDEX_BASE: u64 = 2 << 40;

/// One council member's keys.
#[derive(Debug, Clone)]
pub struct ValidatorKeys {
    pub address: Address,
    pub key: SigningKey,
    pub bls: BlsSecretKey,
}

/// Every key of a devnet.
#[derive(Debug)]
pub struct DevnetKeys {
    pub accounts: Vec<SigningKey>,
    pub addresses: Vec<Address>,
    pub validators: Vec<ValidatorKeys>,
    pub outsiders: Vec<SigningKey>,
}

/// Number of outsider keys made: one foreign proposer, one foreign committer, one wrong signer.
const OUTSIDERS: u64 = 3;

impl DevnetKeys {
    /// Derives `accounts` account keys and `validators` council keys from `seed`.
    pub fn derive(seed: u64, accounts: usize, validators: usize) -> Self {
        let (accounts_keys, addresses): (Vec<SigningKey>, Vec<Address>) =
            super::fastsign::consecutive_keys(seed, accounts)
                .into_iter()
                .unzip();
        let validators = (0..validators as u64)
            .into_par_iter()
            .map(|i| {
                let key = SigningKey::from_seed(seed, VALIDATOR_INDEX_BASE + i);
                let ikm = keccak256_concat(&[
                    b"ranger-devnet-bls",
                    &seed.to_be_bytes(),
                    &i.to_be_bytes(),
                ]);
                ValidatorKeys {
                    address: key.address(),
                    key,
                    bls: BlsSecretKey::from_seed(&ikm.0),
                }
            })
            .collect();
        let outsiders = (0..OUTSIDERS)
            .map(|i| SigningKey::from_seed(seed, OUTSIDER_INDEX_BASE + i))
            .collect();
        Self {
            accounts: accounts_keys,
            addresses,
            validators,
            outsiders,
        }
    }

    /// The council as the genesis lists it: addresses, BLS public keys and proofs of possession.
    pub fn council_members(&self) -> Vec<CouncilMember> {
        self.validators
            .iter()
            .map(|v| CouncilMember {
                address: v.address,
                bls_public_key: Some(Bytes::copy_from_slice(&v.bls.public_key().to_bytes())),
                bls_pop: Some(Bytes::copy_from_slice(&v.bls.pop())),
            })
            .collect()
    }

    /// The keys of a council member by address.
    pub fn validator(&self, a: &Address) -> Option<&ValidatorKeys> {
        self.validators.iter().find(|v| v.address == *a)
    }
}
