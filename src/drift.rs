//! Drift observations: stored, signed and listed; never computed (FORMAT.md §5.9).
//!
//! Each observation is a reporter-signed ledger entry that names the model's previous
//! observation, so listing a model's observations follows its own chain from the verified state:
//! as long as that model's history, whatever the size of the ledger.

use crate::entry::{Body, Drift};
use crate::keys::{Fingerprint, SecretKey};
use crate::ledger::read_entry;
use crate::lifecycle::LifecycleError;
use crate::record::resolve;
use crate::registry::{Committed, Registry, RegistryError};
use crate::state::{ModelState, StateError};
use crate::store::ObjectId;
use serde::Serialize;
use serde_json::{Map, Value};

/// Most metrics in one observation (`maxItems` of `metrics` in the schema).
pub const MAX_METRICS: usize = 256;

/// Longest `notes` of an observation, in characters (`maxLength` in the schema).
pub const MAX_NOTES_CHARS: usize = 4096;

/// Longest `notes` of a metric, in characters (`maxLength` in the schema).
pub const MAX_METRIC_NOTES_CHARS: usize = 1024;

/// Largest observation file `reg drift record` reads: bounded, so that a huge file is not read
/// whole, yet above [`crate::ledger::ENTRY_LIMIT`] (a file may be laid out with whitespace), so
/// that an observation too large for its entry is refused by the entry's own clear message.
pub const OBSERVATION_FILE_LIMIT: u64 = 16 * crate::ledger::ENTRY_LIMIT;

/// Parses an observation as given by a reporter (any JSON layout), refusing duplicate keys as
/// every other input does (a duplicate would let two tools read two different observations).
pub fn parse_observation(bytes: &[u8]) -> Result<Value, crate::encoding::EncodingError> {
    crate::encoding::parse_json_strict(bytes)
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
            times[i] = crate::encoding::parse_rfc3339(text);
            if times[i].is_none() {
                out.push(format!(
                    "/window/{field}: `{}` is not a time of the format (YYYY-MM-DDTHH:MM:SSZ, a real date, year 1970 to 9999)",
                    crate::encoding::echo(text)
                ));
            }
        }
    }
    if let [Some(start), Some(end)] = times
        && end < start
    {
        out.push("/window: the window ends before it starts".into());
    }
    out
}

/// Every problem of an observation that can be known without the registry: the schema's
/// violations, then the time rules.
pub fn violations(observation: &Map<String, Value>) -> Vec<String> {
    let value = Value::Object(observation.clone());
    let mut out = crate::schema::violations(
        crate::schema::Schema::DriftObservation,
        &value,
        "observation",
    );
    out.extend(time_violations(observation));
    out
}

/// Records `observation` for the model `spec`, signed by a reporter `key`.
///
/// An observation that names another model than `spec` is refused, as is an unknown or revoked
/// model, anything the schema or the time rules refuse (every violation listed), and an
/// observation whose signed entry would be larger than readers accept (checked before signing).
pub fn record(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    observation: Value,
) -> Result<Committed, LifecycleError> {
    let Value::Object(observation) = observation else {
        return Err(RegistryError::Refused(StateError::Invalid(
            "an observation is a JSON object".into(),
        ))
        .into());
    };
    // Before the lock and the ledger: an observation refused here touches nothing.
    let problems = violations(&observation);
    if !problems.is_empty() {
        return Err(RegistryError::Refused(StateError::Invalid(format!(
            "the observation is invalid: {}",
            problems.join("; ")
        )))
        .into());
    }
    let tx = reg.begin()?;
    let (model, m) = resolve(tx.state(), spec)?;
    let previous = m.drift.as_ref().map(|d| d.last);
    Ok(tx.commit(
        key,
        Body::Drift(Drift {
            model,
            observation,
            previous,
            legacy_numbers: false,
        }),
    )?)
}

/// One stored observation, as `reg drift list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ObservationView {
    /// The record id observed.
    pub model: ObjectId,
    /// `name@version`.
    pub spec: String,
    /// The drift entry id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// When it was recorded.
    pub recorded: String,
    /// The reporter key.
    pub reporter: Fingerprint,
    /// The observation as signed.
    pub observation: Map<String, Value>,
}

/// A model's observations, oldest first; `since` keeps those whose window ends at or after it
/// (RFC 3339 times compare as text), `metric` those with a metric of that name.
pub fn list(
    reg: &Registry,
    model_id: &ObjectId,
    model: &ModelState,
    since: Option<&str>,
    metric: Option<&str>,
) -> Result<Vec<ObservationView>, RegistryError> {
    let mut out = Vec::new();
    let mut next = model.drift.as_ref().map(|d| d.last);
    while let Some(id) = next {
        let entry = read_entry(reg.store(), &id).map_err(|e| RegistryError::Config {
            path: reg.store().path(&id),
            detail: format!("entry {id}: {e}"),
        })?;
        let Body::Drift(d) = entry.body else {
            return Err(RegistryError::Config {
                path: reg.store().path(&id),
                detail: format!("entry {id} is not a drift observation"),
            });
        };
        next = d.previous;
        let end = d
            .observation
            .get("window")
            .and_then(|w| w.get("end"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if since.is_some_and(|s| end < s) {
            continue;
        }
        let has_metric = |name: &str| {
            d.observation
                .get("metrics")
                .and_then(Value::as_array)
                .is_some_and(|ms| {
                    ms.iter()
                        .any(|m| m.get("name").and_then(Value::as_str) == Some(name))
                })
        };
        if metric.is_some_and(|name| !has_metric(name)) {
            continue;
        }
        out.push(ObservationView {
            model: *model_id,
            spec: format!("{}@{}", model.name, model.version),
            entry: id,
            seq: entry.header.seq,
            recorded: entry.header.time,
            reporter: entry.header.actor,
            observation: d.observation,
        });
    }
    out.reverse();
    Ok(out)
}
