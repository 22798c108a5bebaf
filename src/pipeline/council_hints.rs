//! What a source says about a live chain's council (`kaia_getCouncil`, `kaia_getParams`,
//! `kaia_getBlsInfos` for the block before the first one followed): claims to check, never
//! inputs a verdict may be proven by.
//!
//! - BLS keys: each is kept only with its proof of possession verified. A randao reveal that
//!   verifies under the hinted key of its proposer is consistent; one that does not makes the
//!   block `undecided`, naming the hint (ranger cannot tell a lying source from a bad reveal),
//!   never `invalid` (`judge::randao`).
//! - The council: checked against the first judged block's Extra validators (when it lists
//!   them) and its recovered seal signers. A hinted set that lacks a recovered signer is a source that lied; one that is
//!   not the Extra's validator set disagrees with the block. Either way the hint is dropped and
//!   the outcome handed to the node (log, metrics); it never touches a verdict.
//! - The committee size: named in the reason of a quorum left undecided where the built-in
//!   history does not know the size (what the seals would meet under it); it decides nothing,
//!   since a source could claim a size that makes one seal enough (`judge::seals`).

use super::report::BlockReport;
use crate::codec::rpc::BlsInfos;
use crate::crypto::bls::{BlsPublicKey, verify_pop};
use alloy_primitives::Address;
use std::collections::{BTreeSet, HashMap};

/// The committee size a source gave for one block: the hint applies from there for one epoch
/// (parameters change at epoch boundaries, so one hint is not stretched over many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitteeSizeHint {
    /// The block the source gave it for.
    pub at: u64,
    pub size: u64,
}

/// The hints a source gave, as the verifier takes them.
#[derive(Debug, Clone, Default)]
pub struct SourceHints {
    /// Who gave them (a URL), for notes and reasons.
    pub source: String,
    /// The block they describe.
    pub block: u64,
    /// BLS keys whose proof of possession verified (see `check_bls_infos`).
    pub bls_keys: HashMap<Address, BlsPublicKey>,
    /// The council members (empty: none given).
    pub council: Vec<Address>,
    pub committee_size: Option<CommitteeSizeHint>,
}

/// `kaia_getBlsInfos` checked: the keys whose proof of possession verifies, and why each other
/// entry was refused.
#[derive(Debug, Default)]
pub struct CheckedKeys {
    pub keys: HashMap<Address, BlsPublicKey>,
    pub refused: Vec<(Address, String)>,
}

/// Checks every entry of `infos`: an entry the source itself flags (`verifyErr`), a key that
/// does not decode and a proof of possession that does not verify are refused.
pub fn check_bls_infos(infos: &BlsInfos) -> CheckedKeys {
    let mut out = CheckedKeys::default();
    for (addr, info) in infos {
        if let Some(e) = &info.verify_err {
            out.refused
                .push((*addr, format!("the source flags it: {e}")));
            continue;
        }
        let key = match BlsPublicKey::from_bytes(&info.public_key) {
            Ok(k) => k,
            Err(e) => {
                out.refused
                    .push((*addr, format!("the key does not decode: {e}")));
                continue;
            }
        };
        if verify_pop(&key, &info.pop).is_err() {
            out.refused
                .push((*addr, "its proof of possession does not verify".to_owned()));
            continue;
        }
        out.keys.insert(*addr, key);
    }
    out
}

/// What the first judged block says of a hinted council.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouncilHintCheck {
    /// It holds every recovered signer and is the block's validator set.
    Consistent,
    /// It lacks a signer the seals recover to: the source lied.
    Lied(String),
    /// It holds the signers but is not the block's validator set.
    Disagrees(String),
}

/// Checks the hinted council `hinted` against a judged block; `None` when the block has no
/// recovered proposer to check against (a block that could not be judged).
pub fn check_council(hinted: &[Address], report: &BlockReport) -> Option<CouncilHintCheck> {
    let proposer = report.proposer?;
    let set: BTreeSet<Address> = hinted.iter().copied().collect();
    let block = report.block.or(report.number).unwrap_or_default();
    let missing: Vec<String> = std::iter::once(proposer)
        .chain(report.committers.iter().copied())
        .filter(|a| !set.contains(a))
        .map(|a| format!("{a:#x}"))
        .collect();
    if !missing.is_empty() {
        return Some(CouncilHintCheck::Lied(format!(
            "the hinted council of {} members lacks {} that sealed block {block}",
            set.len(),
            missing.join(", ")
        )));
    }
    let validators: BTreeSet<Address> = report.validators.iter().copied().collect();
    // A header whose Extra lists no validators (a devnet's) has none to compare with.
    if !validators.is_empty() && validators != set {
        return Some(CouncilHintCheck::Disagrees(format!(
            "the hinted council has {} members, block {block}'s validators are {} others",
            set.len(),
            validators.symmetric_difference(&set).count()
        )));
    }
    Some(CouncilHintCheck::Consistent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::rpc::BlsInfo;
    use crate::crypto::bls::BlsSecretKey;

    fn info(seed: u8, pop_of: u8) -> BlsInfo {
        let sk = BlsSecretKey::from_seed(&[seed; 32]);
        let other = BlsSecretKey::from_seed(&[pop_of; 32]);
        BlsInfo {
            public_key: sk.public_key().to_bytes().to_vec().into(),
            pop: other.pop().to_vec().into(),
            verify_err: None,
        }
    }

    #[test]
    fn only_keys_with_their_own_proof_of_possession_are_kept() {
        let mut infos = BlsInfos::new();
        infos.insert(Address::repeat_byte(1), info(1, 1));
        // A proof made with another key.
        infos.insert(Address::repeat_byte(2), info(2, 3));
        let mut flagged = info(4, 4);
        flagged.verify_err = Some("pop mismatch".into());
        infos.insert(Address::repeat_byte(4), flagged);
        let mut garbage = info(5, 5);
        garbage.public_key = vec![1u8; 48].into();
        infos.insert(Address::repeat_byte(5), garbage);
        let c = check_bls_infos(&infos);
        assert_eq!(c.keys.len(), 1);
        assert!(c.keys.contains_key(&Address::repeat_byte(1)));
        let refused: Vec<Address> = c.refused.iter().map(|(a, _)| *a).collect();
        assert_eq!(
            refused,
            vec![
                Address::repeat_byte(2),
                Address::repeat_byte(4),
                Address::repeat_byte(5)
            ]
        );
    }

    #[test]
    fn a_council_hint_is_checked_against_the_seals_and_the_validators() {
        let v: Vec<Address> = (1..=4).map(Address::repeat_byte).collect();
        let mut r = BlockReport::new(0, Some(10));
        assert_eq!(check_council(&v, &r), None, "nothing to check against yet");
        r.proposer = Some(v[0]);
        r.committers = v[..3].to_vec();
        r.validators = v.clone();
        assert_eq!(check_council(&v, &r), Some(CouncilHintCheck::Consistent));
        // A hint without a member that sealed: a lie.
        let lie = check_council(&v[1..], &r).unwrap();
        assert!(matches!(&lie, CouncilHintCheck::Lied(w) if w.contains(&format!("{:#x}", v[0]))));
        // One with an extra member: it holds the signers, but is not the block's set.
        let mut more = v.clone();
        more.push(Address::repeat_byte(9));
        assert!(matches!(
            check_council(&more, &r),
            Some(CouncilHintCheck::Disagrees(_))
        ));
    }
}
