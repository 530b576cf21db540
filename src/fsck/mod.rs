//! `reg fsck`: the global validator. It proves, or refutes with findings naming the file or
//! object at fault, that the registry matches its ledger, that no revoked model is active, and
//! (with `--scan`) that no unregistered model file exists on the host.
//!
//! fsck only reads: it writes nothing under `.registry/`, and shares the readers' lock
//! ([`crate::repo::registry::ReadLock`]) so that what it checks is one committed state, also
//! while others write. It returns a [`Report`]; the CLI decides how to print it. Finding codes
//! are stable ([`Code`], docs/FSCK.md).
//!
//! One file per family of checks: `links` (links and special files, staging leftovers), `open`
//! (configuration and pin), `ledger` (the replay), `objects` (the store, and what the ledger
//! reaches), `models` (records and slots), `refs` (the index and refs), `refused` (models the
//! policy or the deny list now refuses), `scan` (`--scan`). This
//! file holds the report and the order in which the checks run ([`check`]).

use crate::format::formats::Format;
use crate::format::id::ObjectId;
use crate::repo::registry::{OpenOptions, RegistryError, discover, read_lock};
use serde::Serialize;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

mod code;
mod glob;
mod ledger;
mod links;
mod models;
mod objects;
mod open;
mod refs;
mod refused;
mod scan;
pub use code::Code;
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
    pub code: Code,
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

/// The findings and counts of a check in progress.
#[derive(Default)]
struct Fsck {
    findings: Vec<Finding>,
    counts: Counts,
}

impl Fsck {
    fn add(
        &mut self,
        code: Code,
        severity: Severity,
        path: Option<PathBuf>,
        object: Option<ObjectId>,
        message: String,
    ) {
        // A finding quotes what it found (a parser's message about a file of the registry): what
        // may be key material in it is hidden here too, as in every error reg prints.
        let message = crate::util::encoding::mask_key_material(
            &message,
            crate::util::encoding::MESSAGE_KEY_RUN_MIN,
        )
        .into_owned();
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
        code: Code,
        path: Option<PathBuf>,
        object: Option<ObjectId>,
        message: String,
    ) {
        self.add(code, Severity::Error, path, object, message);
    }
    fn warn(
        &mut self,
        code: Code,
        path: Option<PathBuf>,
        object: Option<ObjectId>,
        message: String,
    ) {
        self.add(code, Severity::Warning, path, object, message);
    }
}

/// Checks the registry at `path` (a `.registry` directory or its parent; `None`: found like git).
///
/// The checks run in this order, and findings of one severity keep it in the report: links and
/// special files anywhere (`links`); opening the registry and its pin (`open`); the ledger
/// replay (`ledger`); every object, then what the ledger reaches (`objects`); records
/// (`models`); the index and refs (`refs`); slots (`models`); what the policy and the deny list
/// refuse (`refused`); `--scan`, once the readers' lock
/// is released; the outbox and staging leftovers (checked before the scan, under the lock).
pub fn check(
    path: Option<&Path>,
    trust: &OpenOptions,
    opts: &Options,
) -> Result<Report, RegistryError> {
    let dot = discover(path)?;
    // One committed state from the first file read to the last (FORMAT.md §6): a commit in
    // progress is waited for, and a writer waits for this check. Not around `--scan`, which
    // reads only this host's files against the state already verified. A `.registry` that is
    // not a directory holds no state to lock (the link check names it), and one this user
    // cannot open cannot be listed either (the walk names it `unreadable`): neither can pass.
    let reading = match std::fs::symlink_metadata(&dot) {
        Ok(m) if m.is_dir() => match read_lock(&dot, trust.lock_timeout) {
            Ok(r) => Some(r),
            Err(RegistryError::Unlockable { source, .. })
                if source.kind() == ErrorKind::PermissionDenied =>
            {
                None
            }
            Err(e) => return Err(e),
        },
        _ => None,
    };
    let mut f = Fsck::default();
    links::check_links(&dot, &mut f);
    let Some((reg, pinned)) = open::open(&dot, trust, opts.allow_unpinned, &mut f) else {
        return Ok(finish(f, dot, None, "none"));
    };
    let (state, reached) = ledger::replay(&reg, &mut f);
    let present = objects::check_objects(&reg, &reached, &mut f);
    if let Some(state) = &state {
        objects::check_reachability(&reg, state, &reached, &present, &mut f);
        models::check_records(&reg, state, &mut f);
        refs::check_index_and_refs(&reg, state, &reached, &mut f);
        models::check_slots(state, &mut f);
        refused::check_denied(state, &mut f);
    }
    // Checked now, reported after the scan's findings.
    let mut last = Fsck::default();
    links::check_outbox(&dot, reg.id(), &mut last);
    links::check_staging(&dot, &mut last);
    drop(reading);
    if let Some(state) = &state {
        for dir in &opts.scan {
            let judging = scan::Judging {
                state,
                store: reg.store(),
            };
            scan::scan(dir, &judging, &opts.ignore, &mut f);
        }
    } else if !opts.scan.is_empty() {
        f.error(
            Code::ScanSkipped,
            None,
            None,
            "the ledger does not verify, so no file can be proved registered".into(),
        );
    }
    f.findings.append(&mut last.findings);
    Ok(finish(f, dot, Some(*reg.id()), pinned))
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
