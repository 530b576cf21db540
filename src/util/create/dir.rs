//! A new output directory ([`NewDir`]), by the rule of [`super`]: its staging directory is
//! made mode 0700 and held by its descriptor, every file and directory in it is made relative
//! to the descriptors held and never through a link, and it is published only while its
//! staging name still holds the very directory reg made.

use super::{
    Exists, OutputRefused, parent_of, refuse_existing, refuse_inside_a_registry, rename_noreplace,
};
use crate::util::fsutil::{IoContext as _, IoError, fsync_dir, still_at};
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

/// An output directory being filled beside its name; [`NewDir::publish`] gives it its name.
/// reg holds its descriptor and those of the directories it makes in it, and makes every entry
/// relative to them without following a link. Dropped unpublished, it is removed with what it
/// holds (if its name still holds it).
#[derive(Debug)]
pub struct NewDir {
    /// The staging directory's descriptor.
    dir: File,
    /// Its name; `None` once published or given up.
    path: Option<PathBuf>,
    /// Descriptors of the directories made in it, synced before it is published.
    subdirs: Vec<File>,
    dest: PathBuf,
    says: &'static str,
}

/// Creates, in `parent`, a new directory named `prefix` and random characters, mode 0700, and
/// opens it without following a link; returns it with its path.
fn make_staging_dir(parent: &Path, prefix: &str) -> Result<(File, PathBuf), IoError> {
    use rustix::fs::{Mode, OFlags, fchmod, fstat, mkdirat, openat};
    let pdir = open_dir(parent).ctx("create temporary directory in", parent)?;
    let mut tries = 0;
    loop {
        let mut random = [0u8; 6];
        getrandom::fill(&mut random)
            .map_err(|e| IoError::from_source("random name in", parent, io::Error::other(e)))?;
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let suffix: String = random
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        let name = format!("{prefix}{suffix}");
        let path = parent.join(&name);
        match mkdirat(&pdir, name.as_str(), Mode::RWXU) {
            Ok(()) => {}
            Err(rustix::io::Errno::EXIST) if tries < 100 => {
                tries += 1;
                continue;
            }
            Err(e) => {
                return Err(IoError::from_source(
                    "create temporary directory in",
                    parent,
                    e.into(),
                ));
            }
        }
        let dir = openat(
            &pdir,
            name.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| IoError::from_source("open directory", &path, e.into()))?;
        // What was opened is the directory just made: the umask may have cleared bits, and only
        // its maker (or root) could have put another of reg's user at the name.
        let st = fstat(&dir).map_err(|e| IoError::from_source("stat", &path, e.into()))?;
        if st.st_uid != rustix::process::geteuid().as_raw() {
            return Err(IoError::from_source(
                "create directory",
                &path,
                io::Error::other("another user's directory took its name"),
            ));
        }
        fchmod(&dir, Mode::RWXU).map_err(|e| IoError::from_source("chmod", &path, e.into()))?;
        return Ok((File::from(dir), path));
    }
}

/// Opens the directory `dir` (a link to one is followed: the user named it).
fn open_dir(dir: &Path) -> io::Result<rustix::fd::OwnedFd> {
    use rustix::fs::{CWD, Mode, OFlags, openat};
    Ok(openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Refuses an existing `dest` and one inside a registry, then creates the directory (mode
/// 0700) to fill beside it: the directory counterpart of [`super::NewFile::create`].
pub fn create_new_dir<E>(dest: &Path, prefix: &str, says: &'static str) -> Result<NewDir, E>
where
    E: From<Exists> + From<OutputRefused> + From<IoError>,
{
    refuse_existing(dest, says)?;
    refuse_inside_a_registry(dest)?;
    let (dir, path) = make_staging_dir(parent_of(dest), prefix)?;
    Ok(NewDir {
        dir,
        path: Some(path),
        subdirs: Vec::new(),
        dest: dest.to_path_buf(),
        says,
    })
}

/// The plain names of `rel`, refusing `..`, a root and a prefix (`.` is skipped).
fn plain_names(rel: &Path) -> Result<Vec<&std::ffi::OsStr>, OutputRefused> {
    let mut names = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => names.push(n),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(OutputRefused::BadPath(rel.to_path_buf()));
            }
        }
    }
    Ok(names)
}

impl NewDir {
    /// The directory being filled (for messages: entries are made with
    /// [`NewDir::create_file`] and [`NewDir::create_dir_all`]).
    pub fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("held until published or dropped")
    }

    /// The directory `rel` inside it (every missing directory on the way made, mode 0777 less
    /// the umask, as `create_dir_all` makes them), opened relative to the descriptors held,
    /// never following a link: a link on the way is [`OutputRefused::NotOurs`].
    pub fn create_dir_all<E>(&mut self, rel: &Path) -> Result<File, E>
    where
        E: From<OutputRefused> + From<IoError>,
    {
        let names = plain_names(rel)?;
        self.dir_of(&names)
    }

    fn dir_of<E>(&mut self, names: &[&std::ffi::OsStr]) -> Result<File, E>
    where
        E: From<OutputRefused> + From<IoError>,
    {
        use rustix::fs::{Mode, OFlags, mkdirat, openat};
        let mut at = self.dir.try_clone().ctx("open directory", self.path())?;
        let mut walked = self.path().to_path_buf();
        for name in names {
            walked.push(name);
            let made = match mkdirat(&at, *name, Mode::from_raw_mode(0o777)) {
                Ok(()) => true,
                Err(rustix::io::Errno::EXIST) => false,
                Err(e) => {
                    return Err(IoError::from_source("create directory", &walked, e.into()).into());
                }
            };
            let next = match openat(
                &at,
                *name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => File::from(fd),
                Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
                    return Err(OutputRefused::NotOurs(walked).into());
                }
                Err(e) => {
                    return Err(IoError::from_source("open directory", &walked, e.into()).into());
                }
            };
            if made {
                self.subdirs
                    .push(next.try_clone().ctx("open directory", &walked)?);
            }
            at = next;
        }
        Ok(at)
    }

    /// Creates the new file `rel` inside it (its directories made as
    /// [`NewDir::create_dir_all`] makes them; mode 0666 less the umask, as `File::create`
    /// makes it), relative to the descriptors held and never through a link: anything already
    /// at its name, a link too, is [`OutputRefused::NotOurs`].
    pub fn create_file<E>(&mut self, rel: &Path) -> Result<File, E>
    where
        E: From<OutputRefused> + From<IoError>,
    {
        use rustix::fs::{Mode, OFlags, openat};
        let names = plain_names(rel)?;
        let Some((name, dirs)) = names.split_last() else {
            return Err(OutputRefused::BadPath(rel.to_path_buf()).into());
        };
        let at = self.dir_of::<E>(dirs)?;
        let target = self.path().join(rel);
        match openat(
            &at,
            *name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o666),
        ) {
            Ok(fd) => Ok(File::from(fd)),
            Err(rustix::io::Errno::EXIST | rustix::io::Errno::LOOP) => {
                Err(OutputRefused::NotOurs(target).into())
            }
            Err(e) => Err(IoError::from_source("create", &target, e.into()).into()),
        }
    }

    /// Gives the directory its name, refusing with [`OutputRefused::Replaced`] if its
    /// temporary name no longer holds the directory reg made (someone else's there is left
    /// alone), and with [`Exists`] (removing it) if something appeared at the name meanwhile
    /// (even an empty directory, which a plain rename would replace); then syncs the directory
    /// holding it. Its files are the caller's to sync first; every directory made in it is
    /// synced here, by the descriptors held, so that after a crash the name holds every entry.
    /// See [`super`], "What race remains".
    pub fn publish<E>(mut self) -> Result<(), E>
    where
        E: From<Exists> + From<OutputRefused> + From<IoError>,
    {
        let path = self.path().to_path_buf();
        for d in self.subdirs.iter().rev() {
            d.sync_all().ctx("sync directory in", &path)?;
        }
        self.dir.sync_all().ctx("sync directory", &path)?;
        if !still_at(&self.dir, &path) {
            // The name is not ours any more: never removed. What reg wrote is emptied through
            // its descriptor, wherever its directory was moved.
            let _ = empty_dir_at(&self.dir);
            self.path = None;
            return Err(OutputRefused::Replaced {
                tmp: path,
                dest: self.dest.clone(),
            }
            .into());
        }
        match rename_noreplace(&path, &self.dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Exists {
                    path: self.dest.clone(),
                    says: self.says,
                }
                .into());
            }
            Err(e) => return Err(IoError::from_source("rename into place", &self.dest, e).into()),
        }
        // The name now holds it: nothing to remove.
        self.path = None;
        if !still_at(&self.dir, &self.dest) {
            return Err(OutputRefused::ReplacedAtPublish(self.dest.clone()).into());
        }
        fsync_dir(parent_of(&self.dest))?;
        Ok(())
    }
}

impl Drop for NewDir {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            // Best effort, as a temporary directory's. Emptied through its own descriptor, never
            // by name: a name on the way swapped for a link (the directory renamed away and a
            // link to a victim put at its name) would lead a removal by path outside it.
            let _ = empty_dir_at(&self.dir);
            if still_at(&self.dir, &p) {
                let _ = std::fs::remove_dir(&p);
            }
        }
    }
}

/// Removes everything inside the directory `dir` holds, relative to its descriptor and those
/// of its subdirectories (each opened without following a link): no name is resolved through
/// the path the directory had, so nothing outside it can be reached.
fn empty_dir_at(dir: &File) -> io::Result<()> {
    use rustix::fs::{AtFlags, Dir, Mode, OFlags, openat, unlinkat};
    let mut names = Vec::new();
    for entry in Dir::read_from(dir)? {
        let name = entry?.file_name().to_owned();
        if name.as_bytes() != b"." && name.as_bytes() != b".." {
            names.push(name);
        }
    }
    for name in names {
        match unlinkat(dir, name.as_c_str(), AtFlags::empty()) {
            Ok(()) => {}
            // A directory: emptied through its own descriptor, then removed.
            Err(rustix::io::Errno::ISDIR) => {
                let sub = File::from(openat(
                    dir,
                    name.as_c_str(),
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )?);
                empty_dir_at(&sub)?;
                unlinkat(dir, name.as_c_str(), AtFlags::REMOVEDIR)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
