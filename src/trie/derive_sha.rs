//! DeriveSha: the transactions root and receipts root of a Kaia header, by any of the three
//! implementations a chain's governance can select (`blockchain/types/derivesha/` in kaiachain/kaia).
//!
//! Invariant: `derive_sha` depends only on the implementation and the items' bytes, never on the
//! backend; the backend only decides where the many keccak256s run.
//!
//! What Kaia's code does (kaiachain/kaia `blockchain/types/derivesha/{orig,simple,concat,mux}.go`):
//! - Orig fills a stack trie with key `rlp(uint64(i))` and value `GetRlp(i)`, inserting the indices
//!   in key order (1..=0x7f, then 0, then 0x80..); the root does not depend on insertion order, so a
//!   plain Merkle-Patricia trie gives the same root.
//! - Simple hashes every item, then while more than one hash remains: appends a copy of the last
//!   one if the count is odd and replaces each pair by `keccak(left || right)`. One item: the root
//!   is `keccak(item)`. No item: `keccak("")`.
//! - Concat is `keccak(item_0 || item_1 || ...)`; no item gives `keccak("")`.
//! - An unknown governance value makes Kaia log an error and fall back to the default impl; here
//!   the conversion fails and the caller decides.

use super::mpt::MerklePatriciaTrie;
use super::proof::{ProofError, verify_proof};
use crate::crypto::{Backend, MessageBatch, keccak256, keccak256_concat};
use alloy_primitives::B256;
use alloy_rlp::Encodable;
use std::fmt;
use std::str::FromStr;

/// Which DeriveSha a block uses (governance parameter `deriveshaimpl`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DeriveShaImpl {
    /// Ethereum Merkle-Patricia trie keyed by RLP(index). Mainnet today.
    #[default]
    Orig = 0,
    /// Binary keccak Merkle tree over the items' hashes.
    Simple = 1,
    /// keccak256 of the concatenated items.
    Concat = 2,
}

/// A DeriveSha implementation name or number that Kaia does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownDeriveShaImpl {
    #[error("unknown DeriveSha implementation {0:?}: expected orig, simple or concat")]
    Name(String),
    #[error("unknown DeriveSha implementation {0}: expected 0 (orig), 1 (simple) or 2 (concat)")]
    Value(u64),
}

impl DeriveShaImpl {
    /// Every implementation, in governance-value order.
    pub const ALL: [Self; 3] = [Self::Orig, Self::Simple, Self::Concat];

    /// The lower-case name used in configs and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orig => "orig",
            Self::Simple => "simple",
            Self::Concat => "concat",
        }
    }
}

impl fmt::Display for DeriveShaImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeriveShaImpl {
    type Err = UnknownDeriveShaImpl;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| UnknownDeriveShaImpl::Name(s.to_owned()))
    }
}

impl TryFrom<u64> for DeriveShaImpl {
    type Error = UnknownDeriveShaImpl;
    fn try_from(v: u64) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|i| *i as u64 == v)
            .ok_or(UnknownDeriveShaImpl::Value(v))
    }
}

/// The root of `items` (raw transactions, or receipt RLPs) under `imp`.
///
/// Items are expected to be non-empty, as transactions and receipts are; under Orig an empty item
/// is an absent key, as in go-ethereum's trie.
pub fn derive_sha(imp: DeriveShaImpl, items: &[&[u8]], backend: &dyn Backend) -> B256 {
    match imp {
        DeriveShaImpl::Orig => orig(items, backend),
        DeriveShaImpl::Simple => simple(items, backend),
        // One message, hashed as a stream: nothing for a batch backend to spread.
        DeriveShaImpl::Concat => keccak256_concat(items),
    }
}

/// Ethereum's ordered trie: key RLP(index), value the item. The trie hashes its nodes level by
/// level in batches.
fn orig(items: &[&[u8]], backend: &dyn Backend) -> B256 {
    orig_trie(items).root_hash(backend)
}

/// The Orig trie of `items`.
fn orig_trie(items: &[&[u8]]) -> MerklePatriciaTrie {
    let mut trie = MerklePatriciaTrie::new();
    let mut key = Vec::with_capacity(9);
    for (i, item) in items.iter().enumerate() {
        key.clear();
        (i as u64).encode(&mut key);
        trie.insert(&key, item.to_vec());
    }
    trie
}

/// Kaia's binary Merkle tree: one batch for the item hashes, then one batch per level.
fn simple(items: &[&[u8]], backend: &dyn Backend) -> B256 {
    if items.is_empty() {
        return keccak256(b"");
    }
    let mut batch = MessageBatch::with_capacity(items.len(), items.iter().map(|i| i.len()).sum());
    for item in items {
        batch.push(item);
    }
    let mut level = checked_batch(backend, &batch);
    while level.len() > 1 {
        if level.len() % 2 == 1
            && let Some(&last) = level.last()
        {
            level.push(last);
        }
        let mut pairs = MessageBatch::with_capacity(level.len() / 2, level.len() * 32);
        let mut msg = [0u8; 64];
        for pair in level.chunks_exact(2) {
            msg[..32].copy_from_slice(pair[0].as_slice());
            msg[32..].copy_from_slice(pair[1].as_slice());
            pairs.push(&msg);
        }
        level = checked_batch(backend, &pairs);
    }
    level.first().copied().unwrap_or_else(|| keccak256(b""))
}

/// The proof that `items[index]` is the item at `index` under `imp`, or `None` when `index` is
/// out of range or `imp` has no proofs (Concat: a checker needs the whole list).
/// - Orig: the trie nodes on the path of key `rlp(index)`, as `MerklePatriciaTrie::prove`.
/// - Simple: the sibling hash at each level, leaves first (the node itself where Kaia duplicates
///   the last node of an odd level).
pub fn item_proof(
    imp: DeriveShaImpl,
    items: &[&[u8]],
    index: usize,
    backend: &dyn Backend,
) -> Option<Vec<Vec<u8>>> {
    if index >= items.len() {
        return None;
    }
    match imp {
        DeriveShaImpl::Orig => Some(orig_trie(items).prove(&index_key(index), backend)),
        DeriveShaImpl::Simple => {
            let mut batch =
                MessageBatch::with_capacity(items.len(), items.iter().map(|i| i.len()).sum());
            for item in items {
                batch.push(item);
            }
            let mut level = checked_batch(backend, &batch);
            let mut at = index;
            let mut proof = Vec::new();
            while level.len() > 1 {
                if level.len() % 2 == 1
                    && let Some(&last) = level.last()
                {
                    level.push(last);
                }
                proof.push(level[at ^ 1].to_vec());
                level = level
                    .chunks_exact(2)
                    .map(|p| keccak256_concat(&[p[0].as_slice(), p[1].as_slice()]))
                    .collect();
                at /= 2;
            }
            Some(proof)
        }
        DeriveShaImpl::Concat => None,
    }
}

/// Checks that `proof` (from `item_proof`) shows `item` at `index` under `root`.
///
/// Under Simple, as in any Merkle tree that duplicates the last node of an odd level, the copy
/// verifies at the position after the original too (`index` one past the last item of an odd
/// list proves that last item): the item is proven to be in the list, its index up to that copy.
pub fn check_item_proof(
    imp: DeriveShaImpl,
    root: B256,
    index: usize,
    item: &[u8],
    proof: &[Vec<u8>],
) -> Result<(), ProofError> {
    match imp {
        DeriveShaImpl::Orig => match verify_proof(root, &index_key(index), proof)? {
            Some(v) if v == item => Ok(()),
            Some(v) => Err(ProofError::ValueMismatch {
                expected: item.len(),
                got: v.len(),
            }),
            None => Err(ProofError::Absent),
        },
        DeriveShaImpl::Simple => {
            let mut h = keccak256(item);
            let mut at = index;
            for (i, sibling) in proof.iter().enumerate() {
                let s: [u8; 32] =
                    sibling
                        .as_slice()
                        .try_into()
                        .map_err(|_| ProofError::BadSibling {
                            index: i,
                            len: sibling.len(),
                        })?;
                h = if at.is_multiple_of(2) {
                    keccak256_concat(&[h.as_slice(), &s])
                } else {
                    keccak256_concat(&[&s, h.as_slice()])
                };
                at /= 2;
            }
            // Above the root there is no level: a proof too short for `index` ends with `at > 0`.
            if h == root && at == 0 {
                Ok(())
            } else {
                Err(ProofError::RootMismatch {
                    expected: root,
                    got: h,
                })
            }
        }
        DeriveShaImpl::Concat => Err(ProofError::NoProofs(imp)),
    }
}

/// The Orig trie's key of the item at `index`: `rlp(uint64(index))`.
fn index_key(index: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(9);
    (index as u64).encode(&mut key);
    key
}

/// One batch through the backend. A backend that returns a different number of hashes than it
/// was given is broken (not the block): that must stop the node, not yield a wrong root.
fn checked_batch(backend: &dyn Backend, batch: &MessageBatch) -> Vec<B256> {
    let out = backend.keccak_batch(batch);
    assert_eq!(
        out.len(),
        batch.len(),
        "backend {} dropped hashes",
        backend.name()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CpuBackend;
    use crate::trie::EMPTY_ROOT_HASH;
    use crate::trie::reference;
    use std::collections::BTreeMap;

    fn h(s: &str) -> B256 {
        s.parse().unwrap_or_else(|e| panic!("bad hash {s:?}: {e}"))
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap_or_else(|e| panic!("bad hex in a vector: {e}"))
    }

    /// Item lists of 0, 1, 2 and 3 distinct items, some over 32 bytes.
    fn samples() -> Vec<Vec<Vec<u8>>> {
        let items: Vec<Vec<u8>> = vec![b"tx-a".to_vec(), vec![0xf8; 70], vec![0x01, 0x02]];
        (0..=3).map(|n| items[..n].to_vec()).collect()
    }

    fn root(imp: DeriveShaImpl, items: &[Vec<u8>]) -> B256 {
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        derive_sha(imp, &refs, &CpuBackend)
    }

    #[test]
    fn names_and_values() {
        for imp in DeriveShaImpl::ALL {
            assert_eq!(imp.to_string().parse::<DeriveShaImpl>(), Ok(imp));
            assert_eq!(DeriveShaImpl::try_from(imp as u64), Ok(imp));
        }
        assert_eq!("simple".parse(), Ok(DeriveShaImpl::Simple));
        assert_eq!(DeriveShaImpl::try_from(2), Ok(DeriveShaImpl::Concat));
        assert_eq!(DeriveShaImpl::Orig.to_string(), "orig");
        assert_eq!(
            "Orig".parse::<DeriveShaImpl>(),
            Err(UnknownDeriveShaImpl::Name("Orig".into()))
        );
        assert_eq!(
            DeriveShaImpl::try_from(3),
            Err(UnknownDeriveShaImpl::Value(3))
        );
    }

    #[test]
    fn concat_is_hash_of_concatenation() {
        for items in samples() {
            assert_eq!(
                root(DeriveShaImpl::Concat, &items),
                keccak256(&items.concat())
            );
        }
        assert_eq!(
            root(DeriveShaImpl::Concat, &[]),
            h("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        );
    }

    #[test]
    fn simple_small_trees_by_hand() {
        let pair = |a: B256, b: B256| keccak256(&[a.as_slice(), b.as_slice()].concat());
        let s = samples();
        let k: Vec<B256> = s[3].iter().map(|i| keccak256(i)).collect();
        assert_eq!(root(DeriveShaImpl::Simple, &s[0]), keccak256(b""));
        assert_eq!(root(DeriveShaImpl::Simple, &s[1]), k[0]);
        assert_eq!(root(DeriveShaImpl::Simple, &s[2]), pair(k[0], k[1]));
        // Odd level: the last hash pairs with itself.
        assert_eq!(
            root(DeriveShaImpl::Simple, &s[3]),
            pair(pair(k[0], k[1]), pair(k[2], k[2]))
        );
    }

    /// Five items: levels of 5 -> 3 -> 2 -> 1, with two odd levels.
    #[test]
    fn simple_five_items_by_hand() {
        let pair = |a: B256, b: B256| keccak256(&[a.as_slice(), b.as_slice()].concat());
        let items: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 3 + usize::from(i)]).collect();
        let k: Vec<B256> = items.iter().map(|i| keccak256(i)).collect();
        let l1 = [pair(k[0], k[1]), pair(k[2], k[3]), pair(k[4], k[4])];
        let l2 = [pair(l1[0], l1[1]), pair(l1[2], l1[2])];
        assert_eq!(root(DeriveShaImpl::Simple, &items), pair(l2[0], l2[1]));
    }

    /// Orig for small lists: one item by hand (key rlp(0) = 0x80 -> nibbles 8,0), more against the
    /// reference trie over RLP(index) keys.
    #[test]
    fn orig_small_lists() {
        let s = samples();
        assert_eq!(root(DeriveShaImpl::Orig, &s[0]), EMPTY_ROOT_HASH);
        let one = reference::rlp_list(&[
            reference::rlp_bytes(&[0x20, 0x80]),
            reference::rlp_bytes(&s[1][0]),
        ]);
        assert_eq!(root(DeriveShaImpl::Orig, &s[1]), keccak256(&one));
        for items in &s[2..] {
            let model: BTreeMap<Vec<u8>, Vec<u8>> = items
                .iter()
                .enumerate()
                .map(|(i, v)| (alloy_rlp::encode(i as u64), v.clone()))
                .collect();
            assert_eq!(root(DeriveShaImpl::Orig, items), reference::root(&model));
        }
    }

    /// 300 items: keys go from one byte (0x80, 0x01..0x7f) to `0x81 xx` and `0x82 xx xx`.
    #[test]
    fn orig_crosses_rlp_key_widths() {
        let items: Vec<Vec<u8>> = (0u32..300).map(|i| i.to_be_bytes().repeat(9)).collect();
        let mut model = BTreeMap::new();
        for (i, v) in items.iter().enumerate() {
            model.insert(alloy_rlp::encode(i as u64), v.clone());
        }
        assert_eq!(root(DeriveShaImpl::Orig, &items), reference::root(&model));
    }

    /// The three implementations disagree from two items on (KAIA.md: a block with two or more
    /// transactions tells them apart).
    #[test]
    fn implementations_differ() {
        let items = &samples()[2];
        let roots: Vec<B256> = DeriveShaImpl::ALL.iter().map(|i| root(*i, items)).collect();
        assert_ne!(roots[0], roots[1]);
        assert_ne!(roots[1], roots[2]);
        assert_ne!(roots[0], roots[2]);
    }

    /// ethereum/tests bcValidBlockTest "SimpleTx" (go-ethereum core/types block_test.go
    /// TestBlockEncoding): one legacy transaction, transactionsRoot 0x5fe50b26…
    #[test]
    fn orig_ethereum_block_simple_tx() {
        let tx = hex_bytes(
            "f85f800a82c35094095e7baea6a6c7c4c2dfeb977efac326af552d870a801ba09bea4c4daac7c7c52e093e6a4c35dbbcf8856f1af7b059ba20253e70848d094fa08a8fae537ce25ed8cb5af9adac3f141af69bd515bd2ba031522df09b97dd72b1",
        );
        assert_eq!(
            root(DeriveShaImpl::Orig, &[tx]),
            h("5fe50b260da6308036625b850b5d6ced6d0a9f814c0688bc91ffb7b7a3a54b67")
        );
    }

    /// Kairos testnet block 83863326 (/work/shared/vectors/kaia.json): one 0x08 transaction under
    /// Concat; its transactionsRoot equals the transaction's hash. The raw bytes are the body's
    /// transaction span, `0x08 || rlp([...])`.
    #[test]
    fn concat_kairos_block() {
        let raw = hex_bytes(
            "08f88a830258128505d21dba0083419ce094ce123cb96a04c5a21728830bbc1d589ba30887db884563918244f4000094f90675a56a03f836204d66c0f923e00500ddc90af847f8458207f6a0fefbca6cf2db5bc7fd495d8baa5332d564a466c74a1264b10330a8b2aea7a5c9a07a45e8a2ddf1bbb740f7301169c56cbccc441597827cb483bf3d0300c92c314c",
        );
        assert_eq!(
            root(DeriveShaImpl::Concat, &[raw]),
            h("5b8713ac41d655e85124c14d558b67dbb5d0417da4096c2ea00c93d78a12daa7")
        );
    }

    /// Every item of lists of 1 to 9 items proves under Orig and Simple; another item, or the
    /// item at another index, does not; a proof with a byte flipped or an entry dropped fails.
    /// Concat has no proofs.
    #[test]
    fn item_proofs() {
        let all: Vec<Vec<u8>> = (0..9u8).map(|i| vec![i; 20 + 7 * usize::from(i)]).collect();
        for n in 1..=all.len() {
            let items: Vec<&[u8]> = all[..n].iter().map(Vec::as_slice).collect();
            for imp in [DeriveShaImpl::Orig, DeriveShaImpl::Simple] {
                let r = derive_sha(imp, &items, &CpuBackend);
                assert_eq!(item_proof(imp, &items, n, &CpuBackend), None);
                for (i, item) in items.iter().enumerate() {
                    let proof = item_proof(imp, &items, i, &CpuBackend).unwrap();
                    assert_eq!(
                        check_item_proof(imp, r, i, item, &proof),
                        Ok(()),
                        "{imp} {n} {i}"
                    );
                    let other = items[(i + 1) % n];
                    if other != *item {
                        assert!(check_item_proof(imp, r, i, other, &proof).is_err());
                    }
                    for j in (0..n).filter(|&j| j != i && items[j] != *item) {
                        assert!(
                            check_item_proof(imp, r, j, item, &proof).is_err(),
                            "{imp} {n}: item {i} proven at {j}"
                        );
                    }
                    for e in 0..proof.len() {
                        let mut flipped = proof.clone();
                        flipped[e][0] ^= 1;
                        assert!(check_item_proof(imp, r, i, item, &flipped).is_err());
                        let mut dropped = proof.clone();
                        dropped.remove(e);
                        assert!(check_item_proof(imp, r, i, item, &dropped).is_err());
                    }
                }
            }
            assert_eq!(
                item_proof(DeriveShaImpl::Concat, &items, 0, &CpuBackend),
                None
            );
            assert_eq!(
                check_item_proof(DeriveShaImpl::Concat, B256::ZERO, 0, items[0], &[]),
                Err(ProofError::NoProofs(DeriveShaImpl::Concat))
            );
        }
        // The duplicate of the last item of an odd Simple list verifies one past it (Kaia's tree
        // cannot tell the two apart), and nowhere further.
        let items: Vec<&[u8]> = all[..3].iter().map(Vec::as_slice).collect();
        let r = derive_sha(DeriveShaImpl::Simple, &items, &CpuBackend);
        let proof = item_proof(DeriveShaImpl::Simple, &items, 2, &CpuBackend).unwrap();
        let mut dup = proof.clone();
        dup[0] = keccak256(items[2]).to_vec();
        assert_eq!(
            check_item_proof(DeriveShaImpl::Simple, r, 3, items[2], &dup),
            Ok(())
        );
        assert!(check_item_proof(DeriveShaImpl::Simple, r, 7, items[2], &dup).is_err());
    }
}
