//! The one rule by which reg opens a file it is asked to judge from outside the registry (the
//! load gate, `reg check`, `fsck --scan`): a symbolic link is followed, because Hugging Face
//! caches (`snapshots/REV/model.safetensors -> ../../blobs/HASH`) and many model directories
//! are links and a loader follows them; anything else is the file itself. Inside `.registry/`
//! reg never follows a link ([`crate::util::fsutil::open_regular`]); this rule is not used there.
//!
//! The rule (docs/GUIDE.md §5):
//! 1. The name given is looked at without following it (`lstat`). A FIFO, socket, device or
//!    directory is refused and never opened (opening a device can act on it; a FIFO can block).
//! 2. A link is resolved fully, through every link of a chain (`realpath`); a dangling link or a
//!    loop is refused. The final target must be a regular file, looked at again without
//!    following it.
//! 3. The file (the name itself, or the resolved target) is opened with `O_NOFOLLOW`,
//!    `O_NONBLOCK` and `O_NOCTTY`: a link swapped in between resolving and opening is refused,
//!    not followed, and nothing can make the open block. The descriptor is checked to be a
//!    regular file (`fstat`), so what was swapped in meanwhile is refused too.
//! 4. The caller hashes what was opened: the bytes judged are the bytes read through this
//!    descriptor, whatever the names say later. Both names are reported: the name given and,
//!    for a link, the resolved file.

use crate::util::fsutil::{OpenRefused, describe, open_no_follow};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A file opened by the rule.
#[derive(Debug)]
pub struct Followed {
    /// The open file, at its start.
    pub file: File,
    /// Its length when opened.
    pub len: u64,
    /// The file the name resolved to, when the name given is a link.
    pub resolved: Option<PathBuf>,
}

/// Why a name could not be opened by the rule. Each names the path given and, once a link was
/// read or resolved, where it points.
#[derive(Debug, thiserror::Error)]
#[error("`{}`: {}", self.path().display(), self.what())]
pub enum FollowError {
    /// Nothing at the name given.
    NotFound {
        /// The name given.
        path: PathBuf,
    },
    /// A link that cannot be resolved to a file: dangling, a loop, or a directory on the way
    /// that cannot be searched.
    BrokenLink {
        /// The name given.
        path: PathBuf,
        /// What the link says, when it could be read.
        target: Option<PathBuf>,
        /// Why it cannot be resolved.
        source: io::Error,
    },
    /// Not a regular file (after following a link): a directory, FIFO, socket or device, or
    /// something swapped in while it was opened.
    NotRegular {
        /// The name given.
        path: PathBuf,
        /// The resolved file, when the name is a link.
        resolved: Option<PathBuf>,
        /// What it is, in words (`a FIFO`).
        found: &'static str,
        /// Whether it became so between the look and the open (seen on the descriptor).
        changed: bool,
    },
    /// It exists but cannot be opened or read (permissions, I/O, a link swapped in meanwhile).
    Unreadable {
        /// The name given.
        path: PathBuf,
        /// The resolved file, when the name is a link.
        resolved: Option<PathBuf>,
        /// The error.
        source: io::Error,
    },
}

impl FollowError {
    /// The name given.
    pub fn path(&self) -> &Path {
        match self {
            FollowError::NotFound { path }
            | FollowError::BrokenLink { path, .. }
            | FollowError::NotRegular { path, .. }
            | FollowError::Unreadable { path, .. } => path,
        }
    }

    /// Where the name leads, as far as it was followed: the resolved file, or what a broken
    /// link says.
    pub fn resolved(&self) -> Option<&Path> {
        match self {
            FollowError::NotFound { .. } => None,
            FollowError::BrokenLink { target, .. } => target.as_deref(),
            FollowError::NotRegular { resolved, .. } | FollowError::Unreadable { resolved, .. } => {
                resolved.as_deref()
            }
        }
    }

    /// What is wrong, without the name given (for a report that prints the name beside it).
    pub fn what(&self) -> String {
        match self {
            FollowError::NotFound { .. } => "no such file".into(),
            FollowError::BrokenLink { target, source, .. } => format!(
                "a link to `{}` that cannot be followed: {}",
                target
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "?".into()),
                link_cause(source)
            ),
            FollowError::NotRegular {
                resolved,
                found,
                changed,
                ..
            } => format!(
                "{}{}, not a regular file{}",
                via(resolved),
                if resolved.is_some() {
                    format!("its target is {found}")
                } else {
                    format!("is {found}")
                },
                if *changed {
                    " (it changed while opened)"
                } else {
                    ""
                }
            ),
            FollowError::Unreadable {
                resolved, source, ..
            } => format!("{}cannot be read: {source}", via(resolved)),
        }
    }

    /// Whether the refusal is that nothing is there (the name, or a dangling link's target).
    pub fn is_not_found(&self) -> bool {
        match self {
            FollowError::NotFound { .. } => true,
            FollowError::BrokenLink { source, .. } => source.kind() == io::ErrorKind::NotFound,
            _ => false,
        }
    }
}

fn via(resolved: &Option<PathBuf>) -> String {
    resolved
        .as_ref()
        .map(|t| format!("a link to `{}`: ", t.display()))
        .unwrap_or_default()
}

fn link_cause(e: &io::Error) -> String {
    match (e.kind(), e.raw_os_error()) {
        (io::ErrorKind::NotFound, _) => "dangling: its target does not exist".into(),
        (_, Some(libc::ELOOP)) => "a loop of links".into(),
        _ => e.to_string(),
    }
}

/// Opens `path` by the rule of this module: see the module documentation.
pub fn open_followed(path: &Path) -> Result<Followed, FollowError> {
    let md = std::fs::symlink_metadata(path).map_err(|e| refused(path, None, e))?;
    let (open, resolved) = if md.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|source| FollowError::BrokenLink {
            path: path.to_path_buf(),
            target: std::fs::read_link(path).ok(),
            source,
        })?;
        let md = std::fs::symlink_metadata(&target)
            .map_err(|e| refused(path, Some(target.clone()), e))?;
        check_kind(path, Some(&target), &md.file_type(), false)?;
        (target.clone(), Some(target))
    } else {
        check_kind(path, None, &md.file_type(), false)?;
        (path.to_path_buf(), None)
    };
    // Tests swap the resolved file for a link here, to prove it is refused, not followed.
    crate::util::fsutil::failpoint("follow-before-open");
    // What is opened is looked at again on its descriptor: a link (O_NOFOLLOW met one where a
    // regular file was seen a moment ago) or anything else swapped in is refused as changed.
    let file = match open_no_follow(&open, OpenOptions::new().read(true)) {
        Ok(f) => f,
        Err(OpenRefused::NotRegular(found)) => {
            return Err(FollowError::NotRegular {
                path: path.to_path_buf(),
                resolved,
                found,
                changed: true,
            });
        }
        Err(OpenRefused::Open(e) | OpenRefused::Stat(e)) => return Err(refused(path, resolved, e)),
    };
    let md = file
        .metadata()
        .map_err(|e| refused(path, resolved.clone(), e))?;
    Ok(Followed {
        file,
        len: md.len(),
        resolved,
    })
}

fn check_kind(
    path: &Path,
    resolved: Option<&PathBuf>,
    ft: &std::fs::FileType,
    changed: bool,
) -> Result<(), FollowError> {
    if ft.is_file() {
        return Ok(());
    }
    Err(FollowError::NotRegular {
        path: path.to_path_buf(),
        resolved: resolved.cloned(),
        found: describe(ft),
        changed,
    })
}

fn refused(path: &Path, resolved: Option<PathBuf>, e: io::Error) -> FollowError {
    if e.kind() == io::ErrorKind::NotFound && resolved.is_none() {
        FollowError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        FollowError::Unreadable {
            path: path.to_path_buf(),
            resolved,
            source: e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_chain_of_links_is_resolved_to_its_final_file_and_both_names_are_kept() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("blob"), b"bytes").expect("write");
        symlink("blob", d.path().join("a")).expect("link");
        symlink("a", d.path().join("b")).expect("link");
        let f = open_followed(&d.path().join("b")).expect("followed");
        assert_eq!(f.len, 5);
        let blob = std::fs::canonicalize(d.path().join("blob")).expect("canon");
        assert_eq!(f.resolved, Some(blob));
        let plain = open_followed(&d.path().join("blob")).expect("plain");
        assert_eq!(plain.resolved, None);
    }

    #[test]
    fn dangling_loops_dirs_and_devices_are_refused_with_what_they_are() {
        let d = tempfile::tempdir().expect("tempdir");
        symlink("nowhere", d.path().join("dangling")).expect("link");
        symlink("loop2", d.path().join("loop1")).expect("link");
        symlink("loop1", d.path().join("loop2")).expect("link");
        symlink("/dev/null", d.path().join("null")).expect("link");
        symlink(".", d.path().join("dir")).expect("link");
        let e = open_followed(&d.path().join("dangling")).expect_err("dangling");
        assert!(
            e.is_not_found() && e.to_string().contains("dangling"),
            "{e}"
        );
        let e = open_followed(&d.path().join("loop1")).expect_err("loop");
        assert!(
            !e.is_not_found() && e.to_string().contains("a loop of links"),
            "{e}"
        );
        let e = open_followed(&d.path().join("null")).expect_err("device");
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = open_followed(&d.path().join("dir")).expect_err("dir");
        assert!(e.to_string().contains("a directory"), "{e}");
        let e = open_followed(&d.path().join("missing")).expect_err("missing");
        assert!(matches!(e, FollowError::NotFound { .. }), "{e}");
    }

    #[test]
    fn the_system_error_behind_a_refusal_is_its_source() {
        use std::error::Error as _;
        let d = tempfile::tempdir().expect("tempdir");
        symlink("nowhere", d.path().join("dangling")).expect("link");
        let e = open_followed(&d.path().join("dangling")).expect_err("dangling");
        let source = e.source().expect("a source");
        assert_eq!(
            source.downcast_ref::<io::Error>().map(io::Error::kind),
            Some(io::ErrorKind::NotFound)
        );
        let e = open_followed(&d.path().join("missing")).expect_err("missing");
        assert!(e.source().is_none());
    }

    #[test]
    fn a_refused_links_message_names_its_target() {
        let d = tempfile::tempdir().expect("tempdir");
        symlink(".", d.path().join("dir")).expect("link");
        let e = open_followed(&d.path().join("dir")).expect_err("dir");
        let target = std::fs::canonicalize(d.path()).expect("canon");
        assert_eq!(
            e.what(),
            format!(
                "a link to `{}`: its target is a directory, not a regular file",
                target.display()
            )
        );
        assert_eq!(e.resolved(), Some(target.as_path()));
    }
}
