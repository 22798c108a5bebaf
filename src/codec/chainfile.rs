//! The chain file: a framed stream of RLP blocks, written by the devnet and read by `verify`.
//!
//! Layout: the 8-byte magic `RANGER01`, then for each block a 4-byte big-endian length and that
//! many bytes of block RLP. Framing is separate from decoding on purpose: a frame whose bytes are
//! not a valid block is a *block* fault (`malformed-rlp`) at a known height, while a broken frame
//! (truncated file, absurd length) means the *file* is bad and nothing after it can be judged.

use std::io::{self, Read, Write};

/// The file magic.
pub const MAGIC: &[u8; 8] = b"RANGER01";
/// A frame longer than this is a broken file, not a block.
pub const MAX_FRAME: u32 = super::block::MAX_BLOCK_BYTES as u32;

/// Why a chain file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChainFileError {
    #[error("chain file I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("not a ranger chain file (magic is {0:?}, expected \"RANGER01\")")]
    BadMagic(Vec<u8>),
    #[error("frame {index}: length {len} exceeds the limit of {MAX_FRAME} bytes")]
    FrameTooLarge { index: u64, len: u32 },
    #[error("frame {index}: file ends inside the frame ({got} of {expected} bytes)")]
    Truncated {
        index: u64,
        expected: usize,
        got: usize,
    },
}

/// Reads frames one at a time; memory stays at one frame.
#[derive(Debug)]
pub struct ChainReader<R> {
    inner: R,
    index: u64,
}

impl<R: Read> ChainReader<R> {
    /// Checks the magic and positions on the first frame.
    pub fn new(mut inner: R) -> Result<Self, ChainFileError> {
        let mut m = [0u8; 8];
        let got = read_full(&mut inner, &mut m)?;
        if got != 8 || &m != MAGIC {
            return Err(ChainFileError::BadMagic(m[..got].to_vec()));
        }
        Ok(Self { inner, index: 0 })
    }

    /// The next frame's bytes, `None` at a clean end of file.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, ChainFileError> {
        let mut len = [0u8; 4];
        let got = read_full(&mut self.inner, &mut len)?;
        if got == 0 {
            return Ok(None);
        }
        if got < 4 {
            return Err(ChainFileError::Truncated {
                index: self.index,
                expected: 4,
                got,
            });
        }
        let len = u32::from_be_bytes(len);
        if len > MAX_FRAME {
            return Err(ChainFileError::FrameTooLarge {
                index: self.index,
                len,
            });
        }
        let mut buf = vec![0u8; len as usize];
        let got = read_full(&mut self.inner, &mut buf)?;
        if got < buf.len() {
            return Err(ChainFileError::Truncated {
                index: self.index,
                expected: buf.len(),
                got,
            });
        }
        self.index += 1;
        Ok(Some(buf))
    }
}

impl<R: Read> Iterator for ChainReader<R> {
    type Item = Result<Vec<u8>, ChainFileError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Writes frames.
#[derive(Debug)]
pub struct ChainWriter<W> {
    inner: W,
}

impl<W: Write> ChainWriter<W> {
    /// Writes the magic.
    pub fn new(mut inner: W) -> io::Result<Self> {
        inner.write_all(MAGIC)?;
        Ok(Self { inner })
    }
    /// Continues a chain file whose magic and whole frames are already written: `inner` is
    /// positioned at the end of the last frame.
    pub fn append(inner: W) -> Self {
        Self { inner }
    }
    /// Appends one block's bytes.
    pub fn write_frame(&mut self, bytes: &[u8]) -> io::Result<()> {
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|l| *l <= MAX_FRAME)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "block too large for a frame")
            })?;
        self.inner.write_all(&len.to_be_bytes())?;
        self.inner.write_all(bytes)
    }
    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut w = ChainWriter::new(Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        w.write_frame(b"abc").unwrap_or_else(|e| panic!("{e}"));
        w.write_frame(b"").unwrap_or_else(|e| panic!("{e}"));
        let bytes = w.finish().unwrap_or_else(|e| panic!("{e}"));
        let frames: Vec<Vec<u8>> = ChainReader::new(&bytes[..])
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|f| f.unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert_eq!(frames, vec![b"abc".to_vec(), vec![]]);
        let cut = &bytes[..bytes.len() - 5];
        let mut r = ChainReader::new(cut).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            r.next(),
            Some(Err(ChainFileError::Truncated { .. }))
        ));
        assert!(matches!(
            ChainReader::new(&b"NOTMAGIC"[..]),
            Err(ChainFileError::BadMagic(_))
        ));
    }
}
