//! Fault reports: the protocol by which a ranger turns a fault it proved into something anyone can
//! check without trusting the ranger — the claim, the evidence, and the reporter's signature.
//! No transport here (gossip lives in the node, `node/src/p2p/`; the council's ledger in
//! `node/src/council/`).
//!
//! Canonical encoding (RLP), the form that is gossiped, stored and submitted:
//! `[chain_id, block_number, block_hash, kind, evidence, reporter, signature]` where `kind` is the
//! fault's stable name, `evidence` is `[tag, …]` (see [`Evidence`]) and `signature` is the
//! reporter's 65-byte recoverable secp256k1 signature of
//! `keccak256("ranger fault report v2" ‖ rlp([chain_id, block_number, block_hash, kind, evidence*, reporter]))`,
//! where `evidence*` is the evidence with a block's state witness *detached*: replaced by its
//! keccak256 and length (tag 5). So a report has two forms with one signature: the witness
//! carried (tag 3) or detached (tag 5), and anyone may turn one into the other
//! ([`FaultReport::detach_witness`], [`FaultReport::attach_witness`]) without the reporter's key.
//! A witness too large to gossip travels beside the report, fetched by its hash from whoever
//! holds it; the signature binds it all the same.
//! Decoding is strict: trailing bytes, unknown tags and kinds, non-canonical integers are refused.
//!
//! `block_number` is the block's height (its parent's number + 1), which a `wrong-number` header
//! does not claim. The fault id is `keccak256(chain_id ‖ kind ‖ block_number ‖ the evidence's
//! hashes)` (integers as 8 big-endian bytes; the hashes are the block's hash, then for a
//! transaction fault keccak256 of the transaction's bytes, and for an equivocation the two
//! blocks' hashes in increasing order), so two rangers that prove the same fault name it alike.
//!
//! Invariant: a report is only ever built from an `Invalid` verdict's proven faults; an
//! `undecided` block (the node failing) never yields one.

mod build;
mod check;

pub use build::{BuildError, MAX_REPORTS_PER_BLOCK, Reporter, evidence_for, header_bytes};
pub use check::{CheckContext, Proven, ReportError, check, check_report};

use crate::codec::DecodeError;
use crate::codec::rlp::ListReader;
use crate::consensus::FaultKind;
use crate::crypto::keccak256;
use crate::crypto::secp::{RecoverError, Signature65, SigningKey, recover_address};
use alloy_primitives::{Address, B256};
use alloy_rlp::{BufMut, Encodable, Header as RlpHeader};

/// The most bytes a report may have before anyone decodes it: a block's transactions and a
/// state witness of a few thousand accounts fit; anything larger is refused unread.
pub const MAX_REPORT_BYTES: usize = 16 << 20;

/// What signatures are made over, before the unsigned report's RLP: a fixed domain, so that a
/// report signature can never be replayed as a transaction or a seal.
const SIGNING_DOMAIN: &[u8] = b"ranger fault report v2";

/// What an independent checker needs to see a fault, by class of fault. Headers, blocks and
/// transactions are carried as their canonical RLP bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// Header faults (seals, quorum, proposer, randao, mix hash, linkage, number, time, fork
    /// fields): the header and its parent header. Tag 1.
    Header { parent: Vec<u8>, header: Vec<u8> },
    /// Transaction faults (signatures, chain id, from, fee payer, type, decoding): the header,
    /// its parent, the transaction at `index` and its inclusion under the header's
    /// transactionsRoot. Tag 2.
    Transaction {
        parent: Vec<u8>,
        header: Vec<u8>,
        index: u64,
        tx: Vec<u8>,
        inclusion: Inclusion,
    },
    /// Root and state faults: the header, its parent, every transaction, and (for the kinds the
    /// replay finds) the witness of the parent state for every account the block touches
    /// (`crate::state::witness`, encoded), empty for `wrong-tx-root`. Tag 3 with the witness
    /// carried, tag 5 with it detached.
    Block {
        parent: Vec<u8>,
        header: Vec<u8>,
        transactions: Vec<Vec<u8>>,
        witness: WitnessPart,
    },
    /// Two different headers at one height, each with a quorum of committed seals of the
    /// council in force after `parent`. Tag 4.
    Equivocation {
        parent: Vec<u8>,
        first: Vec<u8>,
        second: Vec<u8>,
    },
}

/// A block report's state witness: carried in the report, or detached from it and named by its
/// keccak256 and length (the report is then checked once the bytes are attached again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessPart {
    Carried(Vec<u8>),
    Detached { hash: B256, len: u64 },
}

impl WitnessPart {
    /// The hash and length the signature covers, whichever the form.
    pub fn named(&self) -> (B256, u64) {
        match self {
            WitnessPart::Carried(w) => (keccak256(w), w.len() as u64),
            WitnessPart::Detached { hash, len } => (*hash, *len),
        }
    }
}

/// Why witness bytes cannot be attached to a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("the report carries no detached witness")]
    NothingDetached,
    #[error(
        "the witness is {got_len} bytes hashing to {got}; the report names {len} bytes hashing to {hash}"
    )]
    NotTheNamedWitness {
        hash: B256,
        len: u64,
        got: B256,
        got_len: u64,
    },
    #[error("with its witness the report is {size} bytes, over the {max}-byte bound")]
    Oversized { size: usize, max: usize },
}

/// How a transaction is shown to be in its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inclusion {
    /// The Merkle-Patricia proof of the transaction trie (DeriveSha `orig`): node encodings
    /// from the root down `rlp(index)`. Tag 1.
    Proof(Vec<Vec<u8>>),
    /// Every transaction of the block (a DeriveSha without proofs). Tag 2.
    List(Vec<Vec<u8>>),
}

/// Which evidence a fault kind needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceClass {
    Header,
    Transaction,
    Block,
    Equivocation,
}

impl EvidenceClass {
    /// The class of `kind`, or `None` for a kind no self-contained evidence proves: a block
    /// that does not decode has no header to hold the council to, and a bloom is checked
    /// against receipts a source gave, which no council seal covers.
    pub fn of(kind: FaultKind) -> Option<Self> {
        use FaultKind as K;
        Some(match kind {
            K::MalformedRlp | K::WrongLogsBloom => return None,
            K::BrokenParentHash
            | K::WrongNumber
            | K::EarlyTimestamp
            | K::TailFieldBeforeFork
            | K::MissingTailField
            | K::BadExtra
            | K::BadProposerSeal
            | K::ProposerNotInCouncil
            | K::NonCouncilSeal
            | K::DuplicateSeal
            | K::BadCommittedSeal
            | K::TooManySeals
            | K::BelowQuorum
            | K::BadRandomReveal
            | K::WrongMixHash
            | K::UnknownProposerBlsKey => Self::Header,
            K::MalformedTx
            | K::TxTypeBeforeFork
            | K::BadTxSignature
            | K::HighSSignature
            | K::WrongChainId
            | K::FromMismatch
            | K::BadFeePayerSignature => Self::Transaction,
            K::WrongTxRoot
            | K::NonceGap
            | K::NonceReplay
            | K::InsufficientBalance
            | K::WrongGasUsed
            | K::WrongReceiptsRoot
            | K::WrongStateRoot => Self::Block,
            K::Equivocation => Self::Equivocation,
        })
    }

    fn tag(self) -> u8 {
        match self {
            Self::Header => 1,
            Self::Transaction => 2,
            Self::Block => 3,
            Self::Equivocation => 4,
        }
    }
}

impl Evidence {
    /// The class this evidence belongs to.
    pub fn class(&self) -> EvidenceClass {
        match self {
            Evidence::Header { .. } => EvidenceClass::Header,
            Evidence::Transaction { .. } => EvidenceClass::Transaction,
            Evidence::Block { .. } => EvidenceClass::Block,
            Evidence::Equivocation { .. } => EvidenceClass::Equivocation,
        }
    }

    /// The parent header's bytes (every class carries it).
    pub fn parent(&self) -> &[u8] {
        match self {
            Evidence::Header { parent, .. }
            | Evidence::Transaction { parent, .. }
            | Evidence::Block { parent, .. }
            | Evidence::Equivocation { parent, .. } => parent,
        }
    }

    /// The faulty block's header bytes (for an equivocation, the first one).
    pub fn header(&self) -> &[u8] {
        match self {
            Evidence::Header { header, .. }
            | Evidence::Transaction { header, .. }
            | Evidence::Block { header, .. } => header,
            Evidence::Equivocation { first, .. } => first,
        }
    }

    /// The tag on the wire: a block's detached witness has its own.
    fn tag(&self, detach: bool) -> u8 {
        match self {
            Evidence::Block {
                witness: WitnessPart::Detached { .. },
                ..
            } => 5,
            Evidence::Block { .. } if detach => 5,
            _ => self.class().tag(),
        }
    }

    /// The canonical encoding; with `detach`, a carried witness is encoded as its hash and length
    /// (the form that is signed).
    fn encode(&self, out: &mut dyn BufMut, detach: bool) {
        let mut body = Vec::new();
        self.tag(detach).encode(&mut body);
        match self {
            Evidence::Header { parent, header } => {
                encode_bytes(parent, &mut body);
                encode_bytes(header, &mut body);
            }
            Evidence::Transaction {
                parent,
                header,
                index,
                tx,
                inclusion,
            } => {
                encode_bytes(parent, &mut body);
                encode_bytes(header, &mut body);
                index.encode(&mut body);
                encode_bytes(tx, &mut body);
                let (tag, items) = match inclusion {
                    Inclusion::Proof(p) => (1u8, p),
                    Inclusion::List(l) => (2u8, l),
                };
                let mut inc = Vec::new();
                tag.encode(&mut inc);
                encode_list_of_bytes(items, &mut inc);
                list(&inc, &mut body);
            }
            Evidence::Block {
                parent,
                header,
                transactions,
                witness,
            } => {
                encode_bytes(parent, &mut body);
                encode_bytes(header, &mut body);
                encode_list_of_bytes(transactions, &mut body);
                match witness {
                    WitnessPart::Carried(w) if !detach => encode_bytes(w, &mut body),
                    w => {
                        let (hash, len) = w.named();
                        hash.encode(&mut body);
                        len.encode(&mut body);
                    }
                }
            }
            Evidence::Equivocation {
                parent,
                first,
                second,
            } => {
                encode_bytes(parent, &mut body);
                encode_bytes(first, &mut body);
                encode_bytes(second, &mut body);
            }
        }
        list(&body, out);
    }

    fn decode(mut r: ListReader<'_>) -> Result<Self, DecodeError> {
        let tag = r.u8("evidence tag")?;
        let bytes = |r: &mut ListReader<'_>, f| r.bytes(f).map(<[u8]>::to_vec);
        let e = match tag {
            1 => Evidence::Header {
                parent: bytes(&mut r, "parent header")?,
                header: bytes(&mut r, "header")?,
            },
            2 => {
                let parent = bytes(&mut r, "parent header")?;
                let header = bytes(&mut r, "header")?;
                let index = r.u64("transaction index")?;
                let tx = bytes(&mut r, "transaction")?;
                let mut inc = r.list("inclusion")?;
                let kind = inc.u8("inclusion tag")?;
                let items = read_list_of_bytes(inc.list("inclusion items")?)?;
                inc.finish()?;
                let inclusion = match kind {
                    1 => Inclusion::Proof(items),
                    2 => Inclusion::List(items),
                    t => {
                        return Err(DecodeError::Invalid {
                            field: "inclusion tag",
                            reason: format!("{t} (expected 1 = proof or 2 = list)"),
                        });
                    }
                };
                Evidence::Transaction {
                    parent,
                    header,
                    index,
                    tx,
                    inclusion,
                }
            }
            3 | 5 => {
                let parent = bytes(&mut r, "parent header")?;
                let header = bytes(&mut r, "header")?;
                let transactions = read_list_of_bytes(r.list("transactions")?)?;
                let witness = if tag == 3 {
                    WitnessPart::Carried(bytes(&mut r, "witness")?)
                } else {
                    let hash = r.b256("witness hash")?;
                    let len = r.u64("witness length")?;
                    // An empty witness is always carried: one form per report.
                    if len == 0 {
                        return Err(DecodeError::Invalid {
                            field: "witness length",
                            reason: "0: an empty witness is carried, never detached".into(),
                        });
                    }
                    if len > MAX_REPORT_BYTES as u64 {
                        return Err(DecodeError::Invalid {
                            field: "witness length",
                            reason: format!("{len} bytes, over the {MAX_REPORT_BYTES}-byte bound"),
                        });
                    }
                    WitnessPart::Detached { hash, len }
                };
                Evidence::Block {
                    parent,
                    header,
                    transactions,
                    witness,
                }
            }
            4 => Evidence::Equivocation {
                parent: bytes(&mut r, "parent header")?,
                first: bytes(&mut r, "first header")?,
                second: bytes(&mut r, "second header")?,
            },
            t => {
                return Err(DecodeError::Invalid {
                    field: "evidence tag",
                    reason: format!(
                        "{t} (expected 1 = header, 2 = transaction, 3 = block, 4 = equivocation, 5 = block with its witness detached)"
                    ),
                });
            }
        };
        r.finish()?;
        Ok(e)
    }

    /// The evidence's size in canonical bytes.
    pub fn encoded_len(&self) -> usize {
        let mut v = Vec::new();
        self.encode(&mut v, false);
        v.len()
    }
}

/// A signed fault report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultReport {
    pub chain_id: u64,
    /// The faulty block's height.
    pub block_number: u64,
    /// The faulty block's hash (an equivocation's first header).
    pub block_hash: B256,
    pub kind: FaultKind,
    pub evidence: Evidence,
    pub reporter: Address,
    pub signature: Signature65,
}

/// Why report bytes do not make a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeReportError {
    #[error("the report is {size} bytes, over the {max}-byte bound")]
    Oversized { size: usize, max: usize },
    #[error("the report does not decode: {0}")]
    Malformed(String),
}

impl FaultReport {
    /// Signs a report of `kind` at height `block_number` with `key`.
    pub fn sign(
        chain_id: u64,
        block_number: u64,
        block_hash: B256,
        kind: FaultKind,
        evidence: Evidence,
        key: &SigningKey,
    ) -> Self {
        let mut r = FaultReport {
            chain_id,
            block_number,
            block_hash,
            kind,
            evidence,
            reporter: key.address(),
            signature: Signature65([0; 65]),
        };
        r.signature = key.sign(&r.signing_hash());
        r
    }

    /// What the reporter signs.
    pub fn signing_hash(&self) -> B256 {
        let mut body = Vec::new();
        self.encode_unsigned_fields(&mut body, true);
        let mut unsigned = Vec::with_capacity(body.len() + 8);
        list(&body, &mut unsigned);
        crate::crypto::keccak256_concat(&[SIGNING_DOMAIN, &unsigned])
    }

    /// Who signed the report (checked against `reporter` by `check`).
    pub fn signer(&self) -> Result<Address, RecoverError> {
        recover_address(&self.signing_hash(), &self.signature)
    }

    /// The id every ranger gives this fault (see the module notes).
    pub fn fault_id(&self) -> B256 {
        let mut pre = Vec::with_capacity(128);
        pre.extend_from_slice(&self.chain_id.to_be_bytes());
        pre.extend_from_slice(self.kind.as_str().as_bytes());
        pre.extend_from_slice(&self.block_number.to_be_bytes());
        match &self.evidence {
            Evidence::Equivocation { first, second, .. } => {
                let mut h = [keccak256_header(first), keccak256_header(second)];
                h.sort();
                pre.extend_from_slice(h[0].as_slice());
                pre.extend_from_slice(h[1].as_slice());
            }
            Evidence::Transaction { tx, .. } => {
                pre.extend_from_slice(self.block_hash.as_slice());
                pre.extend_from_slice(keccak256(tx).as_slice());
            }
            Evidence::Header { .. } | Evidence::Block { .. } => {
                pre.extend_from_slice(self.block_hash.as_slice());
            }
        }
        keccak256(&pre)
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        self.encode_unsigned_fields(&mut body, false);
        encode_bytes(&self.signature.0, &mut body);
        let mut out = Vec::with_capacity(body.len() + 8);
        list(&body, &mut out);
        out
    }

    fn encode_unsigned_fields(&self, body: &mut Vec<u8>, detach: bool) {
        self.chain_id.encode(body);
        self.block_number.encode(body);
        self.block_hash.encode(body);
        self.kind.as_str().as_bytes().encode(body);
        self.evidence.encode(body, detach);
        self.reporter.encode(body);
    }

    /// The hash and length of a witness this report names but does not carry: what must be
    /// fetched (and attached) before it can be checked.
    pub fn missing_witness(&self) -> Option<(B256, u64)> {
        match &self.evidence {
            Evidence::Block {
                witness: WitnessPart::Detached { hash, len },
                ..
            } => Some((*hash, *len)),
            _ => None,
        }
    }

    /// Takes a carried, non-empty witness out of the report, leaving its hash and length (the
    /// signature stays valid); `None` when there is none to take.
    pub fn detach_witness(&mut self) -> Option<Vec<u8>> {
        let Evidence::Block { witness, .. } = &mut self.evidence else {
            return None;
        };
        match witness {
            WitnessPart::Carried(w) if !w.is_empty() => {
                let (hash, len) = witness.named();
                match std::mem::replace(witness, WitnessPart::Detached { hash, len }) {
                    WitnessPart::Carried(w) => Some(w),
                    WitnessPart::Detached { .. } => None,
                }
            }
            _ => None,
        }
    }

    /// Puts back the witness the report names (its hash and length must match).
    pub fn attach_witness(&mut self, bytes: Vec<u8>) -> Result<(), AttachError> {
        let (hash, len) = self.missing_witness().ok_or(AttachError::NothingDetached)?;
        let got = keccak256(&bytes);
        if got != hash || bytes.len() as u64 != len {
            return Err(AttachError::NotTheNamedWitness {
                hash,
                len,
                got,
                got_len: bytes.len() as u64,
            });
        }
        let Evidence::Block { witness, .. } = &mut self.evidence else {
            return Err(AttachError::NothingDetached);
        };
        let detached = std::mem::replace(witness, WitnessPart::Carried(bytes));
        // The whole report stays within the bound every reader holds it to.
        let size = self.encode().len();
        if size > MAX_REPORT_BYTES {
            if let Evidence::Block { witness, .. } = &mut self.evidence {
                *witness = detached;
            }
            return Err(AttachError::Oversized {
                size,
                max: MAX_REPORT_BYTES,
            });
        }
        Ok(())
    }

    /// Decodes canonical bytes (bounded by `MAX_REPORT_BYTES`); says nothing of whether the
    /// report is true (`check` does).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeReportError> {
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(DecodeReportError::Oversized {
                size: bytes.len(),
                max: MAX_REPORT_BYTES,
            });
        }
        Self::decode_fields(bytes).map_err(|e| DecodeReportError::Malformed(e.to_string()))
    }

    fn decode_fields(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = ListReader::from_bytes(bytes, "fault report")?;
        let chain_id = r.u64("chain id")?;
        let block_number = r.u64("block number")?;
        let block_hash = r.b256("block hash")?;
        let kind = std::str::from_utf8(r.bytes("kind")?)
            .map_err(|_| DecodeError::Invalid {
                field: "kind",
                reason: "not UTF-8".into(),
            })?
            .parse::<FaultKind>()
            .map_err(|reason| DecodeError::Invalid {
                field: "kind",
                reason,
            })?;
        let evidence = Evidence::decode(r.list("evidence")?)?;
        let reporter = r.address("reporter")?;
        let signature = Signature65(r.fixed::<65>("signature")?);
        r.finish()?;
        let report = FaultReport {
            chain_id,
            block_number,
            block_hash,
            kind,
            evidence,
            reporter,
            signature,
        };
        // Canonical means one encoding: what decodes must encode back to the same bytes.
        if report.encode() != bytes {
            return Err(DecodeError::Invalid {
                field: "fault report",
                reason: "not in canonical form (it encodes back to other bytes)".into(),
            });
        }
        Ok(report)
    }
}

/// The commitment a reporter makes before revealing its report to a council:
/// `keccak256(fault_id ‖ reporter ‖ salt)`. It binds the fault and the reporter without showing
/// either, so nobody can copy the report from it, and nobody but the reporter can open it.
pub fn commitment(fault_id: &B256, reporter: &Address, salt: &B256) -> B256 {
    crate::crypto::keccak256_concat(&[fault_id.as_slice(), reporter.as_slice(), salt.as_slice()])
}

/// keccak256 of bytes that should be a header (the Istanbul hash needs a decoded header; the
/// fault id only needs a stable name for the bytes, and the checker ties the two together).
fn keccak256_header(bytes: &[u8]) -> B256 {
    match crate::codec::header::decode_header(bytes) {
        Ok(h) => crate::consensus::istanbul::block_hash(&h),
        Err(_) => keccak256(bytes),
    }
}

fn encode_bytes(b: &[u8], out: &mut dyn BufMut) {
    b.encode(out);
}

fn list(body: &[u8], out: &mut dyn BufMut) {
    RlpHeader {
        list: true,
        payload_length: body.len(),
    }
    .encode(out);
    out.put_slice(body);
}

fn encode_list_of_bytes(items: &[Vec<u8>], out: &mut dyn BufMut) {
    let mut body = Vec::new();
    for i in items {
        encode_bytes(i, &mut body);
    }
    list(&body, out);
}

fn read_list_of_bytes(mut r: ListReader<'_>) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(r.bytes("item")?.to_vec());
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
