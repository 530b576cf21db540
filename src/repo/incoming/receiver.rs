//! The receiving side of a transfer while its frames stream by: each new entry verified in
//! order against the evolving state, each new object staged in `tmp/`, and at the end the
//! object set and the carried checkpoint checked against the state the entries give.

use super::{ImportError, Incoming, Receive};
use crate::crypto::envelope::{Kind, Unverified};
use crate::crypto::keys::{Fingerprint, PublicKey};
use crate::format::checkpoint::Checkpoint;
use crate::format::entry::{Body, Entry, EntryError};
use crate::format::id::ObjectId;
use crate::format::manifest::MANIFEST_LIMIT;
use crate::format::transfer::{Frame, Header, ObjectKind, Reader, TransferError};
use crate::repo::ledger::{self, EntryProblem};
use crate::repo::reach::reachable;
use crate::repo::registry::Registry;
use crate::repo::store::StoreError;
use crate::repo::transaction::Touched;
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
    purges: Vec<ObjectId>,
    /// Staged objects, in the order received.
    staged: Vec<(ObjectId, TempPath)>,
    /// Where each staged record is, for the `add` that names it.
    record_paths: HashMap<ObjectId, usize>,
    /// Record frames received, with their frame index.
    records: Vec<(u64, ObjectId)>,
    artifacts: HashSet<ObjectId>,
    needs: Option<Needs>,
    frames: u64,
}

impl<'a> Receiver<'a> {
    pub(in crate::repo) fn new(
        reg: &'a Registry,
        local: &'a State,
        header: &Header,
        ids: Vec<ObjectId>,
        mode: Receive,
        start: Start,
    ) -> Self {
        Receiver {
            reg,
            local,
            mode,
            ids,
            first: header.first_seq(),
            next: start.next,
            state: local.clone(),
            new_ids: Vec::new(),
            last_actor: start.last_actor,
            touched: Touched::default(),
            kinds: BTreeMap::new(),
            purges: Vec::new(),
            staged: Vec::new(),
            record_paths: HashMap::new(),
            records: Vec::new(),
            artifacts: HashSet::new(),
            needs: None,
            frames: 0,
        }
    }

    pub(in crate::repo) fn frame<R: Read>(
        &mut self,
        reader: &mut Reader<R>,
        frame: Frame,
    ) -> Result<(), ImportError> {
        let index = self.frames;
        self.frames += 1;
        match frame.kind {
            ObjectKind::Entry => self.entry(reader, frame),
            ObjectKind::Record => {
                self.records.push((index, frame.id));
                if self.local.models().contains_key(&frame.id) {
                    reader.copy_body(&mut std::io::sink())?;
                } else {
                    let path = self.stage(reader)?;
                    self.record_paths.insert(frame.id, self.staged.len());
                    self.staged.push((frame.id, path));
                }
                Ok(())
            }
            ObjectKind::Artifact => self.artifact(reader, frame, index),
        }
    }

    /// Streams the pending frame's bytes into a new file in `tmp/`, hash-checked.
    fn stage<R: Read>(&self, reader: &mut Reader<R>) -> Result<TempPath, ImportError> {
        let mut tmp = self.reg.store.staging_file()?;
        reader.copy_body(tmp.as_file_mut())?;
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
        if seq <= self.local.seq() {
            return Ok(()); // the same id as this site's entry there (checked by `place`)
        }
        let id = frame.id;
        let fail = |problem: EntryProblem| ImportError::Entry { seq, id, problem };
        let entry = self.verify(seq, &bytes).map_err(fail)?;
        self.state.apply(id, &entry).map_err(|e| fail(e.into()))?;
        let mut tmp = self.reg.store.staging_file()?;
        std::io::Write::write_all(tmp.as_file_mut(), &bytes).ctx("write", tmp.path())?;
        self.staged.push((id, tmp.into_temp_path()));
        *self.kinds.entry(entry.body.kind().name()).or_default() += 1;
        if let Body::Purge(p) = &entry.body {
            self.purges.push(p.model);
        }
        self.touched.add(&entry.body);
        self.last_actor = Some(entry.header.actor);
        self.new_ids.push(id);
        Ok(())
    }

    /// Checks one new entry as a replay does (FORMAT.md §5.1): its position after the last
    /// entry, its signer trusted for its kind at this point, its signature, and for an `add`
    /// its record; the kind's rules are checked by `apply`.
    fn verify(&self, seq: u64, bytes: &[u8]) -> Result<Entry, EntryProblem> {
        let env = Unverified::parse(bytes).map_err(EntryError::from)?;
        let entry = Entry::from_envelope(&env)?;
        let h = &entry.header;
        let prev = self.new_ids.last().copied().unwrap_or(self.local.head());
        if h.seq != seq || h.prev != Some(prev) || h.registry != Some(self.local.registry()) {
            return Err(EntryProblem::Position(format!(
                "it says it is entry {} after {} in registry {}, but it is entry {seq} after {prev} in registry {}",
                h.seq,
                h.prev.map_or_else(|| "(none)".into(), |p| p.to_string()),
                h.registry
                    .map_or_else(|| "(none)".into(), |r| r.to_string()),
                self.local.registry()
            )));
        }
        self.state.check_signer(&h.actor, &entry.body)?;
        let key = self
            .key(&h.actor)
            .ok_or_else(|| crate::state::StateError::UnknownSigner(h.actor.clone()))?;
        env.verify_single(&key)?;
        if let Body::Add(a) = &entry.body {
            let claim = self.claim(&a.record)?;
            self.state.check_record(a, &claim)?;
        }
        Ok(entry)
    }

    fn key(&self, fp: &Fingerprint) -> Option<PublicKey> {
        let ks = self.state.keys().get(fp)?;
        decode_key(fp, &ks.public_key).ok()
    }

    /// An `add`'s record: received in this file (and staged), or one this site already has.
    fn claim(&self, record: &ObjectId) -> Result<crate::format::claim::RecordClaim, EntryProblem> {
        let key_of = |fp: &Fingerprint| self.key(fp);
        if let Some(&i) = self.record_paths.get(record) {
            let path: &std::path::Path = &self.staged[i].1;
            let bytes = read_small(path, MANIFEST_LIMIT).map_err(StoreError::from)?;
            return Ok(crate::repo::replay::claim_of_bytes(record, bytes, &key_of)?);
        }
        Ok(crate::repo::replay::read_claim(
            &self.reg.store,
            record,
            &key_of,
        )?)
    }

    /// The objects the new head reaches: computed at the first artifact frame, or at the end.
    fn needs(&mut self) -> Result<&Needs, ImportError> {
        if self.needs.is_none() {
            let before = reachable([], self.local);
            let records: HashSet<ObjectId> = self.state.models().keys().copied().collect();
            for (index, id) in &self.records {
                if !records.contains(id) {
                    return Err(ImportError::Extra {
                        index: *index,
                        kind: ObjectKind::Record.name(),
                        id: *id,
                    });
                }
            }
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
        self.artifacts.insert(frame.id);
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
        local_ids: &[ObjectId],
    ) -> Result<Incoming, ImportError> {
        self.needs()?;
        let needs = self.needs.as_ref().expect("computed above");
        let received: HashSet<ObjectId> = self.records.iter().map(|(_, id)| *id).collect();
        let mut missing: Vec<(&'static str, ObjectId)> = needs
            .records
            .iter()
            .filter(|id| !self.local.models().contains_key(id) && !received.contains(id))
            .map(|id| (ObjectKind::Record.name(), *id))
            .collect();
        missing.extend(
            needs
                .artifacts
                .iter()
                .filter(|id| !needs.had.contains(id) && !self.artifacts.contains(id))
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
            let all = local_ids.iter().chain(&self.new_ids).copied();
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
            already,
            purged,
        })
    }

    fn check_checkpoint(&self, bytes: &[u8]) -> Result<(), ImportError> {
        let bad = |m: String| Err(ImportError::Checkpoint(m));
        let env = Unverified::parse(bytes).map_err(|e| ImportError::Checkpoint(e.to_string()))?;
        let cp: Checkpoint = env
            .payload_as(Kind::Checkpoint)
            .map_err(|e| ImportError::Checkpoint(e.to_string()))?;
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
        self.reg.check_fresh(&self.state, &cp.time)?;
        Ok(())
    }
}
