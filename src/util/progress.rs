//! Progress of long work (hashing, copying, decrypting, checking), reported as numbers.
//!
//! The library never draws anything: it reports to a sink the binary installs (a progress bar
//! on a terminal), and to nothing otherwise, at the cost of one check per block.

use std::sync::OnceLock;

/// Where progress goes.
pub trait Sink: Send + Sync {
    /// A task starts: a label and, when known, its total in bytes.
    fn start(&self, label: &str, total: Option<u64>);
    /// `n` more bytes are done.
    fn advance(&self, n: u64);
    /// The task ended.
    fn finish(&self);
}

static SINK: OnceLock<Box<dyn Sink>> = OnceLock::new();

/// Installs the process's progress sink (once; later calls are ignored).
pub fn install(sink: Box<dyn Sink>) {
    let _ = SINK.set(sink);
}

/// A running task; dropping it ends it.
pub struct Task {
    active: bool,
}

/// Starts a task (a no-op when no sink is installed).
pub fn task(label: &str, total: Option<u64>) -> Task {
    match SINK.get() {
        Some(s) => {
            s.start(label, total);
            Task { active: true }
        }
        None => Task { active: false },
    }
}

impl Task {
    /// Reports `n` more bytes done.
    pub fn advance(&self, n: u64) {
        if self.active
            && let Some(s) = SINK.get()
        {
            s.advance(n);
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if self.active
            && let Some(s) = SINK.get()
        {
            s.finish();
        }
    }
}

/// A reader that reports the bytes read through it to a task.
pub struct Reader<R> {
    inner: R,
    task: Task,
}

impl<R> Reader<R> {
    /// Wraps `inner`, reporting to `task`.
    pub fn new(inner: R, task: Task) -> Self {
        Reader { inner, task }
    }
}

impl<R: std::io::Read> std::io::Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.task.advance(n as u64);
        Ok(n)
    }
}

/// A seek passes over bytes unread (a transfer frame nobody wants): a forward one counts them as
/// done, so that a task whose total is the file's length ends at its end.
impl<R: std::io::Seek> std::io::Seek for Reader<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        let before = self.inner.stream_position()?;
        let after = self.inner.seek(pos)?;
        self.task.advance(after.saturating_sub(before));
        Ok(after)
    }
}
