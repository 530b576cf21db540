//! The ledger, replayed and verified in full, against this host's record of the last checkpoint
//! it verified (`ledger-invalid`, `ledger-rollback`, `host-state`, `checkpoint-expired`,
//! `ledger-residue`).

use super::{Code, Fsck};
use crate::format::id::ObjectId;
use crate::repo::layout::{CHECKPOINT, LEDGER};
use crate::repo::ledger::{EntryProblem, LedgerError, Verified};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::{Store, StoreError};
use crate::state::State;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What the ledger reaches, gathered while it is replayed.
#[derive(Default)]
pub(super) struct Reached {
    /// Every entry up to the checkpoint, as the replay verified it.
    pub(super) entries: BTreeSet<ObjectId>,
}

/// Replays the ledger; returns the state it gives (`None` when it does not verify) and what it
/// reached.
pub(super) fn replay(reg: &Registry, f: &mut Fsck) -> (Option<Verified<State>>, Reached) {
    let dot = reg.path();
    let mut reached = Reached::default();
    let replay = reg.verify(&mut |v| {
        reached.entries.insert(v.id);
    });
    // What this host verified is recorded, as after every full replay.
    let replay = replay.and_then(|r| reg.record(&r.checkpoint).map(|()| r));
    let state = match replay {
        Ok(r) => {
            f.counts.entries = r.checkpoint.seq + 1;
            if let Err(e) = reg.check_fresh(&r.state, &r.checkpoint.time) {
                let path = Some(dot.join(CHECKPOINT));
                f.error(Code::CheckpointExpired, path, None, e.to_string());
            }
            if r.residue_lines > 0 || r.partial_line {
                f.warn(Code::LedgerResidue, Some(dot.join(LEDGER)), None, "the ledger file lists entries after the checkpoint: an interrupted write, removed by the next one".into());
            }
            Some(r.into_parts().0)
        }
        Err(e) => {
            let code = match &e {
                RegistryError::RolledBack { .. } => Code::LedgerRollback,
                RegistryError::HostState(_) => Code::HostState,
                _ => Code::LedgerInvalid,
            };
            let path = error_path(&e, dot).unwrap_or_else(|| dot.join(LEDGER));
            f.error(code, Some(path), None, e.to_string());
            None
        }
    };
    (state, reached)
}

/// The file an error is about, when it names one.
pub(super) fn error_path(e: &RegistryError, dot: &Path) -> Option<PathBuf> {
    let store = Store::new(dot);
    match e {
        RegistryError::Store(
            StoreError::Corrupt { id, .. } | StoreError::Missing(id) | StoreError::NotAFile(id),
        ) => Some(store.path(id)),
        RegistryError::Io(io) => Some(io.path.clone()),
        RegistryError::Config { path, .. } | RegistryError::CorruptObject { path, .. } => {
            Some(path.clone())
        }
        RegistryError::RolledBack { .. } => Some(dot.join(CHECKPOINT)),
        RegistryError::Ledger(l) => match l {
            // A missing entry object: the listing may be what was altered; name the ledger file
            // (the message names the object).
            LedgerError::Entry {
                problem: EntryProblem::Object(StoreError::Missing(_)),
                ..
            } => Some(dot.join(LEDGER)),
            LedgerError::Entry { id, .. } => Some(store.path(id)),
            LedgerError::Checkpoint(_) => Some(dot.join(CHECKPOINT)),
            LedgerError::Io(io) => Some(io.path.clone()),
            LedgerError::File { .. } | LedgerError::Truncated { .. } => Some(dot.join(LEDGER)),
        },
        _ => None,
    }
}
