//! Drift observations as data (FORMAT.md §5.9): the limits and the rules an observation must
//! meet, checked without the registry. reg stores observations; it never computes drift.
//!
//! [`check`] is the one check of an observation by itself: the state's drift rule (which every
//! drift entry meets at its commit and at every replay) and a drift report's payload call it.
//! `reg drift record` refuses what [`violations`] finds before it takes the lock (the model is
//! not resolved yet, so nothing is touched), and meets [`check`] again through the state at
//! its commit; a ledger entry's field check calls the time rules ([`time_violations`]) while it
//! is decoded.

use crate::format::id::ObjectId;
use crate::format::schema::Violation;
use crate::util::encoding::echo;
use serde_json::{Map, Value};

/// Why an observation is refused by itself (FORMAT.md §5.9), before any registry is consulted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservationError {
    /// It breaks its schema or the time rules: every violation, schema first.
    #[error("the observation is invalid: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// Its optional `model` names another model than the one it is recorded for.
    #[error("the observation names model {}, not {model}", echo(named))]
    OtherModel {
        /// The `model` member as written (JSON).
        named: String,
        /// The model it is recorded for.
        model: ObjectId,
    },
}

/// Most metrics in one observation (`maxItems` of `metrics` in the schema).
pub const MAX_METRICS: usize = 256;

/// Longest `notes` of an observation, in characters (`maxLength` in the schema).
pub const MAX_NOTES_CHARS: usize = 4096;

/// Longest `notes` of a metric, in characters (`maxLength` in the schema).
pub const MAX_METRIC_NOTES_CHARS: usize = 1024;

/// Largest observation file `reg drift record` reads: bounded, so that a huge file is not read
/// whole, yet above [`crate::format::limits::ENTRY_LIMIT`] (a file may be laid out with whitespace), so
/// that an observation too large for its entry is refused by the entry's own clear message.
pub const OBSERVATION_FILE_LIMIT: u64 = 16 * crate::format::limits::ENTRY_LIMIT;

/// Parses an observation as given by a reporter (any JSON layout), refusing duplicate keys as
/// every other input does (a duplicate would let two tools read two different observations).
pub fn parse_observation(bytes: &[u8]) -> Result<Value, crate::util::encoding::EncodingError> {
    crate::util::encoding::parse_json_strict(bytes)
}

/// The observation's times that break the format (FORMAT.md §2, §5.9): `window.start` and
/// `window.end` are real times of the grammar, and the window does not end before it starts.
/// Fields that are absent or not strings are the schema's to report.
pub fn time_violations(observation: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(window) = observation.get("window").and_then(Value::as_object) else {
        return out;
    };
    let mut times = [None, None];
    for (i, field) in ["start", "end"].into_iter().enumerate() {
        if let Some(text) = window.get(field).and_then(Value::as_str) {
            times[i] = crate::util::encoding::parse_rfc3339(text);
            if times[i].is_none() {
                out.push(
                    Violation::new(
                        &["window", field],
                        Some(text),
                        "not a time of the format (YYYY-MM-DDTHH:MM:SSZ, a real date, year 1970 to 9999)",
                    )
                    .to_string(),
                );
            }
        }
    }
    if let [Some(start), Some(end)] = times
        && end < start
    {
        out.push(Violation::new(&["window"], None, "the window ends before it starts").to_string());
    }
    out
}

/// Every problem of an observation that can be known without the registry: the schema's
/// violations, then the time rules.
pub fn violations(observation: &Map<String, Value>) -> Vec<String> {
    let value = Value::Object(observation.clone());
    let mut out = crate::format::schema::violations(
        crate::format::schema::Schema::DriftObservation,
        &value,
        "observation",
    );
    out.extend(time_violations(observation));
    out
}

/// The one check of an observation recorded for `model` (FORMAT.md §5.9): every violation of
/// its schema and time rules ([`violations`]), then its optional `model` member, which must
/// name `model` (an observation copied from another model is refused, not filed under this one).
pub fn check(observation: &Map<String, Value>, model: &ObjectId) -> Result<(), ObservationError> {
    let problems = violations(observation);
    if !problems.is_empty() {
        return Err(ObservationError::Invalid(problems));
    }
    if let Some(named) = observation.get("model")
        && named.as_str() != Some(model.to_string().as_str())
    {
        return Err(ObservationError::OtherModel {
            named: named.to_string(),
            model: *model,
        });
    }
    Ok(())
}
