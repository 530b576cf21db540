//! What a repair decides about one object before and after it is taken from SRC: how the local
//! copy is damaged, the most bytes a copy of it may have (FORMAT.md §11.13: an entry's, a
//! record's limit, or the size its record states), whether its place can take a file, and
//! whether bytes named by a `ledger` line are an entry at that line.

use super::{Damage, Damaged, RepairError};
use crate::format::id::ObjectId;
use crate::format::transfer::ObjectKind;
use crate::repo::registry::Config;
use crate::repo::store::{Store, StoreError};
use crate::util::encoding::from_canonical_slice;
use crate::util::fsutil::{describe, read_small};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The genesis object `config.json` names, with its damage, when it is damaged.
pub(super) fn damaged_genesis(dot: &Path) -> Option<(Damaged, ObjectId)> {
    let bytes = read_small(&dot.join("config.json"), 64 * 1024).ok()?;
    let config: Config = from_canonical_slice(&bytes).ok()?;
    let id = config.registry_id;
    let damage = damage_of(&Store::new(dot), &id).ok()??;
    Some((
        Damaged {
            kind: ObjectKind::Entry,
            id,
            damage,
        },
        id,
    ))
}

/// What is wrong with object `id` in `store`, if anything (it is hashed in full).
pub(super) fn damage_of(store: &Store, id: &ObjectId) -> Result<Option<Damage>, RepairError> {
    match store.verify(id) {
        Ok(_) => Ok(None),
        Err(StoreError::Missing(_)) => Ok(Some(Damage::Missing)),
        Err(StoreError::Corrupt { .. }) => Ok(Some(Damage::Corrupt)),
        Err(StoreError::NotAFile(_)) => Ok(Some(Damage::NotAFile)),
        Err(e) => Err(e.into()),
    }
}

/// Whether object `id`'s place can take a restored file: its fan-out directory is a directory
/// (or absent), never a link, and no directory sits at its name (a rename cannot replace one;
/// fsck names it, a person removes it).
pub(super) fn placeable(store: &Store, id: &ObjectId) -> Result<(), String> {
    let path = store.path(id);
    if let Some(fan) = path.parent()
        && let Ok(m) = std::fs::symlink_metadata(fan)
        && !m.is_dir()
    {
        return Err(format!(
            "its fan-out directory `{}` is {}, not a directory",
            fan.display(),
            describe(&m.file_type())
        ));
    }
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
        return Err(format!(
            "a directory is in its place (`{}`); remove it first",
            path.display()
        ));
    }
    Ok(())
}

/// The most bytes a copy of `d` can have (see [`Run::sizes`]); an artifact whose size no record
/// states gets none, so nothing is copied for it.
pub(super) fn limit_of(d: &Damaged, sizes: &BTreeMap<ObjectId, u64>) -> u64 {
    match d.kind {
        ObjectKind::Entry => crate::format::limits::ENTRY_LIMIT,
        ObjectKind::Record => crate::format::manifest::MANIFEST_LIMIT,
        ObjectKind::Artifact => sizes.get(&d.id).copied().unwrap_or(0),
    }
}

/// The sizes the records state for the damaged artifacts among `damaged`: read from this
/// registry's own records, which its verified ledger reaches.
pub(super) fn artifact_sizes(
    store: &Store,
    state: &crate::state::State,
    damaged: &[Damaged],
) -> BTreeMap<ObjectId, u64> {
    let wanted: BTreeSet<ObjectId> = damaged
        .iter()
        .filter(|d| d.kind == ObjectKind::Artifact)
        .map(|d| d.id)
        .collect();
    let mut sizes = BTreeMap::new();
    for (record, m) in state.models() {
        if !m.artifacts.iter().any(|a| wanted.contains(a)) {
            continue;
        }
        let Ok(bytes) = store.get(record, crate::format::manifest::MANIFEST_LIMIT) else {
            continue;
        };
        let Ok(signed) = crate::format::manifest::SignedManifest::parse(bytes) else {
            continue;
        };
        for a in &signed.manifest.artifacts {
            if let Ok(id) = a.blake3.parse::<ObjectId>() {
                sizes.insert(id, a.size);
            }
        }
    }
    sizes
}

/// Whether the staged bytes at `path` decode as a ledger entry at `position`: a line of the
/// `ledger` file is not signed, so what it names is restored only if it is at least an entry
/// that says it belongs there (its signature is checked by the replay that follows).
pub(super) fn is_entry_at(path: &Path, position: Option<&u64>) -> Result<(), String> {
    let bytes = crate::util::fsutil::read_small(path, crate::format::limits::ENTRY_LIMIT)
        .map_err(|e| e.to_string())?;
    let entry = crate::crypto::envelope::Unverified::parse(&bytes)
        .map_err(crate::format::entry::EntryError::from)
        .and_then(|env| crate::format::entry::Entry::from_envelope(&env))
        .map_err(|e| format!("SRC's bytes are not a ledger entry: {e}"))?;
    match position {
        Some(seq) if entry.header.seq != *seq => Err(format!(
            "SRC's bytes are entry {}, but the ledger lists this id at entry {seq}",
            entry.header.seq
        )),
        _ => Ok(()),
    }
}
