//! An Ethereum-compatible hexary Merkle-Patricia trie that rehashes incrementally, in batches.
//!
//! Nodes live in an arena (`Vec` of slots with a free list); each slot caches the node's
//! reference (hash, or inline encoding when shorter than 32 bytes). Invariant: a slot whose cache
//! is set has a subtree that is entirely unchanged since that cache was computed, because every
//! update clears the cache of each node on the path from the root to the change. `root_hash`
//! therefore visits only the uncached nodes, and hashes them level by level, deepest first, with
//! one `Backend::keccak_batch` call per level.

use super::node::{BRANCH_WIDTH, NodeId, NodeRef, common_prefix, encode_node, to_nibbles};
use crate::crypto::{Backend, MessageBatch};
use alloy_primitives::{B256, b256};

/// Root of the empty trie: keccak256 of the RLP empty string (0x80).
pub const EMPTY_ROOT_HASH: B256 =
    b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

/// Bytes reserved per message in a level's batch: a leaf holding a 32-byte-key account is about
/// 110 bytes, a full branch 532; 128 keeps most levels to one allocation.
const BATCH_BYTES_PER_NODE: usize = 128;

use super::node::Node;

/// The arena slot of a node.
fn arena_index(id: NodeId) -> usize {
    id.get() as usize - 1
}

/// What an insert found under its key.
#[derive(Debug)]
enum Old {
    /// No value.
    Absent,
    /// This value, now replaced.
    Replaced(Vec<u8>),
    /// The value being inserted, already there: nothing changed.
    Unchanged(Vec<u8>),
}

/// One arena slot: a node and its cached reference (`None` = dirty).
#[derive(Debug, Default)]
struct Slot {
    node: Node,
    cache: Option<NodeRef>,
}

/// A Merkle-Patricia trie over byte keys and byte values, with the Ethereum root.
///
/// Empty values are not stored: `insert(k, vec![])` removes `k`, as in go-ethereum's
/// `Trie.Update`.
#[derive(Debug, Default)]
pub struct MerklePatriciaTrie {
    slots: Vec<Slot>,
    free: Vec<NodeId>,
    root: Option<NodeId>,
    len: usize,
    /// keccak of the root encoding when that encoding is shorter than 32 bytes (the root is
    /// always hashed, though as a child it would be embedded). Valid while the root is clean.
    small_root: Option<B256>,
}

impl MerklePatriciaTrie {
    /// An empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the trie holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        // Only a `PartialTrie` holds stubs, and it asks through `lookup`.
        self.lookup(key).unwrap_or(None)
    }

    /// The value stored under `key`, or `Err(hash)` when the path reaches a subtree known only by
    /// its hash (a stub of a `PartialTrie`). The nodes visited are exactly those an `insert` of
    /// `key` changes, so `Ok` here means an insert of `key` touches no stub.
    pub(super) fn lookup(&self, key: &[u8]) -> Result<Option<&[u8]>, B256> {
        let nibbles = to_nibbles(key);
        let mut path = nibbles.as_slice();
        let Some(mut id) = self.root else {
            return Ok(None);
        };
        loop {
            match &self.slot(id).node {
                Node::Leaf { path: lp, value } => {
                    return Ok((lp.as_slice() == path).then_some(value.as_slice()));
                }
                Node::Extension { path: ep, child } => {
                    let Some(rest) = path.strip_prefix(ep.as_slice()) else {
                        return Ok(None);
                    };
                    path = rest;
                    id = *child;
                }
                Node::Branch { children, value } => match path.split_first() {
                    None => return Ok((!value.is_empty()).then_some(value.as_slice())),
                    Some((n, rest)) => {
                        let Some(c) = children[usize::from(*n)] else {
                            return Ok(None);
                        };
                        id = c;
                        path = rest;
                    }
                },
                Node::Stub(h) => return Err(*h),
            }
        }
    }

    /// Sets `key` to `value` and returns the previous value. An empty `value` removes the key.
    /// Setting a key to the value it already has changes nothing (no rehash).
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>) -> Option<Vec<u8>> {
        if value.is_empty() {
            return self.remove(key);
        }
        let (root, old) = self.insert_at(self.root, &to_nibbles(key), value);
        self.root = Some(root);
        match old {
            Old::Unchanged(v) | Old::Replaced(v) => Some(v),
            Old::Absent => {
                self.len += 1;
                None
            }
        }
    }

    /// Removes `key` and returns its value; a missing key changes nothing.
    pub fn remove(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        let root = self.root?;
        let (root, old) = self.remove_at(root, &to_nibbles(key))?;
        self.root = root;
        self.len -= 1;
        Some(old)
    }

    /// The root hash. Rehashes only the nodes changed since the last call, one
    /// `backend.keccak_batch` per trie level, deepest level first.
    pub fn root_hash(&mut self, backend: &dyn Backend) -> B256 {
        let Some(root) = self.root else {
            return EMPTY_ROOT_HASH;
        };
        if self.slot(root).cache.is_none() {
            self.rehash_dirty(root, backend);
        }
        match self.slot(root).cache {
            Some(NodeRef::Hash(h)) => h,
            Some(NodeRef::Inline { .. }) => match self.small_root {
                Some(h) => h,
                None => unreachable!("a small root's hash is set whenever the root is rehashed"),
            },
            None => unreachable!("rehash_dirty leaves the root clean"),
        }
    }

    /// Hashes every dirty node reachable from `root`.
    fn rehash_dirty(&mut self, root: NodeId, backend: &dyn Backend) {
        // Dirty nodes by depth. Clean nodes are not entered: their subtrees are clean.
        let mut levels: Vec<Vec<NodeId>> = Vec::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((id, depth)) = stack.pop() {
            if levels.len() <= depth {
                levels.resize_with(depth + 1, Vec::new);
            }
            levels[depth].push(id);
            let mut push = |c: NodeId| {
                if self.slot(c).cache.is_none() {
                    stack.push((c, depth + 1));
                }
            };
            match &self.slot(id).node {
                // A stub is always clean, so it is never pushed.
                Node::Leaf { .. } | Node::Stub(_) => {}
                Node::Extension { child, .. } => push(*child),
                Node::Branch { children, .. } => children.iter().flatten().for_each(|c| push(*c)),
            }
        }

        let mut scratch = Vec::new();
        let mut enc = Vec::new();
        let mut hashed = Vec::new();
        for level in levels.iter().rev() {
            let mut batch =
                MessageBatch::with_capacity(level.len(), level.len() * BATCH_BYTES_PER_NODE);
            hashed.clear();
            for &id in level {
                enc.clear();
                encode_node(
                    &self.slot(id).node,
                    |c| self.cached_ref(c),
                    &mut scratch,
                    &mut enc,
                );
                match NodeRef::inline(&enc) {
                    Some(r) => {
                        self.slot_mut(id).cache = Some(r);
                        if id == root {
                            // The root is hashed whatever its size.
                            hashed.push(id);
                            batch.push(&enc);
                        }
                    }
                    None => {
                        hashed.push(id);
                        batch.push(&enc);
                    }
                }
            }
            if batch.is_empty() {
                continue;
            }
            let hashes = backend.keccak_batch(&batch);
            assert_eq!(
                hashes.len(),
                hashed.len(),
                "backend {} dropped hashes",
                backend.name()
            );
            for (&id, h) in hashed.iter().zip(hashes) {
                let slot = self.slot_mut(id);
                if matches!(slot.cache, Some(NodeRef::Inline { .. })) {
                    // Only the root gets here: keep its inline reference, remember its hash.
                    self.small_root = Some(h);
                } else {
                    slot.cache = Some(NodeRef::Hash(h));
                }
            }
        }
    }

    /// The reference of a child being encoded into its parent.
    fn cached_ref(&self, id: NodeId) -> NodeRef {
        match self.slot(id).cache {
            Some(r) => r,
            None => unreachable!("child {id} is deeper than its parent, so it was hashed first"),
        }
    }

    fn slot(&self, id: NodeId) -> &Slot {
        &self.slots[arena_index(id)]
    }

    fn slot_mut(&mut self, id: NodeId) -> &mut Slot {
        &mut self.slots[arena_index(id)]
    }

    /// Stores a new (dirty) node.
    fn alloc(&mut self, node: Node) -> NodeId {
        let slot = Slot { node, cache: None };
        match self.free.pop() {
            Some(id) => {
                *self.slot_mut(id) = slot;
                id
            }
            None => {
                // Ids count from one, so that `Option<NodeId>` takes four bytes.
                let id = u32::try_from(self.slots.len() + 1)
                    .ok()
                    .and_then(NodeId::new)
                    .unwrap_or_else(|| panic!("trie arena over 2^32 − 1 nodes"));
                self.slots.push(slot);
                id
            }
        }
    }

    /// Returns a slot to the free list, dropping its node's memory.
    fn release(&mut self, id: NodeId) {
        *self.slot_mut(id) = Slot::default();
        self.free.push(id);
    }

    /// Moves a node out of its slot (the cache is left as it was).
    fn take(&mut self, id: NodeId) -> Node {
        std::mem::take(&mut self.slot_mut(id).node)
    }

    /// Puts back a node taken and not changed: its cache stays valid.
    fn restore(&mut self, id: NodeId, node: Node) {
        self.slot_mut(id).node = node;
    }

    /// Stores a changed node: its cache is cleared.
    fn put(&mut self, id: NodeId, node: Node) {
        *self.slot_mut(id) = Slot { node, cache: None };
    }

    /// Inserts into the subtree at `id` (or a new one); returns the subtree's top node, which is
    /// `id` itself when `id` was given, and what was there before. One walk down the key's path:
    /// a branch or extension the path passes through is changed in place (its cache cleared
    /// only when something below it changed), and a leaf that already holds `value` is left
    /// clean, as are the nodes above it.
    fn insert_at(&mut self, id: Option<NodeId>, path: &[u8], value: Vec<u8>) -> (NodeId, Old) {
        let Some(id) = id else {
            let leaf = Node::Leaf {
                path: path.to_vec(),
                value,
            };
            return (self.alloc(leaf), Old::Absent);
        };
        // Passing through: the child keeps its id (or a new one takes an empty slot), so only
        // this node's cache, and the empty slot, change.
        let through = match (&self.slot(id).node, path.split_first()) {
            (Node::Branch { children, .. }, Some((&n, rest))) => {
                Some((children[usize::from(n)], rest, Some(usize::from(n))))
            }
            (Node::Extension { path: ep, child }, _) if path.starts_with(ep) => {
                Some((Some(*child), &path[ep.len()..], None))
            }
            _ => None,
        };
        if let Some((child, rest, slot)) = through {
            let (below, old) = self.insert_at(child, rest, value);
            if !matches!(old, Old::Unchanged(_)) {
                let s = self.slot_mut(id);
                s.cache = None;
                if let (Node::Branch { children, .. }, Some(n)) = (&mut s.node, slot) {
                    children[n] = Some(below);
                }
            }
            return (id, old);
        }
        match self.take(id) {
            Node::Leaf {
                path: lp,
                value: lv,
            } => {
                if lp == path {
                    if lv == value {
                        self.restore(
                            id,
                            Node::Leaf {
                                path: lp,
                                value: lv,
                            },
                        );
                        return (id, Old::Unchanged(value));
                    }
                    self.put(id, Node::Leaf { path: lp, value });
                    return (id, Old::Replaced(lv));
                }
                let c = common_prefix(&lp, path);
                let mut children = [None; BRANCH_WIDTH];
                let mut branch_value = Vec::new();
                // `lp != path`, so at most one of the two ends at the fork.
                for (p, v) in [(lp.as_slice(), lv), (path, value)] {
                    match p.get(c) {
                        None => branch_value = v,
                        Some(&n) => {
                            let leaf = Node::Leaf {
                                path: p[c + 1..].to_vec(),
                                value: v,
                            };
                            children[usize::from(n)] = Some(self.alloc(leaf));
                        }
                    }
                }
                self.put_fork(
                    id,
                    &path[..c],
                    Node::Branch {
                        children,
                        value: branch_value,
                    },
                );
                (id, Old::Absent)
            }
            Node::Extension { path: ep, child } => {
                // The key does not pass through (that was taken above): it leaves the
                // extension at nibble `c`, so fork there.
                let c = common_prefix(&ep, path);
                let mut children = [None; BRANCH_WIDTH];
                let mut branch_value = Vec::new();
                let below = if ep.len() == c + 1 {
                    child
                } else {
                    self.alloc(Node::Extension {
                        path: ep[c + 1..].to_vec(),
                        child,
                    })
                };
                children[usize::from(ep[c])] = Some(below);
                match path.get(c) {
                    None => branch_value = value,
                    Some(&n) => {
                        let leaf = Node::Leaf {
                            path: path[c + 1..].to_vec(),
                            value,
                        };
                        children[usize::from(n)] = Some(self.alloc(leaf));
                    }
                }
                self.put_fork(
                    id,
                    &ep[..c],
                    Node::Branch {
                        children,
                        value: branch_value,
                    },
                );
                (id, Old::Absent)
            }
            // The key ends at this branch (a longer one passed through above): its value.
            Node::Branch {
                children,
                value: bv,
            } => {
                if bv == value {
                    self.restore(
                        id,
                        Node::Branch {
                            children,
                            value: bv,
                        },
                    );
                    return (id, Old::Unchanged(value));
                }
                self.put(id, Node::Branch { children, value });
                let old = if bv.is_empty() {
                    Old::Absent
                } else {
                    Old::Replaced(bv)
                };
                (id, old)
            }
            Node::Stub(_) => {
                unreachable!("PartialTrie::insert looks the key up first, so it meets no stub")
            }
        }
    }

    /// Stores `branch` at `id`, behind an extension over `prefix` when the prefix is not empty.
    fn put_fork(&mut self, id: NodeId, prefix: &[u8], branch: Node) {
        if prefix.is_empty() {
            self.put(id, branch);
        } else {
            let child = self.alloc(branch);
            self.put(
                id,
                Node::Extension {
                    path: prefix.to_vec(),
                    child,
                },
            );
        }
    }

    /// Removes `path` from the subtree at `id`. `None` when the key is absent (nothing changed);
    /// otherwise the subtree's new top (`id`, or `None` when the subtree is gone) and the value.
    fn remove_at(&mut self, id: NodeId, path: &[u8]) -> Option<(Option<NodeId>, Vec<u8>)> {
        match self.take(id) {
            Node::Leaf { path: lp, value } => {
                if lp == path {
                    self.release(id);
                    Some((None, value))
                } else {
                    self.restore(id, Node::Leaf { path: lp, value });
                    None
                }
            }
            Node::Extension { path: ep, child } => {
                let removed = match path.strip_prefix(ep.as_slice()) {
                    Some(rest) => self.remove_at(child, rest),
                    None => None,
                };
                let Some((new_child, old)) = removed else {
                    self.restore(id, Node::Extension { path: ep, child });
                    return None;
                };
                match new_child {
                    // An extension's child is a branch, which keeps at least one entry; this arm
                    // only keeps the structure sound if that ever changes.
                    None => {
                        self.release(id);
                        Some((None, old))
                    }
                    Some(c) => {
                        self.join(id, ep, c);
                        Some((Some(id), old))
                    }
                }
            }
            Node::Branch {
                mut children,
                value: mut bv,
            } => {
                let old = match path.split_first() {
                    None if bv.is_empty() => None,
                    None => Some(std::mem::take(&mut bv)),
                    Some((&n, rest)) => match children[usize::from(n)] {
                        None => None,
                        Some(c) => self.remove_at(c, rest).map(|(nc, old)| {
                            children[usize::from(n)] = nc;
                            old
                        }),
                    },
                };
                let Some(old) = old else {
                    self.restore(
                        id,
                        Node::Branch {
                            children,
                            value: bv,
                        },
                    );
                    return None;
                };
                let mut live = children
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| Some((i, (*c)?)));
                let first = live.next();
                let more = live.next().is_some();
                match (first, more, bv.is_empty()) {
                    // Still a fork: two children, or a child and a value.
                    (_, true, _) | (Some(_), _, false) => self.put(
                        id,
                        Node::Branch {
                            children,
                            value: bv,
                        },
                    ),
                    (None, _, false) => self.put(
                        id,
                        Node::Leaf {
                            path: Vec::new(),
                            value: bv,
                        },
                    ),
                    (Some((n, c)), false, true) => {
                        // `n < 16`, so it fits in a nibble.
                        self.join(id, vec![n as u8], c)
                    }
                    (None, _, true) => {
                        self.release(id);
                        return Some((None, old));
                    }
                }
                Some((Some(id), old))
            }
            Node::Stub(_) => unreachable!("a PartialTrie never removes, and only it holds stubs"),
        }
    }

    /// Stores at `id` the path `prefix` followed by the node `c`, merging `c` into it when `c` is
    /// a leaf or an extension (a trie never has an extension above those).
    fn join(&mut self, id: NodeId, mut prefix: Vec<u8>, c: NodeId) {
        match self.take(c) {
            Node::Leaf { path, value } => {
                self.release(c);
                prefix.extend_from_slice(&path);
                self.put(
                    id,
                    Node::Leaf {
                        path: prefix,
                        value,
                    },
                );
            }
            Node::Extension { path, child } => {
                self.release(c);
                prefix.extend_from_slice(&path);
                self.put(
                    id,
                    Node::Extension {
                        path: prefix,
                        child,
                    },
                );
            }
            branch @ Node::Branch { .. } => {
                self.restore(c, branch);
                self.put(
                    id,
                    Node::Extension {
                        path: prefix,
                        child: c,
                    },
                );
            }
            Node::Stub(_) => unreachable!("a PartialTrie never removes, and only it holds stubs"),
        }
    }

    /// The root node, if any (proofs start there).
    pub(super) fn root_id(&self) -> Option<NodeId> {
        self.root
    }

    /// The node at `id`.
    pub(super) fn node(&self, id: NodeId) -> &Node {
        &self.slot(id).node
    }

    /// The RLP encoding of the clean node `id` into `out` (cleared first).
    pub(super) fn encode_clean(&self, id: NodeId, scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
        out.clear();
        encode_node(&self.slot(id).node, |c| self.cached_ref(c), scratch, out);
    }

    /// True when the node at `id` is embedded in its parent rather than referenced by hash.
    pub(super) fn is_inline(&self, id: NodeId) -> bool {
        matches!(self.slot(id).cache, Some(NodeRef::Inline { .. }))
    }

    /// Stores a node whose reference is already known (decoded from a proof): it is clean.
    pub(super) fn alloc_clean(&mut self, node: Node, cache: NodeRef) -> NodeId {
        let id = self.alloc(node);
        self.slot_mut(id).cache = Some(cache);
        id
    }

    /// Replaces the node at `id`, keeping its reference: the caller knows the two encode alike
    /// (a placeholder replaced by the node decoded from the bytes its reference was taken from).
    pub(super) fn replace_clean(&mut self, id: NodeId, node: Node) {
        self.slot_mut(id).node = node;
    }

    /// Makes `id` the root of hash `hash` (the trie's keys are not counted: `len` stays as it was).
    pub(super) fn set_clean_root(&mut self, id: NodeId, hash: B256) {
        self.root = Some(id);
        self.small_root = Some(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CpuBackend, RecoverError, RecoverItem, keccak256};
    use crate::trie::reference;
    use alloy_primitives::Address;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A key or value of the ethereum/tests trie files: hex when it starts with "0x", else ASCII.
    fn bytes_of(s: &str) -> Vec<u8> {
        match s.strip_prefix("0x") {
            Some(h) => hex::decode(h).unwrap_or_else(|e| panic!("bad hex {s:?} in a vector: {e}")),
            None => s.as_bytes().to_vec(),
        }
    }

    /// Applies `ops` in order (a `None` value deletes) and returns the root.
    fn root_after(ops: &[(&str, Option<&str>)]) -> B256 {
        let mut t = MerklePatriciaTrie::new();
        for (k, v) in ops {
            match v {
                Some(v) => t.insert(&bytes_of(k), bytes_of(v)),
                None => t.remove(&bytes_of(k)),
            };
        }
        t.root_hash(&CpuBackend)
    }

    fn h(s: &str) -> B256 {
        s.parse().unwrap_or_else(|e| panic!("bad hash {s:?}: {e}"))
    }

    #[test]
    fn empty_trie_root() {
        assert_eq!(EMPTY_ROOT_HASH, keccak256(&[0x80]));
        assert_eq!(
            MerklePatriciaTrie::new().root_hash(&CpuBackend),
            EMPTY_ROOT_HASH
        );
    }

    /// go-ethereum trie_test.go TestInsert and the ethereum wiki's "dogs".
    #[test]
    fn known_roots_small() {
        let dogs = [
            ("doe", Some("reindeer")),
            ("dog", Some("puppy")),
            ("dogglesworth", Some("cat")),
        ];
        assert_eq!(
            root_after(&dogs),
            h("8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3")
        );
        assert_eq!(
            root_after(&[("doe", Some("reindeer"))]),
            h("11a0327cfcc5b7689b6b6d727e1f5f8846c1137caaa9fc871ba31b7cce1b703e")
        );
        let a50 = "a".repeat(50);
        assert_eq!(
            root_after(&[("A", Some(&a50))]),
            h("d23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab")
        );
    }

    /// A single short key: the root encoding is 5 bytes (hand-encoded below) and is still hashed.
    #[test]
    fn single_key_with_small_root() {
        let mut t = MerklePatriciaTrie::new();
        t.insert(b"a", b"b".to_vec());
        assert_eq!(
            t.root_hash(&CpuBackend),
            keccak256(&[0xc4, 0x82, 0x20, 0x61, 0x62])
        );
        // Growing the small root into a child of a bigger trie must not reuse its root hash.
        t.insert(b"ab", vec![9; 40]);
        let mut model = BTreeMap::new();
        model.insert(b"a".to_vec(), b"b".to_vec());
        model.insert(b"ab".to_vec(), vec![9; 40]);
        assert_eq!(t.root_hash(&CpuBackend), reference::root(&model));
    }

    /// ethereum/tests TrieTests/trietest.json.
    #[test]
    fn ethereum_tests_trietest() {
        let empty_values = [
            ("do", Some("verb")),
            ("ether", Some("wookiedoo")),
            ("horse", Some("stallion")),
            ("shaman", Some("horse")),
            ("doge", Some("coin")),
            ("ether", None),
            ("dog", Some("puppy")),
            ("shaman", None),
        ];
        assert_eq!(
            root_after(&empty_values),
            h("5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84")
        );

        let addrs = [
            "0x04110d816c380812a427968ece99b1c963dfbce6",
            "0x095e7baea6a6c7c4c2dfeb977efac326af552d87",
            "0x0a517d755cebbf66312b30fff713666a9cb917e0",
            "0x24dd378f51adc67a50e339e8031fe9bd4aafab36",
            "0x293f982d000532a7861ab122bdc4bbfd26bf9030",
            "0x2cf5732f017b0cf1b1f13a1478e10239716bf6b5",
            "0x31c640b92c21a1f1465c91070b4b3b4d6854195f",
            "0x37f998764813b136ddf5a754f34063fd03065e36",
            "0x37fa399a749c121f8a15ce77e3d9f9bec8020d7a",
            "0x4f36659fa632310b6ec438dea4085b522a2dd077",
            "0x62c01474f089b07dae603491675dc5b5748f7049",
            "0x729af7294be595a0efd7d891c9e51f89c07950c7",
            "0x83e3e5a16d3b696a0314b30b2534804dd5e11197",
            "0x8703df2417e0d7c59d063caa9583cb10a4d20532",
            "0x8dffcd74e5b5923512916c6a64b502689cfa65e1",
            "0x95a4d7cccb5204733874fa87285a176fe1e9e240",
            "0x99b2fcba8120bedd048fe79f5262a6690ed38c39",
            "0xa4202b8b8afd5354e3e40a219bdc17f6001bf2cf",
            "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
            "0xa9647f4a0a14042d91dc33c0328030a7157c93ae",
            "0xaa6cffe5185732689c18f37a7f86170cb7304c2a",
            "0xaae4a2e3c51c04606dcb3723456e58f3ed214f45",
            "0xc37a43e940dfb5baf581a0b82b351d48305fc885",
            "0xd2571607e241ecf590ed94b12d87c94babe36db6",
            "0xf735071cbee190d76b704ce68384fc21e389fbe7",
        ];
        let mut branching: Vec<(&str, Option<&str>)> =
            addrs.iter().map(|a| (*a, Some("something"))).collect();
        // Before the deletions the trie is not empty: the vector would pass trivially otherwise.
        assert_ne!(root_after(&branching), EMPTY_ROOT_HASH);
        branching.extend(addrs.iter().map(|a| (*a, None)));
        assert_eq!(root_after(&branching), EMPTY_ROOT_HASH);

        let jeff = [
            (
                "0x0000000000000000000000000000000000000000000000000000000000000045",
                Some("0x22b224a1420a802ab51d326e29fa98e34c4f24ea"),
            ),
            (
                "0x0000000000000000000000000000000000000000000000000000000000000046",
                Some("0x67706c2076330000000000000000000000000000000000000000000000000000"),
            ),
            (
                "0x0000000000000000000000000000000000000000000000000000001234567890",
                Some("0x697c7b8c961b56f675d570498424ac8de1a918f6"),
            ),
            (
                "0x000000000000000000000000697c7b8c961b56f675d570498424ac8de1a918f6",
                Some("0x1234567890"),
            ),
            (
                "0x0000000000000000000000007ef9e639e2733cb34e4dfc576d4b23f72db776b2",
                Some("0x4655474156000000000000000000000000000000000000000000000000000000"),
            ),
            (
                "0x000000000000000000000000ec4f34c97e43fbb2816cfd95e388353c7181dab1",
                Some("0x4e616d6552656700000000000000000000000000000000000000000000000000"),
            ),
            (
                "0x4655474156000000000000000000000000000000000000000000000000000000",
                Some("0x7ef9e639e2733cb34e4dfc576d4b23f72db776b2"),
            ),
            (
                "0x4e616d6552656700000000000000000000000000000000000000000000000000",
                Some("0xec4f34c97e43fbb2816cfd95e388353c7181dab1"),
            ),
            (
                "0x0000000000000000000000000000000000000000000000000000001234567890",
                None,
            ),
            (
                "0x000000000000000000000000697c7b8c961b56f675d570498424ac8de1a918f6",
                Some("0x6f6f6f6820736f2067726561742c207265616c6c6c793f000000000000000000"),
            ),
            (
                "0x6f6f6f6820736f2067726561742c207265616c6c6c793f000000000000000000",
                Some("0x697c7b8c961b56f675d570498424ac8de1a918f6"),
            ),
        ];
        assert_eq!(
            root_after(&jeff),
            h("9f6221ebb8efe7cff60a716ecb886e67dd042014be444669f0159d8e68b42100")
        );

        let insert_middle_leaf = [
            (
                "key1aa",
                Some("0123456789012345678901234567890123456789xxx"),
            ),
            (
                "key1",
                Some("0123456789012345678901234567890123456789Very_Long"),
            ),
            ("key2bb", Some("aval3")),
            ("key2", Some("short")),
            ("key3cc", Some("aval3")),
            ("key3", Some("1234567890123456789012345678901")),
        ];
        assert_eq!(
            root_after(&insert_middle_leaf),
            h("cb65032e2f76c48b82b5c24b3db8f670ce73982869d38cd39a624f23d62a9e89")
        );
    }

    /// ethereum/tests TrieTests/hex_encoded_securetrie_test.json "test1": keys are keccak(address).
    #[test]
    fn ethereum_tests_secure_trie() {
        let data = [
            (
                "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
                "0xf848018405f446a7a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
            (
                "0x095e7baea6a6c7c4c2dfeb977efac326af552d87",
                "0xf8440101a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a004bccc5d94f4d1f99aab44369a910179931772f2a5c001c3229f57831c102769",
            ),
            (
                "0xd2571607e241ecf590ed94b12d87c94babe36db6",
                "0xf8440180a0ba4b47865c55a341a4a78759bb913cd15c3ee8eaf30a62fa8d1c8863113d84e8a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
            (
                "0x62c01474f089b07dae603491675dc5b5748f7049",
                "0xf8448080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
            (
                "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba",
                "0xf8478083019a59a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
        ];
        let mut t = MerklePatriciaTrie::new();
        for (addr, account) in data {
            t.insert(keccak256(&bytes_of(addr)).as_slice(), bytes_of(account));
        }
        assert_eq!(
            t.root_hash(&CpuBackend),
            h("730a444e08ab4b8dee147c9b232fc52d34a223d600031c1e9d25bfc985cbd797")
        );
    }

    #[test]
    fn get_insert_remove_report_values() {
        let mut t = MerklePatriciaTrie::new();
        assert_eq!(t.insert(b"dog", b"puppy".to_vec()), None);
        assert_eq!(t.insert(b"doge", b"coin".to_vec()), None);
        assert_eq!(t.insert(b"do", b"verb".to_vec()), None);
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(b"dog"), Some(&b"puppy"[..]));
        assert_eq!(t.get(b"do"), Some(&b"verb"[..]));
        assert_eq!(t.get(b"d"), None);
        assert_eq!(t.get(b"dogs"), None);
        assert_eq!(t.insert(b"dog", b"hound".to_vec()), Some(b"puppy".to_vec()));
        assert_eq!(t.remove(b"cat"), None);
        assert_eq!(t.remove(b"do"), Some(b"verb".to_vec()));
        assert_eq!(t.insert(b"doge", Vec::new()), Some(b"coin".to_vec()));
        assert_eq!(t.len(), 1);
        assert_eq!(t.get(b"dog"), Some(&b"hound"[..]));
        assert_eq!(t.remove(b"dog"), Some(b"hound".to_vec()));
        assert!(t.is_empty());
        assert_eq!(t.root_hash(&CpuBackend), EMPTY_ROOT_HASH);
    }

    /// Counts `keccak_batch` calls and messages, and hashes on the CPU.
    #[derive(Debug, Default)]
    struct CountingBackend {
        calls: AtomicUsize,
        messages: AtomicUsize,
    }

    impl CountingBackend {
        fn take(&self) -> (usize, usize) {
            (
                self.calls.swap(0, Ordering::Relaxed),
                self.messages.swap(0, Ordering::Relaxed),
            )
        }
    }

    impl Backend for CountingBackend {
        fn name(&self) -> &str {
            "counting"
        }
        fn keccak_batch(&self, batch: &MessageBatch) -> Vec<B256> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.messages.fetch_add(batch.len(), Ordering::Relaxed);
            CpuBackend.keccak_batch(batch)
        }
        fn recover_batch(&self, items: &[RecoverItem]) -> Vec<Result<Address, RecoverError>> {
            CpuBackend.recover_batch(items)
        }
    }

    /// 32-byte keys and account-sized values, as the state trie holds.
    fn random_accounts(rng: &mut StdRng, n: usize) -> Vec<(B256, Vec<u8>)> {
        (0..n)
            .map(|_| {
                let key = B256::from(rng.random::<[u8; 32]>());
                let value = (0..70).map(|_| rng.random::<u8>()).collect();
                (key, value)
            })
            .collect()
    }

    fn seed() -> u64 {
        let seed = std::env::var("SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7);
        println!("SEED={seed}");
        seed
    }

    /// Two slots per cache line: a branch's children are four-byte ids (ids count from one).
    #[test]
    fn arena_slots_stay_small() {
        assert_eq!(std::mem::size_of::<Option<NodeId>>(), 4);
        assert!(std::mem::size_of::<Slot>() <= 128);
    }

    /// After a full hash, one update rehashes only its path: one batch per dirty level, and at
    /// most one node per level. A second call with no change hashes nothing, nor does setting a
    /// key to the value it already has.
    #[test]
    fn rehash_is_incremental_and_batched_by_level() {
        let mut rng = StdRng::seed_from_u64(seed());
        let accounts = random_accounts(&mut rng, 3000);
        let mut t = MerklePatriciaTrie::new();
        for (k, v) in &accounts {
            t.insert(k.as_slice(), v.clone());
        }
        let backend = CountingBackend::default();
        let full = t.root_hash(&backend);
        let (calls, messages) = backend.take();
        // 3000 leaves, all over 32 bytes, plus the branches above them.
        assert!(messages > 3000, "{messages} hashes for 3000 leaves");
        // One call per level; 3000 random keys make a trie of a handful of levels.
        assert!(calls <= 8, "{calls} batches");

        assert_eq!(t.root_hash(&backend), full);
        assert_eq!(backend.take(), (0, 0));

        let (k, _) = &accounts[17];
        t.insert(k.as_slice(), vec![1; 70]);
        let changed = t.root_hash(&backend);
        let (calls, messages) = backend.take();
        assert_ne!(changed, full);
        assert_eq!(calls, messages, "one node per level on a single key's path");
        assert!(calls <= 8);

        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = accounts
            .iter()
            .map(|(k, v)| (k.to_vec(), v.clone()))
            .collect();
        model.insert(k.to_vec(), vec![1; 70]);
        assert_eq!(changed, reference::root(&model));

        // The value it already has, under a leaf and as a branch's own value: nothing to rehash.
        assert_eq!(t.insert(k.as_slice(), vec![1; 70]), Some(vec![1; 70]));
        assert_eq!(t.root_hash(&backend), changed);
        assert_eq!(backend.take(), (0, 0));
        let short = &k.as_slice()[..31];
        assert_eq!(t.insert(short, vec![2; 40]), None);
        assert_eq!(t.insert(short, vec![3; 40]), Some(vec![2; 40]));
        let with_short = t.root_hash(&backend);
        backend.take();
        assert_eq!(t.insert(short, vec![3; 40]), Some(vec![3; 40]));
        assert_eq!(t.insert(k.as_slice(), vec![1; 70]), Some(vec![1; 70]));
        assert_eq!(t.root_hash(&backend), with_short);
        assert_eq!(backend.take(), (0, 0));
        assert_eq!(t.len(), accounts.len() + 1);
        model.insert(short.to_vec(), vec![3; 40]);
        assert_eq!(with_short, reference::root(&model));
    }

    /// Blocks of random updates, inserts and deletions over 32-byte keys, root after each.
    #[test]
    fn blocks_of_updates_match_reference() {
        let mut rng = StdRng::seed_from_u64(seed());
        let accounts = random_accounts(&mut rng, 2000);
        let mut t = MerklePatriciaTrie::new();
        let mut model = BTreeMap::new();
        for (k, v) in &accounts {
            t.insert(k.as_slice(), v.clone());
            model.insert(k.to_vec(), v.clone());
        }
        assert_eq!(t.root_hash(&CpuBackend), reference::root(&model));
        for _block in 0..5 {
            for _ in 0..300 {
                let (k, _) = &accounts[rng.random_range(0..accounts.len())];
                match rng.random_range(0..4) {
                    0 => {
                        assert_eq!(t.remove(k.as_slice()), model.remove(k.as_slice()));
                    }
                    _ => {
                        let v: Vec<u8> =
                            (0..rng.random_range(1..80)).map(|_| rng.random()).collect();
                        assert_eq!(
                            t.insert(k.as_slice(), v.clone()),
                            model.insert(k.to_vec(), v)
                        );
                    }
                }
            }
            assert_eq!(t.len(), model.len());
            assert_eq!(t.root_hash(&CpuBackend), reference::root(&model));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(Vec<u8>, Vec<u8>),
        Remove(Vec<u8>),
        Root,
    }

    /// Short keys over a few byte values, so keys share prefixes and end inside one another.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop::sample::select(vec![0x00u8, 0x01, 0x10, 0x12, 0xff]),
            0..5,
        )
    }

    /// Values around the 32-byte embedding limit, and empty ones (deletions).
    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..4),
            prop::collection::vec(any::<u8>(), 20..40),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (key(), value()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => key().prop_map(Op::Remove),
            1 => Just(Op::Root),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn incremental_root_matches_reference(ops in prop::collection::vec(op(), 0..60)) {
            let mut t = MerklePatriciaTrie::new();
            let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        let expected = if v.is_empty() { model.remove(&k) } else { model.insert(k.clone(), v.clone()) };
                        prop_assert_eq!(t.insert(&k, v), expected);
                    }
                    Op::Remove(k) => prop_assert_eq!(t.remove(&k), model.remove(&k)),
                    Op::Root => prop_assert_eq!(t.root_hash(&CpuBackend), reference::root(&model)),
                }
                prop_assert_eq!(t.len(), model.len());
            }
            prop_assert_eq!(t.root_hash(&CpuBackend), reference::root(&model));
            for (k, v) in &model {
                prop_assert_eq!(t.get(k), Some(v.as_slice()));
            }
            let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
            for k in keys {
                prop_assert!(t.remove(&k).is_some());
            }
            prop_assert_eq!(t.root_hash(&CpuBackend), EMPTY_ROOT_HASH);
            // Every node went back to the free list.
            prop_assert_eq!(t.free.len(), t.slots.len());
        }

        #[test]
        fn insertion_order_does_not_matter(
            entries in prop::collection::btree_map(key(), prop::collection::vec(any::<u8>(), 1..40), 0..30),
            seed in any::<u64>(),
        ) {
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = entries.clone().into_iter().collect();
            let mut sorted = MerklePatriciaTrie::new();
            for (k, v) in &pairs {
                sorted.insert(k, v.clone());
            }
            let mut rng = StdRng::seed_from_u64(seed);
            for i in (1..pairs.len()).rev() {
                pairs.swap(i, rng.random_range(0..=i));
            }
            let mut shuffled = MerklePatriciaTrie::new();
            for (k, v) in &pairs {
                shuffled.insert(k, v.clone());
            }
            let root = sorted.root_hash(&CpuBackend);
            prop_assert_eq!(root, shuffled.root_hash(&CpuBackend));
            prop_assert_eq!(root, reference::root(&entries));
        }
    }
}
