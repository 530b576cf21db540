//! The transfer file's decoder: checks the preamble, each frame's order and hash, and the
//! trailer as it streams.

use super::rules::{Order, check_preamble};
use super::{
    BUF_SIZE, FRAME_HEADER_LEN, Frame, Header, MAGIC, MAX_HEADER, MAX_RECORD, ObjectKind,
    TRAILER_MAGIC, TransferError, VERSION,
};
use crate::format::checkpoint::CHECKPOINT_LIMIT;
use crate::format::id::ObjectId;
use crate::util::encoding::{echo, from_canonical_slice};
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Reads one transfer file as a stream, checking as it goes: [`Reader::open`] reads and checks
/// the preamble; [`Reader::next_frame`] announces each frame, whose bytes
/// [`Reader::copy_body`] streams out while hashing them (or [`Reader::skip_body`] passes over,
/// unread); after the last frame it checks the trailer and the end of the file. Bytes a frame
/// yields are unverified until its copy returns.
///
/// The caller decides what each frame's bytes are worth reading: a frame is never read through
/// behind its back, since its length is the medium's claim (a sparse file can announce a TiB at
/// no cost to its holder) and only the caller knows how long the object may be.
pub struct Reader<R: Read> {
    inner: R,
    skeleton: blake3::Hasher,
    order: Order,
    header: Header,
    checkpoint: Vec<u8>,
    /// A frame announced whose bytes were not read yet.
    pending: Option<(u64, Frame)>,
    done: bool,
    buf: Vec<u8>,
}

/// Reads exactly `buf.len()` bytes; the end of the stream is a truncation inside `what`.
fn fill(r: &mut dyn Read, buf: &mut [u8], what: &dyn Fn() -> String) -> Result<(), TransferError> {
    r.read_exact(buf).map_err(|source| {
        if source.kind() == io::ErrorKind::UnexpectedEof {
            TransferError::Truncated(what())
        } else {
            TransferError::Io {
                what: "read the transfer file",
                source,
            }
        }
    })
}

impl<R: Read> Reader<R> {
    /// Reads and checks everything before the first frame.
    pub fn open(mut inner: R) -> Result<Self, TransferError> {
        let mut skeleton = blake3::Hasher::new();
        let mut magic = [0u8; MAGIC.len()];
        fill(&mut inner, &mut magic, &|| "the magic".into()).map_err(|e| match e {
            TransferError::Truncated(_) => TransferError::BadMagic,
            e => e,
        })?;
        if magic != *MAGIC {
            return Err(TransferError::BadMagic);
        }
        skeleton.update(&magic);
        let mut word = [0u8; 4];
        fill(&mut inner, &mut word, &|| "the version".into())?;
        skeleton.update(&word);
        let version = u32::from_be_bytes(word);
        if version != VERSION {
            return Err(TransferError::Version { found: version });
        }
        fill(&mut inner, &mut word, &|| "the header length".into())?;
        skeleton.update(&word);
        let header_len = u32::from_be_bytes(word);
        if header_len == 0 {
            return Err(TransferError::Empty { what: "the header" });
        }
        if header_len > MAX_HEADER {
            return Err(TransferError::TooLarge {
                what: "the header".into(),
                size: header_len.into(),
                limit: MAX_HEADER.into(),
            });
        }
        let mut json = vec![0u8; header_len as usize];
        fill(&mut inner, &mut json, &|| "the header".into())?;
        skeleton.update(&json);
        let header: Header =
            from_canonical_slice(&json).map_err(|e| TransferError::Header(echo(&e.to_string())))?;
        header.check()?;
        fill(&mut inner, &mut word, &|| "the checkpoint length".into())?;
        skeleton.update(&word);
        let cp_len = u32::from_be_bytes(word);
        if cp_len == 0 {
            return Err(TransferError::Empty {
                what: "the checkpoint",
            });
        }
        if u64::from(cp_len) > CHECKPOINT_LIMIT {
            return Err(TransferError::TooLarge {
                what: "the checkpoint".into(),
                size: cp_len.into(),
                limit: CHECKPOINT_LIMIT,
            });
        }
        let mut checkpoint = vec![0u8; cp_len as usize];
        fill(&mut inner, &mut checkpoint, &|| "the checkpoint".into())?;
        skeleton.update(&checkpoint);
        let n = header.entry_count();
        let mut ids = Vec::new();
        let mut id = [0u8; 32];
        for i in 0..n {
            fill(&mut inner, &mut id, &|| {
                format!("the entry id list (id {i} of {n})")
            })?;
            skeleton.update(&id);
            ids.push(ObjectId::from_bytes(id));
        }
        check_preamble(&header, &checkpoint, &ids)?;
        Ok(Reader {
            inner,
            skeleton,
            order: Order::new(&header, ids),
            header,
            checkpoint,
            pending: None,
            done: false,
            buf: vec![0u8; BUF_SIZE],
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The checkpoint's bytes as the exporting site stored them (its signature unchecked).
    pub fn checkpoint(&self) -> &[u8] {
        &self.checkpoint
    }

    /// The entry ids, in seq order from [`Header::first_seq`].
    pub fn entry_ids(&self) -> &[ObjectId] {
        &self.order.ids
    }

    /// The next frame, or `None` once the trailer verified and the file ended. The previous
    /// frame's bytes must have been copied or skipped: reading them through here would read
    /// whatever length the medium announced.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, TransferError> {
        if let Some((index, frame)) = self.pending {
            return Err(TransferError::Frame {
                index,
                detail: format!(
                    "the bytes of {} {} were neither read nor skipped",
                    frame.kind.name(),
                    frame.id
                ),
            });
        }
        if self.done {
            return Ok(None);
        }
        if self.order.all_sent() {
            self.read_trailer()?;
            self.done = true;
            return Ok(None);
        }
        let index = self.order.frames;
        let mut b = [0u8; FRAME_HEADER_LEN];
        fill(&mut self.inner, &mut b, &|| format!("object frame {index}"))?;
        self.skeleton.update(&b);
        let kind = ObjectKind::from_byte(b[0]).ok_or_else(|| TransferError::Frame {
            index,
            detail: format!("unknown kind byte 0x{:02x}", b[0]),
        })?;
        let mut id = [0u8; 32];
        id.copy_from_slice(&b[1..33]);
        let mut len = [0u8; 8];
        len.copy_from_slice(&b[33..]);
        let frame = Frame {
            kind,
            id: ObjectId::from_bytes(id),
            len: u64::from_be_bytes(len),
        };
        self.order.admit(&frame)?;
        self.pending = Some((index, frame));
        Ok(Some(frame))
    }

    /// Streams the announced frame's bytes into `out`, hashing them; fails if they do not hash to
    /// the frame's id (what `out` received must then be discarded). Returns the length.
    pub fn copy_body(&mut self, out: &mut dyn Write) -> Result<u64, TransferError> {
        let (index, frame) = self.take_pending()?;
        let mut hasher = blake3::Hasher::new();
        let mut left = frame.len;
        while left > 0 {
            let want = left.min(self.buf.len() as u64) as usize;
            let n = match self.inner.read(&mut self.buf[..want]) {
                Ok(0) => {
                    return Err(TransferError::Truncated(format!(
                        "object frame {index} ({} {}), after {} of {} bytes",
                        frame.kind.name(),
                        frame.id,
                        frame.len - left,
                        frame.len
                    )));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(TransferError::Io {
                        what: "read the transfer file",
                        source,
                    });
                }
            };
            hasher.update(&self.buf[..n]);
            out.write_all(&self.buf[..n])
                .map_err(|source| TransferError::Io {
                    what: "write an object read from the transfer file",
                    source,
                })?;
            left -= n as u64;
        }
        let actual = ObjectId::from_hash(hasher.finalize());
        if actual != frame.id {
            return Err(TransferError::HashMismatch {
                index,
                kind: frame.kind.name(),
                id: frame.id,
                actual,
            });
        }
        Ok(frame.len)
    }

    /// Reads the announced frame's bytes into memory: for entries and records, whose limit is
    /// small; an artifact frame over [`MAX_RECORD`] is refused (stream it with
    /// [`Reader::copy_body`]).
    pub fn read_body(&mut self) -> Result<Vec<u8>, TransferError> {
        if let Some((index, f)) = self.pending
            && f.len > MAX_RECORD
        {
            return Err(TransferError::TooLarge {
                what: format!(
                    "object frame {index} ({} {}) read into memory",
                    f.kind.name(),
                    f.id
                ),
                size: f.len,
                limit: MAX_RECORD,
            });
        }
        let mut bytes = Vec::new();
        self.copy_body(&mut bytes)?;
        Ok(bytes)
    }

    /// Removes the announced frame, if any, to skip it: (index, frame).
    fn take_pending(&mut self) -> Result<(u64, Frame), TransferError> {
        self.pending.take().ok_or(TransferError::Frame {
            index: self.order.frames,
            detail: "no frame was announced".into(),
        })
    }

    fn read_trailer(&mut self) -> Result<(), TransferError> {
        self.order.finish()?;
        let mut t = [0u8; TRAILER_MAGIC.len() + 32];
        fill(&mut self.inner, &mut t, &|| "the trailer".into())?;
        if t[..TRAILER_MAGIC.len()] != TRAILER_MAGIC[..] {
            return Err(TransferError::Trailer(
                "no trailer magic after the last frame".into(),
            ));
        }
        let digest = self.skeleton.finalize();
        if t[TRAILER_MAGIC.len()..] != digest.as_bytes()[..] {
            return Err(TransferError::Trailer(
                "the digest does not match the file: the transfer file is corrupt".into(),
            ));
        }
        let mut one = [0u8; 1];
        loop {
            match self.inner.read(&mut one) {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    return Err(TransferError::Trailer("bytes follow the trailer".into()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(TransferError::Io {
                        what: "read the transfer file",
                        source,
                    });
                }
            }
        }
    }
}

impl<R: Read + Seek> Reader<R> {
    /// Passes over the announced frame's bytes without hashing them, for a caller that does not
    /// want the object: a seek to the frame's last byte, and that one byte read to prove the
    /// file holds the frame, so what a frame announces costs nothing, however long. The trailer
    /// digest leaves the frames' bytes out (FORMAT.md §11.6): the file is still checked to its
    /// end.
    pub fn skip_body(&mut self) -> Result<u64, TransferError> {
        let (index, frame) = self.take_pending()?;
        let Some(last) = frame.len.checked_sub(1) else {
            return Ok(0);
        };
        let io = |source| TransferError::Io {
            what: "read the transfer file",
            source,
        };
        let ahead = i64::try_from(last).map_err(|_| TransferError::TooLarge {
            what: format!("object frame {index} ({} {})", frame.kind.name(), frame.id),
            size: frame.len,
            limit: frame.kind.limit(),
        })?;
        self.inner.seek(SeekFrom::Current(ahead)).map_err(io)?;
        let mut one = [0u8; 1];
        fill(&mut self.inner, &mut one, &|| {
            format!(
                "object frame {index} ({} {}), which announces {} bytes",
                frame.kind.name(),
                frame.id,
                frame.len
            )
        })?;
        Ok(frame.len)
    }
}
