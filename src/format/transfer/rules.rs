//! The rules a transfer's writer and reader share (FORMAT.md §11.4, §11.5, §11.7), in one place
//! so that a file the writer accepts is one every reader accepts.

use super::{Frame, Header, ObjectKind, TransferError};
use crate::format::checkpoint::{self, CHECKPOINT_LIMIT};
use crate::format::id::ObjectId;
use crate::util::encoding::echo;
use std::collections::HashSet;

/// The frame rules both sides enforce (FORMAT.md §11.5, §11.7): counts, limits, order, one
/// frame per id.
#[derive(Debug)]
pub(super) struct Order {
    /// The entry ids the preamble lists (the reader hands them out).
    pub(super) ids: Vec<ObjectId>,
    next_entry: usize,
    /// Frames admitted so far (the reader names a frame by this index).
    pub(super) frames: u64,
    bytes: u64,
    declared_objects: u64,
    declared_bytes: u64,
    seen: HashSet<ObjectId>,
    artifacts_started: bool,
}

impl Order {
    pub(super) fn new(header: &Header, ids: Vec<ObjectId>) -> Self {
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

    pub(super) fn all_sent(&self) -> bool {
        self.frames == self.declared_objects
    }

    /// Admits the next frame or says why not.
    pub(super) fn admit(&mut self, f: &Frame) -> Result<(), TransferError> {
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
    pub(super) fn finish(&self) -> Result<(), TransferError> {
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
pub(super) fn check_preamble(
    header: &Header,
    checkpoint: &[u8],
    ids: &[ObjectId],
) -> Result<(), TransferError> {
    header.check()?;
    if checkpoint.is_empty() {
        return Err(TransferError::Empty {
            what: "the checkpoint",
        });
    }
    if checkpoint.len() as u64 > CHECKPOINT_LIMIT {
        return Err(TransferError::TooLarge {
            what: "the checkpoint".into(),
            size: checkpoint.len() as u64,
            limit: CHECKPOINT_LIMIT,
        });
    }
    let (_, cp) = checkpoint::parse(checkpoint)
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
