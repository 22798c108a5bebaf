//! What the recover stage already knows about signers, kept by the `Verifier` across windows: the
//! key cache (address → public key) and the seal-signer predictions learnt from earlier blocks.
//!
//! Both only produce *claims* — "this signature was made by that address's key" — which
//! `crypto::batch` checks with the same answer as recovery; a wrong claim costs a recovery, never
//! a wrong verdict. Committed seals do not name their signers, so they are predicted from the
//! last block whose seals all recovered, by one of two rules, each scored on every window against
//! what recovery and verification found:
//! - *same*: the same proposer and the same committers in the same order;
//! - *rotation*: the proposer advances one validator per block (round-robin), and each committer
//!   keeps its offset from the proposer in the validator list.
//!
//! A rule is used for the next window only when it named at least `MIN_HIT_RATE` of the seals of
//! the last window; otherwise seals are recovered as before (a bisection over many wrong claims
//! would cost more than it saves).
//!
//! A source may also name a block's seal signers itself (`SealHint`: the `proposer` and
//! `committers` of Kaia's consensus-info RPC, in seal order). Such a hint comes first, seal by
//! seal, and the rule fills what it leaves out; it is a claim like the others, so a wrong one
//! (Kaia nodes have been seen to serve stale `committers`) costs a recovery, never a verdict.

use crate::crypto::batch::{CacheStats, KeyCache};
use alloy_primitives::Address;

/// The share of a window's seals a rule must have named to be used for the next window.
const MIN_HIT_RATE: f64 = 0.9;

/// The signer knowledge of a verifier.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub keys: KeyCache,
    pub seals: SealHints,
}

impl Known {
    /// Counts of the key cache since the verifier was built.
    pub fn stats(&self) -> CacheStats {
        self.keys.stats()
    }

    /// True when the next blocks' seal signers are predicted by a rule that held on the last
    /// window, and every validator of the last block seen has its key held: the next seals of
    /// the same council are verified in one batch, not recovered.
    pub fn warm(&self) -> bool {
        self.seals
            .predicting()
            .is_some_and(|v| !v.is_empty() && v.iter().all(|a| self.keys.contains(a)))
    }
}

/// A rule that predicts a block's seal signers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Same,
    Rotation,
}

const RULES: [Rule; 2] = [Rule::Same, Rule::Rotation];

/// The signers of one block's seals, as recovered or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSigners {
    pub number: u64,
    pub validators: Vec<Address>,
    pub proposer: Address,
    pub committers: Vec<Address>,
}

/// A block's signers as its source names them: claims, never trusted (a wrong one costs a
/// recovery, never a verdict).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealHint {
    /// The proposer seal's signer.
    pub proposer: Option<Address>,
    /// The committed seals' signers, in seal order.
    pub committers: Vec<Address>,
    /// Each transaction's sender, in block order (a JSON-RPC block's `from`): claimed for the
    /// sender signatures of transactions that name none themselves (legacy and Ethereum-typed).
    /// Shorter than the block's transactions, or `None` at a position: no claim there.
    pub senders: Vec<Option<Address>>,
}

/// Predicted seal signers for one block: the proposer's, and one per committed seal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealClaims {
    pub proposer: Option<Address>,
    pub committers: Vec<Option<Address>>,
}

/// The seal-signer predictor.
#[derive(Debug, Clone, Default)]
pub struct SealHints {
    last: Option<SealSigners>,
    rule: Option<Rule>,
}

impl SealHints {
    fn predict(&self, rule: Rule, number: u64, validators: &[Address], seals: usize) -> SealClaims {
        let Some(last) = &self.last else {
            return SealClaims::default();
        };
        match rule {
            Rule::Same => SealClaims {
                proposer: Some(last.proposer),
                committers: (0..seals)
                    .map(|j| last.committers.get(j).copied())
                    .collect(),
            },
            Rule::Rotation => {
                let n = validators.len();
                let index = |a: &Address| last.validators.iter().position(|v| v == a);
                let Some(p_last) = index(&last.proposer) else {
                    return SealClaims::default();
                };
                if n == 0 || last.validators.len() != n {
                    return SealClaims::default();
                }
                let steps = (i128::from(number) - i128::from(last.number)).rem_euclid(n as i128);
                let p = (p_last + steps as usize) % n;
                let committers = (0..seals)
                    .map(|j| {
                        let c = index(last.committers.get(j)?)?;
                        Some(validators[(p + (c + n - p_last) % n) % n])
                    })
                    .collect();
                SealClaims {
                    proposer: Some(validators[p]),
                    committers,
                }
            }
        }
    }

    /// The validators of the last block seen, when a rule predicts the next blocks' seals.
    fn predicting(&self) -> Option<&[Address]> {
        self.rule?;
        self.last.as_ref().map(|l| &l.validators[..])
    }

    /// The claims for a block's seals: the source's `given` hint where it names a signer, the
    /// rule in use elsewhere (none when no rule is).
    pub fn claims(
        &self,
        number: u64,
        validators: &[Address],
        seals: usize,
        given: Option<&SealHint>,
    ) -> SealClaims {
        let mut out = match self.rule {
            Some(rule) => self.predict(rule, number, validators, seals),
            None => SealClaims::default(),
        };
        out.committers.resize(seals, None);
        if let Some(g) = given {
            out.proposer = g.proposer.or(out.proposer);
            for (c, named) in out.committers.iter_mut().zip(&g.committers) {
                *c = Some(*named);
            }
        }
        out
    }

    /// Scores every rule on a window's blocks (predicted from what was known before the window)
    /// and keeps the last block for the next window.
    pub fn learn(&mut self, blocks: &[SealSigners]) {
        let Some(newest) = blocks.last() else {
            return;
        };
        let total: usize = blocks.iter().map(|b| 1 + b.committers.len()).sum();
        let mut best: Option<(Rule, usize)> = None;
        for rule in RULES {
            let hits: usize = blocks
                .iter()
                .map(|b| {
                    let c = self.predict(rule, b.number, &b.validators, b.committers.len());
                    usize::from(c.proposer == Some(b.proposer))
                        + c.committers
                            .iter()
                            .zip(&b.committers)
                            .filter(|(p, a)| **p == Some(**a))
                            .count()
                })
                .sum();
            if best.is_none_or(|(_, h)| hits > h) {
                best = Some((rule, hits));
            }
        }
        self.rule = best
            .filter(|(_, hits)| total > 0 && *hits as f64 >= MIN_HIT_RATE * total as f64)
            .map(|(rule, _)| rule);
        self.last = Some(newest.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotating(number: u64, v: &[Address]) -> SealSigners {
        let n = v.len();
        let p = number as usize % n;
        SealSigners {
            number,
            validators: v.to_vec(),
            proposer: v[p],
            committers: (0..5).map(|j| v[(p + j) % n]).collect(),
        }
    }

    #[test]
    fn rules_are_learnt_and_dropped() {
        let v: Vec<Address> = (0..7u8).map(|i| Address::repeat_byte(i + 1)).collect();
        let mut h = SealHints::default();
        assert_eq!(h.claims(0, &v, 5, None).proposer, None);
        h.learn(&[rotating(0, &v)]);
        // One block gives nothing to score against yet.
        assert_eq!(h.claims(1, &v, 5, None).proposer, None);
        h.learn(&(1..10).map(|n| rotating(n, &v)).collect::<Vec<_>>());
        let c = h.claims(12, &v, 5, None);
        assert_eq!(c.proposer, Some(rotating(12, &v).proposer));
        assert_eq!(
            c.committers,
            rotating(12, &v)
                .committers
                .into_iter()
                .map(Some)
                .collect::<Vec<_>>()
        );
        // A chain whose signers stay put switches the rule over.
        let same = |n| SealSigners {
            number: n,
            ..rotating(3, &v)
        };
        h.learn(&(20..30).map(same).collect::<Vec<_>>());
        h.learn(&(30..40).map(same).collect::<Vec<_>>());
        assert_eq!(h.claims(41, &v, 5, None).proposer, Some(v[3]));
        // Signers that follow no rule turn hints off.
        let random = |n: u64| SealSigners {
            number: n,
            validators: v.clone(),
            proposer: v[(n * 5 % 7) as usize],
            committers: (0..5).map(|j| v[((n * 3 + j * j) % 7) as usize]).collect(),
        };
        h.learn(&(40..50).map(random).collect::<Vec<_>>());
        assert_eq!(h.claims(51, &v, 5, None).proposer, None);
    }

    #[test]
    fn warm_needs_a_rule_and_every_validator_key() {
        use crate::crypto::batch::PublicKey;
        use crate::crypto::secp::SigningKey;
        let signers: Vec<SigningKey> = (0..7).map(|i| SigningKey::from_seed(11, i)).collect();
        let v: Vec<Address> = signers.iter().map(|k| k.address()).collect();
        let mut known = Known::default();
        assert!(!known.warm());
        for (k, a) in signers.iter().zip(&v).skip(1) {
            known
                .keys
                .insert(*a, PublicKey::from_xy(&k.public_key()).unwrap());
        }
        known.seals.learn(&[rotating(0, &v)]);
        known
            .seals
            .learn(&(1..10).map(|n| rotating(n, &v)).collect::<Vec<_>>());
        // A rule, but one validator's key is missing: its seals would be recovered.
        assert!(!known.warm());
        known
            .keys
            .insert(v[0], PublicKey::from_xy(&signers[0].public_key()).unwrap());
        assert!(known.warm());
        // Signers that follow no rule drop it, and the verifier is cold again.
        let random = |n: u64| SealSigners {
            number: n,
            validators: v.clone(),
            proposer: v[(n * 5 % 7) as usize],
            committers: (0..5).map(|j| v[((n * 3 + j * j) % 7) as usize]).collect(),
        };
        known.seals.learn(&(10..20).map(random).collect::<Vec<_>>());
        assert!(!known.warm());
    }

    #[test]
    fn a_source_hint_comes_first_and_the_rule_fills_the_rest() {
        let v: Vec<Address> = (0..7u8).map(|i| Address::repeat_byte(i + 1)).collect();
        let given = SealHint {
            proposer: None,
            committers: vec![v[6], v[5]],
            senders: Vec::new(),
        };
        // No rule: only what the source names.
        let h = SealHints::default();
        let c = h.claims(3, &v, 4, Some(&given));
        assert_eq!(c.proposer, None);
        assert_eq!(c.committers, vec![Some(v[6]), Some(v[5]), None, None]);
        // With the rotation rule: the source's names where it gives them, the rule's elsewhere.
        let mut h = SealHints::default();
        h.learn(&(0..10).map(|n| rotating(n, &v)).collect::<Vec<_>>());
        h.learn(&(10..20).map(|n| rotating(n, &v)).collect::<Vec<_>>());
        let rule = h.claims(22, &v, 4, None);
        let c = h.claims(22, &v, 4, Some(&given));
        assert_eq!(c.proposer, rule.proposer);
        assert_eq!(&c.committers[..2], &[Some(v[6]), Some(v[5])]);
        assert_eq!(&c.committers[2..], &rule.committers[2..]);
        // A hint longer than the seals names no seal that is not there.
        let long = SealHint {
            proposer: Some(v[0]),
            committers: v.clone(),
            senders: Vec::new(),
        };
        let c = h.claims(22, &v, 3, Some(&long));
        assert_eq!(c.proposer, Some(v[0]));
        assert_eq!(c.committers.len(), 3);
    }
}
