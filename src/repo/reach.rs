//! What a verified ledger reaches: the objects the store must keep. `reg gc` removes everything
//! else; `reg fsck` reports what is missing, what is left over, and purged bytes that came back.
//! One function, so that what gc deletes and what fsck calls dangling cannot drift apart.

use crate::format::id::ObjectId;
use crate::state::{ModelState, State};
use std::collections::{BTreeMap, BTreeSet};

/// Why the ledger reaches an object.
#[derive(Debug, Clone, Copy)]
pub enum Why<'a> {
    /// It is a ledger entry.
    Entry,
    /// It is the record of this model.
    Record(&'a ModelState),
    /// It is an artifact of this model (the first model, in id order, that lists it).
    Artifact(&'a ModelState),
}

/// The objects a verified ledger reaches, and the artifact bytes purged from it.
#[derive(Debug, Default)]
pub struct Reach<'a> {
    /// Every object the store must keep, with why: the entries, every record, and the
    /// artifacts of every model that was not purged. A record is named as one even when it is
    /// also an entry or another model's artifact; an entry before an artifact.
    pub needed: BTreeMap<ObjectId, Why<'a>>,
    /// The artifacts of purged models; those also in `needed` stay.
    pub purged: BTreeSet<ObjectId>,
}

/// What the ledger reaches: `entries` are its entry ids up to the checkpoint, as the replay
/// verified them (never the `ledger` file read again), `state` what replaying them gives.
pub fn reachable<'a>(entries: impl IntoIterator<Item = ObjectId>, state: &'a State) -> Reach<'a> {
    let mut r = Reach::default();
    for id in entries {
        r.needed.insert(id, Why::Entry);
    }
    for (id, m) in state.models() {
        r.needed.insert(*id, Why::Record(m));
        if m.purged {
            r.purged.extend(m.artifacts.iter().copied());
            continue;
        }
        for a in &m.artifacts {
            r.needed.entry(*a).or_insert(Why::Artifact(m));
        }
    }
    r
}

impl Reach<'_> {
    /// Whether the store must keep `id`.
    pub fn keeps(&self, id: &ObjectId) -> bool {
        self.needed.contains_key(id)
    }

    /// Whether `id` is purged bytes that nothing else reaches: to be removed, and an error
    /// while present.
    pub fn is_purged(&self, id: &ObjectId) -> bool {
        self.purged.contains(id) && !self.keeps(id)
    }
}
