//! Receiving another site's history from a transfer file (FORMAT.md §11.8): everything in the
//! file is checked against this registry's own pinned root and ledger before anything in the
//! registry changes, then committed with the protocol every write uses.
//!
//! [`Transaction::receive`] streams the file once. It places the incoming history after the
//! local head (refusing another registry's history, a rollback, a fork or a gap), verifies each
//! new entry in order exactly as a replay does (position, signer trusted for the kind at that
//! point, signature, the kind's rules, an `add`'s record), stages every new object in `tmp/`
//! as its hash is checked, checks that the objects are exactly those the new entries reach and
//! the site lacks, and checks the carried checkpoint against the state the entries give.
//! [`Transaction::accept`] then commits: objects, index, ledger, the carried checkpoint last.
//! Dropping an [`Incoming`] instead deletes what it staged: a refused file leaves the registry
//! as it was.

use crate::crypto::envelope::{Kind, Unverified};
use crate::crypto::keys::{Fingerprint, PublicKey};
use crate::format::checkpoint::Checkpoint;
use crate::format::entry::{Body, Entry, EntryError};
use crate::format::id::ObjectId;
use crate::format::manifest::MANIFEST_LIMIT;
use crate::format::transfer::{Frame, Header, ObjectKind, Reader, TransferError};
use crate::repo::ledger::{self, EntryProblem, LedgerError, Verified};
use crate::repo::reach::reachable;
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::StoreError;
use crate::repo::transaction::{Commit, Touched, Transaction};
use crate::repo::trust::PinStatus;
use crate::state::{State, decode_key};
use crate::util::fsutil::{IoContext, IoError, read_small};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use tempfile::TempPath;

/// Why a transfer file is refused by this registry. Nothing in the registry has changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file itself is malformed, truncated, corrupt or over a limit.
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// The registry refused (lock, verification, I/O).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Not pinned on this host.
    #[error(
        "registry {0} is not pinned on this host: an import is checked against this host's pin of the receiving registry"
    )]
    Unpinned(ObjectId),
    /// A clone from a transfer that is not a full export.
    #[error("a clone starts from a full export, and this transfer file starts after entry {base}")]
    NotFull {
        /// The file's base seq.
        base: u64,
    },
    /// A clone with no root to check the history against.
    #[error(
        "no root key is trusted for registry {registry}: its genesis is signed by {root}, which is not pinned on this host and was not given with --trust"
    )]
    NoPin {
        /// The registry the medium carries.
        registry: ObjectId,
        /// The root fingerprint its genesis names (unverified: the medium says so).
        root: Fingerprint,
    },
    /// Another registry's history.
    #[error(
        "the transfer file carries the history of registry {theirs}, not of this registry ({ours})"
    )]
    Foreign {
        /// This registry's id.
        ours: ObjectId,
        /// The file's.
        theirs: ObjectId,
    },
    /// The file's head is one this site already has, or older.
    #[error(
        "rollback refused: the transfer file ends at entry {incoming} ({incoming_head}), and this site already has history up to entry {local} ({local_head})"
    )]
    Rollback {
        /// The file's head seq.
        incoming: u64,
        /// The file's head id.
        incoming_head: ObjectId,
        /// This site's head seq.
        local: u64,
        /// This site's head id.
        local_head: ObjectId,
    },
    /// The file's history and this site's differ.
    #[error(
        "fork refused: at entry {seq}{}, this site has {local}{} and the transfer file has {incoming}",
        if *.at_or_before { " (or before it)" } else { "" },
        .local_kind.map(|k| format!(" (a `{k}` entry)")).unwrap_or_default()
    )]
    Fork {
        /// The first seq at which the two histories are known to differ.
        seq: u64,
        /// This site's entry id there.
        local: ObjectId,
        /// The file's.
        incoming: ObjectId,
        /// Whether the histories may differ earlier (only the file's base was compared).
        at_or_before: bool,
        /// The kind of this site's entry there, when it is a readable entry.
        local_kind: Option<&'static str>,
    },
    /// The file starts after this site's head.
    #[error(
        "the transfer file starts after entry {base}, but this site's history ends at entry {local}: entries {} to {base} are missing",
        .local + 1
    )]
    Gap {
        /// The file's base seq.
        base: u64,
        /// This site's head seq.
        local: u64,
    },
    /// An incoming entry is refused.
    #[error("entry {seq} ({id}) of the transfer file: {problem}")]
    Entry {
        /// Its seq.
        seq: u64,
        /// Its id.
        id: ObjectId,
        /// What is wrong.
        problem: EntryProblem,
    },
    /// An object the new entries reach and this site lacks is not in the file.
    #[error(
        "the transfer file lacks {kind} {id}, which its entries reach and this site does not have"
    )]
    Missing {
        /// What it is.
        kind: &'static str,
        /// Its id.
        id: ObjectId,
    },
    /// An object the new history does not reach (or not as the kind its frame says).
    #[error("object frame {index} ({kind} {id}) is not an object the transfer's history reaches")]
    Extra {
        /// The frame's position.
        index: u64,
        /// The kind its frame names.
        kind: &'static str,
        /// Its id.
        id: ObjectId,
    },
    /// The carried checkpoint does not vouch for the state the entries give.
    #[error("the transfer file's checkpoint: {0}")]
    Checkpoint(String),
    /// Staging an object failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Whether [`Transaction::receive`] keeps what it checks for a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receive {
    /// Stage every new object in `tmp/` for [`Transaction::accept`].
    Stage,
    /// Check everything, staging only the entries and records the checks read back; artifacts
    /// stream through their hash check and are dropped (`reg import --dry-run`).
    DryRun,
}

/// A transfer file checked against this registry and staged, not yet committed. Dropping it
/// deletes what it staged.
#[derive(Debug)]
pub struct Incoming {
    header: Header,
    pub(in crate::repo) new_ids: Vec<ObjectId>,
    pub(in crate::repo) state: State,
    pub(in crate::repo) checkpoint: Vec<u8>,
    touched: Touched,
    pub(in crate::repo) staged: Vec<(ObjectId, TempPath)>,
    kinds: BTreeMap<&'static str, u64>,
    already: u64,
    purged: Vec<ObjectId>,
    objects: u64,
}

impl Incoming {
    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The state after the last incoming entry (verified, not committed).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The new entries' ids, in seq order.
    pub fn new_entries(&self) -> &[ObjectId] {
        &self.new_ids
    }

    /// How many new entries of each kind.
    pub fn kinds(&self) -> &BTreeMap<&'static str, u64> {
        &self.kinds
    }

    /// Entries the file carries that this site already had (an export from an older base).
    pub fn already_had(&self) -> u64 {
        self.already
    }

    /// New objects staged for the store (entries, records, artifacts; 0 in a dry run's count of
    /// artifacts).
    pub fn objects(&self) -> u64 {
        self.objects
    }

    /// Artifact objects that purges among the new entries destroy and nothing else reaches:
    /// deleted after the commit, as at the home site (FORMAT.md §5.10, §11.2).
    pub fn purged_objects(&self) -> &[ObjectId] {
        &self.purged
    }
}

impl Transaction<'_> {
    /// Reads and checks a transfer file against this registry (FORMAT.md §11.8, steps 2 to 6),
    /// changing nothing in it but staging files in `tmp/`, which the returned value owns.
    pub fn receive<R: Read>(
        &self,
        mut reader: Reader<R>,
        mode: Receive,
    ) -> Result<Incoming, ImportError> {
        let reg = self.reg;
        if reg.pin == PinStatus::Unpinned {
            return Err(ImportError::Unpinned(*reg.id()));
        }
        let header = reader.header().clone();
        if header.registry != *reg.id() {
            return Err(ImportError::Foreign {
                ours: *reg.id(),
                theirs: header.registry,
            });
        }
        let local = self.state();
        let (mut local_ids, _) = ledger::read_ids(&reg.dot.join("ledger")).map_err(reg_err)?;
        local_ids.truncate(local.seq() as usize + 1);
        if local_ids.last() != Some(&local.head()) {
            // The state was verified against this file a moment ago; only a concurrent editor
            // could change it.
            return Err(ImportError::Registry(
                LedgerError::Checkpoint("the ledger file changed while it was read".into()).into(),
            ));
        }
        place(reg, &header, reader.entry_ids(), &local_ids)?;
        let start = Start {
            next: 0,
            last_actor: None,
        };
        let mut rx = Receiver::new(
            reg,
            local,
            &header,
            reader.entry_ids().to_vec(),
            mode,
            start,
        );
        let task = crate::util::progress::task("importing", Some(header.bytes));
        while let Some(frame) = reader.next_frame()? {
            rx.frame(&mut reader, frame)?;
            task.advance(frame.len);
        }
        let checkpoint = reader.checkpoint().to_vec();
        rx.finish(header, checkpoint, &local_ids)
    }

    /// Commits a received transfer (FORMAT.md §6): its objects, the index, the ledger lines,
    /// and the carried checkpoint, the commit point; the host record and refs after it.
    pub fn accept(self, incoming: Incoming) -> Result<Verified<State>, RegistryError> {
        let reg = self.reg;
        let Incoming {
            new_ids,
            state,
            checkpoint,
            touched,
            staged,
            ..
        } = incoming;
        let commit = Commit {
            seq_before: self.state().seq(),
            state: &state,
            ids: &new_ids,
            touched: &touched,
        };
        let expected = state.hash();
        reg.write_commit(
            commit,
            || {
                for (id, path) in staged {
                    reg.store.commit_path(path, &id)?;
                }
                Ok(())
            },
            |hash| {
                if hash != expected {
                    return Err(LedgerError::Checkpoint(
                        "the state written is not the state received".into(),
                    )
                    .into());
                }
                Ok(checkpoint)
            },
        )?;
        Ok(Verified::new(state))
    }
}

fn reg_err(e: LedgerError) -> ImportError {
    ImportError::Registry(e.into())
}

/// Places the file's history against this site's (FORMAT.md §11.8 step 3): its base must be an
/// entry this site has, every entry it lists that this site has must be the same, and it must
/// reach past this site's head.
fn place(
    reg: &Registry,
    header: &Header,
    ids: &[ObjectId],
    local_ids: &[ObjectId],
) -> Result<(), ImportError> {
    let local = local_ids.len() as u64 - 1;
    let kind_at = |seq: u64| {
        ledger::read_entry(&reg.store, &local_ids[seq as usize])
            .ok()
            .map(|e| e.body.kind().name())
    };
    if let Some(base) = header.base {
        if base.seq > local {
            return Err(ImportError::Gap {
                base: base.seq,
                local,
            });
        }
        if local_ids[base.seq as usize] != base.head {
            return Err(ImportError::Fork {
                seq: base.seq,
                local: local_ids[base.seq as usize],
                incoming: base.head,
                at_or_before: true,
                local_kind: kind_at(base.seq),
            });
        }
    }
    let first = header.first_seq();
    for (i, id) in ids.iter().enumerate() {
        let seq = first + i as u64;
        if seq > local {
            break;
        }
        if local_ids[seq as usize] != *id {
            return Err(ImportError::Fork {
                seq,
                local: local_ids[seq as usize],
                incoming: *id,
                at_or_before: false,
                local_kind: kind_at(seq),
            });
        }
    }
    if header.head.seq <= local {
        return Err(ImportError::Rollback {
            incoming: header.head.seq,
            incoming_head: header.head.head,
            local,
            local_head: local_ids[local as usize],
        });
    }
    Ok(())
}

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
