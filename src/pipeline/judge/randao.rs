//! Randao: the reveal is the proposer's BLS signature of the block number (checked in batches by
//! the recover stage), and `mixHash = parentMix XOR keccak(reveal)`. Under BLS keys a source
//! hinted (`council_hints`), a reveal that does not verify is undecided, not a fault.

use super::Parent;
use crate::consensus::randao::next_mix_hash;
use crate::consensus::{Fault, FaultKind};
use crate::pipeline::PipelineConfig;
use crate::pipeline::report::BlockReport;
use crate::pipeline::stages::Recovered;
use alloy_primitives::{Address, B256};

/// Judges the randao fields of `r`; returns the block's mix hash for its successor.
pub(super) fn judge(
    parent: Option<&Parent>,
    r: &Recovered,
    proposer: Option<Address>,
    cfg: &PipelineConfig,
    report: &mut BlockReport,
) -> Option<B256> {
    let faults = &mut report.faults;
    let h = &r.block.header;
    if !cfg.forks.is_randao(h.number) {
        return None;
    }
    let reveal = h.random_reveal.as_ref()?;
    match &r.reveal {
        // The key is a source's word: ranger cannot tell a lying source from a bad reveal.
        Some(Err(e)) if cfg.bls_keys_hinted.is_some() => {
            let source = cfg.bls_keys_hinted.as_deref().unwrap_or_default();
            let who = proposer.map_or_else(String::new, |p| format!(" {p:#x}"));
            report.undecided.get_or_insert_with(|| {
                format!(
                    "the randao reveal does not verify under the BLS key {source} hinted for proposer{who} (kaia_getBlsInfos): {e}"
                )
            });
        }
        Some(Err(e)) => faults.push(Fault::new(
            FaultKind::BadRandomReveal,
            format!("randao reveal does not verify under the proposer's BLS key: {e}"),
        )),
        Some(Ok(())) => {}
        None if cfg.has_bls_keys => {
            if let Some(p) = proposer {
                faults.push(Fault::new(
                    FaultKind::UnknownProposerBlsKey,
                    format!("no registered BLS key for proposer {p:#x}"),
                ));
            }
        }
        None => {}
    }
    let parent_mix = if cfg.forks.is_randao_fork_block(h.number) {
        Some(B256::ZERO)
    } else {
        parent.and_then(|p| p.mix_hash)
    };
    if let Some(pm) = parent_mix {
        let expected = next_mix_hash(&pm, reveal);
        let got: &[u8] = h.mix_hash.as_ref().map_or(&[][..], |b| &b[..]);
        if got != expected.as_slice() {
            faults.push(
                Fault::new(
                    FaultKind::WrongMixHash,
                    "mixHash is not parentMix XOR keccak(reveal)",
                )
                .expected_got(expected, alloy_primitives::hex::encode_prefixed(got)),
            );
        }
    }
    h.mix_hash
        .as_ref()
        .and_then(|m| B256::try_from(&m[..]).ok())
}
