//! The receiving side of a transfer while its frames stream by: each new entry verified in
//! order against the evolving state, each new object staged in `tmp/`, and at the end the
//! object set and the carried checkpoint checked against the state the entries give.

use super::{ImportError, Incoming, Receive};
use crate::crypto::envelope::Unverified;
use crate::crypto::keys::{Fingerprint, PublicKey};
use crate::format::checkpoint;
use crate::format::entry::{Body, Entry};
use crate::format::id::ObjectId;
use crate::format::manifest::MANIFEST_LIMIT;
use crate::format::transfer::{Frame, Header, ObjectKind, Reader, TransferError};
use crate::repo::ledger::{self, EntryProblem, Position, admit, check_unordered};
use crate::repo::reach::reachable;
use crate::repo::registry::transaction::Touched;
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::sizes::Sizes;
use crate::repo::store::StoreError;
use crate::state::{State, decode_key};
use crate::util::fsutil::{IoContext, read_small};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use tempfile::TempPath;

/// The objects the new head reaches, computed once the last entry is verified (no entry or
/// record frame follows the first artifact frame, FORMAT.md §11.5).
struct Needs {
    /// Records of models the new state knows.
    records: HashSet<ObjectId>,
    /// Artifacts of models the new state has not purged.
    artifacts: HashSet<ObjectId>,
    /// Objects this site's ledger already reaches.
    had: HashSet<ObjectId>,
    /// The length each artifact frame must have.
    sizes: Sizes,
}

/// Where a [`Receiver`] starts in the file: after the entries already read (a clone reads
/// genesis itself), with the signer of the last one.
pub(in crate::repo) struct Start {
    /// Entry frames already read.
    pub(in crate::repo) next: usize,
    /// Their last signer, who signs the checkpoint if no entry follows.
    pub(in crate::repo) last_actor: Option<Fingerprint>,
}

/// The state of one [`Transaction::receive`] (or a clone) while the frames stream by.
pub(in crate::repo) struct Receiver<'a> {
    reg: &'a Registry,
    local: &'a State,
    /// The site's entry ids up to its head: objects it already has.
    local_ids: &'a [ObjectId],
    mode: Receive,
    /// The file's entry ids and the seq of the first.
    ids: Vec<ObjectId>,
    first: u64,
    /// The next entry frame's position in `ids`.
    next: usize,
    state: State,
    new_ids: Vec<ObjectId>,
    last_actor: Option<Fingerprint>,
    touched: Touched,
    kinds: BTreeMap<&'static str, u64>,
    /// The reason of the last new key-trust, key-withdraw or key-revoke of each key.
    key_reasons: BTreeMap<Fingerprint, String>,
    purges: Vec<ObjectId>,
    /// Staged objects, in the order received.
    staged: Vec<(ObjectId, TempPath)>,
    /// Where each staged record is, for a later `add` that names it again.
    record_paths: HashMap<ObjectId, usize>,
    /// A record frame received and not yet claimed: the next entry frame must be the `add`
    /// that names it (FORMAT.md §11.5). Held in memory (at most [`MANIFEST_LIMIT`] bytes) and
    /// staged only once that entry verifies, so that nothing unverified reaches the disk.
    pending: Option<(u64, ObjectId, Vec<u8>)>,
    /// Every object id received, of any kind: an artifact whose bytes are also a record or an
    /// entry is sent once, in its first place.
    received: HashSet<ObjectId>,
    needs: Option<Needs>,
    frames: u64,
}

impl<'a> Receiver<'a> {
    pub(in crate::repo) fn new(
        reg: &'a Registry,
        local: &'a State,
        local_ids: &'a [ObjectId],
        header: &Header,
        ids: Vec<ObjectId>,
        mode: Receive,
        start: Start,
    ) -> Self {
        Receiver {
            reg,
            local,
            local_ids,
            mode,
            ids,
            first: header.first_seq(),
            next: start.next,
            state: local.clone(),
            new_ids: Vec::new(),
            last_actor: start.last_actor,
            touched: Touched::default(),
            kinds: BTreeMap::new(),
            key_reasons: BTreeMap::new(),
            purges: Vec::new(),
            staged: Vec::new(),
            record_paths: HashMap::new(),
            pending: None,
            received: HashSet::new(),
            needs: None,
            // Frames a clone read itself (genesis) count, so that frame numbers are the file's.
            frames: start.next as u64,
        }
    }

    pub(in crate::repo) fn frame<R: Read>(
        &mut self,
        reader: &mut Reader<R>,
        frame: Frame,
    ) -> Result<(), ImportError> {
        let index = self.frames;
        self.frames += 1;
        self.received.insert(frame.id);
        match frame.kind {
            ObjectKind::Entry => self.entry(reader, frame),
            ObjectKind::Record => {
                if let Some((at, id, _)) = &self.pending {
                    // Two records in a row: the first is claimed by no entry.
                    return Err(extra(*at, ObjectKind::Record, *id));
                }
                let bytes = reader.read_body()?;
                self.pending = Some((index, frame.id, bytes));
                Ok(())
            }
            ObjectKind::Artifact => self.artifact(reader, frame, index),
        }
    }

    /// Claims the pending record for the entry just read: it must be the record that entry
    /// adds; returns its bytes.
    fn claim_pending(&mut self, entry: &Entry) -> Result<Option<Vec<u8>>, ImportError> {
        let Some((at, id, bytes)) = self.pending.take() else {
            return Ok(None);
        };
        match &entry.body {
            Body::Add(a) if a.record == id => Ok(Some(bytes)),
            _ => Err(extra(at, ObjectKind::Record, id)),
        }
    }

    /// Streams the pending frame's bytes into a new file in `tmp/`, hash-checked.
    fn stage<R: Read>(&self, reader: &mut Reader<R>) -> Result<TempPath, ImportError> {
        let mut tmp = self.reg.store.staging_file()?;
        reader.copy_body(tmp.as_file_mut())?;
        crate::util::fsutil::failpoint("receive:after-stage");
        // Closed now (its lock goes with it): millions of staged objects hold no descriptor.
        Ok(tmp.into_temp_path())
    }

    fn entry<R: Read>(&mut self, reader: &mut Reader<R>, frame: Frame) -> Result<(), ImportError> {
        let seq = self.first + self.next as u64;
        self.next += 1;
        if self.ids.get(self.next - 1) != Some(&frame.id) {
            // The codec admits only the listed ids, in order; checked again where it matters.
            return Err(TransferError::EntryIds(format!(
                "entry frame {} is not the listed entry {seq}",
                frame.id
            ))
            .into());
        }
        let bytes = reader.read_body()?;
        let id = frame.id;
        let fail = |problem: EntryProblem| ImportError::Entry { seq, id, problem };
        if seq <= self.local.seq() {
            // The same id as this site's entry there (checked by `place`): its bytes are this
            // site's own entry's, so only the record sent before it is checked.
            if self.pending.is_some() {
                let (_, entry) = decode(&bytes).map_err(fail)?;
                self.claim_pending(&entry)?;
            }
            return Ok(());
        }
        let (env, entry) = decode(&bytes).map_err(fail)?;
        let record = self.claim_pending(&entry)?;
        // Exactly the checks `ledger verify` makes of an entry, by the same code (FORMAT.md
        // §11.8): its position after the last entry, its signer and signature, an `add`'s
        // record, the kind's rules; then it is applied to the new state.
        let at = Position {
            seq,
            prev: Some(self.new_ids.last().copied().unwrap_or(self.local.head())),
            registry: Some(self.local.registry()),
        };
        let checked = check_unordered(&env, &entry, &|fp| self.key(fp), &|r| {
            self.claim(r, record.as_deref())
        });
        admit(&mut self.state, id, &entry, &at, checked).map_err(fail)?;
        if let (Body::Add(a), Some(record)) = (&entry.body, record)
            && !self.local.models().contains_key(&a.record)
            && !self.record_paths.contains_key(&a.record)
        {
            let mut tmp = self.reg.store.staging_file()?;
            std::io::Write::write_all(tmp.as_file_mut(), &record).ctx("write", tmp.path())?;
            self.record_paths.insert(a.record, self.staged.len());
            self.staged.push((a.record, tmp.into_temp_path()));
        }
        let mut tmp = self.reg.store.staging_file()?;
        std::io::Write::write_all(tmp.as_file_mut(), &bytes).ctx("write", tmp.path())?;
        self.staged.push((id, tmp.into_temp_path()));
        *self.kinds.entry(entry.body.kind().name()).or_default() += 1;
        if let Body::Purge(p) = &entry.body {
            self.purges.push(p.model);
        }
        let key_reason = match &entry.body {
            Body::KeyTrust(t) => Some((&t.key.fingerprint, &t.reason)),
            Body::KeyWithdraw(w) => Some((&w.fingerprint, &w.reason)),
            Body::KeyRevoke(r) => Some((&r.fingerprint, &r.reason)),
            _ => None,
        };
        if let Some((fp, reason)) = key_reason {
            self.key_reasons.insert(fp.clone(), reason.clone());
        }
        self.touched.add(&entry.body);
        self.last_actor = Some(entry.header.actor);
        self.new_ids.push(id);
        Ok(())
    }

    fn key(&self, fp: &Fingerprint) -> Option<PublicKey> {
        let ks = self.state.keys().get(fp)?;
        decode_key(fp, &ks.public_key).ok()
    }

    /// An `add`'s record: sent just before it, received earlier in this file (and staged), or
    /// one this site already has.
    fn claim(
        &self,
        record: &ObjectId,
        sent: Option<&[u8]>,
    ) -> Result<crate::format::claim::RecordClaim, EntryProblem> {
        let key_of = |fp: &Fingerprint| self.key(fp);
        if let Some(bytes) = sent {
            return Ok(ledger::claim_of_bytes(record, bytes.to_vec(), &key_of)?);
        }
        if let Some(&i) = self.record_paths.get(record) {
            let path: &std::path::Path = &self.staged[i].1;
            let bytes = read_small(path, MANIFEST_LIMIT).map_err(StoreError::from)?;
            return Ok(ledger::claim_of_bytes(record, bytes, &key_of)?);
        }
        Ok(ledger::read_claim(&self.reg.store, record, &key_of)?)
    }

    /// The objects the new head reaches: computed at the first artifact frame, or at the end.
    fn needs(&mut self) -> Result<&Needs, ImportError> {
        if self.needs.is_none() {
            if let Some((at, id, _)) = self.pending.take() {
                // A record no entry claimed.
                return Err(extra(at, ObjectKind::Record, id));
            }
            let before = reachable(self.local_ids.iter().copied(), self.local);
            let records: HashSet<ObjectId> = self.state.models().keys().copied().collect();
            self.needs = Some(Needs {
                records,
                artifacts: self
                    .state
                    .models()
                    .values()
                    .filter(|m| !m.purged)
                    .flat_map(|m| m.artifacts.iter().copied())
                    .collect(),
                had: before.needed.keys().copied().collect(),
                sizes: Sizes::new(&self.state),
            });
        }
        Ok(self.needs.as_ref().expect("computed above"))
    }

    fn artifact<R: Read>(
        &mut self,
        reader: &mut Reader<R>,
        frame: Frame,
        index: u64,
    ) -> Result<(), ImportError> {
        let needs = self.needs()?;
        if !needs.artifacts.contains(&frame.id) {
            return Err(ImportError::Extra {
                index,
                kind: ObjectKind::Artifact.name(),
                id: frame.id,
            });
        }
        let had = needs.had.contains(&frame.id);
        // Before a byte of it is read, whatever is done with it next.
        let Receiver {
            needs,
            reg,
            record_paths,
            staged,
            ..
        } = self;
        let sizes = &mut needs.as_mut().expect("computed above").sizes;
        let unreadable = |record, detail| ImportError::UnreadableRecord { record, detail };
        let read = |r: &ObjectId| record_bytes(reg, record_paths, staged, r);
        if let Err(stated) = sizes.check(&frame.id, frame.len, read, unreadable)? {
            return Err(ImportError::Length {
                index,
                id: frame.id,
                len: frame.len,
                stated,
            });
        }
        if had || self.mode == Receive::DryRun {
            reader.copy_body(&mut std::io::sink())?;
        } else {
            let path = self.stage(reader)?;
            self.staged.push((frame.id, path));
        }
        Ok(())
    }

    /// After the last frame: nothing the new head needs is missing, and the checkpoint vouches
    /// for the state the entries give (FORMAT.md §11.8 steps 5 and 6).
    pub(in crate::repo) fn finish(
        mut self,
        header: Header,
        checkpoint: Vec<u8>,
    ) -> Result<Incoming, ImportError> {
        self.needs()?;
        let needs = self.needs.as_ref().expect("computed above");
        let lacks = |id: &&ObjectId| !needs.had.contains(id) && !self.received.contains(id);
        let mut missing: Vec<(&'static str, ObjectId)> = needs
            .records
            .iter()
            .filter(lacks)
            .map(|id| (ObjectKind::Record.name(), *id))
            .collect();
        missing.extend(
            needs
                .artifacts
                .iter()
                .filter(lacks)
                .map(|id| (ObjectKind::Artifact.name(), *id)),
        );
        missing.sort();
        if let Some((kind, id)) = missing.first() {
            return Err(ImportError::Missing { kind, id: *id });
        }
        self.check_checkpoint(&checkpoint)?;
        let purged = if self.purges.is_empty() {
            Vec::new()
        } else {
            let all = self.local_ids.iter().chain(&self.new_ids).copied();
            let reach = reachable(all, &self.state);
            let mut doomed: Vec<ObjectId> = self
                .purges
                .iter()
                .filter_map(|m| self.state.models().get(m))
                .flat_map(|m| m.artifacts.iter().copied())
                .filter(|a| reach.is_purged(a))
                .collect();
            doomed.sort();
            doomed.dedup();
            doomed
        };
        let already = self.next as u64 - self.new_ids.len() as u64;
        Ok(Incoming {
            header,
            objects: self.staged.len() as u64,
            new_ids: self.new_ids,
            state: self.state,
            checkpoint,
            touched: self.touched,
            staged: self.staged,
            kinds: self.kinds,
            key_reasons: self.key_reasons,
            already,
            purged,
        })
    }

    fn check_checkpoint(&self, bytes: &[u8]) -> Result<(), ImportError> {
        let bad = |m: String| Err(ImportError::Checkpoint(m));
        let (env, cp) =
            checkpoint::parse(bytes).map_err(|e| ImportError::Checkpoint(e.to_string()))?;
        if cp.registry != self.state.registry()
            || cp.seq != self.state.seq()
            || cp.head != self.state.head()
        {
            return bad(format!(
                "it names entry {} ({}) of registry {}, but the entries end at entry {} ({})",
                cp.seq,
                cp.head,
                cp.registry,
                self.state.seq(),
                self.state.head()
            ));
        }
        let actor = self
            .last_actor
            .as_ref()
            .expect("a transfer that passed `place` carries a new entry");
        ledger::verify_checkpoint_signature(&env, &self.state, actor)
            .map_err(|e| ImportError::Checkpoint(e.to_string()))?;
        let hash = self.state.hash();
        if cp.state != hash {
            return bad(format!(
                "it commits to state {}, but the entries give {hash}",
                cp.state
            ));
        }
        match self.reg.check_fresh(&self.state, &cp.time) {
            Err(RegistryError::Stale(s)) => Err(ImportError::Stale(s)),
            other => Ok(other?),
        }
    }
}

/// A record of the new state, verified: staged from this file (`paths` into `staged`), or the
/// site's own, hash-checked.
fn record_bytes(
    reg: &Registry,
    paths: &HashMap<ObjectId, usize>,
    staged: &[(ObjectId, TempPath)],
    record: &ObjectId,
) -> Result<Vec<u8>, ImportError> {
    if let Some(&i) = paths.get(record) {
        let path: &std::path::Path = &staged[i].1;
        return Ok(read_small(path, MANIFEST_LIMIT).map_err(StoreError::from)?);
    }
    Ok(reg.store.get(record, MANIFEST_LIMIT)?)
}

/// Parses an entry frame's bytes (hash-checked by the codec) as a signed entry.
fn decode(bytes: &[u8]) -> Result<(Unverified, Entry), EntryProblem> {
    Ok(Entry::parse(bytes)?)
}

/// An object the transfer's history does not reach where it was sent.
fn extra(index: u64, kind: ObjectKind, id: ObjectId) -> ImportError {
    ImportError::Extra {
        index,
        kind: kind.name(),
        id,
    }
}
