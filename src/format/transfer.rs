//! Transfer files (FORMAT.md §11): a registry's history after a base, carried between sites.
//!
//! Plain data and a streaming codec over `io::Read` / `io::Write`, no file system. The grammar
//! (all integers unsigned big-endian):
//!
//! ```text
//! transfer   = MAGIC version:u32 header_len:u32 header checkpoint_len:u32 checkpoint
//!              entry_id{n} frame{objects} TRAILER_MAGIC digest
//! frame      = kind:u8 id:32 length:u64 bytes{length}
//! kind       = 'E' (ledger entry) / 'R' (model record) / 'A' (artifact)
//! digest     = BLAKE3 of every byte before TRAILER_MAGIC except the frames' bytes
//! ```
//!
//! with a header such as
//! `{"base":{"head":"<id>","seq":2},"bytes":1675,"head":{"head":"<id>","seq":3},"objects":3,"registry":"<id>"}`.
//!
//! [`Writer`] and [`Reader`] enforce the same rules through one `Order`, so that a file the
//! writer accepts is one every reader accepts: the limits, the frame order, one frame per id,
//! and each frame's bytes hashing to its id. What the file cannot vouch for (the checkpoint's
//! signature, the entries' signatures and rules, which objects the entries reach) is the
//! importer's, against its own registry (FORMAT.md §11.8).

use crate::crypto::envelope::{ENTRY_LIMIT, Kind, MANIFEST_LIMIT, Unverified};
use crate::format::checkpoint::Checkpoint;
use crate::format::id::ObjectId;
use crate::util::encoding::{echo, from_canonical_slice, to_canonical_vec};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{self, Read, Write};

/// The file's first bytes: `\x89`, `reg-transfer`, CR LF, `\x1a`, LF (FORMAT.md §11.3).
pub const MAGIC: &[u8; 17] = b"\x89reg-transfer\r\n\x1a\n";

/// The transfer format version this code reads and writes.
pub const VERSION: u32 = 1;

/// The trailer's first bytes.
pub const TRAILER_MAGIC: &[u8; 16] = b"reg-transfer-end";

/// Largest header (canonical JSON) in bytes.
pub const MAX_HEADER: u32 = 16 * 1024;

/// Largest checkpoint in bytes (the checkpoint file's own limit).
pub const MAX_CHECKPOINT: u32 = 64 * 1024;

/// Most entry ids one transfer lists (each held in memory, 32 bytes).
pub const MAX_ENTRIES: u64 = 1 << 20;

/// Most object frames one transfer holds (a reader keeps every id it has seen).
pub const MAX_OBJECTS: u64 = 1 << 22;

/// Largest ledger entry frame (FORMAT.md §5.1).
pub const MAX_ENTRY: u64 = ENTRY_LIMIT;

/// Largest model record frame (FORMAT.md §7.2).
pub const MAX_RECORD: u64 = MANIFEST_LIMIT;

/// Largest artifact frame: 1 TiB, streamed, never held in memory.
pub const MAX_ARTIFACT: u64 = 1 << 40;

/// Bytes of a frame's header: kind, id, length.
pub const FRAME_HEADER_LEN: usize = 1 + 32 + 8;

/// The streaming buffer (the object store's).
const BUF_SIZE: usize = 64 * 1024;

/// A position in the ledger: an entry's seq and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// The entry's id.
    pub head: ObjectId,
    /// Its seq.
    pub seq: u64,
}

/// The header (FORMAT.md §11.4): which registry, from which base to which head, how much follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The last entry the receiving site has; `None` in a full export.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub base: Option<Point>,
    /// The sum of the frames' lengths.
    pub bytes: u64,
    /// The last entry carried (the checkpoint's head).
    pub head: Point,
    /// The number of object frames.
    pub objects: u64,
    /// The registry id (its genesis entry's id).
    pub registry: ObjectId,
}

impl Header {
    /// The seq of the first entry carried.
    pub fn first_seq(&self) -> u64 {
        self.base.map_or(0, |b| b.seq.saturating_add(1))
    }

    /// How many entry ids follow the checkpoint (0 when the header is inconsistent, which
    /// [`Header::check`] refuses).
    pub fn entry_count(&self) -> u64 {
        (self.head.seq + 1).saturating_sub(self.first_seq())
    }

    /// The header's own rules (FORMAT.md §11.4, §11.7).
    pub fn check(&self) -> Result<(), TransferError> {
        let bad = |m: String| Err(TransferError::Header(m));
        if let Some(base) = self.base
            && base.seq >= self.head.seq
        {
            return bad(format!(
                "the head (entry {}) is not after the base (entry {}): a transfer carries at least one entry",
                self.head.seq, base.seq
            ));
        }
        if self.head.seq == u64::MAX {
            return bad("the head's seq is out of range".into());
        }
        let n = self.entry_count();
        if n > MAX_ENTRIES {
            return Err(TransferError::TooMany {
                what: "entry ids",
                count: n,
                limit: MAX_ENTRIES,
            });
        }
        if self.objects == 0 || self.objects > MAX_OBJECTS {
            return Err(TransferError::TooMany {
                what: "object frames",
                count: self.objects,
                limit: MAX_OBJECTS,
            });
        }
        if self.objects < n {
            return bad(format!(
                "{} object frames cannot hold {n} entries",
                self.objects
            ));
        }
        if self.bytes > self.objects.saturating_mul(MAX_ARTIFACT) {
            return bad(format!(
                "{} bytes in {} objects is over the limit",
                self.bytes, self.objects
            ));
        }
        Ok(())
    }
}

/// What a frame holds (FORMAT.md §11.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A ledger entry (`E`).
    Entry,
    /// A model record (`R`).
    Record,
    /// An artifact (`A`).
    Artifact,
}

impl ObjectKind {
    /// Its byte in a frame.
    pub fn byte(self) -> u8 {
        match self {
            ObjectKind::Entry => b'E',
            ObjectKind::Record => b'R',
            ObjectKind::Artifact => b'A',
        }
    }

    /// The kind a frame's byte names.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'E' => Some(ObjectKind::Entry),
            b'R' => Some(ObjectKind::Record),
            b'A' => Some(ObjectKind::Artifact),
            _ => None,
        }
    }

    /// The largest frame of this kind.
    pub fn limit(self) -> u64 {
        match self {
            ObjectKind::Entry => MAX_ENTRY,
            ObjectKind::Record => MAX_RECORD,
            ObjectKind::Artifact => MAX_ARTIFACT,
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Entry => "entry",
            ObjectKind::Record => "record",
            ObjectKind::Artifact => "artifact",
        }
    }
}

/// One object frame's header: what follows and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// What it holds.
    pub kind: ObjectKind,
    /// The object id its bytes must hash to.
    pub id: ObjectId,
    /// Its length in bytes.
    pub len: u64,
}

impl Frame {
    fn encode(&self) -> [u8; FRAME_HEADER_LEN] {
        let mut b = [0u8; FRAME_HEADER_LEN];
        b[0] = self.kind.byte();
        b[1..33].copy_from_slice(self.id.as_bytes());
        b[33..].copy_from_slice(&self.len.to_be_bytes());
        b
    }
}

/// Why a transfer file is refused, read or written. One line each, never echoing more than a
/// short prefix of the input.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file does not start with the magic.
    #[error("not a reg transfer file (it does not start with the transfer magic)")]
    BadMagic,
    /// A version this code does not read.
    #[error(
        "transfer format version {found} is not one this reg reads (it reads version {VERSION})"
    )]
    Version {
        /// The version found.
        found: u32,
    },
    /// The file ends early.
    #[error("the transfer file is truncated: it ends inside {0}")]
    Truncated(String),
    /// A length over its limit.
    #[error("{what} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// What.
        what: String,
        /// Its announced size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A count over its limit.
    #[error("{count} {what} is over the limit of {limit}")]
    TooMany {
        /// What is counted.
        what: &'static str,
        /// How many.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// The header breaks a rule.
    #[error("transfer header: {0}")]
    Header(String),
    /// The checkpoint is not a checkpoint of this transfer's head.
    #[error("transfer checkpoint: {0}")]
    Checkpoint(String),
    /// The entry id list breaks a rule.
    #[error("transfer entry ids: {0}")]
    EntryIds(String),
    /// A frame breaks a rule.
    #[error("object frame {index}: {detail}")]
    Frame {
        /// Its position among the frames, from 0.
        index: u64,
        /// What is wrong.
        detail: String,
    },
    /// A frame's bytes do not hash to its id.
    #[error(
        "object frame {index} ({kind} {id}): its bytes hash to {actual}: the transfer file is corrupt"
    )]
    HashMismatch {
        /// Its position.
        index: u64,
        /// Its kind's name.
        kind: &'static str,
        /// The id the frame announced.
        id: ObjectId,
        /// What its bytes hash to.
        actual: ObjectId,
    },
    /// The trailer is missing, wrong or followed by more bytes.
    #[error("transfer trailer: {0}")]
    Trailer(String),
    /// The writer's source for an object gave other bytes than announced.
    #[error("object {id}: {detail}")]
    Source {
        /// The object.
        id: ObjectId,
        /// What went wrong.
        detail: String,
    },
    /// Reading or writing the stream failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The failure.
        #[source]
        source: io::Error,
    },
}

/// The frame rules both sides enforce (FORMAT.md §11.5, §11.7): counts, limits, order, one
/// frame per id.
#[derive(Debug)]
struct Order {
    ids: Vec<ObjectId>,
    next_entry: usize,
    frames: u64,
    bytes: u64,
    declared_objects: u64,
    declared_bytes: u64,
    seen: HashSet<ObjectId>,
    artifacts_started: bool,
}

impl Order {
    fn new(header: &Header, ids: Vec<ObjectId>) -> Self {
        Order {
            ids,
            next_entry: 0,
            frames: 0,
            bytes: 0,
            declared_objects: header.objects,
            declared_bytes: header.bytes,
            seen: HashSet::new(),
            artifacts_started: false,
        }
    }

    fn all_sent(&self) -> bool {
        self.frames == self.declared_objects
    }

    /// Admits the next frame or says why not.
    fn admit(&mut self, f: &Frame) -> Result<(), TransferError> {
        let index = self.frames;
        let bad = |detail: String| Err(TransferError::Frame { index, detail });
        if self.all_sent() {
            return bad(format!(
                "the header announces {} object frames",
                self.declared_objects
            ));
        }
        if f.len > f.kind.limit() {
            return Err(TransferError::TooLarge {
                what: format!("object frame {index} ({} {})", f.kind.name(), f.id),
                size: f.len,
                limit: f.kind.limit(),
            });
        }
        let left = self.declared_bytes - self.bytes;
        if f.len > left {
            return bad(format!(
                "{} {} is {} bytes, more than the {left} bytes the header leaves",
                f.kind.name(),
                f.id,
                f.len
            ));
        }
        if self.seen.contains(&f.id) {
            return bad(format!("{} appears twice", f.id));
        }
        let entries_done = self.next_entry == self.ids.len();
        match f.kind {
            ObjectKind::Entry => {
                let Some(expected) = self.ids.get(self.next_entry) else {
                    return bad(format!("entry {} is not in the entry id list", f.id));
                };
                if *expected != f.id || self.artifacts_started {
                    return bad(format!("entry {} where the next entry is {expected}", f.id));
                }
                self.next_entry += 1;
            }
            ObjectKind::Record if entries_done => {
                return bad(format!(
                    "record {} after the last entry: a record precedes the entry that reaches it",
                    f.id
                ));
            }
            ObjectKind::Record => {}
            ObjectKind::Artifact if !entries_done => {
                return bad(format!(
                    "artifact {} before the last entry: artifacts follow every entry",
                    f.id
                ));
            }
            ObjectKind::Artifact => self.artifacts_started = true,
        }
        self.seen.insert(f.id);
        self.frames += 1;
        self.bytes += f.len;
        Ok(())
    }

    /// Checks that everything announced was sent.
    fn finish(&self) -> Result<(), TransferError> {
        let bad = |m: String| Err(TransferError::Trailer(m));
        if !self.all_sent() {
            return bad(format!(
                "{} of {} object frames",
                self.frames, self.declared_objects
            ));
        }
        if self.next_entry != self.ids.len() {
            return bad(format!(
                "{} of {} listed entries were sent",
                self.next_entry,
                self.ids.len()
            ));
        }
        if self.bytes != self.declared_bytes {
            return bad(format!(
                "the frames hold {} bytes, the header announces {}",
                self.bytes, self.declared_bytes
            ));
        }
        Ok(())
    }
}

/// Checks the header, the checkpoint and the entry ids against each other (FORMAT.md §11.4).
fn check_preamble(
    header: &Header,
    checkpoint: &[u8],
    ids: &[ObjectId],
) -> Result<(), TransferError> {
    header.check()?;
    if checkpoint.is_empty() || checkpoint.len() as u64 > u64::from(MAX_CHECKPOINT) {
        return Err(TransferError::TooLarge {
            what: "the checkpoint".into(),
            size: checkpoint.len() as u64,
            limit: u64::from(MAX_CHECKPOINT),
        });
    }
    let cp: Checkpoint = Unverified::parse(checkpoint)
        .and_then(|env| env.payload_as(Kind::Checkpoint))
        .map_err(|e| TransferError::Checkpoint(echo(&e.to_string())))?;
    if cp.registry != header.registry || cp.seq != header.head.seq || cp.head != header.head.head {
        return Err(TransferError::Checkpoint(format!(
            "it names registry {} at entry {} ({}), the header registry {} at entry {} ({})",
            cp.registry, cp.seq, cp.head, header.registry, header.head.seq, header.head.head
        )));
    }
    let bad = |m: String| Err(TransferError::EntryIds(m));
    if ids.len() as u64 != header.entry_count() {
        return bad(format!(
            "{} ids, the header's base and head need {}",
            ids.len(),
            header.entry_count()
        ));
    }
    if header.base.is_none() && ids.first() != Some(&header.registry) {
        return bad("a full transfer starts with the genesis entry, the registry id".into());
    }
    if ids.last() != Some(&header.head.head) {
        return bad(format!("the last id is not the head {}", header.head.head));
    }
    Ok(())
}

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

/// Reads one transfer file as a stream, checking as it goes: [`Reader::open`] reads and checks
/// the preamble; [`Reader::next_frame`] announces each frame, whose bytes
/// [`Reader::copy_body`] streams out while hashing them; after the last frame it checks the
/// trailer and the end of the file. Bytes a frame yields are unverified until its copy returns.
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
        if header_len == 0 || header_len > MAX_HEADER {
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
        if cp_len == 0 || cp_len > MAX_CHECKPOINT {
            return Err(TransferError::TooLarge {
                what: "the checkpoint".into(),
                size: cp_len.into(),
                limit: MAX_CHECKPOINT.into(),
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

    /// The next frame, or `None` once the trailer verified and the file ended. A frame whose
    /// bytes were not read is read (and hash-checked) first.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, TransferError> {
        if self.pending.is_some() {
            self.copy_body(&mut io::sink())?;
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
        let Some((index, frame)) = self.pending.take() else {
            return Err(TransferError::Frame {
                index: self.order.frames,
                detail: "no frame was announced".into(),
            });
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::envelope;
    use crate::crypto::keys::SecretKey;

    /// A small consistent transfer: two entries (base at seq 4), one record, two artifacts.
    struct Parts {
        header: Header,
        checkpoint: Vec<u8>,
        ids: Vec<ObjectId>,
        frames: Vec<(ObjectKind, Vec<u8>)>,
    }

    fn parts() -> Parts {
        let body = |s: &str| s.as_bytes().to_vec();
        let frames = vec![
            (ObjectKind::Record, body("a record")),
            (ObjectKind::Entry, body("entry 5")),
            (ObjectKind::Entry, body("entry 6")),
            (ObjectKind::Artifact, vec![7u8; 200_000]),
            (ObjectKind::Artifact, body("")),
        ];
        let ids = vec![ObjectId::of(&frames[1].1), ObjectId::of(&frames[2].1)];
        let registry = ObjectId::of(b"genesis");
        let head = Point {
            head: ids[1],
            seq: 6,
        };
        let key = SecretKey::from_seed(&[9u8; 32]).unwrap();
        let cp = Checkpoint {
            head: head.head,
            registry,
            seq: head.seq,
            state: ObjectId::of(b"state"),
            time: "2026-01-01T00:00:00Z".into(),
        };
        let checkpoint = envelope::sign(Kind::Checkpoint, &cp, &key).unwrap();
        let header = Header {
            base: Some(Point {
                head: ObjectId::of(b"entry 4"),
                seq: 4,
            }),
            bytes: frames.iter().map(|(_, b)| b.len() as u64).sum(),
            head,
            objects: frames.len() as u64,
            registry,
        };
        Parts {
            header,
            checkpoint,
            ids,
            frames,
        }
    }

    fn encode(p: &Parts) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), &p.header, &p.checkpoint, &p.ids).unwrap();
        for (kind, bytes) in &p.frames {
            w.object(
                *kind,
                &ObjectId::of(bytes),
                bytes.len() as u64,
                &mut &bytes[..],
            )
            .unwrap();
        }
        w.finish().unwrap()
    }

    /// Reads a whole file; returns its parts or the first error.
    fn decode(bytes: &[u8]) -> Result<Parts, TransferError> {
        let mut r = Reader::open(bytes)?;
        let mut frames = Vec::new();
        while let Some(f) = r.next_frame()? {
            let mut body = Vec::new();
            r.copy_body(&mut body)?;
            frames.push((f.kind, body));
        }
        Ok(Parts {
            header: r.header().clone(),
            checkpoint: r.checkpoint().to_vec(),
            ids: r.entry_ids().to_vec(),
            frames,
        })
    }

    #[test]
    fn a_transfer_round_trips_byte_for_byte() {
        let p = parts();
        let bytes = encode(&p);
        assert!(bytes.starts_with(MAGIC));
        let back = decode(&bytes).unwrap();
        assert_eq!(back.header, p.header);
        assert_eq!(back.checkpoint, p.checkpoint);
        assert_eq!(back.ids, p.ids);
        assert_eq!(back.frames, p.frames);
        assert_eq!(encode(&back), bytes);
    }

    #[test]
    fn a_full_transfer_starts_with_genesis() {
        let mut p = parts();
        p.header.base = None;
        p.header.head.seq = 1;
        p.header.registry = p.ids[0];
        let key = SecretKey::from_seed(&[9u8; 32]).unwrap();
        let cp = Checkpoint {
            head: p.ids[1],
            registry: p.ids[0],
            seq: 1,
            state: ObjectId::of(b"state"),
            time: "2026-01-01T00:00:00Z".into(),
        };
        p.checkpoint = envelope::sign(Kind::Checkpoint, &cp, &key).unwrap();
        let bytes = encode(&p);
        assert_eq!(decode(&bytes).unwrap().header.base, None);
        // The same file claiming another registry: its first entry is not that genesis.
        p.header.registry = ObjectId::of(b"other");
        let e = Writer::new(Vec::new(), &p.header, &p.checkpoint, &p.ids)
            .err()
            .unwrap();
        assert!(matches!(e, TransferError::Checkpoint(_)), "{e}");
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = encode(&parts());
        // Every cut in the small part; in the 200 kB artifact, a sample.
        let cuts =
            (0..bytes.len()).filter(|i| *i < 2000 || *i % 997 == 0 || *i > bytes.len() - 200);
        for len in cuts {
            let e = decode(&bytes[..len])
                .err()
                .unwrap_or_else(|| panic!("{len}"));
            let ok = if len < MAGIC.len() {
                matches!(e, TransferError::BadMagic)
            } else {
                matches!(e, TransferError::Truncated(_))
            };
            assert!(ok, "cut at {len}: {e}");
        }
        let e = decode(&bytes[..bytes.len() - 1]).err().unwrap();
        assert_eq!(
            e.to_string(),
            "the transfer file is truncated: it ends inside the trailer"
        );
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let bytes = encode(&parts());
        // Every byte of the small part; in the 200 kB artifact, a sample.
        let positions: Vec<usize> = (0..bytes.len())
            .filter(|i| *i < 2000 || *i % 997 == 0 || *i > bytes.len() - 200)
            .collect();
        for i in positions {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(decode(&b).is_err(), "a flip at {i} was not noticed");
        }
    }

    #[test]
    fn a_wrong_magic_or_version_is_refused_first() {
        let bytes = encode(&parts());
        let mut b = bytes.clone();
        b[1] = b'R';
        assert!(matches!(decode(&b), Err(TransferError::BadMagic)));
        assert!(matches!(
            decode(b"PK\x03\x04 a zip file"),
            Err(TransferError::BadMagic)
        ));
        for (v, text) in [
            (
                2u32,
                "transfer format version 2 is not one this reg reads (it reads version 1)",
            ),
            (
                0,
                "transfer format version 0 is not one this reg reads (it reads version 1)",
            ),
        ] {
            let mut b = bytes.clone();
            b[17..21].copy_from_slice(&v.to_be_bytes());
            let e = decode(&b).err().unwrap();
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn a_bad_object_is_named_by_the_reader() {
        let p = parts();
        let bytes = encode(&p);
        // A byte in the middle of the first artifact's body (200,000 bytes of 7s).
        let at = bytes.windows(64).position(|w| w == [7u8; 64]).unwrap() + 1000;
        let mut b = bytes.clone();
        b[at] = 8;
        let e = decode(&b).err().unwrap();
        assert!(
            matches!(e, TransferError::HashMismatch { index: 3, .. }),
            "{e}"
        );
        assert!(
            e.to_string().contains("the transfer file is corrupt"),
            "{e}"
        );
        // Bytes after the trailer.
        let mut b = bytes.clone();
        b.push(0);
        assert_eq!(
            decode(&b).err().unwrap().to_string(),
            "transfer trailer: bytes follow the trailer"
        );
    }

    /// Offset of frame `k`'s header in an encoded `parts()` file.
    fn frame_offset(p: &Parts, bytes: &[u8], k: usize) -> usize {
        let json = to_canonical_vec(&p.header).unwrap();
        let mut at = MAGIC.len() + 8 + json.len() + 4 + p.checkpoint.len() + 32 * p.ids.len();
        for (_, body) in &p.frames[..k] {
            at += FRAME_HEADER_LEN + body.len();
        }
        assert_eq!(bytes[at], p.frames[k].0.byte());
        at
    }

    #[test]
    fn oversized_lengths_are_refused_before_reading_them() {
        let p = parts();
        let bytes = encode(&p);
        // A header length over the limit: refused from the length, nothing echoed.
        let mut b = bytes.clone();
        b[21..25].copy_from_slice(&(MAX_HEADER + 1).to_be_bytes());
        let e = decode(&b).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "the header is {} bytes, over the limit of {MAX_HEADER}",
                MAX_HEADER + 1
            )
        );
        // An entry frame announcing 2 MiB.
        let at = frame_offset(&p, &bytes, 1);
        let mut b = bytes.clone();
        b[at + 33..at + 41].copy_from_slice(&(2u64 << 20).to_be_bytes());
        let e = decode(&b).err().unwrap();
        assert!(
            matches!(e, TransferError::TooLarge { size, .. } if size == 2 << 20),
            "{e}"
        );
        // An artifact frame announcing more than the header's byte count leaves.
        let at = frame_offset(&p, &bytes, 3);
        let mut b = bytes.clone();
        b[at + 33..at + 41].copy_from_slice(&(1u64 << 30).to_be_bytes());
        let e = decode(&b).err().unwrap();
        assert!(e.to_string().contains("more than the"), "{e}");
        // A header announcing more entries than the limit.
        let mut h = p.header.clone();
        h.head.seq = MAX_ENTRIES + 10;
        assert!(matches!(h.check(), Err(TransferError::TooMany { .. })));
    }

    #[test]
    fn a_header_error_never_echoes_an_oversized_input() {
        let p = parts();
        let mut value = serde_json::to_value(&p.header).unwrap();
        value["x".repeat(10_000)] = serde_json::Value::from(1);
        let json = to_canonical_vec(&value).unwrap();
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&VERSION.to_be_bytes());
        b.extend_from_slice(&(json.len() as u32).to_be_bytes());
        b.extend_from_slice(&json);
        let e = decode(&b).err().unwrap().to_string();
        assert!(e.starts_with("transfer header: "), "{e}");
        assert!(e.len() < 400 && !e.contains('\n'), "{} bytes: {e}", e.len());
    }

    #[test]
    fn the_writer_refuses_what_a_reader_would() {
        let p = parts();
        let writer = || Writer::new(Vec::new(), &p.header, &p.checkpoint, &p.ids).unwrap();
        // A body whose bytes are not its id.
        let mut w = writer();
        let e = w
            .object(ObjectKind::Record, &ObjectId::of(b"x"), 1, &mut &b"y"[..])
            .err()
            .unwrap();
        assert!(e.to_string().contains("the source is corrupt"), "{e}");
        // A source shorter than announced.
        let mut w = writer();
        let e = w
            .object(
                ObjectKind::Record,
                &ObjectId::of(b"abc"),
                3,
                &mut &b"ab"[..],
            )
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "object {}: the source ended after 2 of 3 bytes",
                ObjectId::of(b"abc")
            )
        );
        // An entry out of order, an artifact before the entries, a record after them.
        let mut w = writer();
        let e2 = &p.frames[2].1;
        let e = w
            .object(
                ObjectKind::Entry,
                &ObjectId::of(e2),
                e2.len() as u64,
                &mut &e2[..],
            )
            .err()
            .unwrap();
        assert!(e.to_string().contains("where the next entry is"), "{e}");
        let a = &p.frames[4].1;
        let e = w
            .object(ObjectKind::Artifact, &ObjectId::of(a), 0, &mut &a[..])
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("artifacts follow every entry"),
            "{e}"
        );
        // Missing frames at the end.
        let e = writer().finish().err().unwrap();
        assert_eq!(e.to_string(), "transfer trailer: 0 of 5 object frames");
        // The same object twice.
        let mut w = writer();
        let r = &p.frames[0].1;
        let id = ObjectId::of(r);
        w.object(ObjectKind::Record, &id, r.len() as u64, &mut &r[..])
            .unwrap();
        let e = w
            .object(ObjectKind::Record, &id, r.len() as u64, &mut &r[..])
            .err()
            .unwrap();
        assert!(e.to_string().contains("appears twice"), "{e}");
        // A checkpoint of another head.
        let mut h = p.header.clone();
        h.head.seq = 7;
        let e = Writer::new(Vec::new(), &h, &p.checkpoint, &p.ids)
            .err()
            .unwrap();
        assert!(matches!(e, TransferError::Checkpoint(_)), "{e}");
    }
}
