//! Writing to a registry: the writer lock, the transaction that checks an action against the
//! verified state, and the batch of entries it signs (FORMAT.md §6). The commit protocol that
//! writes them and the state derived from them is the child `commit.rs`.

use super::{CommitWindow, Committed, Registry, RegistryError};
use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, Entry, Header};
use crate::format::id::ObjectId;
use crate::repo::ledger::{self, LINE_LEN, LedgerError, Verified};
use crate::state::{Needs, State};
use crate::util::fsutil::{IoContext, IoError, failpoint};
use std::fs::{self, File};
use std::time::{Duration, Instant};

mod commit;

pub(in crate::repo) use commit::{Commit, Touched};

impl Registry {
    /// Appends one signed action to the ledger (FORMAT.md §6): checks it against the verified
    /// state first, so that a refused action writes nothing.
    pub fn commit(&self, key: &SecretKey, body: Body) -> Result<Committed, RegistryError> {
        self.begin()?.commit(key, body)
    }

    /// Starts a write: takes the lock, establishes the verified state and checks the registry
    /// can take a write, changing nothing yet: the residue of an interrupted write is removed,
    /// and refs it left behind repaired, only by [`Transaction::commit`], so that a refused
    /// action leaves the registry exactly as it was. The caller may check the state and store
    /// objects before committing; dropping the transaction instead writes no entry.
    ///
    /// A replica (FORMAT.md §11.14) refuses it: an entry written there forks it from the home
    /// site. Importing the home site's history uses [`Registry::begin_receive`].
    pub fn begin(&self) -> Result<Transaction<'_>, RegistryError> {
        self.refuse_at_replica()?;
        self.begin_receive()
    }

    /// Like [`Registry::begin`], also at a replica: for a transaction that only receives the
    /// home site's history ([`Transaction::receive`], `reg import`), never signs an entry here.
    pub fn begin_receive(&self) -> Result<Transaction<'_>, RegistryError> {
        self.begin_with(&Needs::all())
    }

    /// Like [`Registry::begin`], with only what `needs` reads of the state in memory (format 5,
    /// FORMAT.md §5.11): for a write whose cost must not grow with the registry (a lifecycle
    /// transition, a slot change, a drift record). The rules load what each entry reads
    /// ([`State::needs`]) before they check it; what the caller reads of [`Transaction::state`]
    /// must be in `needs` (reading any other model panics, never reads as absent).
    pub fn begin_for(&self, needs: &Needs) -> Result<Transaction<'_>, RegistryError> {
        self.refuse_at_replica()?;
        self.begin_with(needs)
    }

    fn begin_with(&self, needs: &Needs) -> Result<Transaction<'_>, RegistryError> {
        let lock = self.lock()?;
        self.host.ensure_writable()?;
        // Not `state()`: an expired registry still takes a renewal or a root's entry; which
        // entries it refuses is the freshness rule's to say, per entry (FORMAT.md §6.1).
        let (mut state, checkpoint_time) = self.current()?;
        // An interrupted commit's refs are rewritten from every model by the next commit.
        if crate::repo::refs::is_pending(&self.dot) {
            self.load(&mut state, &Needs::all())?;
        }
        self.load(&mut state, needs)?;
        self.check_writable(&state)?;
        Ok(Transaction {
            reg: self,
            state,
            checkpoint_time,
            _lock: lock,
            window: None,
        })
    }

    /// Like [`Registry::begin`], but verifies the whole ledger whatever the host recorded, and
    /// returns the ids of its entries up to the checkpoint: for `reg gc`, which deletes what no
    /// verified entry reaches and so must never trust a `ledger` file it has not verified.
    pub fn begin_verified(&self) -> Result<(Transaction<'_>, Vec<ObjectId>), RegistryError> {
        let lock = self.lock()?;
        self.host.ensure_writable()?;
        // Before anything else: gc deletes, so a link or special file anywhere stops it.
        crate::repo::layout::check_all(&self.dot)?;
        let mut ids = Vec::new();
        let replay = self.verify(&mut |v| ids.push(v.id))?;
        self.record(&replay.state, &replay.checkpoint)?;
        let (state, cp) = replay.into_parts();
        self.check_writable(&state)?;
        let tx = Transaction {
            reg: self,
            state,
            checkpoint_time: cp.time,
            _lock: lock,
            window: None,
        };
        Ok((tx, ids))
    }

    /// Under the lock, with a verified state, changing nothing: the layout holds, the `ledger`
    /// file is a single-linked regular file at least as long as the checkpoint says (a write is
    /// never appended at the wrong position), and the refs-pending marker is a plain file.
    fn check_writable(&self, state: &State) -> Result<(), RegistryError> {
        crate::repo::layout::check_skeleton(&self.dot)?;
        let ledger_path = self.dot.join("ledger");
        let keep = (state.seq() + 1) * LINE_LEN as u64;
        let f = crate::util::fsutil::open_regular_rw(&ledger_path, false)?;
        let len = f.metadata().ctx("read", &ledger_path)?.len();
        if len < keep {
            // The state was verified against this file a moment ago; only a concurrent editor
            // could make it shorter. Never append at the wrong position.
            return Err(LedgerError::Truncated {
                checkpoint_seq: state.seq(),
                lines: len / LINE_LEN as u64,
            }
            .into());
        }
        Ok(())
    }

    /// Under the lock, as a commit starts (after its checks): removes the residue of an
    /// interrupted write, the lines after entry `seq` of the checkpoint.
    pub(crate) fn truncate_residue(&self, seq: u64) -> Result<(), RegistryError> {
        let ledger_path = self.dot.join("ledger");
        let keep = (seq + 1) * LINE_LEN as u64;
        let f = crate::util::fsutil::open_regular_rw(&ledger_path, false)?;
        let len = f.metadata().ctx("read", &ledger_path)?.len();
        if len > keep {
            // Lines after the checkpoint are an interrupted write that never committed. They are
            // removed only if they are what one leaves (FORMAT.md §5.1): anything else is kept
            // for fsck to name, and the write refused.
            use std::io::{Read as _, Seek as _};
            let mut tail = Vec::new();
            let mut reader = crate::util::fsutil::open_regular(&ledger_path)?;
            reader
                .seek(std::io::SeekFrom::Start(keep))
                .ctx("read", &ledger_path)?;
            reader
                .take(1 << 30)
                .read_to_end(&mut tail)
                .ctx("read", &ledger_path)?;
            ledger::parse_lines(&tail, seq + 1)?;
            f.set_len(keep).ctx("truncate residue of", &ledger_path)?;
            f.sync_all().ctx("sync", &ledger_path)?;
        }
        Ok(())
    }

    /// Takes the exclusive writer lock, waiting at most the lock timeout it was opened with
    /// ([`crate::repo::registry::OpenOptions::lock_timeout`]).
    ///
    /// A lock file that is no longer the registry's once locked (a reset swapped the registry
    /// directory while this writer waited, FORMAT.md §11.14) is dropped and the one now at the
    /// path locked instead: the old one would leave the new registry unprotected.
    pub fn lock(&self) -> Result<WriteLock, RegistryError> {
        let path = self.dot.join("lock");
        let mut file = crate::util::fsutil::open_regular_rw(&path, false)?;
        failpoint("lock:opened");
        let timeout = self.lock_timeout;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) if !crate::util::fsutil::still_at(&file, &path) => {
                    drop(file);
                    file = crate::util::fsutil::open_regular_rw(&path, false)?;
                }
                Ok(()) => return Ok(WriteLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(RegistryError::Busy(path, timeout.as_secs()));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(IoError::from_source("lock", &path, e).into());
                }
            }
        }
    }

    /// Renews the registry's freshness (`reg renew`, FORMAT.md §6.1): appends a `renew` entry,
    /// which only a key holding the `timestamp` role may sign, and so is the one write an
    /// expired registry takes from a key that is not the root's.
    pub fn renew(&self, key: &SecretKey) -> Result<Committed, RegistryError> {
        self.commit(key, Body::Renew(crate::format::entry::Renew {}))
    }
}

/// One entry a batch wrote: its id, seq and content.
pub type Written = (ObjectId, u64, Entry);

/// A write in progress: the writer lock is held and the state is verified.
#[derive(Debug)]
pub struct Transaction<'a> {
    pub(in crate::repo) reg: &'a Registry,
    state: Verified<State>,
    /// The checkpoint's time: what stands in for a renewal in a format 1 or 2 registry never
    /// renewed under format 3's rule (FORMAT.md §6.1).
    checkpoint_time: String,
    _lock: WriteLock,
    /// The commit window, once open: it stays open until the transaction ends.
    window: Option<CommitWindow>,
}

impl Transaction<'_> {
    /// The verified state the entry will follow.
    pub fn state(&self) -> &Verified<State> {
        &self.state
    }

    /// Opens the commit window now, if it is not open yet (FORMAT.md §6, "Readers and
    /// writers"): for a writer that changes what readers read before it commits (`reg add`
    /// moves its staged artifacts into the store, gc deletes), so that no reader sees that
    /// change without the commit. Readers in progress are waited for; new ones wait until the
    /// transaction ends. A commit opens it itself.
    pub fn open_window(&mut self) -> Result<&CommitWindow, RegistryError> {
        if self.window.is_none() {
            self.window = Some(self.reg.commit_window()?);
        }
        Ok(self.window.as_ref().expect("opened just above"))
    }

    /// Checks, without writing anything, that `key` may sign `body` next and that its rules hold:
    /// so that a caller can store the objects an entry refers to only once it will be accepted.
    pub fn check(&mut self, key: &SecretKey, body: &Body) -> Result<(), RegistryError> {
        let needs = self.state.needs(body);
        self.reg.load(&mut self.state, &needs)?;
        let entry = Entry {
            header: Header {
                actor: key.public().fingerprint().clone(),
                prev: Some(self.state.head()),
                registry: Some(self.state.registry()),
                seq: self.state.seq() + 1,
                time: self.reg.clock.now()?,
            },
            body: body.clone(),
        };
        // Signer and rule, on the state as it is: nothing is cloned to test one entry.
        self.state.check(&entry)?;
        self.state
            .check_written_fresh(&entry, Some(&self.checkpoint_time))?;
        // What signing would refuse (a bad clock, an entry over the readers' limit), refused
        // before the caller stores the objects the entry refers to.
        entry.check_fields()?;
        entry.check_writable()?;
        Ok(())
    }

    /// Signs `body` as the next entry and commits it (FORMAT.md §6, steps 2 to 5).
    pub fn commit(self, key: &SecretKey, body: Body) -> Result<Committed, RegistryError> {
        let (mut entries, state) = self.commit_batch(key, vec![body])?;
        let (id, seq, entry) = entries.pop().expect("one body gives one entry");
        Ok(Committed {
            id,
            seq,
            entry,
            state,
        })
    }

    /// Signs and commits several entries in order with one index, ledger and checkpoint write:
    /// all of them or, if any is refused or the process dies, none.
    pub fn commit_batch(
        self,
        key: &SecretKey,
        bodies: Vec<Body>,
    ) -> Result<(Vec<Written>, Verified<State>), RegistryError> {
        let count = bodies.len();
        let mut bodies = bodies.into_iter();
        self.commit_built(key, count, |_, _| {
            Ok::<_, RegistryError>(bodies.next().expect("one body per index"))
        })
    }

    /// Like [`Transaction::commit_batch`], for entries that depend on the ones before them in
    /// the batch (a model's drift chain names its previous entry): `build(state, i)` makes the
    /// body of entry `i` from the state after entries `0 .. i`, and may refuse it, which refuses
    /// the whole batch with its error before anything is written.
    pub fn commit_built<E: From<RegistryError>>(
        self,
        key: &SecretKey,
        count: usize,
        build: impl FnMut(&State, usize) -> Result<Body, E>,
    ) -> Result<(Vec<Written>, Verified<State>), E> {
        let reg = self.reg;
        // Also for a transaction begun to receive: nothing is signed at a replica.
        reg.refuse_at_replica()?;
        let seq_before = self.state.seq();
        let time = reg.clock.now().map_err(RegistryError::from)?;
        let basis = Some(self.checkpoint_time.as_str());
        let batch = Batch::sign(
            reg,
            self.state.into_inner(),
            key,
            count,
            build,
            &time,
            basis,
        )?;
        if batch.done.is_empty() {
            return Ok((batch.done, Verified::new(batch.state)));
        }
        let window = match self.window {
            Some(w) => w,
            None => reg.commit_window()?,
        };
        Ok(batch.write(reg, &window, seq_before, key, time)?)
    }
}

/// A batch of signed entries, checked and applied in memory, not yet written.
struct Batch {
    /// The state after the last entry.
    state: State,
    /// Each entry's id, seq and content.
    done: Vec<Written>,
    /// Each entry's signed envelope.
    objects: Vec<Vec<u8>>,
    /// What the entries change.
    touched: Touched,
    /// The bytes the batch's purges destroy.
    doomed: Vec<ObjectId>,
}

impl Batch {
    /// Signs each body as the next entry after `state`, checking its signer and its rules.
    fn sign<E: From<RegistryError>>(
        reg: &Registry,
        mut state: State,
        key: &SecretKey,
        count: usize,
        mut build: impl FnMut(&State, usize) -> Result<Body, E>,
        time: &str,
        legacy_basis: Option<&str>,
    ) -> Result<Batch, E> {
        let mut done = Vec::with_capacity(count);
        let mut objects = Vec::with_capacity(count);
        let mut touched = Touched::default();
        let mut doomed = Vec::new();
        for i in 0..count {
            let body = build(&state, i)?;
            // What the rules read of the state, in memory before they read it (format 5).
            let needs = state.needs(&body);
            reg.load_buckets(&mut state, &needs)?;
            let entry = Entry {
                header: Header {
                    actor: key.public().fingerprint().clone(),
                    prev: Some(state.head()),
                    registry: Some(state.registry()),
                    seq: state.seq() + 1,
                    time: time.to_string(),
                },
                body,
            };
            let trusted = state
                .authorize(&entry.header.actor, &entry.body)
                .map_err(RegistryError::from)?;
            debug_assert_eq!(trusted.to_bytes(), key.public().to_bytes());
            // What an expired registry takes (FORMAT.md §6.1); `apply` checks it too, but only
            // once a renewal exists, which a format 1 or 2 registry may not have yet.
            state
                .check_written_fresh(&entry, legacy_basis)
                .map_err(RegistryError::from)?;
            let payload = entry.to_payload().map_err(RegistryError::from)?;
            let bytes = crate::format::limits::sign_bytes(entry.body.kind(), &payload, key)
                .map_err(RegistryError::from)?;
            let id = ObjectId::of(&bytes);
            state.apply(id, &entry).map_err(RegistryError::from)?;
            touched.add(&entry.body);
            if let Body::Purge(p) = &entry.body {
                doomed.extend(p.blobs.iter().copied());
            }
            objects.push(bytes);
            done.push((id, state.seq(), entry));
        }
        Ok(Batch {
            state,
            done,
            objects,
            touched,
            doomed,
        })
    }

    /// Writes a non-empty batch in its commit window (FORMAT.md §6, steps 2 to 9): objects,
    /// index, ledger lines, then the checkpoint, the commit point; the host record, the refs and
    /// the bytes its purges destroy after it.
    fn write(
        self,
        reg: &Registry,
        window: &CommitWindow,
        seq_before: u64,
        key: &SecretKey,
        time: String,
    ) -> Result<(Vec<Written>, Verified<State>), RegistryError> {
        let Batch {
            mut state,
            done,
            objects,
            touched,
            doomed,
        } = self;
        let ids: Vec<ObjectId> = done.iter().map(|(id, _, _)| *id).collect();
        let index = state.index_files();
        let commit = Commit {
            seq_before,
            state: &state,
            index: &index,
            ids: &ids,
            touched: &touched,
            doomed: &doomed,
        };
        reg.write_commit(
            commit,
            window,
            || {
                for bytes in &objects {
                    reg.store.put_bytes(bytes)?;
                }
                Ok(())
            },
            |state_hash| Ok(ledger::sign_checkpoint(&state, state_hash, time, key)?),
        )?;
        Ok((done, Verified::new(state)))
    }
}

/// The held writer lock; dropping it releases the lock.
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}
