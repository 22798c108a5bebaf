//! A field-by-field RLP reader over borrowed bytes, built on `alloy_rlp::Header` (which enforces
//! canonical encoding), and the few encoding helpers the codecs share. Every error names the field
//! it was reading, so a user learns *where* an input is malformed, not only that it is.

use super::DecodeError;
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::{BufMut, Decodable, Encodable, Header};

/// One RLP item as it sits in its input.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The whole encoding, header included.
    pub raw: &'a [u8],
    /// The payload (for a single byte < 0x80, the byte itself).
    pub payload: &'a [u8],
    pub is_list: bool,
}

/// Splits the first item off `buf`.
pub fn next_item<'a>(buf: &mut &'a [u8], what: &'static str) -> Result<Item<'a>, DecodeError> {
    let start = *buf;
    let h = Header::decode(buf).map_err(|e| DecodeError::rlp(what, e))?;
    let payload = &buf[..h.payload_length];
    *buf = &buf[h.payload_length..];
    let used = start.len() - buf.len();
    Ok(Item {
        raw: &start[..used],
        payload,
        is_list: h.list,
    })
}

/// Reads the single item that must make up all of `input` (no trailing bytes).
pub fn single_item<'a>(input: &'a [u8], what: &'static str) -> Result<Item<'a>, DecodeError> {
    let mut buf = input;
    let item = next_item(&mut buf, what)?;
    if !buf.is_empty() {
        return Err(DecodeError::TrailingBytes {
            what,
            count: buf.len(),
        });
    }
    Ok(item)
}

/// Reads the fields of one RLP list in order.
#[derive(Debug, Clone)]
pub struct ListReader<'a> {
    rest: &'a [u8],
    what: &'static str,
    index: usize,
}

impl<'a> ListReader<'a> {
    /// A reader over a list item.
    pub fn new(item: Item<'a>, what: &'static str) -> Result<Self, DecodeError> {
        if !item.is_list {
            return Err(DecodeError::rlp(what, alloy_rlp::Error::UnexpectedString));
        }
        Ok(Self {
            rest: item.payload,
            what,
            index: 0,
        })
    }

    /// A reader over the list that makes up all of `input`.
    pub fn from_bytes(input: &'a [u8], what: &'static str) -> Result<Self, DecodeError> {
        Self::new(single_item(input, what)?, what)
    }

    /// True when every item was read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Items read so far.
    pub fn position(&self) -> usize {
        self.index
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// The next item, whatever it is.
    pub fn item(&mut self, field: &'static str) -> Result<Item<'a>, DecodeError> {
        if self.rest.is_empty() {
            return Err(DecodeError::MissingField {
                what: self.what,
                field,
            });
        }
        self.index += 1;
        next_item(&mut self.rest, field)
    }

    /// The next item as a byte string.
    pub fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let it = self.item(field)?;
        if it.is_list {
            return Err(DecodeError::rlp(field, alloy_rlp::Error::UnexpectedList));
        }
        Ok(it.payload)
    }

    /// The next item as a byte string of exactly `N` bytes.
    pub fn fixed<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let b = self.bytes(field)?;
        b.try_into().map_err(|_| DecodeError::Length {
            field,
            expected: N,
            got: b.len(),
        })
    }

    /// The next item as a 32-byte hash.
    pub fn b256(&mut self, field: &'static str) -> Result<B256, DecodeError> {
        self.fixed::<32>(field).map(B256::from)
    }

    /// The next item as a 20-byte address.
    pub fn address(&mut self, field: &'static str) -> Result<Address, DecodeError> {
        self.fixed::<20>(field).map(Address::from)
    }

    /// The next item as an optional address: the empty string is `None` (contract creation).
    pub fn opt_address(&mut self, field: &'static str) -> Result<Option<Address>, DecodeError> {
        let b = self.bytes(field)?;
        match b.len() {
            0 => Ok(None),
            20 => Ok(Some(Address::from_slice(b))),
            got => Err(DecodeError::Length {
                field,
                expected: 20,
                got,
            }),
        }
    }

    fn decode_with<T: Decodable>(&mut self, field: &'static str) -> Result<T, DecodeError> {
        let it = self.item(field)?;
        let mut raw = it.raw;
        T::decode(&mut raw).map_err(|e| DecodeError::rlp(field, e))
    }

    /// The next item as a canonical unsigned integer of at most 64 bits.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        self.decode_with(field)
    }

    /// The next item as a canonical unsigned integer of at most 8 bits.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.decode_with(field)
    }

    /// The next item as a canonical unsigned integer of at most 256 bits.
    pub fn u256(&mut self, field: &'static str) -> Result<U256, DecodeError> {
        self.decode_with(field)
    }

    /// The next item as a boolean: `0x80` false, `0x01` true, anything else an error.
    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::rlp(
                field,
                alloy_rlp::Error::Custom("boolean is not 0 or 1"),
            )),
        }
    }

    /// The next item as a nested list.
    pub fn list(&mut self, field: &'static str) -> Result<ListReader<'a>, DecodeError> {
        let it = self.item(field)?;
        ListReader::new(it, field)
    }

    /// Ends the list: an error when items are left.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            return Ok(());
        }
        let mut rest = self.rest;
        let mut extra = 0;
        while !rest.is_empty() {
            next_item(&mut rest, self.what)?;
            extra += 1;
        }
        Err(DecodeError::ExtraFields {
            what: self.what,
            expected: self.index,
            extra,
        })
    }
}

/// Writes a list header for a payload of `len` bytes.
pub fn list_header(len: usize, out: &mut dyn BufMut) {
    Header {
        list: true,
        payload_length: len,
    }
    .encode(out);
}

/// Writes a byte-string item.
pub fn put_bytes(b: &[u8], out: &mut dyn BufMut) {
    b.encode(out);
}

/// Wraps already-encoded items into a list.
pub fn wrap_list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 9);
    list_header(payload.len(), &mut out);
    out.extend_from_slice(payload);
    out
}

/// Encodes a value to a fresh vector.
pub fn encode<T: Encodable + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}
