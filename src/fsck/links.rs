//! Links and special files anywhere in `.registry/` (`link`, `not-regular`), what is not part of
//! its layout (`unknown-entry`), and what an interrupted write left in staging
//! (`staging-residue`).

use super::{Code, Fsck};
use crate::format::id::ObjectId;
use crate::repo::layout::{
    DIRS, FILES, INDEX, INDEX_MODELS, INDEX_NAMES, LEDGER, OUTBOX, REFS, REPLACED, TMP,
};
use std::path::Path;

/// Names every symbolic link and special file anywhere in `.registry/` (none is ever followed
/// or read; see [`crate::repo::layout`]).
pub(super) fn check_links(dot: &Path, f: &mut Fsck) {
    match std::fs::symlink_metadata(dot) {
        Ok(m) if m.file_type().is_dir() => {}
        Ok(m) => {
            let found = crate::util::fsutil::describe(&m.file_type());
            f.error(
                Code::Link,
                Some(dot.to_path_buf()),
                None,
                format!("the registry directory is {found}; reg never follows links"),
            );
            return;
        }
        Err(_) => return,
    }
    let mut walk = walkdir::WalkDir::new(dot)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(e) = walk.next() {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                // A directory this user cannot list hides what is in it (a link, a stray ref):
                // nothing there is checked, so the registry cannot pass.
                let path = err.path().unwrap_or(dot).to_path_buf();
                f.error(
                    Code::Unreadable,
                    Some(path),
                    None,
                    format!("cannot be listed or read, so what it holds is not checked: {err}"),
                );
                continue;
            }
        };
        let ft = e.file_type();
        let rel = e.path().strip_prefix(dot).unwrap_or(e.path());
        if !ft.is_symlink() && is_unknown(rel, &ft) {
            f.error(
                Code::UnknownEntry,
                Some(e.path().to_path_buf()),
                None,
                "not part of the registry layout (FORMAT.md §1): reg never reads it, so nothing kept here is governed; remove it".into(),
            );
            if ft.is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        if ft.is_symlink() {
            let target = std::fs::read_link(e.path())
                .map(|t| format!(" (to `{}`)", t.display()))
                .unwrap_or_default();
            f.error(
                Code::Link,
                Some(e.path().to_path_buf()),
                None,
                format!("a symbolic link{target}: reg never follows links inside a registry, and writes and gc refuse to run until it is removed"),
            );
        } else if ft.is_file() && e.depth() == 1 && e.file_name() == LEDGER && hard_linked(e.path())
        {
            f.error(
                Code::Link,
                Some(e.path().to_path_buf()),
                None,
                "the ledger has several names (hard links): writers, which append to it in place, refuse it until it is copied to a file of its own".into(),
            );
        } else if !ft.is_dir() && !ft.is_file() {
            f.error(
                Code::NotRegular,
                Some(e.path().to_path_buf()),
                None,
                format!(
                    "{}: reg reads only regular files inside a registry",
                    crate::util::fsutil::describe(&ft)
                ),
            );
        }
    }
}

/// Whether `rel` (a path inside `.registry/`) is a file or directory the layout does not have:
/// at the top, in `refs/`, in `index/`, or in `outbox/` (which holds regular files named by
/// report ids). What is in `objects/`, `refs/models/`, `refs/slots/` and `tmp/` is judged by the
/// checks of each; a special file is `not-regular` wherever it is, whatever its name.
fn is_unknown(rel: &Path, ft: &std::fs::FileType) -> bool {
    if !ft.is_file() && !ft.is_dir() {
        return false;
    }
    let known = |p: &Path| {
        DIRS.iter()
            .chain(FILES.iter())
            .chain([OUTBOX, REPLACED, INDEX_MODELS, INDEX_NAMES].iter())
            .any(|k| Path::new(k) == p)
    };
    let parent = rel.parent().unwrap_or(Path::new(""));
    if parent.as_os_str().is_empty() || parent == Path::new(REFS) || parent == Path::new(INDEX) {
        return !known(rel);
    }
    // The buckets of a format 5 index (FORMAT.md §5.11): files named by a key of hex digits.
    if parent == Path::new(INDEX_MODELS) || parent == Path::new(INDEX_NAMES) {
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let key = name.strip_suffix(".json").unwrap_or("");
        return ft.is_dir()
            || !(1..=crate::state::MAX_DIGITS).contains(&key.len())
            || !key
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    }
    if parent == Path::new(OUTBOX) {
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        return ft.is_dir() || name.parse::<ObjectId>().is_err();
    }
    false
}

/// Every report in `outbox/` is what `reg drift export` would carry
/// ([`crate::repo::outbox::check_outbox_file`]): one that does not hash to its name is
/// `object-corrupt` (it is a content-addressed object like those of the store), one that does but
/// is not a drift report of this registry `outbox-invalid`. Links, special files and misnamed
/// entries are named by the walk.
pub(super) fn check_outbox(dot: &Path, registry: &ObjectId, f: &mut Fsck) {
    use crate::repo::outbox::{OutboxFileProblem as P, check_outbox_file};
    let Ok(rd) = std::fs::read_dir(dot.join(OUTBOX)) else {
        return; // absent (the usual case), or named by the walk
    };
    for e in rd.flatten() {
        let path = e.path();
        let Ok(ft) = e.file_type() else {
            continue; // named by the walk
        };
        let id = e.file_name().to_string_lossy().parse::<ObjectId>().ok();
        let (code, message) = match check_outbox_file(registry, &path, &ft) {
            Ok(_) | Err(P::NotRegular(_) | P::Misnamed) => continue,
            Err(P::Corrupt(found)) => (
                Code::ObjectCorrupt,
                format!(
                    "a drift report in the outbox that is not the report its name says: its bytes hash to {found}"
                ),
            ),
            Err(P::Unreadable(err)) => (
                Code::Unreadable,
                format!("a drift report in the outbox that cannot be read: {err}"),
            ),
            Err(problem @ (P::NotAReport(_) | P::OtherRegistry(_))) => (
                Code::OutboxInvalid,
                format!(
                    "a file in the outbox that `reg drift export` refuses: {problem}; remove it"
                ),
            ),
        };
        f.error(code, Some(path), id, message);
    }
}

/// Whether a file has more than one name.
fn hard_linked(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::symlink_metadata(path).is_ok_and(|m| m.nlink() > 1)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Names every file left in `tmp/`, and every staging directory an interrupted `reg clone` or
/// `reg init` left beside `.registry` (one its maker still holds is not left: to know, fsck
/// tries the lock it would hold, outside `.registry/`).
pub(super) fn check_staging(dot: &Path, f: &mut Fsck) {
    let beside = dot.parent().unwrap_or(Path::new("."));
    for l in crate::repo::leftovers::find(beside) {
        let message = match &l.foreign {
            None => "the staging directory of an interrupted `reg clone` or `reg init`; `reg gc` removes it".into(),
            Some(why) => format!(
                "named like the staging directory of an interrupted `reg clone` or `reg init`, but {why}: look at it, and remove it by hand"
            ),
        };
        f.warn(Code::StagingResidue, Some(l.path), None, message);
    }
    if let Ok(rd) = std::fs::read_dir(dot.join(TMP)) {
        for e in rd.flatten() {
            let message = if e.file_type().is_ok_and(|t| t.is_dir()) {
                // gc leaves it: what is under a directory (a mount point) may reach outside.
                "a directory, which no write of reg stages: someone put it there; look at it, and remove it by hand"
            } else {
                "left in staging by an interrupted write; `reg gc` removes it"
            };
            f.warn(Code::StagingResidue, Some(e.path()), None, message.into());
        }
    }
}
