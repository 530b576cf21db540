//! Staging a large artifact (`reg add`): read, hash and write it once, with the disk kept busy
//! while the bytes are still coming.
//!
//! Profiled on a 256 MiB bundle, the old path (64 KiB chunks copied into a new `Vec` each and
//! handed to a writer thread, then one `fsync` at the end) spent its time in three places: the
//! final `fsync`, which waited ~130-160 ms for the whole file to reach the disk because nothing
//! had started writing it back before; 16,000 `futex` calls and a `memset` and page faults per
//! chunk; and hashing on one core. Here:
//!
//! - blocks of [`BLOCK`] bytes are reused from a fixed pool (nothing allocated per block, memory
//!   flat whatever the artifact's size: [`DEPTH`] + 2 blocks at most);
//! - each block is hashed on every core ([`crate::util::parallel::hash_into`]) on the calling
//!   thread, then written by a writer thread, in order: the file is exactly the hashed blocks;
//! - every [`FLUSH_EVERY`] bytes, the writer asks a flusher thread to `fdatasync` what is written
//!   so far, so the disk writes the file back while the rest is read and hashed, and the last
//!   `fsync` waits only for the tail.
//!
//! Every error (a read, a write, a flush, a thread that stopped) fails the staging: no hash is
//! returned for a file that may not hold the hashed bytes.

use crate::util::fsutil::read_full;
use crate::util::hash::CopyError;
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

/// Bytes per block: large enough that hashing it uses both cores, small enough that a few in
/// flight stay a few MiB.
const BLOCK: usize = 1 << 20;

/// Blocks waiting for the writer.
const DEPTH: usize = 4;

/// Bytes written between two requests to write the file back.
const FLUSH_EVERY: u64 = 16 << 20;

/// Copies `reader` into `file` (new and empty), hashing what passes, and syncs it; returns the
/// BLAKE3 and byte count of exactly what the file holds, once every byte is written and synced.
pub(super) fn copy_to_file(
    reader: &mut dyn Read,
    file: File,
) -> Result<(blake3::Hash, u64), CopyError> {
    let flush_file = file.try_clone().map_err(CopyError::Write)?;
    let mut hasher = blake3::Hasher::new();
    let mut size = 0u64;
    let (read, written) = std::thread::scope(|scope| {
        let (pool_tx, pool_rx) = channel::<Vec<u8>>();
        let (tx, rx) = sync_channel::<Vec<u8>>(DEPTH);
        let (kick_tx, kick_rx) = sync_channel::<()>(1);
        let flusher = scope.spawn(move || flush_on_request(&flush_file, &kick_rx));
        let writer = scope.spawn(move || write_blocks(file, &rx, &pool_tx, &kick_tx));
        let mut allocated = 0usize;
        let read = loop {
            let mut buf = match pool_rx.try_recv() {
                Ok(buf) => buf,
                Err(_) if allocated < DEPTH + 2 => {
                    allocated += 1;
                    Vec::new()
                }
                // The writer gave none back: wait for one, or for its end (an error).
                Err(_) => match pool_rx.recv() {
                    Ok(buf) => buf,
                    Err(_) => break Ok(()),
                },
            };
            buf.resize(BLOCK, 0);
            let n = match read_full(reader, &mut buf) {
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            buf.truncate(n);
            crate::util::parallel::hash_into(&mut hasher, &buf);
            size += n as u64;
            // A writer that stopped has its error joined below.
            if n == 0 || tx.send(buf).is_err() || n < BLOCK {
                break Ok(());
            }
        };
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread stopped")));
        let flushed = flusher
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the flusher thread stopped")));
        let written = written.and_then(|file| {
            flushed?;
            file.sync_all()?;
            Ok(file.metadata()?.len())
        });
        (read, written)
    });
    read.map_err(CopyError::Read)?;
    let on_disk = written.map_err(CopyError::Write)?;
    // The writer wrote every hashed block or failed; a mismatch would be a bug here, and is
    // refused all the same rather than trusted.
    if on_disk != size {
        return Err(CopyError::Write(io::Error::other(format!(
            "the staged file holds {on_disk} bytes, but {size} were hashed"
        ))));
    }
    Ok((hasher.finalize(), size))
}

/// The writer: every block, in order, then the buffer back to the pool; asks for a write-back
/// every [`FLUSH_EVERY`] bytes. Returns the file once everything is written.
fn write_blocks(
    mut file: File,
    rx: &Receiver<Vec<u8>>,
    pool: &Sender<Vec<u8>>,
    kick: &SyncSender<()>,
) -> io::Result<File> {
    let mut since = 0u64;
    for block in rx {
        file.write_all(&block)?;
        since += block.len() as u64;
        if since >= FLUSH_EVERY {
            // Full: a flush is pending already, and will cover these bytes too.
            let _ = kick.try_send(());
            since = 0;
        }
        let _ = pool.send(block);
    }
    Ok(file)
}

/// The flusher: writes the file back each time it is asked, until the writer is done.
fn flush_on_request(file: &File, kick: &Receiver<()>) -> io::Result<()> {
    for () in kick {
        file.sync_data()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom};

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31) ^ 5).collect()
    }

    #[test]
    fn the_file_holds_exactly_the_hashed_bytes_for_every_size_around_a_block() {
        let flush = FLUSH_EVERY as usize;
        for len in [
            0,
            1,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            3 * BLOCK + 7,
            flush + BLOCK + 3,
        ] {
            let bytes = pattern(len);
            let mut file = tempfile::tempfile().unwrap();
            let out = file.try_clone().unwrap();
            let got = copy_to_file(&mut &bytes[..], out).unwrap();
            assert_eq!(got, (blake3::hash(&bytes), len as u64), "length {len}");
            file.seek(SeekFrom::Start(0)).unwrap();
            let mut back = Vec::new();
            file.read_to_end(&mut back).unwrap();
            assert!(back == bytes, "length {len}");
        }
    }

    /// A reader that fails after some blocks: the staging fails, no hash is returned.
    struct FailsAfter(usize);

    impl Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("medium removed"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_fails_the_staging() {
        let r = copy_to_file(
            &mut FailsAfter(3 * BLOCK + 10),
            tempfile::tempfile().unwrap(),
        );
        assert!(matches!(r, Err(CopyError::Read(_))));
    }

    #[test]
    fn a_write_error_fails_the_staging() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"").unwrap();
        let read_only = File::open(&path).unwrap();
        let bytes = pattern(2 * BLOCK);
        let r = copy_to_file(&mut &bytes[..], read_only);
        assert!(matches!(r, Err(CopyError::Write(_))));
    }
}
