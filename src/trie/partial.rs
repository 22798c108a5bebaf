//! A Merkle-Patricia trie rebuilt from proof nodes alone: the subtrees the nodes open are real
//! nodes, everything else stays a hash (a stub). It reads, inserts and recomputes the root like the
//! full trie (the same arena and code), so a stateless replay gets the root a full replay gets.
//!
//! Invariants:
//! - Built only from nodes that hash to the references their parents hold, from the given root
//!   down, so the trie's root is that root before any change.
//! - A read or an insert that would need a stub is refused (`Unresolved`) before anything
//!   changes: a missing node gives an error, never a wrong value or root.

use super::mpt::MerklePatriciaTrie;
use super::node::{BRANCH_WIDTH, Node, NodeId, NodeRef};
use super::proof::{NodeError, RawNode, RawRef, decode_node};
use crate::crypto::{Backend, MessageBatch};
use alloy_primitives::B256;
use std::collections::HashMap;

/// Why proof nodes do not make a partial trie.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartialError {
    #[error("node {hash} is not a trie node: {reason}")]
    Malformed { hash: B256, reason: NodeError },
    #[error("node {hash} is under 32 bytes but referenced by hash: it must be embedded")]
    ShortHashed { hash: B256 },
    #[error(
        "node {hash} hangs from no node on a path from the root {root}: it was altered, or belongs \
         to another trie"
    )]
    Stray { hash: B256, root: B256 },
}

/// The path to a key reaches a part of the trie the nodes did not include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the key's path reaches node {hash}, which the proof nodes do not include")]
pub struct Unresolved {
    pub hash: B256,
}

/// A node to open: the slot that holds its placeholder, its encoding, whether its parent
/// referenced it by hash, and the hash of the nearest hashed node holding it (for errors).
struct Open<'a> {
    id: NodeId,
    enc: &'a [u8],
    hashed: bool,
    at: B256,
}

/// A placeholder for the child `r` of the node hashed `at`: a stub, queued to be opened when its
/// encoding is known (embedded, or among the nodes not opened yet).
fn open_child<'a>(
    r: RawRef<'a>,
    at: B256,
    trie: &mut MerklePatriciaTrie,
    work: &mut Vec<Open<'a>>,
    unopened: &mut HashMap<B256, &'a [u8]>,
) -> NodeId {
    match r {
        RawRef::Hash(h) => {
            let id = trie.alloc_clean(Node::Stub(h), NodeRef::Hash(h));
            if let Some(enc) = unopened.remove(&h) {
                work.push(Open {
                    id,
                    enc,
                    hashed: true,
                    at: h,
                });
            }
            id
        }
        RawRef::Inline(enc) => {
            // `decode_node` only gives embedded encodings under 32 bytes, so `inline` is `Some`.
            let cache = NodeRef::inline(enc).unwrap_or(NodeRef::Hash(at));
            let id = trie.alloc_clean(Node::Stub(at), cache);
            work.push(Open {
                id,
                enc,
                hashed: false,
                at,
            });
            id
        }
    }
}

/// A trie of which only the nodes of some proofs are known.
#[derive(Debug)]
pub struct PartialTrie {
    trie: MerklePatriciaTrie,
}

impl PartialTrie {
    /// The trie of root `root` as far as `nodes` (any order, each once) open it. The root's node
    /// must be among them unless `root` is the empty trie's. Every node must hang from the root:
    /// a node that does not is `Stray` (an altered node hashes to what no parent names).
    pub fn from_nodes(
        root: B256,
        nodes: &[Vec<u8>],
        backend: &dyn Backend,
    ) -> Result<Self, PartialError> {
        let mut trie = MerklePatriciaTrie::new();
        if nodes.is_empty() {
            if root != super::EMPTY_ROOT_HASH {
                let id = trie.alloc_clean(Node::Stub(root), NodeRef::Hash(root));
                trie.set_clean_root(id, root);
            }
            return Ok(Self { trie });
        }
        let mut batch =
            MessageBatch::with_capacity(nodes.len(), nodes.iter().map(Vec::len).sum::<usize>());
        for n in nodes {
            batch.push(n);
        }
        let hashes = backend.keccak_batch(&batch);
        assert_eq!(
            hashes.len(),
            nodes.len(),
            "backend {} dropped hashes",
            backend.name()
        );
        // A node is opened once: a second reference to the same hash stays a stub, so hostile
        // nodes that name one child many times cannot make the trie blow up. (Two equal subtrees
        // at two places need equal key suffixes and values: not in a keccak-keyed state trie.)
        let mut unopened: HashMap<B256, &[u8]> = hashes
            .iter()
            .copied()
            .zip(nodes.iter().map(Vec::as_slice))
            .collect();

        let root_enc = unopened.remove(&root);
        // A small root is hashed anyway, but as the trie's root it keeps its embedded reference.
        let root_cache = root_enc
            .and_then(NodeRef::inline)
            .unwrap_or(NodeRef::Hash(root));
        let root_id = trie.alloc_clean(Node::Stub(root), root_cache);
        trie.set_clean_root(root_id, root);
        let mut work: Vec<Open<'_>> = Vec::new();
        if let Some(enc) = root_enc {
            work.push(Open {
                id: root_id,
                enc,
                hashed: false,
                at: root,
            });
        }
        while let Some(Open {
            id,
            enc,
            hashed,
            at,
        }) = work.pop()
        {
            if hashed && enc.len() < 32 {
                return Err(PartialError::ShortHashed { hash: at });
            }
            let raw =
                decode_node(enc).map_err(|reason| PartialError::Malformed { hash: at, reason })?;
            let node = match raw {
                RawNode::Leaf { path, value } => Node::Leaf {
                    path,
                    value: value.to_vec(),
                },
                RawNode::Extension { path, child: r } => Node::Extension {
                    path,
                    child: open_child(r, at, &mut trie, &mut work, &mut unopened),
                },
                RawNode::Branch {
                    children: refs,
                    value,
                } => {
                    let mut children = [None; BRANCH_WIDTH];
                    for (c, r) in children.iter_mut().zip(refs) {
                        *c = r.map(|r| open_child(r, at, &mut trie, &mut work, &mut unopened));
                    }
                    Node::Branch {
                        children,
                        value: value.to_vec(),
                    }
                }
            };
            trie.replace_clean(id, node);
        }
        if let Some(&hash) = unopened.keys().min() {
            return Err(PartialError::Stray { hash, root });
        }
        Ok(Self { trie })
    }

    /// The value under `key`, `None` when the nodes prove it absent.
    pub fn get(&self, key: &[u8]) -> Result<Option<&[u8]>, Unresolved> {
        self.trie.lookup(key).map_err(|hash| Unresolved { hash })
    }

    /// Sets `key` to `value` and returns the previous value. An empty value changes nothing: a
    /// partial trie does not remove, since joining a branch's last sibling needs that sibling's
    /// node. Refused,
    /// with nothing changed, when the key's path reaches a node not included.
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>) -> Result<Option<Vec<u8>>, Unresolved> {
        let current = self.get(key)?;
        if value.is_empty() {
            // Not a removal: the value stays, and the caller sees it did.
            return Ok(current.map(<[u8]>::to_vec));
        }
        Ok(self.trie.insert(key, value))
    }

    /// The root hash, rehashing only what changed.
    pub fn root_hash(&mut self, backend: &dyn Backend) -> B256 {
        self.trie.root_hash(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CpuBackend, keccak256};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    /// The nodes proving `keys` in `t`, each once.
    fn witness(t: &mut MerklePatriciaTrie, keys: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut nodes: Vec<Vec<u8>> = keys.iter().flat_map(|k| t.prove(k, &CpuBackend)).collect();
        nodes.sort();
        nodes.dedup();
        nodes
    }

    /// A state-like trie (keccak keys, account-sized values): a partial trie of a few proven keys
    /// reads them, updates them and adds new keys (splitting leaves and extensions on their
    /// paths) to the root the full trie gets; any other key is `Unresolved`.
    #[test]
    fn partial_updates_match_the_full_trie() {
        let mut rng = StdRng::seed_from_u64(3);
        let keys: Vec<Vec<u8>> = (0..2000u32)
            .map(|i| keccak256(&i.to_be_bytes()).to_vec())
            .collect();
        let mut full = MerklePatriciaTrie::new();
        for k in &keys {
            full.insert(k, vec![rng.random(); 70]);
        }
        let root = full.root_hash(&CpuBackend);
        let touched: Vec<Vec<u8>> = keys[..20]
            .iter()
            .cloned()
            .chain((5000..5030u32).map(|i| keccak256(&i.to_be_bytes()).to_vec()))
            .collect();
        let nodes = witness(&mut full, &touched);
        let mut partial = PartialTrie::from_nodes(root, &nodes, &CpuBackend).unwrap();
        assert_eq!(partial.root_hash(&CpuBackend), root);
        for k in &touched {
            assert_eq!(partial.get(k).unwrap(), full.get(k));
        }
        for (i, k) in touched.iter().enumerate() {
            let v = vec![i as u8; 70];
            assert_eq!(partial.insert(k, v.clone()).unwrap(), full.insert(k, v));
        }
        assert_eq!(partial.root_hash(&CpuBackend), full.root_hash(&CpuBackend));
        let unproven = &keys[1000];
        assert!(partial.get(unproven).is_err());
        let before = partial.root_hash(&CpuBackend);
        assert!(partial.insert(unproven, vec![1; 70]).is_err());
        assert_eq!(
            partial.root_hash(&CpuBackend),
            before,
            "a refused insert changes nothing"
        );
    }

    #[test]
    fn broken_nodes_are_refused() {
        let mut full = MerklePatriciaTrie::new();
        for i in 0..300u32 {
            full.insert(keccak256(&i.to_be_bytes()).as_slice(), vec![7; 70]);
        }
        let root = full.root_hash(&CpuBackend);
        let k = keccak256(&1u32.to_be_bytes()).to_vec();
        let nodes = witness(&mut full, &[k]);
        let mut flipped = nodes.clone();
        flipped[0][5] ^= 1;
        assert!(matches!(
            PartialTrie::from_nodes(root, &flipped, &CpuBackend),
            Err(PartialError::Stray { .. })
        ));
        // No nodes: the root itself is a stub.
        let p = PartialTrie::from_nodes(root, &[], &CpuBackend).unwrap();
        assert_eq!(p.get(b"x"), Err(Unresolved { hash: root }));
        // A node that hashes to the root but is not a trie node.
        let junk = vec![0xc3, 0x80, 0x80, 0x80];
        assert!(matches!(
            PartialTrie::from_nodes(keccak256(&junk), &[junk], &CpuBackend),
            Err(PartialError::Malformed { .. })
        ));
        // A small leaf referenced by hash: a hostile, non-canonical parent.
        let leaf = vec![0xc4, 0x82, 0x20, 0x61, 0x62];
        let mut ext = vec![0xe2, 0x11];
        ext.push(0xa0);
        ext.extend_from_slice(keccak256(&leaf).as_slice());
        assert!(matches!(
            PartialTrie::from_nodes(keccak256(&ext), &[ext.clone(), leaf], &CpuBackend),
            Err(PartialError::ShortHashed { .. })
        ));
        let empty = PartialTrie::from_nodes(crate::trie::EMPTY_ROOT_HASH, &[], &CpuBackend);
        assert_eq!(empty.unwrap().get(b"x"), Ok(None));
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop::sample::select(vec![0x00u8, 0x01, 0x10, 0x12, 0xff]),
            0..5,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Short keys and small values (embedded nodes everywhere): inserting the proven keys,
        /// new or not, in a partial trie gives the full trie's root.
        #[test]
        fn partial_inserts_match(
            entries in prop::collection::btree_map(key(), prop::collection::vec(any::<u8>(), 1..36), 0..20),
            updates in prop::collection::vec((key(), prop::collection::vec(any::<u8>(), 1..36)), 1..6),
        ) {
            let mut full = MerklePatriciaTrie::new();
            for (k, v) in &entries {
                full.insert(k, v.clone());
            }
            let root = full.root_hash(&CpuBackend);
            let keys: Vec<Vec<u8>> = updates.iter().map(|(k, _)| k.clone()).collect();
            let nodes = witness(&mut full, &keys);
            let mut partial = PartialTrie::from_nodes(root, &nodes, &CpuBackend).unwrap();
            prop_assert_eq!(partial.root_hash(&CpuBackend), root);
            for (k, v) in updates {
                prop_assert_eq!(partial.insert(&k, v.clone()).unwrap(), full.insert(&k, v));
            }
            prop_assert_eq!(partial.root_hash(&CpuBackend), full.root_hash(&CpuBackend));
        }
    }
}
