//! Reading a chain spec from genesis JSON: the one path every `ChainSpec` deserialization takes.
//!
//! A context file is input like any other, and a hostile one must cost a verifier nothing. The
//! invariants: every list is bounded *while* it is parsed (a file with a million council members
//! is refused at member 1,025, never read whole, just as `MAX_COUNCIL` bounds the seals of a
//! header); every field has one JSON shape (an object is an object, so `"forks": [1, 2]` is
//! refused) and unknown keys are refused; a BLS key must be a key (blst `key_validate`); and every
//! default that is taken for a missing field is named in [`LoadedSpec::notes`], while a missing
//! field whose default could turn into a false fault (a devnet's `base_fee`, `derive_sha`,
//! `council`, `accounts`) is refused by name.

use super::chain::{
    ChainKind, ChainSpec, CouncilMember, DEFAULT_EPOCH, DEFAULT_PERIOD, ForkSchedule,
    GenesisAccount,
};
use crate::crypto::bls::BlsPublicKey;
use crate::trie::DeriveShaImpl;
use alloy_primitives::U256;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};
use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

/// A council larger than this is not a council: it bounds the seals one header can make us
/// recover and the proofs of possession a genesis can make us check (mainnet's council is ~50).
pub const MAX_COUNCIL: usize = 1024;
/// Funded accounts of a devnet genesis: the replayer holds each in memory; 2M accounts are about
/// 220 MB of genesis JSON, within [`MAX_SPEC_BYTES`]. The devnet generator refuses more.
pub const MAX_ACCOUNTS: usize = 2_000_000;
/// Entries of `committee_size_history`: a value changes at most once per governance epoch, and
/// mainnet has had three in 190M blocks.
pub const MAX_HISTORY: usize = 4096;
/// Bytes of a genesis JSON file (and of its chain name, [`MAX_NAME`]).
pub const MAX_SPEC_BYTES: u64 = 256 << 20;
/// Characters of a chain name.
pub const MAX_NAME: usize = 256;

/// A chain spec as read, with the defaults that were taken for missing fields (one line each,
/// for the user: "epoch missing: 604800 taken (Kaia's)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedSpec {
    pub spec: ChainSpec,
    pub notes: Vec<String>,
}

impl LoadedSpec {
    /// Parses and checks genesis JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let t = bytes.trim_ascii_start();
        if !t.is_empty() && t[0] != b'{' {
            // An array would otherwise fill the struct's fields in order.
            return Err(de::Error::custom(
                "a genesis file is one JSON object (`{\"name\": …, \"kind\": …}`)",
            ));
        }
        let raw: RawSpec = serde_json::from_slice(bytes)?;
        raw.into_loaded().map_err(de::Error::custom)
    }
}

/// The serde form of a genesis file: every defaultable field optional, so a missing one is seen.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    name: String,
    kind: ChainKind,
    chain_id: u64,
    #[serde(deserialize_with = "object")]
    forks: RawForks,
    #[serde(default, deserialize_with = "present")]
    block_period: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    epoch: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    committee_size: Option<Option<u64>>,
    #[serde(default, deserialize_with = "history")]
    committee_size_history: Option<Vec<(u64, u64)>>,
    #[serde(default)]
    committee_size_known_until: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    derive_sha: Option<DeriveShaImpl>,
    #[serde(default, deserialize_with = "council")]
    council: Option<Vec<CouncilMember>>,
    #[serde(default)]
    base_fee: Option<U256>,
    #[serde(default, deserialize_with = "accounts")]
    accounts: Option<Vec<GenesisAccount>>,
    #[serde(default, deserialize_with = "present")]
    legacy_keys_only: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    council_governance: Option<bool>,
}

/// `forks`: each of the five header/tx forks must be named (a block number, or null for never);
/// Kore may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForks {
    #[serde(default, deserialize_with = "present")]
    eth_tx_type: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    magma: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    randao: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    prague: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    osaka: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    kore: Option<Option<u64>>,
}

impl RawForks {
    fn into_schedule(self, kind: ChainKind, notes: &mut Vec<String>) -> ForkSchedule {
        let mut take = |name: &str, v: Option<Option<u64>>| {
            v.unwrap_or_else(|| {
                notes.push(format!(
                    "forks.{name} missing: never active (write null to say so)"
                ));
                None
            })
        };
        let schedule = ForkSchedule {
            eth_tx_type: take("eth_tx_type", self.eth_tx_type),
            magma: take("magma", self.magma),
            randao: take("randao", self.randao),
            prague: take("prague", self.prague),
            osaka: take("osaka", self.osaka),
            kore: self.kore.flatten(),
        };
        // A devnet without a pre-Kore history takes Kore's timing from genesis by design (see
        // `ForkSchedule::kore`); a live chain that leaves it out gets the same, which is worth a word.
        if self.kore.is_none() && kind == ChainKind::Live {
            notes.push("forks.kore missing: Kore's governance timing taken from genesis on".into());
        }
        schedule
    }
}

impl RawSpec {
    pub(super) fn into_loaded(self) -> Result<LoadedSpec, String> {
        let mut notes = Vec::new();
        let devnet = self.kind == ChainKind::Devnet;
        let need = |field: &str, why: &str| {
            format!("{field} is missing: a devnet genesis must name it ({why})")
        };
        if self.name.chars().count() > MAX_NAME {
            return Err(format!("name is over {MAX_NAME} characters"));
        }
        let forks = self.forks.into_schedule(self.kind, &mut notes);
        let block_period = self.block_period.unwrap_or_else(|| {
            notes.push(format!("block_period missing: {DEFAULT_PERIOD} s taken"));
            DEFAULT_PERIOD
        });
        let epoch = self.epoch.unwrap_or_else(|| {
            notes.push(format!("epoch missing: {DEFAULT_EPOCH} taken (Kaia's)"));
            DEFAULT_EPOCH
        });
        let history = self.committee_size_history.unwrap_or_default();
        let committee_size = self.committee_size.unwrap_or_else(|| {
            if history.is_empty() {
                notes.push(
                    "committee_size missing: no committee bound taken (the committee is the \
                     whole council; write null to say so)"
                        .into(),
                );
            }
            None
        });
        let derive_sha = match self.derive_sha {
            Some(d) => d,
            None if devnet => {
                return Err(need(
                    "derive_sha",
                    "block 0's roots and every tx root depend on it",
                ));
            }
            None => {
                notes.push(
                    "derive_sha missing: orig taken (a live chain's tx root is accepted under \
                     any of Kaia's impls)"
                        .into(),
                );
                DeriveShaImpl::Orig
            }
        };
        let council = match self.council {
            Some(c) => c,
            None if devnet => return Err(need("council", "block 0 lists it")),
            None => {
                notes.push(
                    "council missing: each chain's first block's Validators taken as its council"
                        .into(),
                );
                Vec::new()
            }
        };
        let accounts = match self.accounts {
            Some(a) => a,
            None if devnet => return Err(need("accounts", "the state replay starts from them")),
            None => Vec::new(),
        };
        if devnet && self.base_fee.is_none() {
            return Err(need("base_fee", "the state replay charges it"));
        }
        if !devnet && !accounts.is_empty() {
            notes.push(format!(
                "accounts: {} ignored (ranger does not replay a live chain's state)",
                accounts.len()
            ));
        }
        let legacy_keys_only = self.legacy_keys_only.unwrap_or_else(|| {
            notes.push(
                "legacy_keys_only missing: false taken (`from` is not checked against the signer)"
                    .into(),
            );
            false
        });
        let council_governance = self.council_governance.unwrap_or_else(|| {
            notes.push(
                "council_governance missing: true taken (votes and governance data change the council, as on Kaia's chains)"
                    .into(),
            );
            true
        });
        let spec = ChainSpec {
            name: self.name,
            kind: self.kind,
            chain_id: self.chain_id,
            forks,
            block_period,
            epoch,
            committee_size,
            committee_size_history: history,
            committee_size_known_until: self.committee_size_known_until,
            derive_sha,
            council,
            base_fee: self.base_fee,
            accounts,
            legacy_keys_only,
            council_governance,
        };
        spec.check()?;
        Ok(LoadedSpec { spec, notes })
    }
}

impl TryFrom<RawSpec> for ChainSpec {
    type Error = String;
    fn try_from(raw: RawSpec) -> Result<Self, String> {
        raw.into_loaded().map(|l| l.spec)
    }
}

/// Checks that `list` is within `max` entries and names each address once.
fn listed_once<T>(
    list: &[T],
    field: &str,
    max: usize,
    address: impl Fn(&T) -> alloy_primitives::Address,
) -> Result<(), String> {
    if list.len() > max {
        return Err(format!(
            "{field}: {} entries, over the bound of {max}",
            list.len()
        ));
    }
    let mut seen = HashSet::with_capacity(list.len());
    match list
        .iter()
        .enumerate()
        .find(|(_, e)| !seen.insert(address(e)))
    {
        Some((i, e)) => Err(format!("{field}[{i}] ({:#x}): listed twice", address(e))),
        None => Ok(()),
    }
}

/// Checks the council: within [`MAX_COUNCIL`], each member once, and each member's BLS material:
/// a 48-byte key that blst's `key_validate` accepts (on the curve, in the subgroup, not the
/// identity) with a 96-byte proof of possession beside it. The proofs themselves are verified
/// once by `Verifier::build` (a pairing each).
pub(super) fn check_council(council: &[CouncilMember]) -> Result<(), String> {
    listed_once(council, "council", MAX_COUNCIL, |m| m.address)?;
    for (i, m) in council.iter().enumerate() {
        let at = format!("council[{i}] ({:#x})", m.address);
        match (&m.bls_public_key, &m.bls_pop) {
            (None, None) => {}
            (Some(_), None) => return Err(format!("{at}: bls_public_key without bls_pop")),
            (None, Some(_)) => return Err(format!("{at}: bls_pop without bls_public_key")),
            (Some(pk), Some(pop)) => {
                if pk.len() != 48 {
                    return Err(format!(
                        "{at}: bls_public_key is {} bytes, a compressed BLS12-381 G1 key is 48",
                        pk.len()
                    ));
                }
                BlsPublicKey::from_bytes(pk)
                    .map_err(|e| format!("{at}: bls_public_key is not a BLS key: {e}"))?;
                if pop.len() != 96 {
                    return Err(format!(
                        "{at}: bls_pop is {} bytes, a compressed BLS12-381 G2 signature is 96",
                        pop.len()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks the funded accounts: within [`MAX_ACCOUNTS`], each address once.
pub(super) fn check_accounts(accounts: &[GenesisAccount]) -> Result<(), String> {
    listed_once(accounts, "accounts", MAX_ACCOUNTS, |a| a.address)
}

/// A field that is present (even as `null`) becomes `Some`; with `#[serde(default)]` a missing
/// one stays `None`, so a note can name it.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A struct that must be spelled as a JSON object: serde's derive would also fill it from an
/// array, in field order.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(PhantomData)).map(Object)
    }
}

fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Object::deserialize(d).map(|o| o.0)
}

/// A list refused as soon as it passes `max` entries, each entry read by `E`.
struct Bounded<E, T> {
    field: &'static str,
    max: usize,
    unwrap: fn(E) -> T,
}

impl<'de, E: Deserialize<'de>, T> Visitor<'de> for Bounded<E, T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {} entries", self.max)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // The size hint comes from the input: trust it only up to a small allocation.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max).min(1024));
        while let Some(e) = seq.next_element::<E>()? {
            if out.len() == self.max {
                return Err(de::Error::custom(format!(
                    "{}: more than {} entries (the bound of a context file's {})",
                    self.field, self.max, self.field
                )));
            }
            out.push((self.unwrap)(e));
        }
        Ok(out)
    }
}

fn bounded<'de, D: Deserializer<'de>, E: Deserialize<'de>, T>(
    d: D,
    field: &'static str,
    max: usize,
    unwrap: fn(E) -> T,
) -> Result<Option<Vec<T>>, D::Error> {
    d.deserialize_seq(Bounded { field, max, unwrap }).map(Some)
}

fn council<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<CouncilMember>>, D::Error> {
    bounded(d, "council", MAX_COUNCIL, |o: Object<CouncilMember>| o.0)
}

fn accounts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<GenesisAccount>>, D::Error> {
    bounded(d, "accounts", MAX_ACCOUNTS, |o: Object<GenesisAccount>| o.0)
}

fn history<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<(u64, u64)>>, D::Error> {
    bounded(d, "committee_size_history", MAX_HISTORY, |p: (u64, u64)| p)
}
