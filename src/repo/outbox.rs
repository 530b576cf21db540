//! A replica's outbox (FORMAT.md §11.10): `.registry/outbox/` holds the drift reports recorded
//! at a replica, each a file named by the BLAKE3 of its bytes, until `reg drift export` carries
//! them home. What one file of it must be is checked here, once, for the writer that exports
//! them (`ops`) and for fsck, which reads a registry without writing it and so may not use the
//! writers' module.

use crate::format::drift_report::Report;
use crate::format::id::ObjectId;
use crate::format::limits::REPORT_LIMIT;
use crate::util::fsutil::{IoError, read_small};
use std::path::Path;

/// Why a file in the outbox is not a report `reg drift export` carries (FORMAT.md §11.10).
#[derive(Debug, thiserror::Error)]
pub enum OutboxFileProblem {
    /// A link, a directory or a special file.
    #[error(
        "{0}, not a regular file: reg never follows links or reads special files inside a registry"
    )]
    NotRegular(&'static str),
    /// A regular file not named by a report id.
    #[error("not named by a report id")]
    Misnamed,
    /// The file could not be read (or is over `REPORT_LIMIT`).
    #[error(transparent)]
    Unreadable(IoError),
    /// Its bytes hash to another id than its name.
    #[error("its bytes do not hash to its name (altered or damaged): they hash to {0}")]
    Corrupt(ObjectId),
    /// Named by its own hash, but not a drift report.
    #[error("not a drift report: {0}")]
    NotAReport(String),
    /// A drift report of another registry.
    #[error("a report of registry {0}, not of this registry")]
    OtherRegistry(ObjectId),
}

/// Checks one entry of the outbox as `reg drift export` and fsck both do (FORMAT.md §11.10): a
/// regular file (of type `ft`, not followed), named by the BLAKE3 of its bytes, at most
/// [`REPORT_LIMIT`] bytes, a drift report of `registry`. Its signature is the home site's to
/// check, against its ledger.
pub fn check_outbox_file(
    registry: &ObjectId,
    path: &Path,
    ft: &std::fs::FileType,
) -> Result<Report, OutboxFileProblem> {
    if !ft.is_file() {
        return Err(OutboxFileProblem::NotRegular(
            crate::util::fsutil::describe(ft),
        ));
    }
    let id = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse::<ObjectId>().ok())
        .ok_or(OutboxFileProblem::Misnamed)?;
    let bytes = read_small(path, REPORT_LIMIT).map_err(OutboxFileProblem::Unreadable)?;
    let found = ObjectId::of(&bytes);
    if found != id {
        return Err(OutboxFileProblem::Corrupt(found));
    }
    let r = Report::parse(&bytes).map_err(|e| OutboxFileProblem::NotAReport(e.to_string()))?;
    if r.payload.registry != *registry {
        return Err(OutboxFileProblem::OtherRegistry(r.payload.registry));
    }
    Ok(r)
}
