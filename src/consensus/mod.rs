//! Consensus rules of a Kaia council chain: the chain context, Istanbul hashing and seals,
//! council tracking, randao, transaction signature and field rules, the rules of one
//! transaction, block 0 of a devnet, and the catalog of faults.

pub mod chain;
pub mod council;
pub mod fault;
pub mod genesis;
pub mod istanbul;
pub mod randao;
pub mod specfile;
pub mod txjudge;
pub mod txrules;
pub mod txsig;

pub use chain::ChainSpec;
pub use fault::{Fault, FaultKind};
