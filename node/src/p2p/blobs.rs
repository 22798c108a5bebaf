//! Blobs by hash: a request-response protocol beside gossip, for bytes too large to gossip
//! (a fault report's state witness). A request is the 32-byte keccak-256 of the wanted bytes;
//! the answer is the bytes or "not held". Blobs are content-addressed, so the asker checks what
//! it gets against what it asked for and no peer can hand it other bytes.
//!
//! Wire format (one request and one answer per stream): the request is 32 bytes; the answer is
//! one byte (1 = held, 0 = not held), then for a held blob its length as 4 big-endian bytes and
//! the bytes. Lengths over the configured bound are refused before anything is read.

use std::io;
use std::sync::Arc;

use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;

/// The protocol's name on the wire.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/ranger/blob/1");

/// A lookup of a blob by its keccak-256.
pub type Lookup = dyn Fn(&[u8; 32]) -> Option<Vec<u8>> + Send + Sync;

/// Looks a blob up by its keccak-256 (the node's store); runs on the blocking pool.
#[derive(Clone)]
pub struct BlobSource(pub Arc<Lookup>);

/// A peer's blob request and our answer, on their way back to the swarm task.
pub(super) type Answer = (
    libp2p::request_response::ResponseChannel<Option<Vec<u8>>>,
    Option<Vec<u8>>,
);

impl std::fmt::Debug for BlobSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobSource")
    }
}

/// The codec: fixed-size requests, bounded answers.
#[derive(Debug, Clone, Copy)]
pub struct BlobCodec {
    /// The largest blob read or written.
    pub max_bytes: usize,
}

impl request_response::Codec for BlobCodec {
    type Protocol = StreamProtocol;
    type Request = [u8; 32];
    type Response = Option<Vec<u8>>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<[u8; 32]>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut key = [0u8; 32];
        io.read_exact(&mut key).await?;
        Ok(key)
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Option<Vec<u8>>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut held = [0u8; 1];
        io.read_exact(&mut held).await?;
        match held[0] {
            0 => Ok(None),
            1 => {
                let mut len = [0u8; 4];
                io.read_exact(&mut len).await?;
                let len = u32::from_be_bytes(len) as usize;
                if len > self.max_bytes {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "a blob of {len} bytes is over the {}-byte bound",
                            self.max_bytes
                        ),
                    ));
                }
                let mut bytes = vec![0u8; len];
                io.read_exact(&mut bytes).await?;
                Ok(Some(bytes))
            }
            b => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("answer flag {b} (expected 0 or 1)"),
            )),
        }
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        key: [u8; 32],
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&key).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        answer: Option<Vec<u8>>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match answer {
            Some(bytes) if bytes.len() <= self.max_bytes => {
                let len = u32::try_from(bytes.len()).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "a blob over 4 GiB")
                })?;
                io.write_all(&[1]).await?;
                io.write_all(&len.to_be_bytes()).await?;
                io.write_all(&bytes).await?;
            }
            // A blob over our own bound is not served (the asker would refuse it anyway).
            _ => io.write_all(&[0]).await?,
        }
        io.close().await
    }
}
