//! The council as it changes along the chain: `governance.addvalidator` / `removevalidator` votes
//! (counted only when cast by the block's proposer, effective from the next block) and
//! `istanbul.committeesize`, from the chain's documented history (`ChainSpec::committee_sizes`) and
//! from the governance data of the epoch blocks ranger verified (effective from the next epoch
//! block, one block later before Kore).
//!
//! The quorum rule is Kaia's `verifyCommittedSeals` (kaiachain/kaia
//! `consensus/istanbul/backend/engine.go`): every committed seal by a distinct council member, and
//! `valid seals > 2F` with `F = ceil(min(qualified, committeeSize) / 3) - 1`
//! (`consensus/istanbul/validator.go` `f`; the same in klaytn/klaytn's `weightedCouncil.F`).
//! "Qualified" is the council minus the members below the minimum stake
//! (`kaiax/valset/impl/getter.go` `getQualifiedValidators`), which needs chain state. Where ranger
//! only has the council as a stand-in, or does not know the committee size at a height, it can
//! still say that `2F(council) + 1` seals are enough and that zero seals never are
//! (`errEmptyCommittedSeals`); in between it cannot decide (`SealsNeeded::Between`).

use super::chain::{CommitteeSizes, ParamAt};
use crate::codec::rlp::ListReader;
use alloy_primitives::Address;
use serde_json::Value;

/// Header vote keys that change the council.
pub const VOTE_ADD: &str = "governance.addvalidator";
pub const VOTE_REMOVE: &str = "governance.removevalidator";
/// Governance key of the committee size.
pub const GOV_COMMITTEE_SIZE: &str = "istanbul.committeesize";

/// A decoded header vote: `RLP([validator, key, value])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub validator: Address,
    pub key: String,
    pub value: Vec<u8>,
}

/// Decodes a header's Vote field; `None` for an empty field or one that does not decode
/// (a malformed vote is ignored by Kaia's governance, not a block fault).
pub fn decode_vote(raw: &[u8]) -> Option<Vote> {
    if raw.is_empty() || raw == [0x80] {
        return None;
    }
    let mut r = ListReader::from_bytes(raw, "vote").ok()?;
    let validator = r.address("vote.validator").ok()?;
    let key = String::from_utf8(r.bytes("vote.key").ok()?.to_vec()).ok()?;
    let value = r.bytes("vote.value").ok()?.to_vec();
    Some(Vote {
        validator,
        key,
        value,
    })
}

/// Encodes a header vote.
pub fn encode_vote(v: &Vote) -> Vec<u8> {
    use alloy_rlp::Encodable;
    let mut p = Vec::new();
    v.validator.encode(&mut p);
    v.key.as_bytes().encode(&mut p);
    v.value.as_slice().encode(&mut p);
    crate::codec::rlp::wrap_list(&p)
}

/// Decodes an epoch block's governance data: RLP(bytes(JSON object)).
pub fn decode_governance(raw: &[u8]) -> Option<serde_json::Map<String, Value>> {
    if raw.is_empty() || raw == [0x80] {
        return None;
    }
    let item = crate::codec::rlp::single_item(raw, "governance").ok()?;
    match serde_json::from_slice(item.payload).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Encodes governance data as Kaia does: RLP(bytes(JSON)).
pub fn encode_governance(m: &serde_json::Map<String, Value>) -> Vec<u8> {
    let json = Value::Object(m.clone()).to_string();
    crate::codec::rlp::encode(json.as_bytes())
}

/// How many valid distinct committed seals a block needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealsNeeded {
    /// Exactly 2F + 1.
    Exactly(usize),
    /// ranger cannot pin 2F + 1 down: `enough` seals always suffice, fewer than `floor` never
    /// do, and a count in between cannot be decided, for `reason`.
    Between {
        floor: usize,
        enough: usize,
        reason: String,
    },
}

/// What a count of valid distinct seals means under a `SealsNeeded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumCheck {
    Met,
    Below { required: usize },
    Undecided { reason: String },
}

impl SealsNeeded {
    /// Judges `valid` distinct council seals.
    pub fn check(&self, valid: usize) -> QuorumCheck {
        match self {
            SealsNeeded::Exactly(n) if valid >= *n => QuorumCheck::Met,
            SealsNeeded::Exactly(n) => QuorumCheck::Below { required: *n },
            SealsNeeded::Between { enough, .. } if valid >= *enough => QuorumCheck::Met,
            SealsNeeded::Between { floor, .. } if valid < *floor => {
                QuorumCheck::Below { required: *floor }
            }
            SealsNeeded::Between { reason, .. } => QuorumCheck::Undecided {
                reason: reason.clone(),
            },
        }
    }
    /// The fewest seals that could be enough: a count below it is short under any value of
    /// what ranger does not know.
    pub fn fewest_possible(&self) -> usize {
        match self {
            SealsNeeded::Exactly(n) => *n,
            SealsNeeded::Between { floor, .. } => *floor,
        }
    }
}

/// Kaia refuses a header without committed seals (`errEmptyCommittedSeals`), and with any
/// committee size (at least 1, `kaiax/gov/param.go`) and any qualified set (the proposer is in it)
/// F >= 0, so one seal is the least any block needs.
const SEALS_FLOOR: usize = 1;

/// The council and committee size along the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Council {
    members: Vec<Address>,
    sizes: CommitteeSizes,
    /// Committee sizes read from epoch blocks' governance data: (first block it holds, size),
    /// in block order.
    announced: Vec<(u64, u64)>,
    /// Never 0 (`new` makes it at least 1; a stored council with 0 is refused when read).
    #[serde(deserialize_with = "epoch_at_least_1")]
    epoch: u64,
    /// The block after the last one applied; 0 before any.
    next: u64,
    /// The first block of the current run of consecutive applied blocks.
    seen_from: Option<u64>,
    /// True when every council member counts as qualified (a devnet: no staking); false when the
    /// council is a stand-in for the qualified validators (real chains, from headers alone).
    qualified_is_council: bool,
    /// Whether votes and epoch governance data change the council (the chain spec's
    /// `council_governance`; a council read from an older checkpoint had them on).
    #[serde(default = "governed_by_default")]
    governed: bool,
}

fn governed_by_default() -> bool {
    true
}

/// A council read back (a node's checkpoint) keeps `new`'s rule: an epoch of 0 would divide by
/// zero, so it is refused as damaged data.
fn epoch_at_least_1<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match <u64 as serde::Deserialize>::deserialize(d)? {
        0 => Err(serde::de::Error::custom("council epoch is 0")),
        e => Ok(e),
    }
}

impl Council {
    /// A council with its members (order kept, duplicates dropped), all of them qualified.
    /// `committee_size` is a history (`ChainSpec::committee_sizes`) or one value for every height
    /// (`Option<u64>`, `None` = unbounded).
    pub fn new(
        members: Vec<Address>,
        committee_size: impl Into<CommitteeSizes>,
        epoch: u64,
    ) -> Self {
        let mut m: Vec<Address> = Vec::with_capacity(members.len());
        for a in members {
            if !m.contains(&a) {
                m.push(a);
            }
        }
        Self {
            members: m,
            sizes: committee_size.into(),
            announced: Vec::new(),
            epoch: epoch.max(1),
            next: 0,
            seen_from: None,
            qualified_is_council: true,
            governed: true,
        }
    }
    /// The same council, read as a stand-in for the qualified validators, which ranger does not
    /// know (it needs staking state): quorums become ranges (`SealsNeeded::Between`).
    pub fn council_as_stand_in(mut self) -> Self {
        self.qualified_is_council = false;
        self
    }
    /// The same council on a chain where governance does (true) or does not (false) change it:
    /// without governance, neither votes nor epoch governance data are applied.
    pub fn governed(mut self, governed: bool) -> Self {
        self.governed = governed;
        self
    }
    /// Members, in order.
    pub fn members(&self) -> &[Address] {
        &self.members
    }
    /// True for a member.
    pub fn contains(&self, a: &Address) -> bool {
        self.members.contains(a)
    }
    /// The committee size in force at the next block to verify (`None` = unbounded or unknown).
    pub fn committee_size(&self) -> Option<u64> {
        match self.committee_size_at(self.next) {
            ParamAt::Known(n) => Some(n),
            ParamAt::Unbounded | ParamAt::Unknown { .. } => None,
        }
    }
    /// 2F + 1 at the next block to verify, taking the council as the qualified set (for the
    /// devnet, whose council is all qualified, and whose committee size is always known).
    pub fn required_seals(&self) -> usize {
        match self.seals_needed_at(self.next) {
            SealsNeeded::Exactly(n) => n,
            SealsNeeded::Between { enough, .. } => enough,
        }
    }

    /// `istanbul.committeesize` at block `number`: the latest value ranger read in a verified
    /// epoch block that holds by then, else the chain's documented history; past the history's
    /// horizon, the last documented value when ranger read every epoch block since.
    pub fn committee_size_at(&self, number: u64) -> ParamAt {
        if let Some(&(_, size)) = self
            .announced
            .iter()
            .rev()
            .find(|(from, _)| *from <= number)
        {
            return ParamAt::Known(size);
        }
        let documented = self.sizes.at(number);
        if let (ParamAt::Unknown { .. }, Some(until)) = (&documented, self.sizes.known_until)
            && number > until
            && self
                .seen_from
                .is_some_and(|s| s <= self.first_ratification_after(until))
            && self.next > self.ratification_governing(number)
        {
            return self.sizes.at(until);
        }
        documented
    }

    /// The first epoch block whose ratification would hold after block `until`.
    fn first_ratification_after(&self, until: u64) -> u64 {
        let mut r = until.saturating_sub(self.epoch) / self.epoch * self.epoch;
        while self.sizes.effective_block(r, self.epoch) <= until {
            r += self.epoch;
        }
        r
    }

    /// The last epoch block whose ratification holds at block `number`.
    fn ratification_governing(&self, number: u64) -> u64 {
        let mut r = number / self.epoch * self.epoch;
        while r > 0 && self.sizes.effective_block(r, self.epoch) > number {
            r -= self.epoch;
        }
        r
    }

    /// The valid distinct seals block `number` needs.
    pub fn seals_needed_at(&self, number: u64) -> SealsNeeded {
        let council = self.members.len();
        let stand_in = || {
            format!(
                "the quorum counts qualified validators (the council minus members below the \
                 minimum stake, which needs chain state); taking all {council} council members \
                 as qualified"
            )
        };
        let (committee, reason) = match self.committee_size_at(number) {
            ParamAt::Known(n) => (Some(n), None),
            ParamAt::Unbounded => (None, None),
            ParamAt::Unknown { reason } => (None, Some(reason)),
        };
        let enough = super::istanbul::required_seals(council, committee);
        let reason = match reason {
            Some(r) => Some(r),
            None if !self.qualified_is_council => Some(stand_in()),
            None => None,
        };
        match reason {
            Some(reason) if enough > SEALS_FLOOR => SealsNeeded::Between {
                floor: SEALS_FLOOR,
                enough,
                reason: format!("{reason}: {enough} seals are enough, fewer may be"),
            },
            _ => SealsNeeded::Exactly(enough),
        }
    }

    /// 2F + 1 at block `number`, or why ranger cannot say.
    pub fn required_seals_at(&self, number: u64) -> Result<usize, String> {
        match self.seals_needed_at(number) {
            SealsNeeded::Exactly(n) => Ok(n),
            SealsNeeded::Between { reason, .. } => Err(reason),
        }
    }

    /// Applies what block `number` (already verified, proposed by `proposer`) says about the
    /// council for the blocks after it.
    pub fn apply_block(&mut self, number: u64, proposer: Address, vote: &[u8], governance: &[u8]) {
        if self.seen_from.is_none() || number != self.next {
            self.seen_from = Some(number);
        }
        self.next = number.saturating_add(1);
        if !self.governed {
            return;
        }
        if number.is_multiple_of(self.epoch)
            && let Some(g) = decode_governance(governance)
            // Kaia refuses a committee size of 0 (`kaiax/gov/param.go`); such data is not a value.
            && let Some(size) = g
                .get(GOV_COMMITTEE_SIZE)
                .and_then(Value::as_u64)
                .filter(|s| *s > 0)
        {
            let from = self.sizes.effective_block(number, self.epoch);
            self.announced.retain(|(f, _)| *f < from);
            self.announced.push((from, size));
        }
        let Some(v) = decode_vote(vote) else { return };
        if v.validator != proposer || v.value.is_empty() || v.value.len() % 20 != 0 {
            return;
        }
        let addrs = v.value.chunks(20).map(Address::from_slice);
        match v.key.as_str() {
            VOTE_ADD => {
                for a in addrs {
                    if !self.members.contains(&a) {
                        self.members.push(a);
                    }
                }
            }
            VOTE_REMOVE => {
                let drop: Vec<Address> = addrs.collect();
                // Never remove the last member: a council of zero could seal nothing.
                if self.members.len() > drop.len() {
                    self.members.retain(|m| !drop.contains(m));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_change_the_council_only_from_the_proposer() {
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        let c = Address::repeat_byte(3);
        let mut council = Council::new(vec![a, b], None, 10);
        let vote = encode_vote(&Vote {
            validator: a,
            key: VOTE_ADD.into(),
            value: c.to_vec(),
        });
        council.apply_block(1, b, &vote, &[]);
        assert!(!council.contains(&c), "a vote by a non-proposer is ignored");
        council.apply_block(2, a, &vote, &[]);
        assert!(council.contains(&c));
        let rm = encode_vote(&Vote {
            validator: a,
            key: VOTE_REMOVE.into(),
            value: b.to_vec(),
        });
        council.apply_block(3, a, &rm, &[]);
        assert_eq!(council.members(), &[a, c]);

        // On a chain without governance, the same votes and an epoch block's committee size
        // change nothing, also once the council has gone through a checkpoint.
        let mut fixed = Council::new(vec![a, b], Some(2), 10).governed(false);
        fixed.apply_block(1, a, &vote, &[]);
        fixed.apply_block(2, a, &rm, &[]);
        let mut g = serde_json::Map::new();
        g.insert(GOV_COMMITTEE_SIZE.into(), 1.into());
        fixed.apply_block(10, a, &[], &encode_governance(&g));
        fixed.apply_block(21, a, &[], &[]);
        assert_eq!(fixed.members(), &[a, b]);
        assert_eq!(fixed.committee_size(), Some(2));
        let text = serde_json::to_string(&fixed).unwrap_or_default();
        let mut back: Council = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        back.apply_block(22, a, &rm, &[]);
        assert_eq!(back.members(), &[a, b]);
    }

    #[test]
    fn committee_size_waits_for_the_next_epoch() {
        let mut council = Council::new(vec![Address::ZERO; 1], Some(50), 10);
        let mut g = serde_json::Map::new();
        g.insert(GOV_COMMITTEE_SIZE.into(), 7.into());
        council.apply_block(10, Address::ZERO, &[], &encode_governance(&g));
        assert_eq!(council.committee_size(), Some(50));
        council.apply_block(15, Address::ZERO, &[], &[]);
        assert_eq!(council.committee_size(), Some(50));
        council.apply_block(20, Address::ZERO, &[], &[]);
        assert_eq!(council.committee_size(), Some(7));
    }

    /// Kaia's F (`consensus/istanbul/validator.go` `f`), written as Kaia writes it, to check
    /// `istanbul::required_seals` against.
    fn kaia_f(qualified: usize, committee: u64) -> i64 {
        let q = qualified as f64;
        let c = committee as f64;
        if q > c {
            (c / 3.0).ceil() as i64 - 1
        } else {
            (q / 3.0).ceil() as i64 - 1
        }
    }

    #[test]
    fn required_seals_are_kaias_two_f_plus_one() {
        for council in 1..=60usize {
            for committee in 1..=60u64 {
                let want = (2 * kaia_f(council, committee) + 1) as usize;
                assert_eq!(
                    super::super::istanbul::required_seals(council, Some(committee)),
                    want,
                    "council {council}, committee {committee}"
                );
            }
        }
    }

    #[test]
    fn a_stored_council_with_epoch_0_is_refused_not_a_division_by_zero() {
        let mut v = serde_json::to_value(mainnet_council(4)).unwrap();
        assert!(serde_json::from_value::<Council>(v.clone()).is_ok());
        v["epoch"] = 0.into();
        let e = serde_json::from_value::<Council>(v).unwrap_err();
        assert!(e.to_string().contains("council epoch is 0"), "{e}");
    }

    fn mainnet_council(n: u8) -> Council {
        let spec = crate::consensus::ChainSpec::mainnet();
        let members = (1..=n).map(Address::repeat_byte).collect();
        Council::new(members, spec.committee_sizes(), spec.epoch)
    }

    #[test]
    fn mainnet_quorum_follows_the_committee_size_of_each_era() {
        // A council of 40: under committee 22 F = 7 (15 seals), under 31 F = 10 (21), under 50
        // the council itself bounds it, F = 13 (27). Before the history, with 50 for every
        // height, a 2020 block with 15 seals was "below quorum".
        let c = mainnet_council(40);
        assert_eq!(c.required_seals_at(30_000_000), Ok(15));
        assert_eq!(c.required_seals_at(96_163_200), Ok(15));
        assert_eq!(c.required_seals_at(96_163_201), Ok(21));
        assert_eq!(c.required_seals_at(162_691_200), Ok(27));
        assert_eq!(c.seals_needed_at(30_000_000).check(15), QuorumCheck::Met);
        assert_eq!(
            c.seals_needed_at(30_000_000).check(14),
            QuorumCheck::Below { required: 15 }
        );
    }

    #[test]
    fn an_unknown_committee_size_is_undecided_between_one_seal_and_the_council_bound() {
        let c = mainnet_council(40);
        let far = 200_000_000;
        let reason = c.required_seals_at(far).unwrap_err();
        assert!(reason.contains("163295999"), "{reason}");
        let need = c.seals_needed_at(far);
        assert_eq!(need.fewest_possible(), 1);
        assert_eq!(
            need.check(27),
            QuorumCheck::Met,
            "2F(council)+1 is enough whatever the size"
        );
        assert!(matches!(need.check(15), QuorumCheck::Undecided { .. }));
        assert_eq!(need.check(0), QuorumCheck::Below { required: 1 });
    }

    #[test]
    fn epoch_blocks_read_past_the_horizon_make_the_size_known_again() {
        let epoch = 604_800;
        let mut c = mainnet_council(40);
        let p = Address::repeat_byte(1);
        // Verified from the last documented epoch block on, block by block (only the epoch
        // blocks matter here, so the run is kept consecutive around them).
        for n in 162_691_199..=162_691_201 {
            c.apply_block(n, p, &[], &[]);
        }
        // Block 163,296,000 is governed by the ratification at 162,691,200, which was read.
        assert_eq!(c.committee_size_at(163_296_000), ParamAt::Known(50));
        // 163,900,800 is governed by epoch block 163,296,000, which was not.
        assert!(c.required_seals_at(163_900_800).is_err());
        let mut c2 = mainnet_council(40);
        for n in 162_691_200..=163_296_001 {
            if n % epoch == 0 || n == 162_691_200 || n >= 163_295_999 {
                c2.apply_block(n, p, &[], &[]);
            } else {
                c2.next = n + 1; // the blocks in between change nothing here
            }
        }
        assert_eq!(c2.committee_size_at(163_296_001), ParamAt::Known(50));
        // An announcement read in a verified epoch block holds one epoch later (Kore timing).
        let mut g = serde_json::Map::new();
        g.insert(GOV_COMMITTEE_SIZE.into(), 22.into());
        let r = 163_296_000 + epoch;
        c2.next = r;
        c2.apply_block(r, p, &[], &encode_governance(&g));
        assert_eq!(c2.committee_size_at(r + epoch - 1), ParamAt::Known(50));
        assert_eq!(c2.committee_size_at(r + epoch), ParamAt::Known(22));
    }

    #[test]
    fn a_council_stand_in_gives_a_range_not_a_number() {
        let c = Council::new((1..=40).map(Address::repeat_byte).collect(), Some(50), 10)
            .council_as_stand_in();
        let need = c.seals_needed_at(5);
        assert!(matches!(
            need,
            SealsNeeded::Between {
                floor: 1,
                enough: 27,
                ..
            }
        ));
        assert!(matches!(need.check(24), QuorumCheck::Undecided { .. }));
        // One member: 2F + 1 = 1 whatever is qualified.
        let one = Council::new(vec![Address::ZERO], Some(50), 10).council_as_stand_in();
        assert_eq!(one.seals_needed_at(5), SealsNeeded::Exactly(1));
    }
}
