//! Stand-ins until the witness branch merges (never committed).
use crate::consensus::Fault;
pub fn item_proof(
    _: crate::trie::DeriveShaImpl,
    _: &[&[u8]],
    _: usize,
    _: &dyn crate::crypto::Backend,
) -> Option<Vec<Vec<u8>>> {
    None
}
pub fn check_item_proof(
    _: crate::trie::DeriveShaImpl,
    _: alloy_primitives::B256,
    _: usize,
    _: &[u8],
    _: &[Vec<u8>],
) -> Result<(), String> {
    Err("no proofs yet".into())
}
pub struct Witness;
impl Witness {
    pub fn decode(_: &[u8]) -> Result<Self, String> {
        Err("no witness yet".into())
    }
}
pub fn replay_stateless(
    _: &crate::consensus::chain::ChainSpec,
    _: alloy_primitives::B256,
    _: &crate::primitives::Header,
    _: &[crate::primitives::Transaction],
    _: &[crate::state::TxParties],
    _: &Witness,
    _: &dyn crate::crypto::Backend,
) -> Result<Vec<Fault>, String> {
    Err("no witness yet".into())
}
