//! `ranger council`: a devnet council as its own process. It produces the seeded devnet chain
//! continuously, one block per block period, keeps it in its datadir and serves it over Kaia's
//! JSON-RPC (HTTP and WebSocket on one port, `serve::kaia`).
//!
//! The datadir is a devnet directory (`genesis.json` + `chain`, the chain file format), so
//! `ranger verify DATADIR` checks what the council produced. A council restarted on the same
//! datadir re-derives the kept blocks from its seed, refuses to go on if they differ (another
//! seed, council or fault list made them), and continues the chain where it stopped. A torn last
//! frame (a kill during a write) is cut off: the block is produced again, identically.
//!
//! The first line on stdout is the address the server listens on (`--listen 127.0.0.1:0` picks
//! a free port); progress goes to the log (`RANGER_LOG=info`).
//!
//! It also keeps the contribution ledger (`ledger`): rangers commit to and then submit fault
//! reports, which it re-verifies against its own chain and credits.
//!
//! `--fault equivocation@N` makes it sign two blocks at height N and build on the first. It
//! answers a request for block N alone (a range of one block, or by number) with the second
//! once two blocks are built on top of N; ranges and requests while N is at the tip get the
//! first. So a ranger stores the first block, as the council's chain has it, and sees the
//! second when it asks again for a block it holds (as a follower does), as a council telling
//! late askers another story would show it.

pub mod ledger;

use crate::council_flags::CouncilFlags;
use crate::serve::kaia::{self, ChainView, ViewError};
use crate::store::{ChainId, Store};
use anyhow::{Context, Result, bail};
use clap::Args;
use ranger::codec::chainfile::{ChainReader, ChainWriter, MAGIC};
use ranger::consensus::ChainSpec;
use ranger::consensus::istanbul::block_hash;
use ranger::crypto::CpuBackend;
use ranger::devnet::Producer;
use ranger::primitives::{Block, Header};
use ranger::report::CheckContext;
use ranger::state::rules::{STATUS_SUCCESS, intrinsic_gas};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tokio::sync::broadcast;

#[derive(Debug, Args)]
pub struct CouncilArgs {
    /// Address to serve Kaia's JSON-RPC on (HTTP and WebSocket); port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8561")]
    listen: SocketAddr,
    /// Where the council keeps its chain (created if missing; reused to continue a chain).
    #[arg(long)]
    datadir: PathBuf,
    #[command(flatten)]
    council: CouncilFlags,
    /// Stop producing at this height and keep serving (default: produce until stopped).
    #[arg(long)]
    blocks: Option<u64>,
}

/// Heads a slow WebSocket subscriber may fall behind before it skips to the newest.
const HEADS_BUFFER: usize = 256;

/// The council's chain in memory, mirrored to the datadir's chain file as it grows.
struct CouncilChain {
    spec: ChainSpec,
    genesis: Header,
    blocks: RwLock<Vec<Vec<u8>>>,
    /// Second blocks signed at a height (`equivocation@N`), by height.
    twins: RwLock<HashMap<u64, Vec<u8>>>,
    heads: broadcast::Sender<u64>,
}

impl CouncilChain {
    fn push(&self, bytes: Vec<u8>) -> Result<u64> {
        let mut blocks = self
            .blocks
            .write()
            .map_err(|_| anyhow::anyhow!("chain lock poisoned"))?;
        blocks.push(bytes);
        let n = blocks.len() as u64;
        drop(blocks);
        // No subscriber is not an error: heads are only announced to whoever listens.
        let _ = self.heads.send(n);
        Ok(n)
    }
}

impl ChainView for CouncilChain {
    fn spec(&self) -> &ChainSpec {
        &self.spec
    }
    fn genesis(&self) -> &Header {
        &self.genesis
    }
    fn head(&self) -> Result<Option<u64>, ViewError> {
        let blocks = self
            .blocks
            .read()
            .map_err(|_| ViewError("chain lock poisoned".into()))?;
        Ok((!blocks.is_empty()).then_some(blocks.len() as u64))
    }
    fn block(&self, n: u64) -> Result<Option<Vec<u8>>, ViewError> {
        let blocks = self
            .blocks
            .read()
            .map_err(|_| ViewError("chain lock poisoned".into()))?;
        Ok(n.checked_sub(1)
            .and_then(|i| blocks.get(usize::try_from(i).ok()?))
            .cloned())
    }
    fn block_alone(&self, n: u64) -> Result<Option<Vec<u8>>, ViewError> {
        let head = self.head()?.unwrap_or(0);
        if head >= n.saturating_add(2) {
            let twins = self
                .twins
                .read()
                .map_err(|_| ViewError("chain lock poisoned".into()))?;
            if let Some(t) = twins.get(&n) {
                return Ok(Some(t.clone()));
            }
        }
        self.block(n)
    }
    fn subscribe_heads(&self) -> broadcast::Receiver<u64> {
        self.heads.subscribe()
    }
    /// Devnet receipts: every transaction of a block succeeds and uses its intrinsic gas
    /// (`state::rules`), the rules the producer computed the receipts root with.
    fn receipts(&self, _n: u64, block: &Block) -> Result<Option<Vec<(u64, u64)>>, ViewError> {
        Ok(Some(
            block
                .transactions
                .iter()
                .map(|tx| (STATUS_SUCCESS, intrinsic_gas(tx)))
                .collect(),
        ))
    }
}

/// The kept frames of `path` and the length of the file up to the last whole frame.
fn read_kept(path: &Path) -> Result<(Vec<Vec<u8>>, u64)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = ChainReader::new(BufReader::new(file))
        .with_context(|| format!("{} is not a chain file", path.display()))?;
    let mut frames = Vec::new();
    let mut end = MAGIC.len() as u64;
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => {
                end += 4 + f.len() as u64;
                frames.push(f);
            }
            Ok(None) => break,
            // A frame cut short by a kill mid-write: everything before it is whole.
            Err(ranger::codec::chainfile::ChainFileError::Truncated { index, .. }) => {
                tracing::warn!(target: "ranger::council", "{}: frame {index} is torn; cutting it off", path.display());
                break;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
    Ok((frames, end))
}

/// The kept blocks of a datadir and the second blocks signed beside them (by height).
type Kept = (Vec<Vec<u8>>, HashMap<u64, Vec<u8>>);

/// Opens (or creates) the datadir's chain, re-deriving kept blocks with `producer`. Returns the
/// writer positioned at the end and the kept blocks.
fn open_chain(dir: &Path, producer: &mut Producer) -> Result<(ChainWriter<File>, Kept)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let genesis_path = dir.join("genesis.json");
    let mut genesis = serde_json::to_vec_pretty(producer.spec())?;
    genesis.push(b'\n');
    let chain_path = dir.join("chain");
    if !chain_path.exists() {
        std::fs::write(&genesis_path, genesis)
            .with_context(|| format!("cannot write {}", genesis_path.display()))?;
        let file = File::create(&chain_path)
            .with_context(|| format!("cannot create {}", chain_path.display()))?;
        return Ok((ChainWriter::new(file)?, (Vec::new(), HashMap::new())));
    }
    let kept_genesis = std::fs::read(&genesis_path)
        .with_context(|| format!("cannot read {}", genesis_path.display()))?;
    if kept_genesis != genesis {
        if !written_before_governance_field(&kept_genesis, &genesis) {
            bail!(
                "{} holds another chain's genesis: start it with the --seed, --validators and --accounts it was made with, or use another --datadir",
                dir.display()
            );
        }
        // The same chain, written before genesis files named `council_governance`: the field is
        // added (the chain's blocks are the same bytes).
        std::fs::write(&genesis_path, genesis)
            .with_context(|| format!("cannot write {}", genesis_path.display()))?;
        tracing::info!(target: "ranger::council", "{}: council_governance added", genesis_path.display());
    }
    let (frames, end) = read_kept(&chain_path)?;
    let mut twins = HashMap::new();
    for (i, frame) in frames.iter().enumerate() {
        let again = producer
            .next_block(&CpuBackend)?
            .context("the producer stopped while re-deriving kept blocks")?;
        if &again.bytes != frame {
            bail!(
                "{}: kept block {} differs from the one this council produces (another --tps, --block-period or --fault made it); use another --datadir",
                dir.display(),
                i + 1
            );
        }
        if let Some(t) = again.twin {
            twins.insert(again.number, t);
        }
    }
    let mut file = OpenOptions::new()
        .write(true)
        .open(&chain_path)
        .with_context(|| format!("cannot open {}", chain_path.display()))?;
    file.set_len(end)?;
    file.seek(SeekFrom::End(0))?;
    Ok((ChainWriter::append(file), (frames, twins)))
}

pub fn run(a: CouncilArgs) -> Result<u8> {
    let config = a.council.devnet()?;
    let mut producer = Producer::new(config, &CpuBackend)?;
    let (mut writer, (kept, twins)) = open_chain(&a.datadir, &mut producer)?;
    let resumed = kept.len() as u64;
    let (heads, _) = broadcast::channel(HEADS_BUFFER);
    let chain = Arc::new(CouncilChain {
        spec: producer.spec().clone(),
        genesis: producer.genesis().clone(),
        blocks: RwLock::new(kept),
        twins: RwLock::new(twins),
        heads,
    });
    let store = Arc::new(Store::open(
        &a.datadir,
        ChainId {
            chain_id: chain.spec.chain_id,
            genesis: block_hash(&chain.genesis),
        },
    )?);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let view: Arc<dyn ChainView> = chain.clone();
    let mut module = kaia::module(view.clone())?;
    module.merge(ledger::module(ledger::Ledger {
        store,
        check: CheckContext::new(chain.spec.clone(), Arc::new(CpuBackend)),
        chain: view,
    })?)?;
    let (handle, addr) = runtime.block_on(crate::serve::start(
        a.listen,
        module,
        crate::serve::MAX_COUNCIL_REQUEST_BYTES,
    ))?;
    out!("{addr}");
    tracing::info!(target: "ranger::council", "serving {} (chain id {}) on {addr}, {resumed} block(s) kept", chain.spec.name, chain.spec.chain_id);

    let period = a.council.period();
    let stop_at = a.blocks;
    let producing = std::thread::Builder::new()
        .name("council-producer".into())
        .spawn(move || -> Result<()> {
            let mut next = Instant::now();
            loop {
                let height = chain.head()?.unwrap_or(0);
                if stop_at.is_some_and(|s| height >= s) {
                    return Ok(());
                }
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
                // Keep the cadence; after a slow block, start the next period from now
                // rather than bursting to catch up.
                next = (next + period).max(Instant::now());
                let b = producer
                    .next_block(&CpuBackend)?
                    .context("an endless producer stopped")?;
                // The file is unbuffered: a kill after this line loses nothing, a kill inside
                // it leaves a torn frame that the next start cuts off.
                writer.write_frame(&b.bytes)?;
                if let Some(t) = b.twin {
                    chain
                        .twins
                        .write()
                        .map_err(|_| anyhow::anyhow!("chain lock poisoned"))?
                        .insert(b.number, t);
                }
                let n = chain.push(b.bytes)?;
                tracing::info!(target: "ranger::council", "block {n}: {} txs{}", b.transactions,
                    b.fault.map(|f| format!(", fault {f}")).unwrap_or_default());
            }
        })?;
    let produced_all = runtime.block_on(async {
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map(|()| false).map_err(anyhow::Error::from),
            r = wait_thread(producing) => r.map(|()| true),
        }
    });
    if let Ok(true) = produced_all {
        // Produced up to --blocks: serve until stopped.
        runtime.block_on(tokio::signal::ctrl_c())?;
    }
    let _ = handle.stop();
    produced_all.map(|_| 0)
}

/// Waits for the producer thread; `Ok` when it stopped at `--blocks`, which leaves the server
/// running.
async fn wait_thread(t: std::thread::JoinHandle<Result<()>>) -> Result<()> {
    let r = tokio::task::spawn_blocking(move || t.join()).await?;
    match r {
        Ok(r) => r,
        Err(_) => bail!("the producer thread panicked"),
    }
}

/// True when `kept` is `current` as written before genesis files named `council_governance`.
fn written_before_governance_field(kept: &[u8], current: &[u8]) -> bool {
    const FIELD: &str = "council_governance";
    let (Ok(mut kept), Ok(current)) = (
        serde_json::from_slice::<serde_json::Value>(kept),
        serde_json::from_slice::<serde_json::Value>(current),
    ) else {
        return false;
    };
    match (kept.as_object_mut(), current.get(FIELD)) {
        (Some(k), Some(v)) if !k.contains_key(FIELD) => {
            k.insert(FIELD.to_owned(), v.clone());
        }
        _ => return false,
    }
    kept == current
}

#[cfg(test)]
mod tests {
    use super::written_before_governance_field;

    #[test]
    fn a_genesis_written_before_the_governance_field_is_the_same_chain_and_no_other_is() {
        let now = br#"{"name": "d", "chain_id": 7, "council_governance": false}"#;
        assert!(written_before_governance_field(
            br#"{"chain_id": 7, "name": "d"}"#,
            now
        ));
        assert!(!written_before_governance_field(
            br#"{"name": "d", "chain_id": 8}"#,
            now
        ));
        assert!(!written_before_governance_field(
            br#"{"name": "d", "chain_id": 7, "council_governance": true}"#,
            now
        ));
        assert!(!written_before_governance_field(b"not json", now));
    }
}
