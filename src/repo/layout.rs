//! The shape of a `.registry/` directory, and the rule that none of it is a link
//! (FORMAT.md §1).
//!
//! Whoever holds the medium can plant a symbolic link anywhere in it. A link in place of a file
//! is harmless to reg, which opens every file with `O_NOFOLLOW` and checks on the descriptor that
//! it is a regular file ([`crate::util::fsutil::open_regular`]). A link in place of a *directory* is
//! not: every path below it would resolve outside the registry, so that a write puts files there
//! and `reg gc` deletes what it finds there. [`check_skeleton`] refuses such a registry before
//! any command reads or writes it: it checks, without following anything, that the registry
//! directory and every directory reg uses inside it (including the object store's fan-out
//! directories) are real directories and that the files reg reads at the top are not links.
//! fsck goes further and reports a link or non-regular file anywhere.

use crate::util::mount::MountId;
use std::fs;
use std::path::{Path, PathBuf};

/// The object store (FORMAT.md §3): `objects/ab/cdef…`.
pub const OBJECTS: &str = "objects";
/// Staging: where every file is written before it is renamed into place.
pub const TMP: &str = "tmp";
/// The derived index.
pub const INDEX: &str = "index";
/// The refs ([`crate::repo::refs`]).
pub const REFS: &str = "refs";
/// `refs/models/ID`: each model's latest entry.
pub const REFS_MODELS: &str = "refs/models";
/// `refs/slots/NAME`: the entry that set each slot.
pub const REFS_SLOTS: &str = "refs/slots";

/// A replica's drift reports waiting to go home (FORMAT.md §11.10): made on first use, so
/// absent in most registries; a directory when present.
pub const OUTBOX: &str = "outbox";

/// The replica marker (FORMAT.md §11.14): present in a registry made by `reg clone`, which takes
/// its history from the home site only; local and unsigned, a guard against the operator's
/// mistakes, never a trust decision.
pub const REPLICA: &str = "replica";

/// Where `reg import --reset` keeps a replica's replaced history (FORMAT.md §11.14): made on
/// first use; reg never reads it.
pub const REPLACED: &str = "replaced";

/// The buckets of a format 5 state's models (FORMAT.md §5.11): `index/models/<key>.json`.
/// Made by `reg init` from format 5 on, so absent in older registries; a directory when present.
pub const INDEX_MODELS: &str = "index/models";
/// The buckets of a format 5 state's names: `index/names/<key>.json`; as [`INDEX_MODELS`].
pub const INDEX_NAMES: &str = "index/names";

/// The directories reg uses inside `.registry/`, relative to it, parents first.
pub const DIRS: [&str; 6] = [OBJECTS, TMP, INDEX, REFS, REFS_MODELS, REFS_SLOTS];

/// The marker of a commit whose refs may lag the ledger ([`crate::repo::refs`]); named here, with the
/// rest of the layout, so that this module depends on nothing above the file-system helpers.
pub const REFS_PENDING: &str = "refs-pending";
/// The registry's configuration: its id and format.
pub const CONFIG: &str = "config.json";
/// The signed checkpoint.
pub const CHECKPOINT: &str = "checkpoint";
/// The ledger file: one entry id a line.
pub const LEDGER: &str = "ledger";
/// The writers' lock.
pub const LOCK: &str = "lock";
/// The derived state, as replaying the ledger gives it.
pub const INDEX_STATE: &str = "index/state.json";

/// The files reg reads at fixed places inside `.registry/`.
pub const FILES: [&str; 7] = [
    CONFIG,
    CHECKPOINT,
    LEDGER,
    LOCK,
    INDEX_STATE,
    REFS_PENDING,
    REPLICA,
];

/// A registry path that is not what the layout says it must be.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{path}` is {found}, where the registry layout has a {expected}: reg reads a registry only when every path it uses is of its kind, and never follows links or reads special files inside one"
)]
pub struct LayoutError {
    /// The offending path.
    pub path: PathBuf,
    /// What it is ("a symbolic link", "a FIFO", ...).
    pub found: &'static str,
    /// What it must be ("directory" or "regular file").
    pub expected: &'static str,
}

/// What a [`LayoutError`] says of a path on another mount than the registry.
pub const ON_ANOTHER_MOUNT: &str =
    "on another file system or mount (something is mounted inside the registry)";

impl LayoutError {
    /// Whether what was found is a link or a special file (something planted), rather than a
    /// directory or regular file in the wrong place.
    pub fn is_planted(&self) -> bool {
        !matches!(self.found, "a directory" | "a regular file") && !self.is_mount()
    }

    /// Whether the path is on another mount than the registry ([`ON_ANOTHER_MOUNT`]).
    pub fn is_mount(&self) -> bool {
        self.found == ON_ANOTHER_MOUNT
    }
}

/// Refuses a directory of the registry that is on another mount than the registry's own
/// directory (`root`): reg would write into it, and `reg gc` delete what it holds
/// ([`crate::util::mount`]).
fn expect_same_mount(root: &MountId, dir: &Path) -> Result<(), LayoutError> {
    if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) && !root.holds(dir) {
        return Err(LayoutError {
            path: dir.to_path_buf(),
            found: ON_ANOTHER_MOUNT,
            expected: "directory",
        });
    }
    Ok(())
}

/// Checks `path` without following it: a missing path passes (the caller says whether it must
/// exist), anything else must be of the expected kind.
fn expect(path: &Path, dir: bool) -> Result<(), LayoutError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        // Missing, or metadata that cannot be read: not a layout fault. The caller says whether
        // the path must exist, and the read that follows names the I/O error.
        Err(_) => return Ok(()),
    };
    let ft = meta.file_type();
    let ok = if dir { ft.is_dir() } else { ft.is_file() };
    if ok {
        return Ok(());
    }
    Err(LayoutError {
        path: path.to_path_buf(),
        found: crate::util::fsutil::describe(&ft),
        expected: if dir { "directory" } else { "regular file" },
    })
}

/// Refuses a registry whose directory, or any directory or fixed file inside it, is a link or
/// not of its kind (see the module doc). Costs one `lstat` per directory: about 270 calls for a
/// full object store, so every command can afford it.
pub fn check_skeleton(dot: &Path) -> Result<(), LayoutError> {
    // Without a trailing slash, which would make `lstat` follow a link at the last component.
    let dot: PathBuf = dot.components().collect();
    let dot = dot.as_path();
    expect(dot, true)?;
    for d in DIRS {
        expect(&dot.join(d), true)?;
    }
    expect(&dot.join(OUTBOX), true)?;
    expect(&dot.join(REPLACED), true)?;
    expect(&dot.join(INDEX_MODELS), true)?;
    expect(&dot.join(INDEX_NAMES), true)?;
    // Unreadable metadata is not a layout fault (as in `expect`): what follows names it.
    let root = MountId::of(dot).ok();
    if let Some(root) = &root {
        for d in DIRS.iter().chain([&OUTBOX, &INDEX_MODELS, &INDEX_NAMES]) {
            expect_same_mount(root, &dot.join(d))?;
        }
    }
    for f in FILES {
        expect(&dot.join(f), false)?;
    }
    let objects = dot.join(OBJECTS);
    let Ok(fans) = fs::read_dir(&objects) else {
        return Ok(());
    };
    for e in fans.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_symlink() {
            return Err(LayoutError {
                path: e.path(),
                found: crate::util::fsutil::describe(&ft),
                expected: "directory",
            });
        }
        if let Some(root) = &root {
            expect_same_mount(root, &e.path())?;
        }
    }
    Ok(())
}

/// Refuses a registry with a link or special file anywhere inside it (what fsck reports as
/// `link` or `not-regular`), or a directory on another mount. `reg gc`, which deletes, runs it under the lock before it removes
/// anything. It reads directory listings only (the file types come with them), but that is still
/// one pass over the whole store, too slow for every write (a quarter of a second for 100,000
/// objects here): writers check the skeleton and the very paths they replace
/// ([`check_replaceable`]) instead, and every read is `O_NOFOLLOW`.
pub fn check_all(dot: &Path) -> Result<(), LayoutError> {
    check_skeleton(dot)?;
    let root = MountId::of(dot).ok();
    for e in walkdir::WalkDir::new(dot).min_depth(1) {
        let Ok(e) = e else { continue };
        let ft = e.file_type();
        // Any directory, also one the layout does not have: a mount can only be on one.
        if ft.is_dir()
            && let Some(root) = &root
        {
            expect_same_mount(root, e.path())?;
        }
        if ft.is_dir() || ft.is_file() {
            continue;
        }
        return Err(LayoutError {
            path: e.path().to_path_buf(),
            found: crate::util::fsutil::describe(&ft),
            expected: "regular file",
        });
    }
    Ok(())
}

/// Refuses a directory reg uses that is present but not a directory (a link, a file): what a
/// writer checks before it creates a file in a directory that is made on first use (`outbox/`).
pub fn check_dir(path: &Path) -> Result<(), LayoutError> {
    expect(path, true)
}

/// Refuses to replace `path` unless it is absent or a regular file: a writer never writes over,
/// or through, a link or special file that someone planted where it is about to write.
pub fn check_replaceable(path: &Path) -> Result<(), LayoutError> {
    expect(path, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linked_directory_anywhere_in_the_skeleton_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let dot = t.path().join(".registry");
        for d in DIRS {
            fs::create_dir_all(dot.join(d)).unwrap();
        }
        fs::create_dir_all(dot.join("objects/ab")).unwrap();
        check_skeleton(&dot).unwrap();
        let outside = t.path().join("outside");
        fs::create_dir(&outside).unwrap();
        for d in ["tmp", "refs/slots", "objects/ab"] {
            let p = dot.join(d);
            fs::rename(&p, t.path().join("saved")).unwrap();
            std::os::unix::fs::symlink(&outside, &p).unwrap();
            let e = check_skeleton(&dot).unwrap_err();
            assert_eq!(e.path, p);
            assert_eq!(e.found, "a symbolic link");
            fs::remove_file(&p).unwrap();
            fs::rename(t.path().join("saved"), &p).unwrap();
        }
        std::os::unix::fs::symlink(&outside, dot.join("ledger")).unwrap();
        assert_eq!(check_skeleton(&dot).unwrap_err().expected, "regular file");
    }
}
