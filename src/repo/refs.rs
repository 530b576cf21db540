//! Refs: `refs/models/ID` names a model's latest entry, `refs/slots/NAME` the entry that set a
//! slot (FORMAT.md §5.11). They are derived data, written after the commit point, so that a
//! crash can leave them behind the ledger but never ahead of it.
//!
//! A commit first creates the marker `refs-pending` in `.registry/`; the checkpoint's directory
//! fsync makes it durable no later than the commit itself. The refs are written after the
//! checkpoint and the marker removed. A marker found later says an interrupted commit may have
//! left refs behind: the next writer rewrites them all ([`rewrite_all`]) and fsck reports refs
//! that lag as a warning, not an error.

use crate::format::id::ObjectId;
use crate::repo::layout::{REFS_MODELS, REFS_SLOTS, TMP};
use crate::state::State;
use crate::util::fsutil::{IoError, fsync_dir, read_small, replace_file};
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The marker of a commit whose refs may not all be written yet, in `.registry/`.
pub const PENDING: &str = crate::repo::layout::REFS_PENDING;

/// Where the ref of the model `id` lives: `refs/models/ID`.
pub fn model_path(dot: &Path, id: &ObjectId) -> PathBuf {
    dot.join(REFS_MODELS).join(id.to_string())
}

/// Where the ref of the slot `name` lives: `refs/slots/NAME`.
pub fn slot_path(dot: &Path, name: &str) -> PathBuf {
    dot.join(REFS_SLOTS).join(name)
}

/// Reads a ref file: an object id and a newline.
pub fn read(path: &Path) -> Option<ObjectId> {
    let bytes = read_small(path, 128).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_suffix('\n')?.parse().ok()
}

/// Creates the pending marker before a commit's ledger append. Not fsynced here: the
/// checkpoint's rename is followed by an fsync of the same directory.
pub fn mark_pending(dot: &Path) -> Result<(), IoError> {
    let path = dot.join(PENDING);
    crate::util::fsutil::replace_file_unsynced(&dot.join(TMP), &path, b"")
}

/// Whether a commit's refs may be behind the ledger.
pub fn is_pending(dot: &Path) -> bool {
    fs::symlink_metadata(dot.join(PENDING)).is_ok()
}

/// Removes the pending marker once the refs are written. Unsynced: a marker that comes back
/// after a crash only makes the next writer rewrite refs that were already right.
pub fn clear_pending(dot: &Path) -> Result<(), IoError> {
    let path = dot.join(PENDING);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IoError::from_source("remove", &path, e)),
    }
}

/// Rewrites the refs of the given models and slots from `state`; a cleared slot loses its ref.
pub fn write(
    dot: &Path,
    state: &State,
    models: &BTreeSet<ObjectId>,
    slots: &BTreeSet<String>,
) -> Result<(), IoError> {
    let tmp = dot.join(TMP);
    for id in models {
        if let Some(m) = state.models().get(id) {
            let path = model_path(dot, id);
            replace_file(&tmp, &path, format!("{}\n", m.entry).as_bytes())?;
        }
    }
    for slot in slots {
        let path = slot_path(dot, slot);
        match state.slots().get(slot) {
            Some(s) => replace_file(&tmp, &path, format!("{}\n", s.entry).as_bytes())?,
            None => match fs::remove_file(&path) {
                Ok(()) => fsync_dir(&dot.join(REFS_SLOTS))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(IoError::from_source("remove", &path, e)),
            },
        }
    }
    Ok(())
}

/// Makes `refs/` exactly what `state` says (the repair after an interrupted commit, and gc);
/// returns the refs that changed. Removing a ref never follows a link: `remove_file` unlinks
/// the name itself.
pub fn rewrite_all(dot: &Path, state: &State) -> Result<Vec<PathBuf>, IoError> {
    let tmp = dot.join(TMP);
    let mut changed = Vec::new();
    let mut want: Vec<(PathBuf, ObjectId)> = Vec::new();
    for (id, m) in state.models() {
        want.push((model_path(dot, id), m.entry));
    }
    for (slot, s) in state.slots() {
        want.push((slot_path(dot, slot), s.entry));
    }
    let wanted: BTreeSet<&PathBuf> = want.iter().map(|(p, _)| p).collect();
    for dir in [REFS_MODELS, REFS_SLOTS] {
        let dir = dot.join(dir);
        let entries = fs::read_dir(&dir).map_err(|e| IoError::from_source("list", &dir, e))?;
        for e in entries.flatten() {
            if !wanted.contains(&e.path()) {
                remove_entry(&e.path())?;
                changed.push(e.path());
            }
        }
    }
    for (path, entry) in &want {
        if read(path) != Some(*entry) {
            replace_file(&tmp, path, format!("{entry}\n").as_bytes())?;
            changed.push(path.clone());
        }
    }
    Ok(changed)
}

/// A ref that is not what the state says: what [`check`] finds. `found` is the entry the ref
/// names, `None` when it is missing or unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefFault {
    /// The ref of a registered model names another entry than the model's latest.
    Model {
        /// The ref file.
        path: PathBuf,
        /// The model (its record id).
        id: ObjectId,
        /// The model's latest entry, which the ref should name.
        want: ObjectId,
        /// What the ref names (`None`: unreadable).
        found: Option<ObjectId>,
    },
    /// A file in `refs/models/` named by no registered model.
    UnknownModel {
        /// The ref file.
        path: PathBuf,
    },
    /// A registered model with no ref.
    MissingModel {
        /// Where its ref belongs.
        path: PathBuf,
        /// The model.
        id: ObjectId,
    },
    /// A ref in `refs/slots/` that does not name the entry that set its slot, or names a slot
    /// that is not set (`set` is then `None`).
    Slot {
        /// The ref file.
        path: PathBuf,
        /// The slot.
        name: String,
        /// The entry that set the slot, if it is set.
        set: Option<ObjectId>,
        /// What the ref names (`None`: unreadable).
        found: Option<ObjectId>,
    },
    /// A set slot with no ref.
    MissingSlot {
        /// Where its ref belongs.
        path: PathBuf,
        /// The slot.
        name: String,
    },
}

/// Compares `refs/` with `state`, reading only: model refs (in directory order), models without
/// one, slot refs (in directory order), set slots without one. Whether a fault is the lag an
/// interrupted commit leaves ([`is_pending`]) is the caller's to judge.
pub fn check(dot: &Path, state: &State) -> Vec<RefFault> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for e in list(&dot.join(REFS_MODELS)) {
        let path = e.path();
        let id = e.file_name().to_string_lossy().parse::<ObjectId>().ok();
        match id.and_then(|id| state.models().get(&id).map(|m| (id, m))) {
            Some((id, m)) => {
                seen.insert(id);
                let found = read(&path);
                if found != Some(m.entry) {
                    out.push(RefFault::Model {
                        path,
                        id,
                        want: m.entry,
                        found,
                    });
                }
            }
            None => out.push(RefFault::UnknownModel { path }),
        }
    }
    for id in state.models().keys().filter(|id| !seen.contains(*id)) {
        out.push(RefFault::MissingModel {
            path: model_path(dot, id),
            id: *id,
        });
    }
    let mut seen_slots = BTreeSet::new();
    for e in list(&dot.join(REFS_SLOTS)) {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let set = state.slots().get(&name).map(|s| s.entry);
        let found = read(&path);
        if set.is_some() && found == set {
            seen_slots.insert(name);
        } else {
            out.push(RefFault::Slot {
                path,
                name,
                set,
                found,
            });
        }
    }
    for name in state.slots().keys() {
        let path = slot_path(dot, name);
        // `exists` follows a link: a dangling one counts as missing too.
        if !seen_slots.contains(name) && !path.exists() {
            out.push(RefFault::MissingSlot {
                path,
                name: name.clone(),
            });
        }
    }
    out
}

/// The entries of a refs directory, in directory order; nothing when it cannot be listed.
fn list(dir: &Path) -> impl Iterator<Item = fs::DirEntry> {
    fs::read_dir(dir).into_iter().flatten().flatten()
}

/// Removes one directory entry without following it: a file or link is unlinked, a directory
/// (which no ref is) is refused.
fn remove_entry(path: &Path) -> Result<(), IoError> {
    fs::remove_file(path).map_err(|e| IoError::from_source("remove", path, e))
}
