//! Reading on one thread while the caller parses, hashes and writes on another.
//!
//! Ingestion does two heavy things to every byte: it produces it (reads the file, hashes it as
//! received, decrypts it) and it consumes it (parses the tar, hashes the artifact, writes it).
//! Done one after the other they cost nearly twice as long as either; a bounded channel between
//! two threads overlaps them with a fixed amount of memory in flight.

use super::read_full;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};

/// Bytes per chunk passed between the threads.
const CHUNK: usize = 256 * 1024;

/// Chunks in flight (2 MiB).
const DEPTH: usize = 8;

/// Runs `consume` on the bytes of `source`, which is read on a second thread. Returns what
/// `consume` returned, and whether reading `source` failed (a failure explains any error the
/// consumer saw; a consumer that stops early simply stops the reader).
pub(super) fn pipelined<S, T>(
    mut source: S,
    consume: impl FnOnce(&mut (dyn Read + Send)) -> T,
) -> (T, io::Result<()>)
where
    S: Read + Send,
{
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(DEPTH);
        let (pool_tx, pool_rx) = channel::<Vec<u8>>();
        let producer = scope.spawn(move || -> io::Result<()> {
            let mut allocated = 0usize;
            loop {
                // A chunk the consumer gave back, or a new one while fewer than the pipeline
                // holds exist: nothing is allocated or zeroed per chunk.
                let mut buf = match pool_rx.try_recv() {
                    Ok(buf) => buf,
                    Err(_) if allocated < DEPTH + 2 => {
                        allocated += 1;
                        Vec::new()
                    }
                    Err(_) => match pool_rx.recv() {
                        Ok(buf) => buf,
                        // The consumer stopped (a refused bundle): nothing more to read.
                        Err(_) => return Ok(()),
                    },
                };
                buf.resize(CHUNK, 0);
                let n = match read_full(&mut source, &mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        let copy = io::Error::new(e.kind(), e.to_string());
                        let _ = tx.send(Err(e));
                        return Err(copy);
                    }
                };
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                if tx.send(Ok(buf)).is_err() {
                    // The consumer stopped (a refused bundle): nothing more to read.
                    return Ok(());
                }
            }
        });
        let mut reader = ChannelReader {
            rx,
            pool: pool_tx,
            buf: Vec::new(),
            pos: 0,
        };
        let out = consume(&mut reader);
        drop(reader);
        let read = producer.join().expect("the reading thread does not panic");
        (out, read)
    })
}

/// Reads the chunks the producer sends.
struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    /// Where read chunks go back to the producer.
    pool: Sender<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.buf, chunk);
                    if used.capacity() > 0 {
                        let _ = self.pool.send(used);
                    }
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The sender is gone after the last chunk: the end of the input.
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
