//! One committed state for every reader (FORMAT.md §6, "Readers and writers").
//!
//! A commit changes several files one after another: objects, the index, the ledger, the
//! checkpoint, the refs; a purge then deletes bytes, and gc deletes files and rewrites refs.
//! Each step keeps the registry valid for a crash, but not for a reader that reads meanwhile:
//! a `reg fsck` that replays the ledger of one commit and lists the refs of the next reports a
//! ref of no registered model. So readers and writers lock the `.registry` directory itself
//! (`flock`):
//!
//! - a reader holds it shared while it reads ([`ReadLock`]): readers never wait for each other;
//! - a writer holds it alone only in its commit window ([`CommitWindow`]), from the first change
//!   a reader could see to the last; not while it stages a bundle or a transfer file, replays the
//!   ledger or reads its input, which can take long and happens under the writer lock (`lock`,
//!   always taken first: only its holder opens a commit window).
//!
//! Why the directory and not `lock`: a writer holds `lock` for its whole transaction, so readers
//! sharing it would wait for all of it; and every reader can open the directory read-only (it
//! lists it anyway), on a write-protected medium and as a user who may not write to it.
//!
//! Waits. A reader waits for a commit window at most the lock timeout, then fails as busy:
//! windows last milliseconds (a gc that deletes many files, longer). A writer waits for the
//! readers in progress without a limit: it has done its work by then, and no reader waits for
//! anything a writer holds (a reader takes no other registry lock; the host record's lock it may
//! take is taken by writers only inside their window), so the wait ends when the readers do.
//!
//! A reader on a file system that cannot lock (an error other than contention) reads anyway
//! only if that file system is mounted read-only, where nobody can be committing; otherwise it
//! fails closed. Older versions of reg take no part: their readers are not protected and their
//! commits not waited for, but writers of every version still exclude each other through `lock`.

use super::{Registry, RegistryError};
use crate::repo::layout::LOCK;
use crate::util::fsutil::open_regular_rw;
use std::cell::Cell;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often a reader looks again while a commit is in progress.
const POLL: Duration = Duration::from_millis(5);

thread_local! {
    /// The read locks this thread holds: a commit window this thread opened would wait for them
    /// forever.
    static HELD: Cell<usize> = const { Cell::new(0) };
}

/// A reader's shared hold on a registry: while it lives no writer is in its commit window, so
/// everything read is of one committed state. Dropping it releases it.
#[derive(Debug)]
pub struct ReadLock {
    /// `None` on a read-only file system that cannot lock, where nobody can be writing.
    _dir: Option<File>,
}

impl Drop for ReadLock {
    fn drop(&mut self) {
        drop(self._dir.take());
        HELD.with(|h| h.set(h.get().saturating_sub(1)));
        // Tests pause a reader here, its lock released, to commit between two of its reads.
        crate::util::fsutil::failpoint("read:released");
    }
}

/// A writer's exclusive hold for its commit window; dropping it lets readers in again.
#[derive(Debug)]
pub struct CommitWindow {
    _dir: File,
}

/// Opens the `.registry` directory itself, read-only, never through a link.
fn open_dir(dot: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY);
    }
    opts.open(dot)
}

/// What a reader that cannot lock is told.
fn unreadable(dot: &Path, source: std::io::Error) -> RegistryError {
    RegistryError::Unlockable {
        path: dot.to_path_buf(),
        what: "to read it",
        source,
    }
}

/// What a writer that cannot open its commit window is told.
fn uncommittable(dot: &Path, source: std::io::Error) -> RegistryError {
    RegistryError::Unlockable {
        path: dot.to_path_buf(),
        what: "to commit",
        source,
    }
}

/// Takes the readers' shared lock on the registry directory `dot`, waiting at most `timeout`
/// for a commit in progress.
pub(crate) fn read_lock(dot: &Path, timeout: Duration) -> Result<ReadLock, RegistryError> {
    let mut dir = open_dir(dot).map_err(|e| unreadable(dot, e))?;
    let start = Instant::now();
    let dir = loop {
        match dir.try_lock_shared() {
            // The directory was swapped meanwhile (a reset, FORMAT.md §11.14): the lock is on
            // the old one and protects nothing read through `dot`. Lock the one there now.
            Ok(()) if !crate::util::fsutil::still_at(&dir, dot) => {
                drop(dir);
                dir = open_dir(dot).map_err(|e| unreadable(dot, e))?;
            }
            Ok(()) => break Some(dir),
            Err(TryLockError::WouldBlock) if start.elapsed() < timeout => {
                std::thread::sleep(POLL);
            }
            Err(TryLockError::WouldBlock) => {
                return Err(RegistryError::Busy(dot.to_path_buf(), timeout.as_secs()));
            }
            Err(TryLockError::Error(_)) if read_only(dot) => break None,
            Err(TryLockError::Error(e)) => return Err(unreadable(dot, e)),
        }
    };
    HELD.with(|h| h.set(h.get() + 1));
    Ok(ReadLock { _dir: dir })
}

/// Whether the file system holding the registry `dot` is mounted read-only, so that nobody can
/// be committing to it. Asked by opening the writers' lock file for writing, which writes
/// nothing.
fn read_only(dot: &Path) -> bool {
    matches!(open_regular_rw(&dot.join(LOCK), false),
        Err(e) if e.source.kind() == ErrorKind::ReadOnlyFilesystem)
}

/// Opens the commit window of the registry directory `dot`: waits for the readers in progress
/// (without a limit, see the module's documentation), then keeps new ones out until dropped.
/// Only the holder of the writer lock calls it.
pub(in crate::repo) fn commit_window(dot: &Path) -> Result<CommitWindow, RegistryError> {
    debug_assert_eq!(
        HELD.with(Cell::get),
        0,
        "a thread holding a read lock opened a commit window, which would wait for it forever"
    );
    let dir = open_dir(dot).map_err(|e| uncommittable(dot, e))?;
    match dir.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let _task = crate::util::progress::task("waiting for readers of the registry", None);
            loop {
                match dir.lock() {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(uncommittable(dot, e)),
                }
            }
        }
        Err(TryLockError::Error(e)) => return Err(uncommittable(dot, e)),
    }
    Ok(CommitWindow { _dir: dir })
}

impl Registry {
    /// Holds the readers' lock while the returned value lives, so that everything read meanwhile
    /// is of one committed state; waits at most the lock timeout for a commit in progress.
    ///
    /// [`Registry::state`] and [`Registry::verify`] take it for their own reads; a caller that
    /// reads more than one thing (a state, then the artifacts it names) holds it across all of
    /// them. Never across a write by the same thread: the commit would wait for it.
    pub fn read_lock(&self) -> Result<ReadLock, RegistryError> {
        read_lock(&self.dot, self.lock_timeout)
    }

    /// Opens this registry's commit window ([`commit_window`]).
    pub(in crate::repo) fn commit_window(&self) -> Result<CommitWindow, RegistryError> {
        commit_window(&self.dot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::sync::mpsc;

    /// Opens a commit window on another thread; the receiver says when it is open, and the
    /// window closes when `close` is sent.
    fn window_on_another_thread(
        dot: &Path,
    ) -> (
        mpsc::Receiver<()>,
        mpsc::Sender<()>,
        std::thread::JoinHandle<()>,
    ) {
        let (opened_tx, opened) = mpsc::channel();
        let (close, close_rx) = mpsc::channel::<()>();
        let dot = dot.to_path_buf();
        let t = std::thread::spawn(move || {
            let _w = commit_window(&dot).unwrap();
            opened_tx.send(()).unwrap();
            let _ = close_rx.recv();
        });
        (opened, close, t)
    }

    #[test]
    fn readers_share_the_lock_and_a_window_waits_for_them_all() {
        let t = tempfile::tempdir().unwrap();
        let second = Duration::from_secs(1);
        let r1 = read_lock(t.path(), second).unwrap();
        let r2 = read_lock(t.path(), second).unwrap();
        let (opened, close, th) = window_on_another_thread(t.path());
        assert!(opened.recv_timeout(Duration::from_millis(200)).is_err());
        drop(r1);
        assert!(opened.recv_timeout(Duration::from_millis(200)).is_err());
        drop(r2);
        opened.recv_timeout(Duration::from_secs(10)).unwrap();
        close.send(()).unwrap();
        th.join().unwrap();
    }

    #[test]
    fn a_reader_waits_for_a_window_at_most_its_timeout() {
        let t = tempfile::tempdir().unwrap();
        let (opened, close, th) = window_on_another_thread(t.path());
        opened.recv().unwrap();
        let e = read_lock(t.path(), Duration::ZERO).unwrap_err();
        assert!(
            matches!(&e, RegistryError::Busy(p, 0) if p == t.path()),
            "{e}"
        );
        close.send(()).unwrap();
        th.join().unwrap();
        read_lock(t.path(), Duration::ZERO).unwrap();
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "would wait for it forever")]
    fn a_thread_holding_a_read_lock_never_opens_a_commit_window() {
        let t = tempfile::tempdir().unwrap();
        let _r = read_lock(t.path(), Duration::ZERO).unwrap();
        let _ = commit_window(t.path());
    }

    #[test]
    fn a_lock_taken_on_a_directory_swapped_since_is_detected() {
        let t = tempfile::tempdir().unwrap();
        let dot = t.path().join(".registry");
        fs::create_dir(&dot).unwrap();
        let held = open_dir(&dot).unwrap();
        held.try_lock_shared().unwrap();
        assert!(crate::util::fsutil::still_at(&held, &dot));
        // A reset swaps the directory: the lock is on the one moved away.
        fs::rename(&dot, t.path().join("old")).unwrap();
        fs::create_dir(&dot).unwrap();
        assert!(!crate::util::fsutil::still_at(&held, &dot));
        assert!(crate::util::fsutil::still_at(&held, &t.path().join("old")));
        // Gone altogether: not still there either.
        fs::remove_dir(&dot).unwrap();
        assert!(!crate::util::fsutil::still_at(&held, &dot));
    }

    #[test]
    fn a_link_in_place_of_the_registry_directory_is_not_locked_through() {
        let t = tempfile::tempdir().unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(t.path(), &link).unwrap();
        let e = read_lock(&link, Duration::ZERO).unwrap_err();
        assert!(matches!(e, RegistryError::Unlockable { .. }), "{e}");
        assert!(!read_only(t.path()));
    }
}
