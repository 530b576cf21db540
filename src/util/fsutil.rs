//! Small file-system helpers shared by the store and the ledger: durable replacement of a file,
//! directory fsync, I/O errors that carry their path, and test failpoints.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write};
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
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY);
    }
    opts.open(dir)
        .and_then(|d| d.sync_all())
        .ctx("sync directory", dir)
}

/// Replaces `dest` with `bytes` durably: a temporary file in `tmp_dir`, fsync, rename, fsync of
/// the destination directory. Readers see the old or the new content, never a mix.
pub fn replace_file(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> Result<(), IoError> {
    replace(tmp_dir, dest, bytes, true)
}

/// Replaces `dest` with `bytes` atomically (temporary file, rename) but without fsync: for
/// derived files that are checked before use and rebuilt when they do not check out (the index,
/// the host's record of a verified checkpoint), where a crash may only cost a rebuild.
pub fn replace_file_unsynced(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> Result<(), IoError> {
    replace(tmp_dir, dest, bytes, false)
}

/// The one replacement of a file: [`replace_file`], durable when `sync`, else
/// [`replace_file_unsynced`].
fn replace(tmp_dir: &Path, dest: &Path, bytes: &[u8], sync: bool) -> Result<(), IoError> {
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
    if sync {
        tmp.as_file().sync_all().ctx("sync", tmp.path())?;
    }
    tmp.persist(dest)
        .map_err(|e| e.error)
        .ctx("rename into place", dest)?;
    if sync && let Some(parent) = dest.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// Creates the directory `path` and any missing parent with mode 0700 (less the umask), as the
/// XDG base directory specification asks for the directories it names: reg's host state (its
/// rollback records, its decision log key) and trust file are this user's alone. Directories
/// that exist are left as they are.
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(path)
}

/// Appends `bytes` to `path` and fsyncs it.
pub fn append_durably(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let mut f = open_regular_rw(path, true)?;
    f.write_all(bytes).ctx("append to", path)?;
    f.sync_all().ctx("sync", path)
}

/// Opens `path` for reading the way reg opens every file: never through a symbolic link at its
/// last component (`O_NOFOLLOW`), never blocking on a FIFO or device (`O_NONBLOCK`), and only if
/// the opened descriptor is a regular file (checked with `fstat`, so nothing can be swapped in
/// between a check and the open). A missing file keeps its `NotFound` kind for callers to test.
pub fn open_regular(path: &Path) -> Result<File, IoError> {
    open_checked(path, OpenOptions::new().read(true), "open")
}

/// Like [`open_regular`], for appending or writing in place (the ledger, the lock file).
///
/// A file with more than one name (a hard link) is refused too: written in place, it would
/// change whatever other file shares its bytes, outside the registry or in a `cp -al` backup.
pub fn open_regular_rw(path: &Path, append: bool) -> Result<File, IoError> {
    let mut opts = OpenOptions::new();
    if append {
        opts.append(true);
    } else {
        opts.write(true);
    }
    let file = open_checked(path, &mut opts, "open for writing")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let links = file.metadata().ctx("stat", path)?.nlink();
        if links > 1 {
            return Err(IoError::from_source(
                "open for writing",
                path,
                io::Error::other(format!(
                    "has {links} names (hard links): reg writes it in place, which would change the other names too; copy it (`cp FILE FILE.new && mv FILE.new FILE`) to give it its own bytes"
                )),
            ));
        }
    }
    Ok(file)
}

/// Opens a lock file for writing, creating it when missing, the way [`open_regular`] opens: never
/// through a link (with `O_CREAT`, a link, even dangling, would create or open its target), never
/// blocking on a FIFO, and only a regular file.
pub fn open_lock_file(path: &Path) -> Result<File, IoError> {
    open_checked(
        path,
        OpenOptions::new().create(true).truncate(false).write(true),
        "open lock",
    )
}

fn open_checked(path: &Path, opts: &mut OpenOptions, op: &'static str) -> Result<File, IoError> {
    open_no_follow(path, opts).map_err(|e| match e {
        OpenRefused::Open(e) => IoError::from_source(op, path, e),
        OpenRefused::Stat(e) => IoError::from_source("stat", path, e),
        OpenRefused::NotRegular(found) => not_regular(op, path, found),
    })
}

/// Why [`open_no_follow`] did not give a regular file.
#[derive(Debug)]
pub enum OpenRefused {
    /// The open failed (a missing file keeps its `NotFound` kind).
    Open(io::Error),
    /// The opened descriptor could not be looked at.
    Stat(io::Error),
    /// Not a regular file: what it is, in words (`a symbolic link`, `a FIFO`).
    NotRegular(&'static str),
}

/// The one open of a file that must be a regular file and is never reached through a link: the
/// last component is not followed (`O_NOFOLLOW`), nothing can block or act on a terminal
/// (`O_NONBLOCK`, `O_NOCTTY`: a FIFO opens at once, a terminal never becomes the controlling
/// one), and the descriptor itself is checked to be a regular file (`fstat`), so nothing can be
/// swapped in between a check and the open. Every open of reg that judges or writes a file
/// goes through here ([`open_regular`], the store's objects, [`crate::util::follow`]), but
/// for the decision log the user names (`reg check --log`), which follows a link on purpose
/// (a log kept elsewhere) and checks the regular file on its descriptor
/// (`gate/decision_log/append.rs`, `verify.rs`).
pub fn open_no_follow(path: &Path, opts: &mut OpenOptions) -> Result<File, OpenRefused> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(OpenRefused::NotRegular("a symbolic link"));
        }
        // A FIFO opened for writing with no reader: it is not a file either way.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(OpenRefused::NotRegular("a FIFO or device"));
        }
        Err(e) => return Err(OpenRefused::Open(e)),
    };
    let ft = file.metadata().map_err(OpenRefused::Stat)?.file_type();
    if !ft.is_file() {
        return Err(OpenRefused::NotRegular(describe(&ft)));
    }
    Ok(file)
}

fn not_regular(op: &'static str, path: &Path, found: &str) -> IoError {
    IoError::from_source(
        op,
        path,
        io::Error::other(format!(
            "is {found}, not a regular file: reg never follows links or reads special files"
        )),
    )
}

/// Reads a whole small file (metadata: refs, config, checkpoint, keys), refusing links and
/// special files ([`open_regular`]) and anything over `limit` bytes.
pub fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, IoError> {
    let file = open_regular(path)?;
    read_file_limited(&file, path, limit)?.ok_or_else(|| too_large(path, limit))
}

/// Reads all of an open file if it holds at most `limit` bytes; `None` if it holds more. Its
/// length refuses it before a byte is read; then at most `limit + 1` bytes are read
/// ([`read_limited`]), because the file may grow between the look and the read. `path` names it
/// in errors.
pub fn read_file_limited(file: &File, path: &Path, limit: u64) -> Result<Option<Vec<u8>>, IoError> {
    let len = file.metadata().ctx("stat", path)?.len();
    if len > limit {
        return Ok(None);
    }
    read_limited(file, limit, len as usize).ctx("read", path)
}

/// The one "read at most `limit + 1` bytes": all of `reader` if it yields at most `limit`
/// bytes, `None` if it yields more (and no more than one byte past the limit is ever read, so
/// an endless stream costs no more memory than an input at the limit). `expect` is a capacity
/// hint.
pub fn read_limited(
    reader: impl io::Read,
    limit: u64,
    expect: usize,
) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(expect);
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

fn too_large(path: &Path, limit: u64) -> IoError {
    IoError::from_source(
        "read",
        path,
        io::Error::other(format!("larger than the {limit}-byte limit")),
    )
}

/// Reads all of a small input that is a stream, not a file (standard input), refusing anything
/// over `limit` bytes as [`read_small`] refuses a file ([`read_limited`]). `name` names the
/// stream in errors.
pub fn read_small_from(reader: impl io::Read, name: &Path, limit: u64) -> Result<Vec<u8>, IoError> {
    read_limited(reader, limit, 0)
        .ctx("read", name)?
        .ok_or_else(|| too_large(name, limit))
}

/// Aborts the process at a named step when `REG_FAILPOINT` names it (debug builds only).
///
/// Tests use it to prove crash safety: `abort` runs no destructors and no cleanup, like a
/// power cut or SIGKILL, unlike a panic that unwinds.
///
/// With `REG_FAILPOINT_PAUSE=DIR` set as well, the process pauses there instead: it creates
/// `DIR/reached` and waits until `DIR/go` exists (aborting after a minute, so that a broken test
/// never hangs). Tests use it to order two processes deterministically: another writer commits
/// while this one is paused at a known step.
#[inline]
pub fn failpoint(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("REG_FAILPOINT").is_ok_and(|v| v == name) {
        if let Some(dir) = std::env::var_os("REG_FAILPOINT_PAUSE").map(PathBuf::from) {
            let _ = fs::write(dir.join("reached"), name);
            for _ in 0..6000 {
                if dir.join("go").exists() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        eprintln!("reg: failpoint `{name}` reached, aborting");
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// Whether the open file `held` is still what `path` names (the same device and inode, `path`
/// not followed if a link). A lock taken on a file or directory that was renamed away and
/// replaced meanwhile (`reg import --reset` swaps the registry directory) protects nothing at
/// `path`: its taker drops it and locks again.
pub fn still_at(held: &fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (held.metadata(), fs::symlink_metadata(path)) {
            (Ok(h), Ok(p)) => h.dev() == p.dev() && h.ino() == p.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (held, path);
        true
    }
}

/// Fails with an I/O error at a named step when `REG_FAILPOINT` names it (debug builds only).
///
/// Unlike [`failpoint`], which is a crash, this is an error the code at that step must handle:
/// tests use it to prove what a failed step leaves behind.
#[inline]
pub fn failpoint_error(name: &str) -> io::Result<()> {
    #[cfg(debug_assertions)]
    if std::env::var("REG_FAILPOINT").is_ok_and(|v| v == name) {
        return Err(io::Error::other(format!("failpoint `{name}`")));
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
    Ok(())
}

/// What a file type is, in words for an error message.
pub fn describe(ft: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read (a short read is not
/// the end: pipes and decryptors return less than asked).
pub(crate) fn read_full(r: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(path: &Path) -> String {
        open_regular(path).expect_err("refused").source.to_string()
    }

    #[test]
    fn only_a_regular_file_opens_never_through_a_link_and_never_blocking() {
        let d = tempfile::tempdir().expect("tempdir");
        let file = d.path().join("file");
        fs::write(&file, b"x").expect("write");
        assert!(open_regular(&file).is_ok());
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        assert!(refused(&link).contains("is a symbolic link"));
        assert!(refused(d.path()).contains("is a directory"));
        // A FIFO with no writer: a blocking open would wait forever for one.
        let fifo = d.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        assert!(refused(&fifo).contains("is a FIFO"));
        assert!(open_regular_rw(&fifo, true).is_err());
        assert!(matches!(
            open_no_follow(&fifo, OpenOptions::new().write(true)),
            Err(OpenRefused::NotRegular(_))
        ));
        let missing = open_regular(&d.path().join("missing")).expect_err("missing");
        assert_eq!(missing.source.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn at_most_one_byte_past_the_limit_is_read() {
        assert_eq!(
            read_limited(&b"four"[..], 4, 0).expect("read"),
            Some(b"four".to_vec())
        );
        assert_eq!(read_limited(&b"fives"[..], 4, 0).expect("read"), None);
        // An endless input: refused after limit + 1 bytes.
        assert_eq!(read_limited(io::repeat(0), 1 << 10, 0).expect("read"), None);
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("f");
        fs::write(&p, b"12345").expect("write");
        assert!(read_small(&p, 5).is_ok());
        assert!(
            read_small(&p, 4)
                .expect_err("too large")
                .to_string()
                .contains("larger than the 4-byte limit")
        );
    }
}
