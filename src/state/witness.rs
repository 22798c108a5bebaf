//! A block's state witness and its stateless replay: the state-trie nodes that prove every
//! account a block touches against its parent's state root, enough for a checker without the
//! state to replay the block and compare the header's gasUsed, receiptsRoot and stateRoot.
//!
//! Invariants:
//! - The replay runs the very rules of `StateReplayer` (`run_txs`) on the accounts the witness
//!   proves; only where the new state root is computed differs (a `PartialTrie`). So it finds the
//!   faults a full replay finds, in the same order, or fails with a `WitnessError`.
//! - A witness that lacks a node the replay needs gives `Incomplete`; a node that does not hash
//!   into the trie of the parent root gives `Trie(Stray)`: never a wrong root, never a panic.
//! - The encoding is canonical: an RLP list of the nodes as byte strings, in strictly ascending
//!   byte order (sorted, no duplicates); a decoder refuses any other order.

use super::{StateError, StateReplayer, TxParties, header_faults, receipts_root, rules};
use crate::consensus::{ChainSpec, Fault};
use crate::crypto::{Backend, keccak256};
use crate::primitives::{Header, Transaction};
use crate::trie::{PartialError, PartialTrie};
use alloy_primitives::{Address, B256};
use alloy_rlp::{Decodable, Encodable};

/// The state-trie nodes proving a set of accounts against one state root, each once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Witness {
    /// RLP encodings of trie nodes, in strictly ascending byte order.
    pub nodes: Vec<Vec<u8>>,
}

impl Witness {
    /// The witness made of the nodes of `proofs` (as `MerklePatriciaTrie::prove` gives them),
    /// sorted and deduplicated: paths share their upper nodes.
    pub fn from_proofs(proofs: impl IntoIterator<Item = Vec<Vec<u8>>>) -> Self {
        let mut nodes: Vec<Vec<u8>> = proofs.into_iter().flatten().collect();
        nodes.sort_unstable();
        nodes.dedup();
        Self { nodes }
    }

    /// The canonical encoding.
    pub fn to_rlp(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.length());
        self.encode(&mut out);
        out
    }

    /// Decodes exactly `bytes` (nothing may follow the list).
    pub fn from_rlp(mut bytes: &[u8]) -> Result<Self, alloy_rlp::Error> {
        let w = Self::decode(&mut bytes)?;
        if !bytes.is_empty() {
            return Err(alloy_rlp::Error::Custom("bytes after the witness"));
        }
        Ok(w)
    }

    /// Bytes of the canonical encoding: what the witness adds to a report.
    pub fn size(&self) -> usize {
        self.length()
    }

    fn payload_length(&self) -> usize {
        self.nodes.iter().map(|n| n.as_slice().length()).sum()
    }
}

impl Encodable for Witness {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        alloy_rlp::Header {
            list: true,
            payload_length: self.payload_length(),
        }
        .encode(out);
        for n in &self.nodes {
            n.as_slice().encode(out);
        }
    }

    fn length(&self) -> usize {
        let p = self.payload_length();
        p + alloy_rlp::length_of_length(p)
    }
}

impl Decodable for Witness {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let mut payload = alloy_rlp::Header::decode_bytes(buf, true)?;
        let mut nodes: Vec<Vec<u8>> = Vec::new();
        while !payload.is_empty() {
            let node = alloy_rlp::Header::decode_bytes(&mut payload, false)?;
            if nodes.last().is_some_and(|last| last.as_slice() >= node) {
                return Err(alloy_rlp::Error::Custom(
                    "witness nodes not in strictly ascending order",
                ));
            }
            nodes.push(node.to_vec());
        }
        Ok(Self { nodes })
    }
}

/// Why a stateless replay could not judge a block (the witness's failing, never the block's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error("the witness does not fit the parent state root: {0}")]
    Trie(#[from] PartialError),
    #[error("the witness lacks state-trie node {hash}, on the path of account {address:#x}")]
    Incomplete { address: Address, hash: B256 },
    #[error("account {address:#x} in the witness is not a devnet account: {reason}")]
    Account {
        address: Address,
        reason: rules::AccountDecodeError,
    },
    #[error(transparent)]
    State(#[from] StateError),
}

/// Replays a block from its parent's state root and a witness alone: the faults
/// `StateReplayer::apply_txs` gives for the same block from the full parent state (per
/// transaction nonce and balance faults, then gasUsed, receiptsRoot, stateRoot). `txs` and
/// `parties` are the transactions the block may apply, as for `apply_txs`.
pub fn replay_stateless(
    spec: &ChainSpec,
    parent_state_root: B256,
    header: &Header,
    txs: &[Transaction],
    parties: &[TxParties],
    witness: &Witness,
    backend: &dyn Backend,
) -> Result<Vec<Fault>, WitnessError> {
    let mut trie = PartialTrie::from_nodes(parent_state_root, &witness.nodes, backend)?;
    let addresses = super::touched_accounts(txs, parties, header.rewardbase);
    let mut accounts = Vec::with_capacity(addresses.len());
    for &address in &addresses {
        let key = keccak256(address.as_slice());
        let value = trie
            .get(key.as_slice())
            .map_err(|u| WitnessError::Incomplete {
                address,
                hash: u.hash,
            })?;
        if let Some(v) = value {
            let (nonce, balance) = rules::decode_account(v)
                .map_err(|reason| WitnessError::Account { address, reason })?;
            accounts.push((address, super::Account { nonce, balance }));
        }
    }
    let mut state = StateReplayer::from_accounts(spec, accounts)?;
    state.mark_saved();
    let (faults, gas_used, receipts) = state.run_txs(txs, parties, header.rewardbase);
    for (address, a) in state.take_unsaved() {
        let key = keccak256(address.as_slice());
        trie.insert(key.as_slice(), rules::encode_account(a.nonce, a.balance))
            .map_err(|u| WitnessError::Incomplete {
                address,
                hash: u.hash,
            })?;
    }
    let receipts_root = receipts_root(state.derive_sha_impl(), &receipts, backend);
    let out = super::BlockOutcome {
        faults,
        gas_used,
        receipts,
        receipts_root,
        state_root: trie.root_hash(backend),
    };
    Ok(header_faults(out, header))
}
