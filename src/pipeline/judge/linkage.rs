//! Linkage and header fields: the parent hash, the number (against the parent's height), the
//! time (`parent.Time + period <= Time`) and the header's tail fields against the fork schedule.

use super::Parent;
use crate::consensus::{Fault, FaultKind};
use crate::pipeline::PipelineConfig;
use crate::primitives::Header;

pub(super) fn judge(
    parent: Option<&Parent>,
    h: &Header,
    height: u64,
    cfg: &PipelineConfig,
    faults: &mut Vec<Fault>,
) {
    if let Some(p) = parent {
        if h.parent_hash != p.hash {
            faults.push(
                Fault::new(
                    FaultKind::BrokenParentHash,
                    "parentHash is not the previous block's hash",
                )
                .expected_got(p.hash, h.parent_hash),
            );
        }
        if h.number != height {
            faults.push(
                Fault::new(
                    FaultKind::WrongNumber,
                    "number does not follow the previous block",
                )
                .expected_got(height, h.number),
            );
        }
        let earliest = p.time.saturating_add(cfg.block_period);
        if h.time < earliest {
            faults.push(
                Fault::new(
                    FaultKind::EarlyTimestamp,
                    format!("timestamp is before parent time + {}s", cfg.block_period),
                )
                .expected_got(format!(">= {earliest}"), h.time),
            );
        }
    }
    // No fork schedule given (inspect without --chain): any tail is taken as it is.
    if !cfg.check_fork_fields {
        return;
    }
    let want = cfg.forks.header_fields(h.number);
    let have = h.field_count();
    let kind = if have > want {
        FaultKind::TailFieldBeforeFork
    } else if have < want {
        FaultKind::MissingTailField
    } else {
        return;
    };
    faults.push(
        Fault::new(
            kind,
            format!(
                "header has {have} fields; at block {} it must have {want}",
                h.number
            ),
        )
        .expected_got(want, have),
    );
}
