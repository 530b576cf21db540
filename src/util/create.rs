//! The one way reg creates an output that must not exist yet (a transfer file, a bundle, a
//! checkout, a key file): it never replaces what is at the name, not even a file that appears
//! there while the output is being written.
//!
//! The rule:
//! 1. Anything at the name (a file, a directory, a link, even dangling) is refused before any
//!    work, with [`Exists`]: "nothing was written".
//! 2. The output is written beside its name (a temporary file or directory in the same
//!    directory, so that the last step is a rename within one file system) and synced.
//! 3. It is moved to its name by a rename that refuses an existing name (`renameat2` with
//!    `RENAME_NOREPLACE`; for a file where the file system lacks it, a hard link, which fails on
//!    an existing name too). Something that appeared meanwhile is refused with [`Exists`] and
//!    left as it is; the temporary is removed.
//! 4. The directory holding it is synced, so the new name survives a crash.
//!
//! Whatever fails, nothing is left at the name and the temporary goes with the value that holds
//! it. Every "already exists" of an output is an [`Exists`], mapped once to its exit code and
//! hint (`src/refusal/`). A new registry (`reg init`, `reg clone`) is installed by the same
//! no-clobber rename ([`rename_noreplace`]) and refused as "a registry already exists", which
//! names what is there and has its own hint.

use crate::util::fsutil::{IoContext as _, IoError, fsync_dir};
use crate::util::mount::StagingDir;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Something is already at the name of an output reg would create: reg never overwrites.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` already exists; {says}", path.display())]
pub struct Exists {
    /// The name.
    pub path: PathBuf,
    /// What the command does instead, for the message (`export writes a new file`).
    pub says: &'static str,
}

/// Either failure of creating a new output, for a caller that handles [`Exists`] itself (each
/// module's error otherwise carries both, and the functions here return it directly).
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// Something is at the name.
    #[error(transparent)]
    Exists(#[from] Exists),
    /// The file system failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Refuses with [`Exists`] when anything is at `path` (a link is not followed: a dangling one
/// is something too).
pub fn refuse_existing(path: &Path, says: &'static str) -> Result<(), Exists> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Err(Exists {
            path: path.to_path_buf(),
            says,
        }),
        Err(_) => Ok(()),
    }
}

/// The directory an output named `path` is written in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// An output file being written beside its name; [`NewFile::publish`] gives it its name.
/// Dropped unpublished, it is removed.
#[derive(Debug)]
pub struct NewFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
    says: &'static str,
}

impl NewFile {
    /// Refuses an existing `dest`, then creates the temporary file beside it, mode 0600 until
    /// [`NewFile::set_mode`] says otherwise. `prefix` names the temporary (`.reg-export-`), so
    /// that a leftover says what made it.
    pub fn create<E>(dest: &Path, prefix: &str, says: &'static str) -> Result<NewFile, E>
    where
        E: From<Exists> + From<IoError>,
    {
        refuse_existing(dest, says)?;
        let parent = parent_of(dest);
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(parent)
            .ctx("create a temporary file in", parent)?;
        Ok(NewFile {
            tmp,
            dest: dest.to_path_buf(),
            says,
        })
    }

    /// The file being written.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Sets the permission bits the file will have (public files are 0644; the default 0600
    /// suits secrets).
    pub fn set_mode(&self, mode: u32) -> Result<(), IoError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            self.tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))
                .ctx("set permissions of", self.tmp.path())?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(())
    }

    /// Syncs the file and gives it its name, refusing with [`Exists`] (and removing the
    /// temporary) if something appeared there meanwhile; then syncs the directory.
    pub fn publish<E>(self) -> Result<(), E>
    where
        E: From<Exists> + From<IoError>,
    {
        self.tmp.as_file().sync_all().ctx("sync", self.tmp.path())?;
        // tempfile renames with RENAME_NOREPLACE, or links where that is not supported: both
        // fail on an existing name, never replacing it.
        match self.tmp.persist_noclobber(&self.dest) {
            Ok(_) => {}
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Exists {
                    path: self.dest,
                    says: self.says,
                }
                .into());
            }
            Err(e) => return Err(IoError::from_source("write", &self.dest, e.error).into()),
        }
        fsync_dir(parent_of(&self.dest))?;
        Ok(())
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

/// `tar`'s streamed entries seek back to write their header.
impl io::Seek for NewFile {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.tmp.seek(pos)
    }
}

/// Writes `bytes` to the new file `dest` by the rule of this module (mode 0600).
pub fn write_new<E>(dest: &Path, bytes: &[u8], prefix: &str, says: &'static str) -> Result<(), E>
where
    E: From<Exists> + From<IoError>,
{
    let mut new = NewFile::create::<E>(dest, prefix, says)?;
    let tmp = new.tmp.path().to_path_buf();
    new.file().write_all(bytes).ctx("write", &tmp)?;
    new.publish()
}

/// An output directory being filled beside its name; [`NewDir::publish`] gives it its name.
/// Dropped unpublished, it is removed with what it holds.
#[derive(Debug)]
pub struct NewDir {
    staging: StagingDir,
    dest: PathBuf,
    says: &'static str,
}

/// Refuses an existing `dest`, then creates the directory (mode 0700) to fill beside it: the
/// directory counterpart of [`NewFile::create`].
pub fn create_new_dir<E>(dest: &Path, prefix: &str, says: &'static str) -> Result<NewDir, E>
where
    E: From<Exists> + From<IoError>,
{
    refuse_existing(dest, says)?;
    let parent = parent_of(dest);
    let staging =
        StagingDir::new_in(parent, prefix).ctx("create temporary directory in", parent)?;
    Ok(NewDir {
        staging,
        dest: dest.to_path_buf(),
        says,
    })
}

impl NewDir {
    /// The directory being filled.
    pub fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Gives the directory its name, refusing with [`Exists`] (and removing it) if something
    /// appeared there meanwhile (even an empty directory, which a plain rename would replace);
    /// then syncs the directory holding it. Its files are the caller's to sync first; every
    /// directory inside it is synced here, so that after a crash the name holds every entry.
    pub fn publish<E>(self) -> Result<(), E>
    where
        E: From<Exists> + From<IoError>,
    {
        sync_dirs(self.staging.path())?;
        match rename_noreplace(self.staging.path(), &self.dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Exists {
                    path: self.dest,
                    says: self.says,
                }
                .into());
            }
            Err(e) => return Err(IoError::from_source("rename into place", &self.dest, e).into()),
        }
        // The name now holds it: nothing to remove.
        let _ = self.staging.keep();
        fsync_dir(parent_of(&self.dest))?;
        Ok(())
    }
}

/// Syncs every directory of the tree at `root` (deepest first, links not followed), so that
/// the entries they hold are durable before the tree gets its name.
fn sync_dirs(root: &Path) -> Result<(), IoError> {
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .contents_first(true)
    {
        let entry = entry.map_err(|e| {
            let at = e.path().unwrap_or(root).to_path_buf();
            IoError::from_source("list", &at, io::Error::other(e.to_string()))
        })?;
        if entry.file_type().is_dir() {
            fsync_dir(entry.path())?;
        }
    }
    Ok(())
}

/// Renames the directory `from` to `to` unless `to` exists, in one step where the system can
/// (`RENAME_NOREPLACE`). Where it cannot, `to` is claimed first by creating it as an empty
/// directory (which fails if anything is there) and `from` renamed over that empty directory.
/// An existing `to` is `io::ErrorKind::AlreadyExists`. [`NewDir::publish`] and the installing
/// of a new registry (`reg init`, `reg clone`) use it: a plain rename replaces an empty
/// directory that appeared at the name meanwhile.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::create_dir(to)?;
    std::fs::rename(from, to).inspect_err(|_| {
        let _ = std::fs::remove_dir(to);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const SAYS: &str = "tests write new files";

    fn err(r: Result<(), Exists>) -> Exists {
        r.expect_err("refused")
    }

    type E = NewError;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_new_file_gets_its_bytes_and_nothing_else_is_left() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        write_new::<E>(&out, b"bytes", ".t-", SAYS).expect("written");
        assert_eq!(fs::read(&out).expect("read"), b"bytes");
        assert_eq!(entries(d.path()), ["out"]);
    }

    #[test]
    fn an_existing_name_is_refused_before_any_work_even_a_dangling_link() {
        let d = tempfile::tempdir().expect("tempdir");
        let link = d.path().join("link");
        std::os::unix::fs::symlink(d.path().join("nowhere"), &link).expect("symlink");
        let e = err(refuse_existing(&link, SAYS));
        assert_eq!(
            e.to_string(),
            format!("`{}` already exists; {SAYS}", link.display())
        );
        assert!(matches!(
            NewFile::create::<E>(&link, ".t-", SAYS),
            Err(NewError::Exists(_))
        ));
        assert!(matches!(
            create_new_dir::<E>(&link, ".t-", SAYS),
            Err(NewError::Exists(_))
        ));
        assert!(
            !d.path().join("nowhere").exists(),
            "the link was not followed"
        );
        assert_eq!(entries(d.path()), ["link"], "nothing left behind");
    }

    /// The race the rule is for: something appears at the name while the output is written.
    #[test]
    fn a_file_or_link_that_appears_meanwhile_is_never_replaced() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        let mut new = NewFile::create::<E>(&out, ".t-", SAYS).expect("created");
        new.write_all(b"ours").expect("write");
        fs::write(&out, b"theirs").expect("write theirs");
        assert!(matches!(new.publish::<E>(), Err(NewError::Exists(_))));
        assert_eq!(fs::read(&out).expect("read"), b"theirs");
        assert_eq!(entries(d.path()), ["out"], "the temporary is gone");

        // A link appearing there is not followed nor replaced.
        let target = d.path().join("target");
        fs::write(&target, b"target").expect("write");
        let out = d.path().join("out2");
        let new = NewFile::create::<E>(&out, ".t-", SAYS).expect("created");
        std::os::unix::fs::symlink(&target, &out).expect("symlink");
        assert!(matches!(new.publish::<E>(), Err(NewError::Exists(_))));
        assert!(fs::symlink_metadata(&out).expect("lstat").is_symlink());
        assert_eq!(fs::read(&target).expect("read"), b"target");
        assert_eq!(entries(d.path()), ["out", "out2", "target"]);
    }

    #[test]
    fn a_directory_that_appears_meanwhile_even_empty_is_never_replaced() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        let new = create_new_dir::<E>(&out, ".t-", SAYS).expect("created");
        fs::write(new.path().join("f"), b"ours").expect("write");
        fs::create_dir(&out).expect("theirs");
        assert!(matches!(new.publish::<E>(), Err(NewError::Exists(_))));
        assert!(entries(&out).is_empty(), "their directory is as it was");
        assert_eq!(entries(d.path()), ["out"], "the staging directory is gone");

        let out = d.path().join("fresh");
        let new = create_new_dir::<E>(&out, ".t-", SAYS).expect("created");
        fs::write(new.path().join("f"), b"ours").expect("write");
        new.publish::<E>().expect("published");
        assert_eq!(fs::read(out.join("f")).expect("read"), b"ours");
        assert_eq!(entries(d.path()), ["fresh", "out"]);
    }

    #[test]
    fn a_failure_leaves_nothing_behind() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        {
            let mut new = NewFile::create::<E>(&out, ".t-", SAYS).expect("created");
            new.write_all(b"half").expect("write");
            // The writer fails here and drops it.
        }
        {
            let new = create_new_dir::<E>(&out, ".t-", SAYS).expect("created");
            fs::write(new.path().join("f"), b"half").expect("write");
        }
        assert!(entries(d.path()).is_empty());
        // A destination whose directory is missing: an I/O error, nothing created.
        let r = write_new::<E>(&d.path().join("no/such/dir"), b"x", ".t-", SAYS);
        assert!(matches!(r, Err(NewError::Io(_))));
        assert!(entries(d.path()).is_empty());
    }
}
