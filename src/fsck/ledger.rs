//! The ledger, replayed and verified in full, against this host's record of the last checkpoint
//! it verified (`ledger-invalid`, `ledger-rollback`, `host-state`, `checkpoint-expired`,
//! `ledger-residue`), and each entry of an older registry dated before its predecessor
//! (`time-backwards`: FORMAT.md §5.1 rule 5, which only format 4's replay enforces).

use super::{Code, Fsck};
use crate::format::entry::Body;
use crate::format::id::ObjectId;
use crate::repo::layout::{CHECKPOINT, LEDGER};
use crate::repo::ledger::{EntryProblem, LedgerError, Verified};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::{Store, StoreError};
use crate::repo::trust::HostStateError;
use crate::state::{State, TimeOrder};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What the ledger reaches, gathered while it is replayed.
#[derive(Default)]
pub(super) struct Reached {
    /// Every entry up to the checkpoint, as the replay verified it.
    pub(super) entries: BTreeSet<ObjectId>,
    /// Each of those entries' size in bytes, as the replay read it.
    pub(super) entry_sizes: HashMap<ObjectId, u64>,
    /// The record of every `add` entry the replay verified: read, hash-checked and its
    /// signature verified there, so the objects pass need not hash it again.
    pub(super) records: BTreeSet<ObjectId>,
}

impl Reached {
    /// Whether the replay read object `id` through the store, which checked its hash; and its
    /// size if the replay knows it (`None`: a record, whose size the caller reads).
    pub(super) fn hashed(&self, id: &ObjectId) -> Option<Option<u64>> {
        match self.entry_sizes.get(id) {
            Some(n) => Some(Some(*n)),
            None => self.records.contains(id).then_some(None),
        }
    }
}

/// Replays the ledger; returns the state it gives (`None` when it does not verify) and what it
/// reached.
pub(super) fn replay(reg: &Registry, f: &mut Fsck) -> (Option<Verified<State>>, Reached) {
    let dot = reg.path();
    let mut reached = Reached::default();
    let mut times = TimeOrder::default();
    let mut backwards = Vec::new();
    let replay = reg.verify(&mut |v| {
        reached.entries.insert(v.id);
        reached.entry_sizes.insert(v.id, v.envelope.len() as u64);
        if let Body::Add(a) = &v.entry.body {
            reached.records.insert(a.record);
        }
        let header = &v.entry.header;
        backwards.extend(times.next(header.seq, &header.time).map(|b| (v.id, b)));
    });
    let store = Store::new(dot);
    for (id, back) in backwards {
        f.warn(
            Code::TimeBackwards,
            Some(store.path(&id)),
            Some(id),
            format!("{back}: a registry older than format 4 did not refuse it, but when the entry was made is doubtful"),
        );
    }
    // What this host verified is recorded, as after every full replay.
    let replay = replay.and_then(|r| reg.record(&r.state, &r.checkpoint).map(|()| r));
    let state = match replay {
        Ok(r) => {
            f.counts.entries = r.checkpoint.seq + 1;
            if let Err(e) = reg.check_fresh(&r.state, &r.checkpoint.time) {
                let code = match &e {
                    RegistryError::Stale(s) if !s.is_expired() => Code::CheckpointFuture,
                    _ => Code::CheckpointExpired,
                };
                f.error(code, Some(dot.join(CHECKPOINT)), None, e.to_string());
            }
            if r.residue_lines > 0 || r.partial_line {
                f.warn(Code::LedgerResidue, Some(dot.join(LEDGER)), None, "the ledger file lists entries after the checkpoint: an interrupted write, removed by the next one".into());
            }
            Some(r.into_parts().0)
        }
        Err(e) => {
            let code = match &e {
                RegistryError::RolledBack { .. } | RegistryError::BelowFloor { .. } => {
                    Code::LedgerRollback
                }
                RegistryError::HostState(_) => Code::HostState,
                _ => Code::LedgerInvalid,
            };
            f.error(code, Some(error_path(&e, dot)), None, e.to_string());
            None
        }
    };
    (state, reached)
}

/// The file a failed replay is about: the one to look at, or restore, first.
fn error_path(e: &RegistryError, dot: &Path) -> PathBuf {
    let store = Store::new(dot);
    match e {
        RegistryError::HostState(
            HostStateError::Unreadable { path, .. } | HostStateError::Unwritable { path, .. },
        ) => path.clone(),
        // Older than what this host verified, or than its pin's floor: the checkpoint is what
        // a copy from an older medium brought back.
        RegistryError::RolledBack { .. } | RegistryError::BelowFloor { .. } => dot.join(CHECKPOINT),
        RegistryError::Ledger(l) => match l {
            // A missing entry object: the listing may be what was altered; name the ledger file
            // (the message names the object).
            LedgerError::Entry {
                problem: EntryProblem::Object(StoreError::Missing(_)),
                ..
            } => dot.join(LEDGER),
            LedgerError::Entry { id, .. } => store.path(id),
            LedgerError::Checkpoint(_) => dot.join(CHECKPOINT),
            LedgerError::Io(io) => io.path.clone(),
            LedgerError::File { .. } | LedgerError::Truncated { .. } => dot.join(LEDGER),
        },
        _ => dot.join(LEDGER),
    }
}
