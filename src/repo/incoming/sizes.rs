//! How long an artifact frame may be: the size its records state (FORMAT.md §7.1, §11.7).
//!
//! A frame's `length` is the medium's claim, and a sparse file announces a TiB at no cost to its
//! holder; the verified records already say how long each artifact is. Every entry and record
//! precedes the first artifact frame (FORMAT.md §11.5), so by then every record the new state
//! reaches is verified (received in this file and staged, or the site's own), and an artifact
//! frame of another length is refused by its 41-byte header, before a byte of it is staged,
//! hashed or read to skip it: a new artifact, a dry run's, and one the site already holds alike.

use super::ImportError;
use crate::format::id::ObjectId;
use crate::format::manifest::SignedManifest;
use crate::state::State;
use std::collections::{BTreeSet, HashMap, HashSet};

/// The records that list each artifact the new state reaches, read on demand, each once.
pub(super) struct Sizes {
    /// For each artifact of a model not purged: the records that list it, not read yet.
    unread: HashMap<ObjectId, Vec<ObjectId>>,
    /// Records read so far.
    read: HashSet<ObjectId>,
    /// The sizes the records read so far state, by artifact id.
    stated: HashMap<ObjectId, BTreeSet<u64>>,
}

impl Sizes {
    /// For the artifacts of the models `state` has not purged (what an artifact frame may be).
    pub(super) fn new(state: &State) -> Self {
        let mut unread: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
        for (record, m) in state.models() {
            if m.purged {
                continue;
            }
            for a in &m.artifacts {
                unread.entry(*a).or_default().push(*record);
            }
        }
        Sizes {
            unread,
            read: HashSet::new(),
            stated: HashMap::new(),
        }
    }

    /// Checks that an artifact frame of `len` bytes has the size a record listing `artifact`
    /// states; `read` gives a record's verified bytes. Reads only records not read yet.
    pub(super) fn check(
        &mut self,
        index: u64,
        artifact: &ObjectId,
        len: u64,
        read: impl Fn(&ObjectId) -> Result<Vec<u8>, ImportError>,
    ) -> Result<(), ImportError> {
        for record in self.unread.remove(artifact).unwrap_or_default() {
            if !self.read.insert(record) {
                continue;
            }
            let signed = SignedManifest::parse(read(&record)?).map_err(|e| {
                ImportError::UnreadableRecord {
                    record,
                    detail: e.to_string(),
                }
            })?;
            for a in &signed.manifest.artifacts {
                if let Ok(id) = a.blake3.parse::<ObjectId>() {
                    self.stated.entry(id).or_default().insert(a.size);
                }
            }
        }
        let stated = self.stated.get(artifact);
        if stated.is_some_and(|s| s.contains(&len)) {
            return Ok(());
        }
        Err(ImportError::Length {
            index,
            id: *artifact,
            len,
            stated: stated
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
        })
    }
}
