//! Transactions of every type Kaia accepts: legacy, the Kaia-native types 0x08–0x4a (field layouts
//! from KAIA.md §1, table-driven) and the Ethereum-typed 0x7801–0x7804.

use alloy_primitives::{Address, B256, Bytes, U256};

/// A transaction type: 0 for legacy, the type byte for Kaia types, 0x78XX for Ethereum-typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxType(pub u16);

/// One signed field of a Kaia-native transaction, in the order of its type's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KaiaField {
    Nonce,
    GasPrice,
    Gas,
    /// A 20-byte recipient.
    To,
    /// A recipient that must be nil (`0x80`) in a valid deploy, but decodes either way.
    ToOpt,
    Value,
    From,
    /// Payload: input, memo or anchored data.
    Input,
    HumanReadable,
    CodeFormat,
    FeeRatio,
    /// An RLP-serialized AccountKey, wrapped as a byte string.
    Key,
}

use KaiaField as F;

const VT: &[F] = &[F::Nonce, F::GasPrice, F::Gas, F::To, F::Value, F::From];
const VT_R: &[F] = &[
    F::Nonce,
    F::GasPrice,
    F::Gas,
    F::To,
    F::Value,
    F::From,
    F::FeeRatio,
];
const MEMO: &[F] = &[
    F::Nonce,
    F::GasPrice,
    F::Gas,
    F::To,
    F::Value,
    F::From,
    F::Input,
];
const MEMO_R: &[F] = &[
    F::Nonce,
    F::GasPrice,
    F::Gas,
    F::To,
    F::Value,
    F::From,
    F::Input,
    F::FeeRatio,
];
const ACC_UPD: &[F] = &[F::Nonce, F::GasPrice, F::Gas, F::From, F::Key];
const ACC_UPD_R: &[F] = &[F::Nonce, F::GasPrice, F::Gas, F::From, F::Key, F::FeeRatio];
const DEPLOY: &[F] = &[
    F::Nonce,
    F::GasPrice,
    F::Gas,
    F::ToOpt,
    F::Value,
    F::From,
    F::Input,
    F::HumanReadable,
    F::CodeFormat,
];
const DEPLOY_R: &[F] = &[
    F::Nonce,
    F::GasPrice,
    F::Gas,
    F::ToOpt,
    F::Value,
    F::From,
    F::Input,
    F::HumanReadable,
    F::FeeRatio,
    F::CodeFormat,
];
const CANCEL: &[F] = &[F::Nonce, F::GasPrice, F::Gas, F::From];
const CANCEL_R: &[F] = &[F::Nonce, F::GasPrice, F::Gas, F::From, F::FeeRatio];
const ANCHOR: &[F] = &[F::Nonce, F::GasPrice, F::Gas, F::From, F::Input];
const ANCHOR_R: &[F] = &[
    F::Nonce,
    F::GasPrice,
    F::Gas,
    F::From,
    F::Input,
    F::FeeRatio,
];

impl TxType {
    pub const LEGACY: TxType = TxType(0);
    pub const VALUE_TRANSFER: TxType = TxType(0x08);
    pub const FD_VALUE_TRANSFER: TxType = TxType(0x09);
    pub const FD_VALUE_TRANSFER_RATIO: TxType = TxType(0x0a);
    pub const VALUE_TRANSFER_MEMO: TxType = TxType(0x10);
    pub const FD_VALUE_TRANSFER_MEMO: TxType = TxType(0x11);
    pub const FD_VALUE_TRANSFER_MEMO_RATIO: TxType = TxType(0x12);
    pub const ACCOUNT_CREATION: TxType = TxType(0x18);
    pub const ETH_ACCESS_LIST: TxType = TxType(0x7801);
    pub const ETH_DYNAMIC_FEE: TxType = TxType(0x7802);
    pub const ETH_BLOB: TxType = TxType(0x7803);
    pub const ETH_SET_CODE: TxType = TxType(0x7804);

    /// Every type this crate decodes: legacy, the 21 Kaia-native types, the 4 Ethereum-typed.
    pub const ALL: [TxType; 26] = [
        TxType(0),
        TxType(0x08),
        TxType(0x09),
        TxType(0x0a),
        TxType(0x10),
        TxType(0x11),
        TxType(0x12),
        TxType(0x20),
        TxType(0x21),
        TxType(0x22),
        TxType(0x28),
        TxType(0x29),
        TxType(0x2a),
        TxType(0x30),
        TxType(0x31),
        TxType(0x32),
        TxType(0x38),
        TxType(0x39),
        TxType(0x3a),
        TxType(0x48),
        TxType(0x49),
        TxType(0x4a),
        TxType(0x7801),
        TxType(0x7802),
        TxType(0x7803),
        TxType(0x7804),
    ];

    /// The signed-field layout of a Kaia-native type, or `None` for other types.
    pub fn kaia_layout(self) -> Option<&'static [KaiaField]> {
        Some(match self.0 {
            0x08 | 0x09 => VT,
            0x0a => VT_R,
            0x10 | 0x11 | 0x30 | 0x31 => MEMO,
            0x12 | 0x32 => MEMO_R,
            0x20 | 0x21 => ACC_UPD,
            0x22 => ACC_UPD_R,
            0x28 | 0x29 => DEPLOY,
            0x2a => DEPLOY_R,
            0x38 | 0x39 => CANCEL,
            0x3a => CANCEL_R,
            0x48 | 0x49 => ANCHOR,
            0x4a => ANCHOR_R,
            _ => return None,
        })
    }

    /// True for the Kaia-native types.
    pub fn is_kaia(self) -> bool {
        self.kaia_layout().is_some()
    }

    /// True for 0x7801..=0x7804.
    pub fn is_eth(self) -> bool {
        (0x7801..=0x7804).contains(&self.0)
    }

    /// The Ethereum type byte (1..=4) of an Ethereum-typed transaction.
    pub fn eth_byte(self) -> u8 {
        (self.0 & 0xff) as u8
    }

    /// True for fee-delegated Kaia types (with or without ratio).
    pub fn is_fee_delegated(self) -> bool {
        self.is_kaia() && !self.0.is_multiple_of(8)
    }

    /// True for fee-delegated-with-ratio Kaia types.
    pub fn has_fee_ratio(self) -> bool {
        self.is_kaia() && self.0 % 8 == 2
    }

    /// The Go name of the type, as Kaia's code calls it.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "Legacy",
            0x08 => "ValueTransfer",
            0x09 => "FeeDelegatedValueTransfer",
            0x0a => "FeeDelegatedValueTransferWithRatio",
            0x10 => "ValueTransferMemo",
            0x11 => "FeeDelegatedValueTransferMemo",
            0x12 => "FeeDelegatedValueTransferMemoWithRatio",
            0x18 => "AccountCreation",
            0x20 => "AccountUpdate",
            0x21 => "FeeDelegatedAccountUpdate",
            0x22 => "FeeDelegatedAccountUpdateWithRatio",
            0x28 => "SmartContractDeploy",
            0x29 => "FeeDelegatedSmartContractDeploy",
            0x2a => "FeeDelegatedSmartContractDeployWithRatio",
            0x30 => "SmartContractExecution",
            0x31 => "FeeDelegatedSmartContractExecution",
            0x32 => "FeeDelegatedSmartContractExecutionWithRatio",
            0x38 => "Cancel",
            0x39 => "FeeDelegatedCancel",
            0x3a => "FeeDelegatedCancelWithRatio",
            0x48 => "ChainDataAnchoring",
            0x49 => "FeeDelegatedChainDataAnchoring",
            0x4a => "FeeDelegatedChainDataAnchoringWithRatio",
            0x7801 => "EthereumAccessList",
            0x7802 => "EthereumDynamicFee",
            0x7803 => "EthereumBlob",
            0x7804 => "EthereumSetCode",
            _ => "Unknown",
        }
    }
}

impl std::fmt::Display for TxType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_eth() {
            write!(f, "0x{:04x}", self.0)
        } else {
            write!(f, "0x{:02x}", self.0)
        }
    }
}

/// One `[v, r, s]` signature as carried by a transaction (v is a big integer in Kaia).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxSig {
    pub v: U256,
    pub r: U256,
    pub s: U256,
}

/// Fields of a legacy transaction (signature kept in `Transaction::signatures`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LegacyFields {
    pub nonce: u64,
    pub gas_price: U256,
    pub gas: u64,
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
}

/// Fields of a Kaia-native transaction. Only the fields of the type's layout are encoded;
/// the others stay at their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KaiaFields {
    pub nonce: u64,
    pub gas_price: U256,
    pub gas: u64,
    pub to: Option<Address>,
    pub value: U256,
    pub from: Address,
    pub input: Bytes,
    pub human_readable: bool,
    pub code_format: u8,
    pub fee_ratio: u8,
    pub key: Bytes,
}

/// Fields of an Ethereum-typed transaction (0x7801..=0x7804).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EthFields {
    pub chain_id: U256,
    pub nonce: u64,
    /// gasPrice for 0x7801; gasTipCap for the others.
    pub gas_tip_cap: U256,
    /// gasFeeCap (unused for 0x7801).
    pub gas_fee_cap: U256,
    pub gas: u64,
    pub to: Option<Address>,
    pub value: U256,
    pub data: Bytes,
    /// The access list, kept as its RLP list item (validated on decode).
    pub access_list: Bytes,
    /// 0x7803 only.
    pub blob_fee_cap: U256,
    /// 0x7803 only.
    pub blob_hashes: Vec<B256>,
    /// 0x7804 only: the authorization list as its RLP list item.
    pub authorizations: Bytes,
}

/// The typed body of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxBody {
    Legacy(LegacyFields),
    Kaia(KaiaFields),
    /// Boxed: the Ethereum envelope is the largest body and the rarest, so boxing it keeps every
    /// decoded transaction in a window small.
    Eth(Box<EthFields>),
}

/// A transaction with its signatures and the raw bytes it was decoded from (or encodes to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub tx_type: TxType,
    pub body: TxBody,
    /// Sender signatures: one for legacy and Ethereum-typed, one or more (multisig) for Kaia.
    pub signatures: Vec<TxSig>,
    /// Fee-delegated types only.
    pub fee_payer: Option<Address>,
    pub fee_payer_signatures: Vec<TxSig>,
    /// The canonical raw form: `type || RLP(...)`, `0x78 || ethType || RLP(...)`, or `RLP(...)`.
    pub raw: Bytes,
}

impl Transaction {
    /// The explicit `from` of a Kaia-native transaction.
    pub fn from_field(&self) -> Option<Address> {
        match &self.body {
            TxBody::Kaia(k) => Some(k.from),
            _ => None,
        }
    }

    /// Nonce, whatever the type.
    pub fn nonce(&self) -> u64 {
        match &self.body {
            TxBody::Legacy(l) => l.nonce,
            TxBody::Kaia(k) => k.nonce,
            TxBody::Eth(e) => e.nonce,
        }
    }

    /// Recipient, whatever the type (None for creation or types without one).
    pub fn to(&self) -> Option<Address> {
        match &self.body {
            TxBody::Legacy(l) => l.to,
            TxBody::Kaia(k) => k.to,
            TxBody::Eth(e) => e.to,
        }
    }

    /// Value transferred.
    pub fn value(&self) -> U256 {
        match &self.body {
            TxBody::Legacy(l) => l.value,
            TxBody::Kaia(k) => k.value,
            TxBody::Eth(e) => e.value,
        }
    }

    /// Gas limit.
    pub fn gas(&self) -> u64 {
        match &self.body {
            TxBody::Legacy(l) => l.gas,
            TxBody::Kaia(k) => k.gas,
            TxBody::Eth(e) => e.gas,
        }
    }

    /// Input, memo or anchored data.
    pub fn input(&self) -> &Bytes {
        match &self.body {
            TxBody::Legacy(l) => &l.input,
            TxBody::Kaia(k) => &k.input,
            TxBody::Eth(e) => &e.data,
        }
    }

    /// Fee ratio (percent paid by the fee payer) for ratio types.
    pub fn fee_ratio(&self) -> Option<u8> {
        match &self.body {
            TxBody::Kaia(k) if self.tx_type.has_fee_ratio() => Some(k.fee_ratio),
            _ => None,
        }
    }
}
