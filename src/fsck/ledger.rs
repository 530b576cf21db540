//! The ledger, replayed and verified in full, against this host's record of the last checkpoint
//! it verified (`ledger-invalid`, `ledger-rollback`, `host-state`, `checkpoint-expired`,
//! `ledger-residue`).

use super::{Code, Fsck};
use crate::format::id::ObjectId;
use crate::repo::layout::{CHECKPOINT, LEDGER};
use crate::repo::ledger::{EntryProblem, LedgerError, Verified};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::{Store, StoreError};
use crate::repo::trust::HostStateError;
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
