//! The council simulator: a seeded Kaia council chain, valid by construction or broken on purpose
//! in one named way per faulty block.
//!
//! A devnet is a genesis (`ChainSpec`: chain id, fork schedule, council with BLS keys and proofs
//! of possession, committee size, DeriveSha, base fee, funded accounts) and blocks 1..=N. Block 0
//! is not in the chain file: it is implied by the genesis, and `genesis_header` rebuilds it (its
//! hash is block 1's parent hash), as a Kaia node derives its genesis block from genesis.json.
//!
//! Invariants:
//! - Same config, same bytes: every choice comes from `rng::DevRng` streams of the seed, and
//!   signatures are deterministic.
//! - gasUsed, receipts root and state root come from `crate::state` (the replayer's own rules),
//!   so a produced block and a replayed one agree by construction.
//! - A block named by `--fault KIND@BLOCK` breaks exactly the check `KIND` names; everything that
//!   check depends on is re-derived (re-signed, re-hashed) so that no earlier check fires.

pub mod fastsign;
pub mod keys;
mod producer;
pub mod rng;
pub mod workload;

pub use producer::{ProducedBlock, Producer};

use crate::codec::chainfile::ChainWriter;
use crate::consensus::chain::{ChainSpec, ForkSchedule};
use crate::consensus::istanbul::block_hash;
use crate::consensus::{FaultKind, istanbul};
use crate::crypto::Backend;
use crate::primitives::Header;
use crate::state::{StateError, StateReplayer};
use crate::trie::DeriveShaImpl;
use alloy_primitives::{B256, U256};
use std::io::Write;
use std::path::Path;

/// Chain id of generated devnets unless configured otherwise.
pub const DEFAULT_CHAIN_ID: u64 = 2026;
/// The fixed base fee: 25 gkei, Kaia's long-standing minimum gas price.
pub const BASE_FEE: u64 = 25_000_000_000;
/// Balance of every funded account: 10^9 KAIA (10^27 kei), so that no workload runs dry.
pub const FUNDING_KEI: u128 = 1_000_000_000_000_000_000_000_000_000;
/// Timestamp of the genesis block; block times follow from it.
pub use crate::consensus::genesis::GENESIS_TIME;
/// Governance epoch of generated devnets: short, so a 200-block chain crosses several epochs.
pub const EPOCH: u64 = 30;
/// Seconds between blocks.
pub const BLOCK_PERIOD: u64 = 1;
/// `DevnetConfig::blocks` of a council that never stops (`ranger council`, the embedded node):
/// `Producer::next_block` always has a next block.
pub const ENDLESS: u64 = u64::MAX;

/// Fault kinds `--fault` can inject (the catalog in `FaultKind::ALL` has a few more that the
/// verifier reports but the devnet does not make).
pub const INJECTABLE: &[FaultKind] = &[
    FaultKind::MalformedRlp,
    FaultKind::BrokenParentHash,
    FaultKind::WrongNumber,
    FaultKind::EarlyTimestamp,
    FaultKind::TailFieldBeforeFork,
    FaultKind::BadProposerSeal,
    FaultKind::ProposerNotInCouncil,
    FaultKind::NonCouncilSeal,
    FaultKind::DuplicateSeal,
    FaultKind::BelowQuorum,
    FaultKind::BadRandomReveal,
    FaultKind::WrongMixHash,
    FaultKind::BadTxSignature,
    FaultKind::HighSSignature,
    FaultKind::WrongChainId,
    FaultKind::FromMismatch,
    FaultKind::BadFeePayerSignature,
    FaultKind::WrongTxRoot,
    FaultKind::NonceGap,
    FaultKind::NonceReplay,
    FaultKind::InsufficientBalance,
    FaultKind::WrongGasUsed,
    FaultKind::WrongReceiptsRoot,
    FaultKind::WrongStateRoot,
];

/// Faults the devnet makes across what it serves rather than in one chain: `equivocation@N`
/// signs a second block at height N (same parent, same transactions, another `timeFoS`), with a
/// full quorum of committed seals, and keeps it beside the chain, which goes on from the first.
/// A verifier of the chain alone sees a valid chain; a ranger sees the fault when it is given
/// both blocks (see `ProducedBlock::twin`).
pub const CROSS_SOURCE: &[FaultKind] = &[FaultKind::Equivocation];

/// One `--fault KIND@BLOCK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultAt {
    pub kind: FaultKind,
    pub block: u64,
}

impl std::str::FromStr for FaultAt {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, block) = s
            .split_once('@')
            .ok_or_else(|| format!("fault {s:?} is not KIND@BLOCK (e.g. nonce-gap@5)"))?;
        let kind: FaultKind = kind.parse()?;
        if !INJECTABLE.contains(&kind) && !CROSS_SOURCE.contains(&kind) {
            return Err(format!(
                "fault kind {kind} is reported by the verifier but the devnet cannot inject it"
            ));
        }
        let block = block
            .parse::<u64>()
            .map_err(|e| format!("fault {s:?}: block {block:?} is not a number: {e}"))?;
        Ok(Self { kind, block })
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevnetConfig {
    pub validators: usize,
    pub accounts: usize,
    pub blocks: u64,
    pub txs_per_block: usize,
    pub seed: u64,
    /// `istanbul.committeesize`; `None` = the whole council.
    pub committee_size: Option<u64>,
    pub faults: Vec<FaultAt>,
    /// Council votes and epoch governance data.
    pub votes: bool,
    pub chain_id: u64,
    pub derive_sha: DeriveShaImpl,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            validators: 7,
            accounts: 100_000,
            blocks: 200,
            txs_per_block: 2000,
            seed: 1,
            committee_size: None,
            faults: Vec::new(),
            votes: false,
            chain_id: DEFAULT_CHAIN_ID,
            derive_sha: DeriveShaImpl::Orig,
        }
    }
}

/// Why a devnet could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    #[error("invalid devnet config: {0}")]
    Config(String),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("cannot write the devnet to {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("devnet producer bug: {0}")]
    Internal(String),
}

impl DevnetConfig {
    /// Checks the config before any work.
    pub fn validate(&self) -> Result<(), DevnetError> {
        let bad = |m: String| Err(DevnetError::Config(m));
        if self.validators == 0 {
            return bad("--validators must be at least 1".into());
        }
        if self.accounts < 2 {
            return bad(
                "--accounts must be at least 2 (a transfer needs a sender and a recipient)".into(),
            );
        }
        if self.committee_size == Some(0) {
            return bad("--committee-size must be at least 1".into());
        }
        // A genesis over the bounds of a context file would be refused by every verifier.
        use crate::consensus::chain::{MAX_ACCOUNTS, MAX_COUNCIL};
        if self.validators > MAX_COUNCIL {
            return bad(format!("--validators must be at most {MAX_COUNCIL}"));
        }
        if self.accounts > MAX_ACCOUNTS {
            return bad(format!("--accounts must be at most {MAX_ACCOUNTS}"));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.faults {
            if f.block == 0 || f.block > self.blocks {
                return bad(format!(
                    "fault {}@{}: the chain has blocks 1..={}",
                    f.kind, f.block, self.blocks
                ));
            }
            if !seen.insert(f.block) {
                return bad(format!(
                    "block {} has two faults: one fault per block",
                    f.block
                ));
            }
            if matches!(f.kind, FaultKind::NonCouncilSeal | FaultKind::DuplicateSeal)
                && self.validators < 2
            {
                return bad(format!(
                    "{} adds a seal beside a full quorum; a council of {} has no room for it (too-many-seals would fire)",
                    f.kind, self.validators
                ));
            }
        }
        Ok(())
    }

    /// The genesis of this config (keys derived from the seed).
    pub fn chain_spec(&self, keys: &keys::DevnetKeys) -> ChainSpec {
        ChainSpec {
            name: format!("ranger-devnet-{}", self.seed),
            chain_id: self.chain_id,
            forks: ForkSchedule {
                eth_tx_type: Some(0),
                magma: Some(0),
                // Randao from block 1: block 1 is the fork block (parent mix = zero) and the
                // genesis header carries no reveal.
                randao: Some(1),
                prague: Some(0),
                // Osaka lies beyond the chain, so a blob-gas field is a tail field before its fork.
                osaka: Some(self.blocks.saturating_add(1)),
                kore: None,
            },
            block_period: BLOCK_PERIOD,
            epoch: EPOCH,
            committee_size: self.committee_size,
            committee_size_history: Vec::new(),
            committee_size_known_until: None,
            kind: crate::consensus::chain::ChainKind::Devnet,
            derive_sha: self.derive_sha,
            council: keys.council_members(),
            base_fee: Some(U256::from(BASE_FEE)),
            accounts: keys
                .addresses
                .iter()
                .map(|a| crate::consensus::chain::GenesisAccount {
                    address: *a,
                    balance: U256::from(FUNDING_KEI),
                })
                .collect(),
            legacy_keys_only: true,
            council_governance: self.votes,
        }
    }
}

/// The genesis block's header (`consensus::genesis`), with the genesis state's root computed here.
pub fn genesis_header(spec: &ChainSpec, backend: &dyn Backend) -> Result<Header, DevnetError> {
    let state_root = StateReplayer::from_genesis(spec)?.state_root(backend);
    Ok(crate::consensus::genesis::genesis_header(
        spec, state_root, backend,
    ))
}

/// The hash of `genesis_header`.
pub fn genesis_hash(spec: &ChainSpec, backend: &dyn Backend) -> Result<B256, DevnetError> {
    genesis_header(spec, backend).map(|h| block_hash(&h))
}

/// What a generation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub blocks: u64,
    pub transactions: u64,
    pub chain_bytes: u64,
    pub genesis_hash: B256,
    pub last_hash: B256,
}

/// Generates a devnet in memory: its genesis and each block's bytes (for tests and benchmarks).
pub fn generate_in_memory(
    config: &DevnetConfig,
    backend: &dyn Backend,
) -> Result<(ChainSpec, Vec<Vec<u8>>), DevnetError> {
    if config.blocks == ENDLESS {
        return Err(DevnetError::Config(
            "an endless devnet does not fit in memory: give it a number of blocks".into(),
        ));
    }
    let mut p = Producer::new(config.clone(), backend)?;
    let mut blocks = Vec::with_capacity(config.blocks as usize);
    while let Some(b) = p.next_block(backend)? {
        blocks.push(b.bytes);
    }
    Ok((p.spec().clone(), blocks))
}

/// Generates a devnet into `dir`: `genesis.json` and `chain` (the chain file format).
pub fn generate_to_dir(
    config: &DevnetConfig,
    dir: &Path,
    backend: &dyn Backend,
) -> Result<Summary, DevnetError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| DevnetError::Io {
            path: path.clone(),
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut p = Producer::new(config.clone(), backend)?;
    let genesis_path = dir.join("genesis.json");
    let mut json = serde_json::to_vec_pretty(p.spec())
        .map_err(|e| DevnetError::Internal(format!("genesis does not serialize: {e}")))?;
    json.push(b'\n');
    std::fs::write(&genesis_path, json).map_err(io(&genesis_path))?;

    let chain_path = dir.join("chain");
    let file = std::fs::File::create(&chain_path).map_err(io(&chain_path))?;
    let mut w = ChainWriter::new(std::io::BufWriter::new(file)).map_err(io(&chain_path))?;
    let mut summary = Summary {
        blocks: 0,
        transactions: 0,
        chain_bytes: crate::codec::chainfile::MAGIC.len() as u64,
        genesis_hash: istanbul::block_hash(p.genesis()),
        last_hash: istanbul::block_hash(p.genesis()),
    };
    while let Some(b) = p.next_block(backend)? {
        w.write_frame(&b.bytes).map_err(io(&chain_path))?;
        summary.blocks += 1;
        summary.transactions += b.transactions as u64;
        summary.chain_bytes += 4 + b.bytes.len() as u64;
        summary.last_hash = block_hash(&b.header);
    }
    w.finish()
        .map_err(io(&chain_path))?
        .flush()
        .map_err(io(&chain_path))?;
    Ok(summary)
}
