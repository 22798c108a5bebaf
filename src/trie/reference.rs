//! Test-only reference for the trie root: a recursive, non-incremental builder over a sorted key
//! list, with its own RLP and hex-prefix code, sharing nothing with `node`/`mpt` but keccak256.
//!
//! Invariant: it follows the Yellow Paper's definition (appendix D) as literally as possible, so
//! that agreement with the incremental trie means something.

use crate::crypto::keccak256;
use alloy_primitives::B256;
use std::collections::BTreeMap;

/// RLP length prefix for a string (`base` 0x80) or a list (`base` 0xc0) of `len` payload bytes.
fn prefix(len: usize, base: u8) -> Vec<u8> {
    if len < 56 {
        return vec![base + len as u8];
    }
    let be = len.to_be_bytes();
    let zeros = be.iter().take_while(|b| **b == 0).count();
    let mut out = vec![base + 55 + (be.len() - zeros) as u8];
    out.extend_from_slice(&be[zeros..]);
    out
}

/// RLP of a byte string.
pub(crate) fn rlp_bytes(b: &[u8]) -> Vec<u8> {
    if b.len() == 1 && b[0] < 0x80 {
        return b.to_vec();
    }
    let mut out = prefix(b.len(), 0x80);
    out.extend_from_slice(b);
    out
}

/// RLP of a list of already-encoded items.
pub(crate) fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload = items.concat();
    let mut out = prefix(payload.len(), 0xc0);
    out.extend(payload);
    out
}

fn nibbles(key: &[u8]) -> Vec<u8> {
    key.iter().flat_map(|b| [b / 16, b % 16]).collect()
}

/// Hex-prefix: flag nibble, a pad nibble for even lengths, the path; then packed in pairs.
fn compact(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag = if leaf { 2 } else { 0 } + (path.len() % 2) as u8;
    let mut all = vec![flag];
    if path.len().is_multiple_of(2) {
        all.push(0);
    }
    all.extend_from_slice(path);
    all.chunks(2).map(|p| p[0] * 16 + p[1]).collect()
}

/// How a parent holds a child: the encoding itself when short, else RLP(keccak(encoding)).
fn child_ref(enc: Vec<u8>) -> Vec<u8> {
    if enc.len() < 32 {
        enc
    } else {
        rlp_bytes(keccak256(&enc).as_slice())
    }
}

/// Encoding of the node over `entries` (sorted, non-empty, all sharing `path[..depth]`).
fn node(entries: &[(Vec<u8>, Vec<u8>)], depth: usize) -> Vec<u8> {
    if let [(path, value)] = entries {
        return rlp_list(&[rlp_bytes(&compact(&path[depth..], true)), rlp_bytes(value)]);
    }
    // Sorted, so the prefix shared by all is the one shared by the first and the last.
    let (first, last) = (&entries[0].0, &entries[entries.len() - 1].0);
    let shared = first[depth..]
        .iter()
        .zip(&last[depth..])
        .take_while(|(a, b)| a == b)
        .count();
    if shared > 0 {
        let below = child_ref(node(entries, depth + shared));
        return rlp_list(&[
            rlp_bytes(&compact(&first[depth..depth + shared], false)),
            below,
        ]);
    }
    let mut rest = entries;
    let mut value = Vec::new();
    if rest[0].0.len() == depth {
        value = rest[0].1.clone();
        rest = &rest[1..];
    }
    let mut items = Vec::with_capacity(17);
    for n in 0..16u8 {
        let count = rest.iter().take_while(|(p, _)| p[depth] == n).count();
        let (group, tail) = rest.split_at(count);
        rest = tail;
        items.push(if group.is_empty() {
            vec![0x80]
        } else {
            child_ref(node(group, depth + 1))
        });
    }
    items.push(rlp_bytes(&value));
    rlp_list(&items)
}

/// The Ethereum trie root of `map` (empty values are absent keys).
pub(crate) fn root(map: &BTreeMap<Vec<u8>, Vec<u8>>) -> B256 {
    let entries: Vec<(Vec<u8>, Vec<u8>)> = map
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (nibbles(k), v.clone()))
        .collect();
    if entries.is_empty() {
        return keccak256(&rlp_bytes(&[]));
    }
    keccak256(&node(&entries, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rlp_by_hand() {
        assert_eq!(rlp_bytes(b"dog"), [0x83, b'd', b'o', b'g']);
        assert_eq!(rlp_bytes(&[]), [0x80]);
        assert_eq!(rlp_bytes(&[0x7f]), [0x7f]);
        assert_eq!(rlp_bytes(&[0x80]), [0x81, 0x80]);
        assert_eq!(rlp_bytes(&[7u8; 56])[..2], [0xb8, 56]);
        assert_eq!(rlp_list(&[rlp_bytes(b"cat"), rlp_bytes(b"dog")]).len(), 9);
        assert_eq!(rlp_list(&[]), [0xc0]);
    }
}
