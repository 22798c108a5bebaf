//! Merkle-Patricia trie nodes, nibble paths and their Ethereum encoding (Yellow Paper, appendix D).
//!
//! Invariant: a node's encoding is a function of its own fields and of its children's
//! [`NodeRef`]s only, so a parent can be encoded as soon as every child has a reference; a
//! reference is the child's encoding itself when that is shorter than 32 bytes, else the keccak256
//! of the encoding.

use alloy_primitives::B256;
use alloy_rlp::{EMPTY_STRING_CODE, Encodable, Header};

/// A node of the trie's arena: its slot's index plus one, so that a branch's sixteen
/// `Option<NodeId>` children take 64 bytes, not 128 (a smaller arena walks with fewer cache misses).
pub(crate) type NodeId = std::num::NonZeroU32;

/// Number of children of a branch node: one per nibble value.
pub(crate) const BRANCH_WIDTH: usize = 16;

/// An encoding shorter than this is embedded in its parent instead of being hashed.
pub(crate) const INLINE_LIMIT: usize = 32;

/// How a parent refers to a child: by hash, or by embedding the child's (short) encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeRef {
    /// keccak256 of an encoding of 32 bytes or more.
    Hash(B256),
    /// An encoding of fewer than 32 bytes, kept verbatim: `buf[..len]`.
    Inline {
        len: u8,
        buf: [u8; INLINE_LIMIT - 1],
    },
}

impl NodeRef {
    /// The reference for a short encoding, or `None` when `enc` must be hashed instead.
    pub(crate) fn inline(enc: &[u8]) -> Option<Self> {
        if enc.len() >= INLINE_LIMIT {
            return None;
        }
        let mut buf = [0u8; INLINE_LIMIT - 1];
        buf[..enc.len()].copy_from_slice(enc);
        // `enc.len() < 32`, so it fits in a u8.
        Some(Self::Inline {
            len: enc.len() as u8,
            buf,
        })
    }

    /// Bytes this reference takes inside the parent's RLP list.
    fn rlp_length(&self) -> usize {
        match self {
            Self::Hash(h) => h.as_slice().length(),
            Self::Inline { len, .. } => usize::from(*len),
        }
    }

    /// Appends the reference as an item of the parent's RLP list: a 32-byte string for a hash,
    /// the child's own RLP for an embedded node.
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Hash(h) => h.as_slice().encode(out),
            Self::Inline { len, buf } => out.extend_from_slice(&buf[..usize::from(*len)]),
        }
    }
}

/// A trie node. Paths are nibble sequences (one nibble, 0..=15, per byte).
///
/// An empty `value` means "no value": the trie never stores empty values (inserting one deletes
/// the key), so the RLP empty string (0x80) encodes the absent branch value exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// The rest of a key, and its value.
    Leaf { path: Vec<u8>, value: Vec<u8> },
    /// A shared run of nibbles (never empty) leading to a branch.
    Extension { path: Vec<u8>, child: NodeId },
    /// A fork on the next nibble, plus the value of a key that ends here.
    Branch {
        children: [Option<NodeId>; BRANCH_WIDTH],
        value: Vec<u8>,
    },
    /// A subtree known only by its hash: what a trie rebuilt from proof nodes holds where the
    /// proof stops (`PartialTrie`). Its reference is fixed when it is created and never
    /// recomputed, so it is never encoded.
    Stub(B256),
}

impl Default for Node {
    /// A placeholder that owns no heap memory: what a freed or taken slot holds.
    fn default() -> Self {
        Self::Leaf {
            path: Vec::new(),
            value: Vec::new(),
        }
    }
}

/// The nibbles of `key`, high nibble first.
pub(crate) fn to_nibbles(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() * 2);
    for b in key {
        out.push(b >> 4);
        out.push(b & 0x0f);
    }
    out
}

/// Length of the longest common prefix of two nibble paths.
pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Hex-prefix ("compact") encoding of a nibble path into `out` (cleared first): a flag nibble
/// (2 for a leaf, +1 for an odd length), a zero pad nibble when the length is even, then the path.
pub(crate) fn hex_prefix(path: &[u8], leaf: bool, out: &mut Vec<u8>) {
    out.clear();
    let flag = if leaf { 2u8 } else { 0 };
    let rest = if path.len() % 2 == 1 {
        out.push(((flag + 1) << 4) | path[0]);
        &path[1..]
    } else {
        out.push(flag << 4);
        path
    };
    out.extend(rest.chunks_exact(2).map(|p| (p[0] << 4) | p[1]));
}

/// Appends the RLP encoding of `node` to `out`. `child` gives the reference of each child (all of
/// them must already be known); `scratch` is reused for the hex-prefix path.
pub(crate) fn encode_node(
    node: &Node,
    child: impl Fn(NodeId) -> NodeRef,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    match node {
        Node::Leaf { path, value } => {
            hex_prefix(path, true, scratch);
            let payload_length = scratch.as_slice().length() + value.as_slice().length();
            Header {
                list: true,
                payload_length,
            }
            .encode(out);
            scratch.as_slice().encode(out);
            value.as_slice().encode(out);
        }
        Node::Extension { path, child: c } => {
            hex_prefix(path, false, scratch);
            let r = child(*c);
            let payload_length = scratch.as_slice().length() + r.rlp_length();
            Header {
                list: true,
                payload_length,
            }
            .encode(out);
            scratch.as_slice().encode(out);
            r.encode(out);
        }
        Node::Branch { children, value } => {
            let mut refs = [None; BRANCH_WIDTH];
            let mut payload_length = value.as_slice().length();
            for (r, c) in refs.iter_mut().zip(children) {
                *r = c.map(&child);
                payload_length += r.as_ref().map_or(1, NodeRef::rlp_length);
            }
            Header {
                list: true,
                payload_length,
            }
            .encode(out);
            for r in &refs {
                match r {
                    Some(r) => r.encode(out),
                    None => out.push(EMPTY_STRING_CODE),
                }
            }
            value.as_slice().encode(out);
        }
        Node::Stub(_) => {
            unreachable!("a stub's reference is set when it is created, so it is never re-encoded")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(path: &[u8], leaf: bool) -> Vec<u8> {
        let mut out = Vec::new();
        hex_prefix(path, leaf, &mut out);
        out
    }

    /// The examples of the Yellow Paper / Ethereum wiki for the compact encoding.
    #[test]
    fn hex_prefix_examples() {
        assert_eq!(hp(&[1, 2, 3, 4, 5], false), [0x11, 0x23, 0x45]);
        assert_eq!(hp(&[0, 1, 2, 3, 4, 5], false), [0x00, 0x01, 0x23, 0x45]);
        assert_eq!(hp(&[0, 15, 1, 12, 11, 8], true), [0x20, 0x0f, 0x1c, 0xb8]);
        assert_eq!(hp(&[15, 1, 12, 11, 8], true), [0x3f, 0x1c, 0xb8]);
        assert_eq!(hp(&[], true), [0x20]);
        assert_eq!(hp(&[], false), [0x00]);
    }

    #[test]
    fn nibbles_and_prefixes() {
        assert_eq!(to_nibbles(&[0xab, 0x01]), [0xa, 0xb, 0x0, 0x1]);
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 4, 5]), 2);
        assert_eq!(common_prefix(&[], &[1]), 0);
    }

    #[test]
    fn inline_refs_only_for_short_encodings() {
        assert!(NodeRef::inline(&[0u8; 31]).is_some());
        assert!(NodeRef::inline(&[0u8; 32]).is_none());
    }

    /// Leaf "a" -> "b": compact path [0x20, 0x61] as a 2-byte string, value 0x62 as itself.
    #[test]
    fn small_leaf_encoding_by_hand() {
        let node = Node::Leaf {
            path: to_nibbles(b"a"),
            value: b"b".to_vec(),
        };
        let mut out = Vec::new();
        encode_node(
            &node,
            |_| unreachable!("a leaf has no children"),
            &mut Vec::new(),
            &mut out,
        );
        assert_eq!(out, [0xc4, 0x82, 0x20, 0x61, 0x62]);
    }
}
