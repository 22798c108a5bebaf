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
