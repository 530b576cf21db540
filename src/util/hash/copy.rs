//! The private copy the load gate's `open_verified` (`crate::gate`) hands back, and the hash the gate decides
//! on, which is the hash of that copy's bytes and of nothing else.
//!
//! The copy costs what `reg check` does (read and hash every byte) plus writing every byte into
//! a new file; on one thread, hashing and then writing each block, that took two to four times
//! as long as `reg check`. So the work is split over both cores:
//!
//! - **In the kernel** (`copy_file_range`, the fast path, when the temporary directory is on the
//!   file's filesystem): one thread has the kernel copy the source into the copy, 4 MiB at a
//!   time, without passing the bytes through this process; this thread reads *the copy* behind
//!   it (`pread`) and hashes what it read, on every core. What is hashed is what the copy holds,
//!   read back from it up to its end (the reads go on past the last reported byte until they
//!   find the end of the file), so a source that grows, shrinks or changes while it is copied
//!   changes what the copy holds, never the match between copy and hash. A copy shorter than
//!   the kernel reported (only a process of the same user, through `/proc/PID/fd`, can touch
//!   the unlinked copy) fails the copy.
//! - **Through this process** (when the kernel cannot copy the pair: another filesystem, a file
//!   it does not support): a reader fills 4 MiB blocks from the source, this thread hashes each,
//!   a writer appends it to the copy. A block is one owned buffer moved from reader to hasher to
//!   writer, and only then back to the reader, through FIFO channels, so the copy is exactly
//!   the hashed blocks in hash order; the hash is final only after the writer reported every
//!   block written.
//!
//! The kernel's way hashes *the copy* mapped ([`super::map`]: a copy cut short while it is
//! hashed is told by the mapping, never a SIGBUS that kills), or read where it cannot be mapped;
//! the way through this process hashes the very buffers it writes. The source itself
//! is never mapped to feed the copy: the bytes written from a mapping could differ from the bytes
//! hashed from it if a writer changed the source in between (a writer through its own mapping
//! may not even move the file's times), and the copy must hold exactly what was hashed. Every error (a read, a write, a thread that stopped) fails the copy, and the
//! gate decides on nothing. A reflink (`FICLONE`) is not tried: it needs the copy on the
//! source's filesystem as a named file, and the copy must never be visible.

use super::{BLOCK, CopyError, DEPTH, read_blocks};
use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};

/// How much the kernel copies per call: the hasher follows the copier in steps of this size.
const CHUNK: usize = 4 << 20;

/// Copies what `source` yields (from its current position) to `copy`, a new empty file, and
/// returns the BLAKE3 of exactly the bytes the copy holds.
pub fn copy_file_hashing(source: &mut File, copy: &mut File) -> Result<blake3::Hash, CopyError> {
    match kernel_copy_hashing(source, copy)? {
        Some(id) => Ok(id),
        None => piped_copy_hashing(source, copy),
    }
}

/// The fast path: the kernel copies, this thread hashes the copy behind it. `None` when the
/// kernel cannot copy this pair (or copied nothing on its first call): then nothing was copied
/// and neither file's position moved, and the bytes go through this process instead.
fn kernel_copy_hashing(source: &File, copy: &File) -> Result<Option<blake3::Hash>, CopyError> {
    let mut end = 0u64;
    // The first call decides: a file the kernel says is empty is read the ordinary way too, in
    // case its filesystem does not report its contents to `copy_file_range`.
    match kernel_copy(source, copy, &mut end) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e) if unsupported(&e) => return Ok(None),
        Err(e) => return Err(kernel_error(e)),
    }
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; BLOCK];
    let mut hashed = 0u64;
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<io::Result<u64>>(4 * DEPTH);
        let first = end;
        scope.spawn(move || {
            let mut end = first;
            loop {
                match kernel_copy(source, copy, &mut end) {
                    Ok(0) => return,
                    Ok(_) => {
                        if tx.send(Ok(end)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        hash_copy(copy, &mut hasher, &mut buf, &mut hashed, Some(first))?;
        // A broken loop (an error) drops `rx`, which stops the copier at its next step.
        for copied in rx {
            let copied = copied.map_err(kernel_error)?;
            hash_copy(copy, &mut hasher, &mut buf, &mut hashed, Some(copied))?;
        }
        // The copier is done: the rest of the copy, if it holds more, to its end.
        hash_copy(copy, &mut hasher, &mut buf, &mut hashed, None)
    })?;
    Ok(Some(hasher.finalize()))
}

/// One `copy_file_range` step from the source's position to the copy at `end`, which it
/// advances; retried when interrupted. `Ok(0)` at the end of the source.
fn kernel_copy(source: &File, copy: &File, end: &mut u64) -> io::Result<usize> {
    loop {
        match rustix::fs::copy_file_range(source, None, copy, Some(&mut *end), CHUNK) {
            Err(rustix::io::Errno::INTR) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
}

/// Whether the kernel refuses to copy this pair at all (so the copy is made through this process).
fn unsupported(e: &io::Error) -> bool {
    use rustix::io::Errno;
    let errno = Errno::from_io_error(e);
    [Errno::XDEV, Errno::INVAL, Errno::NOSYS, Errno::OPNOTSUPP]
        .iter()
        .any(|u| errno == Some(*u))
}

/// A failed kernel copy, told as a failure to write the copy when it is one (no space, too
/// large) and as one to read the source otherwise.
fn kernel_error(e: io::Error) -> CopyError {
    use rustix::io::Errno;
    match Errno::from_io_error(&e) {
        Some(Errno::NOSPC | Errno::DQUOT | Errno::FBIG) => CopyError::Write(e),
        _ => CopyError::Read(e),
    }
}

/// Hashes the copy from `hashed` to `to` (to its end when `None`), in blocks hashed on every
/// core. The copy ending before `to` means it was cut after the kernel wrote it: that fails.
fn hash_copy(
    copy: &File,
    hasher: &mut blake3::Hasher,
    buf: &mut [u8],
    hashed: &mut u64,
    to: Option<u64>,
) -> Result<(), CopyError> {
    use std::os::unix::fs::FileExt as _;
    // Mapped when it can be (no copy of the bytes out of the page cache): the copy's bytes from
    // `hashed` to `to`, or to its end as it is now.
    let upto = match to {
        Some(to) => Some(to),
        None => copy.metadata().ok().map(|m| m.len()),
    };
    if let Some(upto) = upto.filter(|&u| u > *hashed)
        && let Ok(n) = usize::try_from(upto - *hashed)
        && let Some(m) = super::map::Map::new(copy, *hashed, n)
    {
        crate::util::parallel::hash_into(hasher, m.bytes());
        // Past a new end within its last page a mapping reads zeros without a fault: the
        // length after hashing tells that cut.
        let cut = copy.metadata().map_or(true, |m| m.len() < upto);
        if m.faulted() || cut {
            return Err(CopyError::Write(io::Error::other(
                "the private copy was cut short while it was hashed",
            )));
        }
        *hashed = upto;
        if to.is_some() {
            return Ok(());
        }
        // To its end: anything it grew by meanwhile is read below.
    }
    loop {
        let want = match to {
            Some(to) if *hashed >= to => return Ok(()),
            Some(to) => buf
                .len()
                .min(usize::try_from(to - *hashed).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let mut n = 0;
        while n < want {
            match copy.read_at(&mut buf[n..want], *hashed + n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CopyError::Write(e)),
            }
        }
        crate::util::parallel::hash_into(hasher, &buf[..n]);
        *hashed += n as u64;
        if n < want {
            return match to {
                None => Ok(()),
                Some(_) => Err(CopyError::Write(io::Error::other(
                    "the private copy was cut short while it was hashed",
                ))),
            };
        }
    }
}

/// The way through this process: reader, hasher and writer threads (see the module's doc).
fn piped_copy_hashing(source: &mut File, copy: &mut File) -> Result<blake3::Hash, CopyError> {
    let mut hasher = blake3::Hasher::new();
    std::thread::scope(|scope| {
        let (pool_tx, pool_rx) = channel::<Vec<u8>>();
        let (read_tx, read_rx) = sync_channel::<io::Result<Vec<u8>>>(DEPTH);
        let (write_tx, write_rx) = sync_channel::<Vec<u8>>(DEPTH);
        scope.spawn(move || read_blocks(source, &read_tx, &pool_rx));
        let writer = scope.spawn(move || write_blocks(copy, write_rx, &pool_tx));
        let mut failed = None;
        // Ends when the reader sends its last (short) block and hangs up, or on an error; a
        // broken loop drops `read_rx`, which stops the reader at its next send.
        for block in read_rx {
            let block = match block {
                Ok(block) => block,
                Err(e) => {
                    failed = Some(CopyError::Read(e));
                    break;
                }
            };
            crate::util::parallel::hash_into(&mut hasher, &block);
            if write_tx.send(block).is_err() {
                break; // the writer stopped on an error: joined below
            }
        }
        drop(write_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread stopped")));
        match (failed, written) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(CopyError::Write(e)),
            (None, Ok(())) => Ok(hasher.finalize()),
        }
    })
}

/// The writer: every hashed block, in order, then the buffer back to the reader.
fn write_blocks(copy: &mut File, rx: Receiver<Vec<u8>>, pool: &Sender<Vec<u8>>) -> io::Result<()> {
    for block in rx {
        copy.write_all(&block)?;
        let _ = pool.send(block);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Seek, SeekFrom};

    type Engine = fn(&mut File, &mut File) -> Result<blake3::Hash, CopyError>;

    /// Both ways of copying: the public one (the kernel's, for files in the temporary
    /// directory's filesystem, as here) and the one through this process.
    const ENGINES: [(&str, Engine); 2] =
        [("kernel", copy_file_hashing), ("piped", piped_copy_hashing)];

    /// The copy's bytes and the hash the engine returned for them.
    fn copied(engine: Engine, source: &std::path::Path) -> (blake3::Hash, Vec<u8>) {
        let mut src = File::open(source).unwrap();
        let mut copy = tempfile::tempfile().unwrap();
        let id = engine(&mut src, &mut copy).unwrap();
        copy.seek(SeekFrom::Start(0)).unwrap();
        let mut bytes = Vec::new();
        copy.read_to_end(&mut bytes).unwrap();
        (id, bytes)
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn the_copy_is_the_source_and_its_hash_for_every_size_around_a_block() {
        let dir = tempfile::tempdir().unwrap();
        for (name, engine) in ENGINES {
            for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 12345] {
                let path = dir.path().join("f");
                let bytes = pattern(len, 7);
                std::fs::write(&path, &bytes).unwrap();
                let (id, copy) = copied(engine, &path);
                assert!(copy == bytes, "{name}, length {len}");
                assert_eq!(id, blake3::hash(&bytes), "{name} {len}");
            }
        }
    }

    /// The tests above do exercise the kernel's copy (the temporary directory holds both files).
    #[test]
    fn the_kernel_copies_within_the_temporary_directorys_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, pattern(BLOCK + 9, 2)).unwrap();
        let id = kernel_copy_hashing(&File::open(&path).unwrap(), &tempfile::tempfile().unwrap())
            .unwrap();
        assert_eq!(id, Some(blake3::hash(&pattern(BLOCK + 9, 2))));
    }

    /// A writer appending, rewriting and truncating the source while it is copied: whatever was
    /// read, the hash is that of the copy, byte for byte, and nothing fails.
    #[test]
    fn a_source_growing_shrinking_and_changing_while_copied_hashes_to_its_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moving");
        std::fs::write(&path, pattern(6 * BLOCK, 1)).unwrap();
        for round in 0..6u8 {
            let (name, engine) = ENGINES[usize::from(round % 2)];
            let stop = std::sync::atomic::AtomicBool::new(false);
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                    let mut i = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        i += 1;
                        match (u64::from(round) + i) % 3 {
                            0 => f.set_len((i % 7) * BLOCK as u64 + i).unwrap(),
                            1 => {
                                f.seek(SeekFrom::End(0)).unwrap();
                                f.write_all(&pattern(BLOCK / 3, i as u8)).unwrap();
                            }
                            _ => {
                                f.seek(SeekFrom::Start((i % 5) * BLOCK as u64)).unwrap();
                                f.write_all(&pattern(BLOCK / 2, i as u8)).unwrap();
                            }
                        }
                    }
                });
                for _ in 0..4 {
                    let (id, copy) = copied(engine, &path);
                    assert_eq!(id, blake3::hash(&copy), "{name}");
                }
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            });
        }
    }

    /// Truncated after it was opened: the copy is what the descriptor yields when read.
    #[test]
    fn a_source_truncated_after_it_was_opened_copies_what_remains() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shrinks");
        for (name, engine) in ENGINES {
            std::fs::write(&path, pattern(3 * BLOCK, 3)).unwrap();
            let mut src = File::open(&path).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(BLOCK as u64 + 5)
                .unwrap();
            let mut copy = tempfile::tempfile().unwrap();
            let id = engine(&mut src, &mut copy).unwrap();
            let expect = pattern(3 * BLOCK, 3)[..BLOCK + 5].to_vec();
            assert_eq!(id, blake3::hash(&expect), "{name}");
            assert_eq!(
                copy.metadata().unwrap().len(),
                expect.len() as u64,
                "{name}"
            );
        }
    }

    /// A copy that holds less than the kernel said it wrote (cut by someone else) fails.
    #[test]
    fn a_copy_cut_short_while_hashed_fails() {
        let mut copy = tempfile::tempfile().unwrap();
        copy.write_all(&pattern(1000, 4)).unwrap();
        let mut hashed = 0;
        let r = hash_copy(
            &copy,
            &mut blake3::Hasher::new(),
            &mut vec![0u8; BLOCK],
            &mut hashed,
            Some(2000),
        );
        assert!(matches!(r, Err(CopyError::Write(_))));
    }

    /// A source that cannot be read (a directory opened as a file) fails the copy.
    #[test]
    fn a_read_error_fails_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        for (name, engine) in ENGINES {
            let mut src = File::open(dir.path()).unwrap();
            let mut copy = tempfile::tempfile().unwrap();
            let r = engine(&mut src, &mut copy);
            assert!(matches!(r, Err(CopyError::Read(_))), "{name}");
        }
    }

    /// A copy that cannot be written fails the copy: no hash is returned.
    #[test]
    fn a_write_error_fails_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, pattern(2 * BLOCK, 5)).unwrap();
        for (name, engine) in ENGINES {
            let mut src = File::open(&path).unwrap();
            let mut read_only = File::open(&path).unwrap();
            let r = engine(&mut src, &mut read_only);
            assert!(r.is_err(), "{name}");
        }
    }
}
