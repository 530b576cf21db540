//! `index/`, the derived state on disk (FORMAT.md §5.11): written by every commit, read by the
//! fast path. In format 5 the root (`index/state.json`, what the checkpoint commits to) names
//! each bucket of models and names by its hash, and a command loads the buckets it reads, each
//! checked against the root; a bucket that does not match sends the reader to the full replay,
//! as a stale root does, and the next write rebuilds every bucket.

use crate::repo::layout::{INDEX_MODELS, INDEX_NAMES, INDEX_STATE};
use crate::repo::ledger::Verified;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{BUCKET_LIMIT, IndexFiles, Map, Needs, State};
use crate::util::fsutil::{IoContext, read_small, replace_file_unsynced};
use std::fs;
use std::path::{Path, PathBuf};

/// Where bucket `key` of `map` lives.
pub(in crate::repo) fn bucket_path(dot: &Path, map: Map, key: &str) -> PathBuf {
    dot.join("index")
        .join(map.dir())
        .join(format!("{key}.json"))
}

/// Writes what a commit derives into `index/`: the buckets that changed, then the root. None
/// is synced: the root is checked against the checkpoint before any use, each bucket against
/// the root, and what does not match is rebuilt from the ledger. A map cut anew leaves bucket
/// files of the old cut behind: they are removed (no root names them).
pub(in crate::repo) fn write_index(dot: &Path, files: &IndexFiles) -> Result<(), RegistryError> {
    let tmp = dot.join("tmp");
    if !files.buckets.is_empty() || files.recut {
        for d in [INDEX_MODELS, INDEX_NAMES] {
            let path = dot.join(d);
            match fs::symlink_metadata(&path) {
                Ok(_) => {} // checked a directory by the layout check, before any write
                Err(_) => fs::create_dir(&path).ctx("create directory", &path)?,
            }
        }
    }
    for b in &files.buckets {
        replace_file_unsynced(&tmp, &bucket_path(dot, b.map, &b.key), &b.bytes)?;
    }
    if files.recut {
        for (map, dir) in [(Map::Models, INDEX_MODELS), (Map::Names, INDEX_NAMES)] {
            let keep: std::collections::BTreeSet<String> = files
                .buckets
                .iter()
                .filter(|b| b.map == map)
                .map(|b| format!("{}.json", b.key))
                .collect();
            let dir = dot.join(dir);
            let Ok(rd) = fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let is_bucket = e.file_type().is_ok_and(|t| t.is_file())
                    && name.strip_suffix(".json").is_some_and(|k| {
                        (1..=crate::state::MAX_DIGITS).contains(&k.len())
                            && k.bytes().all(|b| b.is_ascii_hexdigit())
                    });
                if is_bucket && !keep.contains(&name) {
                    let path = dir.join(&name);
                    fs::remove_file(&path).ctx("remove", &path)?;
                }
            }
        }
    }
    replace_file_unsynced(&tmp, &dot.join(INDEX_STATE), &files.root)?;
    Ok(())
}

impl Registry {
    /// Takes into memory what `needs` reads of a state read from its root (nothing for a state
    /// in memory whole). A bucket that cannot be read or does not match the root: the ledger
    /// is replayed instead (the state then in memory whole), as for a stale root.
    pub(in crate::repo) fn load(
        &self,
        state: &mut Verified<State>,
        needs: &Needs,
    ) -> Result<(), RegistryError> {
        if self.load_buckets(state.inner_mut(), needs).is_err() {
            let replay = self.verify(&mut |_| {})?;
            self.record(&replay.state, &replay.checkpoint)?;
            *state = replay.into_parts().0;
        }
        Ok(())
    }

    /// Loads the buckets `needs` reads into `state`, each checked against its root.
    pub(in crate::repo) fn load_buckets(
        &self,
        state: &mut State,
        needs: &Needs,
    ) -> Result<(), RegistryError> {
        loop {
            let missing = state.missing(needs);
            if missing.is_empty() {
                return Ok(());
            }
            for (map, key) in missing {
                let bytes = read_small(&bucket_path(&self.dot, map, &key), BUCKET_LIMIT)?;
                state.load_bucket(map, &key, &bytes)?;
            }
        }
    }

    /// The first file of `index/` that does not hold the state `state` (replayed from the
    /// ledger) as a commit writes it, if any: the root, or in format 5 a bucket the root names.
    pub(crate) fn index_mismatch(&self, state: &State) -> Option<PathBuf> {
        let mut whole = state.clone();
        let files = whole.index_files();
        let root = self.dot.join(INDEX_STATE);
        if read_small(&root, 1 << 30).ok().as_deref() != Some(&files.root[..]) {
            return Some(root);
        }
        files.buckets.iter().find_map(|b| {
            let path = bucket_path(&self.dot, b.map, &b.key);
            let same = read_small(&path, BUCKET_LIMIT).is_ok_and(|got| got == b.bytes);
            (!same).then_some(path)
        })
    }
}
