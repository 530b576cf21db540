//! The one way reg creates an output that must not exist yet (a transfer file, a bundle, a
//! checkout, a key file): it never replaces what is at the name, not even a file that appears
//! there while the output is being written, never writes through a link, and never publishes
//! what it did not write.
//!
//! The rule:
//! 1. Anything at the name (a file, a directory, a link, even dangling) is refused before any
//!    work, with [`Exists`]: "nothing was written". So is a name inside a registry's
//!    `.registry` directory ([`OutputRefused::InsideRegistry`]), which holds only what reg
//!    writes there.
//! 2. The output is written beside its name (a temporary file or directory in the same
//!    directory, so that the last step is a rename within one file system) and synced. reg
//!    holds the temporary's descriptor; a directory's files and subdirectories are made relative
//!    to it, never following a link ([`NewDir::create_file`], [`NewDir::create_dir_all`]).
//! 3. Before it is published, the temporary's name must still hold the very file or directory
//!    reg made (same device and inode as the descriptor held): one that someone else put there
//!    is refused with [`OutputRefused::Replaced`] and left as it is. The output is then moved to
//!    its name by a step that refuses an existing name (a file: a hard link to the descriptor's
//!    own inode, through `/proc/self/fd`; a directory, or a file where that is not possible:
//!    `renameat2` with `RENAME_NOREPLACE`). Something that appeared at the name meanwhile is
//!    refused with [`Exists`] and left as it is; the temporary is removed.
//! 4. The directory holding it is synced, so the new name survives a crash.
//!
//! Whatever fails, nothing is left at the name and the temporary goes with the value that holds
//! it (unless someone else's file or directory now has the temporary's name: that is left
//! alone). Every "already exists" of an output is an [`Exists`], and every other refusal of
//! this module an [`OutputRefused`], each mapped once to its exit code and hint
//! (`src/refusal/`). A new registry (`reg init`, `reg clone`) is installed by the same
//! no-clobber rename ([`rename_noreplace`]) and refused as "a registry already exists", which
//! names what is there and has its own hint.
//!
//! # What race remains
//!
//! Someone who can write the directory an output is written in can rename the temporary away
//! and put their own at its name. For a file, the check is made and then the descriptor's own
//! inode is linked to the name: whatever is at the temporary's name by then, what is published
//! is what reg wrote. Where `/proc` is missing or the file system refuses the link, the file is
//! renamed by name, as a directory always is (Linux has no rename by descriptor): the check and
//! the rename are two steps, and a swap made between them is published. After the rename, reg
//! checks the name again and, if it does not hold what reg wrote, fails saying so (exit 1), so
//! the swap is never reported as success; what is there is left for the user to remove. That
//! window is a few system calls wide, the swap must be timed into it, and it needs write access
//! to the output's directory, which whoever runs reg chose (a directory others can write is
//! the user's risk, as for any program). Likewise a temporary is removed by name only after
//! checking that the name still holds it.

use crate::util::fsutil::{IoContext as _, IoError, fsync_dir, still_at};

mod dir;
pub use dir::{NewDir, create_new_dir};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The name of a registry's directory (`.registry`), defined once: `repo::registry::DOT_REGISTRY`
/// is this name, and no output is written inside a directory of this name.
pub const REGISTRY_DIR: &str = ".registry";

/// Something is already at the name of an output reg would create: reg never overwrites.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` already exists; {says}", path.display())]
pub struct Exists {
    /// The name.
    pub path: PathBuf,
    /// What the command does instead, for the message (`export writes a new file`).
    pub says: &'static str,
}

/// Every refusal of a new output but [`Exists`]: where it would go, or what happened to it
/// while it was written. Nothing is published, and nothing that is not reg's is touched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputRefused {
    /// The output would go inside a registry's `.registry` directory.
    #[error(
        "`{}` is inside a registry's `.registry` directory, which holds only what reg writes there; nothing was written",
        .0.display()
    )]
    InsideRegistry(PathBuf),
    /// The temporary was replaced by someone else's file or directory before it was published.
    #[error(
        "`{}` was replaced while `{}` was being written: what is there now is not what reg wrote, and was left as it is; nothing was published",
        tmp.display(),
        dest.display()
    )]
    Replaced {
        /// The temporary's name.
        tmp: PathBuf,
        /// The output's name.
        dest: PathBuf,
    },
    /// The temporary was replaced between the last check and the rename (see the module's
    /// "What race remains"): what now has the output's name is not what reg wrote.
    #[error(
        "`{}` is not what reg wrote: what it wrote was replaced while it was being published; do not use it, remove it",
        .0.display()
    )]
    ReplacedAtPublish(PathBuf),
    /// Inside the directory being written, something reg did not make was found where it
    /// writes (a link, or an entry someone else put there): it is not followed.
    #[error(
        "`{}`, in the directory being written, is not what reg made there (a link or someone else's entry): it is not followed; nothing was published",
        .0.display()
    )]
    NotOurs(PathBuf),
    /// A path to create inside the directory being written is not relative and plain (`..`,
    /// an absolute path).
    #[error("`{}` is not a relative path of plain names; nothing was published", .0.display())]
    BadPath(PathBuf),
}

/// Either failure of creating a new output, for a caller that handles [`Exists`] itself (each
/// module's error otherwise carries both, and the functions here return it directly).
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// Something is at the name.
    #[error(transparent)]
    Exists(#[from] Exists),
    /// Where it goes, or what happened to it meanwhile, is refused.
    #[error(transparent)]
    Refused(#[from] OutputRefused),
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

/// Whether `dir` is, or is inside, a directory named `.registry`: by any ancestor as written,
/// and as resolved (a link anywhere on the way, `lnk/inner` with `lnk` leading into a
/// registry, may lead inside one, even where `dir` does not exist yet).
pub fn is_inside_a_registry(dir: &Path) -> bool {
    let named = |p: &Path| {
        p.ancestors()
            .any(|a| a.file_name().is_some_and(|n| n == REGISTRY_DIR))
    };
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    named(&abs)
        || abs
            .ancestors()
            .any(|a| std::fs::canonicalize(a).is_ok_and(|c| named(&c)))
}

/// Refuses an output `dest` whose directory is inside a registry's `.registry` directory.
fn refuse_inside_a_registry(dest: &Path) -> Result<(), OutputRefused> {
    if is_inside_a_registry(parent_of(dest)) {
        return Err(OutputRefused::InsideRegistry(dest.to_path_buf()));
    }
    Ok(())
}

/// The directory an output named `path` is written in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// An output file being written beside its name; [`NewFile::publish`] gives it its name.
/// Dropped unpublished, it is removed (if its name still holds it).
#[derive(Debug)]
pub struct NewFile {
    /// `None` only once published or given up.
    tmp: Option<tempfile::NamedTempFile>,
    dest: PathBuf,
    says: &'static str,
}

impl NewFile {
    /// Refuses an existing `dest` and one inside a registry, then creates the temporary file
    /// beside it, mode 0600 until [`NewFile::set_mode`] says otherwise. `prefix` names the
    /// temporary (`.reg-export-`), so that a leftover says what made it.
    pub fn create<E>(dest: &Path, prefix: &str, says: &'static str) -> Result<NewFile, E>
    where
        E: From<Exists> + From<OutputRefused> + From<IoError>,
    {
        refuse_existing(dest, says)?;
        refuse_inside_a_registry(dest)?;
        let parent = parent_of(dest);
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(parent)
            .ctx("create a temporary file in", parent)?;
        Ok(NewFile {
            tmp: Some(tmp),
            dest: dest.to_path_buf(),
            says,
        })
    }

    fn tmp(&self) -> &tempfile::NamedTempFile {
        self.tmp.as_ref().expect("held until published or dropped")
    }

    fn tmp_mut(&mut self) -> &mut tempfile::NamedTempFile {
        self.tmp.as_mut().expect("held until published or dropped")
    }

    /// The file being written.
    pub fn file(&mut self) -> &mut File {
        self.tmp_mut().as_file_mut()
    }

    /// The temporary's name (for messages).
    pub fn tmp_path(&self) -> &Path {
        self.tmp().path()
    }

    /// Sets the permission bits the file will have (public files are 0644; the default 0600
    /// suits secrets).
    pub fn set_mode(&self, mode: u32) -> Result<(), IoError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            self.tmp()
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))
                .ctx("set permissions of", self.tmp().path())?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(())
    }

    /// Syncs the file and gives it its name, refusing with [`OutputRefused::Replaced`] if its
    /// temporary name no longer holds it (someone else's file there is left alone), and with
    /// [`Exists`] (removing the temporary) if something appeared at the name meanwhile; then
    /// syncs the directory. See the module's "What race remains".
    pub fn publish<E>(mut self) -> Result<(), E>
    where
        E: From<Exists> + From<OutputRefused> + From<IoError>,
    {
        let tmp = self.tmp.take().expect("held until published or dropped");
        tmp.as_file().sync_all().ctx("sync", tmp.path())?;
        if !still_at(tmp.as_file(), tmp.path()) {
            return Err(self.replaced(tmp).into());
        }
        match link_own_inode(tmp.as_file(), &self.dest) {
            Ok(()) => {
                let (file, path) = tmp.into_parts();
                if still_at(&file, &path) {
                    drop(path);
                } else {
                    let _ = path.keep();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.tmp = Some(tmp);
                return Err(self.exists().into());
            }
            // With `/proc` there, a failure that is not "links are not possible here" is no
            // reason to fall back to a rename by name, which would publish whatever the
            // temporary's name holds: a temporary replaced after the check above has no link
            // left, so the descriptor's file cannot be linked (ENOENT).
            Err(e) if !links_impossible(&e) => {
                if !still_at(tmp.as_file(), tmp.path()) {
                    return Err(self.replaced(tmp).into());
                }
                self.tmp = Some(tmp);
                return Err(IoError::from_source("link", &self.dest, e).into());
            }
            // No `/proc`, or a file system without hard links: by name, as a directory is.
            Err(_) => match tmp.persist_noclobber(&self.dest) {
                Ok(file) => {
                    if !still_at(&file, &self.dest) {
                        return Err(OutputRefused::ReplacedAtPublish(self.dest.clone()).into());
                    }
                }
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                    self.tmp = Some(e.file);
                    return Err(self.exists().into());
                }
                Err(e) => {
                    self.tmp = Some(e.file);
                    return Err(IoError::from_source("write", &self.dest, e.error).into());
                }
            },
        }
        fsync_dir(parent_of(&self.dest))?;
        Ok(())
    }

    /// The refusal of a temporary whose name no longer holds reg's file: that name is not
    /// ours any more, so it is kept (never removed) and named.
    fn replaced(&self, tmp: tempfile::NamedTempFile) -> OutputRefused {
        let (_, path) = tmp.into_parts();
        OutputRefused::Replaced {
            tmp: path.keep().unwrap_or_default(),
            dest: self.dest.clone(),
        }
    }

    fn exists(&self) -> Exists {
        Exists {
            path: self.dest.clone(),
            says: self.says,
        }
    }
}

/// Whether `e`, from [`link_own_inode`], says that linking a descriptor's file is not
/// possible here (no `/proc`, a file system without hard links, a platform without it),
/// rather than that this file could not be linked.
fn links_impossible(e: &io::Error) -> bool {
    let proc_there = Path::new("/proc/self/fd").is_dir();
    !proc_there
        || e.kind() == io::ErrorKind::Unsupported
        || matches!(
            e.raw_os_error(),
            Some(libc::EPERM | libc::EOPNOTSUPP | libc::EXDEV | libc::EMLINK | libc::ENOSYS)
        )
}

/// Links the inode `file` holds to the new name `dest` (never over an existing one:
/// `AlreadyExists`), through `/proc/self/fd`: what is linked is the descriptor's own file,
/// whatever its temporary name holds by now. Any other error means "not possible here".
fn link_own_inode(file: &File, dest: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{AtFlags, CWD, linkat};
        use std::os::fd::AsRawFd as _;
        let own = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        linkat(CWD, &own, CWD, dest, AtFlags::SYMLINK_FOLLOW).map_err(io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, dest);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take()
            && !still_at(tmp.as_file(), tmp.path())
        {
            // Someone else's file has the temporary's name: left alone.
            let _ = tmp.into_parts().1.keep();
        }
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tmp_mut().flush()
    }
}

/// `tar`'s streamed entries seek back to write their header.
impl io::Seek for NewFile {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.tmp_mut().seek(pos)
    }
}

/// Writes `bytes` to the new file `dest` by the rule of this module (mode 0600).
pub fn write_new<E>(dest: &Path, bytes: &[u8], prefix: &str, says: &'static str) -> Result<(), E>
where
    E: From<Exists> + From<OutputRefused> + From<IoError>,
{
    let mut new = NewFile::create::<E>(dest, prefix, says)?;
    let tmp = new.tmp_path().to_path_buf();
    new.file().write_all(bytes).ctx("write", &tmp)?;
    new.publish()
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

    fn refused(r: Result<impl std::fmt::Debug, NewError>) -> OutputRefused {
        match r {
            Err(NewError::Refused(o)) => o,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// A link planted in the staging directory, where a file or a directory is to be made, is
    /// never followed: nothing is written where it leads.
    #[test]
    fn a_link_planted_in_the_staging_directory_is_never_followed() {
        let d = tempfile::tempdir().expect("tempdir");
        let outside = d.path().join("outside");
        fs::create_dir(&outside).expect("mkdir");
        let victim = outside.join("victim");
        fs::write(&victim, b"victim").expect("write");
        let mut new = create_new_dir::<E>(&d.path().join("out"), ".t-", SAYS).expect("created");
        let staging = new.path().to_path_buf();
        // As a file.
        std::os::unix::fs::symlink(&victim, staging.join("z.bin")).expect("symlink");
        let r = refused(new.create_file::<E>(Path::new("z.bin")));
        assert!(matches!(r, OutputRefused::NotOurs(_)), "{r:?}");
        // As a directory, at the top and deeper.
        std::os::unix::fs::symlink(&outside, staging.join("sub")).expect("symlink");
        let r = refused(new.create_file::<E>(Path::new("sub/f")));
        assert!(matches!(r, OutputRefused::NotOurs(_)), "{r:?}");
        let r = refused(new.create_dir_all::<E>(Path::new("sub/deeper")));
        assert!(matches!(r, OutputRefused::NotOurs(_)), "{r:?}");
        new.create_dir_all::<E>(Path::new("a")).expect("made");
        std::os::unix::fs::symlink(&outside, staging.join("a/b")).expect("symlink");
        let r = refused(new.create_file::<E>(Path::new("a/b/f")));
        assert!(matches!(r, OutputRefused::NotOurs(_)), "{r:?}");
        // Nor does a path leave it.
        for bad in ["../escape", "/abs", "a/../../escape"] {
            let r = refused(new.create_file::<E>(Path::new(bad)));
            assert!(matches!(r, OutputRefused::BadPath(_)), "{bad}: {r:?}");
        }
        assert_eq!(fs::read(&victim).expect("read"), b"victim");
        assert_eq!(entries(&outside), ["victim"]);
        assert!(!d.path().join("escape").exists());
        // What it makes itself is made, and published.
        let mut f = new.create_file::<E>(Path::new("a/c/f")).expect("created");
        f.write_all(b"ours").expect("write");
        drop(f);
        new.publish::<E>().expect("published");
        assert_eq!(fs::read(d.path().join("out/a/c/f")).expect("read"), b"ours");
    }

    /// Someone who can write the parent renames the staging directory away and puts their own
    /// at its name: it is not published, nor written in, nor removed.
    #[test]
    fn a_staging_directory_swapped_before_publish_is_refused_and_left_alone() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        let mut new = create_new_dir::<E>(&out, ".t-", SAYS).expect("created");
        let staging = new.path().to_path_buf();
        let moved = d.path().join("moved");
        fs::rename(&staging, &moved).expect("rename away");
        fs::create_dir(&staging).expect("impostor");
        fs::write(staging.join("theirs"), b"theirs").expect("write");
        // Files go into reg's own directory, wherever it is now: not into the impostor.
        let mut f = new.create_file::<E>(Path::new("f")).expect("created");
        f.write_all(b"ours").expect("write");
        drop(f);
        assert_eq!(entries(&staging), ["theirs"]);
        let r = refused(new.publish::<E>());
        assert!(matches!(r, OutputRefused::Replaced { .. }), "{r:?}");
        assert!(r.to_string().contains("nothing was published"), "{r}");
        assert!(!out.exists(), "nothing published");
        assert_eq!(
            entries(&staging),
            ["theirs"],
            "the impostor is left as it was"
        );
        assert_eq!(fs::read(staging.join("theirs")).expect("read"), b"theirs");
        assert!(
            entries(&moved).is_empty(),
            "what reg wrote goes, wherever it was moved"
        );

        // Dropped unpublished after a swap: the impostor is not removed either.
        let new = create_new_dir::<E>(&d.path().join("out2"), ".u-", SAYS).expect("created");
        let staging = new.path().to_path_buf();
        fs::rename(&staging, d.path().join("moved2")).expect("rename away");
        fs::create_dir(&staging).expect("impostor");
        drop(new);
        assert!(staging.is_dir(), "the impostor is not removed");
    }

    /// A directory dropped unpublished is emptied through its own descriptor: its name swapped
    /// for a link to a victim directory (what a removal by path would walk into) leads nowhere,
    /// the victim keeps every file, and reg's own entries go wherever the directory now is.
    #[test]
    fn a_dropped_directory_is_emptied_through_its_descriptor_never_through_a_link() {
        let d = tempfile::tempdir().expect("tempdir");
        let victim = d.path().join("victim");
        fs::create_dir_all(victim.join("sub")).expect("victim");
        fs::write(victim.join("z.bin"), b"victim").expect("write");
        fs::write(victim.join("sub/x.txt"), b"victim").expect("write");
        let mut new = create_new_dir::<E>(&d.path().join("out"), ".t-", SAYS).expect("created");
        for rel in ["z.bin", "sub/x.txt"] {
            let mut f = new.create_file::<E>(Path::new(rel)).expect("created");
            f.write_all(b"ours").expect("write");
        }
        let staging = new.path().to_path_buf();
        let moved = d.path().join("moved");
        fs::rename(&staging, &moved).expect("rename away");
        std::os::unix::fs::symlink(&victim, &staging).expect("link");
        drop(new);
        assert_eq!(fs::read(victim.join("z.bin")).expect("read"), b"victim");
        assert_eq!(fs::read(victim.join("sub/x.txt")).expect("read"), b"victim");
        assert!(
            entries(&moved).is_empty(),
            "reg's entries are removed where they are"
        );
        assert!(
            fs::symlink_metadata(&staging).is_ok(),
            "the link is not reg's: left alone"
        );
    }

    /// With `/proc` there, a file that cannot be linked (it lost its last name: its temporary
    /// was replaced after the check) is no reason to fall back to a rename by name; a file
    /// system without links is.
    #[test]
    fn only_impossible_links_fall_back_to_a_rename_by_name() {
        assert!(Path::new("/proc/self/fd").is_dir(), "the test needs /proc");
        assert!(!links_impossible(&io::Error::from_raw_os_error(
            libc::ENOENT
        )));
        assert!(!links_impossible(&io::Error::from_raw_os_error(
            libc::EACCES
        )));
        for errno in [libc::EXDEV, libc::EPERM, libc::EOPNOTSUPP, libc::EMLINK] {
            assert!(
                links_impossible(&io::Error::from_raw_os_error(errno)),
                "{errno}"
            );
        }
    }

    /// The same for a file: a temporary swapped for someone else's file is not published.
    #[test]
    fn a_temporary_file_swapped_before_publish_is_refused_and_left_alone() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        let mut new = NewFile::create::<E>(&out, ".t-", SAYS).expect("created");
        new.write_all(b"ours").expect("write");
        let tmp = new.tmp_path().to_path_buf();
        fs::rename(&tmp, d.path().join("moved")).expect("rename away");
        fs::write(&tmp, b"theirs").expect("impostor");
        let r = refused(new.publish::<E>());
        assert!(matches!(r, OutputRefused::Replaced { .. }), "{r:?}");
        assert!(!out.exists(), "nothing published");
        assert_eq!(fs::read(&tmp).expect("read"), b"theirs", "left as it was");

        // Dropped unpublished after a swap: not removed either.
        let new = NewFile::create::<E>(&d.path().join("out2"), ".u-", SAYS).expect("created");
        let tmp = new.tmp_path().to_path_buf();
        fs::rename(&tmp, d.path().join("moved2")).expect("rename away");
        fs::write(&tmp, b"theirs").expect("impostor");
        drop(new);
        assert_eq!(fs::read(&tmp).expect("read"), b"theirs");
    }

    #[test]
    fn the_staging_directory_is_0700_under_umask_022() {
        use std::os::unix::fs::PermissionsExt as _;
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
        let d = tempfile::tempdir().expect("tempdir");
        let new = create_new_dir::<E>(&d.path().join("out"), ".t-", SAYS);
        rustix::process::umask(old);
        let new = new.expect("created");
        let mode = fs::symlink_metadata(new.path())
            .expect("lstat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o700, "{mode:o}");
    }

    #[test]
    fn an_output_inside_a_registry_is_refused_even_through_a_link() {
        let d = tempfile::tempdir().expect("tempdir");
        let dot = d.path().join(REGISTRY_DIR);
        fs::create_dir_all(dot.join("objects")).expect("mkdir");
        let link = d.path().join("lnk");
        std::os::unix::fs::symlink(&dot, &link).expect("symlink");
        for dest in [
            dot.join("x.regx"),
            dot.join("objects/p.tar"),
            link.join("k"),
            link.join("objects/k"),
        ] {
            let r = refused(write_new::<E>(&dest, b"x", ".t-", SAYS));
            assert_eq!(r, OutputRefused::InsideRegistry(dest.clone()));
            let r = refused(NewFile::create::<E>(&dest, ".t-", SAYS));
            assert!(matches!(r, OutputRefused::InsideRegistry(_)), "{r:?}");
            let r = refused(create_new_dir::<E>(&dest, ".t-", SAYS));
            assert!(matches!(r, OutputRefused::InsideRegistry(_)), "{r:?}");
        }
        assert_eq!(entries(&dot), ["objects"]);
        assert!(entries(&dot.join("objects")).is_empty());
        // Beside it is not inside it.
        write_new::<E>(&d.path().join("x.regx"), b"x", ".t-", SAYS).expect("written");
    }
}
