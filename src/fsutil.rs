//! Small file-system helpers shared by the store and the ledger: durable replacement of a file,
//! directory fsync, I/O errors that carry their path, and test failpoints.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An I/O error with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("{op} `{path}`: {source}")]
pub struct IoError {
    /// What was being done ("read", "write", "create", ...).
    pub op: &'static str,
    /// The file or directory concerned.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

impl IoError {
    /// Builds an [`IoError`] from its parts.
    pub fn from_source(op: &'static str, path: &Path, source: io::Error) -> Self {
        IoError {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Attaches a path and an operation to an I/O result.
pub trait IoContext<T> {
    /// Wraps the error with `op` and `path`.
    fn ctx(self, op: &'static str, path: &Path) -> Result<T, IoError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, op: &'static str, path: &Path) -> Result<T, IoError> {
        self.map_err(|source| IoError {
            op,
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Flushes a directory's entries (a rename or create inside it) to stable storage.
pub fn fsync_dir(dir: &Path) -> Result<(), IoError> {
    // Opening a directory read-only and calling fsync is how POSIX makes a rename durable.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx("sync directory", dir)
}

/// Replaces `dest` with `bytes` durably: a temporary file in `tmp_dir`, fsync, rename, fsync of
/// the destination directory. Readers see the old or the new content, never a mix.
pub fn replace_file(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let mut tmp = tempfile::Builder::new()
        .prefix("write-")
        .tempfile_in(tmp_dir)
        .ctx("create temporary file in", tmp_dir)?;
    tmp.write_all(bytes).ctx("write", tmp.path())?;
    // tempfile creates 0600; registry files are meant to be readable by consumers running as
    // other users (like a git repository), and hold no secrets.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))
            .ctx("set permissions of", tmp.path())?;
    }
    tmp.as_file().sync_all().ctx("sync", tmp.path())?;
    tmp.persist(dest)
        .map_err(|e| e.error)
        .ctx("rename into place", dest)?;
    if let Some(parent) = dest.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// Replaces `dest` with `bytes` atomically (temporary file, rename) but without fsync: for
/// derived files that are checked before use and rebuilt when they do not check out (the index,
/// the host's record of a verified checkpoint), where a crash may only cost a rebuild.
pub fn replace_file_unsynced(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let mut tmp = tempfile::Builder::new()
        .prefix("write-")
        .tempfile_in(tmp_dir)
        .ctx("create temporary file in", tmp_dir)?;
    tmp.write_all(bytes).ctx("write", tmp.path())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))
            .ctx("set permissions of", tmp.path())?;
    }
    tmp.persist(dest)
        .map_err(|e| e.error)
        .ctx("rename into place", dest)?;
    Ok(())
}

/// Appends `bytes` to `path` and fsyncs it.
pub fn append_durably(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let mut f = OpenOptions::new()
        .append(true)
        .open(path)
        .ctx("open for append", path)?;
    f.write_all(bytes).ctx("append to", path)?;
    f.sync_all().ctx("sync", path)
}

/// Reads a whole small file (metadata: refs, config, checkpoint), refusing symlinks.
pub fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, IoError> {
    let meta = fs::symlink_metadata(path).ctx("read", path)?;
    if meta.file_type().is_symlink() {
        return Err(IoError {
            op: "read",
            path: path.to_path_buf(),
            source: io::Error::other("is a symbolic link, which reg never follows"),
        });
    }
    if meta.len() > limit {
        return Err(IoError {
            op: "read",
            path: path.to_path_buf(),
            source: io::Error::other(format!("larger than the {limit}-byte limit")),
        });
    }
    fs::read(path).ctx("read", path)
}

/// Aborts the process at a named step when `REG_FAILPOINT` names it (debug builds only).
///
/// Tests use it to prove crash safety: `abort` runs no destructors and no cleanup, like a
/// power cut or SIGKILL, unlike a panic that unwinds.
#[inline]
pub fn failpoint(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("REG_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("reg: failpoint `{name}` reached, aborting");
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
