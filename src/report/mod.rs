//! The documents reg's readers and writers hand to programs: what `reg status`, `reg list`,
//! `reg show`, `reg log`, `reg drift list` and the writes print with `--json`, built here once
//! so that the command line and every other caller of the library (the Python package) return
//! the same values from one implementation. Each document's shape is the schema it cites in
//! `schema/`; the command line only prints them (and turns them into text for people).
//!
//! A document is a plain serializable value: `serde_json::to_value(report::status(&reg)?)` is
//! exactly what `reg status --json` prints. Errors are typed ([`ReportError`]): the library's
//! own errors, and the refusals of what a caller asked ([`InputError`]), each with the message
//! and hint the command line prints.

mod drift;
mod error;
mod log;
mod models;
mod show;
mod status;
mod summary;
mod target;
pub mod trust;
pub mod written;

pub use drift::{DriftQuery, check_since, drift, drift_all, observations};
pub use error::{InputError, ReportError};
pub use log::{LogEntry, LogQuery, log};
pub use models::{ModelRow, models};
pub use show::{record, show};
pub use status::status;
pub use summary::succession;
pub use target::Target;
pub use trust::{Pinned, Trust};
pub use written::Written;
