//! The object store: every object hashed (`object-corrupt`, `object-misnamed`,
//! `object-not-file`, `object-unreadable`), and held against what the ledger reaches
//! (`object-missing`, `object-dangling`, `purged-present`).

use super::ledger::Reached;
use super::{Code, Fsck};
use crate::format::id::ObjectId;
use crate::repo::reach::{Why, reachable};
use crate::repo::registry::Registry;
use crate::repo::store::Name;
use crate::state::State;
use std::collections::BTreeSet;

/// Hashes every object the replay did not (`reached`: the entries and records it read, each
/// hash-checked by the store); returns the ids of the intact ones.
pub(super) fn check_objects(reg: &Registry, reached: &Reached, f: &mut Fsck) -> BTreeSet<ObjectId> {
    let mut present = BTreeSet::new();
    let task = crate::util::progress::task("checking objects", None);
    for e in reg.store().list() {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                f.error(Code::ObjectUnreadable, err.path, None, err.message);
                continue;
            }
        };
        let (path, ft) = (e.path, e.file_type);
        let id = match e.name {
            Name::Fan => continue,
            Name::NotFan => {
                let msg = "not a fan-out directory of the store".into();
                f.error(Code::ObjectMisnamed, Some(path), None, msg);
                continue;
            }
            Name::NotObject => {
                let msg = "not named by an object id".into();
                f.error(Code::ObjectMisnamed, Some(path), None, msg);
                continue;
            }
            Name::Object(id) => id,
        };
        if ft.is_symlink() {
            continue; // named by check_links
        }
        if !ft.is_file() {
            let msg = "not a regular file (reg never follows links in the store)".into();
            f.error(Code::ObjectNotFile, Some(path), Some(id), msg);
            continue;
        }
        // Hashed by the replay a moment ago under the same readers' lock: counted, not read
        // again (the ledger's entries and records are most of a large registry's objects).
        let size = match reached.hashed(&id) {
            Some(Some(n)) => Some(n),
            Some(None) => std::fs::symlink_metadata(&path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            None => None,
        };
        if let Some(n) = size {
            task.advance(n);
            f.counts.objects += 1;
            f.counts.bytes += n;
            present.insert(id);
            continue;
        }
        match reg.store().verify(&id) {
            Ok(n) => {
                task.advance(n);
                f.counts.objects += 1;
                f.counts.bytes += n;
                present.insert(id);
            }
            Err(err) => f.error(Code::ObjectCorrupt, Some(path), Some(id), err.to_string()),
        }
    }
    present
}

/// Every object the ledger reaches is there; everything there is reached.
pub(super) fn check_reachability(
    reg: &Registry,
    state: &State,
    reached: &Reached,
    present: &BTreeSet<ObjectId>,
    f: &mut Fsck,
) {
    let reach = reachable(reached.entries.iter().copied(), state);
    let store = reg.store();
    for id in reach.purged.iter().filter(|id| reach.is_purged(id)) {
        if present.contains(id) {
            f.error(
                Code::PurgedPresent,
                Some(store.path(id)),
                Some(*id),
                "an artifact of a purged model is back in the store; `reg gc` removes it".into(),
            );
        }
    }
    for (id, why) in &reach.needed {
        if !present.contains(id) && !store.contains(id) {
            let what = match why {
                Why::Entry => "a ledger entry".to_string(),
                Why::Record(m) => format!("the record of {}@{}", m.name, m.version),
                Why::Artifact(m) => format!("an artifact of {}@{}", m.name, m.version),
            };
            f.error(
                Code::ObjectMissing,
                Some(store.path(id)),
                Some(*id),
                format!("{what} is missing from the store"),
            );
        }
    }
    for id in present.iter().filter(|id| !reach.keeps(id)) {
        if !reach.purged.contains(id) {
            f.warn(
                Code::ObjectDangling,
                Some(store.path(id)),
                Some(*id),
                "no ledger entry reaches this object; `reg gc` removes it".into(),
            );
        }
    }
}
