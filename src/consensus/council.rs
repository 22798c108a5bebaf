//! The council as it changes along the chain: `governance.addvalidator` / `removevalidator` votes
//! (counted only when cast by the block's proposer, effective from the next block) and
//! `istanbul.committeesize` announced in epoch blocks' governance data (effective from the next
//! epoch block).

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

/// The council and committee size in force at the next block to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Council {
    members: Vec<Address>,
    committee_size: Option<u64>,
    /// A committee size announced at an epoch block, waiting for the next epoch block.
    pending_committee_size: Option<u64>,
    epoch: u64,
}

impl Council {
    /// A council with its members (order kept, duplicates dropped).
    pub fn new(members: Vec<Address>, committee_size: Option<u64>, epoch: u64) -> Self {
        let mut m: Vec<Address> = Vec::with_capacity(members.len());
        for a in members {
            if !m.contains(&a) {
                m.push(a);
            }
        }
        Self {
            members: m,
            committee_size,
            pending_committee_size: None,
            epoch: epoch.max(1),
        }
    }
    /// Members, in order.
    pub fn members(&self) -> &[Address] {
        &self.members
    }
    /// True for a member.
    pub fn contains(&self, a: &Address) -> bool {
        self.members.contains(a)
    }
    /// The committee size in force.
    pub fn committee_size(&self) -> Option<u64> {
        self.committee_size
    }
    /// 2F + 1 under the current council and committee size.
    pub fn required_seals(&self) -> usize {
        super::istanbul::required_seals(self.members.len(), self.committee_size)
    }

    /// Applies what block `number` (already verified, proposed by `proposer`) says about the
    /// council for the blocks after it.
    pub fn apply_block(&mut self, number: u64, proposer: Address, vote: &[u8], governance: &[u8]) {
        if number.is_multiple_of(self.epoch) {
            if let Some(size) = self.pending_committee_size.take() {
                self.committee_size = Some(size);
            }
            if let Some(g) = decode_governance(governance)
                && let Some(size) = g.get(GOV_COMMITTEE_SIZE).and_then(Value::as_u64)
            {
                self.pending_committee_size = Some(size);
            }
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
}
