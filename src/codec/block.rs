//! Block codec: `RLP([header, [tx...]])` with Kaia's in-list transaction framing, and the
//! sniffing of user input (hex or binary; a whole block or a bare header).

use super::DecodeError;
use super::header::{encode_header, read_header};
use super::rlp::{ListReader, single_item, wrap_list};
use super::tx::{decode_tx, next_tx_in_block};
use crate::primitives::{Block, Header};

/// Blocks larger than this are rejected before decoding: Kaia's largest possible block (gas limit
/// bound by 100 gas per payload byte) stays far below it.
pub const MAX_BLOCK_BYTES: usize = 64 * 1024 * 1024;

/// Decodes a whole block.
pub fn decode_block(raw: &[u8]) -> Result<Block, DecodeError> {
    if raw.len() > MAX_BLOCK_BYTES {
        return Err(DecodeError::TooLarge {
            len: raw.len(),
            max: MAX_BLOCK_BYTES,
        });
    }
    let mut r = ListReader::from_bytes(raw, "block")?;
    let header = read_header(r.list("header")?)?;
    let mut txl = r.list("transactions")?;
    let mut transactions = Vec::new();
    while !txl.is_empty() {
        let index = transactions.len();
        let raw_tx = next_tx_in_block(&mut txl)?;
        let tx = decode_tx(raw_tx).map_err(|e| DecodeError::Tx {
            index,
            source: Box::new(e),
        })?;
        transactions.push(tx);
    }
    r.finish()?;
    Ok(Block {
        header,
        transactions,
    })
}

/// Either a whole block or a bare header, as a user may hand us either.
#[derive(Debug, Clone)]
pub enum BlockOrHeader {
    Block(Block),
    Header(Header),
}

/// Decodes a block, or a header when the first list item is not itself a list.
pub fn decode_block_or_header(raw: &[u8]) -> Result<BlockOrHeader, DecodeError> {
    let item = single_item(raw, "block")?;
    let mut r = ListReader::new(item, "block")?;
    let first = r.item("header")?;
    if first.is_list {
        decode_block(raw).map(BlockOrHeader::Block)
    } else {
        super::header::decode_header(raw).map(BlockOrHeader::Header)
    }
}

/// Encodes a block (transactions from their raw bytes).
pub fn encode_block(b: &Block) -> Vec<u8> {
    let mut txs = Vec::new();
    for tx in &b.transactions {
        txs.extend_from_slice(&tx.raw);
    }
    let mut p = encode_header(&b.header);
    p.extend_from_slice(&wrap_list(&txs));
    wrap_list(&p)
}
