//! Hashing what reg reads or writes, the one engine for it: a stream copied through one buffer
//! and hashed, a large file hashed on every core, a writer that hashes what passes through it,
//! and the gate's private copy ([`copy`]). The store, bundles, the load gate and fsck call it;
//! none hashes a stream its own way. Ids are BLAKE3-256 of the exact bytes (FORMAT.md §3): the
//! hash is returned as such, and the caller makes it an object id.
//!
//! Work goes to the thread pool only through [`crate::util::parallel::hash_into`], which keeps a
//! forked child off a pool it did not start.

pub mod copy;
pub mod map;

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender};

/// Files at least this large are hashed with [`hash_parallel`]; smaller ones are not worth a
/// thread (fsck verifies a hundred thousand small objects).
pub const PARALLEL_FROM: u64 = 4 << 20;

/// Size of the streaming buffer: 64 KiB is where single-thread BLAKE3 hashing peaks here;
/// larger buffers are slower.
pub const BUF_SIZE: usize = 64 * 1024;

/// A block of the parallel paths: large enough that hashing it uses every core. Measured here:
/// 4 MiB blocks hash a 1 GiB file about 20% faster than 1 MiB or 8 MiB ones.
const BLOCK: usize = 4 << 20;

/// Blocks waiting between the reader and the hasher: bounds memory whatever the file's size.
const DEPTH: usize = 4;

/// Files at least this large are hashed through a mapping ([`hash_file`]); smaller ones are read:
/// below it, mapping and unmapping cost more than the copy a read makes (b3sum maps from 16 KiB).
pub const MAP_FROM: u64 = 16 * 1024;

/// How much of a file is mapped at a time: small enough that the pages mapped (counted in the
/// process's resident size) stay bounded whatever the file's size, large and aligned enough
/// that each window is whole BLAKE3 subtrees hashed on every core. Measured on 2 cores, 1 GiB:
/// 16, 64 and 256 MiB windows cost the same CPU time within the noise (and what `b3sum`, which
/// maps the whole file, costs), for a peak resident size of 27, 76 and 273 MB.
pub const WINDOW: usize = 16 << 20;

/// The refusal of a file whose bytes changed while they were hashed (see [`hash_file`]).
pub const CHANGED: &str = "the file changed while it was read (cut short, grown or written meanwhile): the bytes hashed are no one version of it";

/// What identifies a file's version for [`hash_file`]: a file whose stamp moved between the
/// start and the end of hashing was written, truncated or replaced in place meanwhile.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(file: &File) -> io::Result<Stamp> {
        use std::os::unix::fs::MetadataExt as _;
        let m = file.metadata()?;
        Ok(Stamp {
            len: m.len(),
            ino: m.ino(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

/// The BLAKE3 and length of the regular file open as `file` (from its start, wherever its
/// position is), mapped window by window ([`map`]) and hashed on every core when it holds at
/// least [`MAP_FROM`] bytes, read through the descriptor otherwise (or where it cannot be
/// mapped). `progress` is told each window (or block) done.
///
/// A file cut short, grown or written while it is hashed fails with [`CHANGED`] (kind
/// `Other`): its size, inode, modification and change times are compared before and after,
/// and a read past a new end (a fault in a mapping) is told by the mapping. The descriptor
/// must have been opened by the caller's rule (never through a link: `O_NOFOLLOW`).
pub fn hash_file(file: &File, progress: &(dyn Fn(u64) + Sync)) -> io::Result<(blake3::Hash, u64)> {
    let before = Stamp::of(file)?;
    let len = before.len;
    let mut hasher = blake3::Hasher::new();
    let mut done = 0u64;
    if len >= MAP_FROM {
        while done < len {
            let n = usize::try_from(len - done).map_or(WINDOW, |left| left.min(WINDOW));
            // A window that cannot be mapped (see map::Map::new) is read, with the rest.
            let Some(m) = map::Map::new(file, done, n) else {
                break;
            };
            crate::util::fsutil::failpoint(if done == 0 {
                "hash:mapped"
            } else {
                "hash:next-window"
            });
            crate::util::parallel::hash_into(&mut hasher, m.bytes());
            if m.faulted() {
                return Err(io::Error::other(CHANGED));
            }
            done += n as u64;
            progress(n as u64);
        }
    }
    if done < len {
        let mut rest = Counted {
            inner: At { file, pos: done },
            task: progress,
        };
        let read = if len - done < PARALLEL_FROM {
            copy_into(&mut hasher, &mut rest, &mut io::sink())
        } else {
            parallel_into(&mut hasher, &mut rest, &mut io::sink())
        };
        done += read.map_err(|(CopyError::Read(e) | CopyError::Write(e))| e)?;
    }
    if done != len || Stamp::of(file)? != before {
        return Err(io::Error::other(CHANGED));
    }
    Ok((hasher.finalize(), len))
}

/// Reads `file` from `pos` on with positional reads: the descriptor's own position is neither
/// used nor moved.
struct At<'f> {
    file: &'f File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt as _;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A reader that reports what passes to a progress callback.
struct Counted<'t, R> {
    inner: R,
    task: &'t (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.task)(n as u64);
        Ok(n)
    }
}

/// Which side of a copy failed.
#[derive(Debug)]
pub enum CopyError {
    /// Reading the input.
    Read(io::Error),
    /// Writing the output.
    Write(io::Error),
}

/// Copies `reader` to `writer` through one fixed buffer, hashing what passes; returns the BLAKE3
/// and the byte count. The one loop every streaming path of reg goes through.
pub fn copy_hashing(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
) -> Result<(blake3::Hash, u64), CopyError> {
    let mut hasher = blake3::Hasher::new();
    let size = copy_into(&mut hasher, reader, writer)?;
    Ok((hasher.finalize(), size))
}

/// [`copy_hashing`] into a hasher that may already hold bytes; returns the bytes added.
fn copy_into(
    hasher: &mut blake3::Hasher,
    reader: &mut dyn Read,
    writer: &mut dyn Write,
) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; BUF_SIZE];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n]).map_err(CopyError::Write)?;
        size += n as u64;
    }
    Ok(size)
}

/// Hashes what `reader` yields while copying it to `out`, reading ahead on a second thread and
/// hashing each 4 MiB block on every core: for large files (the load gate, fsck, checkout),
/// where one core cannot keep up with the page cache. Returns the hash and the byte count.
pub fn hash_parallel(
    reader: &mut (dyn Read + Send),
    out: &mut dyn Write,
) -> Result<(blake3::Hash, u64), CopyError> {
    let mut hasher = blake3::Hasher::new();
    let size = parallel_into(&mut hasher, reader, out)?;
    Ok((hasher.finalize(), size))
}

/// [`hash_parallel`] into a hasher that may already hold bytes; returns the bytes added.
fn parallel_into(
    hasher: &mut blake3::Hasher,
    reader: &mut (dyn Read + Send),
    out: &mut dyn Write,
) -> Result<u64, CopyError> {
    let mut size = 0u64;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(DEPTH);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        scope.spawn(move || read_blocks(reader, &tx, &back_rx));
        for block in rx {
            let block = block.map_err(CopyError::Read)?;
            crate::util::parallel::hash_into(hasher, &block);
            out.write_all(&block).map_err(CopyError::Write)?;
            size += block.len() as u64;
            let _ = back_tx.send(block);
        }
        Ok(())
    })?;
    Ok(size)
}

/// "Hash a file, in parallel if large": what `reader` yields, copied to `out`, with
/// [`copy_hashing`] below [`PARALLEL_FROM`] bytes (`len`, the file's length when opened) and
/// [`hash_parallel`] from there. Returns the hash and the byte count.
pub fn hash_sized(
    reader: &mut (dyn Read + Send),
    len: u64,
    out: &mut dyn Write,
) -> Result<(blake3::Hash, u64), CopyError> {
    if len < PARALLEL_FROM {
        copy_hashing(reader, out)
    } else {
        hash_parallel(reader, out)
    }
}

/// Copies `reader` into `file` and fsyncs it, writing on a second thread while this one reads
/// and hashes, so that hashing and writing overlap (the store's large inputs). Returns the hash
/// and the byte count once every byte is written and synced.
pub fn copy_hashing_to_file(
    reader: &mut dyn Read,
    file: std::fs::File,
) -> Result<(blake3::Hash, u64), CopyError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
    let writer = std::thread::spawn(move || -> io::Result<()> {
        let mut file = file;
        for chunk in rx {
            file.write_all(&chunk)?;
        }
        file.sync_all()
    });
    let mut sink = ChannelWriter { tx: Some(tx) };
    let copied = copy_hashing(reader, &mut sink);
    drop(sink);
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the writer thread stopped")));
    match (copied, written) {
        (Err(CopyError::Read(e)), _) => Err(CopyError::Read(e)),
        (Err(CopyError::Write(_)), Ok(())) => {
            Err(CopyError::Write(io::Error::other("writer stopped")))
        }
        (Err(CopyError::Write(_)) | Ok(_), Err(w)) => Err(CopyError::Write(w)),
        (Ok(done), Ok(())) => Ok(done),
    }
}

/// Hands chunks to a writer thread; fails once the writer has stopped (on its own error).
struct ChannelWriter {
    tx: Option<SyncSender<Vec<u8>>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| io::Error::other("writer closed"))?;
        tx.send(buf.to_vec())
            .map_err(|_| io::Error::other("the writer thread stopped"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The reader of the parallel paths: full blocks until a short one (the end of the input), each
/// in a buffer given back by the consumer when there is one. Stops when the consumer hangs up.
fn read_blocks(
    source: &mut dyn Read,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    pool: &Receiver<Vec<u8>>,
) {
    loop {
        let mut buf = pool.try_recv().unwrap_or_default();
        buf.resize(BLOCK, 0);
        let n = match crate::util::fsutil::read_full(source, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        buf.truncate(n);
        let last = n < BLOCK;
        if tx.send(Ok(buf)).is_err() || last {
            return;
        }
    }
}

/// A writer that hashes and counts what passes through it to `inner`, keeping the first write
/// error of `inner`, so that a failure of the file written (the caller's) is told apart from one
/// of whoever fills it.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
    n: u64,
    failed: Option<io::Error>,
}

impl<W: Write> HashingWriter<W> {
    /// Hashes what is written to `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: blake3::Hasher::new(),
            n: 0,
            failed: None,
        }
    }

    /// The hash of what was written so far.
    pub fn hash(&self) -> blake3::Hash {
        self.hasher.finalize()
    }

    /// How many bytes were written so far.
    pub fn written(&self) -> u64 {
        self.n
    }

    /// The first error `inner` returned (an interrupted write is not one), taken.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.failed.take()
    }

    /// The writer hashed into.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.inner.write(buf) {
            Ok(k) => {
                self.hasher.update(&buf[..k]);
                self.n += k as u64;
                Ok(k)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted && self.failed.is_none() {
                    self.failed = Some(io::Error::new(e.kind(), e.to_string()));
                }
                Err(e)
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what is read through it (a bundle as it is read, an artifact as it is
/// packed).
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: blake3::Hasher::new(),
        }
    }

    /// The hash of everything read so far.
    pub fn finish(&self) -> blake3::Hash {
        self.hasher.finalize()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_gives_the_same_hash_and_count() {
        let data: Vec<u8> = (0..(PARALLEL_FROM as usize + 3 * BLOCK / 4 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        let want = blake3::hash(&data);
        let n = data.len() as u64;
        let mut out = Vec::new();
        assert_eq!(
            copy_hashing(&mut &data[..], &mut out).expect("copy"),
            (want, n)
        );
        assert_eq!(out, data);
        let mut out = Vec::new();
        assert_eq!(
            hash_parallel(&mut &data[..], &mut out).expect("parallel"),
            (want, n)
        );
        assert_eq!(out, data);
        for len in [0, n] {
            let r = hash_sized(&mut &data[..], len, &mut io::sink()).expect("sized");
            assert_eq!(r, (want, n));
        }
        let file = tempfile::tempfile().expect("tempfile");
        let r = copy_hashing_to_file(&mut &data[..], file).expect("to file");
        assert_eq!(r, (want, n));
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(&data).expect("write");
        assert_eq!((w.hash(), w.written()), (want, n));
        assert_eq!(w.into_inner(), data);
    }

    /// A writer that takes at most 3 bytes a call, is interrupted once at the start, and fails
    /// once it holds `fail_after` bytes.
    struct Trickle {
        got: Vec<u8>,
        interrupted: bool,
        fail_after: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(io::ErrorKind::Interrupted.into());
            }
            if self.got.len() >= self.fail_after {
                return Err(io::Error::other("disk full"));
            }
            let k = buf.len().min(3);
            self.got.extend_from_slice(&buf[..k]);
            Ok(k)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn trickle(fail_after: usize) -> Trickle {
        Trickle {
            got: Vec::new(),
            interrupted: false,
            fail_after,
        }
    }

    /// The hash and count are of what the inner writer took, short writes included; an
    /// interruption is no failure, and the first real failure is kept for the caller, once.
    #[test]
    fn the_hashing_writer_hashes_what_was_taken_and_keeps_its_first_error() {
        let data = b"bytes that go out a few at a time";
        let mut w = HashingWriter::new(trickle(usize::MAX));
        w.write_all(data).expect("write");
        assert_eq!(
            (w.hash(), w.written()),
            (blake3::hash(data), data.len() as u64)
        );
        assert!(w.take_error().is_none(), "an interruption is retried");
        assert_eq!(w.into_inner().got, data);

        let mut w = HashingWriter::new(trickle(6));
        let e = w.write_all(data).expect_err("disk full");
        assert_eq!(e.to_string(), "disk full");
        assert_eq!((w.hash(), w.written()), (blake3::hash(&data[..6]), 6));
        let kept = w.take_error().expect("the failure is kept");
        assert_eq!(kept.to_string(), "disk full");
        assert!(w.take_error().is_none(), "taken once");
    }

    /// A reader that is interrupted once, then gives at most 5 bytes a call.
    struct Drip<'a> {
        data: &'a [u8],
        interrupted: bool,
    }

    impl Read for Drip<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(io::ErrorKind::Interrupted.into());
            }
            let k = buf.len().min(5).min(self.data.len());
            buf[..k].copy_from_slice(&self.data[..k]);
            self.data = &self.data[k..];
            Ok(k)
        }
    }

    fn drip(data: &[u8]) -> Drip<'_> {
        Drip {
            data,
            interrupted: false,
        }
    }

    /// Short reads are hashed as read, and an interrupted read is retried, not a failure.
    #[test]
    fn short_and_interrupted_reads_are_hashed_exactly() {
        let data = b"bytes that come in a few at a time";
        let mut out = Vec::new();
        let r = copy_hashing(&mut drip(data), &mut out).expect("an interruption is retried");
        assert_eq!(r, (blake3::hash(data), data.len() as u64));
        assert_eq!(out, data);

        let mut r = HashingReader::new(drip(data));
        let mut got = Vec::new();
        r.read_to_end(&mut got).expect("read");
        assert_eq!(got, data);
        assert_eq!(r.finish(), blake3::hash(data));
    }
}
