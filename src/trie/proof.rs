//! Merkle proofs of the Ethereum Merkle-Patricia trie: the nodes on a key's path from the root,
//! as `eth_getProof` lists them, and their check against a root alone.
//!
//! Invariant: `verify_proof` answers from the root and the proof only. It returns a value (or a
//! proven absence) only when every node it read hashes to the reference its parent holds, the
//! first one to the root; anything else is a `ProofError` naming the node at fault. Nodes shorter
//! than 32 bytes are embedded in their parent (Yellow Paper, appendix D), so they are not listed
//! separately.

use super::mpt::{EMPTY_ROOT_HASH, MerklePatriciaTrie};
use super::node::{BRANCH_WIDTH, NodeId, to_nibbles};
use crate::crypto::{Backend, keccak256};
use alloy_primitives::B256;
use alloy_rlp::Header;

/// Why bytes are not a trie node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    #[error("bad RLP: {0}")]
    Rlp(alloy_rlp::Error),
    #[error("{0}")]
    Shape(&'static str),
}

impl From<alloy_rlp::Error> for NodeError {
    fn from(e: alloy_rlp::Error) -> Self {
        Self::Rlp(e)
    }
}

/// Why a proof does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the proof ends after {index} nodes, but the path goes on to node {hash}")]
    MissingNode { index: usize, hash: B256 },
    #[error("proof node {index} hashes to {got}, but its parent (or the root) names {expected}")]
    HashMismatch {
        index: usize,
        expected: B256,
        got: B256,
    },
    #[error("proof node {index} is not a trie node: {reason}")]
    Malformed { index: usize, reason: NodeError },
    #[error("the proof has {given} nodes, but the key's path ends after {used}")]
    UnusedNodes { used: usize, given: usize },
    #[error("the proof shows the key absent, not holding the item")]
    Absent,
    #[error("the proof shows another value under the key: {got} bytes, not the item's {expected}")]
    ValueMismatch { expected: usize, got: usize },
    #[error("DeriveSha {0} has no item proofs: the checker needs the whole list")]
    NoProofs(super::DeriveShaImpl),
    #[error("a Simple proof entry must be a 32-byte hash, entry {index} has {len} bytes")]
    BadSibling { index: usize, len: usize },
    #[error("the item's path hashes to {got}, not to the root {expected}")]
    RootMismatch { expected: B256, got: B256 },
}

/// How a node refers to a child, as read from its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawRef<'a> {
    Hash(B256),
    /// The child's own encoding (under 32 bytes), embedded in the parent.
    Inline(&'a [u8]),
}

/// A decoded node, borrowing from its encoding. Paths are nibbles. (A branch is held by value:
/// a node is decoded once and read at once, never stored.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawNode<'a> {
    Leaf {
        path: Vec<u8>,
        value: &'a [u8],
    },
    Extension {
        path: Vec<u8>,
        child: RawRef<'a>,
    },
    Branch {
        children: [Option<RawRef<'a>>; BRANCH_WIDTH],
        value: &'a [u8],
    },
}

/// One item of an RLP list: a string's payload, or a whole list's encoding (header included).
enum Item<'a> {
    String(&'a [u8]),
    List(&'a [u8]),
}

fn next_item<'a>(buf: &mut &'a [u8]) -> Result<Item<'a>, NodeError> {
    let all: &'a [u8] = buf;
    let mut rest = all;
    let h = Header::decode(&mut rest)?;
    let header_len = all.len() - rest.len();
    let end = header_len
        .checked_add(h.payload_length)
        .filter(|&e| e <= all.len())
        .ok_or(alloy_rlp::Error::InputTooShort)?;
    *buf = &all[end..];
    Ok(if h.list {
        Item::List(&all[..end])
    } else {
        Item::String(&all[header_len..end])
    })
}

/// A child reference: a 32-byte hash, an embedded node under 32 bytes, or (`None`) the empty
/// string of an absent branch child.
fn child_ref(item: Item<'_>) -> Result<Option<RawRef<'_>>, NodeError> {
    match item {
        Item::String([]) => Ok(None),
        Item::String(h) if h.len() == 32 => Ok(Some(RawRef::Hash(B256::from_slice(h)))),
        Item::String(_) => Err(NodeError::Shape(
            "a child reference is neither a 32-byte hash nor empty",
        )),
        Item::List(enc) if enc.len() < 32 => Ok(Some(RawRef::Inline(enc))),
        Item::List(_) => Err(NodeError::Shape(
            "an embedded child of 32 bytes or more (it must be referenced by hash)",
        )),
    }
}

/// Decodes a hex-prefix path: its nibbles and whether it is a leaf's.
fn compact_path(enc: &[u8]) -> Result<(Vec<u8>, bool), NodeError> {
    let (&first, rest) = enc
        .split_first()
        .ok_or(NodeError::Shape("an empty hex-prefix path"))?;
    let flag = first >> 4;
    if flag > 3 {
        return Err(NodeError::Shape("a hex-prefix flag above 3"));
    }
    let mut path = Vec::with_capacity(rest.len() * 2 + 1);
    if flag & 1 == 1 {
        path.push(first & 0x0f);
    } else if first & 0x0f != 0 {
        return Err(NodeError::Shape(
            "an even hex-prefix path with a non-zero pad",
        ));
    }
    path.extend(to_nibbles(rest));
    Ok((path, flag >= 2))
}

/// Decodes one node's encoding: exactly one RLP list of 2 or 17 items, nothing after it.
pub(crate) fn decode_node(enc: &[u8]) -> Result<RawNode<'_>, NodeError> {
    let mut buf = enc;
    let payload = Header::decode_bytes(&mut buf, true)?;
    if !buf.is_empty() {
        return Err(NodeError::Shape("bytes after the node's list"));
    }
    let mut items = Vec::with_capacity(BRANCH_WIDTH + 1);
    let mut p = payload;
    while !p.is_empty() {
        if items.len() > BRANCH_WIDTH {
            return Err(NodeError::Shape("a list of more than 17 items"));
        }
        items.push(next_item(&mut p)?);
    }
    match items.len() {
        2 => {
            let mut it = items.into_iter();
            let (Some(Item::String(path)), Some(second)) = (it.next(), it.next()) else {
                return Err(NodeError::Shape("a short node whose path is not a string"));
            };
            let (path, leaf) = compact_path(path)?;
            if leaf {
                match second {
                    Item::String([]) => Err(NodeError::Shape("a leaf with an empty value")),
                    Item::String(value) => Ok(RawNode::Leaf { path, value }),
                    Item::List(_) => Err(NodeError::Shape("a leaf whose value is a list")),
                }
            } else {
                if path.is_empty() {
                    return Err(NodeError::Shape("an extension with an empty path"));
                }
                let child =
                    child_ref(second)?.ok_or(NodeError::Shape("an extension without a child"))?;
                Ok(RawNode::Extension { path, child })
            }
        }
        17 => {
            let mut children = [None; BRANCH_WIDTH];
            let mut it = items.into_iter();
            for c in &mut children {
                if let Some(item) = it.next() {
                    *c = child_ref(item)?;
                }
            }
            let Some(Item::String(value)) = it.next() else {
                return Err(NodeError::Shape("a branch whose value is a list"));
            };
            Ok(RawNode::Branch { children, value })
        }
        _ => Err(NodeError::Shape("a list of neither 2 nor 17 items")),
    }
}

impl MerklePatriciaTrie {
    /// The proof of `key`: the RLP encodings of the nodes on its path, root first, each node
    /// referenced by hash (embedded ones travel inside their parent). It proves the value, or the
    /// key's absence (the path then ends at a missing child or a diverging leaf or extension).
    /// Hashes the trie first when it has changed.
    pub fn prove(&mut self, key: &[u8], backend: &dyn Backend) -> Vec<Vec<u8>> {
        self.root_hash(backend);
        let mut out = Vec::new();
        let Some(root) = self.root_id() else {
            return out;
        };
        let nibbles = to_nibbles(key);
        let mut path = nibbles.as_slice();
        let mut scratch = Vec::new();
        let mut id: NodeId = root;
        loop {
            if id == root || !self.is_inline(id) {
                let mut enc = Vec::new();
                self.encode_clean(id, &mut scratch, &mut enc);
                out.push(enc);
            }
            let next = match self.node(id) {
                super::node::Node::Extension { path: ep, child } => {
                    path.strip_prefix(ep.as_slice()).map(|rest| (rest, *child))
                }
                super::node::Node::Branch { children, .. } => path
                    .split_first()
                    .and_then(|(n, rest)| Some((rest, children[usize::from(*n)]?))),
                super::node::Node::Leaf { .. } | super::node::Node::Stub(_) => None,
            };
            match next {
                Some((rest, child)) => {
                    path = rest;
                    id = child;
                }
                None => return out,
            }
        }
    }
}

/// Checks `nodes` (root first, as `prove` gives them) against `root` for `key`: the value, or
/// `None` when the proof shows the key absent.
pub fn verify_proof(
    root: B256,
    key: &[u8],
    nodes: &[Vec<u8>],
) -> Result<Option<Vec<u8>>, ProofError> {
    if root == EMPTY_ROOT_HASH && nodes.is_empty() {
        return Ok(None);
    }
    let nibbles = to_nibbles(key);
    let mut path = nibbles.as_slice();
    let mut next = RawRef::Hash(root);
    let mut used = 0usize;
    let value = loop {
        let enc: &[u8] = match next {
            RawRef::Hash(expected) => {
                let Some(n) = nodes.get(used) else {
                    return Err(ProofError::MissingNode {
                        index: used,
                        hash: expected,
                    });
                };
                let got = keccak256(n);
                if got != expected {
                    return Err(ProofError::HashMismatch {
                        index: used,
                        expected,
                        got,
                    });
                }
                used += 1;
                n
            }
            RawRef::Inline(enc) => enc,
        };
        // The node that failed is the last one read (an embedded one is inside it).
        let index = used.saturating_sub(1);
        if root == EMPTY_ROOT_HASH && enc == [alloy_rlp::EMPTY_STRING_CODE] {
            // The empty trie's one "node": the RLP empty string.
            break None;
        }
        let node = decode_node(enc).map_err(|reason| ProofError::Malformed { index, reason })?;
        match node {
            RawNode::Leaf { path: lp, value } => {
                break (lp.as_slice() == path).then(|| value.to_vec());
            }
            RawNode::Extension { path: ep, child } => match path.strip_prefix(ep.as_slice()) {
                Some(rest) => {
                    path = rest;
                    next = child;
                }
                None => break None,
            },
            RawNode::Branch { children, value } => match path.split_first() {
                None => break (!value.is_empty()).then(|| value.to_vec()),
                Some((n, rest)) => match children[usize::from(*n)] {
                    Some(c) => {
                        path = rest;
                        next = c;
                    }
                    None => break None,
                },
            },
        }
    };
    if used < nodes.len() {
        return Err(ProofError::UnusedNodes {
            used,
            given: nodes.len(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CpuBackend;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn trie_of(pairs: &[(Vec<u8>, Vec<u8>)]) -> MerklePatriciaTrie {
        let mut t = MerklePatriciaTrie::new();
        for (k, v) in pairs {
            t.insert(k, v.clone());
        }
        t
    }

    /// Every key proves its value; each absent key proves absence; a flipped byte anywhere in
    /// a proof, or a dropped node, fails.
    fn check_all(pairs: &[(Vec<u8>, Vec<u8>)], absent: &[Vec<u8>]) {
        let mut t = trie_of(pairs);
        let root = t.root_hash(&CpuBackend);
        let model: BTreeMap<_, _> = pairs.iter().cloned().collect();
        for (k, v) in &model {
            let proof = t.prove(k, &CpuBackend);
            assert_eq!(verify_proof(root, k, &proof), Ok(Some(v.clone())), "{k:?}");
            for i in 0..proof.len() {
                let mut dropped = proof.clone();
                dropped.remove(i);
                assert!(verify_proof(root, k, &dropped).is_err(), "dropped {i}");
                for at in [0, proof[i].len() / 2, proof[i].len() - 1] {
                    let mut flipped = proof.clone();
                    flipped[i][at] ^= 0x10;
                    assert!(
                        matches!(
                            verify_proof(root, k, &flipped),
                            Err(ProofError::HashMismatch { index, .. }) if index == i
                        ),
                        "node {i} byte {at}"
                    );
                }
            }
        }
        for k in absent.iter().filter(|k| !model.contains_key(*k)) {
            let proof = t.prove(k, &CpuBackend);
            assert_eq!(verify_proof(root, k, &proof), Ok(None), "{k:?}");
        }
    }

    fn pairs(kv: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        kv.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    /// The "dogs" of the ethereum wiki, and ethereum/tests trietest.json "insert-middle-leaf"
    /// (the vectors `mpt.rs` checks roots against): short values, so many nodes are embedded.
    #[test]
    fn vectors_prove_and_disprove() {
        let dogs = pairs(&[
            ("doe", "reindeer"),
            ("dog", "puppy"),
            ("dogglesworth", "cat"),
        ]);
        let absent: Vec<Vec<u8>> = ["do", "d", "dogs", "doge", "cat", "", "dogglesworthy"]
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        check_all(&dogs, &absent);
        let mut t = trie_of(&dogs);
        assert_eq!(
            t.root_hash(&CpuBackend),
            "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3"
                .parse::<B256>()
                .unwrap()
        );
        let a31 = "1234567890123456789012345678901";
        let middle = pairs(&[
            ("key1aa", "0123456789012345678901234567890123456789xxx"),
            ("key1", "0123456789012345678901234567890123456789Very_Long"),
            ("key2bb", "aval3"),
            ("key2", "short"),
            ("key3cc", "aval3"),
            ("key3", a31),
        ]);
        check_all(&middle, &absent);
        // One tiny key: the root node is 5 bytes, still listed and hashed.
        let tiny = pairs(&[("a", "b")]);
        let mut t = trie_of(&tiny);
        assert_eq!(
            t.prove(b"a", &CpuBackend),
            vec![vec![0xc4, 0x82, 0x20, 0x61, 0x62]]
        );
        check_all(&tiny, &absent);
    }

    /// ethereum/tests hex_encoded_securetrie_test "test1": keys keccak(address), account values.
    #[test]
    fn secure_trie_vector_proves() {
        let data = [
            (
                "a94f5374fce5edbc8e2a8697c15331677e6ebf0b",
                "f848018405f446a7a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
            (
                "095e7baea6a6c7c4c2dfeb977efac326af552d87",
                "f8440101a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a004bccc5d94f4d1f99aab44369a910179931772f2a5c001c3229f57831c102769",
            ),
            (
                "d2571607e241ecf590ed94b12d87c94babe36db6",
                "f8440180a0ba4b47865c55a341a4a78759bb913cd15c3ee8eaf30a62fa8d1c8863113d84e8a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
            (
                "62c01474f089b07dae603491675dc5b5748f7049",
                "f8448080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
            (
                "2adc25665018aa1fe0e6bc666dac8fc2697ff9ba",
                "f8478083019a59a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
            ),
        ];
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = data
            .iter()
            .map(|(a, v)| {
                (
                    keccak256(&hex::decode(a).unwrap()).to_vec(),
                    hex::decode(v).unwrap(),
                )
            })
            .collect();
        let mut t = trie_of(&pairs);
        assert_eq!(
            t.root_hash(&CpuBackend),
            "730a444e08ab4b8dee147c9b232fc52d34a223d600031c1e9d25bfc985cbd797"
                .parse::<B256>()
                .unwrap()
        );
        let absent = vec![keccak256(b"nobody").to_vec(), vec![0u8; 32], vec![0xff; 32]];
        check_all(&pairs, &absent);
    }

    #[test]
    fn precise_errors() {
        let p = pairs(&[("doe", "reindeer"), ("dog", "puppy"), ("horse", "stallion")]);
        let mut t = trie_of(&p);
        let root = t.root_hash(&CpuBackend);
        let proof = t.prove(b"dog", &CpuBackend);
        assert_eq!(
            verify_proof(root, b"dog", &[]),
            Err(ProofError::MissingNode {
                index: 0,
                hash: root
            })
        );
        let mut extra = proof.clone();
        extra.push(vec![0xc0]);
        assert_eq!(
            verify_proof(root, b"dog", &extra),
            Err(ProofError::UnusedNodes {
                used: proof.len(),
                given: proof.len() + 1
            })
        );
        // A node that hashes right but is no trie node: a root made of three empty items.
        let junk = vec![0xc3, 0x80, 0x80, 0x80];
        assert!(matches!(
            verify_proof(keccak256(&junk), b"dog", &[junk]),
            Err(ProofError::Malformed { index: 0, .. })
        ));
        assert_eq!(verify_proof(EMPTY_ROOT_HASH, b"dog", &[]), Ok(None));
        assert_eq!(
            verify_proof(EMPTY_ROOT_HASH, b"dog", &[vec![0x80]]),
            Ok(None)
        );
        assert_eq!(
            MerklePatriciaTrie::new().prove(b"dog", &CpuBackend),
            Vec::<Vec<u8>>::new()
        );
    }

    #[test]
    fn decode_node_refuses_bad_shapes() {
        let shape = |enc: &[u8]| decode_node(enc).err();
        // A leaf [0x20 + "a", "b"] decodes; each change below breaks one rule.
        assert!(shape(&[0xc4, 0x82, 0x20, 0x61, 0x62]).is_none());
        assert!(shape(&[0xc4, 0x82, 0x40, 0x61, 0x62]).is_some(), "flag 4");
        assert!(
            shape(&[0xc4, 0x82, 0x21, 0x61, 0x62]).is_some(),
            "even path with a pad"
        );
        assert!(
            shape(&[0xc3, 0x82, 0x20, 0x61, 0x80]).is_some(),
            "empty leaf value"
        );
        assert!(shape(&[0xc2, 0x00, 0x80]).is_some(), "extension of no path");
        assert!(
            shape(&[0xc4, 0x82, 0x20, 0x61, 0x62, 0x00]).is_some(),
            "trailing byte"
        );
        assert!(
            shape(&[0xc5, 0x82, 0x20, 0x61, 0x62]).is_some(),
            "short input"
        );
        assert!(
            shape(&[0xc5, 0x82, 0x20, 0x61, 0x62, 0x62]).is_some(),
            "three items"
        );
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop::sample::select(vec![0x00u8, 0x01, 0x10, 0x12, 0xff]),
            0..5,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Random tries of short keys sharing prefixes, with values around the 32-byte embedding
        /// limit: every key proves, other keys prove absence, every corruption fails.
        #[test]
        fn random_tries_prove(
            entries in prop::collection::btree_map(key(), prop_oneof![
                prop::collection::vec(any::<u8>(), 1..4),
                prop::collection::vec(any::<u8>(), 20..40),
            ], 1..24),
            absent in prop::collection::vec(key(), 0..8),
        ) {
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = entries.into_iter().collect();
            check_all(&pairs, &absent);
        }
    }
}
