//! The verification pipeline: decode → hash → recover (+ BLS) → judge, one thread per stage,
//! connected by bounded crossbeam channels that carry *windows* of blocks. Data-parallel work
//! inside a stage runs on rayon and on the configured `Backend`; the judge walks blocks in order,
//! so verdicts come out in block order, and at most a few windows are in flight, so memory stays
//! flat for any chain length.

pub mod judge;
pub mod replay;
pub mod report;
pub mod stages;

use crate::consensus::chain::{ChainSpec, ForkSchedule};
use crate::crypto::Backend;
use crate::crypto::bls::{BlsPublicKey, verify_pop};
use crate::trie::DeriveShaImpl;
use alloy_primitives::Address;
use judge::Judge;
pub use report::{BlockReport, Verdict};
pub use stages::Input;
use std::collections::HashMap;
use std::sync::Arc;

/// A council larger than this is not a council: it bounds the seals one header can make us
/// recover (mainnet's council is ~50; an honest header never has more seals than members).
pub const MAX_COUNCIL: usize = 1024;
/// Input bytes that close a window: about 3,000 signatures of transactions, enough to give both
/// cores (or a GPU dispatch) a full batch while keeping a window's memory in the low megabytes.
const WINDOW_BYTES: usize = 512 * 1024;
/// Blocks that close a window of small (header-only) blocks: 64 mainnet-shape headers are
/// ~1,500 seal recoveries.
const WINDOW_BLOCKS: usize = 64;
/// Windows buffered between two stages: none, a stage hands its window over when the next one
/// takes it. At most one window per stage is in flight (four, plus the input being gathered),
/// which bounds memory at any chain length; the judge, the slowest stage, never waits for more
/// than the hand-over.
const CHANNEL_WINDOWS: usize = 0;

/// What to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Header chain, seals, quorum, randao.
    Headers,
    /// Also every transaction signature and the tx root (and replay, where the chain has state).
    Full,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "headers" => Ok(Mode::Headers),
            "full" => Ok(Mode::Full),
            o => Err(format!("unknown mode {o:?}: expected headers or full")),
        }
    }
}

/// The pipeline's view of the chain context.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The signer chain id; `None` takes each transaction's claimed chain id (inspect).
    pub chain_id: Option<u64>,
    pub forks: ForkSchedule,
    pub block_period: u64,
    pub epoch: u64,
    /// `istanbul.committeesize` by height.
    pub committee_size: crate::consensus::chain::CommitteeSizes,
    /// The starting council; empty = the first block's Extra validators.
    pub council: Vec<Address>,
    pub derive_sha: DeriveShaImpl,
    /// Accept a tx root under any DeriveSha impl (real chains change impl by governance).
    pub try_every_derive_sha: bool,
    pub legacy_keys_only: bool,
    pub check_transactions: bool,
    pub has_bls_keys: bool,
    /// The most committed seals a header may make us recover.
    pub seal_bound: usize,
    /// Check that the header carries exactly the tail fields of its forks.
    pub check_fork_fields: bool,
    /// The trusted block the first input builds on (a devnet's genesis), when known.
    pub anchor: Option<Anchor>,
}

/// A trusted block that the first verified block must extend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub number: u64,
    pub hash: alloy_primitives::B256,
    pub time: u64,
    pub mix_hash: Option<alloy_primitives::B256>,
}

impl Anchor {
    /// The anchor a header makes.
    pub fn of(header: &crate::primitives::Header) -> Self {
        Anchor {
            number: header.number,
            hash: crate::consensus::istanbul::block_hash(header),
            time: header.time,
            mix_hash: header
                .mix_hash
                .as_ref()
                .and_then(|m| alloy_primitives::B256::try_from(&m[..]).ok()),
        }
    }
}

/// Why the context is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("council member {0}: BLS public key does not decode: {1}")]
    BadBlsKey(Address, crate::crypto::bls::BlsError),
    #[error("council member {0}: BLS proof of possession does not verify")]
    BadPop(Address),
    #[error("council member {0} has a BLS key but no proof of possession")]
    MissingPop(Address),
    #[error("unknown DeriveSha impl {0:?}")]
    DeriveSha(String),
}

impl PipelineConfig {
    /// The context of `spec`, with its BLS keys (each proof of possession checked once).
    pub fn from_spec(
        spec: &ChainSpec,
        mode: Mode,
    ) -> Result<(Self, HashMap<Address, BlsPublicKey>), ConfigError> {
        let mut keys = HashMap::new();
        for m in &spec.council {
            let Some(pk) = &m.bls_public_key else {
                continue;
            };
            let key =
                BlsPublicKey::from_bytes(pk).map_err(|e| ConfigError::BadBlsKey(m.address, e))?;
            let pop = m
                .bls_pop
                .as_ref()
                .ok_or(ConfigError::MissingPop(m.address))?;
            verify_pop(&key, pop).map_err(|_| ConfigError::BadPop(m.address))?;
            keys.insert(m.address, key);
        }
        let real_chain = spec.council.is_empty();
        let derive_sha: DeriveShaImpl = spec
            .derive_sha
            .parse()
            .map_err(|_| ConfigError::DeriveSha(spec.derive_sha.clone()))?;
        let cfg = PipelineConfig {
            chain_id: Some(spec.chain_id),
            forks: spec.forks.clone(),
            block_period: spec.block_period,
            epoch: spec.epoch,
            committee_size: spec.committee_sizes(),
            council: spec.council.iter().map(|m| m.address).collect(),
            derive_sha,
            try_every_derive_sha: real_chain,
            legacy_keys_only: spec.legacy_keys_only,
            check_transactions: mode == Mode::Full,
            has_bls_keys: !keys.is_empty(),
            seal_bound: spec.council.len(),
            check_fork_fields: true,
            anchor: None,
        };
        Ok((cfg, keys))
    }

    /// The context `inspect` uses for a lone block: the block's own Extra validators as council,
    /// unbounded committee, any DeriveSha impl; chain id and forks from `spec` when given.
    pub fn inspect(spec: Option<&ChainSpec>) -> Self {
        PipelineConfig {
            chain_id: spec.map(|s| s.chain_id),
            forks: spec.map(|s| s.forks.clone()).unwrap_or_default(),
            block_period: 0,
            epoch: 1,
            committee_size: Default::default(),
            council: Vec::new(),
            derive_sha: spec
                .and_then(|s| s.derive_sha.parse().ok())
                .unwrap_or(DeriveShaImpl::Orig),
            try_every_derive_sha: true,
            legacy_keys_only: spec.is_some_and(|s| s.legacy_keys_only),
            check_transactions: true,
            has_bls_keys: false,
            seal_bound: 0,
            check_fork_fields: spec.is_some(),
            anchor: None,
        }
    }
}

/// Why the pipeline stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("input {position}: {message}")]
    Source { position: u64, message: String },
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub blocks: u64,
    pub valid: u64,
    pub invalid: u64,
    pub transactions: u64,
}

/// Something that judges a decoded, signature-checked block further (state replay).
pub trait BlockHook: Send {
    /// Extra faults of `block` given its report so far (called in block order).
    fn check(
        &mut self,
        block: &crate::primitives::Block,
        report: &BlockReport,
    ) -> Vec<crate::consensus::Fault>;
}

/// The pipeline: configuration, keys, backend and the judge's running state.
#[derive(Debug)]
pub struct Pipeline {
    cfg: PipelineConfig,
    bls_keys: HashMap<Address, BlsPublicKey>,
    backend: Arc<dyn Backend>,
    judge: Judge,
}

enum Msg {
    Window(Vec<stages::Work>),
    Failed(PipelineError),
}

fn input_weight(i: &Input) -> usize {
    match i {
        Input::Rlp(b) => b.len(),
        Input::Block(b) => 600 + b.transactions.iter().map(|t| t.raw.len()).sum::<usize>(),
    }
}

impl Pipeline {
    /// A pipeline over `backend`.
    pub fn new(
        cfg: PipelineConfig,
        bls_keys: HashMap<Address, BlsPublicKey>,
        backend: Arc<dyn Backend>,
    ) -> Self {
        let judge = Judge::new(&cfg);
        Self {
            cfg,
            bls_keys,
            backend,
            judge,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.cfg
    }

    /// Verifies `inputs` in order, handing each report to `sink` (return `false` to stop early).
    /// A source error (I/O, broken framing) ends the run after every block before it was judged.
    pub fn run<I>(
        &mut self,
        inputs: I,
        mut hook: Option<&mut dyn BlockHook>,
        mut sink: impl FnMut(BlockReport) -> bool,
    ) -> Result<Summary, PipelineError>
    where
        I: Iterator<Item = Result<Input, String>> + Send,
    {
        let (to_hash, hash_rx) = crossbeam_channel::bounded::<Msg>(CHANNEL_WINDOWS);
        let (to_recover, recover_rx) = crossbeam_channel::bounded::<Msg>(CHANNEL_WINDOWS);
        let (to_judge, judge_rx) = crossbeam_channel::bounded::<Msg>(CHANNEL_WINDOWS);
        let cfg = &self.cfg;
        let keys = &self.bls_keys;
        let backend = &*self.backend;
        let judge = &mut self.judge;
        let mut summary = Summary::default();
        let mut failure = None;
        std::thread::scope(|s| {
            s.spawn(move || {
                let _span =
                    tracing::debug_span!(target: "ranger::pipeline::decode", "decode").entered();
                let mut pending = Vec::new();
                let mut weight = 0;
                let flush = |pending: &mut Vec<(u64, Input)>| -> bool {
                    if pending.is_empty() {
                        return true;
                    }
                    let w = stages::decode_window(std::mem::take(pending));
                    to_hash.send(Msg::Window(w)).is_ok()
                };
                for (pos, item) in inputs.enumerate() {
                    let pos = pos as u64;
                    match item {
                        Ok(input) => {
                            weight += input_weight(&input);
                            pending.push((pos, input));
                            if (weight >= WINDOW_BYTES || pending.len() >= WINDOW_BLOCKS)
                                && !flush(&mut pending)
                            {
                                return;
                            }
                            if pending.is_empty() {
                                weight = 0;
                            }
                        }
                        Err(message) => {
                            if flush(&mut pending) {
                                let _ = to_hash.send(Msg::Failed(PipelineError::Source {
                                    position: pos,
                                    message,
                                }));
                            }
                            return;
                        }
                    }
                }
                flush(&mut pending);
            });
            s.spawn(move || {
                for msg in hash_rx {
                    let out = match msg {
                        Msg::Window(mut w) => {
                            stages::hash_window(&mut w, cfg, backend);
                            Msg::Window(w)
                        }
                        f => f,
                    };
                    if to_recover.send(out).is_err() {
                        return;
                    }
                }
            });
            s.spawn(move || {
                for msg in recover_rx {
                    let out = match msg {
                        Msg::Window(mut w) => {
                            stages::recover_window(&mut w, cfg, keys, backend);
                            Msg::Window(w)
                        }
                        f => f,
                    };
                    if to_judge.send(out).is_err() {
                        return;
                    }
                }
            });
            'outer: for msg in judge_rx.iter() {
                match msg {
                    Msg::Failed(e) => {
                        failure = Some(e);
                        break;
                    }
                    Msg::Window(ws) => {
                        for w in ws {
                            let (mut report, block) = judge.judge(w, cfg);
                            if let (Some(h), Some(b)) = (hook.as_deref_mut(), &block) {
                                let extra = h.check(b, &report);
                                if !extra.is_empty() {
                                    report.faults.extend(extra);
                                    report.verdict = Verdict::Invalid;
                                }
                            }
                            summary.blocks += 1;
                            summary.transactions +=
                                block.map_or(0, |b| b.transactions.len() as u64);
                            match report.verdict {
                                Verdict::Valid => summary.valid += 1,
                                Verdict::Invalid => summary.invalid += 1,
                            }
                            if !sink(report) {
                                break 'outer;
                            }
                        }
                    }
                }
            }
            // Dropping the receiver unblocks upstream stages if we stopped early.
            drop(judge_rx);
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(summary),
        }
    }
}
