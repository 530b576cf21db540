//! Drift observations: stored, signed and listed; never computed (FORMAT.md §5.9).
//!
//! Each observation is a reporter-signed ledger entry that names the model's previous
//! observation, so listing a model's observations follows its own chain from the verified state:
//! as long as that model's history, whatever the size of the ledger.
//!
//! At a replica, which must never append to its ledger (FORMAT.md §11.1), an observation is a
//! signed drift report in the outbox instead ([`record_to_outbox`]); [`export_reports`] carries
//! the outbox home in a report file, and [`import_reports`] records it there (§11.10).

mod outbox;

pub use outbox::{
    ImportedReport, OutboxError, Outboxed, ReportsExported, ReportsImported, Selection,
    export_reports, export_reports_to, import_reports, outbox_reports, record_to_outbox,
};

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, Drift};
use crate::format::id::ObjectId;
use crate::format::observation::violations;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::resolve::{ResolveError, resolve};
use serde_json::Value;

/// Why an observation was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The observation is JSON, but not an object.
    #[error("an observation is a JSON object")]
    NotAnObject,
    /// The observation breaks the schema or the time rules: every violation, in order.
    #[error("the observation is invalid: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// The model named did not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The registry refused (trust, rules, lock, I/O).
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// What recording an observation did.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The `drift` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The model observed: its record id.
    pub model: ObjectId,
    /// Its `name@version`.
    pub spec: String,
    /// How many observations of the model the registry now holds (this one is the last).
    pub count: u64,
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
) -> Result<Recorded, DriftError> {
    let Value::Object(observation) = observation else {
        return Err(DriftError::NotAnObject);
    };
    // Before the lock and the ledger: an observation refused here touches nothing.
    let problems = violations(&observation);
    if !problems.is_empty() {
        return Err(DriftError::Invalid(problems));
    }
    // What resolving the model reads, and no other model: a record costs the same at any size.
    let tx = reg.begin_for(&crate::state::Needs::default().spec(spec))?;
    let (model, m) = resolve(tx.state(), spec)?;
    let previous = m.drift.as_ref().map(|d| d.last);
    let done = tx.commit(
        key,
        Body::Drift(Drift {
            model,
            observation,
            previous,
            legacy_numbers: false,
        }),
    )?;
    let after = &done.state;
    Ok(Recorded {
        entry: done.id,
        seq: done.seq,
        model,
        spec: after.spec(&model),
        count: after
            .models()
            .get(&model)
            .and_then(|m| m.drift.as_ref())
            .map_or(0, |d| d.count),
    })
}
