//! The chain context a verifier needs: chain id, fork schedule, council (with BLS keys when
//! known), committee size (with its governance history), epoch, block period and DeriveSha impl.
//! Built in for Kaia mainnet and Kairos, or read from a genesis JSON file (the devnet writes one).
//!
//! Invariant: a built-in value carries its source, and a height where ranger cannot vouch for a
//! governance parameter answers `ParamAt::Unknown` with the reason, never a guess.
//!
//! ## Committee size (`istanbul.committeesize`) of the built-in chains
//! Kaia reads a parameter at block N from the header-governance data ratified at epoch block
//! `PrevEpochStart(N)` (kaiachain/kaia `kaiax/gov/headergov/impl/getter.go`): a value ratified at
//! epoch block `k·epoch` holds from `(k+1)·epoch` on, and from `(k+1)·epoch + 1` before Kore
//! (`kaiax/gov/headergov/README.md`). Epoch = 604,800 on both chains.
//!
//! Mainnet (chain id 8217), all from kaiachain/kaia @ `c26bba73` (v2.2.1):
//! - genesis: 22 (`params/config.go`, `MainnetChainConfig.Istanbul.SubGroupSize`; the same value is
//!   the block-0 governance data in `kaiax/gov/headergov/gov_test.go`, "Real mainnet governance data");
//! - 31: voted at block 95,352,567 (`kaiax/gov/headergov/vote_test.go`, "Real mainnet vote data"),
//!   ratified at epoch block 95,558,400 (`gov_test.go`), in force from 96,163,201 (pre-Kore);
//! - 50: voted at 161,809,335 (`vote_test.go`), ratified at 162,086,400 (`gov_test.go`), in force
//!   from 162,691,200 (Kore, 119,750,400, is active).
//!
//! Those lists stop at 162,086,400; a change ratified at the next epoch block (162,691,200) would
//! hold from 163,296,000, so the history is vouched for up to block 163,295,999 and `Unknown` after
//! it, unless ranger read the epoch blocks' governance itself (`council::Council`).
//!
//! Kairos (chain id 1001): genesis 22 (`params/config.go`, `KairosChainConfig`). No public source
//! found lists Kairos' later committee-size governance (its ratified changes, or GovParam contract
//! values after Kore), so the value is vouched for only until the first change could take effect:
//! a change ratified at epoch block 604,800 holds from 1,209,601, so `Unknown` from there on.

pub use super::specfile::{LoadedSpec, MAX_ACCOUNTS, MAX_COUNCIL, MAX_HISTORY, MAX_SPEC_BYTES};
use crate::trie::DeriveShaImpl;
use alloy_primitives::{Address, Bytes, U256};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The forks that change what a header or transaction may carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
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
    /// Kore: a governance change ratified at epoch block `k·epoch` holds from `(k+1)·epoch`,
    /// one block earlier than before Kore. `None` (devnets) applies Kore's timing from genesis:
    /// a chain without a pre-Kore history has no reason to carry the older off-by-one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kore: Option<u64>,
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
            kore: None,
        }
    }

    /// The first block that uses a governance value ratified at epoch block `ratified`
    /// (kaiachain/kaia `PrevEpochStart`: Kore's timing once Kore is active at that block).
    pub fn governance_effective_block(&self, ratified: u64, epoch: u64) -> u64 {
        let next = ratified.saturating_add(epoch.max(1));
        match self.kore {
            Some(k) if next < k => next.saturating_add(1),
            _ => next,
        }
    }
}

/// What ranger knows of a governance parameter at one height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamAt {
    /// The value in force at that height.
    Known(u64),
    /// The parameter sets no bound (a devnet without a committee size: the committee is the
    /// whole council).
    Unbounded,
    /// ranger cannot vouch for the value at that height.
    Unknown { reason: String },
}

/// `istanbul.committeesize` along a chain: a history of values, each from its first block, vouched
/// for up to `known_until`; or, without a history, one value (or none) for every height.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CommitteeSizes {
    /// `(first block, size)`, in increasing block order; each holds until the next.
    pub history: Vec<(u64, u64)>,
    /// The last block the history is vouched for; `None` = every later block.
    pub known_until: Option<u64>,
    /// The value when `history` is empty: `Some(n)` at every height, `None` = unbounded.
    pub fallback: Option<u64>,
    /// Chain name, for the reasons `at` gives.
    pub chain: String,
    /// The Kore fork block, for when a ratified change takes effect (`ForkSchedule::kore`).
    pub kore: Option<u64>,
}

impl From<Option<u64>> for CommitteeSizes {
    fn from(fallback: Option<u64>) -> Self {
        Self {
            fallback,
            ..Self::default()
        }
    }
}

impl CommitteeSizes {
    /// The first block that uses a value ratified at epoch block `ratified`.
    pub fn effective_block(&self, ratified: u64, epoch: u64) -> u64 {
        ForkSchedule {
            kore: self.kore,
            ..ForkSchedule::default()
        }
        .governance_effective_block(ratified, epoch)
    }

    /// The committee size in force at block `number`.
    pub fn at(&self, number: u64) -> ParamAt {
        let Some(first) = self.history.first() else {
            return self.fallback.map_or(ParamAt::Unbounded, ParamAt::Known);
        };
        if number < first.0 {
            return ParamAt::Unknown {
                reason: format!(
                    "{}: no documented istanbul.committeesize before block {}",
                    self.chain, first.0
                ),
            };
        }
        if let Some(until) = self.known_until
            && number > until
        {
            return ParamAt::Unknown {
                reason: format!(
                    "{}: istanbul.committeesize is documented up to block {until} only; a \
                     governance change ranger has not read could hold at block {number}",
                    self.chain
                ),
            };
        }
        let i = self.history.partition_point(|&(from, _)| from <= number);
        // `i >= 1`: `number >= first.0`.
        ParamAt::Known(self.history[i - 1].1)
    }
}

/// One council member as a genesis lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
///
/// Deserialized only through `specfile` (bounded lists, one JSON shape per field, no unknown
/// keys, every default named): see [`LoadedSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "super::specfile::RawSpec")]
pub struct ChainSpec {
    pub name: String,
    /// Devnet (genesis and state held) or live.
    pub kind: ChainKind,
    pub chain_id: u64,
    pub forks: ForkSchedule,
    /// Minimum seconds between a block and its parent (`parent.Time + period <= Time`).
    pub block_period: u64,
    /// Governance epoch length in blocks.
    pub epoch: u64,
    /// `istanbul.committeesize` at every height when `committee_size_history` is empty;
    /// `None` = unbounded.
    pub committee_size: Option<u64>,
    /// `istanbul.committeesize` by height, `[first block, size]` pairs in increasing block order
    /// (see the module notes for the built-in chains). Takes precedence over `committee_size`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub committee_size_history: Vec<(u64, u64)>,
    /// The last block `committee_size_history` is vouched for; after it the size is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committee_size_known_until: Option<u64>,
    /// DeriveSha impl ("orig", "simple", "concat").
    pub derive_sha: DeriveShaImpl,
    /// The council at genesis; empty = take each chain's first block's Validators as its council.
    pub council: Vec<CouncilMember>,
    /// Devnet base fee (fixed), in kei.
    pub base_fee: Option<U256>,
    /// Devnet funded accounts.
    pub accounts: Vec<GenesisAccount>,
    /// True when every account uses AccountKeyLegacy (devnets): `from` must then equal the
    /// recovered signer. Real chains leave it false: a mismatch needs chain state to judge.
    pub legacy_keys_only: bool,
    /// True when governance changes the council: `governance.addvalidator`/`removevalidator`
    /// votes its members, epoch blocks' governance data its committee size (Kaia's chains; a
    /// devnet made with `--votes`). False for a chain whose council is its genesis council at
    /// every height (any other devnet): votes and governance data are not applied. A fault report
    /// is only checked against a council the checker knows at the block's height, so only on
    /// chains where this is false.
    pub council_governance: bool,
}

/// `block_period` when a genesis leaves it out (Kaia's one second).
pub const DEFAULT_PERIOD: u64 = 1;
/// `epoch` when a genesis leaves it out: Kaia mainnet's and Kairos' (`params/config.go`).
pub const DEFAULT_EPOCH: u64 = KAIA_EPOCH;

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
    #[error("chain spec {path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// Epoch of Kaia mainnet and Kairos (`params/config.go`, `Istanbul.Epoch`).
const KAIA_EPOCH: u64 = 604_800;

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
                kore: Some(119_750_400),
            },
            block_period: 1,
            epoch: KAIA_EPOCH,
            committee_size: None,
            // Sources and effective blocks: see the module notes.
            committee_size_history: vec![(0, 22), (96_163_201, 31), (162_691_200, 50)],
            committee_size_known_until: Some(162_086_400 + 2 * KAIA_EPOCH - 1),
            derive_sha: DeriveShaImpl::Orig,
            council: Vec::new(),
            base_fee: None,
            accounts: Vec::new(),
            legacy_keys_only: false,
            council_governance: true,
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
                kore: Some(111_736_800),
            },
            // Genesis value only (see the module notes): vouched for until a change ratified at
            // the first epoch block could hold.
            committee_size_history: vec![(0, 22)],
            committee_size_known_until: Some(2 * KAIA_EPOCH),
            ..Self::mainnet()
        }
    }

    /// `mainnet`, `kairos`, or a path to a genesis JSON file (the defaults a file's missing
    /// fields took are dropped: [`LoadedSpec::load`] keeps them).
    pub fn load(name_or_path: &str) -> Result<Self, ChainSpecError> {
        LoadedSpec::load(name_or_path).map(|l| l.spec)
    }

    /// Reads a genesis JSON file (see [`ChainSpec::load`]).
    pub fn from_file(path: &Path) -> Result<Self, ChainSpecError> {
        LoadedSpec::from_file(path).map(|l| l.spec)
    }

    /// Checks what the field types cannot: the bounds of every list, each council member and
    /// account listed once, BLS keys that are keys, an epoch and committee sizes of at least 1
    /// (Kaia refuses `istanbul.committeesize` 0, `kaiax/gov/param.go`), and a committee-size
    /// history in strictly increasing block order.
    pub fn check(&self) -> Result<(), String> {
        if self.epoch == 0 {
            return Err("epoch is 0; a governance epoch is at least 1 block".into());
        }
        if self.committee_size == Some(0) {
            return Err("committee_size is 0 (istanbul.committeesize must be at least 1)".into());
        }
        let h = &self.committee_size_history;
        if h.len() > MAX_HISTORY {
            return Err(format!(
                "committee_size_history: {} entries, over the bound of {MAX_HISTORY}",
                h.len()
            ));
        }
        if let Some(w) = h.windows(2).find(|w| w[0].0 >= w[1].0) {
            return Err(format!(
                "committee_size_history is not in increasing block order: block {} then {}",
                w[0].0, w[1].0
            ));
        }
        if let Some((from, _)) = h.iter().find(|(_, size)| *size == 0) {
            return Err(format!(
                "committee_size_history: size 0 from block {from} (istanbul.committeesize must be at least 1)"
            ));
        }
        if self.committee_size_known_until.is_some() && h.is_empty() {
            return Err(
                "committee_size_known_until without committee_size_history: it bounds the history only"
                    .into(),
            );
        }
        if self.kind == ChainKind::Devnet && self.council.is_empty() {
            return Err("council is empty: a devnet genesis lists its council".into());
        }
        super::specfile::check_council(&self.council)?;
        super::specfile::check_accounts(&self.accounts)
    }

    /// The committee size along this chain.
    pub fn committee_sizes(&self) -> CommitteeSizes {
        CommitteeSizes {
            history: self.committee_size_history.clone(),
            known_until: self.committee_size_known_until,
            fallback: self.committee_size,
            chain: self.name.clone(),
            kore: self.forks.kore,
        }
    }

    /// `istanbul.committeesize` in force at block `number`.
    pub fn committee_size_at(&self, number: u64) -> ParamAt {
        self.committee_sizes().at(number)
    }
}

impl LoadedSpec {
    /// `mainnet`, `kairos` (no notes), or a path to a genesis JSON file.
    pub fn load(name_or_path: &str) -> Result<Self, ChainSpecError> {
        let builtin = |spec| {
            Ok(LoadedSpec {
                spec,
                notes: Vec::new(),
            })
        };
        match name_or_path {
            "mainnet" => builtin(ChainSpec::mainnet()),
            "kairos" => builtin(ChainSpec::kairos()),
            p if Path::new(p).exists() || p.contains('/') || p.ends_with(".json") => {
                Self::from_file(Path::new(p))
            }
            other => Err(ChainSpecError::Unknown(other.into())),
        }
    }

    /// Reads a genesis JSON file of at most [`MAX_SPEC_BYTES`].
    pub fn from_file(path: &Path) -> Result<Self, ChainSpecError> {
        let p = path.display().to_string();
        let io = |source| ChainSpecError::Io {
            path: p.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let Some(text) = crate::codec::read_bounded(file, MAX_SPEC_BYTES).map_err(io)? else {
            return Err(ChainSpecError::Invalid {
                path: p,
                reason: format!("over {MAX_SPEC_BYTES} bytes; no genesis file is that large"),
            });
        };
        Self::from_json(&text).map_err(|source| ChainSpecError::Json { path: p, source })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_until_without_a_history_is_refused() {
        let mut s = ChainSpec::kairos();
        s.committee_size_history.clear();
        s.committee_size = Some(22);
        s.committee_size_known_until = Some(1000);
        let e = s.check().unwrap_err();
        assert!(e.contains("committee_size_known_until"), "{e}");
        s.committee_size_known_until = None;
        assert!(s.check().is_ok());
    }

    use super::*;

    #[test]
    fn mainnet_committee_size_follows_its_documented_history() {
        let m = ChainSpec::mainnet();
        let at = |n| m.committee_size_at(n);
        assert_eq!(at(0), ParamAt::Known(22));
        assert_eq!(
            at(95_558_400),
            ParamAt::Known(22),
            "the ratifying epoch block"
        );
        // Ratified at 95,558,400, before Kore (119,750,400): in force one block after the next
        // epoch block.
        assert_eq!(at(96_163_200), ParamAt::Known(22));
        assert_eq!(at(96_163_201), ParamAt::Known(31));
        assert_eq!(at(162_691_199), ParamAt::Known(31));
        // Ratified at 162,086,400, after Kore: in force from the next epoch block itself.
        assert_eq!(at(162_691_200), ParamAt::Known(50));
        assert_eq!(at(163_295_999), ParamAt::Known(50));
        let ParamAt::Unknown { reason } = at(163_296_000) else {
            panic!("past the documented horizon the size is unknown");
        };
        assert!(reason.contains("163295999"), "{reason}");
    }

    #[test]
    fn effective_blocks_follow_kaias_prev_epoch_start() {
        let f = ChainSpec::mainnet().forks;
        assert_eq!(
            f.governance_effective_block(95_558_400, 604_800),
            96_163_201
        );
        assert_eq!(
            f.governance_effective_block(162_086_400, 604_800),
            162_691_200
        );
        // The ratification whose next epoch block is Kore's block itself takes Kore's timing.
        assert_eq!(
            f.governance_effective_block(119_145_600, 604_800),
            119_750_400
        );
        assert_eq!(
            f.governance_effective_block(118_540_800, 604_800),
            119_145_601
        );
        // Devnets (no Kore block): Kore's timing from genesis.
        assert_eq!(
            ForkSchedule::default().governance_effective_block(30, 30),
            60
        );
    }

    #[test]
    fn kairos_knows_only_its_genesis_value() {
        let k = ChainSpec::kairos();
        assert_eq!(k.committee_size_at(0), ParamAt::Known(22));
        assert_eq!(k.committee_size_at(1_209_600), ParamAt::Known(22));
        assert!(matches!(
            k.committee_size_at(1_209_601),
            ParamAt::Unknown { .. }
        ));
        assert!(matches!(
            k.committee_size_at(83_863_326),
            ParamAt::Unknown { .. }
        ));
    }

    #[test]
    fn a_devnet_genesis_without_history_reads_as_before() {
        let mut s = ChainSpec::kairos();
        s.committee_size_history.clear();
        s.committee_size_known_until = None;
        s.committee_size = Some(7);
        assert_eq!(s.committee_size_at(123), ParamAt::Known(7));
        s.committee_size = None;
        assert_eq!(s.committee_size_at(123), ParamAt::Unbounded);
        // The old serde form (no history keys) still parses, and writes no history keys.
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("committee_size_history"), "{text}");
        let back: ChainSpec = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_history_before_its_first_entry_is_unknown_and_bad_histories_are_refused() {
        let mut s = ChainSpec::kairos();
        s.committee_size_history = vec![(100, 4), (200, 7)];
        s.committee_size_known_until = None;
        assert!(matches!(s.committee_size_at(99), ParamAt::Unknown { .. }));
        assert_eq!(s.committee_size_at(100), ParamAt::Known(4));
        assert_eq!(s.committee_size_at(10_000), ParamAt::Known(7));
        assert!(s.check().is_ok());
        s.committee_size_history = vec![(200, 7), (100, 4)];
        assert!(s.check().unwrap_err().contains("increasing"));
        s.committee_size_history = vec![(0, 0)];
        assert!(s.check().unwrap_err().contains("size 0"));
        let text = serde_json::to_string(&ChainSpec::mainnet()).unwrap();
        assert!(text.contains("\"committee_size_history\":[[0,22],[96163201,31],[162691200,50]]"));
    }
}
