//! The flags of a devnet council, one definition for the council `ranger run` embeds and for
//! `ranger council`: its size, seed, pace and faults, turned into the library's `DevnetConfig`.

use anyhow::{Context, Result, bail};
use clap::Args;
use ranger::devnet::{DevnetConfig, ENDLESS, FaultAt};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct CouncilFlags {
    /// Transactions per second the council's workload offers (split over the blocks of each
    /// second: a block carries tps × block period, rounded up).
    #[arg(long, default_value_t = 2000)]
    pub tps: u64,
    /// Milliseconds between blocks (Kaia's is 1,000; 1 makes a council as fast as it can).
    #[arg(long, default_value_t = 1000)]
    pub block_period: u64,
    /// Council members.
    #[arg(long, default_value_t = 7)]
    pub validators: usize,
    /// Funded accounts.
    #[arg(long, default_value_t = 10_000)]
    pub accounts: usize,
    /// Seed of the keys and the workload: the same seed gives the same chain.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Make the council lie: break block BLOCK in the way KIND names (see `ranger devnet faults`).
    #[arg(long = "fault", value_name = "KIND@BLOCK")]
    pub faults: Vec<FaultAt>,
}

impl CouncilFlags {
    /// The devnet these flags make: endless, `tps × block period` transactions per block.
    pub fn devnet(&self) -> Result<DevnetConfig> {
        if self.block_period == 0 {
            bail!("--block-period must be at least 1 ms");
        }
        let txs_per_block =
            usize::try_from(self.tps.saturating_mul(self.block_period).div_ceil(1000))
                .context("--tps is too large")?;
        let config = DevnetConfig {
            validators: self.validators,
            accounts: self.accounts,
            blocks: ENDLESS,
            txs_per_block,
            seed: self.seed,
            faults: self.faults.clone(),
            ..DevnetConfig::default()
        };
        config.validate()?;
        Ok(config)
    }

    /// Wall-clock time between blocks.
    pub fn period(&self) -> Duration {
        Duration::from_millis(self.block_period)
    }
}
