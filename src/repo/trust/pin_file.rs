//! The host trust file (FORMAT.md §8): its pins, read whole and bounded, and changed only
//! under its lock, durably, never past what its readers read.

use super::{Floor, PinSelector, RELATIVE, TrustError};
use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::util::encoding::{from_canonical_slice, to_canonical_vec};
use crate::util::fsutil::{IoContext, read_small, replace_file};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One pin of the host trust file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// Absolute path of the `.registry` directory when it was pinned.
    pub path: String,
    /// The registry id.
    pub registry: ObjectId,
    /// The genesis root fingerprint.
    pub root: Fingerprint,
    /// The least history this host accepts for the registry (`reg trust add --head`):
    /// absent in pins written before it existed, and when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Floor>,
}

/// The host trust file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    /// Pins, sorted by registry id.
    pub pins: Vec<Pin>,
}

impl TrustFile {
    /// The most bytes the trust file may hold: about 100,000 pins, far beyond any host's, and a
    /// bound on what a planted file can make reg read. Every change of the file enforces it first.
    pub const LIMIT: u64 = 16 * 1024 * 1024;

    /// Reads the trust file; a missing file is an empty one. Any other failure is an error,
    /// never an empty file: the next write would replace every pin it holds.
    pub fn load(path: &Path) -> Result<TrustFile, TrustError> {
        Self::check_absolute(path)?;
        match read_small(path, Self::LIMIT) {
            Ok(bytes) => {
                let file: TrustFile =
                    from_canonical_slice(&bytes).map_err(|e| TrustError::File {
                        path: path.to_path_buf(),
                        detail: e.to_string(),
                    })?;
                for pin in &file.pins {
                    if let Some(Err(detail)) = pin.floor.as_ref().map(Floor::check) {
                        return Err(TrustError::File {
                            path: path.to_path_buf(),
                            detail: format!("the pin of registry {}: {detail}", pin.registry),
                        });
                    }
                }
                Ok(file)
            }
            Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => Ok(TrustFile::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Refuses a relative path ([`RELATIVE`]), or one ending in `/`, before anything is read
    /// or created.
    fn check_absolute(path: &Path) -> Result<(), TrustError> {
        let detail = if !path.is_absolute() {
            RELATIVE
        } else if path.as_os_str().to_string_lossy().ends_with('/') {
            "a path that ends in `/` names a directory, not the trust file"
        } else {
            return Ok(());
        };
        Err(TrustError::File {
            path: path.to_path_buf(),
            detail: detail.into(),
        })
    }

    /// Fails unless the file can be read and then changed now: where it lives can be created and
    /// its lock opened. `init` and `clone` check this before they put a registry in place, so
    /// that a registry is never left behind unpinned for want of a writable trust file.
    pub fn ensure_writable(path: &Path) -> Result<(), TrustError> {
        Self::check_absolute(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::util::fsutil::create_private_dir_all(dir).ctx("create directory", dir)?;
        Self::open_lock(path)?;
        Self::load(path).map(drop)
    }

    /// Opens (creating it) `trust.lock` beside the trust file `path`, never through a link: with
    /// `O_CREAT`, a link planted there would make reg create or lock any file it points at.
    fn open_lock(path: &Path) -> Result<std::fs::File, TrustError> {
        let lock_path = path.with_extension("lock");
        crate::util::fsutil::open_lock_file(&lock_path).map_err(
            |e| match std::fs::symlink_metadata(&lock_path) {
                Ok(m) if !m.is_file() => TrustError::Lock {
                    path: lock_path.clone(),
                    found: crate::util::fsutil::describe(&m.file_type()),
                },
                _ => e.into(),
            },
        )
    }

    /// Adds or replaces the pin of a registry and writes the file durably.
    pub fn add_pin(path: &Path, pin: Pin) -> Result<(), TrustError> {
        Self::update(path, |file| {
            file.pins
                .retain(|p| p.registry != pin.registry && p.path != pin.path);
            file.pins.push(pin);
            Ok(())
        })
    }

    /// Removes the pins `select` matches and writes the file durably; returns them. Matching
    /// nothing is an error (and writes nothing), so a mistyped id never looks like a removal.
    pub fn remove_pins(path: &Path, select: &PinSelector) -> Result<Vec<Pin>, TrustError> {
        Self::update(path, |file| {
            let (removed, kept): (Vec<Pin>, Vec<Pin>) = file
                .pins
                .drain(..)
                .partition(|p| select.matches(&p.root, &p.registry, &p.path));
            file.pins = kept;
            if removed.is_empty() {
                return Err(TrustError::NoSuchPin {
                    what: select.to_string(),
                    file: path.to_path_buf(),
                });
            }
            Ok(removed)
        })
    }

    /// Reads, changes and writes the file under a lock, so that two writers on one host (two
    /// `reg init`s, an init and a `reg trust remove`) keep each other's changes. Nothing is
    /// written when `change` fails.
    fn update<T>(
        path: &Path,
        change: impl FnOnce(&mut TrustFile) -> Result<T, TrustError>,
    ) -> Result<T, TrustError> {
        Self::check_absolute(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::util::fsutil::create_private_dir_all(dir).ctx("create directory", dir)?;
        let lock = Self::open_lock(path)?;
        lock.lock().ctx("lock", &path.with_extension("lock"))?;
        let mut file = TrustFile::load(path)?;
        let out = change(&mut file)?;
        file.pins.sort_by_key(|p| p.registry);
        let bytes = to_canonical_vec(&file).map_err(|e| TrustError::File {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        if bytes.len() as u64 > Self::LIMIT {
            return Err(TrustError::File {
                path: path.to_path_buf(),
                detail: format!(
                    "the change would make it {} bytes, over the {} bytes reg reads; remove pins of registries this host no longer uses (`reg trust remove`)",
                    bytes.len(),
                    Self::LIMIT
                ),
            });
        }
        replace_file(dir, path, &bytes)?;
        Ok(out)
    }
}
