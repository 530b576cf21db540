//! `reg fsck`: the global validator. It proves, or refutes with findings naming the file or
//! object at fault, that the registry matches its ledger, that no revoked model is active, and
//! (with `--scan`) that no unregistered model file exists on the host.
//!
//! fsck only reads: it takes no lock and writes nothing under `.registry/`. It returns a
//! [`Report`]; the CLI decides how to print it. Finding codes are stable (docs/FSCK.md).

use crate::crypto::keys::Fingerprint;
use crate::format::entry::Body;
use crate::format::formats::Format;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::manifest::{MANIFEST_LIMIT, SignedManifest};
use crate::repo::registry::{OpenOptions, Registry, RegistryError, discover};
use crate::repo::trust::PinStatus;
use crate::state::State;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

mod glob;
mod scan;
pub use glob::{Glob, GlobError};
pub use scan::ScanVerdicts;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The registry does not pass.
    Error,
    /// Worth acting on; the registry still passes.
    Warning,
}

/// One finding: a stable code, a severity, what is at fault, and a sentence.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code (docs/FSCK.md).
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The file at fault, when there is one.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "scan::serialize_path"
    )]
    pub path: Option<PathBuf>,
    /// The object at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectId>,
    /// What is wrong.
    pub message: String,
    /// (`--scan`) The format the file's name and first bytes show; it names, never decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// (`--scan`) The model, `name@version`, the file is an artifact of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// (`--scan`) Where the link at `path` leads.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "scan::serialize_path"
    )]
    pub target: Option<PathBuf>,
}

/// What was checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Files under `objects/` hashed.
    pub objects: u64,
    /// Bytes hashed there.
    pub bytes: u64,
    /// Ledger entries verified.
    pub entries: u64,
    /// Model records checked.
    pub models: u64,
    /// Entries checked under `--scan`: every file, link and special file not ignored, and
    /// each directory that could not be listed.
    pub scanned: u64,
    /// Entries under `--scan` that an `--ignore` pattern left unchecked.
    pub ignored: u64,
    /// What the scanned entries were found to be (they add up to `scanned`).
    pub verdicts: ScanVerdicts,
}

/// The result of `reg fsck` (`schema/fsck-report.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `PASS` or `FAIL`.
    pub result: &'static str,
    /// The registry directory.
    pub registry: PathBuf,
    /// The registry id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<ObjectId>,
    /// How the root of trust was pinned: `explicit`, `host` or `none`.
    pub pinned: &'static str,
    /// What was checked.
    pub checked: Counts,
    /// Everything found, errors first.
    pub findings: Vec<Finding>,
}

/// Options of a check.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Directories whose every file must be an artifact of an approved model.
    pub scan: Vec<PathBuf>,
    /// What `--scan` leaves unchecked, matched against paths relative to the scanned directory.
    pub ignore: Vec<Glob>,
    /// Accept a registry with no pinned root (the report says so).
    pub allow_unpinned: bool,
}

struct Fsck {
    findings: Vec<Finding>,
    counts: Counts,
}

impl Fsck {
    fn add(
        &mut self,
        code: &'static str,
        severity: Severity,
        path: Option<PathBuf>,
        object: Option<ObjectId>,
        message: String,
    ) {
        self.findings.push(Finding {
            code,
            severity,
            path,
            object,
            message,
            format: None,
            model: None,
            target: None,
        });
    }
    fn error(
        &mut self,
        code: &'static str,
        path: Option<PathBuf>,
        object: Option<ObjectId>,
        message: String,
    ) {
        self.add(code, Severity::Error, path, object, message);
    }
    fn warn(
        &mut self,
        code: &'static str,
        path: Option<PathBuf>,
        object: Option<ObjectId>,
        message: String,
    ) {
        self.add(code, Severity::Warning, path, object, message);
    }
}

/// What the ledger reaches, and when each key was revoked, gathered while it is replayed.
#[derive(Default)]
struct Reached {
    entries: BTreeSet<ObjectId>,
    revoked_at: HashMap<Fingerprint, u64>,
}

/// Checks the registry at `path` (a `.registry` directory or its parent; `None`: found like git).
pub fn check(
    path: Option<&Path>,
    trust: &OpenOptions,
    opts: &Options,
) -> Result<Report, RegistryError> {
    let dot = discover(path)?;
    let mut f = Fsck {
        findings: Vec::new(),
        counts: Counts::default(),
    };
    check_links(&dot, &mut f);
    let reg = match Registry::open(&dot, trust) {
        Ok(r) => r,
        // Already named by check_links, with every other link.
        Err(RegistryError::Layout(_)) => return Ok(finish(f, dot, None, "none")),
        Err(e) => {
            let code = match &e {
                RegistryError::Trust(_) => "trust-mismatch",
                RegistryError::Store(_) => "object-corrupt",
                _ => "config-invalid",
            };
            let path = error_path(&e, &dot).unwrap_or_else(|| dot.join("config.json"));
            f.error(code, Some(path), None, e.to_string());
            return Ok(finish(f, dot, None, "none"));
        }
    };
    let pinned = match reg.pin() {
        PinStatus::Explicit(_) => "explicit",
        PinStatus::HostFile(_) => "host",
        PinStatus::Unpinned => "none",
    };
    if pinned == "none" {
        let msg = format!(
            "registry {} is not pinned on this host (no --trust, REG_TRUST or host pin): it was checked only against itself",
            reg.id()
        );
        if opts.allow_unpinned {
            f.warn("trust-unpinned", None, None, msg);
        } else {
            f.error("trust-unpinned", None, None, msg);
        }
    }

    let mut reached = Reached::default();
    let replay = reg.verify(&mut |v| {
        reached.entries.insert(v.id);
        if let Body::KeyRevoke(r) = &v.entry.body {
            reached
                .revoked_at
                .insert(r.fingerprint.clone(), v.entry.header.seq);
        }
    });
    // What this host verified is recorded, as after every full replay.
    let replay = replay.and_then(|r| reg.record(&r.checkpoint).map(|()| r));
    let state = match replay {
        Ok(r) => {
            f.counts.entries = r.checkpoint.seq + 1;
            if let Err(e) = reg.check_fresh(&r.state, &r.checkpoint.time) {
                f.error(
                    "checkpoint-expired",
                    Some(dot.join("checkpoint")),
                    None,
                    e.to_string(),
                );
            }
            if r.residue_lines > 0 || r.partial_line {
                f.warn("ledger-residue", Some(dot.join("ledger")), None, "the ledger file lists entries after the checkpoint: an interrupted write, removed by the next one".into());
            }
            Some(r.into_parts().0)
        }
        Err(e) => {
            let code = match &e {
                RegistryError::RolledBack { .. } => "ledger-rollback",
                RegistryError::HostState(_) => "host-state",
                _ => "ledger-invalid",
            };
            let path = error_path(&e, &dot).unwrap_or_else(|| dot.join("ledger"));
            f.error(code, Some(path), None, e.to_string());
            None
        }
    };

    let present = check_objects(&reg, &mut f);
    if let Some(state) = &state {
        check_reachability(&reg, state, &reached, &present, &mut f);
        check_records(&reg, state, &reached, &mut f);
        check_index_and_refs(&reg, state, &reached, &mut f);
        check_slots(state, &mut f);
        for dir in &opts.scan {
            scan::scan(dir, state, &opts.ignore, &mut f);
        }
    } else if !opts.scan.is_empty() {
        f.error(
            "scan-skipped",
            None,
            None,
            "the ledger does not verify, so no file can be proved registered".into(),
        );
    }
    let tmp = dot.join("tmp");
    if let Ok(rd) = std::fs::read_dir(&tmp) {
        for e in rd.flatten() {
            f.warn(
                "staging-residue",
                Some(e.path()),
                None,
                "left in staging by an interrupted write; `reg gc` removes it".into(),
            );
        }
    }
    Ok(finish(f, dot, Some(*reg.id()), pinned))
}

/// The file an error is about, when it names one.
fn error_path(e: &RegistryError, dot: &Path) -> Option<PathBuf> {
    use crate::repo::ledger::LedgerError;
    use crate::repo::store::StoreError;
    let store = crate::repo::store::Store::new(dot);
    match e {
        RegistryError::Store(
            StoreError::Corrupt { id, .. } | StoreError::Missing(id) | StoreError::NotAFile(id),
        ) => Some(store.path(id)),
        RegistryError::Io(io) => Some(io.path.clone()),
        RegistryError::Config { path, .. } | RegistryError::CorruptObject { path, .. } => {
            Some(path.clone())
        }
        RegistryError::RolledBack { .. } => Some(dot.join("checkpoint")),
        RegistryError::Ledger(l) => match l {
            // A missing entry object: the listing may be what was altered; name the ledger file
            // (the message names the object).
            LedgerError::Entry {
                problem: crate::repo::ledger::EntryProblem::Object(StoreError::Missing(_)),
                ..
            } => Some(dot.join("ledger")),
            LedgerError::Entry { id, .. } => Some(store.path(id)),
            LedgerError::Checkpoint(_) => Some(dot.join("checkpoint")),
            LedgerError::Io(io) => Some(io.path.clone()),
            LedgerError::File { .. } | LedgerError::Truncated { .. } => Some(dot.join("ledger")),
        },
        _ => None,
    }
}

fn finish(mut f: Fsck, dot: PathBuf, id: Option<ObjectId>, pinned: &'static str) -> Report {
    f.findings.sort_by_key(|x| x.severity);
    let fail = f.findings.iter().any(|x| x.severity == Severity::Error);
    Report {
        result: if fail { "FAIL" } else { "PASS" },
        registry: dot,
        registry_id: id,
        pinned,
        checked: f.counts,
        findings: f.findings,
    }
}

/// Names every symbolic link and special file anywhere in `.registry/` (none is ever followed
/// or read; see [`crate::repo::layout`]).
fn check_links(dot: &Path, f: &mut Fsck) {
    match std::fs::symlink_metadata(dot) {
        Ok(m) if m.file_type().is_dir() => {}
        Ok(m) => {
            let found = crate::util::fsutil::describe(&m.file_type());
            f.error(
                "link",
                Some(dot.to_path_buf()),
                None,
                format!("the registry directory is {found}; reg never follows links"),
            );
            return;
        }
        Err(_) => return,
    }
    for e in walkdir::WalkDir::new(dot).min_depth(1).sort_by_file_name() {
        let Ok(e) = e else { continue };
        let ft = e.file_type();
        if ft.is_symlink() {
            let target = std::fs::read_link(e.path())
                .map(|t| format!(" (to `{}`)", t.display()))
                .unwrap_or_default();
            f.error(
                "link",
                Some(e.path().to_path_buf()),
                None,
                format!("a symbolic link{target}: reg never follows links inside a registry, and writes and gc refuse to run until it is removed"),
            );
        } else if ft.is_file()
            && e.depth() == 1
            && e.file_name() == "ledger"
            && hard_linked(e.path())
        {
            f.error(
                "link",
                Some(e.path().to_path_buf()),
                None,
                "the ledger has several names (hard links): writers, which append to it in place, refuse it until it is copied to a file of its own".into(),
            );
        } else if !ft.is_dir() && !ft.is_file() {
            f.error(
                "not-regular",
                Some(e.path().to_path_buf()),
                None,
                format!(
                    "{}: reg reads only regular files inside a registry",
                    crate::util::fsutil::describe(&ft)
                ),
            );
        }
    }
}

/// Whether a file has more than one name.
fn hard_linked(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::symlink_metadata(path).is_ok_and(|m| m.nlink() > 1)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Hashes every object; returns the ids of the intact ones.
fn check_objects(reg: &Registry, f: &mut Fsck) -> BTreeSet<ObjectId> {
    let root = reg.path().join("objects");
    let mut present = BTreeSet::new();
    let task = crate::util::progress::task("checking objects", None);
    for e in walkdir::WalkDir::new(&root)
        .min_depth(1)
        .sort_by_file_name()
    {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                f.error(
                    "object-unreadable",
                    err.path().map(Path::to_path_buf),
                    None,
                    err.to_string(),
                );
                continue;
            }
        };
        let path = e.path().to_path_buf();
        let depth = e.depth();
        let ft = e.file_type();
        if depth == 1 {
            let name = e.file_name().to_string_lossy();
            if !ft.is_dir() || !crate::util::encoding::is_lower_hex(&name, 2) {
                f.error(
                    "object-misnamed",
                    Some(path),
                    None,
                    "not a fan-out directory of the store".into(),
                );
            }
            continue;
        }
        let id = crate::repo::store::Store::id_of_path(e.path());
        let Some(id) = id.filter(|_| depth == 2) else {
            f.error(
                "object-misnamed",
                Some(path),
                None,
                "not named by an object id".into(),
            );
            continue;
        };
        if ft.is_symlink() {
            continue; // named by check_links
        }
        if !ft.is_file() {
            f.error(
                "object-not-file",
                Some(path),
                Some(id),
                "not a regular file (reg never follows links in the store)".into(),
            );
            continue;
        }
        match reg.store().copy_verified(&id, &mut std::io::sink()) {
            Ok(n) => {
                task.advance(n);
                f.counts.objects += 1;
                f.counts.bytes += n;
                present.insert(id);
            }
            Err(err) => f.error("object-corrupt", Some(path), Some(id), err.to_string()),
        }
    }
    present
}

/// Every object the ledger reaches is there; everything there is reached.
fn check_reachability(
    reg: &Registry,
    state: &State,
    reached: &Reached,
    present: &BTreeSet<ObjectId>,
    f: &mut Fsck,
) {
    let mut needed: BTreeMap<ObjectId, String> = BTreeMap::new();
    for id in &reached.entries {
        needed.insert(*id, "a ledger entry".into());
    }
    let mut purged: BTreeSet<ObjectId> = BTreeSet::new();
    for (id, m) in &state.models {
        needed.insert(*id, format!("the record of {}@{}", m.name, m.version));
        if m.purged {
            purged.extend(m.artifacts.iter().copied());
            continue;
        }
        for a in &m.artifacts {
            needed
                .entry(*a)
                .or_insert_with(|| format!("an artifact of {}@{}", m.name, m.version));
        }
    }
    for id in purged.iter().filter(|id| !needed.contains_key(id)) {
        if present.contains(id) {
            f.error(
                "purged-present",
                Some(reg.store().path(id)),
                Some(*id),
                "an artifact of a purged model is back in the store; `reg gc` removes it".into(),
            );
        }
    }
    for (id, what) in &needed {
        if !present.contains(id) && !reg.store().contains(id) {
            f.error(
                "object-missing",
                Some(reg.store().path(id)),
                Some(*id),
                format!("{what} is missing from the store"),
            );
        }
    }
    for id in present {
        if !needed.contains_key(id) && !purged.contains(id) {
            f.warn(
                "object-dangling",
                Some(reg.store().path(id)),
                Some(*id),
                "no ledger entry reaches this object; `reg gc` removes it".into(),
            );
        }
    }
}

/// Records. That each is present, a valid manifest signed by a key holding the publisher role at
/// its `add` entry, and the entry's name, version and artifacts, is the ledger's own rule
/// (FORMAT.md §5.6): the replay checked it, and a record breaking it is a `ledger-invalid`
/// finding naming the entry. What is left is the review hint: a model admitted before its
/// publisher key was revoked.
fn check_records(reg: &Registry, state: &State, reached: &Reached, f: &mut Fsck) {
    for (id, m) in &state.models {
        f.counts.models += 1;
        let spec = format!("{}@{}", m.name, m.version);
        // Read and verified by the replay a moment ago; gone since only if someone is editing.
        let Ok(signed) = reg
            .store()
            .get(id, MANIFEST_LIMIT)
            .map_err(|e| e.to_string())
            .and_then(|b| SignedManifest::parse(b).map_err(|e| e.to_string()))
        else {
            continue;
        };
        let publisher = &signed.manifest.publisher;
        if let Some(r) = reached.revoked_at.get(publisher) {
            f.warn("publisher-revoked", Some(reg.store().path(id)), Some(*id), format!("{spec} was admitted before its publisher key {publisher} was revoked (entry {r}); review it"));
        }
    }
}

/// The index and the refs are what replaying the ledger gives.
fn check_index_and_refs(reg: &Registry, state: &State, reached: &Reached, f: &mut Fsck) {
    let dot = reg.path();
    // After an interrupted commit (the marker says one happened), a ref may lag behind the
    // ledger: missing, or naming an earlier entry of its own model or slot. That is a warning the
    // next write repairs; anything else no crash explains stays an error.
    let pending = crate::repo::refs::is_pending(dot);
    if pending {
        f.warn(
            "refs-pending",
            Some(dot.join(crate::repo::refs::PENDING)),
            None,
            "a write was interrupted after its commit point; its refs may lag, and the next write rewrites them".into(),
        );
    }
    let lagging_model = |id: &ObjectId, m: &crate::state::ModelState, found: Option<ObjectId>| {
        pending
            && found.is_none_or(|e| {
                crate::query::record::history(reg, m).is_ok_and(|h| h.iter().any(|i| i.entry == e))
            })
            && state.models.contains_key(id)
    };
    let lagging_slot = |slot: &str, found: Option<ObjectId>| {
        pending
            && found.is_none_or(|e| {
                reached.entries.contains(&e)
                    && crate::repo::ledger::read_entry(reg.store(), &e).is_ok_and(|entry| {
                        match &entry.body {
                            Body::Slot(c) => c.slot == slot,
                            Body::Transition(t) => t.slots.iter().any(|x| x.slot == slot),
                            _ => false,
                        }
                    })
            })
    };
    let index = dot.join("index/state.json");
    match crate::util::fsutil::read_small(&index, 1 << 30) {
        Ok(bytes) if bytes == state.to_canonical() => {}
        _ => f.warn("index-stale", Some(index), None, "the index differs from the replayed ledger; it is not used, and the next write rebuilds it".into()),
    }
    let models_dir = dot.join("refs/models");
    let mut seen = BTreeSet::new();
    for e in std::fs::read_dir(&models_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let model = name
            .parse::<ObjectId>()
            .ok()
            .and_then(|id| state.models.get(&id).map(|m| (id, m)));
        match model {
            Some((id, m)) => {
                seen.insert(id);
                let found = read_ref(&path);
                if found != Some(m.entry) && found.is_some() && lagging_model(&id, m, found) {
                    f.warn(
                        "ref-stale",
                        Some(path),
                        Some(id),
                        format!(
                            "the ref of {}@{} names an earlier entry of the model, left by an interrupted write; the next write rewrites it",
                            m.name, m.version
                        ),
                    );
                } else if found != Some(m.entry) {
                    f.error(
                        "ref-mismatch",
                        Some(path),
                        Some(id),
                        format!(
                            "the ref of {}@{} does not name its latest entry {}",
                            m.name, m.version, m.entry
                        ),
                    );
                }
            }
            None => f.error(
                "ref-mismatch",
                Some(path),
                None,
                "a model ref for no registered model".into(),
            ),
        }
    }
    for (id, m) in &state.models {
        if !seen.contains(id) && lagging_model(id, m, None) {
            f.warn(
                "ref-stale",
                Some(models_dir.join(id.to_string())),
                Some(*id),
                format!(
                    "{}@{} has no ref yet, after an interrupted write; the next write writes it",
                    m.name, m.version
                ),
            );
        } else if !seen.contains(id) {
            f.error(
                "ref-mismatch",
                Some(models_dir.join(id.to_string())),
                Some(*id),
                format!("{}@{} has no ref", m.name, m.version),
            );
        }
    }
    let slots_dir = dot.join("refs/slots");
    let mut seen_slots = BTreeSet::new();
    for e in std::fs::read_dir(&slots_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        match state.slots.get(&name) {
            Some(s) if read_ref(&path) == Some(s.entry) => {
                seen_slots.insert(name);
            }
            Some(s) if lagging_slot(&name, read_ref(&path)) => f.warn(
                "ref-stale",
                Some(path),
                Some(s.entry),
                format!("the ref of slot `{name}` names an earlier entry that set it, left by an interrupted write; the next write rewrites it"),
            ),
            None if lagging_slot(&name, read_ref(&path)) => f.warn(
                "ref-stale",
                Some(path),
                None,
                format!("slot `{name}` was cleared by an interrupted write that did not remove its ref yet; the next write removes it"),
            ),
            Some(s) => f.error(
                "ref-mismatch",
                Some(path),
                Some(s.entry),
                format!(
                    "the ref of slot `{name}` does not name the entry that set it ({})",
                    s.entry
                ),
            ),
            None => f.error(
                "ref-mismatch",
                Some(path),
                None,
                format!("slot `{name}` has a ref but is not set in the ledger"),
            ),
        }
    }
    for slot in state.slots.keys() {
        let missing = !seen_slots.contains(slot) && !slots_dir.join(slot).exists();
        if missing && lagging_slot(slot, None) {
            f.warn(
                "ref-stale",
                Some(slots_dir.join(slot)),
                None,
                format!("slot `{slot}` has no ref yet, after an interrupted write; the next write writes it"),
            );
        } else if missing {
            f.error(
                "ref-mismatch",
                Some(slots_dir.join(slot)),
                None,
                format!("slot `{slot}` is set but has no ref"),
            );
        }
    }
}

fn read_ref(path: &Path) -> Option<ObjectId> {
    crate::repo::refs::read(path)
}

/// No revoked model is active; a deprecated active model is a warning.
fn check_slots(state: &State, f: &mut Fsck) {
    for (slot, s) in &state.slots {
        match state.models.get(&s.model).map(|m| m.state) {
            Some(LifecycleState::Promoted) => {}
            Some(LifecycleState::Deprecated) => f.warn(
                "deprecated-active",
                None,
                Some(s.model),
                format!(
                    "slot `{slot}` runs {}, which is DEPRECATED",
                    state.spec(&s.model)
                ),
            ),
            _ => f.error(
                "revoked-active",
                None,
                Some(s.model),
                format!(
                    "slot `{slot}` runs {}, which is not approved",
                    state.spec(&s.model)
                ),
            ),
        }
    }
}
