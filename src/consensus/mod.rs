//! Consensus rules of a Kaia council chain: the chain context, Istanbul hashing and seals,
//! council tracking, randao, transaction signature rules, and the catalog of faults.

pub mod chain;
pub mod council;
pub mod fault;
pub mod istanbul;
pub mod randao;
pub mod txsig;

pub use chain::ChainSpec;
pub use fault::{Fault, FaultKind};
