//! Reading a registry on this host: the verified current state (the fast path of FORMAT.md
//! §8, or a full replay), the checks against what this host pinned and verified before (the
//! pin's floor, rollback and fork), and the record of what it verified.

use crate::crypto::envelope::Unverified;
use crate::format::id::ObjectId;
use crate::repo::ledger::{self, LINE_LEN, Replay, Verified, Visit};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::trust::{PinStatus, Seen};
use crate::state::State;
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

    /// Records a verified checkpoint as this host's latest for the registry, if the registry is
    /// pinned. An unpinned registry is never recorded: it proves nothing yet, and a record made
    /// from whatever medium a host met first would later refuse the genuine one as a "rollback"
    /// (a medium forked by any key the registry trusts could lock the real one out).
    pub fn record(&self, cp: &ledger::Checkpoint) -> Result<(), RegistryError> {
        if self.pin == PinStatus::Unpinned {
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
    /// A checkpoint older than the policy's `checkpoint_max_age_days` (by this host's clock) is
    /// refused as expired; writers, which re-sign it, read through [`Registry::begin`] instead.
    pub fn state(&self) -> Result<Verified<State>, RegistryError> {
        // One committed state from the first file read to the last (FORMAT.md §6).
        let _reading = self.read_lock()?;
        let (state, time) = self.current()?;
        self.check_fresh(&state, &time)?;
        Ok(state)
    }

    /// Refuses a checkpoint signed at `time` that the state's policy says has expired.
    pub fn check_fresh(&self, state: &State, time: &str) -> Result<(), RegistryError> {
        let Some(days) = state.policy().checkpoint_max_age_days else {
            return Ok(());
        };
        let signed = encoding::parse_rfc3339(time);
        let now = encoding::parse_rfc3339(&self.clock.now()?);
        let (Some(signed), Some(now)) = (signed, now) else {
            return Ok(()); // times were checked when read; the host clock by `now`
        };
        if now.saturating_sub(signed) > u64::from(days) * 86_400 {
            return Err(RegistryError::Expired {
                time: time.to_string(),
                days,
            });
        }
        Ok(())
    }

    /// The verified current state and its checkpoint's time, expired or not.
    pub(in crate::repo) fn current(&self) -> Result<(Verified<State>, String), RegistryError> {
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
                return Ok((state, cp.time));
            }
        }
        let replay = self.verify(&mut |_| {})?;
        self.record(&replay.checkpoint)?;
        let (state, cp) = replay.into_parts();
        Ok((state, cp.time))
    }

    /// BLAKE3 of the `ledger` file's first `seq + 1` lines (lines after them are the residue of
    /// an interrupted write), or `None` if it has fewer. The fast path trusts the host's record
    /// of the checkpoint, never a `ledger` file that disagrees with the one it verified: a line
    /// lost, changed or swapped anywhere sends the reader to the full replay, which names it.
    /// About 3 ms for 100,000 entries.
    pub fn ledger_digest(&self, seq: u64) -> Option<ObjectId> {
        use std::io::Read as _;
        let len = seq.checked_add(1)?.checked_mul(LINE_LEN as u64)?;
        let file = crate::util::fsutil::open_regular(&self.dot.join("ledger")).ok()?;
        let mut hasher = blake3::Hasher::new();
        let copied = std::io::copy(&mut file.take(len), &mut hasher).ok()?;
        (copied == len).then(|| ObjectId::from_hash(hasher.finalize()))
    }

    /// The index, if it hashes to the checkpoint's state and the checkpoint's signature verifies.
    fn verified_index(&self, env: &Unverified, cp: &ledger::Checkpoint) -> Option<Verified<State>> {
        let bytes = read_small(&self.dot.join("index/state.json"), INDEX_LIMIT).ok()?;
        if ObjectId::of(&bytes) != cp.state {
            return None;
        }
        // The bytes hash to the state the signed checkpoint commits to, which was verified
        // canonical when it was computed: parse them directly, without a canonical re-check.
        let mut state: State = serde_json::from_slice(&bytes).ok()?;
        state.index_names();
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

    /// Whether `index/state.json` holds the state the checkpoint commits to.
    pub fn index_is_fresh(&self, replay: &Replay) -> bool {
        read_small(&self.dot.join("index/state.json"), 1 << 30)
            .is_ok_and(|b| ObjectId::of(&b) == replay.checkpoint.state)
    }
}
