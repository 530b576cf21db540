//! How long an artifact may be: the sizes the records listing it state (FORMAT.md §7.1, §11.7).
//!
//! A frame's `length`, or a stored file's size, is the medium's claim, and a sparse file
//! announces a TiB at no cost to its holder; the verified records already say how long each
//! artifact is. So an artifact of another length is refused by that claim alone, before a byte of
//! it is staged, hashed, copied or read to skip it: an import's or a clone's frame (every entry
//! and record precedes the first artifact frame, FORMAT.md §11.5, so by then every record the new
//! state reaches is verified), and an export's stored file. One rule, here, for both.

use crate::format::id::ObjectId;
use crate::format::manifest::SignedManifest;
use crate::state::State;
use std::collections::{BTreeSet, HashMap, HashSet};

/// The records that list each artifact a state reaches, read on demand, each once.
pub(crate) struct Sizes {
    /// For each artifact of a model not purged: the records that list it, not read yet.
    unread: HashMap<ObjectId, Vec<ObjectId>>,
    /// Records read so far.
    read: HashSet<ObjectId>,
    /// The sizes the records read so far state, by artifact id.
    stated: HashMap<ObjectId, BTreeSet<u64>>,
}

impl Sizes {
    /// For the artifacts of the models `state` has not purged.
    pub(crate) fn new(state: &State) -> Self {
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

    /// Whether `len` is a size a record listing `artifact` states: `Err(stated)`, the sizes
    /// stated (none for an artifact no record lists), if not. `read` gives a record's verified
    /// bytes, and `unreadable` the error for a record that is not a manifest; only records not
    /// read yet are read.
    pub(crate) fn check<E>(
        &mut self,
        artifact: &ObjectId,
        len: u64,
        read: impl Fn(&ObjectId) -> Result<Vec<u8>, E>,
        unreadable: impl Fn(ObjectId, String) -> E,
    ) -> Result<Result<(), Vec<u64>>, E> {
        for record in self.unread.remove(artifact).unwrap_or_default() {
            if !self.read.insert(record) {
                continue;
            }
            let signed = SignedManifest::parse(read(&record)?)
                .map_err(|e| unreadable(record, e.to_string()))?;
            for a in &signed.manifest.artifacts {
                if let Ok(id) = a.blake3.parse::<ObjectId>() {
                    self.stated.entry(id).or_default().insert(a.size);
                }
            }
        }
        let stated = self.stated.get(artifact);
        if stated.is_some_and(|s| s.contains(&len)) {
            return Ok(Ok(()));
        }
        Ok(Err(stated
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()))
    }
}
