//! Reading a registry on this host: the verified current state (the fast path of FORMAT.md
//! §8, or a full replay), the checks against what this host pinned and verified before (the
//! pin's floor, rollback and fork), and the record of what it verified.

use crate::crypto::envelope::Unverified;
use crate::format::id::ObjectId;
use crate::repo::ledger::{self, LINE_LEN, Replay, Verified, Visit};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::trust::{PinStatus, Seen};
use crate::state::{BUCKETS_FORMAT, Needs, State};
use crate::util::encoding;
use crate::util::fsutil::read_small;

/// Largest index reg reads (about 250 bytes a model: room for millions of models).
const INDEX_LIMIT: u64 = 1 << 30;

impl Registry {
    /// Replays and verifies the whole ledger, calling `visit` for each entry; checks the pin's
    /// floor and refuses a checkpoint older than, or diverging from, the one this host verified
    /// before (a rolled-back medium).
    ///
    /// Nothing is written: a caller that should remember what it verified calls
    /// [`Registry::record`] with the checkpoint next (every command that reads the whole ledger
    /// does; `reg trust add` only once it has accepted). Not being able to record is then an
    /// error, since the host could not refuse a rollback later.
    pub fn verify(
        &self,
        visit: &mut dyn FnMut(&Visit<'_>),
    ) -> Result<Verified<Replay>, RegistryError> {
        // One committed state from the first file read to the last (FORMAT.md §6).
        let _reading = self.read_lock()?;
        let seen = self.host.load(self.id())?;
        let at_floor = self.floor.as_ref().map(|f| f.seq);
        let mut floor_id = None;
        let replay = ledger::replay(&self.dot, &self.store, &self.config.registry_id, &mut |v| {
            if Some(v.entry.header.seq) == at_floor {
                floor_id = Some(v.id);
            }
            visit(v)
        })?;
        let cp = &replay.checkpoint;
        self.check_floor(cp.seq, floor_id)?;
        if let Some(seen) = seen {
            self.check_not_rolled_back(&seen, cp)?;
        }
        Ok(replay)
    }

    /// Walks the committed ledger, oldest first, with the state after each entry: the history
    /// as `reg show` lists it. The current state is verified as every read verifies it (the
    /// checkpoint's signature, this host's pin and record, freshness); the entries are then read
    /// by their hashes along the chain its head commits to and applied again without checking
    /// each signature a second time, and the state they give must be the committed one, byte
    /// for byte. A full audit is [`Registry::verify`] (`reg log`, `reg ledger verify`).
    pub fn walk(&self, visit: &mut dyn FnMut(&Visit<'_>)) -> Result<State, RegistryError> {
        let _reading = self.read_lock()?;
        let state = self.state()?;
        let (ids, _) = ledger::read_ids(&self.dot.join("ledger"))?;
        let upto = state.seq() as usize + 1;
        if ids.get(upto - 1) != Some(&state.head()) {
            return Err(ledger::LedgerError::Checkpoint(format!(
                "the ledger does not list the committed head {} at entry {}",
                state.head(),
                state.seq()
            ))
            .into());
        }
        let walked = ledger::committed(&ids[..upto], &self.config.registry_id, &self.store, visit)?;
        if walked.hash() != state.hash() {
            return Err(ledger::LedgerError::Checkpoint(format!(
                "replaying the ledger gives state {}, not the committed {}",
                walked.hash(),
                state.hash()
            ))
            .into());
        }
        Ok(walked)
    }

    /// Records a verified checkpoint as this host's latest for the registry, if the registry is
    /// pinned. An unpinned registry is never recorded: it proves nothing yet, and a record made
    /// from whatever medium a host met first would later refuse the genuine one as a "rollback"
    /// (a medium forked by any key the registry trusts could lock the real one out).
    ///
    /// Nor is a checkpoint no reader on this host accepts, stale under its policy or dated ahead
    /// (FORMAT.md §6.1), whoever verified it (a reader, fsck, a writer that then refuses): a
    /// stale fork brought back once would otherwise become the record that the home site's
    /// genuine renewal is refused against, as a fork.
    pub fn record(&self, state: &State, cp: &ledger::Checkpoint) -> Result<(), RegistryError> {
        if self.pin == PinStatus::Unpinned || self.check_fresh(state, &cp.time).is_err() {
            return Ok(());
        }
        let seen = Seen {
            head: cp.head,
            seq: cp.seq,
            state: cp.state,
            ledger: self.ledger_digest(cp.seq),
        };
        Ok(self.host.record(self.id(), &seen)?)
    }

    /// The verified current state.
    ///
    /// Fast path (FORMAT.md §8): when the checkpoint is the one this host verified last, the
    /// index is used after one hash and one signature check. Otherwise the whole ledger is
    /// replayed and verified, and the new checkpoint recorded.
    ///
    /// A registry stale under its policy (FORMAT.md §6.1) is refused; writers, which may renew
    /// it, read through [`Registry::begin`] instead.
    pub fn state(&self) -> Result<Verified<State>, RegistryError> {
        // One committed state from the first file read to the last (FORMAT.md §6).
        let _reading = self.read_lock()?;
        let (mut state, _) = self.current_with(true)?;
        self.load(&mut state, &Needs::all())?;
        Ok(state)
    }

    /// The verified current state for a writer about to sign an entry of `kind`: refused as the
    /// entry would be if the registry expired (FORMAT.md §6.1), with the writer's message, and
    /// not otherwise refused as stale (an expired registry still takes a renewal or a root's
    /// entry). For checks made before a long read, such as a bundle's; the commit checks again.
    pub fn state_to_write(
        &self,
        kind: crate::crypto::envelope::Kind,
    ) -> Result<Verified<State>, RegistryError> {
        let (mut state, checkpoint_time) = self.current()?;
        self.load(&mut state, &Needs::all())?;
        let now = self.clock.now()?;
        state.check_fresh_to_write(kind, &now, Some(&checkpoint_time))?;
        Ok(state)
    }

    /// Refuses a registry that is stale under its policy, or dated past this host's clock by
    /// more than the skew allows (FORMAT.md §6.1); `time` is its checkpoint's.
    pub fn check_fresh(&self, state: &State, time: &str) -> Result<(), RegistryError> {
        let now = self.clock.now()?;
        let Some(now) = encoding::parse_rfc3339(&now) else {
            return Ok(()); // `now` is in the grammar: the clock checked it
        };
        state
            .check_fresh_at(time, now)
            .map_err(RegistryError::Stale)
    }

    /// The verified current state and its checkpoint's time, expired or not.
    pub(in crate::repo) fn current(&self) -> Result<(Verified<State>, String), RegistryError> {
        self.current_with(false)
    }

    /// [`Registry::current`], refusing a stale registry when `fresh` (FORMAT.md §6.1) before it
    /// records anything: a checkpoint a reader refuses is not one this host accepted, so it must
    /// not become the record a later genuine renewal is measured against.
    fn current_with(&self, fresh: bool) -> Result<(Verified<State>, String), RegistryError> {
        // The host record first, then the checkpoint: writers record after they commit, so a
        // checkpoint read later is never older than a record read earlier (no false rollback
        // when another process commits meanwhile).
        let seen = self.host.load(self.id())?;
        let (env, cp) = ledger::read_checkpoint(&self.dot.join("checkpoint"))?;
        if let Some(floor) = &self.floor {
            // Read from the ledger file here; the full replay checks it again on verified ids.
            self.check_floor(cp.seq, ledger::id_at(&self.dot.join("ledger"), floor.seq))?;
        }
        if let Some(seen) = &seen {
            self.check_not_rolled_back(seen, &cp)?;
            if seen.seq == cp.seq
                && seen.head == cp.head
                && seen.state == cp.state
                && seen.ledger.is_some()
                && self.ledger_digest(cp.seq) == seen.ledger
                && let Some(state) = self.verified_index(&env, &cp)
            {
                if fresh {
                    self.check_fresh(&state, &cp.time)?;
                }
                return Ok((state, cp.time));
            }
        }
        let replay = self.verify(&mut |_| {})?;
        if fresh {
            self.check_fresh(&replay.state, &replay.checkpoint.time)?;
        }
        self.record(&replay.state, &replay.checkpoint)?;
        let (state, cp) = replay.into_parts();
        Ok((state, cp.time))
    }

    /// BLAKE3 of the `ledger` file's first `seq + 1` lines (lines after them are the residue of
    /// an interrupted write), or `None` if it has fewer. The fast path trusts the host's record
    /// of the checkpoint, never a `ledger` file that disagrees with the one it verified: a line
    /// lost, changed or swapped anywhere sends the reader to the full replay, which names it.
    /// Hashed in 4 MiB blocks on every core: about 2 ms for 100,000 entries.
    pub fn ledger_digest(&self, seq: u64) -> Option<ObjectId> {
        self.ledger_digest_from(None, seq)
    }

    /// [`Registry::ledger_digest`] of a ledger this process just appended to under the writer
    /// lock: the lines hashed when the write began (under the same lock) are not hashed again,
    /// only those appended since, so that recording a commit does not cost a pass over the
    /// whole ledger.
    pub(in crate::repo) fn ledger_digest_appended(&self, seq: u64) -> Option<ObjectId> {
        let base = self.ledger_hashed.lock().ok().and_then(|c| c.clone());
        self.ledger_digest_from(base, seq)
    }

    fn ledger_digest_from(
        &self,
        base: Option<(u64, blake3::Hasher)>,
        seq: u64,
    ) -> Option<ObjectId> {
        use std::io::{Read as _, Seek as _};
        let len = seq.checked_add(1)?.checked_mul(LINE_LEN as u64)?;
        let (from, mut hasher) = match base {
            Some((at, h)) if at <= len => (at, h),
            _ => (0, blake3::Hasher::new()),
        };
        let mut file = crate::util::fsutil::open_regular(&self.dot.join("ledger")).ok()?;
        let left = len - from;
        // Mapped when it can be (no copy out of the page cache); a ledger cut short meanwhile
        // faults, and reads as no digest: the full replay then says what happened.
        if let Some(map) = usize::try_from(left)
            .ok()
            .and_then(|n| crate::util::hash::map::Map::new(&file, from, n))
        {
            crate::util::parallel::hash_into(&mut hasher, map.bytes());
            if map.faulted() || file.metadata().ok()?.len() < len {
                return None;
            }
            return self.ledger_digest_done(len, hasher);
        }
        file.seek(std::io::SeekFrom::Start(from)).ok()?;
        let mut left = left;
        let mut block = vec![0u8; (4 << 20).min(left as usize)];
        while left > 0 {
            let n = (block.len() as u64).min(left) as usize;
            file.read_exact(&mut block[..n]).ok()?;
            crate::util::parallel::hash_into(&mut hasher, &block[..n]);
            left -= n as u64;
        }
        self.ledger_digest_done(len, hasher)
    }

    /// Keeps the hasher of the ledger's first `len` bytes for [`Self::ledger_digest_appended`];
    /// the digest.
    fn ledger_digest_done(&self, len: u64, hasher: blake3::Hasher) -> Option<ObjectId> {
        if let Ok(mut cache) = self.ledger_hashed.lock() {
            *cache = Some((len, hasher.clone()));
        }
        Some(ObjectId::from_hash(hasher.finalize()))
    }

    /// The index, if it hashes to the checkpoint's state and the checkpoint's signature verifies.
    fn verified_index(&self, env: &Unverified, cp: &ledger::Checkpoint) -> Option<Verified<State>> {
        let bytes = read_small(&self.dot.join("index/state.json"), INDEX_LIMIT).ok()?;
        if ObjectId::of(&bytes) != cp.state {
            return None;
        }
        // The bytes hash to the state the signed checkpoint commits to, which was verified
        // canonical when it was computed: parse them directly, without a canonical re-check.
        // From format 5 they are the root, and the buckets are loaded when read.
        let state = if self.config.format_version >= BUCKETS_FORMAT {
            State::from_root(&bytes).ok()?
        } else {
            let mut state: State = serde_json::from_slice(&bytes).ok()?;
            state.index_names();
            state
        };
        if state.registry() != *self.id() || state.head() != cp.head || state.seq() != cp.seq {
            return None;
        }
        // The head entry's signer, read from the entry the checkpoint names (hash-checked by the
        // store), never from the checkpoint's own key id.
        let head = ledger::read_entry(&self.store, &cp.head).ok()?;
        ledger::verify_checkpoint_signature(env, &state, &head.header.actor).ok()?;
        Some(Verified::new(state))
    }

    /// Refuses a history that does not reach the pin's floor: `seq` is the checkpoint's, `id`
    /// the entry listed at the floor's seq.
    pub(in crate::repo) fn check_floor(
        &self,
        seq: u64,
        id: Option<ObjectId>,
    ) -> Result<(), RegistryError> {
        let Some(floor) = &self.floor else {
            return Ok(());
        };
        let found = match id {
            _ if seq < floor.seq => format!("only {} entries", seq + 1),
            Some(id) if floor.matches(&id) => return Ok(()),
            Some(id) => format!("entry {} with head {id}", floor.seq),
            None => format!("no entry {}", floor.seq),
        };
        Err(RegistryError::BelowFloor {
            floor: floor.clone(),
            found,
        })
    }

    /// Refuses a checkpoint older than, or diverging from, the one this host verified.
    pub(in crate::repo) fn check_not_rolled_back(
        &self,
        seen: &Seen,
        cp: &ledger::Checkpoint,
    ) -> Result<(), RegistryError> {
        let forked = seen.seq <= cp.seq
            && ledger::id_at(&self.dot.join("ledger"), seen.seq).is_some_and(|id| id != seen.head);
        if cp.seq < seen.seq || (cp.seq == seen.seq && cp.head != seen.head) || forked {
            return Err(RegistryError::RolledBack {
                found_seq: cp.seq,
                found_head: cp.head,
                seen_seq: seen.seq,
                seen_head: seen.head,
            });
        }
        Ok(())
    }

    /// Whether `index/` holds the state the checkpoint commits to (its root, and in format 5
    /// every bucket).
    pub fn index_is_fresh(&self, replay: &Replay) -> bool {
        self.index_mismatch(&replay.state).is_none()
    }
}
