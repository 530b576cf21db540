//! `reg gc` and `reg purge`: removing bytes, never history.
//!
//! gc deletes only what no ledger entry reaches (the residue of a killed write, or something
//! smuggled in), leftovers in `tmp/`, and the bytes of purged models, and rewrites every ref from
//! the verified state. purge is a signed ledger entry that destroys a REVOKED model's artifact
//! bytes while its record and history stay.

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, Purge};
use crate::format::id::ObjectId;
use crate::repo::layout::{LayoutError, OBJECTS, TMP};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::Name;
use crate::util::fsutil::{IoContext, IoError, fsync_dir};
use crate::util::mount::{MountId, remove_file_on};
use std::path::{Path, PathBuf};

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    /// The `purge` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The purged model's record id.
    pub model: ObjectId,
    /// Its `name@version`.
    pub spec: String,
    /// How many artifact objects the entry names.
    pub objects: usize,
    /// Bytes deleted (objects already gone count nothing).
    pub freed: u64,
    /// What a purge with `deny` did to the model's artifact hashes (FORMAT.md §5.15).
    pub denied: Option<crate::ops::deny::Denied>,
}

/// Errors of a purge.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// The model name did not resolve.
    #[error(transparent)]
    Resolve(#[from] crate::state::resolve::ResolveError),
    /// The registry refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// What gc removed.
#[derive(Debug, Default)]
pub struct Collected {
    /// Objects deleted, with their sizes.
    pub objects: Vec<(ObjectId, u64)>,
    /// Files removed from `tmp/`, and staging directories interrupted clones or inits left
    /// beside `.registry` ([`crate::repo::leftovers`]).
    pub staging: Vec<PathBuf>,
    /// Refs rewritten because they differed from the state.
    pub refs: Vec<PathBuf>,
}

/// Refuses, before anything is removed, when one of `paths` is on another mount than the
/// registry: a directory of it has something mounted inside, whose files are not the
/// registry's to delete.
fn check_on_registry_mount<'a>(
    reg: &Registry,
    paths: impl IntoIterator<Item = &'a Path>,
) -> Result<(), RegistryError> {
    let mount = MountId::of(reg.path())?;
    for p in paths {
        if !mount.holds(p) {
            return Err(LayoutError {
                path: p.to_path_buf(),
                found: crate::repo::layout::ON_ANOTHER_MOUNT,
                expected: "regular file",
            }
            .into());
        }
    }
    Ok(())
}

/// Removes unreachable objects and staging leftovers, and rewrites refs, under the writer lock.
///
/// gc deletes, so it trusts nothing it has not verified: the whole ledger is replayed (never the
/// fast path), what to keep is computed from the verified entry ids (never from the `ledger`
/// file read again), and the store is listed in full before anything is removed: a link, or
/// anything else than a regular file where an object belongs, stops gc with nothing removed
/// (fsck names it). A staging file that another process still holds open for writing (a running
/// `reg add`, which holds a lock on each file it stages) is left alone, and so is the staging
/// directory of a clone or init still at work beside `.registry`.
pub fn gc(reg: &Registry) -> Result<Collected, RegistryError> {
    let started = std::time::SystemTime::now();
    let (mut tx, ids) = reg.begin_verified()?;
    let reach = crate::repo::reach::reachable(ids.iter().copied(), tx.state());
    let mut out = Collected::default();
    let objects = reg.path().join(OBJECTS);
    let mut doomed = Vec::new();
    for e in reg.store().list() {
        let e = e.map_err(|err| {
            IoError::from_source("list", &objects, std::io::Error::other(err.to_string()))
        })?;
        let (ft, top) = (e.file_type, e.is_top());
        if (top && !ft.is_dir()) || (!top && !ft.is_file()) {
            return Err(LayoutError {
                path: e.path,
                found: crate::util::fsutil::describe(&ft),
                expected: if top { "directory" } else { "regular file" },
            }
            .into());
        }
        let Name::Object(id) = e.name else {
            continue; // not an object: fsck names it, a person decides
        };
        if !reach.keeps(&id) {
            let size = std::fs::symlink_metadata(&e.path)
                .map(|m| m.len())
                .unwrap_or(0);
            doomed.push((e.path, id, size));
        }
    }
    let tmp = reg.path().join(TMP);
    let mut staging = Vec::new();
    for e in std::fs::read_dir(&tmp).ctx("list", &tmp)?.flatten() {
        if staging_in_use(&e.path(), started) {
            continue;
        }
        staging.push(e.path());
    }
    check_on_registry_mount(
        reg,
        doomed
            .iter()
            .map(|(p, _, _)| p.as_path())
            .chain(staging.iter().map(PathBuf::as_path)),
    )?;
    let mount = MountId::of(reg.path())?;
    // Beside `.registry`: what a killed clone or init left, if it is recognisably reg's own
    // staging (else fsck names it, and it is left for a person). Outside the commit window: it
    // may hold gigabytes, and no reader of the registry reads it.
    let beside = reg.path().parent().unwrap_or(Path::new("."));
    let swept = crate::repo::leftovers::clear(beside)?.removed;
    // What gc deletes and rewrites, readers see all at once (FORMAT.md §6).
    tx.open_window()?;
    let state = tx.state();
    for (path, id, size) in doomed {
        remove_file_on(&path, &mount)?;
        out.objects.push((id, size));
    }
    if !out.objects.is_empty() {
        fsync_dir(&objects)?;
    }
    for path in staging {
        // Nothing reg stages is a directory: one in `tmp/` was put there by someone, and what
        // is under it (a mount point, a tree deeper than the link check can walk) could reach
        // outside the registry. It is left for a person (fsck names it), and gc goes on.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        remove_file_on(&path, &mount)?;
        out.staging.push(path);
    }
    out.staging.extend(swept);
    reg.truncate_residue(state.seq())?;
    out.refs = crate::repo::refs::rewrite_all(reg.path(), state)?;
    crate::repo::refs::clear_pending(reg.path())?;
    drop(tx);
    Ok(out)
}

/// Whether a file in `tmp/` belongs to a live writer: one that holds a lock on it (every staged
/// object is locked by the process staging it, see [`crate::repo::store::Store::stage`]), or one
/// created after gc started (between a stager's create and its lock). A link or a special file
/// is never in use: it is removed as a name, never opened through.
fn staging_in_use(path: &Path, started: std::time::SystemTime) -> bool {
    let Ok(file) = crate::util::fsutil::open_regular(path) else {
        return false;
    };
    if file
        .metadata()
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= started)
    {
        return true;
    }
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// Purges a REVOKED model: commits the signed `purge` entry, whose commit deletes the listed
/// bytes after its commit point, in the same commit window (FORMAT.md §6). With `deny`, the
/// same entry denies every artifact hash of the model (FORMAT.md §5.15), deleted here or not:
/// destroyed bytes stay denied, under any name, until a root key lifts the denial.
pub fn purge(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    reason: &str,
    deny: bool,
) -> Result<Purged, PurgeError> {
    let tx = reg.begin()?;
    let (id, model) = crate::state::resolve::resolve(tx.state(), spec)?;
    let denied = deny.then(|| crate::ops::deny::Denied::count(tx.state(), &id, &model.artifacts));
    let spec = tx.state().spec(&id);
    let blobs = tx.state().purgeable(&id);
    // Checked before the entry is signed: a purge that could not delete its bytes would be
    // recorded as done.
    let paths: Vec<PathBuf> = blobs.iter().map(|b| reg.store().path(b)).collect();
    check_on_registry_mount(
        reg,
        paths
            .iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .map(PathBuf::as_path),
    )?;
    // Under the writer lock nothing else deletes: what is there now is what the commit frees.
    let freed = blobs
        .iter()
        .filter_map(|b| std::fs::symlink_metadata(reg.store().path(b)).ok())
        .map(|m| m.len())
        .sum();
    let done = tx.commit(
        key,
        Body::Purge(Purge {
            deny,
            blobs: blobs.clone(),
            model: id,
            reason: reason.to_string(),
        }),
    )?;
    Ok(Purged {
        entry: done.id,
        seq: done.seq,
        model: id,
        spec,
        objects: blobs.len(),
        freed,
        denied,
    })
}
