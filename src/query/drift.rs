//! `reg drift list`: a model's observations, newest first, following the model's own chain of
//! observations from the verified state (as long as that model's history, whatever the size of
//! the ledger).

use super::chain::Chain;
use crate::crypto::keys::Fingerprint;
use crate::format::entry::Body;
use crate::format::id::ObjectId;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{ModelState, State};
use serde::Serialize;
use serde_json::{Map, Value};

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
    /// The reporter key: the entry's signer, or for an observation made at a replica, the
    /// signer of the report it embeds.
    pub reporter: Fingerprint,
    /// The reporter key's name, if a key-trust gave it one (FORMAT.md §5.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter_name: Option<String>,
    /// For an observation made at a replica: the id of the reporter's drift report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ObjectId>,
    /// For an observation made at a replica: the operator key that recorded it at home.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<Fingerprint>,
    /// The name of the key that recorded it at home, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by_name: Option<String>,
    /// The observation as signed.
    pub observation: Map<String, Value>,
}

/// A model's observations, oldest first; `since` keeps those whose window ends at or after it
/// (RFC 3339 times compare as text), `metric` those with a metric of that name. Keys are named
/// as `state` names them.
pub fn list(
    reg: &Registry,
    state: &State,
    model_id: &ObjectId,
    model: &ModelState,
    since: Option<&str>,
    metric: Option<&str>,
) -> Result<Vec<ObservationView>, RegistryError> {
    let mut out = Vec::new();
    for step in Chain::drift(reg, model.drift.as_ref().map(|d| d.last)) {
        let (id, entry) = step?;
        // The chain holds drift entries only.
        let (observation, reporter, report, recorded_by) = match entry.body {
            Body::Drift(d) => (d.observation, entry.header.actor, None, None),
            Body::DriftImport(d) => {
                let r = d.open().map_err(|e| {
                    RegistryError::corrupt_object(reg.store(), &id, format!("entry {id}: {e}"))
                })?;
                let actor = entry.header.actor;
                (
                    r.payload.observation,
                    r.payload.reporter,
                    Some(r.id),
                    Some(actor),
                )
            }
            _ => continue,
        };
        let end = observation
            .get("window")
            .and_then(|w| w.get("end"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if since.is_some_and(|s| end < s) {
            continue;
        }
        let has_metric = |name: &str| {
            observation
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
            reporter_name: state.key_name(&reporter).map(str::to_string),
            recorded_by_name: recorded_by
                .as_ref()
                .and_then(|fp| state.key_name(fp))
                .map(str::to_string),
            reporter,
            report,
            recorded_by,
            observation,
        });
    }
    out.reverse();
    Ok(out)
}
