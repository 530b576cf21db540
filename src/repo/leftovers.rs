//! What an interrupted `reg init` or `reg clone` leaves beside `.registry` (FORMAT.md §1.2): the
//! staging directory it builds the registry in, `.registry-init-XXXXXX` or
//! `.registry-clone-XXXXXX`, which a clone fills with every object of the medium before it is
//! renamed into place, so a killed clone can leave gigabytes there.
//!
//! The maker holds an exclusive lock on the staging directory's `lock` file from its first
//! moment; the lock goes with the process. A directory with that name whose lock is
//! free is a leftover. It is removed (by the next clone into the directory, or `reg gc` of the
//! registry beside it; `reg fsck` reports it) only if it is recognisably reg's own: a real
//! directory on the same file system as its parent, no mount point at or under it, and holding
//! only what a staging registry holds (the layout's directories, regular files; no link, no
//! special file, no other directory). Anything else is reported and left for a person: what is
//! under a planted directory could reach outside.

use crate::repo::layout::{INDEX, LOCK, OBJECTS, REFS, REFS_MODELS, REFS_SLOTS, TMP};
use crate::util::fsutil::{IoContext, IoError, describe};
use crate::util::mount::MountId;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The prefixes of the staging directories `reg init` and `reg clone` make beside `.registry`;
/// six random letters or digits follow.
pub const STAGING_PREFIXES: [&str; 2] = [".registry-init-", ".registry-clone-"];

/// The random part of a staging directory's name (tempfile's default).
const RANDOM_LEN: usize = 6;

/// How long a staging directory without a `lock` file may be its maker's, about to lock it.
const GRACE: Duration = Duration::from_secs(60);

/// A staging directory an interrupted init or clone left beside a `.registry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The directory.
    pub path: PathBuf,
    /// Why it is not removed: what it holds that no staging of reg holds. `None`: it is reg's
    /// own, and removable.
    pub foreign: Option<String>,
}

/// What [`clear`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    /// The leftovers removed.
    pub removed: Vec<PathBuf>,
    /// The leftovers left for a person, with why.
    pub left: Vec<Leftover>,
}

/// Locks the new staging directory `dir` as its maker's (its `lock` file, created now): held
/// until the returned file is dropped, and released by the system if the process dies.
pub(in crate::repo) fn hold(dir: &Path) -> Result<File, IoError> {
    let path = dir.join(LOCK);
    let file = File::create_new(&path).ctx("create", &path)?;
    file.lock().ctx("lock", &path)?;
    Ok(file)
}

/// Whether `name` is a staging directory's name.
fn is_staging_name(name: &str) -> bool {
    STAGING_PREFIXES.iter().any(|p| {
        name.strip_prefix(p).is_some_and(|rest| {
            rest.len() == RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    })
}

/// The leftovers in `parent` (the directory holding, or about to hold, `.registry`); a staging
/// directory its maker still holds is not one.
pub fn find(parent: &Path) -> Vec<Leftover> {
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(rd) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out: Vec<Leftover> = rd
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(is_staging_name))
        .filter(|e| !in_use(&e.path()))
        .map(|e| {
            let path = e.path();
            let foreign = foreign(parent, &path).err();
            Leftover { path, foreign }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Removes the leftovers in `parent` that are reg's own; returns them, and those it left.
pub fn clear(parent: &Path) -> Result<Swept, IoError> {
    let mut swept = Swept::default();
    for l in find(parent) {
        if l.foreign.is_some() {
            swept.left.push(l);
            continue;
        }
        // Checked just above; `remove_tree` removes a link it meets as a name, never what it
        // points to, and never enters another mount, even if one appears meanwhile.
        crate::util::mount::remove_tree(&l.path)?;
        swept.removed.push(l.path);
    }
    Ok(swept)
}

/// Whether a staging directory's maker may still be at work: it holds the lock, or there is no
/// lock file yet and the directory is younger than [`GRACE`]. A link or special file named
/// like one is no maker's.
fn in_use(dir: &Path) -> bool {
    if !fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return false;
    }
    match crate::util::fsutil::open_regular(&dir.join(LOCK)) {
        Ok(file) => matches!(file.try_lock(), Err(fs::TryLockError::WouldBlock)),
        Err(_) => fs::symlink_metadata(dir)
            .and_then(|m| m.modified())
            .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() < GRACE),
    }
}

/// Why `dir` is not recognisably a staging registry of reg's, if it is not: see the module doc.
fn foreign(parent: &Path, dir: &Path) -> Result<(), String> {
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("it cannot be read: {e}"))?;
    if !meta.is_dir() {
        return Err(format!("it is {}", describe(&meta.file_type())));
    }
    let mount = MountId::of(parent).map_err(|e| e.to_string())?;
    let dev = device(&fs::symlink_metadata(parent).map_err(|e| e.to_string())?);
    if device(&meta) != dev {
        return Err("it is on another file system than the directory holding it".into());
    }
    if !mount.holds(dir) {
        return Err("it is a mount point".into());
    }
    walk(dir, Path::new(""), dev, &mount)?;
    // Where the kernel gives no mount ids, the mount table still shows a bind mount.
    match mount_under(parent, dir) {
        Some(m) => Err(format!("`{}` is a mount point", m.display())),
        None => Ok(()),
    }
}

/// Checks the tree under `dir` (at `rel` inside the staging directory) against the layout of a
/// staging registry, without following anything.
fn walk(dir: &Path, rel: &Path, dev: u64, mount: &MountId) -> Result<(), String> {
    let rd = fs::read_dir(dir).map_err(|e| format!("`{}` cannot be listed: {e}", rel.display()))?;
    for e in rd {
        let e = e.map_err(|e| format!("`{}` cannot be listed: {e}", rel.display()))?;
        let name = e.file_name();
        let inner = rel.join(&name);
        let meta = fs::symlink_metadata(e.path())
            .map_err(|err| format!("`{}` cannot be read: {err}", inner.display()))?;
        let ft = meta.file_type();
        let expected_dir = is_layout_dir(&inner);
        if ft.is_dir() && expected_dir {
            if device(&meta) != dev {
                return Err(format!("`{}` is on another file system", inner.display()));
            }
            if !mount.holds(&e.path()) {
                return Err(format!("`{}` is a mount point", inner.display()));
            }
            walk(&e.path(), &inner, dev, mount)?;
        } else if !(ft.is_file() && is_layout_file(&inner)) {
            return Err(format!(
                "`{}` is {}, which no staging registry of reg holds",
                inner.display(),
                describe(&ft)
            ));
        }
    }
    Ok(())
}

/// The directories a staging registry holds: those of the layout, and the fan-out directories.
fn is_layout_dir(rel: &Path) -> bool {
    if [OBJECTS, TMP, INDEX, REFS, REFS_MODELS, REFS_SLOTS]
        .iter()
        .any(|d| rel == Path::new(d))
    {
        return true;
    }
    rel.parent() == Some(Path::new(OBJECTS))
        && rel
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The places a staging registry holds regular files: the top's fixed files, and anything in
/// `index/`, `tmp/`, `refs/models/`, `refs/slots/` or a fan-out directory.
fn is_layout_file(rel: &Path) -> bool {
    let parent = rel.parent().unwrap_or(Path::new(""));
    if parent.as_os_str().is_empty() {
        return crate::repo::layout::FILES
            .iter()
            .any(|f| !f.contains('/') && rel == Path::new(f));
    }
    [INDEX, TMP, REFS_MODELS, REFS_SLOTS]
        .iter()
        .any(|d| parent == Path::new(d))
        || (parent != Path::new(OBJECTS) && is_layout_dir(parent) && parent.starts_with(OBJECTS))
}

#[cfg(unix)]
fn device(meta: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    meta.dev()
}

#[cfg(not(unix))]
fn device(_meta: &fs::Metadata) -> u64 {
    0
}

/// A mount point at or under `dir` (in `parent`), from the system's mount table where there is
/// one (Linux: `/proc/self/mountinfo`): a bind mount of the same file system has the same
/// device number, so the device check alone does not see it.
///
/// The table is read as bytes: a mount point elsewhere whose name is not UTF-8 must not make the
/// whole table unreadable (it did, and a bind mount inside a leftover went unseen).
fn mount_under(parent: &Path, dir: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt as _;
    let table = fs::read("/proc/self/mountinfo").ok()?;
    let real = fs::canonicalize(parent).ok()?.join(dir.file_name()?);
    table
        .split(|&b| b == b'\n')
        .filter_map(|l| l.split(|&b| b == b' ').nth(4))
        .map(|p| PathBuf::from(std::ffi::OsString::from_vec(unescape_mount_path(p))))
        .find(|p| p.starts_with(&real))
}

/// A mount point as the mount table writes it: space, tab, newline and backslash as `\ooo`.
fn unescape_mount_path(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && let Some(code) = s.get(i + 1..i + 4)
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(code), 8)
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_the_makers_prefixes_and_six_random_characters() {
        assert!(is_staging_name(".registry-clone-Ab3dE9"));
        assert!(is_staging_name(".registry-init-000000"));
        for name in [
            ".registry-clone-Ab3dE",
            ".registry-clone-Ab3dE9x",
            ".registry-clone-Ab3d.9",
            ".registry-other-Ab3dE9",
            ".registry",
            "registry-clone-Ab3dE9",
        ] {
            assert!(!is_staging_name(name), "{name}");
        }
    }

    #[test]
    fn the_layout_of_a_staging_registry_is_what_is_recognised() {
        for d in [
            "objects",
            "objects/ab",
            "tmp",
            "index",
            "refs",
            "refs/models",
        ] {
            assert!(is_layout_dir(Path::new(d)), "{d}");
        }
        for d in ["objects/abc", "objects/ab/cd", "other", "tmp/x", "outbox"] {
            assert!(!is_layout_dir(Path::new(d)), "{d}");
        }
        for f in [
            "lock",
            "ledger",
            "config.json",
            "index/state.json",
            "tmp/object-x",
        ] {
            assert!(is_layout_file(Path::new(f)), "{f}");
        }
        for f in ["objects/ab/cdef", "refs/slots/detect", "refs/models/abcd"] {
            assert!(is_layout_file(Path::new(f)), "{f}");
        }
        for f in [
            "other",
            "objects/x",
            "refs/x",
            "index/state.json/x",
            "tmp/a/b",
        ] {
            assert!(!is_layout_file(Path::new(f)), "{f}");
        }
    }

    #[test]
    fn mount_points_are_read_with_their_escapes() {
        assert_eq!(unescape_mount_path(br"/a\040b\134c"), br"/a b\c");
        assert_eq!(unescape_mount_path(br"/plain"), b"/plain");
        assert_eq!(unescape_mount_path(br"/odd\9"), br"/odd\9");
        // A name that is not UTF-8 stays the bytes it is.
        assert_eq!(unescape_mount_path(b"/x\xffy\\040"), b"/x\xffy ");
    }
}
