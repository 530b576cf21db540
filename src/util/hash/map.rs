//! A file's bytes mapped read-only, and the one place of reg where `unsafe` is allowed
//! (`Cargo.toml` denies it everywhere; a unit test below checks that no other file under `src/`
//! says `unsafe` or allows it).
//!
//! Why: reading a large file through a descriptor copies every byte from the page cache into a
//! buffer; on this kind of machine that copy cost more than hashing the bytes (`reg check` of a
//! 1 GiB file spent 58 % of its CPU in the kernel's copy, and its one reader thread was the
//! bottleneck). Mapping hands the page cache's pages to the hasher as they are, as `b3sum` does.
//!
//! What reading protected, and how a mapping keeps it:
//! - **No link followed**: only a descriptor the caller already opened (with `O_NOFOLLOW`, and
//!   checked to be a regular file) is mapped; nothing here opens a name.
//! - **A file truncated while it is hashed never crashes reg**: touching a mapped page past the
//!   new end of the file raises `SIGBUS`, which kills a process by default. A process-wide
//!   handler, installed once, recognises a fault inside a mapping registered here, maps
//!   anonymous zero pages over the rest of that mapping (`MAP_FIXED`), marks the mapping
//!   faulted and returns: the access is retried and reads zeros. The caller checks
//!   [`Map::faulted`] after using the bytes and refuses the file. A fault anywhere else goes on
//!   to the handler that was there before (Rust's own stack-overflow handler, or a host's such
//!   as Python's `faulthandler`); when that was the default action, it is restored and the fault
//!   kills as it did before. A handler installed later by someone else is respected: mapping is
//!   then refused ([`Map::new`] gives `None`) and the caller reads. Only a whole page past the
//!   end faults: the rest of the file's last page reads as zeros without one, so a caller also
//!   compares the file's length after hashing.
//! - **A file changed while it is hashed is never allowed**: with a mapping, as with reads, the
//!   bytes hashed are whatever the page cache held when each was read, a mix when a writer is
//!   at work. A mix hashes to no approved id (but by a BLAKE3 collision), and the caller also
//!   compares the file's size, modification and change times before and after
//!   (`crate::util::hash::hash_file`), refusing a file whose stamp moved.
//!
//! Soundness, honestly: a `&[u8]` over a file that another process may write or truncate is
//! memory that changes under a shared reference, which Rust's model does not allow; every
//! mapping crate (`memmap2`, which `b3sum` uses) has the same limit. Here the bytes are only
//! read, by code that treats them as opaque input (BLAKE3), never to decide control flow or
//! sizes, and whatever they held is judged by its hash and the stamp check. The slice never
//! outlives its registration: it is borrowed from the [`Map`], which deregisters before it
//! unmaps.
//!
//! Everything the signal handler touches is async-signal-safe: atomics of a fixed table, and
//! the `mmap`, `sigaction` and `raise` system calls.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::fd::AsRawFd as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Once, OnceLock};

/// How many mappings may be live at once (each thread hashing a file holds one). A mapping
/// that finds the table full is refused and its caller reads instead.
const SLOTS: usize = 64;

/// One live mapping: its address range (`start == 0`: free) and whether it faulted.
struct Slot {
    taken: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    faulted: AtomicBool,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            taken: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            faulted: AtomicBool::new(false),
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// The page size, read once before the handler is installed.
static PAGE: AtomicUsize = AtomicUsize::new(0);

/// The `SIGBUS` action before ours: where a fault that is not ours goes.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

static INSTALL: Once = Once::new();

/// A read-only mapping of part of a file, registered with the `SIGBUS` handler while it lives.
pub struct Map {
    /// The mapping's start (page-aligned) and length as mapped.
    base: *mut libc::c_void,
    mapped: usize,
    /// Where the bytes asked for start within the mapping, and how many there are.
    lead: usize,
    len: usize,
    slot: &'static Slot,
}

impl Map {
    /// Maps `len` bytes of `file` from `offset`, read-only. `None` when the file cannot be
    /// mapped here: `len` is 0, the file system does not map, the handler that makes a
    /// truncation survivable is not (or no longer) the process's, or too many mappings are
    /// live. The caller then reads the bytes through the descriptor instead.
    pub fn new(file: &File, offset: u64, len: usize) -> Option<Map> {
        if len == 0 || !handler_installed() {
            return None;
        }
        let page = PAGE.load(SeqCst);
        let aligned = offset - offset % page as u64;
        let lead = usize::try_from(offset - aligned).ok()?;
        let mapped = lead.checked_add(len)?;
        let off = libc::off_t::try_from(aligned).ok()?;
        let slot = TABLE.iter().find(|s| {
            s.taken
                .compare_exchange(false, true, SeqCst, SeqCst)
                .is_ok()
        })?;
        // SAFETY: a fresh mapping chosen by the kernel (no address given), read-only, of a
        // descriptor that stays open for the call; it overlaps no memory Rust knows of.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                off,
            )
        };
        if base == libc::MAP_FAILED {
            slot.taken.store(false, SeqCst);
            return None;
        }
        let start = base as usize;
        slot.faulted.store(false, SeqCst);
        slot.end.store(start + mapped.div_ceil(page) * page, SeqCst);
        slot.start.store(start, SeqCst);
        Some(Map {
            base,
            mapped,
            lead,
            len,
            slot,
        })
    }

    /// The bytes mapped. Read them, then ask [`Map::faulted`]: if it says so, some of them were
    /// zeros standing in for a file cut short meanwhile, and they are no file's bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `base + lead .. + len` lies inside the live read-only mapping this `Map` owns
        // (unmapped only when it is dropped, which the borrow prevents while the slice lives).
        // A page that a truncation takes away is replaced by a zero page by the handler, so
        // every byte stays readable; see the module's doc for the bytes changing underneath.
        unsafe { std::slice::from_raw_parts(self.base.cast::<u8>().add(self.lead), self.len) }
    }

    /// Whether reading the bytes met the end of a file cut short (or an I/O error) since the
    /// mapping was made.
    pub fn faulted(&self) -> bool {
        self.slot.faulted.load(SeqCst)
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // Deregistered first: once unmapped, the range may be mapped again by anyone, and a
        // fault there must not be taken for ours.
        self.slot.start.store(0, SeqCst);
        self.slot.end.store(0, SeqCst);
        // SAFETY: the mapping made in `new`, whose bytes no longer have a borrower.
        unsafe {
            libc::munmap(self.base, self.mapped);
        }
        self.slot.taken.store(false, SeqCst);
    }
}

/// Installs the handler once; says whether it is the process's `SIGBUS` handler now.
fn handler_installed() -> bool {
    INSTALL.call_once(|| {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let Ok(page) = usize::try_from(page) else {
            return;
        };
        if !page.is_power_of_two() {
            return;
        }
        PAGE.store(page, SeqCst);
        let Some(old) = current_action() else { return };
        let _ = PREVIOUS.set(old);
        // SAFETY: a zeroed sigaction is a valid value; every field that matters is set below.
        let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
        ours.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
        ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
        // SAFETY: `sa_mask` is a valid sigset owned here; installing a handler whose body is
        // async-signal-safe (see `on_sigbus`).
        unsafe {
            libc::sigemptyset(&mut ours.sa_mask);
            libc::sigaction(libc::SIGBUS, &ours, std::ptr::null_mut());
        }
    });
    PAGE.load(SeqCst) != 0
        && current_action().is_some_and(|a| a.sa_sigaction == on_sigbus as *const () as usize)
}

/// The process's `SIGBUS` action now.
fn current_action() -> Option<libc::sigaction> {
    // SAFETY: a zeroed sigaction is valid; sigaction with a null new action only reads.
    let mut now: libc::sigaction = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut now) };
    (rc == 0).then_some(now)
}

/// The handler: a fault inside a registered mapping is survived (zero pages over the rest of
/// it, the mapping marked); anything else goes where it went before.
extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // si_code > 0: raised by the kernel for a fault, so si_addr is the faulting address (a
    // SIGBUS sent with kill has none).
    if code > 0 {
        let page = PAGE.load(SeqCst);
        for slot in &TABLE {
            let start = slot.start.load(SeqCst);
            let end = slot.end.load(SeqCst);
            if start == 0 || addr < start || addr >= end || slot.start.load(SeqCst) != start {
                continue;
            }
            let from = addr - addr % page;
            // SAFETY: replaces, inside our own registered mapping, the pages from the faulting
            // one to the mapping's end by anonymous zero pages; no Rust value lives there but
            // the bytes the borrower of the `Map` reads.
            let p = unsafe {
                libc::mmap(
                    from as *mut libc::c_void,
                    end - from,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                slot.faulted.store(true, SeqCst);
                return;
            }
            break; // cannot survive it: as if it were not ours
        }
    }
    foreign(sig, info, ctx);
}

/// A `SIGBUS` that is not ours: to the previous handler, or, when that was the default action
/// (or ignoring it), that action restored, so that the fault kills as it did before we were
/// here (a fault is retried on return and meets the restored action; a sent signal is raised
/// again).
fn foreign(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(prev) = PREVIOUS.get() else {
        // SAFETY: async-signal-safe calls with valid arguments.
        unsafe {
            libc::signal(libc::SIGBUS, libc::SIG_DFL);
        }
        return;
    };
    let h = prev.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        // SAFETY: restores the action saved at install; `info` is valid (see `on_sigbus`).
        unsafe {
            libc::sigaction(libc::SIGBUS, prev, std::ptr::null_mut());
            if (*info).si_code <= 0 {
                libc::raise(libc::SIGBUS);
            }
        }
        return;
    }
    // SAFETY: the previous handler was installed for SIGBUS with these flags; it is called as
    // the kernel would have called it.
    unsafe {
        if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(h);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
            f(sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn file_of(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        t.write_all(bytes).unwrap();
        let f = File::open(t.path()).unwrap();
        (t, f)
    }

    #[test]
    fn a_mapping_holds_the_files_bytes_at_any_offset() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (_t, f) = file_of(&data);
        for (off, len) in [(0, data.len()), (1, 5000), (4096, 4096), (12345, 80_000)] {
            let m = Map::new(&f, off as u64, len).expect("mapped");
            assert_eq!(m.bytes(), &data[off..off + len]);
            assert!(!m.faulted());
        }
        assert!(Map::new(&f, 0, 0).is_none(), "nothing to map");
    }

    /// A file truncated under a live mapping: reading past its new end does not kill the
    /// process; the bytes read as zeros and the mapping says it faulted.
    #[test]
    fn a_truncation_under_a_mapping_is_survived_and_told() {
        let data = vec![7u8; 1 << 20];
        let (t, f) = file_of(&data);
        let m = Map::new(&f, 0, data.len()).expect("mapped");
        std::fs::OpenOptions::new()
            .write(true)
            .open(t.path())
            .unwrap()
            .set_len(10_000)
            .unwrap();
        let sum: u64 = m.bytes().iter().map(|&b| u64::from(b)).sum();
        assert!(m.faulted(), "the truncation was seen");
        assert!(sum < 7 * (1 << 20), "the bytes past the end read as zeros");
        drop(m);
        let fresh = Map::new(&f, 0, 10_000).expect("mapped again");
        assert!(!fresh.faulted(), "a new mapping starts unfaulted");
        assert_eq!(fresh.bytes(), &data[..10_000]);
    }

    /// A process forked after its parent hashed on the thread pool (a pre-forking server, Python's
    /// multiprocessing) maps and hashes on its own thread: the pool's threads do not exist in
    /// it, and waiting for them would hang it (util::parallel's fork guard).
    #[test]
    fn a_forked_child_hashes_a_mapped_file_without_hanging() {
        let data: Vec<u8> = (0..16u32 << 20).map(|i| (i % 253) as u8).collect();
        let (_t, f) = file_of(&data);
        let want = blake3::hash(&data);
        let hashed = crate::util::hash::hash_file(&f, &|_| {}).unwrap().0;
        assert_eq!(hashed, want, "the parent hashes on the pool first");
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: a valid array of two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only hashes, writes to the pipe and leaves with _exit, running none
        // of the parent's cleanups.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let out =
                crate::util::hash::hash_file(&f, &|_| {}).map_or([0u8; 32], |h| *h.0.as_bytes());
            // SAFETY: writes a local buffer to the pipe, then leaves the child at once.
            unsafe {
                libc::write(fds[1], out.as_ptr().cast(), out.len());
                libc::_exit(0);
            }
        }
        // SAFETY: the parent's copy of the write end, closed once.
        unsafe { libc::close(fds[1]) };
        let start = std::time::Instant::now();
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child without blocking.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            if start.elapsed() > std::time::Duration::from_secs(60) {
                // SAFETY: kills and reaps our own hung child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                panic!("the forked child hung while hashing");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let mut got = [0u8; 32];
        // SAFETY: reads into a local buffer from the pipe's read end, then closes it.
        let n = unsafe { libc::read(fds[0], got.as_mut_ptr().cast(), got.len()) };
        unsafe { libc::close(fds[0]) };
        assert_eq!(n, 32);
        assert_eq!(&got, want.as_bytes(), "the child's hash is the parent's");
    }

    /// No file of `src/` but this one says `unsafe` or lets unsafe code in: this is the audited
    /// one.
    #[test]
    fn only_this_file_holds_unsafe_code() {
        fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    visit(&path, found);
                } else if path.extension().is_some_and(|x| x == "rs")
                    && !path.ends_with("util/hash/map.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // Unsafe code elsewhere does not compile (`deny`) unless a file lets it in.
                    let lets_in = ["allow(", "expect(", "warn("]
                        .iter()
                        .any(|a| text.contains(&format!("{a}unsafe_code")));
                    let has = [
                        "unsafe {",
                        "unsafe fn",
                        "unsafe impl",
                        "unsafe extern",
                        "#[unsafe(",
                    ]
                    .iter()
                    .any(|u| text.contains(u));
                    if lets_in || has {
                        found.push(path.display().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.is_empty(),
            "unsafe outside util/hash/map.rs: {found:?}"
        );
        let manifest = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
        )
        .unwrap();
        assert!(manifest.contains("unsafe_code = \"deny\""));
        let lib = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"),
        )
        .unwrap();
        assert!(lib.contains("#![deny(unsafe_code)]"));
    }
}
