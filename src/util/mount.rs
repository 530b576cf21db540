//! Removing files without crossing into another file system or mount.
//!
//! A directory of a registry, or of a staging tree reg made, can have another file system
//! mounted on it (a tmpfs, a USB stick, a bind mount of someone's data from elsewhere on the same
//! disk). `unlink` and `rmdir` do not care: a remover that walks in would delete whatever that
//! mount holds. So every remover compares where it stands with where the registry (or the tree)
//! is: the file system (`st_dev`) and, on Linux, the mount itself (`statx`'s mount id, since a
//! bind mount of a directory of the same file system has the same `st_dev`). What is on another
//! mount is never removed, and the layout check refuses a registry with one inside it
//! ([`crate::repo::layout`]).

use crate::util::fsutil::{IoContext, IoError};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Which mount a path is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountId {
    /// The file system: `st_dev`.
    dev: u64,
    /// The mount, where the kernel tells (Linux 5.8 and later): `stx_mnt_id`.
    mount: Option<u64>,
}

impl MountId {
    /// The mount `path` is on; a link at its last component is not followed (a link is on the
    /// mount of the directory holding it).
    pub fn of(path: &Path) -> Result<MountId, IoError> {
        use std::os::unix::fs::MetadataExt as _;
        let dev = fs::symlink_metadata(path).ctx("stat", path)?.dev();
        Ok(MountId {
            dev,
            mount: mount_id(path),
        })
    }

    /// Whether `other` is on this mount: the same file system and, when both mount ids are
    /// known, the same mount.
    pub fn same(&self, other: &MountId) -> bool {
        self.dev == other.dev
            && match (self.mount, other.mount) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Whether `path` is on this mount (a path that cannot be examined is not).
    pub fn holds(&self, path: &Path) -> bool {
        MountId::of(path).is_ok_and(|m| self.same(&m))
    }
}

/// The mount id `statx` reports for `path`, not following a link.
#[cfg(target_os = "linux")]
fn mount_id(path: &Path) -> Option<u64> {
    use rustix::fs::{AtFlags, CWD, StatxFlags, statx};
    let st = statx(CWD, path, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::MNT_ID).ok()?;
    (st.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(st.stx_mnt_id)
}

/// Elsewhere only the file system is compared.
#[cfg(not(target_os = "linux"))]
fn mount_id(_path: &Path) -> Option<u64> {
    None
}

/// The error for a path on another mount than the one a remover works in.
fn elsewhere(path: &Path) -> IoError {
    IoError::from_source(
        "remove",
        path,
        io::Error::other(
            "it is on another file system or mount (something is mounted inside): reg removes nothing across a mount; left as it is",
        ),
    )
}

/// Removes the file `path` (a link as a name, never what it points at) if it is on `mount`;
/// refuses, removing nothing, if it is not.
///
/// The file's mode is never touched: unlinking needs write access to the directory only, and a
/// chmod would reach every other name of the file (a hard link planted in `tmp/` or the store
/// made an outside file writable by everyone).
pub fn remove_file_on(path: &Path, mount: &MountId) -> Result<(), IoError> {
    fs::symlink_metadata(path).ctx("stat", path)?;
    if !mount.holds(path) {
        return Err(elsewhere(path));
    }
    // `remove_file` unlinks the name itself: a link is removed, never what it points at.
    fs::remove_file(path).ctx("remove", path)
}

/// Removes the tree at `root`, which reg made, without following a link and without entering
/// anything on another mount than `root`'s parent: such an entry is left, with everything above
/// it, and the first one found is the error (everything else is removed).
pub fn remove_tree(root: &Path) -> Result<(), IoError> {
    let parent = match root.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    remove_tree_on(root, &MountId::of(parent)?)
}

fn remove_tree_on(path: &Path, mount: &MountId) -> Result<(), IoError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IoError::from_source("stat", path, e)),
    };
    if !mount.holds(path) {
        return Err(elsewhere(path));
    }
    if !meta.is_dir() {
        return remove_file_on(path, mount);
    }
    let mut first = None;
    for e in fs::read_dir(path).ctx("list", path)? {
        let e = e.ctx("list", path)?;
        if let Err(err) = remove_tree_on(&e.path(), mount) {
            first.get_or_insert(err);
        }
    }
    match first {
        Some(err) => Err(err),
        None => fs::remove_dir(path).ctx("remove", path),
    }
}

/// A staging directory reg makes beside where its result goes (`reg init`, `reg clone`; a new
/// output directory is `util::create::NewDir`, which holds its descriptor): removed with
/// [`remove_tree`] when dropped, unless kept.
#[derive(Debug)]
pub struct StagingDir {
    path: Option<PathBuf>,
}

impl StagingDir {
    /// A new, empty directory in `parent` named `prefix` and random characters, mode 0777 less
    /// the umask (it becomes the registry directory).
    pub fn new_in(parent: &Path, prefix: &str) -> io::Result<StagingDir> {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
        Ok(StagingDir {
            path: Some(dir.keep()),
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("set until kept or dropped")
    }

    /// Keeps the directory: it is no longer removed, and the caller owns it.
    pub fn keep(mut self) -> PathBuf {
        self.path.take().expect("set until kept or dropped")
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            // Best effort, as a temporary directory's: what is left is named by fsck.
            let _ = remove_tree(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_removed_without_following_links_out_of_it() {
        let d = tempfile::tempdir().expect("tempdir");
        let outside = d.path().join("outside");
        fs::create_dir(&outside).expect("mkdir");
        fs::write(outside.join("keep"), b"x").expect("write");
        let tree = d.path().join("tree");
        fs::create_dir_all(tree.join("a/b")).expect("mkdir");
        fs::write(tree.join("a/b/f"), b"x").expect("write");
        let mut perms = fs::metadata(tree.join("a/b/f"))
            .expect("stat")
            .permissions();
        perms.set_readonly(true);
        fs::set_permissions(tree.join("a/b/f"), perms).expect("chmod");
        std::os::unix::fs::symlink(&outside, tree.join("a/link")).expect("symlink");
        remove_tree(&tree).expect("removed");
        assert!(!tree.exists());
        assert!(outside.join("keep").exists());
        // Gone already: nothing to do.
        remove_tree(&tree).expect("absent");
    }

    #[test]
    fn a_staging_directory_goes_when_dropped_unless_kept() {
        let d = tempfile::tempdir().expect("tempdir");
        let s = StagingDir::new_in(d.path(), ".x-").expect("made");
        let p = s.path().to_path_buf();
        fs::write(p.join("f"), b"x").expect("write");
        drop(s);
        assert!(!p.exists());
        let s = StagingDir::new_in(d.path(), ".x-").expect("made");
        let kept = s.keep();
        assert!(kept.is_dir());
    }

    #[test]
    fn the_same_mount_is_recognised() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::write(d.path().join("f"), b"x").expect("write");
        let here = MountId::of(d.path()).expect("stat");
        assert!(here.holds(&d.path().join("f")));
        assert!(!here.holds(&d.path().join("missing")));
        // /proc is another file system everywhere reg runs.
        assert!(!here.holds(Path::new("/proc/self")));
    }
}
