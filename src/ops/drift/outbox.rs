//! The replica-to-home outbox protocol (FORMAT.md §11.10): a replica, which must never append to
//! its ledger (§11.1), signs each observation as a drift report into `.registry/outbox/`
//! ([`record_to_outbox`]); [`export_reports`] carries the outbox home in one report file, and
//! [`import_reports`] records it there as `drift-import` entries. What one outbox file must be is
//! [`crate::repo::outbox`]'s.

use super::DriftError;
use crate::crypto::envelope::{EnvelopeError, Kind};
use crate::crypto::keys::{Fingerprint, SecretKey};
use crate::format::drift_report::{self, Report, ReportFileError, ReportPayload};
use crate::format::entry::{Body, DriftImport};
use crate::format::id::ObjectId;
use crate::format::limits;
use crate::format::observation::violations;
use crate::repo::layout::{OUTBOX, TMP};
use crate::repo::outbox::{OutboxFileProblem, check_outbox_file};
use crate::repo::registry::{Registry, RegistryError};
use crate::state::StateError;
use crate::state::resolve::{ResolveError, resolve};
use crate::util::create::{Exists, refuse_existing, write_new};
use crate::util::fsutil::{IoContext, IoError, fsync_dir, read_small, replace_file};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A report written to the outbox ([`record_to_outbox`]).
#[derive(Debug, Clone)]
pub struct Outboxed {
    /// The report id.
    pub report: ObjectId,
    /// Where it was written.
    pub path: PathBuf,
    /// The model observed: its record id.
    pub model: ObjectId,
    /// Its `name@version`.
    pub spec: String,
    /// The replica's head seq the report was checked against.
    pub seq: u64,
}

/// Why the outbox, a report file or an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The observation, the model or the registry refused (as `reg drift record`).
    #[error(transparent)]
    Drift(#[from] DriftError),
    /// The registry refused (trust, rules, lock, I/O).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The key may not sign a drift report here.
    #[error("the key cannot sign drift reports in this registry: {0}")]
    Reporter(StateError),
    /// The report would be too large for the home ledger.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The same report is already in the outbox.
    #[error("drift report {0} is already in the outbox")]
    AlreadyThere(ObjectId),
    /// A file in the outbox is not a report of this registry.
    #[error("`{}`: {problem}", .path.display())]
    OutboxFile {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: OutboxFileProblem,
    },
    /// `OUT` exists, or appeared while the file was written (never replaced).
    #[error(transparent)]
    Exists(#[from] Exists),
    /// Where the output would go, or what happened to it while it was written, is refused
    /// (util::create).
    #[error(transparent)]
    Output(#[from] crate::util::create::OutputRefused),
    /// The report file does not decode or breaks a limit.
    #[error("`{}`: {source}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<ReportFileError>,
    },
    /// The report file is of another registry.
    #[error("the report file holds reports of registry {found}, not of this registry ({expected})")]
    Foreign {
        /// This registry's id.
        expected: ObjectId,
        /// The file's.
        found: ObjectId,
    },
    /// A report the home ledger refuses.
    #[error("report {n} of the file ({report}): {source}")]
    Refused {
        /// Its position in the file, from 1.
        n: usize,
        /// Its id.
        report: ObjectId,
        /// Why.
        #[source]
        source: StateError,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl From<StateError> for OutboxError {
    fn from(e: StateError) -> Self {
        OutboxError::Registry(e.into())
    }
}

impl From<ResolveError> for OutboxError {
    fn from(e: ResolveError) -> Self {
        OutboxError::Drift(e.into())
    }
}

/// `reg drift record --outbox` at a replica (FORMAT.md §11.10): checks what the home site will
/// check against this replica's verified state (a key trusted as reporter, a model registered
/// and not REVOKED, a valid observation, a report small enough for the home ledger), signs a
/// drift report and writes it to `.registry/outbox/<report id>`. Ledger, checkpoint, index and
/// refs are not touched: a replica that appended to its ledger would fork from home.
pub fn record_to_outbox(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    observation: Value,
) -> Result<Outboxed, OutboxError> {
    let Value::Object(observation) = observation else {
        return Err(DriftError::NotAnObject.into());
    };
    let problems = violations(&observation);
    if !problems.is_empty() {
        return Err(DriftError::Invalid(problems).into());
    }
    // The lock orders this write with gc, which empties `tmp/` where the report is staged.
    let _lock = reg.lock()?;
    let state = reg.state()?;
    let reporter = key.public().fingerprint().clone();
    state
        .check_signer(&reporter, Kind::DriftReport)
        .map_err(OutboxError::Reporter)?;
    let (model, _) = resolve(&state, spec)?;
    // The home ledger's own rule for a report's model (registered, not REVOKED).
    state.check_observable(&model)?;
    let payload = ReportPayload {
        model,
        observation,
        registry: state.registry(),
        reporter,
        seq: state.seq(),
        time: reg.clock().now().map_err(RegistryError::from)?,
    };
    payload
        .check()
        .map_err(|e| DriftError::Invalid(vec![e.to_string()]))?;
    let bytes = limits::sign(Kind::DriftReport, &payload, key)?;
    let report = ObjectId::of(&bytes);
    let dot = reg.path();
    let outbox = dot.join(OUTBOX);
    crate::repo::layout::check_skeleton(dot).map_err(RegistryError::from)?;
    if !outbox.exists() {
        std::fs::create_dir(&outbox).ctx("create", &outbox)?;
        fsync_dir(dot)?;
    }
    crate::repo::layout::check_dir(&outbox).map_err(RegistryError::from)?;
    let path = outbox.join(report.to_string());
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(OutboxError::AlreadyThere(report));
    }
    replace_file(&dot.join(TMP), &path, &bytes)?;
    Ok(Outboxed {
        report,
        path,
        model,
        spec: state.spec(&model),
        seq: state.seq(),
    })
}

/// What [`export_reports`] selects from the outbox.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Keep reports already recorded in this registry's ledger too.
    pub all: bool,
    /// Keep only reports made at or after this time (the report's own `time`).
    pub since: Option<String>,
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ReportsExported {
    /// The reports written, in file order: id and `name@version`. None: nothing to export, and
    /// no file was written (an empty report file is never written).
    pub reports: Vec<(ObjectId, String)>,
    /// Reports in the outbox.
    pub held: usize,
    /// Reports of the outbox left out as already recorded in this ledger.
    pub skipped: usize,
    /// Reports of the outbox left out as made before `--since`.
    pub early: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Every report in the outbox, each checked by [`check_outbox_file`]. Any other file refuses
/// the whole outbox, naming it.
pub fn outbox_reports(reg: &Registry) -> Result<Vec<Report>, OutboxError> {
    let dot = reg.path();
    crate::repo::layout::check_skeleton(dot).map_err(RegistryError::from)?;
    let outbox = dot.join(OUTBOX);
    let listing = match std::fs::read_dir(&outbox) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IoError::from_source("list", &outbox, e).into()),
    };
    let mut out = Vec::new();
    for e in listing {
        let e = e.ctx("list", &outbox)?;
        let path = e.path();
        let ft = e.file_type().ctx("stat", &path)?;
        match check_outbox_file(reg.id(), &path, &ft) {
            Ok(r) => out.push(r),
            Err(OutboxFileProblem::Unreadable(io)) => return Err(io.into()),
            Err(problem) => return Err(OutboxError::OutboxFile { path, problem }),
        }
    }
    Ok(out)
}

/// `reg drift export OUT` at a replica (FORMAT.md §11.10): the outbox's reports, but those this
/// ledger already records (unless `select.all`) and those made before `select.since`, in one
/// report file written beside `out` and linked into place (never over an existing file). With
/// no report to carry, nothing is written.
pub fn export_reports(
    reg: &Registry,
    select: &Selection,
    out: &Path,
) -> Result<ReportsExported, OutboxError> {
    const WRITES: &str = "export writes a new file";
    refuse_existing(out, WRITES)?;
    let (done, bytes) = choose_reports(reg, select, out)?;
    if !done.reports.is_empty() {
        write_new::<OutboxError>(out, &bytes, ".reg-drift-", WRITES)?;
    }
    Ok(done)
}

/// Like [`export_reports`], writing the report file to `out` (`reg drift export -`: standard
/// output).
pub fn export_reports_to(
    reg: &Registry,
    select: &Selection,
    out: &mut dyn std::io::Write,
) -> Result<ReportsExported, OutboxError> {
    let (done, bytes) = choose_reports(reg, select, Path::new("-"))?;
    if !done.reports.is_empty() {
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .ctx("write", Path::new("standard output"))?;
    }
    Ok(done)
}

/// The reports `select` chooses and the report file holding them (`out` names it in errors).
fn choose_reports(
    reg: &Registry,
    select: &Selection,
    out: &Path,
) -> Result<(ReportsExported, Vec<u8>), OutboxError> {
    let state = reg.state()?;
    let all = outbox_reports(reg)?;
    let held = all.len();
    let recorded = |r: &Report| state.report_recorded(&r.payload.model, &r.id);
    let (mut skipped, mut early) = (0, 0);
    let mut chosen = Vec::new();
    for r in all {
        if select
            .since
            .as_deref()
            .is_some_and(|s| r.payload.time.as_str() < s)
        {
            early += 1;
        } else if !select.all && recorded(&r) {
            skipped += 1;
        } else {
            chosen.push(r);
        }
    }
    let mut done = ReportsExported {
        reports: Vec::new(),
        held,
        skipped,
        early,
        bytes: 0,
    };
    if chosen.is_empty() {
        return Ok((done, Vec::new()));
    }
    drift_report::sort(&mut chosen);
    let bytes =
        drift_report::write_file(reg.id(), &chosen).map_err(|source| OutboxError::File {
            path: out.to_path_buf(),
            source: Box::new(source),
        })?;
    done.reports = chosen
        .iter()
        .map(|r| (r.id, state.spec(&r.payload.model)))
        .collect();
    done.bytes = bytes.len() as u64;
    Ok((done, bytes))
}

/// What an import recorded.
#[derive(Debug, Clone)]
pub struct ReportsImported {
    /// Each `drift-import` entry: its id and seq, the report id, the model's `name@version`
    /// and the reporter.
    pub entries: Vec<ImportedReport>,
    /// The reports of the file this ledger had recorded already (the file carried home twice,
    /// or an export with `--all`): left out, as an import leaves out what it has. When they are
    /// all of the file, nothing is written: "already up to date".
    pub already: Vec<ObjectId>,
}

/// One report recorded at home.
#[derive(Debug, Clone)]
pub struct ImportedReport {
    /// The `drift-import` entry.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The report id.
    pub report: ObjectId,
    /// The model's record id.
    pub model: ObjectId,
    /// The model's `name@version`.
    pub spec: String,
    /// The reporter key.
    pub reporter: Fingerprint,
}

/// `reg drift import FILE` at home (FORMAT.md §11.10): reads the report file, then, under the
/// writer lock, checks every report against the home ledger's verified state and the ones
/// before it in the file (§5.12: the reporter trusted as reporter and unrevoked, its signature,
/// the model, the observation, no report recorded twice), and records them all in one batch
/// signed by `key`, an operator. Any refusal refuses the whole file, naming the report; the
/// registry is then unchanged.
pub fn import_reports(
    reg: &Registry,
    key: &SecretKey,
    file: &Path,
) -> Result<ReportsImported, OutboxError> {
    let bytes = read_small(file, drift_report::MAX_REPORT_FILE)?;
    let (registry, reports) =
        drift_report::read_file(&bytes).map_err(|source| OutboxError::File {
            path: file.to_path_buf(),
            source: Box::new(source),
        })?;
    drop(bytes);
    let tx = reg.begin()?;
    if registry != tx.state().registry() {
        return Err(OutboxError::Foreign {
            expected: tx.state().registry(),
            found: registry,
        });
    }
    tx.state()
        .check_signer(key.public().fingerprint(), Kind::DriftImport)?;
    // Reports this ledger records already are left out; every other rule still judges the rest
    // (a report twice in one file is refused, as §5.12 says).
    let (already, reports): (Vec<_>, Vec<_>) = reports
        .into_iter()
        .partition(|r| tx.state().report_recorded(&r.payload.model, &r.id));
    let already: Vec<ObjectId> = already.iter().map(|r| r.id).collect();
    if reports.is_empty() {
        return Ok(ReportsImported {
            entries: Vec::new(),
            already,
        });
    }
    let (written, state) = tx.commit_built(key, reports.len(), |state, i| {
        let r = &reports[i];
        let refused = |source| OutboxError::Refused {
            n: i + 1,
            report: r.id,
            source,
        };
        let model = r.payload.model;
        let previous = state
            .models()
            .get(&model)
            .and_then(|m| m.drift.as_ref())
            .map(|d| d.last);
        let body = DriftImport {
            model,
            previous,
            report: r.to_envelope().map_err(|e| {
                refused(StateError::Report {
                    report: r.id,
                    detail: e.to_string(),
                })
            })?,
        };
        state.check_drift_import(&body).map_err(refused)?;
        Ok::<_, OutboxError>(Body::DriftImport(body))
    })?;
    let entries = written
        .into_iter()
        .zip(&reports)
        .map(|((entry, seq, _), r)| ImportedReport {
            entry,
            seq,
            report: r.id,
            model: r.payload.model,
            spec: state.spec(&r.payload.model),
            reporter: r.payload.reporter.clone(),
        })
        .collect();
    Ok(ReportsImported { entries, already })
}
