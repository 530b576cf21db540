//! The commit protocol (FORMAT.md §6, steps 2 to 9): one commit's new entries written after
//! every check, up to the checkpoint (the commit point), and then what is derived from them and
//! repaired by the next writer if lost: the host record, the refs, and the bytes purges destroy.
//! For a batch signed here and for entries received from another site alike.

use crate::format::entry::Body;
use crate::format::id::ObjectId;
use crate::repo::registry::{CommitWindow, Registry, RegistryError};
use crate::repo::trust::{PinStatus, Seen};
use crate::state::State;
use crate::util::fsutil::{append_durably, failpoint, fsync_dir, replace_file};
use std::fs;
use std::path::{Path, PathBuf};

/// One commit's new entries and the state after them: what [`Registry::write_commit`] writes,
/// for a batch signed here and for entries received from another site alike.
pub(in crate::repo) struct Commit<'a> {
    /// The checkpoint's seq before the commit.
    pub(in crate::repo) seq_before: u64,
    /// The state after the last new entry.
    pub(in crate::repo) state: &'a State,
    /// What the commit writes to `index/` for it ([`State::index_files`]).
    pub(in crate::repo) index: &'a crate::state::IndexFiles,
    /// The new entry ids, in seq order (at least one).
    pub(in crate::repo) ids: &'a [ObjectId],
    /// The models and slots the new entries change.
    pub(in crate::repo) touched: &'a Touched,
    /// The objects the new entries' purges destroy (those still needed by another model left
    /// out), deleted after the refs.
    pub(in crate::repo) doomed: &'a [ObjectId],
}

impl Registry {
    /// The commit protocol (FORMAT.md §6, steps 2 to 9), under the lock, in the commit window
    /// (readers see none of its steps until all are done), after every check: `put_objects`
    /// stores the objects, then the index, the ledger lines, and the checkpoint `checkpoint`
    /// gives for the new state's hash (the commit point); the host record, the refs and the
    /// deletion of what the entries purge after it. A process killed at any step leaves the
    /// registry as it was or committed.
    pub(in crate::repo) fn write_commit(
        &self,
        c: Commit<'_>,
        _window: &CommitWindow,
        put_objects: impl FnOnce() -> Result<(), RegistryError>,
        checkpoint: impl FnOnce(ObjectId) -> Result<Vec<u8>, RegistryError>,
    ) -> Result<(), RegistryError> {
        let reg = self;
        let state = c.state;
        let head = *c.ids.last().expect("a commit writes at least one entry");
        for path in c.touched.ref_paths(&reg.dot) {
            crate::repo::layout::check_replaceable(&path)?;
        }
        // Every check passed: from here the registry changes. Refs an interrupted commit left
        // behind (its marker is still there) are rewritten with this commit's, after its commit
        // point.
        let repair_refs = crate::repo::refs::is_pending(&reg.dot);
        reg.truncate_residue(c.seq_before)?;

        put_objects()?;
        failpoint("commit:after-object");
        let tmp = reg.dot.join("tmp");
        let state_hash = ObjectId::of(&c.index.root);
        // The index is checked against the checkpoint before any use and rebuilt when it does
        // not match, so it needs no fsync of its own.
        crate::repo::registry::index::write_index(&reg.dot, c.index)?;
        failpoint("commit:after-index");
        crate::repo::refs::mark_pending(&reg.dot)?;
        let lines: String = c.ids.iter().map(|id| format!("{id}\n")).collect();
        append_durably(&reg.dot.join("ledger"), lines.as_bytes())?;
        failpoint("commit:after-ledger");
        let cp = checkpoint(state_hash)?;
        replace_file(&tmp, &reg.dot.join("checkpoint"), &cp)?;
        failpoint("commit:after-checkpoint");
        // Committed. What follows is derived and repaired by the next writer if lost.
        let recorded = match reg.pin {
            PinStatus::Unpinned => Ok(()),
            _ => reg.host.record(
                reg.id(),
                &Seen {
                    head,
                    seq: state.seq(),
                    state: state_hash,
                    ledger: reg.ledger_digest_appended(state.seq()),
                },
            ),
        };
        if repair_refs {
            crate::repo::refs::rewrite_all(&reg.dot, state)?;
            fsync_dir(&reg.dot.join("refs/models"))?;
            fsync_dir(&reg.dot.join("refs/slots"))?;
        } else {
            crate::repo::refs::write(&reg.dot, state, &c.touched.models, &c.touched.slots)?;
        }
        failpoint("commit:after-refs");
        crate::repo::refs::clear_pending(&reg.dot)?;
        // In the same window as the entry that destroys them: no reader sees a purge whose
        // bytes are still there. A crash before this leaves bytes that fsck reports and gc
        // removes.
        // Never across a mount, and never changing a mode another name of the file shares.
        let mount = crate::util::mount::MountId::of(&reg.dot)?;
        for id in c.doomed {
            let path = reg.store.path(id);
            if fs::symlink_metadata(&path).is_ok() {
                crate::util::mount::remove_file_on(&path, &mount)?;
            }
        }
        recorded?;
        Ok(())
    }
}

/// The models and slots a batch of entries changed, whose refs must be rewritten.
#[derive(Debug, Default)]
pub(in crate::repo) struct Touched {
    models: std::collections::BTreeSet<ObjectId>,
    slots: std::collections::BTreeSet<String>,
}

impl Touched {
    pub(in crate::repo) fn add(&mut self, body: &Body) {
        match body {
            Body::Add(a) => {
                self.models.insert(a.record);
            }
            Body::Transition(t) => {
                self.models.insert(t.model);
                self.slots.extend(t.slots.iter().map(|e| e.slot.clone()));
            }
            // A re-approval becomes the model's latest entry (FORMAT.md §5.14).
            Body::Reapprove(r) => {
                self.models.insert(r.model);
            }
            Body::Slot(c) => {
                self.slots.insert(c.slot.clone());
            }
            _ => {}
        }
    }

    /// The ref files this batch will replace or remove.
    fn ref_paths(&self, dot: &Path) -> Vec<PathBuf> {
        let models = self
            .models
            .iter()
            .map(|id| crate::repo::refs::model_path(dot, id));
        let slots = self
            .slots
            .iter()
            .map(|s| crate::repo::refs::slot_path(dot, s));
        models.chain(slots).collect()
    }
}
