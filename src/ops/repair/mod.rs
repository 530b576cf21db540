//! `reg repair --from SRC`: puts back damaged objects of the local store from a second registry
//! or a transfer file (FORMAT.md §11.13).
//!
//! Content addressing is the proof: bytes whose BLAKE3 is X can only be object X, so nothing in
//! SRC is trusted (it need not be pinned or verified) and every byte taken from it is hashed as
//! it is staged. What must be decided is which ids may be restored, and only ids the local
//! registry names are: the genesis `config.json` names, the entries the local `ledger` lists up
//! to the local checkpoint and the records their `add`s name (the replay reads both), then,
//! once the local ledger verifies as every command verifies it, the records and artifacts the
//! verified entries reach (the set gc keeps). Only object files change: the ledger, checkpoint,
//! config, index and refs are never written, and nothing is removed but a damaged file a
//! restored object replaces. `source.rs` reads SRC; `checks.rs` judges one object.

use crate::format::entry::Body;
use crate::format::id::ObjectId;
use crate::format::transfer::{ObjectKind, TransferError};
use crate::repo::ledger;
use crate::repo::reach::{Why, reachable};
use crate::repo::registry::{OpenOptions, Registry, RegistryError};
use crate::repo::store::{Store, StoreError};
use crate::util::fsutil::IoError;
use source::Source;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod checks;
mod source;

use checks::{artifact_sizes, damage_of, damaged_genesis, is_entry_at, limit_of, placeable};

/// How a local object is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// Nothing at its name.
    Missing,
    /// Its bytes no longer hash to its name.
    Corrupt,
    /// A link, a directory or a special file at its name.
    NotAFile,
}

impl Damage {
    /// How the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Damage::Missing => "missing",
            Damage::Corrupt => "corrupt",
            Damage::NotAFile => "not a regular file",
        }
    }

    /// Its one-word code in `reg repair --json` (schema/repair.schema.json).
    pub fn code(self) -> &'static str {
        match self {
            Damage::Missing => "missing",
            Damage::Corrupt => "corrupt",
            Damage::NotAFile => "not-file",
        }
    }
}

/// A damaged object the local registry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged {
    /// What the ledger names it as.
    pub kind: ObjectKind,
    /// Its id.
    pub id: ObjectId,
    /// What is wrong with it.
    pub damage: Damage,
}

/// A damaged object that stays damaged, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrepaired {
    /// The object.
    pub object: Damaged,
    /// Why it was not restored (SRC does not hold it intact, or its place cannot take it).
    pub reason: String,
}

/// What SRC is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A second copy of this registry.
    Registry,
    /// A transfer file written by `reg export`.
    Transfer,
}

/// What a repair did (or, with `dry_run`, would do).
#[derive(Debug, Clone)]
pub struct Repaired {
    /// What SRC was.
    pub source: SourceKind,
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// The objects restored from SRC (with `dry_run`: that SRC holds intact), in the order
    /// restored: entries, records, artifacts.
    pub restored: Vec<Damaged>,
    /// Damaged objects left as they were.
    pub unrepaired: Vec<Unrepaired>,
    /// Why the records and artifacts the ledger reaches were not examined (the ledger did not
    /// verify, or a dry run would first have had to restore entries or records); `None` when
    /// they were.
    pub unverified: Option<String>,
    /// How many named objects were checked (hashed) in the local store.
    pub checked: u64,
    /// The local registry's id and root when it is not pinned on this host (it was then
    /// checked only against itself), for the caller to say so.
    pub unpinned: Option<(ObjectId, crate::crypto::keys::Fingerprint)>,
}

impl Repaired {
    /// Ok when every damaged object the registry names was restored (or would be), and the
    /// whole ledger was examined; otherwise the error saying what is left.
    pub fn finish(&self) -> Result<(), RepairError> {
        if let Some(reason) = &self.unverified {
            return Err(if self.dry_run {
                RepairError::DryRunStopped(reason.clone())
            } else {
                RepairError::Unverified(reason.clone())
            });
        }
        if !self.unrepaired.is_empty() {
            return Err(RepairError::Incomplete {
                left: self.unrepaired.len(),
            });
        }
        Ok(())
    }
}

/// Errors of `reg repair`.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// The local registry failed to open, lock or read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// SRC is neither a registry nor a transfer file.
    #[error("`{path}` is not a registry or a transfer file: {detail}")]
    Source {
        /// SRC.
        path: PathBuf,
        /// Why not.
        detail: String,
    },
    /// SRC holds another registry's objects.
    #[error(
        "`{path}` holds registry {theirs}, not this registry ({ours}): another registry's objects are never taken"
    )]
    Foreign {
        /// SRC.
        path: PathBuf,
        /// The registry SRC names.
        theirs: ObjectId,
        /// This registry.
        ours: ObjectId,
    },
    /// The transfer file's preamble could not be read.
    #[error("transfer file `{path}`: {source}")]
    Transfer {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: TransferError,
    },
    /// Some damaged objects stay damaged.
    #[error("{left} damaged object(s) could not be repaired from this source")]
    Incomplete {
        /// How many.
        left: usize,
    },
    /// The ledger did not verify, so what it reaches was not examined.
    #[error("the records and artifacts were not examined: {0}")]
    Unverified(String),
    /// A dry run cannot verify the ledger without restoring the entries or records it lists.
    #[error("the dry run stopped before the records and artifacts: {0}")]
    DryRunStopped(String),
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl From<StoreError> for RepairError {
    fn from(e: StoreError) -> Self {
        RepairError::Registry(e.into())
    }
}

/// Restores the damaged objects of the registry at `dot` (its `.registry` directory) from
/// `from` (FORMAT.md §11.13); with `dry_run`, only says what it would restore.
pub fn repair(
    dot: &Path,
    opts: &OpenOptions,
    from: &Path,
    dry_run: bool,
) -> Result<Repaired, RepairError> {
    let mut run = Run {
        src: None,
        from: from.to_path_buf(),
        dry_run,
        out: Repaired {
            source: SourceKind::Registry,
            dry_run,
            restored: Vec::new(),
            unrepaired: Vec::new(),
            unverified: None,
            checked: 0,
            unpinned: None,
        },
        sizes: BTreeMap::new(),
        positions: BTreeMap::new(),
    };
    let Some(reg) = open_restoring_genesis(dot, opts, &mut run)? else {
        return Ok(run.out);
    };
    if *reg.pin() == crate::repo::trust::PinStatus::Unpinned {
        run.out.unpinned = Some((*reg.id(), reg.root().clone()));
    }
    let _lock = reg.lock()?;
    let store = reg.store().clone();
    let mut seen = restore_ledger_objects(&mut run, &store, dot, *reg.id())?;
    if dry_run && !run.out.restored.is_empty() {
        run.out.unverified = Some(
            "the ledger can be verified only once the entries and records above are restored"
                .into(),
        );
        return Ok(run.out);
    }
    // Step 3: verify the ledger as every command does, then what its verified entries reach.
    let mut verified = Vec::new();
    let replay = match reg.verify(&mut |v| verified.push(v.id)) {
        Ok(r) => r,
        Err(e) => {
            run.out.unverified = Some(e.to_string());
            return Ok(run.out);
        }
    };
    if !dry_run {
        // A dry run changes nothing, not even this host's record of the checkpoint.
        reg.record(&replay.state, &replay.checkpoint)?;
    }
    let reach = reachable(verified.iter().copied(), &replay.state);
    let rest = reach.needed.iter().filter_map(|(id, why)| {
        let kind = match why {
            Why::Entry => return None,
            Why::Record(_) => ObjectKind::Record,
            Why::Artifact(_) => ObjectKind::Artifact,
        };
        seen.insert(*id).then_some((kind, *id))
    });
    let mut damaged = run.survey(&store, rest.collect::<Vec<_>>())?;
    run.sizes
        .extend(artifact_sizes(&store, &replay.state, &damaged));
    // Records first, then artifacts: the order a transfer file holds them in.
    damaged.sort_by_key(|d| d.kind != ObjectKind::Record);
    run.restore(&store, reg.id(), damaged)?;
    Ok(run.out)
}

/// Opens the registry; if the open fails because the genesis object `config.json` names is
/// damaged (the pin check reads it), restores that first. `None`: it could not be restored (or
/// this is a dry run), which `run` says.
fn open_restoring_genesis(
    dot: &Path,
    opts: &OpenOptions,
    run: &mut Run,
) -> Result<Option<Registry>, RepairError> {
    match Registry::open(dot, opts) {
        Ok(reg) => Ok(Some(reg)),
        Err(e) => {
            // No lock: it is taken through an opened registry, and while genesis is damaged no
            // writer can open this one; a rename of hash-checked bytes is atomic whatever runs.
            // Only into a registry whose directories are what they should be (tmp/ and
            // objects/ not links), which the open checked first.
            let Some(genesis) = damaged_genesis(dot) else {
                return Err(e.into());
            };
            crate::repo::layout::check_skeleton(dot).map_err(RegistryError::from)?;
            let store = Store::new(dot);
            run.restore(&store, &genesis.1, vec![genesis.0])?;
            if !run.out.restored.iter().any(|d| d.id == genesis.1) || run.dry_run {
                run.out.unverified = Some(format!(
                    "the registry cannot be opened until its genesis entry {} is restored",
                    genesis.1
                ));
                return Ok(None);
            }
            Ok(Some(Registry::open(dot, opts)?))
        }
    }
}

/// Steps 1 and 2: the entries the `ledger` file lists up to the checkpoint (and genesis), then
/// the records their `add`s name, which the replay reads. Returns the ids surveyed.
fn restore_ledger_objects(
    run: &mut Run,
    store: &Store,
    dot: &Path,
    ours: ObjectId,
) -> Result<BTreeSet<ObjectId>, RepairError> {
    let (_, cp) = ledger::read_checkpoint(&dot.join("checkpoint")).map_err(RegistryError::from)?;
    let (ids, _) = ledger::read_ids(&dot.join("ledger")).map_err(RegistryError::from)?;
    let mut entries: Vec<ObjectId> = vec![ours];
    entries.extend(ids.iter().take(cp.seq.saturating_add(1) as usize).copied());
    run.positions.insert(ours, 0);
    for (seq, id) in entries.iter().skip(1).enumerate() {
        run.positions.entry(*id).or_insert(seq as u64);
    }
    let mut seen = BTreeSet::new();
    entries.retain(|id| seen.insert(*id));
    let damaged = run.survey(store, entries.iter().map(|id| (ObjectKind::Entry, *id)))?;
    run.restore(store, &ours, damaged)?;
    let mut records = Vec::new();
    for id in &entries {
        if let Ok(entry) = ledger::read_entry(store, id)
            && let Body::Add(a) = &entry.body
            && seen.insert(a.record)
        {
            records.push((ObjectKind::Record, a.record));
        }
    }
    let damaged = run.survey(store, records)?;
    run.restore(store, &ours, damaged)?;
    Ok(seen)
}

/// One repair in progress.
struct Run {
    /// SRC, opened at its first use (a registry with nothing damaged never reads it).
    src: Option<Source>,
    from: PathBuf,
    dry_run: bool,
    out: Repaired,
    /// The most bytes each wanted object can have: an entry or a record its kind's limit, an
    /// artifact the size its record states. A copy in SRC that is longer is not the object, and
    /// is never copied to this host's disk to find that out.
    sizes: BTreeMap<ObjectId, u64>,
    /// The line of the `ledger` file each entry is listed at: a copy restored as an entry must
    /// decode as the entry for that position.
    positions: BTreeMap<ObjectId, u64>,
}

impl Run {
    /// The damaged objects among `objects`.
    fn survey(
        &mut self,
        store: &Store,
        objects: impl IntoIterator<Item = (ObjectKind, ObjectId)>,
    ) -> Result<Vec<Damaged>, RepairError> {
        let mut out = Vec::new();
        for (kind, id) in objects {
            self.out.checked += 1;
            if let Some(damage) = damage_of(store, &id)? {
                out.push(Damaged { kind, id, damage });
            }
        }
        Ok(out)
    }

    /// Restores `damaged` from SRC, each object only after its bytes hashed to its id.
    fn restore(
        &mut self,
        store: &Store,
        ours: &ObjectId,
        damaged: Vec<Damaged>,
    ) -> Result<(), RepairError> {
        if damaged.is_empty() {
            return Ok(());
        }
        let mut wanted = BTreeMap::new();
        for d in damaged {
            match placeable(store, &d.id) {
                Ok(()) => {
                    wanted.insert(d.id, d);
                }
                Err(reason) => self.out.unrepaired.push(Unrepaired { object: d, reason }),
            }
        }
        let src = match self.src.take() {
            Some(src) => src,
            None => Source::open(&self.from, ours)?,
        };
        self.out.source = src.kind();
        let stage = (!self.dry_run).then_some(store);
        let out = &mut self.out;
        let mut seen = BTreeSet::new();
        // Each object is put in place as it arrives, so that no more than one staged file is
        // open at a time however many objects come back.
        let limits: BTreeMap<ObjectId, u64> = wanted
            .values()
            .map(|d| (d.id, limit_of(d, &self.sizes)))
            .collect();
        let positions = &self.positions;
        let fetched = src.fetch(stage, &wanted, &limits, &mut |id, staged| {
            seen.insert(id);
            let d = wanted
                .get(&id)
                .expect("only wanted ids are fetched")
                .clone();
            if let Some(staged) = staged {
                if staged.id() != id {
                    // stage_from hashed the bytes itself: never restore what is not the object.
                    out.unrepaired.push(Unrepaired {
                        object: d,
                        reason: format!("SRC's bytes hash to {}", staged.id()),
                    });
                    return Ok(());
                }
                if d.kind == ObjectKind::Entry
                    && let Err(reason) = is_entry_at(staged.path(), positions.get(&id))
                {
                    out.unrepaired.push(Unrepaired { object: d, reason });
                    return Ok(());
                }
                if !store.restore(staged)? {
                    return Ok(()); // intact again meanwhile: nothing to do
                }
            }
            out.restored.push(d);
            Ok(())
        });
        self.src = Some(src);
        let reasons = fetched?;
        for (id, d) in wanted {
            if seen.contains(&id) {
                continue;
            }
            let reason = reasons
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "SRC does not hold it".into());
            self.out.unrepaired.push(Unrepaired { object: d, reason });
        }
        Ok(())
    }
}
