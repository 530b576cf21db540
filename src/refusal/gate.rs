//! The load gate: the classes and hints of its decision log's `LogError`, and of `GateError`.
#![deny(clippy::wildcard_enum_match_arm)]

use super::registry::registry;
use super::{Class, Judged, Refusal, classified};
use crate::gate::GateError;
use crate::gate::decision_log::LogError;

impl From<LogError> for Refusal {
    fn from(e: LogError) -> Self {
        classified(e, decision_log)
    }
}

fn decision_log(e: &LogError) -> Judged {
    let new_file = "keep it as evidence, and log to a new file (--log NEW)";
    match e {
        LogError::Line { .. } | LogError::Truncated { .. } | LogError::Replaced { .. } => (
            Class::Tampered,
            Some(format!("the decision log was altered or damaged: {new_file}")),
        ),
        LogError::Unanchored { .. } => (
            Class::Refused,
            Some(format!(
                "this host has no record of this log (its state directory was reset, or the log was moved here from another host): {new_file}"
            )),
        ),
        LogError::OldFormat { .. } => (
            Class::Refused,
            Some("keep it as an archive (`reg check --verify-log` still checks its chain, unauthenticated), and log to a new file (--log NEW)".into()),
        ),
        LogError::NoKey(_) => (
            Class::Refused,
            Some("verify the log on the host that wrote it (its key is in that host's REG_STATE_DIR)".into()),
        ),
        LogError::NotAFile { .. } => (
            Class::InvalidInput,
            Some("name a regular file: a new one, or a log this host wrote (with --log, REG_GATE_LOG or --verify-log)".into()),
        ),
        LogError::Host { .. } => (
            Class::IoFailure,
            Some("check the host state directory (REG_STATE_DIR)".into()),
        ),
        LogError::Io(_) => (Class::IoFailure, None),
    }
}

/// The gate's file handling (`Gate::open_verified`, which the Python package calls; `reg check`
/// decides without it). A file the gate denies, or a path it cannot follow to a regular file, is
/// refused as `reg check` denies it (exit 1); the private copy failing is the file system's.
impl From<GateError> for Refusal {
    fn from(e: GateError) -> Self {
        classified(e, |e| match e {
            GateError::Registry(r) => registry(r),
            GateError::Denied(_) | GateError::Follow(_) => (Class::Refused, None),
            GateError::Io(_) => (Class::IoFailure, None),
        })
    }
}
