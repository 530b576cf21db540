//! The content-addressed object store (FORMAT.md §3).
//!
//! An object's id is the BLAKE3-256 of its exact bytes, so that an artifact's id is what `b3sum`
//! prints. Writes stream through a fixed buffer into `tmp/`, are fsynced and renamed into place;
//! reads hash what they return and refuse an object whose bytes no longer match its name.

use crate::repo::layout::{OBJECTS, TMP};
use crate::util::fsutil::{
    IoContext, IoError, OpenRefused, failpoint, fsync_dir, open_no_follow, read_file_limited,
};
use crate::util::hash::{CopyError, HashingWriter, copy_hashing, hash_sized};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::format::id::ObjectId;

mod list;
mod stream;
pub use list::{ListError, Listed, Listing, Name};

/// An object written to `tmp/` and hashed, not yet in the store.
#[derive(Debug)]
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    id: ObjectId,
    size: u64,
}

impl Staged {
    /// The id its bytes hash to.
    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// Where its bytes are staged (in `tmp/`), to read them back before committing.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes its bytes to stable storage now, so that committing it later (which syncs it
    /// again) is quick: a writer does this before its commit window, which readers wait for.
    pub fn sync(&self) -> Result<(), StoreError> {
        Ok(self.tmp.as_file().sync_all().ctx("sync", self.tmp.path())?)
    }
}

/// Errors of the object store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O failure, with its path.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The object is not in the store.
    #[error("object {0} is missing from the store")]
    Missing(ObjectId),
    /// The stored bytes no longer hash to the object's name.
    #[error("object {id} is corrupt: its bytes hash to {actual}")]
    Corrupt {
        /// The name of the object.
        id: ObjectId,
        /// What its bytes hash to now.
        actual: ObjectId,
    },
    /// The object is larger than the caller's limit (metadata objects are small).
    #[error("object {id} is larger than the {limit}-byte limit for this kind of object")]
    TooLarge {
        /// The object.
        id: ObjectId,
        /// The limit.
        limit: u64,
    },
    /// An object path is not a regular file (a symlink, a directory, ...).
    #[error("object {0} is not a regular file")]
    NotAFile(ObjectId),
    /// The verified copy could not be written where the caller sends it (a full or read-only
    /// destination): the store is not at fault, and its object is not named as if it were.
    #[error("writing the copy of object {id} failed: {source}")]
    Output {
        /// The object being copied.
        id: ObjectId,
        /// What the destination said.
        #[source]
        source: std::io::Error,
    },
    /// An artifact whose file is not as long as its record states: refused by its size, before
    /// a byte of it is read (a sparse file on the medium announces a TiB at no cost).
    #[error(
        "object {id} is {found} bytes, but its record states {stated}: corrupt (nothing of it was read)"
    )]
    WrongSize {
        /// The object.
        id: ObjectId,
        /// The size its record states.
        stated: u64,
        /// The size of the stored file.
        found: u64,
    },
}

/// The object store under `.registry/objects`, staging in `.registry/tmp`.
#[derive(Debug, Clone)]
pub struct Store {
    objects: PathBuf,
    tmp: PathBuf,
}

impl Store {
    /// The store of the registry directory `dot_registry` (the `.registry` directory itself).
    pub fn new(dot_registry: &Path) -> Self {
        Store {
            objects: dot_registry.join(OBJECTS),
            tmp: dot_registry.join(TMP),
        }
    }

    /// Where the object `id` lives.
    pub fn path(&self, id: &ObjectId) -> PathBuf {
        let h = id.to_string();
        self.objects.join(&h[..2]).join(&h[2..])
    }

    /// The object id a path under `objects/` names (`ab/cdef…`), if it names one.
    pub fn id_of_path(path: &Path) -> Option<ObjectId> {
        let fan = path.parent()?.file_name()?.to_str()?;
        let rest = path.file_name()?.to_str()?;
        if fan.len() != 2 {
            return None;
        }
        format!("{fan}{rest}").parse().ok()
    }

    /// Everything under `objects/`, parents before what they hold, each directory in name order:
    /// fan-out directories, objects, and whatever else is there, named for what it is
    /// ([`Listed`]) with its type from `lstat` (nothing is followed). Nothing misnamed is
    /// skipped: deciding what to do about it is the caller's (fsck reports it, gc stops).
    pub fn list(&self) -> Listing {
        Listing::new(&self.objects)
    }

    /// Whether the object exists (its content is not checked).
    pub fn contains(&self, id: &ObjectId) -> bool {
        fs::symlink_metadata(self.path(id)).is_ok_and(|m| m.is_file())
    }

    /// Streams `reader` into the store, hashing while writing; returns the id and the size.
    ///
    /// The bytes go to a temporary file in `tmp/`, which is fsynced, made read-only and renamed
    /// into place; an object that already exists is left as it is.
    pub fn put(&self, reader: &mut dyn Read) -> Result<(ObjectId, u64), StoreError> {
        let staged = self.stage(reader)?;
        let (id, size) = (staged.id, staged.size);
        self.commit(staged)?;
        Ok((id, size))
    }

    /// Streams `reader` into a temporary file in `tmp/`, hashing while writing, without adding it
    /// to the store yet: [`Store::commit`] does that once the caller has checked the id. Dropping
    /// the [`Staged`] value deletes the file.
    pub fn stage(&self, reader: &mut dyn Read) -> Result<Staged, StoreError> {
        let mut tmp = self.staging_file()?;
        let path = tmp.path().to_path_buf();
        let (hash, size) =
            copy_hashing(reader, tmp.as_file_mut()).map_err(|e| staging_error(&path, e))?;
        failpoint("put:after-write");
        Ok(Staged {
            tmp,
            id: ObjectId::from_hash(hash),
            size,
        })
    }

    /// Stages what `fill` writes, for sources that push bytes into a writer rather than being
    /// read (a transfer file's frame, another store's verified copy). The bytes are hashed here
    /// whatever `fill` checked, so the [`Staged`] id is always what the file holds. The outer
    /// error is this store's (writing to `tmp/` failed); the inner one is `fill`'s own, the
    /// staged file then dropped.
    pub fn stage_from<E>(
        &self,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Result<Staged, E>, StoreError> {
        let mut tmp = self.staging_file()?;
        let path = tmp.path().to_path_buf();
        let mut w = HashingWriter::new(tmp.as_file_mut());
        let filled = fill(&mut w);
        if let Some(e) = w.take_error() {
            return Err(IoError::from_source("write", &path, e).into());
        }
        let (id, size) = (ObjectId::from_hash(w.hash()), w.written());
        if let Err(e) = filled {
            return Ok(Err(e));
        }
        failpoint("put:after-write");
        Ok(Ok(Staged { tmp, id, size }))
    }

    /// Like [`Store::stage`], for large inputs (`reg add`'s artifacts): the bytes are hashed on
    /// every core and written (and fsynced, written back as they come) on other threads, so that
    /// reading, hashing and writing to the disk overlap (see `stream`).
    pub fn stage_large(&self, reader: &mut dyn Read) -> Result<Staged, StoreError> {
        let tmp = self.staging_file()?;
        let path = tmp.path().to_path_buf();
        let file = tmp.reopen().ctx("open", &path)?;
        let (hash, size) =
            stream::copy_to_file(reader, file).map_err(|e| staging_error(&path, e))?;
        failpoint("put:after-write");
        Ok(Staged {
            tmp,
            id: ObjectId::from_hash(hash),
            size,
        })
    }

    /// A new file in `tmp/`, locked for as long as it is open: `reg gc`, which removes staging
    /// leftovers, leaves a locked file alone (it belongs to a live writer), and the lock goes
    /// with the process, so a killed writer's leftovers are collected.
    pub(in crate::repo) fn staging_file(&self) -> Result<tempfile::NamedTempFile, StoreError> {
        let tmp = tempfile::Builder::new()
            .prefix("object-")
            .tempfile_in(&self.tmp)
            .ctx("create temporary file in", &self.tmp)?;
        tmp.as_file().lock().ctx("lock", tmp.path())?;
        Ok(tmp)
    }

    /// Moves a staged object into the store (fsync, read-only, rename, directory fsync).
    pub fn commit(&self, staged: Staged) -> Result<ObjectId, StoreError> {
        let id = staged.id;
        self.persist(staged.tmp, &id)?;
        Ok(id)
    }

    /// Moves a file staged and closed earlier (a transfer's object, hashed as it was received,
    /// FORMAT.md §11.8) into the store as object `id`, exactly as [`Store::commit`] does: a
    /// staged object holds no descriptor while it waits, so that a transfer of millions of
    /// objects does not run out of them.
    pub(in crate::repo) fn commit_path(
        &self,
        path: tempfile::TempPath,
        id: &ObjectId,
    ) -> Result<(), StoreError> {
        let file = fs::OpenOptions::new()
            .read(true)
            .open(&path)
            .ctx("open", &path)?;
        self.persist(tempfile::NamedTempFile::from_parts(file, path), id)
    }

    /// Stores a small in-memory object (a signed entry, a record).
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<ObjectId, StoreError> {
        Ok(self.put(&mut &bytes[..])?.0)
    }

    /// Puts a staged object in the place of a missing, corrupt or non-regular one (a repair from
    /// verified bytes); returns whether it did. An intact object is left as it is.
    pub fn restore(&self, staged: Staged) -> Result<bool, StoreError> {
        let id = staged.id;
        match self.copy_verified(&id, &mut io::sink()) {
            Ok(_) => return Ok(false),
            Err(StoreError::Missing(_) | StoreError::Corrupt { .. } | StoreError::NotAFile(_)) => {}
            Err(e) => return Err(e),
        }
        // The rename replaces a damaged file or a link (never followed) in one step.
        self.place(staged.tmp, &id)?;
        Ok(true)
    }

    fn persist(&self, tmp: tempfile::NamedTempFile, id: &ObjectId) -> Result<(), StoreError> {
        // Content addressing: an intact object at this name holds these very bytes, and is never
        // rewritten. But a file planted at the name of an object about to be written (its id is
        // predictable from a bundle) is not trusted: it is hashed, and replaced by the verified
        // bytes in hand unless it is intact, so a write never leaves a corrupt object behind.
        if self.contains(id) {
            match self.copy_verified(id, &mut io::sink()) {
                Ok(_) => return Ok(()),
                Err(
                    StoreError::Missing(_) | StoreError::Corrupt { .. } | StoreError::NotAFile(_),
                ) => {}
                Err(e) => return Err(e),
            }
        }
        self.place(tmp, id)
    }

    /// Syncs a staged file, makes it read-only and renames it to the object's path.
    fn place(&self, tmp: tempfile::NamedTempFile, id: &ObjectId) -> Result<(), StoreError> {
        let dest = self.path(id);
        tmp.as_file().sync_all().ctx("sync", tmp.path())?;
        // Objects are immutable: read-only for everyone (0444), readable by consumers running
        // as other users.
        #[cfg(unix)]
        let perms = {
            use std::os::unix::fs::PermissionsExt as _;
            fs::Permissions::from_mode(0o444)
        };
        #[cfg(not(unix))]
        let perms = {
            let mut p = tmp
                .as_file()
                .metadata()
                .ctx("stat", tmp.path())?
                .permissions();
            p.set_readonly(true);
            p
        };
        fs::set_permissions(tmp.path(), perms).ctx("make read-only", tmp.path())?;
        let fan = dest.parent().unwrap_or(&self.objects).to_path_buf();
        let created = !fan.exists();
        if created {
            fs::create_dir_all(&fan).ctx("create directory", &fan)?;
        }
        failpoint("put:before-rename");
        tmp.persist(&dest)
            .map_err(|e| e.error)
            .ctx("rename into place", &dest)?;
        fsync_dir(&fan)?;
        if created {
            fsync_dir(&self.objects)?;
        }
        failpoint("put:after-rename");
        Ok(())
    }

    /// Reads a whole (small) object and checks that it hashes to its id.
    pub fn get(&self, id: &ObjectId, limit: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.path(id);
        let file = self.open_object(id, &path)?;
        let bytes = read_file_limited(&file, &path, limit)?
            .ok_or(StoreError::TooLarge { id: *id, limit })?;
        let actual = ObjectId::of(&bytes);
        if actual != *id {
            return Err(StoreError::Corrupt { id: *id, actual });
        }
        Ok(bytes)
    }

    /// Opens an object for reading, refusing anything but a regular file (never a symlink).
    /// [`Store::open_object`] and its length, refused by its length before a byte is read when the record
    /// states a `size` the file does not have.
    fn open_sized(
        &self,
        id: &ObjectId,
        path: &Path,
        size: Option<u64>,
    ) -> Result<(File, u64), StoreError> {
        let file = self.open_object(id, path)?;
        let len = file.metadata().ctx("stat", path)?.len();
        if let Some(stated) = size
            && stated != len
        {
            return Err(StoreError::WrongSize {
                id: *id,
                stated,
                found: len,
            });
        }
        Ok((file, len))
    }

    fn open_object(&self, id: &ObjectId, path: &Path) -> Result<File, StoreError> {
        match open_no_follow(path, fs::OpenOptions::new().read(true)) {
            Ok(file) => Ok(file),
            Err(OpenRefused::Open(e)) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::Missing(*id))
            }
            Err(OpenRefused::NotRegular(_)) => Err(StoreError::NotAFile(*id)),
            Err(OpenRefused::Open(e)) => Err(IoError::from_source("open", path, e).into()),
            Err(OpenRefused::Stat(e)) => Err(IoError::from_source("stat", path, e).into()),
        }
    }

    /// Hashes an object (never through a link) and fails if it does not hash to its id, or if it
    /// was cut short or written while it was hashed; returns its size. Mapped and hashed on
    /// every core ([`crate::util::hash::hash_file`]): fsck, `reg verify` and repair's checks.
    pub fn verify(&self, id: &ObjectId) -> Result<u64, StoreError> {
        self.verify_sized(id, None)
    }

    /// [`Store::verify`] of an artifact whose record states its `size`: a file of another size
    /// is refused by its length before a byte is read.
    pub fn verify_sized(&self, id: &ObjectId, size: Option<u64>) -> Result<u64, StoreError> {
        let path = self.path(id);
        let (file, _) = self.open_sized(id, &path, size)?;
        let (hash, size) = crate::util::hash::hash_file(&file, &|_| {}).ctx("read", &path)?;
        let actual = ObjectId::from_hash(hash);
        if actual != *id {
            return Err(StoreError::Corrupt { id: *id, actual });
        }
        Ok(size)
    }

    /// Streams an object into `out`, hashing as it goes, and fails if it does not hash to its id.
    ///
    /// The caller must treat what it wrote as untrusted until this returns `Ok` (write to a
    /// temporary place, publish after).
    pub fn copy_verified(&self, id: &ObjectId, out: &mut dyn Write) -> Result<u64, StoreError> {
        self.copy_verified_sized(id, None, out)
    }

    /// [`Store::copy_verified`] of an artifact whose record states its `size`: a file of another
    /// size is refused by its length before a byte is read or written (FORMAT.md §11.7's rule for
    /// frames, for the store a medium carries).
    pub fn copy_verified_sized(
        &self,
        id: &ObjectId,
        size: Option<u64>,
        out: &mut dyn Write,
    ) -> Result<u64, StoreError> {
        let path = self.path(id);
        let (mut file, len) = self.open_sized(id, &path, size)?;
        let (hash, size) = hash_sized(&mut file, len, out).map_err(|e| match e {
            CopyError::Read(e) => IoError::from_source("read", &path, e).into(),
            CopyError::Write(e) => StoreError::Output { id: *id, source: e },
        })?;
        let actual = ObjectId::from_hash(hash);
        if actual != *id {
            return Err(StoreError::Corrupt { id: *id, actual });
        }
        Ok(size)
    }
}

/// A failure staging into `path`: reading the input, or writing the staging file.
fn staging_error(path: &Path, e: CopyError) -> IoError {
    match e {
        CopyError::Read(e) => IoError::from_source("read input for", path, e),
        CopyError::Write(e) => IoError::from_source("write", path, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::hash::{BUF_SIZE, PARALLEL_FROM};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("objects")).unwrap();
        fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let s = Store::new(dir.path());
        (dir, s)
    }

    #[test]
    fn a_staged_file_is_locked_while_it_is_staged() {
        let (_d, s) = store();
        let staged = s.stage(&mut &b"bytes being staged"[..]).unwrap();
        // What gc does with a file in tmp/: another open file description tries the lock.
        let other = fs::File::open(staged.tmp.path()).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        let path = staged.tmp.path().to_path_buf();
        drop(staged);
        assert!(!path.exists(), "a dropped stage leaves nothing");
        let large = s.stage_large(&mut &vec![7u8; 1 << 20][..]).unwrap();
        let other = fs::File::open(large.tmp.path()).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
    }

    #[test]
    fn stage_from_hashes_what_was_written_and_keeps_the_filler_error_apart() {
        let (_d, s) = store();
        let staged = s
            .stage_from(|w| w.write_all(b"pushed bytes").map_err(|_| "no"))
            .unwrap()
            .unwrap();
        assert_eq!(staged.id(), ObjectId::of(b"pushed bytes"));
        assert_eq!(staged.size(), 12);
        let refused = s.stage_from(|w| {
            w.write_all(b"half")?;
            Err::<(), io::Error>(io::Error::other("the source broke"))
        });
        assert_eq!(
            refused.unwrap().unwrap_err().to_string(),
            "the source broke"
        );
        drop(staged);
        assert_eq!(
            fs::read_dir(&s.tmp).unwrap().count(),
            0,
            "nothing staged stays"
        );
    }

    #[test]
    fn id_is_plain_blake3_of_the_bytes() {
        // BLAKE3 of the empty input, as b3sum prints it.
        assert_eq!(
            ObjectId::of(b"").to_string(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn put_streams_and_get_verifies() {
        let (_d, s) = store();
        let data = vec![7u8; 3 * BUF_SIZE + 5];
        let (id, size) = s.put(&mut &data[..]).unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(id, ObjectId::of(&data));
        assert_eq!(s.get(&id, u64::MAX).unwrap(), data);
        let mode = fs::metadata(s.path(&id)).unwrap().permissions();
        assert!(mode.readonly());
        // Same bytes again: same id, nothing rewritten, tmp left empty.
        let (again, _) = s.put(&mut &data[..]).unwrap();
        assert_eq!(again, id);
        assert_eq!(fs::read_dir(&s.tmp).unwrap().count(), 0);
    }

    #[test]
    fn a_changed_object_is_corrupt_and_named() {
        let (_d, s) = store();
        let id = s.put_bytes(b"hello").unwrap();
        let p = s.path(&id);
        let mut perms = fs::metadata(&p).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&p, perms).unwrap();
        fs::write(&p, b"hellO").unwrap();
        let err = s.get(&id, 100).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { id: i, .. } if i == id));
        assert!(err.to_string().contains(&id.to_string()));
        let mut sink = Vec::new();
        assert!(matches!(
            s.copy_verified(&id, &mut sink),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn large_objects_are_hashed_in_parallel_to_the_same_id() {
        let (_d, s) = store();
        let data: Vec<u8> = (0..(PARALLEL_FROM as usize + 3 * 1024 * 1024 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        let (id, _) = s.put(&mut &data[..]).unwrap();
        assert_eq!(id, ObjectId::of(&data));
        let mut copy = Vec::new();
        assert_eq!(s.copy_verified(&id, &mut copy).unwrap(), data.len() as u64);
        assert_eq!(copy, data);
    }

    #[test]
    fn paths_and_ids_round_trip() {
        let (_d, s) = store();
        let id = ObjectId::of(b"x");
        assert_eq!(Store::id_of_path(&s.path(&id)), Some(id));
        assert_eq!(Store::id_of_path(Path::new("objects/abc/def")), None);
        assert_eq!(Store::id_of_path(Path::new("objects/ab/xyz")), None);
    }

    #[test]
    fn missing_and_parse() {
        let (_d, s) = store();
        let id = ObjectId::of(b"x");
        assert!(matches!(s.get(&id, 10), Err(StoreError::Missing(_))));
        assert_eq!(id.to_string().parse::<ObjectId>().unwrap(), id);
        assert!("ABC".parse::<ObjectId>().is_err());
        assert!(id.to_string().to_uppercase().parse::<ObjectId>().is_err());
    }
}
