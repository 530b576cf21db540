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

#[cfg(test)]
mod tests {
    use super::*;

    /// A trust file of `n` pins of one root, at paths of `width` characters.
    fn pins(n: u32, width: usize) -> TrustFile {
        let root: Fingerprint = "00112233445566778899aabbccddeeff"
            .parse()
            .expect("a fingerprint");
        let mut pins: Vec<Pin> = (0..n)
            .map(|i| Pin {
                path: format!("/media/{i:0width$}/.registry"),
                registry: ObjectId::of(&i.to_le_bytes()),
                root: root.clone(),
                floor: None,
            })
            .collect();
        pins.sort_by_key(|p| p.registry);
        TrustFile { pins }
    }

    #[test]
    fn a_new_pin_replaces_the_pin_of_its_registry_and_the_pin_of_its_path() {
        // One pin per registry (a moved registry is pinned at its new path) and one per path
        // (a registry made again where another was): a stale pin would be matched first.
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("trust.json");
        let mut ids = pins(3, 1).pins.into_iter();
        let mut pin = |path: &str| {
            let mut p = ids.next().expect("a pin");
            p.path = path.into();
            p
        };
        let (a, b, c) = (pin("/m/a"), pin("/m/b"), pin("/m/c"));
        let moved = Pin {
            path: "/m/b".into(),
            ..a.clone()
        };
        let read = || TrustFile::load(&path).expect("read back").pins;
        TrustFile::add_pin(&path, a).expect("pin");
        TrustFile::add_pin(&path, moved.clone()).expect("pin at the new path");
        assert_eq!(read(), vec![moved]);
        TrustFile::add_pin(&path, b.clone()).expect("another registry at that path");
        assert_eq!(read(), vec![b.clone()]);
        TrustFile::add_pin(&path, c.clone()).expect("a third");
        let mut both = vec![b, c];
        both.sort_by_key(|p| p.registry);
        assert_eq!(read(), both);
    }

    #[test]
    fn a_trust_file_is_read_up_to_its_limit_and_never_written_past_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("trust.json");
        // Several MiB of pins, under the limit, read back as written.
        let many = pins(20_000, 200);
        let bytes = to_canonical_vec(&many).expect("serializes");
        assert!(bytes.len() > 4 << 20 && (bytes.len() as u64) < TrustFile::LIMIT);
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(TrustFile::load(&path).expect("read back"), many);
        // A file at the limit: one more pin would take it past, so adding one is refused and
        // the file kept.
        let size = |n| to_canonical_vec(&pins(n, 220)).expect("serializes").len() as u64;
        let per_pin = size(2) - size(1);
        let n = u32::try_from((TrustFile::LIMIT - size(1)) / per_pin + 1).expect("fits");
        let mut all = pins(n + 1, 220);
        let extra = all.pins.remove(7);
        let bytes = to_canonical_vec(&all).expect("serializes");
        assert!(bytes.len() as u64 <= TrustFile::LIMIT);
        assert!(bytes.len() as u64 + per_pin > TrustFile::LIMIT);
        std::fs::write(&path, &bytes).expect("write");
        let e = TrustFile::add_pin(&path, extra).expect_err("past the limit");
        assert!(e.to_string().contains("over the"), "{e}");
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
        // A file past the limit, or a directory, is an error: never an empty file.
        std::fs::write(&path, vec![b' '; TrustFile::LIMIT as usize + 1]).expect("write");
        assert!(TrustFile::load(&path).is_err());
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(
            TrustFile::load(&path).expect("missing: empty"),
            TrustFile::default()
        );
        std::fs::create_dir(&path).expect("mkdir");
        assert!(TrustFile::load(&path).is_err());
    }

    #[test]
    fn a_pin_whose_floor_head_is_not_24_to_64_hex_digits_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("trust.json");
        let pin = |head: Option<&str>| TrustFile {
            pins: vec![Pin {
                path: "/r/.registry".into(),
                registry: ObjectId::of(b"r"),
                root: "00112233445566778899aabbccddeeff".parse().expect("fp"),
                floor: Some(Floor {
                    seq: 3,
                    head: head.map(str::to_string),
                }),
            }],
        };
        let id = ObjectId::of(b"entry").to_string();
        for ok in [None, Some(&id[..24]), Some(&id[..35]), Some(id.as_str())] {
            let file = pin(ok);
            std::fs::write(&path, to_canonical_vec(&file).expect("json")).expect("write");
            assert_eq!(TrustFile::load(&path).expect("read"), file);
        }
        let upper = id[..30].to_uppercase();
        for bad in ["", &id[..23], &upper, "zz0000000000000000000000000"] {
            std::fs::write(&path, to_canonical_vec(&pin(Some(bad))).expect("json")).expect("write");
            let e = TrustFile::load(&path).expect_err(bad).to_string();
            assert!(e.contains("is not 24 to 64 lowercase hex digits"), "{e}");
        }
    }
}
