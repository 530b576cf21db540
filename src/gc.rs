//! `reg gc` and `reg purge`: removing bytes, never history.
//!
//! gc deletes only what no ledger entry reaches (the residue of a killed write, or something
//! smuggled in), leftovers in `tmp/`, and the bytes of purged models, and rewrites every ref from
//! the verified state. purge is a signed ledger entry that destroys a REVOKED model's artifact
//! bytes while its record and history stay.

use crate::entry::{Body, Purge};
use crate::fsutil::{IoContext, IoError, fsync_dir, replace_file};
use crate::keys::SecretKey;
use crate::ledger::read_ids;
use crate::registry::{Committed, Registry, RegistryError};
use crate::state::State;
use crate::store::ObjectId;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What gc removed.
#[derive(Debug, Default)]
pub struct Collected {
    /// Objects deleted, with their sizes.
    pub objects: Vec<(ObjectId, u64)>,
    /// Files removed from `tmp/`.
    pub staging: Vec<PathBuf>,
    /// Refs rewritten because they differed from the state.
    pub refs: Vec<PathBuf>,
}

/// Every object the ledger reaches and the store must keep.
pub fn reachable(reg: &Registry, state: &State) -> Result<BTreeSet<ObjectId>, RegistryError> {
    let (ids, _) = read_ids(&reg.path().join("ledger"))?;
    let mut keep: BTreeSet<ObjectId> = ids.into_iter().take(state.seq as usize + 1).collect();
    for (id, m) in &state.models {
        keep.insert(*id);
        if !m.purged {
            keep.extend(m.artifacts.iter().copied());
        }
    }
    Ok(keep)
}

fn remove(path: &std::path::Path) -> Result<(), IoError> {
    let mut perms = std::fs::symlink_metadata(path)
        .ctx("stat", path)?
        .permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    if !std::fs::symlink_metadata(path)
        .ctx("stat", path)?
        .file_type()
        .is_symlink()
    {
        std::fs::set_permissions(path, perms).ctx("make writable", path)?;
    }
    std::fs::remove_file(path).ctx("remove", path)
}

/// Removes unreachable objects and staging leftovers, and rewrites refs, under the writer lock.
pub fn gc(reg: &Registry) -> Result<Collected, RegistryError> {
    let tx = reg.begin()?;
    let state = tx.state();
    let keep = reachable(reg, state)?;
    let mut out = Collected::default();
    let objects = reg.path().join("objects");
    for e in walkdir::WalkDir::new(&objects).min_depth(2).max_depth(2) {
        let e = e.map_err(|err| {
            IoError::from_source("list", &objects, std::io::Error::other(err.to_string()))
        })?;
        let Some(id) = crate::store::Store::id_of_path(e.path()) else {
            continue; // not an object: fsck names it, a person decides
        };
        if !keep.contains(&id) {
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            remove(e.path())?;
            out.objects.push((id, size));
        }
    }
    if !out.objects.is_empty() {
        fsync_dir(&objects)?;
    }
    let tmp = reg.path().join("tmp");
    for e in std::fs::read_dir(&tmp).ctx("list", &tmp)?.flatten() {
        remove(&e.path())?;
        out.staging.push(e.path());
    }
    out.refs = rewrite_refs(reg, state)?;
    drop(tx);
    Ok(out)
}

/// Makes `refs/` exactly what the state says; returns the refs that changed.
fn rewrite_refs(reg: &Registry, state: &State) -> Result<Vec<PathBuf>, RegistryError> {
    let tmp = reg.path().join("tmp");
    let mut changed = Vec::new();
    let mut want: Vec<(PathBuf, ObjectId)> = Vec::new();
    for (id, m) in &state.models {
        want.push((reg.path().join("refs/models").join(id.to_string()), m.entry));
    }
    for (slot, s) in &state.slots {
        want.push((reg.path().join("refs/slots").join(slot), s.entry));
    }
    let wanted: BTreeSet<&PathBuf> = want.iter().map(|(p, _)| p).collect();
    for dir in ["refs/models", "refs/slots"] {
        let dir = reg.path().join(dir);
        for e in std::fs::read_dir(&dir).ctx("list", &dir)?.flatten() {
            if !wanted.contains(&e.path()) {
                remove(&e.path())?;
                changed.push(e.path());
            }
        }
    }
    for (path, entry) in &want {
        let text = format!("{entry}\n");
        if std::fs::read(path).ok().as_deref() != Some(text.as_bytes()) {
            replace_file(&tmp, path, text.as_bytes())?;
            changed.push(path.clone());
        }
    }
    Ok(changed)
}

/// Purges a REVOKED model: commits the signed `purge` entry, then deletes the listed bytes.
pub fn purge(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    reason: &str,
) -> Result<(Committed, u64), crate::lifecycle::LifecycleError> {
    let tx = reg.begin()?;
    let (id, _) = crate::record::resolve(tx.state(), spec)?;
    let blobs = tx.state().purgeable(&id);
    let done = tx.commit(
        key,
        Body::Purge(Purge {
            blobs: blobs.clone(),
            model: id,
            reason: reason.to_string(),
        }),
    )?;
    // After the commit point: a crash here leaves bytes fsck reports and gc removes.
    let mut freed = 0;
    for b in &blobs {
        let path = reg.store().path(b);
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            freed += meta.len();
            remove(&path).map_err(RegistryError::from)?;
        }
    }
    Ok((done, freed))
}
