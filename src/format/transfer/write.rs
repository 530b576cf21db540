//! The transfer file's encoder: the preamble, the frames streamed and hashed, the trailer.

use super::rules::{Order, check_preamble};
use super::{
    BUF_SIZE, Frame, Header, MAGIC, MAX_HEADER, ObjectKind, TRAILER_MAGIC, TransferError, VERSION,
};
use crate::format::id::ObjectId;
use crate::util::encoding::to_canonical_vec;
use std::io::{self, Read, Write};

/// Writes one transfer file as a stream: the preamble at [`Writer::new`], one
/// [`Writer::object`] per frame, the trailer at [`Writer::finish`]. Wrap a file in a
/// `BufWriter`: frame headers are small writes.
pub struct Writer<W: Write> {
    out: W,
    skeleton: blake3::Hasher,
    order: Order,
    buf: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// Checks the preamble (the same rules a reader applies) and writes it.
    pub fn new(
        out: W,
        header: &Header,
        checkpoint: &[u8],
        ids: &[ObjectId],
    ) -> Result<Self, TransferError> {
        check_preamble(header, checkpoint, ids)?;
        let json = to_canonical_vec(header).map_err(|e| TransferError::Header(e.to_string()))?;
        if json.len() as u64 > u64::from(MAX_HEADER) {
            return Err(TransferError::TooLarge {
                what: "the header".into(),
                size: json.len() as u64,
                limit: u64::from(MAX_HEADER),
            });
        }
        let mut w = Writer {
            out,
            skeleton: blake3::Hasher::new(),
            order: Order::new(header, ids.to_vec()),
            buf: vec![0u8; BUF_SIZE],
        };
        w.skeleton_write(MAGIC)?;
        w.skeleton_write(&VERSION.to_be_bytes())?;
        w.skeleton_write(&(json.len() as u32).to_be_bytes())?;
        w.skeleton_write(&json)?;
        w.skeleton_write(&(checkpoint.len() as u32).to_be_bytes())?;
        w.skeleton_write(checkpoint)?;
        for id in ids {
            w.skeleton_write(id.as_bytes())?;
        }
        Ok(w)
    }

    fn skeleton_write(&mut self, bytes: &[u8]) -> Result<(), TransferError> {
        self.skeleton.update(bytes);
        self.out
            .write_all(bytes)
            .map_err(|source| TransferError::Io {
                what: "write the transfer file",
                source,
            })
    }

    /// Writes one frame whose `len` bytes come from `body`, hashing them as they stream: a body
    /// shorter than `len`, or whose bytes do not hash to `id`, is refused (the file written so
    /// far must then be discarded).
    pub fn object(
        &mut self,
        kind: ObjectKind,
        id: &ObjectId,
        len: u64,
        body: &mut dyn Read,
    ) -> Result<(), TransferError> {
        let frame = Frame { kind, id: *id, len };
        self.order.admit(&frame)?;
        self.skeleton_write(&frame.encode())?;
        let mut hasher = blake3::Hasher::new();
        let mut left = len;
        while left > 0 {
            let want = left.min(self.buf.len() as u64) as usize;
            let n = match body.read(&mut self.buf[..want]) {
                Ok(0) => {
                    return Err(TransferError::Source {
                        id: *id,
                        detail: format!("the source ended after {} of {len} bytes", len - left),
                    });
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(TransferError::Io {
                        what: "read an object to export",
                        source,
                    });
                }
            };
            hasher.update(&self.buf[..n]);
            self.out
                .write_all(&self.buf[..n])
                .map_err(|source| TransferError::Io {
                    what: "write the transfer file",
                    source,
                })?;
            left -= n as u64;
        }
        let actual = ObjectId::from_hash(hasher.finalize());
        if actual != *id {
            return Err(TransferError::Source {
                id: *id,
                detail: format!(
                    "the {} read to export hashes to {actual}: the source is corrupt",
                    kind.name()
                ),
            });
        }
        Ok(())
    }

    /// Checks every announced frame was written, writes the trailer and flushes.
    pub fn finish(mut self) -> Result<W, TransferError> {
        self.order.finish()?;
        let digest = self.skeleton.finalize();
        self.skeleton_write(TRAILER_MAGIC)?;
        self.skeleton_write(digest.as_bytes())?;
        self.out.flush().map_err(|source| TransferError::Io {
            what: "write the transfer file",
            source,
        })?;
        Ok(self.out)
    }
}
