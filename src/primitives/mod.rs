//! The data types of a Kaia chain: headers with their Istanbul extra, transactions of every type,
//! blocks and receipts. Codecs live in `crate::codec`; checks in `crate::consensus`.

mod header;
mod tx;

pub use header::{Header, IstanbulExtra};
pub use tx::{EthFields, KaiaField, KaiaFields, LegacyFields, Transaction, TxBody, TxSig, TxType};

/// A block: its header and its transactions, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub transactions: Vec<Transaction>,
}

/// A devnet receipt: `[status, gasUsed of this tx, bloom, logs]` with no logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub status: u64,
    pub gas_used: u64,
}
