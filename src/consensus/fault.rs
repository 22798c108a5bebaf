//! The catalog of faults a block can have. Each kind has a stable kebab-case name: verdicts,
//! reports, the devnet's fault injection and the tests all speak these names.

use serde::Serialize;

macro_rules! fault_kinds {
    ($($variant:ident => $name:literal : $about:literal,)*) => {
        /// What is wrong with a block.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(into = "&'static str")]
        pub enum FaultKind { $($variant,)* }

        impl FaultKind {
            /// Every kind, in catalog order.
            pub const ALL: &'static [FaultKind] = &[$(FaultKind::$variant,)*];
            /// The stable name.
            pub fn as_str(self) -> &'static str {
                match self { $(FaultKind::$variant => $name,)* }
            }
            /// One line on what the kind means.
            pub fn about(self) -> &'static str {
                match self { $(FaultKind::$variant => $about,)* }
            }
        }
    };
}

fault_kinds! {
    MalformedRlp => "malformed-rlp": "the block's bytes do not decode as a Kaia block",
    BrokenParentHash => "broken-parent-hash": "parentHash is not the previous block's hash",
    WrongNumber => "wrong-number": "number is not the previous block's number + 1",
    EarlyTimestamp => "early-timestamp": "timestamp is earlier than parent time + block period",
    TailFieldBeforeFork => "tail-field-before-fork": "the header carries a field its fork has not activated yet",
    MissingTailField => "missing-tail-field": "the header lacks a field its fork requires",
    BadExtra => "bad-extra": "the Istanbul extra-data does not decode",
    BadProposerSeal => "bad-proposer-seal": "the proposer seal is malformed or recovers no key",
    ProposerNotInCouncil => "proposer-not-in-council": "the proposer seal recovers to an address outside the council",
    NonCouncilSeal => "non-council-seal": "a committed seal recovers to an address outside the council",
    DuplicateSeal => "duplicate-seal": "two committed seals recover to the same member",
    BadCommittedSeal => "bad-committed-seal": "a committed seal is malformed or recovers no key",
    TooManySeals => "too-many-seals": "more committed seals than council members",
    BelowQuorum => "below-quorum": "fewer valid distinct committed seals than 2F+1",
    BadRandomReveal => "bad-random-reveal": "the randao reveal is not the proposer's BLS signature of the block number",
    WrongMixHash => "wrong-mix-hash": "mixHash is not parent mixHash XOR keccak256(randomReveal)",
    UnknownProposerBlsKey => "unknown-proposer-bls-key": "the context has BLS keys but none for this proposer",
    MalformedTx => "malformed-tx": "a transaction does not decode or breaks a field rule",
    TxTypeBeforeFork => "tx-type-before-fork": "a transaction type not yet accepted at this block",
    BadTxSignature => "bad-tx-signature": "a sender signature is malformed or recovers no key",
    HighSSignature => "high-s-signature": "a transaction signature has s above n/2",
    WrongChainId => "wrong-chain-id": "a transaction is signed for another chain id",
    FromMismatch => "from-mismatch": "a transaction's from is not the key that signed it",
    BadFeePayerSignature => "bad-fee-payer-signature": "a fee-payer signature is malformed, high-s, or not the fee payer's",
    WrongTxRoot => "wrong-tx-root": "transactionsRoot does not match the block's transactions",
    NonceGap => "nonce-gap": "a transaction's nonce is above its sender's next nonce",
    NonceReplay => "nonce-replay": "a transaction's nonce was already used",
    InsufficientBalance => "insufficient-balance": "a sender or fee payer cannot pay value plus fee",
    WrongGasUsed => "wrong-gas-used": "gasUsed does not match the replayed transactions, or the receipts receiptsRoot commits to",
    WrongLogsBloom => "wrong-logs-bloom": "logsBloom is not the union of the blooms of the receipts receiptsRoot commits to",
    WrongReceiptsRoot => "wrong-receipts-root": "receiptsRoot does not match the replayed receipts",
    WrongStateRoot => "wrong-state-root": "stateRoot does not match the replayed state",
    Equivocation => "equivocation": "the council committed two different blocks at one height (sources or rangers were given different blocks, each with a quorum of seals)",
}

impl From<FaultKind> for &'static str {
    fn from(k: FaultKind) -> Self {
        k.as_str()
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FaultKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown fault kind {s:?}"))
    }
}

/// One fault with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub got: Option<String>,
}

impl Fault {
    /// A fault with a detail line.
    pub fn new(kind: FaultKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            tx_index: None,
            expected: None,
            got: None,
        }
    }
    /// Adds expected-vs-got evidence.
    pub fn expected_got(mut self, expected: impl ToString, got: impl ToString) -> Self {
        self.expected = Some(expected.to_string());
        self.got = Some(got.to_string());
        self
    }
    /// Names the transaction.
    pub fn at_tx(mut self, index: usize) -> Self {
        self.tx_index = Some(index);
        self
    }
}
