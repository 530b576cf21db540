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
use crate::state::State;
use crate::util::fsutil::{IoError, fsync_dir, read_small, replace_file};
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The marker of a commit whose refs may not all be written yet, in `.registry/`.
pub const PENDING: &str = crate::repo::layout::REFS_PENDING;

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
    crate::util::fsutil::replace_file_unsynced(&dot.join("tmp"), &path, b"")
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
    let tmp = dot.join("tmp");
    for id in models {
        if let Some(m) = state.models.get(id) {
            let path = dot.join("refs/models").join(id.to_string());
            replace_file(&tmp, &path, format!("{}\n", m.entry).as_bytes())?;
        }
    }
    for slot in slots {
        let path = dot.join("refs/slots").join(slot);
        match state.slots.get(slot) {
            Some(s) => replace_file(&tmp, &path, format!("{}\n", s.entry).as_bytes())?,
            None => match fs::remove_file(&path) {
                Ok(()) => fsync_dir(&dot.join("refs/slots"))?,
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
    let tmp = dot.join("tmp");
    let mut changed = Vec::new();
    let mut want: Vec<(PathBuf, ObjectId)> = Vec::new();
    for (id, m) in &state.models {
        want.push((dot.join("refs/models").join(id.to_string()), m.entry));
    }
    for (slot, s) in &state.slots {
        want.push((dot.join("refs/slots").join(slot), s.entry));
    }
    let wanted: BTreeSet<&PathBuf> = want.iter().map(|(p, _)| p).collect();
    for dir in ["refs/models", "refs/slots"] {
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

/// Removes one directory entry without following it: a file or link is unlinked, a directory
/// (which no ref is) is refused.
fn remove_entry(path: &Path) -> Result<(), IoError> {
    fs::remove_file(path).map_err(|e| IoError::from_source("remove", path, e))
}
