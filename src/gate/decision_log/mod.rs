//! The gate's decision log (FORMAT.md §10): one canonical JSON line per decision, each line
//! authenticated with a key this host keeps outside the log and the medium, and the log's length
//! and last line recorded beside the key.
//!
//! A hash chain alone proves nothing to someone who can edit the file: they drop a line and
//! recompute the chain. Here each line carries a BLAKE3 keyed MAC over its content, its number
//! and the previous line's MAC, with a key only this host holds (`$REG_STATE_DIR/gate-log.key`,
//! 0600, made on first use). Editing, dropping, inserting or reordering lines breaks a MAC, a
//! number or a link that cannot be recomputed without the key; cutting lines off the end is
//! caught by the host's record of the log (`$REG_STATE_DIR/gate-logs/<log id>.json`: how many
//! lines it had and the last line's MAC). Whoever holds the host key and its state directory can
//! rewrite the log: the log proves what this host decided, to this host, and no more.
//!
//! Here: the line format, its MAC and the errors; `host` keeps the key and the records, `scan`
//! reads and checks lines, `verify` checks a log against its record, `append` writes new lines.

mod append;
mod host;
mod scan;
mod verify;

pub use append::append_log;
pub use verify::verify_log;

use crate::format::id::ObjectId;
use crate::gate::Code;
use crate::util::encoding::{EncodingError, to_canonical_vec};
use crate::util::fsutil::IoError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `prev` of a log's first line.
pub const LOG_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// BLAKE3 `derive_key` context of the line MAC key (domain separation from any other use of the
/// host key).
const MAC_CONTEXT: &str = "reg 2026-11 gate decision log line MAC";

/// Longest line reg reads (a path and a reason: far below this).
const LINE_LIMIT: u64 = 1 << 20;

/// Errors of the decision log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A line does not verify.
    #[error("decision log `{}`: line {line}: {detail}", .path.display())]
    Line {
        /// The log.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        detail: String,
    },
    /// The log is shorter than this host's record of it.
    #[error(
        "decision log `{}` ends at line {lines}, but this host recorded {recorded} line(s) in it (log {log}): its last line(s) were removed",
        .path.display()
    )]
    Truncated {
        /// The log.
        path: PathBuf,
        /// Lines found.
        lines: u64,
        /// Lines recorded.
        recorded: u64,
        /// The log id.
        log: String,
    },
    /// The file at a path where this host keeps a log is empty, missing or another log.
    #[error(
        "decision log `{}`: this host recorded {recorded} line(s) of log {log} at this path, but {found}",
        .path.display()
    )]
    Replaced {
        /// The log.
        path: PathBuf,
        /// Lines recorded.
        recorded: u64,
        /// The log id recorded at this path.
        log: String,
        /// What is there now.
        found: String,
    },
    /// The log verifies, but this host has no record of its length.
    #[error(
        "decision log `{}` (log {log}): its {lines} line(s) verify, but this host has no record of the log, so lines cut from its end cannot be detected",
        .path.display()
    )]
    Unanchored {
        /// The log.
        path: PathBuf,
        /// The log id.
        log: String,
        /// Lines found.
        lines: u64,
    },
    /// An old-format (unauthenticated) log: reg does not append to it.
    #[error(
        "decision log `{}` is in the old, unauthenticated format (a bare hash chain anyone can recompute): reg no longer appends to it",
        .path.display()
    )]
    OldFormat {
        /// The log.
        path: PathBuf,
    },
    /// This host has no log key.
    #[error(
        "this host has no decision log key (`{}`): a log can only be verified by the host that wrote it",
        .0.display()
    )]
    NoKey(PathBuf),
    /// The path given as the log is not a regular file (a FIFO, a device, a directory).
    #[error(
        "decision log `{}` is {found}, not a regular file: a decision log is a file reg appends to and reads back",
        .path.display()
    )]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is.
        found: &'static str,
    },
    /// The host log key or a record is unusable.
    #[error("`{}`: {detail}", .path.display())]
    Host {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// One line of an authenticated decision log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    /// ALLOW (`true`) or DENY.
    pub allowed: bool,
    /// Why, as a stable word.
    pub code: Code,
    /// The file's BLAKE3; absent when the file could not be read (`not-found`, `not-regular`,
    /// `unreadable`, `empty-directory`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hash: Option<ObjectId>,
    /// The log's id (32 hex digits), the same on every line: lines of another log do not fit.
    pub log: String,
    /// BLAKE3 keyed MAC of this line without `mac` (64 hex digits).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mac: Option<String>,
    /// The model, `name@version`, when one was found.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model: Option<String>,
    /// The line's number, from 1.
    pub n: u64,
    /// The file as given.
    pub path: String,
    /// The previous line's MAC ([`LOG_START`] for the first).
    pub prev: String,
    /// Why, for people.
    pub reason: String,
    /// The file a link given as `path` resolves to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolved: Option<String>,
    /// When.
    pub time: String,
    /// The warning that went with an ALLOW (a DEPRECATED model, a registry allowed unpinned).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub warning: Option<String>,
}

/// Where this host keeps its decision log key and records.
#[derive(Debug, Clone)]
pub struct LogHost {
    dir: PathBuf,
}

/// What a verified log holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogReport {
    /// Every line is authenticated with this host's key, and the log is at least as long as
    /// this host's record of it.
    Authenticated {
        /// The log id.
        log: String,
        /// How many decisions.
        lines: u64,
        /// How many of them this host had recorded (the rest were appended by a write whose
        /// record did not land, e.g. a crash).
        recorded: u64,
    },
    /// An old-format log whose bare hash chain is intact: it proves nothing, anyone could have
    /// rewritten it.
    Unauthenticated {
        /// How many decisions.
        lines: u64,
    },
    /// An empty (or missing) log that this host never recorded at this path.
    Empty,
}

/// The MAC of a line (its `mac` left out).
fn mac_of(key: &[u8; 32], line: &LogLine) -> Result<String, EncodingError> {
    let mut unsigned = line.clone();
    unsigned.mac = None;
    let bytes = to_canonical_vec(&unsigned)?;
    Ok(blake3::keyed_hash(key, &bytes).to_hex().to_string())
}
