//! Reading user input: a path or `-` for stdin; hex text (with or without 0x) or binary; a
//! backend choice; a chain context.

use anyhow::{Context, Result, bail};
use ranger::codec::hexfmt::{decode_hex, is_hex_text};
use ranger::codec::read_bounded;
use ranger::consensus::ChainSpec;
use ranger::consensus::chain::LoadedSpec;
use std::path::Path;

/// Largest input file we read whole (a block is at most 64 MiB; JSON of one is a few times that).
const MAX_INPUT: u64 = 256 * 1024 * 1024;

/// The bytes of `path` (or stdin for `-`), bounded.
pub fn read_source(path: &str) -> Result<Vec<u8>> {
    let read = if path == "-" {
        read_bounded(std::io::stdin(), MAX_INPUT).context("reading stdin")?
    } else {
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
        read_bounded(f, MAX_INPUT).with_context(|| format!("cannot read {path}"))?
    };
    read.with_context(|| format!("{path} is over {MAX_INPUT} bytes"))
}

/// What a block or transaction input turned out to be.
pub enum Sniffed {
    Json(Vec<u8>),
    Binary(Vec<u8>),
}

/// Tells JSON from hex text from binary; decodes hex.
pub fn sniff(bytes: Vec<u8>) -> Result<Sniffed> {
    let t = bytes.trim_ascii_start();
    if t.first() == Some(&b'{') {
        return Ok(Sniffed::Json(bytes));
    }
    if is_hex_text(&bytes) {
        let text = std::str::from_utf8(&bytes).context("hex input is not UTF-8")?;
        return Ok(Sniffed::Binary(decode_hex(text)?));
    }
    if bytes.trim_ascii().is_empty() {
        bail!("input is empty");
    }
    Ok(Sniffed::Binary(bytes))
}

/// The raw argument of `inspect tx`: hex on the command line, or a file path / `-`.
pub fn tx_bytes(arg: &str) -> Result<Vec<u8>> {
    if is_hex_text(arg.as_bytes()) && !std::path::Path::new(arg).exists() {
        return Ok(decode_hex(arg)?);
    }
    match sniff(read_source(arg)?)? {
        Sniffed::Binary(b) => Ok(b),
        Sniffed::Json(_) => bail!("inspect tx takes a raw transaction (hex or binary), not JSON"),
    }
}

/// The chain context `--chain` (or a devnet directory's `genesis.json`) names. The defaults a
/// genesis file's missing fields took are printed on stderr, one `note:` line each.
pub fn chain_spec(name_or_path: &str) -> Result<ChainSpec> {
    let loaded = LoadedSpec::load(name_or_path)?;
    for n in &loaded.notes {
        eprintln!("note: {name_or_path}: {n}");
    }
    Ok(loaded.spec)
}

/// Refuses a path that does not exist, before anything else is said about it.
pub fn must_exist(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{}: no such file or directory", path.display())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
