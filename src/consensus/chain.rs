//! The chain context a verifier needs: chain id, fork schedule, council (with BLS keys when
//! known), committee size, epoch, block period and DeriveSha impl. Built in for Kaia mainnet and
//! Kairos (fork blocks from KAIA.md), or read from a genesis JSON file (the devnet writes one).

use crate::trie::DeriveShaImpl;
use alloy_primitives::{Address, Bytes, U256};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The forks that change what a header or transaction may carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ForkSchedule {
    /// EthTxType fork: Ethereum-typed transactions (0x7801, 0x7802) accepted.
    #[serde(default)]
    pub eth_tx_type: Option<u64>,
    /// Magma: BaseFee joins the header.
    #[serde(default)]
    pub magma: Option<u64>,
    /// Cancun = Randao: RandomReveal and MixHash join the header.
    #[serde(default)]
    pub randao: Option<u64>,
    /// Prague: 0x7804 accepted.
    #[serde(default)]
    pub prague: Option<u64>,
    /// Osaka: BlobGasUsed and ExcessBlobGas join the header; 0x7803 accepted.
    #[serde(default)]
    pub osaka: Option<u64>,
}

fn active(fork: Option<u64>, number: u64) -> bool {
    fork.is_some_and(|f| number >= f)
}

impl ForkSchedule {
    /// How many header fields a header at `number` must have (14 to 19).
    pub fn header_fields(&self, number: u64) -> usize {
        if active(self.osaka, number) {
            19
        } else if active(self.randao, number) {
            17
        } else if active(self.magma, number) {
            15
        } else {
            14
        }
    }
    /// True when the randao fields are live at `number`.
    pub fn is_randao(&self, number: u64) -> bool {
        active(self.randao, number)
    }
    /// True for the Randao fork block itself, whose parent mix hash counts as zero.
    pub fn is_randao_fork_block(&self, number: u64) -> bool {
        self.randao == Some(number)
    }
    /// True when Ethereum-typed transaction type `eth_byte` (1..=4) is accepted at `number`.
    pub fn eth_type_active(&self, eth_byte: u8, number: u64) -> bool {
        match eth_byte {
            1 | 2 => active(self.eth_tx_type, number),
            3 => active(self.osaka, number),
            4 => active(self.prague, number),
            _ => false,
        }
    }
    /// All forks active from block 0 (devnets).
    pub fn all_from_genesis() -> Self {
        Self {
            eth_tx_type: Some(0),
            magma: Some(0),
            randao: Some(0),
            prague: Some(0),
            osaka: None,
        }
    }
}

/// One council member as a genesis lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilMember {
    pub address: Address,
    /// 48-byte compressed BLS public key, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bls_public_key: Option<Bytes>,
    /// Its proof of possession (96 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bls_pop: Option<Bytes>,
}

/// A funded account of a devnet genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    pub address: Address,
    pub balance: U256,
}

/// What kind of chain a spec describes: it decides what a verifier can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainKind {
    /// A chain whose genesis ranger holds in full (a devnet): block 0 is rebuilt from the spec
    /// (`consensus::genesis`), the first block must extend it, and the state is replayed.
    Devnet,
    /// A live Kaia network (mainnet, Kairos, or a genesis naming only its context): ranger does
    /// not hold its state, so the state transition is not replayed.
    Live,
}

/// The context of a chain: everything a verifier knows before it reads a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSpec {
    pub name: String,
    /// Devnet (genesis and state held) or live.
    pub kind: ChainKind,
    pub chain_id: u64,
    pub forks: ForkSchedule,
    /// Minimum seconds between a block and its parent (`parent.Time + period <= Time`).
    #[serde(default = "default_period")]
    pub block_period: u64,
    /// Governance epoch length in blocks.
    #[serde(default = "default_epoch")]
    pub epoch: u64,
    /// `istanbul.committeesize`; `None` = unbounded.
    #[serde(default)]
    pub committee_size: Option<u64>,
    /// DeriveSha impl ("orig", "simple", "concat").
    #[serde(default)]
    pub derive_sha: DeriveShaImpl,
    /// The council at genesis; empty = take each chain's first block's Validators as its council.
    #[serde(default)]
    pub council: Vec<CouncilMember>,
    /// Devnet base fee (fixed), in kei.
    #[serde(default)]
    pub base_fee: Option<U256>,
    /// Devnet funded accounts.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// True when every account uses AccountKeyLegacy (devnets): `from` must then equal the
    /// recovered signer. Real chains leave it false: a mismatch needs chain state to judge.
    #[serde(default)]
    pub legacy_keys_only: bool,
}

fn default_period() -> u64 {
    1
}
fn default_epoch() -> u64 {
    604_800
}

/// Why a chain spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    #[error("cannot read chain spec {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("chain spec {path} is not valid: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("unknown chain {0:?}: expected mainnet, kairos or a path to a genesis JSON file")]
    Unknown(String),
}

impl ChainSpec {
    /// Kaia mainnet (chain id 8217), fork blocks from `params/config.go`.
    pub fn mainnet() -> Self {
        Self {
            name: "mainnet".into(),
            kind: ChainKind::Live,
            chain_id: 8217,
            forks: ForkSchedule {
                eth_tx_type: Some(86_816_005),
                magma: Some(99_841_497),
                randao: Some(147_534_000),
                prague: Some(190_670_000),
                osaka: Some(211_090_000),
            },
            block_period: 1,
            epoch: 604_800,
            committee_size: Some(50),
            derive_sha: DeriveShaImpl::Orig,
            council: Vec::new(),
            base_fee: None,
            accounts: Vec::new(),
            legacy_keys_only: false,
        }
    }

    /// Kairos testnet (chain id 1001).
    pub fn kairos() -> Self {
        Self {
            name: "kairos".into(),
            chain_id: 1001,
            forks: ForkSchedule {
                eth_tx_type: Some(86_513_895),
                magma: Some(98_347_376),
                randao: Some(141_367_000),
                prague: Some(187_930_000),
                osaka: Some(209_134_000),
            },
            committee_size: None,
            ..Self::mainnet()
        }
    }

    /// `mainnet`, `kairos`, or a path to a genesis JSON file.
    pub fn load(name_or_path: &str) -> Result<Self, ChainSpecError> {
        match name_or_path {
            "mainnet" => Ok(Self::mainnet()),
            "kairos" => Ok(Self::kairos()),
            p if Path::new(p).exists() => Self::from_file(Path::new(p)),
            other => Err(ChainSpecError::Unknown(other.into())),
        }
    }

    /// Reads a genesis JSON file.
    pub fn from_file(path: &Path) -> Result<Self, ChainSpecError> {
        let p = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| ChainSpecError::Io {
            path: p.clone(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| ChainSpecError::Json { path: p, source })
    }
}
