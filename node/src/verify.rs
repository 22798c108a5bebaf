//! `ranger verify`: verifies a chain file (or a devnet directory: `genesis.json` + `chain`)
//! against its context, one verdict per block in order.

use crate::input::{chain_spec, must_exist};
use anyhow::{Context, Result};
use clap::Args;
use ranger::codec::chainfile::ChainReader;
use ranger::consensus::ChainSpec;
use ranger::crypto::BackendKind;
use ranger::pipeline::{BlockReport, Input, Mode, Summary, Verdict, Verifier};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A chain file, or a directory holding `genesis.json` and `chain`.
    path: PathBuf,
    /// The context: mainnet, kairos or a genesis JSON file (default: DIR/genesis.json).
    #[arg(long)]
    chain: Option<String>,
    /// What to check.
    #[arg(long, value_enum, default_value_t = Mode::Full)]
    mode: Mode,
    /// Where batch hashing and signature recovery run.
    #[arg(long, value_enum, default_value_t = BackendKind::Auto)]
    backend: BackendKind,
    /// One JSON object per block, then a summary object.
    #[arg(long)]
    json: bool,
    /// Print only invalid blocks and the summary.
    #[arg(long)]
    quiet: bool,
}

/// The chain file and context a path names.
pub fn resolve(path: &Path, chain: Option<&str>) -> Result<(PathBuf, ChainSpec)> {
    must_exist(path)?;
    let (file, default_spec) = if path.is_dir() {
        (path.join("chain"), Some(path.join("genesis.json")))
    } else {
        (path.to_path_buf(), None)
    };
    let spec = match (chain, default_spec) {
        (Some(c), _) => chain_spec(c)?,
        (None, Some(g)) => {
            must_exist(&g).context("a devnet directory holds genesis.json and chain")?;
            chain_spec(&g.display().to_string())?
        }
        (None, None) => {
            anyhow::bail!("a chain file needs --chain (mainnet, kairos or a genesis JSON file)")
        }
    };
    Ok((file, spec))
}

pub fn run(a: VerifyArgs) -> Result<u8> {
    let (file, spec) = resolve(&a.path, a.chain.as_deref())?;
    let opened = crate::backend::open(a.backend)?;
    let mut verifier = Verifier::builder(&spec)
        .mode(a.mode)
        .backend(opened.backend)
        .build()?;
    let reader = ChainReader::new(std::io::BufReader::new(
        std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?,
    ))?;
    let inputs = reader.map(|f| f.map(Input::Rlp).map_err(|e| e.to_string()));
    let mut first_invalid = None;
    // Counted here as well as by the verifier, so a run that stops early still ends with the
    // counts of what it judged.
    let mut so_far = Summary::default();
    let (json_out, quiet) = (a.json, a.quiet);
    let result = verifier.run(inputs, |r| {
        if r.verdict == Verdict::Invalid && first_invalid.is_none() {
            first_invalid = r.block.or(Some(r.position));
        }
        so_far.count(&r);
        print_verdict(&r, json_out, quiet);
        true
    });
    let (s, stopped) = match result {
        Ok(s) => (s, None),
        // Blocks before the failure were judged and printed; the rest cannot be.
        Err(e) => (so_far, Some(e.to_string())),
    };
    if json_out {
        out!(
            "{}",
            json!({"summary": {"blocks": s.blocks, "valid": s.valid, "invalid": s.invalid,
                "undecided": s.undecided, "descends_from_invalid": s.descends_from_invalid,
                "transactions": s.transactions, "first_invalid": first_invalid,
                "complete": stopped.is_none(), "stopped": stopped,
                "backend": opened.name, "peak_rss_kib": ranger::bench::peak_rss_kib()}})
        );
    } else {
        let tail = stopped
            .as_deref()
            .map(|why| format!("; stopped early: {why}"))
            .unwrap_or_default();
        out!(
            "{} blocks, {} transactions: {} valid, {} invalid, {} undecided{tail}",
            s.blocks,
            s.transactions,
            s.valid,
            s.invalid,
            s.undecided
        );
    }
    match stopped {
        None => Ok(s.exit_code()),
        Some(why) => Err(anyhow::anyhow!("could not finish: {why}")),
    }
}

pub fn print_verdict(r: &BlockReport, json_out: bool, quiet: bool) {
    if quiet && r.verdict == Verdict::Valid {
        return;
    }
    let block = r
        .block
        .map_or_else(|| format!("#{}", r.position), |n| n.to_string());
    if json_out {
        let mut v = json!({"block": r.block, "number": r.number, "position": r.position, "hash": r.hash, "verdict": r.verdict,
            "transactions": r.transactions.len()});
        if let Some(o) = v.as_object_mut() {
            if let Some(d) = r.descends_from_invalid {
                o.insert("descends_from_invalid".into(), json!(d));
            }
            if let Some(why) = &r.undecided {
                o.insert("reason".into(), json!(why));
            }
        }
        if let (Some(f), Some(o)) = (r.first_fault(), v.as_object_mut()) {
            o.insert("kind".into(), json!(f.kind));
            o.insert("detail".into(), json!(f.detail));
            o.insert("tx_index".into(), json!(f.tx_index));
            o.insert("expected".into(), json!(f.expected));
            o.insert("got".into(), json!(f.got));
            o.insert("faults".into(), json!(r.faults));
        }
        out!("{v}");
        return;
    }
    let hash = r.hash.map(|h| h.to_string()).unwrap_or_else(|| "-".into());
    let ancestry = r
        .descends_from_invalid
        .map(|d| format!(" (descends from invalid block {d})"))
        .unwrap_or_default();
    match r.first_fault() {
        None if r.verdict == Verdict::Undecided => out!(
            "block {block} {hash} UNDECIDED: {}{ancestry}",
            r.undecided.as_deref().unwrap_or("no reason given")
        ),
        None => out!(
            "block {block} {hash} valid ({} txs){ancestry}",
            r.transactions.len()
        ),
        Some(f) => {
            let tx = f.tx_index.map(|i| format!(" tx {i}:")).unwrap_or_default();
            let eg = match (&f.expected, &f.got) {
                (Some(e), Some(g)) => format!(" [expected {e}, got {g}]"),
                _ => String::new(),
            };
            out!(
                "block {block} {hash} INVALID {}:{tx} {}{eg}{ancestry}",
                f.kind,
                f.detail
            );
            for more in &r.faults[1..] {
                out!("    also {}: {}", more.kind, more.detail);
            }
        }
    }
}
