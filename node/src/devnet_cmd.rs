//! `ranger devnet`: generate a seeded council chain (valid, or broken by named faults) and list
//! the faults it can inject. Flags become a validated `DevnetConfig` before any work starts.
//!
//! Exit codes: 0 done; 2 invalid flags (clap and config validation); 1 any other failure.

use anyhow::Context;
use clap::{Args, Subcommand};
use ranger::consensus::FaultKind;
use ranger::crypto::CpuBackend;
use ranger::devnet::{DevnetConfig, DevnetError, FaultAt, INJECTABLE, generate_to_dir};
use ranger::trie::DeriveShaImpl;
use std::path::PathBuf;
use std::time::Instant;

/// `ranger devnet ...`
#[derive(Debug, Args)]
pub struct DevnetArgs {
    #[command(subcommand)]
    pub command: DevnetCommand,
}

/// The devnet subcommands.
#[derive(Debug, Subcommand)]
pub enum DevnetCommand {
    /// Write DIR/genesis.json and DIR/chain: a seeded council chain. Same flags, same bytes.
    Generate(GenerateArgs),
    /// List the fault kinds `--fault` can inject, with what each breaks.
    Faults,
}

/// Flags of `ranger devnet generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Council members (secp256k1 + BLS keys each).
    #[arg(long, default_value_t = 7)]
    pub validators: usize,
    /// Funded accounts.
    #[arg(long, default_value_t = 100_000)]
    pub accounts: usize,
    /// Blocks after genesis.
    #[arg(long, default_value_t = 200)]
    pub blocks: u64,
    /// Transactions per block (fault blocks carry one or two more).
    #[arg(long, default_value_t = 2000)]
    pub txs_per_block: usize,
    /// Seed of every key and choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// istanbul.committeesize (default: the whole council).
    #[arg(long)]
    pub committee_size: Option<u64>,
    /// Break block BLOCK in the way KIND names (repeatable), e.g. --fault nonce-gap@5.
    #[arg(long = "fault", value_name = "KIND@BLOCK")]
    pub faults: Vec<FaultAt>,
    /// Council votes (governance.addvalidator/removevalidator) and epoch governance data.
    #[arg(long)]
    pub votes: bool,
    /// Chain id.
    #[arg(long, default_value_t = ranger::devnet::DEFAULT_CHAIN_ID)]
    pub chain_id: u64,
    /// DeriveSha implementation for transaction and receipt roots: orig, simple or concat.
    #[arg(long, default_value = "orig")]
    pub derive_sha: DeriveShaImpl,
}

impl GenerateArgs {
    fn config(&self) -> DevnetConfig {
        DevnetConfig {
            validators: self.validators,
            accounts: self.accounts,
            blocks: self.blocks,
            txs_per_block: self.txs_per_block,
            seed: self.seed,
            committee_size: self.committee_size,
            faults: self.faults.clone(),
            votes: self.votes,
            chain_id: self.chain_id,
            derive_sha: self.derive_sha,
        }
    }
}

/// Runs a devnet subcommand; returns the process exit code.
pub fn run(args: DevnetArgs) -> anyhow::Result<i32> {
    match args.command {
        DevnetCommand::Faults => {
            for k in FaultKind::ALL {
                if INJECTABLE.contains(k) {
                    out!("{:<24} {}", k.as_str(), k.about());
                }
            }
            Ok(0)
        }
        DevnetCommand::Generate(g) => {
            let config = g.config();
            if let Err(e) = config.validate() {
                eprintln!("error: {e}");
                return Ok(2);
            }
            let start = Instant::now();
            let summary = match generate_to_dir(&config, &g.out, &CpuBackend) {
                Ok(s) => s,
                Err(e @ DevnetError::Config(_)) => {
                    eprintln!("error: {e}");
                    return Ok(2);
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("generating the devnet in {}", g.out.display()));
                }
            };
            let secs = start.elapsed().as_secs_f64();
            out!(
                "wrote {}/genesis.json and {}/chain: {} blocks, {} transactions, {} bytes in {:.2} s ({:.0} tx/s)",
                g.out.display(),
                g.out.display(),
                summary.blocks,
                summary.transactions,
                summary.chain_bytes,
                secs,
                summary.transactions as f64 / secs.max(1e-9),
            );
            out!("genesis hash {}", summary.genesis_hash);
            out!("last block hash {}", summary.last_hash);
            Ok(0)
        }
    }
}
