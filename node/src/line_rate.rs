//! `ranger bench line-rate`: a `ranger council` process producing as fast as it can over loopback
//! and a `ranger run --follow` process verifying and storing what it produces, measured from the
//! outside as a user would see them: the follower's sustained tx/s and blocks/s, its largest lag
//! behind the council (its `ranger_status`, polled), its disk bytes per transaction, the in-memory
//! pipeline's tx/s over the same blocks in this process, and the catch-up of a second follower
//! started once the council has produced its whole chain.

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use ranger::codec::chainfile::ChainReader;
use ranger::crypto::BackendKind;
use ranger::pipeline::{Input, Verdict, Verifier};
use serde::Serialize;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct LineRateArgs {
    /// Small sizes (a 60-block council chain, 200 txs a block; figures are noisier).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// What one run measures, sized by `--quick`.
struct Sizes {
    /// Transactions per block (`--tps` at a 1 ms block period).
    txs_per_block: u64,
    accounts: u64,
    /// Blocks the live follower verifies while the council produces them.
    live_blocks: u64,
    /// Blocks the council produces in all, which the catch-up follower verifies.
    chain_blocks: u64,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                txs_per_block: 200,
                accounts: 2_000,
                live_blocks: 20,
                chain_blocks: 60,
            }
        } else {
            Self {
                txs_per_block: 2_000,
                accounts: 100_000,
                live_blocks: 300,
                chain_blocks: 2_000,
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct LineRate {
    tx_per_s: f64,
    /// The in-memory pipeline over the same blocks beside a producing council, as the live
    /// follower ran.
    in_memory_tx_per_s: f64,
    ratio: f64,
    /// The same with nothing else of ours running.
    in_memory_alone_tx_per_s: f64,
    ratio_to_alone: f64,
    lag_blocks_max: u64,
    disk_bytes_per_tx: f64,
    blocks: u64,
    blocks_per_s: f64,
    txs_per_block: u64,
}

#[derive(Debug, Serialize)]
struct CatchUp {
    blocks: u64,
    blocks_per_s: f64,
    tx_per_s: f64,
}

/// A child `ranger` process, killed (by its pid) when dropped.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A temporary directory, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The summary and the largest `lag_blocks` of one `ranger run --follow` process.
struct Followed {
    summary: Value,
    lag_blocks_max: u64,
}

impl Followed {
    fn number(&self, key: &str) -> Result<f64> {
        self.summary[key]
            .as_f64()
            .ok_or_else(|| anyhow!("the follower's summary has no {key}: {}", self.summary))
    }

    fn blocks_per_s(&self) -> Result<f64> {
        Ok(self.number("blocks")? / self.number("seconds")?)
    }

    fn tx_per_s(&self) -> Result<f64> {
        Ok(self.number("transactions")? / self.number("seconds")?)
    }
}

pub fn run(a: LineRateArgs) -> Result<u8> {
    let sizes = Sizes::new(a.quick);
    let exe = std::env::current_exe()?;
    let dir = TempDir(
        std::env::temp_dir().join(format!("ranger-bench-line-rate-{}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0)?;
    let council_dir = dir.0.join("council");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let (council, addr) = start_council(&exe, &council_dir, &sizes)?;
    let url = format!("http://{addr}");
    let live = follow(
        &exe,
        &runtime,
        &url,
        &council_dir,
        &dir.0.join("live"),
        sizes.live_blocks,
    )?;
    let council_rpc = client(&url)?;
    wait_for_head(&runtime, &council_rpc, sizes.chain_blocks)?;
    let catch_up = follow(
        &exe,
        &runtime,
        &url,
        &council_dir,
        &dir.0.join("catch-up"),
        sizes.chain_blocks,
    )?;
    drop(council);
    // The live follower shared the cores with a council producing as fast as it could; the
    // in-memory pipeline is measured under the same load (a second council producing the
    // same chain into its own datadir) and on its own.
    let (load, load_addr) = start_council(&exe, &dir.0.join("load"), &sizes)?;
    wait_for_head(&runtime, &client(&format!("http://{load_addr}"))?, 1)?;
    let in_memory = in_memory_tx_per_s(&council_dir, sizes.live_blocks)?;
    drop(load);
    let in_memory_alone = in_memory_tx_per_s(&council_dir, sizes.live_blocks)?;

    let tx_per_s = live.tx_per_s()?;
    let line_rate = LineRate {
        tx_per_s,
        in_memory_tx_per_s: in_memory,
        ratio: tx_per_s / in_memory,
        in_memory_alone_tx_per_s: in_memory_alone,
        ratio_to_alone: tx_per_s / in_memory_alone,
        lag_blocks_max: live.lag_blocks_max,
        disk_bytes_per_tx: live.number("disk_bytes")? / live.number("transactions")?,
        blocks: sizes.live_blocks,
        blocks_per_s: live.blocks_per_s()?,
        txs_per_block: sizes.txs_per_block,
    };
    let catch_up = CatchUp {
        blocks: sizes.chain_blocks,
        blocks_per_s: catch_up.blocks_per_s()?,
        tx_per_s: catch_up.tx_per_s()?,
    };
    if a.json {
        out!("{}", json!({"line_rate": line_rate, "catch_up": catch_up}));
    } else {
        let l = &line_rate;
        out!(
            "line rate  {} blocks x {} txs followed live over loopback (verified and stored)",
            l.blocks,
            l.txs_per_block
        );
        out!(
            "           {:>10.0} tx/s  {:>8.1} blocks/s  max lag {} blocks  {:.0} disk bytes/tx",
            l.tx_per_s,
            l.blocks_per_s,
            l.lag_blocks_max,
            l.disk_bytes_per_tx
        );
        out!(
            "in memory  {:>10.0} tx/s over the same blocks beside a producing council  ratio {:.3}",
            l.in_memory_tx_per_s,
            l.ratio
        );
        out!(
            "           {:>10.0} tx/s alone  ratio {:.3}",
            l.in_memory_alone_tx_per_s,
            l.ratio_to_alone
        );
        out!(
            "catch-up   {:>10.0} tx/s  {:>8.1} blocks/s  ({} stored council blocks)",
            catch_up.tx_per_s,
            catch_up.blocks_per_s,
            catch_up.blocks
        );
    }
    Ok(0)
}

/// `ranger council` producing as fast as it can (1 ms block period) up to the whole chain;
/// returns it and the address it printed first.
fn start_council(exe: &Path, datadir: &Path, sizes: &Sizes) -> Result<(Proc, String)> {
    let flags = [
        "--block-period".to_owned(),
        "1".to_owned(),
        // tps × 1 ms / 1000 transactions a block.
        "--tps".to_owned(),
        (sizes.txs_per_block * 1000).to_string(),
        "--accounts".to_owned(),
        sizes.accounts.to_string(),
        "--blocks".to_owned(),
        sizes.chain_blocks.to_string(),
    ];
    spawn_council(exe, datadir, &flags)
}

/// `ranger council` with `flags` on a free port, keeping its chain in `datadir`; returns it and
/// the address it printed first.
pub(crate) fn spawn_council(
    exe: &Path,
    datadir: &Path,
    flags: &[String],
) -> Result<(Proc, String)> {
    let mut child = Command::new(exe)
        .args(["council", "--listen", "127.0.0.1:0", "--datadir"])
        .arg(datadir)
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start `ranger council`")?;
    let stdout = child.stdout.take().context("no council stdout")?;
    let proc = Proc(child);
    let mut addr = String::new();
    BufReader::new(stdout).read_line(&mut addr)?;
    let addr = addr.trim().to_string();
    if addr.is_empty() {
        bail!("`ranger council` printed no address");
    }
    Ok((proc, addr))
}

pub(crate) fn client(url: &str) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .map_err(|e| anyhow!("{url}: {e}"))
}

/// Longest a follower or the council may take before the run is given up.
const LIMIT: Duration = Duration::from_secs(3600);

/// How often the follower's status is polled for its lag.
const POLL: Duration = Duration::from_millis(200);

/// Runs `ranger run --follow URL` for `blocks` blocks into `datadir`, polling its
/// `ranger_status` for the lag while it runs; returns its summary and largest lag.
fn follow(
    exe: &Path,
    runtime: &tokio::runtime::Runtime,
    url: &str,
    council_dir: &Path,
    datadir: &Path,
    blocks: u64,
) -> Result<Followed> {
    let mut child = Command::new(exe)
        .args(["run", "--follow", url, "--chain"])
        .arg(council_dir.join("genesis.json"))
        .arg("--datadir")
        .arg(datadir)
        .args([
            "--blocks",
            &blocks.to_string(),
            "--backend",
            "cpu",
            "--json",
        ])
        .args(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start `ranger run --follow`")?;
    let stdout = child.stdout.take().context("no follower stdout")?;
    let stderr = child.stderr.take().context("no follower stderr")?;
    let mut proc = Proc(child);
    // Both pipes are drained to the end so the follower never blocks on a full pipe.
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stdout).read_to_string(&mut s);
        s
    });
    let (rpc_tx, rpc_rx) = mpsc::channel();
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(a) = line.trim().strip_prefix("rpc: ") {
                let _ = rpc_tx.send(a.to_string());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let started = Instant::now();
    let mut status: Option<HttpClient> = None;
    let mut lag_blocks_max = 0;
    let exit = loop {
        if let Some(code) = proc.0.try_wait()? {
            break code;
        }
        if started.elapsed() > LIMIT {
            bail!("the follower did not finish {blocks} blocks within {LIMIT:?}");
        }
        if status.is_none()
            && let Ok(a) = rpc_rx.try_recv()
        {
            status = Some(client(&a)?);
        }
        if let Some(c) = &status {
            // A poll that fails (the follower is closing its server) only misses one sample.
            if let Ok(v) = runtime.block_on(c.request::<Value, _>("ranger_status", rpc_params![]))
                && let Some(lag) = v["lag_blocks"].as_u64()
            {
                lag_blocks_max = lag_blocks_max.max(lag);
            }
        }
        std::thread::sleep(POLL);
    };
    let text = out.join().map_err(|_| anyhow!("stdout reader panicked"))?;
    let err = err.join().map_err(|_| anyhow!("stderr reader panicked"))?;
    let summary = text
        .lines()
        .rev()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()?
                .get("summary")
                .cloned()
        })
        .ok_or_else(|| anyhow!("the follower ({exit}) printed no summary: {}", err.trim()))?;
    if summary["valid"].as_u64() != Some(blocks) {
        bail!("the follower ({exit}) did not verify all {blocks} blocks as valid: {summary}");
    }
    Ok(Followed {
        summary,
        lag_blocks_max,
    })
}

/// Waits until the council's head reaches `height`.
fn wait_for_head(runtime: &tokio::runtime::Runtime, c: &HttpClient, height: u64) -> Result<()> {
    let started = Instant::now();
    loop {
        let v: Value = runtime
            .block_on(c.request("kaia_blockNumber", rpc_params![]))
            .context("the council's head")?;
        let head = v
            .as_str()
            .and_then(ranger::codec::rpc::parse_quantity)
            .ok_or_else(|| anyhow!("the council's head {v} is not a quantity"))?;
        if head >= height {
            return Ok(());
        }
        if started.elapsed() > LIMIT {
            bail!("the council did not reach block {height} within {LIMIT:?}");
        }
        std::thread::sleep(POLL);
    }
}

/// The pipeline's tx/s in this process over the council's first `blocks` blocks, read into
/// memory before the clock starts, by a cold verifier (as the follower starts).
fn in_memory_tx_per_s(council_dir: &Path, blocks: u64) -> Result<f64> {
    let (file, spec) = crate::verify::resolve(council_dir, None)?;
    let reader = ChainReader::new(BufReader::new(
        std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?,
    ))?;
    let chain: Vec<Vec<u8>> = reader
        .take(usize::try_from(blocks)?)
        .collect::<Result<_, _>>()?;
    let backend = crate::backend::open(BackendKind::Cpu)?.backend;
    let mut verifier = Verifier::builder(&spec).backend(backend).build()?;
    let mut bad = None;
    let start = Instant::now();
    let summary = verifier.run(chain.into_iter().map(|b| Ok(Input::Rlp(b))), |r| {
        if r.verdict != Verdict::Valid && bad.is_none() {
            bad = Some(format!("block {:?}: {:?}", r.block, r.faults.first()));
        }
        true
    })?;
    let secs = start.elapsed().as_secs_f64();
    if let Some(b) = bad {
        bail!("the council's chain did not verify in memory: {b}");
    }
    Ok(summary.transactions as f64 / secs)
}
