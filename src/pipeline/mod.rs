//! The verification pipeline: decode → hash → recover (+ BLS) → judge, one thread per stage,
//! connected by bounded crossbeam channels that carry *windows* of blocks. Data-parallel work
//! inside a stage runs on rayon and on the configured `Backend`; the judge walks blocks in order,
//! so verdicts come out in block order, and at most a few windows are in flight, so memory stays
//! flat for any chain length.

pub mod checked;
pub mod checkpoint;
pub mod clock;
pub mod council_hints;
pub mod hints;
pub mod judge;
pub mod receipts;
pub mod replay;
pub mod report;
pub mod stages;

use crate::consensus::chain::{ChainKind, ChainSpec, ForkSchedule};
use crate::crypto::Backend;
use crate::crypto::batch::{CacheStats, KeyCache};
use crate::crypto::bls::{BlsPublicKey, verify_pop};
use crate::state::StateError;
use crate::trie::DeriveShaImpl;
use alloy_primitives::Address;
pub use checked::{CheckedBackend, Undecided};
pub use checkpoint::{Checkpoint, Resume};
pub use clock::{Stage, StageClock};
pub use hints::SealHint;
use judge::Judge;
pub use receipts::SourceReceipts;
use replay::Replay;
pub use report::{BlockReport, Verdict};
pub use stages::Input;
use stages::{StageConfig, Window};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A council larger than this is not a council (one home: the chain spec's bound, which also
/// caps the seals one header can make us recover).
pub use crate::consensus::chain::MAX_COUNCIL;
/// Input bytes that close a window: about 3,000 signatures of transactions, enough to give both
/// cores (or a GPU dispatch) a full batch while keeping a window's memory in the low megabytes.
/// 1 MiB windows were tried (README, "End to end: batch points without conversions"): the end to
/// end ratio moved within the bench's noise, and `ranger verify`'s peak RSS over 200 blocks of
/// 1,000 transactions rose by a fifth, so the window stays at 512 KiB.
const WINDOW_BYTES: usize = 512 * 1024;
/// Blocks that close a window of small (header-only) blocks: 64 mainnet-shape headers are
/// ~1,500 seal recoveries.
const WINDOW_BLOCKS: usize = 64;
/// The same in headers mode once the verifier is warm (`hints::Known::warm`: the seal signers
/// are predicted and every validator's key is held, so seals are verified in one batch, not
/// recovered): larger windows share the randao check's Miller loops (one per proposer and one for
/// the signatures, per window) and the seal batch's buckets over more headers. A cold verifier
/// keeps 64-block windows, so the blocks it must recover before it has learnt the council come
/// in small batches; its first windows also teach it the keys and the seal rule. The windowing
/// never changes a verdict: each block is judged from its own seals and reveal, whichever batch
/// they were checked in.
const WARM_HEADER_WINDOW_BLOCKS: usize = 256;
/// The input bytes that close a warm headers-mode window: 256 mainnet-shape headers are ~750 KB.
const WARM_HEADER_WINDOW_BYTES: usize = 2 * WINDOW_BYTES;
/// Windows buffered between two stages: none, a stage hands its window over when the next one
/// takes it. At most one window per stage is in flight (four, plus the input being gathered),
/// which bounds memory at any chain length; the judge, the slowest stage, never waits for more
/// than the hand-over.
const CHANNEL_WINDOWS: usize = 0;

/// What to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Mode {
    /// Header chain, seals, quorum, randao
    Headers,
    /// Also every transaction signature and the tx root (and replay, where the chain has state)
    Full,
}

impl Mode {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Headers => "headers",
            Mode::Full => "full",
        }
    }
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

/// The judge's view of the chain context (built by `Verifier`).
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The signer chain id; `None` takes each transaction's claimed chain id (inspect).
    pub chain_id: Option<u64>,
    pub forks: ForkSchedule,
    pub block_period: u64,
    pub epoch: u64,
    /// `istanbul.committeesize` by height.
    pub committee_size: crate::consensus::chain::CommitteeSizes,
    /// The qualified validators (council minus members below the minimum stake) are not known:
    /// the council stands in for them and quorums become ranges (live chains whose council comes
    /// from the blocks, lone blocks).
    pub qualified_unknown: bool,
    /// The starting council; empty = the first block's Extra validators.
    pub council: Vec<Address>,
    /// Whether governance changes the council (the spec's `council_governance`).
    pub council_governance: bool,
    pub derive_sha: DeriveShaImpl,
    /// Accept a tx root under any DeriveSha impl (real chains change impl by governance).
    pub try_every_derive_sha: bool,
    pub legacy_keys_only: bool,
    pub check_transactions: bool,
    pub has_bls_keys: bool,
    /// The BLS keys are a source's hints (`council_hints`): a reveal that does not verify under
    /// one is undecided, not a fault, and a proposer without one is not a fault either.
    pub bls_keys_hinted: Option<String>,
    /// A committee size a source gave (`council_hints`), with who gave it.
    pub committee_size_hint: Option<(council_hints::CommitteeSizeHint, String)>,
    /// The most committed seals a header may make us recover.
    pub seal_bound: usize,
    /// Check that the header carries exactly the tail fields of its forks.
    pub check_fork_fields: bool,
    /// The trusted block the first input builds on (a devnet's genesis), when known.
    pub anchor: Option<Anchor>,
}

/// A trusted block that the first verified block must extend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    #[error(
        "the saved state does not match its checkpoint: the checkpoint says root {saved:?}, the saved accounts hash to {loaded:?}"
    )]
    ResumeMismatch {
        saved: Option<alloy_primitives::B256>,
        loaded: Option<alloy_primitives::B256>,
    },
    #[error("council member {0}: BLS public key does not decode: {1}")]
    BadBlsKey(Address, crate::crypto::bls::BlsError),
    #[error("council member {0}: BLS proof of possession does not verify")]
    BadPop(Address),
    #[error("council member {0} has a BLS key but no proof of possession")]
    MissingPop(Address),
    #[error("cannot build the genesis state: {0}")]
    State(#[from] StateError),
    #[error("the backend failed while hashing the genesis: {0}")]
    Backend(Undecided),
    #[error("chain {0:?} is not a devnet in full mode: ranger holds no state to replay")]
    NoReplay(String),
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
    pub undecided: u64,
    /// Blocks (of any verdict) that descend from an invalid block.
    pub descends_from_invalid: u64,
    pub transactions: u64,
    /// The windows the blocks were checked in (each one hash batch and one recover batch).
    pub windows: u64,
}

impl Summary {
    /// The exit code a command reports: 1 when the council was caught in a fault (a claim about
    /// the council wins), else 2 when the node could not decide something, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.invalid > 0 {
            1
        } else if self.undecided > 0 {
            2
        } else {
            0
        }
    }

    /// Counts one more block.
    pub fn count(&mut self, r: &BlockReport) {
        self.blocks += 1;
        self.transactions += r.transactions.len() as u64;
        match r.verdict {
            Verdict::Valid => self.valid += 1,
            Verdict::Invalid => self.invalid += 1,
            Verdict::Undecided => self.undecided += 1,
        }
        self.descends_from_invalid += u64::from(r.descends_from_invalid.is_some());
    }
}

/// Builds a `Verifier` from a chain spec: what to check, on which backend, from which anchor, and
/// whether to replay the state.
#[derive(Debug)]
pub struct VerifierBuilder<'a> {
    spec: &'a ChainSpec,
    mode: Mode,
    backend: Option<Arc<dyn Backend>>,
    anchor: Option<Anchor>,
    replay: Option<bool>,
    resume: Option<Resume>,
    keys: Option<KeyCache>,
    hints: Option<council_hints::SourceHints>,
}

impl VerifierBuilder<'_> {
    /// Go on from a checkpoint (a node restarting on its store) instead of the anchor. `build`
    /// checks that the saved accounts hash to the checkpoint's state root.
    pub fn resume(mut self, resume: Resume) -> Self {
        self.resume = Some(resume);
        self
    }
    /// Public keys already known (default: none; the verifier learns them from the chain). Keys
    /// are only ever used to check claims, so any cache is safe to hand over, e.g. a previous
    /// verifier's.
    pub fn key_cache(mut self, keys: KeyCache) -> Self {
        self.keys = Some(keys);
        self
    }
    /// What a source says about the council (a live chain's): BLS keys (used only where the
    /// spec lists none), the council and the committee size, each checked, never trusted (see
    /// `council_hints`).
    pub fn source_hints(mut self, hints: council_hints::SourceHints) -> Self {
        self.hints = Some(hints);
        self
    }
    /// What to check (default: `Full`).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// Where batches run (default: the CPU).
    pub fn backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.backend = Some(backend);
        self
    }
    /// The trusted block the first input extends (default: a devnet's genesis block, rebuilt from
    /// the spec; none for a live chain, whose first block is taken as it is).
    pub fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = Some(anchor);
        self
    }
    /// Replay the state transition (default: in full mode on a devnet, the only chains whose
    /// state ranger holds; asking for it elsewhere is refused by `build`).
    pub fn replay(mut self, replay: bool) -> Self {
        self.replay = Some(replay);
        self
    }

    /// The verifier. Checks every council member's BLS proof of possession once.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let spec = self.spec;
        let backend = self
            .backend
            .unwrap_or_else(|| Arc::new(crate::crypto::CpuBackend));
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
        let has_spec_keys = !keys.is_empty();
        let hints = self.hints;
        let mut bls_keys_hinted = None;
        if let Some(h) = hints
            .as_ref()
            .filter(|h| !has_spec_keys && !h.bls_keys.is_empty())
        {
            keys.extend(h.bls_keys.iter().map(|(a, k)| (*a, k.clone())));
            bls_keys_hinted = Some(h.source.clone());
        }
        let devnet = spec.kind == ChainKind::Devnet;
        let full = self.mode == Mode::Full;
        let replay_wanted = self.replay.unwrap_or(devnet && full);
        if replay_wanted && !(devnet && full) {
            return Err(ConfigError::NoReplay(spec.name.clone()));
        }
        let mut replay = match (&self.resume, replay_wanted) {
            (_, false) => None,
            (Some(r), true) => Some(Replay::resume(spec, r.accounts.iter().copied())?),
            (None, true) => Some(Replay::new(spec)?),
        };
        // The genesis state is hashed once now (so the first block pays only for what it
        // touches), through the same answer checks as every batch.
        let checked = CheckedBackend::new(&*backend);
        let root = match replay.as_mut() {
            Some(r) => Some(r.state_root(&checked)),
            None if devnet && self.anchor.is_none() => {
                Some(crate::state::StateReplayer::from_genesis(spec)?.state_root(&checked))
            }
            None => None,
        };
        let anchor = match (self.anchor, root) {
            (Some(a), _) => Some(a),
            (None, Some(root)) => Some(Anchor::of(&crate::consensus::genesis::genesis_header(
                spec, root, &checked,
            ))),
            (None, None) => None,
        };
        if let Some(e) = checked.take_failure() {
            return Err(ConfigError::Backend(e));
        }
        let cfg = PipelineConfig {
            chain_id: Some(spec.chain_id),
            forks: spec.forks.clone(),
            block_period: spec.block_period,
            epoch: spec.epoch,
            committee_size: spec.committee_sizes(),
            // A spec that lists its council vouches for every member as qualified; a live chain
            // whose council comes from its blocks' Extra does not know their stakes.
            qualified_unknown: spec.council.is_empty(),
            council: spec.council.iter().map(|m| m.address).collect(),
            derive_sha: spec.derive_sha,
            // Live chains change DeriveSha by governance, which ranger does not track.
            try_every_derive_sha: !devnet,
            legacy_keys_only: spec.legacy_keys_only,
            council_governance: spec.council_governance,
            check_transactions: full,
            has_bls_keys: has_spec_keys,
            bls_keys_hinted,
            committee_size_hint: hints
                .as_ref()
                .and_then(|h| h.committee_size.map(|c| (c, h.source.clone()))),
            seal_bound: spec.council.len(),
            check_fork_fields: true,
            anchor,
        };
        let replayed_root = if replay.is_some() { root } else { None };
        let mut v = Verifier::from_parts(cfg, keys, backend, replay);
        if let Some(k) = self.keys {
            v.known.keys = k;
        }
        v.council_hint = hints
            .filter(|h| !h.council.is_empty())
            .map(|h| (h.council, h.source));
        let Some(Resume { checkpoint: c, .. }) = self.resume else {
            return Ok(v);
        };
        if c.state_root != replayed_root {
            return Err(ConfigError::ResumeMismatch {
                saved: c.state_root,
                loaded: replayed_root,
            });
        }
        // The chain's rule, not what a checkpoint remembers, says whether governance counts.
        let council = c.council.map(|k| k.governed(v.cfg.council_governance));
        v.judge = Judge::resume(c.tip, council);
        v.position = c.position;
        v.last_invalid = c.last_invalid;
        v.state_lost = c.state_lost;
        Ok(v)
    }
}

/// The one way to verify blocks: built from a `ChainSpec` (or for one lone block), run over a
/// source (an iterator of inputs) into a sink (a closure), in block order. Every command, the
/// benchmarks and the tests use it.
#[derive(Debug)]
pub struct Verifier {
    cfg: PipelineConfig,
    bls_keys: HashMap<Address, BlsPublicKey>,
    backend: Arc<dyn Backend>,
    judge: Judge,
    replay: Option<Replay>,
    /// The height of the most recent invalid block.
    last_invalid: Option<u64>,
    /// Why the replay cannot go on (a block it could not replay), once it cannot.
    state_lost: Option<String>,
    /// Inputs judged by earlier runs: positions go on from here.
    position: u64,
    /// Signer keys and seal-signer predictions, warm across windows and runs.
    known: hints::Known,
    /// Time per stage since `take_stage_times`.
    clock: StageClock,
    /// A source's council hint, with who gave it, until a judged block has checked it.
    council_hint: Option<(Vec<Address>, String)>,
    /// What the checks of source hints found, for the caller to log and count.
    hint_checks: Vec<HintCheck>,
}

/// The outcome of checking a source's council hint against a judged block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintCheck {
    /// The block checked against.
    pub block: u64,
    /// Who gave the hint.
    pub source: String,
    pub outcome: council_hints::CouncilHintCheck,
}

/// What the stage threads hand on: a window, with the receipts a source gave for some of its
/// blocks (by position; they pass the hash and recover stages untouched, to the judge), or the
/// source's failure.
enum Msg<T> {
    Window(Window<T>, Vec<(u64, SourceReceipts)>),
    Failed(PipelineError),
}

fn input_weight(i: &Input) -> usize {
    match i {
        Input::Rlp(b) => b.len(),
        Input::Block(block) | Input::Hinted { block, .. } => {
            600 + block
                .transactions
                .iter()
                .map(|t| t.raw.len())
                .sum::<usize>()
        }
    }
}

impl Verifier {
    /// A builder for `spec`.
    pub fn builder(spec: &ChainSpec) -> VerifierBuilder<'_> {
        VerifierBuilder {
            spec,
            mode: Mode::Full,
            backend: None,
            anchor: None,
            replay: None,
            resume: None,
            keys: None,
            hints: None,
        }
    }

    /// A verifier for one lone block (`inspect`): the block's own Extra validators as council,
    /// unbounded committee, any DeriveSha impl; chain id and forks from `spec` when given, else
    /// each transaction's claimed chain id and no fork checks.
    pub fn for_lone_block(
        spec: Option<&ChainSpec>,
        check_transactions: bool,
        backend: Arc<dyn Backend>,
    ) -> Self {
        let cfg = PipelineConfig {
            chain_id: spec.map(|s| s.chain_id),
            forks: spec.map(|s| s.forks.clone()).unwrap_or_default(),
            block_period: 0,
            epoch: 1,
            committee_size: Default::default(),
            qualified_unknown: true,
            council: Vec::new(),
            derive_sha: spec.map(|s| s.derive_sha).unwrap_or_default(),
            try_every_derive_sha: true,
            legacy_keys_only: spec.is_some_and(|s| s.legacy_keys_only),
            council_governance: true,
            check_transactions,
            has_bls_keys: false,
            bls_keys_hinted: None,
            committee_size_hint: None,
            seal_bound: 0,
            check_fork_fields: spec.is_some(),
            anchor: None,
        };
        Self::from_parts(cfg, HashMap::new(), backend, None)
    }

    fn from_parts(
        cfg: PipelineConfig,
        bls_keys: HashMap<Address, BlsPublicKey>,
        backend: Arc<dyn Backend>,
        replay: Option<Replay>,
    ) -> Self {
        let judge = Judge::new(&cfg);
        Self {
            cfg,
            bls_keys,
            backend,
            judge,
            replay,
            last_invalid: None,
            state_lost: None,
            position: 0,
            known: hints::Known::default(),
            clock: StageClock::default(),
            council_hint: None,
            hint_checks: Vec::new(),
        }
    }

    /// The time each stage spent since the last call (summed over its windows; the stages
    /// run at once, so the sum is more than the wall time).
    pub fn take_stage_times(&self) -> [(Stage, std::time::Duration); 5] {
        self.clock.take()
    }

    /// Where this verifier stands, between runs (see `checkpoint`). Hashes the replayed state's
    /// pending changes to give its root.
    pub fn checkpoint(&mut self) -> Checkpoint {
        let state_root = self
            .replay
            .as_mut()
            .map(|r| r.state_root(&CheckedBackend::new(&*self.backend)));
        Checkpoint {
            position: self.position,
            tip: self.judge.tip(),
            council: self.judge.council().cloned(),
            last_invalid: self.last_invalid,
            state_lost: self.state_lost.clone(),
            state_root,
        }
    }

    /// The replayed accounts changed since the last call (every account on the first call):
    /// what a node writes to its store beside a checkpoint. Empty without replay.
    pub fn take_unsaved_accounts(&mut self) -> Vec<(Address, crate::state::Account)> {
        self.replay
            .as_mut()
            .map(Replay::take_unsaved)
            .unwrap_or_default()
    }

    /// The signer keys learnt since the last call, when the key cache handed to the builder
    /// keeps them (`KeyCache::keep_unsaved`): what a node adds to its store.
    pub fn take_unsaved_keys(&mut self) -> Vec<(Address, crate::crypto::batch::PublicKey)> {
        self.known.keys.take_unsaved()
    }

    /// A verifier with the same context and keys that starts again from the anchor, without the
    /// state replay (benchmarks that verify one chain many times; build a new verifier to replay
    /// again from genesis). The signer keys and seal predictions it has learnt come along: they
    /// are claims to check, not chain state.
    pub fn fresh(&self) -> Verifier {
        let mut v = Self::from_parts(
            self.cfg.clone(),
            self.bls_keys.clone(),
            self.backend.clone(),
            None,
        );
        v.known = self.known.clone();
        v
    }

    /// What the checks of a source's council hint found since the last call (at most one check:
    /// the hint is dropped once a judged block checked it).
    pub fn take_hint_checks(&mut self) -> Vec<HintCheck> {
        std::mem::take(&mut self.hint_checks)
    }

    /// The signer keys learnt so far (to hand to another verifier with `key_cache`).
    pub fn key_cache(&self) -> &KeyCache {
        &self.known.keys
    }

    /// How often a claimed signer's key was known, since the verifier was built.
    pub fn key_stats(&self) -> CacheStats {
        self.known.stats()
    }

    /// The judge's configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.cfg
    }

    /// The backend batches run on.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// True when the state transition is replayed.
    pub fn replays(&self) -> bool {
        self.replay.is_some()
    }

    /// The replayed state, when the state is replayed.
    pub fn replay_state(&self) -> Option<&crate::state::StateReplayer> {
        self.replay.as_ref().map(Replay::state)
    }

    /// Verifies `inputs` in order, handing each report to `sink` (return `false` to stop early).
    /// A source error (I/O, broken framing) ends the run after every block before it was judged.
    pub fn run<I>(
        &mut self,
        inputs: I,
        sink: impl FnMut(BlockReport) -> bool,
    ) -> Result<Summary, PipelineError>
    where
        I: Iterator<Item = Result<Input, String>> + Send,
    {
        self.run_with_receipts(inputs.map(|i| i.map(|i| (i, None))), sink)
    }

    /// `run` over inputs that may come with the receipts a source gave for them (a live chain,
    /// which ranger cannot replay): each block's receipts are checked against its header by
    /// `receipts::check`.
    pub fn run_with_receipts<I>(
        &mut self,
        inputs: I,
        mut sink: impl FnMut(BlockReport) -> bool,
    ) -> Result<Summary, PipelineError>
    where
        I: Iterator<Item = Result<(Input, Option<SourceReceipts>), String>> + Send,
    {
        let (to_hash, hash_rx) =
            crossbeam_channel::bounded::<Msg<stages::Decoded>>(CHANNEL_WINDOWS);
        let (to_recover, recover_rx) =
            crossbeam_channel::bounded::<Msg<stages::Hashed>>(CHANNEL_WINDOWS);
        let (to_judge, judge_rx) =
            crossbeam_channel::bounded::<Msg<stages::Recovered>>(CHANNEL_WINDOWS);
        let cfg = &self.cfg;
        let receipt_rule = receipts::RootRule {
            derive_sha: cfg.derive_sha,
            try_every: cfg.try_every_derive_sha,
        };
        let stage_cfg = StageConfig {
            chain_id: cfg.chain_id,
            check_transactions: cfg.check_transactions,
            derive_sha: cfg.derive_sha,
            try_every_derive_sha: cfg.try_every_derive_sha,
            seal_bound: cfg.seal_bound,
        };
        let keys = &self.bls_keys;
        let backend = &*self.backend;
        let judge = &mut self.judge;
        let replay = &mut self.replay;
        let last_invalid = &mut self.last_invalid;
        let state_lost = &mut self.state_lost;
        let known = &mut self.known;
        let clock = &self.clock;
        let council_hint = &mut self.council_hint;
        let hint_checks = &mut self.hint_checks;
        // Set by the recover stage after each window, read by the decode stage when it closes
        // one: which window size to use (see `WARM_HEADER_WINDOW_BLOCKS`).
        let headers_only = !cfg.check_transactions;
        let warm = AtomicBool::new(headers_only && known.warm());
        let warm = &warm;
        let mut summary = Summary::default();
        let mut failure = None;
        let start = self.position;
        std::thread::scope(|s| {
            s.spawn(move || {
                let _span =
                    tracing::debug_span!(target: "ranger::pipeline::decode", "decode").entered();
                let mut pending = Vec::new();
                let mut side = Vec::new();
                let mut weight = 0;
                let flush = |pending: &mut Vec<(u64, Input)>,
                             side: &mut Vec<(u64, SourceReceipts)>|
                 -> bool {
                    if pending.is_empty() {
                        return true;
                    }
                    let t = std::time::Instant::now();
                    let w = stages::decode_window(std::mem::take(pending));
                    clock.add(Stage::Decode, t.elapsed());
                    to_hash.send(Msg::Window(w, std::mem::take(side))).is_ok()
                };
                for (i, item) in inputs.enumerate() {
                    let pos = start + i as u64;
                    match item {
                        Ok((input, receipts)) => {
                            weight += input_weight(&input);
                            pending.push((pos, input));
                            if let Some(r) = receipts {
                                side.push((pos, r));
                            }
                            let (bytes, blocks) = if warm.load(Ordering::Relaxed) {
                                (WARM_HEADER_WINDOW_BYTES, WARM_HEADER_WINDOW_BLOCKS)
                            } else {
                                (WINDOW_BYTES, WINDOW_BLOCKS)
                            };
                            if (weight >= bytes || pending.len() >= blocks)
                                && !flush(&mut pending, &mut side)
                            {
                                return;
                            }
                            if pending.is_empty() {
                                weight = 0;
                            }
                        }
                        Err(message) => {
                            if flush(&mut pending, &mut side) {
                                let _ = to_hash.send(Msg::Failed(PipelineError::Source {
                                    position: pos,
                                    message,
                                }));
                            }
                            return;
                        }
                    }
                }
                flush(&mut pending, &mut side);
            });
            s.spawn(move || {
                let _span =
                    tracing::debug_span!(target: "ranger::pipeline::hash", "hash").entered();
                let checked = CheckedBackend::new(backend);
                for msg in hash_rx {
                    let out = match msg {
                        Msg::Window(w, side) => {
                            let t = std::time::Instant::now();
                            let w = stages::hash_window(w, &stage_cfg, &checked);
                            clock.add(Stage::Hash, t.elapsed());
                            Msg::Window(w, side)
                        }
                        Msg::Failed(e) => Msg::Failed(e),
                    };
                    if to_recover.send(out).is_err() {
                        return;
                    }
                }
            });
            s.spawn(move || {
                let _span =
                    tracing::debug_span!(target: "ranger::pipeline::recover", "recover").entered();
                let checked = CheckedBackend::new(backend);
                let randao = |n: u64| cfg.forks.is_randao(n);
                for msg in recover_rx {
                    let out = match msg {
                        Msg::Window(w, side) => {
                            let t = std::time::Instant::now();
                            let w = stages::recover_window(
                                w, &stage_cfg, keys, randao, &checked, known,
                            );
                            clock.add(Stage::Recover, t.elapsed());
                            warm.store(headers_only && known.warm(), Ordering::Relaxed);
                            Msg::Window(w, side)
                        }
                        Msg::Failed(e) => Msg::Failed(e),
                    };
                    if to_judge.send(out).is_err() {
                        return;
                    }
                }
            });
            let checked = CheckedBackend::new(backend);
            'outer: for msg in judge_rx.iter() {
                match msg {
                    Msg::Failed(e) => {
                        failure = Some(e);
                        break;
                    }
                    Msg::Window(ws, mut side) => {
                        summary.windows += 1;
                        // Positions ascend in both: the receipts are taken from the front.
                        side.reverse();
                        for item in ws {
                            let t = std::time::Instant::now();
                            let (mut report, block) = judge.judge(item, cfg);
                            clock.add(Stage::Judge, t.elapsed());
                            if let Some(r) = replay.as_mut() {
                                let t = std::time::Instant::now();
                                on_replay_pool(|| {
                                    follow_state(
                                        r,
                                        block.as_ref(),
                                        &mut report,
                                        state_lost,
                                        &checked,
                                    )
                                });
                                clock.add(Stage::Replay, t.elapsed());
                            }
                            check_council_hint(council_hint, hint_checks, &report);
                            let given = take_receipts(&mut side, report.position);
                            if let (Some(given), Some(b)) = (given, block.as_ref()) {
                                receipts::check(
                                    &b.header,
                                    b.transactions.len(),
                                    &given,
                                    receipt_rule,
                                    &checked,
                                    &mut report,
                                );
                            }
                            report.descends_from_invalid = *last_invalid;
                            report.settle();
                            if report.verdict == Verdict::Invalid {
                                *last_invalid = report.block.or(Some(report.position));
                            }
                            summary.count(&report);
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
        self.position += summary.blocks;
        match failure {
            Some(e) => Err(e),
            None => Ok(summary),
        }
    }
}

/// Runs `f` (a block's replay) on a thread pool of its own, one thread per core, so that its
/// parallel parts (the trie's keccak batches, the conflict-free waves) do not queue behind the
/// recover stage's long batches in rayon's global pool: the replay is the pipeline's critical
/// path (blocks are replayed in order, one at a time), and the operating system shares the cores
/// between both pools instead. Where the pool cannot be built, `f` runs on the global pool as
/// before (the same work and answers, only less overlap).
fn on_replay_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads())
            .thread_name(|i| format!("ranger-replay-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Checks a pending council hint against `report` once the block has a recovered proposer, and
/// drops it: consistent or not, it has said what it can.
fn check_council_hint(
    hint: &mut Option<(Vec<Address>, String)>,
    checks: &mut Vec<HintCheck>,
    report: &BlockReport,
) {
    let Some((members, _)) = hint.as_ref() else {
        return;
    };
    let Some(outcome) = council_hints::check_council(members, report) else {
        return;
    };
    if let Some((_, source)) = hint.take() {
        checks.push(HintCheck {
            block: report.block.or(report.number).unwrap_or(report.position),
            source,
            outcome,
        });
    }
}

/// The receipts given for the block at `position`, from `side` (positions descending, so the
/// next is last), dropping those of earlier positions.
fn take_receipts(side: &mut Vec<(u64, SourceReceipts)>, position: u64) -> Option<SourceReceipts> {
    while side.last().is_some_and(|(p, _)| *p < position) {
        side.pop();
    }
    if side.last().is_some_and(|(p, _)| *p == position) {
        side.pop().map(|(_, r)| r)
    } else {
        None
    }
}

/// Replays `block` when the state is known, and says why not when it is not.
fn follow_state(
    replay: &mut Replay,
    block: Option<&crate::primitives::Block>,
    report: &mut BlockReport,
    state_lost: &mut Option<String>,
    backend: &CheckedBackend<'_>,
) {
    if let Some(why) = state_lost.as_ref() {
        report
            .undecided
            .get_or_insert_with(|| Undecided::StateUnknown(why.clone()).to_string());
        return;
    }
    let height = report.block.unwrap_or(report.position);
    match block {
        Some(b) if report.undecided.is_none() => {
            let check = replay.check(b, report, backend);
            match backend.take_failure() {
                // The checked backend answered from the CPU after the mismatch, so the state
                // itself is right; only this block's verdict is the node's to withhold.
                Some(e) => report.undecided = Some(e.to_string()),
                None => {
                    report.faults.extend(check.faults);
                    if let Some((root, w)) = check.witness {
                        report.witness_root = Some(root);
                        report.witness = Some(w);
                    }
                }
            }
        }
        Some(_) => {
            *state_lost = Some(format!(
                "block {height} could not be judged, so not replayed"
            ));
        }
        None => {
            *state_lost = Some(format!(
                "block {height} does not decode, so it cannot be replayed"
            ));
        }
    }
}
