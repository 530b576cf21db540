//! This host's memory of the checkpoints it verified, outside `.registry/` (FORMAT.md §8): what
//! refuses an older copy of a medium (a rollback) or a diverging one (a fork). Its directory is
//! given explicitly ([`HostState::dir`]); the CLI's default is
//! [`crate::repo::trust::HostPaths::state_dir`].

use crate::format::id::ObjectId;
use crate::util::encoding::{from_canonical_slice, to_canonical_vec};
use crate::util::fsutil::read_small;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The last checkpoint this host verified for a registry (FORMAT.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    /// The head entry id.
    pub head: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The state hash the checkpoint committed to.
    pub state: ObjectId,
    /// BLAKE3 of the `ledger` file's lines up to and including `seq`, as verified: the fast
    /// path reads the index only while the file still hashes to it, so a line changed anywhere
    /// (not only at the end) sends readers and writers to the full replay. Absent in records
    /// written before it existed, which then take the full replay once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<ObjectId>,
}

/// Where, and whether, this host keeps its records of verified checkpoints: the memory that
/// refuses an older copy of a medium (a rollback) or a diverging one (a fork).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostState {
    /// The state directory ([`crate::repo::trust::HostPaths::state_dir`] by default).
    pub dir: PathBuf,
    /// `false` only when the user said so explicitly (`--skip-rollback-check`): records are then
    /// neither required nor written, and an older copy of a registry is not recognised.
    pub rollback_check: bool,
}

/// The host cannot keep its record of a verified checkpoint, so it could not refuse a rollback.
#[derive(Debug, thiserror::Error)]
pub enum HostStateError {
    /// The record exists but cannot be read, or is not a record (emptied, edited, a link).
    #[error(
        "this host's record of the last checkpoint it verified, `{path}`, is unreadable ({detail}): without it an older copy of the registry would be accepted"
    )]
    Unreadable {
        /// The record.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The record cannot be written.
    #[error(
        "cannot record the verified checkpoint in this host's state directory `{path}` ({detail}): without the record an older copy of the registry would be accepted later"
    )]
    Unwritable {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl HostState {
    /// Records kept in `dir`, with the rollback check on.
    pub fn new(dir: PathBuf) -> HostState {
        HostState {
            dir,
            rollback_check: true,
        }
    }

    fn path(&self, registry: &ObjectId) -> PathBuf {
        self.dir.join(format!("{registry}.json"))
    }

    fn replica_path(&self, registry: &ObjectId) -> PathBuf {
        self.dir.join(format!("{registry}.replica"))
    }

    /// Records that this host made a replica of `registry` (`reg clone`, `reg import --reset`;
    /// FORMAT.md §8, §11.14): kept outside the medium, so that deleting the medium's own
    /// marker never makes a reset drop what this host received from home.
    pub fn mark_replica(&self, registry: &ObjectId) -> Result<(), HostStateError> {
        if !self.rollback_check {
            return Ok(());
        }
        let path = self.replica_path(registry);
        let unwritable = |p: &Path, e: &dyn std::fmt::Display| HostStateError::Unwritable {
            path: p.to_path_buf(),
            detail: e.to_string(),
        };
        crate::util::fsutil::create_private_dir_all(&self.dir)
            .map_err(|e| unwritable(&self.dir, &e))?;
        crate::util::fsutil::replace_file(&self.dir, &path, b"replica\n")
            .map_err(|e| unwritable(&path, &e))
    }

    /// Whether this host made a replica of `registry` ([`HostState::mark_replica`]). Its
    /// presence is what counts, whatever it holds.
    pub fn made_replica(&self, registry: &ObjectId) -> bool {
        std::fs::symlink_metadata(self.replica_path(registry)).is_ok()
    }

    /// The checkpoint this host verified last for `registry`: `None` on first contact (no
    /// record). A record that exists but does not read as one is refused, never taken as none:
    /// emptying or editing it must not switch rollback protection off.
    pub fn load(&self, registry: &ObjectId) -> Result<Option<Seen>, HostStateError> {
        if !self.rollback_check {
            return Ok(None);
        }
        if !self.dir.is_absolute() {
            return Err(HostStateError::Unreadable {
                path: self.dir.clone(),
                detail: crate::repo::trust::RELATIVE.into(),
            });
        }
        let path = self.path(registry);
        let bytes = match read_small(&path, 4096) {
            Ok(b) => b,
            // No record, or no state directory to hold one (recording then says why).
            Err(e)
                if matches!(
                    e.source.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(None);
            }
            Err(e) => {
                return Err(HostStateError::Unreadable {
                    detail: e.source.to_string(),
                    path,
                });
            }
        };
        from_canonical_slice(&bytes)
            .map(Some)
            .map_err(|e| HostStateError::Unreadable {
                path,
                detail: if bytes.is_empty() {
                    "it is empty".into()
                } else {
                    e.to_string()
                },
            })
    }

    /// Records a verified checkpoint durably, never moving the record backwards (a slow reader
    /// finishing after a writer's commit). Failing to record is an error: a host that cannot
    /// remember what it verified cannot refuse an older copy later.
    pub fn record(&self, registry: &ObjectId, seen: &Seen) -> Result<(), HostStateError> {
        if !self.rollback_check {
            return Ok(());
        }
        match self.load(registry)? {
            Some(old) if old.seq > seen.seq || old == *seen => return Ok(()),
            // The same checkpoint, recorded without a ledger digest: keep the one given now.
            _ => {}
        }
        let path = self.path(registry);
        let unwritable = |p: &Path, e: &dyn std::fmt::Display| HostStateError::Unwritable {
            path: p.to_path_buf(),
            detail: e.to_string(),
        };
        crate::util::fsutil::create_private_dir_all(&self.dir)
            .map_err(|e| unwritable(&self.dir, &e))?;
        let bytes = to_canonical_vec(seen).map_err(|e| unwritable(&path, &e))?;
        crate::util::fsutil::replace_file(&self.dir, &path, &bytes)
            .map_err(|e| unwritable(&path, &e))
    }

    /// Replaces the record whatever it holds, or removes it (`None`): only for the operator's
    /// explicit move of a replica to the home site's history (`reg import --reset`, FORMAT.md
    /// §11.14), which may go to another branch, never by a read or an ordinary write.
    pub fn replace(&self, registry: &ObjectId, seen: Option<&Seen>) -> Result<(), HostStateError> {
        if !self.rollback_check {
            return Ok(());
        }
        let path = self.path(registry);
        let unwritable = |p: &Path, e: &dyn std::fmt::Display| HostStateError::Unwritable {
            path: p.to_path_buf(),
            detail: e.to_string(),
        };
        let Some(seen) = seen else {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(unwritable(&path, &e)),
                _ => Ok(()),
            };
        };
        crate::util::fsutil::create_private_dir_all(&self.dir)
            .map_err(|e| unwritable(&self.dir, &e))?;
        let bytes = to_canonical_vec(seen).map_err(|e| unwritable(&path, &e))?;
        crate::util::fsutil::replace_file(&self.dir, &path, &bytes)
            .map_err(|e| unwritable(&path, &e))
    }

    /// Fails unless a record could be written now: writers check this before they commit, so
    /// that a commit is never left unrecorded for want of a writable state directory.
    pub fn ensure_writable(&self) -> Result<(), HostStateError> {
        if !self.rollback_check {
            return Ok(());
        }
        let unwritable = |e: &dyn std::fmt::Display| HostStateError::Unwritable {
            path: self.dir.clone(),
            detail: e.to_string(),
        };
        if !self.dir.is_absolute() {
            return Err(unwritable(&crate::repo::trust::RELATIVE));
        }
        crate::util::fsutil::create_private_dir_all(&self.dir).map_err(|e| unwritable(&e))?;
        tempfile::Builder::new()
            .prefix(".probe-")
            .tempfile_in(&self.dir)
            .map(drop)
            .map_err(|e| unwritable(&e))
    }
}
